"""Air tracks judged against an agreement: candidate findings for fusion/adjudication.

Three rule kinds apply to tracks:
- ``launch_from_territory``: the track's origin lies in a party's area (the
  whole origin error circle must lie there, else the party is undetermined);
- ``flight_across_line``: the track passes from one party's area into the
  other's (over sea, points belong to no one and are skipped);
- ``strike_on_protected_object``: the track ends within a protected object's
  radius plus the end point's error, for objects of the rule's categories.
  Intercepted tracks still count (an attack was made), flagged ``intercepted``.

``applies_to`` on launch/flight rules restricts track classes
(e.g. ``[shahed, cruise_missile]``); on strike rules it lists object categories.
The fusion engineer calls :func:`track_findings` with AIR_TRACK observations
or :class:`~trucewatch.sources.air.tracks.AirTrack` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from trucewatch.agreement import Agreement
from trucewatch.geo import EARTH_RADIUS_M, LocalFrame
from trucewatch.model import UNDETERMINED, Observation, Rule, from_unix
from trucewatch.sources.air.tracks import AirTrack, tracks_from_observations

#: Classes a launch/flight rule covers when it gives no ``applies_to``.
STRIKE_CLASSES = {"shahed", "decoy", "cruise_missile", "ballistic_missile", "glide_bomb", "unknown"}
FLIGHT_CLASSES = STRIKE_CLASSES | {"aircraft", "helicopter"}


@dataclass
class TrackFinding:
    """A candidate violation from one track (not yet adjudicated)."""

    rule_id: str
    rule: Rule
    track_id: str
    party: str
    time: datetime
    lat: float
    lon: float
    err_m: float
    explanation: str
    observation_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


def _parties_of_circles(agreement: Agreement, lat: np.ndarray, lon: np.ndarray, err_m: np.ndarray) -> np.ndarray:
    """Per point: the party whose area holds its whole error circle; undetermined when the circle
    straddles areas; '' when the centre is in no party's area.  One side_of call for all."""
    ang = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    dlat = np.degrees(err_m[:, None] * np.cos(ang)[None, :] / EARTH_RADIUS_M)
    dlon = np.degrees(err_m[:, None] * np.sin(ang)[None, :] / (EARTH_RADIUS_M * np.cos(np.radians(lat))[:, None]))
    la = np.column_stack([lat, lat[:, None] + dlat])
    lo = np.column_stack([lon, lon[:, None] + dlon])
    sides = agreement.side_of(la.ravel(), lo.ravel()).reshape(la.shape).astype(str)
    centre = sides[:, 0]
    same = np.all(sides == centre[:, None], axis=1)
    return np.where(centre == "", "", np.where(same, centre, UNDETERMINED)).astype(object)


#: How far back along its first heading a track first seen over sea is followed to find land.
BACK_EXTRAPOLATE_M = 45_000.0


def _back_extrapolated(agreement: Agreement, tracks: list[AirTrack], origins: np.ndarray) -> dict[int, tuple[str, float, float, float]]:
    """Tracks first seen over no party's area (sea): radar picks a track up some way after launch,
    so follow the first heading backwards; the first party area met is the likely launch side.
    Returns index -> (party, lat, lon, distance back in m)."""
    idx = [i for i, o in enumerate(origins) if o == "" and len(tracks[i].t) >= 2]
    if not idx:
        return {}
    steps = np.arange(5_000.0, BACK_EXTRAPOLATE_M + 1, 5_000.0)
    las, los = [], []
    for i in idx:
        tr = tracks[i]
        k = min(len(tr.t) - 1, 5)  # heading over the first few points (noise)
        fr = LocalFrame(float(tr.lat[0]), float(tr.lon[0]))
        e, n = fr.to_en(tr.lat[k], tr.lon[k])
        norm = float(np.hypot(e, n)) or 1.0
        la, lo = fr.to_latlon(-float(e) / norm * steps, -float(n) / norm * steps)
        las.append(la)
        los.append(lo)
    sides = agreement.side_of(np.concatenate(las), np.concatenate(los)).astype(str).reshape(len(idx), len(steps))
    out = {}
    for row, i in enumerate(idx):
        hit = np.flatnonzero(sides[row] != "")
        if hit.size:
            j = int(hit[0])
            out[i] = (str(sides[row, j]), float(las[row][j]), float(los[row][j]), float(steps[j]))
    return out


def track_findings(tracks: Sequence[AirTrack] | Sequence[Observation], agreement: Agreement) -> list[TrackFinding]:
    """All candidate findings for the agreement's launch, flight and strike rules."""
    obs = [t for t in tracks if isinstance(t, Observation)]
    trs = tracks_from_observations(obs) if obs else [t for t in tracks if isinstance(t, AirTrack)]
    launch_rules = agreement.rules_of(Rule.LAUNCH_FROM_TERRITORY)
    flight_rules = agreement.rules_of(Rule.FLIGHT_ACROSS_LINE)
    strike_rules = agreement.rules_of(Rule.STRIKE_ON_PROTECTED_OBJECT)
    out: list[TrackFinding] = []
    tracks = [tr for tr in trs if len(tr.t)]
    if not tracks:
        return out
    # vectorized: every point's side, every origin's circle, in one call each
    lens = np.array([len(tr.t) for tr in tracks])
    offs = np.r_[0, np.cumsum(lens)]
    all_sides = (agreement.side_of(np.concatenate([tr.lat for tr in tracks]), np.concatenate([tr.lon for tr in tracks]))
                 .astype(str) if flight_rules else None)
    origins = _parties_of_circles(agreement, np.array([tr.lat[0] for tr in tracks], float),
                                  np.array([tr.lon[0] for tr in tracks], float),
                                  np.array([tr.err_m[0] for tr in tracks], float))
    back = _back_extrapolated(agreement, tracks, origins) if launch_rules else {}
    for n_tr, tr in enumerate(tracks):
        oid = tr.attributes.get("observation_id")
        origin_party = str(origins[n_tr])
        extrapolated = n_tr in back
        if extrapolated:
            origin_party = back[n_tr][0]
        t0, t1 = from_unix(tr.t[0]), from_unix(tr.t[-1])
        for r in launch_rules:
            classes = set(r.applies_to) or STRIKE_CLASSES
            if tr.classification not in classes or not agreement.active(t0) or not origin_party:
                continue
            la0, lo0, err0 = (back[n_tr][1], back[n_tr][2], back[n_tr][3]) if extrapolated else (
                float(tr.lat[0]), float(tr.lon[0]), float(tr.err_m[0]))
            why = (f", in {origin_party}'s area" if origin_party != UNDETERMINED else ", near a boundary (side undetermined)")
            if extrapolated:
                why = (f"; first seen over no party's area, its heading leads back {err0 / 1000:.0f} km to "
                       f"{origin_party}'s area")
            out.append(TrackFinding(r.id, Rule.LAUNCH_FROM_TERRITORY, tr.track_id, origin_party, t0, la0, lo0, err0,
                                    f"{tr.classification} track {tr.track_id} first seen at {tr.lat[0]:.3f}, "
                                    f"{tr.lon[0]:.3f}" + why,
                                    oid, {"classification": tr.classification, "intercepted": tr.intercepted,
                                          "origin_extrapolated": extrapolated}))
        if all_sides is not None:  # (computed when there are flight rules)
            sides = all_sides[offs[n_tr]:offs[n_tr + 1]]
            owned = np.flatnonzero(sides != "")
            if owned.size >= 2:
                s = sides[owned]
                ch = np.flatnonzero(s[1:] != s[:-1])
                if ch.size:
                    k = int(owned[ch[0] + 1])  # first point on the other side
                    for r in flight_rules:
                        classes = set(r.applies_to) or FLIGHT_CLASSES
                        if tr.classification not in classes or not agreement.active(from_unix(tr.t[k])):
                            continue
                        frm, to = str(s[ch[0]]), str(s[ch[0] + 1])
                        # the crossing is attributed to the side it came from, if the origin agrees
                        party = frm if origin_party in ("", frm) else UNDETERMINED
                        out.append(TrackFinding(r.id, Rule.FLIGHT_ACROSS_LINE, tr.track_id, party, from_unix(tr.t[k]),
                                                float(tr.lat[k]), float(tr.lon[k]), float(tr.err_m[k]),
                                                f"{tr.classification} track {tr.track_id} flew from {frm}'s area into "
                                                f"{to}'s", oid, {"from": frm, "to": to,
                                                                  "classification": tr.classification}))
        for r in strike_rules:
            if tr.classification not in STRIKE_CLASSES or not agreement.active(t1):
                continue
            cats = list(r.applies_to) or None
            j, d = agreement.nearest_protected(tr.lat[-1:], tr.lon[-1:], cats)
            if j[0] < 0:
                continue
            obj = agreement.protected[int(j[0])]
            if d[0] > obj.radius_m + float(tr.err_m[-1]):
                continue
            party = origin_party or UNDETERMINED
            out.append(TrackFinding(r.id, Rule.STRIKE_ON_PROTECTED_OBJECT, tr.track_id, party, t1, float(tr.lat[-1]),
                                    float(tr.lon[-1]), float(tr.err_m[-1]),
                                    f"{tr.classification} track {tr.track_id} ended {d[0] / 1000:.1f} km from "
                                    f"{obj.name} ({obj.category})" + (" (intercepted)" if tr.intercepted else ""),
                                    oid, {"object_id": obj.id, "object": obj.name, "distance_m": float(d[0]),
                                          "intercepted": tr.intercepted, "classification": tr.classification}))
    return out
