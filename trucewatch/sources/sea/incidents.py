"""Maritime incidents from vessel tracks, judged against an agreement's sea zones.

- ``barred_vessel_in_zone``: a vessel whose category a zone bars (``military``,
  ``any``...) reports a position inside it; one incident per entry.
- ``ais_gap``: a silence far longer than the vessel's own usual reporting
  interval (median of its intervals), starting or ending inside or near a sea
  zone.  The location is the ellipse the vessel could have reached in the gap.
- ``spoofing``: positions on land (deeper than the coastline's resolution),
  jumps faster than any ship, and many vessels jumping to one point.
- ``loitering``: hours spent moving slowly within a small circle near a zone.

Every step is vectorized over the flat (mmsi, t)-sorted columns of
:class:`~trucewatch.sources.sea.tracks.Tracks`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import shapely

from trucewatch.agreement import Agreement
from trucewatch.geo import GEOD, LocalFrame, haversine_m
from trucewatch.model import MAX_ERROR_M, Location, Observation, ObservationKind, Rule, from_unix, sha256_hex
from trucewatch.sources.sea.tracks import ALIASES, Tracks

SEA_ZONE_KINDS = ("corridor", "port_exclusion", "exclusion")
KNOT = 0.514444


@dataclass
class Params:
    """Detector thresholds; the defaults are argued in docs/air_sea.md."""

    near_zone_m: float = 20_000.0  # "inside or near a zone"
    gap_factor: float = 10.0  # gap = this many usual intervals ...
    min_gap_s: float = 1800.0  # ... and at least this long
    max_speed_kn: float = 60.0  # faster than any ship but a hovercraft
    min_jump_m: float = 2_000.0  # ignore GPS noise
    land_margin_m: float = 5_000.0  # coastline resolution of land.geojson (1:50m)
    mass_jump_radius_m: float = 2_000.0
    mass_jump_window_s: float = 3600.0
    mass_jump_vessels: int = 3
    loiter_window_s: float = 2 * 3600.0
    loiter_radius_m: float = 3_000.0
    loiter_min_path_m: float = 3_000.0
    merge_s: float = 6 * 3600.0  # one incident per vessel per mode within this time
    position_err_m: float = 100.0  # 95 % error of a reported AIS position (GNSS + latency)
    track_context_s: float = 6 * 3600.0  # the vessel's own track kept with each incident, either side
    track_points: int = 60  # at most this many points of it (thinned evenly)


@dataclass
class SeaZone:
    id: str
    kind: str
    barred: set[str]
    geometry_en: Any  # shapely, in the agreement's local frame


@dataclass
class Incident:
    incident: str
    mmsi: int
    t: float
    lat: float
    lon: float
    err_major_m: float
    err_minor_m: float
    err_angle_deg: float = 0.0
    zone_id: str | None = None
    time_sigma_s: float = 1.0
    attrs: dict[str, Any] = field(default_factory=dict)


def sea_zones(agreement: Agreement) -> list[SeaZone]:
    """Sea zones of an agreement: zones of sea kinds or with barred vessel types, and
    protected ports as circles when a ``naval_vessel_in_zone`` rule covers ports."""
    out = []
    for z in agreement.zones:
        if z.kind in SEA_ZONE_KINDS or z.barred_vessel_types:
            barred = {ALIASES.get(b, b) for b in z.barred_vessel_types}
            out.append(SeaZone(z.id, z.kind, barred, z.geometry_en))
    if agreement.rules_of(Rule.NAVAL_VESSEL_IN_ZONE):
        # a protected port that no drawn sea zone covers gets its own circle (radius_m) barred to naval vessels
        frame: LocalFrame = agreement.frame
        for p in agreement.protected:
            if p.category != "port":
                continue
            e, n = frame.to_en(p.lat, p.lon)
            if any(shapely.contains_xy(z.geometry_en, float(e), float(n)) for z in out):
                continue
            geom = shapely.Point(float(e), float(n)).buffer(p.radius_m, quad_segs=16)
            shapely.prepare(geom)
            out.append(SeaZone(f"port:{p.id}", "port_exclusion", {"military"}, geom))
    return out


@lru_cache(maxsize=1)
def land_geometry() -> Any:
    """Natural Earth land (trucewatch/data/geo/land.geojson), prepared for point tests."""
    text = resources.files("trucewatch.data.geo").joinpath("land.geojson").read_text(encoding="utf-8")
    obj = json.loads(text)
    geom = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in obj["features"]])
    shapely.prepare(geom)
    boundary = geom.boundary
    shapely.prepare(boundary)
    return geom, boundary


def _episodes(mask: np.ndarray, tracks: Tracks) -> np.ndarray:
    """Rows where a run of True starts within a vessel (entry points)."""
    start = mask.copy()
    start[1:] &= ~mask[:-1] | (tracks.vidx[1:] != tracks.vidx[:-1])
    return np.flatnonzero(start)


def _merge(rows: np.ndarray, tracks: Tracks, t: np.ndarray, window_s: float) -> np.ndarray:
    """Keep the first of rows that fall within ``window_s`` of the kept one before, per vessel."""
    if rows.size == 0:
        return rows
    rows = rows[np.lexsort((t[rows], tracks.vidx[rows]))]
    keep = [0]
    for k in range(1, rows.size):  # rows are few (incidents, not reports)
        r, last = rows[k], rows[keep[-1]]
        if tracks.vidx[r] != tracks.vidx[last] or t[r] - t[last] > window_s:
            keep.append(k)
    return rows[np.asarray(keep)]


def _zone_masks(tracks: Tracks, zones: list[SeaZone], frame: Any, near_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: index of the containing zone (-1), index of the nearest zone within near_m (-1), e/n coords."""
    p = tracks.pos
    e, n = frame.to_en(p.lat, p.lon)
    inside = np.full(len(p), -1, np.int64)
    near = np.full(len(p), -1, np.int64)
    best = np.full(len(p), np.inf)
    pts = None
    for k, z in enumerate(zones):
        c = shapely.contains_xy(z.geometry_en, e, n)
        inside[c & (inside < 0)] = k
        # distance only for points within the zone's bounding box grown by near_m
        x0, y0, x1, y1 = z.geometry_en.bounds
        cand = (e > x0 - near_m) & (e < x1 + near_m) & (n > y0 - near_m) & (n < y1 + near_m)
        if cand.any():
            if pts is None:
                pts = shapely.points(e, n)
            d = np.full(len(p), np.inf)
            d[cand] = shapely.distance(z.geometry_en, pts[cand])
            better = (d <= near_m) & (d < best)
            near[better] = k
            best[better] = d[better]
    return inside, near, np.column_stack([e, n])


def detect_incidents(tracks: Tracks, agreement: Agreement | None = None, params: Params | None = None,
                     end_time: float | None = None) -> list[Incident]:
    """All incidents in the tracks.  Without an agreement only spoofing is judged (no zones)."""
    prm = params or Params()
    p = tracks.pos
    if len(p) == 0:
        return []
    zones = sea_zones(agreement) if agreement is not None else []
    out: list[Incident] = []
    dt = tracks.step_dt()
    dist = tracks.step_dist_m()
    if zones and agreement is not None:
        inside, near, _en = _zone_masks(tracks, zones, agreement.frame, prm.near_zone_m)
        out += _barred(tracks, zones, inside)
        out += _gaps(tracks, zones, inside, near, dt, dist, prm, end_time)
        out += _loiter(tracks, zones, near, dt, dist, prm)
    out += _spoofing(tracks, dt, dist, prm)
    out.sort(key=lambda i: (i.t, i.mmsi, i.incident))
    for inc in out:
        inc.attrs["track"] = _track_context(tracks, inc.mmsi, inc.t, prm)
    return out


def _track_context(tracks: Tracks, mmsi: int, t: float, prm: Params) -> list[list[float]]:
    """The vessel's reported positions within ``track_context_s`` of the incident,
    thinned to ``track_points`` ([lon, lat, unix_t], 5 decimals): what a map of the
    incident needs, so the store keeps evidence of the track without every AIS report."""
    k = int(np.searchsorted(tracks.mmsis, mmsi))
    if k >= len(tracks.mmsis) or tracks.mmsis[k] != mmsi:
        return []
    a, b = int(tracks.starts[k]), int(tracks.ends[k])
    p = tracks.pos
    ts = p.t[a:b]
    lo, hi = a + int(np.searchsorted(ts, t - prm.track_context_s)), a + int(np.searchsorted(ts, t + prm.track_context_s, "right"))
    if hi - lo < 2:
        return []
    idx = np.unique(np.linspace(lo, hi - 1, min(prm.track_points, hi - lo)).round().astype(np.int64))
    return np.column_stack([np.round(p.lon[idx], 5), np.round(p.lat[idx], 5), np.round(p.t[idx], 1)]).tolist()


def _base_attrs(tracks: Tracks, mmsi: int) -> dict[str, Any]:
    v = tracks.vessel(mmsi)
    return {"mmsi": int(mmsi), "vessel_type": v.category, "ship_type_code": v.ship_type, "flag": v.flag,
            "name": v.name, "callsign": v.callsign, "imo": v.imo}


def _barred(tracks: Tracks, zones: list[SeaZone], inside: np.ndarray) -> list[Incident]:
    p = tracks.pos
    cats = np.array([tracks.vessel(m).category for m in tracks.mmsis], dtype=object)[tracks.vidx] if len(p) else np.array([])
    out = []
    for k, z in enumerate(zones):
        if not z.barred:
            continue
        hit = inside == k
        if "any" not in z.barred:
            hit &= np.isin(cats, list(z.barred))
        if not hit.any():
            continue
        for r in _episodes(hit, tracks).tolist():
            # how long it stayed: to the end of this run of in-zone rows
            end = r
            last = tracks.ends[tracks.vidx[r]]
            while end + 1 < last and hit[end + 1]:
                end += 1
            a = _base_attrs(tracks, p.mmsi[r])
            a.update({"incident": "barred_vessel_in_zone", "zone_id": z.id, "zone_kind": z.kind,
                      "barred_vessel_types": sorted(z.barred), "inside_from": from_unix(p.t[r]).isoformat(),
                      "inside_to": from_unix(p.t[end]).isoformat(), "reports_inside": int(end - r + 1),
                      "identity_source": "naval MMSI list" if tracks.vessel(p.mmsi[r]).listed_naval else "AIS static data"})
            out.append(Incident("barred_vessel_in_zone", int(p.mmsi[r]), float(p.t[r]), float(p.lat[r]), float(p.lon[r]),
                                100.0, 100.0, 0.0, z.id, 5.0, a))
    return out


def _gap_ellipse(lat1: float, lon1: float, lat2: float, lon2: float, dist: float, dt: float, speed_ms: float) -> tuple:
    """Where the vessel could have been: the ellipse with the two fixes as foci (Why: a ship at
    speed v in time dt cannot leave it)."""
    az, _, _ = GEOD.inv(lon1, lat1, lon2, lat2)
    a = max(speed_ms * dt / 2.0, dist / 2.0 + 500.0)
    c = dist / 2.0
    b = math.sqrt(max(a * a - c * c, 250_000.0))
    a = min(a, MAX_ERROR_M)
    b = min(b, a)
    if dist > 0:
        mlon, mlat, _ = GEOD.fwd(lon1, lat1, az, dist / 2.0)
    else:
        mlat, mlon = lat1, lon1
    return float(mlat), float(mlon), a, b, float(az % 180.0)


def _gaps(tracks: Tracks, zones: list[SeaZone], inside: np.ndarray, near: np.ndarray, dt: np.ndarray,
          dist: np.ndarray, prm: Params, end_time: float | None) -> list[Incident]:
    p = tracks.pos
    usual = tracks.usual_interval_s()[tracks.vidx]
    thresh = np.maximum(prm.gap_factor * np.nan_to_num(usual, nan=prm.min_gap_s), prm.min_gap_s)
    gap = np.isfinite(dt) & (dt > thresh)
    rows = np.flatnonzero(gap)  # row after the gap; row-1 before it
    zone_of = np.where(inside >= 0, inside, near)
    rel = (zone_of[rows - 1] >= 0) | (zone_of[rows] >= 0)
    rows = rows[rel]
    med_sog = _median_sog(tracks)
    out = []
    for r in rows.tolist():
        q = r - 1
        k = zone_of[q] if zone_of[q] >= 0 else zone_of[r]
        v = max(med_sog[tracks.vidx[r]], 1.0) * KNOT
        lat, lon, a, b, ang = _gap_ellipse(p.lat[q], p.lon[q], p.lat[r], p.lon[r], float(dist[r]), float(dt[r]), v)
        at = _base_attrs(tracks, p.mmsi[r])
        at.update({"incident": "ais_gap", "zone_id": zones[k].id, "gap_s": float(dt[r]),
                   "usual_interval_s": float(usual[r]), "gap_from": from_unix(p.t[q]).isoformat(),
                   "gap_to": from_unix(p.t[r]).isoformat(), "open": False, "inside_zone": bool(inside[q] >= 0 or inside[r] >= 0),
                   "last_seen": [float(p.lon[q]), float(p.lat[q])], "seen_again": [float(p.lon[r]), float(p.lat[r])]})
        out.append(Incident("ais_gap", int(p.mmsi[r]), float(p.t[q]), lat, lon, a, b, ang, zones[k].id, float(dt[r]) / 2, at))
    # still dark at the end of the data, last seen inside a zone
    if end_time is not None:
        last = tracks.ends - 1
        silent = end_time - p.t[last]
        thr = np.maximum(prm.gap_factor * np.nan_to_num(tracks.usual_interval_s(), nan=prm.min_gap_s), prm.min_gap_s)
        for vi in np.flatnonzero((silent > thr) & (inside[last] >= 0)).tolist():
            q = int(last[vi])
            v = max(med_sog[vi], 1.0) * KNOT
            a = min(max(v * silent[vi], 1000.0), MAX_ERROR_M)
            at = _base_attrs(tracks, p.mmsi[q])
            at.update({"incident": "ais_gap", "zone_id": zones[inside[q]].id, "gap_s": float(silent[vi]),
                       "usual_interval_s": float(thr[vi] / prm.gap_factor), "gap_from": from_unix(p.t[q]).isoformat(),
                       "gap_to": None, "open": True, "inside_zone": True, "last_seen": [float(p.lon[q]), float(p.lat[q])]})
            out.append(Incident("ais_gap", int(p.mmsi[q]), float(p.t[q]), float(p.lat[q]), float(p.lon[q]), a, a, 0.0,
                                zones[inside[q]].id, float(silent[vi]) / 2, at))
    return out


def _median_sog(tracks: Tracks) -> np.ndarray:
    sog = np.nan_to_num(tracks.pos.sog, nan=0.0)
    order = np.lexsort((sog, tracks.vidx))
    s = sog[order]
    counts = tracks.ends - tracks.starts
    mid = tracks.starts + (counts - 1) // 2
    return s[mid]


def _spoofing(tracks: Tracks, dt: np.ndarray, dist: np.ndarray, prm: Params) -> list[Incident]:
    p = tracks.pos
    land, coast = land_geometry()
    # 1) on land, deeper than the coastline's resolution
    on_land = shapely.contains_xy(land, p.lon, p.lat)
    if on_land.any():
        idx = np.flatnonzero(on_land)
        d_deg = shapely.distance(coast, shapely.points(p.lon[idx], p.lat[idx]))
        d_m = d_deg * 111_320.0 * np.cos(np.radians(p.lat[idx]))  # a lower bound
        on_land[idx[d_m < prm.land_margin_m]] = False
    # 2) jumps no ship can make
    with np.errstate(divide="ignore", invalid="ignore"):
        speed_kn = np.where(dt > 0, dist / np.maximum(dt, 1e-9) / KNOT, np.inf)
    jump = np.isfinite(dist) & (dist > prm.min_jump_m) & (speed_kn > prm.max_speed_kn)
    # 3) many vessels jumping to one point: among suspect rows, count distinct vessels nearby in time
    suspect = np.flatnonzero(on_land | jump)
    mass = np.zeros(len(p), bool)
    if suspect.size >= prm.mass_jump_vessels:
        sl, so, st, sv = p.lat[suspect], p.lon[suspect], p.t[suspect], tracks.vidx[suspect]
        for c0 in range(0, suspect.size, 2000):  # block the pairwise matrix to bound memory
            c1 = min(c0 + 2000, suspect.size)
            d = haversine_m(sl[c0:c1, None], so[c0:c1, None], sl[None, :], so[None, :])
            close = (d <= prm.mass_jump_radius_m) & (np.abs(st[c0:c1, None] - st[None, :]) <= prm.mass_jump_window_s)
            # distinct vessels per row: count unique vessel ids among close columns
            vmat = np.where(close, sv[None, :], -1)
            vmat.sort(axis=1)
            distinct = (np.diff(vmat, axis=1) != 0) & (vmat[:, 1:] >= 0)
            nd = distinct.sum(axis=1) + (vmat[:, 0] >= 0)
            mass[suspect[c0:c1][nd >= prm.mass_jump_vessels]] = True
    out = []
    for mode, mask in (("mass_jump", mass), ("on_land", on_land & ~mass), ("impossible_speed", jump & ~mass & ~on_land)):
        rows = _merge(np.flatnonzero(mask), tracks, p.t, prm.merge_s)
        for r in rows.tolist():
            at = _base_attrs(tracks, p.mmsi[r])
            at.update({"incident": "spoofing", "spoof_mode": mode, "zone_id": None})
            if np.isfinite(dt[r]):
                at.update({"jump_m": float(dist[r]), "jump_s": float(dt[r]),
                           "implied_speed_kn": float(speed_kn[r]) if np.isfinite(speed_kn[r]) else None,
                           "previous": [float(p.lon[r - 1]), float(p.lat[r - 1])]})
            # The reported point is the false one; the ellipse is around it only as the claim's place.
            out.append(Incident("spoofing", int(p.mmsi[r]), float(p.t[r]), float(p.lat[r]), float(p.lon[r]),
                                prm.position_err_m, prm.position_err_m, 0.0, None, 5.0, at))
    # one incident per vessel and episode even when several modes fired
    out.sort(key=lambda i: (i.mmsi, i.t))
    kept: list[Incident] = []
    for inc in out:
        if kept and kept[-1].mmsi == inc.mmsi and inc.t - kept[-1].t <= prm.merge_s:
            kept[-1].attrs.setdefault("also", []).append(inc.attrs["spoof_mode"])
            continue
        kept.append(inc)
    return kept


def _loiter(tracks: Tracks, zones: list[SeaZone], near: np.ndarray, dt: np.ndarray, dist: np.ndarray, prm: Params) -> list[Incident]:
    p = tracks.pos
    n = len(p)
    # key that orders rows by vessel then time, so searchsorted stays within a vessel
    span = float(p.t.max() - p.t.min()) + prm.loiter_window_s + 1.0
    key = tracks.vidx * span + (p.t - p.t.min())
    j = np.searchsorted(key, key + prm.loiter_window_s)
    ok = j < tracks.ends[tracks.vidx]
    j = np.minimum(j, n - 1)
    ok &= (j - np.arange(n)) >= 5
    # path length without steps no ship can make (spoofed jumps would inflate it)
    step = np.nan_to_num(dist)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.where(step > np.maximum(dt, 1.0) * prm.max_speed_kn * KNOT, 0.0, step)
    csum = np.concatenate([[0.0], np.cumsum(step)])
    path = csum[j + 1] - csum[np.arange(n) + 1]
    ok &= path >= prm.loiter_min_path_m
    # mostly moored or at anchor in the window: waiting, not loitering
    still = np.concatenate([[0], np.cumsum(np.isin(p.nav_status, (1, 5)))])
    ok &= (still[j + 1] - still[np.arange(n)]) <= 0.2 * (j - np.arange(n) + 1)
    # stays within the circle: check nine evenly spaced rows of the window
    i = np.arange(n)
    far = np.zeros(n, bool)
    for f in np.linspace(0.0, 1.0, 9)[1:]:
        k = np.minimum(i + np.round(f * (j - i)).astype(np.int64), n - 1)
        far |= haversine_m(p.lat, p.lon, p.lat[k], p.lon[k]) > prm.loiter_radius_m
    anchored = np.isin(p.nav_status, (1, 5))
    hit = ok & ~far & ~anchored & (near >= 0)
    out = []
    for r in _merge(np.flatnonzero(hit), tracks, p.t, prm.merge_s).tolist():
        at = _base_attrs(tracks, p.mmsi[r])
        at.update({"incident": "loitering", "zone_id": zones[near[r]].id, "window_s": prm.loiter_window_s,
                   "radius_m": prm.loiter_radius_m, "path_m": float(path[r])})
        out.append(Incident("loitering", int(p.mmsi[r]), float(p.t[r]), float(p.lat[r]), float(p.lon[r]),
                            prm.loiter_radius_m, prm.loiter_radius_m, 0.0, zones[near[r]].id,
                            prm.loiter_window_s / 2, at))
    return out


def incident_observations(incidents: list[Incident], source_id: str) -> list[Observation]:
    """VESSEL_INCIDENT observations; ids are a hash of source, kind, vessel and time (idempotent)."""
    obs = []
    for inc in incidents:
        key = f"{source_id}|{inc.incident}|{inc.mmsi}|{inc.t:.3f}|{inc.zone_id}"
        attrs = dict(inc.attrs)
        attrs.setdefault("zone_id", inc.zone_id)
        obs.append(Observation(
            id=f"ais-{sha256_hex(key.encode())[:24]}", source_id=source_id, kind=ObservationKind.VESSEL_INCIDENT,
            time=from_unix(inc.t), time_sigma_s=max(inc.time_sigma_s, 0.0),
            location=Location(lat=inc.lat, lon=inc.lon, err_major_m=max(inc.err_major_m, 1.0),
                              err_minor_m=max(inc.err_minor_m, 1.0), err_angle_deg=inc.err_angle_deg),
            attributes=attrs, payload_hash=sha256_hex(json.dumps(attrs, sort_keys=True, default=str).encode()),
        ))
    return obs
