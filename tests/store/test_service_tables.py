"""Migration 0006: the service's tables come from Alembic (explicit DDL), not from the
service at run time, on a fresh store and on a store that lacks them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from trucewatch.access import TokenStore
from trucewatch.store import Store
from trucewatch.store.migrate import upgrade
from trucewatch.store.service import AuditRepo, WebhookRepo

SERVICE_TABLES = {"api_tokens", "audit_log", "webhooks", "webhook_deliveries"}


def _exercise(store: Store) -> None:
    """Tokens, audit and the webhook outbox work on the migrated tables (keys, uniqueness)."""
    tokens = TokenStore(store, cache_s=0.0)
    token, rec = tokens.create("analyst", label="t")
    assert tokens.authenticate(token).token_id == rec["id"]
    audit = AuditRepo(store)
    audit.add_many([{"at": 1.0, "token_id": rec["id"], "role": "analyst", "party": None, "method": "GET",
                     "path": "/api/v1/violations", "query": "", "status_code": 200, "client": None}] * 2)
    assert [r["seq"] for r in audit.read()] == [1, 2]  # autoincrementing key on both backends
    hooks = WebhookRepo(store)
    hooks.add(id="w1", url="https://example.org/h", secret="s", role="analyst", party=None, created_at=1.0)
    d = {"webhook_id": "w1", "idempotency_key": "tw-verified-1", "violation_id": "v1", "payload": {"a": 1},
         "attempts": 0, "next_attempt_at": 1.0, "delivered_at": None, "last_error": None, "created_at": 1.0}
    hooks.enqueue([d, d], cursor_key="service.alert_seq", cursor=7)  # the repeat is skipped, not an error
    assert len(hooks.deliveries("w1")) == 1
    assert store.get_setting("service.alert_seq") == 7
    due = hooks.due(2.0, max_attempts=3)
    assert [(r["idempotency_key"], r["url"], r["secret"]) for r in due] == [("tw-verified-1", "https://example.org/h", "s")]
    assert hooks.due(0.5, max_attempts=3) == []  # not yet due


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_fresh_store_has_the_service_tables(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = str(tmp_path / "fresh.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    with Store.open(url) as store:
        assert SERVICE_TABLES <= set(inspect(store.engine).get_table_names())
        _exercise(store)


def test_store_without_service_tables_gets_them(tmp_path: Path) -> None:
    """A store at 0005 whose service tables were never created (0001 no longer creates every
    table of the metadata) gets them, empty and working, from 0006."""
    store = Store.open(tmp_path / "old.db", migrate=False)
    upgrade(store.engine, "0005")
    with store.engine.begin() as c:
        for t in SERVICE_TABLES:
            c.execute(text(f"DROP TABLE IF EXISTS {t}"))
    assert not SERVICE_TABLES & set(inspect(store.engine).get_table_names())
    store.migrate()
    assert SERVICE_TABLES <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
    _exercise(store)
    store.close()


def test_existing_service_rows_survive_the_upgrade(tmp_path: Path) -> None:
    """A store made by main before 0006 (service tables from create_all, with rows) upgrades in place."""
    store = Store.open(tmp_path / "main.db", migrate=False)
    upgrade(store.engine, "0005")
    token, rec = TokenStore(store).create("administrator")
    store.migrate()
    assert TokenStore(store).authenticate(token).token_id == rec["id"]
    store.close()
