"""The query hot path: the SQL fast path of ``Views.query_json`` answers exactly
what the general path (SQLAlchemy statement, parsed rows) answers, as JSON,, for every
filter; cached token checks still honour revocation and expiry."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from trucewatch.service.auth import AuthError, Principal, Role, TokenStore
from trucewatch.service.views import Views, ViolationFilter

ANALYST = Principal(token_id="t", role=Role.ANALYST)


def _filters(store) -> list[ViolationFilter]:
    vs = store.query_violations()
    ts = sorted(v.time.timestamp() for v in vs)
    lat = sorted(v.location.lat for v in vs)
    lon = sorted(v.location.lon for v in vs)
    mid = len(vs) // 2
    return [
        ViolationFilter(),
        ViolationFilter(limit=7, offset=3),
        ViolationFilter(t_from=ts[mid // 2], t_to=ts[mid + mid // 2]),
        ViolationFilter(bbox=(lon[5], lat[5], lon[-5], lat[-5]), limit=10),
        ViolationFilter(bbox=(lon[0], lat[0], lon[mid], lat[mid])),
        ViolationFilter(rule=vs[0].rule.value, party=vs[0].party),
        ViolationFilter(status=["detected", "verified"], min_confidence=0.5),
        ViolationFilter(party="O'Brien; DROP TABLE violations--"),  # injection stays a value
        ViolationFilter(bbox=(0.0, 0.0, 0.1, 0.1)),
    ]


def test_query_json_equals_general_path(store, app) -> None:
    views: Views = app.state.views
    assert store.dialect == "sqlite"
    nonempty = 0
    for f in _filters(store):
        fast = json.loads(views.query_json(ANALYST, f, now=time.time()))
        slow = views.query(ANALYST, f, now=time.time())
        # stored JSON columns are copied verbatim (their own spacing): equal as JSON, same key order
        assert fast == slow, f
        assert [list(v) for v in fast] == [list(v) for v in slow]
        nonempty += bool(fast)
    assert nonempty >= 5  # the filters above select rows, not only empty pages


def test_http_answer_matches_store(client, tokens, store) -> None:
    r = client.get("/api/v1/violations", params={"limit": 5000}, headers={"Authorization": f"Bearer {tokens['analyst']}"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert [v["id"] for v in r.json()] == [v.id for v in store.query_violations()]


def test_cached_token_check_honours_revocation_and_expiry(store) -> None:
    ts = TokenStore(store.engine, cache_s=60.0)
    tok, rec = ts.create("analyst")
    assert ts.cached(tok) is None  # nothing cached yet: the caller goes to the database
    assert ts.authenticate(tok).role == Role.ANALYST
    assert ts.cached(tok).token_id == rec["id"]  # now served from the cache
    with pytest.raises(AuthError, match="invalid token"):
        ts.cached(tok[:-2] + ("A" if tok[-2] != "A" else "B") + tok[-1])  # forged secret, same id
    ts.revoke(rec["id"])  # revoked in this process: effective at once despite the cache
    with pytest.raises(AuthError, match="revoked"):
        ts.authenticate(tok)
    short, _ = ts.create("analyst", ttl_s=0.2)
    ts.authenticate(short)
    time.sleep(0.3)
    with pytest.raises(AuthError, match="expired"):  # expiry is checked on every use, cached or not
        ts.cached(short)


def test_revocation_by_another_process_within_cache_window(store, app) -> None:
    other = TokenStore(store.engine, cache_s=0.0)  # e.g. `trucewatch tokens revoke` in another process
    served: TokenStore = app.state.tokens
    served.cache_s = 0.3
    tok, rec = served.create("analyst")
    with TestClient(app) as c:
        h = {"Authorization": f"Bearer {tok}"}
        assert c.get("/api/v1/me", headers=h).status_code == 200
        other.revoke(rec["id"])
        time.sleep(0.35)
        r = c.get("/api/v1/me", headers=h)
        assert r.status_code == 401 and r.json()["detail"] == "token revoked"


@pytest.mark.postgres
def test_postgres_bbox_uses_gist_and_answers_like_sqlite(pg_url, agreement, tmp_path) -> None:
    import numpy as np
    from sqlalchemy import text

    from trucewatch.sim.sample import populate
    from trucewatch.store import Store

    pg, lite = Store.open(pg_url), Store.open(tmp_path / "same.db")
    try:
        for s in (pg, lite):
            populate(s, agreement, np.random.default_rng(5), n_violations=40)
        vs = lite.query_violations()
        lat = sorted(v.location.lat for v in vs)
        lon = sorted(v.location.lon for v in vs)
        f = ViolationFilter(bbox=(lon[3], lat[3], lon[-3], lat[-3]))
        answers = [Views(s, ["verified"], 0).query(ANALYST, f, now=time.time()) for s in (pg, lite)]
        assert answers[0] and [v["id"] for v in answers[0]] == [v["id"] for v in answers[1]]
        q = Views(pg, ["verified"], 0).statement(ANALYST, f)
        sql = str(q.compile(dialect=pg.engine.dialect, compile_kwargs={"literal_binds": True}))
        with pg.engine.connect() as c:
            c.execute(text("SET enable_seqscan = off"))  # tiny table: ask whether the index *can* serve it
            plan = "\n".join(r[0] for r in c.execute(text("EXPLAIN " + sql)))
            gist = [r[0] for r in c.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'violations' "
                                                 "AND indexdef ILIKE '%gist%'"))]
        assert gist and any(name in plan for name in gist), plan
    finally:
        pg.close()
        lite.close()
