"""Association and localization on controlled geometry."""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from trucewatch.geo import ellipse_cov
from trucewatch.model import ObservationKind
from trucewatch.sources.acoustic import LocateConfig, locate, to_observations
from trucewatch.sources.acoustic.associate import Network
from trucewatch.sources.acoustic.formats import Arrivals, Sensors
from trucewatch.sources.acoustic.pipeline import build_batch, fix_id
from trucewatch.sources.acoustic.solver import solve

from .conftest import T0, Grid


def _err_m(grid: Grid, fix, e: float, n: float) -> tuple[float, float]:
    fe, fn = grid.frame.to_en(fix.lat, fix.lon)
    de, dn = float(fe) - e, float(fn) - n
    C = ellipse_cov(fix.err_major_m, fix.err_minor_m, fix.err_angle_deg)
    m = np.array([de, dn]) @ np.linalg.inv(C) @ np.array([de, dn])
    return float(np.hypot(de, dn)), float(m)


def test_single_event_located_within_its_ellipse(grid: Grid) -> None:
    arr, _ = grid.arrivals([(830.0, -1210.0, T0 + 100)])
    res = locate(grid.sensors, arr, LocateConfig(max_range_m=15000))
    assert len(res.fixes) == 1 and not res.failures
    f = res.fixes[0]
    err, maha = _err_m(grid, f, 830.0, -1210.0)
    assert err < 1.0  # 36 sensors at 1 ms: a few decimetres
    assert maha < 13.8  # inside the 99.9 % ellipse
    assert abs(f.time_unix_s - (T0 + 100)) < 0.01
    assert f.n_sensors == 36 and f.id == fix_id(f.arrival_ids)


def test_overlapping_events_are_separated(grid: Grid) -> None:
    # five sources within 1.2 s, one of them a salvo of three rounds 0.5 s apart from one launcher
    ev = [(-3000.0, 2000.0, T0), (2500.0, 1500.0, T0 + 0.3), (0.0, -3000.0, T0 + 0.7),
          (400.0, 400.0, T0 + 1.0), (400.0, 400.0, T0 + 1.5), (400.0, 400.0, T0 + 2.0)]
    arr, lab = grid.arrivals(ev)
    res = locate(grid.sensors, arr, LocateConfig(max_range_m=15000))
    assert len(res.fixes) == len(ev)
    id_to_lab = dict(zip(arr.ids, lab, strict=True))
    found = set()
    for f, g in zip(res.fixes, res.groups, strict=True):
        labels = {id_to_lab[a] for a in f.arrival_ids}
        assert len(labels) == 1, "an event mixes arrivals of two sources"
        k = labels.pop()
        found.add(k)
        assert _err_m(grid, f, ev[k][0], ev[k][1])[0] < 2.0
        assert g.size == f.n_sensors
    assert found == set(range(len(ev)))


def test_partial_coverage_and_false_alarms(grid: Grid) -> None:
    ev = [(-4000.0, -4000.0, T0), (4000.0, 4000.0, T0 + 0.2)]
    arr, _ = grid.arrivals(ev, within_m=6000.0)
    rng = np.random.default_rng(5)
    k = 12
    fa = Arrivals(np.array([f"fa{i}" for i in range(k)], dtype=object), rng.integers(0, 36, k),
                  T0 + rng.uniform(-5, 25, k), np.full(k, 11.0), np.zeros(k, np.int8), np.full(k, np.nan))
    both = Arrivals(*(np.concatenate([getattr(arr, f), getattr(fa, f)]) for f in
                      ("ids", "sensor", "t", "snr", "kind", "bearing"))).sorted()
    res = locate(grid.sensors, both, LocateConfig(max_range_m=15000))
    assert len(res.fixes) == 2
    assert all(not any(a.startswith("fa") for a in f.arrival_ids) for f in res.fixes)
    explained = {a for fl in res.failures for a in fl.arrival_ids}
    assert {f"fa{i}" for i in range(k)} <= explained  # every false alarm is explained, none dropped


def test_fewer_than_four_sensors_cannot_locate(grid: Grid) -> None:
    s, t = grid.times(100.0, 100.0, T0, np.array([0, 7, 14]))
    ids = np.array([f"a{i}" for i in range(3)], dtype=object)
    arr = Arrivals(ids, s, t, np.full(3, 20.0), np.zeros(3, np.int8), np.full(3, np.nan)).sorted()
    res = locate(grid.sensors, arr)
    assert not res.fixes
    assert len(res.failures) == 1 and "only 3 sensor(s)" in res.failures[0].reason


def test_sensors_at_one_point_cannot_locate() -> None:
    sens = Sensors.from_columns([f"P{i}" for i in range(5)], [48.3] * 5, [37.8] * 5, [150.0] * 5, [0.001] * 5)
    t = T0 + 3.0 + np.array([0.0, 0.0005, -0.0004, 0.0002, 0.0001])
    arr = Arrivals(np.array([f"a{i}" for i in range(5)], dtype=object), np.arange(5), t, np.full(5, 20.0),
                   np.zeros(5, np.int8), np.full(5, np.nan)).sorted()
    res = locate(sens, arr)
    assert not res.fixes
    assert len(res.failures) == 1 and "one point" in res.failures[0].reason


def test_sensors_in_a_line_cannot_locate() -> None:
    lat = 48.3 + np.arange(6) * 0.01
    sens = Sensors.from_columns([f"L{i}" for i in range(6)], lat, [37.8] * 6, [150.0] * 6, [0.001] * 6)
    g = Grid()
    g.sensors = sens
    s, t = g.times(3000.0, 2000.0, T0)
    arr = Arrivals(np.array([f"a{i}" for i in range(6)], dtype=object), s, t, np.full(6, 20.0),
                   np.zeros(6, np.int8), np.full(6, np.nan)).sorted()
    res = locate(sens, arr)
    assert not res.fixes
    assert res.failures and ("line" in res.failures[0].reason or "geometry" in res.failures[0].reason)


def test_residuals_that_do_not_fit_the_noise_are_rejected(grid: Grid) -> None:
    # sensors claim 1 ms clocks but the picks are 6 ms off: no honest fix is possible
    s, t = grid.times(500.0, 500.0, T0, noise=0.006)
    arr = Arrivals(np.array([f"a{i}" for i in range(s.size)], dtype=object), s, t, np.full(s.size, 20.0),
                   np.zeros(s.size, np.int8), np.full(s.size, np.nan)).sorted()
    res = locate(grid.sensors, arr, LocateConfig(max_range_m=15000, gate_sigma=50.0, coarse_gates_s=(0.12, 0.05)))
    assert not res.fixes
    assert any("do not fit the clock noise" in f.reason for f in res.failures)


def test_input_order_does_not_change_the_result(grid: Grid) -> None:
    arr, _ = grid.arrivals([(-1000.0, 0.0, T0), (1500.0, 800.0, T0 + 0.4)])
    a = locate(grid.sensors, arr, LocateConfig(max_range_m=15000))
    perm = np.random.default_rng(2).permutation(len(arr))
    b = locate(grid.sensors, arr.take(perm).sorted(), LocateConfig(max_range_m=15000))
    assert [f.id for f in a.fixes] == [f.id for f in b.fixes]
    assert np.allclose([f.lat for f in a.fixes], [f.lat for f in b.fixes])


def test_vectorized_fit_matches_scipy_least_squares(grid: Grid) -> None:
    rng = np.random.default_rng(9)
    ev = [(float(x), float(y), T0 + 30 * k) for k, (x, y) in enumerate(rng.uniform(-5000, 5000, (25, 2)))]
    arr, lab = grid.arrivals(ev)
    cfg = LocateConfig(max_range_m=15000)
    groups = [np.flatnonzero(lab == k) for k in range(len(ev))]
    net = Network(grid.sensors, cfg.max_range_m)
    b, *_ = build_batch(grid.sensors, arr, groups, cfg, net)
    sol = solve(b, cfg.c)
    for i in range(len(ev)):
        m = b.M[i]
        S, T = b.S[i][m], b.T[i][m]

        def fun(x, S=S, T=T, h0=b.h0[i]):
            u = h0 - (x[0] ** 2 + x[1] ** 2) / (2 * 6_371_008.8)
            return (T - (x[2] + np.sqrt((x[0] - S[:, 0]) ** 2 + (x[1] - S[:, 1]) ** 2 + (u - S[:, 2]) ** 2)) / cfg.c) / 1e-3

        ref = least_squares(fun, sol.x[i] + np.array([300.0, -200.0, 50.0])).x
        assert np.hypot(*(ref[:2] - sol.x[i, :2])) < 0.01


def test_observations_follow_the_contract(grid: Grid) -> None:
    arr, _ = grid.arrivals([(0.0, 1000.0, T0)], kind=1)
    res = locate(grid.sensors, arr, LocateConfig(max_range_m=15000))
    obs = to_observations(res, pairs={res.fixes[0].id: "pair-x"})
    assert len(obs) == 1
    o = obs[0]
    assert o.kind == ObservationKind.LAUNCH and o.source_id == "acoustic-net"
    for key in ("n_sensors", "sensor_ids", "residual_rms_s", "crlb_major_m", "pair_id"):
        assert key in o.attributes
    assert o.location.err_major_m >= 1.0
    again = to_observations(locate(grid.sensors, arr, LocateConfig(max_range_m=15000)))
    assert again[0].id == o.id and again[0].payload_hash == o.payload_hash


def test_clock_sigma_is_estimated_when_the_registry_gives_none() -> None:
    g = Grid(sigma=0.008, seed=11)
    g.sensors.sigma_given = np.zeros(len(g.sensors), bool)
    g.sensors.sigma[:] = 0.002  # the registry default, four times too small
    ev = [(float(x), float(y), T0 + 40 * k) for k, (x, y) in enumerate(np.random.default_rng(1).uniform(-4000, 4000, (6, 2)))]
    arr, _ = g.arrivals(ev)
    res = locate(g.sensors, arr, LocateConfig(max_range_m=15000))
    assert res.notes and "estimated" in res.notes[0]
    est = float(res.notes[0].split(": ")[1].split(" ms")[0])
    assert 6.0 < est < 10.0
    assert len(res.fixes) == 6 and all(f.n_sensors >= 30 for f in res.fixes)
    # without the estimate the 2 ms default rejects the fits or splits the events
    off = locate(g.sensors, arr, LocateConfig(max_range_m=15000, auto_sigma=False))
    assert sum(f.n_sensors for f in off.fixes) < sum(f.n_sensors for f in res.fixes)


def test_known_wind_is_corrected() -> None:
    g = Grid(n_side=7, seed=12)
    wind = (6.0, -3.0)  # m/s toward east, north
    truth = [(1200.0, -800.0, T0), (-2500.0, 2100.0, T0 + 60.0)]
    parts = [g.times(e, n, t, wind=wind) for e, n, t in truth]
    s = np.concatenate([p[0] for p in parts])
    t = np.concatenate([p[1] for p in parts])
    arr = Arrivals(np.array([f"w{i}" for i in range(s.size)], dtype=object), s, t, np.full(s.size, 20.0),
                   np.zeros(s.size, np.int8), np.full(s.size, np.nan)).sorted()
    calm = locate(g.sensors, arr, LocateConfig(max_range_m=15000, wind_sigma_ms=0.0))  # still air, certain
    windy = locate(g.sensors, arr, LocateConfig(max_range_m=15000, wind_e_ms=wind[0], wind_n_ms=wind[1]))
    assert len(windy.fixes) == 2
    for f, (e, n, t0) in zip(windy.fixes, truth, strict=True):
        assert _err_m(g, f, e, n)[0] < 3.0
        assert abs(f.time_unix_s - t0) < 0.02
    # still air cannot explain 6 m/s of wind with 1 ms clocks: rejected or split, never as good
    assert len(calm.fixes) < 2 or max(f.residual_rms_s for f in calm.fixes) > 5 * max(
        f.residual_rms_s for f in windy.fixes)


def test_offline_sensors_do_not_veto_a_small_event(grid: Grid) -> None:
    # four sensors hear a quiet blast; nearer sensors that never reported anything (offline) do not count as silent
    se, sn = grid.frame.to_en(grid.sensors.lat, grid.sensors.lon)
    d = np.hypot(se - 600.0, sn - 600.0)
    order = np.argsort(d)
    heard = order[[2, 4, 5, 7]]  # the two nearest and a few others are offline
    s, t = grid.times(600.0, 600.0, T0, heard)
    arr = Arrivals(np.array([f"q{i}" for i in range(4)], dtype=object), s, t, np.full(4, 15.0), np.zeros(4, np.int8),
                   np.full(4, np.nan)).sorted()
    res = locate(grid.sensors, arr, LocateConfig(max_range_m=15000))
    assert len(res.fixes) == 1 and res.fixes[0].n_sensors == 4
    assert _err_m(grid, res.fixes[0], 600.0, 600.0)[0] < 20.0
