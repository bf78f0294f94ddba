"""The mechanism's operations: what the API (and the CLI or a scheduler) calls.

Each operation checks its input with the pure logic of this package, writes
through the store's mechanism repository (one transaction per operation, the
steps appended in the same transaction) and returns plain dicts.  Who may call
what is decided by the service (trucewatch.service.mechanism); these functions
take the acting ``actor`` string and, where it matters, the caller's party.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, shape

from trucewatch.adjudication.workflow import WorkflowError, transition
from trucewatch.mechanism import checks
from trucewatch.mechanism.core import (
    ASSET_KINDS,
    AllegationIn,
    Case,
    CaseState,
    Clock,
    Decision,
    MechanismConfig,
    MechanismError,
    Step,
    advance,
    allowed_next,
    deadlines,
    iso,
    system_clock,
)
from trucewatch.mechanism.evidence import log_allegation
from trucewatch.model import MAX_FUTURE_SKEW, ObservationKind, Status
from trucewatch.store import mechanism as T

#: Reply and contest states; outcomes a review or the joint commission records.
REPLY_KINDS = ("reply", "contest")
OUTCOMES = ("upheld", "partly_upheld", "rejected", "noted")
#: Finding kinds the mechanism makes.
FINDING_KINDS = ("sensor_outage", "denial_of_access", "weapon_missing", "declared_weapon_outside_site",
                 "interference")
#: Statuses from which a party may reply to a violation (after notification: verified is alerted to parties).
REPLY_FROM = {Status.VERIFIED, Status.NOTIFIED, Status.CONTESTED, Status.CONFIRMED, Status.DISMISSED}


#: Store setting holding the running service's mechanism config (for reports built elsewhere).
SETTINGS_KEY = "mechanism.config"


def stored_config(store: Any) -> MechanismConfig:
    """The mechanism config the service last ran with (defaults when none or unreadable)."""
    raw = store.get_setting(SETTINGS_KEY)
    try:
        return MechanismConfig.model_validate(raw) if isinstance(raw, dict) else MechanismConfig()
    except ValueError:
        return MechanismConfig()


def _id(prefix: str, now: float) -> str:
    return f"{prefix}-{datetime.fromtimestamp(now, UTC):%Y%m%d}-{secrets.token_hex(4)}"


def _canon(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


class Mechanism:
    """One deployment's mechanism: a store, the mission config, a clock and (optionally) the agreement."""

    def __init__(self, store: Any, config: MechanismConfig | None = None, *, clock: Clock = system_clock,
                 agreement: Any = None, public_statuses: Sequence[str] = ()) -> None:
        self.store = store
        self.repo = store.mechanism
        self.T = T
        self.cfg = config or MechanismConfig()
        self.clock = clock
        self.agreement = agreement
        self.public_statuses = set(public_statuses) or {"verified", "notified", "contested", "confirmed"}

    # ------------------------------------------------------------ allegations
    def submit_allegation(self, a: AllegationIn, *, actor: str, role: str, party: str | None) -> dict[str, Any]:
        """Check, log (signed, in the Merkle log) and open a case; returns case id and the receipt time."""
        now = self.clock()
        t_from, t_to = checks.window_of(a)
        if t_from > now + MAX_FUTURE_SKEW.total_seconds():
            raise MechanismError("time" if a.time is not None else "time_from", "is in the future")
        place = checks.place_of(a)
        atts = checks.hash_attachments(a, self.cfg)
        if a.observation_ids:
            have = {o.id: o for o in self.store.get_observations(list(a.observation_ids))}
            missing = [o for o in a.observation_ids if o not in have]
            if missing:
                raise MechanismError("observation_ids", f"not in the store: {', '.join(missing[:5])}")
            unlogged = [o for o in a.observation_ids if have[o].ledger_index is None]
            if unlogged:
                raise MechanismError("observation_ids", f"not in the evidence log (unsigned?): {', '.join(unlogged[:5])}")
        aid, case_id = _id("A", now), _id("C", now)
        if self.agreement is not None and a.accused_party and a.accused_party not in self.agreement.parties:
            raise MechanismError("accused_party", f"{a.accused_party!r} is not a party to the agreement")
        rec = {"id": aid, "case_id": case_id, "submitted_by": actor, "submitter_role": role, "submitter_party": party,
               "t_from": t_from, "t_to": t_to, "lat": place["lat"], "lon": place["lon"], "err_m": place["err_m"],
               "place": {"how": place["how"], "area": a.area, "place_name": a.place_name},
               "type": a.type, "description": a.description, "accused_party": a.accused_party,
               "attachments": [{k: x[k] for k in ("name", "content_type", "size", "sha256")} for x in atts],
               "cited_observations": list(a.observation_ids), "received_at": now}
        rec["content_hash"] = _canon({k: v for k, v in rec.items() if k != "received_at"})
        head = self.repo.steps_head()  # anchors every step so far in the signed log
        try:
            obs_id, ledger_index = log_allegation(self.store, rec | {"steps_head": head}, self.cfg.signing_key_file)
        except ValueError as exc:
            field, _, msg = str(exc).partition(": ")
            raise MechanismError(field or "allegation", msg or str(exc)) from None
        rec.update(observation_id=obs_id, ledger_index=ledger_index)
        T = self.T
        case_row = {"id": case_id, "state": CaseState.RECEIVED.value, "type": a.type, "received_at": now,
                    "party_request": int(role == "liaison"), "submitter_party": party, "accused_party": a.accused_party,
                    "submitted_by": actor, "lat": place["lat"], "lon": place["lon"], "decision": None,
                    "updated_at": now}
        self.repo.write(
            inserts=[(T.cases, case_row), (T.allegations, rec)]
            + [(T.attachments, {"sha256": x["sha256"], "allegation_id": aid, "name": x["name"],
                                "content_type": x["content_type"], "size": x["size"], "data": x["data"]})
               for x in {a["sha256"]: a for a in atts}.values() if self.repo.get(T.attachments, x["sha256"]) is None],
            step_rows=[{"subject": f"case:{case_id}", "action": "receive", "to_state": CaseState.RECEIVED.value,
                        "actor": actor, "reason": f"allegation {aid} ({a.type})", "at": now,
                        "data": {"allegation_id": aid, "content_hash": rec["content_hash"],
                                 "observation_id": obs_id, "ledger_index": ledger_index}}]
            + ([{"subject": f"case:{case_id}", "action": "link", "actor": actor, "at": now,
                 "reason": "evidence cited by the allegation",
                 "data": {"observations": list(a.observation_ids), "violations": [], "findings": []}}]
               if a.observation_ids else []))
        case = self._case(case_row)
        return {"case_id": case_id, "allegation_id": aid, "acknowledged_at": iso(now), "state": case.state.value,
                "content_hash": rec["content_hash"], "observation_id": obs_id, "ledger_index": ledger_index,
                "attachments": rec["attachments"], "place": place,
                "deadlines": self._deadlines(case, now)}

    # ------------------------------------------------------------------ cases
    def _case(self, row: dict[str, Any]) -> Case:
        steps = [Step(case_id=row["id"], action=s["action"], from_state=s["from_state"], to_state=s["to_state"],
                      actor=s["actor"], at=s["at"], reason=s["reason"], data=s["data"] or {})
                 for s in self.repo.steps([f"case:{row['id']}"])]
        return Case(id=row["id"], state=CaseState(row["state"]), received_at=row["received_at"],
                    party_request=bool(row["party_request"]),
                    decision=Decision(row["decision"]) if row["decision"] else None, steps=steps)

    def _deadlines(self, case: Case, now: float) -> list[dict[str, Any]]:
        out = deadlines(case, self.cfg, now)
        for d in out:
            d["due_iso"], d["done_iso"] = iso(d["due"]), iso(d["done_at"])
        return out

    def verify_steps(self) -> dict[str, Any]:
        """Re-check the step chain and its anchors: the ``steps_head`` each logged allegation
        carries (signed, in the Merkle log) must still be the hash at that seq."""
        n, broken = self.repo.verify_steps()
        A_ = self.T.allegations
        ids = [a["observation_id"] for a in self.repo.select(A_, {"observation_id": self.T.NOT_NULL})]
        heads = {}
        for chunk in range(0, len(ids), 500):
            for o in self.store.get_observations(ids[chunk:chunk + 500]):
                h = o.attributes.get("steps_head")
                if isinstance(h, dict) and int(h.get("seq") or 0) > 0:
                    heads[o.id] = (int(h["seq"]), str(h["hash"]))
        have = self.repo.step_hashes(sorted({s for s, _ in heads.values()}))
        bad = sorted(oid for oid, (seq, h) in heads.items() if have.get(seq) != h)
        return {"steps": n, "broken_at_seq": broken, "anchors_checked": len(heads), "anchor_mismatches": bad,
                "ok": broken is None and not bad}

    def get_case_row(self, case_id: str) -> dict[str, Any]:
        row = self.repo.case(case_id)
        if row is None:
            raise MechanismError("case_id", f"{case_id}: no such case", status=404)
        return row

    def case_summary(self, row: dict[str, Any], now: float | None = None) -> dict[str, Any]:
        now = self.clock() if now is None else now
        case = self._case(row)
        dl = self._deadlines(case, now)
        return {"id": row["id"], "type": row["type"], "state": row["state"], "decision": row["decision"],
                "received_at": iso(row["received_at"]), "lat": row["lat"], "lon": row["lon"],
                "accused_party": row["accused_party"], "submitter_party": row["submitter_party"],
                "party_request": bool(row["party_request"]), "allowed_next": allowed_next(case.state),
                "deadlines": dl, "overdue": [d["step"] for d in dl if d["overdue"]],
                "is_overdue": any(d["overdue"] for d in dl)}

    def list_cases(self, *, party: str | None = None, states: Sequence[str] | None = None,
                   overdue_only: bool = False, limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        now = self.clock()
        out = [self.case_summary(r, now) for r in self.repo.list_cases(states=states, party=party, limit=limit,
                                                                       offset=offset)]
        return [c for c in out if c["is_overdue"]] if overdue_only else out

    def case_detail(self, case_id: str) -> dict[str, Any]:
        """The case with its timeline: allegations, steps, decisions, tasks, findings, observations, replies."""
        row = self.get_case_row(case_id)
        out = self.case_summary(row)
        algs = self.repo.allegations_of(case_id)
        tasks = self.repo.tasks_of(case_id)
        finds = self.repo.findings_of(case_id)
        steps = self.repo.steps([f"case:{case_id}"] + [f"task:{t['id']}" for t in tasks])
        links: dict[str, list[str]] = {"violations": [], "observations": [], "findings": []}
        for s in steps:
            if s["action"] == "link":
                for k in links:
                    links[k] += [x for x in (s["data"] or {}).get(k, []) if x not in links[k]]
        obs_ids = [a["observation_id"] for a in algs if a["observation_id"]] + links["observations"]
        for t in tasks:
            obs_ids += [o for o in ((t["result"] or {}).get("observation_ids") or []) if o not in obs_ids]
        finding_ids = [f["id"] for f in finds] + links["findings"]
        replies = (self.repo.replies_to("violation", links["violations"])
                   + self.repo.replies_to("finding", finding_ids))
        timeline: list[dict[str, Any]] = []
        for a in algs:
            timeline.append({"at": a["received_at"], "kind": "allegation", "id": a["id"], "type": a["type"],
                             "actor": a["submitted_by"], "ledger_index": a["ledger_index"]})
        for s in steps:
            kind = "decision" if s["action"] == "decide" else ("task" if s["subject"].startswith("task:") else "step")
            timeline.append({"at": s["at"], "kind": kind, "action": s["action"], "from_state": s["from_state"],
                             "to_state": s["to_state"], "actor": s["actor"], "reason": s["reason"],
                             "data": s["data"], "seq": s["seq"], "hash": s["hash"]})
        for f in finds:
            timeline.append({"at": f["created_at"], "kind": "finding", "id": f["id"], "finding_kind": f["kind"],
                             "status": f["status"]})
        for r in replies:
            timeline.append({"at": r["created_at"], "kind": r["kind"], "id": r["id"], "target": r["target_id"],
                             "party": r["party"], "state": r["state"], "outcome": r["outcome"], "actor": r["actor"]})
        timeline.sort(key=lambda x: (x["at"], x.get("seq", 0)))
        for x in timeline:
            x["at_iso"] = iso(x["at"])
        out.update(allegations=[{k: v for k, v in a.items()} for a in algs], tasks=[self._task_out(t) for t in tasks],
                   findings=finds, violations=links["violations"], observations=obs_ids, replies=replies,
                   decisions=[x for x in timeline if x["kind"] == "decision"], timeline=timeline)
        return out

    def step_case(self, case_id: str, action: str, *, actor: str, reason: str = "",
                  decision: str | None = None) -> dict[str, Any]:
        """Take one step; refused (409) when it skips or repeats one, with the allowed next steps."""
        row = self.get_case_row(case_id)
        case = self._case(row)
        now = self.clock()
        step = advance(case, action, actor, reason, now, decision=decision)
        T = self.T
        vals: dict[str, Any] = {"state": step.to_state, "updated_at": now}
        if step.data.get("decision"):
            vals["decision"] = step.data["decision"]
        updates: list[tuple[Any, Any, dict[str, Any]]] = [
            (T.cases, {"id": case_id, "state": case.state.value}, vals)]
        step_rows = [self._step_row(f"case:{case_id}", step)]
        if step.to_state == CaseState.PUBLISHED.value:  # its findings are published with it
            for f in self.repo.findings_of(case_id):
                if f["status"] == "open":
                    updates.append((T.findings, {"id": f["id"]},
                                    {"status": "published", "published_at": now, "updated_at": now}))
                    step_rows.append({"subject": f"finding:{f['id']}", "action": "publish", "from_state": "open",
                                      "to_state": "published", "actor": actor, "reason": f"with case {case_id}",
                                      "at": now})
        self.repo.write(updates=updates, step_rows=step_rows, expect_updates=1)
        return self.case_detail(case_id)

    @staticmethod
    def _step_row(subject: str, s: Step) -> dict[str, Any]:
        return {"subject": subject, "action": s.action, "from_state": s.from_state, "to_state": s.to_state,
                "actor": s.actor, "reason": s.reason, "at": s.at, "data": s.data}

    def link(self, case_id: str, *, actor: str, violations: Sequence[str] = (), observations: Sequence[str] = (),
             findings: Sequence[str] = (), reason: str = "") -> dict[str, Any]:
        """Link existing evidence to a case (a step of its own, attributed)."""
        self.get_case_row(case_id)
        missing_v = [v for v in violations if self.store.get_violation(v) is None]
        if missing_v:
            raise MechanismError("violations", f"no such finding(s): {', '.join(missing_v[:5])}", status=404)
        have = {o.id for o in self.store.get_observations(list(observations))}
        missing_o = [o for o in observations if o not in have]
        if missing_o:
            raise MechanismError("observations", f"no such observation(s): {', '.join(missing_o[:5])}", status=404)
        missing_f = [f for f in findings if self.repo.get(self.T.findings, f) is None]
        if missing_f:
            raise MechanismError("findings", f"no such finding(s): {', '.join(missing_f[:5])}", status=404)
        self.repo.write(step_rows=[{"subject": f"case:{case_id}", "action": "link", "actor": actor,
                                    "reason": reason or "evidence linked", "at": self.clock(),
                                    "data": {"violations": list(violations), "observations": list(observations),
                                             "findings": list(findings)}}])
        return self.case_detail(case_id)

    # ------------------------------------------------------------------ tasks
    def _task_out(self, t: dict[str, Any]) -> dict[str, Any]:
        out = dict(t)
        out["t_from_iso"], out["t_to_iso"] = iso(t["t_from"]), iso(t["t_to"])
        return out

    def create_task(self, *, actor: str, asset_kind: str, asset_id: str, area: dict[str, Any], t_from: float,
                    t_to: float, instructions: str = "", case_id: str | None = None) -> dict[str, Any]:
        """Task a monitor team, drone patrol or sensor operator to observe ``area`` in [t_from, t_to]."""
        if asset_kind not in checks_assets():
            raise MechanismError("asset_kind", f"{asset_kind!r}: tasking is for monitors and sensors only "
                                 f"({', '.join(checks_assets())}); no weapon is ever tasked")
        checks.area_circle(area)
        if t_to <= t_from:
            raise MechanismError("t_to", "the window must end after it starts")
        now = self.clock()
        tid = _id("T", now)
        T = self.T
        row = {"id": tid, "case_id": case_id, "asset_kind": asset_kind, "asset_id": asset_id, "area": area,
               "t_from": t_from, "t_to": t_to, "instructions": instructions, "state": "open", "created_by": actor,
               "created_at": now, "result": None, "completed_at": None}
        updates: list[tuple[Any, Any, dict[str, Any]]] = []
        step_rows = [{"subject": f"task:{tid}", "action": "create", "to_state": "open", "actor": actor,
                      "reason": instructions or f"observe with {asset_kind} {asset_id}", "at": now,
                      "data": {"case_id": case_id, "asset_kind": asset_kind, "asset_id": asset_id}}]
        expect = 0
        if case_id is not None:
            crow = self.get_case_row(case_id)
            case = self._case(crow)
            if case.state == CaseState.ASSESSED:
                s = advance(case, "task", actor, f"task {tid}", now)
                updates.append((T.cases, {"id": case_id, "state": case.state.value},
                                {"state": s.to_state, "updated_at": now}))
                step_rows.append(self._step_row(f"case:{case_id}", s))
                expect = 1
            elif case.state not in (CaseState.TASKED, CaseState.INVESTIGATED):
                nxt = allowed_next(case.state)
                raise MechanismError("case_id", f"{case_id}: a case is tasked after assessment; it is "
                                     f"{case.state.value}; allowed next: {', '.join(nxt) or 'none'}", status=409,
                                     allowed_next=nxt)
        self.repo.write(inserts=[(T.tasks, row)], updates=updates, step_rows=step_rows, expect_updates=expect)
        return self._task_out(row)

    def get_task(self, task_id: str) -> dict[str, Any]:
        t = self.repo.get(self.T.tasks, task_id)
        if t is None:
            raise MechanismError("task_id", f"{task_id}: no such task", status=404)
        return t

    def list_tasks(self, *, asset_ids: Sequence[str] | None = None, state: str | None = None) -> list[dict[str, Any]]:
        T = self.T.tasks
        rows = self.repo.select(T, {"asset_id": self.T.AnyOf(tuple(asset_ids)) if asset_ids is not None else None,
                                    "state": state or None}, order="created_at", limit=5000)
        return [self._task_out(t) for t in rows]

    def complete_task(self, task_id: str, *, actor: str, seen: bool, observation_ids: Sequence[str] = (),
                      covered: Sequence[dict[str, Any]] = (), note: str = "") -> dict[str, Any]:
        """Record a task's result with its coverage: "not seen" only where the area was covered.

        Coverage is the union of the footprints (or 95 % ellipses) of the cited
        observations made in the task's window and of any ``covered`` geometry
        (a monitor team's walked area), clipped to the tasked area."""
        t = self.get_task(task_id)
        if t["state"] != "open":
            raise MechanismError("task_id", f"{task_id}: already {t['state']}", status=409)
        obs = self.store.get_observations(list(observation_ids))
        have = {o.id for o in obs}
        missing = [o for o in observation_ids if o not in have]
        if missing:
            raise MechanismError("observation_ids", f"no such observation(s): {', '.join(missing[:5])}")
        outside = [o.id for o in obs if not (t["t_from"] <= o.time.timestamp() <= t["t_to"])]
        if outside:
            raise MechanismError("observation_ids", f"made outside the task's window: {', '.join(outside[:5])}")
        geoms = [checks.footprint_of(o) for o in obs] + list(covered)
        cov = checks.coverage(t["area"], geoms, self.cfg.min_coverage)
        outcome = checks.task_outcome(seen, cov)
        now = self.clock()
        result = {"seen": bool(seen), "outcome": outcome, "coverage": cov, "observation_ids": list(observation_ids),
                  "note": note, "by": actor}
        T = self.T
        step_rows = [{"subject": f"task:{task_id}", "action": "complete", "from_state": "open", "to_state": "done",
                      "actor": actor, "reason": note or outcome, "at": now,
                      "data": {"outcome": outcome, "coverage_fraction": cov["fraction"]}}]
        if t["case_id"]:
            step_rows.append({"subject": f"case:{t['case_id']}", "action": "task_result", "actor": actor,
                              "reason": f"task {task_id}: {outcome} (coverage {cov['fraction']:.0%})", "at": now,
                              "data": {"task_id": task_id, "outcome": outcome, "observation_ids": list(observation_ids)}})
        self.repo.write(updates=[(T.tasks, {"id": task_id, "state": "open"},
                                  {"state": "done", "result": result, "completed_at": now})],
                        step_rows=step_rows, expect_updates=1)
        return self._task_out(self.get_task(task_id))

    # -------------------------------------------------------- replies/contests
    def concerned_party(self, target_kind: str, target_id: str) -> tuple[str, str | None, str]:
        """(attributed party, victim party, status) of a violation or a mechanism finding."""
        if target_kind == "violation":
            v = self.store.get_violation(target_id)
            if v is None:
                raise MechanismError("target_id", f"{target_id}: no such finding", status=404)
            return v.party, v.attributes.get("victim_party"), v.status.value
        if target_kind == "finding":
            f = self.repo.get(self.T.findings, target_id)
            if f is None:
                raise MechanismError("target_id", f"{target_id}: no such finding", status=404)
            return f["party"], None, f["status"]
        raise MechanismError("target_kind", "violation or finding")

    def reply(self, target_kind: str, target_id: str, *, kind: str, party: str, actor: str, reason: str,
              counter_evidence: Sequence[str] = ()) -> dict[str, Any]:
        """A party's reply to, or contest of, a finding that concerns it (403 otherwise)."""
        if kind not in REPLY_KINDS:
            raise MechanismError("kind", "reply or contest")
        if not reason or not reason.strip():
            raise MechanismError("reason", "a reply or contest says why")
        attributed, victim, status = self.concerned_party(target_kind, target_id)
        may = {attributed} if kind == "contest" else {attributed, victim}
        if party not in may:
            raise MechanismError("target_id", f"{target_id} concerns {attributed}; a liaison of {party} may not "
                                 f"{kind} it", status=403)
        if target_kind == "violation" and Status(status) not in REPLY_FROM:
            raise MechanismError("target_id", f"{target_id} is {status}: the parties reply once it is verified and "
                                 "notified", status=409)
        now = self.clock()
        rid = _id("R", now)
        row = {"id": rid, "target_kind": target_kind, "target_id": target_id, "party": party, "kind": kind,
               "reason": reason, "counter_evidence": list(counter_evidence),
               "state": "open" if kind == "contest" else "recorded", "outcome": None, "actor": actor,
               "created_at": now, "updated_at": now}
        if kind == "contest" and target_kind == "violation" and status != Status.CONTESTED.value:
            try:
                transition(self.store, target_id, Status.CONTESTED, actor, reason, counter_evidence,
                           at=datetime.fromtimestamp(now, UTC))
            except WorkflowError as exc:
                raise MechanismError("target_id", str(exc), status=409) from None
        self.repo.write(inserts=[(self.T.replies, row)],
                        step_rows=[{"subject": f"reply:{rid}", "action": kind, "to_state": row["state"],
                                    "actor": actor, "reason": reason, "at": now,
                                    "data": {"target_kind": target_kind, "target_id": target_id,
                                             "counter_evidence": list(counter_evidence)}}])
        return row

    def get_reply(self, reply_id: str) -> dict[str, Any]:
        r = self.repo.get(self.T.replies, reply_id)
        if r is None:
            raise MechanismError("reply_id", f"{reply_id}: no such reply or contest", status=404)
        return r

    def review(self, reply_id: str, action: str, *, actor: str, reason: str,
               outcome: str | None = None) -> dict[str, Any]:
        """Review a contest: ``review`` (under review), ``escalate`` (to the joint commission) or
        ``resolve`` with an outcome; upheld dismisses the finding (a correction if it was published),
        rejected confirms it."""
        r = self.get_reply(reply_id)
        if r["kind"] != "contest":
            raise MechanismError("reply_id", "only a contest is reviewed; a reply is recorded as it is", status=409)
        if not reason or not reason.strip():
            raise MechanismError("reason", "every step says why")
        nxt = {"open": ("review", "escalate", "resolve"), "under_review": ("escalate", "resolve"),
               "escalated": ("resolve",), "resolved": ()}[r["state"]]
        if action not in nxt:
            raise MechanismError("action", f"{reply_id} is {r['state']}; allowed next: {', '.join(nxt) or 'none'}",
                                 status=409, allowed_next=list(nxt))
        now = self.clock()
        T = self.T
        vals: dict[str, Any] = {"updated_at": now}
        data: dict[str, Any] = {}
        if action == "review":
            vals["state"] = "under_review"
        elif action == "escalate":
            vals["state"] = "escalated"
            data["to"] = "joint_commission"
        else:
            if outcome not in OUTCOMES:
                raise MechanismError("outcome", f"one of {', '.join(OUTCOMES)}")
            vals.update(state="resolved", outcome=outcome)
            data.update(outcome=outcome, by="joint_commission" if r["state"] == "escalated" else "mission")
        updates: list[tuple[Any, Any, dict[str, Any]]] = [
            (T.replies, {"id": reply_id, "state": r["state"]}, vals)]
        inserts: list[tuple[Any, dict[str, Any]]] = []
        step_rows = [{"subject": f"reply:{reply_id}", "action": action, "from_state": r["state"],
                      "to_state": vals.get("state"), "actor": actor, "reason": reason, "at": now, "data": data}]
        if action == "resolve" and outcome in ("upheld", "rejected"):
            inserts += self._apply_outcome(r, outcome, actor, reason, now, updates, step_rows)
        self.repo.write(inserts=inserts, updates=updates, step_rows=step_rows, expect_updates=1)
        return self.get_reply(reply_id)

    def _apply_outcome(self, r: dict[str, Any], outcome: str, actor: str, reason: str, now: float,
                       updates: list[Any], step_rows: list[dict[str, Any]]) -> list[tuple[Any, dict[str, Any]]]:
        T = self.T
        tid = r["target_id"]
        if r["target_kind"] == "violation":
            v = self.store.get_violation(tid)
            target = Status.DISMISSED if outcome == "upheld" else Status.CONFIRMED
            if v is not None and v.status == Status.CONTESTED:
                try:
                    transition(self.store, tid, target, actor, f"contest {r['id']} {outcome}: {reason}",
                               at=datetime.fromtimestamp(now, UTC))
                except WorkflowError as exc:
                    raise MechanismError("outcome", str(exc), status=409) from None
                if target == Status.DISMISSED:
                    return [(T.corrections, {"target_kind": "violation", "target_id": tid, "change": "dismissed",
                                             "before": Status.CONTESTED.value, "after": target.value,
                                             "reason": f"contest upheld: {reason}", "actor": actor, "at": now})]
            return []
        f = self.repo.get(T.findings, tid)
        if f is None or outcome != "upheld" or f["status"] == "dismissed":
            return []
        updates.append((T.findings, {"id": tid}, {"status": "dismissed", "updated_at": now}))
        step_rows.append({"subject": f"finding:{tid}", "action": "dismiss", "from_state": f["status"],
                          "to_state": "dismissed", "actor": actor, "reason": f"contest {r['id']} upheld", "at": now})
        if f["status"] == "published":
            return [(T.corrections, {"target_kind": "finding", "target_id": tid, "change": "dismissed",
                                     "before": "published", "after": "dismissed",
                                     "reason": f"contest upheld: {reason}", "actor": actor, "at": now})]
        return []

    # ---------------------------------------------------------------- findings
    def _finding(self, *, kind: str, party: str, cause: str, t: float, lat: float | None, lon: float | None,
                 summary: str, attributes: dict[str, Any], dedupe_key: str, case_id: str | None = None
                 ) -> dict[str, Any]:
        now = self.clock()
        return {"id": _id("F", now), "kind": kind, "party": party, "cause": cause, "case_id": case_id, "t": t,
                "lat": lat, "lon": lon, "summary": summary, "attributes": attributes, "status": "open",
                "dedupe_key": dedupe_key, "created_at": now, "updated_at": now, "published_at": None}

    def change_finding(self, finding_id: str, action: str, *, actor: str, reason: str,
                       changes: dict[str, Any] | None = None) -> dict[str, Any]:
        """publish, change (summary/cause/party) or dismiss; after publication a change is a correction."""
        T = self.T
        f = self.repo.get(T.findings, finding_id)
        if f is None:
            raise MechanismError("finding_id", f"{finding_id}: no such finding", status=404)
        if not reason or not reason.strip():
            raise MechanismError("reason", "every step says why")
        now = self.clock()
        if f["status"] == "dismissed":
            raise MechanismError("action", f"{finding_id} is dismissed (final)", status=409, allowed_next=[])
        vals: dict[str, Any] = {"updated_at": now}
        inserts: list[tuple[Any, dict[str, Any]]] = []
        if action == "publish":
            if f["status"] != "open":
                raise MechanismError("action", f"{finding_id} is already {f['status']}", status=409,
                                     allowed_next=["change", "dismiss"])
            vals.update(status="published", published_at=now)
        elif action in ("change", "dismiss"):
            if action == "dismiss":
                vals["status"] = "dismissed"
            else:
                allowed = {"summary", "cause", "party"}
                bad = sorted(set(changes or {}) - allowed)
                if bad or not changes:
                    raise MechanismError("changes", f"give one or more of {', '.join(sorted(allowed))}")
                vals.update(changes)
                if f["status"] == "published":
                    vals["status"] = "changed"
            if f["status"] in ("published", "changed"):
                inserts.append((T.corrections, {"target_kind": "finding", "target_id": finding_id,
                                                "change": "dismissed" if action == "dismiss" else "changed",
                                                "before": f["status"], "after": vals.get("status", f["status"]),
                                                "reason": reason, "actor": actor, "at": now}))
        else:
            raise MechanismError("action", "publish, change or dismiss")
        self.repo.write(inserts=inserts, updates=[(T.findings, {"id": finding_id}, vals)],
                        step_rows=[{"subject": f"finding:{finding_id}", "action": action, "from_state": f["status"],
                                    "to_state": vals.get("status", f["status"]), "actor": actor, "reason": reason,
                                    "at": now, "data": {"changes": changes or {}}}])
        return self.repo.get(T.findings, finding_id)

    # ---------------------------------------------------------- obstruction
    def add_denial(self, *, actor: str, t: float, lat: float, lon: float, party: str, patrol: str,
                   description: str, task_id: str | None = None) -> dict[str, Any]:
        """A patrol denied access: a finding against the party that denied it."""
        if self.agreement is not None and party not in self.agreement.parties and party != "undetermined":
            raise MechanismError("party", f"{party!r} is not a party to the agreement (or 'undetermined')")
        case_id = None
        if task_id:
            case_id = self.get_task(task_id)["case_id"]
        f = self._finding(kind="denial_of_access", party=party, cause="denial of access", t=t, lat=lat, lon=lon,
                          summary=f"patrol {patrol} denied access: {description}"[:2000],
                          attributes={"patrol": patrol, "task_id": task_id, "description": description},
                          dedupe_key=f"denial:{patrol}:{t:.0f}:{lat:.4f}:{lon:.4f}", case_id=case_id)
        got = self.repo.add_findings([f], actor, self.clock())
        if not got:
            raise MechanismError("time", "this denial (patrol, time, place) is already recorded", status=409)
        return got[0]

    def add_heartbeats(self, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
        return {"stored": self.repo.add_heartbeats(rows), "received": len(rows)}

    def analyse_sensor_health(self, t_from: float, t_to: float, *, actor: str) -> dict[str, Any]:
        """Outages in the heartbeat feed over [t_from, t_to); unexplained ones near the line become findings.

        Explained: the last heartbeat before the gap said ``maintenance``, or the
        gap lies in an accepted pre-notified window that covers the sensor.  Cause:
        "suspected interference" (interference observed nearby, or two or more
        neighbouring sensors down together) or "unknown"."""
        if t_to <= t_from:
            raise MechanismError("t_to", "the window must end after it starts")
        hb = self.repo.heartbeats(t_from, t_to)
        if not hb:
            return {"outages": [], "findings": []}
        sensor = np.array([h["sensor_id"] for h in hb])
        tt = np.array([h["at"] for h in hb], float)
        status = {(h["sensor_id"], float(h["at"])): h["status"] for h in hb}
        gaps = checks.outages(sensor, tt, min(t_to, self.clock()), self.cfg.outage_min_s)
        srcs = {s.id: s for s in self.store.list_sources()}
        inter = [(o.time.timestamp(), o.location.lat, o.location.lon) for o in self.store.query_observations(
            t_from=t_from - 3600, t_to=t_to + 3600, kinds=[ObservationKind.INTERFERENCE.value])]
        pns = self.prenotifications(state="accepted")
        # gap positions as columns: the neighbour count per gap is one vector operation
        g_lat = np.array([srcs[g[0]].lat if g[0] in srcs and srcs[g[0]].lat is not None else np.nan for g in gaps])
        g_lon = np.array([srcs[g[0]].lon if g[0] in srcs and srcs[g[0]].lon is not None else np.nan for g in gaps])
        g_a = np.array([g[1] for g in gaps])
        g_b = np.array([g[2] for g in gaps])
        g_id = np.array([g[0] for g in gaps])
        out, new = [], []
        for sid, a, b in gaps:
            s = srcs.get(sid)
            rec: dict[str, Any] = {"sensor_id": sid, "start": iso(a), "end": iso(b), "duration_s": b - a}
            if status.get((sid, a)) == "maintenance":
                rec.update(explained=True, why="declared maintenance")
                out.append(rec)
                continue
            if s is None or s.lat is None or s.lon is None:
                rec.update(explained=False, near_line=None, why="sensor position unknown: not judged")
                out.append(rec)
                continue
            pn = next((p for p in pns if checks.in_window(p, a, s.lat, s.lon)), None)
            if pn is not None:
                rec.update(explained=True, why=f"inside accepted pre-notification {pn['id']}")
                out.append(rec)
                continue
            d_km = checks.line_distance_km(self.agreement, s.lat, s.lon) if self.agreement is not None else None
            near = d_km is not None and d_km <= self.cfg.near_line_km
            with np.errstate(invalid="ignore"):
                near_down = ((g_id != sid) & (g_a < b) & (g_b > a)
                             & (checks.haversine_m(s.lat, s.lon, g_lat, g_lon) <= self.cfg.interference_radius_km * 1000))
            neigh = len(set(g_id[near_down]))
            cause, why = checks.outage_cause(s.lat, s.lon, a, b, inter, neigh, self.cfg.interference_radius_km)
            rec.update(explained=False, near_line=near, line_km=None if d_km is None else round(d_km, 1),
                       cause=cause, why=why)
            out.append(rec)
            if near:
                new.append(self._finding(
                    kind="sensor_outage", party="undetermined", cause=cause, t=a, lat=s.lat, lon=s.lon,
                    summary=f"sensor {sid} silent {(b - a) / 60:.0f} min, {d_km:.0f} km from the line: {cause} ({why})",
                    attributes={"sensor_id": sid, "start": a, "end": b, "line_km": d_km, "why": why},
                    dedupe_key=f"outage:{sid}:{a:.0f}"))
        added = self.repo.add_findings(new, actor, self.clock())
        return {"outages": out, "findings": added}

    def freedom_of_movement(self, t_from: float, t_to: float, *, statuses: Sequence[str] | None = None
                            ) -> list[dict[str, Any]]:
        """Per party: denials of access and interference findings (the OSCE thematic table)."""
        rows = self.repo.list_findings(t_from=t_from, t_to=t_to, statuses=statuses)
        table: dict[str, dict[str, Any]] = {}
        for f in rows:
            r = table.setdefault(f["party"], {"party": f["party"], "denial_of_access": 0, "sensor_outage": 0,
                                              "suspected_interference": 0, "weapon_missing": 0,
                                              "declared_weapon_outside_site": 0})
            if f["kind"] in r:
                r[f["kind"]] += 1
            if f["cause"] == "suspected interference":
                r["suspected_interference"] += 1
        return sorted(table.values(), key=lambda r: r["party"])

    def unobserved_segments(self, t_from: float, t_to: float, *, seg_km: float = 10.0,
                            min_observed: float = 0.5) -> dict[str, Any]:
        """Segments of the contact line that nothing observed in [t_from, t_to).

        Observed: the coverage geometry of each source (``attributes.coverage``), a
        ``acoustic_range_km`` disc around acoustic sensors with a position, the drone
        coverage setting, footprints of observations made in the window, and the covered
        areas of tasks completed in it.  A sensor silent (heartbeat gaps) for more than
        half the window does not count.  A segment is unobserved below ``min_observed``."""
        if self.agreement is None:
            raise MechanismError("agreement", "this deployment was started without an agreement", status=404)
        frame = self.agreement.frame
        geoms: list[Any] = []
        down: dict[str, float] = {}
        hb = self.repo.heartbeats(t_from, t_to)
        if hb:
            gaps = checks.outages(np.array([h["sensor_id"] for h in hb]), np.array([h["at"] for h in hb], float),
                                  min(t_to, self.clock()), self.cfg.outage_min_s)
            for sid, a, b in gaps:
                down[sid] = down.get(sid, 0.0) + (b - a)
        span = max(t_to - t_from, 1.0)
        for s in self.store.list_sources():
            if down.get(s.id, 0.0) > 0.5 * span:
                continue
            cov = s.attributes.get("coverage")
            if isinstance(cov, dict) and "type" in cov:
                try:
                    geoms.append(frame.geom_to_en(shape(cov.get("geometry", cov) if cov.get("type") == "Feature"
                                                        else cov)))
                except Exception:  # a malformed coverage attribute: skip it, the rest still counts
                    continue
            elif s.kind.value in ("acoustic_sensor", "acoustic_network") and s.lat is not None and s.lon is not None:
                e, n = frame.to_en(s.lat, s.lon)
                geoms.append(Point(float(e), float(n)).buffer(self.cfg.acoustic_range_km * 1000.0))
        extra = self.store.get_setting("drone_coverage")
        if isinstance(extra, dict):
            for f in extra.get("features", []):
                try:
                    geoms.append(frame.geom_to_en(shape(f["geometry"])))
                except Exception:
                    continue
        for fp in self.repo.footprints(t_from, t_to):
            try:
                geoms.append(frame.geom_to_en(shape(fp)))
            except Exception:  # an undrawable footprint: the others still count
                continue
        T_ = self.T.tasks
        for t in self.repo.select(T_, {"completed_at": self.T.InWindow(t_from, t_to)}):
            cg = ((t["result"] or {}).get("coverage") or {}).get("covered_geometry")
            if cg:
                geoms.append(frame.geom_to_en(shape(cg)))
        covered = shapely.union_all(geoms) if geoms else None
        segs = checks.line_segments(self.agreement, seg_km)
        frac = checks.observed_fraction(segs, covered)
        feats = []
        for seg, f in zip(segs, frac, strict=True):
            if f < min_observed:
                feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(frame.geom_to_latlon(seg)),
                              "properties": {"observed_fraction": round(float(f), 3),
                                             "length_km": round(seg.length / 1000, 1)}})
        total_km = sum(s.length for s in segs) / 1000
        gap_km = sum(f["properties"]["length_km"] for f in feats)
        return {"type": "FeatureCollection", "features": feats,
                "summary": {"from": iso(t_from), "to": iso(t_to), "segments": len(segs), "unobserved": len(feats),
                            "line_km": round(total_km, 1), "unobserved_km": round(gap_km, 1),
                            "seg_km": seg_km, "min_observed": min_observed}}

    # --------------------------------------------------------- holding sites
    def add_site(self, *, actor: str, party: str, name: str, lat: float, lon: float, radius_m: float,
                 site_id: str | None = None) -> dict[str, Any]:
        now = self.clock()
        sid = site_id or _id("S", now)
        if self.repo.get(self.T.sites, sid) is not None:
            raise MechanismError("id", f"{sid}: a holding site with this id exists", status=409)
        row = {"id": sid, "party": party, "name": name, "lat": lat, "lon": lon, "radius_m": radius_m,
               "created_at": now}
        self.repo.write(inserts=[(self.T.sites, row)],
                        step_rows=[{"subject": f"site:{sid}", "action": "declare_site", "actor": actor,
                                    "reason": name, "at": now, "data": row}])
        return row

    def get_site(self, site_id: str) -> dict[str, Any]:
        s = self.repo.get(self.T.sites, site_id)
        if s is None:
            raise MechanismError("site_id", f"{site_id}: no such holding site", status=404)
        return s

    def declare_inventory(self, site_id: str, items: Sequence[dict[str, Any]], *, actor: str) -> dict[str, Any]:
        self.get_site(site_id)
        for i, it in enumerate(items):
            serials = it.get("serials") or []
            if len(set(serials)) != len(serials):
                raise MechanismError(f"items[{i}].serials", "a serial number appears twice")
            if serials and int(it.get("count") or 0) not in (0, len(serials)):
                raise MechanismError(f"items[{i}].count", f"{it['count']} but {len(serials)} serial numbers")
        now = self.clock()
        row = {"site_id": site_id, "items": list(items), "declared_by": actor, "declared_at": now}
        self.repo.write(inserts=[(self.T.inventories, row)],
                        step_rows=[{"subject": f"site:{site_id}", "action": "declare_inventory", "actor": actor,
                                    "reason": f"{len(items)} item line(s)", "at": now,
                                    "data": {"items_sha256": _canon(list(items))}}])
        return row

    def inspect(self, site_id: str, items: Sequence[dict[str, Any]], *, actor: str, at: float | None = None,
                note: str = "") -> dict[str, Any]:
        """Record an inspection; each missing weapon (serial, or count per class) is a finding."""
        site = self.get_site(site_id)
        inv = self.repo.latest_inventory(site_id)
        if inv is None:
            raise MechanismError("site_id", f"{site_id}: no inventory declared yet", status=409)
        now = self.clock()
        at = now if at is None else at
        result = checks.inspect_inventory(inv["items"], items)
        iid = _id("I", now)
        new = []
        for serial, cls in result["missing_by_class"].items():
            new.append(self._finding(kind="weapon_missing", party=site["party"], cause="missing from holding site",
                                     t=at, lat=site["lat"], lon=site["lon"],
                                     summary=f"{cls} serial {serial} declared at {site['name']} not found",
                                     attributes={"site_id": site_id, "serial": serial, "class": cls,
                                                 "inspection_id": iid}, dedupe_key=f"missing:{iid}:{serial}"))
        for c in result["classes"]:
            n = c["missing_count"] - sum(1 for v in result["missing_by_class"].values() if v == c["class"])
            if n > 0:
                new.append(self._finding(kind="weapon_missing", party=site["party"], cause="missing from holding site",
                                         t=at, lat=site["lat"], lon=site["lon"],
                                         summary=f"{n} {c['class']} declared at {site['name']} not found (by count)",
                                         attributes={"site_id": site_id, "class": c["class"], "missing_count": n,
                                                     "inspection_id": iid}, dedupe_key=f"missing:{iid}:{c['class']}"))
        row = {"id": iid, "site_id": site_id, "at": at, "inspector": actor, "items": list(items),
               "result": {k: result[k] for k in ("present", "missing", "new", "classes")} | {"note": note}}
        self.repo.write(inserts=[(self.T.inspections, row)],
                        step_rows=[{"subject": f"site:{site_id}", "action": "inspect", "actor": actor,
                                    "reason": note or f"{len(result['missing'])} missing, {len(result['new'])} new",
                                    "at": now, "data": {"inspection_id": iid}}])
        added = self.repo.add_findings(new, actor, now)
        return row | {"findings": added}

    def sites(self, *, party: str | None = None) -> list[dict[str, Any]]:
        """The register: sites with their latest inventory, last inspection and when the next is due."""
        S_ = self.T.sites
        rows = self.repo.select(S_, {"party": party or None}, order="id")
        last = self.repo.last_inspections()
        now = self.clock()
        every = self.cfg.inspection_interval_days * 86400
        out = []
        for s in rows:
            inv = self.repo.latest_inventory(s["id"])
            li = last.get(s["id"])
            due = (li if li is not None else s["created_at"]) + every
            out.append(s | {"inventory": inv["items"] if inv else [], "inventory_declared_at": iso(inv["declared_at"])
                            if inv else None, "last_inspection": iso(li), "next_inspection_due": iso(due),
                            "inspection_overdue": now > due})
        return out

    def inspections(self, site_id: str) -> list[dict[str, Any]]:
        I_ = self.T.inspections
        return self.repo.select(I_, {"site_id": site_id}, order="at")

    def cross_check_sightings(self, t_from: float, t_to: float, *, actor: str) -> dict[str, Any]:
        """Weapon sightings (drone frames) carrying a serial: a declared serial seen outside its site is a finding."""
        declared: dict[str, dict[str, Any]] = {}
        for s in self.repo.select(self.T.sites):
            inv = self.repo.latest_inventory(s["id"])
            for it in (inv["items"] if inv else []):
                for serial in it.get("serials") or []:
                    declared[str(serial)] = s | {"class": it["class"]}
        obs = self.store.query_observations(t_from=t_from, t_to=t_to, kinds=[ObservationKind.WEAPON_SIGHTING.value])
        checked, new = [], []
        for o in obs:
            serial = o.attributes.get("serial")
            if serial is None or str(serial) not in declared:
                continue
            site = declared[str(serial)]
            out_, d = checks.outside_site(site["lat"], site["lon"], site["radius_m"], o.location.lat, o.location.lon,
                                          o.location.err_major_m)
            checked.append({"observation_id": o.id, "serial": serial, "site_id": site["id"], "distance_m": round(d),
                            "outside": out_})
            if out_:
                new.append(self._finding(
                    kind="declared_weapon_outside_site", party=site["party"], cause="declared weapon outside its site",
                    t=o.time.timestamp(), lat=o.location.lat, lon=o.location.lon,
                    summary=f"{site['class']} serial {serial} declared at {site['name']} seen {d / 1000:.1f} km away",
                    attributes={"serial": serial, "site_id": site["id"], "observation_id": o.id, "distance_m": d},
                    dedupe_key=f"outside:{o.id}:{serial}"))
        return {"checked": checked, "findings": self.repo.add_findings(new, actor, self.clock())}

    # ------------------------------------------------------ pre-notifications
    def prenotify(self, *, actor: str, party: str, kind: str, area: dict[str, Any], t_from: float, t_to: float,
                  description: str) -> dict[str, Any]:
        checks.area_circle(area)
        if t_to <= t_from:
            raise MechanismError("t_to", "the window must end after it starts")
        if t_to - t_from > 31 * 86400:
            raise MechanismError("t_to", "a pre-notified window is at most 31 days")
        now = self.clock()
        pid = _id("P", now)
        row = {"id": pid, "party": party, "kind": kind, "area": area, "t_from": t_from, "t_to": t_to,
               "description": description, "state": "pending", "created_by": actor, "created_at": now,
               "decided_by": None, "decided_at": None}
        self.repo.write(inserts=[(self.T.prenotifications, row)],
                        step_rows=[{"subject": f"prenotification:{pid}", "action": "register", "to_state": "pending",
                                    "actor": actor, "reason": description or kind, "at": now}])
        return row

    def prenotifications(self, *, party: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        P = self.T.prenotifications
        return self.repo.select(P, {"party": party or None, "state": state or None}, order="t_from")

    def decide_prenotification(self, pid: str, accept: bool, *, actor: str, reason: str) -> dict[str, Any]:
        P = self.T.prenotifications
        p = self.repo.get(P, pid)
        if p is None:
            raise MechanismError("prenotification_id", f"{pid}: no such pre-notification", status=404)
        if p["state"] != "pending":
            raise MechanismError("prenotification_id", f"{pid} is already {p['state']}", status=409)
        now = self.clock()
        st = "accepted" if accept else "rejected"
        self.repo.write(updates=[(P, {"id": pid, "state": "pending"},
                                  {"state": st, "decided_by": actor, "decided_at": now})],
                        step_rows=[{"subject": f"prenotification:{pid}", "action": "accept" if accept else "reject",
                                    "from_state": "pending", "to_state": st, "actor": actor, "reason": reason,
                                    "at": now}], expect_updates=1)
        out = self.repo.get(P, pid) or {}
        if accept:
            out["applied"] = self.apply_prenotifications(actor=actor, only=[pid])
        return out

    def apply_prenotifications(self, *, actor: str, only: Sequence[str] | None = None) -> dict[str, Any]:
        """Annotate observations and findings inside accepted windows.  Findings of the notifying party (or
        undetermined) still at detected or corroborated are dismissed through the workflow, with the
        pre-notification as the reason; later ones are annotated for the analyst to review."""
        pns = [p for p in self.prenotifications(state="accepted") if only is None or p["id"] in only]
        now = self.clock()
        ann, dismissed, flagged = [], [], []
        for p in pns:
            lat, lon, r = checks.area_circle(p["area"])
            dlat = r / 111_000 + 0.01
            dlon = dlat / max(np.cos(np.radians(lat)), 0.1)
            box = (lon - dlon, lat - dlat, lon + dlon, lat + dlat)
            for o in self.store.query_observations(t_from=p["t_from"], t_to=p["t_to"] + 1, bbox=box):
                if checks.in_window(p, o.time.timestamp(), o.location.lat, o.location.lon):
                    ann.append({"target_kind": "observation", "target_id": o.id, "prenotification_id": p["id"], "at": now})
            for v in self.store.query_violations(t_from=p["t_from"], t_to=p["t_to"] + 1, bbox=box):
                if not checks.in_window(p, v.time.timestamp(), v.location.lat, v.location.lon):
                    continue
                if v.party not in (p["party"], "undetermined"):
                    continue
                ann.append({"target_kind": "violation", "target_id": v.id, "prenotification_id": p["id"], "at": now})
                if v.status in (Status.DETECTED, Status.CORROBORATED):
                    try:
                        transition(self.store, v.id, Status.DISMISSED, actor,
                                   f"inside accepted pre-notification {p['id']} ({p['kind']}): annotated, not a violation",
                                   at=datetime.fromtimestamp(now, UTC))
                        dismissed.append(v.id)
                    except WorkflowError:
                        flagged.append(v.id)
                elif v.status != Status.DISMISSED:
                    flagged.append(v.id)
        n = self.repo.annotate(ann)
        return {"annotated": n, "dismissed": dismissed, "flagged_for_review": flagged}

    def annotations(self, target_kind: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        return self.repo.annotations_for(target_kind, ids)

    # ------------------------------------------------------------ corrections
    def corrections(self, t_from: float | None = None, t_to: float | None = None) -> list[dict[str, Any]]:
        """Findings changed or dismissed after publication: the mechanism's own records, and violations
        dismissed through the workflow from a published status."""
        out = [dict(c) | {"at_iso": iso(c["at"])} for c in self.repo.corrections(t_from, t_to)]
        seen = {(c["target_kind"], c["target_id"], c["change"]) for c in out}
        for tr in self.repo.dismissed_after_publication(sorted(self.public_statuses), t_from, t_to):
            if ("violation", tr["violation_id"], "dismissed") in seen:
                continue
            out.append({"target_kind": "violation", "target_id": tr["violation_id"], "change": "dismissed",
                        "before": tr["from_status"], "after": "dismissed", "reason": tr["reason"],
                        "actor": tr["actor"], "at": tr["at"], "at_iso": iso(tr["at"])})
        return sorted(out, key=lambda c: c["at"])


def checks_assets() -> tuple[str, ...]:
    return ASSET_KINDS
