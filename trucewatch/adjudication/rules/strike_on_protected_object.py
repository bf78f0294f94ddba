"""Strike on a protected object (``strike_on_protected_object``)."""

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
    _unlocated,
    side_probabilities,
)
from trucewatch.adjudication.uncertain import p_within_disc_ellipse
from trucewatch.model import UNDETERMINED, Rule


def _origin_parties(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, events: np.ndarray,
                    contra: dict[int, str]) -> dict[int, tuple[str, str]]:
    """(party, reason) per event from its origin, all events at once."""
    out: dict[int, tuple[str, str]] = {}
    have = events[cols.has_origin[events]]
    info: dict[int, tuple[str, float]] = {}
    if len(have):
        maj, mn, az = cols.ellipse(have, origin=True)
        sides, best = _best_side(side_probabilities(agreement, cols.olat[have], cols.olon[have], maj, mn, az), len(have))
        info = {int(e): (str(sides[k]), float(best[k])) for k, e in enumerate(have.tolist())}
    for e in events.tolist():
        if e not in info:
            out[e] = (UNDETERMINED, "Party undetermined: no evidence locates where the strike came from.")
            continue
        side, p = info[e]
        if e in contra:
            out[e] = (UNDETERMINED, f"Party undetermined: {contra[e]}.")
        elif not side or p < cfg.attribution_min_p:
            out[e] = (UNDETERMINED, f"Party undetermined: the origin lies on {side or 'no party'}'s side with "
                                    f"probability {p:.3f} only (needs {cfg.attribution_min_p:g}): its 95 % "
                                    f"ellipse ({cols.oerr[e]:,.0f} m) reaches the line or leaves both areas.")
        else:
            out[e] = (side, f"Attributed to {side}: the origin {_fmt(cols.olat[e], cols.olon[e], cols.oerr[e])} "
                            f"lies on {side}'s side with probability {p:.3f}.")
    return out


def strike_on_protected(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    """P(impact within the object's protected radius): the event's error ellipse
    integrated over the disc (non-central chi-square when circular)."""
    hits: list[Hit] = []
    idx = cand[np.isin(cols.kind[cand], cfg.strike_kinds) & cols.impact_known[cand]]
    idx = idx[~cols.intercepted[idx]]
    if len(cols.effect_only) == len(cols):
        # reports of a fire or damage (or of nothing) that claim no attack: no evidence of a strike
        idx = idx[~cols.effect_only[idx]]
    if len(idx) == 0 or not agreement.protected:
        return hits
    thr = cfg.threshold(Rule.STRIKE_ON_PROTECTED_OBJECT)
    cats = list(rule.applies_to) or None
    j, d = agreement.nearest_protected(cols.lat[idx], cols.lon[idx], cats)
    ok = j >= 0
    radius = np.array([agreement.protected[x].radius_m if x >= 0 else 0.0 for x in j])
    maj, mn, az = cols.ellipse(idx)
    reach = ok & (d <= radius + maj)  # the 95 % ellipse reaches the object: judged
    if not reach.any():
        return hits
    r_idx = np.flatnonzero(reach)
    objs = j[r_idx]
    plat = np.array([agreement.protected[x].lat for x in objs])
    plon = np.array([agreement.protected[x].lon for x in objs])
    # offset of the estimate from the object (east, north; local tangent plane)
    de = np.radians(cols.lon[idx[r_idx]] - plon) * 6_371_008.8 * np.cos(np.radians(plat))
    dn = np.radians(cols.lat[idx[r_idx]] - plat) * 6_371_008.8
    scale = d[r_idx] / np.maximum(np.hypot(de, dn), 1e-9)  # keep the haversine distance exactly
    p_in = np.zeros(len(idx))
    p_in[r_idx] = p_within_disc_ellipse(de * scale, dn * scale, radius[r_idx], maj[r_idx], mn[r_idx], az[r_idx])
    raised = reach & (p_in >= thr)
    contra = _contradictions(cols, agreement, idx[raised])
    org = _origin_parties(cols, agreement, cfg, idx[raised], contra)
    for k in r_idx.tolist():
        e = int(idx[k])
        obj = agreement.protected[int(j[k])]
        p = float(p_in[k])
        party, why = org.get(e, (UNDETERMINED, "Party undetermined: not judged (too uncertain to be a finding)."))
        what = {"flight": "a flight ended", "fire_thermal": "a fire was seen"}.get(str(cols.kind[e]), "a strike landed")
        reasons = [f"Strike on a protected object: {what} at {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}, "
                   f"{d[k]:,.0f} m from {obj.name} ({obj.category}, protected radius {obj.radius_m:,.0f} m); "
                   f"probability that it landed within the radius {p:.3f}.", why]
        if cols.kind[e] == "fire_thermal":
            reasons.append("Only a thermal anomaly shows it: a fire, not proof of a strike, until corroborated.")
        h = Hit(e, rule.id, Rule.STRIKE_ON_PROTECTED_OBJECT, party, float(cols.conf[e] * p), reasons,
                {"protected_object": obj.id, "distance_m": round(float(d[k]), 1), "p_geometry": round(p, 4)},
                p_geometry=p)
        hits.append(h if raised[k] else _unlocated(h, thr, f"it landed within {obj.radius_m:,.0f} m of {obj.name}"))
    return hits


RULE = PerRule("strike_on_protected_object", "a strike that landed within a protected object's radius", strike_on_protected)
