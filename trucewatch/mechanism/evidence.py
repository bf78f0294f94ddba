"""The one place the mechanism writes to the evidence log.

An allegation is evidence: it becomes a signed observation (kind
``report_claim``, source ``mission:allegations``) that goes through the
ledger's ordinary signed ingest (:func:`trucewatch.ledger.ingest_signed`), so
it is hashed, stored and appended to the Merkle log like any other evidence and
checked by ``trucewatch verify`` and the witnesses without special cases.

Whose key signs it: the *mission's* allegation key, not the submitter's.
Liaisons, monitors and the public authenticate with bearer tokens and hold no
signing key; the service signs what it received, on their behalf, with a key
registered for the ``mission:allegations`` source (as the mission signs its
checkpoints), and records the submitter (token actor) inside the signed body.
So the log proves *what the mission received, when, from which account*; a
party that wants its own signature on a claim submits a signed observation
through ``POST /api/v1/observations`` with its own registered source key and
cites it in the allegation.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from trucewatch.ledger import ingest_signed
from trucewatch.ledger.keys import (
    list_keys,
    public_key_hex,
    read_signing_key,
    register_source_keys,
    sign_observation,
    write_signing_key,
)
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind

SOURCE_ID = "mission:allegations"
_lock = threading.Lock()
_keys: dict[str, Any] = {}


def _signing_key(store: Any, key_file: str | None) -> Any:
    """The mission's allegation key (from ``key_file``, created 0600 if missing; else one per process),
    registered for :data:`SOURCE_ID` from now on."""
    cache_key = f"{id(store)}:{key_file}"
    with _lock:
        sk = _keys.get(cache_key)
        if sk is not None:
            return sk
        if key_file and Path(key_file).exists():
            sk = read_signing_key(key_file)
        else:
            sk = SigningKey.generate()
            if key_file:
                write_signing_key(key_file, sk)
        if store.get_source(SOURCE_ID) is None:
            store.add_sources([Source(id=SOURCE_ID, kind=SourceKind.MONITOR_TEAM, name="Allegations received by the mission",
                                      reliability=0.5)])
        if public_key_hex(sk) not in {k.public_key for k in list_keys(store, SOURCE_ID)}:
            register_source_keys(store, {SOURCE_ID: sk}, valid_from=0.0)
        _keys[cache_key] = sk
        return sk


def log_allegation(store: Any, allegation: dict[str, Any], key_file: str | None = None) -> tuple[str, int | None]:
    """Sign the allegation as an observation and append it to the log; (observation id, ledger index)."""
    sk = _signing_key(store, key_file)
    t_from, t_to = allegation["t_from"], allegation["t_to"]
    obs = Observation(
        id=f"allegation:{allegation['id']}", source_id=SOURCE_ID, kind=ObservationKind.REPORT_CLAIM,
        time=datetime.fromtimestamp((t_from + t_to) / 2, UTC), time_sigma_s=max((t_to - t_from) / 2, 60.0),
        location=Location(lat=allegation["lat"], lon=allegation["lon"], err_major_m=allegation["err_m"],
                          err_minor_m=allegation["err_m"]),
        attributes={"mechanism": "allegation", "allegation_id": allegation["id"], "case_id": allegation["case_id"],
                    "event_type": allegation["type"], "text": allegation["description"],
                    "accused_party": allegation["accused_party"], "submitted_by": allegation["submitted_by"],
                    "place": allegation["place"], "steps_head": allegation.get("steps_head"),
                    "attachments": allegation["attachments"],
                    "cited_observations": allegation.get("cited_observations", [])},
        payload_hash=allegation["content_hash"])
    report = ingest_signed(store, [sign_observation(obs, sk)])
    if report.errors:
        e = report.errors[0]
        raise ValueError(f"{e.field}: the evidence log refused the allegation: {e.message}")
    got = store.get_observations([obs.id])
    return obs.id, (got[0].ledger_index if got else None)
