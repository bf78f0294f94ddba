"""``trucewatch demo``: a built-in day end to end, scored (the orchestration is trucewatch.demo)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import typer

from trucewatch.demo import run_demo, run_intake_demo


def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", help="Directory for report.html, violations.geojson, truth.json, score.json, trucewatch.db."),
    scenario: str = typer.Option("demo", "--scenario"),
    seed: int = typer.Option(1, "--seed"),
    # direct stays the default while the raw path scores below F1 0.8 (see docs/sim_raw.md)
    raw: bool = typer.Option(False, "--raw/--direct", help="Simulate raw source files (written under OUT/raw) and "
                             "run the real source stages on them, or invent observations directly (default)."),
    intake: bool = typer.Option(False, "--intake", help="The user's path: raw files, then init, sources add, "
                                "intake, process and report as the commands run them (each step printed)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run a built-in one-day scenario end to end and score it against its truth."""
    t0 = time.perf_counter()
    if intake:
        summary = run_intake_demo(out, scenario=scenario, seed=seed,
                                  echo=(lambda m: None) if as_json else typer.echo)
    else:
        summary = run_demo(out, scenario=scenario, seed=seed, progress=not as_json and sys.stderr.isatty(), raw=raw)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    if as_json:
        typer.echo(json.dumps(summary))
        return
    s = summary["score"]
    typer.echo(f"{summary['observations']} observations, {summary['events']} events, {summary['violations']} violations "
               f"in {summary['seconds']} s")
    typer.echo(f"violation F1 {s['f1']} (precision {s['precision']}, recall {s['recall']}), attribution accuracy "
               f"{s['attribution_accuracy']}, false attribution {s['false_attribution_rate']}, median location error "
               f"{s['median_location_error_m']} m")
    typer.echo(f"wrote {out}/report.html, report.pdf, violations.geojson, truth.json, score.json, trucewatch.db")
