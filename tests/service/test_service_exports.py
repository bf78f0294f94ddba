"""Exports through the API: GeoJSON, GeoPackage (checked by structure and by GDAL's OGR), CSV, ACLED columns.
Round trips of every format, the CLI against the API, and ACLED's places: tests/exports."""

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

from trucewatch.exports.acled import COLUMNS as ACLED_COLUMNS
from trucewatch.exports.common import COLUMNS


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
    assert {x["actor1"] for x in rows} <= {"Military Forces of Ukraine", "Military Forces of Russian Federation"} | {
        f"Unidentified Armed Group ({c})" for c in ("Ukraine", "Russia")}
    for x in rows:
        assert len(x["event_date"]) == 10 and x["geo_precision"] in {"1", "2", "3"} and x["time_precision"] == "1"
        assert x["location"] and x["country"] and x["admin1"] and x["event_id_cnty"]
        assert x["disorder_type"] == "Political violence" and x["interaction"].isdigit()
    # a settlement near the front is named (the gazetteer, within 60 km)
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
    assert sorted(con.execute("SELECT table_name, data_type, srs_id FROM gpkg_contents").fetchall()) == \
        sorted((t, "features", 4326) for t in ("findings", "finding_points", "origins", "contact_line", "zones"))
    assert sorted(con.execute("SELECT * FROM gpkg_geometry_columns").fetchall()) == sorted([
        ("findings", "geom", "POLYGON", 4326, 0, 0), ("finding_points", "geom", "POINT", 4326, 0, 0),
        ("origins", "geom", "POINT", 4326, 0, 0), ("contact_line", "geom", "MULTILINESTRING", 4326, 0, 0),
        ("zones", "geom", "MULTIPOLYGON", 4326, 0, 0)])
    assert con.execute("SELECT COUNT(*) FROM contact_line").fetchone()[0] == 1
    assert con.execute("SELECT COUNT(*) FROM zones").fetchone()[0] >= 1
    ell = con.execute("SELECT id, geom FROM findings").fetchall()
    assert len(ell) == len(store.query_violations())
    for vid, blob in ell[:5]:  # the ellipse (with its envelope in the header) contains the estimate
        assert blob[3] >> 1 & 7 == 1
        poly = shapely.from_wkb(blob[8 + 32:])
        v = store.get_violation(vid)
        assert poly.geom_type == "Polygon" and poly.contains(shapely.Point(v.location.lon, v.location.lat))
    rows = con.execute("SELECT id, geom FROM finding_points").fetchall()
    assert len(rows) == len(store.query_violations())
    vid, blob = rows[0]
    assert blob[:2] == b"GP" and blob[2] == 0
    flags = blob[3]
    assert flags & 1 == 1 and (flags >> 1) & 7 == 0  # little endian, no envelope
    assert struct.unpack("<i", blob[4:8])[0] == 4326
    pt = shapely.from_wkb(blob[8:])
    v = store.get_violation(vid)
    assert (pt.x, pt.y) == pytest.approx((v.location.lon, v.location.lat))
    bbox = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'finding_points'").fetchone()
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
        n = g.GDALDatasetGetLayerCount(ds)
        names = {g.OGR_L_GetName(g.GDALDatasetGetLayer(ds, i)): i for i in range(n)}
        assert set(names) == {b"findings", b"finding_points", b"origins", b"contact_line", b"zones"}
        lyr = g.GDALDatasetGetLayer(ds, names[b"finding_points"])
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
    assert con.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == 0
    r = client.get("/api/v1/exports/csv", params={"t_to": "2000-01-01T00:00:00Z"}, headers=auth(tokens["analyst"]))
    assert r.text.strip() == ",".join(COLUMNS)


def test_time_parameters_from_to_and_their_old_names(client, tokens, store) -> None:
    """One naming (from/to) for every endpoint; t_from/t_to are still accepted; both at once is refused."""
    h = auth(tokens["analyst"])
    t0 = min(v.time for v in store.query_violations())
    a, b = (t0.isoformat(), (t0 + (max(v.time for v in store.query_violations()) - t0) / 2).isoformat())
    new = client.get("/api/v1/violations", params={"from": a, "to": b, "limit": 1000}, headers=h)
    old = client.get("/api/v1/violations", params={"t_from": a, "t_to": b, "limit": 1000}, headers=h)
    assert new.status_code == old.status_code == 200
    assert [v["id"] for v in new.json()] == [v["id"] for v in old.json()]
    assert 0 < len(new.json()) < len(store.query_violations())
    r = client.get("/api/v1/violations", params={"from": a, "t_from": a}, headers=h)
    assert r.status_code == 422 and "t_from" in r.text
    assert client.get("/api/v1/violations", params={"from": "not a time"}, headers=h).status_code == 422
    doc = client.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        for op in ops.values():
            names = {p["name"] for p in op.get("parameters", [])}
            assert not names & {"t_from", "t_to"}, (path, names)
    assert {"from", "to"} <= {p["name"] for p in doc["paths"]["/api/v1/exports/{fmt}"]["get"]["parameters"]}


def test_openapi_bearer_scheme_and_offline_docs(client) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "tw_<id>.<secret>",
        "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"]}
    assert doc["security"] == [{"bearerAuth": []}]
    assert doc["paths"]["/api/v1/health"]["get"]["security"] == []
    for page, assets in (("/docs", ["/static/vendor/swagger/swagger-ui-bundle.js", "/static/vendor/swagger/init.js",
                                    "/static/vendor/swagger/swagger-ui.css"]),
                         ("/redoc", ["/static/vendor/redoc/redoc.standalone.js"])):
        html = client.get(page).text
        assert "http://" not in html and "https://" not in html, f"{page} loads something from the network"
        for a in assets:
            assert a in html
            r = client.get(a)
            assert r.status_code == 200 and len(r.content) > 100, a
    assert "SwaggerUIBundle" in client.get("/static/vendor/swagger/swagger-ui-bundle.js").text


def test_label_catalogue_for_the_dashboard(client) -> None:
    uk = client.get("/i18n/uk.json")
    assert uk.status_code == 200 and uk.json()["section.summary"] == "Стислий виклад"
    assert set(uk.json()) == set(client.get("/i18n/en.json").json())
    assert client.get("/i18n/de.json").status_code == 422
