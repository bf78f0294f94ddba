"""A throw-away PostgreSQL database for a benchmark run, and the driver's error type.

Why here: only the store speaks SQL; benchmarks and the CLI ask it for a scratch
database or catch its database errors without importing SQLAlchemy themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

__all__ = ["DatabaseError", "scratch_database"]


def scratch_database(admin_url: str, prefix: str = "tw_bench") -> tuple[str, Callable[[], None]]:
    """Create an empty database beside ``admin_url`` (a postgresql:// URL to an existing database);
    return its URL and a function that drops it (terminating its connections first)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop
