"""Exports of findings, one module per format, behind one registry.

Both the CLI (``trucewatch export``) and the API (``/api/v1/exports/{fmt}``) call
:func:`render` with the rows of one role's view (``trucewatch.service.views.Views``),
so a format has one implementation and the CLI and the API give the same columns.

A format module defines ``NAME``, ``SUFFIXES`` (file endings it is inferred
from), ``MEDIA_TYPE``, ``EXT`` and ``write(rows, ctx) -> bytes``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from trucewatch.errors import TruceWatchError

#: format name -> module; add a line to add a format.
MODULES: dict[str, str] = {
    "geojson": "trucewatch.exports.geojson",
    "csv": "trucewatch.exports.csv",
    "acled": "trucewatch.exports.acled",
    "gpkg": "trucewatch.exports.geopackage",
}


class ExportError(TruceWatchError, ValueError):
    pass


@dataclass
class ExportContext:
    """What a format may need besides the rows: the agreement (line, zones, parties) and party names."""

    agreement: Any = None
    party_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, agreement: Any) -> ExportContext:
        names = {p.id: (p.name or p.id) for p in agreement.spec.parties} if agreement is not None else {}
        return cls(agreement, names)


def formats() -> list[str]:
    return list(MODULES)


def module(fmt: str) -> ModuleType:
    if fmt not in MODULES:
        raise ExportError(f"format: {fmt!r} is not one of {', '.join(MODULES)}")
    return importlib.import_module(MODULES[fmt])


def infer(path: str | Path) -> str:
    """The format a file name asks for (``x.acled.csv`` before ``x.csv``)."""
    name = Path(path).name.lower()
    best = ""
    for fmt in MODULES:
        for suf in module(fmt).SUFFIXES:
            if name.endswith(suf) and len(suf) > len(best):
                best, found = suf, fmt
    if not best:
        sufs = ", ".join(s for f in MODULES for s in module(f).SUFFIXES)
        raise ExportError(f"{path}: cannot tell the format from the file name (use one of {sufs}, or --format)")
    return found


def render(fmt: str, rows: list[dict[str, Any]], ctx: ExportContext | None = None) -> bytes:
    return module(fmt).write(rows, ctx or ExportContext())
