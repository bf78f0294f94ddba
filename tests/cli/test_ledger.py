"""The ledger's commands end to end: keys, signed ingest from a file, checkpoint,
witness cosigning, proofs, export and verification."""

from __future__ import annotations

import base64
import json

from nacl.signing import SigningKey
from typer.testing import CliRunner

from tests.ledger.conftest import make_observations
from trucewatch.cli import app
from trucewatch.ledger import merkle
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import sign_observations
from trucewatch.model import Source
from trucewatch.store import Store

runner = CliRunner()


def run(*args, code=0):
    r = runner.invoke(app, [str(a) for a in args])
    assert r.exit_code == code, r.output
    assert "Traceback" not in r.output
    return r.output


def test_ledger_workflow(tmp_path):
    db = tmp_path / "m.db"
    store = Store.open(db)
    store.add_sources([Source(id=f"src-{i}", kind="monitor_team") for i in range(2)])
    store.close()
    out = json.loads(run("ledger", "init", "--db", db, "--origin", "monitoring.test/ua-ru", "--json"))
    log_vkey = out["vkey"]
    assert log_vkey.startswith("monitoring.test/ua-ru+")
    assert (tmp_path / "m.db.mission-key").stat().st_mode & 0o777 == 0o600
    keys = {}
    for i in range(2):
        kf = tmp_path / f"src-{i}.key"
        run("ledger", "keygen", "--out", kf, "--source", f"src-{i}", "--db", db, "--valid-from", "2026-01-01T00:00:00Z")
        keys[f"src-{i}"] = SigningKey(bytes.fromhex(kf.read_text().strip()))
    run("ledger", "keygen", "--out", tmp_path / "src-0.key", code=2)  # never overwrites a key
    lines = [o.model_dump_json() for o in sign_observations(make_observations(10, sources=2), keys)]
    lines.append(make_observations(1, start=99, sources=2)[0].model_dump_json())  # unsigned
    lines.append('{"id": "broken", "kind": "impact"}')
    (tmp_path / "obs.jsonl").write_text("\n".join(lines) + "\n")
    out = run("ledger", "ingest", "--db", db, "--file", tmp_path / "obs.jsonl", code=1)
    assert "accepted 10" in out and "obs:000099: signature: missing" in out and "line 12:" in out
    note = run("ledger", "checkpoint", "--db", db)
    assert note.startswith("monitoring.test/ua-ru\n12\n")  # 2 key certificates, 10 observations
    # a party's witness
    wv = run("witness", "init", "--state", tmp_path / "w.json", "--key", tmp_path / "w.key",
             "--name", "witness.party-a.test", "--db", db).strip()
    run("ledger", "add-witness", "--db", db, "--vkey", wv)
    out = json.loads(run("witness", "cosign", "--state", tmp_path / "w.json", "--key", tmp_path / "w.key",
                         "--db", db, "--json"))
    assert out["size"] == 12 and out["note"]["cosigners"] == 1
    st = json.loads(run("ledger", "status", "--db", db, "--json"))
    assert st["size"] == 12 and st["checkpoint"]["size"] == 12
    # proofs check against the checkpoint root
    p = json.loads(run("ledger", "prove", "--db", db, "--observation", "obs:000004"))
    root = base64.b64decode(p["root"])
    assert root == base64.b64decode(note.split("\n")[2])
    merkle.verify_inclusion(p["entry"].encode(), p["index"], p["size"], [base64.b64decode(x) for x in p["proof"]],
                            root)
    c = json.loads(run("ledger", "prove", "--db", db, "--old-size", "3"))
    assert c["size"] == 12 and len(c["proof"]) > 0
    run("ledger", "prove", "--db", db, "--index", "12", code=2)
    # key lifecycle
    new = SigningKey.generate()
    run("ledger", "rotate", "--db", db, "--source", "src-0", "--public-key", bytes(new.verify_key).hex())
    run("ledger", "revoke", "--db", db, "--public-key", bytes(new.verify_key).hex(), "--reason", "lost")
    ks = [json.loads(x) for x in run("ledger", "keys", "--db", db, "--source", "src-0").splitlines()]
    assert len(ks) == 2 and ks[-1]["revoke_reason"] == "lost" and ks[0]["valid_to"] is not None
    run("ledger", "revoke", "--db", db, "--public-key", "zz", code=2)
    # the two key certificates are not covered by a checkpoint yet: verify fails until one is signed
    out = run("verify", "--db", db, "--log-key", log_vkey, code=1)
    assert "entry 13 (observation #key-cert/" in out and "not covered by any signed checkpoint" in out
    assert "OK" in run("verify", "--db", db, "--log-key", log_vkey, "--allow-uncovered")
    run("verify", "--db", db, code=1)  # unanchored
    assert "store's own keys" in run("verify", "--db", db, "--allow-unanchored", "--allow-uncovered")
    run("ledger", "checkpoint", "--db", db)
    # export and verify both ways
    run("ledger", "export", "--db", db, "--out", tmp_path / "exp")
    assert "OK: 14 entries (4 key certificates), 10 signatures" in run("verify", "--db", db, "--log-key", log_vkey)
    out = run("verify", "--export", tmp_path / "exp", "--log-key", log_vkey, "--witness-key", wv, "--quorum", "0")
    assert "OK: 14 entries" in out and "1 cosignatures" in out
    out = run("verify", "--export", tmp_path / "exp", "--log-key", log_vkey, "--witness-key", wv, code=1)
    assert "0 of the required 1 witness cosignatures" in out  # the newest checkpoint is not cosigned yet
    # a second witness cosign with no new checkpoint is fine (same size, same root)
    run("witness", "cosign", "--state", tmp_path / "w.json", "--key", tmp_path / "w.key", "--db", db)
    # party B works only from the mirrored export, without database access
    wb = run("witness", "init", "--state", tmp_path / "wb.json", "--key", tmp_path / "wb.key",
             "--name", "witness.party-b.test", "--log-key", log_vkey, "--origin", "monitoring.test/ua-ru").strip()
    run("ledger", "add-witness", "--db", db, "--vkey", wb)
    store = Store.open(db)
    assert len(ingest_signed(store, sign_observations(make_observations(5, start=10, sources=2), keys)).accepted) == 5
    run("ledger", "checkpoint", "--db", db)
    run("ledger", "export", "--db", db, "--out", tmp_path / "exp")
    cosigned = run("witness", "cosign", "--state", tmp_path / "wb.json", "--key", tmp_path / "wb.key",
                   "--export", tmp_path / "exp")
    assert cosigned.startswith("monitoring.test/ua-ru\n19\n") and "witness.party-b.test" in cosigned
    (tmp_path / "cosigned.txt").write_text(cosigned)
    assert run("ledger", "add-cosignature", "--db", db, "--note", tmp_path / "cosigned.txt").strip() == \
        "witness.party-b.test"
    assert json.loads(run("ledger", "status", "--db", db, "--json"))["checkpoint"]["cosigners"] == 1
    run("witness", "cosign", "--state", tmp_path / "w.json", "--key", tmp_path / "w.key", "--db", db)
    assert json.loads(run("ledger", "status", "--db", db, "--json"))["checkpoint"]["cosigners"] == 2
    out = run("verify", "--db", db, "--log-key", log_vkey, "--witness-key", wv, "--witness-key", wb, "--json")
    assert json.loads(out)["ok"] and json.loads(out)["signatures_checked"] == 15 and json.loads(out)["checkpoints"] == 3


def test_commands_fail_cleanly(tmp_path):
    db = tmp_path / "e.db"
    Store.open(db).close()
    assert "ledger init" in run("ledger", "checkpoint", "--db", db, code=2)
    run("ledger", "init", "--db", db, "--origin", "a.test/log")
    run("ledger", "init", "--db", db, "--origin", "b.test/log", "--key", tmp_path / "k2", code=2)
    out = run("ledger", "register-key", "--db", db, "--source", "nobody", "--public-key", "00" * 32, code=2)
    assert "unknown source" in out
    run("ledger", "export", "--db", db, "--out", tmp_path / "x", code=2)
    run("witness", "cosign", "--state", tmp_path / "none.json", "--key", tmp_path / "none.key", "--db", db, code=2)
    run("ledger", "register-key", "--db", db, "--source", "s", "--public-key", "00", "--valid-from", "yesterday",
        code=2)
