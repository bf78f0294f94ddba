"""Derive a contact line and both parties' areas from an occupied-area polygon.

The contact line is the part of the occupied area's boundary that runs through
mainland territory: everything within ``border_tolerance_km`` of the country's
outline (state border and coast) or of the sea coast is removed, short
leftovers (islands, spits: parts shorter than ``min_part_km`` or running
mostly within 10 tolerances of the coast) are dropped, and the rest is simplified.  The
country and land outlines are Natural Earth 4.1.0 (public domain) via npm's
world-atlas, bundled in trucewatch/data/geo.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge

from trucewatch.geo import LocalFrame


@lru_cache(maxsize=4)
def _basemap(name: str) -> dict[str, Any]:
    return json.loads(resources.files("trucewatch.data.geo").joinpath(name).read_text(encoding="utf-8"))


def country(name: str) -> BaseGeometry:
    """A bundled country outline by its Natural Earth name (clipped to 18-52E, 38-58N)."""
    for f in _basemap("countries.geojson")["features"]:
        if f["properties"]["name"] == name:
            return shape(f["geometry"])
    raise KeyError(f"no bundled outline for country {name!r}")


def land() -> BaseGeometry:
    return shapely.union_all([shape(f["geometry"]) for f in _basemap("land.geojson")["features"]])


def _read_area(obj: dict[str, Any]) -> BaseGeometry:
    if obj.get("type") == "FeatureCollection":
        return shapely.union_all([shape(f["geometry"]) for f in obj["features"] if f.get("geometry")])
    if obj.get("type") == "Feature":
        return shape(obj["geometry"])
    return shape(obj)


def contact_line_from_occupied(
    occupied: dict[str, Any] | BaseGeometry,
    *,
    country_name: str = "Ukraine",
    border_tolerance_km: float = 3.0,
    min_part_km: float = 20.0,
    simplify_m: float = 100.0,
) -> BaseGeometry:
    """The contact line (WGS84 MultiLineString or LineString) from an occupied area."""
    area = occupied if isinstance(occupied, BaseGeometry) else _read_area(occupied)
    area = shapely.make_valid(area)
    c = area.centroid
    frame = LocalFrame(c.y, c.x)
    area_en = frame.geom_to_en(area)
    outline_en = frame.geom_to_en(country(country_name))
    coast_en = frame.geom_to_en(land()).boundary
    tol = border_tolerance_km * 1000.0
    cut = shapely.union(shapely.buffer(outline_en.boundary, tol), shapely.buffer(coast_en, tol))
    rest = shapely.difference(area_en.boundary, cut)
    merged = linemerge(list(shapely.get_parts(rest)))
    near_coast = shapely.buffer(coast_en, 10 * tol)
    parts = [
        p for p in shapely.get_parts(merged)
        if p.length >= min_part_km * 1000.0 and shapely.intersection(p, near_coast).length < 0.5 * p.length
    ]
    if not parts:
        raise ValueError("no part of the area's boundary runs through mainland territory")
    line = shapely.MultiLineString(parts) if len(parts) > 1 else parts[0]
    line = shapely.simplify(line, simplify_m, preserve_topology=True)
    return shapely.set_precision(frame.geom_to_latlon(line), 1e-6)


def areas_from_occupied(
    occupied: dict[str, Any] | BaseGeometry,
    *,
    holder: str = "UA",
    occupier: str = "RU",
    country_name: str = "Ukraine",
    occupier_country: str | None = "Russia",
) -> dict[str, Any]:
    """Each party's controlled area: the country less the occupied area, and the
    occupied area plus the occupier's own territory (clipped to the basemap box)."""
    area = occupied if isinstance(occupied, BaseGeometry) else _read_area(occupied)
    area = shapely.make_valid(area)
    holder_area = shapely.difference(country(country_name), area)
    occ_area = area if occupier_country is None else shapely.union(area, country(occupier_country))
    feats = [
        {"type": "Feature", "properties": {"party": holder}, "geometry": mapping(shapely.set_precision(holder_area, 1e-5))},
        {"type": "Feature", "properties": {"party": occupier}, "geometry": mapping(shapely.set_precision(occ_area, 1e-5))},
    ]
    return {"type": "FeatureCollection", "features": feats}
