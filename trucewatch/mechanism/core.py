"""Cases and their state machine, with deadlines from the mission config.

Pure logic: no SQL, no HTTP.  Time comes from an injectable clock (a callable
returning Unix seconds) so tests drive deadlines with :class:`FakeClock`.

A case runs received -> acknowledged -> assessed -> tasked -> investigated ->
decided -> published, one step at a time (CTSAMVM's allegation cycle: the
chair acknowledges and opens a preliminary investigation, a team is tasked,
the report is decided and published).  A step that skips one is refused with
the steps that are allowed next.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trucewatch.errors import TruceWatchError
from trucewatch.model import to_utc

#: Dates an allegation may carry (as the API bounds its query dates).
TIME_MIN = datetime(1970, 1, 1, tzinfo=UTC)
TIME_MAX = datetime(2200, 1, 1, tzinfo=UTC)

Clock = Callable[[], float]


def system_clock() -> float:
    return time.time()


class FakeClock:
    """A clock tests move by hand (``clock.advance(3600)``)."""

    def __init__(self, start: float) -> None:
        self.t = float(start)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += float(seconds)
        return self.t


class CaseState(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ASSESSED = "assessed"
    TASKED = "tasked"
    INVESTIGATED = "investigated"
    DECIDED = "decided"
    PUBLISHED = "published"


class Decision(StrEnum):
    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    COULD_NOT_BE_ATTRIBUTED = "could_not_be_attributed"


#: Action name -> the state it leads to.
ACTIONS: dict[str, CaseState] = {
    "acknowledge": CaseState.ACKNOWLEDGED,
    "assess": CaseState.ASSESSED,
    "task": CaseState.TASKED,
    "investigate": CaseState.INVESTIGATED,
    "decide": CaseState.DECIDED,
    "publish": CaseState.PUBLISHED,
}
ORDER: list[CaseState] = list(CaseState)
#: The only transitions a case allows: one step forward.
NEXT: dict[CaseState, tuple[str, ...]] = {
    s: tuple(a for a, t in ACTIONS.items() if ORDER.index(t) == ORDER.index(s) + 1) for s in CaseState
}


class MechanismError(TruceWatchError, ValueError):
    """A refused request; ``field`` names what was wrong, ``status`` is the HTTP code it maps to."""

    def __init__(self, field_name: str, message: str, status: int = 422, **extra: Any) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message
        self.status = status
        self.extra = extra

    def detail(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, **self.extra}


class MechanismConfig(BaseModel):
    """The mechanism's rhythm (mission config, ``mechanism:`` in the service config).

    Defaults follow docs/workflow.md: acknowledge within 1 h, assess within
    24 h, task within 24 h (CTSAMVM dispatches a team within 24 h), verify a
    party's request within 48 h (Sinai MFO), publish in the next daily report
    (OSCE SMM cut-off 19:30), inspect each holding site at least twice a month.
    """

    model_config = ConfigDict(extra="forbid")

    acknowledge_s: float = Field(default=3600.0, gt=0)
    assess_s: float = Field(default=86_400.0, gt=0)
    task_s: float = Field(default=86_400.0, gt=0)
    #: Verification (investigated) of an allegation a party's liaison made.
    party_request_verify_s: float = Field(default=48 * 3600.0, gt=0)
    #: Daily report cut-off (UTC, HH:MM): a decided case is due in the next one.
    daily_cutoff: str = Field(default="19:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    #: Public allegations through the rate-limited form (off unless the mission enables it).
    public_allegations: bool = False
    public_rate_per_hour: int = Field(default=5, ge=1)
    max_attachment_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    max_attachments: int = Field(default=10, ge=0)
    #: Holding sites: days between inspections (15: at least twice a month).
    inspection_interval_days: float = Field(default=15.0, gt=0)
    #: Sensor health: a heartbeat gap longer than this is an outage.
    outage_min_s: float = Field(default=1800.0, gt=0)
    #: Outages of sensors within this distance of the contact line become findings.
    near_line_km: float = Field(default=30.0, gt=0)
    #: Interference evidence within this distance and time makes an outage "suspected interference".
    interference_radius_km: float = Field(default=25.0, gt=0)
    #: An acoustic sensor without a coverage polygon hears this far (the locator's default range).
    acoustic_range_km: float = Field(default=20.0, gt=0)
    #: A task's "not seen" needs at least this share of its area covered.
    min_coverage: float = Field(default=0.9, gt=0, le=1)
    #: Key file of the mission's allegation-signing key (Ed25519 seed, hex); None: a per-process key.
    signing_key_file: str | None = None


# ----------------------------------------------------------------- cases
@dataclass
class Step:
    """One step of a case, attributed and kept forever."""

    case_id: str
    action: str
    from_state: str | None
    to_state: str | None
    actor: str
    at: float
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    id: str
    state: CaseState
    received_at: float
    #: Made on a party's request (a liaison's allegation): the 48 h verification clock applies.
    party_request: bool = False
    decision: Decision | None = None
    steps: list[Step] = field(default_factory=list)

    def reached(self) -> dict[str, float]:
        """State -> the time the case reached it."""
        out = {CaseState.RECEIVED.value: self.received_at}
        for s in self.steps:
            if s.to_state and s.to_state not in out:
                out[s.to_state] = s.at
        return out


def allowed_next(state: CaseState | str) -> list[str]:
    return list(NEXT[CaseState(state)])


def advance(case: Case, action: str, actor: str, reason: str, now: float, *,
            decision: Decision | str | None = None, data: dict[str, Any] | None = None) -> Step:
    """The step ``action`` takes on ``case`` now, or MechanismError (409 with the allowed next steps)."""
    if action not in ACTIONS:
        raise MechanismError("action", f"unknown action {action!r}; actions: {', '.join(ACTIONS)}")
    if not actor or not str(actor).strip():
        raise MechanismError("actor", "every step names who took it")
    target = ACTIONS[action]
    nxt = allowed_next(case.state)
    if action not in nxt:
        raise MechanismError("action", f"{case.id}: {case.state.value} -> {target.value} skips or repeats a step; "
                             f"allowed next: {', '.join(nxt) or 'none (published)'}", status=409, allowed_next=nxt)
    d = dict(data or {})
    if target == CaseState.DECIDED:
        if decision is None:
            raise MechanismError("decision", "a decision is one of " + ", ".join(x.value for x in Decision))
        try:
            d["decision"] = Decision(decision).value
        except ValueError:
            raise MechanismError("decision", f"{decision!r} is not one of "
                                 + ", ".join(x.value for x in Decision)) from None
    elif decision is not None:
        raise MechanismError("decision", f"only the decide step takes a decision, not {action}")
    return Step(case_id=case.id, action=action, from_state=case.state.value, to_state=target.value,
                actor=str(actor), at=float(now), reason=str(reason or ""), data=d)


def next_cutoff(t: float, cutoff: str) -> float:
    """The first daily-report cut-off (UTC ``HH:MM``) at or after ``t``."""
    hh, mm = (int(x) for x in cutoff.split(":"))
    d = datetime.fromtimestamp(t, UTC)
    c = d.replace(hour=hh, minute=mm, second=0, microsecond=0)
    if c < d:
        c += timedelta(days=1)
    return c.timestamp()


def deadlines(case: Case, cfg: MechanismConfig, now: float) -> list[dict[str, Any]]:
    """Per step: when it is due, when it was done, and whether it is (or was) late.

    Each deadline runs from the step before it (acknowledge from receipt, assess
    from acknowledgement, task from assessment); while the step before is still
    pending the due time is provisional, counted from that step's own due time.
    Verification on a party's request is due 48 h after receipt; publication at
    the first daily cut-off after the decision.
    """
    reached = case.reached()
    out: list[dict[str, Any]] = []

    def add(step: str, state: CaseState, due: float | None, provisional: bool) -> None:
        done = reached.get(state.value)
        late = due is not None and ((done is None and now > due) or (done is not None and done > due))
        out.append({"step": step, "state": state.value, "due": due, "done_at": done, "provisional": provisional,
                    "overdue": bool(due is not None and done is None and now > due), "late": bool(late),
                    "remaining_s": None if due is None or done is not None else due - now})

    base = case.received_at
    ack_due = base + cfg.acknowledge_s
    add("acknowledge", CaseState.ACKNOWLEDGED, ack_due, False)
    t_ack = reached.get(CaseState.ACKNOWLEDGED.value)
    assess_due = (t_ack if t_ack is not None else ack_due) + cfg.assess_s
    add("assess", CaseState.ASSESSED, assess_due, t_ack is None)
    t_ass = reached.get(CaseState.ASSESSED.value)
    task_due = (t_ass if t_ass is not None else assess_due) + cfg.task_s
    add("task", CaseState.TASKED, task_due, t_ass is None)
    add("investigate", CaseState.INVESTIGATED, base + cfg.party_request_verify_s if case.party_request else None,
        False)
    add("decide", CaseState.DECIDED, None, False)
    t_dec = reached.get(CaseState.DECIDED.value)
    add("publish", CaseState.PUBLISHED, next_cutoff(t_dec, cfg.daily_cutoff) if t_dec is not None else None,
        False)
    return out


def overdue(case: Case, cfg: MechanismConfig, now: float) -> list[str]:
    """Steps of ``case`` past their due time and not done."""
    return [d["step"] for d in deadlines(case, cfg, now) if d["overdue"]]


# ------------------------------------------------------------ allegations
ASSET_KINDS = ("monitor_team", "drone_patrol", "sensor_operator")


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    content_type: str = Field(default="application/octet-stream", max_length=100)
    data_base64: str = Field(min_length=1)


class AllegationIn(BaseModel):
    """An allegation as submitted (API body).  Time and place are checked by :func:`check_allegation`,
    which names the missing field."""

    model_config = ConfigDict(extra="forbid")
    time: datetime | None = None
    time_from: datetime | None = None
    time_to: datetime | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    area: dict[str, Any] | None = None
    place_name: str | None = Field(default=None, min_length=1, max_length=200)
    type: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=20_000)
    #: The party the allegation accuses, when the submitter names one.
    accused_party: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
    attachments: list[Attachment] = Field(default_factory=list)
    #: Observations already in the evidence log that back the allegation (e.g. the party's own
    #: statement, signed with its registered source key and sent through POST /observations).
    observation_ids: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("time", "time_from", "time_to")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        u = to_utc(v)  # a ValueError (named field, 422) for a date that has no UTC time
        if not TIME_MIN <= u <= TIME_MAX:
            raise ValueError(f"{v.isoformat()} is outside {TIME_MIN.year}..{TIME_MAX.year}")
        return u
