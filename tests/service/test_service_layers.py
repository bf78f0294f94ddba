"""The air and sea map layers (issue 11): what each role gets, thinning and limits, bad
parameters, and records that cannot be drawn."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind
from trucewatch.store import Store

AIR, SEA = "/api/v1/layers/air", "/api/v1/layers/sea"
KURSK = {"name": "Kursk", "id": "kursk", "lat": 51.73, "lon": 36.193, "err_m": 30_000.0}
BRYANSK = {"name": "Bryansk", "id": "bryansk", "lat": 53.243, "lon": 34.364, "err_m": 30_000.0}
SARATOV = {"name": "Saratov oblast", "id": "saratov-oblast", "lat": 51.8, "lon": 46.0, "err_m": 150_000.0}


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


def _track(oid: str, cls: str, t_end: datetime, start: tuple[float, float], end: tuple[float, float], n: int,
           intercepted: bool, path: Any = None) -> Observation:
    lat = np.linspace(start[0], end[0], n)
    lon = np.linspace(start[1], end[1], n)
    ts = t_end.timestamp() - 60.0 * np.arange(n)[::-1]
    if path is None:
        path = [[round(float(a), 6), round(float(b), 6), float(c)] for a, b, c in zip(lon, lat, ts, strict=True)]
    return Observation(id=oid, source_id="airpicture:test", kind=ObservationKind.AIR_TRACK, time=t_end,
                       location=Location(lat=end[0], lon=end[1], err_major_m=500.0, err_minor_m=500.0),
                       attributes={"track_id": oid.upper(), "classification": cls, "intercepted": intercepted,
                                   "origin": {"lat": start[0], "lon": start[1], "err_m": 500.0}, "path": path,
                                   "n_points": n, "start": datetime.fromtimestamp(ts[0], UTC).isoformat()})


def _summary(oid: str, t: datetime, weapon: str, launched: int, intercepted: int, areas: list[dict[str, Any]]
             ) -> Observation:
    return Observation(id=oid, source_id="airforce:test", kind=ObservationKind.AIR_SUMMARY, time=t,
                       location=Location(lat=52.0, lon=38.0, err_major_m=400_000.0, err_minor_m=400_000.0),
                       attributes={"weapon_type": weapon, "launched": launched, "intercepted": intercepted,
                                   "launch_areas": areas, "summary_id": f"post-{t:%Y%m%d}", "problems": [],
                                   "inconsistent": False})


def _incident(oid: str, t: datetime, kind: str, lat: float, lon: float, zone: str | None, **attrs: Any) -> Observation:
    a = {"incident": kind, "mmsi": 273000001, "vessel_type": "military", "zone_id": zone, "flag": "RU",
         "name": f"VESSEL {oid}"} | attrs
    return Observation(id=oid, source_id="ais:test", kind=ObservationKind.VESSEL_INCIDENT, time=t,
                       location=Location(lat=lat, lon=lon, err_major_m=500.0, err_minor_m=300.0), attributes=a)


@pytest.fixture()
def airsea(store: Store) -> dict[str, Any]:
    """Two days ago: three tracks (one with a broken path), two summaries, five incidents (one with
    a broken MMSI); ten minutes ago (inside the public delay): one track, one summary, one incident."""
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    recent = datetime.now(UTC) - timedelta(minutes=10)
    store.add_sources([Source(id="airpicture:test", kind=SourceKind.AIR_DEFENCE, name="air picture"),
                       Source(id="airforce:test", kind=SourceKind.AIR_DEFENCE, party="UA", name="air force"),
                       Source(id="ais:test", kind=SourceKind.AIS, name="AIS feed")])
    old_tracks = [
        _track("trk-a", "shahed", day + timedelta(hours=20), (51.73, 36.19), (49.99, 36.23), 50, False),
        _track("trk-b", "cruise_missile", day + timedelta(hours=21), (51.8, 46.0), (50.45, 30.52), 3, True),
        _track("trk-bad", "shahed", day + timedelta(hours=22), (52.0, 35.0), (50.5, 34.5), 4, True, path="garbage"),
    ]
    new_track = _track("trk-new", "shahed", recent, (51.5, 35.9), (50.9, 34.8), 10, False)
    sums = [_summary("sum-1", day + timedelta(hours=26), "shahed", 20, 15, [KURSK, BRYANSK]),
            _summary("sum-2", day + timedelta(hours=26), "cruise_missile", 4, 3, [SARATOV])]
    new_sum = _summary("sum-new", recent, "shahed", 100, 90, [KURSK])
    gap = {"gap_s": 7200.0, "last_seen": [30.61, 46.0], "seen_again": [30.2, 45.6], "open": False}
    incidents = [
        _incident("inc-barred", day + timedelta(hours=5), "barred_vessel_in_zone", 45.255, 30.204, "zmiinyi"),
        _incident("inc-gap", day + timedelta(hours=6), "ais_gap", 45.8, 30.4, "grain-corridor", **gap),
        _incident("inc-spoof", day + timedelta(hours=7), "spoofing", 46.47, 30.73, None, spoof_mode="on_land"),
        _incident("inc-loiter", day + timedelta(hours=8), "loitering", 45.26, 30.22, "zmiinyi"),
        _incident("inc-bad", day + timedelta(hours=9), "spoofing", 44.0, 33.0, None, mmsi="not-a-number"),
    ]
    new_inc = _incident("inc-new", recent, "ais_gap", 44.5, 31.5, "grain-corridor")
    rep = store.add_observations([*old_tracks, new_track, *sums, new_sum, *incidents, new_inc])
    assert not rep.errors, rep.errors
    return {"tracks": [*old_tracks, new_track], "summaries": [*sums, new_sum], "incidents": [*incidents, new_inc],
            "recent_ids": {"trk-new", "sum-new", "inc-new"}}


def _layers(fc: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    return [f for f in fc["features"] if f["properties"]["layer"] == layer]


def test_air_full_view_tracks_origins_and_launch_areas(client, tokens, airsea) -> None:
    r = client.get(AIR, headers=auth(tokens["analyst"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["properties"]["view"] == "full"
    tracks = {f["properties"]["id"]: f for f in _layers(fc, "track")}
    assert set(tracks) == {o.id for o in airsea["tracks"]}  # the analyst sees the recent track too
    a = next(o for o in airsea["tracks"] if o.id == "trk-a")
    assert tracks["trk-a"]["geometry"] == {"type": "LineString",
                                           "coordinates": [[round(x, 5), round(y, 5)] for x, y, _t in a.attributes["path"]]}
    assert tracks["trk-b"]["properties"]["intercepted"] is True
    assert tracks["trk-b"]["properties"]["classification"] == "cruise_missile"
    # the broken path is drawn as the last point and named in problems
    assert tracks["trk-bad"]["geometry"]["type"] == "Point"
    assert [(p["record"], p["field"]) for p in fc["problems"]] == [("trk-bad", "attributes.path")]
    # origins set against the agreement: Kursk is Russian territory, and R6 forbids launches
    origins = {f["properties"]["track_id"]: f for f in _layers(fc, "origin")}
    assert origins["TRK-A"]["geometry"]["coordinates"] == [36.19, 51.73]
    assert origins["TRK-A"]["properties"]["side"] == "RU" and origins["TRK-A"]["properties"]["launch_forbidden"]
    assert tracks["trk-a"]["properties"]["origin_side"] == "RU"
    # launch areas: launched / intercepted per weapon type from the summaries naming them
    areas = {f["properties"]["name"]: f["properties"] for f in _layers(fc, "launch_area")}
    assert areas["Kursk"]["by_type"] == {"shahed": {"launched": 120, "intercepted": 105}}
    assert areas["Bryansk"]["by_type"] == {"shahed": {"launched": 20, "intercepted": 15}}
    assert areas["Saratov oblast"]["by_type"] == {"cruise_missile": {"launched": 4, "intercepted": 3}}
    assert areas["Kursk"]["side"] == "RU" and areas["Kursk"]["launches_forbidden"] is True
    by_type = fc["summary"]["by_type"]
    assert {k: (v["launched"], v["intercepted"]) for k, v in by_type.items()} == {"shahed": (120, 105),
                                                                                   "cruise_missile": (4, 3)}
    assert fc["summary"]["tracks_by_class"] == {"shahed": {"tracks": 3, "intercepted": 1},
                                                "cruise_missile": {"tracks": 1, "intercepted": 1}}


def test_air_thinning_and_limit(client, tokens, airsea) -> None:
    h = auth(tokens["administrator"])
    fc = client.get(AIR, params={"max_points": 5}, headers=h).json()
    a = next(o for o in airsea["tracks"] if o.id == "trk-a")
    line = next(f for f in _layers(fc, "track") if f["properties"]["id"] == "trk-a")["geometry"]["coordinates"]
    assert len(line) == 5
    assert line[0] == [round(v, 5) for v in a.attributes["path"][0][:2]]
    assert line[-1] == [round(v, 5) for v in a.attributes["path"][-1][:2]]
    assert all(len(f["geometry"].get("coordinates", [])) <= 5 for f in _layers(fc, "track"))
    fc = client.get(AIR, params={"limit": 1}, headers=h).json()
    tracks = _layers(fc, "track")
    assert [f["properties"]["id"] for f in tracks] == ["trk-new"]  # newest first
    assert fc["properties"]["truncated"] is True and fc["properties"]["limit"] == 1
    assert sum(v["tracks"] for v in fc["summary"]["tracks_by_class"].values()) == 4  # counts are not cut
    # a time window: only the day of the old data
    day = min(o.time for o in airsea["tracks"]).replace(hour=0, minute=0, second=0)
    fc = client.get(AIR, params={"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}, headers=h).json()
    assert {f["properties"]["id"] for f in _layers(fc, "track")} == {"trk-a", "trk-b", "trk-bad"}
    assert fc["properties"]["truncated"] is False


def test_sea_full_view_incidents_and_gap_lines(client, tokens, airsea) -> None:
    fc = client.get(SEA, headers=auth(tokens["analyst"])).json()
    assert fc["properties"]["view"] == "full"
    points = {f["properties"]["id"]: f for f in _layers(fc, "incident")}
    assert set(points) == {o.id for o in airsea["incidents"]} - {"inc-bad"}
    assert {p["properties"]["incident"] for p in points.values()} == {"barred_vessel_in_zone", "ais_gap", "spoofing",
                                                                      "loitering"}
    assert points["inc-barred"]["geometry"]["coordinates"] == [30.204, 45.255]
    assert points["inc-spoof"]["properties"]["spoof_mode"] == "on_land"
    assert points["inc-barred"]["properties"]["zone_id"] == "zmiinyi"
    gaps = _layers(fc, "gap")
    assert len(gaps) == 1 and gaps[0]["geometry"] == {"type": "LineString", "coordinates": [[30.61, 46.0], [30.2, 45.6]]}
    assert fc["problems"] == [{"record": "inc-bad", "field": "attributes.mmsi",
                               "message": "not a valid value; the incident is left off the map"}]
    assert fc["summary"]["incidents"] == len(airsea["incidents"])
    assert fc["summary"]["per_zone"]["zmiinyi"] == {"barred_vessel_in_zone": 1, "loitering": 1}
    assert "Absence of AIS is not absence of a ship" in fc["summary"]["note"]


@pytest.mark.parametrize("who", ["public", "liaison_UA"])
def test_published_view_is_delayed_and_aggregated(client, tokens, airsea, config, who) -> None:
    h = auth(tokens[who])
    r = client.get(AIR, headers=h)
    assert r.status_code == 200
    fc = r.json()
    assert fc["properties"]["view"] == "published"
    assert datetime.fromisoformat(fc["properties"]["to"]).timestamp() <= time.time() - config.public_delay_s + 1
    assert {f["properties"]["layer"] for f in fc["features"]} == {"launch_area"}  # no tracks, no origins
    areas = {f["properties"]["name"]: f["properties"] for f in fc["features"]}
    assert areas["Kursk"]["by_type"] == {"shahed": {"launched": 20, "intercepted": 15}}  # not the recent summary
    assert sum(v["tracks"] for v in fc["summary"]["tracks_by_class"].values()) == 3
    for o in airsea["tracks"]:  # no track, no origin, no vertex in the answer
        assert o.id not in r.text and o.attributes["track_id"] not in r.text
        path = o.attributes["path"]
        if isinstance(path, list):
            assert f"{path[len(path) // 2][1]}" not in r.text
    r = client.get(SEA, headers=h)
    fc = r.json()
    assert {f["properties"]["layer"] for f in fc["features"]} == {"incident_count"}
    assert sum(f["properties"]["incidents"] for f in fc["features"]) == len(airsea["incidents"]) - 1
    assert fc["summary"]["incidents"] == len(airsea["incidents"]) - 1
    exact = {(round(o.location.lon, 4), round(o.location.lat, 4)) for o in airsea["incidents"]}
    for f in fc["features"]:  # aggregated at a cell centre (the sample agreement draws no sea zones)
        lon, lat = f["geometry"]["coordinates"]
        assert (lon, lat) not in exact
        assert math.isclose((lat / 0.5) % 1, 0.5) and math.isclose((lon / 0.5) % 1, 0.5)
    assert "MMSI" not in r.text and "273000001" not in r.text and "VESSEL" not in r.text


def test_published_sea_view_uses_the_zones_the_agreement_draws(airsea, store) -> None:
    from trucewatch.agreement import load_agreement
    from trucewatch.report import layers as L

    sea = load_agreement(L.__file__.replace("report/layers.py", "data/agreements/black-sea-maritime/agreement.yaml"))
    fc = L.sea_layer(store, sea, L.Window(t_to=time.time() - 3600), full=False)
    zmiinyi = next(f for f in fc["features"] if f["properties"]["zone_id"] == "zmiinyi")
    assert zmiinyi["properties"]["position"] == "zone"
    assert zmiinyi["properties"]["by_kind"] == {"barred_vessel_in_zone": 1, "loitering": 1}
    z = next(z for z in sea.zones if z.id == "zmiinyi")
    import shapely

    assert z.geometry.contains(shapely.Point(*zmiinyi["geometry"]["coordinates"]))


def test_roles_and_tokens(client, tokens, airsea) -> None:
    for path in (AIR, SEA):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=auth("tw_bad.token")).status_code == 401
        r = client.get(path, headers=auth(tokens["monitor"]))
        assert r.status_code == 403 and "monitor" in r.json()["detail"]
        assert client.get(path, headers=auth(tokens["administrator"])).json()["properties"]["view"] == "full"


@pytest.mark.parametrize(("params", "name"), [
    ({"from": "yesterday"}, "from"), ({"to": "2026-13-45"}, "to"), ({"limit": 0}, "limit"),
    ({"limit": 10**7}, "limit"), ({"limit": "many"}, "limit"), ({"max_points": 1}, "max_points"),
    ({"bbox": "1,2,3"}, "bbox"), ({"bbox": "10,50,5,40"}, "bbox"),
    ({"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "from"),
    ({"from": "0001-01-01T00:00:00+05:00"}, "from"), ({"to": "9999-12-31T23:00:00-05:00"}, "to"),
])
def test_bad_parameters_are_4xx_naming_the_parameter(client, tokens, params, name) -> None:
    path = SEA if name != "max_points" else AIR
    r = client.get(path, params=params, headers=auth(tokens["analyst"]))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    text = detail if isinstance(detail, str) else " ".join(str(d["loc"][-1]) for d in detail)
    assert name in text and "Traceback" not in r.text


def test_bbox_filters_by_position(client, tokens, airsea) -> None:
    fc = client.get(SEA, params={"bbox": "30.0,45.0,30.5,45.5"}, headers=auth(tokens["analyst"])).json()
    assert {f["properties"]["id"] for f in _layers(fc, "incident")} == {"inc-barred", "inc-loiter"}


def test_nan_in_stored_attributes_is_null_not_a_server_error(client, tokens, airsea, store) -> None:
    day = datetime.now(UTC) - timedelta(days=2)
    odd = [_incident("inc-nan", day, "ais_gap", 45.0, 31.0, "grain-corridor", gap_s=float("nan")),
           _track("trk-nan", "shahed", day, (51.0, 36.0), (50.0, 35.0), 3, False)]
    odd[1].attributes["n_points"] = float("inf")
    assert not store.add_observations(odd).errors
    for path, who in ((SEA, "analyst"), (AIR, "analyst"), (SEA, "public"), (AIR, "public")):
        r = client.get(path, headers=auth(tokens[who]))
        assert r.status_code == 200, r.text
        assert "NaN" not in r.text and "Infinity" not in r.text
    fc = client.get(AIR, headers=auth(tokens["analyst"])).json()
    assert fc["summary"]["tracks_by_class"]["shahed"]["tracks"] == 4  # the odd row is counted too


def test_sample_air_and_sea_data_are_drawn(tmp_path, agreement) -> None:
    """The simulators' output, through the air and sea stages' own readers, drawn in full."""
    from fastapi.testclient import TestClient

    from trucewatch.service.app import create_app
    from trucewatch.service.config import ServiceConfig
    from trucewatch.sim.sample import populate_air_sea
    from trucewatch.sources.air.report import air_section

    s = Store.open(tmp_path / "sample.db")
    obs = populate_air_sea(s, agreement, np.random.default_rng(5), drones=8, merchants=6)
    app = create_app(s, agreement, ServiceConfig(require_signatures=False))
    token = app.state.tokens.create("analyst")[0]
    with TestClient(app) as c:
        air = c.get(AIR, headers=auth(token)).json()
        sea = c.get(SEA, headers=auth(token)).json()
    n_tracks = sum(o.kind == ObservationKind.AIR_TRACK for o in obs)
    assert n_tracks and len(_layers(air, "track")) == n_tracks and air["problems"] == []
    expected = air_section([o for o in obs if o.kind == ObservationKind.AIR_SUMMARY], agreement)["by_type"]
    assert air["summary"]["by_type"] == expected and expected
    n_inc = sum(o.kind == ObservationKind.VESSEL_INCIDENT for o in obs)
    assert n_inc and len(_layers(sea, "incident")) == n_inc and sea["problems"] == []
    assert len(_layers(sea, "gap")) == sum(o.attributes.get("incident") == "ais_gap" and bool(o.attributes.get("seen_again"))
                                           for o in obs if o.kind == ObservationKind.VESSEL_INCIDENT)
    s.close()


def test_sea_incident_tracks_drawn_and_broken_ones_named(client, tokens, airsea, store) -> None:
    t = min(o.time for o in airsea["incidents"])
    good = [[30.50, 45.90, 0.0], [30.55, 45.85, 60.0], [30.60, 45.80, 120.0]]
    store.add_observations([
        _incident("inc-trk", t, "loitering", 45.8, 30.6, "grain-corridor", mmsi=273000002, track=good),
        _incident("inc-trk-bad", t, "loitering", 45.7, 30.5, "grain-corridor", mmsi=273000003,
                  track=[["x", 1], [999, 45]]),
    ])
    fc = client.get(SEA, headers=auth(tokens["analyst"])).json()
    lines = [f for f in _layers(fc, "track") if f["properties"]["mmsi"] in (273000002, 273000003)]
    assert [f["geometry"]["coordinates"] for f in lines] == [[q[:2] for q in good]]
    assert {"record": "inc-trk-bad", "field": "attributes.track",
            "message": "not a list of positions; the track is left off, the incident stays"} in fc["problems"]
    assert "inc-trk-bad" in {f["properties"]["id"] for f in _layers(fc, "incident")}
