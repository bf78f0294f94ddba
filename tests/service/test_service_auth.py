"""Tokens: 401 without a valid one, 403 outside the role; secrets never stored."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from trucewatch.store import schema as S


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


def test_no_token_is_401(client) -> None:
    for path in ("/api/v1/me", "/api/v1/violations", "/api/v1/agreement", "/api/v1/exports/csv", "/api/v1/audit"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("bad", ["tw_", "nonsense", "tw_abc", "tw_.secret", "Bearer", "x" * 500])
def test_malformed_tokens_are_401(client, bad: str) -> None:
    assert client.get("/api/v1/me", headers=auth(bad)).status_code == 401


def test_forged_token_is_401(client, tokens) -> None:
    real = tokens["analyst"]
    tid, _, secret = real.partition(".")
    forged = f"{tid}.{secret[:-2]}AA" if not secret.endswith("AA") else f"{tid}.{secret[:-2]}BB"
    assert client.get("/api/v1/me", headers=auth(forged)).status_code == 401
    other_id = "tw_0000000000000000." + secret
    assert client.get("/api/v1/me", headers=auth(other_id)).status_code == 401
    assert client.get("/api/v1/me", headers=auth(real)).status_code == 200


def test_expired_and_revoked_tokens(app, client) -> None:
    ts = app.state.tokens
    tok, _ = ts.create("analyst", ttl_s=0.2)
    assert client.get("/api/v1/me", headers=auth(tok)).status_code == 200
    time.sleep(0.3)
    r = client.get("/api/v1/me", headers=auth(tok))
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    tok2, rec2 = ts.create("analyst")
    assert client.get("/api/v1/me", headers=auth(tok2)).status_code == 200
    assert ts.revoke(rec2["id"])
    r = client.get("/api/v1/me", headers=auth(tok2))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_only_hashes_are_stored(app, store, tokens) -> None:
    with store.engine.connect() as c:
        rows = c.execute(select(S.api_tokens)).mappings().all()
    stored = " ".join(str(dict(r)) for r in rows)
    for t in tokens.values():
        assert t.partition(".")[2] not in stored
    assert all(len(r["secret_hash"]) == 64 for r in rows)


def test_token_rules(app) -> None:
    ts = app.state.tokens
    with pytest.raises(ValueError, match="party"):
        ts.create("liaison")
    with pytest.raises(ValueError, match="party"):
        ts.create("analyst", party="UA")
    with pytest.raises(ValueError, match="source_ids"):
        ts.create("monitor")


# role -> (method, path, expected status) for endpoints outside the role
FORBIDDEN = {
    "public": [("GET", "/api/v1/events"), ("GET", "/api/v1/observations"), ("GET", "/api/v1/sources"),
               ("GET", "/api/v1/layers/sensors"), ("GET", "/api/v1/layers/coverage"), ("GET", "/api/v1/audit"),
               ("GET", "/api/v1/tokens"), ("GET", "/api/v1/alerts/stream"), ("GET", "/api/v1/webhooks")],
    "monitor": [("GET", "/api/v1/violations"), ("GET", "/api/v1/events"), ("GET", "/api/v1/exports/geojson"),
                ("GET", "/api/v1/layers/sensors"), ("GET", "/api/v1/audit")],
    "liaison_UA": [("GET", "/api/v1/events"), ("GET", "/api/v1/sources"), ("GET", "/api/v1/layers/sensors"),
                   ("GET", "/api/v1/observations"), ("GET", "/api/v1/tokens"), ("GET", "/api/v1/audit")],
    "analyst": [("GET", "/api/v1/tokens"), ("GET", "/api/v1/audit"), ("GET", "/api/v1/webhooks")],
}


@pytest.mark.parametrize("role", list(FORBIDDEN))
def test_outside_role_is_403(client, tokens, role: str) -> None:
    for method, path in FORBIDDEN[role]:
        r = client.request(method, path, headers=auth(tokens[role]))
        assert r.status_code == 403, (role, path, r.status_code)


def test_write_endpoints_outside_role(client, tokens, store) -> None:
    vid = store.query_violations(limit=1)[0].id
    body = {"to_status": "dismissed", "reason": "x"}
    for role in ("public", "monitor", "liaison_UA"):
        r = client.post(f"/api/v1/violations/{vid}/transitions", json=body, headers=auth(tokens[role]))
        assert r.status_code == 403, role
    for role in ("public", "analyst", "liaison_UA"):
        r = client.post("/api/v1/observations", json={"observations": [{}]}, headers=auth(tokens[role]))
        assert r.status_code == 403, role
    r = client.post("/api/v1/tokens", json={"role": "administrator"}, headers=auth(tokens["analyst"]))
    assert r.status_code == 403


def test_admin_manages_tokens_over_api(client, tokens) -> None:
    h = auth(tokens["administrator"])
    r = client.post("/api/v1/tokens", json={"role": "liaison", "party": "RU", "label": "RU liaison"}, headers=h)
    assert r.status_code == 200, r.text
    new = r.json()
    assert client.get("/api/v1/me", headers=auth(new["token"])).json()["party"] == "RU"
    assert client.post("/api/v1/tokens", json={"role": "liaison", "party": "XX"}, headers=h).status_code == 422
    listed = client.get("/api/v1/tokens", headers=h).json()
    assert new["id"] in {t["id"] for t in listed}
    assert all("token" not in t and "secret_hash" not in t for t in listed)
    assert client.delete(f"/api/v1/tokens/{new['id']}", headers=h).status_code == 200
    assert client.get("/api/v1/me", headers=auth(new["token"])).status_code == 401
