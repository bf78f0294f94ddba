"""The ``trucewatch`` command line: one module per command group under ``trucewatch/cli/``.

Why one package: the domain packages hold no Typer code (they expose plain
functions); each module here parses options, calls them and prints.  This file
only mounts the groups.  Commands that a machine reads take ``--json``.
"""

from __future__ import annotations

import typer

from trucewatch.cli import (
    acoustic,
    agreement,
    air,
    bench,
    demo,
    deploy,
    drone,
    fusion,
    ledger,
    mechanism,
    mission,
    plugins,
    process,
    report,
    reports,
    satellite,
    sea,
    serve,
    sim,
)

app = typer.Typer(
    name="trucewatch",
    help="Ceasefire monitoring and verification: sources to signed evidence to violations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: (command name, module holding a Typer ``app``).  Add a line per group.
SUBAPPS: list[tuple[str, typer.Typer]] = [
    ("agreement", agreement.app),
    ("bench", bench.app),
    ("sea", sea.app),
    ("reports", reports.app),
    ("satellite", satellite.app),
    ("ledger", ledger.app),
    ("drone", drone.app),
    ("air", air.app),
    ("acoustic", acoustic.app),
    ("fusion", fusion.app),
    ("mechanism", mechanism.app),
]


def _mount() -> None:
    for name, sub in SUBAPPS:
        app.add_typer(sub, name=name)
    # top-level commands, in the order `trucewatch --help` has always listed them
    app.command("sim")(sim.sim)
    app.command("ingest")(process.ingest)
    app.command("process")(process.process_cmd)
    app.command("export")(report.export)
    app.command("score")(sim.score)
    app.command("demo")(demo.demo)
    app.command("sources-add")(process.sources_add)
    app.add_typer(report.report_app, name="report")
    for module in (deploy, serve, ledger, mission, plugins):
        module.register(app)


_mount()


def main() -> None:
    app()
