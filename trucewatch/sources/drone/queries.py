"""Questions asked of the drone state (``trucewatch drone seen`` and ``sites``), as plain functions.

Why: the answers (was a place observed well enough, what each declared site holds)
are the drone stage's, not the command line's; the CLI only parses and prints.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trucewatch.sources.drone.coverage import required_gsd
from trucewatch.sources.drone.sites import Site, check_sites
from trucewatch.sources.drone.state import DroneState


def seen_at(state: DroneState, lat: float, lon: float, t_from: float | None, t_to: float | None,
            cls: str) -> dict[str, Any]:
    """Whether (lat, lon) was observed in [t_from, t_to] (None: open) at a resolution good enough
    for ``cls``, by which flight first, and the best ground resolution any flight had there."""
    a = -math.inf if t_from is None else t_from
    b = math.inf if t_to is None else t_to
    need = required_gsd(cls)
    best, first, by = math.inf, math.nan, None
    for fid in state.flight_ids():
        fs = state.frames(fid)
        s, g, f = fs.seen(np.array([lat], float), np.array([lon], float), a, b, need)
        if g[0] < best:
            best = float(g[0])
        if s[0] and not (first <= f[0]):
            first, by = float(f[0]), fid
    return {"required_gsd_m": need, "observed": by is not None, "first_time": first if by else None,
            "flight_id": by, "best_gsd_m": None if math.isinf(best) else round(best, 3)}


def site_status(state: DroneState, declared: list[Site], t_from: float | None, t_to: float | None, *,
                all_visits: bool = False) -> list[dict[str, Any]]:
    """Per declared site and class: declared, seen, status; the latest visit only unless
    ``all_visits``, and ``not_visited`` for what no flight covered.  Sorted by site, class."""
    fids = state.flight_ids()
    framesets = [state.frames(f) for f in fids]
    sightings = [o for f in fids for o in state.observations(f) if o.kind.value == "weapon_sighting"]
    recs = check_sites(declared, framesets, sightings, -math.inf if t_from is None else t_from,
                       math.inf if t_to is None else t_to)
    if not all_visits:
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for r in recs:
            k = (r["site_id"], r["class"])
            if k not in latest or (r["visit_to"] or 0) > (latest[k]["visit_to"] or 0):
                latest[k] = r
        recs = list(latest.values())
        seen_keys = set(latest)
        for s in declared:
            for it in s.inventory:
                if (s.id, it.cls) not in seen_keys:
                    recs.append({"site_id": s.id, "site_name": s.name, "party": s.party, "class": it.cls,
                                 "declared": it.count, "seen": 0, "status": "not_visited", "flight_id": None})
    recs.sort(key=lambda r: (r["site_id"], r["class"]))
    return recs


__all__ = ["seen_at", "site_status"]
