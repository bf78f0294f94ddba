"""Audit log of every access to non-public data (and every refused request).

Records are buffered and written in one transaction every ``flush_s`` so that
the log does not put a write on the path of each read; ``flush()`` runs before
the log is read and at shutdown.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine, insert, select

from trucewatch.store import schema as S


class AuditLog:
    def __init__(self, engine: Engine, flush_s: float = 0.25) -> None:
        self.engine = engine
        self.flush_s = flush_s
        self._buf: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(self, *, token_id: str | None, role: str | None, party: str | None, method: str, path: str,
               query: str, status_code: int, client: str | None) -> None:
        with self._lock:
            self._buf.append({"at": time.time(), "token_id": token_id, "role": role, "party": party,
                              "method": method, "path": path[:2000], "query": query[:2000],
                              "status_code": status_code, "client": client})

    def flush(self) -> int:
        with self._lock:
            buf, self._buf = self._buf, []
        if buf:
            try:
                with self.engine.begin() as c:
                    c.execute(insert(S.audit_log), buf)
            except Exception:
                with self._lock:  # keep the records for the next attempt
                    self._buf[:0] = buf
                raise
        return len(buf)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="audit-flush", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.flush_s):
            try:
                self.flush()
            except Exception:
                time.sleep(self.flush_s)

    def read(self, *, limit: int = 500, after_seq: int = 0) -> list[dict[str, Any]]:
        self.flush()
        with self.engine.connect() as c:
            rows = c.execute(select(S.audit_log).where(S.audit_log.c.seq > after_seq)
                             .order_by(S.audit_log.c.seq).limit(limit)).mappings().all()
        return [dict(r) for r in rows]
