"""What every tabular export shares: the flat row of a finding and safe CSV cells."""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from trucewatch.i18n import describe_place
from trucewatch.report.places import nearest_places

#: Flat columns of the CSV and of the GeoPackage's findings layer (a role's view may leave some empty).
COLUMNS = ["id", "event_id", "rule", "party", "status", "confidence", "time", "lat", "lon", "err_major_m",
           "err_minor_m", "err_angle_deg", "place", "origin_lat", "origin_lon", "n_evidence", "evidence_kinds",
           "sources", "explanation"]


def flat(v: dict[str, Any], place: str = "") -> dict[str, Any]:
    """One row from a role's view of a finding (the public view has counts by kind, no identities)."""
    loc = v.get("location") or {}
    origin = v.get("origin") or {}
    ev = v.get("evidence")
    if ev is not None:
        kinds = sorted({str(e.get("kind")) for e in ev})
        sources = sorted({str(e.get("source_id")) for e in ev})
        n = len(ev)
    else:
        counts = v.get("evidence_counts") or {}
        kinds, sources, n = sorted(counts), [], int(sum(counts.values()))
    return {
        "id": v["id"], "event_id": v.get("event_id", ""), "rule": v["rule"], "party": v["party"],
        "status": v["status"], "confidence": round(float(v["confidence"]), 4), "time": v["time"],
        "lat": v["lat"], "lon": v["lon"], "err_major_m": loc.get("err_major_m"), "err_minor_m": loc.get("err_minor_m"),
        "err_angle_deg": loc.get("err_angle_deg"), "place": place,
        "origin_lat": origin.get("lat"), "origin_lon": origin.get("lon"), "n_evidence": n,
        "evidence_kinds": ";".join(kinds), "sources": ";".join(sources), "explanation": v.get("explanation", "") or "",
    }


def places(rows: list[dict[str, Any]], lang: str = "en") -> list[str]:
    """"3 km NE of Horlivka" per row (the report's wording, trucewatch.report.places)."""
    if not rows:
        return []
    lat = np.array([float(v["lat"]) for v in rows])
    lon = np.array([float(v["lon"]) for v in rows])
    err = np.array([float((v.get("location") or {}).get("err_major_m") or 0.0) for v in rows])
    return [describe_place(p, lang) for p in nearest_places(lat, lon, err)]


def cell(x: Any) -> Any:
    """A CSV cell; text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(x, str) and x[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + x
    return "" if x is None else x


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: cell(r.get(k)) for k in columns})
    return buf.getvalue()
