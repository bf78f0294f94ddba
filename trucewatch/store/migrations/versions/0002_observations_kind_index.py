"""Index observations by (kind, t): the map layers ask for one kind in a time
window (air tracks, vessel incidents) and must not scan every observation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # IF NOT EXISTS: a fresh database got it already from 0001's create_all of the current metadata
    op.execute("CREATE INDEX IF NOT EXISTS ix_observations_kind_t ON observations (kind, t)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_observations_kind_t")
