"""Fire across the contact line (``fire_across_line``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from trucewatch.adjudication.columns import EventColumns
from trucewatch.adjudication.rules.common import (
    AdjudicationConfig,
    Hit,
    PerRule,
    _best_side,
    _contradictions,
    _fmt,
    _line_distance,
    _unlocated,
    p_near_line,
    side_probabilities,
)
from trucewatch.model import UNDETERMINED, Rule


def fire_across_line(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    """Fire across the line: P(origin on one side and impact on the other) when the
    launch is located; P(impact within ``unknown_origin_max_km`` of the line) when not."""
    hits: list[Hit] = []
    idx = cand[np.isin(cols.kind[cand], cfg.fire_kinds) & cols.impact_known[cand]]
    if len(idx) == 0:
        return hits
    thr = cfg.threshold(Rule.FIRE_ACROSS_LINE)
    amin = cfg.attribution_min_p
    imaj, imin, iaz = cols.ellipse(idx)
    contra = _contradictions(cols, agreement, idx)
    with_o = cols.has_origin[idx]
    # side probabilities where a crossing is in question (a located launch); elsewhere the
    # impact's side only names where it is
    iside = agreement.side_of(cols.lat[idx], cols.lon[idx])
    ip = {p: (iside == p).astype(float) for p in agreement.parties}
    op = {p: np.zeros(len(idx)) for p in agreement.parties}
    if with_o.any():
        w = np.flatnonzero(with_o)
        omaj, omin, oaz = cols.ellipse(idx[w], origin=True)
        for b, v in side_probabilities(agreement, cols.olat[idx[w]], cols.olon[idx[w]], omaj, omin, oaz).items():
            op[b][w] = v
        for b, v in side_probabilities(agreement, cols.lat[idx[w]], cols.lon[idx[w]], imaj[w], imin[w], iaz[w]).items():
            ip[b][w] = v
    oside, obest = _best_side(op, len(idx))
    # P(crossing): origin on one side, impact on another (independent errors)
    p_cross = np.zeros(len(idx))
    for a in agreement.parties:
        for b in agreement.parties:
            if a != b:
                p_cross += op[a] * ip[b]
    limit = cfg.unknown_origin_max_km * 1000.0
    p_near = np.zeros(len(idx))
    idist = np.zeros(len(idx))
    no_o = np.flatnonzero(~with_o)
    if len(no_o):
        p_near[no_o], idist[no_o] = p_near_line(agreement, cols.lat[idx[no_o]], cols.lon[idx[no_o]], imaj[no_o],
                                                imin[no_o], iaz[no_o], limit)
    if with_o.any():
        idist[with_o] = _line_distance(agreement, cols.lat[idx[with_o]], cols.lon[idx[with_o]])
    is_contra = np.array([int(e) in contra for e in idx], bool)
    # an explosion alone (launch or impact unknown, perhaps a demolition) is no evidence of fire across
    # nor are reports of a fire or damage that claim no attack (a warehouse burning)
    no_fire = cols.explosion_only[idx] | (cols.effect_only[idx] if len(cols.effect_only) else False)
    # nor is a fire seen from space that the reports call a fire, not an attack (a field burning)
    no_fire = no_fire | (cols.heat_effect_only[idx] if len(cols.heat_effect_only) else False)
    across = with_o & (oside != "") & (iside != "") & (oside != iside)
    # the old point-estimate trigger or a crossing likely enough: judged; the rest never was a claim
    reach_near = ~with_o & (idist - imaj <= limit) & (iside != "") & ~no_fire
    maybe = across | is_contra | (with_o & (p_cross >= thr)) | reach_near
    for k in np.flatnonzero(maybe).tolist():
        e = int(idx[k])
        reasons: list[str] = []
        conf = float(cols.conf[e])
        impact_txt = (f"impact at {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}, "
                      f"{idist[k] / 1000:.1f} km from the line on {iside[k] or 'no party'}'s side")
        if e in contra and not (with_o[k] and p_cross[k] >= thr):
            reasons.append(f"Possible fire across the contact line: {impact_txt}.")
            reasons.append(f"Party undetermined: {contra[e]}.")
            hits.append(Hit(e, rule.id, Rule.FIRE_ACROSS_LINE, UNDETERMINED, conf * 0.5, reasons,
                            {"impact_side": str(iside[k]), "contradictory": True}))
        elif with_o[k]:
            origin_txt = (f"launch at {_fmt(cols.olat[e], cols.olon[e], cols.oerr[e])} on "
                          f"{oside[k] or 'no party'}'s side")
            p = float(p_cross[k])
            reasons += [f"Fire across the contact line: {origin_txt}; {impact_txt}; probability that it crossed "
                        f"the line {p:.3f}."]
            party = str(oside[k])
            other_p = max((float(ip[b][k]) for b in agreement.parties if b != party), default=0.0)
            if e in contra:
                party = UNDETERMINED
                reasons.append(f"Party undetermined: {contra[e]}.")
            elif obest[k] < amin:
                party = UNDETERMINED
                reasons.append(f"Party undetermined: the launch lies on {oside[k] or 'no party'}'s side with "
                               f"probability {obest[k]:.3f} only (needs {amin:g}): its 95 % ellipse "
                               f"({cols.oerr[e]:,.0f} m) reaches the line or leaves both parties' areas.")
            elif other_p < amin:
                party = UNDETERMINED
                reasons.append(f"Party undetermined: the impact lies across the line with probability "
                               f"{other_p:.3f} only (needs {amin:g}), so the fire may not have crossed it.")
            else:
                reasons.append(f"Attributed to {party}: the launch lies on {party}'s side with probability "
                               f"{obest[k]:.3f}.")
            h = Hit(e, rule.id, Rule.FIRE_ACROSS_LINE, party, conf * p, reasons,
                    {"origin_side": str(oside[k]), "impact_side": str(iside[k]), "p_crossing": round(p, 4),
                     "p_geometry": round(p, 4)}, p_geometry=p)
            hits.append(h if p >= thr else _unlocated(h, thr, "the fire crossed the line"))
        else:
            p = float(p_near[k])
            reasons.append(f"Fire near the contact line with no located launch: {impact_txt}; probability that "
                           f"it lies within {cfg.unknown_origin_max_km:g} km of the line {p:.3f}.")
            party = UNDETERMINED
            if e in contra:
                reasons.append(f"Party undetermined: {contra[e]}.")
            else:
                reasons.append("Party undetermined: no evidence locates where the fire came from.")
            h = Hit(e, rule.id, Rule.FIRE_ACROSS_LINE, party, conf * p, reasons,
                    {"impact_side": str(iside[k]), "origin_known": False, "p_geometry": round(p, 4),
                     "line_distance_m": round(float(idist[k]), 1)}, p_geometry=p)
            hits.append(h if p >= thr else _unlocated(h, thr, f"it lies within {cfg.unknown_origin_max_km:g} km "
                                                              "of the line"))
    return hits


RULE = PerRule("fire_across_line", "fire whose origin and impact lie on different sides of the line, or an impact of unknown origin near it", fire_across_line)
