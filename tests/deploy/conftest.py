"""Pipeline tests use SQLite for the in-process runs (the fault tests run on a
private PostgreSQL cluster)."""

from __future__ import annotations

import pytest


@pytest.fixture()
def store(tmp_path):
    from trucewatch.store import Store

    s = Store.open(tmp_path / "test.db")
    yield s
    s.close()
