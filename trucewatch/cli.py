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
    ("agreement", "trucewatch.agreement.cli"),
    ("bench", "trucewatch.bench.cli"),
    ("sea", "trucewatch.sources.sea.cli"),
    ("reports", "trucewatch.sources.text.cli"),
    ("satellite", "trucewatch.sources.satellite.cli"),
    ("ledger", "trucewatch.ledger.cli"),
    ("drone", "trucewatch.sources.drone.cli"),
    ("air", "trucewatch.sources.air.cli"),
    ("acoustic", "trucewatch.sources.acoustic.cli"),
    ("fusion", "trucewatch.fusion.cli"),
    ("mechanism", "trucewatch.mechanism.cli"),
]

#: Modules whose ``register(app)`` adds top-level commands (demo, sim, score...).
COMMANDS: list[str] = [
    "trucewatch.commands",
    "trucewatch.deploy.cli",
    "trucewatch.service.cli",
    "trucewatch.ledger.cli",
    "trucewatch.mission.cli",
    "trucewatch.plugins_cli",
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


if __name__ == "__main__":
    main()
