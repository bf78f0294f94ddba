"""Ed25519 source keys: registration with validity times, rotation, revocation,
signing and fast batch verification of observations.

Each key belongs to one source and is valid for observations whose time lies
in ``[valid_from, valid_to)``.  Rotation closes the old key's window and opens
the new one's at the same instant.  Revocation (compromise) is stricter: from
``revoked_at`` on, the key verifies nothing at ingest (a stolen key can
backdate), and observations it signed with a time at or after ``revoked_at``
fail offline verification too.

Verification uses PyNaCl (libsodium), about twice the speed of the
``cryptography`` package here.  A batch of at least ``TRUCEWATCH_VERIFY_PROCESS_MIN``
(default 2,048) observations goes to a process pool of ``TRUCEWATCH_VERIFY_PROCESSES``
workers (default: cores - 1 on machines with 4 or more cores, else none), one
chunk per task, submitted while the calling thread canonicalizes the next; smaller
batches, and 2-core machines, verify in the calling thread.  The 2-thread pool
used before gained nothing measurable on 2 cores shared with the database and
the bus (docs/scaling.md), and its hand-offs cost CPU.
"""

from __future__ import annotations

import binascii
import functools
import os
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

# api and certs import this module: bound as module objects, read at call time (the cycle is
# resolved by the import system; ``from`` names would not exist yet)
from trucewatch.ledger import api as _api
from trucewatch.ledger import certs as _certs
from trucewatch.ledger.canonical import canonical_body, message_from_canonical, signing_message
from trucewatch.model import Observation, Source
from trucewatch.store.store import RecordError, Store, StoreError


class KeyRegistryError(StoreError):
    """A key operation the registry refuses (unknown source or key, bad key)."""


@dataclass(frozen=True)
class SourceKey:
    public_key: str  # hex
    source_id: str
    valid_from: float
    valid_to: float | None = None
    revoked_at: float | None = None
    revoke_reason: str | None = None

    @functools.cached_property
    def raw(self) -> bytes:
        """32 raw bytes (cached: read twice per verified observation on the ingest path)."""
        return bytes.fromhex(self.public_key)

    def covers(self, t: float) -> bool:
        """Valid for an observation made at unix time ``t`` (offline rule)."""
        if t < self.valid_from or (self.valid_to is not None and t >= self.valid_to):
            return False
        return self.revoked_at is None or t < self.revoked_at

    def as_dict(self) -> dict[str, Any]:
        return {"public_key": self.public_key, "source_id": self.source_id, "valid_from": self.valid_from,
                "valid_to": self.valid_to, "revoked_at": self.revoked_at, "revoke_reason": self.revoke_reason}


def _check_hex_key(public_key: str) -> str:
    k = public_key.strip().lower()
    try:
        raw = bytes.fromhex(k)
    except ValueError:
        raise KeyRegistryError(f"public_key: {public_key!r} is not hex") from None
    if len(raw) != 32:
        raise KeyRegistryError(f"public_key: an Ed25519 key has 32 bytes, got {len(raw)}")
    try:
        VerifyKey(raw)
    except Exception as exc:  # pragma: no cover - libsodium accepts any 32 bytes today
        raise KeyRegistryError(f"public_key: not an Ed25519 key: {exc}") from None
    return k


def _ts(v: float | datetime | None) -> float | None:
    if v is None:
        return None
    return v.timestamp() if isinstance(v, datetime) else float(v)


# ---------------------------------------------------------------- registry
# Every change is first certified: the mission's log key signs a certificate
# that is appended to the log (trucewatch.ledger.certs); the table below is a
# convenience copy.  ``signer``: the mission's NoteSigner; default: the one
# trucewatch.ledger.api.mission_signer finds for this store.
def _certify(store: Store, signer: Any, cert: dict[str, Any]) -> None:
    _certs.append_certs(store, signer or _api.mission_signer(store), [cert])


def register_key(store: Store, source_id: str, public_key: str, *, valid_from: float | datetime | None = None,
                 valid_to: float | datetime | None = None, set_current: bool = True, signer: Any = None) -> SourceKey:
    """Register a source's key (idempotent for the same key, source and window), certified in the log."""
    key = _check_hex_key(public_key)
    vf = _ts(valid_from)
    vf = time.time() if vf is None else vf
    vt = _ts(valid_to)
    if vt is not None and vt <= vf:
        raise KeyRegistryError(f"{source_id}: valid_to {vt} is not after valid_from {vf}")
    src = store.get_source(source_id)
    if src is None:
        raise KeyRegistryError(f"{source_id}: source_id: unknown source (register the source first)")
    old = store.ledger.source_key(key)
    if old is not None and old.source_id != source_id:
        raise KeyRegistryError(f"{source_id}: public_key: already registered to source {old.source_id}")
    certified = Keyring.load(store).by_key.get(key)
    if certified is None or (certified.valid_from, certified.valid_to) != (vf, vt):
        _certify(store, signer, _certs.make_cert("register", source_id, key, valid_from=vf, valid_to=vt))
    store.ledger.put_source_key(key, source_id, vf, vt, time.time())
    if set_current and src.public_key != key:
        store.add_sources([src.model_copy(update={"public_key": key})])
    return SourceKey(key, source_id, vf, vt)


def rotate_key(store: Store, source_id: str, new_public_key: str, *, at: float | datetime | None = None,
               signer: Any = None) -> SourceKey:
    """Close every open key window of the source at ``at`` and register the new key from then (certified)."""
    t = _ts(at)
    t = time.time() if t is None else t
    new = _check_hex_key(new_public_key)
    if store.get_source(source_id) is None:
        raise KeyRegistryError(f"{source_id}: source_id: unknown source (register the source first)")
    old = store.ledger.source_key(new)
    if old is not None and old.source_id != source_id:
        raise KeyRegistryError(f"{source_id}: public_key: already registered to source {old.source_id}")
    _certify(store, signer, _certs.make_cert("rotate", source_id, new, valid_from=t, at=t))
    store.ledger.close_key_windows(source_id, new, t)
    return register_key(store, source_id, new, valid_from=t, signer=signer)


def revoke_key(store: Store, public_key: str, *, at: float | datetime | None = None, reason: str = "",
               signer: Any = None) -> SourceKey:
    """Mark a key compromised from ``at`` (default now), certified in the log."""
    key = _check_hex_key(public_key)
    t = _ts(at)
    t = time.time() if t is None else t
    row = store.ledger.source_key(key)
    if row is None or key not in Keyring.load(store).by_key:
        raise KeyRegistryError(f"{public_key}: public_key: not registered")
    _certify(store, signer, _certs.make_cert("revoke", row.source_id, key, at=t, reason=reason))
    store.ledger.revoke_source_key(key, t, reason)
    return next(k for k in list_keys(store) if k.public_key == key)


def list_keys(store: Store, source_id: str | None = None) -> list[SourceKey]:
    return [SourceKey(r.public_key, r.source_id, r.valid_from, r.valid_to, r.revoked_at, r.revoke_reason)
            for r in store.ledger.source_keys(source_id)]


class Keyring:
    """Registered source keys in memory, for verifying many observations."""

    def __init__(self, keys: Iterable[SourceKey]) -> None:
        self.by_source: dict[str, list[SourceKey]] = {}
        self.by_key: dict[str, SourceKey] = {}
        for k in keys:
            self.by_source.setdefault(k.source_id, []).append(k)
            self.by_key[k.public_key] = k
        for lst in self.by_source.values():
            lst.sort(key=lambda k: -k.valid_from)  # newest first: the usual signer
        # Sources with one open-ended, unrevoked key (the common case) skip the window checks.
        self._simple = {sid: (lst[0].valid_from, lst) for sid, lst in self.by_source.items()
                        if len(lst) == 1 and lst[0].valid_to is None and lst[0].revoked_at is None}

    @classmethod
    def load(cls, store: Store) -> Keyring:
        """The keys the mission certified in the log (a key only in the table is not trusted)."""
        return _certs.keyring_for_ingest(store)

    @classmethod
    def from_table(cls, store: Store) -> Keyring:
        """The ``ledger_source_keys`` table as it is (uncertified: for display and migration only)."""
        return cls(list_keys(store))

    def candidates(self, source_id: str, t: float, now: float | None = None) -> list[SourceKey]:
        """Keys of the source valid at observation time ``t``; with ``now``,
        keys revoked at or before ``now`` are left out (ingest rule)."""
        simple = self._simple.get(source_id)
        if simple is not None and t >= simple[0]:
            return simple[1]
        out = []
        for k in self.by_source.get(source_id, ()):
            if k.covers(t) and (now is None or k.revoked_at is None or now < k.revoked_at):
                out.append(k)
        return out


# ------------------------------------------------------------ key material
def generate_source_keys(sources: Iterable[Source | str], rng: np.random.Generator | None = None
                         ) -> dict[str, SigningKey]:
    """One new Ed25519 key per source; deterministic when ``rng`` is given (simulator)."""
    out: dict[str, SigningKey] = {}
    for s in sources:
        sid = s if isinstance(s, str) else s.id
        seed = rng.bytes(32) if rng is not None else os.urandom(32)
        out[sid] = SigningKey(seed)
    return out


def register_source_keys(store: Store, keys: dict[str, SigningKey], *, valid_from: float | datetime = 0.0,
                         valid_to: float | datetime | None = None, signer: Any = None) -> list[SourceKey]:
    """Register generated keys (the demo's sources sign from the epoch on by default), certified in one batch."""
    vf, vt = _ts(valid_from), _ts(valid_to)
    ring = Keyring.load(store).by_key
    todo = [(sid, public_key_hex(sk)) for sid, sk in keys.items()]
    for sid, _pk in todo:
        if store.get_source(sid) is None:
            raise KeyRegistryError(f"{sid}: source_id: unknown source (register the source first)")
    certs = [_certs.make_cert("register", sid, pk, valid_from=vf, valid_to=vt) for sid, pk in todo
             if pk not in ring or (ring[pk].source_id, ring[pk].valid_from, ring[pk].valid_to) != (sid, vf, vt)]
    if certs:
        _certs.append_certs(store, signer or _api.mission_signer(store), certs)
    return [register_key(store, sid, pk, valid_from=valid_from, valid_to=valid_to, signer=signer)
            for sid, pk in todo]


def public_key_hex(sk: SigningKey) -> str:
    return bytes(sk.verify_key).hex()


def sign_observation(obs: Observation, key: SigningKey) -> Observation:
    try:
        msg = signing_message(obs)
    except Exception as exc:  # rfc8785 refuses NaN, integers beyond 2**53, non-string keys
        raise ValueError(f"{obs.id}: attributes: cannot be canonicalized for signing: {exc}") from None
    sig = key.sign(msg).signature
    return obs.model_copy(update={"signature": binascii.b2a_base64(sig, newline=False).decode()})


def sign_observations(observations: Iterable[Observation], keys: dict[str, SigningKey]) -> list[Observation]:
    """Signed copies (signature = base64 Ed25519 over the canonical message).

    An observation whose source has no key raises KeyError naming it: the
    simulator must not produce unsigned evidence by accident.
    """
    out = []
    for o in observations:
        k = keys.get(o.source_id)
        if k is None:
            raise KeyError(f"{o.id}: source_id: no signing key for source {o.source_id!r}")
        out.append(sign_observation(o, k))
    return out


def write_signing_key(path: str | Path, key: SigningKey) -> None:
    """Private seed as hex in a 0600 file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(bytes(key).hex() + "\n")


def read_signing_key(path: str | Path) -> SigningKey:
    text = Path(path).read_text().strip()
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        raise KeyRegistryError(f"{path}: not a hex Ed25519 seed") from None
    if len(seed) != 32:
        raise KeyRegistryError(f"{path}: an Ed25519 seed has 32 bytes, got {len(seed)}")
    return SigningKey(seed)


# ------------------------------------------------------------- verification
@dataclass(slots=True)
class Verified:
    """An observation whose signature checked, with what the log needs."""

    obs: Observation
    canonical: bytes
    signature: str
    key: bytes  # raw public key that verified


_POOL: ProcessPoolExecutor | None = None
_CHUNK = 512


def _env_int(name: str, default: int) -> int:
    v = os.environ.get(name, "")
    try:
        return int(v) if v else default
    except ValueError:
        raise ValueError(f"{name}: {v!r} is not an integer") from None


def verify_processes() -> int:
    """Processes for signature checks (0: verify in the calling thread)."""
    cpus = os.cpu_count() or 1
    return _env_int("TRUCEWATCH_VERIFY_PROCESSES", cpus - 1 if cpus >= 4 else 0)


def _pool() -> ProcessPoolExecutor | None:
    global _POOL
    n = verify_processes()
    if n <= 0:
        return None
    if _POOL is None:
        import multiprocessing  # lazy: only when a process pool is first needed

        # forkserver: workers and services run threads (asyncio.to_thread, NATS), which fork must not copy
        _POOL = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("forkserver"))
    return _POOL


def _parallel(n: int, threads: bool) -> ProcessPoolExecutor | None:
    """The process pool when a batch of ``n`` is large enough to pay for the hand-off."""
    if not threads or n < _env_int("TRUCEWATCH_VERIFY_PROCESS_MIN", 2048):
        return None
    return _pool()


def _open_many(items: Sequence[tuple[bytes, bytes]]) -> list[bool]:
    out = []
    for sm, pk in items:
        try:
            crypto_sign_open(sm, pk)
            out.append(True)
        except BadSignatureError:
            out.append(False)
    return out


def verify_many(items: Sequence[tuple[bytes, bytes, bytes]], threads: bool = True) -> list[bool]:
    """Ed25519 verify of (signature, message, public key) triples (in the process pool
    for large batches; ``threads=False``: always in the calling thread)."""
    pairs = [(s + m, k) for s, m, k in items]
    pool = _parallel(len(pairs), threads)
    if pool is None:
        return _open_many(pairs)
    futs = [pool.submit(_open_many, pairs[i:i + _CHUNK]) for i in range(0, len(pairs), _CHUNK)]
    return [ok for f in futs for ok in f.result()]


def decode_signature(sig: str | None) -> bytes:
    """Base64 Ed25519 signature -> 64 bytes; ValueError with the reason."""
    if sig is None or sig == "":
        raise ValueError("missing: unsigned observations are not accepted")
    try:
        raw = binascii.a2b_base64(sig.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("not valid base64") from None
    if len(raw) != 64:
        raise ValueError(f"an Ed25519 signature has 64 bytes, got {len(raw)}")
    return raw


def verify_observations(observations: Sequence[Observation], keyring: Keyring, *, now: float | None = None,
                        threads: bool = True) -> tuple[list[Verified], list[RecordError]]:
    """Check every observation's signature against its source's registered keys.

    Returns the verified ones (in input order) and one RecordError per
    rejected observation naming it and the field: ``signature`` (missing, not
    base64, does not verify) or ``source_id`` (no key valid at its time).
    Canonicalization runs here while the process pool (large batches) verifies
    earlier chunks.  ``threads=False``: never use the pool.
    """
    now = time.time() if now is None else now
    errors: list[RecordError] = []
    pending: list[tuple[int, Observation, bytes, bytes, list[SourceKey]]] = []
    futures: list[tuple[Future[list[bool]], int]] = []
    chunk: list[tuple[bytes, bytes]] = []
    start = 0
    pool = _parallel(len(observations), threads)

    def flush() -> None:
        nonlocal chunk, start
        if chunk:
            if pool is not None:
                futures.append((pool.submit(_open_many, chunk), start))
            else:
                fut: Future[list[bool]] = Future()
                fut.set_result(_open_many(chunk))
                futures.append((fut, start))
            start += len(chunk)
            chunk = []

    for i, o in enumerate(observations):
        rec = o.id or f"#{i}"
        try:
            sig = decode_signature(o.signature)
        except ValueError as exc:
            errors.append(RecordError(rec, "signature", str(exc)))
            continue
        cands = keyring.candidates(o.source_id, o.time.timestamp(), now)
        if not cands:
            errors.append(RecordError(rec, "source_id", _no_key_reason(keyring, o, now)))
            continue
        try:
            canon = canonical_body(o)
        except Exception as exc:  # values JSON cannot carry (NaN, non-str keys...)
            errors.append(RecordError(rec, "attributes", f"cannot be canonicalized: {exc}"))
            continue
        pending.append((i, o, canon, sig, cands))
        chunk.append((sig + message_from_canonical(canon), cands[0].raw))
        if len(chunk) >= _CHUNK:
            flush()
    flush()
    oks = [ok for f, _ in futures for ok in f.result()]
    verified: list[tuple[int, Verified]] = []
    for (i, o, canon, sig, cands), ok in zip(pending, oks, strict=True):
        key = cands[0] if ok else None
        if key is None:
            for k in cands[1:]:  # rare: overlapping keys after rotation
                if _open_many([(sig + message_from_canonical(canon), k.raw)])[0]:
                    key = k
                    break
        if key is None:
            errors.append(RecordError(o.id, "signature", "does not verify with the key(s) registered for source "
                                      f"{o.source_id!r} ({', '.join(k.public_key[:16] for k in cands)}): "
                                      "content changed after signing, or signed with another key"))
            continue
        verified.append((i, Verified(o, canon, o.signature or "", key.raw)))
    verified.sort(key=lambda p: p[0])
    return [v for _, v in verified], errors


def _no_key_reason(keyring: Keyring, o: Observation, now: float) -> str:
    keys = keyring.by_source.get(o.source_id, [])
    if not keys:
        return f"no key registered for source {o.source_id!r}"
    t = o.time.timestamp()
    revoked = [k for k in keys if k.revoked_at is not None and (t >= k.revoked_at or now >= k.revoked_at)
               and t >= k.valid_from and (k.valid_to is None or t < k.valid_to)]
    if revoked:
        return f"key {revoked[0].public_key[:16]}… of source {o.source_id!r} was revoked at {revoked[0].revoked_at}"
    return f"no key of source {o.source_id!r} is valid at the observation time {o.time.isoformat()}"


def verify_detached(signature: bytes, message: bytes, public_key: bytes) -> bool:
    return _open_many([(signature + message, public_key)])[0]


__all__ = [
    "KeyRegistryError",
    "Keyring",
    "SourceKey",
    "Verified",
    "decode_signature",
    "generate_source_keys",
    "list_keys",
    "public_key_hex",
    "read_signing_key",
    "register_key",
    "register_source_keys",
    "revoke_key",
    "rotate_key",
    "sign_observation",
    "sign_observations",
    "verify_detached",
    "verify_many",
    "verify_observations",
    "write_signing_key",
]
