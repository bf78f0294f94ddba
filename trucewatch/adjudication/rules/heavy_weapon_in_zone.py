"""Heavy weapon inside its withdrawal zone (``heavy_weapon_in_zone``)."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import shapely

from trucewatch.adjudication.columns import EventColumns
from trucewatch.adjudication.rules.common import (
    AdjudicationConfig,
    Hit,
    PerRule,
    _boundary_lower,
    _fmt,
    _unlocated,
    side_certainty,
    side_probabilities,
)
from trucewatch.adjudication.uncertain import p_where
from trucewatch.model import UNDETERMINED, Rule


def heavy_weapon_in_zone(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    """P(weapon inside its withdrawal zone): the sighting's ellipse mass in the zone."""
    hits: list[Hit] = []
    idx = cand[(cols.kind[cand] == "weapon_presence")]
    idx = idx[np.array([cols.weapon_class[e] is not None for e in idx], bool)] if len(idx) else idx
    if len(idx) == 0:
        return hits
    thr = cfg.threshold(Rule.HEAVY_WEAPON_IN_ZONE)
    side, dist, _ = side_certainty(agreement, cols.lat[idx], cols.lon[idx], cols.err[idx])
    maj, mn, az = cols.ellipse(idx)
    e_, n_ = agreement.frame.to_en(cols.lat[idx], cols.lon[idx])
    e_, n_ = np.atleast_1d(e_), np.atleast_1d(n_)
    applies = set(rule.applies_to)
    wcs = {c: agreement.weapon_class_of(str(c)) for c in set(cols.weapon_class[idx].tolist())}
    cls_id = np.array([wcs[c].id if wcs[c] is not None else "" for c in cols.weapon_class[idx].tolist()], dtype=object)
    done = np.zeros(len(idx), bool)
    for z in agreement.zones:
        if z.kind != "withdrawal" or z.weapon_class is None:
            continue
        cz = np.flatnonzero((cls_id == z.weapon_class) & ~done)
        if len(cz) == 0:
            continue
        inside = shapely.contains_xy(z.geometry_en, e_[cz], n_[cz])
        # a cheap lower bound of the distance to the zone's edge; exact only for rows outside
        lower = _boundary_lower(agreement, f"zone:{z.id}", z.geometry_en, e_[cz], n_[cz])
        judged = inside | (lower <= maj[cz])  # inside, or the 95 % ellipse may reach the zone
        cz, inside, lower = cz[judged], inside[judged], lower[judged]
        dz = lower.copy()
        out = np.flatnonzero(~inside)
        if len(out):
            dz[out] = shapely.distance(z.geometry_en.boundary, shapely.points(e_[cz[out]], n_[cz[out]]))
        keep = inside | (dz <= maj[cz])
        cz, inside, lower, dz = cz[keep], inside[keep], lower[keep], dz[keep]
        if len(cz) == 0:
            continue
        p_all = p_where(partial(shapely.contains_xy, z.geometry_en), lower, e_[cz], n_[cz], maj[cz],
                        mn[cz], az[cz])
        sp = side_probabilities(agreement, cols.lat[idx[cz]], cols.lon[idx[cz]], maj[cz], mn[cz], az[cz])
        for kk, (k, dzk, pk) in enumerate(zip(cz.tolist(), dz.tolist(), p_all.tolist(), strict=True)):
            e = int(idx[k])
            wc = wcs[cols.weapon_class[e]]
            if applies and wc.id not in applies and cols.weapon_class[e] not in applies:
                continue
            done[k] = pk >= thr  # judged in one zone only once it is a finding there
            zparty = z.party or (side[k] or UNDETERMINED)
            where = "inside" if inside[kk] else f"{dzk:,.0f} m outside"
            reasons = [f"Heavy weapon in its withdrawal zone: {cols.weapon_class[e]} ({wc.id}, to be kept "
                       f"{wc.distance_km:g} km from the line) seen at {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}, "
                       f"{dist[k] / 1000:.1f} km from the line, {where} zone {z.id}; probability that it is inside "
                       f"{pk:.3f}."]
            p_party = float(sp[zparty][kk]) if zparty in sp else 0.0
            if side[k] == zparty and p_party >= cfg.attribution_min_p:
                party = zparty
                reasons.append(f"Attributed to {party}: the sighting lies on {party}'s side with probability "
                               f"{p_party:.3f}.")
            else:
                party = UNDETERMINED
                reasons.append(f"Party undetermined: the sighting lies on {zparty}'s side with probability "
                               f"{p_party:.3f} only (needs {cfg.attribution_min_p:g}): its 95 % ellipse reaches "
                               "the line.")
            h = Hit(e, rule.id, Rule.HEAVY_WEAPON_IN_ZONE, party, float(cols.conf[e] * pk), reasons,
                    {"zone": z.id, "weapon_class": wc.id, "sighting_class": str(cols.weapon_class[e]),
                     "p_geometry": round(pk, 4)}, p_geometry=pk)
            hits.append(h if pk >= thr else _unlocated(h, thr, f"it is inside zone {z.id}"))
    return hits


RULE = PerRule("heavy_weapon_in_zone", "a heavy weapon seen inside the zone it must be withdrawn from", heavy_weapon_in_zone)
