"""What readers see (issue 20), in Debian's headless Chromium: settlement labels by
zoom, uncertainty ellipses and launch lines, the permalink, what the evidence says,
the three languages and the liaison's contest button.  Screenshots of the analyst,
liaison and public views go to $TRUCEWATCH_SCREENSHOTS when set (docs/screenshots)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from .conftest import SHOTS, wait_js
from .test_service_browser import open_dashboard

pytestmark = pytest.mark.browser
CATALOGUES = Path(__file__).resolve().parents[2] / "trucewatch" / "service" / "static" / "i18n"


@pytest.fixture(scope="module")
def store(tmp_path_factory: Any, agreement: Any) -> Iterator[Any]:
    from trucewatch.sim.sample import populate
    from trucewatch.store import Store

    s = Store.open(tmp_path_factory.mktemp("readers") / "readers.db")
    populate(s, agreement, np.random.default_rng(3), n_violations=40, ledger=True)
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


def n_paths(page: Any, cls: str) -> int:
    return int(page.evaluate(f"() => document.querySelectorAll('path.{cls}').length"))


def test_labels_follow_zoom(browser, live, tokens, store) -> None:
    page, errors, external = open_dashboard(browser, live, tokens["analyst"])
    wait_js(page, "document.querySelectorAll('.place-label').length > 0")
    z0 = page.evaluate("() => trucewatch.map.getZoom()")
    assert z0 <= 8
    assert page.locator(".place-village").count() == 0  # no villages zoomed out
    cities = page.locator(".place-label").all_inner_texts()
    assert "Donetsk" in cities or "Kharkiv" in cities or "Zaporizhzhia" in cities, cities
    page.evaluate("() => trucewatch.map.setView([48.30, 38.02], 12, { animate: false })")
    wait_js(page, "document.querySelectorAll('.place-village').length > 0", timeout=30)
    near = page.locator(".place-label").all_inner_texts()
    assert "Horlivka" in near and set(near) != set(cities)
    # labels never overlap: each placed label's box is clear of the others
    boxes = page.evaluate("() => [...document.querySelectorAll('.place-label span')].map(e => { const r = "
                          "e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })")
    overlaps = sum(1 for i, a in enumerate(boxes) for b in boxes[i + 1:]
                   if a[0] < b[2] - 1 and a[2] > b[0] + 1 and a[1] < b[3] - 1 and a[3] > b[1] + 1)
    assert overlaps <= len(boxes) // 20, overlaps  # the width is estimated from the name's length
    # a finding with its launch line, zoomed in among villages (screenshot for the docs)
    v = next(v for v in store.query_violations() if v.origin is not None)
    page.evaluate(f"() => trucewatch.map.setView([{v.location.lat + 0.02}, {v.location.lon - 0.04}], 11, {{ animate: false }})")
    wait_js(page, "document.querySelectorAll('.place-village').length > 0", timeout=30)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "dashboard-zoomed.png"))
    assert errors == [] and external == []


def test_ellipses_launch_lines_legend(browser, live, tokens, store) -> None:
    page, errors, _ = open_dashboard(browser, live, tokens["analyst"])
    vs = store.query_violations()
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {len(vs)}")
    assert n_paths(page, "uncertainty") == len(vs)  # one ellipse (or footprint) per finding
    with_origin = [v for v in vs if v.origin is not None]
    assert with_origin and n_paths(page, "launch-line") == len(with_origin)
    # the ellipse is drawn to scale: its on-screen size follows err_major_m at this zoom
    big = max(vs, key=lambda v: v.location.err_major_m)
    size = page.evaluate("""([lat, lon, m]) => {
        const map = trucewatch.map, a = map.latLngToContainerPoint([lat, lon]);
        const b = map.latLngToContainerPoint([lat + m / 111320, lon]); return Math.abs(a.y - b.y); }""",
                         [big.location.lat, big.location.lon, big.location.err_major_m])
    widths = page.evaluate("() => [...document.querySelectorAll('path.uncertainty')].map(p => { const r = p.getBBox(); "
                           "return Math.max(r.width, r.height); })")
    assert max(widths) == pytest.approx(2 * size, rel=0.25)
    # party by a letter badge on every finding, status by fill: the legend explains both, and the zones
    assert page.locator(".party-badge").count() == len(vs)
    legend = page.inner_text("[data-testid=legend]")
    for word in ("verified", "contested", "UA", "RU", "contact line", "95 % uncertainty area", "launch → impact"):
        assert word in legend, word
    assert page.locator("[data-testid=legend-zones] div").count() >= 3
    # every finding in the list names a settlement
    places = page.locator("#list [data-testid=place]").all_inner_texts()
    assert len(places) == len(vs) and all(p.strip() for p in places)
    assert any(" km " in p and " of " in p for p in places)
    # search by place narrows the list and the map; by id finds one
    name = store_place(page)
    page.fill("[data-testid=search]", name.lower())
    wait_js(page, f"document.querySelectorAll('#list li').length < {len(vs)}")
    assert all(name in t for t in page.locator("#list [data-testid=place]").all_inner_texts())
    page.fill("[data-testid=search]", vs[3].id)
    wait_js(page, "document.querySelectorAll('#list li').length === 1")
    page.fill("[data-testid=search]", "")
    wait_js(page, f"document.querySelectorAll('#list li').length === {len(vs)}")
    # histogram: one bar per bin, counts add up to the findings; exports carry the filter
    counts = page.evaluate("() => [...document.querySelectorAll('#histogram .bar')].map(b => +b.dataset.count)")
    assert sum(counts) == len(vs)
    page.select_option("[data-testid=f-rule]", "fire_across_line")
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {len(with_origin)}")
    href = page.get_attribute("a.export[data-fmt=geojson]", "href")
    assert href.startswith("/api/v1/exports/geojson?") and "rule=fire_across_line" in href
    assert errors == []


def store_place(page: Any) -> str:
    return str(page.evaluate("() => trucewatch.state.violations[0].place.name"))


def test_permalink_opens_the_finding(browser, live, tokens, store) -> None:
    page, errors, _ = open_dashboard(browser, live, tokens["analyst"])
    vid = store.query_violations()[5].id
    page.locator(f"#list li[data-violation='{vid}']").click()
    page.wait_for_selector("[data-testid=panel-title]")
    assert page.evaluate("() => location.hash") == f"#/finding/{vid}"
    assert page.get_attribute("[data-testid=permalink]", "href") == f"#/finding/{vid}"
    # a fresh load of the link (same tab: the token stays in sessionStorage) opens it
    other = store.query_violations()[9].id
    page.goto(f"{live.url}/?from=link#/finding/{other}")
    page.wait_for_selector("body[data-ready='1']")
    wait_js(page, f"document.querySelector('[data-testid=panel-title]')?.textContent === {json.dumps(other)}")
    assert page.is_visible("[data-testid=panel]")
    assert page.inner_text("[data-testid=panel-place]").strip() not in ("", "–")
    assert errors == []


def test_evidence_says_what_it_saw(browser, live, tokens, store) -> None:
    page, errors, _ = open_dashboard(browser, live, tokens["analyst"])
    v = next(v for v in store.query_violations() if v.rule.value == "strike_on_protected_object")
    page.evaluate(f"() => trucewatch.select({json.dumps(v.id)})")
    page.wait_for_selector("[data-testid=evidence-text]")
    claim = next(o for o in store.get_observations([e.observation_id for e in v.evidence]) if o.kind.value == "report_claim")
    assert page.inner_text("[data-testid=evidence-text]").strip() == claim.attributes["text"]
    assert page.get_attribute("[data-testid=evidence-text]", "lang") == claim.attributes["language"]
    assert page.get_attribute("[data-testid=evidence-link]", "href") == claim.attributes["url"]
    panel = page.inner_text("[data-testid=panel]")
    assert claim.attributes["channel"] in panel and "Sensors" in panel and "sensor-" in panel and "ms" in panel
    wait_js(page, "document.querySelector('[data-testid=history] li') !== null")
    assert "→" in page.inner_text("[data-testid=history]")
    # the analyst may move it along the workflow, and is offered no contest
    assert page.locator("[data-testid=apply]").count() == 1 and page.locator("[data-testid=contest]").count() == 0
    page.screenshot(path=str(SHOTS / "dashboard-evidence.png"))
    # the analyst's workflow step from the panel: a detected finding moves to corroborated, with its reason
    d = next(v for v in store.query_violations() if v.status.value == "detected")
    page.evaluate(f"() => trucewatch.select({json.dumps(d.id)})")
    page.wait_for_selector("[data-testid=apply]")
    page.fill("[data-testid=reason]", "Two independent sources agree.")
    page.select_option("[data-testid=to-status]", "corroborated")
    page.click("[data-testid=apply]")
    wait_js(page, "document.querySelector('[data-testid=panel-status]')?.textContent === 'corroborated'")
    assert store.get_violation(d.id).status.value == "corroborated"
    assert store.transitions(d.id)[-1].reason == "Two independent sources agree."
    # a step the workflow refuses is answered with the API's reason, and nothing changes
    page.fill("[data-testid=reason]", "try")
    page.select_option("[data-testid=to-status]", "confirmed")
    page.click("[data-testid=apply]")
    wait_js(page, "document.getElementById('toast').textContent.includes('not allowed')")
    assert store.get_violation(d.id).status.value == "corroborated"
    assert errors == []


def test_three_languages(browser, live, tokens, store) -> None:
    uk = json.loads((CATALOGUES / "uk.json").read_text(encoding="utf-8"))
    ru = json.loads((CATALOGUES / "ru.json").read_text(encoding="utf-8"))
    v = next(v for v in store.query_violations() if v.rule.value == "strike_on_protected_object")
    claim = next(o for o in store.get_observations([e.observation_id for e in v.evidence]) if o.kind.value == "report_claim")
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    for lang, cat in (("uk", uk), ("ru", ru)):
        page.goto(f"{live.url}/?lang={lang}#token={tokens['analyst']}")
        page.wait_for_selector("body[data-ready='1']")
        assert page.evaluate("() => document.documentElement.lang") == lang
        assert page.text_content("#filters h2") == cat["filters.title"]
        assert page.inner_text("[data-testid=who]").startswith(cat["role.analyst"])
        assert cat["status.verified"] in page.inner_text("[data-testid=legend]")
        assert cat["layer.contact_line"] in page.inner_text(".leaflet-control-layers")
        assert "findings shown" not in page.inner_text("[data-testid=count]")
        page.evaluate(f"() => trucewatch.select({json.dumps(v.id)})")
        page.wait_for_selector("[data-testid=evidence-text]")
        assert page.inner_text("[data-testid=evidence-text]").strip() == claim.attributes["text"]  # free text as written
        assert cat["panel.history"] in page.inner_text("[data-testid=panel]")
        # settlements in Cyrillic in the list
        assert any(ch in page.inner_text("#list") for ch in "абвгдежзиклмнопрстуф")
    page.screenshot(path=str(SHOTS / "dashboard-analyst-ru.png"))
    # remembered: the next visit without ?lang stays in Russian, until English is chosen
    page.goto(f"{live.url}/")
    page.wait_for_selector("body[data-ready='1']")
    assert page.text_content("#filters h2") == ru["filters.title"]
    page.select_option("[data-testid=lang]", "en")
    page.wait_for_selector("body[data-ready='1']")
    wait_js(page, "document.documentElement.lang === 'en'")
    assert page.text_content("#filters h2") == "Filters"
    assert errors == []
    page.close()


def test_liaison_contests_its_own_finding(browser, live, tokens, store, config) -> None:
    page, errors, _ = open_dashboard(browser, live, tokens["liaison_UA"])
    n_ua = sum(1 for v in store.query_violations() if v.party == "UA")
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {n_ua}")
    assert page.locator(".party-badge").all_inner_texts() == ["UA"] * n_ua  # no colour that reads as "RU"
    page.screenshot(path=str(SHOTS / "dashboard-liaison-UA.png"))
    notified = [v for v in store.query_violations() if v.party == "UA" and v.status.value == "notified"]
    v = next((v for v in notified if any(e.kind.value == "report_claim" for e in v.evidence)), notified[0])
    page.evaluate(f"() => trucewatch.select({json.dumps(v.id)})")
    page.wait_for_selector("[data-testid=contest]")
    assert page.locator("[data-testid=apply]").count() == 0  # no analyst workflow for a liaison
    assert page.locator("[data-testid=evidence-text]").count() == 0  # a monitor team's words stay internal
    if any(e.kind.value == "report_claim" for e in v.evidence):
        assert "withheld for your role" in page.inner_text("[data-testid=panel]")
    page.fill("[data-testid=reason]", "Our positions did not fire that night; see the patrol log.")
    page.fill("[data-testid=counter]", "doc:patrol-log-17")
    page.click("[data-testid=contest]")
    wait_js(page, "document.querySelector('[data-testid=panel-status]')?.textContent === 'contested'")
    assert store.get_violation(v.id).status.value == "contested"
    wait_js(page, "document.querySelector('[data-testid=history]')?.textContent.includes('patrol log')")
    page.close()
    # the public: no workflow, no contest; evidence by kind only
    page, errors2, _ = open_dashboard(browser, live, tokens["public"])
    n_pub = sum(1 for v in store.query_violations() if v.status.value in config.public_statuses)
    wait_js(page, f"document.querySelectorAll('path.violation-marker').length === {n_pub}")
    page.locator("#list li").first.click()
    page.wait_for_selector("[data-testid=panel-title]")
    assert page.locator("[data-testid=contest]").count() == 0 and page.locator("[data-testid=apply]").count() == 0
    assert "Evidence by kind" in page.inner_text("[data-testid=panel]")
    page.screenshot(path=str(SHOTS / "dashboard-public.png"))
    assert errors == [] and errors2 == []
