"""The persistent Merkle log in the store.

Every node hash of the RFC 6962 tree over complete subtrees is stored in
``ledger_nodes`` under ``nid = level << 48 | index`` (level 0 = leaf hashes,
node (l, i) = MTH of leaves [i * 2**l, (i + 1) * 2**l)).  Any RFC 6962 subtree
is a fold of at most log2(n) such complete subtrees, so:

- append needs the right edge of the tree (the complete subtrees of the
  current size, at most 48 rows, read in one query) and writes each new leaf
  and the nodes it completes: O(log n) reads, about 2 rows per leaf;
- inclusion and consistency proofs first record which stored nodes they need
  (a dry run of the RFC algorithm), read them in one query, then compute.

Durability: each batch is one transaction, committed with SQLite
``synchronous=FULL`` (fsync of the WAL) before ``append`` returns.
``ledger_state`` (size, root) is written in the same transaction; before every
append the stored right edge must fold to that root, the last stored leaf must
be ``size - 1``, and the tree at the last checkpoint's size must have the
checkpoint's root.  A log cut mid-write (missing rows, a truncated file, a
rolled-back copy) therefore fails loudly with :class:`LogCorruptError`
instead of being extended.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import DatabaseError

from trucewatch.errors import TruceWatchError
from trucewatch.ledger import merkle
from trucewatch.store import schema as S
from trucewatch.store.store import Store

NID_SHIFT = 48
_MAX_INDEX = (1 << NID_SHIFT) - 1
_sha256 = hashlib.sha256
T = TypeVar("T")
_Item = tuple[str, bytes, bytes, "bytes | None", float]  # observation id, leaf hash, key, kept entry, appended_at

LEDGER_TABLES = (S.ledger_state, S.ledger_nodes, S.ledger_leaves, S.ledger_checkpoints, S.ledger_cosignatures,
                 S.ledger_source_keys, S.ledger_log_keys, S.ledger_witnesses, S.ledger_key_entries, S.ledger_queue)


class LogError(TruceWatchError, RuntimeError):
    """The log refuses an operation."""


class LogCorruptError(LogError):
    """The stored log is not a consistent state (cut mid-write, edited, truncated)."""


class ConcurrentAppendError(LogError):
    """Another writer appended between our read of the state and our write."""


def nid(level: int, index: int) -> int:
    return (level << NID_SHIFT) | index


@dataclass(slots=True)
class LogEntry:
    observation_id: str
    entry: bytes  # raw leaf data (see trucewatch.ledger.canonical.entry_bytes)
    key: bytes  # 32-byte public key of the signer
    keep: bool = False  # store the entry bytes (key certificates: no observation to rebuild them from)


def frontier(size: int) -> list[tuple[int, int]]:
    """(level, index) of the complete subtrees covering [0, size), left to right."""
    out = []
    pos = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, pos >> level))
            pos += 1 << level
    return out


def _perfect_parts(start: int, end: int) -> list[tuple[int, int]]:
    """RFC 6962 subtree [start, end) as complete subtrees, left to right."""
    out = []
    while start < end:
        n = end - start
        k = n if n & (n - 1) == 0 else 1 << ((n - 1).bit_length() - 1)
        level = k.bit_length() - 1
        if start & (k - 1):
            raise ValueError(f"[{start}, {end}) is not a subtree of an RFC 6962 tree")
        out.append((level, start >> level))
        start += k
    return out


def _fold(hashes: Sequence[bytes]) -> bytes:
    r = hashes[-1]
    for h in reversed(hashes[:-1]):
        r = _sha256(b"\x01" + h + r).digest()
    return r


class MerkleLog:
    """Append-only RFC 6962 log over a Store's database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self.sqlite = store.dialect == "sqlite"
        self._edge: list[tuple[int, int, bytes]] | None = None  # (level, index, hash)
        self._edge_size = -1
        self.last_lag_s: float | None = None
        ensure_tables(store)

    # ------------------------------------------------------------- reading
    def state(self) -> tuple[int, bytes]:
        with self._connect() as c:
            return self._state(c)

    @property
    def size(self) -> int:
        return self.state()[0]

    def _connect(self) -> Any:
        try:
            return self.engine.connect()
        except DatabaseError as exc:
            raise LogCorruptError(f"cannot open the log database: {exc.orig}") from None

    def _state(self, c: Connection) -> tuple[int, bytes]:
        try:
            row = c.execute(select(S.ledger_state.c.size, S.ledger_state.c.root).where(S.ledger_state.c.id == 1)).first()
        except DatabaseError as exc:
            raise LogCorruptError(f"the log database is damaged: {exc.orig}") from None
        if row is None:
            return 0, merkle.EMPTY_ROOT
        return int(row[0]), bytes(row[1])

    def _nodes(self, c: Connection, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        want = {nid(lv, ix): (lv, ix) for lv, ix in keys}
        got: dict[tuple[int, int], bytes] = {}
        ids = list(want)
        try:
            for k in range(0, len(ids), 500):
                for n, h in c.execute(select(S.ledger_nodes.c.nid, S.ledger_nodes.c.hash)
                                      .where(S.ledger_nodes.c.nid.in_(ids[k:k + 500]))):
                    got[want[int(n)]] = bytes(h)
        except DatabaseError as exc:
            raise LogCorruptError(f"the log database is damaged: {exc.orig}") from None
        missing = [want[i] for i in ids if want[i] not in got]
        if missing:
            lv, ix = missing[0]
            raise LogCorruptError(f"node (level {lv}, index {ix}) is missing from the stored tree "
                                  f"({len(missing)} missing): the log was cut or edited")
        bad = [k for k, h in got.items() if len(h) != merkle.HASH_SIZE]
        if bad:
            raise LogCorruptError(f"node (level {bad[0][0]}, index {bad[0][1]}) is not a 32-byte hash")
        return got

    def _with_nodes(self, c: Connection, fn: Callable[[Callable[[int, int], bytes]], T]) -> T:
        """Run an RFC algorithm twice: once to learn which nodes it needs, once with them."""
        need: list[tuple[int, int]] = []
        dummy = b"\0" * 32

        def record(start: int, end: int) -> bytes:
            need.extend(_perfect_parts(start, end))
            return dummy

        fn(record)
        got = self._nodes(c, need)

        def node(start: int, end: int) -> bytes:
            return _fold([got[p] for p in _perfect_parts(start, end)])

        return fn(node)

    def _check_size(self, c: Connection, size: int | None) -> tuple[int, bytes]:
        cur, root = self._state(c)
        if size is None:
            return cur, root
        if not 0 <= size <= cur:
            raise merkle.IndexOutOfRangeError(f"tree size {size} is not within the log's size {cur}")
        return size, root

    def root_at(self, size: int | None = None) -> bytes:
        """Root of the tree of the first ``size`` entries (default: current)."""
        with self._connect() as c:
            size, _root = self._check_size(c, size)
            return self._root_at(c, size)

    def _root_at(self, c: Connection, size: int) -> bytes:
        if size == 0:
            return merkle.EMPTY_ROOT
        parts = frontier(size)
        got = self._nodes(c, parts)
        return _fold([got[p] for p in parts])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        with self._connect() as c:
            size, _ = self._check_size(c, size)
            if not 0 <= index < size:
                raise merkle.IndexOutOfRangeError(f"leaf index {index} is not in a tree of size {size}")
            return self._with_nodes(c, lambda node: merkle.inclusion_path(index, size, node))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        with self._connect() as c:
            new_size, _ = self._check_size(c, new_size)
            if not 0 <= old_size <= new_size:
                raise merkle.SizeOrderError(f"old size {old_size} is not within 0..{new_size}")
            return self._with_nodes(c, lambda node: merkle.consistency_path(old_size, new_size, node))

    def leaf_hash_at(self, index: int) -> bytes:
        with self._connect() as c:
            return self._nodes(c, [(0, index)])[(0, index)]

    def leaf_hashes(self, start: int = 0, end: int | None = None, page: int = 50_000) -> Iterator[tuple[int, bytes]]:
        """(index, leaf hash) in order, from the stored level 0."""
        end = self.size if end is None else end
        lo = nid(0, start)
        hi = nid(0, end)
        with self._connect() as c:
            while lo < hi:
                rows = c.execute(select(S.ledger_nodes.c.nid, S.ledger_nodes.c.hash)
                                 .where(S.ledger_nodes.c.nid >= lo, S.ledger_nodes.c.nid < hi)
                                 .order_by(S.ledger_nodes.c.nid).limit(page)).all()
                if not rows:
                    return
                for n, h in rows:
                    yield int(n), bytes(h)
                lo = int(rows[-1][0]) + 1

    def leaves(self, start: int = 0, end: int | None = None, page: int = 50_000
               ) -> Iterator[tuple[int, str, bytes]]:
        """(index, observation id, signer key) in order."""
        end = self.size if end is None else end
        lo = start
        with self._connect() as c:
            while lo < end:
                rows = c.execute(select(S.ledger_leaves.c.idx, S.ledger_leaves.c.observation_id, S.ledger_leaves.c.key)
                                 .where(S.ledger_leaves.c.idx >= lo, S.ledger_leaves.c.idx < end)
                                 .order_by(S.ledger_leaves.c.idx).limit(page)).all()
                if not rows:
                    return
                for i, oid, k in rows:
                    yield int(i), oid, bytes(k)
                lo = int(rows[-1][0]) + 1

    def index_of(self, observation_ids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        with self._connect() as c:
            for k in range(0, len(observation_ids), 500):
                q = select(S.ledger_leaves.c.observation_id, S.ledger_leaves.c.idx).where(
                    S.ledger_leaves.c.observation_id.in_(list(observation_ids[k:k + 500])))
                out.update({oid: int(i) for oid, i in c.execute(q)})
        return out

    # ------------------------------------------------------------- checking
    def last_checkpoint(self, c: Connection | None = None) -> tuple[int, bytes] | None:
        def q(conn: Connection) -> tuple[int, bytes] | None:
            row = conn.execute(select(S.ledger_checkpoints.c.size, S.ledger_checkpoints.c.root)
                               .order_by(S.ledger_checkpoints.c.seq.desc()).limit(1)).first()
            return None if row is None else (int(row[0]), bytes(row[1]))

        if c is not None:
            return q(c)
        with self._connect() as conn:
            return q(conn)

    def check(self) -> tuple[int, bytes]:
        """Raise LogCorruptError unless state, stored tree and last checkpoint agree."""
        with self._connect() as c:
            return self._check(c)[:2]

    def _check(self, c: Connection) -> tuple[int, bytes, list[tuple[int, int, bytes]]]:
        size, root = self._state(c)
        try:
            last_leaf = c.execute(select(func.max(S.ledger_leaves.c.idx))).scalar()
            last_node0 = c.execute(select(func.max(S.ledger_nodes.c.nid)).where(
                S.ledger_nodes.c.nid < nid(1, 0))).scalar()
        except DatabaseError as exc:
            raise LogCorruptError(f"the log database is damaged: {exc.orig}") from None
        last_leaf = -1 if last_leaf is None else int(last_leaf)
        last_node0 = -1 if last_node0 is None else int(last_node0)
        if last_leaf != size - 1 or last_node0 != size - 1:
            raise LogCorruptError(
                f"log cut mid-write or edited: the state says {size} entries but the last stored entry is "
                f"{last_leaf} and the last leaf hash {last_node0}")
        parts = frontier(size)
        got = self._nodes(c, parts) if parts else {}
        edge = [(lv, ix, got[(lv, ix)]) for lv, ix in parts]
        folded = _fold([h for _, _, h in edge]) if edge else merkle.EMPTY_ROOT
        if folded != root:
            raise LogCorruptError(f"the stored tree of size {size} has root {folded.hex()}, but the state "
                                  f"records {root.hex()}: the log was cut mid-write or edited")
        cp = self.last_checkpoint(c)
        if cp is not None:
            cp_size, cp_root = cp
            if cp_size > size:
                raise LogCorruptError(f"the last checkpoint has size {cp_size} but the log only {size} entries: "
                                      "entries were lost (cut or rolled back)")
            got_root = self._root_at(c, cp_size)
            if got_root != cp_root:
                raise LogCorruptError(f"the stored tree at the last checkpoint's size {cp_size} has root "
                                      f"{got_root.hex()}, not the signed {cp_root.hex()}: history was rewritten")
        return size, root, edge

    # ------------------------------------------------------------- appending
    def append(self, entries: Sequence[LogEntry]) -> list[int]:
        """Append a batch durably; returns the new entries' indices.

        Refuses (LogCorruptError) when the stored state is not consistent with
        itself and with the last checkpoint; the batch is all-or-nothing.
        """
        if not entries:
            return []
        hashes = [_sha256(b"\x00" + e.entry).digest() for e in entries]
        for attempt in range(3):
            try:
                return self._append(entries, hashes)
            except ConcurrentAppendError:
                self._edge = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _append(self, entries: Sequence[LogEntry], hashes: list[bytes]) -> list[int]:
        now = time.time()
        items = [(e.observation_id, h, e.key, e.entry if e.keep else None, now)
                 for e, h in zip(entries, hashes, strict=True)]
        with self._durable() as c:
            size, new_size = self._locked_extend(c, items, now)
        return list(range(size, new_size))

    @contextlib.contextmanager
    def _durable(self) -> Iterator[Connection]:
        """A connection whose commits are fsynced (SQLite synchronous=FULL), with database errors
        mapped to the log's errors and the cached right edge dropped on any failure."""
        with self._connect() as c:
            if self.sqlite:
                c.exec_driver_sql("PRAGMA synchronous=FULL")
                c.commit()
            try:
                yield c
            except DatabaseError as exc:
                self._edge = None
                msg = str(exc.orig)
                if "UNIQUE" in msg.upper() and "observation_id" in msg:
                    raise LogError(f"an observation in the batch is already in the log: {msg}") from None
                if "UNIQUE" in msg.upper() or "PRIMARY KEY" in msg.upper() or "duplicate key" in msg:
                    raise ConcurrentAppendError(msg) from None
                raise LogCorruptError(f"append failed, nothing was written: {msg}") from None
            except BaseException:
                self._edge = None
                raise
            finally:
                if self.sqlite:
                    c.exec_driver_sql("PRAGMA synchronous=NORMAL")
                    c.commit()

    def _lock_state(self, c: Connection, now: float) -> int:
        """Take the log's write lock (the state row) and return the size read under it."""
        got_lock = c.execute(S.ledger_state.update().where(S.ledger_state.c.id == 1)
                             .values(updated_at=now)).rowcount
        if not got_lock:
            c.execute(insert(S.ledger_state).values(id=1, size=0, root=merkle.EMPTY_ROOT, updated_at=now))
        size, _ = self._state(c)
        if self._edge is None or self._edge_size != size:
            size, _root, self._edge = self._check(c)
            self._edge_size = size
        return size

    def _locked_extend(self, c: Connection, items: Sequence[_Item] | Callable[[Connection], Sequence[_Item]],
                       now: float, before_commit: Callable[[Connection], None] | None = None) -> tuple[int, int]:
        """In one transaction: lock, extend the tree by ``items`` (observation id, leaf hash, key,
        entry to keep or None, appended_at), update the state; returns (old size, new size).
        ``items`` may be a function of the connection, called once the lock is held."""
        with c.begin():
            size = self._lock_state(c, now)
            if callable(items):
                items = items(c)
                if not items:
                    return size, size
            if size + len(items) > _MAX_INDEX:
                raise LogError("log is full")
            stack = list(self._edge or [])
            node_rows: list[tuple[int, bytes]] = []
            leaf_rows: list[tuple[int, str, bytes, float]] = []
            kept: list[tuple[int, bytes]] = []
            for j, (oid, h, key, keep, at) in enumerate(items):
                i = size + j
                node_rows.append((i, h))  # nid(0, i) == i
                leaf_rows.append((i, oid, key, at))
                if keep is not None:
                    kept.append((i, keep))
                lv, ix, cur = 0, i, h
                while stack and stack[-1][0] == lv:
                    cur = _sha256(b"\x01" + stack.pop()[2] + cur).digest()
                    lv += 1
                    ix >>= 1
                    node_rows.append(((lv << NID_SHIFT) | ix, cur))
                stack.append((lv, ix, cur))
            new_size = size + len(items)
            new_root = _fold([h for _, _, h in stack])
            bulk_insert(c, S.ledger_nodes, ("nid", "hash"), node_rows)
            bulk_insert(c, S.ledger_leaves, ("idx", "observation_id", "key", "appended_at"), leaf_rows)
            if kept:
                bulk_insert(c, S.ledger_key_entries, ("idx", "entry"), kept)
            if before_commit is not None:
                before_commit(c)
            n = c.execute(S.ledger_state.update().where(S.ledger_state.c.id == 1, S.ledger_state.c.size == size)
                          .values(size=new_size, root=new_root, updated_at=now)).rowcount
            if n != 1:
                raise ConcurrentAppendError("the log grew while appending")
        self._edge = stack
        self._edge_size = new_size
        return size, new_size

    # ------------------------------------------------------------ integration
    def pending(self) -> tuple[int, float | None]:
        """(entries waiting in the ingest queue, queue time of the oldest)."""
        with self._connect() as c:
            n, oldest = c.execute(select(func.count(), func.min(S.ledger_queue.c.queued_at))
                                  .select_from(S.ledger_queue)).one()
        return int(n), None if oldest is None else float(oldest)

    def integrate(self, limit: int = 200_000) -> int:
        """Move up to ``limit`` queued entries (oldest first) into the tree, in one transaction
        that also deletes them from the queue: a kill at any point leaves either the old or
        the new state, never a half.  Returns the number integrated."""
        with self._connect() as c:
            first = c.execute(select(S.ledger_queue.c.seq).limit(1)).first()
        if first is None:
            return 0
        for attempt in range(3):
            try:
                return self._integrate(limit)
            except ConcurrentAppendError:
                self._edge = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _integrate(self, limit: int) -> int:
        q = S.ledger_queue.c
        now = time.time()
        taken: list[Any] = []

        def items_under_lock(c: Connection) -> list[_Item]:
            # Taken under the state row lock: two integrators cannot take the same entries.
            if self.sqlite:
                rows = c.execute(select(q.seq, q.observation_id, q.leaf, q.key, q.queued_at)
                                 .order_by(q.seq).limit(limit)).all()
                if rows:  # one writer at a time: everything up to the last taken was taken
                    c.exec_driver_sql("DELETE FROM ledger_queue WHERE seq <= ?", (int(rows[-1][0]),))
            else:  # delete exactly what is returned (rows committed meanwhile may have lower seqs)
                rows = sorted((tuple(r) for r in c.exec_driver_sql(
                    "DELETE FROM ledger_queue WHERE seq IN (SELECT seq FROM ledger_queue ORDER BY seq "
                    "LIMIT %(n)s) RETURNING seq, observation_id, leaf, key, queued_at", {"n": limit})), key=_first)
            taken.extend(rows)
            return [(r[1], bytes(r[2]), bytes(r[3]), None, float(r[4])) for r in rows]

        with self._durable() as c:
            size, new_size = self._locked_extend(c, items_under_lock, now)
        if taken:  # integration lag: from the acknowledgement (queue commit) to the tree's commit
            self.last_lag_s = time.time() - min(float(r[4]) for r in taken)
        return new_size - size

    def _insert(self, c: Connection, table: Any, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        bulk_insert(c, table, cols, rows)

    # ------------------------------------------------------------ checkpoints
    def add_checkpoint(self, note: str, size: int, root: bytes) -> int:
        """Store a signed checkpoint; it must match the stored tree at its size
        and not be older than the last one."""
        with self._connect() as c, c.begin():
            cur, _ = self._state(c)
            if size > cur:
                raise LogError(f"checkpoint size {size} exceeds the log size {cur}")
            last = self.last_checkpoint(c)
            if last is not None and size < last[0]:
                raise LogError(f"checkpoint size {size} is older than the last checkpoint ({last[0]})")
            if self._root_at(c, size) != root:
                raise LogError(f"checkpoint root {root.hex()} is not the stored tree's root at size {size}")
            return int(c.execute(insert(S.ledger_checkpoints).values(size=size, root=root, note=note,
                                                                     created_at=time.time())).inserted_primary_key[0])

    def checkpoints(self) -> list[dict[str, Any]]:
        with self._connect() as c:
            rows = c.execute(select(S.ledger_checkpoints).order_by(S.ledger_checkpoints.c.seq)).mappings().all()
            cos = c.execute(select(S.ledger_cosignatures).order_by(S.ledger_cosignatures.c.seq)).mappings().all()
        by_cp: dict[int, list[str]] = {}
        for r in cos:
            by_cp.setdefault(int(r["checkpoint_seq"]), []).append(r["line"])
        return [{"seq": int(r["seq"]), "size": int(r["size"]), "root": bytes(r["root"]), "note": r["note"],
                 "created_at": r["created_at"], "cosignatures": by_cp.get(int(r["seq"]), [])} for r in rows]


def ensure_tables(store: Store) -> None:
    """Create the ledger tables in a database migrated before they existed (once per engine:
    ingest used to check nine tables on every batch)."""
    if id(store.engine) in _ENSURED:
        return
    try:
        for t in LEDGER_TABLES:
            t.create(store.engine, checkfirst=True)
    except DatabaseError as exc:
        raise LogCorruptError(f"cannot open the log database: {exc.orig}") from None
    _ENSURED.add(id(store.engine))


_ENSURED: set[int] = set()


def _first(r: tuple[Any, ...]) -> Any:
    return r[0]


#: PostgreSQL types of the column types that binary COPY writes as they come from Python.
_PG_BINARY = {"BigInteger": "int8", "Integer": "int8", "LargeBinary": "bytea", "String": "text", "Text": "text",
              "Float": "float8"}


def bulk_insert(c: Connection, table: Any, cols: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows in the current transaction: PostgreSQL ``COPY`` (psycopg 3),
    SQLite ``executemany`` of one prepared statement; no ORM per-row work."""
    if not rows:
        return
    if c.dialect.name == "postgresql":
        raw = c.connection.driver_connection
        types = [_PG_BINARY.get(type(table.c[name].type).__name__) for name in cols]
        binary = all(types)  # binary COPY for tables of plain columns: no text parsing of bytea
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({','.join(cols)}) FROM STDIN"
                                           + (" (FORMAT BINARY)" if binary else "")) as cp:
            if binary:
                cp.set_types(types)
            for r in rows:
                cp.write_row(r)
        return
    if c.dialect.name == "sqlite":
        marks = ",".join("?" * len(cols))
        c.exec_driver_sql(f"INSERT INTO {table.name} ({','.join(cols)}) VALUES ({marks})", list(rows))
        return
    c.execute(insert(table), [dict(zip(cols, r, strict=True)) for r in rows])
