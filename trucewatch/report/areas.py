"""Name the area of a point the way a daily report does: the oblast (from the
nearest GeoNames postal place within 30 km) or else the country."""

from __future__ import annotations

import csv
import gzip
import io
from functools import lru_cache
from importlib import resources

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import shape

from trucewatch.agreement.derive import _basemap
from trucewatch.geo import LocalFrame

_MAX_KM = 30.0

#: GeoNames admin1 names as English region names in reports.
_PRETTY = {
    "Kyiv city": "Kyiv city", "Kyivska": "Kyiv region", "Donetska": "Donetsk region", "Luhanska": "Luhansk region",
    "Kharkivska": "Kharkiv region", "Zaporizka": "Zaporizhzhia region", "Khersonska": "Kherson region",
    "Dnipropetrovska": "Dnipropetrovsk region", "Mykolaivska": "Mykolaiv region", "Odeska": "Odesa region",
    "Sumska": "Sumy region", "Chernihivska": "Chernihiv region", "Poltavska": "Poltava region",
    "Cherkaska": "Cherkasy region", "Chernivetska": "Chernivtsi region", "Ivano-Frankivska": "Ivano-Frankivsk region",
    "Khmelnytska": "Khmelnytskyi region", "Kirovohradska": "Kirovohrad region", "Lvivska": "Lviv region",
    "Rivnenska": "Rivne region", "Ternopilska": "Ternopil region", "Vinnytska": "Vinnytsia region",
    "Volynska": "Volyn region", "Zakarpatska": "Zakarpattia region", "Zhytomyrska": "Zhytomyr region",
}


def pretty(admin1: str) -> str:
    return _PRETTY.get(admin1, admin1.removesuffix("ska").removesuffix("zka") + " region" if admin1.endswith("ska") else admin1)


@lru_cache(maxsize=1)
def _index() -> tuple[cKDTree, np.ndarray, LocalFrame]:
    raw = resources.files("trucewatch.data.geo").joinpath("ua_admin1_points.csv.gz").read_bytes()
    rows = list(csv.reader(io.StringIO(gzip.decompress(raw).decode("utf-8"))))[1:]
    lat = np.array([float(r[0]) for r in rows])
    lon = np.array([float(r[1]) for r in rows])
    names = np.array([r[2] for r in rows], dtype=object)
    frame = LocalFrame(48.5, 31.5)
    e, n = frame.to_en(lat, lon)
    return cKDTree(np.column_stack([e, n])), names, frame


@lru_cache(maxsize=1)
def _countries() -> tuple[list[str], list[shapely.Geometry]]:
    feats = _basemap("countries.geojson")["features"]
    geoms = [shape(f["geometry"]) for f in feats]
    for g in geoms:
        shapely.prepare(g)
    return [f["properties"]["name"] for f in feats], geoms


def area_names(lat: np.ndarray, lon: np.ndarray) -> list[str]:
    """Region name per point (vectorized look-up; a country when not in Ukraine's gazetteer)."""
    lat = np.atleast_1d(np.asarray(lat, float))
    lon = np.atleast_1d(np.asarray(lon, float))
    tree, names, frame = _index()
    e, n = frame.to_en(lat, lon)
    d, i = tree.query(np.column_stack([e, n]))
    out = [pretty(str(names[j])) if dist <= _MAX_KM * 1000 else "" for dist, j in zip(d, i, strict=True)]
    missing = [k for k, v in enumerate(out) if not v]
    if missing:
        cnames, geoms = _countries()
        for k in missing:
            out[k] = "at sea or abroad"
            if 44.3 <= lat[k] <= 46.25 and 32.4 <= lon[k] <= 36.7 and shapely.contains_xy(geoms[cnames.index("Russia")], lon[k], lat[k]):
                out[k] = "Crimea"  # Natural Earth draws Crimea with Russia; the gazetteer has no Crimean postcodes
                continue
            for name, g in zip(cnames, geoms, strict=True):
                if shapely.contains_xy(g, lon[k], lat[k]):
                    out[k] = name
                    break
    return out
