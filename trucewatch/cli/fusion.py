"""``trucewatch fusion``: fuse and adjudicate stored observations, and walk the
verification workflow (transition, contest, history, learn reliability)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from trucewatch.adjudication.workflow import WorkflowConfig, WorkflowError, history, transition
from trucewatch.agreement import AgreementError, load_agreement
from trucewatch.fusion import FusionConfig, learn_reliability
from trucewatch.fusion.arrays import from_observations
from trucewatch.fusion.clutter import learn_clutter
from trucewatch.fusion.core import fuse_arrays
from trucewatch.pipeline import run_batch
from trucewatch.store import Store

app = typer.Typer(help="Fuse observations into events, judge them against the agreement, verify findings.",
                  no_args_is_help=True)


def _out(obj: object) -> None:
    typer.echo(json.dumps(obj, default=str))


def _ts(v: str | None) -> float | None:
    if not v:
        return None
    try:
        return datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise typer.BadParameter(f"{v!r} is not an ISO 8601 time (e.g. 2026-03-01T00:00:00Z)") from None


def fusion_config_or_exit(path: Path | None) -> Any:
    """The FusionConfig a ``--fusion-config`` option names (defaults without one); a bad
    file exits 2 with the file and field named, before any work starts."""
    try:
        return FusionConfig.from_yaml(path) if path else FusionConfig()
    except (OSError, ValueError) as exc:  # yaml errors are ValueErrors too
        typer.echo(f"error: {path}: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("run")
def run_cmd(
    db: str = typer.Option(..., "--db", help="Store path or URL."),
    agreement: Path = typer.Option(..., "--agreement", help="Agreement YAML."),
    t_from: str = typer.Option(None, "--from", help="ISO time; default: everything."),
    t_to: str = typer.Option(None, "--to"),
    workflow: Path = typer.Option(None, "--workflow", help="YAML with workflow: thresholds."),
    fusion_config: Path = typer.Option(None, "--fusion-config", help="YAML with fusion: settings."),
) -> None:
    """Fuse the stored observations, adjudicate, save events and findings, take automatic steps."""
    try:
        ag = load_agreement(agreement)
    except AgreementError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    cfg = fusion_config_or_exit(fusion_config)
    wf = WorkflowConfig.from_yaml(workflow) if workflow else WorkflowConfig()
    with Store.open(db) as store:
        res = run_batch(store, ag, t_from=_ts(t_from), t_to=_ts(t_to), workflow_config=wf, fusion_config=cfg)
    steps = res.steps
    _out({"observations": len(res.observations), "rejected": [str(e) for e in res.rejected], "events": len(res.events),
          "violations": len(res.violations), "steps": [t.model_dump(mode="json") for t in steps],
          "alerts": [t.violation_id for t in steps if t.to_status.value == "verified"]})


@app.command("transition")
def transition_cmd(
    violation_id: str,
    to_status: str,
    db: str = typer.Option(..., "--db"),
    actor: str = typer.Option(..., "--actor"),
    reason: str = typer.Option(..., "--reason"),
    counter_evidence: list[str] = typer.Option([], "--counter-evidence", help="Repeat for each reference."),
) -> None:
    """Move a finding to another state, if the workflow allows it."""
    with Store.open(db) as store:
        try:
            tr = transition(store, violation_id, to_status, actor, reason, counter_evidence)
        except WorkflowError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    _out(tr.model_dump(mode="json"))


@app.command("history")
def history_cmd(violation_id: str, db: str = typer.Option(..., "--db")) -> None:
    """The audit trail of one finding."""
    with Store.open(db) as store:
        try:
            trail = history(store, violation_id)
        except WorkflowError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
    _out([t.model_dump(mode="json") for t in trail])


@app.command("learn-reliability")
def learn_cmd(db: str = typer.Option(..., "--db"), dry_run: bool = typer.Option(False, "--dry-run")) -> None:
    """Update source reliability from confirmed and dismissed findings."""
    with Store.open(db) as store:
        _out(learn_reliability(store, apply=not dry_run))


@app.command("learn-clutter")
def learn_clutter_cmd(
    db: str = typer.Option(..., "--db", help="Store path or URL."),
    out: Path = typer.Option(..., "--out", help="Clutter map JSON to write (use as fusion: clutter_map: PATH)."),
    t_from: str = typer.Option(None, "--from", help="ISO time; default: everything stored."),
    t_to: str = typer.Option(None, "--to"),
    cell_deg: float = typer.Option(0.5, "--cell-deg", min=0.01, max=10.0, help="Grid cell size in degrees."),
    fusion_config: Path = typer.Option(None, "--fusion-config", help="YAML with fusion: settings."),
) -> None:
    """Learn how often reports and heat turn up with no event (per km^2 and hour) from past days."""
    cfg = fusion_config_or_exit(fusion_config)
    cfg.clutter_map = None  # learn from plain association, not from a previous map
    with Store.open(db) as store:
        obs = store.query_observations(t_from=_ts(t_from), t_to=_ts(t_to))
        sources = {s.id: s for s in store.list_sources()}
    fi, good, rejected = from_observations(obs, sources, cfg)
    cmap = learn_clutter(fi, fuse_arrays(fi, cfg).label, cell_deg=cell_deg)
    try:
        cmap.save(out)
    except OSError as exc:
        typer.echo(f"error: --out: cannot write {out}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    _out({"observations": len(good), "rejected": len(rejected), "hours": round(cmap.hours, 2),
          "cells": len(cmap.cells), "default_per_km2_h": cmap.default, "out": str(out)})
