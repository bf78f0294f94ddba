"""``trucewatch mechanism ...``: cases and deadlines, the step chain, the weekly summary,
from the command line (a cron job can print overdue cases or check the chain)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

from trucewatch.mechanism import reports as R
from trucewatch.mechanism.mission import Mechanism, stored_config
from trucewatch.report.daily import ReportError, ReportView, default_views
from trucewatch.service.config import ConfigError, load_config
from trucewatch.store import Store

app = typer.Typer(help="The mechanism: cases and deadlines, the step chain, weekly summaries (docs/workflow.md).",
                  no_args_is_help=True)


def _mech(db: str, config: Path | None = None) -> Any:
    store = Store.open(db)
    cfg = stored_config(store)
    if config is not None:
        try:
            cfg = load_config(config).mechanism
        except ConfigError as exc:
            typer.echo(f"error: --config: {exc}", err=True)
            raise typer.Exit(2) from None
    return Mechanism(store, cfg)


@app.command("cases")
def cases(db: str = typer.Option(..., "--db", help="Store path or URL."),
          overdue: bool = typer.Option(False, "--overdue", help="Only cases with a step past its deadline."),
          as_json: bool = typer.Option(False, "--json"),
          config: Path = typer.Option(None, "--config", help="Service config (its mechanism: deadlines).")) -> None:
    """List cases with their state, next step and overdue steps (exit 1 when --overdue finds any)."""
    m = _mech(db, config)
    rows = m.list_cases(overdue_only=overdue, limit=100_000)
    if as_json:
        typer.echo(json.dumps(rows, indent=1, default=str))
    else:
        for c in rows:
            late = f"  OVERDUE: {', '.join(c['overdue'])}" if c["overdue"] else ""
            typer.echo(f"{c['id']}  {c['state']:<12} {c['type']:<20} next: {', '.join(c['allowed_next']) or '-'}{late}")
    if overdue and rows:
        raise typer.Exit(1)


@app.command("verify")
def verify(db: str = typer.Option(..., "--db", help="Store path or URL.")) -> None:
    """Re-check the append-only step chain and its anchors in the signed evidence log (exit 1 if broken)."""
    out = _mech(db).verify_steps()
    typer.echo(json.dumps(out, indent=1))
    if not out["ok"]:
        raise typer.Exit(1)


@app.command("weekly")
def weekly(db: str = typer.Option(..., "--db", help="Store path or URL."),
           week: str = typer.Option(..., "--week", help="ISO week, e.g. 2026-W49."),
           view: str = typer.Option("analyst", "--view", help="analyst | liaison:PARTY | public"),
           out: Path = typer.Option(None, "--out", help="Write here (.html or .json); default: JSON to stdout.")) -> None:
    """The weekly summary in one role's view (as GET /api/v1/reports/weekly/{week})."""
    try:
        start = date.fromisoformat(f"{week}-1")
    except ValueError:
        typer.echo(f"error: --week: {week!r} is not an ISO week (2026-W49)", err=True)
        raise typer.Exit(2) from None
    try:
        v = ReportView.parse(view)
    except ReportError as exc:
        typer.echo(f"error: --view: {exc}", err=True)
        raise typer.Exit(2) from None
    m = _mech(db)
    data = R.weekly(m, default_views(m.store), start, v.principal())
    if out is None:
        typer.echo(json.dumps(data, indent=1, default=str))
    elif out.suffix == ".html":
        out.write_text(R.to_html(data), encoding="utf-8")
    else:
        out.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")
