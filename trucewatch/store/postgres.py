"""PostgreSQL + PostGIS behind the same Store interface.

Selected by a URL (``postgresql://user:pass@host/db``; psycopg 3 driver).  The
migration adds a generated PostGIS ``geom`` column with a GiST index to the
observation and violation tables, so bounding-box look-ups use the spatial
index (``geom && ST_MakeEnvelope``) exactly as the SQLite R*Tree does.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy import create_engine, text

from trucewatch.store.store import Store


def _driver_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


class PostgresStore(Store):
    @classmethod
    def open_url(cls, url: str, *, migrate: bool = True) -> PostgresStore:
        engine = create_engine(_driver_url(url), future=True, pool_pre_ping=True, pool_size=5, max_overflow=10)
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """A session advisory lock: released when the holder's connection ends (even by kill -9)."""
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self.engine.connect() as c:
            c.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            c.commit()
            try:
                yield
            finally:
                c.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                c.commit()

    @contextlib.contextmanager
    def try_exclusive(self, name: str) -> Iterator[bool]:
        """``pg_try_advisory_lock``: yields False at once when another session holds it."""
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with self.engine.connect() as c:
            got = bool(c.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            c.commit()
            try:
                yield got
            finally:
                if got:
                    c.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    c.commit()

    def _bbox_filter(self, q: Any, table: Any, rtree: str, bbox: tuple[float, float, float, float]) -> Any:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox)
        cond = text(f"{table.name}.geom && ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326)").bindparams(
            bx0=min_lon, by0=min_lat, bx1=max_lon, by1=max_lat)
        return q.where(cond)


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
