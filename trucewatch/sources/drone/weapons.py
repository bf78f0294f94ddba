"""Weapons checks: a sighting of a weapon inside its class's withdrawal zone, on
the side of the party the zone binds, is a violation candidate (rule
``heavy_weapon_in_zone``) attributed to that party.

Vectorized over sightings: one ``side_of`` and one ``zones_containing`` call for
all of them.  A sighting whose 95 % ellipse reaches the zone's edge is still a
candidate but marked ``near_boundary`` so adjudication can weigh it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from trucewatch.agreement import Agreement
from trucewatch.model import UNDETERMINED, Observation, Rule


def check_weapons(sightings: list[Observation], agreement: Agreement, *, include_tentative: bool = False) -> list[dict[str, Any]]:
    """Violation candidates among ``sightings``; also annotates each sighting's attributes
    with ``side``, ``agreement_weapon_class`` and ``withdrawal_zone`` (None outside)."""
    if not sightings:
        return []
    rules = agreement.rules_of(Rule.HEAVY_WEAPON_IN_ZONE)
    lat = np.array([o.location.lat for o in sightings])
    lon = np.array([o.location.lon for o in sightings])
    err = np.array([o.location.err_major_m for o in sightings])
    side = agreement.side_of(lat, lon)
    dist_line = agreement.distance_to_line_m(lat, lon)
    zones = agreement.zones_containing(lat, lon, kind="withdrawal")
    e, n = agreement.frame.to_en(lat, lon)
    pts = shapely.points(e, n)
    out: list[dict[str, Any]] = []
    for i, o in enumerate(sightings):
        cls = o.attributes.get("weapon_class", "")
        wc = agreement.weapon_class_of(cls)
        o.attributes["side"] = side[i] or UNDETERMINED
        o.attributes["agreement_weapon_class"] = wc.id if wc else None
        o.attributes["withdrawal_zone"] = None
        o.attributes["distance_to_line_km"] = round(float(dist_line[i]) / 1000, 3)
        if wc is None:
            continue
        for z, inside in zones:
            if not inside[i] or z.weapon_class != wc.id or (z.party is not None and z.party != side[i]):
                continue
            o.attributes["withdrawal_zone"] = z.id
            edge = float(shapely.distance(shapely.boundary(z.geometry_en), pts[i]))
            if o.attributes.get("tentative") and not include_tentative:
                break
            out.append({
                "observation_id": o.id, "flight_id": o.attributes.get("flight_id"), "object_id": o.attributes.get("object_id"),
                "time": o.time.isoformat(), "lat": o.location.lat, "lon": o.location.lon, "err_m": round(float(err[i]), 1),
                "weapon_class": cls, "agreement_weapon_class": wc.id, "zone_id": z.id,
                "party": z.party or side[i] or UNDETERMINED, "rule": rules[0].id if rules else None,
                "distance_to_line_km": round(float(dist_line[i]) / 1000, 3), "zone_limit_km": wc.distance_km,
                "near_boundary": bool(edge < err[i]), "confidence": o.attributes.get("confidence"),
                "image_hash": o.attributes.get("image_hash"),
            })
            break
    return out if rules else []
