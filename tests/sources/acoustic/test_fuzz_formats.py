"""Fuzz: the sensor registry CSV and the arrivals CSV/JSONL, mutated, never raise or hang, and
every input record is an accepted sensor/arrival or an error naming it.

Input record: a CSV record after the header (as RFC 4180 splits the text; blank
lines are not records) or a non-blank JSONL line.  A header that lost a required
column is one file-level error (record 1) and nothing is read.  The base files
are what the project's own writers produce for a jittered 6 x 6 sensor grid.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
from hypothesis import given

from tests.fuzzing import FUZZ, bounded, mutated
from trucewatch.errors import RecordProblem
from trucewatch.sources.acoustic.formats import Sensors, read_arrivals, read_sensors

T0 = 1_773_532_800.0  # 2026-03-15
NOW = T0 + 86_400.0


def _grid() -> tuple[Sensors, bytes, bytes, bytes]:
    rng = np.random.default_rng(3)
    n = 12
    sens = Sensors.from_columns([f"S{i:02d}" for i in range(n)], 48.3 + rng.normal(0, 0.02, n),
                                37.8 + rng.normal(0, 0.03, n), np.full(n, 153.0), np.full(n, 0.001))
    from trucewatch.sources.acoustic.formats import Arrivals

    s = np.repeat(np.arange(n), 2)
    t = T0 + np.tile([10.0, 250.0], n) + rng.uniform(0, 3, s.size)
    ids = np.array([f"a{i}" for i in range(s.size)], dtype=object)
    arr = Arrivals(ids, s, t, np.full(s.size, 20.0), np.ones(s.size, np.int8), np.full(s.size, np.nan))
    jsonl = "".join(json.dumps(r) + "\n" for r in arr.records(sens)).encode()
    return sens, sens.to_csv().encode(), arr.to_csv(sens).encode(), jsonl


SENSORS, SENSORS_CSV, ARRIVALS_CSV, ARRIVALS_JSONL = _grid()


def _csv_records(data: bytes) -> int:
    """Data records of a CSV file, counted independently of the parser (header excluded)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8", "replace").removeprefix("\ufeff"), newline=""))
    n = 0
    while True:
        start = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            n += 1
            if reader.line_num == start:
                break
            continue
        n += bool(row)
    return max(n - 1, 0)


def _check(errors: list[RecordProblem], accepted: int, n_in: int) -> None:
    for e in errors:
        assert e.field and e.message and str(e.record)
    file_level = [e for e in errors if e.line == 1 and "column missing" in e.message]
    if not file_level and accepted == 0 and len(errors) == 1 and errors[0].line == 1:
        file_level = errors  # the header itself is refused: one error for the file, named at line 1
    if file_level:
        assert accepted == 0 and len(errors) == 1
        return
    assert accepted + len({e.line for e in errors}) == n_in, (accepted, sorted({e.line for e in errors}), n_in)


def test_bases_read_cleanly(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_bytes(SENSORS_CSV)
    sens, errs = read_sensors(p)
    assert len(sens) == 12 and not errs
    for name, data in (("a.csv", ARRIVALS_CSV), ("a.jsonl", ARRIVALS_JSONL)):
        (tmp_path / name).write_bytes(data)
        arr, errs, _ = read_arrivals(tmp_path / name, sens, now=NOW)
        assert len(arr) == 24 and not errs


@FUZZ
@given(data=mutated(SENSORS_CSV, head=1))
def test_fuzz_sensors_csv(tmp_path_factory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("fz") / "sensors.csv"
    p.write_bytes(data)
    with bounded(10):
        sens, errors = read_sensors(p)
    _check(errors, len(sens), _csv_records(data))
    assert np.isfinite(sens.lat).all() and np.isfinite(sens.lon).all()


@FUZZ
@given(data=mutated(ARRIVALS_CSV, head=1))
def test_fuzz_arrivals_csv(tmp_path_factory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("fz") / "arrivals.csv"
    p.write_bytes(data)
    with bounded(10):
        arr, errors, _notes = read_arrivals(p, SENSORS, now=NOW)
    if data.decode("utf-8", "replace").lstrip().startswith("{"):
        return  # the mutation made it look like JSONL: covered by the JSONL test
    _check(errors, len(arr), _csv_records(data))
    assert np.isfinite(arr.t).all()


@FUZZ
@given(data=mutated(ARRIVALS_JSONL))
def test_fuzz_arrivals_jsonl(tmp_path_factory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("fz") / "arrivals.jsonl"
    p.write_bytes(data)
    with bounded(10):
        arr, errors, _notes = read_arrivals(p, SENSORS, now=NOW)
    text_first = next((ln for ln in data.decode("utf-8", "replace").removeprefix("\ufeff").splitlines() if ln.strip()), "")
    if not text_first.lstrip().startswith("{"):
        _check(errors, len(arr), _csv_records(data))  # read as CSV (no header): one file-level error
        return
    lines = [ln for ln in data.removeprefix(b"\xef\xbb\xbf").splitlines() if ln.strip()]
    _check(errors, len(arr), len(lines))
    assert np.isfinite(arr.t).all()


def test_non_utf8_bytes_are_named(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_bytes(b"sensor_id,lat,lon\nS1,48.1,37.1\nS\xff2,48.2,37.2\nS3,4\xfe8.3,37.3\n")
    sens, errs = read_sensors(p)
    assert list(sens.ids) == ["S1"]
    assert [(e.line, e.field) for e in errs] == [(3, "sensor_id"), (4, "lat")]
    a = tmp_path / "a.csv"
    a.write_bytes(b"sensor_id,time_unix_s\nS1,1773532800\nS1,17735\xc328\n")
    arr, errs, _ = read_arrivals(a, sens, now=NOW)
    assert len(arr) == 1 and [(e.line, e.field) for e in errs] == [(3, "time_unix_s")]
    j = tmp_path / "a.jsonl"
    j.write_bytes(b'{"sensor_id": "S1", "time_unix_s": 1773532800}\n{"sensor_id": "S\xff1", "time_unix_s": 1773532801}\n')
    arr, errs, _ = read_arrivals(j, sens, now=NOW)
    assert len(arr) == 1 and [(e.line, e.field) for e in errs] == [(2, "json")]


PAYLOAD = json.dumps({"time_unix_s": T0 + 12.5, "snr_db": 21.0, "kind_hint": "impact", "arrival_id": "a-mqtt-1"}).encode()


@FUZZ
@given(data=mutated(PAYLOAD, sep=b","))
def test_fuzz_mqtt_payload(data: bytes) -> None:
    """One MQTT message is one record: an arrival or one error naming it, never an exception."""
    from trucewatch.sources.acoustic.formats import parse_arrival_rows
    from trucewatch.sources.acoustic.stream import parse_message

    with bounded(10):
        row, err = parse_message("trucewatch/arrivals/S01", data)
        assert (row is None) != (err is None)
        if row is not None:
            arr, errors, _ = parse_arrival_rows([("mqtt", row)], SENSORS, "mqtt", now=NOW)
            assert len(arr) + len({e.record for e in errors}) == 1
