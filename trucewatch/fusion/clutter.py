"""Clutter: how often observations that belong to no event turn up near an event.

Gating says a text report or a thermal pixel *could* be the same happening as
an event; where reports and background heat are dense, one will often fall in
the gate by chance.  The support such a row lends is therefore scaled by its
association probability, as in probabilistic data association (Bar-Shalom and
Tse, 1975; Musicki and Evans, Integrated PDA, 1994):

    beta = P_D * L / (P_D * L + lambda)

- ``L``: the likelihood of the row's offset from the event under the two
  uncertainties (Gaussian in space, per km^2; in time, per hour);
- ``lambda``: the clutter density of the row's class where it lies (rows per
  km^2 per hour that belong to no event), from a :class:`ClutterMap` learned on
  earlier data (:func:`learn_clutter`), never from the batch being judged;
- ``P_D``: how often a real event yields a row of that class
  (``FusionConfig.detection_prob``).

Without a map ``lambda`` is 0 and ``beta`` is 1: nothing changes.  Seeds (fixes,
tracks, sightings) are not scaled: they make the event, they do not join it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch.errors import TruceWatchError
from trucewatch.fusion.arrays import SECOND, TEXT, FusionInput
from trucewatch.fusion.gating import local_delta
from trucewatch.model import KIND_CODES, ObservationKind

#: Classes of rows that join events and can be clutter; one density each.
CLASSES = ("report_claim", "thermal_anomaly", "damage")
_CLASS_CODE = {KIND_CODES[ObservationKind(c)]: k for k, c in enumerate(CLASSES)}
FORMAT = "trucewatch-clutter-map/1"


class ClutterMapError(TruceWatchError, ValueError):
    """A clutter map file that cannot be used, naming the field."""


def _cell_key(iy: Any, ix: Any) -> Any:
    return (np.asarray(iy).astype(np.int64) + 100_000) * 1_000_000 + (np.asarray(ix).astype(np.int64) + 100_000)


def row_class(fi: FusionInput) -> np.ndarray:
    """Index into CLASSES per row, -1 for rows that are never scaled."""
    out = np.full(len(fi), -1, np.int64)
    for code, k in _CLASS_CODE.items():
        out[fi.obs.kind == code] = k
    out[fi.tier < SECOND] = -1
    return out


@dataclass
class ClutterMap:
    """Densities (rows per km^2 per hour) per grid cell and class; ``default`` where a cell was not seen."""

    cell_deg: float = 0.5
    default: dict[str, float] = field(default_factory=dict)
    cells: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)
    hours: float = 0.0
    _lookup: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def density(self, cls: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Clutter density per row (0 for rows of no class); vectorized lookup."""
        cls = np.asarray(cls)
        out = np.zeros(len(cls))
        if len(cls) == 0:
            return out
        keys, vals = self._table()
        dflt = np.array([self.default.get(c, 0.0) for c in CLASSES])
        ok = cls >= 0
        v = dflt[np.maximum(cls, 0)]
        if len(keys):
            key = _cell_key(np.floor(np.asarray(lat) / self.cell_deg), np.floor(np.asarray(lon) / self.cell_deg))
            pos = np.clip(np.searchsorted(keys, key), 0, len(keys) - 1)
            hit = keys[pos] == key
            cell_v = vals[pos, np.maximum(cls, 0)]
            v = np.where(hit & np.isfinite(cell_v), cell_v, v)
        out[ok] = v[ok]
        return out

    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        if self._lookup is None:
            items = sorted((int(_cell_key(np.float64(a), np.float64(b))), c) for (a, b), c in self.cells.items())
            keys = np.array([k for k, _ in items], np.int64)
            vals = np.array([[c.get(n, np.nan) for n in CLASSES] for _, c in items]).reshape(len(items), len(CLASSES))
            self._lookup = (keys, vals)
        return self._lookup

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "cell_deg": self.cell_deg, "hours": self.hours, "default": self.default,
                "cells": [{"lat_i": a, "lon_i": b, **v} for (a, b), v in sorted(self.cells.items())]}

    @classmethod
    def from_dict(cls, d: Any, where: str = "clutter map") -> ClutterMap:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise ClutterMapError(f"{where}: format: expected {FORMAT!r}")
        try:
            cell = float(d["cell_deg"])
        except (KeyError, TypeError, ValueError) as e:
            raise ClutterMapError(f"{where}: cell_deg: expected a number of degrees") from e
        if not (0.01 <= cell <= 10):
            raise ClutterMapError(f"{where}: cell_deg: {cell} is outside [0.01, 10]")

        def dens(v: Any, path: str) -> dict[str, float]:
            if not isinstance(v, dict):
                raise ClutterMapError(f"{where}: {path}: expected a mapping of class to density")
            out: dict[str, float] = {}
            for k, x in v.items():
                if k in ("lat_i", "lon_i"):
                    continue
                if k not in CLASSES:
                    raise ClutterMapError(f"{where}: {path}.{k}: unknown class; known: {', '.join(CLASSES)}")
                if not isinstance(x, int | float) or not math.isfinite(x) or x < 0:
                    raise ClutterMapError(f"{where}: {path}.{k}: {x!r} is not a density >= 0")
                out[k] = float(x)
            return out

        cells: dict[tuple[int, int], dict[str, float]] = {}
        for n, c in enumerate(d.get("cells") or []):
            if not isinstance(c, dict) or not isinstance(c.get("lat_i"), int) or not isinstance(c.get("lon_i"), int):
                raise ClutterMapError(f"{where}: cells[{n}]: expected integer lat_i and lon_i")
            cells[(c["lat_i"], c["lon_i"])] = dens(c, f"cells[{n}]")
        hours = d.get("hours") or 0.0
        if not isinstance(hours, int | float) or not math.isfinite(hours) or hours < 0:
            raise ClutterMapError(f"{where}: hours: {hours!r} is not a number of hours >= 0")
        return cls(cell, dens(d.get("default") or {}, "default"), cells, float(hours))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> ClutterMap:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ClutterMapError(f"{path}: {e}") from e
        return cls.from_dict(data, str(path))


def learn_clutter(fi: FusionInput, label: np.ndarray, cell_deg: float = 0.5, min_rows: int = 5) -> ClutterMap:
    """Clutter densities from a fused batch: rows of each class whose event has no
    row of a lower tier (nothing but reports, or heat nobody heard) are taken
    as clutter.  Report copies count once (their origin post).  Cells with fewer
    than ``min_rows`` such rows fall back to the class's mean over the cells seen."""
    n = len(fi)
    o = fi.obs
    if n == 0:
        return ClutterMap(cell_deg)
    hours = max((float(o.t.max()) - float(o.t.min())) / 3600.0, 1.0)
    cls = row_class(fi)
    lab = np.asarray(label)
    _, ev = np.unique(lab, return_inverse=True)
    E = int(ev.max()) + 1
    min_tier = np.full(E, 9, np.int64)
    np.minimum.at(min_tier, ev, fi.tier.astype(np.int64))
    # reports: an event of reports alone; heat and damage: an event without seeds
    alone = np.where(cls == CLASSES.index("report_claim"), min_tier[ev] >= TEXT, min_tier[ev] >= SECOND)
    alone &= (cls >= 0) & ~fi.copy
    iy = np.floor(o.lat / cell_deg).astype(np.int64)
    ix = np.floor(o.lon / cell_deg).astype(np.int64)
    area = (111.195 * cell_deg) ** 2 * np.cos(np.radians((iy + 0.5) * cell_deg))  # km^2 of each row's cell
    out = ClutterMap(cell_deg, hours=hours)
    for k, name in enumerate(CLASSES):
        sel = np.flatnonzero(alone & (cls == k))
        if len(sel) == 0:
            continue
        key = iy[sel] * 1_000_003 + ix[sel]
        _, first, cnt = np.unique(key, return_index=True, return_counts=True)
        dens = cnt / (area[sel][first] * hours)
        out.default[name] = float(np.sum(cnt) / np.sum(area[sel][first] * hours))
        for j in np.flatnonzero(cnt >= min_rows).tolist():
            r = sel[first[j]]
            out.cells.setdefault((int(iy[r]), int(ix[r])), {})[name] = float(dens[j])
    return out


def association_probability(g: FusionInput, i: np.ndarray, j: np.ndarray, cls: np.ndarray, lam: np.ndarray,
                            detection_prob: dict[str, float]) -> np.ndarray:
    """beta for rows ``i`` that joined the event of ``j`` (rows of the same input ``g``)."""
    if len(i) == 0:
        return np.zeros(0)
    o = g.obs
    de, dn = local_delta(o.lat[j], o.lon[j], o.lat[i], o.lon[i])
    see = g.cov[i, 0] + g.cov[j, 0]
    sen = g.cov[i, 1] + g.cov[j, 1]
    snn = g.cov[i, 2] + g.cov[j, 2]
    det = np.maximum(see * snn - sen * sen, 1e-9)
    m2 = (snn * de * de - 2 * sen * de * dn + see * dn * dn) / det
    l_space = np.exp(-m2 / 2) / (2 * np.pi * np.sqrt(det)) * 1e6  # per km^2
    # time: each row's window is a gate of +-3.5 sigma around its centre
    hw = (g.hi[i] - g.lo[i]) / 2 + (g.hi[j] - g.lo[j]) / 2
    sig = np.maximum(hw / 3.5, 1.0)
    dt = (g.hi[i] + g.lo[i]) / 2 - (g.hi[j] + g.lo[j]) / 2
    l_time = np.exp(-dt * dt / (2 * sig * sig)) / (math.sqrt(2 * math.pi) * sig) * 3600.0  # per hour
    pd = np.array([detection_prob.get(c, 0.5) for c in CLASSES])[np.maximum(cls, 0)]
    like = pd * l_space * l_time
    return np.where(lam > 0, like / (like + lam), 1.0)


__all__ = ["CLASSES", "ClutterMap", "ClutterMapError", "association_probability", "learn_clutter", "row_class"]
