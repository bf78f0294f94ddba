"""The satellite simulator: overpasses, pixel geometry, war fires from truth."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from trucewatch.sim.satellite import (
    Fires,
    FireSimConfig,
    observe,
    simulate,
    war_fires,
)
from trucewatch.sources.satellite.firms import read_firms


def test_overpass_times_and_pixel_geometry():
    rng = np.random.default_rng(0)
    n = 400
    # fires burning for 10 days at 37E: every overpass can see them
    t0 = float(np.datetime64("2026-05-01", "s").astype(np.int64))
    fires = Fires(np.full(n, 48.0), np.full(n, 37.0), np.full(n, t0), np.full(n, 10 * 86400.0), np.full(n, 50.0),
                  np.zeros(n, bool), np.full(n, -1, np.int64))
    sim = observe(fires, FireSimConfig(), rng)
    b = read_firms(sim.csv_text.encode(), "sim.csv")
    assert not b.errors and len(b) > 1000
    solar_h = ((b.t % 86400) / 3600 + 37.0 / 15) % 24
    day = b.daypart == 0

    def off(h, ref):
        return np.abs((h - ref + 12) % 24 - 12)

    assert np.all(off(solar_h[day], 13.0) < 2.0)
    assert np.all(off(solar_h[~day], 1.0) < 2.0)
    assert 0.36 <= b.scan_km.min() and b.scan_km.max() <= 0.81
    assert set(b.satellite.tolist()) == {"NPP", "N20", "N21"}
    # clouds hide some passes: not every day/satellite/daypart sees the fire
    one = Fires(np.array([48.0]), np.array([37.0]), np.array([t0]), np.array([30 * 86400.0]), np.array([50.0]),
                np.zeros(1, bool), np.full(1, -1, np.int64))
    b1 = read_firms(observe(one, FireSimConfig(), rng).csv_text.encode(), "one.csv")
    passes = {(int(t // 86400), s, d) for t, s, d in zip(b1.t.tolist(), b1.satellite.tolist(), b1.daypart.tolist(),
                                                        strict=True)}
    assert 0.2 * 180 < len(passes) < 0.9 * 180


def test_war_fires_come_from_fire_kinds_only():
    rng = np.random.default_rng(1)
    t = datetime(2026, 3, 1, 12, tzinfo=UTC)
    truth = [{"t": t, "lat": 48.0, "lon": 37.0, "kind": "impact"} for _ in range(200)]
    truth += [{"t": t, "lat": 48.0, "lon": 37.0, "kind": "weapon_sighting"} for _ in range(200)]
    f = war_fires(truth, rng, prob=0.5)
    assert 60 < f.lat.size < 140
    assert f.truth_index.max() < 200 and f.war.all()
    assert np.all(np.abs(f.lat - 48.0) < 0.01)


def test_simulate_hook_returns_observations_and_csv():
    rng = np.random.default_rng(2)
    t = datetime(2026, 6, 10, 9, tzinfo=UTC).timestamp()
    truth = [{"t": t + i * 3600, "lat": 48.0 + 0.01 * i, "lon": 37.5, "kind": "strike", "facility": "depot"}
             for i in range(20)]
    obs, csv_text = simulate(truth, rng)
    assert csv_text.startswith("latitude,longitude,bright_ti4")
    assert obs and all(o.kind == "thermal_anomaly" for o in obs)
    assert all(o.source_id.startswith("firms-") for o in obs)
    near = [o for o in obs if abs(o.location.lat - 48.1) < 0.15 and abs(o.location.lon - 37.5) < 0.05]
    assert near  # the depot fires were seen
    assert simulate([], rng) == ([], "")


def test_simulate_accepts_scenario_truth(agreement):
    from trucewatch.sim.scenario import make_scenario

    sc = make_scenario(agreement, seed=3)
    f = war_fires(sc.events, np.random.default_rng(3))
    kinds = [sc.events[i].kind for i in f.truth_index.tolist()]
    assert set(kinds) <= {"fire", "strike", "field_fire"}
    assert all((k != "field_fire") == w for k, w in zip(kinds, f.war.tolist(), strict=True))
    obs, csv_text = simulate(sc.events, np.random.default_rng(3))
    assert obs and csv_text.count("\n") == len(obs) + 1


def test_simulate_hook_judges_against_a_simulated_history(agreement):
    from trucewatch.geo import haversine_m
    from trucewatch.sim.scenario import make_scenario

    sc = make_scenario(agreement, seed=4)
    obs, _ = simulate(sc.events, np.random.default_rng(4))
    assert all(isinstance(o.attributes["excess"], bool) and 0 <= o.attributes["p_value"] <= 1 for o in obs)
    war = [e for e in sc.events if e.kind in ("fire", "strike")]
    wla, wlo = np.array([e.lat for e in war]), np.array([e.lon for e in war])
    near = np.array([haversine_m(o.location.lat, o.location.lon, wla, wlo).min() < 2000 for o in obs])
    exc = np.array([o.attributes["excess"] for o in obs])
    assert near.any() and (~near).any()
    assert exc[near].mean() > exc[~near].mean() + 0.3
