"""PostgreSQL + PostGIS behind the same Store interface.

Selected by a URL (``postgresql://user:pass@host/db``; psycopg 3 driver).  The
migration adds a generated PostGIS ``geom`` column with a GiST index to the
observation and violation tables, so bounding-box look-ups use the spatial
index (``geom && ST_MakeEnvelope``) exactly as the SQLite R*Tree does.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text

from trucewatch.store.store import PostgresStore, _driver_url

__all__ = ["PostgresStore", "scratch_database"]


@contextlib.contextmanager
def scratch_database(admin_url: str, prefix: str = "tw_scratch") -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the block (benchmarks, tests), dropped after it;
    yields its URL.  ``admin_url``: a database of a role allowed to CREATE DATABASE."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(_driver_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield admin_url.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.connect() as c:
                c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
                c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    finally:
        admin.dispose()
