"""The daily report in OSCE structure: sections in order behind one interface, places by
settlement, "no data" instead of zeros, no raw ids in the body, three languages, compact PDF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import make_store
from trucewatch.model import Location, Observation, ObservationKind, Status, Transition
from trucewatch.report import osce
from trucewatch.report.daily import ReportView, build_daily_report, default_views, period_for
from trucewatch.store import Store

VID = re.compile(r"v-\d{8}-\d{5}")
OBS = re.compile(r"obs-\d{8}-\d{5}-\d")
EN_TITLES = ["Summary", "Map of the reporting period", "Explosions by type and area",
             "Violations by kind, and the last 30 days", "Findings by area and settlement",
             "Weapons in violation of the withdrawal lines", "Holding sites", "Civilian casualties",
             "Damage to civilian infrastructure", "Freedom of movement and obstruction", "Corrections",
             "Evidence ledger", "Method", "Annex: findings and their evidence"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, agreement: Any) -> Iterator[dict[str, Any]]:
    d = tmp_path_factory.mktemp("daily")
    store = make_store(d / "r.db", agreement)
    vs = store.query_violations()
    day = vs[0].time.date()
    t0 = vs[0].time
    # a claim that carries casualties, and an interference record without start/duration (GNSS table)
    store.add_observations([
        Observation(id="obs-cas-1", source_id="team-alpha", kind=ObservationKind.REPORT_CLAIM, time=t0,
                    location=Location(lat=vs[0].location.lat, lon=vs[0].location.lon, err_major_m=2000,
                                      err_minor_m=2000), attributes={"casualties": {"killed": 2, "injured": 7}}),
        Observation(id="obs-gnss-1", source_id="team-alpha", kind=ObservationKind.INTERFERENCE, time=t0,
                    location=Location(lat=vs[1].location.lat, lon=vs[1].location.lon, err_major_m=5000,
                                      err_minor_m=5000), attributes={"interference": "gnss_jamming"}),
    ])
    yield {"store": store, "agreement": agreement, "day": day, "dir": d}
    store.close()


def _build(env: dict[str, Any], lang: str = "en", view: str = "analyst", pdf: bool = False,
           day: Any = None) -> dict[str, Any]:
    key = (lang, view, pdf, day)
    cache = env.setdefault("built", {})
    if key not in cache:
        out = env["dir"] / f"{lang}-{view.replace(':', '-')}-{pdf}-{day}"
        paths = build_daily_report(env["store"], env["agreement"], day or env["day"], out, pdf=pdf, lang=lang,
                                   view=ReportView.parse(view), views=default_views(env["store"]))
        cache[key] = {"html": paths["html"].read_text(encoding="utf-8"), "paths": paths}
    return cache[key]


def _titles(html: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", html)


def test_sections_in_osce_order(env) -> None:
    titles = _titles(_build(env)["html"])
    assert [t for t in titles if t in EN_TITLES] == EN_TITLES
    # the source stages' own sections sit between corrections and the ledger
    assert titles.index("Corrections") < titles.index("Evidence ledger")


def test_previous_period_without_data_says_no_data(env) -> None:
    html = _build(env)["html"]
    summary = html.split("<h2>Summary</h2>")[1].split("<h2>")[0]
    assert "previous period: no data" in summary and "previous period: 0" not in summary
    # the next day's report has the sample day as its previous period: numbers, not "no data"
    nxt = _build(env, day=env["day"] + timedelta(days=1))["html"]
    s2 = nxt.split("<h2>Summary</h2>")[1].split("<h2>")[0]
    assert re.search(r"previous period: [1-9]\d*", s2) and "no data" not in s2


def test_findings_named_by_settlement_and_no_raw_ids_in_the_body(env) -> None:
    html = _build(env)["html"]
    body, annex = html.split("id=\"s-annex\"")
    assert not VID.search(body) and not OBS.search(body), "a raw id in the report body"
    store: Store = env["store"]
    p = period_for(env["day"])
    ids = {v.id for v in store.query_violations(t_from=p.start.timestamp(), t_to=p.end.timestamp())
           if v.status != Status.DISMISSED}
    assert set(VID.findall(annex)) == ids  # the annex maps F1, F2, ... to the ids
    findings = body.split("<h2>Findings by area and settlement</h2>")[1].split("<h2>")[0]
    places = re.findall(r"<td>((?:near |\d+ km [NSEW]{1,2} of |within \d+ km of )[^<]+)</td>", findings)
    assert len(places) == len(ids), "every finding is placed by a settlement"
    assert "break-inside: avoid" in html


def test_civilian_harm_gnss_holding_sites_and_corrections(env) -> None:
    html = _build(env)["html"]
    harm = html.split("<h2>Civilian casualties</h2>")[1].split("<h2>")[0]
    assert re.search(r"<td class=num>2</td><td class=num>7</td>", harm)
    fom = html.split("<h2>Freedom of movement and obstruction</h2>")[1].split("<h2>")[0]
    assert "gnss jamming" in fom and "None" not in fom and "Start" in fom
    assert "No data: no holding site was checked" in html
    assert "No corrections" in html


def test_corrections_list_an_earlier_finding_whose_status_changed(env, agreement, tmp_path: Path) -> None:
    store = make_store(tmp_path / "c.db", agreement)
    try:
        v = store.query_violations()[0]
        nxt = v.time.date() + timedelta(days=1)
        at = period_for(nxt).start + timedelta(hours=2)
        store.record_transition(Transition(violation_id=v.id, from_status=v.status, to_status=Status.DISMISSED,
                                           actor="analyst:test", reason="duplicate", at=at))
        paths = build_daily_report(store, agreement, nxt, tmp_path / "out", pdf=False)
        sec = paths["html"].read_text().split("<h2>Corrections</h2>")[1].split("<h2>")[0]
        assert "→ dismissed" in sec and "No corrections" not in sec
    finally:
        store.close()


@pytest.mark.parametrize("lang, summary, foreign", [("uk", "Стислий виклад", "Краткое изложение"),
                                                    ("ru", "Краткое изложение", "Стислий виклад")])
def test_languages(env, lang: str, summary: str, foreign: str) -> None:
    html = _build(env, lang)["html"]
    assert f'<html lang="{lang}">' in html and summary in html and foreign not in html
    titles = _titles(html)
    assert not set(titles) & set(EN_TITLES), "an English section title in a translated report"
    assert len(titles) == len(_titles(_build(env)["html"]))
    # free text is left as written: the same explanations as in the English report
    assert html.count("sample fire across line near the line") == \
        _build(env)["html"].count("sample fire across line near the line") > 0


def test_register_a_section(env) -> None:
    def cases(ctx: osce.ReportContext) -> osce.Block:
        return osce.Block("cases", "Open cases", f"<p>{len(ctx.rows)} findings, lang {ctx.lang}</p>")

    before = list(osce.SECTIONS)
    try:
        osce.register_section("cases", cases, after="corrections")
        with pytest.raises(ValueError, match="already"):
            osce.register_section("cases", cases)
        osce.register_section("holding_sites", lambda ctx: osce.Block("holding_sites", "Sites (mechanism)", "x"),
                              replace=True)
        out = build_daily_report(env["store"], env["agreement"], env["day"], env["dir"] / "reg", pdf=False)
        titles = _titles(out["html"].read_text())
        assert titles.index("Corrections") + 1 == titles.index("Open cases")
        assert "Sites (mechanism)" in titles and "Holding sites" not in titles
    finally:
        osce.SECTIONS[:] = before


@pytest.mark.slow
def test_pdf_is_compact(env) -> None:
    """The sample day (40 findings): the body in about 5 pages, the annex after it; no row split."""
    pypdf = pytest.importorskip("pypdf")
    built = _build(env, pdf=True)
    reader = pypdf.PdfReader(built["paths"]["pdf"])
    pages = [p.extract_text() or "" for p in reader.pages]
    annex = next(i for i, t in enumerate(pages) if "Annex: findings and their evidence" in t)
    assert annex <= 5 and len(pages) <= 8, (annex, len(pages))
    assert "previous period: no data" in pages[0]


def test_cli_and_api_language(env, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trucewatch.cli import app as cli_app

    db = str(env["store"].engine.url.database)
    res = CliRunner().invoke(cli_app, ["report", "daily", "--db", db, "--date", env["day"].isoformat(),
                                       "--out", str(tmp_path / "ru"), "--no-pdf", "--lang", "ru"])
    assert res.exit_code == 0, res.output
    assert '<html lang="ru">' in (tmp_path / "ru" / "report.html").read_text()
    res = CliRunner().invoke(cli_app, ["report", "daily", "--db", db, "--date", env["day"].isoformat(),
                                       "--out", str(tmp_path / "x"), "--lang", "de"])
    assert res.exit_code == 2 and "de" in res.output


def test_report_endpoint_language(env) -> None:
    from fastapi.testclient import TestClient

    from trucewatch.service.app import create_app
    from trucewatch.service.config import ServiceConfig

    app = create_app(env["store"], env["agreement"], ServiceConfig(require_signatures=False))
    tok = app.state.tokens.create("analyst")[0]
    h = {"Authorization": f"Bearer {tok}"}
    with TestClient(app) as c:
        uk = c.get(f"/api/v1/reports/daily/{env['day']}/html", params={"lang": "uk"}, headers=h)
        en = c.get(f"/api/v1/reports/daily/{env['day']}/html", headers=h)
        assert uk.status_code == en.status_code == 200
        assert "Стислий виклад" in uk.text and "Summary" in en.text and "Стислий виклад" not in en.text
        meta = c.get(f"/api/v1/reports/daily/{env['day']}", params={"lang": "ru"}, headers=h).json()
        assert meta["lang"] == "ru" and meta["files"]["html"].endswith("?lang=ru")
        assert c.get(f"/api/v1/reports/daily/{env['day']}", params={"lang": "de"}, headers=h).status_code == 422


def test_drone_section_says_what_is_missing() -> None:
    """Sightings without the flights' frame records: no "0.0 flight hours, 0 frames" beside them."""
    from trucewatch.sources.drone.report import render_html

    sec = {"coverage": {"flights": 1, "flight_hours": 0.0, "frames": 0, "untrusted_frames": 0,
                        "area_km2_at_1m_or_better": 0.0},
           "sightings": 14, "tentative_sightings": 2, "weapons_in_violation": [], "storage_sites": [],
           "interference": [{"start": "2026-03-15T10:11:00+00:00", "kind": "gnss_jamming", "duration_s": None,
                             "lat": 47.0, "lon": 35.0, "radius_km": 4.0}], "flights_with_interference": 1}
    html = render_html(sec)
    assert "14 weapon sightings (2 tentative) reported from 1 drone flight." in html
    assert "flight hours" not in html.split("</p>")[0].replace("flight hours and the area covered are not known", "")
    assert "0 frames" not in html and "None" not in html and "2026-03-15T10:11:00" in html
