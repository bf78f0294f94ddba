"""Signed ingest: the one path by which evidence enters the store (CLI, API, pipeline).

1. every observation's signature is checked against its source's registered
   keys (trucewatch.ledger.keys); unsigned or wrongly signed ones are rejected
   with a RecordError naming the observation and the field;
2. the rest go through Store.add_observations (plausibility, idempotency) in
   one transaction that also queues each new observation's log entry (its
   leaf hash) in ``ledger_queue``: once that commits, the entry is durable
   and the caller may acknowledge;
3. the integrator (MerkleLog.integrate, one per log at a time) moves queued
   entries into the Merkle tree in batches, apart from ingest; the log index
   is read from ``ledger_leaves`` (Store.obs_select), never written back.

The canonical (RFC 8785) body is computed once per observation and serves the
signature check, the store's content hash and the log entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from trucewatch.ledger.canonical import entry_bytes
from trucewatch.ledger.integrator import integrate_pending
from trucewatch.ledger.keys import Keyring, verify_observations
from trucewatch.ledger.log import MerkleLog
from trucewatch.model import Observation
from trucewatch.store.store import IngestReport, Store


def ingest_signed(store: Store, observations: Sequence[Observation], *, now: datetime | None = None,
                  keyring: Keyring | None = None, log: MerkleLog | None = None,
                  integrate: bool = True) -> IngestReport:
    """Verify, store and queue a batch for the log; returns the store's IngestReport with
    signature errors added (accepted = stored, with its log entry durably queued, this time).

    ``integrate``: also add the queued entries to the tree now, unless another
    integrator holds the log (embedded use, the API, tests: the index is
    known on return).  Pipeline workers pass False and leave it to the
    integrator loop (trucewatch.ledger.integrator)."""
    keyring = keyring or Keyring.load(store)
    verified, sig_errors = verify_observations(observations, keyring,
                                               now=None if now is None else now.timestamp())
    sha = hashlib.sha256
    hashes = [sha(v.canonical).hexdigest() for v in verified]
    queued = [(sha(b"\x00" + entry_bytes(v.canonical, v.signature, v.key.hex())).digest(), v.key) for v in verified]
    report = store.add_observations([v.obs for v in verified], now=now, content_hashes=hashes, log_entries=queued)
    report.errors = sig_errors + report.errors
    if integrate and report.accepted:
        integrate_pending(store, log)
    return report


def ingest(store: Store, observations: Sequence[Observation], *, require_signatures: bool = True,
           now: datetime | None = None, keyring: Keyring | None = None, log: MerkleLog | None = None,
           integrate: bool = True) -> IngestReport:
    """The one door by which observations enter the store; every other module calls this.

    With ``require_signatures`` (the default, and how a mission runs) it is :func:`ingest_signed`.
    Without it (``trucewatch ingest --unsigned``, a worker's ``--unsigned``, the API's
    ``require_signatures: false``: replaying an archive whose keys are lost; the simulator's
    ablations), signed observations still go through :func:`ingest_signed` and unsigned ones are
    stored without a log entry, so they never carry a ledger index and the evidence panel says so."""
    if require_signatures:
        return ingest_signed(store, observations, now=now, keyring=keyring, log=log, integrate=integrate)
    signed = [o for o in observations if o.signature]
    unsigned = [o for o in observations if not o.signature]
    report = IngestReport()
    if signed:
        report = ingest_signed(store, signed, now=now, keyring=keyring, log=log, integrate=integrate)
    if unsigned:
        rest = store.add_observations(unsigned, now=now)
        report.accepted += rest.accepted
        report.duplicates += rest.duplicates
        report.errors += rest.errors
    return report
