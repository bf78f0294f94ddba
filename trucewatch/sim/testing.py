"""Builders for fusion and adjudication tests and examples (observations near the sample line)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AGREEMENT = "trucewatch/data/agreements/ua-ru-2026/agreement.yaml"


def sources() -> dict[str, Source]:
    out = [
        Source(id="ac-net-a", kind=SourceKind.ACOUSTIC_NETWORK, reliability=0.8),
        Source(id="ac-net-b", kind=SourceKind.ACOUSTIC_NETWORK, reliability=0.8),
        Source(id="sat-viirs", kind=SourceKind.SATELLITE, reliability=0.7),
        Source(id="drone-1", kind=SourceKind.DRONE, reliability=0.9),
        Source(id="radar-1", kind=SourceKind.RADAR, reliability=0.9),
        Source(id="monitor-1", kind=SourceKind.MONITOR_TEAM, reliability=0.9),
        Source(id="ais-1", kind=SourceKind.AIS, reliability=0.9),
    ]
    out += [Source(id=f"tg-{i}", kind=SourceKind.OPEN_SOURCE, reliability=0.5) for i in range(8)]
    return {s.id: s for s in out}


def off_line(ag: Any, side: str, dist_m: float, at: int = 460) -> tuple[float, float]:
    """A point ``dist_m`` from the contact line on ``side`` (near vertex ``at``)."""
    c = shapely.get_coordinates(ag.line_en)
    for k in range(at, min(at + 40, len(c) - 1)):
        p, q = c[k - 1], c[k + 1]
        t = (q - p) / np.linalg.norm(q - p)
        nrm = np.array([-t[1], t[0]])
        for sign in (1, -1):
            e, n = c[k] + sign * nrm * dist_m
            lat, lon = ag.frame.to_latlon(e, n)
            d = ag.distance_to_line_m(np.array([lat]), np.array([lon]))[0]
            if ag.side_of(np.array([lat]), np.array([lon]))[0] == side and d > 0.6 * dist_m:
                return float(lat), float(lon)
    raise AssertionError("no point found on that side")


def shift(lat: float, lon: float, de_m: float, dn_m: float) -> tuple[float, float]:
    return lat + dn_m / 111_195.0, lon + de_m / (111_195.0 * np.cos(np.radians(lat)))


def ob(oid: str, src: str, kind: ObservationKind, lat: float, lon: float, err: float = 200.0, dt: float = 0.0,
       ts: float = 1.0, minor: float | None = None, angle: float = 0.0, **attrs: Any) -> Observation:
    return Observation(id=oid, source_id=src, kind=kind, time=T0 + timedelta(seconds=dt), time_sigma_s=ts,
                       location=Location(lat=lat, lon=lon, err_major_m=err, err_minor_m=minor or err,
                                         err_angle_deg=angle), attributes=attrs)
