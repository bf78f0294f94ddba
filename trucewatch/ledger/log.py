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

from trucewatch.ledger import merkle
from trucewatch.store.ledger import (
    NID_SHIFT,
    ConcurrentAppendError,
    LedgerConn,
    LogCorruptError,
    LogError,
    bulk_insert,
    gc_paused,
)
from trucewatch.store.store import Store

__all__ = ["NID_SHIFT", "ConcurrentAppendError", "LogCorruptError", "LogEntry", "LogError", "MerkleLog",
           "bulk_insert", "extend_tree", "frontier", "nid"]

_MAX_INDEX = (1 << NID_SHIFT) - 1
_sha256 = hashlib.sha256
T = TypeVar("T")
_Item = tuple[str, bytes, bytes, "bytes | None", float]  # observation id, leaf hash, key, kept entry, appended_at

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


def extend_tree(edge: Sequence[tuple[int, int, bytes]], size: int, leaves: Sequence[bytes]
                ) -> tuple[list[tuple[int, bytes]], list[tuple[int, int, bytes]]]:
    """The nodes that leaf hashes ``leaves`` complete when appended to a tree of ``size``
    entries whose right edge (``frontier(size)``, as (level, index, hash)) is ``edge``.

    Returns ((node id, hash) of every new node, leaves included; the new right edge).
    Level by level, one list comprehension of SHA-256 per level, rather than a Python
    loop per leaf: the new nodes of level l are indices [size >> l, new_size >> l), and the
    left sibling of the first is the old edge node of level l when size >> l is odd."""
    new_size = size + len(leaves)
    old = {lv: (ix, h) for lv, ix, h in edge}
    rows: list[tuple[int, bytes]] = list(zip(range(size, new_size), leaves, strict=True))
    last: dict[int, tuple[int, bytes]] = {}  # level -> (index, hash) of its last new node
    cur, lo, lv = list(leaves), size, 0
    sha = _sha256
    while cur:
        last[lv] = (lo + len(cur) - 1, cur[-1])
        if lo & 1:
            ix, h = old[lv]
            if ix != lo - 1:
                raise LogCorruptError(f"the right edge has node (level {lv}, index {ix}), not {lo - 1}")
            cur.insert(0, h)
            lo -= 1
        m = len(cur) & ~1
        cur = [sha(b"\x01" + x + y).digest() for x, y in zip(cur[0:m:2], cur[1:m:2], strict=True)]
        lo >>= 1
        lv += 1
        rows.extend(zip(range((lv << NID_SHIFT) | lo, (lv << NID_SHIFT) | (lo + len(cur))), cur, strict=True))
    stack = []
    for flv, fix in frontier(new_size):
        got = last.get(flv)
        if got is not None and got[0] == fix:
            stack.append((flv, fix, got[1]))
        elif flv in old and old[flv][0] == fix:
            stack.append((flv, fix, old[flv][1]))
        else:
            raise LogCorruptError(f"node (level {flv}, index {fix}) of the new right edge is neither new nor stored")
    return rows, stack


class MerkleLog:
    """Append-only RFC 6962 log over a Store's database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.repo = store.ledger
        self._edge: list[tuple[int, int, bytes]] | None = None  # (level, index, hash)
        self._edge_size = -1
        self.last_lag_s: float | None = None

    # ------------------------------------------------------------- reading
    def state(self) -> tuple[int, bytes]:
        with self._connect() as c:
            return self._state(c)

    @property
    def size(self) -> int:
        return self.state()[0]

    def _connect(self) -> contextlib.AbstractContextManager[LedgerConn]:
        return self.repo.connect()

    def _state(self, c: LedgerConn) -> tuple[int, bytes]:
        st = c.state()
        return (0, merkle.EMPTY_ROOT) if st is None else st

    def _nodes(self, c: LedgerConn, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        want = {nid(lv, ix): (lv, ix) for lv, ix in keys}
        ids = list(want)
        got = {want[n]: h for n, h in c.nodes(ids).items()}
        missing = [want[i] for i in ids if want[i] not in got]
        if missing:
            lv, ix = missing[0]
            raise LogCorruptError(f"node (level {lv}, index {ix}) is missing from the stored tree "
                                  f"({len(missing)} missing): the log was cut or edited")
        bad = [k for k, h in got.items() if len(h) != merkle.HASH_SIZE]
        if bad:
            raise LogCorruptError(f"node (level {bad[0][0]}, index {bad[0][1]}) is not a 32-byte hash")
        return got

    def _with_nodes(self, c: LedgerConn, fn: Callable[[Callable[[int, int], bytes]], T]) -> T:
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

    def _check_size(self, c: LedgerConn, size: int | None) -> tuple[int, bytes]:
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

    def _root_at(self, c: LedgerConn, size: int) -> bytes:
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
                rows = c.nodes_in_range(lo, hi, page)
                if not rows:
                    return
                yield from rows
                lo = rows[-1][0] + 1

    def leaves(self, start: int = 0, end: int | None = None, page: int = 50_000
               ) -> Iterator[tuple[int, str, bytes]]:
        """(index, observation id, signer key) in order."""
        end = self.size if end is None else end
        lo = start
        with self._connect() as c:
            while lo < end:
                rows = c.leaves(lo, end, page)
                if not rows:
                    return
                yield from rows
                lo = rows[-1][0] + 1

    def index_of(self, observation_ids: Sequence[str]) -> dict[str, int]:
        with self._connect() as c:
            return c.leaf_indices(observation_ids)

    # ------------------------------------------------------------- checking
    def last_checkpoint(self, c: LedgerConn | None = None) -> tuple[int, bytes] | None:
        if c is not None:
            return c.last_checkpoint()
        with self._connect() as conn:
            return conn.last_checkpoint()

    def check(self) -> tuple[int, bytes]:
        """Raise LogCorruptError unless state, stored tree and last checkpoint agree."""
        with self._connect() as c:
            return self._check(c)[:2]

    def _check(self, c: LedgerConn) -> tuple[int, bytes, list[tuple[int, int, bytes]]]:
        size, root = self._state(c)
        leaf, node0 = c.last_indices()
        last_leaf = -1 if leaf is None else leaf
        last_node0 = -1 if node0 is None else node0
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
    def _durable(self) -> Iterator[LedgerConn]:
        """A connection whose commits are fsynced (SQLite synchronous=FULL), with database errors
        mapped to the log's errors (trucewatch.store.ledger) and the cached right edge dropped
        on any failure."""
        try:
            with self.repo.durable() as c:
                yield c
        except BaseException:
            self._edge = None
            raise

    def _lock_state(self, c: LedgerConn, now: float) -> int:
        """Take the log's write lock (the state row) and return the size read under it."""
        c.lock_state(now, merkle.EMPTY_ROOT)
        size, _ = self._state(c)
        if self._edge is None or self._edge_size != size:
            size, _root, self._edge = self._check(c)
            self._edge_size = size
        return size

    def _locked_extend(self, c: LedgerConn, items: Sequence[_Item] | Callable[[LedgerConn], Sequence[_Item]],
                       now: float, before_commit: Callable[[LedgerConn], None] | None = None) -> tuple[int, int]:
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
            new_size = size + len(items)
            node_rows, stack = extend_tree(self._edge or [], size, [it[1] for it in items])
            leaf_rows = [(size + j, it[0], it[2], it[4]) for j, it in enumerate(items)]
            kept = [(size + j, it[3]) for j, it in enumerate(items) if it[3] is not None]
            new_root = _fold([h for _, _, h in stack])
            c.write_tree(node_rows, leaf_rows, kept)
            if before_commit is not None:
                before_commit(c)
            if not c.advance_state(size, new_size, new_root, now):
                raise ConcurrentAppendError("the log grew while appending")
        self._edge = stack
        self._edge_size = new_size
        return size, new_size

    # ------------------------------------------------------------ integration
    def pending(self) -> tuple[int, float | None]:
        """(entries waiting in the ingest queue, queue time of the oldest)."""
        with self._connect() as c:
            return c.queue_stats()

    def integrate(self, limit: int = 200_000) -> int:
        """Move up to ``limit`` queued entries (oldest first) into the tree, in one transaction
        that also deletes them from the queue: a kill at any point leaves either the old or
        the new state, never a half.  Returns the number integrated."""
        with self._connect() as c:
            if c.queue_empty():
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
        now = time.time()
        taken: list[tuple[int, str, bytes, bytes, float]] = []

        def items_under_lock(c: LedgerConn) -> list[_Item]:
            # Taken under the state row lock: two integrators cannot take the same entries.
            rows = c.take_queue(limit)
            taken.extend(rows)
            return [(r[1], r[2], r[3], None, r[4]) for r in rows]

        with self._durable() as c, gc_paused():
            size, new_size = self._locked_extend(c, items_under_lock, now)
        if taken:  # integration lag: from the acknowledgement (queue commit) to the tree's commit
            self.last_lag_s = time.time() - min(r[4] for r in taken)
        return new_size - size

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
            return c.add_checkpoint(note, size, root, time.time())

    def checkpoints(self) -> list[dict[str, Any]]:
        with self._connect() as c:
            rows = c.checkpoints()
            cos = c.cosignatures()
        by_cp: dict[int, list[str]] = {}
        for seq, line in cos:
            by_cp.setdefault(seq, []).append(line)
        return [{"seq": r.seq, "size": r.size, "root": r.root, "note": r.note,
                 "created_at": r.created_at, "cosignatures": by_cp.get(r.seq, [])} for r in rows]
