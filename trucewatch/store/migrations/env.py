"""Alembic environment: the connection comes from trucewatch.store.migrate."""

from __future__ import annotations

from alembic import context

from trucewatch.store.mechanism import metadata as mechanism_metadata
from trucewatch.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via trucewatch.store.migrate
    raise RuntimeError("run migrations through trucewatch.store.migrate.upgrade(engine)")
context.configure(connection=connection, target_metadata=[metadata, mechanism_metadata], render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
