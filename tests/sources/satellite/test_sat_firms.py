"""FIRMS intake: real layouts, their variations, and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trucewatch.geo import LocalFrame
from trucewatch.model import ObservationKind
from trucewatch.sources.satellite.firms import (
    FirmsBatch,
    FirmsError,
    read_firms,
    source_id,
    sources_for,
    to_observations,
)

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "firms"
SAMPLE = SHARED / "viirs_noaa20_nrt_2025-11-16_sample.csv"

VIIRS_NRT = """latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,version,bright_ti5,frp,daynight
48.51234,37.99876,335.12,0.39,0.36,2025-03-01,1042,N,n,2.0NRT,290.10,5.23,D
48.61000,38.10000,301.00,0.52,0.49,2025-03-01,1042,N20,h,2.0NRT,280.00,12.10,D
47.10050,37.61710,310.50,0.45,0.40,2025-03-02,0018,N21,l,2.0NRT,270.00,0.80,N
"""

MODIS_ARCHIVE = """latitude,longitude,brightness,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_t31,frp,daynight,type
48.5123,37.9988,320.1,1.2,1.1,2022-03-01,0845,Terra,MODIS,85,6.03,290.5,25.3,D,0
47.1005,37.6171,330.0,2.1,1.4,2022-03-01,1050,Aqua,MODIS,25,6.03,291.0,40.2,D,2
"""


def _read(text: str, name: str = "t.csv") -> FirmsBatch:
    return read_firms(text.encode(), name=name)


def test_real_sample_layout():
    if not SAMPLE.exists():
        pytest.skip("shared FIRMS sample not present")
    b = read_firms(SAMPLE)
    assert len(b) == 5 and not b.errors
    assert set(b.satellite.tolist()) == {"N20"}
    assert set(b.instrument.tolist()) == {"VIIRS"}
    assert b.t[0] == np.datetime64("2025-11-16T00:28:00", "s").astype(np.int64)
    assert (b.daypart == 1).all()  # N
    assert b.confidence[0] == "nominal" and b.version[0] == "2.0NRT"


def test_viirs_nrt_satellites_and_times():
    b = _read(VIIRS_NRT)
    assert not b.errors
    assert b.satellite.tolist() == ["NPP", "N20", "N21"]
    assert b.instrument.tolist() == ["VIIRS"] * 3  # no instrument column: inferred
    assert b.confidence.tolist() == ["nominal", "high", "low"]
    iso = [str(np.datetime64(int(t), "s")) for t in b.t]
    assert iso == ["2025-03-01T10:42:00", "2025-03-01T10:42:00", "2025-03-02T00:18:00"]
    assert b.daypart.tolist() == [0, 0, 1]


@pytest.mark.parametrize("acq_time", ["918", "0918", "09:18", "09:18:00"])
def test_acq_time_variants(acq_time):
    text = f"latitude,longitude,acq_date,acq_time,satellite,version\n48.1,37.2,2024-07-05,{acq_time},N20,2\n"
    b = _read(text)
    assert not b.errors
    assert b.t[0] == np.datetime64("2024-07-05T09:18:00", "s").astype(np.int64)
    assert b.version[0] == "2"


def test_uppercase_headers_and_no_time():
    b = _read("LATITUDE,LONGITUDE,ACQ_DATE\n47.1005,37.6171,2022-01-01\n47.2,37.5,2022-01-02\n")
    assert len(b) == 2 and not b.errors and not b.has_time
    assert (b.daypart == -1).all()
    assert any("acq_time" in n for n in b.notes)
    assert b.scan_km[0] == pytest.approx(0.375)  # nominal pixel


def test_modis_archive_with_type():
    b = _read(MODIS_ARCHIVE)
    assert not b.errors
    assert b.satellite.tolist() == ["TERRA", "AQUA"]
    assert b.instrument.tolist() == ["MODIS", "MODIS"]
    assert b.confidence.tolist() == ["high", "low"]
    assert b.confidence_pct.tolist() == [85.0, 25.0]
    assert b.fire_type.tolist() == [0, 2]
    assert b.brightness_k[0] == pytest.approx(320.1)


def test_bad_rows_named_and_good_rows_kept(tmp_path):
    text = (
        "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,version,bright_ti5,frp,daynight\n"
        "48.5,37.9,330.0,0.4,0.4,2025-03-01,1042,N20,n,2.0NRT,290.0,5.0,D\n"  # line 2 ok
        "200.0,37.9,330.0,0.4,0.4,2025-03-01,1042,N20,n,2.0NRT,290.0,5.0,D\n"  # line 3 latitude
        "48.5,37.9,330.0,0.4,0.4,01/03/2025,1042,N20,n,2.0NRT,290.0,5.0,D\n"  # line 4 date format
        "48.5,37.9,330.0,0.4,0.4,2025-03-01,2561,N20,n,2.0NRT,290.0,5.0,D\n"  # line 5 time
        "48.5,37.9,330.0,0.4,0.4,2025-03-01,1042,N20,x,2.0NRT,290.0,-1,D\n"  # line 6 confidence and frp
        "48.5,37.9,330.0,0.4,0.4,2025-03-01,1042,N20,n,2.0NRT,290.0,5.0,D,extra,fields\n"  # line 7 too many fields
        "\n"  # line 8 blank
        "48.6,38.0,330.0,0.4,0.4,2025-03-01,1042,N20,n,2.0NRT,290.0,5.0,D\n"  # line 9 ok
        "48.7,38.1,330.0,0.4"  # line 10 truncated, no newline
    )
    p = tmp_path / "bad.csv"
    p.write_text(text)
    b = read_firms(p)
    assert b.line.tolist() == [2, 9]
    by_line = {}
    for e in b.errors:
        by_line.setdefault(e.line, set()).add(e.field)
        assert str(p) in str(e) and f"line {e.line}" in str(e)
    assert by_line[3] == {"latitude"}
    assert by_line[4] == {"acq_date"}
    assert by_line[5] == {"acq_time"}
    assert by_line[6] == {"confidence", "frp"}
    assert 7 in by_line and 8 in by_line
    assert "acq_date" in by_line[10]
    trunc = next(e for e in b.errors if e.line == 10 and e.field == "acq_date")
    assert "truncated" in trunc.message
    assert "'200.0'" in next(e for e in b.errors if e.line == 3).message


def test_missing_required_column_is_a_file_error():
    with pytest.raises(FirmsError, match=r"t.csv: missing required column\(s\) acq_date"):
        _read("latitude,longitude,acq_time\n48.1,37.2,0918\n")
    with pytest.raises(FirmsError, match="empty"):
        _read("")


def test_footprint_is_pixel_sized_and_covered_by_ellipse():
    b = _read(VIIRS_NRT)
    polys = b.footprints()
    major, minor, angle = b.covering_ellipse()
    for i in range(len(b)):
        frame = LocalFrame(b.lat[i], b.lon[i])
        p_en = frame.geom_to_en(polys[i])
        assert p_en.area == pytest.approx(b.scan_km[i] * b.track_km[i] * 1e6, rel=0.02)
        c = p_en.centroid
        assert math.hypot(c.x, c.y) < 5.0
        # every corner inside the ellipse
        th = math.radians(90.0 - angle[i])
        for x, y in list(p_en.exterior.coords):
            u = x * math.cos(th) + y * math.sin(th)
            v = -x * math.sin(th) + y * math.cos(th)
            assert (u / major[i]) ** 2 + (v / minor[i]) ** 2 <= 1.0
    assert shapely.is_valid(polys).all()


def test_observations_follow_contract_and_ids_are_stable():
    b = _read(VIIRS_NRT)
    obs = to_observations(b, excess=np.array([True, False, False]), p_value=np.array([0.01, 0.5, 0.9]))
    o = obs[0]
    assert o.kind == ObservationKind.THERMAL_ANOMALY
    assert o.source_id == "firms-NPP" and obs[1].source_id == "firms-N20"
    assert o.location.footprint["type"] == "Polygon"
    for k in ("frp", "confidence", "satellite", "excess", "p_value"):
        assert k in o.attributes
    assert o.attributes["excess"] is True and o.attributes["p_value"] == 0.01
    again = to_observations(_read(VIIRS_NRT, name="other.csv"))
    assert [x.id for x in again] == [x.id for x in obs]
    assert len({x.id for x in obs}) == 3
    assert {s.id for s in sources_for(b)} == {"firms-NPP", "firms-N20", "firms-N21"}
    assert source_id("") == "firms-UNKNOWN"


def test_concat_and_subset():
    a, m = _read(VIIRS_NRT), _read(MODIS_ARCHIVE)
    c = FirmsBatch.concat([a, m])
    assert len(c) == 5 and c.satellite.tolist()[-2:] == ["TERRA", "AQUA"]
    s = c.subset(c.instrument == "MODIS")
    assert len(s) == 2


def test_garbage_in_numeric_column_and_mixed_time_formats():
    text = ("latitude,longitude,acq_date,acq_time,frp,scan,track\n"
            "48.1,37.2,2024-07-05,0918,abc,0.4,0.4\n"
            "48.1,37.2,2024-07-05,09:18,1.5,0.4,0.4\n"
            "48.1,x37,2024-07-05,9:18:30,1.5,0.4,0.4\n"
            "48.1,37.2,2024-07-05,0918,1.5,0,0.4\n")
    b = _read(text)
    assert b.line.tolist() == [3]
    assert [(e.line, e.field) for e in b.errors] == [(2, "frp"), (4, "longitude"), (5, "scan")]
    assert "'abc'" in b.errors[0].message
    assert b.t[0] == np.datetime64("2024-07-05T09:18:00", "s").astype(np.int64)


def test_unreadable_file_is_a_file_error(tmp_path):
    with pytest.raises(FirmsError, match="cannot read"):
        read_firms(tmp_path / "nope.csv")


_HDR = "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,confidence,version,bright_ti5,frp,daynight"
_GOOD_FIELDS = ["48.5", "37.9", "330.0", "0.4", "0.4", "2025-03-01", "1042", "N20", "n", "2.0NRT", "290.0", "5.0", "D"]
_JUNK = ["", "abc", "-1", "200", "2025/03/01", "25:61", "x", "NaN", "1e400", "0918", "09:18:00", "h", "N"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 14), st.lists(st.tuples(st.integers(0, 12), st.sampled_from(_JUNK)),
                                                       max_size=3)), min_size=1, max_size=12))
def test_every_line_is_accepted_or_explained(rows):
    """Fuzz: whatever the rows hold, each data line is loaded or has an error naming it; never a traceback."""
    lines = [_HDR]
    for n_fields, edits in rows:
        f = list(_GOOD_FIELDS)
        for i, v in edits:
            f[i] = v
        lines.append(",".join(f[: n_fields] if n_fields < 13 else f + ["extra"] * (n_fields - 13)))
    b = read_firms(("\n".join(lines) + "\n").encode(), "fuzz.csv")
    accepted = set(b.line.tolist())
    explained = {e.line for e in b.errors}
    data_lines = set(range(2, len(lines) + 1))
    # a line of only empty fields may be the parser's idea of a blank line: still explained
    assert accepted.isdisjoint(explained)
    assert accepted | explained == data_lines, (sorted(accepted), sorted(explained))
    assert np.all(np.abs(b.lat) <= 90) and np.all(np.isfinite(b.t)) and np.all(np.isfinite(b.frp))


def test_extra_fields_on_the_first_row_are_not_silently_truncated():
    text = ("latitude,longitude,acq_date\n"
            "48.1,37.2,2024-01-01,extra\n"  # pandas would take this as the row width and cut silently
            "48.2,37.3,2024-01-02\n"
            "48.3,37.4,2024-01-03,x,y\n")
    b = _read(text)
    assert b.line.tolist() == [3]
    assert [(e.line, e.field) for e in b.errors] == [(2, "*"), (4, "*")]
    assert "expected 3 fields, saw 4" in b.errors[0].message


def test_compressed_file(tmp_path):
    import gzip

    p = tmp_path / "modis.csv.gz"
    p.write_bytes(gzip.compress(MODIS_ARCHIVE.encode()))
    b = read_firms(p)
    assert len(b) == 2 and not b.errors and b.satellite.tolist() == ["TERRA", "AQUA"]
