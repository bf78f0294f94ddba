"""Alerts when a violation reaches verified: SSE by role, signed webhooks with retries."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from trucewatch.model import Status, Transition
from trucewatch.service.alerts import SIGNATURE_HEADER, sign, verify_signature


@pytest.fixture()
def config(config: Any) -> Any:
    """The test receivers listen on loopback: allow it, as a mission lists its own receivers."""
    return config.model_copy(update={"webhook_allow_hosts": ["127.0.0.1/32"]})


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


class Listener(threading.Thread):
    """Reads one SSE stream into ``events`` until ``stop`` is set."""

    def __init__(self, url: str, token: str, last_event_id: int | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.headers = auth(token) | ({"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {})
        self.events: list[tuple[str, dict[str, Any], float]] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.status: int | None = None

    def run(self) -> None:
        with httpx.stream("GET", f"{self.url}/api/v1/alerts/stream", headers=self.headers,
                          timeout=httpx.Timeout(10.0, read=5.0)) as r:
            self.status = r.status_code
            if r.status_code != 200:
                self.ready.set()
                return
            event = None
            for line in r.iter_lines():
                if self.stop.is_set():
                    return
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event:
                    self.events.append((event, json.loads(line[5:].strip()), time.time()))
                    if event == "ready":
                        self.ready.set()
                    event = None

    def verified(self) -> list[dict[str, Any]]:
        return [d for e, d, _ in self.events if e == "violation.verified"]


def wait_for(cond, timeout: float = 5.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_sse_alerts_follow_roles(live, tokens, store) -> None:
    ls = {k: Listener(live.url, tokens[k]) for k in ("analyst", "liaison_UA", "liaison_RU")}
    for x in ls.values():
        x.start()
    assert all(x.ready.wait(5) for x in ls.values())
    v = next(v for v in store.query_violations() if v.party == "UA" and v.status == Status.DETECTED)
    t0 = time.time()
    r = httpx.post(f"{live.url}/api/v1/violations/{v.id}/transitions", json={"to_status": "verified", "reason": "t"},
                   headers=auth(tokens["analyst"]))
    assert r.status_code == 200, r.text
    assert wait_for(lambda: ls["analyst"].verified() and ls["liaison_UA"].verified())
    for k in ("analyst", "liaison_UA"):
        a = ls[k].verified()[0]
        assert a["violation"]["id"] == v.id and a["type"] == "violation.verified"
        assert next(t for e, _, t in ls[k].events if e == "violation.verified") - t0 < 2.0
    # the liaison's copy follows its view: monitor identities withheld
    assert "team-alpha" not in json.dumps(ls["liaison_UA"].verified())
    time.sleep(0.5)
    assert ls["liaison_RU"].verified() == []
    for x in ls.values():
        x.stop.set()


def test_sse_alert_when_another_process_verifies_and_replay(live, tokens, store) -> None:
    a = Listener(live.url, tokens["analyst"])
    a.start()
    assert a.ready.wait(5)
    v = next(v for v in store.query_violations() if v.status == Status.CORROBORATED)
    # written straight into the store, as the adjudication worker would
    store.record_transition(Transition(violation_id=v.id, from_status=Status.CORROBORATED,
                                       to_status=Status.VERIFIED, actor="trucewatch:auto", reason="auto"))
    assert wait_for(lambda: a.verified())
    seq = a.verified()[0]["transition_seq"]
    a.stop.set()
    # a client reconnecting with Last-Event-ID gets what it missed
    b = Listener(live.url, tokens["analyst"], last_event_id=seq - 1)
    b.start()
    assert wait_for(lambda: b.verified())
    assert b.verified()[0]["violation"]["id"] == v.id and b.verified()[0]["transition_seq"] == seq
    b.stop.set()


def test_public_and_monitor_get_no_stream(live, tokens) -> None:
    for k in ("public", "monitor"):
        r = httpx.get(f"{live.url}/api/v1/alerts/stream", headers=auth(tokens[k]))
        assert r.status_code == 403
    assert httpx.get(f"{live.url}/api/v1/alerts/stream").status_code == 401


class Receiver:
    """A webhook endpoint that fails the first ``fail`` posts with 500."""

    def __init__(self, fail: int) -> None:
        self.posts: list[tuple[dict[str, str], bytes, float]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append(({k.lower(): v for k, v in self.headers.items()}, body, time.time()))
                self.send_response(500 if len(outer.posts) <= fail else 200)
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_webhook_signed_retried_at_least_once(live, tokens, store) -> None:
    ok, never = Receiver(fail=2), Receiver(fail=0)
    h = auth(tokens["administrator"])
    hook = httpx.post(f"{live.url}/api/v1/webhooks", json={"url": ok.url, "role": "liaison", "party": "UA"},
                      headers=h).json()
    other = httpx.post(f"{live.url}/api/v1/webhooks", json={"url": never.url, "role": "liaison", "party": "RU"},
                       headers=h).json()
    v = next(v for v in store.query_violations() if v.party == "UA" and v.status == Status.DETECTED)
    r = httpx.post(f"{live.url}/api/v1/violations/{v.id}/transitions", json={"to_status": "verified", "reason": "t"},
                   headers=auth(tokens["analyst"]))
    assert r.status_code == 200
    assert wait_for(lambda: len(ok.posts) >= 3, timeout=10)
    keys = {p[0]["idempotency-key"] for p in ok.posts}
    assert len(keys) == 1  # the same key on every retry: the receiver can drop repeats
    for headers, body, _ in ok.posts:
        assert verify_signature(hook["secret"], headers[SIGNATURE_HEADER.lower()], body)
        assert not verify_signature("wrong secret", headers[SIGNATURE_HEADER.lower()], body)
        assert json.loads(body)["violation"]["id"] == v.id
    gaps = [b[2] - a[2] for a, b in zip(ok.posts, ok.posts[1:], strict=False)]
    assert gaps[1] > gaps[0] * 1.3  # exponential backoff
    d = httpx.get(f"{live.url}/api/v1/webhooks/{hook['id']}/deliveries", headers=h).json()
    assert d[0]["delivered_at"] is not None and d[0]["attempts"] == 3
    time.sleep(0.3)
    assert never.posts == []  # RU's liaison is not told about a UA finding
    assert httpx.get(f"{live.url}/api/v1/webhooks/{other['id']}/deliveries", headers=h).json() == []
    ok.close()
    never.close()


def test_signature_scheme() -> None:
    body = b'{"a":1}'
    header = sign("k", 1_700_000_000, body)
    assert verify_signature("k", header, body, now=1_700_000_010)
    assert not verify_signature("k", header, body + b" ", now=1_700_000_010)
    assert not verify_signature("k", header, body, now=1_700_000_000 + 3600)  # stale: replay refused
    assert not verify_signature("k", "garbage", body)
