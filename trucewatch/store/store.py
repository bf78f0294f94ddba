"""The store: sources, observations, events, violations and their workflow.

SQLite is the embedded default (one file per deployment, WAL, an R*Tree for
bounding-box look-ups); PostgreSQL with PostGIS plugs in behind the same class
(see trucewatch.store.postgres).  Writes are batched in one transaction and
return only after the commit, so an acknowledged observation is durable.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Integer, bindparam, column, create_engine, event, func, insert, select, text, update
from sqlalchemy.exc import DatabaseError as DatabaseError  # re-exported: a damaged or unreachable database

from trucewatch.canonical import canonical_body
from trucewatch.errors import RecordProblem, TruceWatchError
from trucewatch.model import (
    Event,
    Evidence,
    Location,
    Observation,
    ObservationKind,
    Rule,
    Source,
    Status,
    Transition,
    Violation,
    from_unix,
    sha256_hex,
    utcnow,
)
from trucewatch.store import schema as S
from trucewatch.store.ledger import LedgerRepo, bulk_insert, obs_select
from trucewatch.store.mechanism import MechanismRepo
from trucewatch.store.migrate import upgrade

#: Actors whose workflow steps are automatic (no person acted on the finding).
MACHINE_ACTORS = ("system", "trucewatch:auto")


class StoreError(TruceWatchError, ValueError):
    """A write the store refuses, naming the record and field."""


class StoreMissing(StoreError):
    """``Store.open(..., create=False)`` on a SQLite file that does not exist: a mistyped
    ``--db`` must not silently become an empty store (only ``trucewatch init`` creates one)."""


#: The store's name for the package's one record-problem type (``record``: observation id or
#: position in the batch); public as ``trucewatch.store.RecordError``.
RecordError = RecordProblem


@dataclass
class IngestReport:
    accepted: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": len(self.accepted),
            "duplicates": len(self.duplicates),
            "duplicate_ids": self.duplicates[:100],
            "errors": [{"record": e.record, "field": e.field, "message": e.message} for e in self.errors],
        }


def content_hash(obs: Observation) -> str:
    """SHA-256 of the observation's signed body in RFC 8785 form (trucewatch.canonical).

    Signature and ledger index are excluded: they are about the record, not
    what was observed.  This is the store's identity for de-duplication; it is
    the same encoding the signature covers, so signed ingest computes it once
    for both.  Content JSON cannot carry (NaN) falls back to the legacy hash.
    """
    try:
        return sha256_hex(canonical_body(obs))
    except Exception:  # rfc8785 refuses NaN and integers beyond 2**53
        return legacy_content_hash(obs)


def legacy_content_hash(obs: Observation) -> str:
    """The content hash before 2026-12 (sorted-key compact JSON of the same fields):
    rows stored then keep it, so a re-sent old observation is still a duplicate."""
    body = obs.model_dump(mode="json", exclude={"signature", "ledger_index"})
    return sha256_hex(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def _normalize_url(url_or_path: str | Path) -> str:
    s = str(url_or_path)
    if "://" in s:
        return s
    return sqlite_url(s)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


#: Ids per ``IN (...)``: SQLite caps the bound parameters of one statement.
_CHUNK = 500


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    """``ids`` in slices small enough for one ``IN (...)`` on every backend."""
    for k in range(0, len(ids), _CHUNK):
        yield list(ids[k : k + _CHUNK])


def _rows_in(c: Any, q: Any, col: Any, ids: Sequence[str], *, mappings: bool = False) -> Iterator[Any]:
    """Rows of ``q`` whose ``col`` is one of ``ids``, one ``IN (...)`` query per chunk.

    Each chunk is fetched whole before its rows are yielded, so the caller may
    write on the same connection while iterating."""
    for chunk in _chunks(ids):
        res = c.execute(q.where(col.in_(chunk)))
        yield from (res.mappings().all() if mappings else res.all())


def _index_rtree(c: Any, rtree: str, table: str, ids: Sequence[str]) -> None:
    """Add the rows ``ids`` of ``table`` to its SQLite R*Tree (points: min = max)."""
    for chunk in _chunks(ids):
        c.exec_driver_sql(
            f"INSERT INTO {rtree} (id, min_lon, max_lon, min_lat, max_lat) "
            f"SELECT seq, lon, lon, lat, lat FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk))


def _in_window(q: Any, table: Any, t_from: float | None, t_to: float | None) -> Any:
    """``q`` limited to the half-open window [t_from, t_to) of ``table.c.t``, as every query takes it."""
    if t_from is not None:
        q = q.where(table.c.t >= t_from)
    if t_to is not None:
        q = q.where(table.c.t < t_to)
    return q


def _delete_events(c: Any, ids: Sequence[str]) -> None:
    """Delete events by id (a fusion re-run replaces them; a retraction drops them)."""
    for chunk in _chunks(ids):
        c.execute(S.events.delete().where(S.events.c.id.in_(chunk)))


class Store:
    """One deployment's database.  ``Store.open(path_or_url)`` migrates to head."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    # ------------------------------------------------------------------ setup
    @classmethod
    def open(cls, url_or_path: str | Path, *, migrate: bool = True, create: bool = True) -> Store:
        """``create=False``: a SQLite file that does not exist raises StoreMissing (read commands)."""
        url = _normalize_url(url_or_path)
        if url.startswith("postgresql"):
            return PostgresStore.open_url(url, migrate=migrate)
        if not create and url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            f = Path(url.removeprefix("sqlite:///"))
            if not f.is_file():
                raise StoreMissing(f"{url_or_path}: no such store (create one with `trucewatch init --db "
                                   f"{url_or_path} --agreement AGREEMENT.yaml`)")
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    @property
    def url(self) -> str:
        """The store's URL without its password (a key for per-store state in a process)."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def sqlite_file(self) -> str | None:
        """The database file of a SQLite store on disk; None in memory and on PostgreSQL."""
        db = self.engine.url.database if self.dialect == "sqlite" else None
        return db if db and db != ":memory:" else None

    def migrate(self) -> None:
        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """A cross-process lock named ``name`` (a file lock beside the SQLite file;
        PostgreSQL overrides this with an advisory lock).  Released if the holder dies."""
        db = self.engine.url.database or ":memory:"
        path = Path(f"{db}.{hashlib.sha256(name.encode()).hexdigest()[:12]}.lock")
        with open(path, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    @property
    def mechanism(self) -> Any:
        """The mechanism's repository (cases, tasks, findings...; trucewatch.store.mechanism)."""
        repo = self.__dict__.get("_mechanism")
        if repo is None:
            repo = self.__dict__["_mechanism"] = MechanismRepo(self.engine, self.exclusive)
        return repo

    @property
    def ledger(self) -> LedgerRepo:
        """The ledger's repository (the Merkle log's tables; trucewatch.store.ledger)."""
        repo = self.__dict__.get("_ledger")
        if repo is None:
            repo = self.__dict__["_ledger"] = LedgerRepo(self.engine)
        return repo

    @contextlib.contextmanager
    def try_exclusive(self, name: str) -> Iterator[bool]:
        """Like ``exclusive`` but never waits: yields False when another holder has it."""
        db = self.engine.url.database or ":memory:"
        if db == ":memory:":
            yield True
            return
        path = Path(f"{db}.{hashlib.sha256(name.encode()).hexdigest()[:12]}.lock")
        with open(path, "a+") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # --------------------------------------------------------------- settings
    def set_setting(self, key: str, value: Any) -> None:
        with self.engine.begin() as c:
            c.execute(S.settings.delete().where(S.settings.c.key == key))
            c.execute(insert(S.settings).values(key=key, value=value))

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self.engine.connect() as c:
            row = c.execute(select(S.settings.c.value).where(S.settings.c.key == key)).first()
        return default if row is None else row[0]

    # ---------------------------------------------------------------- sources
    def add_sources(self, sources: Iterable[Source]) -> None:
        """Insert or update sources (registration is idempotent)."""
        now = time.time()
        with self.engine.begin() as c:
            for s in sources:
                row = s.model_dump(mode="json")
                exists = c.execute(select(S.sources.c.id).where(S.sources.c.id == s.id)).first()
                if exists:
                    c.execute(update(S.sources).where(S.sources.c.id == s.id).values(**row))
                else:
                    c.execute(insert(S.sources).values(**row, created_at=now))

    def get_source(self, source_id: str) -> Source | None:
        with self.engine.connect() as c:
            row = c.execute(select(S.sources).where(S.sources.c.id == source_id)).mappings().first()
        return None if row is None else _row_source(row)

    def list_sources(self) -> list[Source]:
        with self.engine.connect() as c:
            rows = c.execute(select(S.sources).order_by(S.sources.c.id)).mappings().all()
        return [_row_source(r) for r in rows]

    def set_reliability(self, source_id: str, reliability: float) -> None:
        with self.engine.begin() as c:
            c.execute(update(S.sources).where(S.sources.c.id == source_id).values(reliability=float(reliability)))

    # ----------------------------------------------------------- observations
    def add_observations(self, observations: Sequence[Observation], *, now: datetime | None = None,
                         check_sources: bool = True, content_hashes: Sequence[str] | None = None,
                         log_entries: Sequence[tuple[bytes, bytes]] | None = None) -> IngestReport:
        """Validate and insert a batch in one transaction.

        Unknown source, time in the future, implausible uncertainty: a
        RecordError naming the observation and field.  Same id with the same
        content: a duplicate (idempotent).  Same id with other content: an
        error, never an overwrite.

        ``content_hashes`` (one per observation): hashes the caller already
        computed from the canonical body.  ``log_entries`` (one (leaf hash,
        signer key) per observation): queued for the Merkle log in the same
        transaction, so an acknowledged observation is also a durable log
        entry (trucewatch.ledger.ingest; the integrator adds it to the tree).
        Rows go in with COPY (PostgreSQL) or one executemany (SQLite).
        """
        report = IngestReport()
        now = now or utcnow()
        with self.engine.begin() as c:
            known = self._known_sources(c, {o.source_id for o in observations}) if check_sources else None
            rows: list[tuple[Observation, str, int]] = []
            hashes: dict[str, str] = {}
            for i, o in enumerate(observations):
                rec = o.id or f"#{i}"
                if known is not None and o.source_id not in known:
                    report.errors.append(RecordError(rec, "source_id", f"unknown source {o.source_id!r}"))
                    continue
                try:
                    o.check_plausible(now)
                except ValueError as exc:
                    fld, _, msg = str(exc).partition(": ")
                    report.errors.append(RecordError(rec, fld, msg))
                    continue
                h = content_hashes[i] if content_hashes is not None else content_hash(o)
                if o.id in hashes:
                    if hashes[o.id] == h:
                        report.duplicates.append(o.id)
                    else:
                        report.errors.append(RecordError(rec, "id", "repeated in the batch with different content"))
                    continue
                hashes[o.id] = h
                rows.append((o, h, i))
            existing: dict[str, str] = dict(_rows_in(c, select(S.observations.c.id, S.observations.c.content_hash),
                                                     S.observations.c.id, [o.id for o, _, _ in rows]))
            fresh: list[tuple[Observation, str, int]] = []
            for o, h, i in rows:
                old = existing.get(o.id)
                if old is None:
                    fresh.append((o, h, i))
                elif old == h or old == legacy_content_hash(o):
                    report.duplicates.append(o.id)
                else:
                    report.errors.append(RecordError(o.id, "id", "already stored with different content; "
                                                     "an observation is never overwritten"))
            if fresh:
                ingested = time.time()
                dumps = json.dumps
                bulk_insert(c, S.observations, _OBS_COLS,
                            [(o.id, o.source_id, o.kind.value, o.time.timestamp(), o.time_sigma_s, o.location.lat,
                              o.location.lon, o.location.err_major_m, o.location.err_minor_m,
                              o.location.err_angle_deg,
                              None if o.location.footprint is None else dumps(o.location.footprint),
                              dumps(o.attributes), o.payload_hash, h, o.signature, o.ledger_index, ingested)
                             for o, h, _ in fresh])
                self._index_observations(c, [o.id for o, _, _ in fresh])
                if log_entries is not None:
                    bulk_insert(c, S.ledger_queue, ("observation_id", "leaf", "key", "queued_at"),
                                [(o.id, *log_entries[i], ingested) for o, _, i in fresh])
            report.accepted = [o.id for o, _, _ in fresh]
        return report

    def _known_sources(self, c: Any, wanted: set[str]) -> set[str]:
        """Registered source ids, cached per store; read again only when a batch names one
        not seen yet (ingest used to read the whole table on every batch)."""
        cache: set[str] | None = getattr(self, "_sources_cache", None)
        if cache is None or not wanted <= cache:
            cache = {r[0] for r in c.execute(select(S.sources.c.id))}
            self._sources_cache = cache
        return cache

    def _index_observations(self, c: Any, ids: list[str]) -> None:
        if self.dialect == "sqlite":
            _index_rtree(c, "obs_rtree", "observations", ids)

    def set_ledger_index(self, pairs: Iterable[tuple[str, int]]) -> None:
        rows = [{"_id": oid, "ledger_index": int(idx)} for oid, idx in pairs]
        if not rows:
            return
        stmt = update(S.observations).where(S.observations.c.id == bindparam("_id")).values(
            ledger_index=bindparam("ledger_index"))
        with self.engine.begin() as c:
            c.execute(stmt, rows)

    def count_observations(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(S.observations)).scalar_one())

    def get_observations(self, ids: Sequence[str]) -> list[Observation]:
        with self.engine.connect() as c:
            out = [_row_obs(r) for r in _rows_in(c, obs_select(), S.observations.c.id, ids, mappings=True)]
        order = {oid: i for i, oid in enumerate(ids)}
        return sorted(out, key=lambda o: order.get(o.id, 0))

    def query_observations(self, *, t_from: float | None = None, t_to: float | None = None,
                           bbox: tuple[float, float, float, float] | None = None,
                           kinds: Sequence[str] | None = None, source_id: str | None = None,
                           limit: int | None = None, after_seq: int | None = None) -> list[Observation]:
        """Observations by time range, bounding box (min_lon, min_lat, max_lon, max_lat), kind."""
        q = _in_window(obs_select(), S.observations, t_from, t_to)
        if kinds:
            q = q.where(S.observations.c.kind.in_(list(kinds)))
        if source_id:
            q = q.where(S.observations.c.source_id == source_id)
        if after_seq is not None:
            q = q.where(S.observations.c.seq > after_seq)
        if bbox is not None:
            q = self._bbox_filter(q, S.observations, "obs_rtree", bbox)
        q = q.order_by(S.observations.c.seq)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as c:
            return [_row_obs(r) for r in c.execute(q).mappings()]

    def _bbox_filter(self, q: Any, table: Any, rtree: str, bbox: tuple[float, float, float, float]) -> Any:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox)
        if self.dialect == "sqlite":
            raw = text(f"SELECT id FROM {rtree} WHERE max_lon >= :a AND min_lon <= :b AND max_lat >= :c AND min_lat <= :d")
            sub = raw.bindparams(a=min_lon, b=max_lon, c=min_lat, d=max_lat).columns(column("id", Integer))
            return q.where(table.c.seq.in_(sub))
        return q.where(table.c.lon.between(min_lon, max_lon), table.c.lat.between(min_lat, max_lat))

    # ------------------------------------------------------------------ events
    def save_events(self, events: Sequence[Event]) -> None:
        """Replace the stored version of each event (fusion re-runs are idempotent)."""
        now = time.time()
        with self.engine.begin() as c:
            _delete_events(c, [e.id for e in events])
            if events:
                c.execute(insert(S.events), [_event_row(e, now) for e in events])

    def list_events(self, *, t_from: float | None = None, t_to: float | None = None) -> list[Event]:
        q = _in_window(select(S.events), S.events, t_from, t_to)
        with self.engine.connect() as c:
            return [_row_event(r) for r in c.execute(q.order_by(S.events.c.t)).mappings()]

    def delete_events(self, ids: Sequence[str]) -> None:
        with self.engine.begin() as c:
            _delete_events(c, ids)

    # -------------------------------------------------------------- violations
    def retire_violations(self, event_ids: Sequence[str], *, reason: str) -> tuple[int, int]:
        """Violations of events that fusion has replaced (late evidence changed the
        event): removed when no person ever acted on them, otherwise kept and
        marked ``superseded`` so the audit trail stays whole.  Returns (removed, kept)."""
        removed = kept = 0
        with self.engine.begin() as c:
            rows = _rows_in(c, select(S.violations.c.id, S.violations.c.seq, S.violations.c.attributes),
                            S.violations.c.event_id, event_ids)
            for vid, seq, attrs in rows:
                human = c.execute(select(func.count()).select_from(S.transitions).where(
                    S.transitions.c.violation_id == vid, S.transitions.c.actor.not_in(MACHINE_ACTORS))).scalar_one()
                if human:
                    a = dict(_j(attrs) or {})
                    a["superseded"] = reason
                    c.execute(update(S.violations).where(S.violations.c.id == vid).values(attributes=a))
                    kept += 1
                    continue
                c.execute(S.transitions.delete().where(S.transitions.c.violation_id == vid))
                c.execute(S.violations.delete().where(S.violations.c.id == vid))
                if self.dialect == "sqlite":
                    c.exec_driver_sql("DELETE FROM viol_rtree WHERE id = ?", (seq,))
                removed += 1
        return removed, kept

    def save_violations(self, violations: Sequence[Violation], *, actor: str = "system") -> None:
        """Insert new violations (with a ``detected`` transition) or refresh the
        evidence and confidence of existing ones; never rewinds their status.
        Batched: a few statements per call, whatever the number of violations."""
        if not violations:
            return
        now = time.time()
        with self.engine.begin() as c:
            existing = {r[0] for r in _rows_in(c, select(S.violations.c.id), S.violations.c.id, [v.id for v in violations])}
            new_rows, upd_rows, seen = [], [], set()
            for v in violations:
                if v.id in seen:
                    continue
                seen.add(v.id)
                row = _viol_row(v, now)
                if v.id in existing:
                    row.pop("status")
                    row.pop("created_at")
                    row["_id"] = row.pop("id")
                    upd_rows.append(row)
                else:
                    new_rows.append(row)
            if new_rows:
                c.execute(insert(S.violations), new_rows)
                c.execute(insert(S.transitions), [
                    {"violation_id": r["id"], "from_status": None, "to_status": r["status"], "actor": actor,
                     "reason": "detected by adjudication", "at": now, "counter_evidence": []} for r in new_rows])
                if self.dialect == "sqlite":
                    _index_rtree(c, "viol_rtree", "violations", [r["id"] for r in new_rows])
            if upd_rows:
                cols = [k for k in upd_rows[0] if k != "_id"]
                stmt = update(S.violations).where(S.violations.c.id == bindparam("_id")).values(
                    {k: bindparam(k) for k in cols})
                c.execute(stmt, upd_rows)

    def get_violations(self, ids: Sequence[str]) -> dict[str, Violation]:
        with self.engine.connect() as c:
            return {r["id"]: _row_viol(r) for r in _rows_in(c, select(S.violations), S.violations.c.id, ids, mappings=True)}

    def get_violation(self, violation_id: str) -> Violation | None:
        with self.engine.connect() as c:
            row = c.execute(select(S.violations).where(S.violations.c.id == violation_id)).mappings().first()
        return None if row is None else _row_viol(row)

    def query_violations(self, *, t_from: float | None = None, t_to: float | None = None,
                         bbox: tuple[float, float, float, float] | None = None, rule: str | None = None,
                         party: str | None = None, status: Sequence[str] | None = None,
                         min_confidence: float | None = None, limit: int | None = None,
                         offset: int = 0) -> list[Violation]:
        q = _in_window(select(S.violations), S.violations, t_from, t_to)
        if rule:
            q = q.where(S.violations.c.rule == rule)
        if party:
            q = q.where(S.violations.c.party == party)
        if status:
            q = q.where(S.violations.c.status.in_(list(status)))
        if min_confidence is not None:
            q = q.where(S.violations.c.confidence >= min_confidence)
        if bbox is not None:
            q = self._bbox_filter(q, S.violations, "viol_rtree", bbox)
        q = q.order_by(S.violations.c.t, S.violations.c.id).offset(offset)
        if limit:
            q = q.limit(limit)
        with self.engine.connect() as c:
            return [_row_viol(r) for r in c.execute(q).mappings()]

    def record_transition(self, tr: Transition) -> None:
        """Write one workflow step and the new status atomically (the workflow
        module checks that the step is allowed before calling this)."""
        with self.engine.begin() as c:
            cur = c.execute(select(S.violations.c.status).where(S.violations.c.id == tr.violation_id)).first()
            if cur is None:
                raise StoreError(f"{tr.violation_id}: violation_id: no such violation")
            if tr.from_status is not None and cur[0] != tr.from_status.value:
                raise StoreError(f"{tr.violation_id}: status: is {cur[0]}, not {tr.from_status.value} (concurrent change)")
            c.execute(update(S.violations).where(S.violations.c.id == tr.violation_id)
                      .values(status=tr.to_status.value, updated_at=time.time()))
            c.execute(insert(S.transitions).values(
                violation_id=tr.violation_id, from_status=tr.from_status.value if tr.from_status else None,
                to_status=tr.to_status.value, actor=tr.actor, reason=tr.reason, at=tr.at.timestamp(),
                counter_evidence=list(tr.counter_evidence)))

    def record_transitions(self, steps: Sequence[Transition]) -> None:
        """Many workflow steps in one transaction (the automatic steps of a fusion
        pass); each is checked against the current status as in record_transition."""
        if not steps:
            return
        with self.engine.begin() as c:
            cur: dict[str, str] = dict(_rows_in(c, select(S.violations.c.id, S.violations.c.status), S.violations.c.id,
                                                sorted({t.violation_id for t in steps})))
            rows: list[dict[str, Any]] = []
            status: dict[str, str] = {}
            for t in steps:
                now_status = status.get(t.violation_id, cur.get(t.violation_id))
                if now_status is None:
                    raise StoreError(f"{t.violation_id}: violation_id: no such violation")
                if t.from_status is not None and now_status != t.from_status.value:
                    raise StoreError(f"{t.violation_id}: status: is {now_status}, not {t.from_status.value} (concurrent change)")
                status[t.violation_id] = t.to_status.value
                rows.append({"violation_id": t.violation_id, "from_status": t.from_status.value if t.from_status else None,
                             "to_status": t.to_status.value, "actor": t.actor, "reason": t.reason,
                             "at": t.at.timestamp(), "counter_evidence": list(t.counter_evidence)})
            c.execute(insert(S.transitions), rows)
            upd = [{"_id": vid, "status": st, "updated_at": time.time()} for vid, st in status.items()]
            c.execute(update(S.violations).where(S.violations.c.id == bindparam("_id"))
                      .values(status=bindparam("status"), updated_at=bindparam("updated_at")), upd)

    def transitions(self, violation_id: str) -> list[Transition]:
        with self.engine.connect() as c:
            rows = c.execute(select(S.transitions).where(S.transitions.c.violation_id == violation_id)
                             .order_by(S.transitions.c.seq)).mappings().all()
        return [Transition(violation_id=r["violation_id"],
                           from_status=Status(r["from_status"]) if r["from_status"] else None,
                           to_status=Status(r["to_status"]), actor=r["actor"], reason=r["reason"],
                           at=from_unix(r["at"]), counter_evidence=list(r["counter_evidence"] or []))
                for r in rows]


    # ------------------------------------------------------------ dead letters
    def add_dead_letter(self, subject: str, reason: str, detail: str, data: bytes | str) -> None:
        text_data = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        with self.engine.begin() as c:
            c.execute(insert(S.dead_letters).values(subject=subject, reason=reason, detail=detail[:4000],
                                                    data=text_data[:65536], at=time.time()))

    def list_dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(S.dead_letters).order_by(S.dead_letters.c.seq.desc()).limit(limit)).mappings()
            return [dict(r) for r in rows]


# ---------------------------------------------------------------- row mapping
def _row_source(r: Any) -> Source:
    return Source(id=r["id"], kind=r["kind"], party=r["party"], name=r["name"] or "", public_key=r["public_key"],
                  reliability=r["reliability"], lat=r["lat"], lon=r["lon"], attributes=_j(r["attributes"]) or {})


def _j(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


_OBS_COLS = ("id", "source_id", "kind", "t", "time_sigma_s", "lat", "lon", "err_major_m", "err_minor_m",
             "err_angle_deg", "footprint", "attributes", "payload_hash", "content_hash", "signature", "ledger_index",
             "ingested_at")


def _obs_row(o: Observation, h: str) -> dict[str, Any]:
    loc = o.location
    return {
        "id": o.id, "source_id": o.source_id, "kind": o.kind.value, "t": o.time.timestamp(),
        "time_sigma_s": o.time_sigma_s, "lat": loc.lat, "lon": loc.lon, "err_major_m": loc.err_major_m,
        "err_minor_m": loc.err_minor_m, "err_angle_deg": loc.err_angle_deg, "footprint": loc.footprint,
        "attributes": o.attributes, "payload_hash": o.payload_hash, "content_hash": h,
        "signature": o.signature, "ledger_index": o.ledger_index,
    }


def _row_obs(r: Any) -> Observation:
    return Observation.model_construct(
        id=r["id"], source_id=r["source_id"], kind=r["kind"] if not isinstance(r["kind"], str) else _okind(r["kind"]),
        time=from_unix(r["t"]), time_sigma_s=r["time_sigma_s"],
        location=Location.model_construct(lat=r["lat"], lon=r["lon"], err_major_m=r["err_major_m"],
                                          err_minor_m=r["err_minor_m"], err_angle_deg=r["err_angle_deg"],
                                          footprint=_j(r["footprint"])),
        attributes=_j(r["attributes"]) or {}, payload_hash=r["payload_hash"], signature=r["signature"],
        ledger_index=r["ledger_index"],
    )


def _okind(k: str) -> Any:
    return ObservationKind(k)


def _event_row(e: Event, now: float) -> dict[str, Any]:
    return {
        "id": e.id, "kind": e.kind, "t": e.time.timestamp(), "time_sigma_s": e.time_sigma_s,
        "lat": e.location.lat, "lon": e.location.lon, "location": e.location.model_dump(mode="json"),
        "origin": e.origin.model_dump(mode="json") if e.origin else None, "observation_ids": e.observation_ids,
        "confidence": e.confidence, "attributes": e.attributes, "explanation": e.explanation, "updated_at": now,
    }


def _row_event(r: Any) -> Event:
    return Event(id=r["id"], kind=r["kind"], time=from_unix(r["t"]), time_sigma_s=r["time_sigma_s"],
                 location=Location(**_j(r["location"])), origin=Location(**_j(r["origin"])) if r["origin"] else None,
                 observation_ids=_j(r["observation_ids"]), confidence=r["confidence"],
                 attributes=_j(r["attributes"]) or {}, explanation=_j(r["explanation"]) or [])


def _viol_row(v: Violation, now: float) -> dict[str, Any]:
    return {
        "id": v.id, "event_id": v.event_id, "rule": v.rule.value, "party": v.party, "confidence": v.confidence,
        "status": v.status.value, "t": v.time.timestamp(), "lat": v.location.lat, "lon": v.location.lon,
        "location": v.location.model_dump(mode="json"), "origin": v.origin.model_dump(mode="json") if v.origin else None,
        "evidence": [e.model_dump(mode="json") for e in v.evidence], "explanation": v.explanation,
        "attributes": v.attributes, "created_at": now, "updated_at": now,
    }


def _row_viol(r: Any) -> Violation:
    """A stored violation as a model, without validation: rows were validated when
    written (``save_violations`` takes models), so queries skip pydantic's
    per-row checks (the query path's main Python cost)."""
    return Violation.model_construct(
        id=r["id"], event_id=r["event_id"], rule=Rule(r["rule"]), party=r["party"], confidence=r["confidence"],
        status=Status(r["status"]), time=from_unix(r["t"]), location=_loc(_j(r["location"])),
        origin=_loc(_j(r["origin"])) if r["origin"] else None,
        evidence=[_evidence(e) for e in _j(r["evidence"]) or ()], explanation=r["explanation"],
        attributes=_j(r["attributes"]) or {})


_LOC_FIELDS = ("lat", "lon", "err_major_m", "err_minor_m", "err_angle_deg", "footprint")


def _loc(d: dict[str, Any]) -> Location:
    """Location from its stored JSON; validated in full if it is not the stored shape."""
    if d.keys() <= set(_LOC_FIELDS) and "lat" in d and "lon" in d:
        return Location.model_construct(**d)
    return Location(**d)


def _evidence(e: dict[str, Any]) -> Any:
    if "kind" in e and "observation_id" in e and "source_id" in e and e.keys() <= _EVIDENCE_FIELDS:
        return Evidence.model_construct(**(e | {"kind": ObservationKind(e["kind"])}))
    return Evidence(**e)


_EVIDENCE_FIELDS = {"observation_id", "source_id", "kind", "ledger_index", "summary"}


# ------------------------------------------------------------ PostgreSQL
def _driver_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


class PostgresStore(Store):
    @classmethod
    def open_url(cls, url: str, *, migrate: bool = True) -> PostgresStore:
        engine = create_engine(_driver_url(url), future=True, pool_pre_ping=True, pool_size=5, max_overflow=10)
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """A session advisory lock: released when the holder's connection ends (even by kill -9)."""
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self.engine.connect() as c:
            c.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            c.commit()
            try:
                yield
            finally:
                c.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                c.commit()

    @contextlib.contextmanager
    def try_exclusive(self, name: str) -> Iterator[bool]:
        """``pg_try_advisory_lock``: yields False at once when another session holds it."""
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self.engine.connect() as c:
            got = bool(c.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            c.commit()
            try:
                yield got
            finally:
                if got:
                    c.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    c.commit()

    def _bbox_filter(self, q: Any, table: Any, rtree: str, bbox: tuple[float, float, float, float]) -> Any:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox)
        cond = text(f"{table.name}.geom && ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326)").bindparams(
            bx0=min_lon, by0=min_lat, bx1=max_lon, by1=max_lat)
        return q.where(cond)
