"""The scorer must be able to fail: wrong parties, places, rules and times score low."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trucewatch.cli import app
from trucewatch.sim.scenario import Scenario, make_scenario
from trucewatch.sim.score import ScoreInputError, read_found, read_truth, score


@pytest.fixture(scope="module")
def scenario(agreement) -> Scenario:
    return make_scenario(agreement, "demo", seed=3)


def _found(violations: list[dict], **change) -> dict:
    feats = []
    for v in violations:
        p = {"rule": v["rule"], "party": v["party"], "time": v["time"], "status": "verified", "confidence": 0.9}
        lon, lat = v["lon"], v["lat"]
        if "party" in change:
            p["party"] = {"UA": "RU", "RU": "UA"}.get(v["party"], v["party"])
        if "shift_deg" in change:
            lon += change["shift_deg"]
        if "rule" in change:
            p["rule"] = change["rule"]
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": p})
    return {"type": "FeatureCollection", "features": feats}


def _score(tmp: Path, scenario: Scenario, found: dict) -> dict:
    scenario.write(tmp / "truth.json")
    (tmp / "found.geojson").write_text(json.dumps(found))
    return score(read_truth(tmp / "truth.json"), read_found(tmp / "found.geojson"))


def test_perfect_result_scores_one(tmp_path, scenario):
    s = _score(tmp_path, scenario, _found(scenario.violations()))
    assert s["f1"] == 1.0 and s["attribution_accuracy"] == 1.0 and s["false_attribution_rate"] == 0.0
    assert s["median_location_error_m"] == 0.0


def test_wrong_party_is_false_attribution(tmp_path, scenario):
    s = _score(tmp_path, scenario, _found(scenario.violations(), party=True))
    assert s["f1"] == 1.0  # found, but pinned on the wrong side
    assert s["attribution_accuracy"] == 0.0
    assert s["false_attribution_rate"] == 1.0


def test_wrong_place_wrong_rule_score_low(tmp_path, scenario):
    assert _score(tmp_path, scenario, _found(scenario.violations(), shift_deg=0.5))["f1"] == 0.0
    assert _score(tmp_path, scenario, _found(scenario.violations(), rule="naval_vessel_in_zone"))["f1"] == 0.0


def test_nothing_found_and_everything_doubled(tmp_path, scenario):
    assert _score(tmp_path, scenario, {"type": "FeatureCollection", "features": []})["recall"] == 0.0
    f = _found(scenario.violations())
    f["features"] = f["features"] * 2  # duplicates cannot both match: one-to-one assignment
    s = _score(tmp_path, scenario, f)
    assert s["precision"] == 0.5 and s["recall"] == 1.0


def test_undetermined_is_not_false_attribution(tmp_path, scenario):
    f = _found(scenario.violations())
    for x in f["features"]:
        x["properties"]["party"] = "undetermined"
    s = _score(tmp_path, scenario, f)
    assert s["false_attribution_rate"] == 0.0 and s["undetermined_rate"] == 1.0 and s["attribution_accuracy"] == 0.0


def test_bad_inputs_name_record_and_field(tmp_path, scenario):
    scenario.write(tmp_path / "truth.json")
    bad = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                                                      "properties": {"rule": "x", "time": "yesterday"}}]}
    (tmp_path / "bad.geojson").write_text(json.dumps(bad))
    with pytest.raises(ScoreInputError, match=r"features\[0\]: time"):
        read_found(tmp_path / "bad.geojson")
    res = CliRunner().invoke(app, ["score", "--truth", str(tmp_path / "truth.json"), "--found", str(tmp_path / "bad.geojson")])
    assert res.exit_code == 1 and "features[0]: time" in res.output and "Traceback" not in res.output


def test_scenario_is_deterministic_and_sided(agreement):
    a = make_scenario(agreement, "demo", seed=5)
    b = make_scenario(agreement, "demo", seed=5)
    assert a.to_json() == b.to_json()
    import numpy as np

    fire = [e for e in a.events if e.kind == "fire"]
    origin_side = agreement.side_of(np.array([e.origin["lat"] for e in fire]), np.array([e.origin["lon"] for e in fire]))
    impact_side = agreement.side_of(np.array([e.lat for e in fire]), np.array([e.lon for e in fire]))
    assert all(origin_side == np.array([e.party for e in fire]))
    assert all(origin_side != impact_side)
