"""Registry and arrival formats: every bad record is named with its field, the rest is read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from trucewatch.sources.acoustic.formats import read_arrivals, read_sensors

T = 1_773_532_800.0
NOW = T + 3600


def _sensors(tmp_path: Path) -> Path:
    p = tmp_path / "sensors.csv"
    p.write_text("sensor_id,lat,lon,alt_m,clock_sigma_s\n"
                 "A,48.30,37.80,150,0.001\n"
                 "B,48.31,37.82,151,\n"
                 "C,91.0,37.8,150,0.001\n"
                 "A,48.0,37.0,0,0.001\n"
                 "D,abc,37.9,150,0.001\n"
                 "E,48.32,37.79,,-1\n")
    return p


def test_sensor_registry_errors_name_record_and_field(tmp_path: Path) -> None:
    sens, errors = read_sensors(_sensors(tmp_path))
    assert list(sens.ids) == ["A", "B"]
    assert sens.sigma[1] == 0.002  # default when not given
    msgs = [str(e) for e in errors]
    assert any("record 4: lat" in m for m in msgs)
    assert any("record 5: sensor_id" in m and "already defined" in m for m in msgs)
    assert any("record 6: lat" in m and "not a number" in m for m in msgs)
    assert any("record 7: clock_sigma_s" in m for m in msgs)


def test_missing_columns(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    p.write_text("id,latitude\nA,1\n")
    sens, errors = read_sensors(p)
    assert len(sens) == 0 and "column missing" in str(errors[0])


def test_arrival_errors_and_out_of_order(tmp_path: Path) -> None:
    sens, _ = read_sensors(_sensors(tmp_path))
    p = tmp_path / "arr.csv"
    p.write_text("sensor_id,time_unix_s,snr_db,kind_hint\n"
                 f"A,{T + 5},20,launch\n"
                 f"B,{T + 1},18,impact\n"
                 f"A,{T + 2},19,\n"  # out of order within sensor A
                 f"Z,{T},20,unknown\n"  # unknown sensor
                 f"B,{T + 1},18,impact\n"  # duplicate of record 3
                 f"A,{NOW + 86400},20,unknown\n"  # far future
                 f"A,{(T + 9) * 1000},20,unknown\n"  # milliseconds
                 f"B,{T + 7},20,boom\n"  # bad kind
                 "B,,20,unknown\n")
    arr, errors, notes = read_arrivals(p, sens, now=NOW)
    assert len(arr) == 3
    assert np.all(np.diff(arr.t) >= 0)
    msgs = [str(e) for e in errors]
    assert any("record 5: sensor_id" in m and "unknown sensor" in m for m in msgs)
    assert any("record 6" in m and "duplicate of record 3" in m for m in msgs)
    assert any("record 7: time_unix_s" in m and "future" in m for m in msgs)
    assert any("record 8: time_unix_s" in m and "milliseconds" in m for m in msgs)
    assert any("record 9: kind_hint" in m for m in msgs)
    assert any("record 10: time_unix_s: missing" in m for m in msgs)
    assert notes and "out of time order" in notes[0]


def test_jsonl_with_a_broken_line(tmp_path: Path) -> None:
    sens, _ = read_sensors(_sensors(tmp_path))
    p = tmp_path / "arr.jsonl"
    lines = [json.dumps({"sensor_id": "A", "time_unix_s": T + 1, "bearing_deg": 45.0}),
             "{not json",
             json.dumps({"sensor_id": "B", "time_unix_s": "2026-03-15T00:00:02Z", "arrival_id": "b-1"}),
             json.dumps([1, 2])]
    p.write_text("\n".join(lines) + "\n")
    arr, errors, _ = read_arrivals(p, sens, now=NOW)
    assert len(arr) == 2 and "b-1" in set(arr.ids)
    assert arr.t[list(arr.ids).index("b-1")] == T + 2
    assert arr.bearing[list(arr.ids).index("A@%.6f" % (T + 1))] == 45.0
    msgs = [str(e) for e in errors]
    assert any("record 2: json" in m for m in msgs) and any("record 4: record" in m for m in msgs)
