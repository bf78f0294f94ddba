"""Trust anchors a party keeps outside the store: the mission's log key(s),
the witnesses' keys, a quorum, and optionally the last checkpoint it saw.

Why: anything in the database can be rewritten by whoever administers it,
including the table of log keys and witness keys.  ``trucewatch verify``
therefore takes its anchors from flags or from a trust file (JSON or YAML,
format in docs/ledger.md):

    origin: monitoring.example.org/ua-ru-2026          # optional: checkpoints must carry it
    log_keys: ["monitoring.example.org/ua-ru-2026+1a2b3c4d+AQ..."]
    witness_keys: ["witness.party-a.example+...+BA...", "witness.party-b.example+...+BA..."]
    quorum: 2                                          # default: every listed witness
    last_checkpoint: party-a.last-checkpoint           # optional, path relative to the trust file
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trucewatch.errors import TruceWatchError
from trucewatch.ledger.checkpoint import ALG_COSIGNATURE_V1, ALG_ED25519, NoteError, NoteVerifier


class TrustError(TruceWatchError, ValueError):
    """A trust file or trust flag that cannot be used (names the field)."""


@dataclass
class Trust:
    """What a verifier trusts, independently of the store."""

    log_keys: list[str] = field(default_factory=list)
    witness_keys: list[str] = field(default_factory=list)
    quorum: int | None = None  # None: every witness key given
    origin: str | None = None
    since_checkpoint: str | None = None  # note text of the last checkpoint the party saw
    allow_unanchored: bool = False  # no log key from outside: check against the store's own keys (warned)
    allow_uncovered: bool = False  # entries no checkpoint covers: warn instead of fail

    @property
    def anchored(self) -> bool:
        return bool(self.log_keys)

    def log_verifiers(self) -> list[NoteVerifier]:
        return _verifiers("log_keys", self.log_keys, ALG_ED25519, "a log key is an Ed25519 (0x01) vkey")

    def witness_verifiers(self) -> list[NoteVerifier]:
        return _verifiers("witness_keys", self.witness_keys, ALG_COSIGNATURE_V1,
                          "a witness key is a cosignature/v1 (0x04) vkey")

    def required_quorum(self) -> int:
        n = len(self.witness_keys)
        q = n if self.quorum is None else self.quorum
        if not 0 <= q <= n:
            raise TrustError(f"quorum: {q} is not between 0 and the {n} witness key(s) given")
        return q


def _strs(data: dict[str, Any], name: str) -> list[str]:
    v = data.get(name, [])
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise TrustError(f"{name}: expected a list of vkey strings")
    return [x.strip() for x in v]


def load_trust(path: str | Path) -> Trust:
    """Read a trust file (JSON, or YAML when it does not parse as JSON)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustError(f"{p}: cannot read the trust file: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        import yaml  # lazy: only for YAML trust files

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise TrustError(f"{p}: neither JSON nor YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TrustError(f"{p}: the trust file must be a mapping with log_keys, witness_keys, quorum")
    unknown = set(data) - {"origin", "log_keys", "witness_keys", "quorum", "last_checkpoint"}
    if unknown:
        raise TrustError(f"{p}: {sorted(unknown)[0]}: unknown field")
    quorum = data.get("quorum")
    if quorum is not None and (isinstance(quorum, bool) or not isinstance(quorum, int)):
        raise TrustError(f"{p}: quorum: expected an integer, got {quorum!r}")
    origin = data.get("origin")
    if origin is not None and not isinstance(origin, str):
        raise TrustError(f"{p}: origin: expected a string")
    since = None
    if data.get("last_checkpoint"):
        cp = Path(str(data["last_checkpoint"]))
        cp = cp if cp.is_absolute() else p.parent / cp
        try:
            since = cp.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TrustError(f"{p}: last_checkpoint: cannot read {cp}: {exc}") from None
    t = Trust(_strs(data, "log_keys"), _strs(data, "witness_keys"), quorum, origin, since)
    t.log_verifiers()
    t.witness_verifiers()
    return t


def _verifiers(field: str, keys: list[str], alg: int, expected: str) -> list[NoteVerifier]:
    """Parse trust-anchor vkeys of one kind; a bad or wrong-kind key is named by its field and index."""
    out = []
    for i, v in enumerate(keys):
        try:
            nv = NoteVerifier.from_vkey(v)
        except NoteError as exc:
            raise TrustError(f"{field}[{i}]: {exc}") from None
        if nv.alg != alg:
            raise TrustError(f"{field}[{i}]: {expected}")
        out.append(nv)
    return out
