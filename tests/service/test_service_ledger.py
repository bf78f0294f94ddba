"""Signed ingest through the API into the ledger; proofs in the evidence view verify,
and stop verifying when a stored observation is altered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import update

from trucewatch.ledger import api as ledger_api
from trucewatch.ledger.checkpoint import NoteSigner
from trucewatch.ledger.keys import generate_source_keys, register_source_keys, sign_observations
from trucewatch.model import Evidence, Location, Observation, ObservationKind, Rule, Violation
from trucewatch.service.app import create_app
from trucewatch.service.config import ServiceConfig
from trucewatch.store import schema as S


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


def test_signed_ingest_proofs_and_checkpoint(store, agreement) -> None:
    keys = generate_source_keys(["team-alpha"], np.random.default_rng(5))
    register_source_keys(store, keys)
    t = datetime.now(UTC) - timedelta(hours=2)
    raw = [Observation(id=f"signed-{i}", source_id="team-alpha", kind=ObservationKind.REPORT_CLAIM, time=t,
                       location=Location(lat=48.1, lon=37.9, err_major_m=400, err_minor_m=300),
                       attributes={"event_type": "shelling"}) for i in range(3)]
    signed = sign_observations(raw, keys)
    app = create_app(store, agreement, ServiceConfig(require_signatures=True))
    admin = app.state.tokens.create("administrator")[0]
    liaison = app.state.tokens.create("liaison", party="UA")[0]
    body = [o.model_dump(mode="json") for o in signed] + [raw[0].model_copy(update={"id": "unsigned-1"})
                                                          .model_dump(mode="json")]
    with TestClient(app) as c:
        assert c.get("/api/v1/ledger/checkpoint", headers=auth(admin)).status_code == 404  # none signed yet
        r = c.post("/api/v1/observations", json={"observations": body}, headers=auth(admin))
        assert r.status_code == 200, r.text
        rep = r.json()
        assert rep["accepted"] == 3
        assert [e["record"] for e in rep["errors"]] == ["unsigned-1"] and rep["errors"][0]["field"] == "signature"
        signer = NoteSigner.generate("trucewatch.test/log")
        ledger_api.init_log(store, "trucewatch.test/log", signer)
        cp = ledger_api.make_checkpoint(store, signer)
        got = c.get("/api/v1/ledger/checkpoint", headers=auth(liaison)).json()
        assert got["size"] == cp["size"] == 4 and got["root"] == cp["root"]  # 1 key certificate + 3 observations

        v = Violation(id="v-signed", event_id="e-signed", rule=Rule.FIRE_ACROSS_LINE, party="UA", confidence=0.9,
                      time=t, location=Location(lat=48.1, lon=37.9),
                      evidence=[Evidence(observation_id=o.id, source_id=o.source_id, kind=o.kind) for o in signed])
        store.save_violations([v])
        ev = c.get("/api/v1/violations/v-signed/evidence", headers=auth(admin)).json()
        proofs = [it["ledger"] for it in ev["items"]]
        assert all(p["in_ledger"] and p["verified"] and p["signed_checkpoint"] for p in proofs), proofs
        assert all(p["root"] == cp["root"] for p in proofs)
        # the liaison sees the proofs too (monitor identity withheld, proof intact)
        ev = c.get("/api/v1/violations/v-signed/evidence", headers=auth(liaison)).json()
        assert all(it["ledger"]["verified"] for it in ev["items"])

        # tamper with what the store holds: the proof must stop verifying
        with store.engine.begin() as conn:
            conn.execute(update(S.observations).where(S.observations.c.id == "signed-1").values(lat=48.2))
        ev = c.get("/api/v1/violations/v-signed/evidence", headers=auth(admin)).json()
        by_id = {it["evidence"]["observation_id"]: it["ledger"] for it in ev["items"]}
        assert by_id["signed-0"]["verified"] and by_id["signed-2"]["verified"]
        assert by_id["signed-1"]["verified"] is False and "error" in by_id["signed-1"]
        r = c.get("/api/v1/ledger/proofs/signed-1", headers=auth(admin)).json()
        assert r["verified"] is False
        r = c.get("/api/v1/ledger/proofs/nope", headers=auth(admin)).json()
        assert r == {"observation_id": "nope", "in_ledger": False, "verified": False}
