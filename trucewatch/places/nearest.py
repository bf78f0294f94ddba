"""Name where a finding lies the way a monitoring mission writes it: "near Horlivka",
"3 km NE of Horlivka", or, for a poorly located claim, "within 40 km of Horlivka".

The reference settlement comes from the bundled gazetteer (the text stage's
``Gazetteer.load()``: ~32,000 places with name, local name, population and
admin areas; read only, never edited here).  Among the settlements the finding
may equally well lie near (no farther than the nearest one plus the finding's
own uncertainty, capped at 10 km), the best known (most populous) is the
reference, as a reader knows Horlivka better than the hamlet beside it.

``geo_precision`` follows ACLED's codebook from the *real* distance and the
uncertainty: 1 when the estimate lies within ~2 km of the named place's edge and
is known to ~2 km; 2 when it is near (within 15 km) or part of its district; 3
when only a larger region can be said.  A 15,000-people town 30 km away is
therefore never precision 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.spatial import cKDTree

from trucewatch.sources.text.gazetteer import Gazetteer

R_EARTH_M = 6_371_008.8
#: Search radius for a reference settlement; beyond it the finding is named by its region only.
MAX_REF_M = 60_000.0
#: How far the reference may be from the estimate beyond the nearest settlement, for a better-known name.
SLACK_CAP_M = 10_000.0
#: Uncertainty (95 % semi-major axis) above which the place is given as "within N km of".
VAGUE_M = 15_000.0
_DIRS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True, slots=True)
class Place:
    """A finding's position in words: the reference settlement, the offset to the estimate, ACLED fields."""

    name: str  # English (Latin) name
    name_local: str  # as written locally (Ukrainian or Russian)
    distance_m: float  # from the settlement's centre to the estimate
    bearing: str  # 8-point compass direction from the settlement to the estimate
    kind: str  # near | offset | within | none
    err_m: float
    country: str
    admin1: str
    admin2: str
    population: int
    geo_precision: int

    @property
    def km(self) -> int:
        return max(1, round(self.distance_m / 1000))


@lru_cache(maxsize=1)
def _index() -> tuple[cKDTree, dict[str, np.ndarray | list[str]]]:
    g = Gazetteer.load()
    keep = np.array([k in ("city", "town", "village") for k in g.kind], bool)
    idx = np.flatnonzero(keep)
    lat, lon = g.lat[idx], g.lon[idx]
    cols: dict[str, np.ndarray | list[str]] = {
        "lat": lat, "lon": lon, "pop": g.population[idx], "radius": g.radius[idx],
        "name": [g.name[i] for i in idx], "name_local": [g.name_local[i] for i in idx],
        "country": [g.country[i] for i in idx], "admin1": [g.admin1[i] for i in idx],
        "admin2": [g.admin2[i] for i in idx],
    }
    return cKDTree(_xyz(lat, lon)), cols


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _bearing(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Initial bearing (degrees) from point 1 to point 2."""
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return (np.degrees(np.arctan2(y, x)) + 360.0) % 360.0


def geo_precision(distance_m: np.ndarray, radius_m: np.ndarray, err_m: np.ndarray) -> np.ndarray:
    """ACLED geo_precision from the distance past the place's edge and the uncertainty."""
    past_edge = np.maximum(np.asarray(distance_m, float) - np.asarray(radius_m, float), 0.0)
    spread = np.maximum(past_edge, np.asarray(err_m, float))
    return np.where(spread <= 2_000.0, 1, np.where(spread <= 15_000.0, 2, 3)).astype(int)


def nearest_places(lat: np.ndarray, lon: np.ndarray, err_m: np.ndarray | None = None, k: int = 24) -> list[Place]:
    """The reference settlement of each point (vectorized: one k-nearest query for all)."""
    lat = np.atleast_1d(np.asarray(lat, float))
    lon = np.atleast_1d(np.asarray(lon, float))
    err = np.zeros_like(lat) if err_m is None else np.nan_to_num(np.atleast_1d(np.asarray(err_m, float)), nan=0.0)
    err = np.broadcast_to(err, lat.shape)
    if lat.size == 0:
        return []
    tree, c = _index()
    ok = np.isfinite(lat) & np.isfinite(lon)
    pts = _xyz(np.where(ok, lat, 0.0), np.where(ok, lon, 0.0))
    chord, j = tree.query(pts, k=k)
    d = 2 * R_EARTH_M * np.arcsin(np.clip(chord / 2, 0, 1))  # (n, k) metres, ascending
    slack = np.minimum(err, SLACK_CAP_M)[:, None]
    eligible = (d <= d[:, :1] + slack) & (d <= MAX_REF_M)
    pop = np.asarray(c["pop"])[j]
    pick = np.argmax(np.where(eligible, pop, -1), axis=1)  # most populous eligible (nearest when tied)
    rows = np.arange(len(lat))
    jj, dd = j[rows, pick], d[rows, pick]
    clat, clon = np.asarray(c["lat"])[jj], np.asarray(c["lon"])[jj]
    radius = np.asarray(c["radius"])[jj]
    brg = _bearing(clat, clon, lat, lon)
    dirs = np.array(_DIRS)[np.round(brg / 45.0).astype(int) % 8]
    prec = geo_precision(dd, radius, err)
    out = []
    for i in range(len(lat)):
        if not ok[i] or dd[i] > MAX_REF_M:
            out.append(Place("", "", float("nan"), "", "none", float(err[i]), "", "", "", 0, 3))
            continue
        if err[i] > VAGUE_M:
            kind = "within"
        elif dd[i] <= max(float(radius[i]), 1_500.0):
            kind = "near"
        else:
            kind = "offset"
        n = int(jj[i])
        out.append(Place(str(c["name"][n]), str(c["name_local"][n] or c["name"][n]), float(dd[i]), str(dirs[i]), kind,
                         float(err[i]), str(c["country"][n]), str(c["admin1"][n]), str(c["admin2"][n]),
                         int(np.asarray(c["pop"])[n]), int(prec[i])))
    return out
