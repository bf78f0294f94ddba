"""/docs and /redoc in a real browser (Chromium): they render from the vendored files with no
request leaving the server, and Swagger offers "Authorize" (the bearer scheme)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import wait_js, watch_page

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def live(tmp_path_factory: Any, agreement: Any, live_server_cls: Any) -> Iterator[Any]:
    from trucewatch.service.app import create_app
    from trucewatch.service.config import ServiceConfig
    from trucewatch.store import Store

    store = Store.open(tmp_path_factory.mktemp("docs") / "d.db")
    with live_server_cls(create_app(store, agreement, ServiceConfig(require_signatures=False))) as srv:
        yield srv
    store.close()



def _open(browser: Any, url: str) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page()
    errors, external = watch_page(page, (url.rsplit("/", 1)[0],), console="error")
    page.goto(url)
    return page, errors, external


def test_swagger_renders_offline_with_authorize(browser, live) -> None:
    page, errors, external = _open(browser, f"{live.url}/docs")
    page.wait_for_selector("button.authorize", timeout=20_000)
    page.wait_for_selector("[data-path='/api/v1/violations']", timeout=20_000)
    page.click("button.authorize")
    page.wait_for_selector("text=bearerAuth", timeout=5_000)
    assert not external, f"requests left the server: {external}"
    assert not [e for e in errors if "favicon" not in e], errors


def test_redoc_renders_offline(browser, live) -> None:
    page, errors, external = _open(browser, f"{live.url}/redoc")
    wait_js(page, "document.body.innerText.includes('/api/v1/violations')", timeout=30)
    wait_js(page, "document.body.innerText.includes('bearerAuth')", timeout=5)
    assert not external, f"requests left the server: {external}"
    assert not errors, errors
