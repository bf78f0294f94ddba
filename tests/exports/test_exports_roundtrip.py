"""Every export format written by the CLI and by the API, then read back: the same findings,
positions and columns from both (one implementation, trucewatch.exports)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.service.conftest import make_store
from trucewatch import exports as XP
from trucewatch.cli import app as cli_app
from trucewatch.exports.acled import COLUMNS as ACLED_COLUMNS
from trucewatch.exports.common import COLUMNS
from trucewatch.service.app import create_app
from trucewatch.service.config import ServiceConfig
from trucewatch.store import Store

FORMATS = {"geojson": "out.geojson", "csv": "out.csv", "acled": "out.acled.csv", "gpkg": "out.gpkg"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, agreement: Any) -> Iterator[dict[str, Any]]:
    d = tmp_path_factory.mktemp("exports")
    store = make_store(d / "svc.db", agreement)
    app = create_app(store, agreement, ServiceConfig(require_signatures=False))
    ts = app.state.tokens
    tokens = {"analyst": ts.create("analyst")[0], "liaison:UA": ts.create("liaison", party="UA")[0],
              "public": ts.create("public")[0]}
    with TestClient(app) as client:
        yield {"store": store, "client": client, "tokens": tokens, "dir": d, "db": str(d / "svc.db")}
    store.close()


def _cli(env: dict[str, Any], name: str, *extra: str) -> bytes:
    out = env["dir"] / name
    res = CliRunner().invoke(cli_app, ["export", "--db", env["db"], "--out", str(out), *extra])
    assert res.exit_code == 0, res.output
    return out.read_bytes()


def _api(env: dict[str, Any], fmt: str, who: str = "analyst") -> bytes:
    r = env["client"].get(f"/api/v1/exports/{fmt}", headers={"Authorization": f"Bearer {env['tokens'][who]}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == XP.module(fmt).MEDIA_TYPE.split(";")[0]
    return r.content


def _read(fmt: str, body: bytes, tmp: Path) -> dict[str, tuple[float, float]]:
    """id -> (lon, lat) as the file holds them, read back the way a user's tool would."""
    if fmt == "geojson":
        fc = json.loads(body)
        assert fc["type"] == "FeatureCollection"
        for f in fc["features"]:
            assert f["properties"]["place"]  # "near X" / "3 km NE of X"
        return {f["id"]: tuple(f["geometry"]["coordinates"]) for f in fc["features"]}
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        assert rows and list(rows[0]) == COLUMNS
        return {r["id"]: (float(r["lon"]), float(r["lat"])) for r in rows}
    if fmt == "acled":
        rows = list(csv.DictReader(io.StringIO(body.decode())))
        assert rows and list(rows[0]) == ACLED_COLUMNS
        return {r["event_id_cnty"].split("-", 1)[1]: (float(r["longitude"]), float(r["latitude"])) for r in rows}
    path = tmp / "read.gpkg"
    path.write_bytes(body)
    return _read_gpkg(path)


def _read_gpkg(path: Path) -> dict[str, tuple[float, float]]:
    try:
        import pyogrio
    except ImportError:  # without GDAL: the OGC structure through sqlite3 and shapely's WKB reader
        con = sqlite3.connect(path)
        out = {}
        for vid, blob in con.execute("SELECT id, geom FROM finding_points"):
            pt = shapely.from_wkb(blob[8:])
            out[vid] = (pt.x, pt.y)
        return out
    layers = {name: gtype for name, gtype in pyogrio.list_layers(path)}
    assert layers == {"findings": "Polygon", "finding_points": "Point", "origins": "Point",
                      "contact_line": "MultiLineString", "zones": "MultiPolygon"}
    meta, _idx, pts, fields = pyogrio.raw.read(path, layer="finding_points")
    assert meta["crs"] == "EPSG:4326"
    ids = fields[list(meta["fields"]).index("id")]
    _m, _i, ell, efields = pyogrio.raw.read(path, layer="findings")
    polys = shapely.from_wkb(ell)
    points = shapely.from_wkb(pts)
    assert list(efields[list(_m["fields"]).index("id")]) == list(ids)
    assert shapely.contains(polys, points).all()  # each ellipse holds its estimate
    _m, _i, line, _f = pyogrio.raw.read(path, layer="contact_line")
    assert len(line) == 1 and shapely.from_wkb(line[0]).length > 1
    _m, _i, zones, _zf = pyogrio.raw.read(path, layer="zones")
    assert len(zones) >= 1 and all(shapely.from_wkb(z).area > 0 for z in zones)
    _m, _i, _origins, of = pyogrio.raw.read(path, layer="origins")
    assert set(of[list(_m["fields"]).index("finding_id")]) <= set(ids)
    return {str(i): (p.x, p.y) for i, p in zip(ids, points, strict=True)}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_round_trip_cli_and_api(env: dict[str, Any], fmt: str, tmp_path: Path) -> None:
    store: Store = env["store"]
    truth = {v.id: (v.location.lon, v.location.lat) for v in store.query_violations()}
    got_cli = _read(fmt, _cli(env, FORMATS[fmt]), tmp_path)
    got_api = _read(fmt, _api(env, fmt), tmp_path)
    assert set(got_cli) == set(got_api) == set(truth)
    tol = 1e-4 if fmt == "acled" else 1e-9  # ACLED rounds to 4 decimals
    for vid, (lon, lat) in truth.items():
        assert got_cli[vid] == pytest.approx((lon, lat), abs=tol)
        assert got_api[vid] == pytest.approx((lon, lat), abs=tol)


def test_cli_and_api_csv_are_the_same_file(env: dict[str, Any]) -> None:
    assert _cli(env, "same.csv") == _api(env, "csv")
    assert _cli(env, "same.acled.csv").split(b"\n")[0] == _api(env, "acled").split(b"\n")[0]


@pytest.mark.parametrize("who", ["liaison:UA", "public"])
def test_cli_view_matches_the_api_role(env: dict[str, Any], who: str) -> None:
    cli = list(csv.DictReader(io.StringIO(_cli(env, f"{who.replace(':', '-')}.csv", "--view", who).decode())))
    api = list(csv.DictReader(io.StringIO(_api(env, "csv", who).decode())))
    assert {r["id"] for r in cli} == {r["id"] for r in api}
    assert cli and len(cli) < len(env["store"].query_violations())
    assert all(r["sources"] == "" for r in api) if who == "public" else True


def test_format_from_suffix_or_flag_and_clear_errors(env: dict[str, Any]) -> None:
    assert XP.infer("a/b.ACLED.csv") == "acled" and XP.infer("x.csv") == "csv" and XP.infer("x.gpkg") == "gpkg"
    body = _cli(env, "forced.txt", "--format", "geojson")
    assert json.loads(body)["type"] == "FeatureCollection"
    res = CliRunner().invoke(cli_app, ["export", "--db", env["db"], "--out", str(env["dir"] / "x.txt")])
    assert res.exit_code == 2 and "x.txt" in res.output and "--format" in res.output
    res = CliRunner().invoke(cli_app, ["export", "--db", env["db"], "--out", str(env["dir"] / "x.csv"),
                                       "--format", "shp"])
    assert res.exit_code == 2 and "shp" in res.output


def test_acled_places_and_precision_from_the_distance(env: dict[str, Any]) -> None:
    """A finding far from any town is not geo_precision 1; fatalities come from the attributes."""
    from trucewatch.exports.acled import rows

    base = {"id": "v-x", "rule": "fire_across_line", "party": "RU", "status": "verified", "confidence": 0.9,
            "time": "2026-03-15T10:00:00+00:00", "evidence": [], "explanation": "", "attributes": {}}
    near = base | {"lat": 48.3010, "lon": 38.0171, "location": {"err_major_m": 100.0}}
    vague = base | {"id": "v-y", "lat": 48.3010, "lon": 38.0171, "location": {"err_major_m": 40_000.0},
                    "attributes": {"casualties": {"killed": 2, "injured": 5}}}
    r_near, r_vague = rows([near, vague], {"RU": "Russian Federation", "UA": "Ukraine"})
    assert (r_near["location"], r_near["geo_precision"], r_near["country"]) == ("Horlivka", 1, "Ukraine")
    assert r_near["admin1"] == "Donetsk" and r_near["fatalities"] == 0
    assert r_near["actor2"] == "Military Forces of Ukraine" and r_near["interaction"] == 18
    assert r_vague["geo_precision"] == 3 and r_vague["fatalities"] == 2
    assert all(set(ACLED_COLUMNS) == set(r) for r in (r_near, r_vague))
