"""Reads behind the air and sea map layers (``trucewatch.report.layers``): observations of
one kind in a window, the tracks counted by class in SQL, and the incidents' positions.

The dialect branch lives here: SQLite's JSON functions fail a whole statement on a row
whose attributes hold NaN (Python's json lets it through), so on SQLite such rows are
read apart and counted by the caller; PostgreSQL refuses them when they are written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, func, not_, select, type_coerce

from trucewatch.model import Observation, ObservationKind
from trucewatch.store import schema as S
from trucewatch.store.store import Store, _row_obs

OBS = S.observations
Bbox = tuple[float, float, float, float]


def _where(store: Store, q: Any, t_from: float | None, t_to: float | None, bbox: Bbox | None) -> Any:
    if t_from is not None:
        q = q.where(OBS.c.t >= t_from)
    if t_to is not None:
        q = q.where(OBS.c.t < t_to)
    if bbox is not None:
        q = store._bbox_filter(q, OBS, "obs_rtree", bbox)
    return q


def newest_of_kind(store: Store, kind: ObservationKind, t_from: float | None, t_to: float | None,
                   bbox: Bbox | None, limit: int) -> tuple[list[Observation], bool]:
    """Observations of ``kind`` in the window, newest first, at most ``limit`` (and whether more exist)."""
    q = _where(store, select(OBS).where(OBS.c.kind == kind.value), t_from, t_to, bbox)
    q = q.order_by(OBS.c.t.desc(), OBS.c.id).limit(limit + 1)
    with store.engine.connect() as c:
        rows = [_row_obs(r) for r in c.execute(q).mappings()]
    return rows[:limit], len(rows) > limit


def track_classes(store: Store, t_from: float | None, t_to: float | None, bbox: Bbox | None,
                  max_odd: int) -> tuple[list[tuple[Any, Any, int]], list[str]]:
    """(classification, intercepted, count) of the air tracks in the window, grouped in SQL, and
    the raw attribute text of up to ``max_odd`` tracks SQL could not read (counted by the caller)."""
    cls = OBS.c.attributes["classification"].as_string()
    icp = OBS.c.attributes["intercepted"].as_string()  # not as_boolean: a bad value must not fail the cast
    kind = OBS.c.kind == ObservationKind.AIR_TRACK.value
    q = _where(store, select(cls, icp, func.count()).where(kind), t_from, t_to, bbox)
    odd: list[str] = []
    with store.engine.connect() as c:
        if store.dialect == "sqlite":
            valid = func.json_valid(type_coerce(OBS.c.attributes, Text)) == 1
            q = q.where(valid)
            bad = _where(store, select(type_coerce(OBS.c.attributes, Text)).where(kind, not_(valid)), t_from, t_to,
                         bbox)
            odd = [text for (text,) in c.execute(bad.limit(max_odd)).all()]
        groups = [(k, i, int(n)) for k, i, n in c.execute(q.group_by(cls, icp)).all()]
    return groups, odd


def incident_positions(store: Store, t_from: float | None, t_to: float | None, bbox: Bbox | None,
                       limit: int) -> list[tuple[float, float, Any]]:
    """(lat, lon, attributes as stored text) of up to ``limit`` vessel incidents in the window."""
    q = _where(store, select(OBS.c.lat, OBS.c.lon, type_coerce(OBS.c.attributes, Text))
               .where(OBS.c.kind == ObservationKind.VESSEL_INCIDENT.value), t_from, t_to, bbox)
    with store.engine.connect() as c:
        return [(float(la), float(lo), t) for la, lo, t in c.execute(q.limit(limit)).all()]
