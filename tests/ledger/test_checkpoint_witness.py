"""C2SP checkpoints and cosignatures, and the witness's refusal of forks and rollbacks."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from nacl.signing import SigningKey

from tests.ledger.conftest import CERTS as K
from tests.ledger.conftest import ORIGIN, build, make_observations
from trucewatch.ledger.api import add_cosignature, add_witness, latest_checkpoint, make_checkpoint
from trucewatch.ledger.checkpoint import (
    ALG_COSIGNATURE_V1,
    BadNoteSignatureError,
    Checkpoint,
    MalformedNoteError,
    NoteSigner,
    NoteVerifier,
    UnknownKeyError,
    add_signature_lines,
    cosign,
    cosigned_message,
    open_checkpoint,
    sign_checkpoint,
    verify_cosignatures,
)
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import sign_observations
from trucewatch.ledger.log import MerkleLog
from trucewatch.ledger.witness import Witness, WitnessError, WitnessRefusal

ROOT = hashlib.sha256(b"r").digest()


def test_note_format_is_c2sp():
    signer = NoteSigner(ORIGIN, SigningKey(b"\5" * 32))
    note = sign_checkpoint(Checkpoint(ORIGIN, 1234, ROOT), signer)
    body, _, sig = note.partition("\n\n")
    assert body.split("\n") == [ORIGIN, "1234", base64.b64encode(ROOT).decode()]
    assert sig.startswith("\u2014 " + ORIGIN + " ") and sig.endswith("\n")
    blob = base64.b64decode(sig.split(" ")[2])
    # key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]; signature over the body
    pub = bytes(signer.key.verify_key)
    assert blob[:4] == hashlib.sha256(ORIGIN.encode() + b"\n\x01" + pub).digest()[:4]
    signer.key.verify_key.verify((body + "\n").encode(), blob[4:])
    vkey = signer.vkey()
    assert vkey.split("+", 2)[2] == base64.b64encode(b"\x01" + pub).decode()
    assert NoteSigner.from_private_key_string(signer.private_key_string()).vkey() == vkey
    cp = open_checkpoint(note, [NoteVerifier.from_vkey(vkey)])
    assert (cp.origin, cp.size, cp.root) == (ORIGIN, 1234, ROOT)


def test_bad_notes_rejected():
    signer = NoteSigner.generate(ORIGIN)
    other = NoteSigner.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 10, ROOT), signer)
    v = [signer.verifier()]
    with pytest.raises(UnknownKeyError):
        open_checkpoint(note, [other.verifier()])
    # same name, same key ID, wrong signature bytes
    lines = note.split("\n")
    blob = bytearray(base64.b64decode(lines[-2].split(" ")[2]))
    blob[10] ^= 1
    lines[-2] = f"\u2014 {ORIGIN} {base64.b64encode(bytes(blob)).decode()}"
    with pytest.raises(BadNoteSignatureError):
        open_checkpoint("\n".join(lines), v)
    forged = note.replace("\n10\n", "\n11\n")
    with pytest.raises(BadNoteSignatureError):
        open_checkpoint(forged, v)
    with pytest.raises(MalformedNoteError):
        open_checkpoint(note[:-5], v)  # cut mid-write
    with pytest.raises(MalformedNoteError):
        open_checkpoint(note.replace("\n10\n", "\n010\n"), v)
    with pytest.raises(MalformedNoteError):
        open_checkpoint(f"{ORIGIN}\n10\n\n\u2014 x AAAAAAA=\n", v)
    with pytest.raises(UnknownKeyError):
        open_checkpoint(note, v, origin="someone.else/log")
    with pytest.raises(MalformedNoteError):
        NoteVerifier.from_vkey(signer.vkey().replace("+", "+00", 1))


def test_cosignature_v1():
    signer = NoteSigner.generate(ORIGIN)
    w = NoteSigner("witness.party-a.example", SigningKey(b"\7" * 32), ALG_COSIGNATURE_V1)
    note = sign_checkpoint(Checkpoint(ORIGIN, 5, ROOT), signer)
    line = cosign(note, w, 1679315147)
    blob = base64.b64decode(line.split(" ")[2])
    assert blob[:4] == hashlib.sha256(b"witness.party-a.example\n\x04" + bytes(w.key.verify_key)).digest()[:4]
    assert int.from_bytes(blob[4:12], "big") == 1679315147
    body = note.partition("\n\n")[0] + "\n"
    assert cosigned_message(body, 1679315147).startswith(b"cosignature/v1\ntime 1679315147\n" + ORIGIN.encode())
    w.key.verify_key.verify(cosigned_message(body, 1679315147), blob[12:])
    full = add_signature_lines(note, [line])
    assert verify_cosignatures(full, [w.verifier()]) == {"witness.party-a.example": 1679315147}
    open_checkpoint(full, [signer.verifier()])  # extra signature lines do not disturb the log signature
    bad = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
    with pytest.raises((BadNoteSignatureError, MalformedNoteError)):
        verify_cosignatures(add_signature_lines(note, [bad]), [w.verifier()])


def test_witness_cosigns_only_consistent_histories(tmp_path):
    f = build(tmp_path / "a.db", n=30)
    log = MerkleLog(f.store)
    wkey = NoteSigner.generate("witness.party-a.example", ALG_COSIGNATURE_V1)
    add_witness(f.store, wkey.vkey())
    w = Witness.init(tmp_path / "wa.json", wkey, f.signer.vkey(), ORIGIN)
    cp1 = log.checkpoints()[-1]
    line = w.cosign(cp1["note"], log.consistency_proof(0, 30 + K))
    add_cosignature(f.store, cp1["seq"], line)
    assert latest_checkpoint(f.store)["cosigners"] == 1
    # the log grows; the witness checks the consistency proof from 30 (+ K key certificates)
    ingest_signed(f.store, sign_observations(make_observations(20, start=30), f.keys))
    cp2 = make_checkpoint(f.store, f.signer)
    w = Witness(tmp_path / "wa.json", wkey)  # state survives restarts
    assert w.state.size == 30 + K
    w.cosign(cp2["note"], log.consistency_proof(30 + K, 50 + K))
    assert w.state.size == 50 + K
    # the mission shows this party a different history: same key, entries 30.. differ (other locations)
    fork = build(tmp_path / "b.db", n=60, checkpoint=False)
    fork.store.close()
    from trucewatch.ledger.api import init_log
    from trucewatch.store import Store

    fs = Store.open(tmp_path / "b.db")
    init_log(fs, ORIGIN, f.signer)
    forked_cp = make_checkpoint(fs, f.signer)
    with pytest.raises(WitnessRefusal, match="fork"):
        w.cosign(forked_cp["note"], MerkleLog(fs).consistency_proof(50 + K, 60 + K))
    assert w.state.size == 50 + K  # nothing remembered from the refused checkpoint
    # rollback to an older checkpoint
    with pytest.raises(WitnessRefusal, match="rollback"):
        w.cosign(cp1["note"], [])
    # a checkpoint by a key the witness does not pin
    stranger = NoteSigner.generate(ORIGIN)
    with pytest.raises(WitnessRefusal, match="unknown"):
        w.cosign(sign_checkpoint(Checkpoint(ORIGIN, 50 + K, log.root_at(50 + K)), stranger), [])
    # a truncated proof
    ingest_signed(f.store, sign_observations(make_observations(5, start=50), f.keys))
    cp3 = make_checkpoint(f.store, f.signer)
    with pytest.raises(WitnessRefusal):
        w.cosign(cp3["note"], log.consistency_proof(50 + K, 55 + K)[:-1])
    w.cosign(cp3["note"], log.consistency_proof(50 + K, 55 + K))


def test_witness_state_damage_is_refused(tmp_path):
    wkey = NoteSigner.generate("w.example", ALG_COSIGNATURE_V1)
    Witness.init(tmp_path / "w.json", wkey, NoteSigner.generate(ORIGIN).vkey(), ORIGIN)
    with pytest.raises(WitnessError, match="exists"):
        Witness.init(tmp_path / "w.json", wkey, NoteSigner.generate(ORIGIN).vkey(), ORIGIN)
    text = (tmp_path / "w.json").read_text()
    (tmp_path / "w.json").write_text(text[: len(text) // 2])
    with pytest.raises(WitnessError, match="damaged"):
        Witness(tmp_path / "w.json", wkey)
    d = json.loads(text)
    d["root"] = "AAAA"
    (tmp_path / "w.json").write_text(json.dumps(d))
    with pytest.raises(WitnessError, match="damaged"):
        Witness(tmp_path / "w.json", wkey)


def test_latest_checkpoint_for_reports(ledger):
    cp = latest_checkpoint(ledger.store)
    assert cp["size"] == 40 + K
    assert cp["root"] == MerkleLog(ledger.store).root_at(40 + K).hex()
    assert open_checkpoint(cp["note"], [ledger.signer.verifier()]).root.hex() == cp["root"]


def test_demo_sequence_from_package_api(tmp_path):
    import numpy as np

    from trucewatch.ledger import (
        ensure_log,
        generate_source_keys,
        ingest_signed,
        latest_checkpoint,
        make_checkpoint,
        register_source_keys,
        sign_observations,
    )
    from trucewatch.ledger.verify import verify_store
    from trucewatch.model import Source
    from trucewatch.store import Store

    store = Store.open(tmp_path / "demo.db")
    srcs = [Source(id=f"src-{i}", kind="drone") for i in range(3)]
    store.add_sources(srcs)
    keys = generate_source_keys(srcs, np.random.default_rng(5))
    assert keys["src-0"].encode() == generate_source_keys(srcs, np.random.default_rng(5))["src-0"].encode()
    signer = ensure_log(store, ORIGIN, tmp_path / "mission.key")
    assert ensure_log(store, ORIGIN, tmp_path / "mission.key").vkey() == signer.vkey()  # reloaded, not replaced
    register_source_keys(store, keys)  # certified by the mission key this process registered
    assert not ingest_signed(store, sign_observations(make_observations(12), keys)).errors
    assert latest_checkpoint(store) is None
    make_checkpoint(store, signer)
    cp = latest_checkpoint(store)
    assert cp["size"] == 15 and len(bytes.fromhex(cp["root"])) == 32 and cp["note"].startswith(ORIGIN + "\n15\n")
    assert verify_store(store, log_keys=[signer.vkey()]).ok
    assert not verify_store(store).ok  # unanchored
    store.close()
