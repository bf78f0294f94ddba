"""Signed ingest: the one path by which evidence enters the store (CLI, API, pipeline).

1. every observation's signature is checked against its source's registered
   keys (trucewatch.ledger.keys); unsigned or wrongly signed ones are rejected
   with a RecordError naming the observation and the field;
2. the rest go through Store.add_observations (plausibility, idempotency);
3. the newly stored ones are appended to the Merkle log in one durable batch
   and their ``ledger_index`` is written back.

A crash between 2 and 3 leaves stored but unlogged observations;
``trucewatch ledger reconcile`` (trucewatch.ledger.api.reconcile) finishes
the job, and ``trucewatch verify`` reports them meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from trucewatch.ledger.canonical import entry_bytes
from trucewatch.ledger.keys import Keyring, verify_observations
from trucewatch.ledger.log import LogEntry, MerkleLog
from trucewatch.model import Observation
from trucewatch.store.store import IngestReport, Store


def ingest_signed(store: Store, observations: Sequence[Observation], *, now: datetime | None = None,
                  keyring: Keyring | None = None, log: MerkleLog | None = None) -> IngestReport:
    """Verify, store and log a batch; returns the store's IngestReport with
    signature errors added (accepted = stored and logged this time)."""
    keyring = keyring or Keyring.load(store)
    verified, sig_errors = verify_observations(observations, keyring,
                                               now=None if now is None else now.timestamp())
    by_id = {v.obs.id: v for v in verified}
    report = store.add_observations([v.obs for v in verified], now=now)
    report.errors = sig_errors + report.errors
    if report.accepted:
        log = log or MerkleLog(store)
        fresh = [by_id[oid] for oid in report.accepted]
        entries = [LogEntry(v.obs.id, entry_bytes(v.canonical, v.signature, v.key.hex()), v.key) for v in fresh]
        idx = log.append(entries)
        store.set_ledger_index(zip(report.accepted, idx, strict=True))
    return report
