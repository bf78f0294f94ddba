"""Top-level commands of the vertical slice: sim, ingest, fuse, score, demo."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Mount the top-level commands on the main app."""
