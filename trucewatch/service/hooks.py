"""Pipeline hooks for ``pipeline:`` in the service config (run after each ingest).

``process_window`` runs the batch pipeline (trucewatch.pipeline.process: fuse,
adjudicate, advance the workflow) over the time window around the newly
accepted observations, so a finding can reach ``verified`` seconds after the
observation that completes its evidence is posted; the alert watcher then
tells subscribers.
"""

from __future__ import annotations

from typing import Any

from trucewatch.pipeline import process
from trucewatch.store.service import ServiceReads

#: Fusion looks this far either side of the new observations (launch-impact
#: pairs, reports arriving hours after the event).
WINDOW_S = 3 * 3600.0


def process_window(store: Any, agreement: Any, ids: list[str]) -> dict[str, Any] | None:
    if agreement is None or not ids:
        return None
    span = ServiceReads(store).observation_time_range(ids)
    if span is None:
        return None
    return process(store, agreement, t_from=span[0] - WINDOW_S, t_to=span[1] + WINDOW_S).as_dict()
