"""The air section of the daily report: launched and intercepted by type and launch area, set against
the agreement.  Returns plain dicts, so the report/dashboard stage renders them as it likes."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from trucewatch.agreement import Agreement
from trucewatch.model import Observation, ObservationKind, Rule


def air_section(observations: list[Observation], agreement: Agreement | None = None,
                findings: list[Any] | None = None) -> dict[str, Any]:
    """``by_type`` (launched, intercepted, share), ``by_area`` (mentions, launched by summaries naming it,
    the area's side and whether the agreement forbids launches from it), ``findings`` counted per rule."""
    sums = [o for o in observations if o.kind == ObservationKind.AIR_SUMMARY]
    by_type: dict[str, dict[str, Any]] = defaultdict(lambda: {"launched": 0, "intercepted": 0, "summaries": 0})
    by_area: dict[str, dict[str, Any]] = {}
    flagged = []
    for o in sums:
        a = o.attributes
        t = by_type[a.get("weapon_type", "unknown")]
        t["launched"] += int(a.get("launched") or 0)
        t["intercepted"] += int(a.get("intercepted") or 0)
        t["summaries"] += 1
        if a.get("inconsistent"):
            flagged.append({"summary_id": a.get("summary_id"), "problems": a.get("problems", [])})
        for ar in a.get("launch_areas") or []:
            key = ar.get("id") or ar.get("name")
            e = by_area.setdefault(key, {"name": ar.get("name"), "lat": ar.get("lat"), "lon": ar.get("lon"),
                                         "mentions": 0, "weapon_types": set(), "launched_in_summaries": 0})
            e["mentions"] += 1
            e["weapon_types"].add(a.get("weapon_type"))
            e["launched_in_summaries"] += int(a.get("launched") or 0)
    for t in by_type.values():
        t["intercepted_share"] = round(t["intercepted"] / t["launched"], 3) if t["launched"] else None
    forbidden = bool(agreement is not None and agreement.rules_of(Rule.LAUNCH_FROM_TERRITORY))
    areas = list(by_area.values())
    if agreement is not None and areas:
        known = [e for e in areas if e["lat"] is not None]
        if known:
            sides = agreement.side_of(np.array([e["lat"] for e in known]), np.array([e["lon"] for e in known]))
            for e, s in zip(known, sides, strict=True):
                e["side"] = str(s) or None
                e["launches_forbidden"] = forbidden and bool(s)
    for e in areas:
        e["weapon_types"] = sorted(x for x in e["weapon_types"] if x)
    per_rule: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in findings or []:
        per_rule[f.rule.value][f.party] += 1
    return {
        "summaries": len({o.attributes.get("summary_id") for o in sums}),
        "by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1]["launched"])),
        "by_area": sorted(areas, key=lambda e: -e["mentions"]),
        "inconsistent_summaries": flagged,
        "track_findings": {k: dict(v) for k, v in per_rule.items()},
        "agreement": getattr(agreement, "id", None),
    }
