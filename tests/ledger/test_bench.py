"""The ledger benchmark runs in quick mode and reports every number the issue asks for."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_bench_quick():
    from trucewatch.bench.ledger import run

    r = run(quick=True, seed=3)
    for k in ("appends_per_s", "raw_hash_per_s", "verify_sig_per_s", "raw_verify_sig_per_s", "proof_ms"):
        assert r[k] > 0, k
    assert r["log_entries"] == 20_000 and r["entry_bytes"] > 300
    # the appended log is the RFC tree: the bench verifies every proof it times (an exception otherwise)
    assert r["proof_ms"] < 1000
