"""Telemetry intake: real MAVLink tlogs written with pymavlink's encoder, and JSONL."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from trucewatch.sources.drone.geometry import camera_matrices
from trucewatch.sources.drone.telemetry import (
    TelemetryError,
    read_flight,
    read_jsonl,
    read_tlog,
    write_jsonl,
    write_tlog,
)


def test_tlog_round_trip(tmp_path, flight):
    fl, _ = flight
    p = tmp_path / "f.tlog"
    n = write_tlog(p, fl)
    assert n > 5 * len(fl)
    got = read_tlog(p)
    assert got.problems == []
    assert got.sysid == 7
    assert len(got) == len(fl)
    np.testing.assert_allclose(got.nav["lat"], fl.nav["lat"], atol=2e-7)
    np.testing.assert_allclose(got.nav["alt_rel"], fl.nav["alt_rel"], atol=2e-3)
    dyaw = (got.nav["yaw"] - fl.nav["yaw"] + 180) % 360 - 180
    assert np.max(np.abs(dyaw)) < 0.01
    # gimbal angles go through a quaternion: compare orientations, not Euler angles (nadir is singular)
    def rot(n):
        return camera_matrices(*(n[k] for k in ("roll", "pitch", "yaw", "gimbal_roll", "gimbal_pitch", "gimbal_yaw")))

    np.testing.assert_allclose(rot(got.nav), rot(fl.nav), atol=1e-3)
    np.testing.assert_allclose(got.gps["sats"], fl.gps["sats"])
    # CAMERA_INFORMATION (focal length, sensor size) gives the field of view back
    assert got.camera.hfov_deg == pytest.approx(50.0, abs=0.01)
    assert got.camera.width_px == 1920
    # the file is content-addressed: same bytes, same hash
    assert read_tlog(p).payload_hash == got.payload_hash


def test_truncated_tlog_keeps_the_rest(tmp_path, flight):
    fl, _ = flight
    p = tmp_path / "f.tlog"
    write_tlog(p, fl)
    data = p.read_bytes()
    p.write_bytes(data[:-7])
    got = read_tlog(p)
    assert any("truncated" in m for m in got.problems)
    assert len(got) >= len(fl) - 1


def test_garbage_in_the_middle_is_skipped(tmp_path, flight):
    fl, _ = flight
    p = tmp_path / "f.tlog"
    write_tlog(p, fl)
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 40] = b"\x00" * 40  # clobber a stretch of records
    p.write_bytes(bytes(data))
    got = read_tlog(p)
    assert got.problems and all("byte" in m for m in got.problems)
    assert len(got) > 0.9 * len(fl)


def test_time_going_backwards_is_flagged(tmp_path, flight):
    fl, _ = flight
    p = tmp_path / "f.tlog"
    write_tlog(p, fl)
    data = bytearray(p.read_bytes())
    # walk the records and push one stamp an hour back
    pos, k, target = 0, 0, None
    while pos < len(data):
        plen = data[pos + 9] + 12 if data[pos + 8] == 0xFD else data[pos + 9] + 8
        if k == 400:
            target = pos
            break
        pos += 8 + plen
        k += 1
    us = struct.unpack_from(">Q", data, target)[0]
    struct.pack_into(">Q", data, target, us - 3_600_000_000)
    p.write_bytes(bytes(data))
    got = read_tlog(p)
    flagged = [m for m in got.problems if "backwards" in m]
    assert len(flagged) == 1 and f"byte {target}" in flagged[0]
    assert len(got) >= len(fl) - 1
    assert np.all(np.diff(got.nav["t"]) > 0)


def test_not_a_flight_log(tmp_path):
    p = tmp_path / "x.tlog"
    p.write_bytes(b"\x00" * 100)
    with pytest.raises(TelemetryError, match="no GLOBAL_POSITION_INT"):
        read_tlog(p)


def test_jsonl_round_trip_and_bad_lines(tmp_path, flight):
    fl, _ = flight
    fl.source_id = "drone:test-01"
    p = tmp_path / "f.jsonl"
    write_jsonl(p, fl)
    lines = p.read_text().splitlines()
    good = read_jsonl(p)
    assert good.problems == [] and len(good) == len(fl)
    np.testing.assert_allclose(good.nav["lon"], fl.nav["lon"], atol=1e-7)
    assert good.source_id == "drone:test-01"
    rec = json.loads(lines[5])
    del rec["lat"]
    lines[5] = json.dumps(rec)
    lines[6] = "{not json"
    rec = json.loads(lines[7])
    rec["t"] = rec["t"] - 100  # time going backwards
    lines[7] = json.dumps(rec)
    rec = json.loads(lines[8])
    rec["alt_rel"] = "high"
    lines[8] = json.dumps(rec)
    p.write_text("\n".join(lines) + "\n")
    got = read_flight(p)
    assert len(got) == len(fl) - 4
    msgs = "\n".join(got.problems)
    assert "f.jsonl:6: field lat: missing" in msgs
    assert "f.jsonl:7: not JSON" in msgs
    assert "f.jsonl:8: field t:" in msgs and "does not advance" in msgs
    assert "f.jsonl:9: field alt_rel" in msgs


def test_flight_id_is_deterministic(make):
    a, _ = make(seed=1)
    b, _ = make(seed=2)
    assert a.flight_id == b.flight_id  # same airframe, same start
    assert a.flight_id.startswith("drone_test-01-2026")
