"""Pipeline hooks for ``pipeline:`` in the service config (run after each ingest).

``process_window`` runs the batch pipeline (trucewatch.pipeline.process: fuse,
adjudicate, advance the workflow) over the time window around the newly
accepted observations, so a finding can reach ``verified`` seconds after the
observation that completes its evidence is posted; the alert watcher then
tells subscribers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from trucewatch.store import schema as S

#: Fusion looks this far either side of the new observations (launch-impact
#: pairs, reports arriving hours after the event).
WINDOW_S = 3 * 3600.0


def process_window(store: Any, agreement: Any, ids: list[str]) -> dict[str, Any] | None:
    if agreement is None or not ids:
        return None
    from trucewatch.pipeline import process

    with store.engine.connect() as c:
        lo, hi = c.execute(select(func.min(S.observations.c.t), func.max(S.observations.c.t))
                           .where(S.observations.c.id.in_(list(ids)[:5000]))).one()
    if lo is None:
        return None
    return process(store, agreement, t_from=float(lo) - WINDOW_S, t_to=float(hi) + WINDOW_S).as_dict()
