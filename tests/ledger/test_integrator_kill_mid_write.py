"""The integrator SIGKILLed at a known point inside one large batch: after the new
nodes are written but before the leaves (the middle of the COPY work), and after
the whole tree is written but before the state row and commit.  The kill is
placed, not timed: the child integrator stops there and says so, then dies.
Nothing of the batch may be visible afterwards; a restarted integrator takes the
whole batch again and the log ends complete (nothing lost, nothing twice),
consistent, and verified by ``verify_store``, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from tests.ledger.conftest import CERTS, build, make_observations
from trucewatch.ledger import merkle
from trucewatch.ledger.api import make_checkpoint, rebuild_entries
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.integrator import integrate_pending
from trucewatch.ledger.keys import sign_observations
from trucewatch.ledger.log import MerkleLog
from trucewatch.ledger.verify import verify_store
from trucewatch.store import schema as S

pytestmark = pytest.mark.faults

N = 2_500
#: A child integrator that halts at ``where`` inside its one transaction, tells the parent,
#: and waits there for the kill.
CHILD = """
import sys, time
import trucewatch.store.ledger as L
from trucewatch.store import Store
from trucewatch.ledger.integrator import integrate_pending

where = sys.argv[2]

def halt(what):
    print("halted " + what, flush=True)
    time.sleep(600)

real_bulk = L.bulk_insert
def bulk_insert(c, table, cols, rows):
    real_bulk(c, table, cols, rows)
    if where == "after-nodes" and table.name == "ledger_nodes":
        halt("after-nodes %d" % len(rows))
L.bulk_insert = bulk_insert

real_advance = L.LedgerConn.advance_state
def advance_state(self, old_size, new_size, root, now):
    ok = real_advance(self, old_size, new_size, root, now)
    if where == "before-commit":
        halt("before-commit %d" % (new_size - old_size))
    return ok
L.LedgerConn.advance_state = advance_state

s = Store.open(sys.argv[1], migrate=False)
integrate_pending(s)
print("finished", flush=True)
"""


def _queue(store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(S.ledger_queue)).scalar_one())


def _kill_at(url: str, where: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url, where], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline().strip()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    return line


@pytest.mark.parametrize("where", ["after-nodes", "before-commit"])
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_integrator_killed_inside_a_batch_leaves_nothing_and_restarts_complete(backend, where, tmp_path, request):
    url = str(tmp_path / "ledger.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    f = build(url, n=10)
    try:
        log = MerkleLog(f.store)
        size0, root0 = log.check()
        obs = sign_observations(make_observations(N, start=10), f.keys)
        for i in range(0, N, 500):  # acknowledged = queued durably, not yet in the tree
            rep = ingest_signed(f.store, obs[i:i + 500], integrate=False)
            assert len(rep.accepted) == 500 and not rep.errors
        assert _queue(f.store) == N

        line = _kill_at(url, where)
        assert line.startswith(f"halted {where}"), line  # the kill landed inside the batch's transaction
        if where == "before-commit":
            assert line == f"halted before-commit {N}"  # the whole queue was one batch
        # nothing of the killed batch is visible; the acknowledged entries are all still queued
        assert MerkleLog(f.store).check() == (size0, root0)
        assert _queue(f.store) == N
        assert list(MerkleLog(f.store).leaves(size0, size0 + 1)) == []

        # restart: the next integrator (the lock of the dead one is free) takes the whole batch
        assert integrate_pending(f.store) == N
        assert _queue(f.store) == 0
        log = MerkleLog(f.store)
        size, root = log.check()
        assert size == CERTS + 10 + N
        ids = [oid for _, oid, _ in log.leaves()]
        assert len(ids) == len(set(ids)), "an entry was logged twice"
        want = {o.id for o in f.observations} | {o.id for o in obs}
        assert {i for i in ids if not i.startswith("#key-cert/")} == want, "an acknowledged entry was lost"
        entries = [e for *_, e in rebuild_entries(f.store, list(log.leaves()))]
        assert root == merkle.root_hash(entries)
        for j in (0, size0, size0 + N // 2, size - 1):
            merkle.verify_inclusion(entries[j], j, size, log.inclusion_proof(j, size), root)
        merkle.verify_consistency(size0, size, root0, root, log.consistency_proof(size0, size))
        make_checkpoint(f.store, f.signer)
        rep = verify_store(f.store, log_keys=[f.signer.vkey()])
        assert rep.ok, rep.problems[:3]
    finally:
        f.store.close()
