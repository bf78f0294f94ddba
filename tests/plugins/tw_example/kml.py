"""KML (Google Earth): one Placemark per finding."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

NAME = "kml"
SUFFIXES = (".kml",)
MEDIA_TYPE = "application/vnd.google-earth.kml+xml"
EXT = "kml"
DESCRIPTION = "KML placemarks, one per finding"


def write(rows: list[dict[str, Any]], ctx: Any = None) -> bytes:
    marks = "".join(f"<Placemark><name>{escape(str(v['rule']))}</name><description>{escape(str(v['id']))}"
                    f"</description><Point><coordinates>{float(v['lon'])},{float(v['lat'])}</coordinates></Point>"
                    "</Placemark>" for v in rows)
    return ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"{marks}</Document></kml>").encode()
