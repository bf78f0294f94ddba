"""Air and sea map layers of the dashboard: GeoJSON built from what the air and sea stages stored.

Two views, chosen by role in app.py:

- **full** (administrators, analysts): air tracks as lines (thinned), their first
  points (origins) and the launch areas named in air-defence summaries with
  launched/intercepted counts per weapon type; vessel incidents as points and AIS
  gaps as lines from last seen to seen again (``sources.sea.report.map_layer``).
- **published** (liaisons, public): only what is older than ``public_delay_s``
  (the rule the public view of findings follows) and aggregated: launch areas
  with counts (the summaries are public posts; the areas are table positions,
  not radar fixes), tracks counted by class, incidents counted per zone at the
  zone's point or per 0.5° cell. No track, no origin, no exact vessel position.

Counts in ``summary`` are over the whole window (an SQL aggregate for tracks;
incidents are read whole, up to ``MAX_AGGREGATED``), so they stay right when
``limit`` cuts the features; ``truncated`` says when it did.
Records that cannot be drawn are listed in ``problems`` (record, field,
message), never dropped silently, never a server error.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from trucewatch.geo import lonlat
from trucewatch.model import ObservationKind, Rule, from_unix
from trucewatch.sources.air.report import air_section
from trucewatch.sources.sea.report import NOTE, sea_section, track_line
from trucewatch.store import Store
from trucewatch.store import layers as SL

#: Cell size of the published (aggregated) sea view, degrees (about 55 km north-south).
GRID_DEG = 0.5
#: All track vertices of one answer together; tracks are thinned to stay under it.
MAX_COORDS = 200_000
#: Air-defence summaries read per answer (one per weapon type and night: a handful a day).
MAX_SUMMARIES = 5_000
#: Incidents aggregated per answer in the published view.
MAX_AGGREGATED = 100_000


@dataclass
class Window:
    t_from: float | None = None
    t_to: float | None = None
    bbox: tuple[float, float, float, float] | None = None
    limit: int = 500
    max_points: int = 100


def _query(store: Store, kind: ObservationKind, w: Window, limit: int) -> tuple[list[Any], bool]:
    """Observations of ``kind`` in the window, newest first, at most ``limit`` (and whether more exist)."""
    return SL.newest_of_kind(store, kind, w.t_from, w.t_to, w.bbox, limit)


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _lonlat(v: Any) -> list[float] | None:
    """[lon, lat] rounded to 5 decimals from a stored pair, or None (``geo.lonlat``)."""
    p = lonlat(v)
    return None if p is None else [round(p[0], 5), round(p[1], 5)]


def _problem(o: Any, fld: str, msg: str) -> dict[str, str]:
    return {"record": str(o.id), "field": fld, "message": msg}


def _fc(features: list[dict[str, Any]], **props: Any) -> dict[str, Any]:
    # Foreign members next to "features" are allowed by RFC 7946 (section 6.1).
    return {"type": "FeatureCollection", "features": features, **props}


def _window_props(w: Window, view: str) -> dict[str, Any]:
    return {"view": view, "from": from_unix(w.t_from).isoformat() if w.t_from is not None else None,
            "to": from_unix(w.t_to).isoformat() if w.t_to is not None else None, "limit": w.limit}


# ---------------------------------------------------------------------- air
def _track_counts(store: Store, w: Window) -> dict[str, dict[str, int]]:
    """Tracks per class, and how many were intercepted, over the whole window (SQL aggregate;
    rows whose attributes SQLite's JSON functions refuse are counted here from their text)."""
    groups, odd = SL.track_classes(store, w.t_from, w.t_to, w.bbox, MAX_AGGREGATED)
    rows: list[tuple[Any, Any, int]] = []
    for text in odd:
        a = _loads(text)
        rows.append((a.get("classification"), a.get("intercepted"), 1))
    rows += groups
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"tracks": 0, "intercepted": 0})
    for k, i, n in rows:
        e = out[str(k or "unknown")]
        e["tracks"] += int(n)
        e["intercepted"] += int(n) if str(i).lower() in ("1", "true") else 0
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["tracks"]))


def _loads(text: Any) -> dict[str, Any]:
    try:
        v = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return {}
    return v if isinstance(v, dict) else {}


def _check_summary(a: dict[str, Any]) -> tuple[str, str] | None:
    """(field, message) of the first value air_section could not count, or None."""
    for f in ("launched", "intercepted"):
        if a.get(f) is not None and _num(a.get(f)) is None:
            return f, "not a number"
    if a.get("weapon_type") is not None and not isinstance(a.get("weapon_type"), str):
        return "weapon_type", "not a string"
    areas = a.get("launch_areas") or []
    if not isinstance(areas, list):
        return "launch_areas", "not a list"
    for i, ar in enumerate(areas):
        if not isinstance(ar, dict):
            return f"launch_areas[{i}]", "not an object"
        if not all(isinstance(ar.get(k), (str, type(None))) for k in ("id", "name")):
            return f"launch_areas[{i}].name", "id and name must be strings"
        if (ar.get("lat") is None) != (ar.get("lon") is None) or (
                ar.get("lat") is not None and _lonlat([ar.get("lon"), ar.get("lat")]) is None):
            return f"launch_areas[{i}].lat", "lat/lon not a position on the globe"
    return None


def _launch_areas(sums: list[Any], agreement: Any, problems: list[dict[str, str]]) -> tuple[list[dict[str, Any]],
                                                                                           dict[str, Any]]:
    """Launch-area points with launched/intercepted per weapon type, and the air section's totals.

    A summary item naming several areas counts fully in each (the Air Force does
    not split its numbers by area), so per-area numbers are "launched in
    summaries naming this area", as in the daily report."""
    good = []
    for o in sums:
        a = o.attributes
        bad = _check_summary(a)
        if bad:
            problems.append(_problem(o, f"attributes.{bad[0]}", bad[1] + "; the summary is not counted"))
            continue
        good.append(o)
    sec = air_section(good, agreement)
    per: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: {"launched": 0,
                                                                                         "intercepted": 0}))
    for o in good:
        a = o.attributes
        for ar in a.get("launch_areas") or []:
            if not isinstance(ar, dict):
                continue
            # by name: that is what air_section's by_area entries carry
            e = per[str(ar.get("name"))][str(a.get("weapon_type") or "unknown")]
            e["launched"] += int(_num(a.get("launched")) or 0)
            e["intercepted"] += int(_num(a.get("intercepted")) or 0)
    feats = []
    for ar in sec["by_area"]:
        by_type = per.get(str(ar.get("name")), {})
        lon, lat = _num(ar.get("lon")), _num(ar.get("lat"))
        props = {"layer": "launch_area", "name": ar.get("name"), "mentions": ar.get("mentions"),
                 "side": ar.get("side"), "launches_forbidden": ar.get("launches_forbidden"),
                 "by_type": {k: dict(v) for k, v in by_type.items()},
                 "launched": sum(v["launched"] for v in by_type.values()),
                 "intercepted": sum(v["intercepted"] for v in by_type.values())}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "Point", "coordinates": [round(lon, 4), round(lat, 4)]}
                      if lon is not None and lat is not None else None})
    return feats, sec


def _tracks(tracks: list[Any], agreement: Any, max_points: int, problems: list[dict[str, str]]
            ) -> list[dict[str, Any]]:
    """A LineString per track (thinned evenly, first and last vertex kept) and a Point per origin."""
    budget = max(2, min(max_points, MAX_COORDS // max(len(tracks), 1)))
    lines: list[dict[str, Any]] = []
    origins: list[tuple[float, float, float | None, dict[str, Any]]] = []
    for o in tracks:
        a = o.attributes
        path = a.get("path")
        coords: list[list[float]] = []
        if isinstance(path, list):
            coords = [c for c in (_lonlat(p) for p in path) if c is not None]
            if len(coords) < len(path):
                problems.append(_problem(o, "attributes.path", f"{len(path) - len(coords)} of {len(path)} vertices "
                                         "are not [lon, lat, t] on the globe; drawn without them"))
        elif path is not None:
            problems.append(_problem(o, "attributes.path", "not a list of [lon, lat, t]; drawn as its last point"))
        if not coords:
            coords = [[round(o.location.lon, 5), round(o.location.lat, 5)]]
        if len(coords) > budget:
            idx = np.unique(np.linspace(0, len(coords) - 1, budget).astype(int))
            coords = [coords[i] for i in idx.tolist()]
        org = a.get("origin") if isinstance(a.get("origin"), dict) else {}
        olon, olat = _num(org.get("lon")), _num(org.get("lat"))
        if olon is None or olat is None or not (-180 <= olon <= 180 and -90 <= olat <= 90):
            olon, olat = coords[0]
        props = {"layer": "track", "id": o.id, "track_id": str(a.get("track_id", o.id)),
                 "classification": str(a.get("classification") or "unknown"),
                 "intercepted": bool(a.get("intercepted", False)), "start": a.get("start"),
                 "end": o.time.isoformat(), "n_points": a.get("n_points"), "source_id": o.source_id}
        lines.append({"type": "Feature", "properties": props,
                      "geometry": {"type": "LineString", "coordinates": coords} if len(coords) >= 2
                      else {"type": "Point", "coordinates": coords[0]}})
        origins.append((olon, olat, _num(org.get("err_m")), props))
    if origins and agreement is not None:
        sides = agreement.side_of(np.array([x[1] for x in origins]), np.array([x[0] for x in origins]))
        forbidden = bool(agreement.rules_of(Rule.LAUNCH_FROM_TERRITORY))
    else:
        sides, forbidden = [""] * len(origins), False
    out = []
    for line, (olon, olat, err, props), side in zip(lines, origins, sides, strict=True):
        line["properties"]["origin_side"] = str(side) or None
        out.append(line)
        out.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(olon, 5), round(olat, 5)]},
                    "properties": {"layer": "origin", "track_id": props["track_id"],
                                   "classification": props["classification"], "err_m": err,
                                   "side": str(side) or None, "launch_forbidden": forbidden and bool(side)}})
    return out


def air_layer(store: Store, agreement: Any, w: Window, full: bool) -> dict[str, Any]:
    """The air layer in the full or the published view (see the module docstring)."""
    problems: list[dict[str, str]] = []
    sums, sums_cut = _query(store, ObservationKind.AIR_SUMMARY, w, MAX_SUMMARIES)
    feats, sec = _launch_areas(sums, agreement, problems)
    truncated = sums_cut
    if full:
        tracks, cut = _query(store, ObservationKind.AIR_TRACK, w, w.limit)
        feats += _tracks(tracks, agreement, w.max_points, problems)
        truncated |= cut
    summary = {"summaries": sec["summaries"], "by_type": sec["by_type"],
               "inconsistent_summaries": len(sec["inconsistent_summaries"]),
               "tracks_by_class": _track_counts(store, w), "agreement": sec["agreement"]}
    return _fc(feats, properties=_window_props(w, "full" if full else "published") | {"truncated": truncated},
               summary=summary, problems=problems)


# ---------------------------------------------------------------------- sea
def _check_incident(o: Any) -> str | None:
    """The field that keeps an incident off the map, or None."""
    a = o.attributes
    try:
        int(a.get("mmsi", 0))
    except (TypeError, ValueError):
        return "attributes.mmsi"
    for f in ("last_seen", "seen_again"):
        if a.get(f) is not None and _lonlat(a.get(f)) is None:
            return f"attributes.{f}"
    return None


def sea_layer(store: Store, agreement: Any, w: Window, full: bool) -> dict[str, Any]:
    """The sea layer in the full or the published view (see the module docstring)."""
    problems: list[dict[str, str]] = []
    if not full:
        return _sea_published(store, agreement, w)
    inc, truncated = _query(store, ObservationKind.VESSEL_INCIDENT, w, w.limit)
    good = []
    for o in inc:
        bad = _check_incident(o)
        if bad:
            problems.append(_problem(o, bad, "not a valid value; the incident is left off the map"))
            continue
        good.append(o)
        if "track" in o.attributes and track_line(o.attributes["track"]) is None:
            problems.append(_problem(o, "attributes.track", "not a list of positions; the track is left off, "
                                     "the incident stays"))
    sec = sea_section(good)
    feats = sec["map"]["features"]
    # map_layer writes one incident point per observation, in order: add what the tooltips need
    points = [f for f in feats if f["properties"].get("layer") == "incident"]
    for f, o in zip(points, good, strict=True):
        a = o.attributes
        f["properties"].update({"id": o.id, "name": a.get("name"), "vessel_type": a.get("vessel_type"),
                                "flag": a.get("flag"), "spoof_mode": a.get("spoof_mode"),
                                "gap_s": _num(a.get("gap_s")), "open": a.get("open"), "source_id": o.source_id})
    for f in feats:
        if f["properties"].get("layer") == "gap":
            f["geometry"]["coordinates"] = [_lonlat(c) for c in f["geometry"]["coordinates"]]
    rows, cut = _incident_rows(store, w)
    summary = {"incidents": len(rows), "per_zone": _per_zone(rows), "note": sec["note"]}
    return _fc(feats, properties=_window_props(w, "full") | {"truncated": truncated or cut}, summary=summary,
               problems=problems)


def _incident_rows(store: Store, w: Window) -> tuple[list[tuple[float, float, dict[str, Any]]], bool]:
    """(lat, lon, attributes) of every incident in the window, up to ``MAX_AGGREGATED``.
    Incident attributes are small; they are parsed here, not with SQL JSON functions."""
    rows = SL.incident_positions(store, w.t_from, w.t_to, w.bbox, MAX_AGGREGATED + 1)
    return [(la, lo, _loads(t)) for la, lo, t in rows[:MAX_AGGREGATED]], len(rows) > MAX_AGGREGATED


def _per_zone(rows: list[tuple[float, float, dict[str, Any]]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _la, _lo, a in rows:
        out[str(a.get("zone_id") or "(no zone)")][str(a.get("incident") or "other")] += 1
    return {z: dict(c) for z, c in sorted(out.items())}


def _sea_published(store: Store, agreement: Any, w: Window) -> dict[str, Any]:
    """Incidents counted per zone (at the zone's representative point) or, outside any
    zone the agreement draws, per ``GRID_DEG`` cell (at the cell's centre)."""
    rows, truncated = _incident_rows(store, w)
    zones = {z.id: z.geometry for z in getattr(agreement, "zones", [])}
    groups: dict[tuple[str | None, float | None, float | None], dict[str, Any]] = {}
    for lat, lon, a in rows:
        z = a.get("zone_id") if isinstance(a.get("zone_id"), str) else None
        if z and z in zones:
            key: tuple[str | None, float | None, float | None] = (z, None, None)
        else:
            key = (z, (math.floor(lat / GRID_DEG) + 0.5) * GRID_DEG, (math.floor(lon / GRID_DEG) + 0.5) * GRID_DEG)
        g = groups.setdefault(key, {"by_kind": defaultdict(int), "vessels": set()})
        g["by_kind"][str(a.get("incident") or "other")] += 1
        g["vessels"].add(str(a.get("mmsi")))
    feats = []
    for (z, clat, clon), g in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), kv[0][1] or 0, kv[0][2] or 0)):
        if clat is None or clon is None:
            p = zones[z].representative_point()
            coords, where = [round(p.x, 4), round(p.y, 4)], "zone"
        else:
            coords, where = [round(clon, 4), round(clat, 4)], f"cell of {GRID_DEG}°"
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": coords},
                      "properties": {"layer": "incident_count", "zone_id": z, "position": where,
                                     "incidents": sum(g["by_kind"].values()), "by_kind": dict(g["by_kind"]),
                                     "vessels": len(g["vessels"])}})
    summary = {"incidents": len(rows), "per_zone": _per_zone(rows), "note": NOTE}
    return _fc(feats, properties=_window_props(w, "published") | {"truncated": truncated}, summary=summary,
               problems=[])
