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

from trucewatch.errors import TruceWatchError
from trucewatch.ledger import api as ledger_api
from trucewatch.ledger import ingest as ledger_ingest
from trucewatch.ledger import log as ledger_log
from trucewatch.ledger import merkle as ledger_merkle
from trucewatch.model import Observation, Status
from trucewatch.store import Store, StoreError


class Unavailable(TruceWatchError, RuntimeError):
    """A stage the request needs is not installed (HTTP 503)."""


class Refused(TruceWatchError, ValueError):
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
    """Through the ledger's one door: signed observations verified, stored and logged; unsigned
    ones refused when signatures are required, stored without a log entry only when the
    deployment says they are not (trucewatch.ledger.ingest.ingest)."""
    return ledger_ingest.ingest(store, observations, require_signatures=require_signatures).as_dict()


# ----------------------------------------------------------------- workflow
def transition(store: Store, violation_id: str, to_status: Status, *, actor: str, reason: str = "",
               counter_evidence: list[str] | None = None) -> Any:
    """One step through trucewatch.adjudication.workflow (which decides what is allowed)."""
    fn = _optional("trucewatch.adjudication.workflow", "transition")
    if fn is None:
        raise Unavailable("the verification workflow (trucewatch.adjudication.workflow) is not installed")
    kwargs: dict[str, Any] = {"actor": actor, "reason": reason, "counter_evidence": list(counter_evidence or [])}
    params = inspect.signature(fn).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    try:
        return fn(store, violation_id, to_status, **kwargs)
    except (ValueError, StoreError) as exc:
        raise Refused(str(exc)) from None


# ------------------------------------------------------------------- ledger
def _ledger() -> Any:
    return ledger_api, ledger_log, ledger_merkle


def checkpoint(store: Store) -> dict[str, Any]:
    """The last signed checkpoint (size, root, signed note), or 404-worthy None."""
    api, _log, _merkle = _ledger()
    cp = api.latest_checkpoint(store)
    if cp is None:
        raise Refused("ledger: no signed checkpoint yet")
    return dict(cp)


def proof(store: Store, observation_id: str) -> dict[str, Any]:
    """RFC 9162 inclusion proof of one observation, checked here.

    The leaf is rebuilt from the observation *as stored* (canonical body,
    signature, key), so ``verified`` means: this content is what the log
    holds at that index, under the root of the last signed checkpoint (or,
    when no checkpoint covers it yet, of the current tree head).
    """
    api, log_mod, merkle = _ledger()
    log = log_mod.MerkleLog(store)
    idx = log.index_of([observation_id]).get(observation_id)
    if idx is None:
        return {"observation_id": observation_id, "in_ledger": False, "verified": False}
    cp = api.latest_checkpoint(store)
    if cp is not None and cp["size"] > idx:
        size, root, signed = int(cp["size"]), bytes.fromhex(cp["root"]), True
    else:
        size, root = log.state()
        signed = False
    out: dict[str, Any] = {"observation_id": observation_id, "in_ledger": True, "index": idx, "tree_size": size,
                           "root": root.hex(), "signed_checkpoint": signed,
                           "checkpoint_seq": cp["seq"] if signed and cp else None}
    try:
        hashes = log.inclusion_proof(idx, size)
        out["proof"] = [h.hex() for h in hashes]
        leaf = next(iter(log.leaves(idx, idx + 1)))
        rebuilt = api.rebuild_entries(store, [leaf])[0]
        entry = rebuilt[4]
        if entry is None:
            out.update(verified=False, error="the stored observation no longer yields its log entry")
            return out
        merkle.verify_inclusion(entry, idx, size, hashes, root)
    except Exception as exc:
        out.update(verified=False, error=f"{type(exc).__name__}: {exc}")
        return out
    out["verified"] = True
    return out


# ------------------------------------------------------------------- report
def daily_report(store: Store, agreement: Any, day: date, out_dir: Path, *, role: str = "analyst",
                 party: str | None = None, views: Any = None, cutoff: str = "19:30",
                 lang: str = "en") -> dict[str, str]:
    """The day's report in one view (``role`` analyst, liaison with ``party``, or public) and
    language (en, uk, ru), built from the service's ``views`` so it shows what the API shows that role."""
    fn = _optional("trucewatch.report.daily", "build_daily_report")
    view_cls = _optional("trucewatch.report.daily", "ReportView")
    if fn is None or view_cls is None:
        raise Unavailable("the daily report renderer (trucewatch.report.daily) is not installed yet")
    kw: dict[str, Any] = {"view": view_cls(role, party), "views": views}
    params = inspect.signature(fn).parameters
    if "cutoff" in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
        kw["cutoff"] = cutoff  # a renderer without the parameter keeps its own (19:30)
    if lang != "en":
        kw["lang"] = lang  # renderers without languages still work in English
    paths = fn(store, agreement, day, out_dir, **kw)
    return {k: str(v) for k, v in dict(paths).items()}


def warm_up() -> list[str]:
    """Import the stages a request may need now, so the first workflow step
    or proof after start-up does not pay seconds of imports (and delay alerts)."""
    loaded = []
    for mod in ("trucewatch.adjudication.workflow", "trucewatch.fusion.arrays", "trucewatch.ledger.api",
                "trucewatch.ledger.ingest"):
        try:
            importlib.import_module(mod)
        except ImportError:
            continue
        loaded.append(mod)
    return loaded


def pipeline(spec: str | None) -> Callable[..., Any] | None:
    """``module:function`` from the config, resolved once at start-up."""
    if not spec:
        return None
    mod, _, fn = spec.partition(":")
    if not fn:
        raise ValueError(f"pipeline: {spec!r} must read module:function")
    return getattr(importlib.import_module(mod), fn)
