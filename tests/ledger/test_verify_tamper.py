"""Tampering with the SQLite store or an export makes `trucewatch verify` exit
non-zero and name the entry; an untouched store and export verify."""

from __future__ import annotations

import base64
import json
import sqlite3

import pytest
from nacl.signing import SigningKey
from typer.testing import CliRunner

from tests.ledger.conftest import CERTS as K
from tests.ledger.conftest import graft_forged_tree
from trucewatch.cli import app
from trucewatch.ledger.canonical import signing_message
from trucewatch.ledger.export import export_log, tile_path
from trucewatch.ledger.verify import verify_export, verify_store

runner = CliRunner()


def _verify(*args):
    r = runner.invoke(app, ["verify", *args])
    return r.exit_code, r.output


def _sql(path, *stmts):
    con = sqlite3.connect(path)
    for s, *p in stmts:
        con.execute(s, *p)
    con.commit()
    con.close()


def test_untouched_store_verifies(ledger):
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 0, out
    assert f"OK: {40 + K} entries ({K} key certificates), 40 signatures, 1 checkpoints" in out
    rep = verify_store(ledger.store, log_keys=[ledger.signer.vkey()])
    assert rep.ok and rep.size == 40 + K


def test_changed_evidence_named(ledger):
    _sql(ledger.path, ("UPDATE observations SET lat = lat + 0.01 WHERE id = 'obs:000007'",))
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1
    assert f"entry {7 + K} (observation obs:000007)" in out
    assert "signature does not verify" in out and "differs from the logged entry" in out
    r = runner.invoke(app, ["ledger", "export", "--db", str(ledger.path), "--out", str(ledger.path.parent / "x")])
    assert r.exit_code == 2 and f"entry {7 + K} (observation obs:000007)" in r.output  # never publishes changed evidence


def test_changed_attribute_json_named(ledger):
    _sql(ledger.path, ("UPDATE observations SET attributes = json_set(attributes, '$.weapon', 'mlrs') "
                       "WHERE id = 'obs:000012'",))
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1 and f"entry {12 + K} (observation obs:000012)" in out


def test_deleted_entry_named(ledger):
    _sql(ledger.path, ("DELETE FROM obs_rtree WHERE id = (SELECT seq FROM observations WHERE id = 'obs:000020')",),
         ("DELETE FROM observations WHERE id = 'obs:000020'",))
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1 and f"entry {20 + K} (observation obs:000020): observation is missing from the store" in out


def test_deleted_log_row_named(ledger):
    _sql(ledger.path, (f"DELETE FROM ledger_leaves WHERE idx = {15 + K}",))
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1 and f"entry {15 + K}: missing from the log's entry table" in out


def test_reordered_entries_named(ledger):
    _sql(ledger.path, ("UPDATE observations SET ledger_index = 99 WHERE id = 'obs:000003'",),
         (f"UPDATE observations SET ledger_index = {3 + K} WHERE id = 'obs:000004'",),
         (f"UPDATE observations SET ledger_index = {4 + K} WHERE id = 'obs:000003'",))
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1
    assert f"entry {3 + K} (observation obs:000003)" in out and f"entry {4 + K} (observation obs:000004)" in out


def test_reordered_log_rows_named(ledger):
    _sql(ledger.path, (f"UPDATE ledger_leaves SET observation_id = 'tmp' WHERE idx = {5 + K}",),
         (f"UPDATE ledger_leaves SET observation_id = 'obs:000005' WHERE idx = {6 + K}",),
         (f"UPDATE ledger_leaves SET observation_id = 'obs:000006' WHERE idx = {5 + K}",))
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1 and f"entry {5 + K} (observation obs:000006)" in out and f"entry {6 + K} (observation obs:000005)" in out


def test_forged_signature_named(ledger):
    """An attacker re-signs changed evidence with a key of their own."""
    o = ledger.store.get_observations(["obs:000009"])[0]
    changed = o.model_copy(update={"attributes": {**o.attributes, "n_sensors": 1}})
    forged = base64.b64encode(SigningKey.generate().sign(signing_message(changed)).signature).decode()
    _sql(ledger.path, ("UPDATE observations SET attributes = ?, signature = ? WHERE id = 'obs:000009'",
                       (json.dumps(changed.attributes), forged)))
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1 and f"entry {9 + K} (observation obs:000009): signature does not verify" in out


def test_stored_leaf_hash_changed_named(ledger):
    _sql(ledger.path, (f"UPDATE ledger_nodes SET hash = zeroblob(32) WHERE nid = {K}",))
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1 and f"entry {K} (observation obs:000000): stored evidence differs" in out


def test_consistent_rewrite_with_stolen_key_caught_by_checkpoint(ledger, tmp_path):
    """Evidence changed, re-signed with the source's stolen key, and the whole tree
    and state rebuilt: only the mission-signed checkpoint still holds the old root."""
    from trucewatch.ledger.api import entry_for, rebuild_entries
    from trucewatch.ledger.keys import sign_observation
    from trucewatch.ledger.log import LogEntry, MerkleLog
    from trucewatch.store import Store

    log = MerkleLog(ledger.store)
    rows = list(log.leaves())
    kept = {i: e for i, _, _, o, e in rebuild_entries(ledger.store, rows) if o is None}  # key certificates
    obs = {o.id: o for o in ledger.store.get_observations([r[1] for r in rows])}
    victim = obs["obs:000011"]
    changed = sign_observation(victim.model_copy(update={"attributes": {**victim.attributes, "pair_id": "none"}}),
                               ledger.keys[victim.source_id])
    obs[victim.id] = changed
    forged = MerkleLog(Store.open(tmp_path / "forged.db"))
    forged.append([LogEntry(oid, kept[i] if i in kept else entry_for(obs[oid], key), key) for i, oid, key in rows])
    _sql(ledger.path, ("UPDATE observations SET attributes = ?, signature = ? WHERE id = ?",
                       (json.dumps(changed.attributes), changed.signature, victim.id)))
    graft_forged_tree(ledger.path, tmp_path / "forged.db")
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1
    assert f"checkpoint #1 (size {40 + K}): the stored entries do not hash to the signed root" in out
    assert "history was rewritten" in out


def test_checkpoint_with_bad_signature_or_unknown_key(ledger):
    con = sqlite3.connect(ledger.path)
    note = con.execute("SELECT note FROM ledger_checkpoints").fetchone()[0]
    con.close()
    _sql(ledger.path, ("UPDATE ledger_checkpoints SET note = ?", (note.replace(f"\n{40 + K}\n", f"\n{39 + K}\n"),)))
    code, out = _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())
    assert code == 1 and "checkpoint #1" in out and "does not verify" in out
    _sql(ledger.path, ("UPDATE ledger_checkpoints SET note = ?", (note,)))
    assert _verify("--db", str(ledger.path), "--log-key", ledger.signer.vkey())[0] == 0
    from trucewatch.ledger.checkpoint import NoteSigner

    stranger = NoteSigner.generate("someone.else/log").vkey()
    code, out = _verify("--db", str(ledger.path), "--log-key", stranger)
    assert code == 1 and "unknown keys" in out


def test_export_verifies_and_tamper_named(ledger, tmp_path):
    out_dir = tmp_path / "export"
    res = runner.invoke(app, ["ledger", "export", "--db", str(ledger.path), "--out", str(out_dir)])
    assert res.exit_code == 0, res.output
    assert (out_dir / "checkpoint").read_text().startswith(f"trucewatch.test/ua-ru-2026\n{40 + K}\n")
    assert (out_dir / tile_path(0, 0, 40 + K)).stat().st_size == (40 + K) * 32
    code, out = _verify("--export", str(out_dir), "--log-key", ledger.signer.vkey())
    assert code == 0, out
    bundle = out_dir / tile_path("entries", 0, 40 + K)
    data = bundle.read_bytes()
    # change one byte inside entry 2's observation
    pos = 0
    for _ in range(2 + K):
        pos += 2 + int.from_bytes(data[pos:pos + 2], "big")
    k = data.index(b'"lat":', pos) + 8
    bundle.write_bytes(data[:k] + bytes([data[k] ^ 1]) + data[k + 1:])
    code, out = _verify("--export", str(out_dir), "--log-key", ledger.signer.vkey())
    assert code == 1 and f"entry {2 + K}" in out
    bundle.write_bytes(data[: len(data) - 30])  # a mirror cut mid-write
    rep = verify_export(out_dir, log_keys=[ledger.signer.vkey()])
    assert not rep.ok and "cut mid-write" in str(rep.problems[-1])


def test_export_is_incremental_and_mirrors_full_tiles(tmp_path):
    from tests.ledger.conftest import build, make_observations
    from trucewatch.ledger.api import make_checkpoint
    from trucewatch.ledger.ingest import ingest_signed
    from trucewatch.ledger.keys import sign_observations

    f = build(tmp_path / "big.db", n=300)
    d = tmp_path / "exp"
    export_log(f.store, d)
    full = d / tile_path(0, 0)
    assert full.stat().st_size == 256 * 32 and (d / tile_path(0, 1, 44 + K)).exists()
    assert (d / tile_path(1, 0, 1)).stat().st_size == 32
    mtime = full.stat().st_mtime_ns
    ingest_signed(f.store, sign_observations(make_observations(20, start=300), f.keys))
    make_checkpoint(f.store, f.signer)
    export_log(f.store, d)
    assert full.stat().st_mtime_ns == mtime  # immutable tiles are not rewritten
    rep = verify_export(d, log_keys=[f.signer.vkey()])
    assert rep.ok, rep.problems
    assert rep.size == 320 + K and rep.checkpoints == 2


@pytest.mark.parametrize("args", [["--db", "/nonexistent/x.db"], [], ["--export", "/nonexistent"]])
def test_verify_bad_arguments_are_clear(args):
    code, out = _verify(*args)
    assert code == 2 and "error:" in out and "Traceback" not in out


def test_verify_on_a_cut_database_file(tmp_path):
    from tests.ledger.conftest import build

    f = build(tmp_path / "cut.db", n=400)
    f.store.close()
    with sqlite3.connect(tmp_path / "cut.db") as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = (tmp_path / "cut.db").read_bytes()
    (tmp_path / "cut.db").write_bytes(data[: len(data) * 2 // 3])
    code, out = _verify("--db", str(tmp_path / "cut.db"))
    assert code != 0 and "Traceback" not in out
    assert "malformed" in out or "damaged" in out, out
