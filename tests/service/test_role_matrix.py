"""Role x operation matrix generated from /openapi.json (issue 15).

Every operation the service publishes is called by every role, a liaison of the
other party, no token and an expired token, against a live server with real ids
from the sample store.  The expected status of each call comes from ``MATRIX``
below and nowhere else; an operation without a row (a new endpoint) fails the
test, and so does a row for an operation that no longer exists.

The findings used are attributed to UA, so the "liaison" column is UA's liaison
and "other_liaison" RU's: a finding outside a caller's view is 404, never 403.
Report endpoints are checked for status only here (their content per role is
tested with the reports).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from trucewatch.model import Status
from trucewatch.service.auth import Principal, Role
from trucewatch.service.config import ServiceConfig
from trucewatch.service.views import concerns
from trucewatch.store import schema as S

COLUMNS = ("administrator", "analyst", "monitor", "liaison", "other_liaison", "public", "no_token", "expired")
_ANY = (200, 200, 200, 200, 200, 200, 401, 401)
_INTERNAL = (200, 200, 403, 403, 403, 403, 401, 401)
_ADMIN = (200, 403, 403, 403, 403, 403, 401, 401)
_READERS = (200, 200, 403, 200, 200, 200, 401, 401)  # findings, exports, layers, reports

#: (method, path) -> expected status per COLUMNS.  The one source of truth of this test.
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/api/v1/health"): (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/me"): _ANY,
    ("GET", "/api/v1/agreement"): _ANY,
    ("POST", "/api/v1/observations"): (200, 403, 200, 403, 403, 403, 401, 401),
    ("GET", "/api/v1/observations"): _INTERNAL,
    ("GET", "/api/v1/events"): _INTERNAL,
    ("GET", "/api/v1/violations"): _READERS,
    ("GET", "/api/v1/violations/{violation_id}"): (200, 200, 403, 200, 404, 200, 401, 401),
    ("GET", "/api/v1/violations/{violation_id}/transitions"): (200, 200, 403, 200, 404, 403, 401, 401),
    ("POST", "/api/v1/violations/{violation_id}/transitions"): _INTERNAL,
    ("GET", "/api/v1/violations/{violation_id}/evidence"): (200, 200, 403, 200, 404, 403, 401, 401),
    ("POST", "/api/v1/violations/{violation_id}/contest"): (200, 403, 403, 200, 404, 403, 401, 401),
    ("GET", "/api/v1/sources"): (200, 200, 200, 403, 403, 403, 401, 401),
    ("POST", "/api/v1/sources"): _ADMIN,
    ("PUT", "/api/v1/sources/{source_id}/key"): _ADMIN,
    ("GET", "/api/v1/layers/sensors"): _INTERNAL,
    ("GET", "/api/v1/layers/coverage"): _INTERNAL,
    ("GET", "/api/v1/layers/air"): _READERS,
    ("GET", "/api/v1/layers/sea"): _READERS,
    ("GET", "/api/v1/layers/places"): _ANY,  # the public gazetteer: no finding in it
    ("GET", "/api/v1/ledger/checkpoint"): _ANY,
    ("GET", "/api/v1/ledger/proofs/{observation_id}"): _INTERNAL,
    ("GET", "/api/v1/exports/{fmt}"): _READERS,
    ("GET", "/api/v1/reports/daily/{day}"): _READERS,
    ("GET", "/api/v1/reports/daily/{day}/{fmt}"): _READERS,
    ("GET", "/api/v1/alerts/stream"): (200, 200, 403, 200, 200, 403, 401, 401),
    ("POST", "/api/v1/webhooks"): _ADMIN,
    ("GET", "/api/v1/webhooks"): _ADMIN,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): _ADMIN,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): _ADMIN,
    ("POST", "/api/v1/tokens"): _ADMIN,
    ("GET", "/api/v1/tokens"): _ADMIN,
    ("DELETE", "/api/v1/tokens/{token_id}"): _ADMIN,
    ("GET", "/api/v1/audit"): _ADMIN,
}


# ------------------------------------------------------------------ one store and server for the module
@pytest.fixture(scope="module")
def m_store(tmp_path_factory: Any, agreement: Any) -> Iterator[Any]:
    from .conftest import make_store

    s = make_store(tmp_path_factory.mktemp("matrix") / "matrix.db", agreement, ledger=True)
    yield s
    s.close()


@pytest.fixture(scope="module")
def m_app(m_store: Any, agreement: Any) -> Any:
    from trucewatch.service.app import create_app

    return create_app(m_store, agreement, ServiceConfig(require_signatures=False, public_delay_s=3600,
                                                        sse_ping_s=0.3))


@pytest.fixture(scope="module")
def m_live(m_app: Any, live_server_cls: Any) -> Iterator[Any]:
    with live_server_cls(m_app) as srv:
        yield srv


@pytest.fixture(scope="module")
def m_tokens(m_app: Any, m_store: Any) -> dict[str, str | None]:
    ts = m_app.state.tokens
    expired, rec = ts.create("analyst")
    with m_store.engine.begin() as c:  # expired a second ago (its row was never cached)
        c.execute(update(S.api_tokens).where(S.api_tokens.c.id == rec["id"]).values(expires_at=time.time() - 1))
    return {"administrator": ts.create("administrator")[0], "analyst": ts.create("analyst")[0],
            "monitor": ts.create("monitor", source_ids=["team-alpha"])[0],
            "liaison": ts.create("liaison", party="UA")[0], "other_liaison": ts.create("liaison", party="RU")[0],
            "public": ts.create("public")[0], "no_token": None, "expired": expired}


class Ids:
    """Real ids from the sample store; fresh ones for operations that change or delete their target."""

    def __init__(self, app: Any, store: Any) -> None:
        self.app, self.store = app, store
        ua = [v for v in store.query_violations()
              if v.party == "UA" and not concerns(v.model_dump(mode="json"), "RU")]
        public = Principal(token_id="matrix", role=Role.PUBLIC)
        # read target: published (the public sees it), UA's, and never changed by this test
        self.read = next(v.id for v in ua if v.status == Status.VERIFIED and app.state.views.get(public, v.id))
        self.detected = [v.id for v in ua if v.status == Status.DETECTED]  # for POST transitions
        self.notified = [v.id for v in ua if v.status == Status.NOTIFIED]  # for contests
        v = store.get_violation(self.read)
        self.observation = str(v.evidence[0].observation_id)
        self.day = v.time.date().isoformat()
        self.obs_template = store.get_observations([self.observation])[0].model_dump(mode="json")
        self.source_template = store.get_source("team-alpha").model_dump(mode="json")

    def fresh_webhook(self) -> str:
        wid = uuid.uuid4().hex[:16]
        with self.store.engine.begin() as c:
            c.execute(S.webhooks.insert().values(id=wid, url="http://8.8.8.8/hook", secret="s", role="analyst",
                                                 party=None, created_at=time.time(), active=1))
        return wid

    def fresh_token(self) -> str:
        return str(self.app.state.tokens.create("public")[1]["id"])

    def observation_body(self) -> dict[str, Any]:
        o = dict(self.obs_template, id=f"matrix-{uuid.uuid4().hex}", source_id="team-alpha")
        o.pop("signature", None)
        return {"observations": [o]}


def _request(ids: Ids, method: str, path: str, mutating_ok: bool) -> tuple[str, dict[str, Any], Any]:
    """URL, query and JSON body for one call.  ``mutating_ok``: the caller is expected to succeed,
    so an operation that changes its target gets a fresh one."""
    params: dict[str, Any] = {}
    body: Any = None
    fill: dict[str, Callable[[], str]] = {
        "violation_id": lambda: ids.read,
        "observation_id": lambda: ids.observation,
        "source_id": lambda: "sensor-011",
        "fmt": lambda: "html" if "reports" in path else "csv",
        "day": lambda: ids.day,
        "webhook_id": ids.fresh_webhook,
        "token_id": ids.fresh_token,
    }
    key = (method, path)
    if key == ("POST", "/api/v1/violations/{violation_id}/transitions"):
        fill["violation_id"] = (lambda: ids.detected.pop()) if mutating_ok else (lambda: ids.detected[0])
        body = {"to_status": "corroborated", "reason": "role matrix"}
    elif key == ("POST", "/api/v1/violations/{violation_id}/contest"):
        fill["violation_id"] = (lambda: ids.notified.pop()) if mutating_ok else (lambda: ids.notified[0])
        body = {"reason": "role matrix", "counter_evidence": ["doc-1"]}
    elif key == ("POST", "/api/v1/observations"):
        body = ids.observation_body()
    elif key == ("POST", "/api/v1/sources"):
        body = [dict(ids.source_template, id=f"matrix-{uuid.uuid4().hex[:8]}")]
    elif key == ("PUT", "/api/v1/sources/{source_id}/key"):
        body = {"public_key": "ab" * 32}
    elif key == ("POST", "/api/v1/webhooks"):
        body = {"url": "http://8.8.8.8/hook", "role": "analyst"}
    elif key == ("POST", "/api/v1/tokens"):
        body = {"role": "public", "label": "role matrix"}
    elif key == ("GET", "/api/v1/violations"):
        params = {"limit": 5}
    url = path
    while "{" in url:
        name = url[url.index("{") + 1:url.index("}")]
        url = url.replace("{" + name + "}", fill[name](), 1)
    return url, params, body


def _status(client: httpx.Client, method: str, url: str, params: dict[str, Any], body: Any,
            token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # stream: the alert stream never ends, so only its status is read
    with client.stream(method, url, params=params, json=body, headers=headers) as r:
        return r.status_code


def test_every_operation_has_a_row(client) -> None:
    doc = client.get("/openapi.json").json()
    ops = {(m.upper(), p) for p, item in doc["paths"].items() for m in item
           if m in ("get", "post", "put", "patch", "delete")}
    assert sorted(ops - set(MATRIX)) == [], "operations without a row in MATRIX"
    assert sorted(set(MATRIX) - ops) == [], "rows for operations the service no longer has"


@pytest.mark.slow
def test_role_matrix(m_live, m_app, m_store, m_tokens) -> None:
    ids = Ids(m_app, m_store)
    doc = httpx.get(f"{m_live.url}/openapi.json").json()
    ops = [(m.upper(), p) for p, item in doc["paths"].items() for m in item
           if m in ("get", "post", "put", "patch", "delete")]
    got: dict[tuple[str, str], tuple[int, ...]] = {}
    with httpx.Client(base_url=m_live.url, timeout=180) as client:
        for method, path in ops:
            expected = MATRIX.get((method, path))
            if expected is None:
                pytest.fail(f"{method} {path}: no row in MATRIX (a new endpoint needs its expected statuses)")
            row = []
            for col, want in zip(COLUMNS, expected, strict=True):
                url, params, body = _request(ids, method, path, mutating_ok=want == 200)
                row.append(_status(client, method, url, params, body, m_tokens[col]))
            got[(method, path)] = tuple(row)
    wrong = {f"{m} {p}": {c: f"{g} (expected {e})" for c, g, e in zip(COLUMNS, got[(m, p)], MATRIX[(m, p)],
                                                                      strict=True) if g != e}
             for m, p in got if got[(m, p)] != MATRIX[(m, p)]}
    assert wrong == {}
    assert len(got) == len(MATRIX) >= 30
