"""The verification workflow: allowed transitions only, each one recorded forever.

    detected ──> corroborated ──> verified ──> notified ──> confirmed
        │              │              │  │         │            │
        │              └──────────────┴─>│dismissed│            │
        └──> verified, dismissed         └─────────┴─> contested ┘ (and back: an appeal)
                                                         └─> confirmed | dismissed

A party may contest a finding that concerns it at any status from verified on
(the right of reply, docs/workflow.md): a contest needs a reason; counter-evidence
is optional.

Automatic steps (detected -> corroborated -> verified) use thresholds from
:class:`WorkflowConfig` (YAML), not code.  Humans (analysts, the parties) take
the other steps through :func:`transition`; every step names its actor and
reason and goes through ``Store.record_transition`` (append-only audit trail).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from trucewatch.errors import TruceWatchError
from trucewatch.model import Status, Transition, Violation, revoked_at, utcnow
from trucewatch.store.store import StoreError

S = Status

#: The only transitions the workflow allows (from -> allowed targets).
ALLOWED: dict[Status, frozenset[Status]] = {
    S.DETECTED: frozenset({S.CORROBORATED, S.VERIFIED, S.DISMISSED}),
    S.CORROBORATED: frozenset({S.VERIFIED, S.DISMISSED}),
    S.VERIFIED: frozenset({S.NOTIFIED, S.CONTESTED, S.DISMISSED}),
    S.NOTIFIED: frozenset({S.CONTESTED, S.CONFIRMED}),
    S.CONTESTED: frozenset({S.CONFIRMED, S.DISMISSED}),
    S.CONFIRMED: frozenset({S.CONTESTED}),  # an appeal
    S.DISMISSED: frozenset(),
}
#: Steps that put weight on the evidence: refused when a source of it is revoked.
NEEDS_TRUSTED_EVIDENCE = frozenset({S.VERIFIED, S.CONFIRMED})


class WorkflowError(TruceWatchError, ValueError):
    """A transition that is refused; the message names the violation and why."""


@dataclass
class WorkflowConfig:
    """Thresholds for the automatic steps (docs/fusion.md#workflow)."""

    corroborate_min_confidence: float = 0.75
    corroborate_min_independent: int = 2
    verify_min_confidence: float = 0.9
    verify_min_independent: int = 2
    #: Findings naming no party may still be verified (that something happened).
    verify_undetermined: bool = True
    actor: str = "trucewatch:auto"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowConfig:
        known = {f.name for f in fields(cls)}
        bad = sorted(set(data) - known)
        if bad:
            raise ValueError(f"workflow config: unknown key(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        cfg = cls(**data)
        for name in ("corroborate_min_confidence", "verify_min_confidence"):
            v = getattr(cfg, name)
            if not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"workflow config: {name}: {v} is not within [0, 1]")
        return cfg

    @classmethod
    def from_yaml(cls, path: str | Path) -> WorkflowConfig:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping")
        return cls.from_dict(raw.get("workflow", raw))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def allowed(from_status: Status, to_status: Status) -> bool:
    return Status(to_status) in ALLOWED[Status(from_status)]


def _revoked_sources(store: Any, v: Violation) -> list[str]:
    out = []
    for sid in sorted({e.source_id for e in v.evidence}):
        src = store.get_source(sid)
        when = revoked_at(src) if src is not None else None
        if when is not None:
            out.append(f"{sid} (revoked at {when.isoformat()})")
    return out


def transition(store: Any, violation_id: str, to_status: Status | str, actor: str, reason: str,
               counter_evidence: Sequence[str] = (), *, at: datetime | None = None) -> Transition:
    """Move a violation to ``to_status`` if the workflow allows it; record who, when and why."""
    try:
        target = Status(to_status)
    except ValueError:
        raise WorkflowError(f"{violation_id}: to_status: unknown state {to_status!r}; states: "
                            f"{', '.join(s.value for s in Status)}") from None
    if not actor or not str(actor).strip():
        raise WorkflowError(f"{violation_id}: actor: every step names who took it")
    if not reason or not str(reason).strip():
        raise WorkflowError(f"{violation_id}: reason: every step says why")
    v = store.get_violation(violation_id)
    if v is None:
        raise WorkflowError(f"{violation_id}: violation_id: no such finding")
    if not allowed(v.status, target):
        nxt = ", ".join(sorted(s.value for s in ALLOWED[v.status])) or "none (final state)"
        raise WorkflowError(f"{violation_id}: to_status: {v.status.value} -> {target.value} is not allowed; "
                            f"from {v.status.value} the workflow allows: {nxt}")
    ce = [str(c) for c in counter_evidence]  # optional, also for a contest (the reason is required above)
    if target in NEEDS_TRUSTED_EVIDENCE:
        bad = _revoked_sources(store, v)
        if bad:
            raise WorkflowError(f"{violation_id}: evidence: cannot move to {target.value}: evidence comes from "
                                f"revoked source(s) {', '.join(bad)}; re-adjudicate without it")
    tr = Transition(violation_id=violation_id, from_status=v.status, to_status=target, actor=str(actor),
                    reason=str(reason), at=at or utcnow(), counter_evidence=ce)
    try:
        store.record_transition(tr)
    except StoreError as exc:
        raise WorkflowError(str(exc)) from None
    return tr


def contest(store: Any, violation_id: str, party: str, reason: str,
            counter_evidence: Sequence[str] = ()) -> Transition:
    """A party contests a verified, notified or confirmed finding; counter-evidence is optional."""
    return transition(store, violation_id, Status.CONTESTED, f"party:{party}", reason, counter_evidence)


def history(store: Any, violation_id: str) -> list[Transition]:
    """The audit trail of one finding, oldest first."""
    if store.get_violation(violation_id) is None:
        raise WorkflowError(f"{violation_id}: violation_id: no such finding")
    return store.transitions(violation_id)


def meets(v: Violation, cfg: WorkflowConfig, target: Status) -> tuple[bool, str]:
    """Whether ``v`` meets the automatic threshold for ``target``, and the reason."""
    n = int(v.attributes.get("n_independent", 1))
    what = "independent line(s) of evidence"
    if target == Status.CORROBORATED:
        # corroboration: a second independent error group (another signature, another
        # cell) suffices; verification needs a second line (source kind and operator)
        n = max(n, int(v.attributes.get("n_groups", n)))
        what = "independent group(s) of evidence"
        mc, mi = cfg.corroborate_min_confidence, cfg.corroborate_min_independent
    else:
        mc, mi = cfg.verify_min_confidence, cfg.verify_min_independent
        if not cfg.verify_undetermined and v.party == "undetermined":
            return False, "party undetermined"
    ok = v.confidence >= mc and n >= mi
    return ok, (f"confidence {v.confidence:.3f} {'>=' if v.confidence >= mc else '<'} {mc} and "
                f"{n} {what} {'>=' if n >= mi else '<'} {mi}")


def auto_advance(store: Any, violations: Iterable[Violation], config: WorkflowConfig | None = None,
                 *, at: datetime | None = None) -> list[Transition]:
    """Save the violations (new ones as detected, known ones refreshed) and take
    the automatic steps their evidence now supports.  Returns the steps taken;
    those to ``verified`` are the alerts.

    Batched: the current states and the sources are read once and every step is
    written in one transaction, so a fusion pass with thousands of findings
    costs a few statements, not a few per finding.
    """
    cfg = config or WorkflowConfig()
    vs = list(violations)
    store.save_violations(vs)
    if not vs:
        return []
    current = store.get_violations([v.id for v in vs])
    revoked = {s.id for s in store.list_sources() if revoked_at(s) is not None}
    when = at or utcnow()
    taken: list[Transition] = []
    for v in vs:
        cur = current.get(v.id)
        if cur is None:
            continue
        status = cur.status
        for target in (Status.CORROBORATED, Status.VERIFIED):
            if not allowed(status, target):
                continue
            ok, why = meets(cur, cfg, target)
            if not ok:
                break
            if target in NEEDS_TRUSTED_EVIDENCE and any(e.source_id in revoked for e in cur.evidence):
                break
            taken.append(Transition(violation_id=v.id, from_status=status, to_status=target, actor=cfg.actor,
                                    reason=f"automatic: {why}", at=when))
            status = target
    try:
        store.record_transitions(taken)
    except StoreError as exc:
        raise WorkflowError(str(exc)) from None
    return taken


