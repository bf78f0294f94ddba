"""The package's error hierarchy and its one record-problem type.

Why one root: a caller (the CLI, the service, a mission's own script) can catch
everything TruceWatch raises on purpose with ``except TruceWatchError`` and let
real bugs through.  Every exception class in the package derives from it, and
keeps its other base (``ValueError``, ``RuntimeError``...) so older callers that
catch those still work; ``tests/test_errors.py`` walks the package to keep it so.

Why one record problem: bad input must never give a traceback or a silent drop,
but a clear error naming the record and the field.  Every parser (FIRMS, text,
air, acoustic, sea, drone...), fusion's input check, signature checks and the
store's ingest report the same :class:`RecordProblem`, so ``intake`` and the API
print and serialise them one way.

This module imports nothing from the project (it sits beside ``model.py`` at the
bottom of the layout), and ``model.py`` does not import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["RecordProblem", "RecordProblems", "TruceWatchError"]


class TruceWatchError(Exception):
    """Root of every exception TruceWatch raises on purpose."""


@dataclass(frozen=True, slots=True)
class RecordProblem:
    """One input record that could not be used: where it is, which field, why.

    ``record`` is how a person finds it again: ``"line 12"``, ``"message 5 (id=123)"``,
    ``"arrivals.csv record 3"``, or an observation id.  ``line`` is the 1-based line
    in the file where the format has lines (FIRMS, NMEA, JSONL), so callers can
    count and sort by it without parsing ``record``.
    """

    record: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.record}: {self.field}: {self.message}"

    @classmethod
    def at_line(cls, line: int, field: str, message: str, *, prefix: str = "") -> RecordProblem:
        """A problem on one line of a line-based file: ``record`` reads ``"{prefix}line N"``."""
        return cls(f"{prefix}line {line}", field, message, line=line)

    def as_dict(self) -> dict[str, Any]:
        """``record``, ``field``, ``message`` (and ``line`` where known): the JSON form intake and the API print."""
        d: dict[str, Any] = {"record": self.record, "field": self.field, "message": self.message}
        if self.line is not None:
            d["line"] = self.line
        return d

    def to_json(self) -> dict[str, Any]:
        """:meth:`as_dict` plus ``error``, the whole one-line text (what the per-source CLIs print)."""
        return self.as_dict() | {"error": str(self)}


class RecordProblems(TruceWatchError, ValueError):
    """Raised where a caller asked for all-or-nothing and some records were bad; ``problems`` names each."""

    def __init__(self, problems: Iterable[RecordProblem], what: str = "record(s)", *, shown: int = 50) -> None:
        self.problems: list[RecordProblem] = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems[:shown])
        more = f"\n  ... and {len(self.problems) - shown} more" if len(self.problems) > shown else ""
        super().__init__(f"{len(self.problems)} {what} rejected:\n{lines}{more}")
