"""Initial schema: the core tables (sources, observations, events, violations and their
transitions, settings), the service's (tokens, audit log, webhooks, dead letters), the
ledger's (Merkle log, checkpoints, keys, ingest queue) and the mission's, plus SQLite R*Trees
or PostGIS point columns with GiST indexes.

Explicit DDL, equal to what this migration created when it was a ``create_all`` of the live
metadata (checked by diffing both schemas on SQLite and PostgreSQL), so it stays what it is
whatever trucewatch.store.schema later becomes.  A table that already exists is left as it is
(as ``create_all(checkfirst=True)`` did).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: In creation order (a table after those its foreign keys name).
TABLES = [
    "api_tokens",
    "audit_log",
    "dead_letters",
    "events",
    "intake_files",
    "ledger_checkpoints",
    "ledger_key_entries",
    "ledger_leaves",
    "ledger_log_keys",
    "ledger_nodes",
    "ledger_queue",
    "ledger_state",
    "ledger_witnesses",
    "mission_agreements",
    "settings",
    "sources",
    "transitions",
    "violations",
    "webhook_deliveries",
    "webhooks",
    "ledger_cosignatures",
    "ledger_source_keys",
    "observations",
]


def upgrade() -> None:
    bind = op.get_bind()
    have = set(sa.inspect(bind).get_table_names())
    if "api_tokens" not in have:
        op.create_table("api_tokens",
            sa.Column("id", sa.String(length=40), nullable=False),
            sa.Column("secret_hash", sa.String(length=64), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("party", sa.String(length=40), nullable=True),
            sa.Column("source_ids", sa.JSON(), nullable=False),
            sa.Column("label", sa.Text(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("expires_at", sa.Float(), nullable=True),
            sa.Column("revoked_at", sa.Float(), nullable=True),
            sa.PrimaryKeyConstraint("id")
        )
    if "audit_log" not in have:
        op.create_table("audit_log",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("at", sa.Float(), nullable=False),
            sa.Column("token_id", sa.String(length=40), nullable=True),
            sa.Column("role", sa.String(length=20), nullable=True),
            sa.Column("party", sa.String(length=40), nullable=True),
            sa.Column("method", sa.String(length=10), nullable=False),
            sa.Column("path", sa.Text(), nullable=False),
            sa.Column("query", sa.Text(), nullable=False),
            sa.Column("status_code", sa.Integer(), nullable=False),
            sa.Column("client", sa.String(length=100), nullable=True),
            sa.PrimaryKeyConstraint("seq")
        )
        op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    if "dead_letters" not in have:
        op.create_table("dead_letters",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("subject", sa.String(length=200), nullable=False),
            sa.Column("reason", sa.String(length=60), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.Column("data", sa.Text(), nullable=False),
            sa.Column("at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("seq")
        )
    if "events" not in have:
        op.create_table("events",
            sa.Column("id", sa.String(length=200), nullable=False),
            sa.Column("kind", sa.String(length=40), nullable=False),
            sa.Column("t", sa.Float(), nullable=False),
            sa.Column("time_sigma_s", sa.Float(), nullable=False),
            sa.Column("lat", sa.Float(), nullable=False),
            sa.Column("lon", sa.Float(), nullable=False),
            sa.Column("location", sa.JSON(), nullable=False),
            sa.Column("origin", sa.JSON(), nullable=True),
            sa.Column("observation_ids", sa.JSON(), nullable=False),
            sa.Column("confidence", sa.Float(), nullable=False),
            sa.Column("attributes", sa.JSON(), nullable=False),
            sa.Column("explanation", sa.JSON(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
        op.create_index("ix_events_t", "events", ["t"], unique=False)
    if "intake_files" not in have:
        op.create_table("intake_files",
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("path", sa.Text(), nullable=False),
            sa.Column("format", sa.String(length=60), nullable=False),
            sa.Column("summary", sa.JSON(), nullable=False),
            sa.Column("done_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("sha256")
        )
    if "ledger_checkpoints" not in have:
        op.create_table("ledger_checkpoints",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
            sa.Column("root", sa.LargeBinary(), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("seq")
        )
        op.create_index("ix_ledger_checkpoints_size", "ledger_checkpoints", ["size"], unique=False)
    if "ledger_key_entries" not in have:
        op.create_table("ledger_key_entries",
            sa.Column("idx", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
            sa.Column("entry", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("idx")
        )
    if "ledger_leaves" not in have:
        op.create_table("ledger_leaves",
            sa.Column("idx", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
            sa.Column("observation_id", sa.String(length=200), nullable=False),
            sa.Column("key", sa.LargeBinary(), nullable=False),
            sa.Column("appended_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("idx"),
            sa.UniqueConstraint("observation_id")
        )
    if "ledger_log_keys" not in have:
        op.create_table("ledger_log_keys",
            sa.Column("vkey", sa.String(length=300), nullable=False),
            sa.Column("origin", sa.String(length=200), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("retired_at", sa.Float(), nullable=True),
            sa.PrimaryKeyConstraint("vkey")
        )
    if "ledger_nodes" not in have:
        op.create_table("ledger_nodes",
            sa.Column("nid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
            sa.Column("hash", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("nid")
        )
    if "ledger_queue" not in have:
        op.create_table("ledger_queue",
            sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
            sa.Column("observation_id", sa.String(length=200), nullable=False),
            sa.Column("leaf", sa.LargeBinary(), nullable=False),
            sa.Column("key", sa.LargeBinary(), nullable=False),
            sa.Column("queued_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("observation_id")
        )
    if "ledger_state" not in have:
        op.create_table("ledger_state",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
            sa.Column("root", sa.LargeBinary(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
    if "ledger_witnesses" not in have:
        op.create_table("ledger_witnesses",
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("vkey", sa.String(length=300), nullable=False),
            sa.Column("added_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("name")
        )
    if "mission_agreements" not in have:
        op.create_table("mission_agreements",
            sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("agreement_id", sa.String(length=200), nullable=False),
            sa.Column("spec", sa.JSON(), nullable=False),
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("source_file", sa.Text(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("version")
        )
    if "settings" not in have:
        op.create_table("settings",
            sa.Column("key", sa.String(length=100), nullable=False),
            sa.Column("value", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("key")
        )
    if "sources" not in have:
        op.create_table("sources",
            sa.Column("id", sa.String(length=200), nullable=False),
            sa.Column("kind", sa.String(length=40), nullable=False),
            sa.Column("party", sa.String(length=40), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("public_key", sa.String(length=64), nullable=True),
            sa.Column("reliability", sa.Float(), nullable=False),
            sa.Column("lat", sa.Float(), nullable=True),
            sa.Column("lon", sa.Float(), nullable=True),
            sa.Column("attributes", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
    if "transitions" not in have:
        op.create_table("transitions",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("violation_id", sa.String(length=200), nullable=False),
            sa.Column("from_status", sa.String(length=20), nullable=True),
            sa.Column("to_status", sa.String(length=20), nullable=False),
            sa.Column("actor", sa.String(length=200), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("at", sa.Float(), nullable=False),
            sa.Column("counter_evidence", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("seq")
        )
        op.create_index("ix_transitions_violation", "transitions", ["violation_id"], unique=False)
    if "violations" not in have:
        op.create_table("violations",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("id", sa.String(length=200), nullable=False),
            sa.Column("event_id", sa.String(length=200), nullable=False),
            sa.Column("rule", sa.String(length=60), nullable=False),
            sa.Column("party", sa.String(length=40), nullable=False),
            sa.Column("confidence", sa.Float(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("t", sa.Float(), nullable=False),
            sa.Column("lat", sa.Float(), nullable=False),
            sa.Column("lon", sa.Float(), nullable=False),
            sa.Column("location", sa.JSON(), nullable=False),
            sa.Column("origin", sa.JSON(), nullable=True),
            sa.Column("evidence", sa.JSON(), nullable=False),
            sa.Column("explanation", sa.Text(), nullable=False),
            sa.Column("attributes", sa.JSON(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("id")
        )
        op.create_index("ix_violations_party_rule", "violations", ["party", "rule"], unique=False)
        op.create_index("ix_violations_status", "violations", ["status"], unique=False)
        op.create_index("ix_violations_t", "violations", ["t"], unique=False)
    if "webhook_deliveries" not in have:
        op.create_table("webhook_deliveries",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("webhook_id", sa.String(length=40), nullable=False),
            sa.Column("idempotency_key", sa.String(length=100), nullable=False),
            sa.Column("violation_id", sa.String(length=200), nullable=False),
            sa.Column("payload", sa.JSON(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("next_attempt_at", sa.Float(), nullable=False),
            sa.Column("delivered_at", sa.Float(), nullable=True),
            sa.Column("last_error", sa.Text(), nullable=True),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("webhook_id", "idempotency_key", name="uq_webhook_deliveries_key")
        )
        op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["delivered_at", "next_attempt_at"], unique=False)
    if "webhooks" not in have:
        op.create_table("webhooks",
            sa.Column("id", sa.String(length=40), nullable=False),
            sa.Column("url", sa.Text(), nullable=False),
            sa.Column("secret", sa.String(length=100), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("party", sa.String(length=40), nullable=True),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.Column("active", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id")
        )
    if "ledger_cosignatures" not in have:
        op.create_table("ledger_cosignatures",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("checkpoint_seq", sa.Integer(), nullable=False),
            sa.Column("witness", sa.String(length=200), nullable=False),
            sa.Column("timestamp", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
            sa.Column("line", sa.Text(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("checkpoint_seq", "witness", name="uq_ledger_cosignatures_witness"),
            sa.ForeignKeyConstraint(["checkpoint_seq"], ["ledger_checkpoints.seq"]),
        )
    if "ledger_source_keys" not in have:
        op.create_table("ledger_source_keys",
            sa.Column("public_key", sa.String(length=64), nullable=False),
            sa.Column("source_id", sa.String(length=200), nullable=False),
            sa.Column("valid_from", sa.Float(), nullable=False),
            sa.Column("valid_to", sa.Float(), nullable=True),
            sa.Column("revoked_at", sa.Float(), nullable=True),
            sa.Column("revoke_reason", sa.Text(), nullable=True),
            sa.Column("created_at", sa.Float(), nullable=False),
            sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
            sa.PrimaryKeyConstraint("public_key"),
        )
        op.create_index("ix_ledger_source_keys_source", "ledger_source_keys", ["source_id"], unique=False)
    if "observations" not in have:
        op.create_table("observations",
            sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("id", sa.String(length=200), nullable=False),
            sa.Column("source_id", sa.String(length=200), nullable=False),
            sa.Column("kind", sa.String(length=40), nullable=False),
            sa.Column("t", sa.Float(), nullable=False),
            sa.Column("time_sigma_s", sa.Float(), nullable=False),
            sa.Column("lat", sa.Float(), nullable=False),
            sa.Column("lon", sa.Float(), nullable=False),
            sa.Column("err_major_m", sa.Float(), nullable=False),
            sa.Column("err_minor_m", sa.Float(), nullable=False),
            sa.Column("err_angle_deg", sa.Float(), nullable=False),
            sa.Column("footprint", sa.JSON(), nullable=True),
            sa.Column("attributes", sa.JSON(), nullable=False),
            sa.Column("payload_hash", sa.String(length=64), nullable=True),
            sa.Column("content_hash", sa.String(length=64), nullable=False),
            sa.Column("signature", sa.Text(), nullable=True),
            sa.Column("ledger_index", sa.Integer(), nullable=True),
            sa.Column("ingested_at", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("seq"),
            sa.UniqueConstraint("id"),
            sa.ForeignKeyConstraint(["source_id"], ["sources.id"]),
        )
        op.create_index("ix_observations_kind_t", "observations", ["kind", "t"], unique=False)
        op.create_index("ix_observations_source_t", "observations", ["source_id", "t"], unique=False)
        op.create_index("ix_observations_t", "observations", ["t"], unique=False)
    if bind.dialect.name == "sqlite":
        for name in ("obs_rtree", "viol_rtree"):
            op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {name} USING rtree(id, min_lon, max_lon, min_lat, max_lat)")
    elif bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        for table in ("observations", "violations"):
            op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS geom geometry(Point, 4326) "
                       "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED")
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_geom ON {table} USING GIST (geom)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS obs_rtree")
        op.execute("DROP TABLE IF EXISTS viol_rtree")
    for name in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {name}")
