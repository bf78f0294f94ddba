"""The ledger's ingest queue: entries committed with their observations and
integrated into the Merkle log apart from ingest (docs/ledger.md, "Sequencing").

Stores made before the ledger get all its tables here; a store made by 0001 already has them
(each table is created only where it is missing).  Explicit DDL, the same as 0001's for these
tables, so the migration stays what it was when written.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
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


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS ledger_queue")
