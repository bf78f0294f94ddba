"""Offline verification of a whole store or of a published export directory.

Checks, naming the entry (log index and observation id) of every failure:

- the stored tree is a consistent state (no cut write) and matches the last checkpoint;
- every checkpoint is signed by a log key, sizes never decrease, every
  cosignature by a registered witness verifies;
- every entry: its observation is present, unchanged (recomputed entry hash =
  logged leaf hash), at the index it claims (no reordering), signed by a key
  registered to its source and valid at its time;
- the entries hash to every checkpoint's root (so all checkpoints are
  consistent with each other and with the evidence).

Signatures are checked in batches in worker threads (trucewatch.ledger.keys.verify_many).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rfc8785

from trucewatch.ledger import merkle
from trucewatch.ledger.api import checkpoint_seq, log_verifiers, witnesses
from trucewatch.ledger.canonical import SIGNING_CONTEXT, canonical_body, entry_bytes, parse_entry
from trucewatch.ledger.certs import CERT_ID_PREFIX, CertError, check_cert_entry, load_certified, replay
from trucewatch.ledger.checkpoint import (
    Checkpoint,
    NoteError,
    NoteVerifier,
    SignedNote,
    add_signature_lines,
    open_checkpoint,
    verify_cosignatures,
)
from trucewatch.ledger.export import TILE_WIDTH, export_consistency_proof, tile_path
from trucewatch.ledger.keys import Keyring, SourceKey, decode_signature, verify_many
from trucewatch.ledger.log import LogCorruptError, MerkleLog
from trucewatch.ledger.trust import Trust, TrustError
from trucewatch.model import Observation
from trucewatch.store.store import Store

_sha256 = hashlib.sha256
_PAGE = 20_000


@dataclass
class Problem:
    entry: int | None
    observation_id: str | None
    what: str

    def __str__(self) -> str:
        where = "log" if self.entry is None else f"entry {self.entry}"
        if self.observation_id:
            where += f" (observation {self.observation_id})"
        return f"{where}: {self.what}"


@dataclass
class VerifyReport:
    size: int = 0
    root: str = ""
    checkpoints: int = 0
    cosignatures: int = 0
    entries_checked: int = 0
    signatures_checked: int = 0
    certificates: int = 0  # key certificate entries (source keys the mission certified)
    uncovered: int = 0  # entries past the latest checkpoint
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, entry: int | None, oid: str | None, what: str) -> None:
        self.problems.append(Problem(entry, oid, what))

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "size": self.size, "root": self.root, "checkpoints": self.checkpoints,
                "cosignatures": self.cosignatures, "entries_checked": self.entries_checked,
                "signatures_checked": self.signatures_checked, "certificates": self.certificates,
                "uncovered": self.uncovered,
                "problems": [{"entry": p.entry, "observation_id": p.observation_id, "what": p.what}
                             for p in self.problems[:1000]],
                "problem_count": len(self.problems), "warnings": self.warnings[:100]}


class _RootTracker:
    """Roots of growing prefixes of a leaf sequence (compact range), O(log n) memory."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []
        self.n = 0

    def push(self, h: bytes) -> None:
        lv, cur = 0, h
        while self.stack and self.stack[-1][0] == lv:
            cur = _sha256(b"\x01" + self.stack.pop()[1] + cur).digest()
            lv += 1
        self.stack.append((lv, cur))
        self.n += 1

    def root(self) -> bytes:
        if not self.stack:
            return merkle.EMPTY_ROOT
        r = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            r = _sha256(b"\x01" + h + r).digest()
        return r


def _check_key(keyring: Keyring, key: bytes, source_id: str, t: float) -> str | None:
    k: SourceKey | None = keyring.by_key.get(key.hex())
    if k is None:
        return (f"signed with key {key.hex()[:16]}…, which no key certificate of the mission in the log "
                "certifies (a key only in the key table is not trusted)")
    if k.source_id != source_id:
        return f"signed with a key of source {k.source_id!r}, not of {source_id!r}"
    if not k.covers(t):
        if k.revoked_at is not None and t >= k.revoked_at:
            return f"signing key {key.hex()[:16]}… was revoked at {k.revoked_at} before the observation time {t}"
        return f"signing key {key.hex()[:16]}… is not valid at the observation time {t}"
    return None


@dataclass
class _Anchors:
    verifiers: list[NoteVerifier]
    witnesses: list[NoteVerifier]
    quorum: int
    origin: str | None


def _anchors(report: VerifyReport, trust: Trust, store_keys: list[NoteVerifier], store_wits: list[NoteVerifier],
             store_origin: str | None) -> _Anchors:
    """Trust anchors from outside the store; the store's own keys only when explicitly allowed."""
    if trust.anchored:
        verifiers = trust.log_verifiers()
        pinned = {v.vkey() for v in verifiers}
        extra = [v.name for v in store_keys if v.vkey() not in pinned]
        if extra:
            report.warnings.append(f"the store lists log key(s) you did not pin ({', '.join(extra)}); "
                                   "nothing they sign is trusted")
        wits = trust.witness_verifiers()
        return _Anchors(verifiers, wits, trust.required_quorum(), trust.origin or store_origin)
    msg = ("unanchored: no log key from outside the store (give --log-key VKEY or --trust FILE); whoever can write "
           "the database could have replaced the store's own log key")
    if trust.allow_unanchored:
        report.warnings.append(msg + "; checked against the store's own keys because --allow-unanchored was given")
    else:
        report.add(None, None, msg)
    wits = trust.witness_verifiers() or store_wits
    q = trust.quorum or 0
    if q > len(wits):
        raise TrustError(f"quorum: {q} is more than the {len(wits)} witness key(s) known")
    return _Anchors(store_keys, wits, q, trust.origin or store_origin)


def _check_checkpoints(report: VerifyReport, cps: list[dict[str, Any]], verifiers: list[NoteVerifier],
                       wits: list[NoteVerifier], origin: str | None) -> list[tuple[int, bytes, str]]:
    """Signature, cosignatures and ordering of each checkpoint; returns (size, root, label) of the good ones.

    Each good checkpoint dict gets ``cosigners`` (trusted witness names whose
    cosignature verifies) and ``signed_seq`` (its signed sequence number or None)."""
    good: list[tuple[int, bytes, str]] = []
    last = -1
    for c in cps:
        label = c["label"]
        try:
            cp = open_checkpoint(c["note"], verifiers, origin=origin)
        except NoteError as exc:
            report.add(None, None, f"{label}: {exc}")
            continue
        if c.get("size") is not None and (cp.size != c["size"] or cp.root != c["root"]):
            report.add(None, None, f"{label}: stored size/root differ from the signed note")
        if cp.size < last:
            report.add(None, None, f"{label}: size {cp.size} is smaller than an earlier checkpoint's {last}")
        last = max(last, cp.size)
        c["cosigners"] = set()
        c["signed_seq"] = checkpoint_seq(cp)
        c["signed_head"] = (cp.size, cp.root)
        c["good"] = True
        for line in c.get("cosignatures", []):
            try:
                n = verify_cosignatures(add_signature_lines(c["note"], [line]), wits)
                if n:
                    report.cosignatures += 1
                    c["cosigners"].update(n)
                else:
                    report.warnings.append(f"{label}: cosignature by a witness you do not trust ignored")
            except NoteError as exc:
                report.add(None, None, f"{label}: {exc}")
        good.append((cp.size, cp.root, label))
    report.checkpoints = len(good)
    return good


def _check_sequence(report: VerifyReport, cps: list[dict[str, Any]]) -> None:
    """A deleted older checkpoint leaves a gap in the signed sequence numbers."""
    good = [c for c in cps if c.get("good")]
    pairs = [(c["signed_seq"], c["signed_head"]) for c in good if c["signed_seq"] is not None]
    first = 1 if len(pairs) == len(good) else min((n for n, _ in pairs), default=1)
    if not pairs:  # checkpoints from before signed numbers: the table's numbering is all there is
        pairs = [(c["seq"], c["signed_head"]) for c in good if c.get("seq") is not None]
    seen: dict[int, Any] = {}
    expect = first
    for n, head in pairs:
        if n in seen:
            if seen[n] != head:  # the same checkpoint listed twice (a mirror's latest) is fine
                report.add(None, None, f"checkpoint number {n} was signed twice for different trees "
                                       "(a second history)")
            continue
        if n > expect:
            gap = f"#{expect}" if n == expect + 1 else f"#{expect}..#{n - 1}"
            report.add(None, None, f"checkpoint(s) {gap} missing before checkpoint #{n}: deleted from the store")
        elif n < expect:
            report.add(None, None, f"checkpoint #{n} is out of order (after #{expect - 1})")
        seen[n] = head
        expect = max(expect, n + 1)


def _check_quorum(report: VerifyReport, cps: list[dict[str, Any]], anchors: _Anchors) -> None:
    if anchors.quorum <= 0:
        return
    good = [c for c in cps if c.get("good")]
    if not good:
        report.add(None, None, f"no checkpoint to check the witness quorum ({anchors.quorum}) on")
        return
    latest = good[-1]
    have = sorted(latest["cosigners"])
    if len(have) < anchors.quorum:
        witnessed = [c for c in good if len(c["cosigners"]) >= anchors.quorum]
        last_ok = (f"; the last checkpoint that has it is {witnessed[-1]['label']}" if witnessed
                   else "; no checkpoint has it (history rewritten, or the witnesses never ran)")
        report.add(None, None, f"{latest['label']}: {len(have)} of the required {anchors.quorum} witness "
                               f"cosignatures ({', '.join(have) or 'none'}){last_ok}")


def _check_since(report: VerifyReport, since_note: str, anchors: _Anchors, latest: tuple[int, bytes, str] | None,
                 proof_fn: Any, targets: set[int]) -> Checkpoint | None:
    """The party's last seen checkpoint must be a prefix of the latest one (RFC 6962 consistency proof)."""
    try:
        old = open_checkpoint(since_note, anchors.verifiers, origin=anchors.origin)
    except NoteError as exc:
        report.add(None, None, f"--since-checkpoint: the checkpoint you gave does not verify with your log key(s): "
                               f"{exc}")
        return None
    if latest is None:
        report.add(None, None, f"rollback: you saw a checkpoint of size {old.size}, the log has no checkpoint")
        return None
    size, root, label = latest
    if old.size > size:
        report.add(None, None, f"rollback: you saw a checkpoint of size {old.size}, the latest ({label}) has only "
                               f"{size} entries: entries {size}..{old.size - 1} were cut and newer checkpoints "
                               "dropped")
        return None
    try:
        proof = proof_fn(old.size, size)
        merkle.verify_consistency_hashes(old.size, size, old.root, root, proof)
    except (merkle.MerkleError, LogCorruptError, OSError, ValueError) as exc:
        report.add(None, None, f"fork: the checkpoint you saw (size {old.size}) is not consistent with {label}: "
                               f"{type(exc).__name__}: {exc}")
        return None
    targets.add(old.size)
    return old


def verify_store(store: Store, trust: Trust | None = None, *, log_keys: list[str] | None = None) -> VerifyReport:
    """Verify everything in a store (see module doc) against ``trust``: anchors
    from outside the store (``log_keys``: shorthand for ``Trust(log_keys=...)``)."""
    trust = trust or Trust(log_keys=list(log_keys or []))
    report = VerifyReport()
    try:
        log = MerkleLog(store)
        size, root = log.state()
    except LogCorruptError as exc:
        report.add(None, None, str(exc))
        return report
    report.size, report.root = size, root.hex()
    try:
        log.check()
    except LogCorruptError as exc:
        report.add(None, None, str(exc))
    store_origin = store.ledger.any_origin()
    anchors = _anchors(report, trust, log_verifiers(store), witnesses(store), store_origin)
    cps = [{**c, "label": f"checkpoint #{c['seq']} (size {c['size']})"} for c in log.checkpoints()]
    if not cps:
        report.warnings.append("the log has no checkpoint: nothing is signed by the mission yet")
    good = _check_checkpoints(report, cps, anchors.verifiers, anchors.witnesses, anchors.origin)
    _check_sequence(report, cps)
    _check_quorum(report, cps, anchors)
    certified = load_certified(store, [v.public for v in anchors.verifiers])
    for i, eid, what in certified.problems:
        report.add(i, eid, what)
    keyring = certified.keyring
    stored = dict(log.leaf_hashes(0, size))
    tracker = _RootTracker()
    targets_set = {s for s, _, _ in good}
    latest = max(good, key=lambda g: g[0]) if good else None
    since = None
    if trust.since_checkpoint:
        since = _check_since(report, trust.since_checkpoint, anchors, latest, log.consistency_proof, targets_set)
    targets = sorted(targets_set)
    roots_at: dict[int, bytes] = {}
    if 0 in targets:
        roots_at[0] = merkle.EMPTY_ROOT
    claimed: dict[str, int] = {}
    covered = latest[0] if latest else 0
    uncovered: list[tuple[int, str | None]] = []
    late_certs = 0
    expected = 0

    def pages() -> Iterator[list[tuple[int, str, bytes]]]:
        buf: list[tuple[int, str, bytes]] = []
        for row in log.leaves(0, size):
            buf.append(row)
            if len(buf) >= _PAGE:
                yield buf
                buf = []
        if buf:
            yield buf

    for rows in pages():
        items = []
        metas = []
        found = {o.id: o for o in store.get_observations([oid for _, oid, _ in rows])}
        for i, oid, key in rows:
            while expected < i:  # a gap in the entry table
                report.add(expected, None, "missing from the log's entry table (deleted or cut)")
                tracker.push(stored.get(expected, b"\0" * 32))
                expected += 1
                _mark(tracker, targets, roots_at)
            expected = i + 1
            report.entries_checked += 1
            if i >= covered:
                uncovered.append((i, oid))
            logged = stored.get(i)
            cert = certified.entries.get(i)
            if cert is not None or oid.startswith(CERT_ID_PREFIX):
                if cert is None:
                    report.add(i, oid, "key certificate entry is missing from the store (deleted)")
                    h = logged or b"\0" * 32
                else:
                    h = _sha256(b"\x00" + cert).digest()
                    report.certificates += 1
                tracker.push(h)
                _mark(tracker, targets, roots_at)
                continue
            obs = found.get(oid)
            canon = entry = None
            if obs is not None and obs.signature:
                try:
                    canon = canonical_body(obs)
                    entry = entry_bytes(canon, obs.signature, key.hex())
                except Exception:  # stored content that cannot be canonicalized or a non-base64 signature
                    canon = entry = None
            claimed[oid] = i
            if obs is None:
                report.add(i, oid, "observation is missing from the store (deleted)")
                h = logged or b"\0" * 32
            elif entry is None:
                report.add(i, oid, "stored observation has no signature or cannot be canonicalized")
                h = logged or b"\0" * 32
            else:
                assert canon is not None  # entry is built from canon, so both are set here
                h = _sha256(b"\x00" + entry).digest()
                if obs.ledger_index != i:
                    report.add(i, oid, f"observation records ledger_index {obs.ledger_index}, not {i} "
                                       "(entries reordered or index edited)")
                if logged is None:
                    report.add(i, oid, "leaf hash missing from the stored tree")
                elif h != logged:
                    report.add(i, oid, "stored evidence differs from the logged entry (changed, or entries reordered)")
                why = _check_key(keyring, key, obs.source_id, obs.time.timestamp())
                if why:
                    report.add(i, oid, why)
                elif certified.certified_at.get(key.hex(), -1) > i:
                    late_certs += 1
                try:
                    sig = decode_signature(obs.signature)
                    items.append((sig, SIGNING_CONTEXT + canon, key))
                    metas.append((i, oid))
                except ValueError as exc:
                    report.add(i, oid, f"signature {exc}")
            tracker.push(h)
            _mark(tracker, targets, roots_at)
        for (i, oid), ok in zip(metas, verify_many(items), strict=True):
            report.signatures_checked += 1
            if not ok:
                report.add(i, oid, "signature does not verify: the evidence was changed or the signature forged")
    while expected < size:
        report.add(expected, None, "missing from the log's entry table (deleted or cut)")
        tracker.push(stored.get(expected, b"\0" * 32))
        if expected >= covered:
            uncovered.append((expected, None))
        expected += 1
        _mark(tracker, targets, roots_at)
    for s, r, label in good:
        got = roots_at.get(s)
        if got is None:
            report.add(None, None, f"{label}: the log holds fewer than {s} entries (entries lost)")
        elif got != r:
            report.add(None, None, f"{label}: the stored entries do not hash to the signed root "
                                   f"({got.hex()[:16]}… vs {r.hex()[:16]}…): evidence or tree rewritten")
    if since is not None and roots_at.get(since.size, since.root) != since.root:
        report.add(None, None, f"fork: the stored entries do not hash to the checkpoint you saw (size {since.size})")
    if late_certs:
        report.warnings.append(f"{late_certs} entries are signed by keys certified only later in the log "
                               "(stores from before key certificates; see `ledger certify-keys`)")
    _report_uncovered(report, uncovered, trust.allow_uncovered)
    _check_claims(store, report, claimed)
    return report


def _report_uncovered(report: VerifyReport, uncovered: list[tuple[int, str | None]], allow: bool) -> None:
    """Entries past the latest checkpoint are signed by nobody yet: they could be dropped unnoticed."""
    if not uncovered:
        return
    report.uncovered = len(uncovered)
    what = "not covered by any signed checkpoint (could be changed or dropped unnoticed)"
    if allow:
        a, b = uncovered[0], uncovered[-1]
        report.warnings.append(f"{len(uncovered)} entries (entry {a[0]} ({a[1]}) .. entry {b[0]} ({b[1]})) "
                               f"are {what}")
        return
    for i, oid in uncovered:
        report.add(i, oid, what)


def _mark(tracker: _RootTracker, targets: list[int], roots_at: dict[int, bytes]) -> None:
    if tracker.n in targets:
        roots_at[tracker.n] = tracker.root()


def _check_claims(store: Store, report: VerifyReport, claimed: dict[str, int]) -> None:
    """Observations whose ledger_index points at an entry that is not theirs, and
    stored observations that are not in the log at all (not provable evidence).
    Entries acknowledged and queued for the integrator are a warning: they are
    durable, but no tree or checkpoint covers them yet."""
    queued = 0
    with store.ledger.connect() as c:
        inq = c.queued_observation_ids()
    for oid, idx, sig in store.ledger.observation_claims():
        if oid in claimed and idx == claimed[oid]:
            continue
        if idx is None and oid in inq:
            queued += 1
            continue
        if idx is None:
            why = ("signed but not in the log (interrupted ingest: run `trucewatch ledger reconcile`)"
                   if sig else "unsigned and not in the log: stored without `ingest_signed`")
            report.add(None, oid, why)
        else:
            report.add(int(idx), oid, "observation claims this log index, but the entry there is another "
                                      "observation (reordered or index edited)")
    if queued:
        report.warnings.append(f"{queued} acknowledged entries wait in the ingest queue for the integrator "
                               "(not yet in the tree; run `trucewatch ledger reconcile` if no integrator runs)")


# ------------------------------------------------------------------ export
def _read_tile(root: Path, level: int | str, n: int, width: int) -> bytes | None:
    p = root / tile_path(level, n, width)
    return p.read_bytes() if p.exists() else None


def verify_export(out_dir: str | Path, trust: Trust | None = None, *, log_keys: list[str] | None = None
                  ) -> VerifyReport:
    """Verify a static export directory without the service or its database, against ``trust``."""
    trust = trust or Trust(log_keys=list(log_keys or []))

    root = Path(out_dir)
    report = VerifyReport()
    try:
        keys = json.loads((root / "keys.json").read_text())
        note_text = (root / "checkpoint").read_text()
    except (OSError, ValueError) as exc:
        report.add(None, None, f"export is incomplete: {exc}")
        return report
    try:
        anchors = _anchors(report, trust, [NoteVerifier.from_vkey(v) for v in keys.get("log_keys", [])],
                           [NoteVerifier.from_vkey(v) for v in keys.get("witnesses", [])], keys.get("origin"))
    except NoteError as exc:
        report.add(None, None, f"keys.json: {exc}")
        return report
    verifiers, wits = anchors.verifiers, anchors.witnesses
    trusted = [v.public for v in verifiers]
    certs: list[tuple[int, dict[str, Any]]] = []
    signed_by: list[tuple[int, str, bytes, str, float]] = []
    hist: list[dict[str, Any]] = []
    cdir = root / "checkpoints"
    for p in sorted(cdir.iterdir()) if cdir.is_dir() else []:
        hist.append({"note": p.read_text(), "label": f"checkpoints/{p.name}", "size": None, "seq": None})
    if hist and hist[-1]["note"] == note_text:  # the latest is also the newest of the history
        hist[-1]["label"] = "checkpoint"
    else:
        hist.append({"note": note_text, "label": "checkpoint", "size": None, "seq": None})
    for c in hist:  # split cosignature lines off so each is checked
        try:
            note = SignedNote.parse(c["note"])
            body_sig = SignedNote(note.body, note.signatures[:1]).text()
            c["cosignatures"] = [line for line in c["note"][len(body_sig):].split("\n") if line]
            c["note"] = body_sig
        except NoteError as exc:
            report.add(None, None, f"{c['label']}: {exc}")
            c["bad"] = True
    good = _check_checkpoints(report, [c for c in hist if not c.get("bad")], verifiers, wits, anchors.origin)
    _check_sequence(report, hist)
    _check_quorum(report, hist, anchors)
    try:
        top = Checkpoint.parse_body(SignedNote.parse(note_text).body)
    except NoteError:
        return report
    if not any(lbl == "checkpoint" for _, _, lbl in good):
        return report
    size = top.size
    report.size, report.root = size, top.root.hex()
    if any(s > size for s, _, _ in good):
        report.add(None, None, "a historical checkpoint is larger than the latest one (rollback)")
    tracker = _RootTracker()
    targets_set = {s for s, _, _ in good}
    since = None
    if trust.since_checkpoint:
        since = _check_since(report, trust.since_checkpoint, anchors, (size, top.root, "checkpoint"),
                             lambda a, b: export_consistency_proof(root, a, b), targets_set)
    targets = sorted(targets_set)
    roots_at: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in targets else {}
    items: list[tuple[bytes, bytes, bytes]] = []
    metas: list[tuple[int, str]] = []
    for t in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        lo, hi = t * TILE_WIDTH, min(size, (t + 1) * TILE_WIDTH)
        bundle = _read_tile(root, "entries", t, hi - lo)
        hashes = _read_tile(root, 0, t, hi - lo)
        if bundle is None:
            report.add(lo, None, f"entry bundle for entries {lo}..{hi - 1} is missing")
            return report
        if hashes is None or len(hashes) != 32 * (hi - lo):
            report.add(lo, None, f"hash tile for entries {lo}..{hi - 1} is missing or cut")
            hashes = b""
        pos = 0
        for i in range(lo, hi):
            if pos + 2 > len(bundle) or pos + 2 + int.from_bytes(bundle[pos:pos + 2], "big") > len(bundle):
                report.add(i, None, f"entry bundle {t} is cut mid-write at byte {pos}")
                return report
            n = int.from_bytes(bundle[pos:pos + 2], "big")
            entry = bundle[pos + 2:pos + 2 + n]
            pos += 2 + n
            h = _sha256(b"\x00" + entry).digest()
            if hashes and hashes[(i - lo) * 32:(i - lo + 1) * 32] != h:
                report.add(i, None, "entry differs from the published leaf hash")
            tracker.push(h)
            _mark(tracker, targets, roots_at)
            report.entries_checked += 1
            if entry.startswith(b'{"cert":'):  # a key certificate (JCS puts "cert" first)
                try:
                    certs.append((i, check_cert_entry(entry, trusted)))
                    report.certificates += 1
                except CertError as exc:
                    report.add(i, None, f"key certificate rejected: {exc}")
                continue
            try:
                e = parse_entry(entry)
                o = Observation.model_validate(e["observation"])
                key = bytes.fromhex(e["key"])
                sig = decode_signature(e["signature"])
            except Exception as exc:
                report.add(i, None, f"malformed entry: {exc}")
                continue
            signed_by.append((i, o.id, key, o.source_id, o.time.timestamp()))
            items.append((sig, SIGNING_CONTEXT + rfc8785.dumps(e["observation"]), key))
            metas.append((i, o.id))
        if pos != len(bundle):
            report.add(hi - 1, None, f"entry bundle {t} has {len(bundle) - pos} extra bytes")
    for (i, oid), ok in zip(metas, verify_many(items), strict=True):
        report.signatures_checked += 1
        if not ok:
            report.add(i, oid, "signature does not verify: the evidence was changed or the signature forged")
    ring_keys, _first, cert_problems = replay(certs)
    for i, what in cert_problems:
        report.add(i, None, what)
    keyring = Keyring(ring_keys)
    for i, oid, key, sid, at in signed_by:
        why = _check_key(keyring, key, sid, at)
        if why:
            report.add(i, oid, why)
    if since is not None and roots_at.get(since.size, since.root) != since.root:
        report.add(None, None, f"fork: the published entries do not hash to the checkpoint you saw (size {since.size})")
    for s, r, label in good:
        got = roots_at.get(s)
        if got is None:
            report.add(None, None, f"{label}: the export holds fewer than {s} entries")
        elif got != r:
            report.add(None, None, f"{label}: the published entries do not hash to the signed root")
    return report
