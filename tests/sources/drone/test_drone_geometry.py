"""Footprint projection (vectorized vs per-frame), DEM intersection and the coverage query."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely

from trucewatch.sources.drone.coverage import FrameSet, seen_any
from trucewatch.sources.drone.geometry import (
    Dem,
    camera_matrices,
    footprints_baseline,
    pixel_rays,
    project_footprints,
    ray_ground_dem,
)


def test_nadir_footprint_matches_field_of_view():
    h = 400.0
    R = camera_matrices([0.0], [0.0], [0.0], [0.0], [-90.0], [0.0])
    c, clipped = project_footprints(np.array([0.0]), np.array([0.0]), np.array([h]), R, 60.0, 40.0, 1000, 600)
    assert not clipped[0]
    half_along = h * math.tan(math.radians(20))  # image vertical -> along track (north) when looking down
    half_across = h * math.tan(math.radians(30))
    np.testing.assert_allclose(np.abs(c[0, :, 0]), half_across, rtol=1e-9)
    np.testing.assert_allclose(np.abs(c[0, :, 1]), half_along, rtol=1e-9)
    # heading east turns the footprint: the long side now runs north-south
    R = camera_matrices([0.0], [0.0], [90.0], [0.0], [-90.0], [0.0])
    c2, _ = project_footprints(np.array([0.0]), np.array([0.0]), np.array([h]), R, 60.0, 40.0, 1000, 600)
    np.testing.assert_allclose(np.abs(c2[0, :, 1]), half_across, rtol=1e-9)


def test_oblique_centre_ray_and_attitude_modes():
    h = 300.0
    ray = pixel_rays(np.array([500.0]), np.array([300.0]), 60, 40, 1000, 600)
    R = camera_matrices([0.0], [0.0], [0.0], [0.0], [-30.0], [0.0])
    d = np.einsum("nij,nj->ni", R, ray)
    assert d[0, 0] / d[0, 2] * h == pytest.approx(h / math.tan(math.radians(30)))
    # a banked airframe moves a body-fixed camera's footprint sideways, not a stabilised one's
    Rb = camera_matrices([20.0], [0.0], [0.0], [0.0], [-90.0], [0.0], "body")
    Rh = camera_matrices([20.0], [0.0], [0.0], [0.0], [-90.0], [0.0], "horizon")
    db = np.einsum("nij,nj->ni", Rb, ray)
    dh = np.einsum("nij,nj->ni", Rh, ray)
    assert db[0, 1] / db[0, 2] * h == pytest.approx(-h * math.tan(math.radians(20)))  # right wing down looks left
    assert dh[0, 1] / dh[0, 2] * h == pytest.approx(0.0, abs=1e-9)
    cb, _ = project_footprints(np.zeros(1), np.zeros(1), np.array([h]), Rb, 60, 40, 1000, 600)
    assert cb[0, :, 0].max() < h * math.tan(math.radians(30))  # the whole footprint shifted west


def test_vectorized_equals_baseline():
    rng = np.random.default_rng(3)
    n = 300
    args = dict(n=rng.uniform(-1e3, 1e3, n), e=rng.uniform(-1e3, 1e3, n), height=rng.uniform(100, 900, n))
    ang = [rng.normal(0, 10, n), rng.normal(0, 5, n), rng.uniform(-180, 180, n), rng.normal(0, 2, n),
           rng.uniform(-90, -20, n), rng.uniform(-40, 40, n)]
    for mode in ("body", "horizon"):
        R = camera_matrices(*ang, mode)
        c, _ = project_footprints(args["n"], args["e"], args["height"], R, 50, 30, 1920, 1080)
        base = footprints_baseline(args["n"], args["e"], args["height"], *ang, 50, 30, 1920, 1080, gimbal_frame=mode)
        ref = np.array([shapely.get_coordinates(p)[:4] for p in base])
        np.testing.assert_allclose(c, ref, atol=1e-6)


def test_horizon_rays_are_clipped():
    R = camera_matrices([0.0], [0.0], [0.0], [0.0], [-5.0], [0.0])  # top edge above the horizon
    c, clipped = project_footprints(np.zeros(1), np.zeros(1), np.array([500.0]), R, 60, 40, 1000, 600, max_range_m=5000)
    assert clipped[0]
    assert np.hypot(c[0, :, 0], c[0, :, 1]).max() <= 5000 + 1e-6


def test_dem_intersection(make):
    _fl, _ = make()
    from trucewatch.geo import LocalFrame

    frame = LocalFrame(48.5, 37.0)
    # a plane tilted east-west: 150 m + 0.05 * east metres
    lat = np.linspace(48.6, 48.4, 201)
    lon = np.linspace(36.85, 37.15, 301)
    e, _ = frame.to_en(np.full(lon.size, 48.5), lon)
    elev = np.tile(150.0 + 0.05 * e, (lat.size, 1))
    dem = Dem(elev, 48.6, 36.85, 0.001, 0.001)
    R = camera_matrices(np.zeros(5), np.zeros(5), np.zeros(5), np.zeros(5), np.full(5, -60.0), np.linspace(-60, 60, 5))
    ray = pixel_rays(np.array([960.0]), np.array([540.0]), 50, 30, 1920, 1080)
    d = np.einsum("nij,kj->ni", R, ray)
    gn, ge, clipped = ray_ground_dem(dem, frame, np.zeros(5), np.zeros(5), np.full(5, 800.0), d)
    assert not clipped.any()
    la, lo = frame.to_latlon(ge, gn)
    dd = d / np.linalg.norm(d, axis=1, keepdims=True)
    s = np.hypot(gn, ge) / np.hypot(dd[:, 0], dd[:, 1])
    ray_alt = 800.0 - s * dd[:, 2]
    np.testing.assert_allclose(ray_alt, dem.sample(la, lo), atol=1.0)
    # flat DEM = flat ground
    flat = Dem(np.full((201, 301), 150.0), 48.6, 36.85, 0.001, 0.001)
    gn2, ge2, _ = ray_ground_dem(flat, frame, np.zeros(5), np.zeros(5), np.full(5, 800.0), d)
    np.testing.assert_allclose(np.hypot(gn2, ge2), 650.0 / math.tan(math.radians(60)), rtol=1e-3)


def test_coverage_query(make):
    fl, truth = make(agl=500.0)
    fs = FrameSet.from_flight(fl)
    assert len(fs) == pytest.approx((fl.t1 - fl.t0) + 1, abs=1)
    # a point on the track, in the middle of the first leg, is seen at about nadir resolution
    k = len(truth["t"]) // 6
    lat, lon = float(truth["lat"][k]), float(truth["lon"][k])
    seen, best, first = fs.seen([lat], [lon], max_gsd=1.0)
    assert seen[0]
    assert best[0] == pytest.approx(500 * 2 * math.tan(math.radians(25)) / 1920, rel=0.1)
    assert abs(first[0] - truth["t"][k]) < 30
    # 5 km off the track: never in a frame
    la2, lo2 = fs.frame.to_latlon(0.0, 5000.0)
    s2, b2, _ = fs.seen([float(la2)], [float(lo2)])
    assert not s2[0] and math.isinf(b2[0])
    # outside the time window
    s3, _, _ = fs.seen([lat], [lon], t1=fl.t1 + 10, t2=fl.t1 + 100)
    assert not s3[0]
    # resolution too coarse for a mortar-sized class at a stricter limit
    s4, _, _ = fs.seen([lat], [lon], max_gsd=0.05)
    assert not s4[0]
    # frames on untrusted navigation do not count
    fs.trusted[:] = False
    assert not fs.seen([lat], [lon])[0][0]
    assert not seen_any([fs], [lat], [lon], weapon_class="tank")[0][0]


def test_coverage_geojson_and_save(tmp_path, make):
    fl, _ = make()
    fs = FrameSet.from_flight(fl)
    gj = fs.to_geojson()
    layers = [f["properties"]["layer"] for f in gj["features"]]
    assert "coverage" in layers and layers[-1] == "track"
    cov = [f for f in gj["features"] if f["properties"]["layer"] == "coverage"]
    area = sum(f["properties"]["area_km2"] for f in cov)
    # 12 km of track, footprint about 470 m wide (500 m up, 50 deg FOV): a few km² at most
    assert 2.0 < area < 8.0
    fs.save(tmp_path / "f.npz")
    back = FrameSet.load(tmp_path / "f.npz", fl.camera)
    np.testing.assert_array_equal(back.corners, fs.corners)
    assert back.flight_id == fs.flight_id


def test_dem_from_geotiff_and_coverage(tmp_path, make):
    import rasterio

    elev = np.full((200, 300), 150.0, dtype="float32")
    elev[:, 150:] = 350.0  # a 200 m step east of 37.0
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", width=300, height=200, count=1, dtype="float32", crs="EPSG:4326",
                       transform=rasterio.Affine(0.001, 0, 36.85, 0, -0.001, 48.6), nodata=-9999) as ds:
        ds.write(elev, 1)
    dem = Dem.from_file(str(path))
    assert dem.sample(np.array([48.55, 48.55]), np.array([36.9, 37.1])) == pytest.approx([150.0, 350.0])
    assert np.isnan(dem.sample(np.array([50.0]), np.array([37.0])))[0]
    fl, _ = make()  # flies at 500 m above home (150 m MSL)
    flat = FrameSet.from_flight(fl)
    hilly = FrameSet.from_flight(fl, dem=dem)
    east = flat.corners[:, :, 0].mean(axis=1) > 2000  # frames over the raised ground
    w_flat = np.ptp(flat.corners[east, :, 0], axis=1).mean()
    w_dem = np.ptp(hilly.corners[east, :, 0], axis=1).mean()
    assert w_dem == pytest.approx(w_flat * 300 / 500, rel=0.05)  # 200 m closer ground: smaller footprint
