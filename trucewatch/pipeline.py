"""The batch path through the stages: stored observations -> events -> violations
-> workflow.  The demo, ``trucewatch process`` and the tests use it; the
streaming path (trucewatch.fusion.IncrementalFusion, the NATS workers) does the
same work incrementally.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trucewatch._jsonl import BadLine, json_lines
from trucewatch.agreement import Agreement
from trucewatch.model import Observation, Violation
from trucewatch.store import RecordError, Store


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


def process(store: Store, agreement: Agreement, *, t_from: float | None = None, t_to: float | None = None,
            workflow_config: Any = None, fusion_config: Any = None) -> ProcessResult:
    """Fuse every stored observation in the window, adjudicate, advance the workflow.
    ``fusion_config``: a FusionConfig (gates, clutter map); None for the defaults."""
    from trucewatch.adjudication import adjudicate
    from trucewatch.adjudication.workflow import auto_advance
    from trucewatch.fusion import fuse

    obs = store.query_observations(t_from=t_from, t_to=t_to)
    sources = {s.id: s for s in store.list_sources()}
    events = fuse(obs, sources, agreement, fusion_config)
    violations = adjudicate(events, {o.id: o for o in obs}, agreement)
    store.save_events(events)  # after adjudication: events carry their unlocated-claim marks
    store.save_violations(violations)
    auto_advance(store, violations, workflow_config)
    _apply_prenotifications(store, agreement)
    ids = {v.id for v in violations}
    stored = [v for v in store.query_violations(t_from=t_from, t_to=t_to) if v.id in ids]
    return ProcessResult(len(obs), len(events), stored)


def _apply_prenotifications(store: Store, agreement: Agreement) -> None:
    """Findings inside a party's accepted pre-notified window (repairs, demining, an exercise) are
    annotated and dismissed, not violations: done here too, so findings made after the window was
    accepted are treated like those that existed then (trucewatch.mechanism, docs/workflow.md)."""
    from trucewatch.mechanism.mission import Mechanism, stored_config

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
                yield n, RecordError(f"line {n}", "(json)", f"not valid JSON: {exc.msg} at column {exc.colno}")
                continue
            rid = str(raw.get("id", f"line {n}")) if isinstance(raw, dict) else f"line {n}"
            try:
                yield n, Observation.model_validate(raw)
            except ValidationError as exc:
                err = exc.errors()[0]
                fld = ".".join(str(p) for p in err["loc"]) or "(record)"
                yield n, RecordError(f"{rid} (line {n})", fld, err["msg"])
