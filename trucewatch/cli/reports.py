"""``trucewatch reports``: read text reports and print located, clustered claims."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from trucewatch.sources.text.gazetteer import Gazetteer
from trucewatch.sources.text.intake import read_any
from trucewatch.sources.text.pipeline import extract_claims, extract_observations

app = typer.Typer(help="Text reports (Telegram exports, RSS/Atom feeds, JSONL, patrol reports) to claims.",
                  no_args_is_help=True)


@app.command("extract")
def extract(
    path: Path = typer.Argument(..., help="Telegram result.json, an RSS/Atom feed, or JSONL of {id, source, "
                                          "published_at, text, lang?, url?}."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per claim (errors go to stderr as JSON)."),
    observations: bool = typer.Option(False, "--observations", help="Print REPORT_CLAIM observations instead."),
) -> None:
    """One line per claim: report_id, event_type, place, lat, lon, radius_m, admin1, occurred_from/to,
    actor, facility, cluster, independent (lat null plus a reason when the report names no place)."""
    if not path.exists():
        typer.echo(f"error: {path}: no such file", err=True)
        raise typer.Exit(2)
    records, errors = read_any(path)
    if observations:
        obs, errs = extract_observations(records)
        for o in obs:
            typer.echo(o.model_dump_json())
        errors += errs
    else:
        claims, errs = extract_claims(records)
        errors += errs
        for c in claims:
            d = c.to_json()
            if as_json:
                typer.echo(json.dumps(d, ensure_ascii=False))
            else:
                where = f"{d['place']} ({d['lat']}, {d['lon']}) ±{d['radius_m']} m" if d["lat"] is not None \
                    else f"unlocated: {d['reason']}"
                typer.echo(f"{d['report_id']}\t{d['event_type']}\t{where}\tcluster {d['cluster']}"
                           f"{'' if d['independent'] else ' (copy of ' + str(d['origin_id']) + ')'}")
    for e in errors:
        typer.echo(json.dumps({"error": e.message, "record": e.record, "field": e.field}, ensure_ascii=False)
                   if as_json else f"error: {e}", err=True)
    if errors and not records:
        raise typer.Exit(1)


@app.command("lookup")
def lookup(
    name: str,
    admin1: str = typer.Option(None, "--admin1", help="Region named with the place (any spelling)."),
    limit: int = typer.Option(5, "--limit"),
) -> None:
    """Gazetteer candidates for a place name, best first (JSON lines)."""
    for c in Gazetteer.load().lookup(name, admin1=admin1, limit=limit):
        typer.echo(json.dumps(c.to_dict(), ensure_ascii=False))
