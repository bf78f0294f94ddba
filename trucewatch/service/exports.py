"""Moved: the export formats live in ``trucewatch.exports`` (one module per format, shared
by the CLI and the API).  These names stay for code that imported them from here."""

from __future__ import annotations

from typing import Any

from trucewatch.exports import ExportContext, render
from trucewatch.exports.acled import COLUMNS as ACLED_COLUMNS
from trucewatch.exports.common import COLUMNS, flat

__all__ = ["ACLED_COLUMNS", "COLUMNS", "flat", "geojson_bytes", "gpkg_bytes", "to_acled", "to_csv"]


def to_csv(views: list[dict[str, Any]]) -> str:
    return render("csv", views).decode()


def to_acled(views: list[dict[str, Any]], party_names: dict[str, str]) -> str:
    return render("acled", views, ExportContext(None, party_names)).decode()


def gpkg_bytes(views: list[dict[str, Any]], agreement: Any = None) -> bytes:
    return render("gpkg", views, ExportContext.of(agreement))


def geojson_bytes(views: list[dict[str, Any]]) -> bytes:
    return render("geojson", views)
