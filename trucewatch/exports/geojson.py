"""GeoJSON (RFC 7946): one Point per finding, the view's fields as properties, plus the place in words."""

from __future__ import annotations

import json
from typing import Any

from trucewatch.exports.common import places

NAME = "geojson"
SUFFIXES = (".geojson", ".json")
MEDIA_TYPE = "application/geo+json"
EXT = "geojson"


def collection(rows: list[dict[str, Any]]) -> dict[str, Any]:
    feats = []
    for v, place in zip(rows, places(rows), strict=True):
        props = {k: val for k, val in v.items() if k not in ("lat", "lon")} | {"place": place}
        feats.append({"type": "Feature", "id": v["id"],
                      "geometry": {"type": "Point", "coordinates": [v["lon"], v["lat"]]}, "properties": props})
    return {"type": "FeatureCollection", "features": feats}


def write(rows: list[dict[str, Any]], ctx: Any = None) -> bytes:
    return json.dumps(collection(rows), separators=(",", ":"), default=str).encode()
