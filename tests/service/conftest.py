"""Fixtures: a store with sample findings, the app, one token per role, a live server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient

from trucewatch.agreement import load_agreement
from trucewatch.model import Status, Transition
from trucewatch.service.app import create_app
from trucewatch.service.config import ServiceConfig
from trucewatch.sim.sample import populate
from trucewatch.store import Store

AGREEMENT = Path(__file__).resolve().parents[2] / "trucewatch/data/agreements/ua-ru-2026/agreement.yaml"


@pytest.fixture(scope="session")
def agreement() -> Any:
    return load_agreement(AGREEMENT)


def make_store(path: Path, agreement: Any, seed: int = 3, ledger: bool = False) -> Store:
    store = Store.open(path)
    populate(store, agreement, np.random.default_rng(seed), n_violations=40, ledger=ledger)
    return store


@pytest.fixture()
def store_factory() -> Any:
    return make_store


@pytest.fixture()
def store(tmp_path: Path, agreement: Any) -> Iterator[Store]:
    s = make_store(tmp_path / "svc.db", agreement)
    yield s
    s.close()


@pytest.fixture()
def config() -> ServiceConfig:
    return ServiceConfig(require_signatures=False, public_delay_s=3600, alert_poll_s=0.05,
                         max_body_bytes=64 * 1024, webhook_backoff_s=0.2, sse_ping_s=0.3)


@pytest.fixture()
def app(store: Store, agreement: Any, config: ServiceConfig) -> Any:
    return create_app(store, agreement, config)


@pytest.fixture()
def tokens(app: Any) -> dict[str, str]:
    ts = app.state.tokens
    return {
        "administrator": ts.create("administrator")[0],
        "analyst": ts.create("analyst")[0],
        "monitor": ts.create("monitor", source_ids=["team-alpha"])[0],
        "liaison_UA": ts.create("liaison", party="UA")[0],
        "liaison_RU": ts.create("liaison", party="RU")[0],
        "public": ts.create("public")[0],
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def verify(store: Store, violation_id: str, *, actor: str = "analyst:test") -> None:
    """Walk a violation to ``verified`` through the store (as adjudication would)."""
    v = store.get_violation(violation_id)
    assert v is not None
    path = {Status.DETECTED: [Status.CORROBORATED, Status.VERIFIED], Status.CORROBORATED: [Status.VERIFIED]}[v.status]
    prev = v.status
    for s in path:
        store.record_transition(Transition(violation_id=violation_id, from_status=prev, to_status=s, actor=actor))
        prev = s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
                             timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 15
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server_cls() -> type[LiveServer]:
    return LiveServer


@pytest.fixture()
def live(app: Any) -> Iterator[LiveServer]:
    with LiveServer(app) as srv:
        yield srv


def wait_js(page: Any, expr: str, timeout: float = 20.0) -> None:
    """Poll ``expr`` from the test side until it is true.  Playwright's own
    ``wait_for_function`` polls with ``eval`` inside the page, which the dashboard's
    Content-Security-Policy (no 'unsafe-eval') refuses once the first check fails."""
    deadline = time.monotonic() + timeout
    while True:
        if page.evaluate(f"() => Boolean({expr})"):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {expr}")
        page.wait_for_timeout(100)
