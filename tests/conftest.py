"""Shared fixtures: the sample agreement (loaded once), a fresh SQLite store,
and a guard for tests that need a local service (fails under CI=true)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_AGREEMENT = REPO / "trucewatch" / "data" / "agreements" / "ua-ru-2026" / "agreement.yaml"
SHARED = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def agreement():
    from trucewatch.agreement import load_agreement

    return load_agreement(SAMPLE_AGREEMENT)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """A fresh store; every test using it runs on SQLite and on PostgreSQL+PostGIS
    (the ``postgres`` run creates and drops its own database)."""
    from trucewatch.store import Store

    if request.param == "sqlite":
        s = Store.open(tmp_path / "test.db")
    else:
        s = Store.open(request.getfixturevalue("pg_url"))
    yield s
    s.close()


def service_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(host: str, port: int, name: str) -> None:
    """Skip locally when a service is down; under CI=true a missing service fails."""
    if service_up(host, port):
        return
    msg = f"{name} is not running on {host}:{port} (scripts/services.sh starts it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg)
    pytest.skip(msg)


def require_shared(path: Path) -> Path:
    """Shared data sits beside the clone in CI; fail there if it is missing."""
    if path.exists():
        return path
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"shared data missing: {path}")
    pytest.skip(f"shared data missing: {path}")
    return path


PG_ADMIN_URL = os.environ.get("TRUCEWATCH_PG_URL", "postgresql://trucewatch:trucewatch@127.0.0.1:5432/postgres")


@pytest.fixture()
def pg_url():
    """A fresh PostgreSQL database (PostGIS enabled by the migration), dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    require_service("127.0.0.1", 5432, "PostgreSQL")
    admin = create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    name = f"tw_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request, tmp_path):
    """The same test against both backends (marker ``postgres`` on the PostgreSQL run)."""
    from trucewatch.store import Store

    if request.param == "sqlite":
        s = Store.open(tmp_path / "test.db")
    else:
        s = Store.open(request.getfixturevalue("pg_url"))
    yield s
    s.close()
