"""One background loop for the ledger's periodic jobs (the integrator, the checkpoint scheduler).

Each job is a blocking ``step`` run in a worker thread every ``period_s`` inside
the running event loop, and a ``final`` step run once on a clean ``stop``, so a
shutdown leaves nothing queued or unsigned.  A failing step is logged and tried
again next period: a database that is down must not kill the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Self


class Periodic:
    """Subclasses define ``period_s`` (a property read from their settings), ``_log``, ``step`` and ``final``."""

    _log: logging.Logger
    _what = "periodic step"
    _task: asyncio.Task[None] | None = None
    _stop: asyncio.Event | None = None

    @property
    def period_s(self) -> float:
        """Seconds between steps; 0 or less: never started."""
        raise NotImplementedError

    def step(self) -> Any:
        raise NotImplementedError

    def final(self) -> None:
        """What a clean stop does last (default: one more step)."""
        self.step()

    async def run(self) -> None:
        stop = self._stop
        assert stop is not None, "start() first"
        while not stop.is_set():
            t0 = time.monotonic()
            try:
                await asyncio.to_thread(self.step)
            except Exception as exc:  # database down or a damaged log: report, try again next period
                self._log.warning("%s failed (%s: %s)", self._what, type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, self.period_s - (time.monotonic() - t0)))

    def start(self) -> Self:
        """Run in the current event loop (no-op when the period is 0 or it already runs)."""
        if self.period_s > 0 and self._task is None:
            self._stop = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self.run())
        return self

    async def stop(self) -> None:
        """Stop the loop, then run ``final`` once."""
        if self._task is None or self._stop is None:
            return
        self._stop.set()
        await self._task
        self._task = None
        try:
            await asyncio.to_thread(self.final)
        except Exception as exc:
            self._log.warning("final %s failed (%s: %s)", self._what, type(exc).__name__, exc)
