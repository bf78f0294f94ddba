"""AIS stage end to end: lines -> decode -> tracks -> incidents -> VESSEL_INCIDENT observations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch.agreement import Agreement
from trucewatch.errors import RecordProblem
from trucewatch.model import Observation, Source, SourceKind
from trucewatch.sources.sea.incidents import Incident, Params, detect_incidents, incident_observations
from trucewatch.sources.sea.nmea import decode_lines
from trucewatch.sources.sea.tracks import Tracks, build_tracks


@dataclass
class SeaResult:
    tracks: Tracks
    incidents: list[Incident]
    observations: list[Observation]
    errors: list[RecordProblem]
    stats: dict[str, Any] = field(default_factory=dict)


def ais_source(source_id: str = "ais:feed", name: str = "") -> Source:
    """The registered Source for an AIS feed (kind AIS)."""
    return Source(id=source_id, kind=SourceKind.AIS, name=name or f"AIS feed {source_id}", reliability=0.9)


def process_lines(lines: Iterable[bytes | str], agreement: Agreement | None = None, *, source_id: str = "ais:feed",
                  naval_mmsi: set[int] | None = None, params: Params | None = None, start_time: float | None = None,
                  end_time: float | None = None, line_interval: float | None = None) -> SeaResult:
    """Decode a whole stream and judge it.  ``end_time`` (default: the last report) closes open gaps.

    Reports of unknown time are listed (tracks, vessels) but not judged: an incident needs a time.
    """
    res = decode_lines(lines, start_time, line_interval)
    tracks = build_tracks(res.positions, res.statics, naval_mmsi)
    timed = np.isfinite(res.positions.t)
    judged = tracks if timed.all() else build_tracks(res.positions.take(timed), res.statics, naval_mmsi)
    if end_time is None and len(judged.pos):
        end_time = float(judged.pos.t.max())
    incidents = detect_incidents(judged, agreement, params, end_time) if len(judged.pos) else []
    obs = incident_observations(incidents, source_id)
    stats: dict[str, Any] = dict(res.stats)
    stats.update({"vessels": len(tracks), "vessels_static_only": len(tracks.static_only()),
                  "vessel_hours": round(tracks.hours(), 2), "errors": len(res.errors), "incidents": len(incidents),
                  "positions_untimed": int((~timed).sum())})
    return SeaResult(tracks, incidents, obs, res.errors, stats)


def process_file(path: str | Path, agreement: Agreement | None = None, **kw: Any) -> SeaResult:
    with open(path, "rb") as fh:
        return process_lines(fh, agreement, **kw)


def read_naval_list(path: str | Path) -> set[int]:
    """MMSIs of known naval vessels, one per line (``#`` comments allowed)."""
    out: set[int] = set()
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        if not s.isdigit() or not 0 < int(s) < 1_000_000_000:
            raise ValueError(f"{path}: line {i}: mmsi: {s!r} is not a 9-digit MMSI")
        out.add(int(s))
    return out
