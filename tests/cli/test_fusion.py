"""The fusion CLI on a store, and the quick benchmark."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from trucewatch.cli.fusion import app
from trucewatch.model import ObservationKind as OK
from trucewatch.sim.testing import AGREEMENT, ob, off_line, shift, sources
from trucewatch.store import Store


def test_cli_run_transition_history(tmp_path, agreement):
    db = tmp_path / "tw.sqlite"
    o = off_line(agreement, "RU", 9000)
    i = off_line(agreement, "UA", 6000)
    obs = [ob("l", "ac-net-a", OK.LAUNCH, *o, err=400, pair_id="p", n_sensors=8),
           ob("i", "ac-net-a", OK.IMPACT, *i, dt=20, pair_id="p", n_sensors=8),
           ob("i2", "ac-net-b", OK.IMPACT, *shift(*i, 30, 0), dt=20.5, n_sensors=8),
           ob("t", "sat-viirs", OK.THERMAL_ANOMALY, *shift(*i, 100, 0), err=400, dt=3600, excess=True)]
    with Store.open(db) as st:
        st.add_sources(sources().values())
        rep = st.add_observations(obs, now=datetime(2026, 3, 2, tzinfo=UTC))
        assert not rep.errors
    r = CliRunner().invoke(app, ["run", "--db", str(db), "--agreement", AGREEMENT])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["events"] == 1 and out["violations"] == 1 and len(out["alerts"]) == 1
    vid = out["alerts"][0]
    r = CliRunner().invoke(app, ["transition", vid, "confirmed", "--db", str(db), "--actor", "a", "--reason", "r"])
    assert r.exit_code == 1 and "verified -> confirmed is not allowed" in r.output
    r = CliRunner().invoke(app, ["transition", vid, "notified", "--db", str(db), "--actor", "board", "--reason", "sent"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["history", vid, "--db", str(db)])
    assert [t["to_status"] for t in json.loads(r.output)] == ["detected", "corroborated", "verified", "notified"]


def test_quick_benchmark_reports_every_metric():
    from trucewatch.bench.fusion import run

    res = run(quick=True, seed=3)
    for k in ("observations_per_s", "scaling_exponent", "violation_f1", "false_attribution_rate",
              "p95_seconds_to_verified", "baseline_violation_f1", "baseline_observations_per_s"):
        assert res[k] is not None, k
    assert res["observations"] > 15_000 and res["truth_violations"] > 300
    # the association beats single-linkage DBSCAN on the same estimates and rules
    assert res["violation_f1"] > res["baseline_violation_f1"]
    assert res["violation_f1"] > 0.7 and res["false_attribution_rate"] < 0.05
    # issue 21: honest input, a density axis over >= 3 sizes, noise models and the uncertainty-aware baseline
    assert "without truth keys" in res["input"] and res["violation_f1_with_truth_keys"] is not None
    d = res["density_scaling"]
    assert len(d["sizes"]) >= 3 and d["sizes"] == sorted(d["sizes"]) and d["sizes"][-1] > 3 * d["sizes"][0]
    assert res["scaling_exponent"] == d["exponent"] and d["memory_per_doubling"] > 1.0
    assert set(res["noise_models"]) >= {"nominal", "miscalibrated", "heavy_tailed"}
    assert 0.0 < res["gnn_violation_f1"] <= 1.0


def test_cli_learn_clutter_then_run_with_the_map(tmp_path, agreement):
    db = tmp_path / "tw.sqlite"
    i = off_line(agreement, "UA", 6000)
    obs = [ob("i", "ac-net-a", OK.IMPACT, *i, n_sensors=3),
           ob("r", "tg-1", OK.REPORT_CLAIM, *shift(*i, 2500, 0), err=5000, dt=600, ts=900, event_type="shelling")]
    obs += [ob(f"rum{k}", f"tg-{k % 8}", OK.REPORT_CLAIM, *shift(*i, 30_000 + 500 * k, 0), err=4000,
               dt=k * 600.0, ts=600, event_type="shelling") for k in range(12)]
    with Store.open(db) as st:
        st.add_sources(sources().values())
        assert not st.add_observations(obs, now=datetime(2026, 3, 2, tzinfo=UTC)).errors
    m = tmp_path / "clutter.json"
    r = CliRunner().invoke(app, ["learn-clutter", "--db", str(db), "--out", str(m), "--cell-deg", "1"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["observations"] == 14 and out["default_per_km2_h"]["report_claim"] > 0
    cfg = tmp_path / "fusion.yaml"
    cfg.write_text(f"fusion:\n  clutter_map: {m}\n")
    confs = []
    for extra in ([], ["--fusion-config", str(cfg)]):
        r = CliRunner().invoke(app, ["run", "--db", str(db), "--agreement", AGREEMENT, *extra])
        assert r.exit_code == 0, r.output
        with Store.open(db) as st:
            confs.append(max(e.confidence for e in st.list_events() if "i" in e.observation_ids))
    assert confs[1] < confs[0]  # the post near the fix may be one of the many rumours around it


def test_cli_names_a_bad_clutter_map(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "trucewatch-clutter-map/1", "cell_deg": 0.5, "default": {"report_claim": "lots"}}')
    cfg = tmp_path / "fusion.yaml"
    cfg.write_text(f"fusion:\n  clutter_map: {bad}\n")
    r = CliRunner().invoke(app, ["run", "--db", str(tmp_path / "x.sqlite"), "--agreement", AGREEMENT,
                                 "--fusion-config", str(cfg)])
    assert r.exit_code == 2 and "default.report_claim" in r.output and "Traceback" not in r.output


def test_cli_learn_clutter_bad_time_and_unwritable_out(tmp_path):
    db = str(tmp_path / "x.sqlite")
    r = CliRunner().invoke(app, ["learn-clutter", "--db", db, "--out", str(tmp_path / "m.json"), "--from", "yesterday"])
    assert r.exit_code == 2 and "ISO 8601" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["learn-clutter", "--db", db, "--out", str(tmp_path / "no" / "such" / "m.json")])
    assert r.exit_code == 2 and "--out" in r.output and "Traceback" not in r.output
