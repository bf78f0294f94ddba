"""Adjudication: events judged against the agreement's rules, and the
verification workflow that takes a finding from detected to confirmed or
dismissed (trucewatch.adjudication.workflow)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trucewatch.adjudication.columns import EventColumns, from_events
from trucewatch.adjudication.rules import AdjudicationConfig, Hit, evaluate, evaluate_all, to_violations, violation_id
from trucewatch.errors import TruceWatchError
from trucewatch.model import Event, Observation, Violation

if TYPE_CHECKING:
    from trucewatch.agreement import Agreement


class AdjudicationInputError(TruceWatchError, ValueError):
    """Events that cannot be judged (named with the field)."""


def adjudicate(events: list[Event], observations: dict[str, Observation], agreement: Agreement,
               config: AdjudicationConfig | None = None, *, mark: bool = True) -> list[Violation]:
    """Violations of the agreement's rules by ``events`` (only while it is active).

    ``observations`` maps id to observation for the events' members (their
    evidence and attributes).  An event naming an observation that is not
    given is an error naming both, never a silent guess.  With ``mark`` the
    events get their unlocated claims (:func:`mark_unlocated`) before they are saved.
    """
    config = config or AdjudicationConfig()
    cols, problems = from_events(list(events), observations)
    if problems:
        raise AdjudicationInputError(f"{len(problems)} problem(s):\n" + "\n".join(f"  {p}" for p in problems[:50]))
    locs = {e.id: (e.location, e.origin) for e in events}
    hits, unlocated = evaluate_all(cols, agreement, config)
    if mark:
        mark_unlocated(events, unlocated, cols)
    out = to_violations(hits, cols, locs)
    out.sort(key=lambda v: (v.time, v.id))
    return out


#: Prefix of the explanation line that marks an unlocated claim (replaced, not repeated, on re-adjudication).
UNLOCATED_NOTE = "unlocated claim:"


def mark_unlocated(events: list[Event], unlocated: list[Hit], cols: EventColumns) -> None:
    """Keep too-uncertain claims visible to analysts: ``attributes.unlocated_claim``
    lists each rule it may meet with the probability, and the explanation says so.
    They are neither violations nor counted in reports.  Save the events after this."""
    by_event: dict[str, list[dict[str, object]]] = {}
    for h in unlocated:
        by_event.setdefault(str(cols.ids[h.event]), []).append(
            {"rule": h.rule.value, "rule_id": h.rule_id, "p_geometry": round(float(h.p_geometry), 4),
             "reason": h.reasons[0], **{k: v for k, v in h.attributes.items() if k in ("protected_object", "zone")}})
    for ev in events:
        claims = by_event.get(ev.id)
        ev.explanation = [x for x in ev.explanation if not x.startswith(UNLOCATED_NOTE)]
        if not claims:
            ev.attributes.pop("unlocated_claim", None)
            continue
        ev.attributes["unlocated_claim"] = claims
        for c in claims:
            ev.explanation.append(f"{UNLOCATED_NOTE} {c['reason']}")


__all__ = ["AdjudicationConfig", "AdjudicationInputError", "EventColumns", "adjudicate", "evaluate", "evaluate_all",
           "from_events", "mark_unlocated", "to_violations", "violation_id"]
