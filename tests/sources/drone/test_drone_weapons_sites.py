"""Weapons against withdrawal zones, declared storage sites, and the daily-report section."""

from __future__ import annotations

import numpy as np
import pytest

from trucewatch.model import Location, Observation, ObservationKind
from trucewatch.sim.drone import _place_near_line
from trucewatch.sources.drone.coverage import FrameSet
from trucewatch.sources.drone.report import drone_report_section, render_html
from trucewatch.sources.drone.sites import SitesError, check_sites, parse_sites
from trucewatch.sources.drone.weapons import check_weapons


def _sighting(i: int, lat: float, lon: float, cls: str, flight: str = "f1", t: float = 1_773_561_700.0, **attrs):
    from trucewatch.model import from_unix

    return Observation(id=f"s{i}", source_id="drone:test-01", kind=ObservationKind.WEAPON_SIGHTING, time=from_unix(t),
                       location=Location(lat=lat, lon=lon, err_major_m=15, err_minor_m=10),
                       attributes={"weapon_class": cls, "count": 1, "flight_id": flight, "object_id": f"o{i}", **attrs})


def test_weapons_in_zone_by_class_and_side(agreement):
    rng = np.random.default_rng(2)
    ua_5 = _place_near_line(agreement, rng, "UA", 4, 6)
    ru_20 = _place_near_line(agreement, rng, "RU", 19, 21)
    ua_40 = _place_near_line(agreement, rng, "UA", 38, 42)
    sightings = [
        _sighting(1, *ua_5, "tank"),  # light class: 15 km -> violation by UA
        _sighting(2, *ru_20, "tank"),  # 20 km > 15 km: fine
        _sighting(3, *ru_20, "self_propelled_artillery"),  # artillery: 25 km -> violation by RU
        _sighting(4, *ua_40, "mlrs"),  # mlrs: 35 km -> fine at 40 km
        _sighting(5, *ua_40, "heavy_mlrs"),  # heavy: 70 km -> violation
        _sighting(6, *ua_5, "air_defence"),  # no withdrawal class in this agreement
        _sighting(7, *ua_5, "tank", tentative=True),  # tentative: not a candidate
    ]
    cands = check_weapons(sightings, agreement)
    got = {c["observation_id"]: c for c in cands}
    assert set(got) == {"s1", "s3", "s5"}
    assert got["s1"]["party"] == "UA" and got["s1"]["zone_limit_km"] == 15
    assert got["s3"]["party"] == "RU" and got["s3"]["agreement_weapon_class"] == "artillery_100mm_plus"
    assert got["s5"]["rule"] == "R2"
    assert sightings[1].attributes["withdrawal_zone"] is None and sightings[1].attributes["side"] == "RU"
    assert sightings[5].attributes["agreement_weapon_class"] is None


SITES = {"sites": [
    {"id": "ps-1", "name": "PS 1", "party": "UA", "lat": 48.5, "lon": 37.0, "radius_m": 100,
     "inventory": [{"class": "tank", "count": 2}, {"class": "mortar", "count": 1}]},
    {"id": "ps-2", "name": "PS 2", "party": "UA", "lat": 48.9, "lon": 37.0, "radius_m": 100,
     "inventory": [{"class": "tank", "serials": ["A1", "A2"]}]},
]}


def test_sites_file_errors_name_the_field():
    bad = {"sites": [{"id": "x", "lat": 48, "lon": 37, "radius_m": 0}, {"id": "y", "lat": 48, "lon": 37,
                                                                        "inventory": [{"count": 2}]},
                     {"name": "no id"}, {"id": "z", "lat": 148, "lon": 37}]}
    with pytest.raises(SitesError) as exc:
        parse_sites(bad, "s.yaml")
    text = str(exc.value)
    assert "sites[0] (x).radius_m" in text and "sites[1] (y).inventory[0].class" in text
    assert "sites[2].id: missing" in text and "sites[3] (z).lat/lon" in text
    sites = parse_sites(SITES)
    assert sites[1].inventory[0].count == 2


def test_site_statuses(make):
    fl, _truth = make(legs=np.array([[-2000.0, 0.0], [2000.0, 0.0]]), agl=500.0)
    fs = FrameSet.from_flight(fl)
    sites = parse_sites(SITES)
    seen = [_sighting(1, 48.5, 37.0003, "tank", fl.flight_id, tentative=False),
            _sighting(2, 48.5, 36.9995, "tank", fl.flight_id, tentative=True)]
    recs = {(r["site_id"], r["class"]): r for r in check_sites(sites, [fs], seen)}
    tank = recs[("ps-1", "tank")]
    assert tank["status"] == "missing" and tank["seen"] == 1 and tank["missing"] == 1 and tank["covered_fraction"] >= 0.9
    # mortar needs 0.3 m: 500 m up with this camera gives about 0.23 m at nadir, coarser off-nadir
    mortar = recs[("ps-1", "mortar")]
    assert mortar["status"] in ("missing", "unverifiable")
    assert ("ps-2", "tank") not in recs  # never visited
    seen.append(_sighting(3, 48.5, 37.0, "tank", fl.flight_id))
    recs = {(r["site_id"], r["class"]): r for r in check_sites(sites, [fs], seen)}
    assert recs[("ps-1", "tank")]["status"] == "present"
    # the same visit seen from 3 km up: too coarse for a tank -> unverifiable
    fl2, _ = make(legs=np.array([[-2000.0, 0.0], [2000.0, 0.0]]), agl=6000.0)
    recs = {(r["site_id"], r["class"]): r for r in check_sites(sites, [FrameSet.from_flight(fl2)], seen)}
    assert recs[("ps-1", "tank")]["status"] == "unverifiable"


def test_report_section(agreement, make):
    fl, _ = make()
    fs = FrameSet.from_flight(fl)
    rng = np.random.default_rng(2)
    ua_5 = _place_near_line(agreement, rng, "UA", 4, 6)
    obs = [_sighting(1, *ua_5, "tank", fl.flight_id, t=fl.t0 + 60)]
    sec = drone_report_section([fs], obs, agreement, fl.t0 - 3600, fl.t0 + 86400, parse_sites(SITES))
    assert sec["coverage"]["flights"] == 1 and sec["coverage"]["area_km2_at_1m_or_better"] > 1
    assert len(sec["weapons_in_violation"]) == 1 and sec["weapons_in_violation_by_party"] == {"UA": 1}
    assert {r["site_id"] for r in sec["storage_sites"]} == {"ps-1"}
    html = render_html(sec)
    assert "withdrawal zones" in html and "PS 1" in html
    empty = drone_report_section([fs], obs, agreement, fl.t1 + 10, fl.t1 + 20)
    assert empty["coverage"]["flights"] == 0 and empty["weapons_in_violation"] == []
