"""The service's tables: API tokens, the audit log, webhooks and their delivery outbox.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Explicit DDL with IF NOT EXISTS.  Until this revision the service created these tables
at run time (``create_all`` in ``service/app.py`` and ``service/cli.py``) and a fresh
database got them from 0001's ``create_all`` of the live metadata; both kinds of store
upgrade to this revision unchanged, and a store that never ran the service gets them here.
Types follow what SQLAlchemy rendered for ``trucewatch.store.schema`` (FLOAT is double
precision on PostgreSQL; the autoincrementing keys are SERIAL there and rowid on SQLite).
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    serial = "SERIAL" if pg else "INTEGER"
    op.execute("CREATE TABLE IF NOT EXISTS api_tokens ("
               "id VARCHAR(40) NOT NULL, "
               "secret_hash VARCHAR(64) NOT NULL, "  # SHA-256 of the secret part only
               "role VARCHAR(20) NOT NULL, "
               "party VARCHAR(40), "
               "source_ids JSON NOT NULL, "
               "label TEXT NOT NULL, "
               "created_at FLOAT NOT NULL, "
               "expires_at FLOAT, "
               "revoked_at FLOAT, "
               "PRIMARY KEY (id))")
    op.execute("CREATE TABLE IF NOT EXISTS audit_log ("
               f"seq {serial} NOT NULL, "
               "at FLOAT NOT NULL, "
               "token_id VARCHAR(40), "
               "role VARCHAR(20), "
               "party VARCHAR(40), "
               "method VARCHAR(10) NOT NULL, "
               "path TEXT NOT NULL, "
               '"query" TEXT NOT NULL, '
               "status_code INTEGER NOT NULL, "
               "client VARCHAR(100), "
               "PRIMARY KEY (seq))")
    op.execute("CREATE INDEX IF NOT EXISTS ix_audit_log_at ON audit_log (at)")
    op.execute("CREATE TABLE IF NOT EXISTS webhooks ("
               "id VARCHAR(40) NOT NULL, "
               "url TEXT NOT NULL, "
               "secret VARCHAR(100) NOT NULL, "  # HMAC key, needed in clear to sign
               "role VARCHAR(20) NOT NULL, "
               "party VARCHAR(40), "
               "created_at FLOAT NOT NULL, "
               "active INTEGER NOT NULL, "
               "PRIMARY KEY (id))")
    op.execute("CREATE TABLE IF NOT EXISTS webhook_deliveries ("
               f"seq {serial} NOT NULL, "
               "webhook_id VARCHAR(40) NOT NULL, "
               "idempotency_key VARCHAR(100) NOT NULL, "
               "violation_id VARCHAR(200) NOT NULL, "
               "payload JSON NOT NULL, "
               "attempts INTEGER NOT NULL, "
               "next_attempt_at FLOAT NOT NULL, "
               "delivered_at FLOAT, "
               "last_error TEXT, "
               "created_at FLOAT NOT NULL, "
               "PRIMARY KEY (seq), "
               "CONSTRAINT uq_webhook_deliveries_key UNIQUE (webhook_id, idempotency_key))")
    op.execute("CREATE INDEX IF NOT EXISTS ix_webhook_deliveries_due ON webhook_deliveries "
               "(delivered_at, next_attempt_at)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS webhook_deliveries")
    op.execute("DROP TABLE IF EXISTS webhooks")
    op.execute("DROP TABLE IF EXISTS audit_log")
    op.execute("DROP TABLE IF EXISTS api_tokens")
