"""AIS NMEA 0183 intake: ``!AIVDM``/``!AIVDO`` lines to position columns and static records.

Why not call ``pyais.decode`` per line: position reports (types 1, 2, 3, 18)
are over 90 % of any AIS feed and have a fixed 168-bit layout, so they are
decoded here in batches with numpy (checksums too); every other type
(static data 5/24, extended class B 19, anything rarer) goes through pyais's
own payload classes.  tests/sources/sea check the numpy path against pyais
field by field.

Timestamps: AIS carries only the second of the minute, so the time of a line
comes from the receiver: an NMEA 4.0 tag block (``\\c:1700000000*hh\\!AIVDM...``),
a leading or trailing unix or ISO time (``1700000000.5 !AIVDM...``,
``!AIVDM...*hh,1700000000``), the receiver's own clock sentences interleaved
with the AIS (``$GPRMC``/``$GPZDA``, Gatehouse ``$PGHP``), or, on a live feed,
the time of receipt.  A line with none of these inherits the previous time.
Before any time is known a line is still decoded but its time is *unknown*
(``t`` is NaN; ``line`` keeps the order): guessing would date every line
alike.  Only when asked (``start_time`` *and* ``line_interval``) are such
lines given assumed times, ``start + (line - 1) * interval``.

Comment lines (``#...``), blank lines and other NMEA sentences (``$...``) are
counted in ``stats`` (``comments``, ``blank``, ``other_nmea``), not errors.

Every bad line becomes an :class:`~trucewatch.errors.RecordProblem` naming the line and field; the
rest of the stream goes on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from trucewatch.errors import RecordProblem

#: Message types with the fixed class A/B position layout decoded with numpy.
POSITION_TYPES = (1, 2, 3, 18)
#: Types defined by ITU-R M.1371-5.
KNOWN_TYPES = frozenset(range(1, 28))
#: Parts of a multi-part message must arrive within this many lines.
MULTIPART_WINDOW = 50
#: Plausible line times (unix s, 2000-01-01 .. 2100-01-01): anything else is a corrupt tag block or prefix.
_TIME_MIN, _TIME_MAX = 946_684_800.0, 4_102_444_800.0

_HEX = np.full(256, 255, np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _i
_SHIFTS = np.arange(5, -1, -1, dtype=np.uint8)
#: First payload characters of types 1, 2, 3 ('1', '2', '3') and 18 ('B').
_FAST_FIRST = frozenset(b"123B")


def line_problem(line: int, field: str, message: str, raw: str = "") -> RecordProblem:
    """One rejected line as the package's :class:`RecordProblem` (``record`` "line N", 1-based in
    the stream); the start of the raw sentence is quoted so a person can find it."""
    return RecordProblem.at_line(line, field, message + (f" [{raw[:90]}]" if raw else ""))


@dataclass
class StaticReport:
    """Identity from a static message (type 5, 24 or 19)."""

    mmsi: int
    t: float
    msg_type: int
    line: int
    name: str | None = None
    callsign: str | None = None
    ship_type: int | None = None
    imo: int | None = None


_POS_FIELDS = ("t", "mmsi", "lat", "lon", "sog", "cog", "heading", "msg_type", "nav_status", "line")
_POS_DTYPES = (np.float64, np.int64, np.float64, np.float64, np.float64, np.float64, np.float64, np.int8, np.int8, np.int64)


@dataclass
class Positions:
    """Position reports as numpy columns (one row per report, stream order)."""

    t: np.ndarray
    mmsi: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    sog: np.ndarray  # knots, nan when not available
    cog: np.ndarray  # degrees, nan when not available
    heading: np.ndarray  # degrees, nan when not available
    msg_type: np.ndarray
    nav_status: np.ndarray  # 15 = not defined (class B has none)
    line: np.ndarray

    @classmethod
    def empty(cls) -> Positions:
        return cls(*(np.empty(0, d) for d in _POS_DTYPES))

    @classmethod
    def concat(cls, parts: list[Positions]) -> Positions:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _POS_FIELDS))

    def take(self, idx: np.ndarray) -> Positions:
        return Positions(*(getattr(self, f)[idx] for f in _POS_FIELDS))

    def __len__(self) -> int:
        return int(self.t.shape[0])


@dataclass
class DecodeResult:
    positions: Positions
    statics: list[StaticReport] = field(default_factory=list)
    errors: list[RecordProblem] = field(default_factory=list)
    #: Counts: lines, messages, positions, no_position (lat/lon "not available"), other (valid, not vessel data),
    #: comments, blank, other_nmea (non-AIS sentences), untimed (AIS sentences decoded with time unknown).
    stats: dict[str, int] = field(default_factory=dict)


def _parse_time_prefix(prefix: bytes) -> float | None:
    text = prefix.strip(b" \t,;").decode("ascii", "replace")
    if not text:
        return None
    try:
        v = float(text)
        return v / 1000.0 if v > 1e11 else v
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"cannot read the receiver time {text!r} beside the sentence") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _nmea_clock(raw: bytes) -> float | None:
    """UTC time from a receiver's clock sentence: ``$xxRMC``, ``$xxZDA`` or Gatehouse ``$PGHP``
    (checksum verified); None for any other sentence or a bad one."""
    star = raw.rfind(b"*")
    if star < 0 or len(raw) < star + 3:
        return None
    body = raw[1:star]
    try:
        if int(raw[star + 1:star + 3], 16) != _xor(body):
            return None
    except ValueError:
        return None
    f = body.decode("ascii", "replace").split(",")
    try:
        if f[0][2:] == "RMC" and len(f) > 9 and len(f[1]) >= 6 and len(f[9]) == 6:
            hh, mm, ss = int(f[1][:2]), int(f[1][2:4]), float(f[1][4:])
            d, mo, y = int(f[9][:2]), int(f[9][2:4]), 2000 + int(f[9][4:6])
            return datetime(y, mo, d, hh, mm, tzinfo=UTC).timestamp() + ss
        if f[0][2:] == "ZDA" and len(f) > 4 and len(f[1]) >= 6:
            hh, mm, ss = int(f[1][:2]), int(f[1][2:4]), float(f[1][4:])
            return datetime(int(f[4]), int(f[3]), int(f[2]), hh, mm, tzinfo=UTC).timestamp() + ss
        if f[0] == "PGHP" and len(f) > 8 and f[1] == "1":
            y, mo, d, hh, mm, ss, ms = (int(x) for x in f[2:9])
            return datetime(y, mo, d, hh, mm, ss, tzinfo=UTC).timestamp() + ms / 1000.0
    except ValueError:
        return None
    return None


def _xor(body: bytes) -> int:
    c = 0
    for ch in body:
        c ^= ch
    return c


def _tag_time(tag: bytes) -> float | None:
    """``c:`` (unix seconds, or ms) from an NMEA 4.0 tag block body."""
    i = tag.find(b"c:")
    while i > 0 and tag[i - 1] != 44:  # must start a field: "c:" at 0 or after ','
        i = tag.find(b"c:", i + 1)
    if i < 0:
        return None
    j = i + 2
    n = len(tag)
    while j < n and tag[j] not in (44, 42):  # up to ',' or '*'
        j += 1
    try:
        v = float(tag[i + 2:j])
    except ValueError:
        raise ValueError(f"tag block c: {tag[i + 2:j][:30].decode('ascii', 'replace')!r} is not a unix time") from None
    return v / 1000.0 if v > 1e11 else v


def _bits(payloads: np.ndarray) -> np.ndarray:
    """(N, 28) armoured ASCII -> (N, 168) bits."""
    v = payloads.astype(np.int16) - 48
    v = np.where(v > 40, v - 8, v).astype(np.uint8)
    return ((v[:, :, None] >> _SHIFTS) & 1).reshape(len(payloads), -1)


def _field(bits: np.ndarray, start: int, n: int, signed: bool = False) -> np.ndarray:
    w = (np.int64(1) << np.arange(n - 1, -1, -1, dtype=np.int64))
    v = bits[:, start:start + n].astype(np.int64) @ w
    if signed:
        v = np.where(v >= (1 << (n - 1)), v - (1 << n), v)
    return v


def decode_positions(payloads: np.ndarray) -> dict[str, np.ndarray]:
    """Vectorized decode of 28-character type 1/2/3/18 payloads (ITU-R M.1371-5 layout)."""
    b = _bits(payloads)
    mtype = _field(b, 0, 6)
    cls_b = mtype == 18
    mmsi = _field(b, 8, 30)
    # class A: status 38, rot 42, sog 50, acc 60, lon 61, lat 89, cog 116, hdg 128
    # class B: sog 46, acc 56, lon 57, lat 85, cog 112, hdg 124
    sog_a, sog_b = _field(b, 50, 10), _field(b, 46, 10)
    lon_a, lon_b = _field(b, 61, 28, True), _field(b, 57, 28, True)
    lat_a, lat_b = _field(b, 89, 27, True), _field(b, 85, 27, True)
    cog_a, cog_b = _field(b, 116, 12), _field(b, 112, 12)
    hdg_a, hdg_b = _field(b, 128, 9), _field(b, 124, 9)
    sog = np.where(cls_b, sog_b, sog_a).astype(float)
    lon = np.where(cls_b, lon_b, lon_a) / 600000.0
    lat = np.where(cls_b, lat_b, lat_a) / 600000.0
    cog = np.where(cls_b, cog_b, cog_a).astype(float)
    hdg = np.where(cls_b, hdg_b, hdg_a).astype(float)
    status = np.where(cls_b, 15, _field(b, 38, 4))
    return {
        "msg_type": mtype, "mmsi": mmsi, "lat": lat, "lon": lon,
        "sog": np.where(sog >= 1023, np.nan, sog / 10.0),
        "cog": np.where(cog >= 3600, np.nan, cog / 10.0),
        "heading": np.where(hdg >= 511, np.nan, hdg),
        "nav_status": status,
    }


class AisDecoder:
    """Stateful decoder: feed it lines (a file, or batches from a live feed).

    State carried between batches: the last known time, multi-part fragments
    awaiting their other parts, and the running line number.
    """

    def __init__(self, start_time: float | None = None, line_interval: float | None = None) -> None:
        #: Assumed times for lines before any receiver time, only when both are given.
        self.assumed = (start_time, line_interval) if start_time is not None and line_interval else None
        self.last_time: float | None = None
        self.line_no = 0
        # key (channel, seq_id, frag_cnt) -> (line of part 1, time, [payloads], last fill, raw lines)
        self._pending: dict[tuple[bytes, bytes, int], list] = {}

    # ------------------------------------------------------------------ intake
    def feed(self, lines: Iterable[bytes | str], recv_time: float | None = None) -> DecodeResult:
        """Decode a batch.  ``recv_time`` stamps lines without their own time (live feeds)."""
        errors: list[RecordProblem] = []
        sent: list[bytes] = []  # the sentence from '!' to the checksum
        s_line: list[int] = []
        s_time: list[float] = []
        n_lines = 0
        last_time = self.last_time
        line_no = self.line_no
        n_comment = n_blank = n_other = n_untimed = 0
        for raw in lines:
            line_no += 1
            if isinstance(raw, str):
                raw = raw.encode("ascii", "replace")
            raw = raw_line = raw.strip()
            if not raw:
                n_blank += 1
                continue
            if raw[0] == 35:  # '#': a comment
                n_comment += 1
                continue
            if raw[0] == 36:  # '$': another NMEA sentence; the receiver's clock if it is one
                n_other += 1
                clock = _nmea_clock(raw)
                if clock is not None:
                    last_time = clock
                continue
            n_lines += 1
            t: float | None = None
            try:
                if raw[0] == 92:  # '\' tag block
                    j = raw.find(b"\\", 1)
                    if j < 0:
                        errors.append(line_problem(line_no, "tag_block", "tag block not closed", raw.decode("ascii", "replace")))
                        continue
                    t = _tag_time(raw[1:j])
                    raw = raw[j + 1:].strip()
                    if not raw:
                        errors.append(line_problem(line_no, "sentence", "tag block with no sentence after it",
                                               raw_line.decode("ascii", "replace")))
                        continue
                elif raw[0] != 33:  # '!'
                    k = raw.find(b"!")
                    if k < 0:
                        errors.append(line_problem(line_no, "sentence", "not an AIS sentence (no '!')", raw.decode("ascii", "replace")))
                        continue
                    t = _parse_time_prefix(raw[:k])
                    raw = raw[k:]
                star = raw.rfind(b"*")
                if 0 <= star < len(raw) - 3:  # something after '*hh': a receiver's trailing time
                    tail = _parse_time_prefix(raw[star + 3:])
                    raw = raw[:star + 3]
                    t = tail if t is None else t
            except ValueError as exc:
                errors.append(line_problem(line_no, "time", str(exc), raw.decode("ascii", "replace")))
                continue
            if t is not None and not _TIME_MIN <= t <= _TIME_MAX:  # also catches nan
                errors.append(line_problem(line_no, "time", f"{t!r} is not a unix time in 2000..2100",
                                       raw_line.decode("ascii", "replace")))
                continue
            if t is None:
                t = recv_time if recv_time is not None else last_time
            if t is None:
                if self.assumed is not None:
                    t = self.assumed[0] + (line_no - 1) * self.assumed[1]
                else:
                    n_untimed += 1
                    t = math.nan
            else:
                last_time = t
            sent.append(raw)
            s_line.append(line_no)
            s_time.append(t)
        self.last_time = last_time
        self.line_no = line_no
        stats = {"lines": n_lines, "messages": 0, "positions": 0, "no_position": 0, "other": 0, "comments": n_comment,
                 "blank": n_blank, "other_nmea": n_other, "untimed": n_untimed}
        if not sent:
            return DecodeResult(Positions.empty(), [], errors, stats)

        # ---- checksums, vectorized: XOR of the bytes between '!' and '*'
        lens = np.fromiter((len(s) for s in sent), np.int64, len(sent))
        stars = np.fromiter((s.rfind(b"*") for s in sent), np.int64, len(sent))
        offs = np.concatenate([[0], np.cumsum(lens)[:-1]])
        buf = np.frombuffer(b"".join(sent), np.uint8)
        cx = np.bitwise_xor.accumulate(buf)
        ok_star = (stars >= 2) & (stars + 2 < lens)
        a = offs  # index of '!' (xor starts after it)
        b = np.where(ok_star, offs + stars - 1, offs)
        got = cx[b] ^ cx[a]
        h1 = _HEX[buf[np.where(ok_star, offs + stars + 1, 0)]]
        h2 = _HEX[buf[np.where(ok_star, offs + stars + 2, 0)]]
        want = h1.astype(np.int32) * 16 + h2
        good = ok_star & (h1 != 255) & (h2 != 255) & (got == want)

        fast_idx: list[int] = []  # single-part 28-character position reports (numpy path)
        fast_payload: list[bytes] = []
        slow: list[tuple[int, float, bytes, int, str]] = []  # everything else (pyais path)
        multi_out: list[tuple[int, float, bytes, int, str]] = []  # (line, t, payload, fill, raw)
        for i in np.flatnonzero(~good).tolist():
            s = sent[i]
            said = s[stars[i] + 1:stars[i] + 3].decode("ascii", "replace")
            msg = f"checksum mismatch: sentence says {said}, computed {int(got[i]):02X}" if ok_star[i] else "no '*hh' checksum"
            errors.append(line_problem(s_line[i], "checksum", msg, s.decode("ascii", "replace")))
        stars_l = stars.tolist()
        for i in np.flatnonzero(good).tolist():
            s = sent[i]
            f = s[:stars_l[i]].split(b",")
            if len(f) != 7 or f[0][3:6] not in (b"VDM", b"VDO"):
                what = f[0].decode("ascii", "replace")
                msg = f"unsupported sentence {what}" if f[0][3:6] not in (b"VDM", b"VDO") else f"expected 7 fields, got {len(f)}"
                errors.append(line_problem(s_line[i], "sentence", msg, s.decode("ascii", "replace")))
                continue
            try:
                cnt, num, fill = int(f[1]), int(f[2]), int(f[6] or b"0")
            except ValueError:
                errors.append(line_problem(s_line[i], "fragment", "fragment count/number/fill bits not integers", s.decode("ascii", "replace")))
                continue
            if not (1 <= cnt <= 9 and 1 <= num <= cnt and 0 <= fill <= 5):
                errors.append(line_problem(s_line[i], "fragment", f"fragment {num} of {cnt}, fill {fill} out of range", s.decode("ascii", "replace")))
                continue
            if not f[5]:
                errors.append(line_problem(s_line[i], "payload", "empty payload", s.decode("ascii", "replace")))
                continue
            if cnt == 1:
                pl = f[5]
                if len(pl) == 28 and pl[0] in _FAST_FIRST:
                    fast_idx.append(i)
                    fast_payload.append(pl)
                else:
                    slow.append((s_line[i], s_time[i], pl, fill, ""))
                continue
            out = self._assemble(f[4], f[3], cnt, num, f[5], fill, s_line[i], s_time[i], s.decode("ascii", "replace"), errors)
            if out is not None:
                multi_out.append(out)
        # parts left waiting too long are missing a part
        for key in [k for k, v in self._pending.items() if line_no - v[0] > MULTIPART_WINDOW]:
            self._expire(key, errors)

        stats["messages"] = len(fast_idx) + len(slow) + len(multi_out)
        pos_parts: list[Positions] = []
        statics: list[StaticReport] = []
        # ---- fast path: 28-character single-part position reports
        if fast_idx:
            arr = np.frombuffer(b"".join(fast_payload), np.uint8).reshape(-1, 28)
            lines_arr = np.array(s_line, np.int64)[fast_idx]
            times_arr = np.array(s_time, float)[fast_idx]
            bad_char = ((arr < 48) | (arr > 119) | ((arr > 87) & (arr < 96))).any(axis=1)
            for k in np.flatnonzero(bad_char).tolist():
                errors.append(line_problem(int(lines_arr[k]), "payload", "character outside the AIS 6-bit alphabet",
                                       sent[fast_idx[k]].decode("ascii", "replace")))
            keep = ~bad_char
            d = decode_positions(arr[keep] if not keep.all() else arr)
            kept = np.asarray(fast_idx)[keep]
            pos_parts.append(self._positions(d, times_arr[keep], lines_arr[keep], errors, stats,
                                             lambda k: sent[int(kept[k])]))
        # ---- everything else through pyais
        slow += multi_out
        if slow:
            pos_parts.append(self._slow(slow, sent_by_line=dict(zip(s_line, sent, strict=True)), errors=errors,
                                        statics=statics, stats=stats))
        positions = Positions.concat(pos_parts)
        if len(positions) > 1 and np.any(np.diff(positions.line) < 0):
            positions = positions.take(np.argsort(positions.line, kind="stable"))
        stats["positions"] = len(positions)
        return DecodeResult(positions, statics, errors, stats)

    def finish(self) -> list[RecordProblem]:
        """End of stream: every multi-part message still waiting is missing a part."""
        errors: list[RecordProblem] = []
        for key in list(self._pending):
            self._expire(key, errors)
        return errors

    # ---------------------------------------------------------------- helpers
    def _expire(self, key: tuple[bytes, bytes, int], errors: list[RecordProblem]) -> None:
        first_line, _t, parts, _fill, raws = self._pending.pop(key)
        have = sorted(parts)
        missing = [n for n in range(1, key[2] + 1) if n not in parts]
        errors.append(line_problem(first_line, "fragment", f"multi-part message (sequence {key[1].decode() or '-'}, channel "
                               f"{key[0].decode() or '-'}) missing part(s) {missing} of {key[2]}; have {have}",
                               raws[0] if raws else ""))

    def _assemble(self, chan: bytes, seq: bytes, cnt: int, num: int, payload: bytes, fill: int, line: int, t: float,
                  raw: str, errors: list[RecordProblem]) -> tuple[int, float, bytes, int, str] | None:
        key = (chan, seq, cnt)
        pend = self._pending.get(key)
        if num == 1:
            if pend is not None:
                self._expire(key, errors)
            self._pending[key] = [line, t, {1: payload}, fill, [raw]]
            return None
        if pend is None:
            errors.append(line_problem(line, "fragment", f"part {num} of {cnt} without part 1 (sequence {seq.decode() or '-'})", raw))
            return None
        if num in pend[2]:
            self._expire(key, errors)
            errors.append(line_problem(line, "fragment", f"part {num} of {cnt} repeated (sequence {seq.decode() or '-'})", raw))
            return None
        pend[2][num] = payload
        pend[4].append(raw)
        if num == cnt:
            pend[3] = fill
        if len(pend[2]) < cnt:
            return None
        del self._pending[key]
        full = b"".join(pend[2][k] for k in range(1, cnt + 1))
        return pend[0], pend[1], full, pend[3], pend[4][0]

    def _positions(self, d: dict[str, np.ndarray], t: np.ndarray, lines: np.ndarray, errors: list[RecordProblem],
                   stats: dict[str, int], raw_of: Callable[[int], bytes]) -> Positions:
        """Drop MMSI 0 and off-globe rows with errors; ``raw_of(k)`` gives row k's sentence (only for errors)."""
        mmsi = d["mmsi"]
        zero = mmsi == 0
        for k in np.flatnonzero(zero).tolist():
            errors.append(line_problem(int(lines[k]), "mmsi", "MMSI 0 is not a vessel identity", raw_of(k).decode("ascii", "replace")))
        lat, lon = d["lat"], d["lon"]
        # 91 / 181 mean "not available"; anything else outside the globe is corrupt
        na = (np.abs(lat - 91.0) < 1e-6) | (np.abs(lon - 181.0) < 1e-6)
        bad = ~na & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
        for k in np.flatnonzero(bad & ~zero).tolist():
            errors.append(line_problem(int(lines[k]), "position", f"lat {lat[k]:.5f}, lon {lon[k]:.5f} off the globe",
                                   raw_of(k).decode("ascii", "replace")))
        stats["no_position"] += int(np.count_nonzero(na & ~zero))
        keep = ~zero & ~na & ~bad
        return Positions(t[keep], mmsi[keep], lat[keep], lon[keep], d["sog"][keep], d["cog"][keep], d["heading"][keep],
                         d["msg_type"][keep].astype(np.int8), d["nav_status"][keep].astype(np.int8), lines[keep])

    def _slow(self, items: list[tuple[int, float, bytes, int, str]], sent_by_line: dict[int, bytes],
              errors: list[RecordProblem], statics: list[StaticReport], stats: dict[str, int]) -> Positions:
        # lazy: pyais message classes load only when AIS is decoded
        from pyais.bit_vector import bit_vector

        # lazy: pyais message classes load only when AIS is decoded
        from pyais.messages import MSG_CLASS

        cols: dict[str, list] = {k: [] for k in ("msg_type", "mmsi", "lat", "lon", "sog", "cog", "heading", "nav_status")}
        ts: list[float] = []
        ls: list[int] = []
        raws: list[bytes] = []
        for line, t, payload, fill, raw in items:
            rawb = sent_by_line.get(line, raw.encode()) if not raw else raw.encode()
            if any(ch < 48 or ch > 119 or 87 < ch < 96 for ch in payload):
                errors.append(line_problem(line, "payload", "character outside the AIS 6-bit alphabet", rawb.decode("ascii", "replace")))
                continue
            c = payload[0] - 48
            mtype = c - 8 if c > 40 else c  # first 6-bit character = message type
            if mtype not in KNOWN_TYPES or mtype not in MSG_CLASS:
                errors.append(line_problem(line, "msg_type", f"unknown AIS message type {mtype}", rawb.decode("ascii", "replace")))
                continue
            try:
                msg = MSG_CLASS[mtype].from_vector(bit_vector(payload, fill))
            except Exception as exc:  # pyais raises several types for truncated payloads
                errors.append(line_problem(line, "payload", f"type {mtype} payload not decodable: {exc}", rawb.decode("ascii", "replace")))
                continue
            mmsi = int(getattr(msg, "mmsi", 0) or 0)
            if mmsi == 0:
                errors.append(line_problem(line, "mmsi", "MMSI 0 is not a vessel identity", rawb.decode("ascii", "replace")))
                continue
            if mtype in (5, 19, 24):
                statics.append(self._static(msg, mtype, mmsi, t, line))
            if mtype in (1, 2, 3, 18, 19, 27):  # 27: long-range (satellite) position, 1/10 minute
                lat, lon = getattr(msg, "lat", None), getattr(msg, "lon", None)
                if lat is None or lon is None or abs(lat - 91) < 1e-6 or abs(lon - 181) < 1e-6:
                    stats["no_position"] += 1
                    continue
                if abs(lat) > 90 or abs(lon) > 180:
                    errors.append(line_problem(line, "position", f"lat {lat}, lon {lon} off the globe", rawb.decode("ascii", "replace")))
                    continue
                sog, cog, hdg = getattr(msg, "speed", None), getattr(msg, "course", None), getattr(msg, "heading", None)
                cols["msg_type"].append(mtype)
                cols["mmsi"].append(mmsi)
                cols["lat"].append(lat)
                cols["lon"].append(lon)
                cols["sog"].append(np.nan if sog is None or sog >= 102.3 else sog)
                cols["cog"].append(np.nan if cog is None or cog >= 360 else cog)
                cols["heading"].append(np.nan if hdg is None or hdg >= 511 else hdg)
                st = getattr(msg, "status", None)
                cols["nav_status"].append(15 if st is None else int(st))
                ts.append(t)
                ls.append(line)
                raws.append(rawb)
            elif mtype not in (5, 24):
                stats["other"] += 1
        return Positions(np.array(ts, float), np.array(cols["mmsi"], np.int64), np.array(cols["lat"], float),
                         np.array(cols["lon"], float), np.array(cols["sog"], float), np.array(cols["cog"], float),
                         np.array(cols["heading"], float), np.array(cols["msg_type"], np.int8),
                         np.array(cols["nav_status"], np.int8), np.array(ls, np.int64))

    @staticmethod
    def _static(msg: object, mtype: int, mmsi: int, t: float, line: int) -> StaticReport:
        def clean(v: object) -> str | None:
            if not v:
                return None
            s = str(v).replace("@", "").strip()
            return s or None

        st = getattr(msg, "ship_type", None)
        ship_type = int(st) if st is not None and (mtype != 24 or getattr(msg, "partno", 0) == 1) else None
        imo = getattr(msg, "imo", None)
        return StaticReport(mmsi=mmsi, t=t, msg_type=mtype, line=line, name=clean(getattr(msg, "shipname", None)),
                            callsign=clean(getattr(msg, "callsign", None)), ship_type=ship_type or None,
                            imo=int(imo) if imo else None)


def decode_lines(lines: Iterable[bytes | str], start_time: float | None = None,
                 line_interval: float | None = None) -> DecodeResult:
    """Decode a whole file/stream in one go (missing parts reported at the end).

    ``start_time`` with ``line_interval`` (seconds per line) dates the lines before the
    first receiver time by assumption; either alone leaves them untimed (NaN).
    """
    dec = AisDecoder(start_time, line_interval)
    res = dec.feed(lines)
    res.errors.extend(dec.finish())
    res.errors.sort(key=lambda e: e.line or 0)
    return res
