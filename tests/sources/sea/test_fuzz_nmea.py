"""Fuzz: AIS NMEA decoding of a mutated real sample never raises, never hangs, and accounts for every line.

Input record: a non-blank line.  Each is a position (its line), a static report
(its line), a message without a position or of another kind (counted in
``stats``), or an error naming the line.  The base is the single-part sentences of
pyais's sample, half of them behind NMEA 4.0 tag blocks with a ``c:`` time.
"""

from __future__ import annotations

from functools import reduce
from pathlib import Path

import numpy as np
from hypothesis import given

from tests.fuzzing import FUZZ, bounded, mutated
from trucewatch.sources.sea.nmea import decode_lines

T0 = 1_773_532_800


def _tag(t: int) -> bytes:
    body = f"c:{t}".encode()
    return b"\\" + body + b"*%02X\\" % reduce(lambda a, b: a ^ b, body, 0)


def _base() -> bytes:
    raw = (Path(__file__).parent / "data" / "pyais_sample.nmea").read_bytes().splitlines()
    single = [ln for ln in raw if b",1,1," in ln]
    return b"\n".join(_tag(T0 + 10 * i) + ln if i % 2 == 0 else ln for i, ln in enumerate(single)) + b"\n"


BASE = _base()


def _account(data: bytes) -> None:
    with bounded(10):
        res = decode_lines(data.split(b"\n"), start_time=T0)
    lines = [n for n, ln in enumerate(data.split(b"\n"), 1) if ln.strip()]
    assert res.stats.get("lines", len(lines)) == len(lines) or not lines
    named = {e.line for e in res.errors} | set(res.positions.line.tolist()) | {s.line for s in res.statics}
    assert named <= set(lines), sorted(named - set(lines))
    # every non-blank line is named (error, position, static) or counted (no position, other)
    assert len(named) + res.stats.get("no_position", 0) + res.stats.get("other", 0) == len(lines), (
        len(named), res.stats, len(lines), [str(e) for e in res.errors][:5])
    for e in res.errors:
        assert e.field and e.message
    # an untimed line is decoded with time unknown (NaN), never with an invented or absurd time
    t = res.positions.t
    timed = t[~np.isnan(t)]
    assert ((timed >= 946_684_800) & (timed <= 4_102_444_800)).all(), timed


def test_base_sample_reads_cleanly() -> None:
    res = decode_lines(BASE.split(b"\n"), start_time=T0)
    assert len(res.positions) > 20 and all(e.field == "payload" for e in res.errors)  # two empty payloads in the sample


@FUZZ
@given(data=mutated(BASE))
def test_fuzz_nmea(data: bytes) -> None:
    _account(data)


def test_tag_block_only_and_out_of_range_times_are_named() -> None:
    good = BASE.split(b"\n")[1]
    lines = [b"\\c:1773538487*5E\\", b"\\c:1e300*00\\" + good, b"\\c:nan*00\\" + good, b"\\c:-5*00\\" + good,
             b"\\c:99999999999999999999*00\\" + good, b"\\c:12x*00\\" + good, b"inf " + good, good]
    res = decode_lines(lines, start_time=T0)
    assert [(e.line, e.field) for e in res.errors] == [(1, "sentence"), (2, "time"), (3, "time"), (4, "time"),
                                                        (5, "time"), (6, "time"), (7, "time")]
    assert res.positions.line.tolist() == [8]
