"""Adjudication: events judged against the agreement's rules, and the
verification workflow that takes a finding from detected to confirmed or
dismissed (trucewatch.adjudication.workflow)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trucewatch.adjudication.columns import EventColumns, from_events
from trucewatch.adjudication.rules import AdjudicationConfig, evaluate, to_violations, violation_id
from trucewatch.model import Event, Observation, Violation

if TYPE_CHECKING:
    from trucewatch.agreement import Agreement


class AdjudicationInputError(ValueError):
    """Events that cannot be judged (named with the field)."""


def adjudicate(events: list[Event], observations: dict[str, Observation], agreement: Agreement,
               config: AdjudicationConfig | None = None) -> list[Violation]:
    """Violations of the agreement's rules by ``events`` (only while it is active).

    ``observations`` maps id to observation for the events' members (their
    evidence and attributes).  An event naming an observation that is not
    given is an error naming both, never a silent guess.
    """
    config = config or AdjudicationConfig()
    cols, problems = from_events(list(events), observations)
    if problems:
        raise AdjudicationInputError(f"{len(problems)} problem(s):\n" + "\n".join(f"  {p}" for p in problems[:50]))
    locs = {e.id: (e.location, e.origin) for e in events}
    out = to_violations(evaluate(cols, agreement, config), cols, locs)
    out.sort(key=lambda v: (v.time, v.id))
    return out


__all__ = ["AdjudicationConfig", "AdjudicationInputError", "EventColumns", "adjudicate", "evaluate",
           "from_events", "to_violations", "violation_id"]
