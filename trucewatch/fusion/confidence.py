"""The confidence model (docs/confidence.md).

An event is real unless every *independent* line of evidence is wrong:

    confidence = (1 - prod_g (1 - r_g)) * consistency

- ``r_g`` is one independence group's support: the best ``reliability(source)
  * quality(observation)`` among its members.  A group is a post and all its
  copies (``origin_id``, ``independent: false``), one source, or the sensors of
  one kind and network within one shared-error cell: they count once however
  many rows they produce.
- ``consistency`` lowers the result when the located members disagree on the
  position beyond their stated uncertainties (mean squared Mahalanobis
  distance from the fused point above its 99 % value).
- Source reliability is learned from the findings that analysts confirmed or
  dismissed (:func:`learn_reliability`), starting from the registered prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trucewatch.fusion.arrays import FusionInput
from trucewatch.model import Status
from trucewatch.store import Store

#: Mean NIS (chi-square, 2 dof) above which members are taken to disagree.
NIS_DISAGREE = 9.21
DISAGREE_FACTOR = 0.8
MAX_CONFIDENCE = 0.999
#: Prior strength (pseudo-findings) of a source's registered reliability.
PRIOR_STRENGTH = 4.0


def group_support(fi: FusionInput, ev: np.ndarray, n_events: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(event, group key, best reliability) for each independence group of each event."""
    o = np.lexsort((fi.rel, fi.group, ev))
    e, g = ev[o], fi.group[o]
    last = np.ones(len(o), bool)
    last[:-1] = (e[1:] != e[:-1]) | (g[1:] != g[:-1])
    return e[last], g[last], fi.rel[o][last]


def independent_lines(fi: FusionInput, ev: np.ndarray, n_events: int) -> np.ndarray:
    """Independent lines of evidence per event: distinct (source kind, operator) keys
    among its rows (a copy counts as its original's line).  What verification needs."""
    if len(ev) == 0:
        return np.zeros(n_events, np.int64)
    ev = ev.astype(np.int64)
    line = np.asarray(fi.line, np.int64)
    # a copy whose original's source is unknown adds no line of its own: its original's line is
    # not known, and counting the copy until the original arrives would make the count (and the
    # verification it drives) depend on arrival order, which a restarted worker changes
    keep = ~(fi.copy & (fi.post >= 0) & (line == fi.post))
    pairs = np.unique(np.column_stack([ev[keep], line[keep]]), axis=0)
    return np.bincount(pairs[:, 0], minlength=n_events).astype(np.int64)


def event_confidence(fi: FusionInput, ev: np.ndarray, n_events: int, nis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confidence, number of independent (error) groups and number of copies per event."""
    ge, _, gr = group_support(fi, ev, n_events)
    log_miss = np.bincount(ge, np.log1p(-np.clip(gr, 0.0, MAX_CONFIDENCE)), n_events)
    conf = 1.0 - np.exp(log_miss)
    n_groups = np.bincount(ge, minlength=n_events)
    n_loc = np.bincount(ev, minlength=n_events)
    disagree = (n_loc > 1) & np.nan_to_num(nis, nan=0.0).__gt__(NIS_DISAGREE)
    conf = np.where(disagree, conf * DISAGREE_FACTOR, conf)
    n_copies = np.bincount(ev, fi.copy.astype(float), n_events).astype(np.int64)
    return np.clip(conf, 0.0, MAX_CONFIDENCE), n_groups, n_copies


@dataclass
class Contribution:
    group: str
    support: float
    members: int
    note: str


def explain(contribs: list[Contribution], copies: int, nis: float, n_located: int, confidence: float,
            revoked: list[str] | None = None) -> list[str]:
    """Plain-language list of what raised and lowered an event's confidence."""
    out: list[str] = []
    for c in sorted(contribs, key=lambda c: (-c.support, c.group)):
        extra = f", {c.members} observations counted once" if c.members > 1 else ""
        note = f" ({c.note})" if c.note else ""
        out.append(f"raised: {c.group} supports it with {c.support:.2f}{note}{extra}")
    if len(contribs) == 1:
        out.append("lowered: a single independent line of evidence, no corroboration")
    if copies:
        out.append(f"lowered: {copies} report(s) copy an earlier post and add nothing")
    if n_located > 1 and np.isfinite(nis) and nis > NIS_DISAGREE:
        out.append(f"lowered: members disagree on the position (mean squared Mahalanobis distance {nis:.1f} "
                   f"> {NIS_DISAGREE}), confidence x{DISAGREE_FACTOR}")
    for r in revoked or []:
        out.append(f"lowered: {r}")
    out.append(f"result: confidence {confidence:.3f} = 1 - product of (1 - support) over {len(contribs)} "
               "independent group(s)")
    return out


def learn_reliability(store: Store, *, prior_strength: float = PRIOR_STRENGTH, apply: bool = True) -> dict[str, dict[str, float]]:
    """Update each source's reliability from confirmed and dismissed findings.

    A source's observations that are evidence of a confirmed violation count as
    right, of a dismissed one as wrong (one count per finding, whatever the
    number of rows).  Beta posterior mean with the registered reliability as
    prior of ``prior_strength`` pseudo-findings; sources without findings keep
    their value.  Returns {source_id: {before, after, confirmed, dismissed}}.
    """
    right: dict[str, int] = {}
    wrong: dict[str, int] = {}
    for status, bucket in ((Status.CONFIRMED, right), (Status.DISMISSED, wrong)):
        for v in store.query_violations(status=[status.value]):
            for sid in {e.source_id for e in v.evidence}:
                bucket[sid] = bucket.get(sid, 0) + 1
    out: dict[str, dict[str, float]] = {}
    updated = []
    for src in store.list_sources():
        c, d = right.get(src.id, 0), wrong.get(src.id, 0)
        if c + d == 0:
            continue
        # the registered value is kept as the prior, so learning again does not compound
        prior = float(src.attributes.get("reliability_prior", src.reliability))
        after = (prior * prior_strength + c) / (prior_strength + c + d)
        out[src.id] = {"prior": prior, "before": src.reliability, "after": after, "confirmed": c, "dismissed": d}
        updated.append(src.model_copy(update={"reliability": after,
                                              "attributes": {**src.attributes, "reliability_prior": prior}}))
    if apply and updated:
        store.add_sources(updated)
    return out
