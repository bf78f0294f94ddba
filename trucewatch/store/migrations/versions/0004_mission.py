"""Mission tables: the agreement stored in the store (versioned) and the files intake finished.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Explicit DDL with IF NOT EXISTS: a fresh database already has these tables from 0001's
create_all of the current metadata.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE IF NOT EXISTS mission_agreements ("
               "version INTEGER NOT NULL PRIMARY KEY, "
               "agreement_id VARCHAR(200) NOT NULL, "
               "spec JSON NOT NULL, "
               "sha256 VARCHAR(64) NOT NULL, "
               "source_file TEXT NOT NULL, "
               "created_at FLOAT NOT NULL)")
    op.execute("CREATE TABLE IF NOT EXISTS intake_files ("
               "sha256 VARCHAR(64) NOT NULL PRIMARY KEY, "
               "path TEXT NOT NULL, "
               "format VARCHAR(60) NOT NULL, "
               "summary JSON NOT NULL, "
               "done_at FLOAT NOT NULL)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS intake_files")
    op.execute("DROP TABLE IF EXISTS mission_agreements")
