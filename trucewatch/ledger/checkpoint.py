"""Checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, with cosignatures.

Formats (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note,
https://c2sp.org/tlog-cosignature), as used by Go's golang.org/x/mod/sumdb/note,
Sigstore Rekor v2, Tessera and the Armored Witness:

    <origin>\\n
    <tree size, decimal>\\n
    <root hash, standard base64>\\n
    [extension lines]\\n
    \\n
    — <key name> <base64(key ID || signature)>\\n      (one line per signature)

- Log signature: Ed25519 over the note body (everything before the blank
  line, including its final newline); key ID = SHA-256(name || 0x0A || 0x01
  || public key)[:4].  Verifier key ("vkey"): ``name+hex(key ID)+base64(0x01 ||
  public key)``; private key file: ``PRIVATE+KEY+name+hex(key ID)+base64(0x01 || seed)``.
- Cosignature (cosignature/v1): key ID = SHA-256(name || 0x0A || 0x04 ||
  public key)[:4]; signature = base64(key ID || u64 big-endian timestamp ||
  Ed25519 signature over "cosignature/v1\\ntime <timestamp>\\n" || body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from trucewatch.errors import TruceWatchError

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
EM_DASH = "\u2014"
_NAME_RE = re.compile(r"^[^\s+]+$")


class NoteError(TruceWatchError, ValueError):
    """A checkpoint or signed note that cannot be trusted."""


class MalformedNoteError(NoteError):
    """Not a well-formed signed note / checkpoint."""


class UnknownKeyError(NoteError):
    """No signature by a known key (name and key ID) on the note."""


class BadNoteSignatureError(NoteError):
    """A signature by a known key that does not verify."""


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(s: str, what: str) -> bytes:
    try:
        return binascii.a2b_base64(s.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MalformedNoteError(f"{what}: not standard base64") from None


def key_id(name: str, alg: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or not _NAME_RE.match(name):
        raise MalformedNoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


# -------------------------------------------------------------------- keys
@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 note signer (the mission's log key, or a witness with alg 0x04)."""

    name: str
    key: SigningKey
    alg: int = ALG_ED25519

    @classmethod
    def generate(cls, name: str, alg: int = ALG_ED25519) -> NoteSigner:
        return cls(_check_name(name), SigningKey.generate(), alg)

    @property
    def public(self) -> bytes:
        return bytes(self.key.verify_key)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public)

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.alg]) + self.public)}"

    def verifier(self) -> NoteVerifier:
        return NoteVerifier.from_vkey(self.vkey())

    def private_key_string(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{_b64(bytes([self.alg]) + bytes(self.key))}"

    @classmethod
    def from_private_key_string(cls, text: str) -> NoteSigner:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise MalformedNoteError("private key must be PRIVATE+KEY+name+keyid+base64")
        name, kid, blob = parts[2], parts[3], _unb64(parts[4], "private key")
        if len(blob) != 33 or blob[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise MalformedNoteError("private key must hold an Ed25519 seed (0x01 or 0x04 + 32 bytes)")
        s = cls(_check_name(name), SigningKey(blob[1:]), blob[0])
        if s.key_id.hex() != kid.lower():
            raise MalformedNoteError(f"private key {name}: key ID {kid} does not match the key")
        return s

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message).signature


@dataclass(frozen=True)
class NoteVerifier:
    name: str
    public: bytes
    alg: int = ALG_ED25519

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public)

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise MalformedNoteError(f"verifier key {vkey!r} must be name+keyid+base64")
        name, kid, blob = parts[0], parts[1], _unb64(parts[2], "verifier key")
        if len(blob) != 33 or blob[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise MalformedNoteError(f"verifier key {name}: only Ed25519 (0x01) and cosignature/v1 (0x04) keys")
        v = cls(_check_name(name), blob[1:], blob[0])
        if v.key_id.hex() != kid.lower():
            raise MalformedNoteError(f"verifier key {name}: key ID {kid} does not match the key")
        return v

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{_b64(bytes([self.alg]) + self.public)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            VerifyKey(self.public).verify(message, signature)
            return True
        except (BadSignatureError, ValueError):
            return False


# ------------------------------------------------------------ checkpoints
@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        if not self.origin or "\n" in self.origin:
            raise MalformedNoteError("origin must be one non-empty line")
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse_body(cls, body: str) -> Checkpoint:
        if not body.endswith("\n"):
            raise MalformedNoteError("checkpoint body must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedNoteError(f"checkpoint body has {len(lines)} lines; needs origin, size and root")
        origin, size_s, root_s = lines[:3]
        if not origin:
            raise MalformedNoteError("checkpoint origin line is empty")
        if not size_s.isdigit() or (len(size_s) > 1 and size_s[0] == "0"):
            raise MalformedNoteError(f"checkpoint size {size_s!r} is not a decimal without leading zeros")
        root = _unb64(root_s, "checkpoint root")
        if len(root) != 32:
            raise MalformedNoteError(f"checkpoint root has {len(root)} bytes, not 32")
        if any(not x for x in lines[3:]):
            raise MalformedNoteError("checkpoint extension lines must not be empty")
        return cls(origin, int(size_s), root, tuple(lines[3:]))


@dataclass
class SignedNote:
    body: str
    signatures: list[tuple[str, bytes, bytes]] = field(default_factory=list)  # (name, key ID, signature bytes)

    def text(self) -> str:
        sigs = "".join(f"{EM_DASH} {n} {_b64(k + s)}\n" for n, k, s in self.signatures)
        return self.body + "\n" + sigs

    @classmethod
    def parse(cls, text: str) -> SignedNote:
        if not isinstance(text, str):
            raise MalformedNoteError("note must be text")
        if not text.endswith("\n"):
            raise MalformedNoteError("note must end with a newline (cut mid-write?)")
        cut = text.rfind("\n\n")
        if cut < 0:
            raise MalformedNoteError("note has no blank line before its signatures")
        body, sig_text = text[:cut + 1], text[cut + 2:]
        sigs = []
        for line in sig_text[:-1].split("\n") if sig_text else []:
            if not line.startswith(EM_DASH + " "):
                raise MalformedNoteError(f"signature line {line[:40]!r} does not start with '— '")
            rest = line[2:].split(" ")
            if len(rest) != 2:
                raise MalformedNoteError(f"signature line {line[:40]!r} must be '— name signature'")
            blob = _unb64(rest[1], f"signature of {rest[0]}")
            if len(blob) < 5:
                raise MalformedNoteError(f"signature of {rest[0]} is too short")
            sigs.append((rest[0], blob[:4], blob[4:]))
        if not sigs:
            raise MalformedNoteError("note has no signatures")
        return cls(body, sigs)


def sign_checkpoint(cp: Checkpoint, signer: NoteSigner) -> str:
    body = cp.body()
    return SignedNote(body, [(signer.name, signer.key_id, signer.sign(body.encode()))]).text()


def open_checkpoint(note_text: str, verifiers: Iterable[NoteVerifier], *, origin: str | None = None) -> Checkpoint:
    """Parse a signed checkpoint and check it carries a valid signature by one
    of ``verifiers`` (the mission's log keys).  Raises MalformedNoteError,
    UnknownKeyError or BadNoteSignatureError."""
    note = SignedNote.parse(note_text)
    cp = Checkpoint.parse_body(note.body)
    if origin is not None and cp.origin != origin:
        raise UnknownKeyError(f"checkpoint origin {cp.origin!r} is not this log's {origin!r}")
    known = {(v.name, v.key_id): v for v in verifiers if v.alg == ALG_ED25519}
    found = False
    for name, kid, sig in note.signatures:
        v = known.get((name, kid))
        if v is None:
            continue
        found = True
        if not v.verify(note.body.encode(), sig):
            raise BadNoteSignatureError(f"checkpoint size {cp.size}: the signature by {name} does not verify")
    if not found:
        names = ", ".join(n for n, _, _ in note.signatures)
        raise UnknownKeyError(f"checkpoint size {cp.size} is signed only by unknown keys ({names})")
    return cp


# ------------------------------------------------------------- cosignatures
def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {int(timestamp)}\n".encode() + body.encode()


def cosign(note_text: str, witness: NoteSigner, timestamp: int) -> str:
    """A cosignature/v1 signature line for the note (no trailing newline)."""
    if witness.alg != ALG_COSIGNATURE_V1:
        raise MalformedNoteError("a witness key must be a cosignature/v1 (0x04) key")
    if not 0 <= timestamp < 2**63:
        raise MalformedNoteError("cosignature timestamp out of range")
    note = SignedNote.parse(note_text)
    sig = witness.sign(cosigned_message(note.body, timestamp))
    blob = witness.key_id + int(timestamp).to_bytes(8, "big") + sig
    return f"{EM_DASH} {witness.name} {_b64(blob)}"


def verify_cosignatures(note_text: str, witnesses: Sequence[NoteVerifier]) -> dict[str, int]:
    """{witness name: timestamp} of the valid cosignatures by known witnesses;
    a known witness's signature that does not verify raises BadNoteSignatureError."""
    note = SignedNote.parse(note_text)
    known = {(w.name, w.key_id): w for w in witnesses if w.alg == ALG_COSIGNATURE_V1}
    out: dict[str, int] = {}
    for name, kid, blob in note.signatures:
        w = known.get((name, kid))
        if w is None:
            continue
        if len(blob) != 8 + 64:
            raise BadNoteSignatureError(f"cosignature by {name} has the wrong length")
        ts = int.from_bytes(blob[:8], "big")
        if not w.verify(cosigned_message(note.body, ts), blob[8:]):
            raise BadNoteSignatureError(f"cosignature by {name} does not verify")
        out[name] = ts
    return out


def add_signature_lines(note_text: str, lines: Sequence[str]) -> str:
    """The note with extra signature lines (cosignatures) appended."""
    SignedNote.parse(note_text)
    return note_text + "".join(line.rstrip("\n") + "\n" for line in lines)
