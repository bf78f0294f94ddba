"""Interference with the monitors (``interference_with_monitors``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from trucewatch.adjudication.columns import EventColumns
from trucewatch.adjudication.rules.common import (
    AdjudicationConfig,
    Hit,
    PerRule,
    _fmt,
)
from trucewatch.model import UNDETERMINED, Rule


def interference(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    hits: list[Hit] = []
    for e in cand[cols.kind[cand] == "interference"].tolist():
        party, why = UNDETERMINED, "Party undetermined: the observations do not say where the interference came from."
        where = None
        areas = cols.affected_area[e]
        if areas:
            try:
                geom = shapely.union_all([shape(a) for a in areas])
            except Exception as exc:  # a broken polygon is reported, not guessed around
                why = f"Party undetermined: affected_area is not a valid GeoJSON polygon ({exc})."
                geom = None
            if geom is not None and not geom.is_empty:
                g_en = agreement.frame.geom_to_en(geom)
                c = g_en.centroid
                radius = float(shapely.hausdorff_distance(shapely.points(c.x, c.y), g_en.boundary))
                clat, clon = agreement.frame.to_latlon(c.x, c.y)
                where = (float(clat), float(clon), max(radius, 1.0))
                on = [p for p, a in agreement.areas_en.items() if a.contains(g_en)]
                if len(on) == 1:
                    party = on[0]
                    why = f"Attributed to {party}: the whole area the interference came from lies on {party}'s side."
                else:
                    why = "Party undetermined: the area the interference may come from spans both sides."
        place = (f"; the interference comes from within {_fmt(*where)}" if where else "")
        hits.append(Hit(e, rule.id, Rule.INTERFERENCE_WITH_MONITORS, party, float(cols.conf[e]),
                        [f"Interference with the monitors near {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}{place}.",
                         why], location=where))
    return hits


RULE = PerRule("interference_with_monitors", "interference with the monitors' drones or sensors", interference)
