"""ASGI middleware: request size limits, content-type checks, the audit trail.

Pure ASGI (no BaseHTTPMiddleware) so server-sent event streams pass through
untouched and the hot query path pays no extra task per request.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trucewatch.service.audit import AuditLog, AuditUnavailable
from trucewatch.service.auth import INTERNAL_ROLES

_BODY_METHODS = {"POST", "PUT", "PATCH"}


async def _error(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class LimitsMiddleware:
    """413 for bodies over ``max_body`` (declared or streamed); 415 for API writes that are not JSON."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        length = headers.get(b"content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                await _error(send, 400, "Content-Length is not a number")
                return
            if n > self.max_body:
                await _error(send, 413, f"request body of {n} bytes exceeds the limit of {self.max_body} bytes")
                return
        if scope["path"].startswith("/api/"):
            ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if ctype != b"application/json":
                shown = ctype.decode("latin-1") or "none"
                await _error(send, 415, f"content type {shown!r} not accepted; send application/json")
                return
        # Read the body here (it is bounded by max_body) so an oversized
        # stream without Content-Length is refused before the app parses it.
        chunks: list[bytes] = []
        seen = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body = msg.get("body", b"")
            seen += len(body)
            if seen > self.max_body:
                await _error(send, 413, f"request body exceeds the limit of {self.max_body} bytes")
                return
            chunks.append(body)
            if not msg.get("more_body", False):
                break
        whole = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class AuditMiddleware:
    """Record every API request by an internal role, every public read of a report, and
    every refused request, committed before the response starts (503 when it cannot be)."""

    def __init__(self, app: ASGIApp, audit: AuditLog) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1/") or scope["path"] == "/api/v1/health":
            await self.app(scope, receive, send)
            return
        refused = False  # the audit write failed: the app's answer is dropped, 503 was sent instead

        async def capture(msg: Message) -> None:
            nonlocal refused
            if refused:
                return
            if msg["type"] == "http.response.start":
                try:
                    await self._log(scope, int(msg["status"]))
                except AuditUnavailable as exc:
                    refused = True
                    await _error(send, 503, f"{exc}; the request was not answered (every access is audited)")
                    return
            await send(msg)

        try:
            await self.app(scope, receive, capture)
        except Exception:
            with contextlib.suppress(AuditUnavailable):
                await self._log(scope, 500)
            raise

    async def _log(self, scope: Scope, status: int) -> None:
        p: Any = scope.get("state", {}).get("principal")
        if p is None and status not in (401, 403):
            return  # anonymous and not refused: health, documents
        if (p is not None and p.role not in INTERNAL_ROLES and status not in (401, 403)
                and not scope["path"].startswith(_PUBLIC_AUDITED)):
            return  # public data read by the public
        client = scope.get("client")
        await self.audit.write(token_id=p.token_id if p else None, role=p.role.value if p else None,
                               party=p.party if p else None, method=scope["method"], path=scope["path"],
                               query=_redact(scope.get("query_string", b"").decode("latin-1")), status_code=status,
                               client=f"{client[0]}:{client[1]}" if client else None)


#: Public reads that are audited all the same (the report names which view it is).
_PUBLIC_AUDITED = ("/api/v1/reports/",)


def _redact(q: str) -> str:
    """Never write a token passed in the query string into the log."""
    parts = []
    for kv in q.split("&"):
        k, _, _v = kv.partition("=")
        parts.append(f"{k}=***" if k == "access_token" else kv)
    return "&".join(parts) if q else ""
