"""Write a GeoPackage file (OGC 12-128r18) with the standard library's sqlite3.

Why in the store: a GeoPackage is an SQLite database, and only ``trucewatch.store``
speaks SQL.  ``trucewatch.exports.geopackage`` builds the layers (geometries encoded as
GeoPackage binary, rows, bounds); this module writes the tables the specification asks
for (application_id 'GPKG', user_version 10400, gpkg_spatial_ref_sys, gpkg_contents,
gpkg_geometry_columns) and one feature table per layer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_WGS84 = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],'
          'AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,'
          'AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]')


@dataclass
class FeatureTable:
    """One layer as the file stores it: column names with their GeoPackage types, and
    records of (GeoPackage geometry blob, *column values)."""

    name: str
    geometry_type: str  # POINT, POLYGON, MULTILINESTRING, MULTIPOLYGON
    columns: list[tuple[str, str]]
    description: str
    bbox: tuple[float | None, float | None, float | None, float | None]
    records: Sequence[tuple[Any, ...]]


def write_geopackage(path: Path, tables: Sequence[FeatureTable], srs_id: int = 4326) -> Path:
    """A new GeoPackage at ``path`` (an existing file is replaced) holding ``tables``."""
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
        for t in tables:
            cols = ", ".join(f'"{c}" {kind}' for c, kind in t.columns)
            con.execute(f'CREATE TABLE "{t.name}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, '
                        f'geom {t.geometry_type}, {cols})')
            con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, "
                        "min_x, min_y, max_x, max_y, srs_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (t.name, "features", t.name, t.description, now, *t.bbox, srs_id))
            con.execute("INSERT INTO gpkg_geometry_columns VALUES (?,?,?,?,?,?)",
                        (t.name, "geom", t.geometry_type, srs_id, 0, 0))
            if not t.records:
                continue
            marks = ",".join("?" * (len(t.columns) + 1))
            names = ", ".join(f'"{c}"' for c in ["geom", *(c for c, _ in t.columns)])
            con.executemany(f'INSERT INTO "{t.name}" ({names}) VALUES ({marks})', t.records)
        con.commit()
    finally:
        con.close()
    return path
