"""Store-side ledger operations: the mission's log key, checkpoints, witnesses,
rebuilding log entries from stored observations, crash reconciliation."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trucewatch.ledger import integrator
from trucewatch.ledger.canonical import canonical_body, entry_bytes
from trucewatch.ledger.checkpoint import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    SignedNote,
    add_signature_lines,
    sign_checkpoint,
    verify_cosignatures,
)
from trucewatch.ledger.keys import Keyring, verify_observations
from trucewatch.ledger.log import LogEntry, LogError, MerkleLog
from trucewatch.model import Observation
from trucewatch.store.store import Store


class LedgerSetupError(LogError):
    """The ledger is not set up for this operation (no log key, unknown witness...)."""


# ------------------------------------------------------------- log keys
#: Origin of a log created implicitly when a source key is registered in a store without one.
AUTO_ORIGIN = "trucewatch.local/log"
#: Mission signers known to this process, by store URL (the embedded demo keeps its key in memory).
_SIGNERS: dict[str, list[NoteSigner]] = {}


def _store_key(store: Store) -> str:
    return store.url


def _remember(store: Store, signer: NoteSigner) -> None:
    lst = _SIGNERS.setdefault(_store_key(store), [])
    if all(s.vkey() != signer.vkey() for s in lst):
        lst.append(signer)


def init_log(store: Store, origin: str, signer: NoteSigner) -> str:
    """Register the mission's checkpoint key for ``origin``; returns its vkey.

    A log created implicitly by a key registration (origin AUTO_ORIGIN) takes
    the new origin while no checkpoint is signed; any other origin is fixed."""
    if signer.alg != ALG_ED25519:
        raise LedgerSetupError("the log key must be an Ed25519 (0x01) note key")
    cur = log_origin(store)
    if cur is not None and cur != origin:
        if cur != AUTO_ORIGIN or MerkleLog(store).last_checkpoint() is not None:
            raise LedgerSetupError(f"this log's origin is {cur!r}, not {origin!r}")
        store.ledger.set_origin(origin)
    vkey = signer.vkey()
    store.ledger.add_log_key(vkey, origin, time.time())
    _remember(store, signer)
    return vkey


def default_key_path(store: Store) -> Path | None:
    """``$TRUCEWATCH_MISSION_KEY``, else the mission key folder's ``log.key`` (``trucewatch init``),
    else ``<db>.mission-key`` beside a SQLite file (the CLI's default)."""
    if os.environ.get("TRUCEWATCH_MISSION_KEY"):
        return Path(os.environ["TRUCEWATCH_MISSION_KEY"])
    try:  # a store made by `trucewatch init` keeps its log key in the mission's key folder
        kd = store.get_setting("mission.key_dir")
    except Exception:  # a store without the settings table
        kd = None
    if kd:
        return Path(kd) / "log.key"
    db = store.sqlite_file
    if db:
        return Path(db + ".mission-key")
    return None


def mission_signer(store: Store, *, create: bool = True) -> NoteSigner:
    """The mission's log key for this store: one this process registered, or the
    key file (``default_key_path``); with ``create`` and no log yet, a new log
    under AUTO_ORIGIN (key written to the default key file when there is one)."""
    registered = {v.vkey() for v in log_verifiers(store)}
    for s in _SIGNERS.get(_store_key(store), []):
        if s.vkey() in registered:
            return s
    path = default_key_path(store)
    if path is not None and path.exists():
        signer = NoteSigner.from_private_key_string(path.read_text())
        if signer.vkey() in registered:
            _remember(store, signer)
            return signer
        if not registered:
            init_log(store, log_origin(store) or signer.name, signer)
            return signer
    if not registered and create:
        return ensure_log(store, AUTO_ORIGIN, path)
    raise LedgerSetupError("this needs the mission's log key (a registered one): give --key or set "
                           "TRUCEWATCH_MISSION_KEY")


def ensure_log(store: Store, origin: str, key_file: str | Path | None = None) -> NoteSigner:
    """The mission's checkpoint signer for ``origin``, registered in the store.

    With ``key_file``: loaded from it, or created there (mode 0600) if missing.
    Without: a fresh in-memory key (the embedded demo; its checkpoints verify
    against the vkey stored in the database).
    """
    if key_file is not None and Path(key_file).exists():
        signer = NoteSigner.from_private_key_string(Path(key_file).read_text())
    else:
        signer = NoteSigner.generate(origin)
        if key_file is not None:
            p = Path(key_file)
            p.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(signer.private_key_string() + "\n")
    init_log(store, origin, signer)
    return signer


def log_origin(store: Store) -> str | None:
    return store.ledger.origin()


def log_verifiers(store: Store) -> list[NoteVerifier]:
    return [NoteVerifier.from_vkey(v) for v in store.ledger.log_vkeys()]


# ------------------------------------------------------------ checkpoints
SEQ_EXTENSION = "trucewatch-seq "


def checkpoint_seq(cp: Checkpoint) -> int | None:
    """The signed sequence number of a checkpoint (extension line), None for older checkpoints."""
    for ext in cp.extensions:
        if ext.startswith(SEQ_EXTENSION) and ext[len(SEQ_EXTENSION):].isdigit():
            return int(ext[len(SEQ_EXTENSION):])
    return None


def make_checkpoint(store: Store, signer: NoteSigner, *, skip_if_unchanged: bool = False) -> dict[str, Any] | None:
    """Sign the current tree head (after checking the stored log) and store it.

    The note carries a signed sequence number (extension line
    ``trucewatch-seq N``, one more than the last checkpoint's) so a deleted
    older checkpoint leaves a visible gap; a cross-process lock keeps two
    checkpointers from signing the same number.  ``skip_if_unchanged``: return
    None when the last checkpoint already has the current size (schedulers)."""
    origin = log_origin(store)
    if origin is None:
        raise LedgerSetupError("no log key registered: run `trucewatch ledger init` first")
    if signer.vkey() not in {v.vkey() for v in log_verifiers(store)}:
        raise LedgerSetupError(f"key {signer.name} is not a registered log key of {origin}")
    with _checkpoint_lock(store):
        log = MerkleLog(store)
        size, root = log.check()
        cps = log.checkpoints()
        if skip_if_unchanged and cps and cps[-1]["size"] == size:
            return None
        last_seq = 0
        if cps:
            try:
                last_seq = checkpoint_seq(Checkpoint.parse_body(SignedNote.parse(cps[-1]["note"]).body)) or 0
            except ValueError:
                last_seq = 0
            last_seq = max(last_seq, len(cps) if last_seq == 0 else last_seq)
        note = sign_checkpoint(Checkpoint(origin, size, root, (f"{SEQ_EXTENSION}{last_seq + 1}",)), signer)
        seq = log.add_checkpoint(note, size, root)
    _remember(store, signer)
    return {"seq": seq, "size": size, "root": root.hex(), "note": note}


def _checkpoint_lock(store: Store) -> Any:
    if store.dialect == "sqlite" and store.sqlite_file is None:
        return contextlib.nullcontext()
    return store.exclusive("ledger-checkpoint")


def latest_checkpoint(store: Store) -> dict[str, Any] | None:
    """The last signed checkpoint, with its cosignatures: size, root hash hex,
    note text (what a daily report cites as the state it was built on)."""
    cps = MerkleLog(store).checkpoints()
    if not cps:
        return None
    cp = cps[-1]
    note = add_signature_lines(cp["note"], cp["cosignatures"]) if cp["cosignatures"] else cp["note"]
    return {"seq": cp["seq"], "size": cp["size"], "root": cp["root"].hex(), "note": note,
            "created_at": cp["created_at"], "cosigners": len(cp["cosignatures"])}


# -------------------------------------------------------------- witnesses
def add_witness(store: Store, vkey: str) -> NoteVerifier:
    v = NoteVerifier.from_vkey(vkey)
    if v.alg != ALG_COSIGNATURE_V1:
        raise LedgerSetupError(f"witness key {v.name} must be a cosignature/v1 (0x04) vkey")
    store.ledger.put_witness(v.name, v.vkey(), time.time())
    return v


def witnesses(store: Store) -> list[NoteVerifier]:
    return [NoteVerifier.from_vkey(v) for v in store.ledger.witness_vkeys()]


def add_cosignature(store: Store, checkpoint_seq: int, line: str) -> str:
    """Store a witness's cosignature line after checking it against the registered witness key."""
    cps = {cp["seq"]: cp for cp in MerkleLog(store).checkpoints()}
    cp = cps.get(checkpoint_seq)
    if cp is None:
        raise LedgerSetupError(f"no checkpoint #{checkpoint_seq}")
    ok = verify_cosignatures(add_signature_lines(cp["note"], [line]), witnesses(store))
    if not ok:
        raise LedgerSetupError("the cosignature is not by a registered witness (run `trucewatch ledger add-witness`)")
    name, ts = next(iter(ok.items()))
    store.ledger.put_cosignature(checkpoint_seq, name, ts, line.rstrip("\n"), time.time())
    return name


# ---------------------------------------------------------------- entries
def entry_for(obs: Observation, key: bytes) -> bytes:
    """The log entry of a stored observation signed with ``key``."""
    return entry_bytes(canonical_body(obs), obs.signature or "", key.hex())


def rebuild_entries(store: Store, rows: Sequence[tuple[int, str, bytes]]
                    ) -> list[tuple[int, str, bytes, Observation | None, bytes | None]]:
    """(index, observation id, key, observation or None, entry bytes or None) for leaves rows."""
    obs = {o.id: o for o in store.get_observations([oid for _, oid, _ in rows])}
    idxs = [i for i, _, _ in rows]
    kept = store.ledger.kept_entries(idxs)
    out: list[tuple[int, str, bytes, Observation | None, bytes | None]] = []
    for i, oid, key in rows:
        if i in kept:  # a key certificate: stored verbatim
            out.append((i, oid, key, None, kept[i]))
            continue
        o = obs.get(oid)
        e = None
        if o is not None and o.signature:
            try:
                e = entry_for(o, key)
            except Exception:  # stored content that cannot be canonicalized: reported by the caller
                e = None
        out.append((i, oid, key, o, e))
    return out


def reconcile(store: Store) -> dict[str, int]:
    """Finish work a crash interrupted between storing and logging.

    Observations stored with a signature but neither in the log nor queued
    for it (stores written before the ingest queue, or by
    ``Store.add_observations`` directly) are re-verified and appended;
    queued entries are integrated.  Idempotent.  ``indexed``: logged
    observations of old stores whose ``ledger_index`` column was empty (the
    index is now joined from the log, so this is 0 on current stores)."""
    integrator.integrate_pending(store)
    log = MerkleLog(store)
    todo = store.ledger.unlogged_signed_observations()
    appended = 0
    rejected = 0
    if todo:
        obs = store.get_observations(todo)
        verified, errors = verify_observations(obs, Keyring.load(store), now=0.0)
        rejected = len(errors)
        entries = [LogEntry(v.obs.id, entry_bytes(v.canonical, v.signature, v.key.hex()), v.key) for v in verified]
        appended = len(log.append(entries))
    return {"indexed": 0, "appended": appended, "rejected": rejected}


def import_cosigned_note(store: Store, note_text: str) -> list[str]:
    """Store the cosignatures of a cosigned copy of one of our checkpoints
    (what ``trucewatch witness cosign --export`` prints); returns witness names."""
    note = SignedNote.parse(note_text)
    lines = [ln for ln in note.text()[len(note.body) + 1:].split("\n") if ln]
    for cp in reversed(MerkleLog(store).checkpoints()):
        if SignedNote.parse(cp["note"]).body == note.body:
            names = []
            for line in lines:
                if line.rstrip("\n") + "\n" in cp["note"]:
                    continue  # the mission's own signature
                try:
                    names.append(add_cosignature(store, cp["seq"], line))
                except LedgerSetupError:
                    continue
            if not names:
                raise LedgerSetupError("no cosignature by a registered witness in the note")
            return names
    raise LedgerSetupError("the note is not one of this log's checkpoints")
