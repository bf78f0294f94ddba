"""The ledger on PostgreSQL: the same log, proofs, checkpoints and verification."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.ledger.conftest import CERTS as K
from tests.ledger.conftest import build
from trucewatch.ledger import merkle
from trucewatch.ledger.api import rebuild_entries
from trucewatch.ledger.log import MerkleLog
from trucewatch.ledger.verify import verify_store


@pytest.mark.postgres
def test_ledger_on_postgres(pg_url):
    f = build(pg_url, n=300)
    try:
        log = MerkleLog(f.store)
        size, root = log.check()
        n = 300 + K  # key certificates first
        assert size == n
        entries = [e for _, _, _, _, e in rebuild_entries(f.store, list(log.leaves()))]
        assert root == merkle.root_hash(entries)
        for i in (0, 137, n - 1):
            merkle.verify_inclusion(entries[i], i, n, log.inclusion_proof(i, n), root)
        merkle.verify_consistency(100, n, log.root_at(100), root, log.consistency_proof(100, n))
        assert verify_store(f.store, log_keys=[f.signer.vkey()]).ok
        with f.store.engine.begin() as c:
            c.execute(text("UPDATE observations SET lat = lat + 0.001 WHERE id = 'obs:000123'"))
        rep = verify_store(f.store, log_keys=[f.signer.vkey()])
        assert not rep.ok and any(p.entry == 123 + K and p.observation_id == "obs:000123" for p in rep.problems)
    finally:
        f.store.close()
