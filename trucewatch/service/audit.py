"""Audit log of every access to non-public data (and every refused request).

Every record is committed before the response it describes is sent: the
middleware awaits ``write`` at the response's first message and answers 503
instead of the data when the write fails (fail closed).  A server killed the
moment after answering has therefore already logged the read.  (The log used to
buffer records for 0.25 s in memory; ``kill -9`` lost them.)

Writes are group-committed: one writer thread takes every record waiting at
that moment and inserts them in one transaction, so concurrent requests share
one commit instead of queueing one commit each.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from typing import Any

from trucewatch.errors import TruceWatchError
from trucewatch.store.service import AuditRepo


class AuditUnavailable(TruceWatchError):
    """The audit record could not be committed; the request must not be answered with data."""


class AuditLog:
    def __init__(self, store_or_engine: Any, flush_s: float = 0.25, timeout_s: float = 10.0) -> None:
        """``store_or_engine``: a Store or its engine.  ``flush_s`` is ignored (records are no
        longer buffered); kept for callers and old settings."""
        self.repo = AuditRepo(store_or_engine)
        self.timeout_s = timeout_s
        self._pending: list[tuple[dict[str, Any], Future[None]]] = []
        self._cv = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None

    @staticmethod
    def _row(*, token_id: str | None, role: str | None, party: str | None, method: str, path: str,
             query: str, status_code: int, client: str | None) -> dict[str, Any]:
        return {"at": time.time(), "token_id": token_id, "role": role, "party": party, "method": method,
                "path": path[:2000], "query": query[:2000], "status_code": status_code, "client": client}

    def submit(self, **fields: Any) -> Future[None]:
        """Queue one record; the future completes once its transaction has committed."""
        fut: Future[None] = Future()
        row = self._row(**fields)
        with self._cv:
            self._ensure_thread()
            self._pending.append((row, fut))
            self._cv.notify()
        return fut

    async def write(self, **fields: Any) -> None:
        """Commit one record (awaitable on the event loop); AuditUnavailable when it was not committed."""
        fut = self.submit(**fields)
        try:
            await asyncio.wait_for(asyncio.wrap_future(fut), self.timeout_s)
        except TimeoutError:
            raise AuditUnavailable(f"the audit log did not commit within {self.timeout_s:g} s") from None
        except Exception as exc:
            raise AuditUnavailable(f"the audit log could not be written: {type(exc).__name__}: {exc}") from None

    def record(self, **fields: Any) -> None:
        """Commit one record from synchronous code (blocks until committed)."""
        try:
            self.submit(**fields).result(self.timeout_s)
        except Exception as exc:
            raise AuditUnavailable(f"the audit log could not be written: {type(exc).__name__}: {exc}") from None

    def flush(self) -> int:
        """Nothing is buffered any more: every record is committed before its response."""
        return 0

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
            self._thread.start()

    def start(self) -> None:
        with self._cv:
            self._ensure_thread()

    def stop(self) -> None:
        """Write what is queued, then end the writer thread."""
        with self._cv:
            self._stop = True
            self._cv.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=self.timeout_s)
        self._thread = None

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._pending and not self._stop:
                    self._cv.wait()
                batch, self._pending = self._pending, []
                if not batch and self._stop:
                    return
            try:
                self.repo.add_many([row for row, _ in batch])
            except Exception as exc:  # every waiting request fails closed (503)
                for _, fut in batch:
                    fut.set_exception(exc)
            else:
                for _, fut in batch:
                    fut.set_result(None)

    def read(self, *, limit: int = 500, after_seq: int = 0) -> list[dict[str, Any]]:
        return self.repo.read(after_seq=after_seq, limit=limit)
