"""The daily report per role, with the real renderer: each role's report holds what
that role gets from /api/v1/violations and nothing more (issue 15, point 1).

One app on one sample store for the module (each view renders HTML and PDF once);
every test checks the analyst's report does hold what another view must not, so
a check cannot pass on an empty report.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import make_store
from trucewatch.model import Status
from trucewatch.report.daily import period_for
from trucewatch.service.app import create_app
from trucewatch.service.config import ServiceConfig
from trucewatch.sim.sample import populate_air_sea
from trucewatch.store import Store

VID = re.compile(r"v-\d{8}-\d{5}")
OBS = re.compile(r"obs-\d{8}-\d{5}-\d")
IMG = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")
#: An explanation as the adjudicator writes it: it cites observation ids, ledger indexes and sources.
CITED = "Evidence: 2 acoustic, 1 monitor team: {o0} (ledger #7); {o1}. Reported by team-alpha and {src}."
#: A source the store does not know (the liaison API withholds it as ``withheld (unknown source)``).
UNREGISTERED = "unregistered-team-x"


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, agreement: Any) -> Iterator[dict[str, Any]]:
    store = make_store(tmp_path_factory.mktemp("views") / "svc.db", agreement)
    populate_air_sea(store, agreement, np.random.default_rng(3))  # the air and sea sections (tracks, vessels)
    # one UA finding whose explanation names observations and a source, as real ones do
    ua = next(v for v in store.query_violations() if v.party == "UA" and v.status != Status.DISMISSED)
    ua.evidence[-1].source_id = UNREGISTERED
    ua.explanation = "Fire seen from both sides. " + CITED.format(o0=ua.evidence[0].observation_id,
                                                                  o1=ua.evidence[-1].observation_id, src=UNREGISTERED)
    store.save_violations([ua])
    config = ServiceConfig(require_signatures=False, public_delay_s=3600)
    app = create_app(store, agreement, config)
    ts = app.state.tokens
    tokens = {"analyst": ts.create("analyst")[0], "administrator": ts.create("administrator")[0],
              "liaison_UA": ts.create("liaison", party="UA")[0], "liaison_RU": ts.create("liaison", party="RU")[0],
              "public": ts.create("public")[0], "monitor": ts.create("monitor", source_ids=["team-alpha"])[0]}
    day = store.query_violations()[0].time.date()  # the sample day: its report covers most of the findings
    with TestClient(app) as client:
        yield {"store": store, "client": client, "tokens": tokens, "day": day, "cited": ua, "app": app}
    store.close()


def _report(env: dict[str, Any], who: str, fmt: str = "html") -> Any:
    r = env["client"].get(f"/api/v1/reports/daily/{env['day']}/{fmt}", headers=auth(env["tokens"][who]))
    assert r.status_code == 200, r.text
    return r


def _api_ids(env: dict[str, Any], who: str) -> set[str]:
    """What the API's /violations gives ``who`` for the report's period (dismissed left out, as the report does)."""
    p = period_for(env["day"])
    r = env["client"].get("/api/v1/violations", headers=auth(env["tokens"][who]),
                          params={"t_from": p.start.isoformat(), "t_to": p.end.isoformat(), "limit": 5000})
    assert r.status_code == 200, r.text
    return {v["id"] for v in r.json() if v["status"] != Status.DISMISSED.value}


def _secrets(env: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(every registered source id, every observation id) of the store."""
    store: Store = env["store"]
    sources = {s.id for s in store.list_sources()} | {UNREGISTERED}
    obs = {e.observation_id for v in store.query_violations() for e in v.evidence}
    return sources, obs


def _analyst(env: dict[str, Any]) -> str:
    if "analyst_html" not in env:
        env["analyst_html"] = _report(env, "analyst").text
    return env["analyst_html"]


def test_analyst_report_is_the_full_view(env) -> None:
    html = _analyst(env)
    ids = set(VID.findall(html))
    assert ids == _api_ids(env, "analyst") and len(ids) > 20
    sources, _ = _secrets(env)
    assert {"team-alpha", "acoustic-net"} <= {s for s in sources if s in html}
    assert OBS.search(html) and env["cited"].evidence[0].observation_id in html and UNREGISTERED in html
    assert "Analyst view" in html
    # administrators get the same (full) view
    assert set(VID.findall(_report(env, "administrator").text)) == ids


def test_public_report_holds_published_findings_only(env) -> None:
    html = _report(env, "public").text
    analyst = _analyst(env)
    shown = set(VID.findall(html))
    published = _api_ids(env, "public")
    everything = set(VID.findall(analyst))
    unpublished = everything - published
    assert published and unpublished, "the sample must hold both published and unpublished findings"
    assert shown == published
    assert not shown & unpublished
    sources, obs = _secrets(env)
    assert not [s for s in sources if s in html], "a source identity in the public report"
    assert not OBS.search(html) and not [o for o in obs if o in html]
    assert "Public view" in html and "Analyst view" not in html
    assert "ledger #7" not in html and "Fire seen from both sides" not in html  # no reasoning text for the public
    assert "analyst view only" in html


@pytest.mark.parametrize("who", ["public", "liaison_UA"])
def test_air_and_sea_only_in_their_published_form(env, who) -> None:
    """Analysts get the vessels by MMSI and the air section; the others the API's published layer summaries."""
    store: Store = env["store"]
    mmsi = {str(o.attributes["mmsi"]) for o in store.query_observations(kinds=["vessel_incident"])
            if o.attributes.get("mmsi")}
    assert mmsi
    analyst = IMG.sub("", _analyst(env))
    assert "Sea: vessels and incidents" in analyst and any(m in analyst for m in mmsi)
    html = IMG.sub("", _report(env, who).text)
    assert "Sea: incidents (published view)" in html and "Air: launches and interceptions (published view)" in html
    assert "Sea: vessels and incidents" not in html
    assert not [m for m in mmsi if m in html], "a vessel named outside the analyst view"


@pytest.mark.parametrize("party, other", [("UA", "RU"), ("RU", "UA")])
def test_liaison_report_holds_its_party_only(env, party, other) -> None:
    html = _report(env, f"liaison_{party}").text
    store: Store = env["store"]
    p = period_for(env["day"])
    in_period = {v.id: v for v in store.query_violations(t_from=p.start.timestamp(), t_to=p.end.timestamp())
                 if v.status != Status.DISMISSED}
    mine = {i for i, v in in_period.items() if v.party == party}
    theirs = {i for i, v in in_period.items() if v.party == other}
    shown = set(VID.findall(html))
    assert mine and theirs
    assert shown == _api_ids(env, f"liaison_{party}") == mine
    assert not shown & theirs and theirs <= set(VID.findall(_analyst(env)))
    sources, obs = _secrets(env)
    assert not [s for s in sources if s in html], "a source identity in the liaison report"
    assert not OBS.search(html) and not [o for o in obs if o in html]
    assert f"Liaison view: {party}" in html and "Analyst view" not in html
    if env["cited"].party == party:  # its reasoning is kept, its citations withheld
        assert "Fire seen from both sides" in html and "[withheld]" in html


def test_views_are_not_shared_through_the_cache(env) -> None:
    """Analyst first (builds and caches its report), then the others: each still gets its own."""
    _analyst(env)
    for who, title in (("public", "Public view"), ("liaison_UA", "Liaison view: UA"),
                       ("liaison_RU", "Liaison view: RU"), ("analyst", "Analyst view")):
        html = _report(env, who).text
        assert title in html
        assert sum(t in html for t in ("Public view", "Liaison view", "Analyst view")) == 1
    for who, view in (("public", "public"), ("liaison_UA", "liaison:UA"), ("administrator", "analyst")):
        r = env["client"].get(f"/api/v1/reports/daily/{env['day']}", headers=auth(env["tokens"][who]))
        assert r.status_code == 200 and r.json()["view"] == view
    r = env["client"].get(f"/api/v1/reports/daily/{env['day']}", headers=auth(env["tokens"]["monitor"]))
    assert r.status_code == 403


@pytest.mark.parametrize("who, title", [("public", "Public view"), ("liaison_UA", "Liaison view: UA")])
def test_pdf_says_its_view_and_leaks_nothing(env, who, title) -> None:
    pypdf = pytest.importorskip("pypdf")
    pdf = _report(env, who, "pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert title in text
    shown = set(VID.findall(text))
    allowed = _api_ids(env, who)
    assert shown and shown <= allowed
    sources, _ = _secrets(env)
    assert not OBS.search(text) and not [s for s in sources if s in text]
    analyst = "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(
        io.BytesIO(_report(env, "analyst", "pdf").content)).pages)
    assert "team-alpha" in analyst and OBS.search(analyst)  # the same extraction does see identities


def test_report_reads_are_audited_public_included(env) -> None:
    _report(env, "public")
    _report(env, "liaison_UA")
    log = env["client"].get("/api/v1/audit", params={"limit": 5000}, headers=auth(env["tokens"]["administrator"]))
    seen = {(e["role"], e["party"], e["path"], e["status_code"]) for e in log.json()}
    path = f"/api/v1/reports/daily/{env['day']}/html"
    assert ("public", None, path, 200) in seen
    assert ("liaison", "UA", path, 200) in seen


def test_report_day_bounds(env) -> None:
    for bad in ("0001-01-01", "9999-12-31"):
        r = env["client"].get(f"/api/v1/reports/daily/{bad}", headers=auth(env["tokens"]["analyst"]))
        assert r.status_code == 422, (bad, r.text)


def test_cli_report_view(env, agreement, tmp_path: Path) -> None:
    """``trucewatch report daily --view``: the same views from the command line."""
    from typer.testing import CliRunner

    from trucewatch.cli import app as cli_app

    store: Store = env["store"]
    db = str(store.engine.url.database)
    out = {}
    for view in ("analyst", "public", "liaison:UA"):
        res = CliRunner().invoke(cli_app, ["report", "daily", "--db", db, "--date", env["day"].isoformat(),
                                           "--out", str(tmp_path / view.replace(":", "-")), "--no-pdf",
                                           "--view", view])
        assert res.exit_code == 0, res.output
        out[view] = (tmp_path / view.replace(":", "-") / "report.html").read_text()
    # the CLI's public view uses the service's default delay (1 day); the sample's findings were published 2 days ago
    assert set(VID.findall(out["public"])) < set(VID.findall(out["analyst"]))
    assert "team-alpha" in out["analyst"] and "team-alpha" not in out["public"] + out["liaison:UA"]
    assert "Liaison view: UA" in out["liaison:UA"]
    res = CliRunner().invoke(cli_app, ["report", "daily", "--db", db, "--date", "2026-01-01", "--out",
                                       str(tmp_path / "x"), "--view", "liaison:XX"])
    assert res.exit_code == 2 and "XX" in res.output

