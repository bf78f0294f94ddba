"""What a source signs and what the log stores, byte for byte.

Signed message (Ed25519, RFC 8032):

    b"trucewatch-observation-v1\\n" || JCS(body)

where JCS is RFC 8785 JSON canonicalization (the ``rfc8785`` package) and
``body`` is the observation's JSON form (pydantic ``mode="json"``) restricted
to :data:`SIGNED_FIELDS`: id, source_id, kind, time, time_sigma_s, location
(lat, lon, err_major_m, err_minor_m, err_angle_deg, footprint), attributes and
payload_hash.  ``signature`` and ``ledger_index`` are about the record, not
what was observed, so they are not signed (the same body as the store's
``content_hash``).  The fixed prefix keeps a source key's signature over an
observation from being valid for anything else.

Log entry (the raw leaf data of the Merkle log):

    JCS({"key": <signer public key, 64 hex>, "observation": body,
         "signature": <base64 signature>, "v": 1})

so a mirrored log is self-contained: each entry carries what a party needs to
check the signature against the published key list, and the leaf hash
commits to observation, signature and key together.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from trucewatch.model import Observation

#: Version prefix of the signed message (domain separation).
SIGNING_CONTEXT = b"trucewatch-observation-v1\n"
#: Observation fields covered by the signature; every other model field must be
#: listed in UNSIGNED_FIELDS (a test fails when the model grows a field).
SIGNED_FIELDS: tuple[str, ...] = (
    "id", "source_id", "kind", "time", "time_sigma_s", "location", "attributes", "payload_hash",
)
UNSIGNED_FIELDS: tuple[str, ...] = ("signature", "ledger_index")
ENTRY_VERSION = 1

_INCLUDE = set(SIGNED_FIELDS)


def observation_body(obs: Observation) -> dict[str, Any]:
    """The signed JSON object of an observation."""
    return obs.model_dump(mode="json", include=_INCLUDE)


def canonical_body(obs: Observation) -> bytes:
    """JCS (RFC 8785) bytes of the signed body."""
    return rfc8785.dumps(observation_body(obs))


def signing_message(obs: Observation) -> bytes:
    return SIGNING_CONTEXT + canonical_body(obs)


def message_from_canonical(body: bytes) -> bytes:
    return SIGNING_CONTEXT + body


def entry_bytes(canonical: bytes, signature_b64: str, key_hex: str) -> bytes:
    """The log entry for a signed observation, built from its JCS body.

    Equal to ``rfc8785.dumps({"key": key_hex, "observation": body,
    "signature": signature_b64, "v": 1})``: the members are already in JCS
    order, and hex and base64 need no JSON escaping (checked here).
    """
    if not _SAFE.issuperset(signature_b64) or not _HEX.issuperset(key_hex):
        raise ValueError("signature must be base64 and key hex")
    return b"".join((b'{"key":"', key_hex.encode(), b'","observation":', canonical,
                     b',"signature":"', signature_b64.encode(), b'","v":', str(ENTRY_VERSION).encode(), b"}"))


def parse_entry(entry: bytes) -> dict[str, Any]:
    """Decode a log entry; raises ValueError naming what is wrong."""
    import json

    try:
        obj = json.loads(entry)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"entry is not JSON: {exc}") from None
    if not isinstance(obj, dict) or set(obj) != {"key", "observation", "signature", "v"}:
        raise ValueError("entry must be an object with key, observation, signature and v")
    if obj["v"] != ENTRY_VERSION:
        raise ValueError(f"entry version {obj['v']!r} is not {ENTRY_VERSION}")
    if not isinstance(obj["observation"], dict):
        raise ValueError("entry observation is not an object")
    if rfc8785.dumps(obj) != bytes(entry):
        raise ValueError("entry is not in RFC 8785 canonical form")
    return obj


_HEX = frozenset("0123456789abcdef")
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
