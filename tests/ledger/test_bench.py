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
    ing = r["ingest"]
    for k in ("ingest_obs_per_s", "cpu_us_per_obs", "sig_check_cpu_us", "log_entries_per_s"):
        assert ing[k] > 0, k
    assert ing["integration_lag_s_max"] >= 0 and set(ing["goals_met"]) == set(ing["goals"])
