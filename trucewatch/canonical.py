"""What a source signs and what the log stores, byte for byte (below the store and the ledger:
the store hashes observations with it; ``trucewatch.ledger.canonical`` re-exports it).

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

import json
import re
from json.encoder import encode_basestring as _jstr
from typing import Any

import rfc8785

from trucewatch.errors import TruceWatchError
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
    """JCS (RFC 8785) bytes of the signed body: ``jcs(observation_body(obs))``.

    Written directly from the model's fields when they are plain (the signed
    object's keys are fixed, so their JCS order is too); anything unusual
    takes the generic path.  Equality with ``rfc8785.dumps(observation_body(obs))``
    is property-tested.
    """
    try:
        return _fast_body(obs)
    except (_Fallback, ValueError, TypeError, AttributeError, UnicodeEncodeError, OverflowError):
        return jcs(observation_body(obs))


def _fnum(x: Any) -> str:
    if type(x) is int:
        if -_INT_MAX <= x <= _INT_MAX:
            return str(x)
        raise _Fallback
    if type(x) is not float:
        raise _Fallback
    if x.is_integer():
        if -_INT_MAX <= x <= _INT_MAX:
            return str(int(x))
        raise _Fallback
    if 1e-4 <= abs(x) < 1e16:
        return repr(x)
    raise _Fallback


def _fstr(x: Any) -> str:
    if type(x) is not str:
        raise _Fallback
    return _jstr(x)


def _fany(x: Any) -> str:
    if x is None:
        return "null"
    s = _dumps(_prep(x))
    if not s.isascii() and _ASTRAL.search(s):
        raise _Fallback
    return s


def _fast_body(obs: Observation) -> bytes:
    # JCS member order: attributes, id, kind, location, payload_hash, source_id, time, time_sigma_s;
    # location: err_angle_deg, err_major_m, err_minor_m, footprint, lat, lon.
    t = obs.time
    iso = t.isoformat()
    if not iso.endswith("+00:00"):
        raise _Fallback
    kind = obs.kind
    kind = getattr(kind, "value", kind)
    loc = obs.location
    ph = obs.payload_hash
    parts = (
        '{"attributes":', _fany(obs.attributes),
        ',"id":', _fstr(obs.id),
        ',"kind":', _fstr(kind),
        ',"location":{"err_angle_deg":', _fnum(loc.err_angle_deg),
        ',"err_major_m":', _fnum(loc.err_major_m),
        ',"err_minor_m":', _fnum(loc.err_minor_m),
        ',"footprint":', _fany(loc.footprint),
        ',"lat":', _fnum(loc.lat),
        ',"lon":', _fnum(loc.lon),
        '},"payload_hash":', "null" if ph is None else _fstr(ph),
        ',"source_id":', _fstr(obs.source_id),
        ',"time":"', iso[:-6], 'Z"',
        ',"time_sigma_s":', _fnum(obs.time_sigma_s),
        "}",
    )
    return "".join(parts).encode("utf-8")


class _Fallback(TruceWatchError):
    pass


_INT_MAX = 2**53 - 1
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode


def _num(v: Any, t: type) -> Any:
    if t is float:
        if v.is_integer():
            if -_INT_MAX <= v <= _INT_MAX:
                return int(v)  # ECMAScript prints integral numbers without ".0" (and -0 as 0)
            raise _Fallback
        if 1e-4 <= abs(v) < 1e16:  # where repr() and ECMAScript agree (no exponent)
            return v
        raise _Fallback
    if -_INT_MAX <= v <= _INT_MAX:
        return v
    raise _Fallback


def _prep(v: Any) -> Any:
    """Make a JSON value whose json.dumps equals its JCS form, or raise _Fallback.

    Scalars inside containers are handled inline: this runs once per observation
    on the signature-checking path, where function calls are the cost.
    """
    t = type(v)
    if t is dict:
        out = {}
        for k, x in v.items():
            if type(k) is not str:
                raise _Fallback
            tx = type(x)
            if tx is str or x is None or tx is bool:
                out[k] = x
            elif tx is float or tx is int:
                out[k] = _num(x, tx)
            else:
                out[k] = _prep(x)
        return out
    if t is str or v is None or t is bool:
        return v
    if t is float or t is int:
        return _num(v, t)
    if t is list:
        return [_prep(x) for x in v]
    raise _Fallback


def jcs(obj: Any) -> bytes:
    """RFC 8785 canonical JSON: ``rfc8785.dumps(obj)``, byte for byte.

    A fast path serves plain JSON data with the C ``json`` encoder (sorted
    keys, no whitespace, no ASCII escaping), after turning integral floats into
    integers; the rfc8785 package handles everything the fast path is not sure
    about (floats below 1e-4 or above 2**53, keys outside the Basic
    Multilingual Plane, whose UTF-16 order differs, lone surrogates, errors).
    tests/ledger/test_canonical.py checks equality against rfc8785 with
    hypothesis.
    """
    try:
        s = _dumps(_prep(obj))
        if not s.isascii() and _ASTRAL.search(s):
            raise _Fallback
        return s.encode("utf-8")
    except (_Fallback, ValueError, UnicodeEncodeError, RecursionError):
        return rfc8785.dumps(obj)


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
    if jcs(obj) != bytes(entry):
        raise ValueError("entry is not in RFC 8785 canonical form")
    return obj


_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
_HEX = frozenset("0123456789abcdef")
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
