"""Ordinary wind the caller does not know: association's gates, the batch wind estimate, honest ellipses."""

from __future__ import annotations

import numpy as np
import pytest

from trucewatch.sources.acoustic import LocateConfig, locate
from trucewatch.sources.acoustic.associate import Network, combine_winds
from trucewatch.sources.acoustic.formats import Arrivals
from trucewatch.sources.acoustic.pipeline import build_batch
from trucewatch.sources.acoustic.solver import fit_wind, linear_init

from .conftest import T0, Grid
from .test_locate import _err_m

TRUTH = [(1200.0, -800.0, T0), (-2500.0, 2100.0, T0 + 40.0), (3000.0, 2500.0, T0 + 41.5),
         (-1500.0, -3200.0, T0 + 90.0), (300.0, 900.0, T0 + 130.0), (-3800.0, -500.0, T0 + 131.0)]


def _windy(g: Grid, wind: tuple[float, float]) -> Arrivals:
    parts = [g.times(e, n, t, wind=wind) for e, n, t in TRUTH]
    s = np.concatenate([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    return Arrivals(np.array([f"w{i}" for i in range(s.size)], dtype=object), s, t, np.full(s.size, 20.0),
                    np.zeros(s.size, np.int8), np.full(s.size, np.nan)).sorted()


@pytest.mark.parametrize("wind", [(2.4, 1.8), (-7.0, 7.1)])  # 3 m/s, a light breeze; 10 m/s
def test_unknown_wind_every_event_located_inside_its_ellipse(wind: tuple[float, float]) -> None:
    g = Grid(n_side=7, seed=12)
    res = locate(g.sensors, _windy(g, wind), LocateConfig(max_range_m=15000))
    assert len(res.fixes) == len(TRUTH) and not res.failures
    for f, (e, n, t0) in zip(res.fixes, TRUTH, strict=True):
        err, maha = _err_m(g, f, e, n)
        assert err < 2.0
        assert maha < 13.8  # inside the 99.9 % ellipse: the wind's own error is in it
        assert abs(f.time_unix_s - t0) < 0.01
    note = next(x for x in res.notes if x.startswith("wind estimated"))
    we, wn = (float(v.split()[0]) for v in note.split(": ")[1].split(", "))
    assert abs(we - wind[0]) < 0.1 and abs(wn - wind[1]) < 0.1


def test_old_still_air_gates_lose_every_event_under_3_m_s() -> None:
    # the behaviour before: wind assumed known (still air), gates of a few clock sigmas
    g = Grid(n_side=7, seed=12)
    res = locate(g.sensors, _windy(g, (2.4, 1.8)), LocateConfig(max_range_m=15000, wind_sigma_ms=0.0))
    good = [f for f, (e, n, _) in zip(res.fixes, TRUTH, strict=False) if _err_m(g, f, e, n)[0] < 2.0]
    assert len(good) < len(TRUTH)


def test_still_air_is_unchanged_by_the_wind_allowance() -> None:
    g = Grid(n_side=7, seed=12)
    arr = _windy(g, (0.0, 0.0))
    calm = locate(g.sensors, arr, LocateConfig(max_range_m=15000, wind_sigma_ms=0.0))
    free = locate(g.sensors, arr, LocateConfig(max_range_m=15000))
    assert len(free.fixes) == len(calm.fixes) == len(TRUTH)
    for a, b, (e, n, _) in zip(calm.fixes, free.fixes, TRUTH, strict=True):
        assert _err_m(g, b, e, n)[0] < 1.5 * _err_m(g, a, e, n)[0] + 0.05


def test_fit_wind_recovers_the_wind_per_event() -> None:
    g = Grid(n_side=7, seed=5, sigma=1e-4)
    wind = (4.0, -6.0)
    arr = _windy(g, wind)
    cfg = LocateConfig(max_range_m=15000)
    net = Network(g.sensors, cfg.max_range_m)
    groups = [np.flatnonzero(np.abs(arr.t - t - 6.0) < 7.0) for _, _, t in TRUTH[:1]]
    b, *_ = build_batch(g.sensors, arr, groups, cfg, net)
    w, sd = fit_wind(b, cfg.c, linear_init(b, cfg.c)[0], 5.0)
    assert np.all(np.abs(w[0] - wind) < 0.05) and np.all(sd[0] < 0.05)


def test_combine_winds_resists_a_mixed_group_and_needs_enough_events() -> None:
    w = np.array([[3.0, 1.0], [3.01, 0.99], [2.99, 1.01], [3.0, 1.0], [-9.0, 12.0]])
    sd = np.full((5, 2), 0.02)
    (we, wn), se, k = combine_winds(w, sd, 5.0)
    assert abs(we - 3.0) < 0.02 and abs(wn - 1.0) < 0.02 and k == 5 and 0 < se < 0.1
    assert combine_winds(w[:2], sd[:2], 5.0) is None
    # events whose wind the data do not pin down do not count
    assert combine_winds(w, np.full((5, 2), 3.0), 5.0) is None
