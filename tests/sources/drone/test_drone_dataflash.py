"""ArduPilot DataFlash text logs (issue 18): the real flight we hold, newer layouts, bad input named
by line and field, and the real-flight measurement of ``bench realdata``."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from tests.fuzzing import FUZZ, bounded, mutated
from trucewatch.bench import _real_dronesea
from trucewatch.sources.drone.interference import InterferenceConfig, detect
from trucewatch.sources.drone.telemetry import TelemetryError, peek_source, read_dataflash_text, read_flight

REAL = Path(str(files("trucewatch") / "data" / "eval" / "real" / "drone" / "robert_lefebvre_octo_PM.gps1hz.log"))
OLD_FMT = "FMT, 130, 35, GPS, BIBcLLeeEe, Status,Time,NSats,HDop,Lat,Lng,RelAlt,Alt,Spd,GCrs\n"
NEW_FMT = ("FMT, 130, 45, GPS, QBBIHBcLLeffffB, TimeUS,I,Status,GMS,GWk,NSats,HDop,Lat,Lng,Alt,Spd,GCrs,VZ,Yaw,U\n"
           "FMT, 35, 43, ATT, QccccCCCCB, TimeUS,DesRoll,Roll,DesPitch,Pitch,DesYaw,Yaw,ErrRP,ErrYaw,AEKF\n"
           "FMT, 40, 30, BARO, QBffcf, TimeUS,I,Alt,Press,Temp,CRt\n")


def _old_gps(i: int, status: int = 3, sats: int = 9, hdop: float = 1.2) -> str:
    return (f"GPS, {status}, {100000 + 1000 * i}, {sats}, {hdop:.2f}, {48.5 + i * 1e-5:.7f}, 37.0000000, "
            f"50.00, 200.00, 1.20, 0.00\n")


def test_reads_the_real_flight_whole_and_unchanged():
    fl = read_flight(REAL)  # dispatched by content, not by name
    assert len(fl) == 157 and fl.records == {"read": 164, "used": 157, "other": 0, "header": 7, "bad": 0}
    g = fl.gps
    # first record of the source: GPS, 3, 594438201, 6, 4.68, 44.0290459, -77.7367640, 3.13, 91.56, 0.00, 0.00
    assert g["t"][0] == pytest.approx(594438.201) and g["sats"][0] == 6 and g["hdop"][0] == pytest.approx(4.68)
    assert fl.nav["lat"][0] == pytest.approx(44.0290459) and fl.nav["lon"][0] == pytest.approx(-77.736764)
    assert fl.nav["alt_rel"][0] == pytest.approx(3.13) and fl.nav["alt_msl"][0] == pytest.approx(91.56)
    assert np.all(g["fix"] == 3) and g["sats"].min() == 6 and g["sats"].max() == 8
    assert fl.duration_h * 3600 == pytest.approx(155.399)
    assert any("relative" in p for p in fl.problems)
    assert peek_source(REAL) == (None, None)


def test_newer_layout_absolute_time_attitude_and_other_timed_records(tmp_path):
    gwk, gms0 = 2300, 200_000_000
    lines = ["ArduCopter V4.5.0\n", NEW_FMT]
    for i in range(30):
        us = 10_000_000 + i * 200_000
        lines.append(f"BARO, {us - 50_000}, 0, 12.5, 100000, 20, 0\n")
        lines.append(f"ATT, {us - 100_000}, 0, 1.5, 0, -2.0, 90, {90 + i}, 0, 0, 3\n")
        lines.append(f"GPS, {us}, 0, 3, {gms0 + i * 200}, {gwk}, 12, 0.8, {48.5 + i * 1e-5:.7f}, 37.0, 150.0, "
                     f"2.5, 0.0, -0.3, 0, 1\n")
    p = tmp_path / "new.log"
    p.write_text("".join(lines))
    fl = read_dataflash_text(p)
    want = 315_964_800 + gwk * 604_800 + gms0 / 1000 - 18
    assert fl.nav["t"][0] == pytest.approx(want) and len(fl) == 30
    assert fl.nav["yaw"][10] == pytest.approx(100.5, abs=0.6) and fl.nav["roll"][5] == pytest.approx(1.5)
    assert fl.nav["vd"][0] == pytest.approx(-0.3) and fl.gps["sats"][0] == 12
    assert fl.msg_t is not None and len(fl.msg_t) == 60  # GPS + BARO times; ATT used for attitude
    assert fl.records["other"] == 30 and fl.records["bad"] == 0
    assert not any("relative" in x for x in fl.problems)


def test_truncated_last_record_is_named_and_the_rest_read(tmp_path):
    body = OLD_FMT + "".join(_old_gps(i) for i in range(20))
    p = tmp_path / "cut.log"
    p.write_text(body[:-25])  # cut inside the last GPS record
    fl = read_dataflash_text(p)
    assert len(fl) == 19
    assert any("cut.log:21: GPS record has" in x and "truncated" in x for x in fl.problems)


@pytest.mark.parametrize(("line", "needle"), [
    ("GPS, 3, 130000, 9, 1.20, forty, 37.0000000, 50.00, 200.00, 1.20, 0.00\n", "field Lat: 'forty' is not a number"),
    ("GPS, 3, 130000, 9, nan, 48.5, 37.0000000, 50.00, 200.00, 1.20, 0.00\n", "field HDop: nan is not a finite number"),
    ("GPS, 3, 130000, 9, 1.20, 148.5, 37.0000000, 50.00, 200.00, 1.20, 0.00\n", "field Lat/Lng: 148.5,37.0 is off the globe"),
    ("GPS, 3, 1e999, 9, 1.20, 48.5, 37.0, 50.00, 200.00, 1.20, 0.00\n", "field time"),
    ("GPS, " + "9" * 5000 + "\n", "is not a DataFlash record"),
    ("FMT, 131, 20\n", "FMT record: expected"),
])
def test_hostile_records_are_named_by_line_and_field(tmp_path, line, needle):
    body = OLD_FMT + "".join(_old_gps(i) for i in range(10)) + line + "".join(_old_gps(i) for i in range(40, 50))
    p = tmp_path / "bad.log"
    p.write_text(body)
    fl = read_flight(p)
    assert len(fl) == 20
    assert any(x.startswith("bad.log:12: ") and needle in x for x in fl.problems), fl.problems
    assert fl.records["bad"] == 1


def test_binary_garbage_gps_before_fmt_and_no_gps_at_all(tmp_path):
    p = tmp_path / "junk.log"
    p.write_bytes(b"\xff\xfe\x00garbage\n" + _old_gps(0).encode() + OLD_FMT.encode()
                  + "".join(_old_gps(i) for i in range(1, 6)).encode() + b"\x00\x01\x02, \xff\n")
    fl = read_dataflash_text(p)
    assert len(fl) == 5 and any("junk.log:2: GPS record before its FMT record" in x for x in fl.problems)
    empty = tmp_path / "nogps.log"
    empty.write_text(OLD_FMT + "ATT, 0, 1, 0, 2, 0, 3, 3\n")
    with pytest.raises(TelemetryError, match=r"nogps\.log: no usable GPS record"):
        read_dataflash_text(empty)


def test_real_flight_measurement_counts_alarms_and_hours_per_split(tmp_path, monkeypatch):
    # one benign flight (acquires its fix in the first 20 s) and one with 60 s of lost fix mid-flight
    benign = OLD_FMT + "".join(_old_gps(i, sats=4 if i < 20 else 9, hdop=6.0 if i < 20 else 1.0) for i in range(600))
    jammed = OLD_FMT + "".join(_old_gps(i, status=1 if 300 <= i < 360 else 3) for i in range(600))
    (tmp_path / "benign.log").write_text(benign)
    (tmp_path / "jammed.log").write_text(jammed)
    (tmp_path / "flights.json").write_text(json.dumps({"flights": [
        {"file": "benign.log", "split": "heldout"}, {"file": "jammed.log", "split": "dev"}]}))
    monkeypatch.setattr(_real_dronesea, "DRONE_DIR", tmp_path)
    held = _real_dronesea.measure_real_flights("heldout")
    assert held["gnss_flights"] == 1 and held["gnss_false_alarms"] == 0
    assert held["gnss_flight_hours"] == pytest.approx(599 / 3600, abs=1e-4)
    assert held["gnss_false_alarms_per_flight_hour"] == 0.0
    dev = _real_dronesea.measure_real_flights("dev")
    assert dev["gnss_false_alarms"] == 1 and dev["gnss_false_alarms_per_flight_hour"] == pytest.approx(6.01, abs=0.01)
    assert "fix_lost" in dev["gnss_per_flight"]["jammed.log"]["episodes"][0]
    none = tmp_path / "empty"
    none.mkdir()
    (none / "flights.json").write_text('{"flights": []}')
    monkeypatch.setattr(_real_dronesea, "DRONE_DIR", none)
    assert _real_dronesea.measure_real_flights("heldout")["gnss_false_alarms_per_flight_hour"] is None


def test_the_real_flight_gives_no_gnss_finding_and_its_settling_start_would_without_acquisition():
    fl = read_flight(REAL)
    assert detect(fl) == []
    eps = detect(fl, InterferenceConfig(acquisition_max_s=0.0))
    assert [e.signals for e in eps] == [["hdop_high"]]


def test_bad_time_field_is_named(tmp_path):
    p = tmp_path / "t.log"
    p.write_text(OLD_FMT + "".join(_old_gps(i) for i in range(5))
                 + "GPS, 3, 12:00:00, 9, 1.20, 48.5, 37.0, 50.00, 200.00, 1.20, 0.00\n")
    fl = read_dataflash_text(p)
    assert len(fl) == 5 and any("t.log:7: GPS field Time: '12:00:00' is not a number" in x for x in fl.problems)


def test_logging_gaps_of_the_real_dev_flight_are_not_gnss_silence():
    fl = read_flight(REAL.with_name("tradheli_brownout.gps1hz.log"))
    assert fl.msg_t is None and len(fl) == 129  # old log: only GPS records carry a time
    assert np.diff(fl.gps["t"]).max() == pytest.approx(42.0)  # the pause while disarmed
    assert detect(fl) == []


@FUZZ
@given(buf=mutated(REAL.read_bytes(), head=7))
def test_fuzz_dataflash_text(tmp_path_factory, buf: bytes) -> None:
    """Mutated real log: a named TelemetryError or a flight, every line accounted for, never a traceback."""
    p = tmp_path_factory.mktemp("fz") / "f.log"
    p.write_bytes(buf)
    try:
        with bounded(10):
            fl = read_dataflash_text(p)
    except TelemetryError as exc:
        assert p.name in str(exc)
        return
    r = fl.records
    lines = buf.count(b"\n") + (0 if buf.endswith(b"\n") or not buf else 1)
    assert r["read"] == lines and r["used"] + r["other"] + r["header"] + r["bad"] == r["read"], (r, lines)
    named = {int(m.group(1)) for x in fl.problems if (m := re.match(r"f\.log:(\d+): ", x))}
    assert len(named) == r["bad"], (named, r, fl.problems[:5])
    assert np.isfinite(fl.nav["t"]).all() and (np.abs(fl.nav["lat"]) <= 90).all()
