"""Settlements for readers: the nearest place to a finding ("3 km NE of Horlivka") and a
compact label layer for the map, both from the bundled gazetteer.

Why here and not in the browser: the same ``place`` must appear on the map, in the
daily report and in exports, so it is computed once, server-side, from one table.
Rows that the gazetteer placed only approximately (postal rows moved to their
oblast's centre, radius over :data:`MAX_RADIUS_M`) and oblast entries are left
out: naming a village 40 km from where it is would mislead more than no name.
"""

from __future__ import annotations

import gzip
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

#: The bundled gazetteer (the text stage reads the same file).
DATA = Path(__file__).resolve().parents[1] / "data" / "gazetteer" / "gazetteer.tsv.gz"
#: Villages placed less precisely than this (postal rows moved to their oblast's centre) name nothing.
MAX_RADIUS_M = 12_000.0
#: Beyond this distance a finding is "in <admin1>", not "near" a settlement.
MAX_NEAR_KM = 25.0
EARTH_R_KM = 6371.0088
_RANK = {"city": 3, "town": 2, "village": 1}
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True)
class Places:
    """Columnar settlement table with a k-d tree on unit vectors (great-circle nearest)."""

    name: np.ndarray
    name_local: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    country: np.ndarray
    admin1: np.ndarray
    population: np.ndarray
    rank: np.ndarray  # 3 city, 2 town, 1 village
    radius_m: np.ndarray  # the settlement's extent
    tree: cKDTree

    def __len__(self) -> int:
        return len(self.name)

    # ------------------------------------------------------------ nearest
    def nearest(self, lat: np.ndarray | list[float], lon: np.ndarray | list[float]) -> list[dict[str, Any] | None]:
        """Nearest settlement to each point (vectorized): name, local name, admin1,
        distance (km), compass bearing from the settlement to the point, and an English
        label.  None for a non-finite point."""
        la = np.asarray(lat, dtype=float)
        lo = np.asarray(lon, dtype=float)
        out: list[dict[str, Any] | None] = [None] * len(la)
        ok = np.isfinite(la) & np.isfinite(lo)
        if not ok.any() or not len(self):
            return out
        _, idx = self.tree.query(_unit(la[ok], lo[ok]))
        km = _haversine_km(self.lat[idx], self.lon[idx], la[ok], lo[ok])
        brg = _bearing_deg(self.lat[idx], self.lon[idx], la[ok], lo[ok])
        # vectorized: direction sector, "inside" (within half the settlement's radius), "near"
        sector = (((brg % 360) + 22.5) // 45).astype(np.int64) % 8
        # a village's radius is how well the gazetteer placed it, not its size: 1 km
        extent = np.where(self.rank[idx] >= 2, np.maximum(self.radius_m[idx] * 0.5, 1000.0), 1000.0)
        inside = km * 1000.0 <= extent
        near = km <= MAX_NEAR_KM
        name, local, adm, cc = self.name[idx], self.name_local[idx], self.admin1[idx], self.country[idx]
        plat, plon = np.round(self.lat[idx], 5).tolist(), np.round(self.lon[idx], 5).tolist()
        kmr, km0 = np.round(km, 1).tolist(), np.round(km).astype(np.int64).tolist()
        for n, j in enumerate(np.flatnonzero(ok).tolist()):
            nm, ins, nr = name[n], bool(inside[n]), bool(near[n])
            d = "" if ins else _COMPASS[sector[n]]
            if ins:
                label = nm
            elif nr:
                label = f"{km0[n]} km {d} of {nm}"
            else:
                label = f"{km0[n]} km {d} of {nm} ({adm[n] or cc[n]})"
            out[j] = {"name": nm, "name_local": local[n], "admin1": adm[n], "country": cc[n], "lat": plat[n],
                      "lon": plon[n], "distance_km": kmr[n], "direction": d, "inside": ins, "near": nr, "label": label}
        return out

    # ------------------------------------------------------------- labels
    def layer(self, bbox: tuple[float, float, float, float] | None, min_population: int, limit: int,
              villages: bool) -> dict[str, Any]:
        """GeoJSON points of the settlements in ``bbox``, biggest first (a map labels the
        first ones): cities and towns of at least ``min_population``, and villages (whose
        population the gazetteer often lacks) only when ``villages``."""
        m = (self.population >= min_population) & (self.rank >= 2) if min_population > 0 else self.rank >= 2
        if villages:
            m = m | (self.rank == 1)
        if bbox is not None:
            w, s, e, n = bbox
            m &= (self.lon >= w) & (self.lon <= e) & (self.lat >= s) & (self.lat <= n)
        idx = np.flatnonzero(m)
        order = np.lexsort((self.name[idx], -self.population[idx], -self.rank[idx]))
        idx = idx[order][:limit]
        feats = [{"type": "Feature", "geometry": {"type": "Point",
                                                  "coordinates": [round(float(self.lon[i]), 5),
                                                                  round(float(self.lat[i]), 5)]},
                  "properties": {"name": str(self.name[i]), "name_local": str(self.name_local[i]),
                                 "population": int(self.population[i]),
                                 "kind": ("village", "town", "city")[int(self.rank[i]) - 1],
                                 "admin1": str(self.admin1[i])}} for i in idx]
        return {"type": "FeatureCollection", "features": feats,
                "properties": {"count": int(m.sum()), "returned": len(feats), "source": "GeoNames (CC BY 4.0)"}}


def _unit(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_R_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _bearing_deg(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arctan2(y, x)) % 360


_LOCK = threading.Lock()
_CACHE: dict[str, Places] = {}


def load(path: str | None = None) -> Places:
    """The settlement table (read once per process; ~0.3 s)."""
    key = str(path or DATA)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _read(key)
        return _CACHE[key]


def _read(path: str) -> Places:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        col = {h: i for i, h in enumerate(header)}
        need = ("name", "name_local", "lat", "lon", "country", "admin1", "population", "kind", "radius_m")
        missing = [h for h in need if h not in col]
        if missing:
            raise ValueError(f"{path}: gazetteer header lacks {missing}")
        rows = []
        for n, line in enumerate(f, start=2):
            r = line.rstrip("\n").split("\t")
            if len(r) < len(header) or r[col["kind"]] not in _RANK:
                continue
            try:
                lat, lon = float(r[col["lat"]]), float(r[col["lon"]])
                radius = float(r[col["radius_m"]] or 0)
                pop = int(float(r[col["population"]] or 0))
            except ValueError as exc:
                raise ValueError(f"{path}: line {n}: bad number ({exc})") from None
            kind = _RANK[r[col["kind"]]]
            if (kind == 1 and radius > MAX_RADIUS_M) or not (math.isfinite(lat) and math.isfinite(lon)):
                continue
            rows.append((r[col["name"]], r[col["name_local"]] or r[col["name"]], lat, lon, r[col["country"]],
                         r[col["admin1"]], pop, kind, radius, r[col["admin2"]] if "admin2" in col else ""))
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [[]] * 10
    lats = np.array(cols[2], dtype=float)
    lons = np.array(cols[3], dtype=float)
    pops = np.array(cols[6], dtype=np.int64)
    radii = np.array(cols[8], dtype=float)
    xyz = _unit(lats, lons) if len(lats) else np.zeros((0, 3))
    keep = _not_a_district(cols[0], cols[9], cols[7], lats, lons)
    keep[keep] = _not_inside_bigger(xyz[keep], pops[keep], radii[keep])
    return Places(name=np.array(cols[0], dtype=object)[keep], name_local=np.array(cols[1], dtype=object)[keep],
                  lat=lats[keep], lon=lons[keep], country=np.array(cols[4], dtype=object)[keep],
                  admin1=np.array(cols[5], dtype=object)[keep], population=pops[keep],
                  rank=np.array(cols[7], dtype=np.int8)[keep], radius_m=radii[keep],
                  tree=cKDTree(xyz[keep] if keep.any() else np.zeros((1, 3))))


def _not_a_district(names: Any, admin2: Any, rank: Any, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """False for a city or town whose district (admin2) is another city within 15 km:
    GeoNames lists city districts ("Pravyi Bereh", district of Mariupol) as cities,
    some with more people than the city row itself."""
    cities: dict[str, list[int]] = {}
    for i, (n, k) in enumerate(zip(names, rank, strict=True)):
        if k == 3:
            cities.setdefault(n, []).append(i)
    keep = np.ones(len(lat), dtype=bool)
    for i, (n, a2, k) in enumerate(zip(names, admin2, rank, strict=True)):
        if k >= 2 and a2 and a2 != n and a2 in cities:
            j = np.asarray(cities[a2])
            if (_haversine_km(lat[j], lon[j], np.full(len(j), lat[i]), np.full(len(j), lon[i])) < 15.0).any():
                keep[i] = False
    return keep


def _not_inside_bigger(xyz: np.ndarray, pop: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """False for a place under 250,000 people within a bigger city's radius: a city
    district or a suburb (GeoNames lists Donetsk's districts as cities), named by its city instead."""
    keep = np.ones(len(pop), dtype=bool)
    if not len(pop):
        return keep
    tree = cKDTree(xyz)
    big = np.flatnonzero((pop >= 50_000) & (radius >= 3000))
    for i in big[np.argsort(-pop[big])]:
        if not keep[i]:
            continue
        chord = 1.0 * radius[i] / (EARTH_R_KM * 1000.0)
        near = np.asarray(tree.query_ball_point(xyz[i], chord), dtype=np.int64)
        # a neighbouring city of its own (Makiyivka by Donetsk) has a large population; districts less
        keep[near[(pop[near] < pop[i]) & (pop[near] < 250_000)]] = False
    return keep
