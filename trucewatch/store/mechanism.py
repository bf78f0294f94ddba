"""The mechanism's tables and their repository (cases, allegations, tasks,
replies and contests, findings, holding sites, heartbeats, pre-notifications,
corrections).  The only module that speaks SQL for trucewatch.mechanism.

The tables live in their own MetaData (created by migration 0003 with explicit
DDL, like every table).  ``mech_steps`` is
append-only and hash-chained: every step of every record, attributed to its
actor, kept forever; :meth:`MechanismRepo.verify_steps` re-checks the chain.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    insert,
    inspect,
    select,
    true,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from trucewatch.errors import TruceWatchError
from trucewatch.store import schema as S

metadata = MetaData()

cases = Table(
    "mech_cases", metadata,
    Column("id", String(64), primary_key=True),
    Column("state", String(20), nullable=False),
    Column("type", String(80), nullable=False),
    Column("received_at", Float, nullable=False),
    Column("party_request", Integer, nullable=False, default=0),
    Column("submitter_party", String(40)),
    Column("accused_party", String(40)),
    Column("submitted_by", String(200), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("decision", String(40)),
    Column("updated_at", Float, nullable=False),
    Index("ix_mech_cases_state", "state"),
    Index("ix_mech_cases_received", "received_at"),
)

allegations = Table(
    "mech_allegations", metadata,
    Column("id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("submitted_by", String(200), nullable=False),
    Column("submitter_role", String(20), nullable=False),
    Column("submitter_party", String(40)),
    Column("t_from", Float, nullable=False),
    Column("t_to", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("err_m", Float, nullable=False),
    Column("place", JSON, nullable=False),
    Column("type", String(80), nullable=False),
    Column("description", Text, nullable=False),
    Column("accused_party", String(40)),
    Column("attachments", JSON, nullable=False),
    Column("cited_observations", JSON, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("observation_id", String(200)),
    Column("ledger_index", Integer),
    Column("received_at", Float, nullable=False),
    Index("ix_mech_allegations_case", "case_id"),
)

attachments = Table(
    "mech_attachments", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("allegation_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

steps = Table(
    "mech_steps", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(120), nullable=False),  # "case:ID", "task:ID", "contest:ID", ...
    Column("action", String(40), nullable=False),
    Column("from_state", String(40)),
    Column("to_state", String(40)),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_mech_steps_subject", "subject"),
)

tasks = Table(
    "mech_tasks", metadata,
    Column("id", String(64), primary_key=True),
    Column("case_id", String(64)),
    Column("asset_kind", String(40), nullable=False),
    Column("asset_id", String(200), nullable=False),
    Column("area", JSON, nullable=False),
    Column("t_from", Float, nullable=False),
    Column("t_to", Float, nullable=False),
    Column("instructions", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("result", JSON),
    Column("completed_at", Float),
    Index("ix_mech_tasks_case", "case_id"),
)

findings = Table(
    "mech_findings", metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(40), nullable=False),  # sensor_outage, denial_of_access, weapon_missing, ...
    Column("party", String(40), nullable=False),  # the party concerned, or undetermined
    Column("cause", String(60), nullable=False),
    Column("case_id", String(64)),
    Column("t", Float, nullable=False),
    Column("lat", Float),
    Column("lon", Float),
    Column("summary", Text, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # open, published, changed, dismissed
    Column("dedupe_key", String(200), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("published_at", Float),
    Index("ix_mech_findings_t", "t"),
)

replies = Table(
    "mech_replies", metadata,
    Column("id", String(64), primary_key=True),
    Column("target_kind", String(20), nullable=False),  # violation | finding
    Column("target_id", String(200), nullable=False),
    Column("party", String(40), nullable=False),
    Column("kind", String(20), nullable=False),  # reply | contest
    Column("reason", Text, nullable=False),
    Column("counter_evidence", JSON, nullable=False),
    Column("state", String(20), nullable=False),  # open, under_review, escalated, resolved
    Column("outcome", String(40)),
    Column("actor", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_mech_replies_target", "target_kind", "target_id"),
)

sites = Table(
    "mech_sites", metadata,
    Column("id", String(64), primary_key=True),
    Column("party", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("radius_m", Float, nullable=False),
    Column("created_at", Float, nullable=False),
)

inventories = Table(
    "mech_inventories", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("site_id", String(64), nullable=False),
    Column("items", JSON, nullable=False),
    Column("declared_by", String(200), nullable=False),
    Column("declared_at", Float, nullable=False),
    Index("ix_mech_inventories_site", "site_id"),
)

inspections = Table(
    "mech_inspections", metadata,
    Column("id", String(64), primary_key=True),
    Column("site_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("inspector", String(200), nullable=False),
    Column("items", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    Index("ix_mech_inspections_site", "site_id", "at"),
)

heartbeats = Table(
    "mech_heartbeats", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("sensor_id", String(200), nullable=False),
    Column("at", Float, nullable=False),
    Column("status", String(20), nullable=False),  # ok, maintenance
    UniqueConstraint("sensor_id", "at", name="uq_mech_heartbeats"),
    Index("ix_mech_heartbeats_at", "at"),
)

prenotifications = Table(
    "mech_prenotifications", metadata,
    Column("id", String(64), primary_key=True),
    Column("party", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("area", JSON, nullable=False),
    Column("t_from", Float, nullable=False),
    Column("t_to", Float, nullable=False),
    Column("description", Text, nullable=False),
    Column("state", String(20), nullable=False),  # pending, accepted, rejected
    Column("created_by", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", Float),
)

# Not "annotations": that name is the module's `from __future__ import annotations` feature.
annotations_table = Table(
    "mech_annotations", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("target_kind", String(20), nullable=False),  # observation | violation
    Column("target_id", String(200), nullable=False),
    Column("prenotification_id", String(64), nullable=False),
    Column("at", Float, nullable=False),
    UniqueConstraint("target_kind", "target_id", "prenotification_id", name="uq_mech_annotations"),
)

corrections = Table(
    "mech_corrections", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("target_kind", String(20), nullable=False),  # violation | finding
    Column("target_id", String(200), nullable=False),
    Column("change", String(20), nullable=False),  # changed | dismissed
    Column("before", String(40)),
    Column("after", String(40)),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_mech_corrections_at", "at"),
)

TABLES = [cases, allegations, attachments, steps, tasks, findings, replies, sites, inventories, inspections,
          heartbeats, prenotifications, annotations_table, corrections]
GENESIS = "0" * 64


class ConflictError(TruceWatchError, ValueError):
    """A compare-and-set update found the record already moved on (HTTP 409)."""


def _step_hash(prev: str, row: dict[str, Any]) -> str:
    body = {k: row[k] for k in ("subject", "action", "from_state", "to_state", "actor", "reason", "at", "data")}
    return hashlib.sha256((prev + json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)).encode()
                          ).hexdigest()


def _d(r: Any) -> dict[str, Any]:
    return dict(r._mapping) if hasattr(r, "_mapping") else dict(r)


class MechanismRepo:
    """Typed reads and writes of the mechanism tables; every write is one transaction."""

    def __init__(self, engine: Engine, exclusive: Any) -> None:
        self.engine = engine
        self._exclusive = exclusive

    # ------------------------------------------------------------ steps
    def _append_steps(self, c: Any, rows: Sequence[dict[str, Any]]) -> list[int]:
        last = c.execute(select(steps.c.hash).order_by(steps.c.seq.desc()).limit(1)).first()
        prev = last[0] if last else GENESIS
        out = []
        for r in rows:
            row = {"subject": r["subject"], "action": r["action"], "from_state": r.get("from_state"),
                   "to_state": r.get("to_state"), "actor": r["actor"], "reason": r.get("reason") or "",
                   "at": float(r["at"]), "data": r.get("data") or {}}
            row["prev_hash"] = prev
            row["hash"] = prev = _step_hash(prev, row)
            out.append(c.execute(insert(steps).values(**row)).inserted_primary_key[0])
        return out

    def write(self, *, inserts: Sequence[tuple[Table, dict[str, Any]]] = (),
              updates: Sequence[tuple[Table, Mapping[str, Any], dict[str, Any]]] = (),
              step_rows: Sequence[dict[str, Any]] = (), expect_updates: int = 0) -> None:
        """Rows, updates and their steps in one transaction (the steps' chain under a lock).

        An update's condition is ``{column: value}`` (see :func:`_match`).  The first
        ``expect_updates`` updates are compare-and-set (their condition names the state read before): if one matches no row, someone else moved
        the record first, and nothing is written (ConflictError)."""
        with self._exclusive("mech_steps"), self.engine.begin() as c:
            for t, row in inserts:
                c.execute(insert(t).values(**row))
            for i, (t, cond, vals) in enumerate(updates):
                n = c.execute(update(t).where(_match(t, cond)).values(**vals)).rowcount
                if i < expect_updates and n == 0:
                    raise ConflictError(f"{t.name}: the record changed meanwhile; read it again")
            self._append_steps(c, step_rows)

    def dismissed_after_publication(self, public_statuses: Sequence[str], t_from: float | None = None,
                                    t_to: float | None = None) -> list[dict[str, Any]]:
        """Workflow steps that dismissed a violation from a published status (the corrections feed)."""
        T = S.transitions
        q = select(T).where(T.c.to_status == "dismissed", T.c.from_status.in_(list(public_statuses)))
        if t_from is not None:
            q = q.where(T.c.at >= t_from)
        if t_to is not None:
            q = q.where(T.c.at < t_to)
        with self.engine.connect() as c:
            return [_d(r) for r in c.execute(q.order_by(T.c.seq))]

    def steps(self, subjects: Sequence[str]) -> list[dict[str, Any]]:
        if not subjects:
            return []
        with self.engine.connect() as c:
            rows = c.execute(select(steps).where(steps.c.subject.in_(list(subjects))).order_by(steps.c.seq)).all()
        return [_d(r) for r in rows]

    def footprints(self, t_from: float, t_to: float, limit: int = 200_000) -> list[dict[str, Any]]:
        """Footprint polygons (GeoJSON) of observations made in [t_from, t_to): only the column needed."""
        obs = S.observations
        q = (select(obs.c.footprint).where(obs.c.t >= t_from, obs.c.t < t_to, obs.c.footprint.is_not(None))
             .order_by(obs.c.seq).limit(limit))
        with self.engine.connect() as c:
            out = []
            for (fp,) in c.execute(q):
                if isinstance(fp, str):
                    fp = json.loads(fp)
                if isinstance(fp, dict):
                    out.append(fp)
            return out

    def steps_head(self) -> dict[str, Any]:
        """{seq, hash} of the last step (seq 0 and the genesis hash when there is none)."""
        with self.engine.connect() as c:
            r = c.execute(select(steps.c.seq, steps.c.hash).order_by(steps.c.seq.desc()).limit(1)).first()
        return {"seq": 0, "hash": GENESIS} if r is None else {"seq": int(r[0]), "hash": r[1]}

    def step_hashes(self, seqs: Sequence[int]) -> dict[int, str]:
        if not seqs:
            return {}
        with self.engine.connect() as c:
            rows = c.execute(select(steps.c.seq, steps.c.hash).where(steps.c.seq.in_(list(seqs))))
            return {int(a): b for a, b in rows}

    def verify_steps(self) -> tuple[int, int | None]:
        """(steps checked, seq of the first broken link or None)."""
        prev = GENESIS
        n = 0
        with self.engine.connect() as c:
            for r in c.execute(select(steps).order_by(steps.c.seq)):
                row = _d(r)
                if row["prev_hash"] != prev or _step_hash(prev, row) != row["hash"]:
                    return n, int(row["seq"])
                prev = row["hash"]
                n += 1
        return n, None

    # ------------------------------------------------------------ reads
    def get(self, table: Table, key: Any) -> dict[str, Any] | None:
        pk = next(iter(table.primary_key.columns))
        with self.engine.connect() as c:
            r = c.execute(select(table).where(pk == key)).first()
        return None if r is None else _d(r)

    def _rows(self, table: Table, *conds: Any, order: Any = None, limit: int | None = None,
              offset: int = 0) -> list[dict[str, Any]]:
        q = select(table)
        for cond in conds:
            if cond is not None:
                q = q.where(cond)
        if order is not None:
            q = q.order_by(order)
        if offset:
            q = q.offset(offset)
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as c:
            return [_d(r) for r in c.execute(q)]

    def select(self, table: Table, where: Mapping[str, Any] | None = None, *, order: str | None = None,
               limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """Rows of ``table`` matching ``where`` (see :func:`_match`), ordered by the column ``order``."""
        q = select(table)
        if where:
            q = q.where(_match(table, where))
        if order is not None:
            q = q.order_by(table.c[order])
        if offset:
            q = q.offset(offset)
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as c:
            return [_d(r) for r in c.execute(q)]

    # typed shortcuts the service uses
    def case(self, case_id: str) -> dict[str, Any] | None:
        return self.get(cases, case_id)

    def list_cases(self, *, states: Sequence[str] | None = None, party: str | None = None,
                   limit: int = 500, offset: int = 0) -> list[dict[str, Any]]:
        conds = [cases.c.state.in_(list(states)) if states else None,
                 ((cases.c.accused_party == party) | (cases.c.submitter_party == party)) if party else None]
        return self._rows(cases, *conds, order=cases.c.received_at, limit=limit, offset=offset)

    def allegations_of(self, case_id: str) -> list[dict[str, Any]]:
        return self._rows(allegations, allegations.c.case_id == case_id, order=allegations.c.received_at)

    def tasks_of(self, case_id: str) -> list[dict[str, Any]]:
        return self._rows(tasks, tasks.c.case_id == case_id, order=tasks.c.created_at)

    def findings_of(self, case_id: str) -> list[dict[str, Any]]:
        return self._rows(findings, findings.c.case_id == case_id, order=findings.c.t)

    def replies_to(self, target_kind: str, target_ids: Sequence[str]) -> list[dict[str, Any]]:
        if not target_ids:
            return []
        return self._rows(replies, replies.c.target_kind == target_kind, replies.c.target_id.in_(list(target_ids)),
                           order=replies.c.created_at)

    def list_findings(self, *, t_from: float | None = None, t_to: float | None = None,
                      kinds: Sequence[str] | None = None, party: str | None = None,
                      statuses: Sequence[str] | None = None, limit: int = 5000) -> list[dict[str, Any]]:
        f = findings
        return self._rows(f, f.c.t >= t_from if t_from is not None else None,
                           f.c.t < t_to if t_to is not None else None,
                           f.c.kind.in_(list(kinds)) if kinds else None, f.c.party == party if party else None,
                           f.c.status.in_(list(statuses)) if statuses else None, order=f.c.t, limit=limit)

    def add_findings(self, rows: Sequence[dict[str, Any]], actor: str, now: float) -> list[dict[str, Any]]:
        """Insert findings whose ``dedupe_key`` is new (re-running a check adds nothing twice)."""
        if not rows:
            return []
        keys = [r["dedupe_key"] for r in rows]
        with self.engine.connect() as c:
            have = {k for (k,) in c.execute(select(findings.c.dedupe_key).where(findings.c.dedupe_key.in_(keys)))}
        fresh = [r for r in rows if r["dedupe_key"] not in have]
        self.write(inserts=[(findings, r) for r in fresh],
                   step_rows=[{"subject": f"finding:{r['id']}", "action": "find", "to_state": r["status"],
                               "actor": actor, "reason": r["summary"], "at": now,
                               "data": {"kind": r["kind"], "cause": r["cause"]}} for r in fresh])
        return fresh

    def latest_inventory(self, site_id: str) -> dict[str, Any] | None:
        rows = self._rows(inventories, inventories.c.site_id == site_id, order=inventories.c.seq.desc(), limit=1)
        return rows[0] if rows else None

    def last_inspections(self) -> dict[str, float]:
        with self.engine.connect() as c:
            rows = c.execute(select(inspections.c.site_id, func.max(inspections.c.at)).group_by(inspections.c.site_id))
            return {r[0]: float(r[1]) for r in rows}

    def add_heartbeats(self, rows: Sequence[dict[str, Any]]) -> int:
        """Store heartbeats; a repeated (sensor, time) is ignored.  Returns how many were new."""
        if not rows:
            return 0
        ids = sorted({r["sensor_id"] for r in rows})
        lo, hi = min(r["at"] for r in rows), max(r["at"] for r in rows)
        with self.engine.begin() as c:
            have = {(a, float(b)) for a, b in c.execute(
                select(heartbeats.c.sensor_id, heartbeats.c.at).where(heartbeats.c.sensor_id.in_(ids),
                                                                      heartbeats.c.at.between(lo, hi)))}
            seen: set[tuple[str, float]] = set()
            fresh = []
            for r in rows:
                k = (r["sensor_id"], float(r["at"]))
                if k in have or k in seen:
                    continue
                seen.add(k)
                fresh.append(r)
            if fresh:
                c.execute(insert(heartbeats), fresh)
        return len(fresh)

    def heartbeats(self, t_from: float, t_to: float) -> list[dict[str, Any]]:
        return self._rows(heartbeats, heartbeats.c.at >= t_from, heartbeats.c.at < t_to, order=heartbeats.c.at)

    def annotate(self, rows: Sequence[dict[str, Any]]) -> int:
        if not rows:
            return 0
        n = 0
        with self.engine.begin() as c:
            for r in rows:
                hit = c.execute(select(annotations_table.c.seq).where(
                    annotations_table.c.target_kind == r["target_kind"], annotations_table.c.target_id == r["target_id"],
                    annotations_table.c.prenotification_id == r["prenotification_id"])).first()
                if hit is None:
                    c.execute(insert(annotations_table).values(**r))
                    n += 1
        return n

    def annotations_for(self, target_kind: str, target_ids: Sequence[str]) -> list[dict[str, Any]]:
        if not target_ids:
            return []
        return self._rows(annotations_table, annotations_table.c.target_kind == target_kind,
                           annotations_table.c.target_id.in_(list(target_ids)))

    def corrections(self, t_from: float | None = None, t_to: float | None = None,
                    limit: int = 1000) -> list[dict[str, Any]]:
        k = corrections
        return self._rows(k, k.c.at >= t_from if t_from is not None else None,
                           k.c.at < t_to if t_to is not None else None, order=k.c.at, limit=limit)

    def count(self, table: Table) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def now() -> float:
    return time.time()


@dataclass(frozen=True)
class AnyOf:
    """``column IN values`` in a :func:`_match` condition."""

    values: tuple[Any, ...]


@dataclass(frozen=True)
class InWindow:
    """``lo <= column < hi`` in a :func:`_match` condition."""

    lo: float
    hi: float


#: ``column IS NOT NULL`` in a :func:`_match` condition.
NOT_NULL = object()


def _match(table: Table, where: Mapping[str, Any]) -> Any:
    """SQL for ``{column: value}``: equality, :class:`AnyOf`, :class:`InWindow` or
    :data:`NOT_NULL`; a None value sets no condition (an optional filter left out).
    Callers outside the store describe rows as data; only this module builds SQL."""
    conds: list[ColumnElement[bool]] = []
    for name, v in where.items():
        col = table.c[name]
        if v is None:
            continue
        if v is NOT_NULL:
            conds.append(col.is_not(None))
        elif isinstance(v, AnyOf):
            conds.append(col.in_(list(v.values)))
        elif isinstance(v, InWindow):
            conds.append(and_(col >= v.lo, col < v.hi))
        else:
            conds.append(col == v)
    return and_(true(), *conds)


def has_mechanism_tables(store: Any) -> bool:
    """Whether the store has the mechanism's tables (stores from before 0003 do not)."""
    return inspect(store.engine).has_table("mech_cases")
