"""Sensor registry and arrival formats (CSV, JSONL, MQTT JSON payloads).

Registry CSV: ``sensor_id,lat,lon,alt_m[,clock_sigma_s]``.
Arrivals CSV or JSONL: ``sensor_id,time_unix_s[,snr_db][,kind_hint][,bearing_deg][,arrival_id]``.

Every bad record yields a :class:`~trucewatch.errors.RecordProblem` naming the file, the record and
the field; the rest of the file is still read.  Nothing is dropped silently:
duplicates are reported, out-of-order arrivals are sorted and counted in notes.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch._jsonl import BadLine, json_lines
from trucewatch.errors import RecordProblem
from trucewatch.model import MAX_FUTURE_SKEW, to_utc, utcnow

#: Clock/picking error assumed for a sensor whose registry row gives none.
DEFAULT_CLOCK_SIGMA_S = 0.002
KIND_NAMES = ("unknown", "launch", "impact")
KIND_CODE = {k: i for i, k in enumerate(KIND_NAMES)}
#: Earliest plausible arrival (2000-01-01): older times are a unit or field mix-up.
MIN_TIME = 946_684_800.0
#: Two reports of one sensor closer than this are the same arrival.
DUPLICATE_S = 1e-6
#: What a byte that is not UTF-8 becomes on reading: the field holding it is named in an error.
_BAD_TEXT = "\ufffd"
#: Longest identifier accepted (a longer one is a corrupt line, not a sensor or arrival name).
MAX_ID_CHARS = 200


def problem(source: str, record: int | str, field: str, message: str) -> RecordProblem:
    """One bad input record as the package's :class:`~trucewatch.errors.RecordProblem`: ``record`` reads
    ``"{source} record {record}"``; an int record is the file line (kept as ``line``)."""
    return RecordProblem(f"{source} record {record}", field, message, line=record if isinstance(record, int) else None)


@dataclass
class Sensors:
    """The sensor registry as numpy columns."""

    ids: np.ndarray  # object
    lat: np.ndarray
    lon: np.ndarray
    alt: np.ndarray
    sigma: np.ndarray  # clock/picking 1-sigma, s
    index: dict[str, int] = field(default_factory=dict)
    #: False where the registry gave no clock_sigma_s (the locator may then estimate it from residuals).
    sigma_given: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {str(s): i for i, s in enumerate(self.ids)}
        if self.sigma_given is None:
            self.sigma_given = np.ones(len(self.ids), bool)

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    @classmethod
    def from_columns(cls, ids: Iterable[str], lat: Iterable[float], lon: Iterable[float],
                     alt: Iterable[float] | None = None, sigma: Iterable[float] | float | None = None) -> Sensors:
        ids_a = np.array(list(ids), dtype=object)
        la = np.asarray(list(lat), float)
        lo = np.asarray(list(lon), float)
        al = np.zeros_like(la) if alt is None else np.asarray(list(alt), float)
        if sigma is None:
            return cls(ids_a, la, lo, al, np.full_like(la, DEFAULT_CLOCK_SIGMA_S), sigma_given=np.zeros(la.size, bool))
        elif isinstance(sigma, (int, float)):
            sg = np.full_like(la, float(sigma))
        else:
            sg = np.asarray(list(sigma), float)
        return cls(ids_a, la, lo, al, sg)

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["sensor_id", "lat", "lon", "alt_m", "clock_sigma_s"])
        for i in range(len(self)):
            w.writerow([self.ids[i], f"{self.lat[i]:.7f}", f"{self.lon[i]:.7f}", f"{self.alt[i]:.1f}", f"{self.sigma[i]:.6g}"])
        return buf.getvalue()


@dataclass
class Arrivals:
    """Arrivals as numpy columns, sorted by time."""

    ids: np.ndarray  # object
    sensor: np.ndarray  # int index into Sensors
    t: np.ndarray  # unix s
    snr: np.ndarray  # dB, nan when not given
    kind: np.ndarray  # int8 KIND_CODE
    bearing: np.ndarray  # deg, nan when not given

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @classmethod
    def empty(cls) -> Arrivals:
        return cls(np.array([], dtype=object), np.array([], np.int64), np.array([]), np.array([]),
                   np.array([], np.int8), np.array([]))

    def take(self, idx: np.ndarray) -> Arrivals:
        return Arrivals(self.ids[idx], self.sensor[idx], self.t[idx], self.snr[idx], self.kind[idx], self.bearing[idx])

    def sorted(self) -> Arrivals:
        order = np.lexsort((self.sensor, self.t))
        return self.take(order)

    def to_csv(self, sensors: Sensors) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["arrival_id", "sensor_id", "time_unix_s", "snr_db", "kind_hint", "bearing_deg"])
        for i in range(len(self)):
            snr = "" if math.isnan(self.snr[i]) else f"{self.snr[i]:.1f}"
            br = "" if math.isnan(self.bearing[i]) else f"{self.bearing[i]:.1f}"
            w.writerow([self.ids[i], sensors.ids[self.sensor[i]], f"{self.t[i]:.6f}", snr, KIND_NAMES[self.kind[i]], br])
        return buf.getvalue()

    def records(self, sensors: Sensors) -> list[dict[str, Any]]:
        out = []
        for i in range(len(self)):
            r: dict[str, Any] = {"arrival_id": str(self.ids[i]), "sensor_id": str(sensors.ids[self.sensor[i]]),
                                 "time_unix_s": round(float(self.t[i]), 6), "kind_hint": KIND_NAMES[self.kind[i]]}
            if not math.isnan(self.snr[i]):
                r["snr_db"] = round(float(self.snr[i]), 1)
            if not math.isnan(self.bearing[i]):
                r["bearing_deg"] = round(float(self.bearing[i]), 1)
            out.append(r)
        return out


def _num(raw: Any, name: str, src: str, rec: int | str, errors: list[RecordProblem], *, required: bool = True,
         lo: float = -math.inf, hi: float = math.inf) -> float | None:
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if required:
            errors.append(problem(src, rec, name, "missing"))
        return None
    if isinstance(raw, bool) or isinstance(raw, (list, dict)):
        errors.append(problem(src, rec, name, f"{str(raw)[:60]!r} is not a number"))
        return None
    if isinstance(raw, str) and _BAD_TEXT in raw:
        errors.append(problem(src, rec, name, "bytes that are not UTF-8"))
        return None
    try:
        v = float(raw)
    except (TypeError, ValueError, OverflowError):
        errors.append(problem(src, rec, name, f"{str(raw)[:60]!r} is not a number"))
        return None
    if not math.isfinite(v):
        errors.append(problem(src, rec, name, f"{raw!r} is not finite"))
        return None
    if not lo <= v <= hi:
        errors.append(problem(src, rec, name, f"{v} is outside {lo}..{hi}"))
        return None
    return v


def parse_sensor_rows(rows: Iterable[Mapping[str, Any]], src: str = "sensors",
                      lines: list[int] | None = None) -> tuple[Sensors, list[RecordProblem]]:
    """Registry rows (dicts) -> Sensors; row numbers in errors count the header as line 1
    (or come from ``lines``, the file line of each row, when given)."""
    errors: list[RecordProblem] = []
    ids: list[str] = []
    cols: list[tuple[float, float, float, float]] = []
    seen: dict[str, int] = {}
    for k, row in enumerate(rows):
        rec = lines[k] if lines is not None else k + 2
        if not isinstance(row, Mapping):
            errors.append(problem(src, rec, "record", "not an object"))
            continue
        sid = str(row.get("sensor_id") or "").strip()
        if not sid:
            errors.append(problem(src, rec, "sensor_id", "missing"))
            continue
        if (why := _bad_id(sid)) is not None:
            errors.append(problem(src, rec, "sensor_id", why))
            continue
        if sid in seen:
            errors.append(problem(src, rec, "sensor_id", f"{sid!r} already defined at record {seen[sid]}"))
            continue
        n_err = len(errors)
        lat = _num(row.get("lat"), "lat", src, rec, errors, lo=-90, hi=90)
        lon = _num(row.get("lon"), "lon", src, rec, errors, lo=-180, hi=180)
        alt = _num(row.get("alt_m"), "alt_m", src, rec, errors, required=False, lo=-500, hi=9000)
        sig = _num(row.get("clock_sigma_s"), "clock_sigma_s", src, rec, errors, required=False, lo=1e-6, hi=10.0)
        if len(errors) > n_err or lat is None or lon is None:
            continue
        seen[sid] = rec
        ids.append(sid)
        cols.append((lat, lon, 0.0 if alt is None else alt, np.nan if sig is None else sig))
    arr = np.array(cols, float).reshape(-1, 4)
    given = np.isfinite(arr[:, 3])
    out = Sensors.from_columns(ids, arr[:, 0], arr[:, 1], arr[:, 2], np.where(given, arr[:, 3], DEFAULT_CLOCK_SIGMA_S))
    out.sigma_given = given
    return out, errors


def _bad_id(sid: str) -> str | None:
    """Why an identifier cannot be used, or None: bad bytes, control characters or a runaway length."""
    if _BAD_TEXT in sid:
        return "bytes that are not UTF-8"
    if any(ord(c) < 32 or ord(c) == 127 for c in sid):
        return "control character"
    if len(sid) > MAX_ID_CHARS:
        return f"{len(sid)} characters, more than {MAX_ID_CHARS}"
    return None


def _read_text(p: Path) -> str:
    """The file as text; a byte that is not UTF-8 becomes U+FFFD, so the field holding it is named, not the file."""
    return p.read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")


def _csv_rows(text: str, src: str, errors: list[RecordProblem]) -> tuple[list[str] | None, list[tuple[int, dict[str, Any]]]]:
    """Header and (line number, row) pairs; a line the csv module rejects is one named error, reading goes on."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        header = list(reader.fieldnames) if reader.fieldnames is not None else None
    except csv.Error as exc:
        errors.append(problem(src, 1, "header", f"not CSV ({exc})"))
        return None, rows
    while True:
        start = reader.reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(problem(src, reader.reader.line_num, "record", f"not a CSV record ({exc})"))
            if reader.reader.line_num == start:  # no progress: nothing more can be read
                break
            continue
        rows.append((reader.line_num, row))
    return header, rows


def read_sensors(path: str | Path) -> tuple[Sensors, list[RecordProblem]]:
    p = Path(path)
    errors: list[RecordProblem] = []
    header, rows = _csv_rows(_read_text(p), p.name, errors)
    missing = {"sensor_id", "lat", "lon"} - set(header or [])
    if header is not None and missing:
        return Sensors.from_columns([], [], []), [problem(p.name, 1, ",".join(sorted(missing)), "column missing")]
    sensors, errs = parse_sensor_rows((r for _, r in rows), p.name, lines=[n for n, _ in rows])
    return sensors, errors + errs


def _time(raw: Any, src: str, rec: int | str, errors: list[RecordProblem], now: float) -> float | None:
    if isinstance(raw, str) and raw.strip() and _BAD_TEXT not in raw:
        try:
            float(raw)
        except ValueError:
            try:  # ISO 8601 is accepted too
                return _check_time(to_utc(datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))).timestamp(),
                                   src, rec, errors, now)
            except (ValueError, OverflowError):
                errors.append(problem(src, rec, "time_unix_s", f"{raw[:60]!r} is neither unix seconds nor ISO 8601"))
                return None
    t = _num(raw, "time_unix_s", src, rec, errors)
    return None if t is None else _check_time(t, src, rec, errors, now)


def _check_time(t: float, src: str, rec: int | str, errors: list[RecordProblem], now: float) -> float | None:
    if t > 1e11:
        errors.append(problem(src, rec, "time_unix_s", f"{t} looks like milliseconds, expected seconds"))
        return None
    if t < MIN_TIME:
        errors.append(problem(src, rec, "time_unix_s", f"{t} is before 2000-01-01"))
        return None
    if t > now + MAX_FUTURE_SKEW.total_seconds():
        errors.append(problem(src, rec, "time_unix_s", f"{t} is {t - now:.0f} s in the future"))
        return None
    return t


def parse_arrival_rows(rows: Iterable[tuple[int | str, Mapping[str, Any]]], sensors: Sensors, src: str = "arrivals",
                       now: float | None = None) -> tuple[Arrivals, list[RecordProblem], list[str]]:
    """(record number, dict) pairs -> sorted Arrivals, per-record errors, notes."""
    now = utcnow().timestamp() if now is None else now
    errors: list[RecordProblem] = []
    ids: list[str] = []
    sens: list[int] = []
    ts: list[float] = []
    snr: list[float] = []
    kinds: list[int] = []
    brg: list[float] = []
    recs: list[int | str] = []
    for rec, row in rows:
        if isinstance(row, BadLine):
            e = row.error
            why = (f"not UTF-8 ({e.reason} at byte {e.start})" if isinstance(e, UnicodeDecodeError)
                   else f"not valid JSON ({e})")
            errors.append(problem(src, rec, "json", why))
            continue
        if not isinstance(row, Mapping):
            errors.append(problem(src, rec, "record", "not an object"))
            continue
        n_err = len(errors)
        sid = str(row.get("sensor_id") or "").strip()
        si = sensors.index.get(sid)
        if not sid:
            errors.append(problem(src, rec, "sensor_id", "missing"))
        elif (bad := _bad_id(sid)) is not None:
            errors.append(problem(src, rec, "sensor_id", bad))
        elif si is None:
            errors.append(problem(src, rec, "sensor_id", f"unknown sensor {sid!r} (not in the registry)"))
        t = _time(row.get("time_unix_s"), src, rec, errors, now)
        s = _num(row.get("snr_db"), "snr_db", src, rec, errors, required=False, lo=-50, hi=200)
        b = _num(row.get("bearing_deg"), "bearing_deg", src, rec, errors, required=False, lo=0, hi=360)
        kh = str(row.get("kind_hint") or "unknown").strip().lower()
        if kh not in KIND_CODE:
            errors.append(problem(src, rec, "kind_hint", f"{kh[:60]!r} is not one of {', '.join(KIND_NAMES)}"))
        aid = str(row.get("arrival_id") or "").strip()
        if aid and (bad := _bad_id(aid)) is not None:
            errors.append(problem(src, rec, "arrival_id", bad))
        if len(errors) > n_err or t is None or si is None:
            continue
        aid = aid or f"{sid}@{t:.6f}"
        ids.append(aid)
        sens.append(si)
        ts.append(t)
        snr.append(math.nan if s is None else s)
        kinds.append(KIND_CODE[kh])
        brg.append(math.nan if b is None else b)
        recs.append(rec)
    arr = Arrivals(np.array(ids, dtype=object), np.array(sens, np.int64), np.array(ts, float), np.array(snr, float),
                   np.array(kinds, np.int8), np.array(brg, float))
    notes: list[str] = []
    if len(arr):
        # out of order per sensor: count, then sort (a field network interleaves sensors anyway)
        t_a, s_a = arr.t, arr.sensor
        order = np.lexsort((np.arange(len(arr)), s_a))
        back = np.sum((np.diff(t_a[order]) < 0) & (np.diff(s_a[order]) == 0))
        if back:
            notes.append(f"{src}: {int(back)} arrival(s) out of time order within their sensor; sorted before association")
    keep = _dedupe(arr, recs, src, errors)
    arr = arr.take(keep).sorted()
    return arr, errors, notes


def _dedupe(arr: Arrivals, recs: list[int | str], src: str, errors: list[RecordProblem]) -> np.ndarray:
    n = len(arr)
    if n == 0:
        return np.arange(0)
    order = np.lexsort((np.arange(n), arr.t, arr.sensor))
    s, t = arr.sensor[order], arr.t[order]
    dup = np.zeros(n, bool)
    dup[1:] = (s[1:] == s[:-1]) & (np.abs(t[1:] - t[:-1]) < DUPLICATE_S)
    # the first of a run of duplicates is kept; each later one is reported against it
    first = order[np.maximum.accumulate(np.where(~dup, np.arange(n), 0))]
    for k in np.flatnonzero(dup):
        errors.append(problem(src, recs[order[k]], "time_unix_s",
                                  f"duplicate of record {recs[first[k]]} (same sensor, same time); ignored"))
    _, first_id = np.unique(arr.ids, return_index=True)
    same_id = np.ones(n, bool)
    same_id[first_id] = False
    for k in np.flatnonzero(same_id & ~np.isin(np.arange(n), order[dup])):
        errors.append(problem(src, recs[k], "arrival_id", f"{arr.ids[k]!r} used by an earlier record; ignored"))
    drop = np.zeros(n, bool)
    drop[order[dup]] = True
    drop |= same_id
    return np.flatnonzero(~drop)


def read_arrivals(path: str | Path, sensors: Sensors, now: float | None = None) -> tuple[Arrivals, list[RecordProblem], list[str]]:
    """Arrivals from CSV (header row) or JSONL (one JSON object per line), by content."""
    p = Path(path)
    text = _read_text(p)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    if first.lstrip().startswith("{"):
        # JSONL: strict UTF-8 per line, so a bad byte is that line's error
        lines = p.read_bytes().removeprefix(b"\xef\xbb\xbf").splitlines()
        return parse_arrival_rows(json_lines(lines), sensors, p.name, now)
    errors: list[RecordProblem] = []
    header, rows = _csv_rows(text, p.name, errors)
    missing = {"sensor_id", "time_unix_s"} - set(header or [])
    if header is not None and missing:
        return Arrivals.empty(), [problem(p.name, 1, ",".join(sorted(missing)), "column missing")], []
    arr, errs, notes = parse_arrival_rows(rows, sensors, p.name, now)
    return arr, errors + errs, notes
