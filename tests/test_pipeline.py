"""The batch pipeline's own steps (trucewatch/pipeline.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from trucewatch.mechanism.mission import Mechanism
from trucewatch.model import Location, Status, Violation
from trucewatch.pipeline import _apply_prenotifications


def _square(lat: float, lon: float, d: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                [lon - d, lat + d], [lon - d, lat - d]]]}


def test_a_finding_made_after_the_window_was_accepted_is_annotated_not_a_violation(store, agreement) -> None:
    now = time.time()
    mech = Mechanism(store, agreement=agreement)
    pn = mech.prenotify(actor="liaison:UA", party="UA", kind="demining", area=_square(47.61, 37.21, 0.05),
                        t_from=now - 7200, t_to=now + 3600, description="controlled detonations")
    assert mech.decide_prenotification(pn["id"], True, actor="analyst", reason="route checked")["applied"][
        "dismissed"] == []  # nothing to annotate yet
    inside = Violation(id="pn-late", event_id="e1", rule="fire_across_line", party="UA", confidence=0.6,
                       time=datetime.fromtimestamp(now - 600, UTC), location=Location(lat=47.61, lon=37.21))
    other = Violation(id="pn-other", event_id="e2", rule="fire_across_line", party="RU", confidence=0.6,
                      time=datetime.fromtimestamp(now - 600, UTC), location=Location(lat=47.61, lon=37.21))
    store.save_violations([inside, other])
    _apply_prenotifications(store, agreement)
    assert store.get_violation("pn-late").status == Status.DISMISSED
    assert "pre-notification" in store.transitions("pn-late")[-1].reason
    assert store.get_violation("pn-other").status == Status.DETECTED  # another party's finding stays
    n = len(store.transitions("pn-late"))
    _apply_prenotifications(store, agreement)  # a second pass changes nothing
    assert len(store.transitions("pn-late")) == n
