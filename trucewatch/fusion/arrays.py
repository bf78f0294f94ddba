"""Columnar input for fusion: ObservationArrays plus the attribute columns that
association and confidence need (family, identity links, pair ids,
independence groups, per-observation reliability).

Conversion from pydantic Observations happens once, at the edge; the hot path
(gating, assignment, fused estimates, confidence) only sees these arrays.  The
benchmark builds them directly from numpy.
"""

from __future__ import annotations

import copy as copy_module
import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from shapely.geometry import shape

from trucewatch.errors import RecordProblem, RecordProblems
from trucewatch.geo import EARTH_RADIUS_M, ellipse_cov
from trucewatch.model import (
    KIND_CODES,
    MAX_ERROR_M,
    MIN_ERROR_M,
    Observation,
    ObservationArrays,
    ObservationKind,
    Source,
    SourceKind,
    from_unix,
    revoked_at,
    to_utc,
)

if TYPE_CHECKING:  # config imports clutter, which imports this module: a type-only import breaks the loop
    from trucewatch.fusion.config import FusionConfig

K = {k: KIND_CODES[k] for k in ObservationKind}
KIND_BY_CODE = {v: k for k, v in KIND_CODES.items()}

# Families: observations only associate within a family (plus pair ids).
FIRE, LAUNCH, SIGHTING, AIR, INTERFERENCE, VESSEL, SUMMARY = range(7)
FAMILY_NAMES = ["fire", "launch", "sighting", "air", "interference", "vessel", "summary"]
# Tiers: 1 seeds events, 2 attaches to seeds or forms its own events, 3 (text) attaches last.
SEED, SECOND, TEXT = 1, 2, 3


class FusionInputError(RecordProblems):
    """Bad observations, each named with its field (raised in strict mode)."""

    def __init__(self, errors: list[RecordProblem]) -> None:
        super().__init__(errors, "observation(s)")

    @property
    def errors(self) -> list[RecordProblem]:
        return self.problems


#: Fusion's name for the package's one record-problem type (public since the first release: ``trucewatch.fusion``).
RecordError = RecordProblem


def key64(*parts: Any) -> int:
    """Stable 63-bit key of a tuple of values (same input, same key, any process)."""
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") >> 1


def line_key(source_kind: str, operator: str) -> int:
    """Independent line of evidence: one per source kind and operator (a network,
    a channel, a satellite operator).  Two fixes of one network are one line."""
    return key64("line", source_kind, operator)


@dataclass
class FusionInput:
    """Everything fusion needs, one row per observation."""

    obs: ObservationArrays
    family: np.ndarray  # int8
    tier: np.ndarray  # int8
    sub: np.ndarray  # int64 subtype that must match (-1: any)
    pair: np.ndarray  # int64 pair key (-1: none)
    link_idx: np.ndarray  # int64 rows that share an identity key ...
    link_key: np.ndarray  # int64 ... (object_id, track_id, origin post, cluster)
    rel: np.ndarray  # float64 probability this observation's claim is right
    group: np.ndarray  # int64 independence group (copies and shared-error sensors share one)
    copy: np.ndarray  # bool: a report copying another post
    source_kind: np.ndarray  # object: SourceKind value per row
    notes: list[str] = field(default_factory=list)
    #: bool: the row marks where its happening reached the ground (an air track
    #: that was not intercepted ends in an impact), so effects there (heat,
    #: damage, reports) may join it; not given (empty): no such row
    effect: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    #: int64 independent line of evidence (one source kind and operator; a copy is its
    #: original's line): what verification counts (docs/confidence.md); not given: the group
    line: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: int64 post a report row belongs to (its own or its original's), -1 for others
    post: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # derived
    xyz: np.ndarray = field(init=False)
    coslat: np.ndarray = field(init=False)
    cov: np.ndarray = field(init=False)  # (n, 3): var_e, cov_en, var_n (one sigma, m^2)
    lo: np.ndarray = field(init=False)  # earliest time the happening can have had
    hi: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.obs)
        if n and not len(self.effect):
            self.effect = np.zeros(n, bool)
        if n and not len(self.line):
            self.line = np.asarray(self.group, np.int64).copy()
        if n and not len(self.post):
            self.post = np.full(n, -1, np.int64)

    def gate_view(self) -> FusionInput:
        """The same rows for gating: rows that mark an effect on the ground also
        gate as fire, so a strike's heat and reports join the flight that caused it."""
        if not self.effect.any():
            return self
        v = copy_module.copy(self)
        v.family = np.where(self.effect, np.int8(FIRE), self.family).astype(np.int8)
        return v

    def derive(self, config: FusionConfig) -> None:
        o = self.obs
        la, lo_ = np.radians(o.lat), np.radians(o.lon)
        self.coslat = np.cos(la)
        self.xyz = EARTH_RADIUS_M * np.column_stack([np.cos(la) * np.cos(lo_), np.cos(la) * np.sin(lo_), np.sin(la)])
        c = ellipse_cov(o.err_major, o.err_minor, o.err_angle)
        fl = config.space_floor_m**2
        self.cov = np.column_stack([c[:, 0, 0] + fl, c[:, 0, 1], c[:, 1, 1] + fl])
        tau = np.sqrt(o.t_sigma**2 + config.time_floor_s**2) * config.time_gate_sigma
        persist = np.zeros(len(o))
        for name, secs in config.persist_s.items():
            persist[o.kind == K[ObservationKind(name)]] = secs
        half = np.zeros(len(o))
        half[self.family == SIGHTING] = config.sighting_window_s / 2
        half[self.family == VESSEL] = config.vessel_window_s / 2
        half[self.family == INTERFERENCE] = config.interference_window_s / 2
        half[(o.kind == K[ObservationKind.LAUNCH]) & (self.tier == SEED)] = config.fire_mission_window_s / 2
        self.lo = o.t - persist - tau - half
        self.hi = o.t + tau + half

    def __len__(self) -> int:
        return len(self.obs)

    def take(self, idx: np.ndarray) -> FusionInput:
        """Rows ``idx`` (links re-indexed), for incremental re-runs on a subset."""
        idx = np.asarray(idx, np.int64)
        o = self.obs
        sub_obs = ObservationArrays(o.ids[idx], o.source_idx[idx], o.sources, o.kind[idx], o.t[idx], o.t_sigma[idx],
                                    o.lat[idx], o.lon[idx], o.err_major[idx], o.err_minor[idx], o.err_angle[idx])
        pos = np.full(len(self), -1, np.int64)
        pos[idx] = np.arange(len(idx))
        keep = pos[self.link_idx] >= 0
        out = FusionInput(sub_obs, self.family[idx], self.tier[idx], self.sub[idx], self.pair[idx],
                          pos[self.link_idx[keep]], self.link_key[keep], self.rel[idx], self.group[idx],
                          self.copy[idx], self.source_kind[idx], effect=self.effect[idx], line=self.line[idx],
                          post=self.post[idx])
        out.xyz, out.cov, out.lo, out.hi = self.xyz[idx], self.cov[idx], self.lo[idx], self.hi[idx]
        out.coslat = self.coslat[idx]
        return out


# ------------------------------------------------------------------ conversion
_THERMAL_CONF = {"l": 0.4, "low": 0.4, "n": 0.7, "nominal": 0.7, "h": 0.9, "high": 0.9}


def _parse_time(v: Any) -> datetime | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return to_utc(v)
    if isinstance(v, int | float):
        return from_unix(v)
    return to_utc(datetime.fromisoformat(str(v).replace("Z", "+00:00")))


def check_observation(o: Observation, sources: dict[str, Source], config: FusionConfig) -> RecordProblem | None:
    """The first reason this observation cannot be fused, naming its field."""
    loc = o.location
    for name, v in (("location.lat", loc.lat), ("location.lon", loc.lon), ("location.err_major_m", loc.err_major_m),
                    ("location.err_minor_m", loc.err_minor_m), ("time_sigma_s", o.time_sigma_s)):
        if v is None or not math.isfinite(float(v)):
            return RecordProblem(o.id, name, f"{v!r} is not a finite number")
    if not (-90 <= loc.lat <= 90 and -180 <= loc.lon <= 180):
        return RecordProblem(o.id, "location", f"{loc.lat},{loc.lon} is off the globe")
    if loc.err_major_m < MIN_ERROR_M or loc.err_minor_m <= 0:
        return RecordProblem(o.id, "location.err_major_m",
                           f"uncertainty {loc.err_major_m:g}/{loc.err_minor_m:g} m is below {MIN_ERROR_M:g} m: "
                           "no sensor is that precise, so it is a mistake, not a measurement")
    if loc.err_major_m > MAX_ERROR_M:
        return RecordProblem(o.id, "location.err_major_m",
                           f"uncertainty {loc.err_major_m:g} m exceeds {MAX_ERROR_M:g} m: not a location")
    if o.time_sigma_s < 0 or o.time_sigma_s > config.max_time_sigma_s:
        return RecordProblem(o.id, "time_sigma_s",
                           f"{o.time_sigma_s:g} s is outside [0, {config.max_time_sigma_s:g}] s")
    src = sources.get(o.source_id)
    if src is None:
        return RecordProblem(o.id, "source_id", f"unknown source {o.source_id!r}: register it before fusing")
    rv = revoked_at(src)
    if rv is not None:
        return RecordProblem(o.id, "source_id", f"source {o.source_id!r} was revoked at {rv.isoformat()}: "
                           "its evidence is not used")
    if o.kind == ObservationKind.AIR_TRACK:
        path = o.attributes.get("path")
        if path is not None and (not isinstance(path, list) or any(not isinstance(p, list | tuple) or len(p) < 2
                                                                    for p in path)):
            return RecordProblem(o.id, "attributes.path", "expected [[lon, lat, unix_t], ...]")
    return None


def _f(v: Any, default: float) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) else default


def observation_quality(o: Observation) -> tuple[float, str]:
    """How much one observation supports its claim, before source reliability (0..1) and why."""
    a = o.attributes
    k = o.kind
    if k in (ObservationKind.IMPACT, ObservationKind.EXPLOSION, ObservationKind.LAUNCH):
        n = a.get("n_sensors")
        if n is None:
            return 0.9, ""
        n = _f(n, 3)
        q = float(np.clip(0.55 + 0.1 * (n - 3), 0.3, 0.95))
        return q, f"{int(n)} sensors"
    if k == ObservationKind.THERMAL_ANOMALY:
        conf = a.get("confidence")
        cq = _THERMAL_CONF.get(str(conf).lower()) if isinstance(conf, str) else (
            float(np.clip(_f(conf, 70) / 100.0, 0.05, 1.0)) if conf is not None else 0.7)
        cq = 0.7 if cq is None else cq
        excess = a.get("excess")
        if excess is False:
            return 0.3 * cq, "no excess heat over background"
        return cq, "excess heat" if excess else ""
    if k == ObservationKind.DAMAGE:
        p = float(np.clip(_f(a.get("damage_probability"), 0.6), 0.0, 1.0))
        return p, f"damage probability {p:.2f}"
    if k == ObservationKind.WEAPON_SIGHTING:
        return 0.9, ""
    if k == ObservationKind.AIR_TRACK:
        return 0.95, ""
    return 1.0, ""


def _footprint_var(fp: dict[str, Any] | None) -> float:
    """Extra isotropic variance (m^2) from a pixel footprint: uniform over its extent."""
    if not fp:
        return 0.0
    try:
        g = shape(fp)
        minx, miny, maxx, maxy = g.bounds
    except Exception:  # a broken footprint is reported by check via the ellipse only
        return 0.0
    lat = (miny + maxy) / 2
    w = (maxx - minx) * 111_320.0 * math.cos(math.radians(lat))
    h = (maxy - miny) * 110_574.0
    return (w * w + h * h) / 12.0


def from_observations(observations: list[Observation], sources: dict[str, Source],
                      config: FusionConfig) -> tuple[FusionInput, list[Observation], list[RecordProblem]]:
    """Check and convert; returns the input, the accepted observations (same order) and the rejected."""
    errors: list[RecordProblem] = []
    good: list[Observation] = []
    seen: dict[str, Observation] = {}
    for i, o in enumerate(observations):
        if not isinstance(o, Observation):
            errors.append(RecordProblem(f"#{i}", "(record)", f"expected an Observation, got {type(o).__name__}"))
            continue
        if o.id in seen:
            if seen[o.id].model_dump() != o.model_dump():
                errors.append(RecordProblem(o.id, "id", "repeated with different content"))
            continue  # an identical repeat is the same observation (idempotent re-ingest)
        err = check_observation(o, sources, config)
        if err is not None:
            errors.append(err)
            continue
        seen[o.id] = o
        good.append(o)
    n = len(good)
    arr = ObservationArrays.from_observations(good)
    family = np.zeros(n, np.int8)
    tier = np.full(n, SEED, np.int8)
    sub = np.full(n, -1, np.int64)
    pair = np.full(n, -1, np.int64)
    rel = np.zeros(n)
    group = np.zeros(n, np.int64)
    line = np.zeros(n, np.int64)
    copy = np.zeros(n, bool)
    post = np.full(n, -1, np.int64)
    effect = np.zeros(n, bool)
    skind = np.empty(n, object)
    link_i: list[int] = []
    link_k: list[int] = []
    extra_var = np.zeros(n)
    cell = config.shared_error_cell_m
    for i, o in enumerate(good):
        a = o.attributes
        k = o.kind
        src = sources[o.source_id]
        skind[i] = src.kind.value
        q, _ = observation_quality(o)
        rel[i] = float(np.clip(src.reliability * q, 0.0, 0.999))
        network = a.get("network") or src.attributes.get("network") or src.id
        line[i] = line_key(src.kind.value, a.get("operator") or src.attributes.get("operator") or network)
        # a launch's blast and its impact are two signatures: their existence is
        # corroborated twice even when one network locates both
        signature = "launch" if k == ObservationKind.LAUNCH else "effect"
        if src.lat is not None and src.lon is not None and src.kind in (SourceKind.ACOUSTIC_SENSOR, SourceKind.RADAR):
            cx = int(src.lon * 111_320.0 * math.cos(math.radians(src.lat)) // cell)
            cy = int(src.lat * 110_574.0 // cell)
            group[i] = key64("net", src.kind.value, network, cx, cy, signature)
        else:
            group[i] = key64("net", src.kind.value, network, signature)
        if a.get("pair_id") not in (None, ""):
            pair[i] = key64("pair", a["pair_id"])
        if k in (ObservationKind.IMPACT, ObservationKind.EXPLOSION):
            precise = o.location.err_major_m <= config.seed_max_err_m and o.time_sigma_s <= config.seed_max_time_sigma_s
            tier[i] = SEED if precise else SECOND
        elif k == ObservationKind.LAUNCH:
            family[i] = LAUNCH
        elif k in (ObservationKind.THERMAL_ANOMALY, ObservationKind.DAMAGE):
            tier[i] = SECOND
            extra_var[i] = _footprint_var(o.location.footprint)
        elif k == ObservationKind.REPORT_CLAIM:
            tier[i] = TEXT
            if a.get("event_type") == "monitor_interference":
                family[i] = INTERFERENCE
            origin = a.get("origin_id") or None
            independent = a.get("independent")
            copy[i] = bool(origin and origin != o.id) or independent is False
            root = origin or o.id
            post[i] = key64("post", root)
            if copy[i]:
                # a copy is its original's line: the text stage names the original's source
                # (origin_source); without it, the original post itself is the line, and
                # independent_lines drops it where the event holds that post
                osrc = a.get("origin_source")
                root_src = sources.get(osrc) if osrc else None
                if root_src is not None:
                    line[i] = line_key(root_src.kind.value, root_src.attributes.get("operator")
                                       or root_src.attributes.get("network") or root_src.id)
                elif osrc:
                    line[i] = line_key(SourceKind.OPEN_SOURCE.value, osrc)
                else:
                    line[i] = key64("post", origin or a.get("cluster") or o.id)
            link_i.append(i)
            link_k.append(key64("post", root))
            if a.get("cluster") not in (None, ""):
                link_i.append(i)
                link_k.append(key64("cluster", a["cluster"]))
            if src.kind == SourceKind.PARTY_STATEMENT:
                group[i] = key64("party", src.id)
            elif origin or independent is not False:
                group[i] = key64("post", root)
            else:
                group[i] = key64("copies", a.get("cluster") or "")
        elif k == ObservationKind.WEAPON_SIGHTING:
            family[i] = SIGHTING
            sub[i] = key64("wc", a.get("weapon_class") or "unknown") if a.get("weapon_class") else -1
            if a.get("object_id") not in (None, ""):
                link_i.append(i)
                link_k.append(key64("obj", a["object_id"]))
        elif k == ObservationKind.AIR_TRACK:
            family[i] = AIR
            cls = a.get("classification")
            sub[i] = key64("cls", cls) if cls and cls != "unknown" else -1
            if a.get("track_id") not in (None, ""):
                link_i.append(i)
                link_k.append(key64("trk", o.source_id, a["track_id"]))
            # a track not intercepted ends where it struck (or left coverage: then
            # nothing on the ground is there to join it)
            effect[i] = a.get("intercepted") is False
        elif k == ObservationKind.INTERFERENCE:
            # not linked by flight_id: one flight can meet several jammers hours and miles apart
            family[i] = INTERFERENCE
        elif k == ObservationKind.VESSEL_INCIDENT:
            family[i] = VESSEL
            sub[i] = key64("vessel", a.get("mmsi"), a.get("incident"))
        elif k == ObservationKind.AIR_SUMMARY:
            family[i] = SUMMARY
            link_i.append(i)
            link_k.append(key64("summary", a.get("weapon_type"), a.get("window_from"), a.get("window_to")))
    fi = FusionInput(arr, family, tier, sub, pair, np.asarray(link_i, np.int64), np.asarray(link_k, np.int64),
                     rel, group, copy, skind, effect=effect, line=line, post=post)
    fi.derive(config)
    fi.cov[:, 0] += extra_var
    fi.cov[:, 2] += extra_var
    return fi, good, errors


def concat(a: FusionInput, b: FusionInput) -> FusionInput:
    """Rows of ``a`` then ``b`` (source indexes remapped, links shifted)."""
    srcs = list(a.obs.sources)
    pos = {s: i for i, s in enumerate(srcs)}
    for s in b.obs.sources:
        if s not in pos:
            pos[s] = len(srcs)
            srcs.append(s)
    remap = np.array([pos[s] for s in b.obs.sources], np.int32) if b.obs.sources else np.zeros(0, np.int32)
    oa, ob = a.obs, b.obs
    cat = np.concatenate
    obs = ObservationArrays(cat([oa.ids, ob.ids]), cat([oa.source_idx, remap[ob.source_idx] if len(ob) else ob.source_idx]),
                            srcs, cat([oa.kind, ob.kind]), cat([oa.t, ob.t]), cat([oa.t_sigma, ob.t_sigma]),
                            cat([oa.lat, ob.lat]), cat([oa.lon, ob.lon]), cat([oa.err_major, ob.err_major]),
                            cat([oa.err_minor, ob.err_minor]), cat([oa.err_angle, ob.err_angle]))
    out = FusionInput(obs, cat([a.family, b.family]), cat([a.tier, b.tier]), cat([a.sub, b.sub]),
                      cat([a.pair, b.pair]), cat([a.link_idx, b.link_idx + len(a)]), cat([a.link_key, b.link_key]),
                      cat([a.rel, b.rel]), cat([a.group, b.group]), cat([a.copy, b.copy]),
                      cat([a.source_kind, b.source_kind]), effect=cat([a.effect, b.effect]),
                      line=cat([a.line, b.line]), post=cat([a.post, b.post]))
    out.xyz, out.cov, out.coslat = cat([a.xyz, b.xyz]), cat([a.cov, b.cov]), cat([a.coslat, b.coslat])
    out.lo, out.hi = cat([a.lo, b.lo]), cat([a.hi, b.hi])
    return out
