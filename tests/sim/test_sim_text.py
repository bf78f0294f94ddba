"""Simulated posts: what channels write about own-side blasts and strikes on named facilities."""

from __future__ import annotations

import numpy as np

from trucewatch.sim.text import RUMOUR_SHARE, posts_for_events, report_type
from trucewatch.sources.text import extract_claims


def test_demining_is_announced_and_a_share_rumoured_as_shelling() -> None:
    rng = np.random.default_rng(5)
    types = [report_type("own_side_blast", rng) for _ in range(2000)]
    share = types.count("shelling") / len(types)
    assert set(types) == {"demining", "shelling"} and abs(share - RUMOUR_SHARE) < 0.04
    assert report_type("fire", rng) == "shelling" and report_type("weapon_presence", rng) is None
    ev = {"id": "b1", "t": 1773540000.0, "lat": 48.60, "lon": 37.40, "type": "demining"}
    recs = posts_for_events([ev], np.random.default_rng(1))
    claims, _ = extract_claims([{k: v for k, v in r.items() if k != "truth"} for r in recs])
    assert claims and all(c.event_type == "non_event" for c in claims)  # the stage reads them as announcements


def test_a_strike_on_a_facility_is_reported_by_its_town() -> None:
    """The Volgograd refinery: posts name Volgograd (a large city), not a village across the river."""
    ev = {"id": "s1", "t": 1773540000.0, "lat": 48.6447, "lon": 44.4633, "type": "drone_strike"}
    village = posts_for_events([ev], np.random.default_rng(2))
    town = posts_for_events([{**ev, "facility": "Volgograd refinery"}], np.random.default_rng(2))
    names = ("olgograd", "olhohrad", "олгоград")
    assert not any(n in r["text"] for r in village for n in names)
    assert all(any(n in r["text"] for n in names) for r in town)
