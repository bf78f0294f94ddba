"""``trucewatch sources-add``, ``ingest`` and ``process``: evidence in, findings out."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import ValidationError

from trucewatch.cli.common import (
    AgreementOpt,
    fail,
    mission_config_or_exit,
    open_store,
    store_agreement,
)
from trucewatch.cli.fusion import fusion_config_or_exit
from trucewatch.ledger import ingest as ledger_ingest
from trucewatch.model import Observation, Source
from trucewatch.pipeline import outside_agreement, process, read_observations_jsonl
from trucewatch.store import RecordError


def sources_add(
    file: Path = typer.Argument(..., help="JSON list of sources (see docs/formats.md#sources)."),
    db: Path = typer.Option(..., "--db", help="Store file or URL."),
) -> None:
    """Register sources (idempotent)."""
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"{file}: {exc}")
    if not isinstance(raw, list):
        fail(f"{file}: expected a JSON list of sources")
    good, bad = [], 0
    for i, r in enumerate(raw):
        try:
            good.append(Source.model_validate(r))
        except ValidationError as exc:
            e = exc.errors()[0]
            typer.echo(f"{file}: [{i}] {r.get('id', '?') if isinstance(r, dict) else '?'}: "
                       f"{'.'.join(map(str, e['loc']))}: {e['msg']}", err=True)
            bad += 1
    with open_store(db) as store:
        store.add_sources(good)
    typer.echo(f"registered {len(good)} source(s); {bad} rejected")
    raise typer.Exit(1 if bad and not good else 0)


def ingest(
    file: Path = typer.Argument(..., help="Observations, one JSON object per line."),
    db: Path = typer.Option(..., "--db", help="Store file or URL."),
    require_signatures: bool = typer.Option(True, "--require-signatures/--unsigned",
                                            help="Reject observations without a valid source signature."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ingest observations: validate, check signatures, store, append to the evidence log."""
    if not file.is_file():
        fail(f"{file}: no such file")
    obs: list[Observation] = []
    errors: list[RecordError] = []
    for _, item in read_observations_jsonl(file):
        if isinstance(item, RecordError):
            errors.append(item)
        else:
            obs.append(item)
    with open_store(db) as store:
        rep = ledger_ingest.ingest(store, obs, require_signatures=require_signatures)
    rep.errors = errors + rep.errors
    if as_json:
        typer.echo(json.dumps(rep.as_dict()))
    else:
        for e in rep.errors:
            typer.echo(f"{file}: {e}", err=True)
        typer.echo(f"accepted {len(rep.accepted)}, duplicates {len(rep.duplicates)}, rejected {len(rep.errors)}")
    raise typer.Exit(1 if rep.errors and not rep.accepted and not rep.duplicates else 0)


def process_cmd(
    db: Path = typer.Option(..., "--db", help="Store file or URL."),
    agreement: Path | None = AgreementOpt,
    as_json: bool = typer.Option(False, "--json"),
    fusion_config: Path | None = typer.Option(None, "--fusion-config",
                                              help="YAML with fusion: settings (e.g. clutter_map: PATH)."),
) -> None:
    """Fuse stored observations into events, adjudicate violations, advance the workflow."""
    cfg = fusion_config_or_exit(fusion_config)
    store = open_store(db)
    with store:
        agr = store_agreement(store, agreement)
        mcfg = mission_config_or_exit(store)
        if fusion_config is None:
            cfg = mcfg.fusion_config()
        res = process(store, agr, fusion_config=cfg, workflow_config=mcfg.workflow_config())
        outside = outside_agreement(store, agr)
    d = res.as_dict() | {"outside": outside}
    if as_json:
        typer.echo(json.dumps(d))
        return
    typer.echo(f"{res.observations} observations -> {res.events} events -> {len(res.violations)} violations")
    if outside["before_start"] or outside["after_end"] or outside["outside_area"]:
        typer.echo(f"outside the agreement ({agr.id}, from {agr.start.isoformat()}"
                   + (f" to {agr.end.isoformat()}" if agr.end else "") + f"): {outside['before_start']} "
                   f"observation(s) before its start, {outside['after_end']} after its end, "
                   f"{outside['outside_area']} outside every party's area; they cannot be violations")
