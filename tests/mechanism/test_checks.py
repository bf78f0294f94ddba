"""Pure checks: places and times of allegations, attachments, coverage, inventories, outages, windows."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from trucewatch.mechanism import checks
from trucewatch.mechanism.core import AllegationIn, MechanismConfig, MechanismError


def sq(lat: float, lon: float, d: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                [lon - d, lat + d], [lon - d, lat - d]]]}


def test_place_and_time_name_the_missing_field() -> None:
    a = AllegationIn(type="shelling")
    with pytest.raises(MechanismError) as e:
        checks.window_of(a)
    assert e.value.field == "time"
    with pytest.raises(MechanismError) as e:
        checks.place_of(a)
    assert e.value.field == "place"
    with pytest.raises(MechanismError) as e:
        checks.window_of(AllegationIn(type="x", time_from="2026-12-01T10:00:00Z"))
    assert e.value.field == "time_to"
    with pytest.raises(MechanismError) as e:
        checks.place_of(AllegationIn(type="x", lat=48.0))
    assert e.value.field == "lon"
    with pytest.raises(MechanismError) as e:
        checks.place_of(AllegationIn(type="x", area={"type": "Polygon", "coordinates": [[[500, 1], [2, 2], [1, 3], [500, 1]]]}))
    assert e.value.field == "area"
    p = checks.place_of(AllegationIn(type="x", area=sq(48.0, 37.8, 0.1)))
    assert p["lat"] == pytest.approx(48.0) and 9_000 < p["err_m"] < 14_000


def test_place_name_from_the_bundled_gazetteer() -> None:
    p = checks.place_of(AllegationIn(type="x", place_name="Horlivka"))
    assert abs(p["lat"] - 48.3) < 0.2 and abs(p["lon"] - 38.05) < 0.2 and "Horlivka" in p["how"]
    with pytest.raises(MechanismError) as e:
        checks.place_of(AllegationIn(type="x", place_name="Zzyzxqwv"))
    assert e.value.field == "place_name"


def test_attachments_are_hashed_and_size_limited() -> None:
    cfg = MechanismConfig(max_attachment_bytes=10)
    ok = AllegationIn(type="x", attachments=[{"name": "a", "data_base64": base64.b64encode(b"0123456789").decode()}])
    out = checks.hash_attachments(ok, cfg)
    assert out[0]["size"] == 10 and out[0]["sha256"] == "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882"
    big = AllegationIn(type="x", attachments=[ok.attachments[0], {"name": "b", "data_base64": base64.b64encode(b"x" * 11).decode()}])
    with pytest.raises(MechanismError) as e:
        checks.hash_attachments(big, cfg)
    assert e.value.field == "attachments[1].data_base64"
    bad = AllegationIn(type="x", attachments=[{"name": "a", "data_base64": "!!notbase64"}])
    with pytest.raises(MechanismError, match="base64"):
        checks.hash_attachments(bad, cfg)


def test_coverage_says_not_seen_only_where_covered() -> None:
    area = sq(48.0, 37.9, 0.02)
    full = checks.coverage(area, [sq(48.0, 37.9, 0.03)], 0.9)
    assert full["fraction"] == pytest.approx(1.0) and full["covered"]
    assert checks.task_outcome(False, full) == "not_seen"
    half = checks.coverage(area, [{"type": "Polygon", "coordinates": [[[37.88, 47.98], [37.9, 47.98], [37.9, 48.02],
                                                                         [37.88, 48.02], [37.88, 47.98]]]}], 0.9)
    assert half["fraction"] == pytest.approx(0.5, abs=0.01) and not half["covered"]
    assert checks.task_outcome(False, half) == "not_observed"
    assert checks.task_outcome(True, half) == "seen"
    none = checks.coverage(area, [], 0.9)
    assert none["fraction"] == 0 and checks.task_outcome(False, none) == "not_observed"


def test_inventory_inspection_present_missing_new() -> None:
    declared = [{"class": "MLRS", "count": 3, "serials": ["A1", "A2", "A3"]}, {"class": "mortar", "count": 5}]
    found = [{"class": "MLRS", "serials": ["A1", "A3", "B7"]}, {"class": "mortar", "count": 6}]
    r = checks.inspect_inventory(declared, found)
    assert r["present"] == ["A1", "A3"] and r["missing"] == ["A2"] and r["new"] == ["B7"]
    by = {c["class"]: c for c in r["classes"]}
    assert by["mortar"]["missing_count"] == 0 and by["mortar"]["new_count"] == 1
    assert by["MLRS"]["missing_count"] == 0  # A2 missing, B7 new: same count, but the serial says it


def test_outages_vectorized_and_open_gap_at_the_end() -> None:
    s = np.array(["a"] * 5 + ["b"] * 3)
    t = np.array([0, 60, 120, 4000, 4060, 0, 60, 120], float)
    got = checks.outages(s, t, t_end=5000, min_gap_s=1800)
    assert got == [("a", 120.0, 4000.0), ("b", 120.0, 5000.0)]
    assert checks.outages(np.array([]), np.array([]), 0, 1) == []


def test_outage_cause() -> None:
    c, _ = checks.outage_cause(48.0, 38.0, 1000, 5000, [(3000, 48.05, 38.0)], 0, 25)
    assert c == "suspected interference"
    c, _ = checks.outage_cause(48.0, 38.0, 1000, 5000, [(3000, 49.0, 38.0)], 0, 25)
    assert c == "unknown"
    c, _ = checks.outage_cause(48.0, 38.0, 1000, 5000, [], 2, 25)
    assert c == "suspected interference"


def test_prenotified_window_and_site_checks() -> None:
    pn = {"state": "accepted", "t_from": 100, "t_to": 200, "area": sq(48, 38, 0.1)}
    assert checks.in_window(pn, 150, 48.05, 38.0)
    assert not checks.in_window(pn, 250, 48.05, 38.0)
    assert not checks.in_window(pn, 150, 48.5, 38.0)
    assert not checks.in_window(pn | {"state": "pending"}, 150, 48.0, 38.0)
    out, d = checks.outside_site(48.0, 38.0, 500, 48.0, 38.01, err_m=50)
    assert out and 700 < d < 800
    out, _ = checks.outside_site(48.0, 38.0, 500, 48.0, 38.005, err_m=400)
    assert not out  # within the site given the sighting's own uncertainty
