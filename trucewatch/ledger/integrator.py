"""The log's integrator: one process at a time turns queued entries into Merkle nodes.

Ingest only queues each entry's leaf hash in ``ledger_queue``, committed with
its observation (one short step, then the acknowledgement).  The integrator,
as in Trillian, Tessera and Sigsum, takes the queue in order every
``interval_s`` (default 0.2 s), extends the tree by the whole batch in one
transaction that also deletes the batch from the queue, and lets the
checkpoint scheduler sign the new head when one is due.  Workers no longer
serialise on the log's row lock inside their ingest transactions.

One integrator per log: every candidate tries a non-blocking lock
(``pg_try_advisory_lock`` on PostgreSQL, ``flock`` beside a SQLite file);
whoever holds it integrates, the rest skip.  The lock is released when its
holder dies (its connection or file descriptor closes), and the state row
check in MerkleLog still refuses a second writer if two ever ran.  A kill
mid-batch rolls the batch back; the next integrator takes it again
(tests/ledger/test_integrator_faults.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from trucewatch.ledger._periodic import Periodic
from trucewatch.ledger.log import MerkleLog
from trucewatch.store.store import Store

log = logging.getLogger("trucewatch.ledger.integrator")

LOCK_NAME = "ledger-integrator"


def integrate_pending(store: Store, merkle_log: MerkleLog | None = None, *, limit: int = 200_000) -> int | None:
    """Integrate everything queued now, if no other integrator holds the log (then None)."""
    with store.try_exclusive(LOCK_NAME) as held:
        if not held:
            return None
        lg = merkle_log or MerkleLog(store)
        total = 0
        while True:
            n = lg.integrate(limit)
            total += n
            if n < limit:
                return total


class Integrator(Periodic):
    """A loop that integrates queued entries every ``interval_s`` and then asks the
    checkpoint scheduler (if given) whether a checkpoint is due."""

    _log = log
    _what = "integration"

    def __init__(self, store: Store, *, interval_s: float = 0.2, scheduler: Any = None) -> None:
        self.store = store
        self.interval_s = interval_s
        self.scheduler = scheduler
        self.log = MerkleLog(store)
        self.integrated = 0
        self.batches = 0
        self.max_lag_s = 0.0
        self._next_tick = 0.0

    def step(self) -> int | None:
        """One round: integrate (None when another process is the integrator), then checkpoint if due."""
        n = integrate_pending(self.store, self.log)
        if n:
            self.integrated += n
            self.batches += 1
            if self.log.last_lag_s is not None:
                self.max_lag_s = max(self.max_lag_s, self.log.last_lag_s)
        if n is not None and self.scheduler is not None and time.monotonic() >= self._next_tick:
            self._next_tick = time.monotonic() + self.scheduler.policy.poll_s
            self.scheduler.tick(integrate=False)
        return n

    @property
    def period_s(self) -> float:
        return self.interval_s

    def final(self) -> None:
        """Integrate what is left and sign a final checkpoint (clean shutdown)."""
        self.step()
        if self.scheduler is not None:
            self.scheduler.tick(float("inf"), integrate=False)


__all__ = ["LOCK_NAME", "Integrator", "integrate_pending"]
