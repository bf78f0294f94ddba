"""Agreement validation: every problem reported with its path, exit code 1, no traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trucewatch.agreement import AgreementError, load_agreement, validate_agreement
from trucewatch.cli import app

SAMPLE = Path(__file__).resolve().parents[2] / "trucewatch/data/agreements/ua-ru-2026"

LINE = {"type": "LineString", "coordinates": [[37.0, 47.0], [37.5, 47.5], [38.0, 48.0]]}
GOOD = """
id: t
parties: [{id: UA}, {id: RU}]
start: 2026-01-01T00:00:00Z
contact_line: line.geojson
left_party: RU
weapon_classes:
  artillery: {width_km: 50, includes: [towed_artillery]}
rules:
  - {id: R1, kind: fire_across_line}
"""


def _write(tmp: Path, yaml_text: str, line: dict | None = None) -> Path:
    (tmp / "line.geojson").write_text(json.dumps(line or LINE))
    p = tmp / "agreement.yaml"
    p.write_text(yaml_text)
    return p


def test_sample_agreement_is_valid(agreement):
    assert agreement.parties == ["UA", "RU"]
    # Kyiv is UA-held, Donetsk city RU-held, Moscow on RU's side.
    sides = agreement.side_of(np.array([50.45, 48.0, 55.75]), np.array([30.52, 37.80, 37.62]))
    assert list(sides) == ["UA", "RU", "RU"]
    kinds = {(z.kind, z.party, z.weapon_class) for z in agreement.zones}
    assert ("withdrawal", "UA", "artillery_100mm_plus") in kinds and ("buffer", None, None) in kinds
    # 50 km wide zone -> 25 km on each side
    assert agreement.weapon_classes["artillery_100mm_plus"].distance_km == 25


def test_minimal_left_party_agreement(tmp_path):
    agr = load_agreement(_write(tmp_path, GOOD))
    # A point west of a line running SW->NE is on its left.
    assert agr.side_of(np.array([47.6]), np.array([37.2]))[0] == "RU"
    assert agr.side_of(np.array([47.4]), np.array([37.8]))[0] == "UA"
    z = next(z for z in agr.zones if z.weapon_class == "artillery" and z.party == "UA")
    assert 0.5 < z.geometry.area < 2.0  # a strip 25 km wide along ~140 km


@pytest.mark.parametrize(
    ("yaml_text", "line", "path", "words"),
    [
        (GOOD.replace("id: t\n", ""), None, "id", "Field required"),
        (GOOD.replace("start: 2026-01-01T00:00:00Z", "start: 2026-01-01T00:00:00Z\nend: 2025-01-01T00:00:00Z"), None, "end", "not after start"),
        (GOOD, {"type": "LineString", "coordinates": [[37, 47], [38, 48], [38, 47], [37, 48]]}, "contact_line", "intersects itself"),
        (GOOD, {"type": "LineString", "coordinates": [[47, 370], [48, 380]]}, "contact_line.coordinates[0]", "off the globe"),
        (GOOD, {"type": "Polygon", "coordinates": [[[37, 47], [38, 47], [38, 48], [37, 47]]]}, "contact_line", "expected LineString"),
        (GOOD.replace("left_party: RU", "left_party: XX"), None, "left_party", "unknown party"),
        (GOOD.replace("{width_km: 50,", "{width_km: 50, distance_km: 10,"), None, "weapon_classes.artillery", "exactly one"),
        (GOOD.replace("kind: fire_across_line", "kind: shooting_stars"), None, "rules[0].kind", "Input should be"),
        (GOOD.replace("contact_line: line.geojson", "contact_line: nowhere.geojson"), None, "contact_line", "file not found"),
        ("id: [unclosed", None, "(file)", "not valid YAML"),
    ],
)
def test_broken_agreements_name_the_path(tmp_path, yaml_text, line, path, words):
    f = _write(tmp_path, yaml_text, line)
    problems = validate_agreement(f)
    assert problems, "a broken file must not validate"
    assert any(p.path == path and words in p.message for p in problems), problems
    res = CliRunner().invoke(app, ["agreement", "validate", str(f)])
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert path in res.output


def test_zone_on_wrong_side(tmp_path):
    # A withdrawal zone declared for UA that lies on RU's (left) side.
    zone = {"type": "Polygon", "coordinates": [[[37.0, 47.3], [37.3, 47.3], [37.3, 47.6], [37.0, 47.6], [37.0, 47.3]]]}
    (tmp_path / "zone.geojson").write_text(json.dumps(zone))
    text = GOOD + "zones:\n  - {id: z1, kind: withdrawal, party: UA, geometry: zone.geojson}\n"
    problems = validate_agreement(_write(tmp_path, text))
    assert any(p.path == "zones[0]" and "another side" in p.message for p in problems), problems


def test_several_problems_reported_at_once(tmp_path):
    text = GOOD.replace("left_party: RU", "left_party: XX").replace("kind: fire_across_line", "kind: nope")
    with pytest.raises(AgreementError) as exc:
        load_agreement(_write(tmp_path, text))
    assert len(exc.value.problems) >= 1


def test_from_occupied_cli(tmp_path):
    from tests.conftest import SHARED, require_shared

    area = require_shared(SHARED / "frontline" / "occupied_2025-06-01.geojson")
    res = CliRunner().invoke(app, ["agreement", "from-occupied", str(area), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    line = json.loads((tmp_path / "contact_line.geojson").read_text())["features"][0]["geometry"]
    from shapely.geometry import shape

    from trucewatch.geo import LocalFrame

    g = shape(line)
    longest = max(getattr(g, "geoms", [g]), key=lambda p: p.length)
    km = LocalFrame(longest.centroid.y, longest.centroid.x).geom_to_en(longest).length / 1000
    assert 900 < km < 1500, km  # the front from the Dnipro mouth to Kharkiv oblast


def test_sample_copy_validates_via_cli(tmp_path):
    for f in SAMPLE.iterdir():
        shutil.copy(f, tmp_path / f.name)
    res = CliRunner().invoke(app, ["agreement", "validate", str(tmp_path / "agreement.yaml"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["ok"] is True
