"""Places for readers (issue 20): the nearest settlement with distance and direction, and
the map's settlement label layer (trucewatch.places.settlements; the API's use of them is
tested in tests/service/test_service_places.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

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
