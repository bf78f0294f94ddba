"""Sectors of the front: the unit by which the message bus is partitioned.

A sector is a stretch of the agreement's main contact line ``sector_km`` long;
every point on Earth belongs to the sector of its nearest point on that line, so
rear areas, the air and the sea are partitioned too.  Fusion workers take a
sector's observations plus a margin around it and keep only the events whose
position falls inside the sector: an event near a border is built from all of
its observations by both neighbours, and stored by exactly one of them.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

from trucewatch.agreement import Agreement


class Sectors:
    def __init__(self, agreement: Agreement, sector_km: float = 100.0) -> None:
        self.agreement = agreement
        parts = list(getattr(agreement.line_en, "geoms", [agreement.line_en]))
        self.line = max(parts, key=lambda p: p.length)
        self.sector_m = sector_km * 1000.0
        self.count = max(1, int(np.ceil(self.line.length / self.sector_m)))
        # Position along the line by the nearest of points every 250 m: exact
        # enough for a partition, and a KD-tree look-up instead of a scan of
        # every segment per point.

        self._s = np.arange(0.0, self.line.length, 250.0)
        pts = shapely.line_interpolate_point(self.line, self._s)
        self._tree = cKDTree(np.column_stack([shapely.get_x(pts), shapely.get_y(pts)]))

    def _position(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        e, n = self.agreement.frame.to_en(np.atleast_1d(lat), np.atleast_1d(lon))
        _, i = self._tree.query(np.column_stack([e, n]))
        return self._s[i]

    @staticmethod
    def name(k: int) -> str:
        return f"s{k:02d}"

    def names(self) -> list[str]:
        return [self.name(k) for k in range(self.count)]

    def index(self, name: str) -> int:
        """Sector number from its name; ValueError for a name that is not a sector."""
        if len(name) != 3 or not name.startswith("s") or not name[1:].isdigit() or int(name[1:]) >= self.count:
            raise ValueError(f"unknown sector {name!r} (known: s00..{self.name(self.count - 1)})")
        return int(name[1:])

    def of(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Sector number of each point (vectorized)."""
        s = self._position(lat, lon)
        return np.minimum((s // self.sector_m).astype(int), self.count - 1)

    def touched(self, lat: np.ndarray, lon: np.ndarray, margin_m: float = 30_000.0) -> np.ndarray:
        """Sectors whose events a point may belong to: its own, and a neighbour
        when the point lies within ``margin_m`` of the border (shape (n, 3), -1 = none)."""
        s = self._position(lat, lon)
        k = np.minimum((s // self.sector_m).astype(int), self.count - 1)
        rem = s - k * self.sector_m
        lo = np.where((rem < margin_m) & (k > 0), k - 1, -1)
        hi = np.where((rem > self.sector_m - margin_m) & (k < self.count - 1), k + 1, -1)
        return np.column_stack([k, lo, hi])

    def contains(self, k: int, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return self.of(lat, lon) == k
