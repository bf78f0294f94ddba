"""Sensor planning: CRLB map, line coverage, greedy placement."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trucewatch.geo import ellipse_from_cov
from trucewatch.sim.acoustic import band_network
from trucewatch.sources.acoustic.formats import Sensors
from trucewatch.sources.acoustic.plan import error_map, plan
from trucewatch.sources.acoustic.solver import Batch, fisher, safe_inv


def test_error_map_matches_the_solver_fisher_information() -> None:
    rng = np.random.default_rng(4)
    S = rng.uniform(-5000, 5000, (12, 2))
    sig = np.full(12, 0.002)
    pt = np.array([[700.0, -300.0]])
    c = 340.0
    e = error_map(S, sig, pt, 20_000.0, c)[0]
    b = Batch(np.column_stack([S, np.zeros(12)])[None], np.zeros((1, 12)), np.ones((1, 12), bool), sig[None],
              np.zeros(1))
    cov, _ = safe_inv(fisher(b, np.array([[700.0, -300.0, 0.0]]), c))
    major, _, _ = ellipse_from_cov(cov[:, :2, :2])
    assert abs(e - major[0]) / major[0] < 0.01
    # fewer than four sensors in range: no fix
    assert np.isinf(error_map(S[:3], sig[:3], pt, 20_000.0, c)[0])


def test_plan_writes_a_map_and_greedy_sensors_raise_coverage(agreement, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    full = band_network(agreement.line_en, agreement.frame, rng, spacing_m=6000.0, depth_m=6000.0)
    # keep only every other sensor: gaps the planner should fill
    keep = np.arange(len(full)) % 3 != 0
    sens = Sensors.from_columns(full.ids[keep], full.lat[keep], full.lon[keep], full.alt[keep], full.sigma[keep])
    out = tmp_path / "map.png"
    res = plan(sens, agreement, range_m=8000.0, threshold_m=100.0, add=15, out_png=str(out), grid_cells=120)
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 0.0 < res.coverage_share < 1.0
    assert len(res.added) == 15
    assert res.coverage_after is not None and res.coverage_after > res.coverage_share
