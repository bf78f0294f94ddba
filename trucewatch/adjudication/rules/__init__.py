"""The rules of the agreement, one module per rule behind one interface
(:class:`~trucewatch.adjudication.rules.common.RuleCheck`), in one registry.

Built-in rules are listed in :data:`BUILTIN` (the order in which their findings come);
packages add theirs through the ``trucewatch.rules`` entry point group
(:mod:`trucewatch.plugins`).  The adjudicator loops over :func:`registry`: a rule
judges the events only when the agreement names one of its kinds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trucewatch import plugins
from trucewatch.adjudication.columns import EventColumns
from trucewatch.adjudication.rules import (
    air,
    fire_across_line,
    heavy_weapon_in_zone,
    interference,
    naval,
    strike_on_protected_object,
)
from trucewatch.adjudication.rules.common import (
    GEOMETRY_THRESHOLD,
    AdjudicationConfig,
    CheckFn,
    Hit,
    PerRule,
    RuleCheck,
    p_near_line,
    p_side,
    side_certainty,
    side_probabilities,
    violation_id,
)
from trucewatch.errors import TruceWatchError
from trucewatch.model import Location, Rule, Violation, from_unix

#: The built-in rules, in the order their findings are listed.
BUILTIN: list[RuleCheck] = [fire_across_line.RULE, strike_on_protected_object.RULE, heavy_weapon_in_zone.RULE,
                            air.RULE, interference.RULE, naval.RULE]


class RuleRegistryError(TruceWatchError, ValueError):
    """A plugin rule that does not meet the interface, or that claims a kind another rule judges."""


def registry() -> list[RuleCheck]:
    """Built-in rules, then those of installed plugins (each kind judged by one rule only)."""
    out = list(BUILTIN)
    owner = {k: r.name for r in out for k in r.kinds}
    for p in plugins.load("rules"):
        r = p.value
        if not isinstance(r, RuleCheck):
            raise RuleRegistryError(f"plugin {p.entry_point!r} ({p.distribution}): {r!r} is not a rule (needs name, "
                                    "description, kinds and evaluate(cols, agreement, cfg, by_kind, cand))")
        for k in r.kinds:
            if k in owner:
                raise RuleRegistryError(f"plugin {p.entry_point!r} ({p.distribution}): rule kind {k!r} is already "
                                        f"judged by {owner[k]!r}")
            owner[k] = r.name
        out.append(r)
    return out


def describe() -> list[dict[str, Any]]:
    """Every registered rule as name, kinds and description (the CLI's and API's listing)."""
    builtin = {id(r) for r in BUILTIN}
    return [{"name": r.name, "kinds": list(r.kinds), "description": r.description,
             "plugin": id(r) not in builtin} for r in registry()]


def evaluate_all(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig) -> tuple[list[Hit], list[Hit]]:
    """(findings, unlocated claims) of all rules present in the agreement, for events
    while it is active.  An unlocated claim is an event whose 95 % ellipse reaches a
    rule's geometry but meets it with a probability below the rule's threshold."""
    n = len(cols)
    if n == 0:
        return [], []
    active = cols.t >= agreement.start.timestamp()
    if agreement.end is not None:
        active &= cols.t < agreement.end.timestamp()
    cand = np.flatnonzero(active & (cols.conf >= cfg.min_confidence))
    by_kind: dict[Rule, list[Any]] = {}
    for r in agreement.rules:
        by_kind.setdefault(Rule(r.kind), []).append(r)
    hits: list[Hit] = []
    for rule in registry():
        if any(Rule(k) in by_kind for k in rule.kinds):
            hits += rule.evaluate(cols, agreement, cfg, by_kind, cand)
    return [h for h in hits if h.raised], [h for h in hits if not h.raised]


def evaluate(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig) -> list[Hit]:
    """The findings of all rules present in the agreement (unlocated claims left out)."""
    return evaluate_all(cols, agreement, cfg)[0]


def _loc(lat: float, lon: float, err: float) -> Location:
    err = float(max(err, 1.0))
    return Location(lat=float(lat), lon=float(lon), err_major_m=err, err_minor_m=err)


def to_violations(hits: list[Hit], cols: EventColumns, locations: dict[str, Any] | None = None) -> list[Violation]:
    """Violation objects with evidence and a plain-language explanation."""
    out: list[Violation] = []
    lines = cols.lines()
    for h in hits:
        e = h.event
        eid = str(cols.ids[e])
        evidence = cols.evidence_of(e)
        loc, origin = (locations or {}).get(eid, (None, None))
        if h.location is not None:
            loc = _loc(*h.location)
        elif loc is None:
            loc = _loc(cols.lat[e], cols.lon[e], cols.err[e])
        if h.origin is not None:
            origin = _loc(*h.origin)
        elif origin is None and cols.has_origin[e]:
            origin = _loc(cols.olat[e], cols.olon[e], cols.oerr[e])
        cite = "; ".join(f"{ev.observation_id}" + (f" (ledger #{ev.ledger_index})" if ev.ledger_index is not None else "")
                         for ev in evidence[:12])
        more = f" and {len(evidence) - 12} more" if len(evidence) > 12 else ""
        text = " ".join(h.reasons) + (f" Evidence: {cols.summary_of(e)}: {cite}{more}." if evidence else "") + \
            f" Event confidence {cols.conf[e]:.2f} from {int(lines[e])} independent line(s) of evidence."
        attrs = {**h.attributes, "rule_id": h.rule_id, "n_independent": int(lines[e]), "n_groups": int(cols.n_groups[e]),
                 "event_confidence": round(float(cols.conf[e]), 4)}
        out.append(Violation(id=violation_id(h.rule_id, h.rule, eid), event_id=eid, rule=h.rule, party=h.party,
                             confidence=float(np.clip(h.confidence, 0.0, 1.0)), time=from_unix(cols.t[e]),
                             location=loc, origin=origin, evidence=evidence, explanation=text, attributes=attrs))
    return out


__all__ = ["BUILTIN", "GEOMETRY_THRESHOLD", "AdjudicationConfig", "CheckFn", "Hit", "PerRule", "RuleCheck",
           "RuleRegistryError", "describe", "evaluate", "evaluate_all", "p_near_line", "p_side", "registry",
           "side_certainty", "side_probabilities", "to_violations", "violation_id"]
