"""``trucewatch air``: air-defence summaries to counts, air-picture tracks against an agreement."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import typer

from trucewatch.agreement import AgreementError, load_agreement
from trucewatch.model import to_utc
from trucewatch.sim.air import simulate_air
from trucewatch.sources.air.intake import process_posts, read_posts
from trucewatch.sources.air.rules import track_findings
from trucewatch.sources.air.tracks import read_tracks_file, track_observations

app = typer.Typer(help="Air: daily air-defence summaries (uk/en) and air-picture tracks (JSONL) against the agreement.",
                  no_args_is_help=True)

DEFAULT_AGREEMENT = Path(__file__).resolve().parents[1] / "data" / "agreements" / "ua-ru-2026" / "agreement.yaml"


def _write(out: Path | None, obs: list[Any]) -> None:
    if out is None:
        return
    with out.open("w", encoding="utf-8") as fh:
        for o in obs:
            fh.write(o.model_dump_json() + "\n")
    typer.echo(f"wrote {len(obs)} observations to {out}", err=True)


@app.command()
def summaries(
    file: Path = typer.Argument(..., help="Posts: JSONL ({id, published, text}), a Telegram export result.json, or one text file."),
    published: str | None = typer.Option(None, help="Publication time for a plain text file (ISO 8601)."),
    out: Path | None = typer.Option(None, "--out", help="Write AIR_SUMMARY observations as JSONL."),
    source_id: str = typer.Option("airforce:kpszsu", help="Registered source id of the channel."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Read air-defence summaries into launched/intercepted counts per weapon type and launch area."""
    if not file.is_file():
        typer.echo(f"error: {file}: file not found", err=True)
        raise typer.Exit(2)
    pub = None
    if published:
        try:
            pub = to_utc(datetime.fromisoformat(published.replace("Z", "+00:00")))
        except ValueError:
            typer.echo(f"error: --published: {published!r} is not ISO 8601", err=True)
            raise typer.Exit(2) from None
    posts, errors = read_posts(file, pub)
    sums, obs, errs = process_posts(posts, source_id)
    errors += errs
    for e in errors:
        typer.echo(f"error: {e}", err=True)
    _write(out, obs)
    if as_json:
        typer.echo(json.dumps({"summaries": [{
            "id": s.id, "language": s.language, "window_from": s.window_from, "window_to": s.window_to,
            "total_launched": s.total_launched, "total_intercepted": s.total_intercepted, "problems": s.problems,
            "items": [asdict(i) for i in s.items]} for s in sums], "errors": [asdict(e) for e in errors]}, default=str,
            ensure_ascii=False))
        return
    typer.echo(f"{len(posts)} posts, {len(sums)} summaries, {len(obs)} observations, {len(errors)} errors")
    for s in sums:
        w = f"{s.window_from:%Y-%m-%d %H:%M}Z..{s.window_to:%H:%M}Z" if s.window_from and s.window_to else "no window"
        typer.echo(f"{s.id} [{s.language}] {w}")
        for i in s.items:
            areas = ", ".join(str(a.get("canonical") or a["name"]) for a in i.launch_areas)
            typer.echo(f"  {i.weapon_type:18s} launched {i.launched if i.launched is not None else '?':>4}  "
                       f"intercepted {i.intercepted if i.intercepted is not None else '?':>4}  {areas}")


@app.command()
def tracks(
    file: Path = typer.Argument(..., help="Track points, JSONL (track_id, t, lat, lon, alt_m, speed_mps, classification)."),
    agreement: Path | None = typer.Option(None, "--agreement", "-a", help="Agreement YAML (default: ua-ru-2026)."),
    out: Path | None = typer.Option(None, "--out", help="Write AIR_TRACK observations as JSONL."),
    source_id: str = typer.Option("airpicture:feed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ingest air tracks and list candidate findings: launch from territory, crossing the line, strikes on protected objects."""
    if not file.is_file():
        typer.echo(f"error: {file}: file not found", err=True)
        raise typer.Exit(2)
    try:
        agr = load_agreement(agreement or DEFAULT_AGREEMENT)
    except AgreementError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    trs, errors = read_tracks_file(file)
    for e in errors:
        typer.echo(f"error: {e}", err=True)
    obs = track_observations(trs, source_id)
    for tr, o in zip(trs, obs, strict=False):
        tr.attributes["observation_id"] = o.id
    findings = track_findings(trs, agr)
    _write(out, obs)
    if as_json:
        typer.echo(json.dumps({"tracks": len(trs), "errors": [asdict(e) for e in errors],
                               "findings": [{**asdict(f), "rule": f.rule.value} for f in findings]}, default=str))
        return
    typer.echo(f"{len(trs)} tracks, {len(errors)} errors, {len(findings)} candidate findings on {agr.id}")
    for f in findings:
        typer.echo(f"  {f.time:%Y-%m-%d %H:%M:%S}Z  {f.rule_id} {f.rule.value:28s} {f.party:12s} {f.explanation}")


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="Directory for tracks.jsonl, summaries.jsonl, air_truth.json."),
    nights: int = typer.Option(1),
    drones: int = typer.Option(60, help="Shahed-type drones per night."),
    seed: int = typer.Option(1),
    day: str = typer.Option("2026-03-15", help="Evening of the first night (YYYY-MM-DD)."),
) -> None:
    """Simulate night strike waves: tracks (JSONL), the morning summaries, and the truth."""
    sim = simulate_air(np.random.default_rng(seed), day=day, nights=nights, drones=drones)
    sim.write(out)
    typer.echo(f"wrote {len(sim.track_lines)} track points, {len(sim.summaries)} summaries, "
               f"{len(sim.truth)} truth tracks to {out}")
