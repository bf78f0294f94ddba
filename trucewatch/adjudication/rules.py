"""Rules of the agreement evaluated on events, vectorized over all events.

Attribution principle: a party is named only when the evidence puts the origin
on that party's side *beyond its uncertainty* (the 95 % ellipse does not touch
the contact line) and nothing in the event contradicts it; otherwise the
finding is ``undetermined`` and the explanation says why.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from scipy.special import ndtr
from shapely.geometry import shape

from trucewatch.adjudication.columns import EventColumns
from trucewatch.adjudication.uncertain import p_where, p_within_disc, p_within_disc_ellipse, p_within_distance
from trucewatch.geo import CHI2_95_2D
from trucewatch.model import UNDETERMINED, Location, Rule, Violation, from_unix

#: Default geometry thresholds per rule kind (docs/confidence.md#rules-under-uncertainty).
GEOMETRY_THRESHOLD: dict[str, float] = {
    "strike_on_protected_object": 0.5,
    "fire_across_line": 0.5,
    "heavy_weapon_in_zone": 0.5,
}


@dataclass
class AdjudicationConfig:
    """Thresholds of the rules (docs/fusion.md#adjudication)."""

    #: Events less likely than this are not judged at all.
    min_confidence: float = 0.2
    #: An impact with no known origin this close to the line is fire across the
    #: line by an undetermined party (beyond it, only the other rules apply).
    unknown_origin_max_km: float = 40.0
    #: Kinds of event that are fire near the line.
    fire_kinds: tuple[str, ...] = ("fire", "strike")
    #: Kinds of event that can hit a protected object.
    strike_kinds: tuple[str, ...] = ("fire", "strike", "fire_thermal", "flight")
    #: Air track classes that are military flights.
    military_classes: tuple[str, ...] = ("shahed", "decoy", "cruise_missile", "ballistic_missile", "glide_bomb",
                                         "aircraft", "helicopter", "uav", "drone")
    #: Air track classes that are launches of missiles or long-range drones.
    long_range_classes: tuple[str, ...] = ("shahed", "decoy", "cruise_missile", "ballistic_missile")
    #: Assumed 95 % radius (m) of a track's first point when it carries no origin error.
    track_origin_err_m: float = 5000.0
    #: A finding is raised only when the probability that the event meets the rule's
    #: geometry, given its uncertainty, reaches this (per rule kind; docs/confidence.md).
    #: Below it, an event whose 95 % ellipse reaches the geometry is an unlocated claim.
    geometry_threshold: dict[str, float] = field(default_factory=lambda: dict(GEOMETRY_THRESHOLD))
    #: A party is named only when the origin lies on its side with at least this probability
    #: (and, for fire across the line, the impact on the other side with it too).
    attribution_min_p: float = 0.99

    @classmethod
    def from_yaml(cls, path: str | Path) -> AdjudicationConfig:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        raw = raw.get("adjudication", raw)
        known = {f.name for f in fields(cls)}
        bad = sorted(set(raw) - known)
        if bad:
            raise ValueError(f"{path}: unknown adjudication setting(s) {', '.join(bad)}")
        cfg = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        gt = raw.get("geometry_threshold", {})
        if not isinstance(gt, dict) or any(not isinstance(v, int | float) or not 0.0 < float(v) <= 1.0
                                           for v in gt.values()):
            raise ValueError(f"{path}: geometry_threshold: expected rule kind -> probability in (0, 1]")
        bad = sorted(set(gt) - {r.value for r in Rule})
        if bad:
            raise ValueError(f"{path}: geometry_threshold: unknown rule kind(s) {', '.join(bad)}")
        cfg.geometry_threshold = {**GEOMETRY_THRESHOLD, **{k: float(v) for k, v in gt.items()}}
        if not 0.5 <= float(cfg.attribution_min_p) <= 1.0:
            raise ValueError(f"{path}: attribution_min_p: {cfg.attribution_min_p} is not within [0.5, 1]")
        return cfg

    def threshold(self, rule: Rule) -> float:
        return float(self.geometry_threshold.get(rule.value, GEOMETRY_THRESHOLD.get(rule.value, 0.5)))


@dataclass
class Hit:
    event: int
    rule_id: str
    rule: Rule
    party: str
    confidence: float
    reasons: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    origin: tuple[float, float, float] | None = None  # lat, lon, err (when not the event's)
    location: tuple[float, float, float] | None = None  # lat, lon, err (when not the event's)
    #: probability that the event meets the rule's geometry; below the rule's threshold
    #: the hit is not a finding but an unlocated claim (see evaluate_all)
    p_geometry: float = 1.0
    raised: bool = True


def violation_id(rule_id: str, rule: Rule, event_id: str) -> str:
    return "v-" + hashlib.sha256(f"{rule.value}|{rule_id}|{event_id}".encode()).hexdigest()[:20]


def _fmt(lat: float, lon: float, err: float | None = None) -> str:
    s = f"{abs(lat):.4f}{'N' if lat >= 0 else 'S'} {abs(lon):.4f}{'E' if lon >= 0 else 'W'}"
    return s + (f" (+/-{err:,.0f} m, 95 %)" if err is not None and math.isfinite(err) else "")


_LINE_INDEX: dict[int, tuple[Any, Any]] = {}
_BOUNDARY_INDEX: dict[tuple[int, str], tuple[Any, Any]] = {}
#: Spacing (m) of the points that index a region's boundary (lower bound of the distance).
_BOUNDARY_STEP_M = 200.0


def _line_distance_en(agreement: Any, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Distance to the contact line (m) of local east/north points: a KD-tree over
    the line densified to 50 m, exact (shapely) within 500 m of it."""
    from scipy.spatial import cKDTree

    key = id(agreement)
    cached = _LINE_INDEX.get(key)
    if cached is None or cached[0] is not agreement:
        dense = shapely.get_coordinates(shapely.segmentize(agreement.line_en, 50.0))
        cached = (agreement, cKDTree(dense))
        _LINE_INDEX[key] = cached
    e, n = np.asarray(e, float), np.asarray(n, float)
    d, _ = cached[1].query(np.column_stack([e.ravel(), n.ravel()]))
    near = d < 500.0
    if near.any():
        d[near] = shapely.distance(agreement.line_en, shapely.points(e.ravel()[near], n.ravel()[near]))
    return d.reshape(e.shape)


def _line_distance(agreement: Any, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    e, n = agreement.frame.to_en(lat, lon)
    return _line_distance_en(agreement, e, n)


def _boundary_lower(agreement: Any, name: str, geom_en: Any, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """A lower bound (m) of each point's distance to a region's boundary (KD-tree over the
    boundary densified to _BOUNDARY_STEP_M): cheap, and enough to skip far rows."""
    from scipy.spatial import cKDTree

    key = (id(agreement), name)
    cached = _BOUNDARY_INDEX.get(key)
    if cached is None or cached[0] is not geom_en:
        pts = shapely.get_coordinates(shapely.segmentize(shapely.boundary(geom_en), _BOUNDARY_STEP_M))
        cached = (geom_en, cKDTree(pts) if len(pts) else None)
        _BOUNDARY_INDEX[key] = cached
    if cached[1] is None:
        return np.full(len(e), np.inf)
    d, _ = cached[1].query(np.column_stack([e, n]))
    return np.maximum(d - _BOUNDARY_STEP_M / 2.0, 0.0)


def side_probabilities(agreement: Any, lat: np.ndarray, lon: np.ndarray, major: np.ndarray, minor: np.ndarray,
                       az: np.ndarray) -> dict[str, np.ndarray]:
    """P(the position lies in each party's area) given its 95 % ellipse (mass of the
    ellipse on that side: samples tested with shapely.contains_xy; rows far from
    every boundary take their point estimate)."""
    lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
    e, n = agreement.frame.to_en(lat, lon)
    e, n = np.atleast_1d(e), np.atleast_1d(n)
    major, minor, az = np.atleast_1d(major), np.atleast_1d(minor), np.atleast_1d(az)
    if len(lat) == 0:
        return {p: np.zeros(0) for p in agreement.parties}
    if agreement.areas_en:
        out = {}
        for p, area in agreement.areas_en.items():
            shapely.prepare(area)  # no-op when already prepared; contains_xy is then indexed
            bd = _boundary_lower(agreement, f"area:{p}", area, e, n)
            out[p] = p_where(lambda x, y, a=area: shapely.contains_xy(a, x, y), bd, e, n, major, minor, az)
        for p in agreement.parties:
            out.setdefault(p, np.zeros(len(lat)))
        return out
    d = _line_distance_en(agreement, e, n)
    return {p: p_where(lambda x, y, p=p: agreement._left_right_side(x, y) == p, d, e, n, major, minor, az)
            for p in agreement.parties}


def _best_side(probs: dict[str, np.ndarray], m: int) -> tuple[np.ndarray, np.ndarray]:
    """The most likely party per row and its probability ("" when no party has any mass)."""
    if not probs:
        return np.full(m, "", object), np.zeros(m)
    names = list(probs)
    mat = np.vstack([probs[p] for p in names])
    k = np.argmax(mat, axis=0)
    best = mat[k, np.arange(m)]
    side = np.array(names, dtype=object)[k]
    side[best <= 0.0] = ""
    return side, best


def side_certainty(agreement: Any, lat: np.ndarray, lon: np.ndarray, err: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Side (party or ""), distance to the line (m), and whether the 95 % circle
    of radius ``err`` stays on that side (the point is beyond its uncertainty)."""
    lat, lon, err = np.atleast_1d(lat), np.atleast_1d(lon), np.atleast_1d(err)
    if len(lat) == 0:
        return np.zeros(0, object), np.zeros(0), np.zeros(0, bool)
    side = agreement.side_of(lat, lon)
    dist = _line_distance(agreement, lat, lon)
    sure = (side != "") & (dist > err)
    return side, dist, sure


def p_side(dist: np.ndarray, err: np.ndarray) -> np.ndarray:
    """Probability that a point estimated ``dist`` from a straight line is on that side."""
    sigma = np.maximum(err, 1.0) / CHI2_95_2D
    return ndtr(dist / sigma)


def p_near_line(agreement: Any, lat: np.ndarray, lon: np.ndarray, major: np.ndarray, minor: np.ndarray,
                az: np.ndarray, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
    """P(distance to the contact line <= limit_m) and the estimate's distance.
    Circular errors under 5 km: the line is straight at that scale, so the
    signed distance is N(d, sigma) (closed form); otherwise samples."""
    e, n = agreement.frame.to_en(lat, lon)
    e, n = np.atleast_1d(e), np.atleast_1d(n)
    d = _line_distance_en(agreement, e, n)
    sig = major / CHI2_95_2D
    p = np.zeros(len(d))
    closed = (minor >= 0.98 * major) & (sig <= 5000.0)
    if closed.any():
        sc = np.maximum(sig[closed], 1.0)
        p[closed] = ndtr((limit_m - d[closed]) / sc) - ndtr((-limit_m - d[closed]) / sc)
    rest = np.flatnonzero(~closed)
    if len(rest):
        p[rest] = p_within_distance(lambda x, y: _line_distance_en(agreement, x, y), limit_m, e[rest], n[rest],
                                    major[rest], minor[rest], az[rest])
    return p, d


def _contradictions(cols: EventColumns, agreement: Any, events: np.ndarray) -> dict[int, str]:
    """Events whose located members sit on both sides beyond their uncertainty."""
    out: dict[int, str] = {}
    if len(cols.m_ev) == 0 or len(events) == 0:
        return out
    sel = np.isin(cols.m_ev, events)
    if not sel.any():
        return out
    ev = cols.m_ev[sel]
    side, _, sure = side_certainty(agreement, cols.m_lat[sel], cols.m_lon[sel], cols.m_err[sel])
    launch = cols.m_launch[sel]
    codes = {p: i for i, p in enumerate(agreement.parties)}
    sc = np.array([codes.get(x, -1) for x in side.tolist()], np.int64)
    m = sure & (sc >= 0)
    if not m.any():
        return out
    trip = np.unique(np.column_stack([ev[m], launch[m].astype(np.int64), sc[m]]), axis=0)
    pairs, cnt = np.unique(trip[:, :2], axis=0, return_counts=True)
    for (e, is_launch), c in zip(pairs.tolist(), cnt.tolist(), strict=True):
        if c > 1:
            role = "launches" if is_launch else "impacts"
            sides = sorted(agreement.parties[k] for k in trip[(trip[:, 0] == e) & (trip[:, 1] == is_launch), 2])
            out[int(e)] = (f"contradictory evidence: {role} are located beyond their uncertainty on both "
                           f"sides ({', '.join(sides)})")
    return out


def _unlocated(hit: Hit, threshold: float, what: str) -> Hit:
    """A hit whose geometry is too uncertain: kept for analysts, not a finding."""
    hit.raised = False
    hit.reasons = [f"Unlocated claim, not a finding: the probability that {what} is {hit.p_geometry:.3f}, "
                   f"below the rule's threshold {threshold:g}; the event's location is too uncertain to "
                   "tell.", *hit.reasons]
    return hit


def fire_across_line(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    """Fire across the line: P(origin on one side and impact on the other) when the
    launch is located; P(impact within ``unknown_origin_max_km`` of the line) when not."""
    hits: list[Hit] = []
    idx = cand[np.isin(cols.kind[cand], cfg.fire_kinds) & cols.impact_known[cand]]
    if len(idx) == 0:
        return hits
    thr = cfg.threshold(Rule.FIRE_ACROSS_LINE)
    amin = cfg.attribution_min_p
    imaj, imin, iaz = cols.ellipse(idx)
    contra = _contradictions(cols, agreement, idx)
    with_o = cols.has_origin[idx]
    # side probabilities where a crossing is in question (a located launch); elsewhere the
    # impact's side only names where it is
    iside = agreement.side_of(cols.lat[idx], cols.lon[idx])
    ip = {p: (iside == p).astype(float) for p in agreement.parties}
    op = {p: np.zeros(len(idx)) for p in agreement.parties}
    if with_o.any():
        w = np.flatnonzero(with_o)
        omaj, omin, oaz = cols.ellipse(idx[w], origin=True)
        for p, v in side_probabilities(agreement, cols.olat[idx[w]], cols.olon[idx[w]], omaj, omin, oaz).items():
            op[p][w] = v
        for p, v in side_probabilities(agreement, cols.lat[idx[w]], cols.lon[idx[w]], imaj[w], imin[w], iaz[w]).items():
            ip[p][w] = v
    oside, obest = _best_side(op, len(idx))
    # P(crossing): origin on one side, impact on another (independent errors)
    p_cross = np.zeros(len(idx))
    for a in agreement.parties:
        for b in agreement.parties:
            if a != b:
                p_cross += op[a] * ip[b]
    limit = cfg.unknown_origin_max_km * 1000.0
    p_near = np.zeros(len(idx))
    idist = np.zeros(len(idx))
    no_o = np.flatnonzero(~with_o)
    if len(no_o):
        p_near[no_o], idist[no_o] = p_near_line(agreement, cols.lat[idx[no_o]], cols.lon[idx[no_o]], imaj[no_o],
                                                imin[no_o], iaz[no_o], limit)
    if with_o.any():
        idist[with_o] = _line_distance(agreement, cols.lat[idx[with_o]], cols.lon[idx[with_o]])
    is_contra = np.array([int(e) in contra for e in idx], bool)
    # an explosion alone (launch or impact unknown, perhaps a demolition) is no evidence of fire across
    # nor are reports of a fire or damage that claim no attack (a warehouse burning)
    no_fire = cols.explosion_only[idx] | (cols.effect_only[idx] if len(cols.effect_only) else False)
    # nor is a fire seen from space that the reports call a fire, not an attack (a field burning)
    no_fire = no_fire | (cols.heat_effect_only[idx] if len(cols.heat_effect_only) else False)
    across = with_o & (oside != "") & (iside != "") & (oside != iside)
    # the old point-estimate trigger or a crossing likely enough: judged; the rest never was a claim
    reach_near = ~with_o & (idist - imaj <= limit) & (iside != "") & ~no_fire
    maybe = across | is_contra | (with_o & (p_cross >= thr)) | reach_near
    for k in np.flatnonzero(maybe).tolist():
        e = int(idx[k])
        reasons: list[str] = []
        conf = float(cols.conf[e])
        impact_txt = (f"impact at {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}, "
                      f"{idist[k] / 1000:.1f} km from the line on {iside[k] or 'no party'}'s side")
        if e in contra and not (with_o[k] and p_cross[k] >= thr):
            reasons.append(f"Possible fire across the contact line: {impact_txt}.")
            reasons.append(f"Party undetermined: {contra[e]}.")
            hits.append(Hit(e, rule.id, Rule.FIRE_ACROSS_LINE, UNDETERMINED, conf * 0.5, reasons,
                            {"impact_side": str(iside[k]), "contradictory": True}))
        elif with_o[k]:
            origin_txt = (f"launch at {_fmt(cols.olat[e], cols.olon[e], cols.oerr[e])} on "
                          f"{oside[k] or 'no party'}'s side")
            p = float(p_cross[k])
            reasons += [f"Fire across the contact line: {origin_txt}; {impact_txt}; probability that it crossed "
                        f"the line {p:.3f}."]
            party = str(oside[k])
            other_p = max((float(ip[b][k]) for b in agreement.parties if b != party), default=0.0)
            if e in contra:
                party = UNDETERMINED
                reasons.append(f"Party undetermined: {contra[e]}.")
            elif obest[k] < amin:
                party = UNDETERMINED
                reasons.append(f"Party undetermined: the launch lies on {oside[k] or 'no party'}'s side with "
                               f"probability {obest[k]:.3f} only (needs {amin:g}): its 95 % ellipse "
                               f"({cols.oerr[e]:,.0f} m) reaches the line or leaves both parties' areas.")
            elif other_p < amin:
                party = UNDETERMINED
                reasons.append(f"Party undetermined: the impact lies across the line with probability "
                               f"{other_p:.3f} only (needs {amin:g}), so the fire may not have crossed it.")
            else:
                reasons.append(f"Attributed to {party}: the launch lies on {party}'s side with probability "
                               f"{obest[k]:.3f}.")
            h = Hit(e, rule.id, Rule.FIRE_ACROSS_LINE, party, conf * p, reasons,
                    {"origin_side": str(oside[k]), "impact_side": str(iside[k]), "p_crossing": round(p, 4),
                     "p_geometry": round(p, 4)}, p_geometry=p)
            hits.append(h if p >= thr else _unlocated(h, thr, "the fire crossed the line"))
        else:
            p = float(p_near[k])
            reasons.append(f"Fire near the contact line with no located launch: {impact_txt}; probability that "
                           f"it lies within {cfg.unknown_origin_max_km:g} km of the line {p:.3f}.")
            party = UNDETERMINED
            if e in contra:
                reasons.append(f"Party undetermined: {contra[e]}.")
            else:
                reasons.append("Party undetermined: no evidence locates where the fire came from.")
            h = Hit(e, rule.id, Rule.FIRE_ACROSS_LINE, party, conf * p, reasons,
                    {"impact_side": str(iside[k]), "origin_known": False, "p_geometry": round(p, 4),
                     "line_distance_m": round(float(idist[k]), 1)}, p_geometry=p)
            hits.append(h if p >= thr else _unlocated(h, thr, f"it lies within {cfg.unknown_origin_max_km:g} km "
                                                              "of the line"))
    return hits


def _origin_parties(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, events: np.ndarray,
                    contra: dict[int, str]) -> dict[int, tuple[str, str]]:
    """(party, reason) per event from its origin, all events at once."""
    out: dict[int, tuple[str, str]] = {}
    have = events[cols.has_origin[events]]
    info: dict[int, tuple[str, float]] = {}
    if len(have):
        maj, mn, az = cols.ellipse(have, origin=True)
        side, best = _best_side(side_probabilities(agreement, cols.olat[have], cols.olon[have], maj, mn, az), len(have))
        info = {int(e): (str(side[k]), float(best[k])) for k, e in enumerate(have.tolist())}
    for e in events.tolist():
        if e not in info:
            out[e] = (UNDETERMINED, "Party undetermined: no evidence locates where the strike came from.")
            continue
        side, p = info[e]
        if e in contra:
            out[e] = (UNDETERMINED, f"Party undetermined: {contra[e]}.")
        elif not side or p < cfg.attribution_min_p:
            out[e] = (UNDETERMINED, f"Party undetermined: the origin lies on {side or 'no party'}'s side with "
                                    f"probability {p:.3f} only (needs {cfg.attribution_min_p:g}): its 95 % "
                                    f"ellipse ({cols.oerr[e]:,.0f} m) reaches the line or leaves both areas.")
        else:
            out[e] = (side, f"Attributed to {side}: the origin {_fmt(cols.olat[e], cols.olon[e], cols.oerr[e])} "
                            f"lies on {side}'s side with probability {p:.3f}.")
    return out


def strike_on_protected(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    """P(impact within the object's protected radius): the event's error ellipse
    integrated over the disc (non-central chi-square when circular)."""
    hits: list[Hit] = []
    idx = cand[np.isin(cols.kind[cand], cfg.strike_kinds) & cols.impact_known[cand]]
    idx = idx[~cols.intercepted[idx]]
    if len(cols.effect_only) == len(cols):
        # reports of a fire or damage (or of nothing) that claim no attack: no evidence of a strike
        idx = idx[~cols.effect_only[idx]]
    if len(idx) == 0 or not agreement.protected:
        return hits
    thr = cfg.threshold(Rule.STRIKE_ON_PROTECTED_OBJECT)
    cats = list(rule.applies_to) or None
    j, d = agreement.nearest_protected(cols.lat[idx], cols.lon[idx], cats)
    ok = j >= 0
    radius = np.array([agreement.protected[x].radius_m if x >= 0 else 0.0 for x in j])
    maj, mn, az = cols.ellipse(idx)
    reach = ok & (d <= radius + maj)  # the 95 % ellipse reaches the object: judged
    if not reach.any():
        return hits
    r_idx = np.flatnonzero(reach)
    objs = j[r_idx]
    plat = np.array([agreement.protected[x].lat for x in objs])
    plon = np.array([agreement.protected[x].lon for x in objs])
    # offset of the estimate from the object (east, north; local tangent plane)
    de = np.radians(cols.lon[idx[r_idx]] - plon) * 6_371_008.8 * np.cos(np.radians(plat))
    dn = np.radians(cols.lat[idx[r_idx]] - plat) * 6_371_008.8
    scale = d[r_idx] / np.maximum(np.hypot(de, dn), 1e-9)  # keep the haversine distance exactly
    p_in = np.zeros(len(idx))
    p_in[r_idx] = p_within_disc_ellipse(de * scale, dn * scale, radius[r_idx], maj[r_idx], mn[r_idx], az[r_idx])
    raised = reach & (p_in >= thr)
    contra = _contradictions(cols, agreement, idx[raised])
    org = _origin_parties(cols, agreement, cfg, idx[raised], contra)
    for k in r_idx.tolist():
        e = int(idx[k])
        obj = agreement.protected[int(j[k])]
        p = float(p_in[k])
        party, why = org.get(e, (UNDETERMINED, "Party undetermined: not judged (too uncertain to be a finding)."))
        what = {"flight": "a flight ended", "fire_thermal": "a fire was seen"}.get(str(cols.kind[e]), "a strike landed")
        reasons = [f"Strike on a protected object: {what} at {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}, "
                   f"{d[k]:,.0f} m from {obj.name} ({obj.category}, protected radius {obj.radius_m:,.0f} m); "
                   f"probability that it landed within the radius {p:.3f}.", why]
        if cols.kind[e] == "fire_thermal":
            reasons.append("Only a thermal anomaly shows it: a fire, not proof of a strike, until corroborated.")
        h = Hit(e, rule.id, Rule.STRIKE_ON_PROTECTED_OBJECT, party, float(cols.conf[e] * p), reasons,
                {"protected_object": obj.id, "distance_m": round(float(d[k]), 1), "p_geometry": round(p, 4)},
                p_geometry=p)
        hits.append(h if raised[k] else _unlocated(h, thr, f"it landed within {obj.radius_m:,.0f} m of {obj.name}"))
    return hits


def heavy_weapon_in_zone(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    """P(weapon inside its withdrawal zone): the sighting's ellipse mass in the zone."""
    hits: list[Hit] = []
    idx = cand[(cols.kind[cand] == "weapon_presence")]
    idx = idx[np.array([cols.weapon_class[e] is not None for e in idx], bool)] if len(idx) else idx
    if len(idx) == 0:
        return hits
    thr = cfg.threshold(Rule.HEAVY_WEAPON_IN_ZONE)
    side, dist, _ = side_certainty(agreement, cols.lat[idx], cols.lon[idx], cols.err[idx])
    maj, mn, az = cols.ellipse(idx)
    e_, n_ = agreement.frame.to_en(cols.lat[idx], cols.lon[idx])
    e_, n_ = np.atleast_1d(e_), np.atleast_1d(n_)
    applies = set(rule.applies_to)
    wcs = {c: agreement.weapon_class_of(str(c)) for c in set(cols.weapon_class[idx].tolist())}
    cls_id = np.array([wcs[c].id if wcs[c] is not None else "" for c in cols.weapon_class[idx].tolist()], dtype=object)
    done = np.zeros(len(idx), bool)
    for z in agreement.zones:
        if z.kind != "withdrawal" or z.weapon_class is None:
            continue
        cz = np.flatnonzero((cls_id == z.weapon_class) & ~done)
        if len(cz) == 0:
            continue
        inside = shapely.contains_xy(z.geometry_en, e_[cz], n_[cz])
        # a cheap lower bound of the distance to the zone's edge; exact only for rows outside
        lower = _boundary_lower(agreement, f"zone:{z.id}", z.geometry_en, e_[cz], n_[cz])
        judged = inside | (lower <= maj[cz])  # inside, or the 95 % ellipse may reach the zone
        cz, inside, lower = cz[judged], inside[judged], lower[judged]
        dz = lower.copy()
        out = np.flatnonzero(~inside)
        if len(out):
            dz[out] = shapely.distance(z.geometry_en.boundary, shapely.points(e_[cz[out]], n_[cz[out]]))
        keep = inside | (dz <= maj[cz])
        cz, inside, lower, dz = cz[keep], inside[keep], lower[keep], dz[keep]
        if len(cz) == 0:
            continue
        p_all = p_where(lambda x, y, g=z.geometry_en: shapely.contains_xy(g, x, y), lower, e_[cz], n_[cz], maj[cz],
                        mn[cz], az[cz])
        sp = side_probabilities(agreement, cols.lat[idx[cz]], cols.lon[idx[cz]], maj[cz], mn[cz], az[cz])
        for kk, (k, dzk, pk) in enumerate(zip(cz.tolist(), dz.tolist(), p_all.tolist(), strict=True)):
            e = int(idx[k])
            wc = wcs[cols.weapon_class[e]]
            if applies and wc.id not in applies and cols.weapon_class[e] not in applies:
                continue
            done[k] = pk >= thr  # judged in one zone only once it is a finding there
            zparty = z.party or (side[k] or UNDETERMINED)
            where = "inside" if inside[kk] else f"{dzk:,.0f} m outside"
            reasons = [f"Heavy weapon in its withdrawal zone: {cols.weapon_class[e]} ({wc.id}, to be kept "
                       f"{wc.distance_km:g} km from the line) seen at {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}, "
                       f"{dist[k] / 1000:.1f} km from the line, {where} zone {z.id}; probability that it is inside "
                       f"{pk:.3f}."]
            p_party = float(sp[zparty][kk]) if zparty in sp else 0.0
            if side[k] == zparty and p_party >= cfg.attribution_min_p:
                party = zparty
                reasons.append(f"Attributed to {party}: the sighting lies on {party}'s side with probability "
                               f"{p_party:.3f}.")
            else:
                party = UNDETERMINED
                reasons.append(f"Party undetermined: the sighting lies on {zparty}'s side with probability "
                               f"{p_party:.3f} only (needs {cfg.attribution_min_p:g}): its 95 % ellipse reaches "
                               "the line.")
            h = Hit(e, rule.id, Rule.HEAVY_WEAPON_IN_ZONE, party, float(cols.conf[e] * pk), reasons,
                    {"zone": z.id, "weapon_class": wc.id, "sighting_class": str(cols.weapon_class[e]),
                     "p_geometry": round(pk, 4)}, p_geometry=pk)
            hits.append(h if pk >= thr else _unlocated(h, thr, f"it is inside zone {z.id}"))
    return hits


def _track_origin(cols: EventColumns, cfg: AdjudicationConfig, e: int) -> tuple[float, float, float] | None:
    if cols.has_origin[e]:
        return float(cols.olat[e]), float(cols.olon[e]), float(cols.oerr[e])
    p = cols.path[e]
    if p is not None and len(p):
        return float(p[0][1]), float(p[0][0]), cfg.track_origin_err_m
    return None


def air_rules(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rules: dict[Rule, list[Any]], cand: np.ndarray) -> list[Hit]:
    hits: list[Hit] = []
    idx = cand[cols.kind[cand] == "flight"]
    if len(idx) == 0:
        return hits
    origins = [_track_origin(cols, cfg, int(e)) for e in idx]
    have = np.array([o is not None for o in origins], bool)
    olat = np.array([o[0] if o else np.nan for o in origins])
    olon = np.array([o[1] if o else np.nan for o in origins])
    oerr = np.array([o[2] if o else np.nan for o in origins])
    oside = np.full(len(idx), "", object)
    odist = np.zeros(len(idx))
    osure = np.zeros(len(idx), bool)
    if have.any():
        s, d, u = side_certainty(agreement, olat[have], olon[have], oerr[have])
        oside[have], odist[have], osure[have] = s, d, u
    eside = agreement.side_of(cols.lat[idx], cols.lon[idx])
    # path crossing: one vectorized intersects over all tracks with a path
    crosses = np.zeros(len(idx), bool)
    with_path = [k for k, e in enumerate(idx.tolist()) if cols.path[e] is not None]
    if with_path:
        coords = [cols.path[idx[k]] for k in with_path]
        lens = np.array([len(c) for c in coords])
        allc = np.concatenate(coords)
        ee, nn = agreement.frame.to_en(allc[:, 1], allc[:, 0])
        lines = shapely.linestrings(np.column_stack([ee, nn]), indices=np.repeat(np.arange(len(coords)), lens))
        crosses[with_path] = shapely.intersects(lines, agreement.line_en)
    # without a path, the sides of the origin and the end decide
    no_path = np.ones(len(idx), bool)
    no_path[with_path] = False
    crosses |= no_path & (oside != "") & (eside != "") & (oside != eside)
    for k, e in enumerate(idx.tolist()):
        cls = str(cols.classification[e] or "unknown")
        track_txt = (f"{cls} track from {_fmt(olat[k], olon[k], oerr[k]) if have[k] else 'an unknown origin'} "
                     f"to {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}")
        if have[k] and osure[k]:
            party = str(oside[k])
            why = f"Attributed to {party}: the track starts on {party}'s side beyond its uncertainty."
        else:
            party = UNDETERMINED
            why = ("Party undetermined: the track's origin is unknown or its uncertainty reaches the line"
                   if have[k] else "Party undetermined: the track has no origin.")
        org = (float(olat[k]), float(olon[k]), float(oerr[k])) if have[k] else None
        if crosses[k] and cls in cfg.military_classes:
            for r in rules.get(Rule.FLIGHT_ACROSS_LINE, []):
                hits.append(Hit(e, r.id, Rule.FLIGHT_ACROSS_LINE, party, float(cols.conf[e]),
                                [f"Military flight across the contact line: {track_txt}.", why],
                                {"classification": cls, "intercepted": bool(cols.intercepted[e])}, org))
        if cls in cfg.long_range_classes and have[k] and oside[k]:
            for r in rules.get(Rule.LAUNCH_FROM_TERRITORY, []):
                extra = []
                if r.applies_to:
                    j, d = agreement.nearest_protected(cols.lat[e : e + 1], cols.lon[e : e + 1], list(r.applies_to))
                    if j[0] < 0 or cols.intercepted[e]:
                        continue
                    obj = agreement.protected[int(j[0])]
                    if d[0] > obj.radius_m + cols.err[e]:
                        continue
                    # the end point within the object's radius given its uncertainty, as for strikes
                    p_end = float(p_within_disc(d[:1], np.array([obj.radius_m]),
                                                np.array([max(cols.err[e], 1.0) / CHI2_95_2D]))[0])
                    if p_end < cfg.threshold(Rule.STRIKE_ON_PROTECTED_OBJECT):
                        continue
                    extra = [f"The track ends {d[0]:,.0f} m from {obj.name} ({obj.category}); probability that it "
                             f"ended within the radius {p_end:.3f}."]
                hits.append(Hit(e, r.id, Rule.LAUNCH_FROM_TERRITORY, party, float(cols.conf[e]),
                                [f"Launch of a {cls} from {oside[k]}-held territory: {track_txt}.", *extra, why],
                                {"classification": cls, "intercepted": bool(cols.intercepted[e])}, org))
    return hits


def interference(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    hits: list[Hit] = []
    for e in cand[cols.kind[cand] == "interference"].tolist():
        party, why = UNDETERMINED, "Party undetermined: the observations do not say where the interference came from."
        where = None
        areas = cols.affected_area[e]
        if areas:
            try:
                geom = shapely.union_all([shape(a) for a in areas])
            except Exception as exc:  # a broken polygon is reported, not guessed around
                why = f"Party undetermined: affected_area is not a valid GeoJSON polygon ({exc})."
                geom = None
            if geom is not None and not geom.is_empty:
                g_en = agreement.frame.geom_to_en(geom)
                c = g_en.centroid
                radius = float(shapely.hausdorff_distance(shapely.points(c.x, c.y), g_en.boundary))
                clat, clon = agreement.frame.to_latlon(c.x, c.y)
                where = (float(clat), float(clon), max(radius, 1.0))
                on = [p for p, a in agreement.areas_en.items() if a.contains(g_en)]
                if len(on) == 1:
                    party = on[0]
                    why = f"Attributed to {party}: the whole area the interference came from lies on {party}'s side."
                else:
                    why = "Party undetermined: the area the interference may come from spans both sides."
        place = (f"; the interference comes from within {_fmt(*where)}" if where else "")
        hits.append(Hit(e, rule.id, Rule.INTERFERENCE_WITH_MONITORS, party, float(cols.conf[e]),
                        [f"Interference with the monitors near {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}{place}.",
                         why], location=where))
    return hits


def naval(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    hits: list[Hit] = []
    for e in cand[cols.kind[cand] == "vessel"].tolist():
        if cols.incident[e] != "barred_vessel_in_zone":
            continue
        flag = str(cols.flag[e] or "")
        f3 = {"UKR": "UA", "RUS": "RU"}.get(flag.upper(), flag.upper())
        party = next((p for p in agreement.parties if f3 == p), None)
        why = (f"Attributed to {party}: the vessel flies its flag ({flag})." if party
               else f"Party undetermined: the vessel's flag ({flag or 'unknown'}) is not a party's.")
        hits.append(Hit(e, rule.id, Rule.NAVAL_VESSEL_IN_ZONE, party or UNDETERMINED, float(cols.conf[e]),
                        [f"Barred vessel in a sea zone at {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}.", why]))
    return hits


def evaluate_all(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig) -> tuple[list[Hit], list[Hit]]:
    """(findings, unlocated claims) of all rules present in the agreement, for events
    while it is active.  An unlocated claim is an event whose 95 % ellipse reaches a
    rule's geometry but meets it with a probability below the rule's threshold."""
    n = len(cols)
    if n == 0:
        return [], []
    active = cols.t >= agreement.start.timestamp()
    if agreement.end is not None:
        active &= cols.t < agreement.end.timestamp()
    cand = np.flatnonzero(active & (cols.conf >= cfg.min_confidence))
    by_kind: dict[Rule, list[Any]] = {}
    for r in agreement.rules:
        by_kind.setdefault(Rule(r.kind), []).append(r)
    hits: list[Hit] = []
    for r in by_kind.get(Rule.FIRE_ACROSS_LINE, []):
        hits += fire_across_line(cols, agreement, cfg, r, cand)
    for r in by_kind.get(Rule.STRIKE_ON_PROTECTED_OBJECT, []):
        hits += strike_on_protected(cols, agreement, cfg, r, cand)
    for r in by_kind.get(Rule.HEAVY_WEAPON_IN_ZONE, []):
        hits += heavy_weapon_in_zone(cols, agreement, cfg, r, cand)
    if Rule.FLIGHT_ACROSS_LINE in by_kind or Rule.LAUNCH_FROM_TERRITORY in by_kind:
        hits += air_rules(cols, agreement, cfg, by_kind, cand)
    for r in by_kind.get(Rule.INTERFERENCE_WITH_MONITORS, []):
        hits += interference(cols, agreement, cfg, r, cand)
    for r in by_kind.get(Rule.NAVAL_VESSEL_IN_ZONE, []):
        hits += naval(cols, agreement, cfg, r, cand)
    return [h for h in hits if h.raised], [h for h in hits if not h.raised]


def evaluate(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig) -> list[Hit]:
    """The findings of all rules present in the agreement (unlocated claims left out)."""
    return evaluate_all(cols, agreement, cfg)[0]


def _loc(lat: float, lon: float, err: float) -> Location:
    err = float(max(err, 1.0))
    return Location(lat=float(lat), lon=float(lon), err_major_m=err, err_minor_m=err)


def to_violations(hits: list[Hit], cols: EventColumns, locations: dict[str, Any] | None = None) -> list[Violation]:
    """Violation objects with evidence and a plain-language explanation."""
    out: list[Violation] = []
    lines = cols.lines()
    for h in hits:
        e = h.event
        eid = str(cols.ids[e])
        evidence = cols.evidence_of(e)
        loc, origin = (locations or {}).get(eid, (None, None))
        if h.location is not None:
            loc = _loc(*h.location)
        elif loc is None:
            loc = _loc(cols.lat[e], cols.lon[e], cols.err[e])
        if h.origin is not None:
            origin = _loc(*h.origin)
        elif origin is None and cols.has_origin[e]:
            origin = _loc(cols.olat[e], cols.olon[e], cols.oerr[e])
        cite = "; ".join(f"{ev.observation_id}" + (f" (ledger #{ev.ledger_index})" if ev.ledger_index is not None else "")
                         for ev in evidence[:12])
        more = f" and {len(evidence) - 12} more" if len(evidence) > 12 else ""
        text = " ".join(h.reasons) + (f" Evidence: {cols.summary_of(e)}: {cite}{more}." if evidence else "") + \
            f" Event confidence {cols.conf[e]:.2f} from {int(lines[e])} independent line(s) of evidence."
        attrs = {**h.attributes, "rule_id": h.rule_id, "n_independent": int(lines[e]), "n_groups": int(cols.n_groups[e]),
                 "event_confidence": round(float(cols.conf[e]), 4)}
        out.append(Violation(id=violation_id(h.rule_id, h.rule, eid), event_id=eid, rule=h.rule, party=h.party,
                             confidence=float(np.clip(h.confidence, 0.0, 1.0)), time=from_unix(cols.t[e]),
                             location=loc, origin=origin, evidence=evidence, explanation=text, attributes=attrs))
    return out
