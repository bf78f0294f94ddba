"""The ledger on PostgreSQL: the same log, proofs, checkpoints and verification."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.ledger.conftest import build
from trucewatch.ledger import merkle
from trucewatch.ledger.api import entry_for
from trucewatch.ledger.log import MerkleLog
from trucewatch.ledger.verify import verify_store


@pytest.mark.postgres
def test_ledger_on_postgres(pg_url):
    f = build(pg_url, n=300)
    try:
        log = MerkleLog(f.store)
        size, root = log.check()
        assert size == 300
        rows = list(log.leaves())
        obs = {o.id: o for o in f.store.get_observations([r[1] for r in rows])}
        entries = [entry_for(obs[oid], key) for _, oid, key in rows]
        assert root == merkle.root_hash(entries)
        for i in (0, 137, 299):
            merkle.verify_inclusion(entries[i], i, 300, log.inclusion_proof(i, 300), root)
        merkle.verify_consistency(100, 300, log.root_at(100), root, log.consistency_proof(100, 300))
        assert verify_store(f.store).ok
        with f.store.engine.begin() as c:
            c.execute(text("UPDATE observations SET lat = lat + 0.001 WHERE id = 'obs:000123'"))
        rep = verify_store(f.store)
        assert not rep.ok and any(p.entry == 123 and p.observation_id == "obs:000123" for p in rep.problems)
    finally:
        f.store.close()
