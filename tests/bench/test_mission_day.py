"""``bench mission-day --quick``: two simulated minutes of the mission day through a private
nats-server, a fresh PostgreSQL database and the workers; every field the report promises, and
nothing lost or duplicated.  Needs PostgreSQL and nats-server: skipped locally when missing,
a failure under CI=true (tests/conftest.py's require_service)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import require_service
from trucewatch.bench import mission_day
from trucewatch.bench.mission_day import MISSION_RATE, mission_mix

pytestmark = [pytest.mark.postgres, pytest.mark.nats, pytest.mark.slow]


def test_mission_mix_comes_from_the_simulators_yields() -> None:
    mix = mission_mix()
    assert set(mix) == {"acoustic", "drone", "firms", "posts", "ais"}
    # 50,000 posts at the text stage's ~1 claim per post dominate; acoustic fixes scale with 10,000 sensors
    assert 45_000 < mix["posts"] < 50_001
    assert 6_000 < mix["acoustic"] < 7_500
    assert all(v > 0 for v in mix.values())


def test_quick_mission_day_reports_every_field_and_loses_nothing() -> None:
    require_service("127.0.0.1", 5432, "PostgreSQL")
    if shutil.which("nats-server") is None:  # the bench starts its own server from the binary
        msg = "nats-server is not on PATH (scripts/services.sh installs it)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    r = mission_day.run(quick=True, seed=3)
    for k in ("wall_s_to_drained", "speedup_achieved", "day_wall_h_projected", "peak_rss_mb", "alert_p99_ms",
              "violation_stored_p99_ms", "ingest_p99_ms", "lost", "duplicated", "observations_stored", "events",
              "violations", "loadavg_start", "loadavg_end", "cpus", "cpu_us_per_obs", "day"):
        assert k in r, k
    assert r["backend"] == "postgresql"
    assert r["drained"], r
    assert r["lost"] == 0 and r["duplicated"] == 0, r
    assert r["observations_sent"] == r["observations_stored"] == r["ledger_entries"]
    # two simulated minutes at 30 obs/s (the ais share is not replayed)
    assert 0.9 * 120 * MISSION_RATE < r["observations_sent"] < 1.05 * 120 * MISSION_RATE
    assert r["day"]["rate_scale"] > 1 and r["day"]["kinds"]["posts"]["replayed"] > 0
    for name in ("worker_ingest", "worker_fusion", "nats_server"):
        assert r["peak_rss_mb"][name] > 10, r["peak_rss_mb"]
        assert r["cpu_us_per_obs"][name] > 0
    assert r["peak_rss_mb"]["postgres_backends_seen"] >= 1
    assert r["events"] > 0 and r["violations"] > 0
    if r["alerts"]:
        assert r["alert_p99_ms"] is not None and r["alert_p99_ms"] > 0
    assert len(r["loadavg_start"]) == 3 and r["cpus"] >= 1
