"""The end-to-end demo: five files, a report a person can read, F1 >= 0.8."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from trucewatch.cli import app


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    res = CliRunner().invoke(app, ["demo", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    return out


def test_demo_writes_the_five_files(demo_dir):
    for name in ("report.html", "violations.geojson", "truth.json", "score.json", "trucewatch.db"):
        assert (demo_dir / name).stat().st_size > 0, name
    fc = json.loads((demo_dir / "violations.geojson").read_text())
    assert fc["type"] == "FeatureCollection" and fc["features"]
    for f in fc["features"]:
        assert f["geometry"]["type"] == "Point"
        assert {"rule", "party", "confidence", "status", "time"} <= set(f["properties"])


def test_demo_scores_well(demo_dir):
    score = json.loads((demo_dir / "score.json").read_text())
    assert score["f1"] >= 0.8, score
    assert score["false_attribution_rate"] <= 0.05, score


def test_report_cites_evidence_and_checkpoint(demo_dir):
    html = (demo_dir / "report.html").read_text()
    assert "Fire across the contact line" in html
    assert "log #" in html  # evidence carries ledger indexes
    assert "Evidence ledger" in html and "checkpoint" in html
    assert (demo_dir / "report.pdf").read_bytes()[:4] == b"%PDF"


def test_demo_verifies_offline(demo_dir):
    db = str(demo_dir / "trucewatch.db")
    res = CliRunner().invoke(app, ["verify", "--db", db, "--trust", str(demo_dir / "trust.json")])
    assert res.exit_code == 0, res.output
    assert "FAIL" not in res.output and "key certificates" in res.output
    res = CliRunner().invoke(app, ["verify", "--db", db])  # no anchor from outside the store
    assert res.exit_code == 1 and "unanchored" in res.output
