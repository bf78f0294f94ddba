"""Ingest queues log entries with the observations; the integrator adds them to the tree."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from tests.ledger.conftest import CERTS, build, make_observations
from trucewatch.ledger.api import make_checkpoint, mission_signer, reconcile
from trucewatch.ledger.certs import keyring_for_ingest
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.integrator import integrate_pending
from trucewatch.ledger.keys import Keyring, generate_source_keys, register_source_keys, sign_observations
from trucewatch.ledger.log import MerkleLog
from trucewatch.ledger.trust import Trust
from trucewatch.ledger.verify import verify_store
from trucewatch.model import Source
from trucewatch.store import schema as S
from trucewatch.store.store import legacy_content_hash


def _queued(store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(S.ledger_queue)).scalar_one())


def test_acknowledged_entries_wait_in_the_queue_until_integrated(any_store):
    store = any_store
    srcs = [Source(id=f"src-{i}", kind="acoustic_sensor") for i in range(3)]
    store.add_sources(srcs)
    keys = generate_source_keys(srcs)
    register_source_keys(store, keys)
    obs = sign_observations(make_observations(50), keys)
    rep = ingest_signed(store, obs, integrate=False)
    assert len(rep.accepted) == 50 and _queued(store) == 50
    assert MerkleLog(store).size == CERTS  # durable, acknowledged, not yet in the tree
    assert all(o.ledger_index is None for o in store.get_observations([o.id for o in obs]))
    signer = mission_signer(store)
    trust_keys = [signer.vkey()]
    rep_v = verify_store(store, Trust(log_keys=trust_keys, allow_uncovered=True))
    assert rep_v.ok and any("ingest queue" in w for w in rep_v.warnings)
    # a redelivered batch is a duplicate and queues nothing twice
    again = ingest_signed(store, obs[:10], integrate=False)
    assert again.duplicates == [o.id for o in obs[:10]] and _queued(store) == 50
    assert integrate_pending(store) == 50 and _queued(store) == 0
    assert [o.ledger_index for o in store.get_observations([o.id for o in obs[:3]])] == [CERTS, CERTS + 1, CERTS + 2]
    make_checkpoint(store, signer)
    assert verify_store(store, log_keys=trust_keys).ok
    assert reconcile(store)["appended"] == 0


def test_a_second_integrator_skips_while_one_holds_the_log(tmp_path):
    f = build(tmp_path / "l.db", n=5)
    with f.store.try_exclusive("ledger-integrator") as held:
        assert held
        assert integrate_pending(f.store) is None  # another holder: skip, never wait
    assert integrate_pending(f.store) == 0
    f.store.close()


def test_keyring_cache_is_rebuilt_when_a_key_certificate_is_appended(tmp_path):
    f = build(tmp_path / "l.db", n=5)
    ring = keyring_for_ingest(f.store)
    assert keyring_for_ingest(f.store) is ring  # cached while the log's certificates are unchanged
    f.store.add_sources([Source(id="src-new", kind="acoustic_sensor")])
    new = generate_source_keys(["src-new"])
    register_source_keys(f.store, new, signer=f.signer)
    ring2 = keyring_for_ingest(f.store)
    assert ring2 is not ring and "src-new" in ring2.by_source
    # a key written only to the table is still not trusted
    with f.store.engine.begin() as c:
        c.execute(text("INSERT INTO ledger_source_keys (public_key, source_id, valid_from, created_at) "
                       "VALUES (:k, 'src-new', 0, 0)"), {"k": "ab" * 32})
    assert "ab" * 32 not in Keyring.load(f.store).by_key
    f.store.close()


def test_rows_stored_with_the_legacy_content_hash_stay_duplicates(tmp_path):
    f = build(tmp_path / "l.db", n=5)
    o = f.observations[0]
    with f.store.engine.begin() as c:
        c.execute(S.observations.update().where(S.observations.c.id == o.id)
                  .values(content_hash=legacy_content_hash(o)))
    rep = ingest_signed(f.store, [o])
    assert rep.duplicates == [o.id] and not rep.errors
    f.store.close()


@pytest.mark.parametrize("procs", ["0", "2"])
def test_signature_checks_in_the_process_pool_agree(tmp_path, monkeypatch, procs):
    import trucewatch.ledger.keys as K

    monkeypatch.setenv("TRUCEWATCH_VERIFY_PROCESSES", procs)
    monkeypatch.setenv("TRUCEWATCH_VERIFY_PROCESS_MIN", "100")
    monkeypatch.setattr(K, "_POOL", None)
    f = build(tmp_path / "l.db", n=5)
    obs = sign_observations(make_observations(1300, start=100), f.keys)
    bad = {3, 700, 1299}
    obs = [o.model_copy(update={"time_sigma_s": 9.0}) if i in bad else o for i, o in enumerate(obs)]
    ok, errs = K.verify_observations(obs, Keyring.load(f.store))
    assert (K._POOL is not None) == (procs != "0")
    assert [v.obs.id for v in ok] == [o.id for i, o in enumerate(obs) if i not in bad]
    assert {e.record for e in errs} == {obs[i].id for i in bad}
    if K._POOL is not None:
        K._POOL.shutdown()
        monkeypatch.setattr(K, "_POOL", None)
    f.store.close()
