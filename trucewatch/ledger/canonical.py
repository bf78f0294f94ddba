"""The ledger's name for :mod:`trucewatch.canonical` (what a source signs and what the log stores).

Why a re-export: the encoding moved below the store (the store hashes observations with it, and
the store must not import the ledger); code and docs that say ``trucewatch.ledger.canonical`` keep working.
"""

from __future__ import annotations

from trucewatch.canonical import (
    ENTRY_VERSION,
    SIGNED_FIELDS,
    SIGNING_CONTEXT,
    UNSIGNED_FIELDS,
    _fast_body,
    canonical_body,
    entry_bytes,
    jcs,
    message_from_canonical,
    observation_body,
    parse_entry,
    signing_message,
)

__all__ = ["ENTRY_VERSION", "SIGNED_FIELDS", "SIGNING_CONTEXT", "UNSIGNED_FIELDS", "_fast_body", "canonical_body",
           "entry_bytes", "jcs", "message_from_canonical", "observation_body", "parse_entry", "signing_message"]
