"""Ingest through the API: per-record errors, signatures, size and content-type limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from trucewatch.service import integrations as I
from trucewatch.service.app import create_app
from trucewatch.service.config import ServiceConfig


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


T0 = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def obs(i: int, source: str = "team-alpha", **over) -> dict:
    o = {"id": f"api-obs-{i}", "source_id": source, "kind": "report_claim",
         "time": T0,
         "location": {"lat": 48.0, "lon": 37.8, "err_major_m": 500.0, "err_minor_m": 300.0},
         "attributes": {"event_type": "shelling"}}
    o.update(over)
    return o


def test_batch_with_bad_records_names_record_and_field(client, tokens, store) -> None:
    n0 = store.count_observations()
    batch = [obs(1), obs(2, location={"lat": 95.0, "lon": 37.0}), obs(3, kind="rumour"),
             obs(4, time=(datetime.now(UTC) + timedelta(days=1)).isoformat()), obs(5, source="nope"), "junk", obs(6)]
    r = client.post("/api/v1/observations", json={"observations": batch}, headers=auth(tokens["administrator"]))
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["accepted"] == 2
    errs = {(e["record"], e["field"].split(".")[0]) for e in rep["errors"]}
    assert ("api-obs-2", "location") in errs
    assert ("api-obs-3", "kind") in errs
    assert ("api-obs-4", "time") in errs
    assert ("api-obs-5", "source_id") in errs
    assert ("#5", "(record)") in errs or any(e["record"] == "#5" for e in rep["errors"])
    assert store.count_observations() == n0 + 2
    # the same batch again: duplicates, not new rows, not errors
    r = client.post("/api/v1/observations", json={"observations": [obs(1), obs(6)]},
                    headers=auth(tokens["administrator"]))
    assert r.json()["duplicates"] == 2 and r.json()["accepted"] == 0


def test_monitor_submits_only_for_its_sources(client, tokens, store) -> None:
    r = client.post("/api/v1/observations", json={"observations": [obs(10), obs(11, source="acoustic-net")]},
                    headers=auth(tokens["monitor"]))
    rep = r.json()
    assert rep["accepted"] == 1
    assert rep["errors"] == [{"record": "api-obs-11", "field": "source_id",
                              "message": "this token may not submit for source 'acoustic-net'"}]


def test_signed_ingest_goes_through_the_ledger(store, agreement, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    calls = []

    def fake_ingest_signed(st, observations, **kw):
        calls.append([o.id for o in observations])
        return st.add_observations(observations)

    # the API's one door is the ledger's ingest; with signatures required it verifies through ingest_signed
    monkeypatch.setattr(I.ledger_ingest, "ingest_signed", fake_ingest_signed)
    app = create_app(store, agreement, ServiceConfig(require_signatures=True))
    tok = app.state.tokens.create("administrator")[0]
    with TestClient(app) as c:
        r = c.post("/api/v1/observations", json={"observations": [obs(21)]}, headers=auth(tok))
    assert r.status_code == 200 and r.json()["accepted"] == 1
    assert calls == [["api-obs-21"]]


def test_oversized_body_is_413(client, tokens, config) -> None:
    big = {"observations": [obs(i, attributes={"pad": "x" * 2000}) for i in range(60)]}
    body = json.dumps(big).encode()
    assert len(body) > config.max_body_bytes
    r = client.post("/api/v1/observations", content=body, headers=auth(tokens["administrator"]) |
                    {"content-type": "application/json"})
    assert r.status_code == 413


def test_oversized_streamed_body_without_length_is_413(client, tokens, config) -> None:
    def chunks():
        for _ in range(100):
            yield b"x" * 4096

    r = client.post("/api/v1/observations", content=chunks(),
                    headers=auth(tokens["administrator"]) | {"content-type": "application/json"})
    assert r.status_code == 413


def test_batch_over_limit_is_413(store, agreement) -> None:
    from fastapi.testclient import TestClient

    app = create_app(store, agreement, ServiceConfig(require_signatures=False, max_batch=3))
    tok = app.state.tokens.create("administrator")[0]
    with TestClient(app) as c:
        r = c.post("/api/v1/observations", json={"observations": [obs(i) for i in range(4)]}, headers=auth(tok))
    assert r.status_code == 413 and "at most 3" in r.json()["detail"]


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""])
def test_wrong_content_type_is_415(client, tokens, ctype: str) -> None:
    h = auth(tokens["administrator"])
    if ctype:
        h["content-type"] = ctype
    r = client.post("/api/v1/observations", content=json.dumps({"observations": [obs(30)]}), headers=h)
    assert r.status_code == 415


def test_malformed_json_is_422_not_500(client, tokens) -> None:
    h = auth(tokens["administrator"]) | {"content-type": "application/json"}
    for body in (b"{", b"[]", b"{\"observations\": 3}", b"{\"observations\": []}", b"\xff\xfe"):
        r = client.post("/api/v1/observations", content=body, headers=h)
        assert r.status_code == 422, body


def test_pipeline_hook_fuses_and_adjudicates_after_ingest(tmp_path, agreement) -> None:
    """pipeline: trucewatch.service.hooks:process_window turns posted observations into findings."""
    import numpy as np
    from fastapi.testclient import TestClient

    from trucewatch.ledger.keys import generate_source_keys, register_source_keys, sign_observations
    from trucewatch.sim.observe import observe, simulated_sources
    from trucewatch.sim.scenario import make_scenario
    from trucewatch.store import Store

    day = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    sc = make_scenario(agreement, "quiet", 4, day)
    sources = simulated_sources(agreement)
    keys = generate_source_keys(sources, rng=np.random.default_rng(4))
    observations = sign_observations(observe(sc, agreement, 4), keys)
    store = Store.open(tmp_path / "hook.db")
    store.add_sources(sources)
    register_source_keys(store, keys)
    app = create_app(store, agreement, ServiceConfig(pipeline="trucewatch.service.hooks:process_window"))
    tok = app.state.tokens.create("administrator")[0]
    with TestClient(app) as c:
        r = c.post("/api/v1/observations", json={"observations": [o.model_dump(mode="json") for o in observations]},
                   headers=auth(tok))
        assert r.status_code == 200 and r.json()["accepted"] == len(observations), r.text
        found = c.get("/api/v1/violations", params={"limit": 1000}, headers=auth(tok)).json()
    assert found, "the hook ran no fusion/adjudication"
    assert store.list_events()
    evidence = {e["observation_id"] for v in found for e in v["evidence"]}
    assert evidence <= {o.id for o in observations}
