"""The ledger's repository: every read and write of the Merkle log's tables (``ledger_*``).

Why here: the store is the one place that speaks SQL and knows the dialects (SQLite WAL
``synchronous=FULL`` for durable appends, PostgreSQL ``COPY`` and ``DELETE ... RETURNING``
for the ingest queue).  :mod:`trucewatch.ledger` keeps the tree algorithms, the signatures and
the policy, and reaches the tables only through :class:`LedgerRepo` (``store.ledger``) and the
:class:`LedgerConn` it hands out.  Database errors become the log's own errors here, so a
damaged file reads as :class:`LogCorruptError`, never as a driver traceback.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Connection, Engine, Table, func, insert, select, update
from sqlalchemy.exc import DatabaseError

from trucewatch.errors import TruceWatchError
from trucewatch.store import schema as S

#: Leaf-level node ids are the leaf indices (``nid = level << 48 | index``, trucewatch.ledger.log).
NID_SHIFT = 48


class LogError(TruceWatchError, RuntimeError):
    """The log refuses an operation."""


class LogCorruptError(LogError):
    """The stored log is not a consistent state (cut mid-write, edited, truncated)."""


class ConcurrentAppendError(LogError):
    """Another writer appended between our read of the state and our write."""


class SourceKeyRow(NamedTuple):
    """One row of ``ledger_source_keys`` (the registry's convenience copy of the certified keys)."""

    public_key: str
    source_id: str
    valid_from: float
    valid_to: float | None
    revoked_at: float | None
    revoke_reason: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    seq: int
    size: int
    root: bytes
    note: str
    created_at: float


#: PostgreSQL types of the column types that binary COPY writes as they come from Python.
#: (Tables with JSON columns, the observations, stay on text COPY: psycopg's C row formatter
#: is as fast there, measured 4.0 against 4.7 µs of CPU per 17-column row.)
_PG_BINARY = {"BigInteger": "int8", "Integer": "int4", "LargeBinary": "bytea", "String": "text", "Text": "text",
              "Float": "float8"}

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_COPY_TRAILER = b"\xff\xff"
_NULL = b"\xff\xff\xff\xff"
_I2 = struct.Struct(">h").pack
_I4 = struct.Struct(">i").pack
_INT4 = struct.Struct(">ii").pack
_INT8 = struct.Struct(">iq").pack
_FLOAT8 = struct.Struct(">id").pack


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around a bulk step that makes hundreds of thousands
    of tuples and byte strings (none in cycles): otherwise each generation-2 pass walks them
    all, and that was about half the integrator's CPU (profiled on PostgreSQL, 200,000 entries).
    Reference counting still frees everything; the collector resumes afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _fixed_width_copy(types: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes | None:
    """Binary COPY tuples of rows whose every field has one width (int8, float8, bytea of one
    length, no NULL), built as one numpy record array: the Merkle nodes, two per log entry,
    cost no Python work per row.  None when the rows do not fit that shape."""
    cols = list(zip(*rows, strict=True))
    fields: list[tuple[str, str]] = [("n", ">i2")]
    values: list[tuple[str, Any]] = []
    for j, (t, col) in enumerate(zip(types, cols, strict=True)):
        if t in ("int8", "float8"):
            if None in col:
                return None
            fields += [(f"l{j}", ">i4"), (f"v{j}", ">i8" if t == "int8" else ">f8")]
            values.append((f"v{j}", np.asarray(col, dtype=np.int64 if t == "int8" else np.float64)))
        elif t == "bytea":
            if None in col:
                return None
            widths = set(map(len, col))
            w = widths.pop()
            if widths or w == 0:
                return None
            fields += [(f"l{j}", ">i4"), (f"v{j}", f"V{w}")]
            values.append((f"v{j}", np.frombuffer(b"".join(col), dtype=f"V{w}")))
        else:
            return None
    arr = np.empty(len(rows), dtype=fields)
    arr["n"] = len(types)
    for (name, v), (lname, _), (_, dt) in zip(values, fields[1::2], fields[2::2], strict=True):
        arr[lname] = np.dtype(dt).itemsize
        arr[name] = v
    return arr.tobytes()


def _copy_binary(types: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """The body of a PostgreSQL binary COPY (header, tuples, trailer) of ``rows``.

    Encoded here rather than by psycopg's ``write_row`` (about 15 µs per row, most of the
    integrator's time): fixed-width rows as one numpy array, others with one ``struct`` call
    per field."""
    fixed = _fixed_width_copy(types, rows)
    if fixed is not None:
        return _COPY_HEADER + fixed + _COPY_TRAILER
    cols = list(zip(*rows, strict=True))
    encoded = [_encode_column(t, col) for t, col in zip(types, cols, strict=True)]
    nf = _I2(len(types))
    return b"".join((_COPY_HEADER, *itertools.chain.from_iterable(zip(itertools.repeat(nf), *encoded)),
                     _COPY_TRAILER))


def _encode_column(t: str, col: Sequence[Any]) -> list[bytes]:
    """One column's binary COPY fields (length word and value), one list comprehension per
    column: no Python function call per field beyond the ``struct`` pack."""
    if None in col:
        return [_NULL if v is None else _encode_column(t, (v,))[0] for v in col]
    if t == "int8":
        return [_INT8(8, v) for v in col]
    if t == "int4":
        return [_INT4(4, v) for v in col]
    if t == "float8":
        return [_FLOAT8(8, v) for v in col]
    if t == "bytea":
        return [_I4(len(v)) + bytes(v) for v in col]
    return [_I4(len(b)) + b for b in (str(v).encode() for v in col)]


def bulk_insert(c: Connection, table: Table, cols: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows in the current transaction: PostgreSQL ``COPY`` (psycopg 3; binary,
    encoded in bulk here, for tables of plain columns), SQLite ``executemany`` of one prepared
    statement; no ORM per-row work."""
    if not rows:
        return
    if c.dialect.name == "postgresql":
        raw: Any = c.connection.driver_connection
        types = [_PG_BINARY.get(type(table.c[name].type).__name__) for name in cols]
        binary = all(types)  # binary COPY for tables of plain columns: no text parsing of bytea
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({','.join(cols)}) FROM STDIN"
                                           + (" (FORMAT BINARY)" if binary else "")) as cp:
            if binary:
                with gc_paused():
                    body = _copy_binary([t for t in types if t], rows)
                cp.write(body)
            else:
                for r in rows:
                    cp.write_row(r)
        return
    if c.dialect.name == "sqlite":
        marks = ",".join("?" * len(cols))
        c.exec_driver_sql(f"INSERT INTO {table.name} ({','.join(cols)}) VALUES ({marks})", list(rows))
        return
    c.execute(insert(table), [dict(zip(cols, r, strict=True)) for r in rows])


def obs_select() -> Any:
    """SELECT of observations with ``ledger_index`` joined from the log's leaves.

    The log assigns an index when its integrator adds the entry, after the
    observation is committed; the index lives in ``ledger_leaves`` and is
    joined here instead of being written back by an UPDATE of every row.  A
    value in the column itself (stores from before 2026-12, or an edit) wins,
    so ``trucewatch verify`` still sees what the row claims."""
    o, lv = S.observations, S.ledger_leaves
    cols = [col for col in o.c if col.name != "ledger_index"]
    return (select(*cols, func.coalesce(o.c.ledger_index, lv.c.idx).label("ledger_index"))
            .select_from(o.outerjoin(lv, lv.c.observation_id == o.c.id)))


def _damaged(exc: DatabaseError) -> LogCorruptError:
    return LogCorruptError(f"the log database is damaged: {exc.orig}")


class LedgerConn:
    """One connection to the log's tables; ``begin()`` makes a transaction of what follows."""

    def __init__(self, c: Connection) -> None:
        self._c = c

    @property
    def raw(self) -> Connection:
        """The SQLAlchemy connection (for store code that joins the log's transaction)."""
        return self._c

    @contextlib.contextmanager
    def begin(self) -> Iterator[None]:
        with self._c.begin():
            yield

    # ----------------------------------------------------------------- tree
    def state(self) -> tuple[int, bytes] | None:
        """(size, root) of ``ledger_state``, None for a log never appended to."""
        try:
            row = self._c.execute(select(S.ledger_state.c.size, S.ledger_state.c.root)
                                  .where(S.ledger_state.c.id == 1)).first()
        except DatabaseError as exc:
            raise _damaged(exc) from None
        return None if row is None else (int(row[0]), bytes(row[1]))

    def nodes(self, nids: Sequence[int]) -> dict[int, bytes]:
        """Stored node hashes by node id (missing ids are simply absent)."""
        got: dict[int, bytes] = {}
        ids = list(nids)
        try:
            for k in range(0, len(ids), 500):
                for n, h in self._c.execute(select(S.ledger_nodes.c.nid, S.ledger_nodes.c.hash)
                                            .where(S.ledger_nodes.c.nid.in_(ids[k:k + 500]))):
                    got[int(n)] = bytes(h)
        except DatabaseError as exc:
            raise _damaged(exc) from None
        return got

    def nodes_in_range(self, lo: int, hi: int, limit: int | None = None) -> list[tuple[int, bytes]]:
        """(nid, hash) with lo <= nid < hi, in order."""
        q = (select(S.ledger_nodes.c.nid, S.ledger_nodes.c.hash)
             .where(S.ledger_nodes.c.nid >= lo, S.ledger_nodes.c.nid < hi).order_by(S.ledger_nodes.c.nid))
        if limit is not None:
            q = q.limit(limit)
        return [(int(n), bytes(h)) for n, h in self._c.execute(q)]

    def last_indices(self) -> tuple[int | None, int | None]:
        """(largest leaf index in ``ledger_leaves``, largest level-0 node id in ``ledger_nodes``)."""
        try:
            last_leaf = self._c.execute(select(func.max(S.ledger_leaves.c.idx))).scalar()
            last_node0 = self._c.execute(select(func.max(S.ledger_nodes.c.nid)).where(
                S.ledger_nodes.c.nid < (1 << NID_SHIFT))).scalar()
        except DatabaseError as exc:
            raise _damaged(exc) from None
        return (None if last_leaf is None else int(last_leaf)), (None if last_node0 is None else int(last_node0))

    def leaves(self, lo: int, hi: int, limit: int) -> list[tuple[int, str, bytes]]:
        """(index, observation id, signer key) with lo <= index < hi, in order."""
        lv = S.ledger_leaves.c
        rows = self._c.execute(select(lv.idx, lv.observation_id, lv.key).where(lv.idx >= lo, lv.idx < hi)
                               .order_by(lv.idx).limit(limit)).all()
        return [(int(i), str(oid), bytes(k)) for i, oid, k in rows]

    def leaf_indices(self, observation_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for k in range(0, len(observation_ids), 500):
            q = select(S.ledger_leaves.c.observation_id, S.ledger_leaves.c.idx).where(
                S.ledger_leaves.c.observation_id.in_(list(observation_ids[k:k + 500])))
            out.update({oid: int(i) for oid, i in self._c.execute(q)})
        return out

    def leaf_appended_at(self, idx: int) -> float | None:
        v = self._c.execute(select(S.ledger_leaves.c.appended_at).where(S.ledger_leaves.c.idx == idx)).scalar()
        return None if v is None else float(v)

    # --------------------------------------------------------------- writing
    def lock_state(self, now: float, empty_root: bytes) -> None:
        """Take the log's write lock: touch the state row (created for an empty log)."""
        got_lock = self._c.execute(S.ledger_state.update().where(S.ledger_state.c.id == 1)
                                   .values(updated_at=now)).rowcount
        if not got_lock:
            self._c.execute(insert(S.ledger_state).values(id=1, size=0, root=empty_root, updated_at=now))

    def write_tree(self, node_rows: Sequence[tuple[int, bytes]], leaf_rows: Sequence[tuple[int, str, bytes, float]],
                   kept: Sequence[tuple[int, bytes]]) -> None:
        """New nodes, leaves and kept entries (key certificates), in bulk."""
        bulk_insert(self._c, S.ledger_nodes, ("nid", "hash"), node_rows)
        bulk_insert(self._c, S.ledger_leaves, ("idx", "observation_id", "key", "appended_at"), leaf_rows)
        if kept:
            bulk_insert(self._c, S.ledger_key_entries, ("idx", "entry"), kept)

    def advance_state(self, old_size: int, new_size: int, root: bytes, now: float) -> bool:
        """Move the state from ``old_size`` to ``new_size``; False if it was not at ``old_size``."""
        n = self._c.execute(S.ledger_state.update()
                            .where(S.ledger_state.c.id == 1, S.ledger_state.c.size == old_size)
                            .values(size=new_size, root=root, updated_at=now)).rowcount
        return bool(n == 1)

    # ---------------------------------------------------------------- queue
    def queue_stats(self) -> tuple[int, float | None]:
        """(entries in the ingest queue, queue time of the oldest)."""
        n, oldest = self._c.execute(select(func.count(), func.min(S.ledger_queue.c.queued_at))
                                    .select_from(S.ledger_queue)).one()
        return int(n), None if oldest is None else float(oldest)

    def queue_empty(self) -> bool:
        return self._c.execute(select(S.ledger_queue.c.seq).limit(1)).first() is None

    def take_queue(self, limit: int) -> list[tuple[int, str, bytes, bytes, float]]:
        """Delete and return up to ``limit`` queued entries, oldest first: (seq, observation id,
        leaf hash, key, queued_at).  Call under the state lock (``lock_state``)."""
        q = S.ledger_queue.c
        if self._c.dialect.name == "sqlite":
            rows = [tuple(r) for r in self._c.execute(select(q.seq, q.observation_id, q.leaf, q.key, q.queued_at)
                                                      .order_by(q.seq).limit(limit))]
            if rows:  # one writer at a time: everything up to the last taken was taken
                self._c.exec_driver_sql("DELETE FROM ledger_queue WHERE seq <= ?", (int(rows[-1][0]),))
        else:
            # Delete exactly what is returned: the rows visible to this statement's snapshot up to
            # the limit-th smallest visible seq (a range scan of the primary key, 2.7x faster than
            # ``seq IN (SELECT ... LIMIT n)``).  A row of a transaction still open may hold a
            # lower seq; it is invisible here, so neither deleted nor returned, and is taken by a
            # later round.  A binary cursor and one fetchall: no per-row SQLAlchemy work.
            raw: Any = self._c.connection.driver_connection
            with raw.cursor(binary=True) as cur:
                cur.execute("WITH t AS (DELETE FROM ledger_queue WHERE seq <= COALESCE((SELECT seq FROM "
                            "ledger_queue ORDER BY seq OFFSET %s LIMIT 1), 9223372036854775807) "
                            "RETURNING seq, observation_id, leaf, key, queued_at) "
                            "SELECT seq, observation_id, leaf, key, queued_at FROM t ORDER BY seq",
                            (max(limit, 1) - 1,))
                return cur.fetchall()
        return [(int(r[0]), str(r[1]), bytes(r[2]), bytes(r[3]), float(r[4])) for r in rows]

    def queued_observation_ids(self) -> set[str]:
        return {r[0] for r in self._c.execute(select(S.ledger_queue.c.observation_id))}

    # ---------------------------------------------------------- checkpoints
    def last_checkpoint(self) -> tuple[int, bytes] | None:
        row = self._c.execute(select(S.ledger_checkpoints.c.size, S.ledger_checkpoints.c.root)
                              .order_by(S.ledger_checkpoints.c.seq.desc()).limit(1)).first()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def add_checkpoint(self, note: str, size: int, root: bytes, created_at: float) -> int:
        res = self._c.execute(insert(S.ledger_checkpoints).values(size=size, root=root, note=note,
                                                                  created_at=created_at))
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def checkpoints(self) -> list[CheckpointRow]:
        rows = self._c.execute(select(S.ledger_checkpoints).order_by(S.ledger_checkpoints.c.seq)).mappings().all()
        return [CheckpointRow(int(r["seq"]), int(r["size"]), bytes(r["root"]), r["note"], r["created_at"])
                for r in rows]

    def cosignatures(self) -> list[tuple[int, str]]:
        """(checkpoint seq, cosignature line) in the order they were stored."""
        rows = self._c.execute(select(S.ledger_cosignatures.c.checkpoint_seq, S.ledger_cosignatures.c.line)
                               .order_by(S.ledger_cosignatures.c.seq)).all()
        return [(int(s), str(line)) for s, line in rows]


class LedgerRepo:
    """The log's tables of one store (``store.ledger``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.sqlite = engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def connect(self) -> Iterator[LedgerConn]:
        """A connection; a database that cannot be opened is a LogCorruptError."""
        try:
            c = self._engine.connect()
        except DatabaseError as exc:
            raise LogCorruptError(f"cannot open the log database: {exc.orig}") from None
        with c:
            yield LedgerConn(c)

    @contextlib.contextmanager
    def durable(self) -> Iterator[LedgerConn]:
        """A connection whose commits are fsynced (SQLite ``synchronous=FULL``), with database
        errors mapped to the log's errors: a repeated observation is a LogError, a lost race
        for the next index a ConcurrentAppendError, anything else a LogCorruptError (the
        transaction rolled back: nothing was written)."""
        with self.connect() as lc:
            c = lc.raw
            if self.sqlite:
                c.exec_driver_sql("PRAGMA synchronous=FULL")
                c.commit()
            try:
                yield lc
            except DatabaseError as exc:
                msg = str(exc.orig)
                if "UNIQUE" in msg.upper() and "observation_id" in msg:
                    raise LogError(f"an observation in the batch is already in the log: {msg}") from None
                if "UNIQUE" in msg.upper() or "PRIMARY KEY" in msg.upper() or "duplicate key" in msg:
                    raise ConcurrentAppendError(msg) from None
                raise LogCorruptError(f"append failed, nothing was written: {msg}") from None
            finally:
                if self.sqlite:
                    c.exec_driver_sql("PRAGMA synchronous=NORMAL")
                    c.commit()

    # ------------------------------------------------------------- log keys
    def set_origin(self, origin: str) -> None:
        with self._engine.begin() as c:
            c.execute(S.ledger_log_keys.update().values(origin=origin))

    def add_log_key(self, vkey: str, origin: str, created_at: float) -> None:
        """Register a log (checkpoint) key; a key already registered is left as it is."""
        with self._engine.begin() as c:
            if c.execute(select(S.ledger_log_keys.c.vkey).where(S.ledger_log_keys.c.vkey == vkey)).first() is None:
                c.execute(insert(S.ledger_log_keys).values(vkey=vkey, origin=origin, created_at=created_at))

    def origin(self) -> str | None:
        """The origin of the first registered log key."""
        with self._engine.connect() as c:
            row = c.execute(select(S.ledger_log_keys.c.origin).order_by(S.ledger_log_keys.c.created_at)
                            .limit(1)).first()
        return None if row is None else str(row[0])

    def any_origin(self) -> str | None:
        """The origin of some registered log key, unordered (what ``verify`` has always read)."""
        with self._engine.connect() as c:
            row = c.execute(select(S.ledger_log_keys.c.origin).limit(1)).first()
        return None if row is None else str(row[0])

    def log_vkeys(self) -> list[str]:
        with self._engine.connect() as c:
            return [str(v) for (v,) in c.execute(select(S.ledger_log_keys.c.vkey))]

    # ------------------------------------------------------------ witnesses
    def put_witness(self, name: str, vkey: str, added_at: float) -> None:
        with self._engine.begin() as c:
            c.execute(S.ledger_witnesses.delete().where(S.ledger_witnesses.c.name == name))
            c.execute(insert(S.ledger_witnesses).values(name=name, vkey=vkey, added_at=added_at))

    def witness_vkeys(self) -> list[str]:
        with self._engine.connect() as c:
            return [str(v) for (v,) in c.execute(select(S.ledger_witnesses.c.vkey))]

    def put_cosignature(self, checkpoint_seq: int, witness: str, timestamp: int, line: str,
                        created_at: float) -> None:
        """Store a witness's cosignature of a checkpoint, replacing its earlier one."""
        cs = S.ledger_cosignatures
        with self._engine.begin() as c:
            c.execute(cs.delete().where(cs.c.checkpoint_seq == checkpoint_seq, cs.c.witness == witness))
            c.execute(insert(cs).values(checkpoint_seq=checkpoint_seq, witness=witness, timestamp=timestamp,
                                        line=line, created_at=created_at))

    # ------------------------------------------------- kept entries (certs)
    def kept_entries(self, idxs: Sequence[int]) -> dict[int, bytes]:
        """Entries stored verbatim (key certificates), by log index."""
        out: dict[int, bytes] = {}
        ids = list(idxs)
        with self._engine.connect() as c:
            for k in range(0, len(ids), 500):
                out.update((int(i), bytes(e)) for i, e in c.execute(
                    select(S.ledger_key_entries.c.idx, S.ledger_key_entries.c.entry)
                    .where(S.ledger_key_entries.c.idx.in_(ids[k:k + 500]))))
        return out

    def kept_entries_with_leaves(self) -> list[tuple[int, bytes, str | None, bytes | None]]:
        """Every kept entry with its leaf's observation id and stored leaf hash (None where the
        log has no such index): (index, entry, observation id, leaf hash), in index order."""
        ke, lv, nd = S.ledger_key_entries, S.ledger_leaves, S.ledger_nodes
        with self._engine.connect() as c:
            rows = c.execute(select(ke.c.idx, ke.c.entry, lv.c.observation_id, nd.c.hash)
                             .select_from(ke.outerjoin(lv, lv.c.idx == ke.c.idx).outerjoin(nd, nd.c.nid == ke.c.idx))
                             .order_by(ke.c.idx)).all()
        return [(int(i), bytes(e), oid, None if h is None else bytes(h)) for i, e, oid, h in rows]

    def certificates_stamp(self) -> tuple[int, int | None, tuple[str, ...]]:
        """What changes when a certificate or log key is added: (kept entries, last index, log vkeys)."""
        with self._engine.connect() as c:
            n, hi = c.execute(select(func.count(), func.max(S.ledger_key_entries.c.idx))
                              .select_from(S.ledger_key_entries)).one()
            vkeys = tuple(sorted(str(v) for (v,) in c.execute(select(S.ledger_log_keys.c.vkey))))
        return int(n), None if hi is None else int(hi), vkeys

    # ---------------------------------------------------------- source keys
    def source_key(self, public_key: str) -> SourceKeyRow | None:
        with self._engine.connect() as c:
            row = c.execute(select(S.ledger_source_keys)
                            .where(S.ledger_source_keys.c.public_key == public_key)).mappings().first()
        return None if row is None else _key_row(row)

    def source_keys(self, source_id: str | None = None, *, by_created: bool = False) -> list[SourceKeyRow]:
        """Registered keys, by (source, valid_from), or in registration order with ``by_created``."""
        k = S.ledger_source_keys.c
        q = select(S.ledger_source_keys)
        if source_id:
            q = q.where(k.source_id == source_id)
        q = q.order_by(k.created_at) if by_created else q.order_by(k.source_id, k.valid_from)
        with self._engine.connect() as c:
            return [_key_row(r) for r in c.execute(q).mappings()]

    def put_source_key(self, public_key: str, source_id: str, valid_from: float, valid_to: float | None,
                       created_at: float) -> None:
        """Insert a key, or set the window of one already registered."""
        k = S.ledger_source_keys
        with self._engine.begin() as c:
            if c.execute(select(k.c.public_key).where(k.c.public_key == public_key)).first() is not None:
                c.execute(update(k).where(k.c.public_key == public_key).values(valid_from=valid_from,
                                                                               valid_to=valid_to))
            else:
                c.execute(insert(k).values(public_key=public_key, source_id=source_id, valid_from=valid_from,
                                           valid_to=valid_to, created_at=created_at))

    def close_key_windows(self, source_id: str, keep: str, at: float) -> None:
        """Close every open window of the source's keys other than ``keep`` at ``at`` (rotation)."""
        k = S.ledger_source_keys
        with self._engine.begin() as c:
            rows = c.execute(select(k).where(k.c.source_id == source_id)).mappings().all()
            for r in rows:
                if r["public_key"] != keep and (r["valid_to"] is None or r["valid_to"] > at):
                    c.execute(update(k).where(k.c.public_key == r["public_key"])
                              .values(valid_to=max(at, r["valid_from"])))

    def revoke_source_key(self, public_key: str, at: float, reason: str) -> None:
        k = S.ledger_source_keys
        with self._engine.begin() as c:
            c.execute(update(k).where(k.c.public_key == public_key).values(revoked_at=at, revoke_reason=reason))

    # --------------------------------------------------------- observations
    def unlogged_signed_observations(self) -> list[str]:
        """Ids of signed observations neither in the log nor queued for it, in storage order
        (what a crash between storing and logging leaves; ``ledger reconcile``)."""
        o, lv, q = S.observations.c, S.ledger_leaves.c, S.ledger_queue.c
        with self._engine.connect() as c:
            rows = c.execute(select(o.id).select_from(
                S.observations.outerjoin(S.ledger_leaves, lv.observation_id == o.id)
                .outerjoin(S.ledger_queue, q.observation_id == o.id))
                .where(o.ledger_index.is_(None), o.signature.is_not(None), lv.idx.is_(None), q.seq.is_(None))
                .order_by(o.seq)).all()
        return [str(r[0]) for r in rows]

    def observation_claims(self) -> Iterator[tuple[str, int | None, str | None]]:
        """(observation id, ledger index it claims or the log gave it, signature) of every stored
        observation, streamed (verify checks each against the log)."""
        sel = obs_select()
        q = sel.with_only_columns(S.observations.c.id, sel.selected_columns.ledger_index, S.observations.c.signature)
        with self._engine.connect() as c:
            for oid, idx, sig in c.execute(q):
                yield str(oid), None if idx is None else int(idx), sig


def _key_row(r: Any) -> SourceKeyRow:
    return SourceKeyRow(r["public_key"], r["source_id"], r["valid_from"], r["valid_to"], r["revoked_at"],
                        r["revoke_reason"], r["created_at"])
