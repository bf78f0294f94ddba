"""Alerts when a violation reaches ``verified``: server-sent events and signed webhooks.

One watcher reads new ``verified`` transitions from the store (whoever wrote
them: this API, the adjudication worker, another process) and
- hands each to the SSE subscribers allowed to see it (role filter), and
- writes one delivery per matching webhook into a durable outbox in the same
  transaction that advances its cursor, so a crash cannot lose an alert.
The dispatcher posts due deliveries with an HMAC-SHA256 signature and an
idempotency key, retrying with exponential backoff: at-least-once delivery;
receivers drop repeats by the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx

from trucewatch.access.roles import Principal, Role
from trucewatch.access.views import Views, may_alert
from trucewatch.service.config import ServiceConfig
from trucewatch.service.security import WebhookTargetError, check_webhook_url
from trucewatch.store import Store
from trucewatch.store.service import ServiceReads, WebhookRepo

CURSOR_KEY = "service.alert_seq"
SIGNATURE_HEADER = "X-TruceWatch-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256 of "<unix>." + body>`` (the timestamp stops replays)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance_s: float = 300.0,
                     now: float | None = None) -> bool:
    """What a receiver runs: True when the header signs ``body`` and is fresh."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    now = time.time() if now is None else now
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), header)


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    queue: asyncio.Queue[tuple[int, dict[str, Any]]] = field(default_factory=lambda: asyncio.Queue(maxsize=10_000))


class AlertHub:
    def __init__(self, store: Store, views: Views, config: ServiceConfig) -> None:
        self.store = store
        self.reads = ServiceReads(store)
        self.webhooks = WebhookRepo(store)
        self.views = views
        self.config = config
        self.subscribers: set[Subscriber] = set()
        self._wake = asyncio.Event()
        self._wake_hooks = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self.cursor = 0
        self.client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---------------------------------------------------------------- control
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.cursor = await anyio.to_thread.run_sync(self._initial_cursor)
        self.client = httpx.AsyncClient(timeout=self.config.webhook_timeout_s)
        self._tasks = [asyncio.create_task(self._watch(), name="alert-watch"),
                       asyncio.create_task(self._dispatch(), name="webhook-dispatch")]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks = []
        if self.client is not None:
            await self.client.aclose()

    def wake(self) -> None:
        """Look now (after this API wrote a transition) instead of at the next poll.

        Called from request worker threads: asyncio events are not thread-safe,
        so the set is handed to the hub's loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            if asyncio.get_running_loop() is loop:
                self._wake.set()
                return
        except RuntimeError:
            pass
        loop.call_soon_threadsafe(self._wake.set)

    def _initial_cursor(self) -> int:
        cur = self.store.get_setting(CURSOR_KEY)
        if cur is not None:
            return int(cur)
        return self.reads.last_transition_seq()  # a new deployment does not alert on history

    # ------------------------------------------------------------------ watch
    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.config.alert_poll_s)
            self._wake.clear()
            try:
                alerts = await anyio.to_thread.run_sync(self._scan)
            except Exception:
                await asyncio.sleep(self.config.alert_poll_s)
                continue
            for seq, v in alerts:
                self._fan_out(seq, v)
            if alerts:
                self._wake_hooks.set()

    def verified_since(self, after_seq: int, limit: int = 1000) -> list[tuple[int, float, dict[str, Any]]]:
        out = []
        for seq, vid, at in self.reads.verified_since(after_seq, limit):
            v = self.views.raw(vid)
            if v is not None:
                out.append((seq, at, v))
        return out

    def _scan(self) -> list[tuple[int, dict[str, Any]]]:
        top = self.reads.last_transition_seq()
        if not top or top <= self.cursor:
            return []
        found = self.verified_since(self.cursor)
        new_cursor = found[-1][0] if len(found) == 1000 else top
        now = time.time()
        hooks = self.webhooks.active()
        deliveries = []
        for seq, at, v in found:
            for h in hooks:
                p = Principal(token_id=f"webhook:{h['id']}", role=Role(h["role"]), party=h["party"])
                if not may_alert(p, v):
                    continue
                payload = alert_payload(seq, at, self.views.render(p, v))
                deliveries.append({"webhook_id": h["id"], "idempotency_key": payload["idempotency_key"],
                                   "violation_id": v["id"], "payload": payload, "attempts": 0,
                                   "next_attempt_at": now, "delivered_at": None, "last_error": None,
                                   "created_at": now})
        self.webhooks.enqueue(deliveries, cursor_key=CURSOR_KEY, cursor=new_cursor)
        self.cursor = new_cursor
        return [(seq, v) for seq, _at, v in found]

    def _fan_out(self, seq: int, v: dict[str, Any]) -> None:
        for sub in list(self.subscribers):
            if may_alert(sub.principal, v):
                with contextlib.suppress(asyncio.QueueFull):
                    sub.queue.put_nowait((seq, self.views.render(sub.principal, v)))

    # -------------------------------------------------------------- webhooks
    async def _dispatch(self) -> None:
        wait = 0.5
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_hooks.wait(), timeout=wait)
            self._wake_hooks.clear()
            try:
                await self.deliver_due()
                nxt = await anyio.to_thread.run_sync(self._next_due)
            except Exception:  # the outbox keeps them; retry next round
                await asyncio.sleep(0.5)
                nxt = None
            # sleep until the next retry is due (backoff stays exact), at most 0.5 s
            wait = 0.5 if nxt is None else min(0.5, max(0.005, nxt - time.time()))

    def _next_due(self) -> float | None:
        return self.webhooks.next_due(self.config.webhook_max_attempts)

    async def deliver_due(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        due = await anyio.to_thread.run_sync(self._due, now)
        if not due:
            return 0
        results = await asyncio.gather(*(self._post(d) for d in due))
        await anyio.to_thread.run_sync(self._record, list(zip(due, results, strict=True)))
        return sum(1 for ok, _ in results if ok)

    def _due(self, now: float) -> list[dict[str, Any]]:
        return self.webhooks.due(now, self.config.webhook_max_attempts)

    async def _post(self, d: dict[str, Any]) -> tuple[bool, str]:
        assert self.client is not None
        payload = d["payload"] if isinstance(d["payload"], dict) else json.loads(d["payload"])
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        ts = int(time.time())
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(d["secret"], ts, body),
                   "Idempotency-Key": d["idempotency_key"], "User-Agent": "trucewatch-webhook/1"}
        try:  # again at delivery: the host's DNS may now point inside (rebinding)
            await anyio.to_thread.run_sync(check_webhook_url, d["url"], self.config.webhook_allow_hosts)
        except WebhookTargetError as exc:
            return False, f"refused: {exc}"[:500]
        try:
            r = await self.client.post(d["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"[:500]
        if 200 <= r.status_code < 300:
            return True, ""
        return False, f"HTTP {r.status_code}"

    def _record(self, results: list[tuple[dict[str, Any], tuple[bool, str]]]) -> None:
        now = time.time()
        updates: list[tuple[int, dict[str, Any]]] = []
        for d, (ok, err) in results:
            attempts = int(d["attempts"]) + 1
            if ok:
                updates.append((d["seq"], {"attempts": attempts, "delivered_at": now, "last_error": None}))
            else:
                delay = min(self.config.webhook_backoff_s * 2 ** (attempts - 1), self.config.webhook_backoff_max_s)
                delay *= 1.0 + 0.1 * secrets.randbelow(100) / 100  # jitter: receivers recovering are not hammered
                updates.append((d["seq"], {"attempts": attempts, "next_attempt_at": now + delay, "last_error": err}))
        self.webhooks.record_attempts(updates)


def alert_payload(seq: int, at: float, violation: dict[str, Any]) -> dict[str, Any]:
    return {"type": "violation.verified", "idempotency_key": f"tw-verified-{seq}", "transition_seq": seq,
            "verified_at": at, "violation": violation}
