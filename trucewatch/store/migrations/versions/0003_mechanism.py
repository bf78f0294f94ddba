"""The mechanism's tables (issue 19): cases and their allegations, append-only
hash-chained steps, tasks, replies and contests, findings, holding sites with
inventories and inspections, sensor heartbeats, pre-notifications, annotations
and the corrections feed.  Explicit DDL, so the migration stays what it was when
written whatever trucewatch.store.mechanism later becomes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ["mech_cases", "mech_allegations", "mech_attachments", "mech_steps", "mech_tasks", "mech_findings",
          "mech_replies", "mech_sites", "mech_inventories", "mech_inspections", "mech_heartbeats",
          "mech_prenotifications", "mech_annotations", "mech_corrections"]


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if set(TABLES) <= have:  # a store stamped back to an older revision (tests do this): nothing to add
        return
    op.create_table(
        "mech_cases",
        sa.Column("id", sa.String(64), primary_key=True, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("party_request", sa.Integer(), nullable=False),
        sa.Column("submitter_party", sa.String(40), nullable=True),
        sa.Column("accused_party", sa.String(40), nullable=True),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(40), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_mech_cases_state", "mech_cases", ["state"])
    op.create_index("ix_mech_cases_received", "mech_cases", ["received_at"])
    op.create_table(
        "mech_allegations",
        sa.Column("id", sa.String(64), primary_key=True, nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("submitter_role", sa.String(20), nullable=False),
        sa.Column("submitter_party", sa.String(40), nullable=True),
        sa.Column("t_from", sa.Float(), nullable=False),
        sa.Column("t_to", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("err_m", sa.Float(), nullable=False),
        sa.Column("place", sa.JSON(), nullable=False),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("accused_party", sa.String(40), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("cited_observations", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("observation_id", sa.String(200), nullable=True),
        sa.Column("ledger_index", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_mech_allegations_case", "mech_allegations", ["case_id"])
    op.create_table(
        "mech_attachments",
        sa.Column("sha256", sa.String(64), primary_key=True, nullable=False),
        sa.Column("allegation_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "mech_steps",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(40), nullable=True),
        sa.Column("to_state", sa.String(40), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_mech_steps_subject", "mech_steps", ["subject"])
    op.create_table(
        "mech_tasks",
        sa.Column("id", sa.String(64), primary_key=True, nullable=False),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.Column("asset_kind", sa.String(40), nullable=False),
        sa.Column("asset_id", sa.String(200), nullable=False),
        sa.Column("area", sa.JSON(), nullable=False),
        sa.Column("t_from", sa.Float(), nullable=False),
        sa.Column("t_to", sa.Float(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("completed_at", sa.Float(), nullable=True),
    )
    op.create_index("ix_mech_tasks_case", "mech_tasks", ["case_id"])
    op.create_table(
        "mech_findings",
        sa.Column("id", sa.String(64), primary_key=True, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("party", sa.String(40), nullable=False),
        sa.Column("cause", sa.String(60), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=True),
        sa.Column("t", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("dedupe_key", sa.String(200), unique=True, nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("published_at", sa.Float(), nullable=True),
    )
    op.create_index("ix_mech_findings_t", "mech_findings", ["t"])
    op.create_table(
        "mech_replies",
        sa.Column("id", sa.String(64), primary_key=True, nullable=False),
        sa.Column("target_kind", sa.String(20), nullable=False),
        sa.Column("target_id", sa.String(200), nullable=False),
        sa.Column("party", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("counter_evidence", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_mech_replies_target", "mech_replies", ["target_kind", "target_id"])
    op.create_table(
        "mech_sites",
        sa.Column("id", sa.String(64), primary_key=True, nullable=False),
        sa.Column("party", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "mech_inventories",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("declared_by", sa.String(200), nullable=False),
        sa.Column("declared_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_mech_inventories_site", "mech_inventories", ["site_id"])
    op.create_table(
        "mech_inspections",
        sa.Column("id", sa.String(64), primary_key=True, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("inspector", sa.String(200), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
    )
    op.create_index("ix_mech_inspections_site", "mech_inspections", ["site_id", "at"])
    op.create_table(
        "mech_heartbeats",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("sensor_id", sa.String(200), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.UniqueConstraint("sensor_id", "at", name="uq_mech_heartbeats"),
    )
    op.create_index("ix_mech_heartbeats_at", "mech_heartbeats", ["at"])
    op.create_table(
        "mech_prenotifications",
        sa.Column("id", sa.String(64), primary_key=True, nullable=False),
        sa.Column("party", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("area", sa.JSON(), nullable=False),
        sa.Column("t_from", sa.Float(), nullable=False),
        sa.Column("t_to", sa.Float(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.Float(), nullable=True),
    )
    op.create_table(
        "mech_annotations",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("target_kind", sa.String(20), nullable=False),
        sa.Column("target_id", sa.String(200), nullable=False),
        sa.Column("prenotification_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.UniqueConstraint("target_kind", "target_id", "prenotification_id", name="uq_mech_annotations"),
    )
    op.create_table(
        "mech_corrections",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True, nullable=False),
        sa.Column("target_kind", sa.String(20), nullable=False),
        sa.Column("target_id", sa.String(200), nullable=False),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("before", sa.String(40), nullable=True),
        sa.Column("after", sa.String(40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("ix_mech_corrections_at", "mech_corrections", ["at"])


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
