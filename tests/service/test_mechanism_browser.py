"""The mechanism page in headless Chromium (Playwright): the analyst's cases view with
deadline clocks and a step taken from it, the liaison's allegation form and its
contest button, the holding-site register.  Screenshots go to a temporary folder,
or to $TRUCEWATCH_SCREENSHOTS (``TRUCEWATCH_SCREENSHOTS=docs/screenshots pytest -m
browser tests/service/test_mechanism_browser.py`` refreshes the ones in the docs)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from .conftest import SHOTS, wait_js, watch_page

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def store(tmp_path_factory: Any, agreement: Any) -> Iterator[Any]:
    from trucewatch.sim.sample import populate
    from trucewatch.store import Store

    s = Store.open(tmp_path_factory.mktemp("mech-browser") / "b.db")
    populate(s, agreement, np.random.default_rng(5), n_violations=30)
    yield s
    s.close()


@pytest.fixture(scope="module")
def app(store: Any, agreement: Any) -> Any:
    from trucewatch.mechanism.core import AllegationIn, FakeClock
    from trucewatch.service.app import create_app
    from trucewatch.service.config import ServiceConfig

    app = create_app(store, agreement, ServiceConfig(require_signatures=False, public_delay_s=3600))
    m = app.state.mechanism
    real = time.time()
    m.clock = FakeClock(real - 3 * 3600)  # cases received 3 h ago: acknowledgement overdue
    for i, (lat, lon, typ) in enumerate([(48.1, 37.8, "shelling"), (47.6, 36.9, "drone strike")]):
        m.submit_allegation(AllegationIn(time=datetime.fromtimestamp(real - 4 * 3600 - i * 600, UTC), lat=lat, lon=lon,
                                         type=typ, description="seen from the checkpoint", accused_party="RU"),
                            actor="liaison:UA:seed", role="liaison", party="UA")
    m.add_site(actor="liaison:RU:seed", party="RU", name="Depot north", lat=48.3, lon=38.4, radius_m=400, site_id="HS-1")
    m.declare_inventory("HS-1", [{"class": "MLRS", "count": 3, "serials": ["A1", "A2", "A3"]}], actor="liaison:RU:seed")
    m.add_site(actor="liaison:UA:seed", party="UA", name="Yard 7", lat=47.9, lon=36.5, radius_m=300, site_id="HS-2")
    m.declare_inventory("HS-2", [{"class": "howitzer 152mm", "count": 4, "serials": []}], actor="liaison:UA:seed")
    m.clock = time.time  # from now on, real time: the clocks on the page count down from the server's remaining_s
    return app


@pytest.fixture(scope="module")
def tokens(app: Any) -> dict[str, str]:
    ts = app.state.tokens
    return {"analyst": ts.create("analyst")[0], "liaison_UA": ts.create("liaison", party="UA")[0],
            "liaison_RU": ts.create("liaison", party="RU")[0]}


@pytest.fixture(scope="module")
def live(app: Any, live_server_cls: Any) -> Iterator[Any]:
    with live_server_cls(app) as srv:
        yield srv



def open_page(browser: Any, live: Any, token: str, tab: str = "") -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    errors, external = watch_page(page, (live.url,))
    page.goto(f"{live.url}/static/mechanism.html{'?tab=' + tab if tab else ''}#token={token}")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    return page, errors, external


def test_analyst_cases_with_deadline_clocks_and_a_step(browser, live, tokens, app) -> None:
    page, errors, external = open_page(browser, live, tokens["analyst"])
    wait_js(page, "document.querySelectorAll('[data-testid=case-row]').length === 2")
    clocks = page.locator("[data-testid=clock]").all_inner_texts()
    assert all(c.startswith("acknowledge: overdue by 2h") for c in clocks), clocks
    assert page.locator(".clock.overdue").count() == 2
    page.locator("[data-testid=case-row]").first.click()
    page.wait_for_selector("[data-testid=step-acknowledge]")
    page.screenshot(path=str(SHOTS / "mechanism-cases-analyst.png"))
    cid = page.locator("[data-testid=case-row]").first.get_attribute("data-case")
    page.fill("[data-testid=step-reason]", "taken up by the duty officer")
    page.click("[data-testid=step-acknowledge]")
    page.wait_for_selector("[data-testid=step-assess]")
    assert app.state.mechanism.get_case_row(cid)["state"] == "acknowledged"
    assert "acknowledge → acknowledged: taken up by the duty officer" in page.inner_text("[data-testid=timeline]")
    # the clock of that case now counts down to the assessment (24 h from now)
    wait_js(page, f"document.querySelector('[data-testid=clock][data-case=\"{cid}\"]').textContent"
                           ".startsWith('assess: 23h')")
    assert errors == [] and external == []


def test_liaison_allegation_form_and_contest_button(browser, live, tokens, store) -> None:
    from trucewatch.model import Status

    page, errors, external = open_page(browser, live, tokens["liaison_UA"], "allege")
    assert page.locator("[data-testid=tab-reply]").is_visible()
    # bad input: no place -> the API's 422 names the field
    page.fill("[data-testid=a-time]", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"))
    page.fill("[data-testid=a-desc]", "mortar fire on the school")
    page.click("[data-testid=a-submit]")
    wait_js(page, "document.querySelector('[data-testid=allege-result]').textContent.includes('place')")
    page.fill("[data-testid=a-time]", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"))
    page.fill("[data-testid=a-lat]", "47.95")
    page.fill("[data-testid=a-lon]", "37.62")
    page.fill("[data-testid=a-accused]", "RU")
    page.fill("[data-testid=a-desc]", "mortar fire on the school")
    page.set_input_files("[data-testid=a-files]", files=[{"name": "note.txt", "mimeType": "text/plain",
                                                          "buffer": b"eyewitness note"}])
    page.click("[data-testid=a-submit]")
    wait_js(page, "document.querySelector('[data-testid=allege-result]').textContent.startsWith('Received')")
    case_id = page.get_attribute("[data-testid=allege-result]", "data-case")
    assert case_id and case_id.startswith("C-")
    page.screenshot(path=str(SHOTS / "mechanism-allegation-liaison.png"))
    # contest a verified finding attributed to UA
    page.click("[data-testid=tab-reply]")
    ua = [v for v in store.query_violations() if v.party == "UA" and v.status in (Status.VERIFIED, Status.NOTIFIED)]
    assert ua
    target = ua[0].id
    page.wait_for_selector(f"[data-testid=contest-btn][data-target='{target}']")
    assert page.locator("[data-testid=contest-btn]").count() >= len(ua)
    page.click(f"[data-testid=contest-btn][data-target='{target}']")
    page.fill("[data-testid=r-reason]", "our unit had withdrawn the day before")
    page.screenshot(path=str(SHOTS / "mechanism-contest-liaison.png"))
    page.click("[data-testid=r-submit]")
    wait_js(page, "document.querySelector('[data-testid=reply-result]').textContent.includes('recorded')")
    assert store.get_violation(target).status == Status.CONTESTED
    assert errors == [] and external == []


def test_holding_site_register(browser, live, tokens) -> None:
    page, errors, _ = open_page(browser, live, tokens["analyst"], "sites")
    wait_js(page, "document.querySelectorAll('[data-testid=site-row]').length === 2")
    text = page.inner_text("[data-testid=sites-table]")
    assert "3 × MLRS (A1, A2, A3)" in text and "4 × howitzer 152mm" in text
    page.screenshot(path=str(SHOTS / "mechanism-holding-sites.png"))
    page.close()
    page, errors2, _ = open_page(browser, live, tokens["liaison_RU"], "sites")
    wait_js(page, "document.querySelectorAll('[data-testid=site-row]').length === 1")
    assert "Depot north" in page.inner_text("[data-testid=sites-table]")
    assert errors == [] and errors2 == []
