"""One reader for line-per-record JSON (JSONL), shared by the intake formats.

Each format keeps its own error type and wording (tests and operators rely on
them), so the reader does not word errors: a line that is not JSON comes back
as a :class:`BadLine` holding the decoder's exception, with its line number,
and the caller names the record and field its own way.  Reading goes on after
a bad line, as the working rules ask.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be read: ``error.msg``/``error.colno`` (JSON) or
    ``error.reason``/``error.start`` (UTF-8, bytes lines only)."""

    error: json.JSONDecodeError | UnicodeDecodeError

    @property
    def why(self) -> str:
        """The error in words: the JSON message, or the UTF-8 reason and byte."""
        e = self.error
        return e.msg if isinstance(e, json.JSONDecodeError) else f"{e.reason} at byte {e.start}"


def json_lines(lines: Iterable[str | bytes]) -> Iterator[tuple[int, Any]]:
    """Yield (1-based line number, parsed value or :class:`BadLine`) for every non-blank line.

    Blank means whitespace only, judged before decoding.  ``bytes`` lines are
    decoded as strict UTF-8, so a bad byte is that line's error rather than a
    silent replacement character; callers that want replacement decode first.
    Lines are parsed as given (not stripped), so JSON error columns count from
    the start of the line.
    """
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield n, BadLine(exc)
                continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, BadLine(exc)
        except (RecursionError, ValueError) as exc:
            # nesting deeper than the interpreter allows, or an integer past Python's digit limit:
            # worded as a JSON error so every caller names the line the same way
            what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(":")[0]
            yield n, BadLine(json.JSONDecodeError(what, line, 0))
