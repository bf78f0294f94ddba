"""Exports of stored ``Violation`` objects (the demo's and the simulators' violations.geojson).

Kept for callers that hold model objects; the formats themselves live in
``trucewatch.exports`` (one module per format, shared by the CLI and the API),
so a violation is written the same way from everywhere.
"""

from __future__ import annotations

from typing import Any

from trucewatch.exports.csv import write
from trucewatch.exports.geojson import collection
from trucewatch.model import Violation


def violation_row(v: Violation) -> dict[str, Any]:
    """The analyst's (full) view row of a violation, as ``trucewatch.access.views`` renders it."""
    d = v.model_dump(mode="json")
    return {
        "id": v.id, "event_id": v.event_id, "rule": v.rule.value, "party": v.party, "confidence": v.confidence,
        "status": v.status.value, "time": v.time.isoformat(), "t": v.time.timestamp(), "lat": v.location.lat,
        "lon": v.location.lon, "location": d["location"], "origin": d.get("origin"), "evidence": d["evidence"],
        "explanation": v.explanation, "attributes": d.get("attributes") or {},
    }


def violations_geojson(violations: list[Violation]) -> dict[str, Any]:
    """An RFC 7946 FeatureCollection, one Point feature per violation."""
    return collection([violation_row(v) for v in violations])


def violations_csv(violations: list[Violation]) -> str:
    return write([violation_row(v) for v in violations]).decode()
