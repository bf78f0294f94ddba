"""Events as columns for vectorized rule evaluation.

Built once from Event objects and their member observations (at the edge), or
directly from the fusion core's EventTable (benchmark), so every rule is a few
numpy/shapely array operations over all events at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trucewatch.model import KIND_CODES, Event, Evidence, Observation, ObservationKind

POINT_KINDS = (ObservationKind.IMPACT, ObservationKind.EXPLOSION, ObservationKind.LAUNCH)


#: Report types that describe an effect, not an attack: alone they do not show that anyone fired.
EFFECT_TYPES = frozenset({"facility_fire", "infrastructure_damage", "other"})

@dataclass
class EventColumns:
    ids: np.ndarray  # object
    kind: np.ndarray  # object
    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    err: np.ndarray  # 95 % major axis, m
    has_origin: np.ndarray
    olat: np.ndarray
    olon: np.ndarray
    oerr: np.ndarray
    conf: np.ndarray
    n_groups: np.ndarray
    impact_known: np.ndarray  # bool
    weapon_class: np.ndarray  # object: sighting class or None
    classification: np.ndarray  # object
    intercepted: np.ndarray  # bool
    path: np.ndarray  # object: (k, 2) lon/lat array or None
    affected_area: np.ndarray  # object: GeoJSON dict or None
    incident: np.ndarray  # object
    flag: np.ndarray  # object
    #: only explosions (launch or impact unknown, maybe a demolition): no evidence of fire by itself
    explosion_only: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: only reports (and imagery) of effects, a fire or damage, none claiming an attack:
    #: no evidence that anyone fired
    effect_only: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: such reports joined by heat seen from space (a field or warehouse fire): a fire,
    #: still no evidence that anyone fired across the line
    heat_effect_only: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: located fire members for the contradiction check: event index, lat, lon, err (95 %), is_launch
    m_ev: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    m_lat: np.ndarray = field(default_factory=lambda: np.zeros(0))
    m_lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    m_err: np.ndarray = field(default_factory=lambda: np.zeros(0))
    m_launch: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: ellipse shape of the event and its origin (95 % minor axis m, azimuth deg); empty: circular
    err_minor: np.ndarray = field(default_factory=lambda: np.zeros(0))
    err_angle: np.ndarray = field(default_factory=lambda: np.zeros(0))
    o_minor: np.ndarray = field(default_factory=lambda: np.zeros(0))
    o_angle: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: independent lines of evidence (one per source kind and operator; docs/confidence.md);
    #: empty: same as n_groups
    n_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: evidence list of event e (materialized only for violations)
    evidence_of: Callable[[int], list[Evidence]] = lambda e: []
    summary_of: Callable[[int], str] = lambda e: ""

    def __len__(self) -> int:
        return len(self.ids)

    def ellipse(self, idx: np.ndarray, origin: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(major, minor, azimuth) of rows ``idx`` (the origin's with ``origin``); circular when unknown."""
        major = (self.oerr if origin else self.err)[idx]
        mn, ang = (self.o_minor, self.o_angle) if origin else (self.err_minor, self.err_angle)
        if len(mn) != len(self.ids):
            return major, major, np.zeros(len(major))
        return major, np.where(np.isfinite(mn[idx]), np.minimum(mn[idx], major), major), np.nan_to_num(ang[idx])

    def lines(self) -> np.ndarray:
        """Independent lines of evidence per event (n_groups when not given)."""
        return self.n_lines if len(self.n_lines) == len(self.ids) else self.n_groups


def evidence_from(obs: Observation) -> Evidence:
    loc = obs.location
    a = obs.attributes
    what = obs.kind.value.replace("_", " ")
    extra = ""
    if obs.kind == ObservationKind.REPORT_CLAIM:
        extra = f", claims {a.get('event_type', 'an event')}" + (f" by {a['actor']}" if a.get("actor") else "")
        if a.get("independent") is False or (a.get("origin_id") and a.get("origin_id") != obs.id):
            extra += f" (copy of {a.get('origin_id') or 'an earlier post'})"
    elif obs.kind == ObservationKind.WEAPON_SIGHTING:
        extra = f", {a.get('count', 1)} x {a.get('weapon_class', 'weapon')}"
    elif obs.kind == ObservationKind.AIR_TRACK:
        extra = f", {a.get('classification', 'unknown')} track {a.get('track_id', '')}"
    return Evidence(observation_id=obs.id, source_id=obs.source_id, kind=obs.kind, ledger_index=obs.ledger_index,
                    summary=f"{what} at {loc.lat:.4f}, {loc.lon:.4f} (+/-{loc.err_major_m:.0f} m, 95 %), "
                            f"{obs.time.strftime('%Y-%m-%d %H:%M:%S')} UTC{extra}")


def _majority(values: list[Any]) -> Any:
    vals = [v for v in values if v not in (None, "", "unknown")]
    if not vals:
        return None
    c = Counter(vals)
    return sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0])))[0][0]


def from_events(events: list[Event], observations: dict[str, Observation]) -> tuple[EventColumns, list[str]]:
    """Columns for ``events``; the second value lists problems (missing observations)."""
    n = len(events)
    problems: list[str] = []
    f = np.full
    cols = EventColumns(
        ids=np.array([e.id for e in events], dtype=object), kind=np.array([e.kind for e in events], dtype=object),
        t=np.array([e.time.timestamp() for e in events]), lat=np.array([e.location.lat for e in events]),
        lon=np.array([e.location.lon for e in events]), err=np.array([e.location.err_major_m for e in events]),
        has_origin=np.array([e.origin is not None for e in events], bool),
        olat=np.array([e.origin.lat if e.origin else np.nan for e in events]),
        olon=np.array([e.origin.lon if e.origin else np.nan for e in events]),
        oerr=np.array([e.origin.err_major_m if e.origin else np.nan for e in events]),
        conf=np.array([e.confidence for e in events]),
        n_groups=np.array([int(e.attributes.get("n_groups", e.attributes.get("n_independent", 1))) for e in events]),
        n_lines=np.array([int(e.attributes.get("n_independent", 1)) for e in events], np.int64),
        err_minor=np.array([e.location.err_minor_m for e in events]),
        err_angle=np.array([e.location.err_angle_deg for e in events]),
        o_minor=np.array([e.origin.err_minor_m if e.origin else np.nan for e in events]),
        o_angle=np.array([e.origin.err_angle_deg if e.origin else 0.0 for e in events]),
        impact_known=f(n, True), weapon_class=f(n, None, object), classification=f(n, None, object),
        intercepted=f(n, False), path=f(n, None, object), affected_area=f(n, None, object),
        incident=f(n, None, object), flag=f(n, None, object), explosion_only=f(n, False),
        effect_only=f(n, False), heat_effect_only=f(n, False))
    m_ev, m_lat, m_lon, m_err, m_launch = [], [], [], [], []
    members: list[list[Observation]] = []
    for i, e in enumerate(events):
        mem = []
        for oid in e.observation_ids:
            o = observations.get(oid)
            if o is None:
                problems.append(f"{e.id}: observation_ids: {oid} is not among the observations given")
                continue
            mem.append(o)
        members.append(mem)
        kinds = {o.kind for o in mem}
        cols.impact_known[i] = bool(kinds & {ObservationKind.IMPACT, ObservationKind.EXPLOSION}) or e.kind != "fire"
        cols.explosion_only[i] = ObservationKind.EXPLOSION in kinds and not kinds & {
            ObservationKind.IMPACT, ObservationKind.LAUNCH, ObservationKind.REPORT_CLAIM, ObservationKind.DAMAGE}
        reports = [o for o in mem if o.kind == ObservationKind.REPORT_CLAIM]
        cols.effect_only[i] = bool(reports) and kinds <= {ObservationKind.REPORT_CLAIM, ObservationKind.DAMAGE} and all(
            o.attributes.get("event_type") in EFFECT_TYPES for o in reports)
        cols.heat_effect_only[i] = bool(reports) and ObservationKind.THERMAL_ANOMALY in kinds and kinds <= {
            ObservationKind.REPORT_CLAIM, ObservationKind.DAMAGE, ObservationKind.THERMAL_ANOMALY} and all(
            o.attributes.get("event_type") in EFFECT_TYPES for o in reports)
        for o in mem:
            if o.kind in POINT_KINDS:
                m_ev.append(i)
                m_lat.append(o.location.lat)
                m_lon.append(o.location.lon)
                m_err.append(o.location.err_major_m)
                m_launch.append(o.kind == ObservationKind.LAUNCH)
        # A tentative sighting (one frame, low confidence, or flickering in clear
        # view: docs/drone.md) is kept as evidence but is not by itself a weapon.
        sight = [o for o in mem if o.kind == ObservationKind.WEAPON_SIGHTING and not o.attributes.get("tentative")]
        if sight:
            cols.weapon_class[i] = _majority([o.attributes.get("weapon_class") for o in sight])
        tracks = [o for o in mem if o.kind == ObservationKind.AIR_TRACK]
        if tracks:
            cols.classification[i] = _majority([o.attributes.get("classification") for o in tracks]) or "unknown"
            cols.intercepted[i] = any(bool(o.attributes.get("intercepted")) for o in tracks)
            best = max(tracks, key=lambda o: (len(o.attributes.get("path") or []), o.id))
            p = best.attributes.get("path") or []
            if len(p) >= 2:
                cols.path[i] = np.array([[float(q[0]), float(q[1])] for q in p])
        inter = [o for o in mem if o.kind == ObservationKind.INTERFERENCE and o.attributes.get("affected_area")]
        if inter:
            cols.affected_area[i] = [o.attributes["affected_area"] for o in inter]
        ves = [o for o in mem if o.kind == ObservationKind.VESSEL_INCIDENT]
        if ves:
            cols.incident[i] = _majority([o.attributes.get("incident") for o in ves])
            cols.flag[i] = _majority([o.attributes.get("flag") for o in ves])
    cols.m_ev = np.array(m_ev, np.int64)
    cols.m_lat = np.array(m_lat, float)
    cols.m_lon = np.array(m_lon, float)
    cols.m_err = np.array(m_err, float)
    cols.m_launch = np.array(m_launch, bool)
    cols.evidence_of = lambda e: [evidence_from(o) for o in sorted(members[e], key=lambda o: (o.time, o.id))]

    def summary(e: int) -> str:
        c = Counter(o.kind.value.replace("_", " ") for o in members[e])
        return ", ".join(f"{k} x{v}" for k, v in sorted(c.items()))

    cols.summary_of = summary
    return cols, problems


def from_table(table: Any, fi: Any, extras: dict[str, np.ndarray], source_names: list[str] | None = None) -> EventColumns:
    """Columns straight from the fusion core's EventTable (no pydantic objects):
    the benchmark's path.  ``extras`` holds per-row attribute columns
    (weapon_class, classification, intercepted, path, affected_area, incident, flag)."""
    E = len(table)
    lab = table.label
    o = fi.obs
    kc = {k: KIND_CODES[k] for k in ObservationKind}

    def first_per_event(col: np.ndarray) -> np.ndarray:
        out = np.full(E, None, dtype=object)
        rows = np.flatnonzero(np.array([v is not None for v in col], bool)) if col.dtype == object else np.arange(len(col))
        # later rows first, so the earliest row wins on assignment
        rr = rows[::-1]
        out[lab[rr]] = col[rr]
        return out

    is_imp = (o.kind == kc[ObservationKind.IMPACT]) | (o.kind == kc[ObservationKind.EXPLOSION])
    impact_known = np.bincount(lab, is_imp, E) > 0
    other = np.isin(o.kind, [kc[ObservationKind.IMPACT], kc[ObservationKind.LAUNCH], kc[ObservationKind.REPORT_CLAIM],
                             kc[ObservationKind.DAMAGE]])
    explosion_only = (np.bincount(lab, o.kind == kc[ObservationKind.EXPLOSION], E) > 0) & (np.bincount(lab, other, E) == 0)
    impact_known |= table.kind != "fire"
    inter = np.zeros(E, bool)
    if "intercepted" in extras:
        inter = np.bincount(lab, extras["intercepted"].astype(bool), E) > 0
    area = np.full(E, None, dtype=object)
    if "affected_area" in extras:
        col = extras["affected_area"]
        for r in np.flatnonzero(np.array([v is not None for v in col], bool)).tolist():
            e = lab[r]
            area[e] = (area[e] or []) + list(col[r])
    pts = np.flatnonzero(is_imp | (o.kind == kc[ObservationKind.LAUNCH]))
    names = source_names or list(o.sources)

    def evidence(e: int) -> list[Evidence]:
        rows = table.members(e)
        return [Evidence(observation_id=str(o.ids[r]), source_id=names[int(o.source_idx[r])],
                         kind=list(ObservationKind)[int(o.kind[r])]) for r in rows]

    def summary(e: int) -> str:
        c = Counter(list(ObservationKind)[int(o.kind[r])].value.replace("_", " ") for r in table.members(e))
        return ", ".join(f"{k} x{v}" for k, v in sorted(c.items()))

    cls = first_per_event(extras["classification"]) if "classification" in extras else np.full(E, None, object)
    return EventColumns(
        ids=table.ids, kind=table.kind, t=table.t, lat=table.lat, lon=table.lon, err=table.err_major,
        has_origin=table.has_origin, olat=table.o_lat, olon=table.o_lon, oerr=table.o_major, conf=table.confidence,
        n_groups=table.n_groups, impact_known=impact_known,
        weapon_class=first_per_event(extras["weapon_class"]) if "weapon_class" in extras else np.full(E, None, object),
        classification=cls, intercepted=inter,
        path=first_per_event(extras["path"]) if "path" in extras else np.full(E, None, object),
        affected_area=area,
        incident=first_per_event(extras["incident"]) if "incident" in extras else np.full(E, None, object),
        flag=first_per_event(extras["flag"]) if "flag" in extras else np.full(E, None, object),
        m_ev=lab[pts], m_lat=o.lat[pts], m_lon=o.lon[pts], m_err=o.err_major[pts],
        m_launch=o.kind[pts] == kc[ObservationKind.LAUNCH], evidence_of=evidence, summary_of=summary,
        explosion_only=explosion_only, effect_only=np.zeros(E, bool), heat_effect_only=np.zeros(E, bool),
        err_minor=table.err_minor, err_angle=table.err_angle, o_minor=table.o_minor, o_angle=table.o_angle,
        n_lines=table.n_lines if getattr(table, "n_lines", None) is not None else table.n_groups)
