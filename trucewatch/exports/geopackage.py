"""GeoPackage for QGIS: layers ``findings`` (95 % uncertainty ellipses as polygons),
``finding_points`` (the estimates), ``origins`` (launch or firing positions, where
known), ``contact_line`` and ``zones`` (from the agreement).

Written with the standard library's sqlite3 following OGC 12-128r18
(application_id 'GPKG', user_version 10400, gpkg_spatial_ref_sys, gpkg_contents,
gpkg_geometry_columns; geometries as the GeoPackage binary header followed by
ISO WKB from shapely), so no GDAL is needed to write it; GDAL/OGR, pyogrio and
QGIS read it (the round-trip test reads it back with pyogrio).
"""

from __future__ import annotations

import sqlite3
import struct
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from trucewatch.exports.common import COLUMNS, flat, places
from trucewatch.geo import ellipse_polygon

NAME = "gpkg"
SUFFIXES = (".gpkg",)
MEDIA_TYPE = "application/geopackage+sqlite3"
EXT = "gpkg"

_TYPES = {"confidence": "DOUBLE", "lat": "DOUBLE", "lon": "DOUBLE", "err_major_m": "DOUBLE", "err_minor_m": "DOUBLE",
          "err_angle_deg": "DOUBLE", "origin_lat": "DOUBLE", "origin_lon": "DOUBLE", "n_evidence": "INTEGER",
          "time": "DATETIME", "distance_km": "DOUBLE"}
_WGS84 = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
          'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
          'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]')


@dataclass
class Layer:
    name: str
    geometry_type: str  # POINT, POLYGON, MULTILINESTRING, MULTIPOLYGON
    columns: list[str]
    geoms: list[shapely.Geometry]
    rows: list[dict[str, Any]]
    description: str


def gpkg_geometry(wkb: bytes, envelope: tuple[float, float, float, float] | None, srs_id: int = 4326) -> bytes:
    """GeoPackage binary: 'GP', version 0, flags (little endian, envelope code), srs_id, [envelope], WKB."""
    if envelope is None:
        return b"GP" + bytes([0, 0b0000_0001]) + struct.pack("<i", srs_id) + wkb
    minx, miny, maxx, maxy = envelope
    return (b"GP" + bytes([0, 0b0000_0011]) + struct.pack("<i", srs_id)
            + struct.pack("<4d", minx, maxx, miny, maxy) + wkb)


def _gpkg_time(iso: str) -> str:
    """DATETIME as the GeoPackage spec writes it: UTC, ``YYYY-MM-DDTHH:MM:SS.SSSZ``."""
    d = datetime.fromisoformat(str(iso)).astimezone(UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def _ellipse(v: dict[str, Any]) -> shapely.Geometry:
    loc = v.get("location") or {}
    major = float(loc.get("err_major_m") or 0.0)
    minor = float(loc.get("err_minor_m") or major)
    if not (np.isfinite(major) and major > 0):
        major = minor = 1.0  # an exact point still gets a (1 m) polygon so the layer keeps one geometry type
    return ellipse_polygon(float(v["lat"]), float(v["lon"]), major, max(minor, 1.0),
                           float(loc.get("err_angle_deg") or 0.0), n=48)


def _multi(g: shapely.Geometry, kind: str) -> shapely.Geometry | None:
    parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type == kind and not p.is_empty]
    if not parts:
        return None
    return shapely.MultiLineString(parts) if kind == "LineString" else shapely.MultiPolygon(parts)


def layers(views: list[dict[str, Any]], agreement: Any = None) -> list[Layer]:
    flats = [flat(v, p) | {"time": _gpkg_time(v["time"])} for v, p in zip(views, places(views), strict=True)]
    out = [Layer("findings", "POLYGON", COLUMNS, [_ellipse(v) for v in views], flats,
                 "Findings: the 95 % uncertainty ellipse of each estimate"),
           Layer("finding_points", "POINT", COLUMNS, [shapely.Point(float(v["lon"]), float(v["lat"])) for v in views],
                 flats, "Findings: the estimate (centre of the ellipse)")]
    oc = ["finding_id", "rule", "party", "err_major_m"]
    orows, ogeoms = [], []
    for v in views:
        o = v.get("origin") or {}
        if o.get("lat") is not None and o.get("lon") is not None:
            ogeoms.append(shapely.Point(float(o["lon"]), float(o["lat"])))
            orows.append({"finding_id": v["id"], "rule": v["rule"], "party": v["party"],
                          "err_major_m": o.get("err_major_m")})
    out.append(Layer("origins", "POINT", oc, ogeoms, orows, "Where the fire or launch came from, where known"))
    lc, lgeoms, lrows = ["agreement"], [], []
    zc, zgeoms, zrows = ["zone_id", "kind", "party", "distance_km", "weapon_class", "description"], [], []
    if agreement is not None:
        line = _multi(agreement.contact_line, "LineString")
        if line is not None:
            lgeoms, lrows = [line], [{"agreement": agreement.name or agreement.id}]
        for z in agreement.zones:
            g = _multi(z.geometry, "Polygon")
            if g is not None:
                zgeoms.append(g)
                zrows.append({"zone_id": z.id, "kind": z.kind, "party": z.party, "distance_km": z.distance_km,
                              "weapon_class": z.weapon_class, "description": z.description})
    out.append(Layer("contact_line", "MULTILINESTRING", lc, lgeoms, lrows, "The contact line of the agreement"))
    out.append(Layer("zones", "MULTIPOLYGON", zc, zgeoms, zrows, "Zones of the agreement (buffer, withdrawal, ...)"))
    return out


def write_file(path: Path, views: list[dict[str, Any]], agreement: Any = None) -> Path:
    path = Path(path)
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA application_id = 1196444487")  # 'GPKG'
        con.execute("PRAGMA user_version = 10400")  # GeoPackage 1.4.0
        con.executescript("""
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
            organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
            description TEXT);
        CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
            identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT
            (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
            srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
            geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT uk_gc_table_name UNIQUE (table_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
        """)
        con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84, "longitude/latitude coordinates in decimal degrees"),
        ])
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        for lyr in layers(views, agreement):
            cols = ", ".join(f'"{c}" {_TYPES.get(c, "TEXT")}' for c in lyr.columns)
            con.execute(f'CREATE TABLE "{lyr.name}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, '
                        f'geom {lyr.geometry_type}, {cols})')
            geoms = np.array(lyr.geoms, dtype=object)
            bbox = tuple(float(x) for x in shapely.total_bounds(geoms)) if len(geoms) else (None,) * 4
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, "
                        "min_x, min_y, max_x, max_y, srs_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (lyr.name, "features", lyr.name, lyr.description, now, *bbox, 4326))
            con.execute("INSERT INTO gpkg_geometry_columns VALUES (?,?,?,?,?,?)",
                        (lyr.name, "geom", lyr.geometry_type, 4326, 0, 0))
            if not lyr.rows:
                continue
            wkbs = shapely.to_wkb(geoms, byte_order=1, flavor="iso")
            bounds = shapely.bounds(geoms)
            marks = ",".join("?" * (len(lyr.columns) + 1))
            names = ", ".join(f'"{c}"' for c in ["geom", *lyr.columns])
            con.executemany(f'INSERT INTO "{lyr.name}" ({names}) VALUES ({marks})', [
                (gpkg_geometry(bytes(w), None if lyr.geometry_type == "POINT" else tuple(b)),
                 *(r.get(c) for c in lyr.columns))
                for r, w, b in zip(lyr.rows, wkbs, bounds, strict=True)])
        con.commit()
    finally:
        con.close()
    return path


def write(views: list[dict[str, Any]], ctx: Any = None) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        return write_file(Path(d) / "export.gpkg", views, getattr(ctx, "agreement", None)).read_bytes()
