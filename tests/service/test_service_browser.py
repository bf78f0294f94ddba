"""The dashboard in Debian's headless Chromium (Playwright): the map renders from the
bundled basemap and vendored Leaflet, a click on a violation opens its evidence with
ledger status, filters and the time slider work, roles see their view.
Screenshots go to a temporary folder, or to $TRUCEWATCH_SCREENSHOTS when set
(``TRUCEWATCH_SCREENSHOTS=docs/screenshots pytest -m browser tests/service`` refreshes
the ones in the docs), so a test run never rewrites tracked files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from .conftest import SHOTS, wait_js, watch_page

pytestmark = pytest.mark.browser



# One signed store, server and browser for the module: these tests only read.
@pytest.fixture(scope="module")
def store(tmp_path_factory: Any, agreement: Any) -> Iterator[Any]:
    """Signed sample data with a ledger and a signed checkpoint: proofs verify."""
    from trucewatch.sim.sample import populate, populate_air_sea
    from trucewatch.store import Store

    s = Store.open(tmp_path_factory.mktemp("browser") / "browser.db")
    populate(s, agreement, np.random.default_rng(3), n_violations=40, ledger=True)
    populate_air_sea(s, agreement, np.random.default_rng(3), drones=10, merchants=8)  # the air and sea layers
    yield s
    s.close()


@pytest.fixture(scope="module")
def config() -> Any:
    from trucewatch.service.config import ServiceConfig

    return ServiceConfig(require_signatures=False, public_delay_s=3600, sse_ping_s=0.3)


@pytest.fixture(scope="module")
def app(store: Any, agreement: Any, config: Any) -> Any:
    from trucewatch.service.app import create_app

    return create_app(store, agreement, config)


@pytest.fixture(scope="module")
def tokens(app: Any) -> dict[str, str]:
    ts = app.state.tokens
    return {"analyst": ts.create("analyst")[0], "liaison_UA": ts.create("liaison", party="UA")[0],
            "public": ts.create("public")[0]}


@pytest.fixture(scope="module")
def live(app: Any, live_server_cls: Any) -> Iterator[Any]:
    with live_server_cls(app) as srv:
        yield srv



def open_dashboard(browser: Any, live: Any, token: str) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    # the Content-Security-Policy must let the dashboard work: a refused script, style or image is an error
    errors, external = watch_page(page, (live.url,))
    page.goto(f"{live.url}/#token={token}")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)
    return page, errors, external


def test_dashboard_click_through_to_evidence(browser, live, tokens, store) -> None:
    page, errors, external = open_dashboard(browser, live, tokens["analyst"])
    # basemap, contact line and markers are drawn as SVG paths by Leaflet
    wait_js(page, "document.querySelectorAll('path.violation-marker').length > 0")
    n_markers = page.locator("path.violation-marker").count()
    assert n_markers == len(store.query_violations())
    assert page.locator(".leaflet-overlay-pane path").count() > n_markers  # land, borders, line, zones
    assert "analyst" in page.inner_text("[data-testid=who]")
    page.screenshot(path=str(SHOTS / "dashboard-analyst.png"))

    vid = page.locator("path.violation-marker").first.get_attribute("data-violation")
    page.locator(f"path.violation-marker[data-violation='{vid}']").click(force=True)
    page.wait_for_selector("[data-testid=evidence]")
    assert page.inner_text("[data-testid=panel-title]") == vid
    v = store.get_violation(vid)
    assert page.locator("[data-testid=evidence]").count() == len(v.evidence)
    badges = page.locator("[data-testid=proof]").all_inner_texts()
    assert badges == ["ledger proof verifies ✓"] * len(v.evidence)
    page.screenshot(path=str(SHOTS / "dashboard-evidence.png"))
    assert errors == [] and external == []  # works offline: nothing fetched from elsewhere


def test_filters_and_time_slider(browser, live, tokens, store) -> None:
    page, errors, _ = open_dashboard(browser, live, tokens["analyst"])
    total = len(store.query_violations())
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {total}")
    page.select_option("[data-testid=f-rule]", "fire_across_line")
    n_rule = sum(1 for v in store.query_violations() if v.rule.value == "fire_across_line")
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {n_rule}")
    page.select_option("[data-testid=f-rule]", "")
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {total}")
    # slider to the start with a 6-hour window: only the earliest findings stay
    page.select_option("[data-testid=t-window]", "21600")
    page.eval_on_selector("[data-testid=t-slider]", "e => { e.value = 0; e.dispatchEvent(new Event('input')); }")
    times = sorted(v.time.timestamp() for v in store.query_violations())
    expected = sum(1 for t in times if t <= times[0] + 1)
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {expected}")
    assert "of" in page.inner_text("[data-testid=count]")
    assert errors == []


def test_liaison_and_public_views(browser, live, tokens, store, config) -> None:
    page, errors, _ = open_dashboard(browser, live, tokens["liaison_UA"])
    n_ua = sum(1 for v in store.query_violations() if v.party == "UA")
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {n_ua}")
    page.screenshot(path=str(SHOTS / "dashboard-liaison-UA.png"))
    page.close()
    page, errors2, _ = open_dashboard(browser, live, tokens["public"])
    n_pub = sum(1 for v in store.query_violations() if v.status.value in config.public_statuses)
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {n_pub}")
    assert page.locator("path.violation-marker").count() == n_pub
    page.locator("path.violation-marker").first.click(force=True)
    page.wait_for_selector("[data-testid=panel-title]")
    body = page.inner_text("[data-testid=panel]")
    assert "Evidence by kind" in body and "team-alpha" not in body  # no identities for the public
    page.screenshot(path=str(SHOTS / "dashboard-public.png"))
    assert errors == [] and errors2 == []


def test_air_and_sea_overlays(browser, live, tokens, store) -> None:
    from trucewatch.model import ObservationKind

    n_tracks = len(store.query_observations(kinds=[ObservationKind.AIR_TRACK.value]))
    incidents = store.query_observations(kinds=[ObservationKind.VESSEL_INCIDENT.value])
    assert n_tracks and incidents
    page, errors, external = open_dashboard(browser, live, tokens["analyst"])
    wait_js(page, f"document.querySelectorAll('path.air-track').length === {n_tracks}")
    wait_js(page, f"document.querySelectorAll('path.sea-incident').length === {len(incidents)}")
    assert page.locator("path.air-launch-area").count() > 0
    n_gaps = sum(1 for o in incidents if o.attributes.get("incident") == "ais_gap" and o.attributes.get("seen_again"))
    assert page.locator("path.sea-gap").count() == n_gaps
    assert page.locator("path.sea-track").count() > 0  # each incident's stretch of track
    control = page.inner_text(".leaflet-control-layers")
    assert "Air tracks" in control and "Sea incidents" in control
    summary = page.locator("[data-testid=air-summary]")
    assert summary.is_visible() and "Launched" in summary.inner_text()
    assert page.locator("[data-testid=legend-air]").is_visible() and page.locator("[data-testid=legend-sea]").count() == 1
    # a tooltip (an event on the path, not a mouse move: the point may lie outside the view; panning
    # or zooming is avoided here, it re-renders the basemap for seconds in headless Chromium)
    page.locator("path.sea-incident").first.dispatch_event("mouseover")
    page.wait_for_selector(".leaflet-tooltip")
    assert "zone" in page.inner_text(".leaflet-tooltip-pane")
    page.locator("path.air-track").first.dispatch_event("mouseover")
    wait_js(page, "document.querySelector('.leaflet-tooltip-pane').textContent.includes('intercepted')")
    page.screenshot(path=str(SHOTS / "dashboard-air-sea.png"))
    # the time slider moves the tracks too: at its start with a 6-hour window only the tracks that
    # ended within 6 hours before the earliest finding stay; at its end all are back
    t0 = min(v.time.timestamp() for v in store.query_violations())
    tracks = store.query_observations(kinds=[ObservationKind.AIR_TRACK.value])
    expected = sum(1 for o in tracks if t0 - 21600 <= o.time.timestamp() <= t0 + 1)
    page.select_option("[data-testid=t-window]", "21600")
    page.eval_on_selector("[data-testid=t-slider]", "e => { e.value = 0; e.dispatchEvent(new Event('input')); }")
    assert expected < n_tracks, (expected, n_tracks)
    wait_js(page, f"document.querySelectorAll('path.air-track').length === {expected}")
    page.select_option("[data-testid=t-window]", "0")
    page.eval_on_selector("[data-testid=t-slider]", "e => { e.value = 1000; e.dispatchEvent(new Event('input')); }")
    wait_js(page, f"document.querySelectorAll('path.air-track').length === {n_tracks}")
    # unticking the overlay takes the tracks off the map
    page.locator(".leaflet-control-layers label", has_text="Air tracks").locator("input").click()
    wait_js(page, "document.querySelectorAll('path.air-track').length === 0")
    assert errors == [] and external == []
    page.close()
    # the public: launch areas and counts per zone or cell, never a track or an incident point
    page, errors, _ = open_dashboard(browser, live, tokens["public"])
    wait_js(page, "document.querySelectorAll('path.sea-count').length > 0")
    wait_js(page, "document.querySelectorAll('path.air-launch-area').length > 0")
    assert page.locator("path.air-track").count() == 0 and page.locator("path.air-origin").count() == 0
    assert page.locator("path.sea-gap").count() == 0 and page.locator("path.sea-track").count() == 0
    assert page.locator("path.sea-incident").count() == page.locator("path.sea-count").count()
    assert "Air launches (by area)" in page.inner_text(".leaflet-control-layers")
    assert errors == []


def test_bad_token_is_shown_not_crashing(browser, live) -> None:
    page = browser.new_page()
    page.goto(f"{live.url}/#token=tw_bad.token")
    wait_js(page, "document.getElementById('who').textContent.includes('failed')")
    assert "invalid token" in page.inner_text("[data-testid=who]")
