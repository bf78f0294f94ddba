"""Hostile-input guards and response hygiene for the HTTP service.

- ``StrictJSONRoute``: request bodies are parsed as strict JSON.  Python's
  parser accepts ``NaN``, ``Infinity`` and ``1e999`` (a float overflowing to
  infinity); those are not JSON, and an infinity reaching a model or the 422
  renderer (which refuses non-finite numbers) used to answer 500.  They are
  refused with a 422 that names the field.
- Bounded time types (``Instant``, ``Day``): Python's datetime covers years
  1-9999, but converting an instant near either end to UTC or to a Unix time
  overflows.  The API accepts 1970-01-01 .. 2200-01-01 (UTC) and answers 422
  outside it, naming the parameter.
- ``SecurityHeadersMiddleware``: CSP, framing, sniffing and referrer headers
  on every response; ``Cache-Control: no-store`` on every API response and
  every response to a request that carried credentials, so no shared cache
  or browser history keeps a per-role view.
- ``check_webhook_url``: webhooks must not reach the mission's own network
  (loopback, link-local such as the cloud metadata address 169.254.169.254,
  private, multicast, unspecified, reserved): the host name is resolved and
  every address is checked.  ``webhook_allow_hosts`` in the config lists a
  mission's own internal hosts explicitly (empty by default).
"""

from __future__ import annotations

import ipaddress
import json
import math
import socket
from collections.abc import Callable, Coroutine, Iterable
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trucewatch.errors import TruceWatchError

# ------------------------------------------------------------------ strict JSON


class _NonFinite:
    """Marker left where the document had NaN/Infinity or a float overflowing to infinity."""

    def __init__(self, text: str) -> None:
        self.text = text


def _constant(text: str) -> _NonFinite:
    return _NonFinite(text)


def _float(text: str) -> float | _NonFinite:
    v = float(text)
    return v if math.isfinite(v) else _NonFinite(text)


def _find(v: Any, path: tuple[str | int, ...] = ()) -> tuple[tuple[str | int, ...], str] | None:
    """Location and text of the first non-finite number in a parsed document."""
    if isinstance(v, _NonFinite):
        return path, v.text
    if isinstance(v, dict):
        items: Iterable[tuple[str | int, Any]] = v.items()
    elif isinstance(v, list):
        items = enumerate(v)
    else:
        return None
    for k, x in items:
        hit = _find(x, (*path, k))
        if hit is not None:
            return hit
    return None


def _invalid(loc: tuple[str | int, ...], msg: str) -> HTTPException:
    field = ".".join(str(x) for x in loc)
    return HTTPException(422, [{"type": "json_invalid", "loc": list(loc), "msg": f"{field}: {msg}"}])


def strict_json_loads(body: bytes | str) -> Any:
    """Parse JSON, refusing NaN, Infinity and overflowing numbers with a 422 naming the field.

    Malformed JSON raises ``json.JSONDecodeError`` as ``json.loads`` does (FastAPI
    turns it into its own 422).
    """
    seen = False

    def constant(text: str) -> _NonFinite:
        nonlocal seen
        seen = True
        return _constant(text)

    def number(text: str) -> float | _NonFinite:
        nonlocal seen
        v = _float(text)
        seen = seen or isinstance(v, _NonFinite)
        return v

    try:
        doc = json.loads(body, parse_constant=constant, parse_float=number)
    except ValueError as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise
        # int() refuses integers of more than 4,300 digits
        raise _invalid(("body",), f"number not accepted: {exc}") from None
    if seen:
        hit = _find(doc)
        if hit is not None:
            path, text = hit
            raise _invalid(("body", *path), f"{text} is not a JSON number (NaN and infinities are refused)")
    return doc


class _StrictRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json_loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """An APIRoute whose JSON bodies go through ``strict_json_loads``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictRequest(request.scope, request.receive))

        return strict


# ------------------------------------------------------------------ time bounds
#: Earliest and latest instant the API accepts (UTC).
T_MIN = datetime(1970, 1, 1, tzinfo=UTC)
T_MAX = datetime(2200, 1, 1, tzinfo=UTC)
D_MIN, D_MAX = T_MIN.date(), T_MAX.date()


def _instant(v: datetime) -> datetime:
    try:
        u = v.astimezone(UTC) if v.tzinfo is not None else v.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        u = None
    if u is None or not T_MIN <= u <= T_MAX:
        raise ValueError(f"{v.isoformat()} is outside {T_MIN.isoformat()} .. {T_MAX.isoformat()}")
    return v


def _day(v: date) -> date:
    if not D_MIN <= v <= D_MAX:
        raise ValueError(f"{v.isoformat()} is outside {D_MIN.isoformat()} .. {D_MAX.isoformat()}")
    return v


#: A date-time query parameter within T_MIN .. T_MAX.
Instant = Annotated[datetime, AfterValidator(_instant)]
#: A calendar day within D_MIN .. D_MAX.
Day = Annotated[date, AfterValidator(_day)]
#: Largest integer a query parameter takes: SQLite and PostgreSQL integers are signed 64-bit.
INT_MAX = 2**62


# ------------------------------------------------------------------ headers
#: The dashboard loads only its own scripts, styles and images (Leaflet is
#: vendored; the basemap is served here); Leaflet positions elements through
#: the CSSOM (element.style), which style-src does not restrict.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
#: The daily report's HTML is one self-contained document: an inline stylesheet
#: and data: images, no script at all.
REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")
REPORT_PREFIX = "/api/v1/reports/"
#: /docs and /redoc (vendored Swagger UI and ReDoc): still no inline or foreign script, but ReDoc
#: injects its styles inline and runs its search in a blob: worker.
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")
_HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin")]
_OURS = {b"content-security-policy", *(k for k, _ in _HEADERS)}


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response (pure ASGI: SSE passes through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        credentials = scope["path"].startswith("/api/") or any(
            k.lower() in (b"authorization", b"cookie") for k, _ in scope["headers"]) or (
            b"access_token=" in scope.get("query_string", b""))

        path = scope["path"]
        csp = (REPORT_CSP if path.startswith(REPORT_PREFIX) else DOCS_CSP if path in DOCS_PATHS else CSP).encode()

        async def add(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = [(k, v) for k, v in msg.get("headers", []) if k.lower() not in _OURS]
                headers += [*_HEADERS, (b"content-security-policy", csp)]
                if credentials:
                    headers = [(k, v) for k, v in headers if k.lower() not in (b"cache-control", b"pragma")]
                    headers += [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
                msg = {**msg, "headers": headers}
            await send(msg)

        await self.app(scope, receive, add)


# ------------------------------------------------------------------ webhooks
class WebhookTargetError(TruceWatchError, ValueError):
    """A webhook URL that may not be used; the message names the field."""


def _refused(a: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``a`` may not be a webhook target, or None when it is a public address."""
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    for name in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):  # most specific first
        if getattr(a, f"is_{name}"):
            return name.replace("_", "-")
    if not a.is_global:
        return "not globally routable"
    return None


def _networks(allow: Iterable[str]) -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names, nets = set(), []
    for entry in allow:
        try:
            nets.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return names, nets


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IP literals resolve to themselves)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(i[4][0]).split("%")[0] for i in infos})


def check_webhook_url(url: str, allow: Iterable[str] = (), field: str = "url",
                      resolver: Callable[[str, int], list[str]] = resolve) -> list[str]:
    """The addresses ``url`` reaches, or WebhookTargetError naming ``field``.

    Refused: no host, a host that does not resolve, or any resolved address that
    is loopback, link-local, private, multicast, unspecified, reserved or not
    globally routable, unless the host name or every such address is in
    ``allow`` (host names or CIDR networks: a mission's own internal receivers).
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise WebhookTargetError(f"{field}: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookTargetError(f"{field}: scheme must be http or https, not {parts.scheme!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookTargetError(f"{field}: the URL has no host")
    names, nets = _networks(allow)
    try:
        addrs = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise WebhookTargetError(f"{field}: host {host!r} does not resolve ({exc})") from None
    if not addrs:
        raise WebhookTargetError(f"{field}: host {host!r} does not resolve")
    if host.lower() in names:
        return addrs
    for s in addrs:
        a = ipaddress.ip_address(s)
        why = _refused(a)
        if why is not None and not any(a in n for n in nets if n.version == a.version):
            shown = host if s == host else f"{host} ({s})"
            raise WebhookTargetError(f"{field}: {shown} is not a public address ({why}); webhooks may only reach "
                                     "public hosts (list a mission's own receivers in webhook_allow_hosts)")
    return addrs
