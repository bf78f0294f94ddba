"""Role x operation matrix generated from /openapi.json (issue 15).

Every operation the service publishes is called by every role, a liaison of the
other party, no token and an expired token, against a live server with real ids
from the sample store.  The expected status of each call comes from ``MATRIX``
below and nowhere else; an operation without a row (a new endpoint) fails the
test, and so does a row for an operation that no longer exists.

The findings used are attributed to UA, so the "liaison" column is UA's liaison
and "other_liaison" RU's: a finding outside a caller's view is 404, never 403.
Report endpoints are checked for status only here (their content per role is
tested with the reports).  The mechanism's operations (issue 19) are here too: its
case, finding, reply, holding site and pre-notification are UA's, made through the
mechanism in the module fixture, with a fresh one for each call that changes its target.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from trucewatch.mechanism.core import AllegationIn
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
_CASE_STEPS = ("acknowledge", "assess", "task", "investigate", "decide", "publish")

#: (method, path) -> expected status per COLUMNS.  The one source of truth of this test.
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/api/v1/health"): (200, 200, 200, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/me"): _ANY,
    ("GET", "/api/v1/agreement"): _ANY,
    ("GET", "/api/v1/extensions"): _READERS,
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
    # ---- the mechanism (issue 19).  The case, finding, reply, site and pre-notification read are UA's
    # (the case: published, accusing UA, submitted by an administrator, so no monitor's own submission).
    ("POST", "/api/v1/allegations"): (200, 200, 200, 200, 200, 403, 401, 401),
    ("GET", "/api/v1/mechanism/settings"): _ANY,
    ("GET", "/api/v1/cases"): _ANY,
    ("GET", "/api/v1/cases/{case_id}"): (200, 200, 404, 200, 404, 200, 401, 401),
    **{("POST", f"/api/v1/cases/{{case_id}}/{a}"): _INTERNAL for a in _CASE_STEPS},
    ("POST", "/api/v1/cases/{case_id}/links"): _INTERNAL,
    ("GET", "/api/v1/steps/verify"): _INTERNAL,
    ("POST", "/api/v1/tasks"): _INTERNAL,
    ("GET", "/api/v1/tasks"): (200, 200, 200, 403, 403, 403, 401, 401),
    ("GET", "/api/v1/tasks/{task_id}"): (200, 200, 200, 403, 403, 403, 401, 401),
    ("POST", "/api/v1/tasks/{task_id}/result"): (200, 200, 200, 403, 403, 403, 401, 401),
    ("POST", "/api/v1/replies"): (403, 403, 403, 200, 404, 403, 401, 401),
    ("GET", "/api/v1/replies"): (200, 200, 403, 200, 200, 403, 401, 401),
    ("GET", "/api/v1/replies/{reply_id}"): (200, 200, 403, 200, 404, 403, 401, 401),
    **{("POST", f"/api/v1/replies/{{reply_id}}/{a}"): _INTERNAL for a in ("review", "escalate", "resolve")},
    ("GET", "/api/v1/findings"): _READERS,
    ("GET", "/api/v1/findings/{finding_id}"): (200, 200, 403, 200, 404, 200, 401, 401),
    **{("POST", f"/api/v1/findings/{{finding_id}}/{a}"): _INTERNAL for a in ("publish", "change", "dismiss")},
    ("POST", "/api/v1/obstruction/denials"): (200, 200, 200, 403, 403, 403, 401, 401),
    ("GET", "/api/v1/obstruction/freedom-of-movement"): _ANY,
    ("GET", "/api/v1/obstruction/unobserved"): (200, 200, 200, 403, 403, 403, 401, 401),
    ("POST", "/api/v1/sensor-health/heartbeats"): (200, 403, 200, 403, 403, 403, 401, 401),
    ("POST", "/api/v1/sensor-health/analyse"): _INTERNAL,
    ("POST", "/api/v1/holding-sites"): (200, 200, 403, 200, 403, 403, 401, 401),  # naming UA
    ("GET", "/api/v1/holding-sites"): (200, 200, 200, 200, 200, 403, 401, 401),
    ("POST", "/api/v1/holding-sites/{site_id}/inventory"): (200, 403, 403, 200, 404, 403, 401, 401),
    ("POST", "/api/v1/holding-sites/{site_id}/inspections"): (200, 200, 200, 403, 403, 403, 401, 401),
    ("GET", "/api/v1/holding-sites/{site_id}/inspections"): (200, 200, 200, 200, 404, 403, 401, 401),
    ("POST", "/api/v1/holding-sites/cross-check"): _INTERNAL,
    ("POST", "/api/v1/prenotifications"): (200, 403, 403, 200, 403, 403, 401, 401),  # naming UA
    ("GET", "/api/v1/prenotifications"): (200, 200, 200, 200, 200, 403, 401, 401),
    ("POST", "/api/v1/prenotifications/{prenotification_id}/decision"): _INTERNAL,
    ("POST", "/api/v1/prenotifications/apply"): _INTERNAL,
    ("GET", "/api/v1/prenotifications/{prenotification_id}/annotations"): (200, 200, 200, 200, 404, 403, 401, 401),
    ("GET", "/api/v1/corrections"): _ANY,
    ("GET", "/api/v1/reports/spot"): _READERS,
    ("GET", "/api/v1/reports/spot/cases/{case_id}"): (200, 200, 403, 200, 404, 200, 401, 401),
    ("GET", "/api/v1/reports/spot/findings/{finding_id}"): (200, 200, 403, 200, 404, 200, 401, 401),
    ("GET", "/api/v1/reports/weekly/{week}"): _READERS,
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
        self._mechanism()

    # ------------------------------------------------------------ the mechanism's targets
    def _mechanism(self) -> None:
        """UA's case (published), task (team-alpha, the monitor's), finding (published), reply, contest,
        holding site (with an inventory) and pre-notification, made through the mechanism itself."""
        self.mech = self.app.state.mechanism
        now = time.time()
        self.now, self.today = now, datetime.fromtimestamp(now, UTC).date()
        self.case = self.fresh_case("publish", through=True)
        self.task = self.fresh_task()
        self.finding = self.fresh_finding()
        self.mech.change_finding(self.finding, "publish", actor="matrix", reason="role matrix")
        self.reply = self.mech.reply("violation", self.read, kind="reply", party="UA", actor="matrix",
                                     reason="role matrix")["id"]
        self.contest = self.fresh_contest()
        self.site = self.mech.add_site(actor="matrix", party="UA", name="depot", lat=48.0, lon=37.9,
                                       radius_m=500)["id"]
        self.mech.declare_inventory(self.site, [{"class": "tank", "count": 2, "serials": []}], actor="matrix")
        self.prenotification = self.fresh_prenotification()

    def fresh_case(self, upto: str | None = None, through: bool = False) -> str:
        """A case accusing UA, taken through the steps before ``upto`` (and ``upto`` itself if ``through``)."""
        a = AllegationIn(time=datetime.fromtimestamp(time.time() - 1800, UTC), lat=48.0, lon=37.9, type="shelling",
                         description="role matrix", accused_party="UA")
        cid = self.mech.submit_allegation(a, actor="matrix-admin", role="administrator", party=None)["case_id"]
        for action in _CASE_STEPS[:_CASE_STEPS.index(upto) + through] if upto else ():
            self.mech.step_case(cid, action, actor="matrix", reason="role matrix",
                                decision="substantiated" if action == "decide" else None)
        return str(cid)

    def fresh_task(self) -> str:
        return str(self.mech.create_task(actor="matrix", asset_kind="monitor_team", asset_id="team-alpha",
                                         area=_square(), t_from=self.now - 3600, t_to=self.now + 3600)["id"])

    def fresh_finding(self) -> str:
        """An open finding against UA (a denial of access)."""
        return str(self.mech.add_denial(actor="matrix", t=time.time(), lat=48.0, lon=37.9, party="UA",
                                        patrol=f"p-{uuid.uuid4().hex[:8]}", description="role matrix")["id"])

    def fresh_contest(self) -> str:
        return str(self.mech.reply("finding", self.fresh_finding(), kind="contest", party="UA", actor="matrix",
                                   reason="role matrix")["id"])

    def fresh_prenotification(self) -> str:
        return str(self.mech.prenotify(actor="matrix", party="UA", kind="repairs", area=_square(),
                                       t_from=self.now, t_to=self.now + 3600, description="role matrix")["id"])

    def window(self) -> dict[str, str]:
        return {"t_from": _iso(self.now - 3600), "t_to": _iso(self.now)}

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


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _square(lat: float = 48.0, lon: float = 37.9, d: float = 0.02) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                [lon - d, lat + d], [lon - d, lat - d]]]}


def _mechanism_request(ids: Ids, key: tuple[str, str], fill: dict[str, Callable[[], str]], fresh: bool
                       ) -> tuple[dict[str, Any], Any]:
    """Ids, query and body of a mechanism operation; ``fresh``: a new target when the call changes it."""
    method, path = key
    params: dict[str, Any] = {}
    body: Any = None
    fill.update(case_id=lambda: ids.case, task_id=lambda: ids.task, finding_id=lambda: ids.finding,
                reply_id=lambda: ids.reply, site_id=lambda: ids.site,
                prenotification_id=lambda: ids.prenotification,
                week=lambda: "{}-W{:02d}".format(*ids.today.isocalendar()[:2]))
    last = path.rsplit("/", 1)[-1]
    if method == "POST" and path.startswith("/api/v1/cases/"):
        if last == "links":
            body = {"violations": [ids.read], "reason": "role matrix"}
            if fresh:
                fill["case_id"] = ids.fresh_case
        else:
            body = {"reason": "role matrix", "decision": "substantiated" if last == "decide" else None}
            if fresh:
                fill["case_id"] = lambda: ids.fresh_case(last)
    elif key == ("POST", "/api/v1/allegations"):
        body = {"time": _iso(ids.now - 1800), "lat": 48.0, "lon": 37.9, "type": "shelling",
                "description": "role matrix"}
    elif key == ("POST", "/api/v1/tasks"):
        body = {"asset_kind": "monitor_team", "asset_id": "team-alpha", "area": _square(),
                "t_from": _iso(ids.now - 3600), "t_to": _iso(ids.now)}
    elif key == ("POST", "/api/v1/tasks/{task_id}/result"):
        body = {"seen": False, "covered": [_square()]}
        if fresh:
            fill["task_id"] = ids.fresh_task
    elif key == ("POST", "/api/v1/replies"):
        body = {"target_id": ids.read, "kind": "reply", "reason": "role matrix"}
    elif method == "POST" and path.startswith("/api/v1/replies/"):
        body = {"reason": "role matrix", "outcome": "noted" if last == "resolve" else None}
        fill["reply_id"] = ids.fresh_contest if fresh else (lambda: ids.contest)
    elif method == "POST" and path.startswith("/api/v1/findings/"):
        body = {"reason": "role matrix", "changes": {"summary": "role matrix"} if last == "change" else None}
        fill["finding_id"] = ids.fresh_finding if fresh else (lambda: ids.finding)
    elif key == ("POST", "/api/v1/obstruction/denials"):
        body = {"time": _iso(ids.now), "lat": 48.0, "lon": 37.9, "party": "UA", "patrol": uuid.uuid4().hex[:8]}
    elif key in (("GET", "/api/v1/obstruction/unobserved"), ("GET", "/api/v1/reports/spot")):
        params = {"day": ids.today.isoformat()}
    elif key == ("POST", "/api/v1/sensor-health/heartbeats"):
        body = {"heartbeats": [{"sensor_id": "team-alpha", "at": _iso(ids.now)}]}
    elif key in (("POST", "/api/v1/sensor-health/analyse"), ("POST", "/api/v1/holding-sites/cross-check")):
        body = ids.window()
    elif key == ("POST", "/api/v1/holding-sites"):
        body = {"party": "UA", "name": "role matrix", "lat": 48.0, "lon": 37.9}
    elif key in (("POST", "/api/v1/holding-sites/{site_id}/inventory"),
                 ("POST", "/api/v1/holding-sites/{site_id}/inspections")):
        body = {"items": [{"class": "tank", "count": 2}]}
    elif key == ("POST", "/api/v1/prenotifications"):
        body = {"party": "UA", "kind": "repairs", "area": _square(), "t_from": _iso(ids.now),
                "t_to": _iso(ids.now + 3600)}
    elif key == ("POST", "/api/v1/prenotifications/{prenotification_id}/decision"):
        body = {"accept": False, "reason": "role matrix"}
        if fresh:
            fill["prenotification_id"] = ids.fresh_prenotification
    elif key == ("POST", "/api/v1/prenotifications/apply"):
        body = {}  # every API write is JSON (LimitsMiddleware), even one without fields
    return params, body


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
    else:
        params, body = _mechanism_request(ids, key, fill, mutating_ok)
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
