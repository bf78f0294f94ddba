"""The sea section of the daily report: vessels and incidents per zone, and a GeoJSON map layer of
tracks, gaps and incidents.  Plain dicts for the report/dashboard stage to render."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from trucewatch.geo import lonlat
from trucewatch.model import Observation, ObservationKind
from trucewatch.sources.sea.tracks import Tracks

NOTE = ("AIS shows only vessels that broadcast: warships often do not, and any vessel can switch off or "
        "falsify its transponder. Absence of AIS is not absence of a ship.")


def sea_section(observations: list[Observation], tracks: Tracks | None = None) -> dict[str, Any]:
    inc = [o for o in observations if o.kind == ObservationKind.VESSEL_INCIDENT]
    per_zone: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    vessels: dict[int, dict[str, Any]] = {}
    for o in inc:
        a = o.attributes
        per_zone[a.get("zone_id") or "(no zone)"][a.get("incident", "other")] += 1
        v = vessels.setdefault(int(a.get("mmsi", 0)), {"mmsi": int(a.get("mmsi", 0)), "name": a.get("name"),
                                                        "vessel_type": a.get("vessel_type"), "flag": a.get("flag"),
                                                        "incidents": []})
        v["incidents"].append({"incident": a.get("incident"), "time": o.time.isoformat(), "zone_id": a.get("zone_id"),
                               "spoof_mode": a.get("spoof_mode")})
    return {
        "incidents": len(inc),
        "per_zone": {z: dict(c) for z, c in sorted(per_zone.items())},
        "vessels_with_incidents": sorted(vessels.values(), key=lambda v: -len(v["incidents"])),
        "vessels_seen": len(tracks) if tracks is not None else None,
        # heard only through static messages (identity, no position): listed, never placed on the map
        "vessels_static_only": [{"mmsi": v.mmsi, "name": v.name, "callsign": v.callsign, "ship_type": v.ship_type,
                                 "vessel_type": v.category, "flag": v.flag} for v in tracks.static_only()]
        if tracks is not None else None,
        "vessel_hours": round(tracks.hours(), 1) if tracks is not None else None,
        "map": map_layer(inc, tracks),
        "note": NOTE,
    }


def map_layer(incidents: list[Observation], tracks: Tracks | None = None, max_points: int = 200) -> dict[str, Any]:
    """GeoJSON: one LineString per vessel track (thinned to ``max_points``), a dashed line per gap
    (last seen to seen again), a point per incident."""
    feats: list[dict[str, Any]] = []
    if tracks is not None:
        p = tracks.pos
        for k, m in enumerate(tracks.mmsis.tolist()):
            i0, i1 = int(tracks.starts[k]), int(tracks.ends[k])
            idx = np.unique(np.linspace(i0, i1 - 1, min(max_points, i1 - i0)).astype(int))
            if idx.size < 2:
                continue
            v = tracks.vessel(m)
            feats.append({"type": "Feature", "properties": {"layer": "track", "mmsi": m, "name": v.name,
                                                            "vessel_type": v.category},
                          "geometry": {"type": "LineString",
                                       "coordinates": np.round(np.column_stack([p.lon[idx], p.lat[idx]]), 5).tolist()}})
    drawn: set[tuple[Any, tuple[float, ...]]] = set()
    for o in incidents:
        a = o.attributes
        line = track_line(a.get("track")) if tracks is None else None
        if line is not None:
            # no full tracks at hand (the dashboard reads the store): the stretch kept with the incident
            key = (a.get("mmsi"), tuple(line[0]))
            if key not in drawn:
                drawn.add(key)
                feats.append({"type": "Feature", "properties": {"layer": "track", "mmsi": a.get("mmsi"),
                                                                "name": a.get("name"),
                                                                "vessel_type": a.get("vessel_type")},
                              "geometry": {"type": "LineString", "coordinates": line}})
        if a.get("incident") == "ais_gap" and a.get("last_seen") and a.get("seen_again"):
            feats.append({"type": "Feature", "properties": {"layer": "gap", "mmsi": a.get("mmsi"), "gap_s": a.get("gap_s")},
                          "geometry": {"type": "LineString", "coordinates": [a["last_seen"], a["seen_again"]]}})
        feats.append({"type": "Feature", "properties": {"layer": "incident", "incident": a.get("incident"),
                                                        "mmsi": a.get("mmsi"), "zone_id": a.get("zone_id"),
                                                        "time": o.time.isoformat(), "err_m": o.location.err_major_m},
                      "geometry": {"type": "Point", "coordinates": [o.location.lon, o.location.lat]}})
    return {"type": "FeatureCollection", "features": feats}


def track_line(trk: Any) -> list[list[float]] | None:
    """[[lon, lat], ...] from an incident's ``track`` attribute, or None when it is not
    a list of at least two finite positions (a stored record is never trusted blindly)."""
    if not isinstance(trk, list) or len(trk) < 2:
        return None
    pts = [lonlat(q) for q in trk]
    return [list(p) for p in pts if p is not None] if all(p is not None for p in pts) else None
