"""Flat CSV: one row per finding, the columns of ``common.COLUMNS`` (same from the CLI and the API)."""

from __future__ import annotations

from typing import Any

from trucewatch.exports.common import COLUMNS, flat, places, to_csv

NAME = "csv"
SUFFIXES = (".csv",)
MEDIA_TYPE = "text/csv; charset=utf-8"
EXT = "csv"


def write(rows: list[dict[str, Any]], ctx: Any = None) -> bytes:
    return to_csv([flat(v, p) for v, p in zip(rows, places(rows), strict=True)], COLUMNS).encode()
