"""Source-key certificates: every key registration, rotation and revocation is
an entry of the log, signed by the mission's log key.

Why: the ``ledger_source_keys`` table lives in the database, and whoever can
write the database could add their own key there and re-sign edited evidence.
A certificate entry is covered by the Merkle tree, the checkpoints and the
witnesses' cosignatures, and its signature verifies only with the mission key
a party pins from outside the store.  Verification (and ingest) rebuild the
keyring by replaying the certificates in log order; a key that is only in the
table is not trusted.

    cert    = {"op": "register" | "rotate" | "revoke", "source_id", "public_key" (hex),
               "valid_from", "valid_to", "at", "reason", "issued_at"}       (numbers: unix s or null)
    message = b"trucewatch-key-cert-v1\\n" || JCS(cert)
    entry   = JCS({"cert": cert, "key": <mission Ed25519 key, hex>, "signature": <base64>, "v": 1})

The entry bytes are kept verbatim in ``ledger_key_entries`` (there is no
observation to rebuild them from); the leaf row's ``observation_id`` is
``#key-cert/<16 hex of SHA-256(entry)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from trucewatch.errors import TruceWatchError

# keys imports this module and api imports keys: both bound as module objects, read at call time
from trucewatch.ledger import api as _api
from trucewatch.ledger import keys as _keys
from trucewatch.ledger.canonical import jcs
from trucewatch.ledger.checkpoint import ALG_ED25519, NoteSigner
from trucewatch.ledger.log import LogEntry, MerkleLog
from trucewatch.store.store import Store

CERT_CONTEXT = b"trucewatch-key-cert-v1\n"
CERT_ID_PREFIX = "#key-cert/"
OPS = ("register", "rotate", "revoke")
_FIELDS = {"op", "source_id", "public_key", "valid_from", "valid_to", "at", "reason", "issued_at"}


class CertError(TruceWatchError, ValueError):
    """A key certificate entry that cannot be trusted (malformed, bad signature, unknown signer)."""


def make_cert(op: str, source_id: str, public_key: str, *, valid_from: float | None = None,
              valid_to: float | None = None, at: float | None = None, reason: str = "",
              issued_at: float | None = None) -> dict[str, Any]:
    if op not in OPS:
        raise _keys.KeyRegistryError(f"op: {op!r} is not one of {', '.join(OPS)}")
    return {"op": op, "source_id": source_id, "public_key": public_key, "valid_from": valid_from,
            "valid_to": valid_to, "at": at, "reason": reason,
            "issued_at": round(time.time() if issued_at is None else issued_at, 6)}


def cert_entry(cert: dict[str, Any], signer: NoteSigner) -> bytes:
    """The signed log entry of a certificate (the mission's log key signs it)."""
    if signer.alg != ALG_ED25519:
        raise _keys.KeyRegistryError("key certificates are signed by the mission's Ed25519 log key")
    sig = signer.sign(CERT_CONTEXT + jcs(cert))
    return jcs({"cert": cert, "key": signer.public.hex(), "signature": base64.b64encode(sig).decode(), "v": 1})


def cert_id(entry: bytes) -> str:
    return CERT_ID_PREFIX + hashlib.sha256(entry).hexdigest()[:16]


def _num(cert: dict[str, Any], name: str, required: bool = False) -> None:
    v = cert.get(name)
    if v is None and not required:
        return
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise CertError(f"cert.{name}: expected a number, got {v!r}")


def parse_cert_entry(entry: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    """(cert, signer public key, signature); CertError naming the field that is wrong."""
    try:
        obj = json.loads(entry)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CertError(f"key certificate entry is not JSON: {exc}") from None
    if not isinstance(obj, dict) or set(obj) != {"cert", "key", "signature", "v"} or obj["v"] != 1:
        raise CertError("key certificate entry must be an object with cert, key, signature and v=1")
    cert = obj["cert"]
    if not isinstance(cert, dict) or set(cert) != _FIELDS:
        raise CertError(f"cert: must have exactly the fields {', '.join(sorted(_FIELDS))}")
    if cert["op"] not in OPS:
        raise CertError(f"cert.op: {cert['op']!r} is not one of {', '.join(OPS)}")
    for name in ("source_id", "public_key", "reason"):
        if not isinstance(cert[name], str):
            raise CertError(f"cert.{name}: expected a string")
    for name in ("valid_from", "valid_to", "at"):
        _num(cert, name)
    _num(cert, "issued_at", required=True)
    try:
        key = bytes.fromhex(obj["key"])
        pk = bytes.fromhex(cert["public_key"])
        sig = binascii.a2b_base64(obj["signature"].encode("ascii"), strict_mode=True)
    except (ValueError, TypeError, AttributeError, binascii.Error, UnicodeEncodeError):
        raise CertError("key, cert.public_key or signature is not hex/base64") from None
    if len(key) != 32 or len(pk) != 32 or len(sig) != 64:
        raise CertError("key and cert.public_key must be 32 bytes, signature 64 bytes")
    if jcs(obj) != bytes(entry):
        raise CertError("key certificate entry is not in RFC 8785 canonical form")
    return cert, key, sig


def check_cert_entry(entry: bytes, trusted: Iterable[bytes]) -> dict[str, Any]:
    """The certificate if the entry is signed by one of the ``trusted`` raw Ed25519 log keys."""
    cert, key, sig = parse_cert_entry(entry)
    if key not in set(trusted):
        raise CertError(f"signed by {key.hex()[:16]}…, which is not a trusted log key")
    if not _keys.verify_detached(sig, CERT_CONTEXT + jcs(cert), key):
        raise CertError("the mission's signature on the key certificate does not verify")
    return cert


@dataclass
class CertifiedKeys:
    """The keyring rebuilt from the log's certificate entries."""

    keyring: _keys.Keyring
    certified_at: dict[str, int] = field(default_factory=dict)  # public key -> index of its first certificate
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (index, entry id, what)
    entries: dict[int, bytes] = field(default_factory=dict)  # index -> entry bytes (every stored one)


def replay(certs: Sequence[tuple[int, dict[str, Any]]]) -> tuple[list[_keys.SourceKey], dict[str, int],
                                                                list[tuple[int, str]]]:
    """Apply certificates in log order, exactly as register/rotate/revoke_key change the table."""
    keys: dict[str, _keys.SourceKey] = {}
    first: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    for idx, c in sorted(certs, key=lambda p: p[0]):
        pk, sid, op = c["public_key"].lower(), c["source_id"], c["op"]
        old = keys.get(pk)
        if op == "revoke":
            if old is None:
                problems.append((idx, f"revokes key {pk[:16]}…, which no earlier entry certified"))
                continue
            keys[pk] = _keys.SourceKey(pk, old.source_id, old.valid_from, old.valid_to, c["at"], c["reason"] or None)
            continue
        if old is not None and old.source_id != sid:
            problems.append((idx, f"certifies key {pk[:16]}… for {sid!r}, but it belongs to {old.source_id!r}"))
            continue
        if op == "rotate":
            t = c["at"] if c["at"] is not None else c["valid_from"]
            for k, v in list(keys.items()):
                if v.source_id == sid and k != pk and (v.valid_to is None or v.valid_to > t):
                    keys[k] = _keys.SourceKey(k, sid, v.valid_from, max(t, v.valid_from), v.revoked_at, v.revoke_reason)
            vf, vt = t, None
        else:
            vf, vt = c["valid_from"], c["valid_to"]
        if vf is None:
            problems.append((idx, "cert.valid_from: missing"))
            continue
        keys[pk] = _keys.SourceKey(pk, sid, float(vf), None if vt is None else float(vt),
                             old.revoked_at if old else None, old.revoke_reason if old else None)
        first.setdefault(pk, idx)
    return list(keys.values()), first, problems


def load_certified(store: Store, trusted_log_keys: Iterable[bytes] | None = None) -> CertifiedKeys:
    """Read, check and replay the log's key certificates.

    A certificate counts only if its stored bytes hash to the logged leaf and
    its signature verifies with a trusted log key (default: the store's own
    log keys, which is what ingest uses; ``verify`` passes keys pinned from
    outside the store).
    """
    if trusted_log_keys is None:
        trusted_log_keys = [v.public for v in _api.log_verifiers(store) if v.alg == ALG_ED25519]
    trusted = set(trusted_log_keys)
    out = CertifiedKeys(_keys.Keyring([]))
    good: list[tuple[int, dict[str, Any]]] = []
    for idx, entry, eid, leaf in store.ledger.kept_entries_with_leaves():
        out.entries[idx] = entry
        name = eid or cert_id(entry)
        if leaf is None or eid is None:
            out.problems.append((idx, name, "key certificate stored for an index the log does not have"))
            continue
        if hashlib.sha256(b"\x00" + entry).digest() != leaf:
            out.problems.append((idx, name, "key certificate differs from the logged entry (edited)"))
            continue
        try:
            good.append((idx, check_cert_entry(entry, trusted)))
        except CertError as exc:
            out.problems.append((idx, name, f"key certificate rejected: {exc}"))
    keys, first, problems = replay(good)
    out.keyring = _keys.Keyring(keys)
    out.certified_at = first
    out.problems += [(i, cert_id(out.entries[i]), w) for i, w in problems]
    return out


def append_certs(store: Store, signer: NoteSigner, certs: Sequence[dict[str, Any]]) -> list[int]:
    """Sign and append certificates in one durable batch; returns their log indices."""
    entries = []
    for c in certs:
        e = cert_entry(c, signer)
        entries.append(LogEntry(cert_id(e), e, signer.public, keep=True))
    return MerkleLog(store).append(entries)


def keyring_for_ingest(store: Store) -> _keys.Keyring:
    """The certified keyring, cached per store until a certificate is added."""
    stamp = store.ledger.certificates_stamp()
    cached = _CACHE.get(id(store.ledger))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    ring = load_certified(store).keyring
    _CACHE[id(store.ledger)] = (stamp, ring)
    return ring


_CACHE: dict[int, tuple[Any, _keys.Keyring]] = {}


def certify_table_keys(store: Store, signer: NoteSigner) -> list[_keys.SourceKey]:
    """Certify keys that are in the table but have no certificate in the log
    (stores made before certificates existed); the mission reviews them first."""
    done = load_certified(store, [signer.public]).keyring.by_key
    todo = []
    for r in store.ledger.source_keys(by_created=True):
        if r.public_key in done:
            continue
        todo.append(make_cert("register", r.source_id, r.public_key, valid_from=r.valid_from, valid_to=r.valid_to))
        if r.revoked_at is not None:
            todo.append(make_cert("revoke", r.source_id, r.public_key, at=r.revoked_at, reason=r.revoke_reason or ""))
    if todo:
        append_certs(store, signer, todo)
    return [k for k in load_certified(store, [signer.public]).keyring.by_key.values() if k.public_key not in done]
