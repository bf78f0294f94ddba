"""Exports of violations: GeoJSON (RFC 7946) and flat CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from trucewatch.model import Violation


def violation_feature(v: Violation) -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": v.id, "event_id": v.event_id, "rule": v.rule.value, "party": v.party,
        "confidence": round(v.confidence, 4), "status": v.status.value, "time": v.time.isoformat(),
        "err_major_m": round(v.location.err_major_m, 1), "err_minor_m": round(v.location.err_minor_m, 1),
        "err_angle_deg": round(v.location.err_angle_deg, 1), "explanation": v.explanation,
        "evidence": [e.model_dump(mode="json") for e in v.evidence],
    }
    if v.origin is not None:
        props["origin"] = {"lat": v.origin.lat, "lon": v.origin.lon, "err_major_m": v.origin.err_major_m}
    return {"type": "Feature", "id": v.id,
            "geometry": {"type": "Point", "coordinates": [round(v.location.lon, 7), round(v.location.lat, 7)]},
            "properties": props}


def violations_geojson(violations: list[Violation]) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection, one Point feature per violation."""
    return {"type": "FeatureCollection", "features": [violation_feature(v) for v in violations]}


CSV_COLUMNS = ["id", "time", "rule", "party", "confidence", "status", "lat", "lon", "err_major_m", "event_id",
               "evidence_count", "explanation"]


def violations_csv(violations: list[Violation]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for v in violations:
        w.writerow([v.id, v.time.isoformat(), v.rule.value, v.party, f"{v.confidence:.4f}", v.status.value,
                    f"{v.location.lat:.6f}", f"{v.location.lon:.6f}", f"{v.location.err_major_m:.1f}", v.event_id,
                    len(v.evidence), v.explanation])
    return buf.getvalue()
