"""The ``trucewatch satellite`` commands and the benchmark, end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from trucewatch.cli import app
from trucewatch.sim.satellite import FireSimConfig, demo_strikes, simulate_year, synthetic_sar_stack

runner = CliRunner()

GOOD = "48.5,37.9,330.0,0.4,0.4,2025-03-01,09:18,N20,n,2.0NRT,290.0,5.0,D"
HEADER = "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,version,bright_ti5,frp,daynight"


def _lines(out: str) -> list[dict]:
    return [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]


def test_ingest_json_accepts_and_rejects(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text(f"{HEADER}\n{GOOD}\n{GOOD.replace('48.5', '200')}\n")
    r = runner.invoke(app, ["satellite", "ingest", str(p), "--json"])
    assert r.exit_code == 0, r.output
    recs = _lines(r.stdout)
    ok = [x for x in recs if "error" not in x]
    bad = [x for x in recs if "error" in x]
    assert len(ok) == 1 and len(bad) == 1
    assert ok[0]["time"] == "2025-03-01T09:18:00Z" and ok[0]["satellite"] == "N20"
    assert ok[0]["footprint_km"] == [0.4, 0.4] and ok[0]["frp"] == 5.0 and ok[0]["confidence"] == "nominal"
    assert bad[0]["line"] == 3 and bad[0]["field"] == "latitude" and "line 3" in bad[0]["error"]


def test_ingest_nothing_valid_exits_nonzero(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text(f"{HEADER}\n{GOOD.replace('2025-03-01', '2025/03/01')}\n")
    r = runner.invoke(app, ["satellite", "ingest", str(p), "--json"])
    assert r.exit_code == 1
    assert "acq_date" in _lines(r.stdout)[0]["error"]
    q = tmp_path / "nocol.csv"
    q.write_text("latitude,longitude\n1,2\n")
    r = runner.invoke(app, ["satellite", "ingest", str(q)])
    assert r.exit_code == 2 and "acq_date" in r.stderr and "nocol.csv" in r.stderr


def test_ingest_observations(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text(f"{HEADER}\n{GOOD}\n")
    r = runner.invoke(app, ["satellite", "ingest", str(p), "--observations"])
    o = _lines(r.stdout)[0]
    assert o["kind"] == "thermal_anomaly" and o["source_id"] == "firms-N20"
    assert o["location"]["footprint"]["type"] == "Polygon"


def test_background_fit_and_detect(tmp_path):
    rng = np.random.default_rng(11)
    cfg = FireSimConfig(bbox=(47.0, 36.0, 48.0, 37.5))
    truth = demo_strikes(rng, "2026-01-01", 60, cfg.bbox)
    hist, new = simulate_year(rng, truth, cfg, history_years=2, n_days=60)
    (tmp_path / "h.csv").write_text(hist.csv_text)
    (tmp_path / "n.csv").write_text(new.csv_text)
    model = tmp_path / "bg.npz"
    r = runner.invoke(app, ["satellite", "background", "fit", str(tmp_path / "h.csv"), "--out", str(model)])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["dayparts"] == 2 and info["persistent_cells"] >= 1 and model.exists()
    r = runner.invoke(app, ["satellite", "detect", str(tmp_path / "n.csv"), "--model", str(model), "--json"])
    assert r.exit_code == 0, r.output
    cl = _lines(r.stdout)
    assert cl
    for k in ("lat", "lon", "radius_m", "first_seen", "last_seen", "n_detections", "expected", "p_value",
              "persistent_source"):
        assert k in cl[0]
    # the flagged clusters lie mostly near the simulated front (lon about 36.75 +/- 0.5)
    near = np.mean([abs(c["lon"] - 36.75) < 0.5 for c in cl])
    assert near > 0.6
    r = runner.invoke(app, ["satellite", "detect", str(tmp_path / "n.csv"), "--model", str(tmp_path / "none.npz")])
    assert r.exit_code == 2 and "none.npz" in r.stderr


def test_radar_command(tmp_path):
    st = synthetic_sar_stack(tmp_path / "s", np.random.default_rng(2), size=96, n_buildings=30)
    fp = tmp_path / "fp.geojson"
    fp.write_text(json.dumps(st.footprints))
    args = ["satellite", "radar", *map(str, st.files), "--split", st.split, "--footprints", str(fp),
            "--out", str(tmp_path / "d.tif"), "--json", "--corr-px", "1"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    recs = _lines(r.stdout)
    summary = recs[-1]["summary"]
    assert summary["reference_images"] == 10 and summary["footprints"] == len(st.damaged)
    assert len(recs) == len(st.damaged) + 1
    r = runner.invoke(app, [*args[:-3], "--observations"])
    obs = _lines(r.stdout)
    assert all(o["kind"] == "damage" for o in obs)
    r = runner.invoke(app, ["satellite", "radar", *map(str, st.files), str(tmp_path / "missing.tif"),
                            "--split", st.split])
    assert r.exit_code == 2 and "missing.tif" in r.stderr


def test_bench_quick():
    r = runner.invoke(app, ["bench", "satellite", "--quick", "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    for k in ("rows_per_s", "baseline_rows_per_s", "excess_auc", "damage_auc"):
        assert k in res
    assert res["rows_rejected"] == res["rows_broken_on_purpose"]
    assert 0.5 <= res["excess_auc"] <= 1 and 0.5 <= res["damage_auc"] <= 1
    pytest.importorskip("pyarrow")
    # the pyarrow baseline is timed on the same file, and our intake is compared against it
    assert res["pyarrow_rows_per_s"] > 0 and res["intake_ratio_vs_pyarrow"] > 0
