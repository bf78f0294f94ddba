"""The integrator killed (SIGKILL) mid-batch, again and again, while ingest keeps
queueing: on restart it resumes, and the log ends consistent with nothing lost
and nothing duplicated (SQLite file and PostgreSQL)."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time

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

N = int(os.environ.get("TRUCEWATCH_INTEGRATOR_FAULT_N", "6000"))
#: The child integrates in small transactions (many commits to land a kill between) and slowly
#: enough that most kills hit one mid-transaction.
CHILD = """
import sys, time
from trucewatch.store import Store
from trucewatch.ledger.integrator import integrate_pending
s = Store.open(sys.argv[1], migrate=False)
print("ready", flush=True)
while True:
    integrate_pending(s, limit=int(sys.argv[2]))
    time.sleep(0.01)
"""


def _queue(store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(S.ledger_queue)).scalar_one())


def _run_with_kills(url, f, obs, rng: random.Random) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    kills = mid = 0
    batches = [obs[i:i + 300] for i in range(0, len(obs), 300)]
    proc = None
    try:
        for b, part in enumerate(batches):
            rep = ingest_signed(f.store, part, integrate=False)  # acknowledged = queued durably
            assert len(rep.accepted) == len(part) and not rep.errors
            if proc is None:
                proc = subprocess.Popen([sys.executable, "-c", CHILD, url, "400"], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.02, 0.25))
            if b % 2 == 1:
                before = MerkleLog(f.store).size
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                proc = None
                kills += 1
                mid += MerkleLog(f.store).size == before and _queue(f.store) > 0  # killed before its commit
                MerkleLog(f.store).check()  # consistent after every kill
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
    assert kills >= 5
    return mid


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_integrator_killed_mid_batch_resumes_without_loss_or_duplicates(backend, tmp_path, request):
    url = str(tmp_path / "ledger.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    f = build(url, n=10)
    try:
        obs = sign_observations(make_observations(N, start=10), f.keys)
        _run_with_kills(url, f, obs, random.Random(3))
        assert integrate_pending(f.store) is not None  # the dead holder's lock was released
        assert _queue(f.store) == 0
        log = MerkleLog(f.store)
        size, root = log.check()
        assert size == CERTS + 10 + N
        ids = [oid for _, oid, _ in log.leaves()]
        want = {o.id for o in f.observations} | {o.id for o in obs}
        assert len(ids) == len(set(ids)), "an entry was logged twice"
        assert {i for i in ids if not i.startswith("#key-cert/")} == want, "an acknowledged entry was lost"
        entries = [e for *_, e in rebuild_entries(f.store, list(log.leaves()))]
        assert root == merkle.root_hash(entries)
        j = CERTS + 10 + N // 2
        merkle.verify_inclusion(entries[j], j, size, log.inclusion_proof(j, size), root)
        make_checkpoint(f.store, f.signer)
        rep = verify_store(f.store, log_keys=[f.signer.vkey()])
        assert rep.ok, rep.problems[:3]
        back = f.store.get_observations([obs[7].id])[0]
        assert log.leaf_hash_at(back.ledger_index) == hashlib.sha256(b"\0" + entries[back.ledger_index]).digest()
    finally:
        f.store.close()
