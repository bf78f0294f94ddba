"""Checkpoints on a schedule: the service and the workers sign the tree head
at most ``max_age_s`` after an entry is appended or once ``max_entries`` new
entries wait, whichever comes first.

Why: an entry no signed checkpoint covers can be changed or dropped by whoever
administers the database without any signature contradicting it, and
``trucewatch verify`` fails on such entries.  Before this, ``serve`` never
signed a checkpoint, so all evidence ingested over the API stayed uncovered.

Configuration (environment, so every process of a deployment agrees):
``TRUCEWATCH_CHECKPOINT_MAX_AGE_S`` (default 60), ``TRUCEWATCH_CHECKPOINT_MAX_ENTRIES``
(default 1000), ``TRUCEWATCH_CHECKPOINT_POLL_S`` (default 1; 0 turns the
scheduler off).  The mission key comes from ``trucewatch.ledger.api.mission_signer``
(``$TRUCEWATCH_MISSION_KEY``, ``<db>.mission-key``, or the key this process
registered); without one the scheduler logs a warning and signs nothing.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from trucewatch.ledger._periodic import Periodic
from trucewatch.ledger.api import LedgerSetupError, make_checkpoint, mission_signer
from trucewatch.ledger.checkpoint import NoteSigner
from trucewatch.ledger.integrator import integrate_pending
from trucewatch.store.store import Store

log = logging.getLogger("trucewatch.ledger.schedule")


@dataclass(frozen=True)
class CheckpointPolicy:
    max_age_s: float = 60.0
    max_entries: int = 1000
    poll_s: float = 1.0

    @classmethod
    def from_env(cls) -> CheckpointPolicy:
        def num(name: str, default: float) -> float:
            v = os.environ.get(name)
            if v is None or v == "":
                return default
            try:
                x = float(v)
            except ValueError:
                raise ValueError(f"{name}: {v!r} is not a number") from None
            if x < 0:
                raise ValueError(f"{name}: {v!r} must not be negative")
            return x

        return cls(num("TRUCEWATCH_CHECKPOINT_MAX_AGE_S", 60.0), int(num("TRUCEWATCH_CHECKPOINT_MAX_ENTRIES", 1000)),
                   num("TRUCEWATCH_CHECKPOINT_POLL_S", 1.0))


class CheckpointScheduler(Periodic):
    """Signs a checkpoint when the policy says one is due (``tick``), in a background task (``start``)."""

    _log = log
    _what = "scheduled checkpoint"

    def __init__(self, store: Store, signer: NoteSigner | None = None, policy: CheckpointPolicy | None = None) -> None:
        self.store = store
        self.signer = signer
        self.policy = policy or CheckpointPolicy.from_env()
        self.signed = 0
        self._warned = False

    def due(self, now: float | None = None) -> bool:
        """Entries wait past the last checkpoint, and either enough of them or the oldest long enough."""
        now = time.time() if now is None else now
        with self.store.ledger.connect() as c:
            state, cp = c.state(), c.last_checkpoint()
            size, covered = (state[0] if state else 0), (cp[0] if cp else 0)
            if size <= covered:
                return False
            if size - covered >= self.policy.max_entries:
                return True
            first = c.leaf_appended_at(covered)
        return first is None or now - first >= self.policy.max_age_s

    def tick(self, now: float | None = None, *, integrate: bool = True) -> dict[str, Any] | None:
        """Integrate queued entries (unless another process is the integrator, or the caller
        is the integrator: ``integrate=False``), then sign a checkpoint if one is due;
        returns it (None when nothing was signed)."""
        if integrate:
            integrate_pending(self.store)
        if not self.due(now):
            return None
        signer = self.signer
        if signer is None:
            try:
                signer = mission_signer(self.store, create=False)
            except LedgerSetupError as exc:
                if not self._warned:
                    log.warning("entries wait for a checkpoint but no mission key is available (%s)", exc)
                    self._warned = True
                return None
        cp = make_checkpoint(self.store, signer, skip_if_unchanged=True)
        if cp is not None:
            self.signed += 1
            log.info("checkpoint #%s signed at size %s", cp["seq"], cp["size"])
        return cp

    @property
    def period_s(self) -> float:
        return self.policy.poll_s

    def step(self) -> None:
        self.tick()

    def final(self) -> None:
        """Sign what is still uncovered (a clean shutdown leaves nothing unsigned)."""
        self.tick(float("inf"))


__all__ = ["CheckpointPolicy", "CheckpointScheduler"]
