"""The persistent log: proofs from stored nodes equal the RFC functions, and a
log that is cut, edited or rolled back is refused instead of extended."""

from __future__ import annotations

import os
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ledger.conftest import graft_forged_tree
from trucewatch.ledger import merkle
from trucewatch.ledger.log import LogCorruptError, LogEntry, LogError, MerkleLog
from trucewatch.store import Store


def _entries(data, start=0):
    return [LogEntry(f"o{start + i}", d, b"k" * 32) for i, d in enumerate(data)]


def test_stored_proofs_match_rfc(tmp_path):
    store = Store.open(tmp_path / "l.db")
    log = MerkleLog(store)
    data = [os.urandom(20) for _ in range(300)]
    # uneven batches so the right edge is carried across appends
    pos = 0
    for b in (1, 2, 5, 64, 100, 128):
        assert log.append(_entries(data[pos:pos + b], pos)) == list(range(pos, pos + b))
        pos += b
    assert log.size == 300
    for n in (1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 65, 127, 128, 129, 200, 255, 256, 257, 299, 300):
        assert log.root_at(n) == merkle.root_hash(data[:n])
        for i in {0, n // 3, n // 2, n - 1}:
            p = log.inclusion_proof(i, n)
            assert p == merkle.inclusion_proof(data, i, n)
            merkle.verify_inclusion(data[i], i, n, p, log.root_at(n))
        for m in {0, 1, n // 2, n - 1, n}:
            c = log.consistency_proof(m, n)
            assert c == merkle.consistency_proof(data, m, n)
            merkle.verify_consistency(m, n, log.root_at(m), log.root_at(n), c)
    with pytest.raises(merkle.IndexOutOfRangeError):
        log.inclusion_proof(300, 300)
    with pytest.raises(merkle.IndexOutOfRangeError):
        log.inclusion_proof(0, 301)
    with pytest.raises(merkle.SizeOrderError):
        log.consistency_proof(10, 5)
    # a second process sees the same state
    log2 = MerkleLog(Store.open(tmp_path / "l.db"))
    assert log2.state() == log.state()
    log2.append(_entries([b"x"], 300))
    log.append(_entries([b"y"], 301))  # notices the other writer, reloads its edge
    assert log.root_at() == merkle.root_hash([*data, b"x", b"y"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_batches_any_split(tmp_path_factory, batches):
    store = Store.open(tmp_path_factory.mktemp("l") / "l.db")
    log = MerkleLog(store)
    data = []
    for b in batches:
        new = [os.urandom(8) for _ in range(b)]
        log.append(_entries(new, len(data)))
        data += new
        assert log.root_at() == merkle.root_hash(data)
    store.close()


def test_same_observation_twice_refused(tmp_path):
    log = MerkleLog(Store.open(tmp_path / "l.db"))
    log.append(_entries([b"a"]))
    with pytest.raises(LogError, match="already in the log"):
        log.append(_entries([b"a"]))
    assert log.size == 1
    log.append(_entries([b"b"], 1))  # the failed batch left nothing behind
    assert log.root_at() == merkle.root_hash([b"a", b"b"])


def _sql(path, *stmts):
    con = sqlite3.connect(path)
    for s in stmts:
        con.execute(s)
    con.commit()
    con.close()


def test_cut_mid_write_detected(tmp_path):
    path = tmp_path / "l.db"
    log = MerkleLog(Store.open(path))
    log.append(_entries([os.urandom(10) for _ in range(50)]))
    # A writer that died after writing some rows of a batch without the state update.
    _sql(path, "INSERT INTO ledger_nodes (nid, hash) VALUES (50, zeroblob(32))",
         "INSERT INTO ledger_leaves (idx, observation_id, key, appended_at) VALUES (50, 'o50', zeroblob(32), 0)")
    fresh = MerkleLog(Store.open(path))
    with pytest.raises(LogCorruptError, match="cut mid-write"):
        fresh.check()
    with pytest.raises(LogCorruptError):
        fresh.append(_entries([b"z"], 51))


def test_lost_rows_detected(tmp_path):
    path = tmp_path / "l.db"
    log = MerkleLog(Store.open(path))
    log.append(_entries([os.urandom(10) for _ in range(50)]))
    # 50 = 32 + 16 + 2: complete subtrees (5, 0), (4, 2), (1, 24) make the right edge
    _sql(path, "DELETE FROM ledger_nodes WHERE nid = (1 << 48) | 24")
    with pytest.raises(LogCorruptError, match=r"node \(level 1, index 24\) is missing"):
        MerkleLog(Store.open(path)).check()
    _sql(path, "DELETE FROM ledger_nodes WHERE nid = (4 << 48) | 2")
    with pytest.raises(LogCorruptError, match="missing"):
        MerkleLog(Store.open(path)).inclusion_proof(49, 50)


def test_never_extends_a_state_inconsistent_with_checkpoint(tmp_path):
    path = tmp_path / "l.db"
    store = Store.open(path)
    log = MerkleLog(store)
    data = [os.urandom(10) for _ in range(20)]
    log.append(_entries(data))
    log.add_checkpoint("note\n", 20, log.root_at(20))
    # Rewrite history consistently inside the tree (leaf 3 and every node above it) and the state:
    # only the signed checkpoint still remembers the old root.
    other = list(data)
    other[3] = b"rewritten"
    forged = MerkleLog(Store.open(tmp_path / "forged.db"))
    forged.append(_entries(other))
    graft_forged_tree(path, tmp_path / "forged.db")
    fresh = MerkleLog(Store.open(path))
    with pytest.raises(LogCorruptError, match="history was rewritten"):
        fresh.append(_entries([b"next"], 20))
    # and a rollback below the checkpoint is refused too
    _sql(path, "DELETE FROM ledger_nodes WHERE nid >= 10 AND nid < 1 << 48",
         "DELETE FROM ledger_leaves WHERE idx >= 10", "UPDATE ledger_state SET size = 10")
    with pytest.raises(LogCorruptError):
        MerkleLog(Store.open(path)).append(_entries([b"next"], 20))


def test_truncated_database_file_is_a_clear_error(tmp_path):
    path = tmp_path / "l.db"
    store = Store.open(path)
    MerkleLog(store).append(_entries([os.urandom(100) for _ in range(2000)]))
    store.engine.dispose()
    with sqlite3.connect(path) as con:  # fold the WAL in so the cut hits the main file
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises((LogCorruptError, Exception)) as ei:
        s2 = Store.open(path, migrate=False)
        MerkleLog(s2).check()
    assert isinstance(ei.value, LogCorruptError), repr(ei.value)
