"""What the stored observations cover in time and space (a repository for `trucewatch process`).

Why: a store can give 0 violations because its observations fall outside the
agreement's period or area; the pipeline reports that, and only the store runs SQL.
"""

from __future__ import annotations

import json

import numpy as np
from sqlalchemy import func, select

from trucewatch.store import schema as S
from trucewatch.store.store import Store


def observations_outside_period(store: Store, t0: float, t1: float | None) -> tuple[int, int]:
    """(observations before ``t0``, observations after ``t1``; 0 when ``t1`` is None), times in Unix seconds."""
    o = S.observations
    with store.engine.connect() as c:
        before = c.execute(select(func.count()).select_from(o).where(o.c.t < t0)).scalar()
        after = 0 if t1 is None else c.execute(select(func.count()).select_from(o).where(o.c.t > t1)).scalar()
    return int(before or 0), int(after or 0)


def observation_positions(store: Store) -> tuple[np.ndarray, np.ndarray]:
    """Every stored observation's (lat, lon) as float columns (empty arrays for an empty store)."""
    o = S.observations
    with store.engine.connect() as c:
        rows = c.execute(select(o.c.lat, o.c.lon)).all()
    if not rows:
        return np.zeros(0), np.zeros(0)
    lat, lon = (np.array(v, dtype=float) for v in zip(*rows, strict=True))
    return lat, lon


def ingest_times(store: Store) -> list[tuple[str, float]]:
    """(observation id, ingested_at) of every stored observation: ingest latency in benchmarks."""
    o = S.observations
    with store.engine.connect() as c:
        return [(r[0], r[1]) for r in c.execute(select(o.c.id, o.c.ingested_at)).all()]


def log_append_times(store: Store) -> list[float]:
    """When each log leaf was appended (Unix seconds): the integrator's lag in benchmarks."""
    leaves = S.ledger_leaves
    with store.engine.connect() as c:
        return [float(a) for (a,) in c.execute(select(leaves.c.appended_at))]


def violation_times(store: Store) -> list[tuple[str, str, float, list[dict[str, object]]]]:
    """(id, status, created_at, evidence) of every violation: alert latency in benchmarks."""
    v = S.violations
    with store.engine.connect() as c:
        rows = c.execute(select(v.c.id, v.c.status, v.c.created_at, v.c.evidence)).all()
    return [(r[0], r[1], float(r[2]), json.loads(r[3]) if isinstance(r[3], str) else list(r[3] or []))
            for r in rows]


def event_count(store: Store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(S.events)).scalar() or 0)


def backend_pids(store: Store) -> list[int]:
    """PostgreSQL server processes of this store's database (empty on SQLite): memory and CPU in benchmarks."""
    if store.dialect != "postgresql":
        return []
    with store.engine.connect() as c:
        return [int(p) for (p,) in c.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")]


__all__ = ["backend_pids", "event_count", "ingest_times", "log_append_times", "observation_positions",
           "observations_outside_period", "violation_times"]
