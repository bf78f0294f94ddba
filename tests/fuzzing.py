"""Shared pieces of the parser fuzz tests (tests/**/test_fuzz_*.py).

Each fuzz test takes a real sample file, applies a few hostile edits drawn by
hypothesis (byte flips, truncation, a record duplicated or dropped, a hostile
value written over a field or spliced in: NaN, huge numbers, absurd dates,
control characters, bytes that are not UTF-8, very long fields, nesting deeper
than the interpreter's recursion limit, integers past Python's digit limit), runs the
parser under a wall-clock bound, and checks that no exception escapes and that
records plus errors account for every input record.

Runs are reproducible: ``FUZZ`` derandomizes hypothesis (the same examples on
every run, no example database), so a CI failure replays locally.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Settings of every parser fuzz test: a few seconds each.  The deadline is loose (a parse takes
#: milliseconds) so that a loaded CI machine does not flake; a real hang trips it or :func:`bounded`.
FUZZ = settings(max_examples=80, derandomize=True, database=None, deadline=timedelta(seconds=8),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

#: Hostile values written over a field or spliced into a record.
HOSTILE: tuple[bytes, ...] = (
    b"NaN", b"nan", b"inf", b"-Infinity", b"1e309", b"-1e309", b"99999999999999999999999999", b"-1", b"0",
    b"1e-320", b"18446744073709551616", b"9999-12-31T23:59:59-14:00", b"0001-01-01T00:00:00+14:00",
    b"0000-00-00", b"99999-01-01", b"Fri, 31 Dec 9999 23:59:59 -1200", b"Mon, 01 Jan 0000 00:00:00 GMT",
    b"2026-02-30T25:61:61Z", b"1e300", b"\x00", b"\x01\x02\x1b[2J\x7f", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"\xef\xbb\xbf", b"\xe2\x80\xa8", b'"', b"'", b"\\", b"\\u0000", b"{", b"}", b"[", b"]",
    b",", b";", b"\t", b"\r", b"\n", b"*", b"!", b"<", b"&amp;", b"<![CDATA[", b"]]>", b"null", b"true", b"{}",
    b"[]", b'{"a":', b"A" * 5000, b"\xd0\x96" * 3000, b"[" * 3000, b'{"a":' * 3000, b"1" * 5000,
)


@st.composite
def mutated(draw: st.DrawFn, base: bytes, *, sep: bytes = b"\n", head: int = 0, max_ops: int = 4,
            hostile: tuple[bytes, ...] = HOSTILE) -> bytes:
    """``base`` with 1..max_ops hostile edits.  ``sep`` splits records (for duplicate/drop/swap);
    the first ``head`` records (a header line) are left alone by the record-level edits."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(("overwrite_field", "flip", "cut_record", "splice", "duplicate", "truncate", "drop",
                                   "swap", "long_field")))
        recs = bytes(data).split(sep)
        if op == "flip" and data:
            for _ in range(draw(st.integers(1, 8))):
                i = draw(st.integers(0, len(data) - 1))
                data[i] ^= draw(st.integers(1, 255))
        elif op == "truncate" and data:
            data = data[:draw(st.integers(0, len(data) - 1))]
        elif op == "cut_record" and len(recs) > head:
            i = draw(st.integers(head, len(recs) - 1))
            recs[i] = recs[i][:draw(st.integers(0, max(len(recs[i]) - 1, 0)))]
            data = bytearray(sep.join(recs))
        elif op in ("duplicate", "drop", "swap") and len(recs) > head + 1:
            i = draw(st.integers(head, len(recs) - 1))
            if op == "duplicate":
                recs.insert(draw(st.integers(head, len(recs))), recs[i])
            elif op == "drop":
                del recs[i]
            else:
                j = draw(st.integers(head, len(recs) - 1))
                recs[i], recs[j] = recs[j], recs[i]
            data = bytearray(sep.join(recs))
        elif op == "splice":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.sampled_from(hostile))
        elif op in ("overwrite_field", "long_field") and data:
            # replace one token between delimiters (a CSV cell, a JSON value, an NMEA field)
            tokens = _token_spans(bytes(data))
            if not tokens:
                continue
            a, b = draw(st.sampled_from(tokens))
            val = draw(st.sampled_from(hostile)) if op == "overwrite_field" else bytes(data[a:b]) * 2000
            data[a:b] = val
    return bytes(data)


def _token_spans(data: bytes, limit: int = 4000) -> list[tuple[int, int]]:
    """(start, end) of runs between delimiters, for the first ``limit`` bytes' worth of tokens."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i, c in enumerate(data[:200_000]):
        if c in b',:;\t\n"<>[]{}*\\!':
            if i > start:
                spans.append((start, i))
                if len(spans) >= limit:
                    break
            start = i + 1
    return spans


@contextlib.contextmanager
def bounded(seconds: float = 10.0) -> Iterator[None]:
    """Fail (rather than hang the suite) when the body runs longer than ``seconds``.

    A timer signal on the main thread; elsewhere (pytest-xdist workers run tests on
    the main thread too) it is a no-op and hypothesis's deadline still applies.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _fire(_sig: int, _frame: object) -> None:
        raise TimeoutError(f"parser ran more than {seconds} s on one input (a hang?)")

    old = signal.signal(signal.SIGALRM, _fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def nonblank_lines(data: bytes) -> list[int]:
    """1-based numbers of the lines with something besides whitespace (how JSONL/NMEA readers count)."""
    return [n for n, ln in enumerate(data.split(b"\n"), 1) if ln.strip()]
