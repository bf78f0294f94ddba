"""Fixtures: a small sensor grid near the sample agreement's line and exact arrival times."""

from __future__ import annotations

import numpy as np
import pytest

from trucewatch.geo import LocalFrame
from trucewatch.sources.acoustic.formats import Arrivals, Sensors
from trucewatch.sources.acoustic.geometry import speed_of_sound, to_ecef

T0 = 1_773_532_800.0  # 2026-03-15T00:00:00Z


class Grid:
    """Sensors on a jittered grid in a local frame; arrivals computed from straight-line ECEF distances."""

    def __init__(self, lat0: float = 48.3, lon0: float = 37.8, n_side: int = 6, spacing_m: float = 2500.0,
                 sigma: float = 0.001, seed: int = 3) -> None:
        rng = np.random.default_rng(seed)
        self.frame = LocalFrame(lat0, lon0)
        g = (np.arange(n_side) - (n_side - 1) / 2) * spacing_m
        e, n = np.meshgrid(g, g)
        e = e.ravel() + rng.normal(0, 200, e.size)
        n = n.ravel() + rng.normal(0, 200, n.size)
        lat, lon = self.frame.to_latlon(e, n)
        self.sensors = Sensors.from_columns([f"S{i:02d}" for i in range(e.size)], lat, lon,
                                            np.full(e.size, 153.0), np.full(e.size, sigma))
        self.c = speed_of_sound(15.0)
        self.rng = rng
        self.sigma = sigma

    def latlon(self, e: float, n: float) -> tuple[float, float]:
        la, lo = self.frame.to_latlon(e, n)
        return float(la), float(lo)

    def times(self, e: float, n: float, t: float, sensors: np.ndarray | None = None, noise: float | None = None,
              wind: tuple[float, float] = (0.0, 0.0)):
        la, lo = self.latlon(e, n)
        src = to_ecef(np.array([la]), np.array([lo]), np.array([150.0]))[0]
        s = np.arange(len(self.sensors)) if sensors is None else np.asarray(sensors)
        xyz = to_ecef(self.sensors.lat[s], self.sensors.lon[s], self.sensors.alt[s])
        d = np.linalg.norm(xyz - src, axis=1)
        se, sn = self.frame.to_en(self.sensors.lat[s], self.sensors.lon[s])
        h = np.hypot(se - e, sn - n) + 1e-9
        celerity = self.c + (wind[0] * (se - e) + wind[1] * (sn - n)) / h  # wind along each path
        sg = self.sigma if noise is None else noise
        return s, t + d / celerity + self.rng.normal(0, sg, s.size)

    def arrivals(self, events: list[tuple[float, float, float]], within_m: float | None = None,
                 kind: int = 0) -> tuple[Arrivals, np.ndarray]:
        """Arrivals of several (e, n, t) events at every sensor (or those within ``within_m``); labels."""
        ss, ts, lab = [], [], []
        se, sn = self.frame.to_en(self.sensors.lat, self.sensors.lon)
        for k, (e, n, t) in enumerate(events):
            idx = np.arange(len(self.sensors))
            if within_m is not None:
                idx = idx[np.hypot(se - e, sn - n) <= within_m]
            s, tt = self.times(e, n, t, idx)
            ss.append(s)
            ts.append(tt)
            lab.append(np.full(s.size, k))
        s = np.concatenate(ss)
        t = np.concatenate(ts)
        ids = np.array([f"{self.sensors.ids[i]}@{x:.6f}" for i, x in zip(s, t, strict=True)], dtype=object)
        arr = Arrivals(ids, s, t, np.full(t.size, 20.0), np.full(t.size, kind, np.int8), np.full(t.size, np.nan))
        order = np.lexsort((s, t))
        return arr.take(order), np.concatenate(lab)[order]


@pytest.fixture()
def grid() -> Grid:
    return Grid()
