"""The one path through the stages: observations -> events -> violations -> workflow.

Why one module: fuse -> adjudicate -> save -> advance is written here once, and
every caller uses it: ``trucewatch process`` and ``fusion run`` (the batch over a
window, :func:`process` / :func:`run_batch`), the NATS workers (one sector around a
window, :func:`process_sector`), ``trucewatch watch`` and streaming tests
(:class:`IncrementalPipeline`), the demo.  The stages themselves never import each
other: fusion knows no rules, adjudication no fusion; they meet here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from trucewatch._jsonl import BadLine, json_lines
from trucewatch.adjudication import adjudicate
from trucewatch.adjudication.workflow import auto_advance, transition
from trucewatch.agreement import Agreement
from trucewatch.fusion import FusionConfig, IncrementalFusion, fuse_detailed
from trucewatch.fusion.arrays import RecordError as FusionRecordError
from trucewatch.mechanism.mission import Mechanism, stored_config
from trucewatch.model import Event, Observation, Status, Transition, Violation
from trucewatch.store import RecordError, Store
from trucewatch.store.coverage import observation_positions, observations_outside_period


@dataclass
class ProcessResult:
    observations: int
    events: int
    violations: list[Violation]

    def as_dict(self) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        for v in self.violations:
            by_status[v.status.value] = by_status.get(v.status.value, 0) + 1
        return {"observations": self.observations, "events": self.events, "violations": len(self.violations),
                "by_status": by_status}


@dataclass
class BatchResult:
    """What one fuse -> adjudicate -> advance step did."""

    observations: list[Observation]
    events: list[Event]
    violations: list[Violation]
    steps: list[Transition]
    rejected: list[FusionRecordError] = field(default_factory=list)


def judge_and_advance(store: Store, events: list[Event], observations: list[Observation], agreement: Agreement,
                      workflow_config: Any = None) -> tuple[list[Violation], list[Transition]]:
    """Adjudicate ``events``, save them (after adjudication: events carry their unlocated-claim
    marks), save the findings and take the automatic workflow steps."""
    violations = adjudicate(events, {o.id: o for o in observations}, agreement)
    store.save_events(events)
    steps = auto_advance(store, violations, workflow_config)  # saves the findings, then advances
    return violations, steps


def run_batch(store: Store, agreement: Agreement, *, t_from: float | None = None, t_to: float | None = None,
              workflow_config: Any = None, fusion_config: FusionConfig | None = None) -> BatchResult:
    """Fuse every stored observation in the window, adjudicate, save, advance the workflow."""
    obs = store.query_observations(t_from=t_from, t_to=t_to)
    sources = {s.id: s for s in store.list_sources()}
    res = fuse_detailed(obs, sources, fusion_config)
    violations, steps = judge_and_advance(store, res.events, obs, agreement, workflow_config)
    return BatchResult(obs, res.events, violations, steps, list(res.rejected))


def process(store: Store, agreement: Agreement, *, t_from: float | None = None, t_to: float | None = None,
            workflow_config: Any = None, fusion_config: Any = None) -> ProcessResult:
    """The batch over a window, then accepted pre-notifications applied; returns the stored findings.
    ``fusion_config``: a FusionConfig (gates, clutter map); None for the defaults."""
    res = run_batch(store, agreement, t_from=t_from, t_to=t_to, workflow_config=workflow_config,
                    fusion_config=fusion_config)
    _apply_prenotifications(store, agreement)
    ids = {v.id for v in res.violations}
    stored = [v for v in store.query_violations(t_from=t_from, t_to=t_to) if v.id in ids]
    return ProcessResult(len(res.observations), len(res.events), stored)


def process_sector(store: Store, agreement: Agreement, sector_of: Callable[[np.ndarray, np.ndarray], np.ndarray],
                   k: int, t_from: float, t_to: float, margin_s: float, fusion_config: Any = None) -> list[Violation]:
    """Re-fuse one sector around a window of new observations; return newly verified violations.

    Observations are taken from ``margin_s`` around the window, in the sector and
    its two neighbours (``sector_of(lat, lon)`` numbers sectors).  The sector *owns*
    the events whose position lies in it and whose time lies within half that
    margin of the window; those it replaces: events it no longer finds are deleted
    and their untouched violations retired (late evidence changed the event).
    Events in the outer ring may be incomplete here and are left to the request
    that covers them.
    """
    core_lo, core_hi = t_from - margin_s / 2, t_to + margin_s / 2
    obs = store.query_observations(t_from=t_from - margin_s, t_to=t_to + margin_s)
    if obs:
        own = sector_of(np.array([o.location.lat for o in obs]), np.array([o.location.lon for o in obs]))
        obs = [o for o, s in zip(obs, own, strict=True) if abs(int(s) - k) <= 1]
    sources = {s.id: s for s in store.list_sources()}
    events = fuse_detailed(obs, sources, fusion_config).events if obs else []

    def owned(evs: list[Event]) -> list[Event]:
        if not evs:
            return []
        sec = sector_of(np.array([e.location.lat for e in evs]), np.array([e.location.lon for e in evs]))
        return [e for e, s in zip(evs, sec, strict=True) if s == k and core_lo <= e.time.timestamp() < core_hi]

    mine = owned(events)
    stale = sorted({e.id for e in owned(store.list_events(t_from=core_lo, t_to=core_hi))} - {e.id for e in mine})
    if stale:
        store.retire_violations(stale, reason="event replaced by a later fusion of more evidence")
        store.delete_events(stale)
    _, steps = judge_and_advance(store, mine, obs, agreement, None)
    verified = {t.violation_id for t in steps if t.to_status == Status.VERIFIED}
    return list(store.get_violations(sorted(verified)).values()) if verified else []


class IncrementalPipeline:
    """Streaming: ``add`` observations, get the events and violations that changed.

    Fusion is incremental (trucewatch.fusion.IncrementalFusion gives exactly the
    batch events); the changed events are judged here.  With a ``store``, changed
    violations are saved and advanced automatically (``workflow``: a
    WorkflowConfig); ``alerts`` then lists those newly verified, and findings whose
    event merged or split away are superseded.
    """

    def __init__(self, sources: dict[str, Any], agreement: Agreement | None = None,
                 config: FusionConfig | None = None, adjudication_config: Any = None, *,
                 store: Store | None = None, workflow: Any = None) -> None:
        self.fusion = IncrementalFusion(sources, config=config)
        self.agreement = agreement
        self.adjudication_config = adjudication_config
        self.store = store
        self.workflow = workflow
        self.alerts: list[Violation] = []
        self.violations: dict[str, Violation] = {}
        self.removed_violations: list[str] = []

    @property
    def sources(self) -> dict[str, Any]:
        return self.fusion.sources

    @property
    def removed_events(self) -> list[str]:
        return self.fusion.removed_events

    @property
    def rejected(self) -> list[FusionRecordError]:
        return self.fusion.rejected

    def add(self, observations: list[Observation]) -> tuple[list[Event], list[Violation]]:
        """Add observations; returns (changed events, changed violations)."""
        n_before = len(self.fusion.obs)
        changed = self.fusion.add(observations)
        if len(self.fusion.obs) == n_before:  # nothing new was fused: nothing to judge
            return [], []
        changed_v: list[Violation] = []
        self.removed_violations = []
        if self.agreement is not None:
            removed = set(self.fusion.removed_events)
            gone = {vid for vid, v in self.violations.items() if v.event_id in removed}
            for vid in gone:
                self.violations.pop(vid)
            # events here stay as fusion made them (equal to the batch); unlocated claims are
            # marked where events are saved (judge_and_advance, the workers)
            vs = adjudicate(changed, self.fusion.by_id, self.agreement, self.adjudication_config, mark=False)
            changed_ev = {e.id for e in changed}
            stale = {vid for vid, v in self.violations.items() if v.event_id in changed_ev} - {v.id for v in vs}
            for vid in stale:
                self.violations.pop(vid)
            self.removed_violations = sorted(gone | stale)
            for v in vs:
                old = self.violations.get(v.id)
                if old is None or old.model_dump() != v.model_dump():
                    changed_v.append(v)
                self.violations[v.id] = v
        self.alerts = []
        if self.store is not None and changed_v:
            steps = auto_advance(self.store, changed_v, self.workflow)
            self._supersede(changed_v)
            verified = {t.violation_id for t in steps if t.to_status == Status.VERIFIED}
            found = (self.store.get_violation(vid) for vid in sorted(verified))
            self.alerts = [v for v in found if v is not None]
        return changed, changed_v

    def _supersede(self, current: list[Violation]) -> None:
        """Findings whose event merged or split away are dismissed while still
        unreviewed (detected, corroborated), naming what replaced them; reviewed
        ones are left to the analysts."""
        assert self.store is not None
        by_obs: dict[str, str] = {}
        for v in current:
            for ev in v.evidence:
                by_obs.setdefault(ev.observation_id, v.id)
        for vid in self.removed_violations:
            old = self.store.get_violation(vid)
            if old is None or old.status not in (Status.DETECTED, Status.CORROBORATED):
                continue
            heirs = sorted({by_obs[e.observation_id] for e in old.evidence if e.observation_id in by_obs})
            why = f"superseded by {', '.join(heirs)}" if heirs else "its event no longer meets the rule"
            transition(self.store, vid, Status.DISMISSED, "trucewatch:auto", f"automatic: {why} (re-fusion)")

    def all_events(self) -> list[Event]:
        return self.fusion.all_events()

    def all_violations(self) -> list[Violation]:
        return sorted(self.violations.values(), key=lambda v: (v.time, v.id))


def outside_agreement(store: Store, agreement: Agreement) -> dict[str, int]:
    """Observations outside the agreement's period or area (why a store can give 0 violations)."""
    t0 = agreement.start.timestamp()
    t1 = agreement.end.timestamp() if agreement.end else None
    before, after = observations_outside_period(store, t0, t1)
    lat, lon = observation_positions(store)
    area = int((agreement.side_of(lat, lon) == "").sum()) if len(lat) and getattr(agreement, "areas_en", None) else 0
    return {"before_start": before, "after_end": after, "outside_area": area}


def _apply_prenotifications(store: Store, agreement: Agreement) -> None:
    """Findings inside a party's accepted pre-notified window (repairs, demining, an exercise) are
    annotated and dismissed, not violations: done here too, so findings made after the window was
    accepted are treated like those that existed then (trucewatch.mechanism, docs/workflow.md)."""
    mech = Mechanism(store, stored_config(store), agreement=agreement)
    if mech.prenotifications(state="accepted"):
        mech.apply_prenotifications(actor="pipeline")


def read_observations_jsonl(path: str | Path) -> Iterator[tuple[int, Observation | RecordError]]:
    """Parse a JSONL file of observations; yield (line number, observation or error)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        # stripped first: error columns count from the first non-blank character
        for n, raw in json_lines(line.strip() for line in f):
            if isinstance(raw, BadLine):
                exc = raw.error
                assert isinstance(exc, json.JSONDecodeError)  # opened with errors="replace": no UTF-8 errors
                yield n, RecordError(f"line {n}", "(json)", f"not valid JSON: {exc.msg} at column {exc.colno}")
                continue
            rid = str(raw.get("id", f"line {n}")) if isinstance(raw, dict) else f"line {n}"
            try:
                yield n, Observation.model_validate(raw)
            except ValidationError as exc:
                err = exc.errors()[0]
                fld = ".".join(str(p) for p in err["loc"]) or "(record)"
                yield n, RecordError(f"{rid} (line {n})", fld, err["msg"])
