"""Fuzz: MAVLink tlog, telemetry JSONL and detections JSONL, mutated, never raise (beyond a named
TelemetryError when no flight is left), never hang, and account for every record.

Input records: a tlog record (8-byte receive stamp + one MAVLink packet); a
non-blank telemetry JSONL line; a non-blank detections JSONL line.  For the
tlog, ``Flight.records`` must add up (used + other + bad == read, every bad one
named in ``problems``) and, when the mutation only drops, duplicates or swaps
whole records, ``read`` must equal the records left in the file.  The bases are
what the project's writers produce for a short simulated patrol.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import FUZZ, bounded, mutated
from tests.sources.drone.conftest import T0, make_flight
from trucewatch.sources.drone.detections import read_detections
from trucewatch.sources.drone.telemetry import TelemetryError, read_jsonl, read_tlog, write_jsonl, write_tlog


def _bases(tmp: Path) -> tuple[bytes, bytes]:
    fl, _ = make_flight(legs=np.array([[-400.0, 0.0], [400.0, 0.0]]))
    write_tlog(tmp / "f.tlog", fl)
    write_jsonl(tmp / "f.jsonl", fl)
    return (tmp / "f.tlog").read_bytes(), (tmp / "f.jsonl").read_bytes()


def _records(buf: bytes) -> list[bytes]:
    """Split a well-formed tlog into its records (stamp + packet)."""
    out, pos = [], 0
    while pos < len(buf):
        magic = buf[pos + 8]
        plen = 10 + buf[pos + 9] + 2 + (13 if buf[pos + 10] & 1 else 0) if magic == 0xFD else 6 + buf[pos + 9] + 2
        out.append(buf[pos:pos + 8 + plen])
        pos += 8 + plen
    return out


def _detections() -> bytes:
    rng = np.random.default_rng(1)
    lines = [json.dumps({"id": "d0", "flight_id": "drone_test-01-x", "t": "2026-03-15T08:00:05Z", "class": "tank",
                         "confidence": 0.91, "image_hash": "ab" * 32, "bbox": [900, 500, 960, 540]})]
    for i in range(1, 20):
        r = {"id": f"d{i}", "flight_id": "drone_test-01-x", "t": T0 + 5 + i, "class": ["tank", "mlrs", "truck"][i % 3],
             "confidence": round(float(rng.uniform(0.5, 1)), 3)}
        if i % 4 == 0:
            r.update(lat=48.5 + float(rng.normal(0, 0.001)), lon=37.0 + float(rng.normal(0, 0.001)), err_m=15.0)
        else:
            u, v = float(rng.uniform(0, 1800)), float(rng.uniform(0, 1000))
            r["bbox"] = [round(u, 1), round(v, 1), round(u + 40, 1), round(v + 30, 1)]
        lines.append(json.dumps(r))
    return ("\n".join(lines) + "\n").encode()


import tempfile  # noqa: E402  (bases built once, at import)

with tempfile.TemporaryDirectory() as _d:
    TLOG, TELEMETRY = _bases(Path(_d))
RECORDS = _records(TLOG)
DETECTIONS = _detections()


def _tlog(path: Path, data: bytes, n_records: int | None = None) -> None:
    path.write_bytes(data)
    try:
        with bounded(10):
            fl = read_tlog(path)
    except TelemetryError as exc:
        assert path.name in str(exc)
        return
    r = fl.records
    assert r["used"] + r["other"] + r["bad"] == r["read"], r
    named = sum(1 for p in fl.problems if "record at byte" in p)
    assert named == r["bad"], (named, r, fl.problems[:5])
    if n_records is not None:
        assert r["read"] == n_records, (r, n_records)
    assert np.isfinite(fl.nav["t"]).all() and (np.abs(fl.nav["lat"]) <= 90).all()


def test_bases_read_cleanly(tmp_path: Path) -> None:
    (tmp_path / "f.tlog").write_bytes(TLOG)
    fl = read_tlog(tmp_path / "f.tlog")
    assert not fl.problems and fl.records["read"] == len(RECORDS) and fl.records["bad"] == 0
    (tmp_path / "f.jsonl").write_bytes(TELEMETRY)
    fl = read_jsonl(tmp_path / "f.jsonl")
    assert not fl.problems and fl.records["used"] == len(TELEMETRY.splitlines()) - 1
    (tmp_path / "d.jsonl").write_bytes(DETECTIONS)
    b = read_detections(tmp_path / "d.jsonl")
    assert len(b.detections) == 20 and not b.problems


@FUZZ
@given(ops=st.lists(st.tuples(st.sampled_from(("drop", "duplicate", "swap")), st.integers(0, 10**6),
                              st.integers(0, 10**6)), min_size=1, max_size=6))
def test_fuzz_tlog_records(tmp_path_factory, ops: list[tuple[str, int, int]]) -> None:
    recs = list(RECORDS)
    for op, i, j in ops:
        i, j = i % len(recs), j % len(recs)
        if op == "drop" and len(recs) > 1:
            del recs[i]
        elif op == "duplicate":
            recs.insert(j, recs[i])
        elif op == "swap":
            recs[i], recs[j] = recs[j], recs[i]
    _tlog(tmp_path_factory.mktemp("fz") / "f.tlog", b"".join(recs), n_records=len(recs))


@FUZZ
@given(data=mutated(TLOG, sep=b"\xfd"))
def test_fuzz_tlog_bytes(tmp_path_factory, data: bytes) -> None:
    _tlog(tmp_path_factory.mktemp("fz") / "f.tlog", data)


@FUZZ
@given(k=st.integers(0, len(RECORDS) - 1), stamp=st.sampled_from((0, 1, 2**63, 2**64 - 1, 4_102_444_800_000_001)))
def test_fuzz_tlog_stamps(tmp_path_factory, k: int, stamp: int) -> None:
    recs = list(RECORDS)
    recs[k] = struct.pack(">Q", stamp) + recs[k][8:]
    _tlog(tmp_path_factory.mktemp("fz") / "f.tlog", b"".join(recs), n_records=len(recs))


@FUZZ
@given(data=mutated(TELEMETRY))
def test_fuzz_telemetry_jsonl(tmp_path_factory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("fz") / "f.jsonl"
    p.write_bytes(data)
    try:
        with bounded(10):
            fl = read_jsonl(p)
    except TelemetryError as exc:
        assert p.name in str(exc)
        return
    r = fl.records
    lines = [ln for ln in data.decode("utf-8", "replace").split("\n") if ln.strip()]  # as the reader splits
    assert r["read"] == len(lines) and r["used"] + r["header"] + r["bad"] == r["read"], (r, len(lines))
    named = {int(m.group(1)) for x in fl.problems if (m := re.match(r"f\.jsonl:(\d+): ", x))}
    assert len(named) == r["bad"], (named, r, fl.problems[:5])
    assert np.isfinite(fl.nav["t"]).all() and (np.abs(fl.nav["lat"]) <= 90).all()


@FUZZ
@given(data=mutated(DETECTIONS))
def test_fuzz_detections(tmp_path_factory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("fz") / "d.jsonl"
    p.write_bytes(data)
    with bounded(10):
        b = read_detections(p)
    lines = [ln for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    named = {int(x.split(":", 2)[1]) for x in b.problems}
    assert len(b.detections) + len(named) == len(lines), (len(b.detections), b.problems[:3], len(lines))
    assert not named & {d.line for d in b.detections}
    for d in b.detections:
        assert 946_684_800 <= d.t <= 4_102_444_800 and 0 <= d.confidence <= 1
