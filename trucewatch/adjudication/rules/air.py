"""Air rules (``flight_across_line``, ``launch_from_territory``): one module for both because
they share the tracks' origins, sides and crossings, computed once per pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from trucewatch.adjudication.columns import EventColumns
from trucewatch.adjudication.rules.common import (
    AdjudicationConfig,
    Hit,
    _fmt,
    side_certainty,
)
from trucewatch.adjudication.uncertain import p_within_disc
from trucewatch.geo import CHI2_95_2D
from trucewatch.model import UNDETERMINED, Rule


def _track_origin(cols: EventColumns, cfg: AdjudicationConfig, e: int) -> tuple[float, float, float] | None:
    if cols.has_origin[e]:
        return float(cols.olat[e]), float(cols.olon[e]), float(cols.oerr[e])
    p = cols.path[e]
    if p is not None and len(p):
        return float(p[0][1]), float(p[0][0]), cfg.track_origin_err_m
    return None


def air_rules(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rules: dict[Rule, list[Any]], cand: np.ndarray) -> list[Hit]:
    hits: list[Hit] = []
    idx = cand[cols.kind[cand] == "flight"]
    if len(idx) == 0:
        return hits
    origins = [_track_origin(cols, cfg, int(e)) for e in idx]
    have = np.array([o is not None for o in origins], bool)
    olat = np.array([o[0] if o else np.nan for o in origins])
    olon = np.array([o[1] if o else np.nan for o in origins])
    oerr = np.array([o[2] if o else np.nan for o in origins])
    oside = np.full(len(idx), "", object)
    odist = np.zeros(len(idx))
    osure = np.zeros(len(idx), bool)
    if have.any():
        s, d, u = side_certainty(agreement, olat[have], olon[have], oerr[have])
        oside[have], odist[have], osure[have] = s, d, u
    eside = agreement.side_of(cols.lat[idx], cols.lon[idx])
    # path crossing: one vectorized intersects over all tracks with a path
    crosses = np.zeros(len(idx), bool)
    with_path = [k for k, e in enumerate(idx.tolist()) if cols.path[e] is not None]
    if with_path:
        coords = [cols.path[idx[k]] for k in with_path]
        lens = np.array([len(c) for c in coords])
        allc = np.concatenate(coords)
        ee, nn = agreement.frame.to_en(allc[:, 1], allc[:, 0])
        lines = shapely.linestrings(np.column_stack([ee, nn]), indices=np.repeat(np.arange(len(coords)), lens))
        crosses[with_path] = shapely.intersects(lines, agreement.line_en)
    # without a path, the sides of the origin and the end decide
    no_path = np.ones(len(idx), bool)
    no_path[with_path] = False
    crosses |= no_path & (oside != "") & (eside != "") & (oside != eside)
    for k, e in enumerate(idx.tolist()):
        cls = str(cols.classification[e] or "unknown")
        track_txt = (f"{cls} track from {_fmt(olat[k], olon[k], oerr[k]) if have[k] else 'an unknown origin'} "
                     f"to {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}")
        if have[k] and osure[k]:
            party = str(oside[k])
            why = f"Attributed to {party}: the track starts on {party}'s side beyond its uncertainty."
        else:
            party = UNDETERMINED
            why = ("Party undetermined: the track's origin is unknown or its uncertainty reaches the line"
                   if have[k] else "Party undetermined: the track has no origin.")
        org = (float(olat[k]), float(olon[k]), float(oerr[k])) if have[k] else None
        if crosses[k] and cls in cfg.military_classes:
            for r in rules.get(Rule.FLIGHT_ACROSS_LINE, []):
                hits.append(Hit(e, r.id, Rule.FLIGHT_ACROSS_LINE, party, float(cols.conf[e]),
                                [f"Military flight across the contact line: {track_txt}.", why],
                                {"classification": cls, "intercepted": bool(cols.intercepted[e])}, org))
        if cls in cfg.long_range_classes and have[k] and oside[k]:
            for r in rules.get(Rule.LAUNCH_FROM_TERRITORY, []):
                extra = []
                if r.applies_to:
                    j, d = agreement.nearest_protected(cols.lat[e : e + 1], cols.lon[e : e + 1], list(r.applies_to))
                    if j[0] < 0 or cols.intercepted[e]:
                        continue
                    obj = agreement.protected[int(j[0])]
                    if d[0] > obj.radius_m + cols.err[e]:
                        continue
                    # the end point within the object's radius given its uncertainty, as for strikes
                    p_end = float(p_within_disc(d[:1], np.array([obj.radius_m]),
                                                np.array([max(cols.err[e], 1.0) / CHI2_95_2D]))[0])
                    if p_end < cfg.threshold(Rule.STRIKE_ON_PROTECTED_OBJECT):
                        continue
                    extra = [f"The track ends {d[0]:,.0f} m from {obj.name} ({obj.category}); probability that it "
                             f"ended within the radius {p_end:.3f}."]
                hits.append(Hit(e, r.id, Rule.LAUNCH_FROM_TERRITORY, party, float(cols.conf[e]),
                                [f"Launch of a {cls} from {oside[k]}-held territory: {track_txt}.", *extra, why],
                                {"classification": cls, "intercepted": bool(cols.intercepted[e])}, org))
    return hits


@dataclass(frozen=True)
class AirRules:
    name: str = "air"
    description: str = ("military flights across the line; launches of missiles and long-range drones from a "
                        "party's territory")
    kinds: tuple[str, ...] = (Rule.FLIGHT_ACROSS_LINE.value, Rule.LAUNCH_FROM_TERRITORY.value)

    def evaluate(self, cols: EventColumns, agreement: Any, cfg: AdjudicationConfig,
                 by_kind: dict[Rule, list[Any]], cand: np.ndarray) -> list[Hit]:
        return air_rules(cols, agreement, cfg, by_kind, cand)


RULE = AirRules()
