"""Canonical encoding, source keys (validity, rotation, revocation) and signed ingest."""

from __future__ import annotations

import base64
import hashlib
import itertools
from datetime import timedelta

import numpy as np
import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from tests.ledger.conftest import T0, make_observations
from trucewatch.ledger.api import entry_for, reconcile
from trucewatch.ledger.canonical import (
    SIGNED_FIELDS,
    SIGNING_CONTEXT,
    UNSIGNED_FIELDS,
    canonical_body,
    entry_bytes,
    observation_body,
    parse_entry,
)
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import (
    KeyRegistryError,
    Keyring,
    generate_source_keys,
    public_key_hex,
    register_key,
    revoke_key,
    rotate_key,
    sign_observation,
    sign_observations,
    verify_observations,
)
from trucewatch.ledger.log import MerkleLog
from trucewatch.model import Observation, Source


def test_every_model_field_is_signed_or_declared_unsigned():
    assert set(Observation.model_fields) == set(SIGNED_FIELDS) | set(UNSIGNED_FIELDS)


def test_entry_is_rfc8785_of_the_documented_object():
    o = make_observations(1)[0]
    k = SigningKey(b"\1" * 32)
    s = sign_observation(o, k)
    e = entry_bytes(canonical_body(s), s.signature, public_key_hex(k))
    assert e == rfc8785.dumps({"key": public_key_hex(k), "observation": observation_body(s),
                               "signature": s.signature, "v": 1})
    assert parse_entry(e)["observation"]["id"] == o.id
    k.verify_key.verify(SIGNING_CONTEXT + rfc8785.dumps(observation_body(s)),
                        base64.b64decode(s.signature))
    with pytest.raises(ValueError):
        parse_entry(e[:-1])
    with pytest.raises(ValueError):
        parse_entry(e.replace(b'"v":1', b'"v": 1'))


@pytest.fixture(scope="module")
def rt_store(tmp_path_factory):
    from trucewatch.store import Store

    store = Store.open(tmp_path_factory.mktemp("s") / "s.db")
    store.add_sources([Source(id="src-0", kind="drone")])
    keys = generate_source_keys(["src-0"], np.random.default_rng(1))
    register_key(store, "src-0", public_key_hex(keys["src-0"]), valid_from=0)
    yield store, keys, itertools.count()
    store.close()


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**53 + 1, 2**53 - 1),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                                                max_size=3), max_leaves=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attrs=st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=4),
       micro=st.integers(0, 999_999), days=st.integers(0, 3000))
def test_signature_survives_the_store_round_trip(rt_store, attrs, micro, days):
    """What the store gives back canonicalizes to the bytes that were signed."""
    store, keys, counter = rt_store
    n = next(counter)
    o = make_observations(1)[0].model_copy(update={
        "id": f"rt-{n}", "attributes": attrs, "time": T0.replace(microsecond=micro) - timedelta(days=days)})
    s = sign_observations([o], keys)[0]
    rep = ingest_signed(store, [s])
    assert rep.accepted == [o.id], rep.as_dict()
    back = store.get_observations([o.id])[0]
    assert canonical_body(back) == canonical_body(s)
    idx = back.ledger_index
    assert idx == n + 1  # entry 0 certifies the source's key
    assert MerkleLog(store).leaf_hash_at(idx) == hashlib.sha256(
        b"\0" + entry_for(back, bytes(keys["src-0"].verify_key))).digest()


def test_uncanonicalizable_attributes_rejected_by_name(store):
    keys = _setup(store, 1)
    o = make_observations(1, sources=1)[0].model_copy(update={"attributes": {"big": 2**60}})
    with pytest.raises(ValueError, match="attributes"):
        sign_observation(o, keys["src-0"])
    o2 = o.model_copy(update={"signature": "A" * 86 + "=="})
    rep = ingest_signed(store, [o2])
    assert rep.errors[0].record == o.id and rep.errors[0].field == "attributes"


def _setup(store, n_sources=2):
    srcs = [Source(id=f"src-{i}", kind="acoustic_sensor") for i in range(n_sources)]
    store.add_sources(srcs)
    keys = generate_source_keys(srcs, np.random.default_rng(3))
    for sid, k in keys.items():
        register_key(store, sid, public_key_hex(k), valid_from=0)
    return keys


def test_ingest_rejects_with_reasons(store):
    keys = _setup(store)
    obs = make_observations(6, sources=2)
    good = sign_observations(obs[:3], keys)
    unsigned = obs[3]
    tampered = sign_observations([obs[4]], keys)[0]
    tampered = tampered.model_copy(update={"attributes": {**tampered.attributes, "n_sensors": 99}})
    wrong_key = sign_observation(obs[5], SigningKey.generate())
    not_b64 = good[0].model_copy(update={"id": "x-b64", "signature": "%%%"})
    short = good[0].model_copy(update={"id": "x-short", "signature": "AAAA"})
    unknown_src = sign_observation(obs[0].model_copy(update={"id": "x-src", "source_id": "nobody"}), keys["src-0"])
    rep = ingest_signed(store, [*good, unsigned, tampered, wrong_key, not_b64, short, unknown_src])
    assert sorted(rep.accepted) == sorted(o.id for o in good)
    errs = {e.record: (e.field, e.message) for e in rep.errors}
    assert errs[unsigned.id][0] == "signature" and "missing" in errs[unsigned.id][1]
    assert errs[tampered.id][0] == "signature" and "does not verify" in errs[tampered.id][1]
    assert errs[wrong_key.id][0] == "signature"
    assert "base64" in errs["x-b64"][1]
    assert "64 bytes" in errs["x-short"][1]
    assert errs["x-src"][0] == "source_id"
    assert store.count_observations() == 3
    assert [o.ledger_index for o in store.get_observations([o.id for o in good])] == [2, 3, 4]  # after 2 key certs
    # re-ingest is idempotent and logs nothing twice
    rep2 = ingest_signed(store, good)
    assert rep2.duplicates == [o.id for o in good] and not rep2.accepted
    assert MerkleLog(store).size == 5


def test_rotation_and_revocation(store):
    keys = _setup(store, 1)
    old = keys["src-0"]
    new = SigningKey(b"\2" * 32)
    t_rot = T0 + timedelta(hours=1)
    rotate_key(store, "src-0", public_key_hex(new), at=t_rot)
    assert store.get_source("src-0").public_key == public_key_hex(new)
    o = make_observations(2, sources=1)
    before = sign_observation(o[0], old)  # T0: old key's window
    after_old = sign_observation(o[1].model_copy(update={"time": t_rot + timedelta(minutes=1)}), old)
    after_new = sign_observation(o[1].model_copy(update={"id": "n1", "time": t_rot + timedelta(minutes=1)}), new)
    ok, errs = verify_observations([before, after_old, after_new], Keyring.load(store))
    assert [v.obs.id for v in ok] == [before.id, "n1"]
    assert errs[0].record == after_old.id
    # revoke the new key: nothing it signs is accepted any more, whatever the observation time
    revoke_key(store, public_key_hex(new), at=t_rot + timedelta(minutes=30), reason="captured")
    later = sign_observation(o[1].model_copy(update={"id": "n2", "time": t_rot + timedelta(hours=2)}), new)
    ok, errs = verify_observations([after_new, later], Keyring.load(store))
    assert not ok and {e.record for e in errs} == {"n1", "n2"}
    assert "revoked" in errs[1].message
    with pytest.raises(KeyRegistryError):
        register_key(store, "nobody", public_key_hex(new))
    with pytest.raises(KeyRegistryError):
        register_key(store, "src-0", "abcd")
    with pytest.raises(KeyRegistryError):
        revoke_key(store, "11" * 32)


def test_batch_verification_in_threads_agrees(store):
    keys = _setup(store, 2)
    obs = sign_observations(make_observations(1200, sources=2), keys)
    bad = {5, 600, 1199}
    obs = [o.model_copy(update={"time_sigma_s": 9.0}) if i in bad else o for i, o in enumerate(obs)]
    ok, errs = verify_observations(obs, Keyring.load(store), threads=True)
    ok2, errs2 = verify_observations(obs, Keyring.load(store), threads=False)
    assert [v.obs.id for v in ok] == [v.obs.id for v in ok2] == [o.id for i, o in enumerate(obs) if i not in bad]
    assert {e.record for e in errs} == {obs[i].id for i in bad} == {e.record for e in errs2}


def test_reconcile_after_interrupted_ingest(store):
    keys = _setup(store, 2)
    obs = sign_observations(make_observations(10, sources=2), keys)
    store.add_observations(obs[:4])  # stored, then "crashed" before the log append
    ingest_signed(store, obs[4:])
    assert MerkleLog(store).size == 8  # 2 key certificates, 6 observations
    from trucewatch.ledger.api import mission_signer
    from trucewatch.ledger.trust import Trust
    from trucewatch.ledger.verify import verify_store

    trust = Trust(log_keys=[mission_signer(store).vkey()], allow_uncovered=True)
    rep = verify_store(store, trust)
    assert {p.observation_id for p in rep.problems} == {o.id for o in obs[:4]}
    assert "reconcile" in rep.problems[0].what
    assert reconcile(store) == {"indexed": 0, "appended": 4, "rejected": 0}
    assert MerkleLog(store).size == 12
    assert all(o.ledger_index is not None for o in store.get_observations([o.id for o in obs]))
    assert reconcile(store)["appended"] == 0
    assert verify_store(store, trust).ok
