"""Extension points: a tiny plugin package (tests/plugins, an installed distribution's
``.dist-info`` with entry points) adds a source kind, a rule, an export format and a
report section; each is seen in the CLI, the API and the daily report, and the
source kind's declaration decides what liaisons see (fail closed when undeclared)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from trucewatch import exports, plugins
from trucewatch.adjudication import adjudicate
from trucewatch.adjudication import rules as rule_registry
from trucewatch.adjudication.workflow import auto_advance
from trucewatch.agreement import load_agreement
from trucewatch.agreement.spec import RuleSpec
from trucewatch.cli import app as cli_app
from trucewatch.model import Event, Location, Rule, Source
from trucewatch.report import sections
from trucewatch.report.daily import ReportView, build_daily_report, default_views
from trucewatch.service.app import create_app
from trucewatch.service.auth import Principal, Role
from trucewatch.service.config import ServiceConfig
from trucewatch.sim.sample import populate
from trucewatch.sources import registry
from trucewatch.store import Store

PLUGINS = Path(__file__).resolve().parent / "plugins"
AGREEMENT = Path(__file__).resolve().parents[1] / "trucewatch/data/agreements/ua-ru-2026/agreement.yaml"


def _forget_example() -> None:
    for name in [m for m in sys.modules if m == "tw_example" or m.startswith("tw_example.")]:
        del sys.modules[name]
    plugins.reset()


@pytest.fixture()
def installed() -> Iterator[None]:
    """The example distribution on sys.path, as ``pip install`` would leave it."""
    sys.path.insert(0, str(PLUGINS))
    _forget_example()
    try:
        yield
    finally:
        sys.path.remove(str(PLUGINS))
        _forget_example()


def test_without_the_plugin_nothing_is_added() -> None:
    plugins.reset()
    assert [p for ps in plugins.load_all().values() for p in ps if p.distribution.startswith("tw-example")] == []
    assert "kml" not in exports.formats()
    assert "seismic-csv" not in registry.BY_NAME


def test_the_plugin_is_loaded_into_every_registry(installed: None, tmp_path: Path) -> None:
    assert "seismic" in [a.name for a in registry.source_adapters()]
    assert "night_fire" in [r.name for r in rule_registry.registry()]
    assert exports.infer("findings.kml") == "kml"
    assert "seismic" in [s.name for s in sections.registry()]
    # its kinds are model kinds now; an undeclared one is still refused
    assert Rule("night_fire").value == "night_fire"
    assert Source(id="seismic-9", kind="seismic_array").kind.value == "seismic_array"
    with pytest.raises(ValueError):
        Source(id="x", kind="no_such_kind")
    # intake finds its format by sniffing and reads it through the plugin
    f = tmp_path / "fixes.csv"
    f.write_text("station,time_unix_s,lat,lon,err_m\nS1,1773615600,48.1,37.9,300\nS2,oops,48.1,37.9,300\n")
    fmt = registry.sniff(f)
    assert fmt is not None and fmt.name == "seismic-csv"
    assert "seismic-csv" in registry.format_names()
    res = fmt.read(f, registry.ReadContext())
    assert len(res.observations) == 1 and res.read == 2
    assert res.errors[0].record == "fixes.csv:3" and "time_unix_s" in res.errors[0].field


def test_redaction_follows_the_declarations(installed: None) -> None:
    assert registry.identity_withheld("seismic_array")  # the plugin says so
    assert registry.withheld_attributes("seismic_array") == ("station",)
    assert not registry.identity_withheld("open_source")
    # the kinds the service used to list by hand stay withheld
    assert all(registry.identity_withheld(k) for k in ("monitor_team", "acoustic_sensor", "drone"))
    # a kind nobody declares is withheld: a forgotten declaration never leaks
    assert registry.identity_withheld("unknown_kind") and registry.identity_withheld(None)
    assert registry.withheld_attributes("unknown_kind") == registry.POST_KEYS


def test_a_broken_plugin_is_named(installed: None, tmp_path: Path) -> None:
    dist = tmp_path / "tw_broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tw-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[trucewatch.exports]\nbad = tw_no_such_module:X\n")
    sys.path.insert(0, str(tmp_path))
    try:
        plugins.reset()
        with pytest.raises(plugins.PluginError, match=r"'bad'.*tw_no_such_module"):
            exports.formats()
    finally:
        sys.path.remove(str(tmp_path))
        plugins.reset()


@pytest.fixture()
def mission(installed: None, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A store with the sample findings plus one night fire seen by the plugin's seismic array."""
    agreement = load_agreement(AGREEMENT)
    agreement.rules.append(RuleSpec(id="R9", kind="night_fire", description="No fire at night"))
    store = Store.open(tmp_path / "m.db")
    populate(store, agreement, np.random.default_rng(3), n_violations=10)
    t = (agreement.start + timedelta(days=2)).replace(hour=23, minute=10, second=0, microsecond=0)
    f = tmp_path / "fixes.csv"
    f.write_text(f"station,time_unix_s,lat,lon,err_m\nS1,{t.timestamp():.0f},48.30,37.60,300\n")
    got = registry.BY_NAME["seismic-csv"].read(f, registry.ReadContext(agreement))
    store.add_sources(got.sources)
    store.add_observations(got.observations)
    obs = got.observations[0]
    ev = Event(id="ev-night-1", kind="fire", time=obs.time, location=Location(lat=48.30, lon=37.60, err_major_m=300,
                                                                               err_minor_m=300),
               observation_ids=[obs.id], confidence=0.9)
    found = [v for v in adjudicate([ev], {obs.id: obs}, agreement) if v.rule.value == "night_fire"]
    assert len(found) == 1 and found[0].party == "undetermined"
    auto_advance(store, found)
    # the report of a day runs from the day before at 19:30 (the cut-off): 23:10 is in the next one
    yield {"store": store, "agreement": agreement, "day": t.date() + timedelta(days=1), "violation": found[0], "obs": obs,
           "db": tmp_path / "m.db", "dir": tmp_path}
    store.close()


def test_seen_in_the_cli(mission: dict[str, Any]) -> None:
    runner = CliRunner()
    res = runner.invoke(cli_app, ["plugins", "--json", "--plugins-only"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    assert [s["name"] for s in got["sources"]] == ["seismic"]
    assert got["sources"][0]["source_kinds"][0] == {"kind": "seismic_array", "identity_withheld": True,
                                                    "withheld_attributes": ["station"]}
    assert [r["name"] for r in got["rules"]] == ["night_fire"]
    assert [e["name"] for e in got["exports"]] == ["kml"]
    assert [(s["name"], s["where"]) for s in got["report_sections"]] == [("night_truce", "report"),
                                                                          ("seismic", "sources")]
    assert got["distributions"] == ["tw-example 0.1.0"]
    out = mission["dir"] / "findings.kml"
    mission["store"].close()
    res = runner.invoke(cli_app, ["export", "--db", str(mission["db"]), "--out", str(out),
                                  "--agreement", str(AGREEMENT)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert text.startswith("<?xml") and mission["violation"].id in text and "<name>night_fire</name>" in text


def test_seen_in_the_api(mission: dict[str, Any]) -> None:
    cfg = ServiceConfig(require_signatures=False, public_delay_s=3600)
    app = create_app(mission["store"], mission["agreement"], cfg)
    analyst = {"Authorization": f"Bearer {app.state.tokens.create('analyst')[0]}"}
    with TestClient(app) as c:
        ext = c.get("/api/v1/extensions", headers=analyst).json()
        assert {"seismic"} <= {s["name"] for s in ext["sources"] if s["plugin"]}
        assert [r["name"] for r in ext["rules"] if r["plugin"]] == ["night_fire"]
        assert [e["name"] for e in ext["exports"] if e["plugin"]] == ["kml"]
        vs = c.get("/api/v1/violations", params={"rule": "night_fire"}, headers=analyst)
        assert vs.status_code == 200, vs.text
        assert [v["id"] for v in vs.json()] == [mission["violation"].id]
        kml = c.get("/api/v1/exports/kml", headers=analyst)
        assert kml.status_code == 200 and kml.headers["content-type"].startswith("application/vnd.google-earth")
        assert mission["violation"].id in kml.text
        assert c.get("/api/v1/exports/nope", headers=analyst).status_code == 422
    # what a liaison sees of the plugin source's evidence: its declaration, not a hand-kept list
    views = default_views(mission["store"], cfg)
    o = mission["obs"].model_dump(mode="json")
    seen = views.render_observation(Principal("t", Role.LIAISON, party="UA"), o)
    assert seen["source_id"] == "withheld (seismic_array)" and "station" not in seen["attributes"]
    assert views.render_observation(Principal("t", Role.ANALYST), o)["source_id"] == "seismic-1"


def test_seen_in_the_daily_report(mission: dict[str, Any]) -> None:
    paths = build_daily_report(mission["store"], mission["agreement"], mission["day"], mission["dir"] / "r",
                               pdf=False, view=ReportView.parse("analyst"), views=default_views(mission["store"]))
    html = paths["html"].read_text(encoding="utf-8")
    assert "Seismic array: explosions" in html and "1 explosion(s) located by the seismic array" in html
    assert "night fire" in html.lower()  # the plugin rule's finding, by its title
    # a top-level section, placed where the plugin asked, in every view
    titles = re.findall(r"<h2>(.*?)</h2>", html)
    assert titles.index("Night truce") == titles.index("Corrections") + 1
    assert "1 finding(s) of fire at night." in html
    public = build_daily_report(mission["store"], mission["agreement"], mission["day"], mission["dir"] / "p",
                                pdf=False, view=ReportView.parse("public"), views=default_views(mission["store"]))
    assert "Night truce" in public["html"].read_text(encoding="utf-8")


def test_a_plugin_rule_takes_a_threshold(installed: None, tmp_path: Path) -> None:
    cfg_file = tmp_path / "adj.yaml"
    cfg_file.write_text("adjudication:\n  geometry_threshold: {night_fire: 0.7}\n")
    assert rule_registry.AdjudicationConfig.from_yaml(cfg_file).threshold(Rule("night_fire")) == 0.7
    cfg_file.write_text("adjudication:\n  geometry_threshold: {no_such_rule: 0.7}\n")
    with pytest.raises(ValueError, match="no_such_rule"):
        rule_registry.AdjudicationConfig.from_yaml(cfg_file)
