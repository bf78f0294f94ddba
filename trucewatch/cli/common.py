"""What every command shares: the agreement and store options, clear errors, exit codes.

Why: a mistyped ``--db`` must not become an empty store, and a bad agreement or
mission config must end in one line on stderr and a known exit code, the same way
in every command group.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from trucewatch.agreement import Agreement, AgreementError, load_agreement
from trucewatch.data import default_agreement_path
from trucewatch.mission import MissionConfig, MissionError, mission_agreement, mission_config, open_mission_store
from trucewatch.store import Store, StoreMissing

AgreementOpt = typer.Option(None, "--agreement", "-a", help="Agreement YAML (default: the store's, from `trucewatch "
                            "init`; else the bundled ua-ru-2026 sample).")


def fail(msg: str, code: int = 1) -> NoReturn:
    """``error: MSG`` on stderr, then exit ``code``."""
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def load_agreement_or_exit(path: Path | None) -> Agreement:
    """``path``, else the bundled sample; a bad file is one line on stderr and exit 1."""
    try:
        return load_agreement(path or default_agreement_path())
    except AgreementError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def open_store(db: str | Path | None) -> Store:
    """An existing store, or exit 2 naming it (only ``init`` creates stores)."""
    try:
        return open_mission_store(db)
    except (StoreMissing, MissionError) as exc:
        fail(str(exc), 2)


def store_agreement_or(store: Store, path: Path | None) -> Agreement | None:
    """``--agreement`` if given, else the store's own (None when the store has none)."""
    if path is not None:
        try:
            return load_agreement(path)
        except AgreementError as exc:
            fail(str(exc), 2)
    return mission_agreement(store)


def store_agreement(store: Store, path: Path | None) -> Agreement:
    """``--agreement``, else the agreement the store was initialised with, else the bundled sample."""
    if path is None:
        agr = mission_agreement(store)
        if agr is not None:
            return agr
    return load_agreement_or_exit(path)


def mission_config_or_exit(store: Store) -> MissionConfig:
    try:
        return mission_config(store)
    except MissionError as exc:
        fail(str(exc), 2)
