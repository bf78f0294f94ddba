"""Exports of findings, one module per format, behind one registry.

Both the CLI (``trucewatch export``) and the API (``/api/v1/exports/{fmt}``) call
:func:`render` with the rows of one role's view (``trucewatch.service.views.Views``),
so a format has one implementation and the CLI and the API give the same columns.

A format is a module (or any object) with ``NAME``, ``SUFFIXES`` (file endings it is
inferred from), ``MEDIA_TYPE``, ``EXT`` and ``write(rows, ctx) -> bytes``, and
optionally ``DESCRIPTION``.  The built-in ones are listed in :data:`BUILTIN`; a
package adds its own through the ``trucewatch.exports`` entry point group
(:mod:`trucewatch.plugins`, docs/plugins.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trucewatch import plugins
from trucewatch.errors import TruceWatchError
from trucewatch.exports import acled, geojson, geopackage
from trucewatch.exports import csv as csv_format

#: The built-in formats, in the order they are listed.
BUILTIN: list[Any] = [geojson, csv_format, acled, geopackage]
#: What a format must provide.
REQUIRED = ("NAME", "SUFFIXES", "MEDIA_TYPE", "EXT", "write")


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


def registry() -> dict[str, Any]:
    """Format name -> format: the built-ins, then installed plugins' (``trucewatch.exports``)."""
    out = {m.NAME: m for m in BUILTIN}
    for p in plugins.load("exports"):
        m = p.value
        missing = [a for a in REQUIRED if not hasattr(m, a)]
        if missing:
            raise ExportError(f"plugin {p.entry_point!r} ({p.distribution}): the export format lacks "
                              f"{', '.join(missing)}")
        if m.NAME in out:
            raise ExportError(f"plugin {p.entry_point!r} ({p.distribution}): format {m.NAME!r} is already registered")
        out[m.NAME] = m
    return out


def formats() -> list[str]:
    return list(registry())


def describe() -> list[dict[str, Any]]:
    """Every format as name, suffixes, media type and description (the CLI's and API's listing)."""
    builtin = {id(m) for m in BUILTIN}
    return [{"name": n, "suffixes": list(m.SUFFIXES), "media_type": m.MEDIA_TYPE,
             "description": getattr(m, "DESCRIPTION", None) or (m.__doc__ or "").strip().split("\n")[0],
             "plugin": id(m) not in builtin} for n, m in registry().items()]


def module(fmt: str) -> Any:
    """The format called ``fmt`` (ExportError naming the known ones otherwise)."""
    reg = registry()
    if fmt not in reg:
        raise ExportError(f"format: {fmt!r} is not one of {', '.join(reg)}")
    return reg[fmt]


def infer(path: str | Path) -> str:
    """The format a file name asks for (``x.acled.csv`` before ``x.csv``)."""
    name = Path(path).name.lower()
    best, found = "", ""
    reg = registry()
    for fmt, m in reg.items():
        for suf in m.SUFFIXES:
            if name.endswith(suf) and len(suf) > len(best):
                best, found = suf, fmt
    if not best:
        sufs = ", ".join(s for m in reg.values() for s in m.SUFFIXES)
        raise ExportError(f"{path}: cannot tell the format from the file name (use one of {sufs}, or --format)")
    return found


def render(fmt: str, rows: list[dict[str, Any]], ctx: ExportContext | None = None) -> bytes:
    return bytes(module(fmt).write(rows, ctx or ExportContext()))


__all__ = ["BUILTIN", "ExportContext", "ExportError", "describe", "formats", "infer", "module", "registry", "render"]
