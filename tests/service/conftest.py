"""Fixtures: a store with sample findings, the app, one token per role, a live server,
and for the browser tests one headless Chromium and the screenshot folder."""

from __future__ import annotations

import os
import socket
import tempfile
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


#: Screenshots go to a temporary folder, or to $TRUCEWATCH_SCREENSHOTS when set
#: (``TRUCEWATCH_SCREENSHOTS=docs/screenshots pytest -m browser tests/service`` refreshes the
#: docs' pictures), so a test run never rewrites tracked files.
SHOTS = Path(os.environ.get("TRUCEWATCH_SCREENSHOTS") or tempfile.mkdtemp(prefix="tw-shots-"))
SHOTS.mkdir(parents=True, exist_ok=True)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright; required in CI, skipped elsewhere when absent."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"chromium is required in CI ({CHROMIUM})")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright  # lazy: only the browser tests need Playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def watch_page(page: Any, local: tuple[str, ...], console: str = "csp") -> tuple[list[str], list[str]]:
    """Collect a page's script errors and every request that leaves ``local`` (the offline
    promise: nothing but the server, data: and blob: URLs).  ``console`` picks which console
    messages count as errors: "csp" (refusals by the Content-Security-Policy) or "error" (all)."""
    errors: list[str] = []
    external: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    if console == "csp":
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    else:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith((*local, "data:", "blob:")) else None)
    return errors, external
