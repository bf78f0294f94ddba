"""A witness never cosigns two histories, even when two cosign runs race against two forks.

Each trial starts two processes on a fresh witness state.  Both read the state
and compute their consistency proof first, then meet at a barrier and cosign at
the same instant, one against each fork of the log (same mission key, different
entries).  Before the lock and compare-and-swap, both succeeded in about half the
trials; now at most one may.
"""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from tests.ledger.conftest import ORIGIN, build
from trucewatch.ledger.api import init_log, make_checkpoint
from trucewatch.ledger.checkpoint import ALG_COSIGNATURE_V1, NoteSigner
from trucewatch.ledger.log import MerkleLog
from trucewatch.ledger.witness import Witness, WitnessRefusal, WitnessStateChanged

TRIALS = 24


def _cosign_worker(db: str, state: str, wkey: str, barrier: mp.synchronize.Barrier, out: mp.Queue) -> None:
    from trucewatch.store import Store

    store = Store.open(db)
    w = Witness(state, NoteSigner.from_private_key_string(wkey))
    cp = MerkleLog(store).checkpoints()[-1]
    proof = MerkleLog(store).consistency_proof(min(w.state.size, cp["size"]), cp["size"])
    barrier.wait(timeout=30)
    result = "refused"
    for _ in range(2):  # what `witness cosign` does: retry once with a fresh proof if the state moved
        try:
            w.cosign(cp["note"], proof)
            result = "cosigned"
            break
        except WitnessStateChanged:
            proof = MerkleLog(store).consistency_proof(min(w.state.size, cp["size"]), cp["size"])
        except WitnessRefusal:
            break
    out.put((db, result))
    store.close()


@pytest.fixture(scope="module")
def forks(tmp_path_factory):
    d = tmp_path_factory.mktemp("forks")
    a = build(d / "a.db", n=20)
    b = build(d / "b.db", n=25, checkpoint=False)
    init_log(b.store, ORIGIN, a.signer)  # the mission signs a second, different history with its key
    make_checkpoint(b.store, a.signer)
    a.store.close()
    b.store.close()
    return d / "a.db", d / "b.db", a.signer.vkey()


def test_concurrent_cosigns_on_two_forks_never_both_succeed(forks, tmp_path):
    db_a, db_b, log_vkey = forks
    wkey = NoteSigner.generate("witness.party-a.example", ALG_COSIGNATURE_V1)
    ctx = mp.get_context("fork")
    outcomes = []
    for trial in range(TRIALS):
        state = tmp_path / f"w{trial}.json"
        Witness.init(state, wkey, log_vkey, ORIGIN)
        barrier, out = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_cosign_worker, args=(str(db), str(state), wkey.private_key_string(),
                                                           barrier, out)) for db in (db_a, db_b)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0, f"trial {trial}: a cosign process crashed"
        res = dict(out.get(timeout=5) for _ in procs)
        won = [db for db, r in res.items() if r == "cosigned"]
        assert len(won) <= 1, f"trial {trial}: the witness cosigned both forks"
        assert len(won) == 1, f"trial {trial}: neither cosign succeeded ({res})"
        # the state remembers exactly the history it cosigned
        cosigned = Witness(state, wkey).state
        assert cosigned.size == {str(db_a): 23, str(db_b): 28}[won[0]]
        outcomes.append(Path(won[0]).name)
    assert len(outcomes) == TRIALS


def test_stale_state_is_refused_not_overwritten(forks, tmp_path):
    """Compare-and-swap in one process: a Witness object whose state another run changed refuses."""
    db_a, db_b, log_vkey = forks
    from trucewatch.store import Store

    wkey = NoteSigner.generate("witness.party-b.example", ALG_COSIGNATURE_V1)
    Witness.init(tmp_path / "w.json", wkey, log_vkey, ORIGIN)
    first, second = Witness(tmp_path / "w.json", wkey), Witness(tmp_path / "w.json", wkey)
    with Store.open(db_a) as sa, Store.open(db_b) as sb:
        cpa, cpb = MerkleLog(sa).checkpoints()[-1], MerkleLog(sb).checkpoints()[-1]
        first.cosign(cpa["note"], MerkleLog(sa).consistency_proof(0, cpa["size"]))
        with pytest.raises(WitnessStateChanged):
            second.cosign(cpb["note"], MerkleLog(sb).consistency_proof(0, cpb["size"]))
        assert second.state.size == cpa["size"]  # it reloaded what the other run wrote
        with pytest.raises(WitnessRefusal, match="fork"):  # and with a fresh proof the fork shows
            second.cosign(cpb["note"], MerkleLog(sb).consistency_proof(cpa["size"], cpb["size"]))
    assert Witness(tmp_path / "w.json", wkey).state.size == cpa["size"]
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temp file behind
