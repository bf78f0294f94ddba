"""The mechanism's API (issue 19): allegations, cases, tasks, replies and contests,
findings, obstruction, sensor health, holding sites, pre-notifications,
corrections, spot and weekly reports.

Mounted by ``create_app`` (``app.include_router(mechanism_router(...))``).  The
role table is in docs/service.md and docs/workflow.md.  As elsewhere, things
outside a caller's view are 404 (their existence does not leak); a liaison
acting on another party's finding it can see is 403.
"""


import collections
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from trucewatch.mechanism import reports as R
from trucewatch.mechanism.core import ASSET_KINDS, AllegationIn, MechanismConfig, MechanismError
from trucewatch.mechanism.mission import SETTINGS_KEY, Mechanism
from trucewatch.service import security as SX
from trucewatch.service.auth import Principal, Role
from trucewatch.store.mechanism import ConflictError

#: The service's one naming for time parameters (from/to; t_from/t_to are renamed to them before
#: routing by service.params), bounded to 1970..2200 like every other date the API takes.
TFrom = Annotated[SX.Instant | None, Query(alias="from", description="ISO 8601; inclusive; 1970..2200 (alias: t_from)")]
TTo = Annotated[SX.Instant | None, Query(alias="to", description="ISO 8601; exclusive; 1970..2200 (alias: t_to)")]

API = "/api/v1"
PARTY_RE = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"
Id = Annotated[str, PathParam(min_length=1, max_length=200)]
A, N, M, L, P = Role.ADMINISTRATOR, Role.ANALYST, Role.MONITOR, Role.LIAISON, Role.PUBLIC


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _utc(v: datetime) -> float:
    return (v.replace(tzinfo=UTC) if v.tzinfo is None else v).timestamp()


class StepBody(_Body):
    reason: str = Field(default="", max_length=4000)
    decision: Literal["substantiated", "unsubstantiated", "could_not_be_attributed"] | None = None


class LinkBody(_Body):
    violations: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=500)
    observations: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=500)
    findings: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=500)
    reason: str = Field(default="", max_length=4000)


class TaskBody(_Body):
    #: Monitors and sensors only: a monitor team, a drone patrol or a sensor operator.  No weapon, ever.
    asset_kind: str = Field(description="one of " + ", ".join(ASSET_KINDS))
    asset_id: str = Field(min_length=1, max_length=200)
    area: dict[str, Any]
    t_from: SX.Instant
    t_to: SX.Instant
    instructions: str = Field(default="", max_length=4000)
    case_id: str | None = Field(default=None, max_length=64)


class TaskResultBody(_Body):
    seen: bool
    observation_ids: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=5000)
    covered: list[dict[str, Any]] = Field(default_factory=list, max_length=500)
    note: str = Field(default="", max_length=4000)


class ReplyBody(_Body):
    target_kind: Literal["violation", "finding"] = "violation"
    target_id: str = Field(min_length=1, max_length=200)
    kind: Literal["reply", "contest"]
    reason: str = Field(min_length=1, max_length=4000)
    counter_evidence: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list,
                                                                                       max_length=200)


class ReviewBody(_Body):
    reason: str = Field(min_length=1, max_length=4000)
    outcome: Literal["upheld", "partly_upheld", "rejected", "noted"] | None = None


class FindingChangeBody(_Body):
    reason: str = Field(min_length=1, max_length=4000)
    changes: dict[str, str] | None = None


class DenialBody(_Body):
    time: datetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    party: str = Field(pattern=PARTY_RE, description="the party that denied access, or undetermined")
    patrol: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    task_id: str | None = Field(default=None, max_length=64)


class Heartbeat(_Body):
    sensor_id: str = Field(min_length=1, max_length=200)
    at: datetime
    status: Literal["ok", "maintenance"] = "ok"


class HeartbeatsBody(_Body):
    heartbeats: list[Heartbeat] = Field(min_length=1, max_length=100_000)


class WindowBody(_Body):
    t_from: SX.Instant
    t_to: SX.Instant


class SiteBody(_Body):
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")
    party: str = Field(pattern=PARTY_RE)
    name: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=500.0, gt=0, le=50_000)


class Item(_Body):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    cls: str = Field(alias="class", min_length=1, max_length=100)
    count: int = Field(default=0, ge=0, le=1_000_000)
    serials: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list,
                                                                              max_length=100_000)

    def plain(self) -> dict[str, Any]:
        return {"class": self.cls, "count": self.count or len(self.serials), "serials": list(self.serials)}


class InventoryBody(_Body):
    items: list[Item] = Field(max_length=10_000)


class InspectionBody(_Body):
    items: list[Item] = Field(max_length=10_000)
    at: datetime | None = None
    note: str = Field(default="", max_length=4000)


class PrenotificationBody(_Body):
    party: str | None = Field(default=None, pattern=PARTY_RE, description="administrators only; a liaison's own party")
    kind: Literal["repairs", "demining", "exercise", "other"]
    area: dict[str, Any]
    t_from: SX.Instant
    t_to: SX.Instant
    description: str = Field(default="", max_length=4000)


class DecisionBody(_Body):
    accept: bool
    reason: str = Field(min_length=1, max_length=4000)

    @field_validator("reason")
    @classmethod
    def _strip(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("every step says why")
        return v


def mechanism_router(store: Any, agreement: Any, config: Any, views: Any,
                     require: Callable[..., Any]) -> tuple[APIRouter, Mechanism]:
    """The router and the :class:`Mechanism` it drives (``app.state.mechanism``: tests swap its clock)."""
    mcfg: MechanismConfig = getattr(config, "mechanism", None) or MechanismConfig()
    mech = Mechanism(store, mcfg, agreement=agreement, public_statuses=config.public_statuses)
    # reports built outside a request (CLI, the daily report) use the deployment's deadlines too
    store.set_setting(SETTINGS_KEY, {k: v for k, v in mcfg.model_dump().items() if k != "signing_key_file"})
    router = APIRouter(prefix=API)
    rate: dict[str, collections.deque[float]] = {}
    rate_lock = threading.Lock()

    def dep(*roles: Role) -> Any:
        return Depends(require(*roles))

    def run(fn: Callable[..., Any], *a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except MechanismError as exc:
            raise HTTPException(exc.status, exc.detail()) from None
        except ConflictError as exc:
            raise HTTPException(409, {"field": "state", "message": str(exc)}) from None

    def party_of(p: Principal, given: str | None = None) -> str:
        if p.role == L:
            if given is not None and given != p.party:
                raise HTTPException(403, {"field": "party", "message": f"a liaison of {p.party} speaks for {p.party} only"})
            return str(p.party)
        if not given:
            raise HTTPException(422, {"field": "party", "message": "name the party"})
        return given

    # ---------------------------------------------------------------- cases
    def visible_case(p: Principal, row: dict[str, Any]) -> bool:
        if p.role in (A, N):
            return True
        if p.role == L:
            return p.party in (row["accused_party"], row["submitter_party"])
        if p.role == M:
            return row["submitted_by"] == p.actor
        return row["state"] == "published"

    @router.get("/mechanism/settings", tags=["mechanism"])
    def settings(p: Principal = dep(A, N, M, L, P)) -> dict[str, Any]:
        """The mechanism's published rhythm: deadlines, inspection cadence, whether the public may allege."""
        return {k: v for k, v in mcfg.model_dump().items() if k != "signing_key_file"}

    @router.post("/allegations", tags=["mechanism"])
    def post_allegation(body: AllegationIn, request: Request, p: Principal = dep(A, N, M, L, P)) -> dict[str, Any]:
        """An allegation: hashed, signed by the mission and appended to the evidence log; opens a case."""
        if p.role == P:
            if not mcfg.public_allegations:
                raise HTTPException(403, "the mission does not take public allegations (mechanism.public_allegations)")
            now = mech.clock()
            # per token and client address: a public form shares one token among many people
            key = f"{p.token_id}:{request.client.host if request.client else '-'}"
            with rate_lock:
                if len(rate) > 100_000:
                    rate.clear()
                q = rate.setdefault(key, collections.deque())
                while q and q[0] < now - 3600:
                    q.popleft()
                if len(q) >= mcfg.public_rate_per_hour:
                    raise HTTPException(429, f"at most {mcfg.public_rate_per_hour} public allegations an hour",
                                        headers={"Retry-After": str(int(q[0] + 3600 - now) + 1)})
                q.append(now)
        return run(mech.submit_allegation, body, actor=p.actor, role=p.role.value, party=p.party)

    @router.get("/cases", tags=["mechanism"])
    def list_cases(p: Principal = dep(A, N, M, L, P),
                   state: Annotated[list[str] | None, Query(max_length=7)] = None,
                   overdue: bool = False, limit: Annotated[int, Query(ge=1, le=5000)] = 500,
                   offset: Annotated[int, Query(ge=0)] = 0) -> list[dict[str, Any]]:
        party = p.party if p.role == L else None
        states = ["published"] if p.role == P else state
        rows = run(mech.list_cases, party=party, states=states, overdue_only=overdue, limit=limit, offset=offset)
        rows = [c for c in rows if p.role != M or visible_case(p, mech.get_case_row(c["id"]))]
        return [R.redact_case(c, p) for c in rows]

    def case_for(p: Principal, case_id: str) -> dict[str, Any]:
        row = run(mech.get_case_row, case_id)
        if not visible_case(p, row):
            raise HTTPException(404, {"field": "case_id", "message": f"{case_id}: no such case in your view"})
        return row

    @router.get("/cases/{case_id}", tags=["mechanism"])
    def get_case(case_id: Id, p: Principal = dep(A, N, M, L, P)) -> dict[str, Any]:
        case_for(p, case_id)
        return R.redact_case(run(mech.case_detail, case_id), p)

    def step_route(action: str) -> None:
        def step(case_id: Id, body: StepBody | None = None, p: Principal = dep(A, N)) -> dict[str, Any]:
            body = body or StepBody()
            case_for(p, case_id)
            return run(mech.step_case, case_id, action, actor=p.actor, reason=body.reason, decision=body.decision)

        step.__name__ = f"case_{action}"
        router.post(f"/cases/{{case_id}}/{action}", tags=["mechanism"],
                    summary=f"Case step: {action} (refused with the allowed next steps if it skips one)")(step)

    for _action in ("acknowledge", "assess", "task", "investigate", "decide", "publish"):
        step_route(_action)

    @router.post("/cases/{case_id}/links", tags=["mechanism"])
    def link_case(case_id: Id, body: LinkBody, p: Principal = dep(A, N)) -> dict[str, Any]:
        case_for(p, case_id)
        return run(mech.link, case_id, actor=p.actor, violations=body.violations, observations=body.observations,
                   findings=body.findings, reason=body.reason)

    @router.get("/steps/verify", tags=["mechanism"])
    def verify_steps(p: Principal = dep(A, N)) -> dict[str, Any]:
        """Re-check the append-only step chain and its anchors in the signed evidence log."""
        return mech.verify_steps()

    # ---------------------------------------------------------------- tasks
    @router.post("/tasks", tags=["mechanism"])
    def post_task(body: TaskBody, p: Principal = dep(A, N)) -> dict[str, Any]:
        """Task a monitor team, drone patrol or sensor operator to observe an area in a window (no weapon, ever)."""
        return run(mech.create_task, actor=p.actor, asset_kind=body.asset_kind, asset_id=body.asset_id, area=body.area,
                   t_from=_utc(body.t_from), t_to=_utc(body.t_to), instructions=body.instructions,
                   case_id=body.case_id)

    @router.get("/tasks", tags=["mechanism"])
    def list_tasks(p: Principal = dep(A, N, M), state: Annotated[str | None, Query(max_length=20)] = None
                   ) -> list[dict[str, Any]]:
        return run(mech.list_tasks, asset_ids=list(p.source_ids) if p.role == M else None, state=state)

    def task_for(p: Principal, task_id: str) -> dict[str, Any]:
        t = run(mech.get_task, task_id)
        if p.role == M and t["asset_id"] not in p.source_ids:
            raise HTTPException(404, {"field": "task_id", "message": f"{task_id}: no such task for your assets"})
        return t

    @router.get("/tasks/{task_id}", tags=["mechanism"])
    def get_task(task_id: Id, p: Principal = dep(A, N, M)) -> dict[str, Any]:
        return mech._task_out(task_for(p, task_id))

    @router.post("/tasks/{task_id}/result", tags=["mechanism"])
    def task_result(task_id: Id, body: TaskResultBody, p: Principal = dep(A, N, M)) -> dict[str, Any]:
        """The result, with coverage: "not seen" only where the area was really observed."""
        task_for(p, task_id)
        return run(mech.complete_task, task_id, actor=p.actor, seen=body.seen, observation_ids=body.observation_ids,
                   covered=body.covered, note=body.note)

    # ------------------------------------------------------ replies/contests
    @router.post("/replies", tags=["mechanism"])
    def post_reply(body: ReplyBody, p: Principal = dep(L)) -> dict[str, Any]:
        """A party's reply to, or contest of, a finding that concerns it (any status after notification)."""
        if body.target_kind == "violation" and views.get(p, body.target_id) is None:
            raise HTTPException(404, {"field": "target_id", "message": f"{body.target_id}: no such finding in your view"})
        if body.target_kind == "finding":  # another party's mechanism finding is outside the view: 404, not 403
            finding_for(p, body.target_id)
        return run(mech.reply, body.target_kind, body.target_id, kind=body.kind, party=str(p.party), actor=p.actor,
                   reason=body.reason, counter_evidence=body.counter_evidence)

    @router.get("/replies", tags=["mechanism"])
    def list_replies(p: Principal = dep(A, N, L), target_id: Annotated[str | None, Query(max_length=200)] = None
                     ) -> list[dict[str, Any]]:
        Rp = mech.T.replies
        if p.role == L and not p.party:
            return []  # fail closed: a liaison without a party sees no replies
        rows = mech.repo.select(Rp, {"party": p.party if p.role == L else None, "target_id": target_id or None},
                                order="created_at", limit=5000)
        return rows

    @router.get("/replies/{reply_id}", tags=["mechanism"])
    def get_reply(reply_id: Id, p: Principal = dep(A, N, L)) -> dict[str, Any]:
        r = run(mech.get_reply, reply_id)
        if p.role == L and r["party"] != p.party:
            raise HTTPException(404, {"field": "reply_id", "message": f"{reply_id}: not in your view"})
        return r | {"steps": mech.repo.steps([f"reply:{reply_id}"])}

    def review_route(action: str) -> None:
        def review(reply_id: Id, body: ReviewBody, p: Principal = dep(A, N)) -> dict[str, Any]:
            return run(mech.review, reply_id, action, actor=p.actor, reason=body.reason, outcome=body.outcome)

        review.__name__ = f"contest_{action}"
        router.post(f"/replies/{{reply_id}}/{action}", tags=["mechanism"],
                    summary=f"Contest: {action}" + (" (to the joint commission)" if action == "escalate" else ""))(review)

    for _a in ("review", "escalate", "resolve"):
        review_route(_a)

    # -------------------------------------------------------------- findings
    def findings_visible(p: Principal) -> dict[str, Any]:
        if p.role in (A, N):
            return {}
        if p.role == L:
            return {"party": p.party}
        return {"statuses": ["published", "changed"]}

    @router.get("/findings", tags=["mechanism"])
    def list_findings(p: Principal = dep(A, N, L, P), t_from: TFrom = None, t_to: TTo = None,
                      kind: Annotated[list[str] | None, Query(max_length=10)] = None) -> list[dict[str, Any]]:
        """Mechanism findings: obstruction, sensor outages, holding-site weapons."""
        rows = mech.repo.list_findings(t_from=_utc(t_from) if t_from else None, t_to=_utc(t_to) if t_to else None,
                                       kinds=kind, **findings_visible(p))
        return [R.redact_finding(f, p) for f in rows]

    def finding_for(p: Principal, fid: str) -> dict[str, Any]:
        f = mech.repo.get(mech.T.findings, fid)
        vis = findings_visible(p)
        if f is None or ("party" in vis and f["party"] != vis["party"]) or \
                ("statuses" in vis and f["status"] not in vis["statuses"]):
            raise HTTPException(404, {"field": "finding_id", "message": f"{fid}: no such finding in your view"})
        return f

    @router.get("/findings/{finding_id}", tags=["mechanism"])
    def get_finding(finding_id: Id, p: Principal = dep(A, N, L, P)) -> dict[str, Any]:
        return R.redact_finding(finding_for(p, finding_id), p)

    def finding_route(action: str) -> None:
        def change(finding_id: Id, body: FindingChangeBody, p: Principal = dep(A, N)) -> dict[str, Any]:
            return run(mech.change_finding, finding_id, action, actor=p.actor, reason=body.reason, changes=body.changes)

        change.__name__ = f"finding_{action}"
        router.post(f"/findings/{{finding_id}}/{action}", tags=["mechanism"])(change)

    for _a in ("publish", "change", "dismiss"):
        finding_route(_a)

    # ------------------------------------------------------------ obstruction
    @router.post("/obstruction/denials", tags=["mechanism"])
    def post_denial(body: DenialBody, p: Principal = dep(A, N, M)) -> dict[str, Any]:
        return run(mech.add_denial, actor=p.actor, t=_utc(body.time), lat=body.lat, lon=body.lon, party=body.party,
                   patrol=body.patrol, description=body.description, task_id=body.task_id)

    @router.get("/obstruction/freedom-of-movement", tags=["mechanism"])
    def fom(p: Principal = dep(A, N, M, L, P), t_from: TFrom = None, t_to: TTo = None) -> dict[str, Any]:
        """Per party: denials of access, sensor outages, suspected interference (published only, outside the mission)."""
        a = _utc(t_from) if t_from else 0.0
        b = _utc(t_to) if t_to else mech.clock() + 1
        statuses = None if p.role in (A, N, M) else ["published", "changed"]
        return {"from": a, "to": b, "rows": mech.freedom_of_movement(a, b, statuses=statuses)}

    @router.get("/obstruction/unobserved", tags=["mechanism"])
    def unobserved(day: date, p: Principal = dep(A, N, M),
                   seg_km: Annotated[float, Query(ge=1, le=100)] = 10.0) -> dict[str, Any]:
        """The day's unobserved segments of the contact line (GeoJSON), from sensor coverage, drone
        footprints and completed tasks; sensors silent most of the day do not count."""
        a = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        return run(mech.unobserved_segments, a, a + 86400, seg_km=seg_km)

    @router.post("/sensor-health/heartbeats", tags=["mechanism"])
    def heartbeats(body: HeartbeatsBody, p: Principal = dep(A, M)) -> dict[str, Any]:
        """The per-sensor heartbeat feed; a monitor token reports for its own sources only."""
        if p.role == M:
            bad = sorted({h.sensor_id for h in body.heartbeats} - set(p.source_ids))
            if bad:
                raise HTTPException(403, {"field": "heartbeats.sensor_id",
                                          "message": f"this token may not report for {', '.join(bad[:5])}"})
        return mech.add_heartbeats([{"sensor_id": h.sensor_id, "at": _utc(h.at), "status": h.status}
                                    for h in body.heartbeats])

    @router.post("/sensor-health/analyse", tags=["mechanism"])
    def analyse(body: WindowBody, p: Principal = dep(A, N)) -> dict[str, Any]:
        """Outages in the window; unexplained ones near the line become findings (suspected interference | unknown)."""
        return run(mech.analyse_sensor_health, _utc(body.t_from), _utc(body.t_to), actor=p.actor)

    # ---------------------------------------------------------- holding sites
    @router.post("/holding-sites", tags=["mechanism"])
    def post_site(body: SiteBody, p: Principal = dep(A, N, L)) -> dict[str, Any]:
        party = party_of(p, body.party)
        if agreement is not None and party not in agreement.parties:
            raise HTTPException(422, {"field": "party", "message": f"{party!r} is not a party to the agreement"})
        return run(mech.add_site, actor=p.actor, party=party, name=body.name, lat=body.lat, lon=body.lon,
                   radius_m=body.radius_m, site_id=body.id)

    @router.get("/holding-sites", tags=["mechanism"])
    def list_sites(p: Principal = dep(A, N, M, L)) -> list[dict[str, Any]]:
        """The register: sites, latest inventories, last inspection and the next one due."""
        return mech.sites(party=p.party if p.role == L else None)

    def site_for(p: Principal, site_id: str) -> dict[str, Any]:
        s = run(mech.get_site, site_id)
        if p.role == L and s["party"] != p.party:
            raise HTTPException(404, {"field": "site_id", "message": f"{site_id}: no such site in your view"})
        return s

    @router.post("/holding-sites/{site_id}/inventory", tags=["mechanism"])
    def inventory(site_id: Id, body: InventoryBody, p: Principal = dep(A, L)) -> dict[str, Any]:
        site_for(p, site_id)
        return run(mech.declare_inventory, site_id, [i.plain() for i in body.items], actor=p.actor)

    @router.post("/holding-sites/{site_id}/inspections", tags=["mechanism"])
    def inspect(site_id: Id, body: InspectionBody, p: Principal = dep(A, N, M)) -> dict[str, Any]:
        """Record present, missing and new; each missing weapon is a finding."""
        return run(mech.inspect, site_id, [i.plain() for i in body.items], actor=p.actor,
                   at=_utc(body.at) if body.at else None, note=body.note)

    @router.get("/holding-sites/{site_id}/inspections", tags=["mechanism"])
    def inspections(site_id: Id, p: Principal = dep(A, N, M, L)) -> list[dict[str, Any]]:
        site_for(p, site_id)
        return mech.inspections(site_id)

    @router.post("/holding-sites/cross-check", tags=["mechanism"])
    def cross_check(body: WindowBody, p: Principal = dep(A, N)) -> dict[str, Any]:
        """Weapon sightings with a serial: a declared serial outside its site is a finding."""
        return run(mech.cross_check_sightings, _utc(body.t_from), _utc(body.t_to), actor=p.actor)

    # ------------------------------------------------------ pre-notifications
    @router.post("/prenotifications", tags=["mechanism"])
    def post_prenotification(body: PrenotificationBody, p: Principal = dep(A, L)) -> dict[str, Any]:
        party = party_of(p, body.party)
        return run(mech.prenotify, actor=p.actor, party=party, kind=body.kind, area=body.area,
                   t_from=_utc(body.t_from), t_to=_utc(body.t_to), description=body.description)

    @router.get("/prenotifications", tags=["mechanism"])
    def list_prenotifications(p: Principal = dep(A, N, M, L),
                              state: Annotated[Literal["pending", "accepted", "rejected"] | None, Query()] = None
                              ) -> list[dict[str, Any]]:
        return mech.prenotifications(party=p.party if p.role == L else None, state=state)

    @router.post("/prenotifications/apply", tags=["mechanism"])
    def apply_prenotifications(p: Principal = dep(A, N)) -> dict[str, Any]:
        """Annotate observations and findings inside accepted windows (idempotent; run after new findings)."""
        return mech.apply_prenotifications(actor=p.actor)

    @router.post("/prenotifications/{prenotification_id}/decision", tags=["mechanism"])
    def decide_prenotification(prenotification_id: Id, body: DecisionBody, p: Principal = dep(A, N)) -> dict[str, Any]:
        return run(mech.decide_prenotification, prenotification_id, body.accept, actor=p.actor, reason=body.reason)

    @router.get("/prenotifications/{prenotification_id}/annotations", tags=["mechanism"])
    def pn_annotations(prenotification_id: Id, p: Principal = dep(A, N, M, L)) -> list[dict[str, Any]]:
        pn = mech.repo.get(mech.T.prenotifications, prenotification_id)
        if pn is None or (p.role == L and pn["party"] != p.party):
            raise HTTPException(404, {"field": "prenotification_id", "message": "no such pre-notification in your view"})
        An = mech.T.annotations_table
        return mech.repo.select(An, {"prenotification_id": prenotification_id}, order="seq")

    # ------------------------------------------------------------ corrections
    @router.get("/corrections", tags=["mechanism"])
    def corrections(p: Principal = dep(A, N, M, L, P), t_from: TFrom = None,
                    t_to: TTo = None) -> list[dict[str, Any]]:
        """Findings changed or dismissed after publication (public feed)."""
        rows = mech.corrections(_utc(t_from) if t_from else None, _utc(t_to) if t_to else None)
        return [R.redact_correction(c, p) for c in rows]

    # --------------------------------------------------------------- reports
    def _fmt(data: dict[str, Any], fmt: str) -> Any:
        if fmt == "html":
            return HTMLResponse(R.to_html(data))
        return JSONResponse(data)

    Fmt = Annotated[Literal["json", "html"], Query()]

    @router.get("/reports/spot", tags=["reports"])
    def spot_index(day: date, p: Principal = dep(A, N, L, P)) -> dict[str, Any]:
        """The day's spot reports in the caller's view: each case received and each serious
        mechanism finding made that day (UTC), with the link to its report."""
        a = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        b = a + 86400
        cases = [c for c in mech.list_cases(party=p.party if p.role == L else None,
                                            states=["published"] if p.role == P else None, limit=100_000)
                 if a <= datetime.fromisoformat(c["received_at"].replace("Z", "+00:00")).timestamp() < b]
        finds = mech.repo.list_findings(t_from=a, t_to=b, kinds=list(R.SERIOUS), **findings_visible(p))
        return {"day": day.isoformat(),
                "reports": [{"subject": f"case {c['id']}", "url": f"{API}/reports/spot/cases/{c['id']}"} for c in cases]
                + [{"subject": f"finding {f['id']} ({f['kind']})", "url": f"{API}/reports/spot/findings/{f['id']}"}
                   for f in finds]}

    @router.get("/reports/spot/cases/{case_id}", tags=["reports"])
    def spot_case(case_id: Id, p: Principal = dep(A, N, L, P), format: Fmt = "json") -> Any:
        """Spot report (same day) on one case, in the caller's view."""
        case_for(p, case_id)
        return _fmt(R.spot_case(mech, case_id, p), format)

    @router.get("/reports/spot/findings/{finding_id}", tags=["reports"])
    def spot_finding(finding_id: Id, p: Principal = dep(A, N, L, P), format: Fmt = "json") -> Any:
        """Spot report on one serious finding (mechanism finding), in the caller's view."""
        f = finding_for(p, finding_id)
        return _fmt(R.spot_finding(mech, f, p), format)

    @router.get("/reports/weekly/{week}", tags=["reports"])
    def weekly(week: Annotated[str, PathParam(pattern=r"^\d{4}-W\d{2}$", description="ISO week, 2026-W49")],
               p: Principal = dep(A, N, L, P), format: Fmt = "json") -> Any:
        """Weekly summary: findings, cases and deadlines, obstruction, holding sites, corrections; per role."""
        try:
            start = date.fromisoformat(f"{week}-1")
        except ValueError:
            raise HTTPException(422, {"field": "week", "message": f"{week}: not an ISO week"}) from None
        return _fmt(R.weekly(mech, views, start, p), format)

    return router, mech
