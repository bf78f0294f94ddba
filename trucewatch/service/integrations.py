"""Lazy bridges to the stages other packages own (ledger, workflow, report).

Each is imported on first use so the service starts, and says clearly what is
missing, while those stages are absent from a deployment.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from trucewatch.model import Observation, Status, Transition
from trucewatch.store import Store, StoreError


class Unavailable(RuntimeError):
    """A stage the request needs is not installed (HTTP 503)."""


class Refused(ValueError):
    """The stage refused the request (HTTP 409/422), message names the field."""


def _optional(module: str, attr: str) -> Callable[..., Any] | None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return None
        raise
    return getattr(mod, attr, None)


def _report_dict(rep: Any) -> dict[str, Any]:
    if hasattr(rep, "as_dict"):
        return rep.as_dict()
    if isinstance(rep, dict):
        return rep
    raise TypeError(f"ingest returned {type(rep).__name__}, expected an IngestReport")


# ------------------------------------------------------------------- ingest
def ingest(store: Store, observations: list[Observation], *, require_signatures: bool) -> dict[str, Any]:
    fn = _optional("trucewatch.ledger.ingest", "ingest_signed")
    if fn is not None:
        return _report_dict(fn(store, observations))
    if require_signatures:
        raise Unavailable("signed ingest needs trucewatch.ledger.ingest (not installed in this deployment); "
                          "set require_signatures: false to store unsigned observations")
    return store.add_observations(observations).as_dict()


# ----------------------------------------------------------------- workflow
#: Used only while trucewatch.adjudication.workflow is absent: the steps of
#: the verification workflow (detected -> corroborated -> verified -> notified
#: -> contested -> confirmed/dismissed), dismissal possible before confirmation.
FALLBACK_STEPS: dict[Status, set[Status]] = {
    Status.DETECTED: {Status.CORROBORATED, Status.VERIFIED, Status.DISMISSED},
    Status.CORROBORATED: {Status.VERIFIED, Status.DISMISSED},
    Status.VERIFIED: {Status.NOTIFIED, Status.CONTESTED, Status.CONFIRMED, Status.DISMISSED},
    Status.NOTIFIED: {Status.CONTESTED, Status.CONFIRMED, Status.DISMISSED},
    Status.CONTESTED: {Status.CONFIRMED, Status.DISMISSED, Status.VERIFIED},
    Status.CONFIRMED: set(),
    Status.DISMISSED: set(),
}


def transition(store: Store, violation_id: str, to_status: Status, *, actor: str, reason: str = "",
               counter_evidence: list[str] | None = None) -> Any:
    fn = _optional("trucewatch.adjudication.workflow", "transition")
    if fn is not None:
        kwargs: dict[str, Any] = {"actor": actor, "reason": reason, "counter_evidence": list(counter_evidence or [])}
        params = inspect.signature(fn).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            kwargs = {k: v for k, v in kwargs.items() if k in params}
        try:
            return fn(store, violation_id, to_status, **kwargs)
        except (ValueError, StoreError) as exc:
            raise Refused(str(exc)) from None
    v = store.get_violation(violation_id)
    if v is None:
        raise Refused(f"{violation_id}: violation_id: no such violation")
    if to_status not in FALLBACK_STEPS[v.status]:
        raise Refused(f"{violation_id}: to_status: {v.status.value} -> {to_status.value} is not a workflow step")
    tr = Transition(violation_id=violation_id, from_status=v.status, to_status=to_status, actor=actor,
                    reason=reason, counter_evidence=list(counter_evidence or []))
    try:
        store.record_transition(tr)
    except StoreError as exc:
        raise Refused(str(exc)) from None
    return tr


# ------------------------------------------------------------------- ledger
def _ledger() -> Any:
    try:
        return importlib.import_module("trucewatch.ledger")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("trucewatch.ledger"):
            raise Unavailable("the evidence ledger (trucewatch.ledger) is not installed in this deployment") from None
        raise


def _ledger_fn(*names: str) -> Callable[..., Any]:
    mod = _ledger()
    for name in names:
        fn = getattr(mod, name, None)
        if fn is not None:
            return fn
    raise Unavailable(f"trucewatch.ledger offers none of {', '.join(names)}")


def _jsonable(x: Any) -> Any:
    if hasattr(x, "model_dump"):
        return x.model_dump(mode="json")
    if hasattr(x, "as_dict"):
        return x.as_dict()
    if hasattr(x, "__dataclass_fields__"):
        import dataclasses

        return {k: _jsonable(v) for k, v in dataclasses.asdict(x).items()}
    if isinstance(x, bytes):
        return x.hex()
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    return x


def checkpoint(store: Store) -> dict[str, Any]:
    fn = _ledger_fn("latest_checkpoint", "checkpoint")
    return _jsonable(fn(store))


def proof(store: Store, observation_id: str) -> dict[str, Any]:
    """Inclusion proof of one observation and whether it verifies against the checkpoint."""
    prove = _ledger_fn("inclusion_proof", "prove_inclusion", "proof")
    verify = _ledger_fn("verify_inclusion", "verify_proof", "verify")
    p = prove(store, observation_id)
    if p is None:
        return {"observation_id": observation_id, "in_ledger": False, "verified": False}
    try:
        ok = bool(verify(p))
    except Exception as exc:  # noqa: BLE001 - a proof that cannot be checked does not verify
        return {"observation_id": observation_id, "in_ledger": True, "verified": False, "error": str(exc),
                "proof": _jsonable(p)}
    return {"observation_id": observation_id, "in_ledger": True, "verified": ok, "proof": _jsonable(p)}


# ------------------------------------------------------------------- report
def daily_report(store: Store, agreement: Any, day: date, out_dir: Path) -> dict[str, str]:
    fn = _optional("trucewatch.report.daily", "build_daily_report")
    if fn is None:
        raise Unavailable("the daily report renderer (trucewatch.report.daily) is not installed yet")
    paths = fn(store, agreement, day, out_dir)
    return {k: str(v) for k, v in dict(paths).items()}


def pipeline(spec: str | None) -> Callable[..., Any] | None:
    """``module:function`` from the config, resolved once at start-up."""
    if not spec:
        return None
    mod, _, fn = spec.partition(":")
    if not fn:
        raise ValueError(f"pipeline: {spec!r} must read module:function")
    return getattr(importlib.import_module(mod), fn)
