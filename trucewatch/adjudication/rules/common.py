"""What every rule shares: the thresholds (:class:`AdjudicationConfig`), a rule's raw
result (:class:`Hit`), the interface a rule implements (:class:`RuleCheck`) and the
geometry under uncertainty (distance to the line, side probabilities).

Attribution principle: a party is named only when the evidence puts the origin
on that party's side *beyond its uncertainty* (the 95 % ellipse does not touch
the contact line) and nothing in the event contradicts it; otherwise the
finding is ``undetermined`` and the explanation says why.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import shapely
import yaml
from scipy.spatial import cKDTree
from scipy.special import ndtr

from trucewatch.adjudication.columns import EventColumns
from trucewatch.adjudication.uncertain import p_where, p_within_distance
from trucewatch.geo import CHI2_95_2D
from trucewatch.model import Rule

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
        kwargs: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
        cfg = cls(**kwargs)
        gt = raw.get("geometry_threshold", {})
        if not isinstance(gt, dict) or any(not isinstance(v, int | float) or not 0.0 < float(v) <= 1.0
                                           for v in gt.values()):
            raise ValueError(f"{path}: geometry_threshold: expected rule kind -> probability in (0, 1]")
        bad = sorted(k for k in gt if not _is_rule_kind(k))
        if bad:
            raise ValueError(f"{path}: geometry_threshold: unknown rule kind(s) {', '.join(bad)}")
        cfg.geometry_threshold = {**GEOMETRY_THRESHOLD, **{k: float(v) for k, v in gt.items()}}
        if not 0.5 <= float(cfg.attribution_min_p) <= 1.0:
            raise ValueError(f"{path}: attribution_min_p: {cfg.attribution_min_p} is not within [0.5, 1]")
        return cfg

    def threshold(self, rule: Rule) -> float:
        return float(self.geometry_threshold.get(rule.value, GEOMETRY_THRESHOLD.get(rule.value, 0.5)))


def _is_rule_kind(k: str) -> bool:
    """A built-in rule kind or one a plugin declares (asking loads the plugins)."""
    try:
        Rule(k)
    except ValueError:
        return False
    return True


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
            out[p] = p_where(partial(shapely.contains_xy, area), bd, e, n, major, minor, az)
        for p in agreement.parties:
            out.setdefault(p, np.zeros(len(lat)))
        return out
    d = _line_distance_en(agreement, e, n)
    return {p: p_where(partial(_on_side, agreement, p), d, e, n, major, minor, az) for p in agreement.parties}


def _on_side(agreement: Any, party: str, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """True where (e, n) lies on ``party``'s side of the line (a named predicate, bound per
    party with functools.partial, so the checker can type it)."""
    return np.asarray(agreement._left_right_side(e, n) == party)


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


@runtime_checkable
class RuleCheck(Protocol):
    """One rule of the registry (``trucewatch.adjudication.rules.RULES``, entry point
    group ``trucewatch.rules``).  ``kinds`` are the agreement rule kinds it judges;
    ``evaluate`` gets every rule of the agreement by kind and the candidate events
    (active, confident enough) and returns its hits, findings and unlocated claims."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def kinds(self) -> tuple[str, ...]: ...

    def evaluate(self, cols: EventColumns, agreement: Any, cfg: AdjudicationConfig,
                 by_kind: dict[Rule, list[Any]], cand: np.ndarray) -> list[Hit]: ...


CheckFn = Callable[[EventColumns, Any, AdjudicationConfig, Any, np.ndarray], list[Hit]]


@dataclass(frozen=True)
class PerRule:
    """A rule judged once per agreement rule of its kind (most rules): wraps
    ``check(cols, agreement, cfg, rule_spec, cand) -> hits``."""

    name: str
    description: str
    check: CheckFn

    @property
    def kinds(self) -> tuple[str, ...]:
        return (self.name,)

    def declare_kinds(self) -> None:
        """A plugin's rule kind becomes a :class:`Rule` (agreements may then name it)."""
        Rule.extend(self.name)

    def evaluate(self, cols: EventColumns, agreement: Any, cfg: AdjudicationConfig,
                 by_kind: dict[Rule, list[Any]], cand: np.ndarray) -> list[Hit]:
        hits: list[Hit] = []
        for r in by_kind.get(Rule(self.name), []):
            hits += self.check(cols, agreement, cfg, r, cand)
        return hits
