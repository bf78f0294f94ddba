"""Synthetic observation streams for pipeline tests and benchmarks.

Shelling along the whole line: each event is heard by the acoustic network as
an impact (and half the time its launch), some are reported by a monitor team.
Generated with numpy in bulk, then wrapped in Observation models.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely

from trucewatch.agreement import Agreement
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind

SOURCES = [
    Source(id="acoustic-net", kind=SourceKind.ACOUSTIC_NETWORK, name="Acoustic network", reliability=0.9),
    Source(id="monitor-team-1", kind=SourceKind.MONITOR_TEAM, name="Monitoring team 1", reliability=0.9),
]


def synthetic_stream(agreement: Agreement, n: int, *, seed: int = 1, day: str = "2026-03-15",
                     days: float = 1.0) -> list[Observation]:
    """``n`` observations of shelling along the line over ``days`` days from ``day``, sorted by time."""
    rng = np.random.default_rng(seed)
    parts = list(getattr(agreement.line_en, "geoms", [agreement.line_en]))
    line = max(parts, key=lambda p: p.length)
    n_events = max(1, int(n / 1.8))
    s = rng.uniform(0, line.length, n_events)
    p = shapely.line_interpolate_point(line, s)
    off = rng.normal(0, 4000, (n_events, 2))
    e = shapely.get_x(p) + off[:, 0]
    nn = shapely.get_y(p) + off[:, 1]
    t0 = datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()
    t = t0 + np.sort(rng.uniform(0, 86_400 * days, n_events))
    kinds = np.where(rng.random(n_events) < 0.5, 0, 1)  # 0: impact only, 1: launch too
    rows_e: list[np.ndarray] = []
    rows_n: list[np.ndarray] = []
    rows_t: list[np.ndarray] = []
    rows_k: list[np.ndarray] = []
    rows_src: list[np.ndarray] = []
    rows_ev: list[np.ndarray] = []
    # impacts
    rows_e.append(e)
    rows_n.append(nn)
    rows_t.append(t)
    rows_k.append(np.full(n_events, 0))
    rows_src.append(np.zeros(n_events, int))
    rows_ev.append(np.arange(n_events))
    # launches 5-20 km away
    li = np.flatnonzero(kinds == 1)
    ang = rng.uniform(0, 2 * np.pi, li.size)
    r = rng.uniform(5000, 20000, li.size)
    rows_e.append(e[li] + r * np.cos(ang))
    rows_n.append(nn[li] + r * np.sin(ang))
    rows_t.append(t[li] - r / 400)
    rows_k.append(np.full(li.size, 1))
    rows_src.append(np.zeros(li.size, int))
    rows_ev.append(li)
    # monitor reports
    need = max(0, n - n_events - li.size)
    mi = rng.choice(n_events, size=min(need, n_events), replace=False)
    rows_e.append(e[mi] + rng.normal(0, 1500, mi.size))
    rows_n.append(nn[mi] + rng.normal(0, 1500, mi.size))
    rows_t.append(t[mi] + rng.normal(0, 300, mi.size))
    rows_k.append(np.full(mi.size, 2))
    rows_src.append(np.ones(mi.size, int))
    rows_ev.append(mi)
    E, N, T = np.concatenate(rows_e), np.concatenate(rows_n), np.concatenate(rows_t)
    K, SRC, EV = np.concatenate(rows_k), np.concatenate(rows_src), np.concatenate(rows_ev)
    lat, lon = agreement.frame.to_latlon(E, N)
    err = np.where(K == 2, 3000.0, rng.uniform(30, 120, K.size))
    order = np.argsort(T, kind="stable")
    kind_of = [ObservationKind.IMPACT, ObservationKind.LAUNCH, ObservationKind.REPORT_CLAIM]
    out = []
    for i in order[:n]:
        k = int(K[i])
        key = f"{seed}|{int(EV[i])}|{k}"
        attrs: dict[str, Any] = {"pair_id": f"p{seed}-{int(EV[i])}"} if k < 2 and kinds[EV[i]] == 1 else {}
        if k == 2:
            attrs = {"event_type": "shelling", "independent": True}
        out.append(Observation.model_construct(
            id="load-" + hashlib.sha256(key.encode()).hexdigest()[:24], source_id=SOURCES[int(SRC[i])].id,
            kind=kind_of[k], time=datetime.fromtimestamp(float(T[i]), tz=UTC), time_sigma_s=0.05 if k < 2 else 300.0,
            location=Location.model_construct(lat=float(lat[i]), lon=float(lon[i]), err_major_m=float(err[i]),
                                              err_minor_m=float(err[i]) * 0.6, err_angle_deg=0.0, footprint=None),
            attributes=attrs, payload_hash=hashlib.sha256(key.encode()).hexdigest(), signature=None, ledger_index=None))
    return out
