"""The drone section of the daily report: coverage, weapons in violation of the
withdrawal lines, storage sites and interference for one reporting period.

``drone_report_section`` returns plain data (for any renderer);
``daily_section`` is the hook trucewatch.report.daily calls with the store:
sightings and interference come from the store's observations of DRONE sources
(falling back to the drone CLI's local state), coverage frames and storage sites
from the local state (trucewatch.sources.drone.state).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

import numpy as np
import shapely

from trucewatch.agreement import Agreement
from trucewatch.model import Observation, ObservationKind, SourceKind, from_unix
from trucewatch.sources.drone.coverage import FrameSet
from trucewatch.sources.drone.sites import SitesError, check_sites, load_sites
from trucewatch.sources.drone.state import DroneState
from trucewatch.sources.drone.weapons import check_weapons
from trucewatch.store import Store


def _ts(x: datetime | float) -> float:
    return x.timestamp() if isinstance(x, datetime) else float(x)


def drone_report_section(framesets: list[FrameSet], observations: list[Observation], agreement: Agreement, t1: datetime | float,
                         t2: datetime | float, sites: list | None = None) -> dict[str, Any]:
    """Coverage, weapons in violation, storage-site status and interference in [t1, t2)."""
    a, b = _ts(t1), _ts(t2)
    obs = [o for o in observations if a <= o.t < b]
    sightings = [o for o in obs if o.kind == ObservationKind.WEAPON_SIGHTING]
    inter = [o for o in obs if o.kind == ObservationKind.INTERFERENCE]
    fsets = [fs for fs in framesets if len(fs) and fs.t[-1] >= a and fs.t[0] < b]
    frames = untrusted = 0
    area = 0.0
    hours = 0.0
    for fs in fsets:
        sel = (fs.t >= a) & (fs.t < b)
        frames += int(sel.sum())
        untrusted += int((sel & ~fs.trusted).sum())
        good = np.flatnonzero(sel & fs.trusted & ~fs.clipped & (fs.gsd <= 1.0))
        if good.size:
            area += shapely.union_all(shapely.make_valid(fs.polygons(good))).area
        if sel.any():
            hours += (fs.t[sel].max() - fs.t[sel].min()) / 3600
    cands = check_weapons(sightings, agreement) if agreement is not None else []
    by_party: dict[str, int] = {}
    for c in cands:
        by_party[c["party"]] = by_party.get(c["party"], 0) + 1
    site_recs = check_sites(sites, fsets, sightings, a, b) if sites else []
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in site_recs:
        k = (r["site_id"], r["class"])
        if k not in latest or (r["visit_to"] or 0) > (latest[k]["visit_to"] or 0):
            latest[k] = r
    inter_rows = [{
        "observation_id": o.id, "flight_id": o.attributes.get("flight_id"), "kind": o.attributes.get("interference"),
        "start": o.attributes.get("start") or from_unix(o.t).isoformat(), "end": o.attributes.get("end"), "duration_s": o.attributes.get("duration_s"),
        "lat": o.location.lat, "lon": o.location.lon, "radius_km": round(o.location.err_major_m / 1000, 1),
    } for o in inter]
    flights_ids = {fs.flight_id for fs in fsets} | {o.attributes.get("flight_id") for o in obs}
    flights_ids.discard(None)
    hit = {r["flight_id"] for r in inter_rows}
    return {
        "period": {"from": from_unix(a).isoformat(), "to": from_unix(b).isoformat()},
        "coverage": {"flights": len(flights_ids), "flight_hours": round(hours, 2), "frames": frames,
                     "untrusted_frames": untrusted, "area_km2_at_1m_or_better": round(area / 1e6, 2)},
        "sightings": len(sightings), "tentative_sightings": sum(bool(o.attributes.get("tentative")) for o in sightings),
        "weapons_in_violation": cands, "weapons_in_violation_by_party": by_party,
        "storage_sites": sorted(latest.values(), key=lambda r: (r["site_id"], r["class"])),
        "interference": inter_rows,
        "flights_with_interference": len(hit),
        "interference_share": round(len(hit) / len(flights_ids), 3) if flights_ids else None,
    }


def render_html(sec: dict[str, Any]) -> str:
    e = html.escape
    cov = sec["coverage"]
    flights = f"{cov['flights']} drone flight{'' if cov['flights'] == 1 else 's'}"
    if cov["frames"]:
        parts = [f"<p>{flights} ({cov['flight_hours']} flight hours, {cov['frames']} frames) covered "
                 f"{cov['area_km2_at_1m_or_better']} km² at 1 m resolution or better; {cov['untrusted_frames']} frames "
                 "were flown on untrustworthy navigation and do not count as coverage. "
                 f"{sec['sightings']} weapon sightings ({sec['tentative_sightings']} tentative).</p>"]
    else:  # sightings arrived without the flights' frame records: say what is missing rather than print zeros
        parts = [f"<p>{sec['sightings']} weapon sightings ({sec['tentative_sightings']} tentative) reported from "
                 f"{flights}. No imagery frames of these flights are recorded for the period, so flight hours "
                 "and the area covered are not known.</p>"]
    if sec["weapons_in_violation"]:
        parts.append("<h3>Weapons inside their withdrawal zones</h3><table><tr><th>Time</th><th>Class</th><th>Party</th>"
                     "<th>Position</th><th>From line</th><th>Zone limit</th><th>Note</th></tr>")
        for c in sec["weapons_in_violation"]:
            parts.append(f"<tr><td>{e(c['time'][:19])}</td><td>{e(c['weapon_class'])}</td><td>{e(c['party'])}</td>"
                         f"<td>{c['lat']:.4f}, {c['lon']:.4f} (±{c['err_m']:.0f} m)</td><td>{c['distance_to_line_km']:.1f} km</td>"
                         f"<td>{c['zone_limit_km']:g} km</td>"
                         f"<td>{'near zone edge' if c['near_boundary'] else ''}</td></tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No heavy weapon was seen inside its withdrawal zone.</p>")
    if sec["storage_sites"]:
        parts.append("<h3>Storage sites</h3><table><tr><th>Site</th><th>Class</th><th>Declared</th><th>Seen</th>"
                     "<th>Status</th><th>Covered</th></tr>")
        for r in sec["storage_sites"]:
            parts.append(f"<tr><td>{e(r['site_name'])} ({e(str(r['party']))})</td><td>{e(r['class'])}</td><td>{r['declared']}</td>"
                         f"<td>{r['seen']}</td><td>{e(r['status'])}</td><td>{100 * r['covered_fraction']:.0f}%</td></tr>")
        parts.append("</table>")
    if sec["interference"]:
        parts.append(f"<h3>GNSS interference</h3><p>{sec['flights_with_interference']} of {cov['flights']} flights were "
                     "affected.</p><table><tr><th>Start</th><th>Kind</th><th>Duration</th><th>Source area</th></tr>")
        for r in sec["interference"]:
            dur = f"{r['duration_s']:.0f} s" if r.get("duration_s") is not None else "–"
            area = (f"within {r['radius_km']:g} km of {r['lat']:.3f}, {r['lon']:.3f}"
                    if None not in (r.get("radius_km"), r.get("lat"), r.get("lon")) else "unknown")
            parts.append(f"<tr><td>{e(str(r['start'])[:19])}</td><td>{e(str(r['kind']))}</td><td>{dur}</td>"
                         f"<td>{area}</td></tr>")
        parts.append("</table>")
    return "\n".join(parts)


def daily_section(store: Store, agreement: Agreement, start: datetime, end: datetime) -> dict[str, Any] | None:
    """Hook for trucewatch.report.daily: None when no drone flew and nothing was reported."""
    state = DroneState()
    a, b = _ts(start), _ts(end)
    obs: list[Observation] = []
    if store is not None:
        drones = {s.id for s in store.list_sources() if s.kind == SourceKind.DRONE}
        if drones:
            obs = [o for o in store.query_observations(t_from=a, t_to=b, kinds=[ObservationKind.WEAPON_SIGHTING.value,
                                                                                ObservationKind.INTERFERENCE.value])
                   if o.source_id in drones]
    fids = state.flights_between(a, b) if state.root.exists() else []
    if not obs:
        for fid in fids:
            obs += state.observations(fid)
    framesets = [state.frames(fid) for fid in fids]
    if not obs and not framesets:
        return None
    sites = None
    if (state.root / "sites.yaml").exists():
        try:
            sites = load_sites(state.root / "sites.yaml")
        except SitesError:
            sites = None
    sec = drone_report_section(framesets, obs, agreement, a, b, sites)
    return {"title": "Drone patrols", "html": render_html(sec), "data": sec}


__all__ = ["daily_section", "drone_report_section", "render_html"]

