"""AIS NMEA decoding: the numpy fast path against pyais, multi-part assembly, times, and per-record errors."""

from __future__ import annotations

import socket
import threading
from functools import reduce

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from pyais import decode as pyais_decode
from pyais.encode import encode_dict

from trucewatch.sources.sea.nmea import AisDecoder, decode_lines


def _with_checksum(body: str) -> str:
    cs = reduce(lambda a, b: a ^ b, body.encode(), 0)
    return f"!{body}*{cs:02X}"


def _tag(t: int) -> str:
    body = f"c:{t}"
    cs = reduce(lambda a, b: a ^ b, body.encode(), 0)
    return f"\\{body}*{cs:02X}\\"


@settings(max_examples=150, deadline=None)
@given(
    mtype=st.sampled_from([1, 2, 3, 18]),
    mmsi=st.integers(1, 999_999_999),
    lat=st.floats(-90, 90),
    lon=st.floats(-180, 180),
    speed=st.floats(0, 102.2),
    course=st.floats(0, 359.9),
    heading=st.integers(0, 359),
    status=st.integers(0, 14),
)
def test_fast_path_matches_pyais(mtype, mmsi, lat, lon, speed, course, heading, status):
    msg = {"type": mtype, "mmsi": mmsi, "lat": lat, "lon": lon, "speed": speed, "course": course, "heading": heading}
    if mtype != 18:
        msg["status"] = status
    line = encode_dict(msg, talker_id="AI", sentence_type="VDM")[0]
    ref = pyais_decode(line)
    res = decode_lines([_tag(1_700_000_000) + line])
    assert not res.errors
    p = res.positions
    assert len(p) == 1
    assert p.mmsi[0] == ref.mmsi
    assert abs(p.lat[0] - ref.lat) < 1e-6 and abs(p.lon[0] - ref.lon) < 1e-6
    assert abs(p.sog[0] - ref.speed) < 1e-6
    assert abs(p.cog[0] - ref.course) < 1e-6
    assert p.heading[0] == ref.heading
    assert p.msg_type[0] == ref.msg_type
    if mtype != 18:
        assert p.nav_status[0] == int(ref.status)


def test_multipart_static_gives_identity_and_times():
    lines = [_tag(1_700_000_000) + s for s in encode_dict(
        {"type": 5, "mmsi": 273000111, "shipname": "VASILY BYKOV", "callsign": "RBYK", "ship_type": 35, "imo": 0},
        talker_id="AI", sentence_type="VDM", seq_id=2)]
    lines.append("1700000060.5 " + encode_dict({"type": 1, "mmsi": 273000111, "lat": 45.0, "lon": 31.0},
                                                 talker_id="AI", sentence_type="VDM")[0])
    lines.append("2026-03-15T00:00:00Z," + encode_dict({"type": 18, "mmsi": 272000222, "lat": 46.0, "lon": 30.5},
                                                         talker_id="AI", sentence_type="VDO")[0])
    lines.append(encode_dict({"type": 18, "mmsi": 272000222, "lat": 46.01, "lon": 30.5}, talker_id="AI",
                             sentence_type="VDO")[0])  # inherits the previous line's time
    res = decode_lines(lines)
    assert not res.errors, res.errors
    assert len(res.statics) == 1
    s = res.statics[0]
    assert (s.mmsi, s.name, s.callsign, s.ship_type) == (273000111, "VASILY BYKOV", "RBYK", 35)
    assert res.positions.t.tolist() == [1700000060.5, 1773532800.0, 1773532800.0]


def test_bad_records_get_errors_and_the_rest_goes_on():
    good = encode_dict({"type": 1, "mmsi": 272111222, "lat": 46.0, "lon": 31.0}, talker_id="AI", sentence_type="VDM")[0]
    bad_ck = good[:-2] + ("00" if good[-2:] != "00" else "11")
    zero = encode_dict({"type": 1, "mmsi": 0, "lat": 46.0, "lon": 31.0}, talker_id="AI", sentence_type="VDM")[0]
    # type 30 does not exist: '>' is 6-bit value 14... build payload whose first char encodes 30 ('N')
    unknown = _with_checksum("AIVDM,1,1,,A,N00000000000000000000000000,0")
    five = encode_dict({"type": 5, "mmsi": 272333444, "shipname": "X"}, talker_id="AI", sentence_type="VDM", seq_id=7)
    other_five = encode_dict({"type": 5, "mmsi": 272333445, "shipname": "Y"}, talker_id="AI", sentence_type="VDM", seq_id=8)
    lines = [_tag(1_700_000_000) + good, bad_ck, zero, unknown, five[0], good, other_five[0], "garbage line", good]
    res = decode_lines(lines)
    fields = {e.line: e.field for e in res.errors}
    assert fields[2] == "checksum"
    assert fields[3] == "mmsi"
    assert fields[4] == "msg_type" and "unknown AIS message type 30" in str(next(e for e in res.errors if e.line == 4))
    assert fields[5] == "fragment" and "missing part(s) [2]" in str(next(e for e in res.errors if e.line == 5))
    assert fields[7] == "fragment"  # still waiting at the end of the stream
    assert fields[8] == "sentence"
    assert len(res.positions) == 3  # the three good lines
    assert all(str(e).startswith(f"line {e.line}:") for e in res.errors)


def test_no_time_is_unknown_not_a_guess():
    """An untimed log is decoded in line order with time unknown; an assumed rate only when asked."""
    lines = [encode_dict({"type": 1, "mmsi": 272111222 + i % 2, "lat": 46.0 + i * 1e-3, "lon": 31.0}, talker_id="AI",
                         sentence_type="VDM")[0] for i in range(6)]
    res = decode_lines(lines)
    assert res.errors == [] and len(res.positions) == 6 and res.stats["untimed"] == 6
    assert np.isnan(res.positions.t).all() and res.positions.line.tolist() == [1, 2, 3, 4, 5, 6]
    # a start time alone does not date every line alike
    assert np.isnan(decode_lines(lines, start_time=1.7e9).positions.t).all()
    assumed = decode_lines(lines, start_time=1.7e9, line_interval=2.0).positions.t
    assert assumed.tolist() == [1.7e9 + 2.0 * k for k in range(6)]
    # a receiver time later in the log dates the lines from there on; those before stay unknown
    res = decode_lines([*lines[:2], _tag(1_700_000_000) + lines[2], *lines[3:]])
    assert np.isnan(res.positions.t[:2]).all() and (res.positions.t[2:] == 1_700_000_000).all()


def test_parts_across_batches_are_assembled():
    dec = AisDecoder(1.7e9)
    parts = encode_dict({"type": 5, "mmsi": 272999000, "shipname": "SPLIT", "ship_type": 70}, talker_id="AI",
                        sentence_type="VDM", seq_id=1)
    a = dec.feed([parts[0]])
    b = dec.feed([parts[1]])
    assert not a.errors and not b.errors and not dec.finish()
    assert b.statics[0].name == "SPLIT"


def _lines(n: int) -> list[bytes]:
    out = []
    for i in range(n):
        out.append((_tag(1_700_000_000 + i) + encode_dict(
            {"type": 1, "mmsi": 272000000 + i % 3, "lat": 46.0 + i * 1e-3, "lon": 31.0}, talker_id="AI",
            sentence_type="VDM")[0] + "\r\n").encode())
    return out


def test_live_tcp_feed_on_loopback(tcp_feed):
    from trucewatch.sources.sea.live import decode_stream, tcp_lines

    port, th = tcp_feed(b"".join(_lines(50)), chunk=97)  # split mid-line on purpose
    results = list(decode_stream(tcp_lines("127.0.0.1", port, max_s=10)))
    th.join(5)
    n = sum(len(r.positions) for r in results)
    assert n == 50
    assert not [e for r in results for e in r.errors]
    assert np.all(np.diff(np.concatenate([r.positions.t for r in results])) >= 0)


def test_live_udp_feed_on_loopback():
    from trucewatch.sources.sea.live import decode_stream, udp_lines

    got_port: list[int] = []
    ready = threading.Event()

    def on_ready(p: int) -> None:
        got_port.append(p)
        ready.set()

    lines = _lines(30)
    # one sentence per datagram, plus one datagram of three lines, as AIS-catcher and rtl_ais send them
    def send() -> None:
        ready.wait(5)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for ln in lines[:27]:
            s.sendto(ln, ("127.0.0.1", got_port[0]))
        s.sendto(b"".join(lines[27:]), ("127.0.0.1", got_port[0]))
        s.close()

    th = threading.Thread(target=send, daemon=True)
    th.start()
    results = list(decode_stream(udp_lines("127.0.0.1", 0, max_s=10, idle_s=0.5, ready=on_ready)))
    th.join(5)
    assert sum(len(r.positions) for r in results) == 30


def test_real_receptions_match_pyais():
    """Real sentences (pyais's sample, MIT): every position we decode equals pyais's, line by line;
    empty payloads and unfinished multi-part messages are errors, the rest is decoded."""
    from pathlib import Path

    raw = (Path(__file__).parent / "data" / "pyais_sample.nmea").read_bytes().splitlines()
    res = decode_lines(raw, start_time=1.7e9)
    assert sorted({e.field for e in res.errors}) == ["fragment", "payload"]
    assert len(res.errors) == 4
    n = 0
    for k, line in enumerate(res.positions.line.tolist()):
        ref = pyais_decode(raw[line - 1])
        assert ref.mmsi == res.positions.mmsi[k]
        assert abs(ref.lat - res.positions.lat[k]) < 1e-6 and abs(ref.lon - res.positions.lon[k]) < 1e-6
        n += 1
    assert n == 32


def test_comments_blank_and_other_sentences_are_counted_not_errors():
    pos = encode_dict({"type": 1, "mmsi": 272111222, "lat": 46.0, "lon": 31.0}, talker_id="AI", sentence_type="VDM")[0]
    lines = ["# a receiver's header", "", pos, "   ", "#", "$GPGSA,A,3,11,32,14,28,22,03,10,08,17,,,,2.02,1.03,1.74*00", pos,
             "not nmea"]
    res = decode_lines(lines)
    assert res.stats["comments"] == 2 and res.stats["blank"] == 2 and res.stats["other_nmea"] == 1
    assert [(e.line, e.field) for e in res.errors] == [(8, "sentence")]
    assert len(res.positions) == 2


def test_receiver_clock_prefix_and_suffix_times():
    pos = encode_dict({"type": 1, "mmsi": 272111222, "lat": 46.0, "lon": 31.0}, talker_id="AI", sentence_type="VDM")[0]
    rmc = "$GPRMC,213950.00,A,5250.53669,N,00542.34920,E,0.020,,070420,,,A*7D"  # 2020-04-07 21:39:50 UTC
    bad_rmc = rmc[:-2] + "00"  # wrong checksum: not a clock
    res = decode_lines([bad_rmc, pos, rmc, pos, f"{pos},1700000000", f"2023-11-14T22:13:21Z {pos}"])
    assert np.isnan(res.positions.t[0])
    assert res.positions.t[1] == 1586295590.0
    assert res.positions.t[2] == 1700000000.0 and res.positions.t[3] == 1700000001.0
    assert res.errors == []


def test_real_dev_logs_comments_pghp_and_static_only():
    """Public logs (pyais, libais; trucewatch/data/eval/real/sea, dev half)."""
    from pathlib import Path

    from trucewatch.sources.sea.tracks import build_tracks

    d = Path(__file__).parents[3] / "trucewatch" / "data" / "eval" / "real" / "sea" / "dev"
    res = decode_lines((d / "pyais_messages.ais").read_bytes().splitlines())
    assert res.errors == [] and res.stats["comments"] == 2 and len(res.positions) == 6
    res = decode_lines((d / "pyais_timestamped.ais").read_bytes().splitlines())  # Gatehouse $PGHP clock lines
    assert res.errors == [] and np.isfinite(res.positions.t).all() and res.stats["other_nmea"] == 4
    assert abs(res.positions.t[0] - 1210291200.01) < 1e-6  # 2008-05-09T00:00:00.010Z
    res = decode_lines((d / "libais_tagblock.nmea").read_bytes().splitlines())
    tr = build_tracks(res.positions, res.statics)
    so = tr.static_only()
    assert [(v.mmsi, v.name) for v in so] == [(219005012, "ROSINANTE")]
    rows = tr.vessel_rows()
    assert {r["mmsi"] for r in rows} == {219005012, *tr.mmsis.tolist()}
    assert next(r for r in rows if r["mmsi"] == 219005012)["reports"] == 0
