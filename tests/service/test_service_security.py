"""Hostile input and service hygiene (issue 15): each request here answered 500, or
was accepted, before the fix.  NaN/Infinity bodies, dates near the ends of Python's
range, integers past 64 bits, security headers, webhooks aimed inside the mission."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from trucewatch.model import Status
from trucewatch.service.app import create_app
from trucewatch.service.security import WebhookTargetError, check_webhook_url, resolve, strict_json_loads
from trucewatch.store import schema as S

from .conftest import auth

API = "/api/v1"
JSON = {"content-type": "application/json"}


def _post(client: Any, path: str, raw: bytes, token: str) -> Any:
    return client.post(path, content=raw, headers=auth(token) | JSON)


def _field(r: Any) -> str:
    """The located field of a 422 body (FastAPI's list form)."""
    d = r.json()["detail"]
    return ".".join(str(x) for x in d[0]["loc"])


# ------------------------------------------------------------------ NaN / Infinity
def _contestable(store: Any, party: str) -> str:
    return next(v.id for v in store.query_violations() if v.party == party)


@pytest.mark.parametrize("raw,field", [
    (b'{"reason": NaN, "counter_evidence": ["obs-1"]}', "body.reason"),
    (b'{"reason": "x", "counter_evidence": ["obs-1"], "extra": Infinity}', "body.extra"),
    (b'{"reason": "x", "counter_evidence": [-Infinity]}', "body.counter_evidence.0"),
    (b'{"reason": "x", "counter_evidence": ["obs-1"], "n": {"deep": [1, 1e999]}}', "body.n.deep.1"),
])
def test_liaison_contest_with_nan_is_422_naming_the_field(client, tokens, store, raw: bytes, field: str) -> None:
    vid = _contestable(store, "UA")
    r = _post(client, f"{API}/violations/{vid}/contest", raw, tokens["liaison_UA"])
    assert r.status_code == 422, r.text
    assert _field(r) == field
    assert field in r.json()["detail"][0]["msg"]
    assert store.get_violation(vid).status != Status.CONTESTED


def test_nan_refused_on_every_json_endpoint(client, tokens, store) -> None:
    admin = tokens["administrator"]
    vid = _contestable(store, "UA")
    cases = [(f"{API}/tokens", b'{"role": "public", "ttl_s": Infinity}', "body.ttl_s"),
             (f"{API}/observations", b'{"observations": [{"id": "o", "location": {"lat": NaN}}]}',
              "body.observations.0.location.lat"),
             (f"{API}/sources", b'[{"id": "s", "lat": -Infinity}]', "body.0.lat"),
             (f"{API}/violations/{vid}/transitions", b'{"to_status": "verified", "reason": "x", "w": NaN}', "body.w"),
             (f"{API}/webhooks", b'{"url": "http://8.8.8.8/", "x": NaN}', "body.x")]
    for path, raw, field in cases:
        r = _post(client, path, raw, admin)
        assert r.status_code == 422, (path, r.text)
        assert _field(r) == field, path
    r = client.put(f"{API}/sources/x/key", content=b'{"public_key": NaN}', headers=auth(admin) | JSON)
    assert r.status_code == 422 and _field(r) == "body.public_key"


def test_finite_json_still_accepted(client, tokens, store) -> None:
    r = _post(client, f"{API}/tokens", b'{"role": "public", "ttl_s": 3600.5, "label": "x"}', tokens["administrator"])
    assert r.status_code == 200, r.text
    # malformed JSON keeps FastAPI's own 422, and huge integers are a 422, not a 400/500
    assert _post(client, f"{API}/tokens", b'{"role": ', tokens["administrator"]).status_code == 422
    assert _post(client, f"{API}/tokens", b'{"ttl_s": ' + b"9" * 5000 + b"}", tokens["administrator"]).status_code == 422


def test_strict_json_loads() -> None:
    assert strict_json_loads(b'{"a": [1, 2.5, -3e10, null]}') == {"a": [1, 2.5, -3e10, None]}
    with pytest.raises(Exception) as e:
        strict_json_loads('{"a": {"b": [0, NaN]}}')
    assert e.value.status_code == 422 and e.value.detail[0]["loc"] == ["body", "a", "b", 1]  # type: ignore[attr-defined]


# ------------------------------------------------------------------ date and integer bounds
@pytest.mark.parametrize("path", [
    "/violations?t_from=0001-01-01T00:00:00%2B01:00",
    "/violations?t_to=9999-12-31T23:59:59-01:00",
    "/violations?t_from=1969-12-31T23:59:59Z",
    "/violations?t_to=2200-01-01T00:00:01Z",
    "/exports/csv?t_from=0001-01-01T00:00:00%2B01:00",
    "/layers/air?from=0001-01-01T00:00:00%2B01:00",
    "/layers/sea?to=9999-12-31T23:59:59-01:00",
])
def test_public_dates_out_of_range_are_422(client, tokens, path: str) -> None:
    r = client.get(API + path, headers=auth(tokens["public"]))
    assert r.status_code == 422, r.text
    name = path.split("?")[1].split("=")[0]
    # t_from/t_to are the old names of from/to: the error names the parameter by its one name
    assert _field(r) == "query." + {"t_from": "from", "t_to": "to"}.get(name, name)
    assert "1970-01-01" in r.text and "2200-01-01" in r.text


@pytest.mark.parametrize("path,field", [
    ("/events?t_from=0001-01-01T00:00:00%2B01:00", "query.from"),
    ("/observations?t_to=9999-12-31T23:59:59-01:00", "query.to"),
    ("/events?from=0001-01-01T00:00:00%2B01:00", "query.from"),
    ("/audit?after_seq=99999999999999999999", "query.after_seq"),
    ("/audit?after_seq=9223372036854775808", "query.after_seq"),
    ("/reports/daily/0001-01-01", "path.day"),
    ("/reports/daily/9999-12-31/html", "path.day"),
])
def test_internal_bounds_are_422(client, tokens, path: str, field: str) -> None:
    r = client.get(API + path, headers=auth(tokens["administrator"]))
    assert r.status_code == 422, r.text
    assert _field(r) == field


def test_dates_inside_the_bounds_work(client, tokens) -> None:
    r = client.get(f"{API}/violations?t_from=1970-01-01T00:00:00Z&t_to=2199-12-31T18:00:00-05:00",
                   headers=auth(tokens["analyst"]))
    assert r.status_code == 200 and len(r.json()) > 0
    assert client.get(f"{API}/audit?after_seq=0", headers=auth(tokens["administrator"])).status_code == 200


# ------------------------------------------------------------------ headers
def test_security_headers(client, tokens) -> None:
    for path, h in [("/", {}), ("/static/app.js", {}), (f"{API}/health", {}), (f"{API}/me", auth(tokens["analyst"])),
                    (f"{API}/me", {}), ("/openapi.json", {})]:
        r = client.get(path, headers=h)
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "no-referrer", path
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp, path
    # the report's HTML keeps its inline stylesheet and data: images, and may run no script
    csp = client.get(f"{API}/reports/daily/0001-01-01/html", headers=auth(tokens["analyst"])).headers[
        "content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "style-src 'unsafe-inline'" in csp
    # per-role API answers are never cached; the static dashboard and basemap may be
    assert client.get(f"{API}/me", headers=auth(tokens["analyst"])).headers["cache-control"] == "no-store"
    assert client.get(f"{API}/violations", headers=auth(tokens["public"])).headers["cache-control"] == "no-store"
    assert client.get(f"{API}/me").headers["cache-control"] == "no-store"  # the 401 too
    assert client.get("/basemap/land.geojson").headers["cache-control"] == "max-age=86400"
    assert client.get("/basemap/land.geojson", headers=auth(tokens["analyst"])).headers["cache-control"] == "no-store"


# ------------------------------------------------------------------ webhooks
def _fake(addrs: dict[str, list[str]]) -> Any:
    def resolver(host: str, port: int) -> list[str]:
        if host not in addrs:
            raise OSError("Name or service not known")
        return addrs[host]

    return resolver


@pytest.mark.parametrize("url,why", [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://10.1.2.3/hook", "private"),
    ("http://192.168.0.10/hook", "private"),
    ("http://172.16.5.4/hook", "private"),
    ("http://224.0.0.251/hook", "multicast"),
    ("http://[ff02::1]/hook", "multicast"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://240.0.0.1/hook", "reserved"),
    ("http://100.64.0.1/hook", "not globally routable"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ("http://2130706433/hook", "loopback"),  # 127.0.0.1 as one number
    ("http://metadata.internal/hook", "link-local"),  # a name resolving inside
    ("http://mixed.example/hook", "private"),  # one bad address among good ones is enough
])
def test_webhook_target_refused(url: str, why: str) -> None:
    fake = {"metadata.internal": ["169.254.169.254"], "mixed.example": ["93.184.216.34", "10.0.0.5"]}
    with pytest.raises(WebhookTargetError) as e:  # IP literals and numbers go through the system resolver
        check_webhook_url(url, resolver=lambda h, p: fake[h] if h in fake else resolve(h, p))
    assert str(e.value).startswith("url: ") and why in str(e.value)


def test_webhook_target_allowed() -> None:
    resolver = _fake({"hooks.example.org": ["93.184.216.34", "2606:2800:220:1::1"], "ops.mission": ["10.8.0.4"]})
    assert check_webhook_url("https://hooks.example.org/tw", resolver=resolver) == ["93.184.216.34",
                                                                                     "2606:2800:220:1::1"]
    assert check_webhook_url("http://8.8.8.8:8443/x") == ["8.8.8.8"]
    # a mission's own receivers, listed explicitly by name or by network
    assert check_webhook_url("http://ops.mission/h", allow=["ops.mission"], resolver=resolver) == ["10.8.0.4"]
    assert check_webhook_url("http://ops.mission/h", allow=["10.8.0.0/16"], resolver=resolver) == ["10.8.0.4"]
    with pytest.raises(WebhookTargetError, match="private"):
        check_webhook_url("http://ops.mission/h", allow=["10.9.0.0/16", "other.mission"], resolver=resolver)
    with pytest.raises(WebhookTargetError, match="does not resolve"):
        check_webhook_url("http://nowhere.invalid/h", resolver=resolver)
    with pytest.raises(WebhookTargetError, match=r"(?i)port"):
        check_webhook_url("http://8.8.8.8:99999/h")


def test_webhook_api_refuses_internal_targets(client, tokens, store) -> None:
    h = auth(tokens["administrator"])
    for url in ("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:9/hook", "http://[fe80::1]/x",
                "http://10.0.0.1/x"):
        r = client.post(f"{API}/webhooks", json={"url": url}, headers=h)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["detail"].startswith("url: ")
    with store.engine.connect() as c:
        assert c.execute(select(S.webhooks)).all() == []
    r = client.post(f"{API}/webhooks", json={"url": "http://8.8.8.8/hook"}, headers=h)
    assert r.status_code == 200, r.text


class _Receiver:
    def __init__(self) -> None:
        self.posts: list[bytes] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.posts.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _queue_delivery(store: Any, url: str) -> None:
    now = time.time()
    with store.engine.begin() as c:
        c.execute(S.webhooks.insert().values(id="w1", url=url, secret="s", role="analyst", party=None,
                                             created_at=now, active=1))
        c.execute(S.webhook_deliveries.insert().values(
            webhook_id="w1", idempotency_key="k1", violation_id="v", payload={"x": 1}, attempts=0,
            next_attempt_at=now, created_at=now))


def _last_error(store: Any) -> Any:
    with store.engine.connect() as c:
        return c.execute(select(S.webhook_deliveries.c.last_error, S.webhook_deliveries.c.delivered_at)).one()


def _wait(cond: Any, timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_delivery_rechecks_the_target(store, agreement, config) -> None:
    """A host that pointed outside at registration and inside now (DNS rebinding) is not posted to."""
    from fastapi.testclient import TestClient

    rx = _Receiver()
    _queue_delivery(store, rx.url)
    with TestClient(create_app(store, agreement, config)):
        assert _wait(lambda: _last_error(store)[0] is not None)
    err, delivered = _last_error(store)
    assert err.startswith("refused: url: 127.0.0.1 is not a public address (loopback)") and delivered is None
    assert rx.posts == []
    rx.server.shutdown()


def test_allow_list_reaches_the_missions_own_receiver(store, agreement, config) -> None:
    from fastapi.testclient import TestClient

    rx = _Receiver()
    _queue_delivery(store, rx.url)
    cfg = config.model_copy(update={"webhook_allow_hosts": ["127.0.0.1/32"]})
    with TestClient(create_app(store, agreement, cfg)):
        assert _wait(lambda: _last_error(store)[1] is not None)
    assert len(rx.posts) == 1
    rx.server.shutdown()


def test_ingest_time_overflowing_utc_names_record_and_field(client, tokens, store) -> None:
    """A monitor's observation whose offset pushes its time past year 1 or 9999 was a 500."""
    o = store.query_observations(source_id="team-alpha", limit=1)[0].model_dump(mode="json")
    bad = [dict(o, id="late", time="9999-12-31T23:59:59-01:00"), dict(o, id="early", time="0001-01-01T00:00:00+01:00")]
    r = client.post(f"{API}/observations", json={"observations": bad}, headers=auth(tokens["monitor"]))
    assert r.status_code == 200, r.text
    errs = r.json()["errors"]
    assert [(e["record"], e["field"]) for e in errs] == [("late", "time"), ("early", "time")]
    assert all("outside the years 1-9999" in e["message"] for e in errs) and r.json()["accepted"] == 0


@pytest.mark.parametrize("value", ["\u00b2", "99999999999999999999", "1" * 5000, "-1", "abc"],
                         ids=["superscript-two", "past-2^63", "5000-digits", "negative", "letters"])
def test_bad_last_event_id_is_422(live, tokens, value: str) -> None:
    """``"²".isdigit()`` is True and ``int("²")`` raises: the alert stream answered 500; an id past
    2^63 opened the stream and then crashed it in SQLite.  (Live server: a stream that wrongly
    opens is closed after its status, not read forever.)"""
    import httpx

    headers = auth(tokens["analyst"]) | {"Last-Event-ID": value.encode("latin-1")}
    with httpx.stream("GET", f"{live.url}{API}/alerts/stream", headers=headers, timeout=10) as r:
        assert r.status_code == 422
        assert r.read().decode().startswith('{"detail":"Last-Event-ID: ')


def test_every_route_parses_strict_json(app) -> None:
    """A route added later (or through an APIRouter) must keep the strict JSON parsing."""
    from fastapi.routing import APIRoute

    from trucewatch.service.security import StrictJSONRoute

    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 30
    assert [r.path for r in routes if not isinstance(r, StrictJSONRoute)] == []
