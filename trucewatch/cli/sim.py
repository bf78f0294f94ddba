"""``trucewatch sim`` and ``score``: simulated days and their scoring against the truth."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from trucewatch.cli.common import (
    AgreementOpt,
    fail,
    load_agreement_or_exit,
)
from trucewatch.sim.observe import observe, simulated_sources
from trucewatch.sim.raw import raw_observations
from trucewatch.sim.scenario import make_scenario
from trucewatch.sim.score import ScoreInputError, score_files


def sim(
    scenario: str = typer.Option("demo", "--scenario", help="Scenario name: demo, quiet, heavy."),
    seed: int = typer.Option(1, "--seed"),
    out: Path = typer.Option(..., "--out", help="Directory for truth.json, sources.json, observations.jsonl."),
    day: str = typer.Option("2026-03-15", "--day", help="Simulated day (UTC)."),
    agreement: Path | None = AgreementOpt,
    raw: bool = typer.Option(False, "--raw/--direct", help="Write raw source files under OUT/raw and run the real "
                             "source stages on them, or invent observations directly (default)."),
) -> None:
    """Simulate a scenario: ground truth and the observations sources would produce."""
    agr = load_agreement_or_exit(agreement)
    try:
        sc = make_scenario(agr, scenario, seed, day)
    except ValueError as exc:
        fail(str(exc), 2)
    out.mkdir(parents=True, exist_ok=True)
    sc.write(out / "truth.json")
    if raw:
        sources, obs, info = raw_observations(sc, agr, seed, out)
        for stage, errs in info["errors"].items():
            typer.echo(f"{stage}: {len(errs)} problem(s), first: {errs[0]}", err=True)
    else:
        sources = simulated_sources(agr)
        obs = observe(sc, agr, seed)
    (out / "sources.json").write_text(json.dumps([s.model_dump(mode="json") for s in sources], indent=1))
    with open(out / "observations.jsonl", "w", encoding="utf-8") as f:
        for o in obs:
            f.write(o.model_dump_json() + "\n")
    typer.echo(f"wrote {out}/truth.json ({len(sc.events)} events, {len(sc.violations())} violations), "
               f"sources.json ({len(sources)}), observations.jsonl ({len(obs)})")


def score(
    truth: Path = typer.Option(..., "--truth", help="truth.json from `trucewatch sim` or the demo."),
    found: Path = typer.Option(..., "--found", help="violations.geojson to score."),
    time_tol_s: float = typer.Option(3600.0, "--time-tol-s"),
    dist_tol_m: float = typer.Option(5000.0, "--dist-tol-m"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Precision, recall, F1, attribution and location error of found violations."""
    try:
        res = score_files(truth, found, time_tol_s=time_tol_s, dist_tol_m=dist_tol_m)
    except ScoreInputError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(res))
    else:
        for k, v in res.items():
            if k != "per_rule":
                typer.echo(f"{k:28s} {v}")
