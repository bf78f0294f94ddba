"""One naming for time parameters: ``from`` and ``to`` (ISO 8601; ``from`` inclusive,
``to`` exclusive) on every endpoint.  The older ``t_from``/``t_to`` stay accepted as
aliases: this ASGI middleware renames them in the query string before routing, so
each endpoint declares (and the OpenAPI document shows) one name only.  Giving both
names of one bound is refused (422) rather than silently picking one."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

ALIASES = {"t_from": "from", "t_to": "to"}


class TimeAliasMiddleware:
    def __init__(self, app: Any, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        raw = scope.get("query_string", b"")
        if not any(a.encode() in raw for a in ALIASES):
            await self.app(scope, receive, send)
            return
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
        names = {k for k, _ in pairs}
        for old, new in ALIASES.items():
            if old in names and new in names:
                body = json.dumps({"detail": [{"loc": ["query", old], "type": "value_error",
                                               "msg": f"{old} is the old name of {new}: give one of them"}]}).encode()
                await send({"type": "http.response.start", "status": 422,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        scope = dict(scope)
        scope["query_string"] = urlencode([(ALIASES.get(k, k), v) for k, v in pairs]).encode("latin-1")
        await self.app(scope, receive, send)
