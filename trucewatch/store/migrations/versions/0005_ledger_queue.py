"""The ledger's ingest queue: entries committed with their observations and
integrated into the Merkle log apart from ingest (docs/ledger.md, "Sequencing").

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from alembic import op

from trucewatch.store import schema as S

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # checkfirst: a fresh database got every table from 0001's create_all of the current metadata;
    # stores from before the ledger get its tables here too
    for t in (S.ledger_state, S.ledger_nodes, S.ledger_leaves, S.ledger_checkpoints, S.ledger_cosignatures,
              S.ledger_source_keys, S.ledger_log_keys, S.ledger_witnesses, S.ledger_key_entries, S.ledger_queue):
        t.create(bind, checkfirst=True)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS ledger_queue")
