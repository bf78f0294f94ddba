"""The data model: where every pipeline stage meets.

Sources produce Observations; fusion groups Observations into Events;
adjudication judges Events against the Agreement and yields Violations, whose
status moves through the verification workflow.  pydantic models are used at
the edges (files, API, store rows); hot paths convert lists of observations to
:class:`ObservationArrays` (plain numpy columns) and never loop per item.

Conventions (documented in docs/formats.md):
- times are timezone-aware UTC ``datetime``; arrays hold float unix seconds;
- positions are WGS84 degrees; uncertainties are 95 % ellipses in metres with
  the major-axis azimuth in degrees clockwise from north;
- a party is a short code from the agreement (``UA``, ``RU``); ``undetermined``
  means the evidence cannot put the origin on one side beyond its uncertainty.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

UNDETERMINED = "undetermined"
NEUTRAL = "neutral"

#: Observations further in the future than this (clock skew allowance) are rejected.
MAX_FUTURE_SKEW = timedelta(minutes=5)
#: An uncertainty below this is treated as a mistake, not precision (no sensor is better).
MIN_ERROR_M = 1.0
#: An uncertainty above this says nothing about place (half of Ukraine's width).
MAX_ERROR_M = 500_000.0


#: Called once, the first time a kind outside the built-in members is met, so that
#: plugins declared through entry points can extend the kinds before the value is
#: refused (``trucewatch.plugins`` installs its loader here; the model imports nothing).
KIND_RESOLVERS: list[Callable[[], None]] = []


class ExtensibleKind(StrEnum):
    """A StrEnum that plugins may extend with new values (:meth:`extend`).

    Why: a mission adds a source kind or a rule through a plugin without forking the
    model.  An extended value is a real member (``Rule("x").value == "x"``, pydantic
    validates it), but only once declared: an undeclared value is still refused.
    """

    @classmethod
    def extend(cls, value: str) -> ExtensibleKind:
        """Declare ``value`` a member (idempotent); returns the member."""
        if not isinstance(value, str) or not value or not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"{cls.__name__}: {value!r} is not a kind name (letters, digits, _ and -)")
        existing = cls._value2member_map_.get(value)
        if existing is not None:
            return existing  # type: ignore[return-value]
        member = str.__new__(cls, value)
        member._name_ = value.upper().replace("-", "_")
        member._value_ = value
        cls._value2member_map_[value] = member
        _EXTENDED.setdefault(cls.__name__, []).append(value)
        return member

    @classmethod
    def extended(cls) -> list[str]:
        """The values plugins added (not in ``list(cls)``, which holds the built-ins)."""
        return list(_EXTENDED.get(cls.__name__, []))

    @classmethod
    def _missing_(cls, value: object) -> Any:
        while KIND_RESOLVERS:
            KIND_RESOLVERS.pop(0)()
        return cls._value2member_map_.get(value) if isinstance(value, str) else None


_EXTENDED: dict[str, list[str]] = {}


class SourceKind(ExtensibleKind):
    ACOUSTIC_SENSOR = "acoustic_sensor"
    ACOUSTIC_NETWORK = "acoustic_network"  # the locator that turns arrivals into fixes
    DRONE = "drone"
    SATELLITE = "satellite"
    RADAR = "radar"
    MONITOR_TEAM = "monitor_team"
    OPEN_SOURCE = "open_source"  # Telegram channel, news outlet, feed
    PARTY_STATEMENT = "party_statement"  # a party's official channel
    AIR_DEFENCE = "air_defence"
    AIS = "ais"
    SIMULATOR = "simulator"


class ObservationKind(StrEnum):
    EXPLOSION = "explosion"  # heard or seen, launch/impact unknown
    LAUNCH = "launch"
    IMPACT = "impact"
    THERMAL_ANOMALY = "thermal_anomaly"
    DAMAGE = "damage"  # radar or imagery change
    WEAPON_SIGHTING = "weapon_sighting"
    REPORT_CLAIM = "report_claim"
    INTERFERENCE = "interference"
    AIR_TRACK = "air_track"
    AIR_SUMMARY = "air_summary"
    VESSEL_INCIDENT = "vessel_incident"


#: Stable small integers for kinds, used in numpy arrays.
KIND_CODES: dict[ObservationKind, int] = {k: i for i, k in enumerate(ObservationKind)}


class Rule(ExtensibleKind):
    """Rule kinds an agreement may contain (``rules:`` in the agreement file); plugins add theirs."""

    FIRE_ACROSS_LINE = "fire_across_line"
    HEAVY_WEAPON_IN_ZONE = "heavy_weapon_in_zone"
    STRIKE_ON_PROTECTED_OBJECT = "strike_on_protected_object"
    FLIGHT_ACROSS_LINE = "flight_across_line"
    INTERFERENCE_WITH_MONITORS = "interference_with_monitors"
    NAVAL_VESSEL_IN_ZONE = "naval_vessel_in_zone"
    LAUNCH_FROM_TERRITORY = "launch_from_territory"


class Status(StrEnum):
    """Verification workflow states (see trucewatch.adjudication.workflow)."""

    DETECTED = "detected"
    CORROBORATED = "corroborated"
    VERIFIED = "verified"
    NOTIFIED = "notified"
    CONTESTED = "contested"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted.

    ValueError (not OverflowError) when the offset pushes the instant out of
    years 1-9999, so model validation names the field instead of crashing.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 9999-12-31 at -14:00, 0001-01-01 at +14:00: a ValueError, so validators name the field
        raise ValueError(f"{value.isoformat()} is outside the years 1-9999 in UTC") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


class Source(_Model):
    """Anything that produces observations: a sensor, a drone, a feed adapter, a team."""

    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\-/@]+$")
    kind: SourceKind
    #: The party a source belongs to (a party's official channel) or ``neutral``.
    party: str = NEUTRAL
    name: str = ""
    #: Ed25519 public key, hex; required by the ledger for signed ingest.
    public_key: str | None = None
    #: Prior probability that a claim from this source is right; learned by fusion.
    reliability: float = Field(default=0.8, ge=0.0, le=1.0)
    #: Position for fixed sensors (hidden from the public view).
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    attributes: dict[str, Any] = Field(default_factory=dict)


class Location(_Model):
    """A point with a 95 % uncertainty ellipse, optionally a footprint polygon."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    err_major_m: float = Field(default=100.0, gt=0)
    err_minor_m: float = Field(default=100.0, gt=0)
    err_angle_deg: float = 0.0
    #: GeoJSON geometry (Polygon/MultiPolygon) when the footprint is not an ellipse.
    footprint: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _check(self) -> Location:
        if not (math.isfinite(self.lat) and math.isfinite(self.lon)):
            raise ValueError("lat/lon must be finite numbers")
        if self.err_minor_m > self.err_major_m:
            self.err_major_m, self.err_minor_m = self.err_minor_m, self.err_major_m
            self.err_angle_deg = (self.err_angle_deg + 90.0) % 180.0
        if self.err_major_m > MAX_ERROR_M:
            raise ValueError(f"err_major_m {self.err_major_m} exceeds {MAX_ERROR_M} m: not a location")
        return self


class Observation(_Model):
    """One thing one source saw, heard or reported, with its uncertainty."""

    id: str = Field(min_length=1, max_length=200)
    source_id: str = Field(min_length=1, max_length=200)
    kind: ObservationKind
    time: datetime
    #: One-sigma time uncertainty in seconds (text reports: half their window).
    time_sigma_s: float = Field(default=1.0, ge=0)
    location: Location
    attributes: dict[str, Any] = Field(default_factory=dict)
    #: SHA-256 hex of the raw payload the source sent (for the ledger and audit).
    payload_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    #: Ed25519 signature (base64) over the canonical encoding; see trucewatch.ledger.
    signature: str | None = None
    #: Index of this observation in the evidence log, once appended.
    ledger_index: int | None = None

    @field_validator("time")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return to_utc(v)

    def check_plausible(self, now: datetime | None = None) -> None:
        """Raise ValueError naming the field when the observation cannot be real."""
        now = now or utcnow()
        if self.time > now + MAX_FUTURE_SKEW:
            raise ValueError(f"time: {self.time.isoformat()} is in the future (now {now.isoformat()})")
        if self.location.err_major_m < MIN_ERROR_M:
            raise ValueError(f"location.err_major_m: {self.location.err_major_m} m is below {MIN_ERROR_M} m")

    @property
    def t(self) -> float:
        return self.time.timestamp()


class Event(_Model):
    """Observations fused into one real-world happening."""

    id: str
    kind: str  # fire, strike, weapon_presence, flight, interference, vessel, fire_thermal
    time: datetime
    time_sigma_s: float = 0.0
    #: Where the effect happened (impact, sighting, fire).
    location: Location
    #: Where it came from (launch position), when known.
    origin: Location | None = None
    observation_ids: list[str] = Field(default_factory=list)
    #: Probability the event is real, given the evidence (see docs/confidence.md).
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    attributes: dict[str, Any] = Field(default_factory=dict)
    explanation: list[str] = Field(default_factory=list)


class Evidence(_Model):
    observation_id: str
    source_id: str
    kind: ObservationKind
    ledger_index: int | None = None
    summary: str = ""


class Violation(_Model):
    """An event judged against one rule of the agreement."""

    id: str
    event_id: str
    rule: Rule
    #: Attributed party code, or ``undetermined``.
    party: str
    confidence: float = Field(ge=0.0, le=1.0)
    status: Status = Status.DETECTED
    time: datetime
    location: Location
    origin: Location | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    explanation: str = ""
    attributes: dict[str, Any] = Field(default_factory=dict)


class Transition(_Model):
    """One step of a violation's verification workflow, kept forever."""

    violation_id: str
    from_status: Status | None
    to_status: Status
    actor: str
    reason: str = ""
    at: datetime = Field(default_factory=utcnow)
    #: For contests: ids of counter-evidence observations or free text references.
    counter_evidence: list[str] = Field(default_factory=list)


@dataclass(slots=True)
class ObservationArrays:
    """Columnar view of many observations for vectorized stages."""

    ids: np.ndarray  # object (str)
    source_idx: np.ndarray  # int32 index into ``sources``
    sources: list[str]
    kind: np.ndarray  # int8 KIND_CODES
    t: np.ndarray  # float64 unix seconds
    t_sigma: np.ndarray  # float64 s
    lat: np.ndarray
    lon: np.ndarray
    err_major: np.ndarray  # 95 % ellipse, m
    err_minor: np.ndarray
    err_angle: np.ndarray  # deg from north

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @classmethod
    def from_observations(cls, obs: list[Observation]) -> ObservationArrays:
        sources: dict[str, int] = {}
        src_idx = np.fromiter((sources.setdefault(o.source_id, len(sources)) for o in obs), np.int32, len(obs))
        return cls(
            ids=np.array([o.id for o in obs], dtype=object),
            source_idx=src_idx,
            sources=list(sources),
            kind=np.fromiter((KIND_CODES[o.kind] for o in obs), np.int8, len(obs)),
            t=np.fromiter((o.time.timestamp() for o in obs), np.float64, len(obs)),
            t_sigma=np.fromiter((o.time_sigma_s for o in obs), np.float64, len(obs)),
            lat=np.fromiter((o.location.lat for o in obs), np.float64, len(obs)),
            lon=np.fromiter((o.location.lon for o in obs), np.float64, len(obs)),
            err_major=np.fromiter((o.location.err_major_m for o in obs), np.float64, len(obs)),
            err_minor=np.fromiter((o.location.err_minor_m for o in obs), np.float64, len(obs)),
            err_angle=np.fromiter((o.location.err_angle_deg for o in obs), np.float64, len(obs)),
        )


def from_unix(t: float) -> datetime:
    return datetime.fromtimestamp(float(t), tz=UTC)


def revoked_at(source: Source) -> datetime | None:
    """When the source was revoked (``attributes.revoked_at``), if it was.

    Here, not in a stage, because fusion (which drops a revoked source's later
    observations) and adjudication (which refuses to verify on its evidence) both need it.
    """
    v = source.attributes.get("revoked_at")
    if v is None or v == "":
        return None
    try:
        if isinstance(v, datetime):
            return to_utc(v)
        if isinstance(v, int | float):
            return from_unix(v)
        return to_utc(datetime.fromisoformat(str(v).replace("Z", "+00:00")))
    except (ValueError, OverflowError, OSError):
        # An unreadable revocation time still means revoked: fail safe.
        return datetime(1970, 1, 1, tzinfo=UTC)


__all__ = [
    "KIND_CODES",
    "KIND_RESOLVERS",
    "NEUTRAL",
    "UNDETERMINED",
    "Event",
    "Evidence",
    "ExtensibleKind",
    "Location",
    "Observation",
    "ObservationArrays",
    "ObservationKind",
    "Rule",
    "Source",
    "SourceKind",
    "Status",
    "Transition",
    "Violation",
    "from_unix",
    "revoked_at",
    "sha256_hex",
    "to_utc",
    "utcnow",
]
