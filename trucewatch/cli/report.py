"""``trucewatch report daily`` and ``export``: what the findings say, per role."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

from trucewatch import exports as XP
from trucewatch.cli.common import (
    AgreementOpt,
    fail,
    mission_config_or_exit,
    open_store,
    store_agreement,
)
from trucewatch.i18n import LanguageError, check
from trucewatch.model import Status
from trucewatch.report.daily import ReportError, ReportView, build_daily_report, default_views
from trucewatch.service.config import ConfigError, load_config
from trucewatch.service.views import ViolationFilter


def export(
    db: Path = typer.Option(..., "--db", help="Store file or URL."),
    out: Path = typer.Option(..., "--out", help="File to write; the format follows its suffix "
                                                "(.geojson, .csv, .acled.csv, .gpkg) unless --format says."),
    fmt: str | None = typer.Option(None, "--format", help="geojson, csv, acled or gpkg (default: from --out)."),
    status: list[str] = typer.Option([], "--status", help="Only these statuses (repeatable)."),
    view: str = typer.Option("analyst", "--view",
                             help="Whose view: analyst (everything), liaison:PARTY or public; as the API gives each role."),
    agreement: Path | None = AgreementOpt,
    config: Path | None = typer.Option(None, "--config",
                                       help="Service settings (YAML/JSON) with the public delay and statuses."),
) -> None:
    """Export findings as GeoJSON, CSV, ACLED-style CSV or GeoPackage: the same formats
    and columns as the API's /api/v1/exports/{fmt} (one implementation, trucewatch.exports)."""
    try:
        name = XP.infer(out) if fmt is None else XP.module(fmt.lower()).NAME
        rv = ReportView.parse(view)
        cfg = load_config(config)
    except (XP.ExportError, ReportError, ConfigError) as exc:
        fail(f"--format/--out/--view/--config: {exc}", 2)
    bad = [s for s in status if s not in {x.value for x in Status}]
    if bad:
        fail(f"--status: {', '.join(bad)} not one of {', '.join(x.value for x in Status)}", 2)
    store = open_store(db)
    agr = store_agreement(store, agreement)
    if rv.party is not None and rv.party not in agr.parties:
        fail(f"--view: {rv.party!r} is not a party to the agreement ({', '.join(agr.parties)})", 2)
    with store:
        views = default_views(store, cfg)
        rows: list[dict[str, Any]] = []
        offset, page = 0, 5000
        while True:
            got = views.query(rv.principal(), ViolationFilter(status=status or None, limit=page, offset=offset))
            rows += got
            if len(got) < page:
                break
            offset += page
        body = XP.render(name, rows, XP.ExportContext.of(agr))
    out.write_bytes(body)
    typer.echo(f"wrote {len(rows)} findings to {out} ({name}, {rv.key} view)")


report_app = typer.Typer(help="Reports: the daily report as HTML and PDF.", no_args_is_help=True)


@report_app.command("daily")
def report_daily(
    db: Path = typer.Option(..., "--db", help="Store file or URL."),
    day: str = typer.Option(..., "--date", help="Report date, YYYY-MM-DD."),
    out: Path = typer.Option(..., "--out", help="Directory for report.html, report.pdf, map.png."),
    cutoff: str | None = typer.Option(None, "--cutoff", help="Cut-off time HH:MM UTC (24:00 = end of day; default: "
                                      "the mission config's report_cutoff, else 19:30)."),
    agreement: Path | None = AgreementOpt,
    pdf: bool = typer.Option(True, "--pdf/--no-pdf"),
    view: str = typer.Option("analyst", "--view",
                             help="Whose report: analyst (everything), liaison:PARTY (what concerns PARTY) or "
                                  "public (published findings after the delay); as the API gives each role."),
    config: Path | None = typer.Option(None, "--config",
                                       help="Service settings (YAML/JSON) with the public delay and statuses."),
    lang: str = typer.Option("en", "--lang", help="Report language: en, uk (Ukrainian) or ru (Russian)."),
) -> None:
    """Build the daily report for the 24 hours up to the cut-off."""
    try:
        d = date.fromisoformat(day)
    except ValueError:
        fail(f"--date: expected YYYY-MM-DD, got {day!r}", 2)

    try:
        rv = ReportView.parse(view)
        cfg = load_config(config)
        lang = check(lang)
    except (ReportError, ConfigError, LanguageError) as exc:
        fail(f"--view/--config/--lang: {exc}", 2)
    store = open_store(db)
    with store:
        agr = store_agreement(store, agreement)
        if rv.party is not None and rv.party not in agr.parties:
            fail(f"--view: {rv.party!r} is not a party to the agreement ({', '.join(agr.parties)})", 2)
        mcfg = mission_config_or_exit(store)
        if config is None:
            cfg.public_delay_s = float(mcfg.public_delay_s)
        try:
            paths = build_daily_report(store, agr, d, out, cutoff=cutoff or mcfg.report_cutoff, pdf=pdf, view=rv,
                                       views=default_views(store, cfg), lang=lang)
        except ReportError as exc:
            fail(str(exc), 2)
    typer.echo("wrote " + ", ".join(str(p) for p in paths.values()))
