"""The ``trucewatch`` command line: one sub-command group per pipeline stage.

Each stage owns a Typer app in its own ``cli`` module; this file only mounts
them, so stages stay independent.  Commands that a machine reads take ``--json``.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="trucewatch",
    help="Ceasefire monitoring and verification: sources to signed evidence to violations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: (command name, module holding a Typer ``app``).  Add a line per stage.
SUBAPPS: list[tuple[str, str]] = [
    ("agreement", "trucewatch.cli.agreement"),
    ("bench", "trucewatch.cli.bench"),
    ("sea", "trucewatch.cli.sea"),
    ("reports", "trucewatch.cli.reports"),
    ("satellite", "trucewatch.cli.satellite"),
    ("ledger", "trucewatch.cli.ledger"),
    ("drone", "trucewatch.cli.drone"),
    ("air", "trucewatch.cli.air"),
    ("acoustic", "trucewatch.cli.acoustic"),
    ("fusion", "trucewatch.cli.fusion"),
    ("mechanism", "trucewatch.cli.mechanism"),
]

#: Modules whose ``register(app)`` adds top-level commands (demo, sim, score...).
COMMANDS: list[str] = [
    "trucewatch.cli.commands",
    "trucewatch.cli.deploy",
    "trucewatch.cli.serve",
    "trucewatch.cli.ledger",
    "trucewatch.cli.mission",
]


def _mount() -> None:
    for name, module in SUBAPPS:
        sub = importlib.import_module(module).app
        app.add_typer(sub, name=name)
    for module in COMMANDS:
        importlib.import_module(module).register(app)


_mount()


def main() -> None:
    app()

