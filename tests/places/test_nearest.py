"""Places in words: the reference settlement, its offset, and ACLED's geo_precision from the real distance."""

from __future__ import annotations

import numpy as np

from trucewatch.geo import LocalFrame, haversine_m
from trucewatch.places.nearest import MAX_REF_M, SLACK_CAP_M, _index, geo_precision, nearest_places


def _offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    la, lo = LocalFrame(lat, lon).to_latlon(east_m, north_m)
    return float(la), float(lo)


def test_near_and_offset_from_a_town() -> None:
    h_lat, h_lon = 48.29986, 38.01709  # Horlivka in the gazetteer
    near = nearest_places([h_lat + 0.002], [h_lon], [200])[0]
    assert (near.name, near.kind, near.geo_precision) == ("Horlivka", "near", 1)
    lat, lon = _offset(h_lat, h_lon, 12_000 / np.sqrt(2), 12_000 / np.sqrt(2))  # 12 km NE: past the town
    p = nearest_places([lat], [lon], [100])[0]
    assert p.kind == "offset" and p.geo_precision in (2, 3)
    # the words say what the numbers say: distance and bearing from the named settlement to the estimate
    _tree, c = _index()
    cands = [i for i, n in enumerate(c["name"]) if n == p.name]
    d = haversine_m(lat, lon, np.asarray(c["lat"])[cands], np.asarray(c["lon"])[cands])
    i = cands[int(np.argmin(d))]
    assert abs(float(d.min()) - p.distance_m) < 50
    e, n = LocalFrame(float(c["lat"][i]), float(c["lon"][i])).to_en(lat, lon)
    compass = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")[int(np.round(np.degrees(np.arctan2(e, n)) / 45)) % 8]
    assert p.bearing == compass


def test_a_vague_claim_is_within_not_near() -> None:
    p = nearest_places([48.30], [38.02], [110_000])[0]
    assert p.kind == "within" and p.geo_precision == 3


def test_precision_follows_the_real_distance_on_random_points() -> None:
    """Over 2,000 random points in eastern Ukraine: precision 1 only within ~2 km of the named place's edge
    and with a small uncertainty; the reference is never farther than the nearest settlement plus the slack."""
    rng = np.random.default_rng(7)
    lat = rng.uniform(46.5, 50.5, 2000)
    lon = rng.uniform(33.0, 39.5, 2000)
    err = rng.choice([50.0, 500.0, 3000.0, 20_000.0], 2000)
    places = nearest_places(lat, lon, err)
    tree, _c = _index()
    from trucewatch.places.nearest import _xyz

    chord, _j = tree.query(_xyz(lat, lon), k=1)
    d_nearest = 2 * 6_371_008.8 * np.arcsin(chord / 2)
    for i, p in enumerate(places):
        if p.kind == "none":
            assert d_nearest[i] > MAX_REF_M - 1
            continue
        assert p.distance_m <= d_nearest[i] + min(err[i], SLACK_CAP_M) + 1
        if p.geo_precision == 1:
            assert err[i] <= 2000
        if p.distance_m > 30_000:
            assert p.geo_precision == 3  # never a town 30 km away at precision 1 or 2
    assert {p.geo_precision for p in places} == {1, 2, 3}


def test_geo_precision_thresholds() -> None:
    got = geo_precision(np.array([500, 4_000, 30_000, 500]), np.array([1500, 1500, 3000, 1500]),
                        np.array([100, 100, 100, 20_000]))
    assert got.tolist() == [1, 2, 3, 3]
