"""Tables of the store (SQLAlchemy 2 Core), shared by every backend.

The Alembic migrations under trucewatch/store/migrations create exactly these
tables; tests/store/test_migrations.py checks that a migrated database and this
metadata agree.  Spatial look-ups use an R*Tree virtual table on SQLite (made by
the migration, not part of this metadata) and PostGIS on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

sources = Table(
    "sources",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("party", String(40), nullable=False),
    Column("name", Text, nullable=False, default=""),
    Column("public_key", String(64)),
    Column("reliability", Float, nullable=False, default=0.8),
    Column("lat", Float),
    Column("lon", Float),
    Column("attributes", JSON, nullable=False, default=dict),
    Column("created_at", Float, nullable=False),
)

observations = Table(
    "observations",
    metadata,
    # Insertion order: also the R*Tree id on SQLite.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(200), nullable=False, unique=True),
    Column("source_id", String(200), ForeignKey("sources.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("t", Float, nullable=False),
    Column("time_sigma_s", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("err_major_m", Float, nullable=False),
    Column("err_minor_m", Float, nullable=False),
    Column("err_angle_deg", Float, nullable=False),
    Column("footprint", JSON),
    Column("attributes", JSON, nullable=False),
    Column("payload_hash", String(64)),
    # SHA-256 of the canonical observation: same id + same hash = duplicate.
    Column("content_hash", String(64), nullable=False),
    Column("signature", Text),
    Column("ledger_index", Integer),
    Column("ingested_at", Float, nullable=False),
    Index("ix_observations_t", "t"),
    Index("ix_observations_source_t", "source_id", "t"),
    Index("ix_observations_kind_t", "kind", "t"),
)

events = Table(
    "events",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("t", Float, nullable=False),
    Column("time_sigma_s", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("location", JSON, nullable=False),
    Column("origin", JSON),
    Column("observation_ids", JSON, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("explanation", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_events_t", "t"),
)

violations = Table(
    "violations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(200), nullable=False, unique=True),
    Column("event_id", String(200), nullable=False),
    Column("rule", String(60), nullable=False),
    Column("party", String(40), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("status", String(20), nullable=False),
    Column("t", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("location", JSON, nullable=False),
    Column("origin", JSON),
    Column("evidence", JSON, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("attributes", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_violations_t", "t"),
    Index("ix_violations_status", "status"),
    Index("ix_violations_party_rule", "party", "rule"),
)

transitions = Table(
    "transitions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("violation_id", String(200), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("counter_evidence", JSON, nullable=False),
    Index("ix_transitions_violation", "violation_id"),
)

#: Key/value settings of one deployment (agreement file, mission origin...).
settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
)


#: Messages the pipeline could not process, with the reason (also on NATS TW_DLQ).
dead_letters = Table(
    "dead_letters",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(200), nullable=False),
    Column("reason", String(60), nullable=False),
    Column("detail", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("at", Float, nullable=False),
)

# --------------------------------------------------------------------------
# Sections below belong to individual stages; each appends its own tables.
# --------------------------------------------------------------------------

# ---------------------------------------------------------------- service (issue 7: API, roles, alerts)
# Owned by trucewatch.service.  Tokens are stored as SHA-256 of their secret
# part only; the audit log keeps every access to non-public data; webhook
# deliveries form a durable outbox (at-least-once, idempotency key unique).
from sqlalchemy import UniqueConstraint as _Unique  # noqa: E402

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(40), primary_key=True),  # public part of the token, shown in logs
    Column("secret_hash", String(64), nullable=False),  # sha256 hex of the secret part
    Column("role", String(20), nullable=False),
    Column("party", String(40)),  # party liaison only
    Column("source_ids", JSON, nullable=False),  # monitor only: sources it may submit for
    Column("label", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("token_id", String(40)),
    Column("role", String(20)),
    Column("party", String(40)),
    Column("method", String(10), nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("client", String(100)),
    Index("ix_audit_log_at", "at"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("url", Text, nullable=False),
    Column("secret", String(100), nullable=False),  # HMAC key, needed in clear to sign
    Column("role", String(20), nullable=False),  # whose view the payload follows
    Column("party", String(40)),
    Column("created_at", Float, nullable=False),
    Column("active", Integer, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("webhook_id", String(40), nullable=False),
    Column("idempotency_key", String(100), nullable=False),
    Column("violation_id", String(200), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("delivered_at", Float),
    Column("last_error", Text),
    Column("created_at", Float, nullable=False),
    _Unique("webhook_id", "idempotency_key", name="uq_webhook_deliveries_key"),
    Index("ix_webhook_deliveries_due", "delivered_at", "next_attempt_at"),
)
# ---------------------------------------------------------------- end service

# ---------------------------------------------------------------- ledger (issue 3: evidence ledger)
# Owned by trucewatch.ledger.  An RFC 6962 Merkle log of signed observations:
# every tree node hash is stored (nid = level << 48 | index; level 0 = leaf
# hashes) so appends and proofs are O(log n) reads; ledger_state is updated in
# the same transaction as each append and lets a reader detect a cut write.
# See docs/ledger.md.
from sqlalchemy import BigInteger as _BigInt  # noqa: E402
from sqlalchemy import LargeBinary as _Blob  # noqa: E402

_LedgerInt = _BigInt().with_variant(Integer, "sqlite")  # INTEGER PRIMARY KEY = rowid on SQLite

ledger_state = Table(
    "ledger_state",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("size", _LedgerInt, nullable=False),
    Column("root", _Blob, nullable=False),
    Column("updated_at", Float, nullable=False),
)

ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("nid", _LedgerInt, primary_key=True, autoincrement=False),  # level << 48 | index
    Column("hash", _Blob, nullable=False),
)

ledger_leaves = Table(
    "ledger_leaves",
    metadata,
    Column("idx", _LedgerInt, primary_key=True, autoincrement=False),
    Column("observation_id", String(200), nullable=False, unique=True),
    Column("key", _Blob, nullable=False),  # raw 32-byte Ed25519 public key that signed the entry
    Column("appended_at", Float, nullable=False),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("size", _LedgerInt, nullable=False),
    Column("root", _Blob, nullable=False),
    Column("note", Text, nullable=False),  # C2SP signed note, mission signature only
    Column("created_at", Float, nullable=False),
    Index("ix_ledger_checkpoints_size", "size"),
)

ledger_cosignatures = Table(
    "ledger_cosignatures",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("checkpoint_seq", Integer, ForeignKey("ledger_checkpoints.seq"), nullable=False),
    Column("witness", String(200), nullable=False),
    Column("timestamp", _LedgerInt, nullable=False),
    Column("line", Text, nullable=False),  # "— name base64(keyid || u64 time || sig)"
    Column("created_at", Float, nullable=False),
    _Unique("checkpoint_seq", "witness", name="uq_ledger_cosignatures_witness"),
)

ledger_source_keys = Table(
    "ledger_source_keys",
    metadata,
    Column("public_key", String(64), primary_key=True),  # Ed25519, hex
    Column("source_id", String(200), ForeignKey("sources.id"), nullable=False),
    Column("valid_from", Float, nullable=False),
    Column("valid_to", Float),
    Column("revoked_at", Float),
    Column("revoke_reason", Text),
    Column("created_at", Float, nullable=False),
    Index("ix_ledger_source_keys_source", "source_id"),
)

ledger_log_keys = Table(  # the mission's checkpoint-signing keys (vkeys, C2SP signed-note)
    "ledger_log_keys",
    metadata,
    Column("vkey", String(300), primary_key=True),
    Column("origin", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("retired_at", Float),
)

ledger_witnesses = Table(  # parties' cosigners (vkeys with signature type 0x04)
    "ledger_witnesses",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("vkey", String(300), nullable=False),
    Column("added_at", Float, nullable=False),
)
ledger_key_entries = Table(  # log entries that certify source keys (signed by the mission), kept verbatim
    "ledger_key_entries",
    metadata,
    Column("idx", _LedgerInt, primary_key=True, autoincrement=False),  # = ledger_leaves.idx
    Column("entry", _Blob, nullable=False),
)
ledger_queue = Table(  # entries acknowledged at ingest, waiting for the integrator (trucewatch.ledger.log.integrate)
    "ledger_queue",
    metadata,
    Column("seq", _LedgerInt, primary_key=True, autoincrement=True),
    Column("observation_id", String(200), nullable=False, unique=True),
    Column("leaf", _Blob, nullable=False),  # SHA-256(0x00 || entry): the leaf hash, computed at ingest
    Column("key", _Blob, nullable=False),  # raw 32-byte Ed25519 key that signed the entry
    Column("queued_at", Float, nullable=False),  # commit time of the ingest (the acknowledgement)
)
# ---------------------------------------------------------------- end ledger


# ---------------------------------------------------------------- mission (migration 0004)
#: The agreement a mission monitors, one row per version (an amendment is a new version): the
#: YAML mapping with every referenced GeoJSON inlined, so the store alone reproduces the findings.
mission_agreements = Table(
    "mission_agreements",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("agreement_id", String(200), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source_file", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

#: Files `trucewatch intake`/`watch` finished (committed and logged), by content hash: a restart skips them.
intake_files = Table(
    "intake_files",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("format", String(60), nullable=False),
    Column("summary", JSON, nullable=False),
    Column("done_at", Float, nullable=False),
)
