"""Reads the daily report makes of the core tables: observation columns for its source
sections, whether a period has data at all, and the workflow steps that corrected earlier
findings.  Plain dicts, no model validation: a 30-day read stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from trucewatch.store import schema as S
from trucewatch.store.store import Store


def observation_columns(store: Store, t_from: float, t_to: float, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """id, t, kind, lat, lon, err_major_m, attributes (decoded), source_id and source_kind of the
    observations of ``kinds`` in [t_from, t_to)."""
    O, Src = S.observations, S.sources  # noqa: E741
    q = (select(O.c.id, O.c.t, O.c.kind, O.c.lat, O.c.lon, O.c.err_major_m, O.c.attributes, O.c.source_id,
                Src.c.kind.label("source_kind"))
         .select_from(O.join(Src, Src.c.id == O.c.source_id, isouter=True))
         .where(O.c.t >= t_from, O.c.t < t_to, O.c.kind.in_(list(kinds))))
    with store.engine.connect() as c:
        rows = [dict(r) for r in c.execute(q).mappings()]
    for r in rows:
        a = r["attributes"]
        r["attributes"] = (json.loads(a) if isinstance(a, str) else a) or {}
    return rows


def has_observations(store: Store, t_from: float, t_to: float, source_kinds: set[str] | None = None) -> bool:
    """Whether an observation lies in [t_from, t_to) (from sources of ``source_kinds`` when given)."""
    O, Src = S.observations, S.sources  # noqa: E741
    q = select(O.c.id).where(O.c.t >= t_from, O.c.t < t_to)
    if source_kinds:
        q = q.select_from(O.join(Src, Src.c.id == O.c.source_id)).where(Src.c.kind.in_(sorted(source_kinds)))
    with store.engine.connect() as c:
        return c.execute(q.limit(1)).first() is not None


def corrections(store: Store, t_from: float, t_to: float, limit: int = 500) -> list[dict[str, Any]]:
    """Workflow steps in [t_from, t_to) of findings that lie before ``t_from`` (what earlier
    reports said that changed): violation_id, from_status, to_status, at, and the finding's t."""
    T, V = S.transitions, S.violations
    q = (select(T.c.violation_id, T.c.from_status, T.c.to_status, T.c.at, V.c.t)
         .select_from(T.join(V, V.c.id == T.c.violation_id))
         .where(T.c.at >= t_from, T.c.at < t_to, V.c.t < t_from, T.c.from_status.is_not(None))
         .order_by(T.c.at).limit(limit))
    with store.engine.connect() as c:
        return [dict(r) for r in c.execute(q).mappings()]
