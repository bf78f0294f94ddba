"""The mechanism's checks, as pure functions over plain values (no SQL, no HTTP).

- where and when an allegation happened (:func:`place_of`, :func:`window_of`);
- its attachments, hashed and size-checked (:func:`hash_attachments`);
- a task's coverage: was the area really observed (:func:`coverage`);
- a holding-site inspection against the declared inventory (:func:`inspect_inventory`);
- sensor outages from a heartbeat feed (:func:`outages`) and their cause (:func:`outage_cause`);
- whether a time and place fall in an accepted pre-notified window (:func:`in_window`);
- a declared serial seen outside its site (:func:`outside_site`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, shape
from shapely.ops import substring

from trucewatch.geo import LocalFrame, ellipse_polygon, haversine_m
from trucewatch.mechanism.core import AllegationIn, MechanismConfig, MechanismError
from trucewatch.sources.text.gazetteer import Gazetteer

DEFAULT_POINT_ERR_M = 1000.0
MIN_ERR_M = 50.0


# --------------------------------------------------------------- allegations
def window_of(a: AllegationIn) -> tuple[float, float]:
    """(from, to) Unix seconds of the allegation's time, or MechanismError naming the field."""
    if a.time is not None:
        t = a.time.timestamp()
        return t, t
    if a.time_from is None and a.time_to is None:
        raise MechanismError("time", "an allegation needs a time (time, or time_from and time_to)")
    if a.time_from is None or a.time_to is None:
        raise MechanismError("time_from" if a.time_from is None else "time_to",
                             "give both time_from and time_to, or a single time")
    lo, hi = a.time_from.timestamp(), a.time_to.timestamp()
    if hi < lo:
        raise MechanismError("time_to", "is before time_from")
    if hi - lo > 31 * 86400:
        raise MechanismError("time_to", "a window longer than 31 days says nothing about when")
    return lo, hi


def _geom(area: dict[str, Any], field: str) -> Any:
    g = area.get("geometry", area) if area.get("type") == "Feature" else area
    try:
        geom = shape(g)
    except Exception as exc:
        raise MechanismError(field, f"not a GeoJSON geometry: {exc}") from None
    if geom.is_empty or not geom.is_valid:
        raise MechanismError(field, "an empty or invalid geometry")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise MechanismError(field, "coordinates are off the globe (GeoJSON is lon, lat)")
    return geom


def area_circle(area: dict[str, Any], field: str = "area") -> tuple[float, float, float]:
    """(lat, lon, radius m) of the smallest circle about the centroid that holds ``area``."""
    geom = _geom(area, field)
    c = geom.centroid
    xs, ys = np.asarray(shapely.get_coordinates(geom)).T
    r = float(np.max(haversine_m(c.y, c.x, ys, xs))) if len(xs) else 0.0
    return float(c.y), float(c.x), max(r, MIN_ERR_M)


def place_of(a: AllegationIn, gazetteer: Any = None) -> dict[str, Any]:
    """{lat, lon, err_m, how} from lat/lon, a GeoJSON area or a place name (bundled gazetteer)."""
    if a.lat is not None or a.lon is not None:
        if a.lat is None or a.lon is None:
            raise MechanismError("lat" if a.lat is None else "lon", "give both lat and lon")
        return {"lat": a.lat, "lon": a.lon, "err_m": DEFAULT_POINT_ERR_M, "how": "point"}
    if a.area is not None:
        lat, lon, r = area_circle(a.area)
        return {"lat": lat, "lon": lon, "err_m": r, "how": "area"}
    if a.place_name:
        if gazetteer is None:
            gazetteer = Gazetteer.load()
        hits = gazetteer.lookup(a.place_name, limit=1)
        if not hits:
            raise MechanismError("place_name", f"{a.place_name!r} is not in the gazetteer; give lat and lon or an area")
        h = hits[0]
        return {"lat": float(h.lat), "lon": float(h.lon), "err_m": max(float(h.radius_m or 0.0), 2000.0),
                "how": f"place_name ({h.name}, {h.admin1})"}
    raise MechanismError("place", "an allegation needs a place: lat and lon, a GeoJSON area, or a place_name")


def hash_attachments(a: AllegationIn, cfg: MechanismConfig) -> list[dict[str, Any]]:
    """[{name, content_type, size, sha256, data}] or MechanismError naming the attachment field."""
    if len(a.attachments) > cfg.max_attachments:
        raise MechanismError("attachments", f"{len(a.attachments)} attachments; at most {cfg.max_attachments}")
    out = []
    for i, att in enumerate(a.attachments):
        f = f"attachments[{i}].data_base64"
        if len(att.data_base64) > (cfg.max_attachment_bytes * 4) // 3 + 8:
            raise MechanismError(f, f"larger than {cfg.max_attachment_bytes} bytes")
        try:
            data = base64.b64decode(att.data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise MechanismError(f, "not valid base64") from None
        if len(data) > cfg.max_attachment_bytes:
            raise MechanismError(f, f"{len(data)} bytes; at most {cfg.max_attachment_bytes}")
        out.append({"name": att.name, "content_type": att.content_type, "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(), "data": data})
    return out


# ----------------------------------------------------------------- tasking
def coverage(area: dict[str, Any], observed: Sequence[Any], min_coverage: float) -> dict[str, Any]:
    """How much of the tasked ``area`` the ``observed`` geometries (GeoJSON dicts or shapely, lon/lat)
    cover, in a local metric frame, and what may be said: "not seen" only where covered."""
    geom = _geom(area, "area")
    c = geom.centroid
    frame = LocalFrame(c.y, c.x)
    a_en = frame.geom_to_en(geom)
    parts = [frame.geom_to_en(g if hasattr(g, "geom_type") else _geom(g, "observed")) for g in observed]
    covered = shapely.intersection(shapely.union_all(parts), a_en) if parts else shapely.Polygon()
    total = float(a_en.area)
    frac = float(covered.area) / total if total > 0 else 0.0
    frac = min(max(frac, 0.0), 1.0)
    return {"area_km2": round(total / 1e6, 3), "covered_km2": round(float(covered.area) / 1e6, 3),
            "fraction": round(frac, 4), "covered": frac >= min_coverage,
            "covered_geometry": shapely.geometry.mapping(frame.geom_to_latlon(covered)) if not covered.is_empty
            else None}


def task_outcome(seen: bool, cov: dict[str, Any]) -> str:
    """``seen``; ``not_seen`` only where the area was covered; else ``not_observed`` (partly covered or not)."""
    if seen:
        return "seen"
    return "not_seen" if cov["covered"] else "not_observed"


def footprint_of(obs: Any) -> Any:
    """An observation's footprint polygon, else its 95 % ellipse as a polygon (lon/lat)."""
    loc = obs.location
    if loc.footprint:
        return _geom(loc.footprint, "footprint")
    return ellipse_polygon(loc.lat, loc.lon, loc.err_major_m, loc.err_minor_m, loc.err_angle_deg)


# ------------------------------------------------------------ holding sites
def inspect_inventory(declared: Sequence[dict[str, Any]], found: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Compare an inspection with the declared inventory.

    Items are ``{class, count, serials}``.  Serials are compared one by one;
    classes without serials by count.  Returns present/missing/new serials and
    per-class count differences (``missing_count`` > 0 is a finding)."""
    dec_serials = {str(s): it["class"] for it in declared for s in it.get("serials") or []}
    got_serials = {str(s): it["class"] for it in found for s in it.get("serials") or []}
    dec_count: dict[str, int] = {}
    got_count: dict[str, int] = {}
    for it in declared:
        dec_count[it["class"]] = dec_count.get(it["class"], 0) + int(it.get("count") or len(it.get("serials") or []))
    for it in found:
        got_count[it["class"]] = got_count.get(it["class"], 0) + int(it.get("count") or len(it.get("serials") or []))
    classes = sorted(set(dec_count) | set(got_count))
    per_class = [{"class": k, "declared": dec_count.get(k, 0), "found": got_count.get(k, 0),
                  "missing_count": max(dec_count.get(k, 0) - got_count.get(k, 0), 0),
                  "new_count": max(got_count.get(k, 0) - dec_count.get(k, 0), 0)} for k in classes]
    return {"present": sorted(set(dec_serials) & set(got_serials)),
            "missing": sorted(set(dec_serials) - set(got_serials)),
            "new": sorted(set(got_serials) - set(dec_serials)),
            "missing_by_class": {s: dec_serials[s] for s in sorted(set(dec_serials) - set(got_serials))},
            "classes": per_class}


def outside_site(site_lat: float, site_lon: float, radius_m: float, lat: float, lon: float,
                 err_m: float = 0.0) -> tuple[bool, float]:
    """Whether a sighting lies outside the site beyond its own uncertainty; and its distance (m)."""
    d = float(haversine_m(site_lat, site_lon, lat, lon))
    return d - err_m > radius_m, d


# -------------------------------------------------------------- sensor health
def outages(sensor: np.ndarray, t: np.ndarray, t_end: float, min_gap_s: float) -> list[tuple[str, float, float]]:
    """Gaps longer than ``min_gap_s`` in each sensor's heartbeats (vectorized per feed).

    The last heartbeat to ``t_end`` counts as an open gap.  Returns (sensor, start, end)."""
    if len(t) == 0:
        return []
    sensor = np.asarray(sensor).astype(str)
    t = np.asarray(t, float)
    order = np.lexsort((t, sensor))
    s, tt = sensor[order], t[order]
    nxt_same = np.r_[s[1:] == s[:-1], False]
    nxt_t = np.r_[tt[1:], np.nan]
    end = np.where(nxt_same, nxt_t, t_end)
    gap = end - tt
    idx = np.flatnonzero(gap > min_gap_s)
    return [(str(s[i]), float(tt[i]), float(end[i])) for i in idx]


def outage_cause(lat: float, lon: float, start: float, end: float, interference: Sequence[tuple[float, float, float]],
                 neighbours_down: int, radius_km: float) -> tuple[str, str]:
    """("suspected interference" | "unknown", why) for an unexplained outage.

    Suspected when interference (GNSS jamming, shots at cameras or drones) was
    observed within ``radius_km`` during the outage, or when two or more other
    sensors nearby went down at the same time."""
    if interference:
        arr = np.asarray(interference, float)
        tt, la, lo = arr[:, 0], arr[:, 1], arr[:, 2]
        near = (haversine_m(lat, lon, la, lo) <= radius_km * 1000) & (tt >= start - 600) & (tt <= end + 600)
        if near.any():
            return "suspected interference", f"{int(near.sum())} interference observation(s) within {radius_km:g} km"
    if neighbours_down >= 2:
        return "suspected interference", f"{neighbours_down} other sensors within {radius_km:g} km down at the same time"
    return "unknown", "no interference observed nearby and no neighbouring outage"


def line_distance_km(agreement: Any, lat: float, lon: float) -> float:
    """Distance of a point from the agreement's contact line (km)."""
    e, n = agreement.frame.to_en(lat, lon)
    return float(shapely.distance(agreement.line_en, Point(float(e), float(n)))) / 1000.0


# ----------------------------------------------------------- pre-notifications
def in_window(pn: dict[str, Any], t: float, lat: float, lon: float) -> bool:
    """Whether (t, lat, lon) falls inside an accepted pre-notification's window and area."""
    if pn.get("state") != "accepted" or not (pn["t_from"] <= t <= pn["t_to"]):
        return False
    geom = _geom(pn["area"], "area")
    return bool(geom.covers(Point(lon, lat)))


def finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


# ------------------------------------------------------- unobserved line segments
def line_segments(agreement: Any, seg_km: float) -> list[Any]:
    """The contact line cut into pieces of about ``seg_km`` (in the agreement's metric frame)."""
    geom = agreement.line_en
    lines = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out = []
    step = seg_km * 1000.0
    for ln in lines:
        n = max(int(np.ceil(ln.length / step)), 1)
        d = ln.length / n
        out += [substring(ln, i * d, (i + 1) * d) for i in range(n)]
    return out


def observed_fraction(segments: Sequence[Any], covered_en: Any) -> np.ndarray:
    """Share of each segment's length inside ``covered_en`` (vectorized over the segments)."""
    segs = np.asarray(segments, dtype=object)
    if covered_en is None or covered_en.is_empty or len(segs) == 0:
        return np.zeros(len(segs))
    shapely.prepare(covered_en)
    inside = shapely.intersection(segs, covered_en)
    total = shapely.length(segs)
    return np.where(total > 0, shapely.length(inside) / np.maximum(total, 1e-9), 0.0)
