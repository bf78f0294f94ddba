"""Derive the bundled basemap from npm's world-atlas (Natural Earth 4.1.0, public domain).

Run once by maintainers; the output is committed under trucewatch/data/geo/:
    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/derive_basemap.py package/countries-10m.json package/land-10m.json

Writes countries.geojson (countries whose outline touches the region 20-50E,
40-57N, with ``name``) and land.geojson (land polygons in the same box).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import shapely
from shapely.geometry import box, mapping, shape

BBOX = box(18.0, 38.0, 52.0, 58.0)
OUT = Path(__file__).resolve().parent.parent / "trucewatch" / "data" / "geo"


def _arcs(topo: dict) -> list[list[tuple[float, float]]]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def _ring(arcs: list, idxs: list[int]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for i in idxs:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        ring.extend(pts if not ring else pts[1:])
    return ring


def _polygon(arcs: list, rings: list) -> list:
    out = [_ring(arcs, r) for r in rings]
    return [r for r in out if len(r) >= 4] if len(out[0]) >= 4 else []


def _geometry(arcs: list, g: dict) -> dict:
    polys = [g["arcs"]] if g["type"] == "Polygon" else g["arcs"]
    coords = [p for p in (_polygon(arcs, rings) for rings in polys) if p]
    return {"type": "MultiPolygon", "coordinates": coords}


def main(countries_path: str, land_path: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    topo = json.loads(Path(countries_path).read_text())
    arcs = _arcs(topo)
    feats = []
    for g in topo["objects"]["countries"]["geometries"]:
        if g.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        geom = shape(_geometry(arcs, g)).buffer(0)
        if not geom.intersects(BBOX):
            continue
        geom = shapely.set_precision(geom.intersection(BBOX), 1e-5)
        feats.append({"type": "Feature", "properties": {"name": g["properties"]["name"]},
                      "geometry": mapping(geom)})
    (OUT / "countries.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    topo = json.loads(Path(land_path).read_text())
    arcs = _arcs(topo)
    land = [shape(_geometry(arcs, g)).buffer(0) for g in topo["objects"]["land"]["geometries"]]
    parts = [shapely.set_precision(g.intersection(BBOX), 1e-5) for g in land if g.intersects(BBOX)]
    feats = [{"type": "Feature", "properties": {}, "geometry": mapping(p)} for p in parts if not p.is_empty]
    (OUT / "land.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
