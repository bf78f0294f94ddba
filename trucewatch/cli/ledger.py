"""``trucewatch ledger ...`` plus the top-level ``trucewatch verify`` and ``trucewatch witness``.

Errors print one line naming what is wrong and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from nacl.signing import SigningKey
from pydantic import ValidationError

from trucewatch.ledger import merkle
from trucewatch.ledger.api import (
    add_cosignature,
    add_witness,
    entry_for,
    import_cosigned_note,
    init_log,
    latest_checkpoint,
    log_origin,
    log_verifiers,
    make_checkpoint,
    reconcile,
)
from trucewatch.ledger.certs import certify_table_keys
from trucewatch.ledger.checkpoint import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    add_signature_lines,
)
from trucewatch.ledger.export import export_consistency_proof, export_log
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import list_keys, public_key_hex, register_key, revoke_key, rotate_key
from trucewatch.ledger.log import LogError, MerkleLog
from trucewatch.ledger.trust import Trust, load_trust
from trucewatch.ledger.verify import verify_export, verify_store
from trucewatch.ledger.witness import Witness, WitnessError, WitnessRefusal, WitnessStateChanged, _write_atomic
from trucewatch.model import Observation, to_utc
from trucewatch.store import DatabaseError, Store
from trucewatch.store.store import RecordError

app = typer.Typer(help="Evidence ledger: source keys, signed ingest, Merkle log, checkpoints, export, proofs.",
                  no_args_is_help=True)
witness_app = typer.Typer(help="A party's witness: cosign checkpoints consistent with the last one cosigned.",
                          no_args_is_help=True)

F = TypeVar("F", bound=Callable[..., Any])

DB = typer.Option(..., "--db", help="Store: SQLite path or database URL.")
JSON = typer.Option(False, "--json", help="Print JSON.")
MISSION_KEY = typer.Option(None, "--key", help="Mission key file that certifies the change (default: "
                           "$TRUCEWATCH_MISSION_KEY or <db>.mission-key).")


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _guard(fn: F) -> F:
    """Turn the ledger's own errors into one-line messages."""

    @wraps(fn)
    def inner(*a: Any, **k: Any) -> Any:
        try:
            return fn(*a, **k)
        except (typer.Exit, typer.Abort):
            raise
        except (ValueError, LogError, WitnessError, KeyError, OSError) as exc:
            _fail(str(exc).strip("'\""))
        except DatabaseError as exc:
            _fail(f"database error: {exc.orig}")

    return inner  # type: ignore[return-value]


def _open(db: str) -> Any:
    if "://" not in db and not Path(db).exists():
        _fail(f"{db}: no such database")
    return Store.open(db)


def _time(v: str | None) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except ValueError:
        pass
    try:
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"time {v!r}: give ISO 8601 (2026-11-23T12:00:00Z) or unix seconds") from None

    return to_utc(d).timestamp()


def _mission_key_path(db: str, key: str | None) -> Path:
    if key:
        return Path(key)
    if os.environ.get("TRUCEWATCH_MISSION_KEY"):
        return Path(os.environ["TRUCEWATCH_MISSION_KEY"])
    if "://" in db:
        _fail("give --key (or TRUCEWATCH_MISSION_KEY) for a database URL")
    return Path(db + ".mission-key")


def _load_signer(path: Path) -> Any:
    if not path.exists():
        _fail(f"{path}: no key file (run `trucewatch ledger init` / `witness init`, or give --key)")
    return NoteSigner.from_private_key_string(path.read_text())


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def _out(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, default=str) if as_json else text)


# ------------------------------------------------------------------ ledger
@app.command("init")
@_guard
def init_cmd(db: str = DB, origin: str = typer.Option(..., "--origin", help="Log origin line, e.g. "
                                                      "monitoring.example.org/ua-ru-2026"),
             key: str = typer.Option(None, "--key", help="Mission key file (default: <db>.mission-key); "
                                                         "created if missing."),
             as_json: bool = JSON) -> None:
    """Create the mission's checkpoint key (C2SP note key) and register it for the log."""
    path = _mission_key_path(db, key)
    if path.exists():
        signer = _load_signer(path)
    else:
        signer = NoteSigner.generate(origin)
        _write_secret(path, signer.private_key_string())
    vkey = init_log(Store.open(db), origin, signer)
    _out({"origin": origin, "vkey": vkey, "key_file": str(path)}, as_json, f"log key {vkey}\nprivate key in {path}")


@app.command("keygen")
@_guard
def keygen_cmd(out: Path = typer.Option(..., "--out", help="Private key file to create (hex seed, mode 0600)."),
               source: str = typer.Option(None, "--source", help="Register the key for this source..."),
               db: str = typer.Option(None, "--db", help="...in this store."),
               valid_from: str = typer.Option(None, "--valid-from", help="ISO time or unix s (default now)."),
               key: str = MISSION_KEY, as_json: bool = JSON) -> None:
    """Generate an Ed25519 source key; print its public key (hex)."""
    if out.exists():
        _fail(f"{out} exists; refusing to overwrite a key")
    sk = SigningKey.generate()
    _write_secret(out, bytes(sk).hex())
    pk = public_key_hex(sk)
    if source and db:
        register_key(_open(db), source, pk, valid_from=_time(valid_from),
                     signer=_load_signer(_mission_key_path(db, key)))
    _out({"public_key": pk, "key_file": str(out), "registered": bool(source and db)}, as_json, pk)


@app.command("register-key")
@_guard
def register_cmd(db: str = DB, source: str = typer.Option(..., "--source"),
                 public_key: str = typer.Option(..., "--public-key", help="Ed25519 public key, hex."),
                 valid_from: str = typer.Option(None, "--valid-from", help="ISO time or unix s (default now)."),
                 valid_to: str = typer.Option(None, "--valid-to"), key: str = MISSION_KEY) -> None:
    """Register a source's public key with its validity window (a certificate signed by the mission, logged)."""
    k = register_key(_open(db), source, public_key, valid_from=_time(valid_from), valid_to=_time(valid_to),
                     signer=_load_signer(_mission_key_path(db, key)))
    typer.echo(json.dumps(k.as_dict()))


@app.command("rotate")
@_guard
def rotate_cmd(db: str = DB, source: str = typer.Option(..., "--source"),
               public_key: str = typer.Option(..., "--public-key", help="The new key, hex."),
               at: str = typer.Option(None, "--at", help="Switch-over time (default now)."),
               key: str = MISSION_KEY) -> None:
    """Close the source's current key window and register the new key from then (certified, logged)."""
    signer = _load_signer(_mission_key_path(db, key))
    typer.echo(json.dumps(rotate_key(_open(db), source, public_key, at=_time(at), signer=signer).as_dict()))


@app.command("revoke")
@_guard
def revoke_cmd(db: str = DB, public_key: str = typer.Option(..., "--public-key"),
               at: str = typer.Option(None, "--at", help="Compromised since (default now)."),
               reason: str = typer.Option("", "--reason"), key: str = MISSION_KEY) -> None:
    """Revoke a compromised key: nothing it signs is accepted any more (certified, logged)."""
    signer = _load_signer(_mission_key_path(db, key))
    typer.echo(json.dumps(revoke_key(_open(db), public_key, at=_time(at), reason=reason, signer=signer).as_dict()))


@app.command("certify-keys")
@_guard
def certify_keys_cmd(db: str = DB, key: str = MISSION_KEY) -> None:
    """Certify keys found only in the key table (stores from before key certificates): review them first!"""
    for k in certify_table_keys(_open(db), _load_signer(_mission_key_path(db, key))):
        typer.echo(json.dumps(k.as_dict()))


@app.command("keys")
@_guard
def keys_cmd(db: str = DB, source: str = typer.Option(None, "--source")) -> None:
    """List registered source keys (JSON lines)."""
    for k in list_keys(_open(db), source):
        typer.echo(json.dumps(k.as_dict()))


@app.command("ingest")
@_guard
def ingest_cmd(db: str = DB, file: Path = typer.Option(..., "--file", help="Observations, one JSON per line."),
               as_json: bool = JSON) -> None:
    """Verify, store and log signed observations; every rejected one is named with the reason."""
    store = _open(db)
    obs, bad = [], []
    with open(file, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obs.append(Observation.model_validate_json(line))
            except ValidationError as exc:
                e = exc.errors()[0]
                bad.append(RecordError(f"line {n}", ".".join(str(x) for x in e["loc"]) or "-", e["msg"]))
    rep = ingest_signed(store, obs)
    rep.errors = bad + rep.errors
    d = rep.as_dict()
    _out(d, as_json, f"accepted {d['accepted']}, duplicates {d['duplicates']}, rejected {len(rep.errors)}"
         + "".join(f"\n  {e}" for e in rep.errors))
    if rep.errors:
        raise typer.Exit(1)


@app.command("checkpoint")
@_guard
def checkpoint_cmd(db: str = DB, key: str = typer.Option(None, "--key", help="Mission key file."),
                   as_json: bool = JSON) -> None:
    """Sign the current tree head with the mission key and store it."""
    store = _open(db)
    cp = make_checkpoint(store, _load_signer(_mission_key_path(db, key)))
    assert cp is not None  # None only with skip_if_unchanged
    _out(cp, as_json, cp["note"].rstrip("\n"))


@app.command("status")
@_guard
def status_cmd(db: str = DB, as_json: bool = JSON) -> None:
    """Log size, root and latest checkpoint."""
    store = _open(db)
    size, root = MerkleLog(store).check()
    cp = latest_checkpoint(store)
    d = {"size": size, "root": root.hex(), "checkpoint": cp}
    _out(d, as_json, f"size {size}\nroot {root.hex()}\n"
         + (f"checkpoint #{cp['seq']} size {cp['size']} cosigners {cp['cosigners']}" if cp else "no checkpoint"))


@app.command("export")
@_guard
def export_cmd(db: str = DB, out: Path = typer.Option(..., "--out", help="Export directory (tlog-tiles)."),
               as_json: bool = JSON) -> None:
    """Write a static, mirrorable export of the log up to the latest checkpoint."""
    d = export_log(_open(db), out)
    _out(d, as_json, f"exported {d['size']} entries to {d['dir']} ({d['files_written']} tiles written)")


@app.command("prove")
@_guard
def prove_cmd(db: str = DB, index: int = typer.Option(None, "--index", help="Log index of an entry."),
              observation: str = typer.Option(None, "--observation", help="...or an observation id."),
              size: int = typer.Option(None, "--size", help="Tree size (default: latest checkpoint)."),
              old_size: int = typer.Option(None, "--old-size", help="Consistency proof from this size instead.")
              ) -> None:
    """Inclusion proof of an entry (or a consistency proof) as JSON; checked before printing."""
    store = _open(db)
    log = MerkleLog(store)
    cp = latest_checkpoint(store)
    if size is None:
        size = cp["size"] if cp else log.size
    root = log.root_at(size)
    b64 = base64.b64encode
    if old_size is not None:
        proof = log.consistency_proof(old_size, size)
        merkle.verify_consistency(old_size, size, log.root_at(old_size), root, proof)
        typer.echo(json.dumps({"old_size": old_size, "size": size, "old_root": b64(log.root_at(old_size)).decode(),
                               "root": b64(root).decode(), "proof": [b64(p).decode() for p in proof]}))
        return
    if index is None:
        if observation is None:
            _fail("give --index or --observation")
        found = log.index_of([observation])
        if observation not in found:
            _fail(f"observation {observation} is not in the log")
        index = found[observation]
    rows = list(log.leaves(index, index + 1))
    if not rows:
        _fail(f"index {index} is not in the log (size {log.size})")
    _, oid, key = rows[0]
    obs = store.get_observations([oid])
    if not obs:
        _fail(f"entry {index}: observation {oid} is missing from the store")
    entry = entry_for(obs[0], key)
    proof = log.inclusion_proof(index, size)
    merkle.verify_inclusion(entry, index, size, proof, root)
    typer.echo(json.dumps({"index": index, "size": size, "observation_id": oid, "entry": entry.decode(),
                           "root": b64(root).decode(), "proof": [b64(p).decode() for p in proof],
                           "checkpoint": cp["note"] if cp and cp["size"] == size else None}))


@app.command("reconcile")
@_guard
def reconcile_cmd(db: str = DB) -> None:
    """Log stored-but-unlogged observations and write missing ledger indexes (after a crash)."""
    typer.echo(json.dumps(reconcile(_open(db))))


@app.command("add-witness")
@_guard
def add_witness_cmd(db: str = DB, vkey: str = typer.Option(..., "--vkey", help="Witness vkey (type 0x04).")) -> None:
    """Register a party's witness key so its cosignatures are accepted and verified."""
    typer.echo(add_witness(_open(db), vkey).vkey())


@app.command("add-cosignature")
@_guard
def add_cosignature_cmd(db: str = DB, note: Path = typer.Option(..., "--note", help="A cosigned checkpoint "
                                                                 "(output of `witness cosign --export`).")) -> None:
    """Store a witness's cosignatures from a cosigned copy of one of our checkpoints."""
    typer.echo(" ".join(import_cosigned_note(_open(db), note.read_text())))


# ------------------------------------------------------------------ witness
@witness_app.command("init")
@_guard
def witness_init(state: Path = typer.Option(..., "--state", help="Witness state file to create."),
                 key: Path = typer.Option(..., "--key", help="Witness private key file (created if missing)."),
                 name: str = typer.Option(None, "--name", help="Witness name, e.g. witness.party-a.example."),
                 log_key: str = typer.Option(None, "--log-key", help="The mission's log vkey (pinned)."),
                 db: str = typer.Option(None, "--db", help="...or take the log key and origin from this store."),
                 origin: str = typer.Option(None, "--origin")) -> None:
    """Create a witness: its key, and a state pinned to the mission's log key."""
    if key.exists():
        signer = _load_signer(key)
    else:
        if not name:
            _fail("give --name for a new witness key")
        signer = NoteSigner.generate(name, ALG_COSIGNATURE_V1)
        _write_secret(key, signer.private_key_string())
    if log_key is None:
        if db is None:
            _fail("give --log-key or --db")

        store = _open(db)
        vs = log_verifiers(store)
        if not vs:
            _fail("the store has no log key")
        log_key, origin = vs[0].vkey(), origin or log_origin(store)
    origin = origin or NoteVerifier.from_vkey(log_key).name
    Witness.init(state, signer, log_key, origin)
    typer.echo(signer.vkey())


@witness_app.command("cosign")
@_guard
def witness_cosign(state: Path = typer.Option(..., "--state"), key: Path = typer.Option(..., "--key"),
                   db: str = typer.Option(None, "--db", help="Cosign the latest checkpoint of this store..."),
                   export: Path = typer.Option(None, "--export", help="...or of this mirrored export (prints "
                                               "the cosigned note; the mission imports it with "
                                               "`ledger add-cosignature`)."),
                   as_json: bool = JSON) -> None:
    """Cosign the latest checkpoint if it is consistent with the last one cosigned."""
    if (db is None) == (export is None):
        _fail("give exactly one of --db and --export")
    w = Witness(state, _load_signer(key))
    if export is not None:
        text = (Path(export) / "checkpoint").read_text()
        parsed = SignedNote.parse(text)
        note = SignedNote(parsed.body, parsed.signatures[:1]).text()
        size = Checkpoint.parse_body(parsed.body).size
        line = _cosign_retrying(w, note, lambda old: export_consistency_proof(export, min(old, size), size))
        out = add_signature_lines(note, [line])
        _out({"size": size, "cosignature": line, "note": out}, as_json, out.rstrip("\n"))
        return
    store = _open(db)
    cps = MerkleLog(store).checkpoints()
    if not cps:
        _fail("the log has no checkpoint to cosign")
    cp = cps[-1]
    line = _cosign_retrying(w, cp["note"], lambda old: MerkleLog(store).consistency_proof(min(old, cp["size"]),
                                                                                      cp["size"]))
    add_cosignature(store, cp["seq"], line)
    _out({"checkpoint": cp["seq"], "size": cp["size"], "cosignature": line, "note": latest_checkpoint(store)},
         as_json, line)


def _cosign_retrying(w: Any, note: str, proof_from: Callable[[int], list[bytes]]) -> str:
    """Cosign; if another cosign changed the state meanwhile, prove again from the new state (3 tries)."""
    for attempt in range(3):
        try:
            return str(w.cosign(note, proof_from(w.state.size)))
        except WitnessStateChanged:
            if attempt == 2:
                _fail("refused: the witness state kept changing (other cosign runs); try again", 1)
        except WitnessRefusal as exc:
            _fail(f"refused: {exc}", 1)
    raise AssertionError("unreachable")  # pragma: no cover


@witness_app.command("show-key")
@_guard
def witness_show_key(key: Path = typer.Option(..., "--key")) -> None:
    """Print the witness's vkey (give it to the mission: `ledger add-witness`)."""
    typer.echo(_load_signer(key).vkey())


# ------------------------------------------------------------------ verify
@_guard
def verify_cmd(db: str = typer.Option(None, "--db", help="Verify this store..."),
               export: Path = typer.Option(None, "--export", help="...or this export directory."),
               log_key: list[str] = typer.Option(None, "--log-key", help="Trust anchor: the mission's log vkey, "
                                                 "taken from outside the store (repeatable)."),
               witness_key: list[str] = typer.Option(None, "--witness-key", help="Trust anchor: a witness's vkey "
                                                     "(type 0x04; repeatable)."),
               quorum: int = typer.Option(None, "--quorum", min=0, help="Witness cosignatures the latest "
                                          "checkpoint needs (default: every --witness-key)."),
               trust: Path = typer.Option(None, "--trust", help="Trust file (JSON or YAML: origin, log_keys, "
                                          "witness_keys, quorum, last_checkpoint); flags add to it."),
               since_checkpoint: Path = typer.Option(None, "--since-checkpoint", help="The last checkpoint you "
                                                     "saw: prove the log's latest is consistent with it (no "
                                                     "rollback, no fork)."),
               save_checkpoint: Path = typer.Option(None, "--save-checkpoint", help="After a clean pass, write "
                                                    "the latest checkpoint here (for the next --since-checkpoint)."),
               allow_unanchored: bool = typer.Option(False, "--allow-unanchored", help="Without a log key from "
                                                     "outside, check against the store's own keys (warns; "
                                                     "otherwise that fails)."),
               allow_uncovered: bool = typer.Option(False, "--allow-uncovered", help="Only warn about entries "
                                                    "no signed checkpoint covers yet (default: fail)."),
               as_json: bool = JSON) -> None:
    """Check every signature, key certificate, checkpoint and cosignature against trust anchors from outside.

    Exits 1 naming each bad entry when anything does not verify; without a
    log key (--log-key or --trust) it fails as unanchored.
    """
    if (db is None) == (export is None):
        _fail("give exactly one of --db and --export")
    t = load_trust(trust) if trust is not None else Trust()
    t.log_keys += list(log_key or [])
    t.witness_keys += list(witness_key or [])
    if quorum is not None:
        t.quorum = quorum
    if since_checkpoint is not None:
        t.since_checkpoint = since_checkpoint.read_text(encoding="utf-8")
    t.allow_unanchored, t.allow_uncovered = allow_unanchored, allow_uncovered
    latest_note = None
    if db is not None:
        store = _open(db)
        rep = verify_store(store, t)
        if rep.ok and save_checkpoint is not None:
            cps = MerkleLog(store).checkpoints()
            latest_note = cps[-1]["note"] if cps else None
    else:
        if not Path(export).is_dir():
            _fail(f"{export}: no such directory")
        rep = verify_export(export, t)
        if rep.ok and save_checkpoint is not None:
            latest_note = (Path(export) / "checkpoint").read_text()
    if as_json:
        typer.echo(json.dumps(rep.as_dict()))
    else:
        for w in rep.warnings:
            typer.echo(f"warning: {w}", err=True)
        for p in rep.problems[:200]:
            typer.echo(f"FAIL {p}")
        if len(rep.problems) > 200:
            typer.echo(f"... and {len(rep.problems) - 200} more problems")
        typer.echo(f"{'OK' if rep.ok else 'FAILED'}: {rep.entries_checked} entries ({rep.certificates} key "
                   f"certificates), {rep.signatures_checked} signatures, {rep.checkpoints} checkpoints, "
                   f"{rep.cosignatures} cosignatures; size {rep.size} root {rep.root}")
    if latest_note is not None and save_checkpoint is not None:
        _write_atomic(save_checkpoint, latest_note)
    if not rep.ok:
        raise typer.Exit(1)


def register(app_: typer.Typer) -> None:
    """Top-level ``verify`` and ``witness``."""
    app_.command("verify")(verify_cmd)
    app_.add_typer(witness_app, name="witness")
