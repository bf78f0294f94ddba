"""``trucewatch acoustic locate`` end to end on files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.sources.acoustic.conftest import T0, Grid
from trucewatch.cli import app


@pytest.fixture()
def grid() -> Grid:
    return Grid()


def _write(grid: Grid, tmp_path: Path) -> tuple[Path, Path]:
    arr, _ = grid.arrivals([(-2000.0, 1000.0, T0), (2500.0, -1500.0, T0 + 0.35)])
    sp = tmp_path / "sensors.csv"
    sp.write_text(grid.sensors.to_csv())
    ap = tmp_path / "arrivals.csv"
    text = arr.to_csv(grid.sensors)
    # bad records the command must name, and three arrivals of an event heard by three sensors only
    text += f",NOPE,{T0 + 1:.6f},20,unknown,\n"
    text += f",S00,{T0 + 300:.3f},20,launch,\n"
    text += f",S01,{T0 + 300.5:.3f},20,launch,\n"
    text += f",S06,{T0 + 300.7:.3f},20,launch,\n"
    ap.write_text("arrival_id,sensor_id,time_unix_s,snr_db,kind_hint,bearing_deg\n" + text.split("\n", 1)[1])
    return sp, ap


def test_locate_json_lines(grid: Grid, tmp_path: Path) -> None:
    sp, ap = _write(grid, tmp_path)
    r = CliRunner().invoke(app, ["acoustic", "locate", "--sensors", str(sp), "--arrivals", str(ap), "--json",
                                 "--temp-c", "15", "--max-range-km", "15"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    fixes = [d for d in lines if "lat" in d]
    fails = [d for d in lines if "error" in d]
    assert len(fixes) == 2
    for d in fixes:
        for k in ("time_unix_s", "lat", "lon", "err_major_m", "err_minor_m", "err_angle_deg", "n_sensors",
                  "arrival_ids", "sensor_ids", "kind"):
            assert k in d
    assert len(fails) == 1 and fails[0]["error"].startswith("cannot locate: only 3 sensor(s)")
    assert "unknown sensor 'NOPE'" in r.stderr


def test_bad_temperature_is_a_clear_error(grid: Grid, tmp_path: Path) -> None:
    sp, ap = _write(grid, tmp_path)
    r = CliRunner().invoke(app, ["acoustic", "locate", "--sensors", str(sp), "--arrivals", str(ap), "--temp-c", "300"])
    assert r.exit_code == 2 and "--temp-c" in r.stderr
    r = CliRunner().invoke(app, ["acoustic", "locate", "--sensors", str(tmp_path / "none.csv"), "--arrivals", str(ap)])
    assert r.exit_code == 2 and "--sensors" in r.stderr


SAMPLE = Path(__file__).resolve().parents[2] / "trucewatch" / "data" / "agreements" / "ua-ru-2026" / "agreement.yaml"


@pytest.mark.slow
def test_simulate_then_locate_and_plan(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["acoustic", "simulate", "--agreement", str(SAMPLE), "--out-dir", str(tmp_path),
                            "--scenario", "quiet", "--seed", "4", "--fa-per-hour", "0.02"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["acoustic", "locate", "--sensors", str(tmp_path / "sensors.csv"), "--arrivals",
                            str(tmp_path / "arrivals.csv"), "--agreement", str(SAMPLE), "--json",
                            "--max-range-km", "15"])
    assert r.exit_code == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    fixes = [d for d in lines if "lat" in d]
    pairs = [d["pair"] for d in lines if "pair" in d]
    assert fixes and pairs
    assert all(p["launch_side"] in ("UA", "RU", "undetermined") for p in pairs)
    r = runner.invoke(app, ["acoustic", "plan", "--sensors", str(tmp_path / "sensors.csv"), "--agreement", str(SAMPLE),
                            "--out", str(tmp_path / "map.png"), "--json"])
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert 0.5 < d["coverage_share"] <= 1.0 and (tmp_path / "map.png").stat().st_size > 10_000
