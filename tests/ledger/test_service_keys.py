"""Setting a source's key over the API writes a key certificate to the log (and
is refused, not half-done, when the service has no mission key)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from tests.ledger.conftest import CERTS as K
from tests.ledger.conftest import build, make_observations
from trucewatch.ledger.certs import load_certified
from trucewatch.ledger.keys import Keyring, public_key_hex, sign_observation
from trucewatch.ledger.log import MerkleLog
from trucewatch.service.app import create_app
from trucewatch.service.config import ServiceConfig


def _client(f):
    app = create_app(f.store, None, ServiceConfig(require_signatures=True))
    return app, {"Authorization": f"Bearer {app.state.tokens.create('administrator')[0]}"}


def test_put_key_certifies_it_in_the_log(tmp_path):
    f = build(tmp_path / "k.db", n=2)
    app, h = _client(f)
    new = SigningKey.generate()
    with TestClient(app) as c:
        r = c.put("/api/v1/sources/src-0/key", json={"public_key": public_key_hex(new)}, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["public_key"] == public_key_hex(new)
    assert MerkleLog(f.store).size == 2 + K + 1  # one rotation certificate appended
    ring = load_certified(f.store, [f.signer.public]).keyring
    assert public_key_hex(new) in ring.by_key and ring.by_key[public_key_hex(new)].source_id == "src-0"
    assert public_key_hex(new) in Keyring.load(f.store).by_key


def test_put_key_without_mission_key_is_refused(tmp_path, monkeypatch):
    import trucewatch.ledger.api as api

    f = build(tmp_path / "k.db", n=2)
    monkeypatch.setattr(api, "_SIGNERS", {})
    monkeypatch.delenv("TRUCEWATCH_MISSION_KEY", raising=False)
    app, h = _client(f)
    size = MerkleLog(f.store).size
    with TestClient(app) as c:
        r = c.put("/api/v1/sources/src-0/key", json={"public_key": public_key_hex(SigningKey.generate())}, headers=h)
        assert r.status_code == 409 and "mission" in r.json()["detail"]
        # a key put only into the table is not trusted by ingest
        forged = SigningKey.generate()
        f.store.add_sources([f.store.get_source("src-0").model_copy(update={"public_key": public_key_hex(forged)})])
        o = sign_observation(make_observations(1, start=50, sources=1)[0], forged)
        r = c.post("/api/v1/observations", json={"observations": [o.model_dump(mode="json")]}, headers=h)
        assert r.json()["accepted"] == 0 and r.json()["errors"][0]["record"] == o.id
    assert MerkleLog(f.store).size == size
