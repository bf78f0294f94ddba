"""The store: SQLite by default, PostgreSQL/PostGIS for deployment, one interface."""

from trucewatch.store.store import (
    DatabaseError,
    IngestReport,
    RecordError,
    Store,
    StoreError,
    StoreMissing,
    content_hash,
)

__all__ = ["DatabaseError", "IngestReport", "RecordError", "Store", "StoreError", "StoreMissing", "content_hash"]
