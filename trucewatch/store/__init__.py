"""The store: SQLite by default, PostgreSQL/PostGIS for deployment, one interface."""

from trucewatch.store.store import IngestReport, RecordError, Store, StoreError, StoreMissing, content_hash

__all__ = ["IngestReport", "RecordError", "Store", "StoreError", "StoreMissing", "content_hash"]
