"""Fuzz: FIRMS CSV intake on mutated real files never raises (beyond a named FirmsError for a file
that cannot be read at all), never hangs, and accounts for every row.

Input record: a line after the header (pandas' C reader with blank lines kept:
a blank line is a row, reported as such).  ``FirmsBatch.n_rows`` must equal
accepted rows + rows named in errors; where the file has no quote or carriage
return (so lines and rows are the same thing) ``n_rows`` must also equal the
number of lines after the header.  Samples and licences: data/SOURCE.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given

from tests.fuzzing import FUZZ, bounded, mutated
from trucewatch.sources.satellite.firms import FirmsError, read_firms

DATA = Path(__file__).parent / "data"
NRT = (DATA / "viirs_noaa20_nrt_2025-11-16_sample.csv").read_bytes()
ARCHIVE = (DATA / "ukraine_2022_lat_lon_date_slice.csv").read_bytes()


def _lines_after_header(data: bytes) -> int:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return max(len(lines) - 1, 0)


def _check(data: bytes) -> None:
    try:
        with bounded(10):
            b = read_firms(data, name="fuzz.csv")
    except FirmsError as exc:  # file-level: no header, or a required column missing (a bad byte is a row's error)
        assert str(exc).startswith("fuzz.csv: ")
        assert "missing required column" in str(exc) or "empty file" in str(exc) or "not a CSV file" in str(exc), exc
        return
    for e in b.errors:
        assert e.field and e.message and e.line >= 2
    rejected = {e.line for e in b.errors}
    assert len(b) + len(rejected) == b.n_rows, (len(b), sorted(rejected), b.n_rows)
    assert not set(b.line.tolist()) & rejected
    if b'"' not in data and b"\r" not in data and b"\n\n" not in data.rstrip(b"\n") + b"\n":
        assert b.n_rows == _lines_after_header(data), (b.n_rows, _lines_after_header(data))
    assert (np.abs(b.lat) <= 90).all() and (np.abs(b.lon) <= 180).all() and np.isfinite(b.t).all()


def test_samples_read_cleanly() -> None:
    for data, n in ((NRT, 5), (ARCHIVE, 33)):
        b = read_firms(data, name="s.csv")
        assert len(b) == n and not b.errors


@FUZZ
@given(data=mutated(NRT, head=1))
def test_fuzz_firms_nrt(data: bytes) -> None:
    _check(data)


@FUZZ
@given(data=mutated(ARCHIVE, head=1))
def test_fuzz_firms_archive(data: bytes) -> None:
    _check(data)


def test_non_utf8_byte_names_the_row() -> None:
    lines = NRT.split(b"\n")
    lines[2] = lines[2].replace(b"N20", b"N\xff0")
    lines[4] = lines[4].replace(b"50.", b"5\xfe.")
    b = read_firms(b"\n".join(lines), name="x.csv")
    assert len(b) == 3
    assert sorted((e.line, e.field) for e in b.errors) == [(3, "satellite"), (5, "latitude")]
    assert "not UTF-8" in str(b.errors[0])
