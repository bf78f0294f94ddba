"""Radar change detection on synthetic Sentinel-1-like stacks."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from trucewatch.model import ObservationKind
from trucewatch.sim.satellite import synthetic_sar_stack
from trucewatch.sources.satellite.background import auc
from trucewatch.sources.satellite.radar import RadarError, change_test, open_stack, to_observations


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    d = tmp_path_factory.mktemp("sar")
    return synthetic_sar_stack(d, np.random.default_rng(3), size=192, n_buildings=110)


def test_damage_auc_and_observations(stack, tmp_path):
    res = change_test(stack.files, stack.split, out=tmp_path / "p.tif", footprints=stack.footprints, tile=64,
                      corr_px=1.0)
    assert res.n_ref == 10 and res.n_post == 3
    s = np.array([abs(r["mean_z"]) for r in res.footprints])
    a = auc(s, stack.damaged)
    assert a >= 0.85, a
    probs = np.array([r["damage_probability"] for r in res.footprints])
    assert np.median(probs[stack.damaged]) > np.median(probs[~stack.damaged])
    with rasterio.open(tmp_path / "p.tif") as ds:
        assert ds.count == 2 and ds.descriptions[0] == "change_probability"
        prob = ds.read(1)
        assert prob.shape == (192, 192) and np.nanmax(prob) <= 1 and np.nanmin(prob) >= 0
    obs = to_observations(res, threshold=0.9)
    assert obs and all(o.kind == ObservationKind.DAMAGE for o in obs)
    o = obs[0]
    assert o.attributes["damage_probability"] >= 0.9 and o.attributes["footprint_id"].startswith("b")
    assert o.location.footprint["type"] == "Polygon"
    hit = {o.attributes["footprint_id"] for o in obs}
    truth = {f["properties"]["id"] for f in stack.footprints["features"] if f["properties"]["damaged"]}
    assert len(hit & truth) / len(hit) > 0.6  # precision of the flagged set


def test_tiling_does_not_change_the_result(stack, tmp_path):
    a = change_test(stack.files, stack.split, out=tmp_path / "a.tif", tile=50)
    b = change_test(stack.files, stack.split, out=tmp_path / "b.tif", tile=1024)
    with rasterio.open(tmp_path / "a.tif") as da, rasterio.open(tmp_path / "b.tif") as db:
        np.testing.assert_allclose(da.read(2), db.read(2), rtol=1e-5, atol=1e-5)
    assert a.pixel_summary["valid_pixels"] == b.pixel_summary["valid_pixels"] == 192 * 192


def test_no_change_gives_no_damage(tmp_path):
    st = synthetic_sar_stack(tmp_path, np.random.default_rng(5), size=96, n_buildings=30, damaged_frac=0.0,
                             confounder_frac=0.0)
    res = change_test(st.files, st.split, footprints=st.footprints, corr_px=1.0)
    # without change, the pixel-level false alarm rate stays near its nominal 1 %
    assert res.pixel_summary["pixels_p_gt_0_99"] < 0.03 * res.pixel_summary["valid_pixels"]
    z = np.array([r["mean_z"] for r in res.footprints])
    assert np.abs(z).mean() < 0.6


def _copy_with(src, dst, **changes):
    with rasterio.open(src) as ds:
        prof = ds.profile
        data = ds.read()
        desc = ds.descriptions
        tags = ds.tags()
    prof.update(changes)
    if "count" in changes:
        data = data[: changes["count"]]
    with rasterio.open(dst, "w", **prof) as out:
        out.write(data)
        for i, dsc in enumerate(desc[: prof["count"]]):
            if dsc:
                out.set_band_description(i + 1, dsc)
        tags.pop("ACQUISITION_DATE", None)  # the date comes from the new file name
        out.update_tags(**tags)


def test_crs_grid_and_band_mismatch_named(stack, tmp_path):
    files = list(stack.files)
    bad_crs = tmp_path / "S1_20250601_crs.tif"
    _copy_with(files[-1], bad_crs, crs="EPSG:32636")
    bad_grid = tmp_path / "S1_20250613_grid.tif"
    with rasterio.open(files[-1]) as ds:
        t = ds.transform
    _copy_with(files[-1], bad_grid, transform=from_origin(t.c + 5.0, t.f, t.a, -t.e))
    one_band = tmp_path / "S1_20250625_oneband.tif"
    _copy_with(files[-1], one_band, count=1)
    with pytest.raises(RadarError) as ei:
        open_stack([*files, bad_crs, bad_grid, one_band])
    probs = ei.value.problems
    assert any(bad_crs.name in p and "CRS" in p for p in probs)
    assert any(bad_grid.name in p and "transform" in p for p in probs)
    assert any(one_band.name in p and "no VH band for 2025-06-25" in p for p in probs)
    assert len(probs) == 3


def test_needs_reference_and_inspection(stack):
    with pytest.raises(RadarError, match="reference"):
        change_test(stack.files, "2000-01-01")
    with pytest.raises(RadarError, match="inspection"):
        change_test(stack.files, "2100-01-01")


def test_dates_from_file_names(tmp_path, stack):
    # without the tag, the date comes from the file name
    dst = tmp_path / "S1A_IW_GRDH_1SDV_20250707T033000_x.tif"
    with rasterio.open(stack.files[0]) as ds:
        prof, data = ds.profile, ds.read()
    with rasterio.open(dst, "w", **prof) as out:
        out.write(data)
    st = open_stack([stack.files[0], dst])
    assert str(st.dates[1]) == "2025-07-07"
    nodate = tmp_path / "scene.tif"
    with rasterio.open(nodate, "w", **prof) as out:
        out.write(data)
    with pytest.raises(RadarError, match=r"scene\.tif: no acquisition date"):
        open_stack([stack.files[0], nodate])


def test_footprints_in_a_projected_crs(stack):
    """Legacy GeoJSON with a crs member (UTM): same scores as lon/lat, observations in lon/lat."""
    import shapely
    from pyproj import Transformer
    from shapely.geometry import mapping, shape

    tr = Transformer.from_crs("EPSG:4326", stack.crs, always_xy=True)
    feats = []
    for f in stack.footprints["features"][:20]:
        g = shapely.transform(shape(f["geometry"]), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        feats.append({"type": "Feature", "properties": f["properties"], "geometry": mapping(g)})
    utm = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32637"}},
           "features": feats}
    ll = {"type": "FeatureCollection", "features": stack.footprints["features"][:20]}
    a = change_test(stack.files, stack.split, footprints=utm, corr_px=1.0)
    b = change_test(stack.files, stack.split, footprints=ll, corr_px=1.0)
    assert [r["n_pixels"] for r in a.footprints] == [r["n_pixels"] for r in b.footprints]
    obs = to_observations(a, threshold=0.0)
    assert obs and all(30 < o.location.lon < 45 and 40 < o.location.lat < 55 for o in obs)


def test_one_file_per_polarisation_and_db_files(stack, tmp_path):
    """SNAP-style exports: a file per polarisation, or bands already in dB: same test statistic."""
    split_files, db_files = [], []
    for f in stack.files:
        with rasterio.open(f) as ds:
            prof, data, date = ds.profile, ds.read(), ds.tags()["ACQUISITION_DATE"].replace("-", "")
        prof.update(count=1)
        for i, q in enumerate(("VV", "VH")):
            out = tmp_path / f"S1_{date}_{q}.tif"
            with rasterio.open(out, "w", **prof) as o:
                o.write(data[i : i + 1])
            split_files.append(out)
        prof.update(count=2, nodata=-9999.0)
        out = tmp_path / f"S1_{date}_db.tif"
        with rasterio.open(out, "w", **prof) as o:
            o.write((20 * np.log10(data)).astype("float32"))
            o.set_band_description(1, "Sigma0_VV_db")
            o.set_band_description(2, "Sigma0_VH_db")
        db_files.append(out)
    st = open_stack(split_files[::-1])
    assert st.pols == ["VV", "VH"] and len(st.dates) == len(stack.files) and not st.db
    assert open_stack(db_files).db
    ref = change_test(stack.files, stack.split, out=tmp_path / "ref.tif")
    for files, name in ((split_files, "split.tif"), (db_files, "db.tif")):
        change_test(files, stack.split, out=tmp_path / name)
        with rasterio.open(tmp_path / "ref.tif") as a, rasterio.open(tmp_path / name) as b:
            np.testing.assert_allclose(a.read(2), b.read(2), rtol=1e-4, atol=1e-4)
    assert ref.n_ref == 10
    with pytest.raises(RadarError, match="mixes dB and linear"):
        open_stack([*stack.files[:2], db_files[2]])
