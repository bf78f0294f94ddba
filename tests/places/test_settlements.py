"""Places for readers (issue 20): every finding names its nearest settlement, the
map gets a settlement label layer, and a post's text is kept and withheld per role."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from trucewatch.places import settlements as PL

HORLIVKA = (48.29986, 38.01709)


def offset(lat: float, lon: float, km: float, bearing_deg: float) -> tuple[float, float]:
    """A point ``km`` from (lat, lon) towards ``bearing_deg`` (flat-earth, fine for a few km)."""
    b = math.radians(bearing_deg)
    return (lat + km * math.cos(b) / 111.32, lon + km * math.sin(b) / (111.32 * math.cos(math.radians(lat))))


@pytest.fixture(scope="module")
def P() -> PL.Places:
    return PL.load()


def test_nearest_names_distance_and_direction(P: PL.Places) -> None:
    # 8 km east and north-east of Horlivka's centre, outside the city, nowhere near another town
    pts = [offset(*HORLIVKA, 8.0, 45.0), offset(*HORLIVKA, 0.3, 200.0), (float("nan"), 38.0)]
    out = P.nearest([p[0] for p in pts], [p[1] for p in pts])
    assert out[2] is None
    inside = out[1]
    assert inside["name"] == "Horlivka" and inside["inside"] and inside["label"] == "Horlivka"
    assert inside["name_local"] == "Горлівка"
    ne = out[0]
    assert ne["distance_km"] <= 8.0 + 0.1  # Horlivka's centre is 8 km away; a village may be nearer
    assert ne["label"] == f"{ne['distance_km']:.0f} km {ne['direction']} of {ne['name']}" and ne["near"]
    # the label's direction is true to the settlement it names (within half a compass sector)
    true = float(PL._bearing_deg(np.array([ne["lat"]]), np.array([ne["lon"]]), np.array([pts[0][0]]),
                                 np.array([pts[0][1]]))[0])
    sector = PL._COMPASS.index(ne["direction"]) * 45.0
    assert min(abs(true - sector), 360 - abs(true - sector)) <= 22.5 + 1e-6


def test_far_point_names_the_region(P: PL.Places) -> None:
    (pl,) = P.nearest([43.6], [33.5])  # the Black Sea, over 50 km south of Crimea
    assert pl is not None and not pl["near"] and "(" in pl["label"]


def test_nearest_is_vectorized_and_agrees_with_brute_force(P: PL.Places) -> None:
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(46.5, 50.0, 300), rng.uniform(33.0, 39.5, 300)
    got = P.nearest(lat, lon)
    for i in rng.choice(300, 20, replace=False):
        d = PL._haversine_km(P.lat, P.lon, np.full(len(P), lat[i]), np.full(len(P), lon[i]))
        assert got[i]["distance_km"] == pytest.approx(float(d.min()), abs=0.06)


def test_label_layer_by_size_bbox_and_villages(P: PL.Places) -> None:
    bbox = (37.0, 47.5, 39.0, 49.0)
    cities = P.layer(bbox, 100_000, 50, False)["features"]
    names = [f["properties"]["name"] for f in cities]
    assert "Donetsk" in names and "Horlivka" in names
    assert all(f["properties"]["population"] >= 100_000 for f in cities)
    pops = [f["properties"]["population"] for f in cities]
    assert pops == sorted(pops, reverse=True) or len({f["properties"]["kind"] for f in cities}) > 1
    for f in cities:
        lon, lat = f["geometry"]["coordinates"]
        assert bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
    near = P.layer((37.9, 48.2, 38.1, 48.4), 0, 500, True)["features"]
    assert any(f["properties"]["kind"] == "village" for f in near)
    assert not any(f["properties"]["kind"] == "village" for f in P.layer((37.9, 48.2, 38.1, 48.4), 0, 500, False)["features"])
    # districts of a city are not labelled as cities of their own
    assert "Yuzivskyi" not in [f["properties"]["name"] for f in P.layer(bbox, 0, 5000, False)["features"]]


def test_api_findings_carry_place_in_every_view(app: Any, tokens: dict[str, str], store: Any) -> None:
    c = TestClient(app)
    for role in ("analyst", "liaison_UA", "public"):
        rows = c.get("/api/v1/violations", headers={"Authorization": f"Bearer {tokens[role]}"}).json()
        assert rows or role == "public", role
        for v in rows:
            pl = v["place"]
            assert pl and pl["name"] and pl["label"], (role, v["id"])
            d = PL._haversine_km(np.array([pl["lat"]]), np.array([pl["lon"]]), np.array([v["lat"]]), np.array([v["lon"]]))
            assert float(d[0]) == pytest.approx(pl["distance_km"], abs=0.06)
    # the fast (analyst) and generic paths agree
    vid = store.query_violations()[0].id
    one = c.get(f"/api/v1/violations/{vid}", headers={"Authorization": f"Bearer {tokens['analyst']}"}).json()
    fast = {v["id"]: v for v in c.get("/api/v1/violations", headers={"Authorization": f"Bearer {tokens['analyst']}"}).json()}
    assert one["place"] == fast[vid]["place"]


def test_api_places_layer(app: Any, tokens: dict[str, str]) -> None:
    c = TestClient(app)
    h = {"Authorization": f"Bearer {tokens['monitor']}"}
    r = c.get("/api/v1/layers/places", params={"bbox": "37,47.5,39,49", "min_population": 100000}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["features"]
    assert all(f["properties"]["population"] >= 100000 for f in fc["features"])
    assert c.get("/api/v1/layers/places", params={"bbox": "1,2,3"}, headers=h).status_code == 422
    assert c.get("/api/v1/layers/places", params={"limit": 0}, headers=h).status_code == 422
    assert c.get("/api/v1/layers/places").status_code == 401


def test_post_text_kept_and_withheld_by_role(app: Any, tokens: dict[str, str], store: Any) -> None:
    """A report claim keeps what the post says; outside the mission it is withheld with
    the source's identity when the source is a monitor team (sample: team-alpha)."""
    c = TestClient(app)
    strikes = [v for v in store.query_violations() if v.rule.value == "strike_on_protected_object" and v.party == "UA"]
    assert strikes
    vid = strikes[0].id
    a = c.get(f"/api/v1/violations/{vid}/evidence", headers={"Authorization": f"Bearer {tokens['analyst']}"}).json()
    claims = [it["observation"] for it in a["items"] if it["evidence"]["kind"] == "report_claim"]
    assert claims and claims[0]["attributes"]["text"] and claims[0]["attributes"]["url"].startswith("https://")
    li = c.get(f"/api/v1/violations/{vid}/evidence", headers={"Authorization": f"Bearer {tokens['liaison_UA']}"}).json()
    lc = next(it["observation"] for it in li["items"] if it["evidence"]["kind"] == "report_claim")
    assert lc["attributes"]["text"] is None and lc["attributes"]["url"] is None
    assert set(lc["attributes"]["withheld"]) == {"text", "url", "channel"}
    assert claims[0]["attributes"]["text"] not in str(li)


def test_text_stage_keeps_the_post() -> None:
    from datetime import UTC, datetime

    from trucewatch.sources.text.extract import Claim
    from trucewatch.sources.text.pipeline import TEXT_MAX, claim_to_observation

    t = datetime(2026, 3, 15, tzinfo=UTC)
    c = Claim(report_id="r1", source="channel_x", language="uk", event_type="shelling", event_scores={}, place="Горлівка",
              lat=48.3, lon=38.0, radius_m=5000.0, admin1="Donetsk Oblast", country="UA", place_id=1, place_phrase=None,
              occurred_from=t, occurred_to=t, time_precision="day", actor=None, weapon=None, facility=None,
              facility_name=None, published_at=t, url="https://t.me/channel_x/1", text="Обстріл Горлівки. " * 400)
    o = claim_to_observation(c)
    assert o.attributes["channel"] == "channel_x" and o.attributes["text"].startswith("Обстріл Горлівки.")
    assert len(o.attributes["text"]) == TEXT_MAX
