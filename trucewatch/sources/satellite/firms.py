"""NASA FIRMS active-fire CSV intake: every real layout, validated column-wise.

FIRMS files come in several shapes (NRT from the API or e-mail, archive
downloads, MODIS or VIIRS, third-party extracts): column names in either case,
``acq_time`` as ``918``/``0918``, ``09:18`` or ``09:18:00``, ``instrument`` or
``type`` present or not, ``version`` as ``2.0NRT`` or ``2``.  The file is parsed
once by pandas' C reader and then every check runs on whole numpy columns; only
rejected rows are visited one by one (to word their error).  A row's ``line`` is
its line number in the file (header = line 1), so errors can be found by eye.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from trucewatch.errors import RecordProblem, TruceWatchError
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind, from_unix

#: Columns without which no row can be placed in space and time.
REQUIRED = ("latitude", "longitude", "acq_date")

#: Canonical satellite code for every spelling seen in FIRMS files.
SATELLITE_ALIASES: dict[str, str] = {
    "n": "NPP", "npp": "NPP", "snpp": "NPP", "s-npp": "NPP", "suomi-npp": "NPP", "suomi npp": "NPP",
    "n20": "N20", "1": "N20", "j1": "N20", "noaa-20": "N20", "noaa20": "N20", "noaa_20": "N20",
    "n21": "N21", "2": "N21", "j2": "N21", "noaa-21": "N21", "noaa21": "N21", "noaa_21": "N21",
    "t": "TERRA", "terra": "TERRA", "a": "AQUA", "aqua": "AQUA",
}
INSTRUMENT_OF = {"NPP": "VIIRS", "N20": "VIIRS", "N21": "VIIRS", "TERRA": "MODIS", "AQUA": "MODIS"}
#: Nominal nadir pixel size (km) when a file has no scan/track columns.
NOMINAL_PIXEL_KM = {"VIIRS": 0.375, "MODIS": 1.0, "": 0.375}
#: Overpass direction in daytime (sun-synchronous orbits): afternoon satellites ascend, Terra descends.
_DAY_ASCENDING = {"NPP": True, "N20": True, "N21": True, "AQUA": True, "TERRA": False}
_ORBIT_INCLINATION_DEG = 98.7

VIIRS_CONFIDENCE = {"l": "low", "low": "low", "n": "nominal", "nominal": "nominal", "h": "high", "high": "high"}
#: Bytes of the file beyond which a missing final newline means a truncated write.
_INSTR = ("", "VIIRS", "MODIS", "?")
_INSTR_ARR = np.array(_INSTR[:3], dtype=str)
_CONF = ("", "low", "nominal", "high")
_CONF_ARR = np.array(_CONF, dtype=str)
_TEXT_COLUMNS = frozenset({"acq_date", "satellite", "instrument", "version", "daynight", "confidence"})
_TIME_RE = re.compile(r"^\s*(\d{1,2}):?(\d{2})(?::(\d{2}))?\s*$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FirmsError(TruceWatchError, ValueError):
    """A file-level problem (unreadable, a required column missing): nothing loaded."""


def row_problem(file: str, line: int, field: str, message: str) -> RecordProblem:
    """A rejected row as the package's :class:`RecordProblem`: ``record`` reads ``"{file}: line N"``."""
    return RecordProblem.at_line(line, field, message, prefix=f"{file}: ")


@dataclass(slots=True)
class FirmsBatch:
    """Accepted detections as numpy columns (one entry per accepted row)."""

    file: str
    n_rows: int
    line: np.ndarray  # int64 line number in the file
    lat: np.ndarray
    lon: np.ndarray
    t: np.ndarray  # float64 unix seconds (acquisition time, or noon when the file has no time)
    has_time: bool
    daypart: np.ndarray  # int8: 0 day, 1 night, -1 unknown
    satellite: np.ndarray  # str: canonical code (NPP, N20, N21, TERRA, AQUA, or the file's own; "" if absent)
    instrument: np.ndarray  # str: VIIRS / MODIS / ""
    scan_km: np.ndarray
    track_km: np.ndarray
    frp: np.ndarray  # MW, NaN when the file has none
    confidence: np.ndarray  # str: low / nominal / high / "" (absent)
    confidence_pct: np.ndarray  # MODIS 0-100, NaN for VIIRS
    brightness_k: np.ndarray  # I4 (VIIRS) or 21/22 (MODIS) brightness temperature, NaN if absent
    version: np.ndarray  # str
    fire_type: np.ndarray  # int8 FIRMS ``type`` (0 vegetation, 1 volcano, 2 static land source, 3 offshore), -1 absent
    errors: list[RecordProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.lat.shape[0])

    def subset(self, mask: np.ndarray) -> FirmsBatch:
        kw = {}
        for name in self.__slots__:
            v = getattr(self, name)
            kw[name] = v[mask] if isinstance(v, np.ndarray) else v
        return FirmsBatch(**kw)

    @classmethod
    def concat(cls, batches: list[FirmsBatch]) -> FirmsBatch:
        if not batches:
            raise ValueError("no batches")
        kw: dict[str, Any] = {}
        for name in cls.__slots__:
            vals = [getattr(b, name) for b in batches]
            if isinstance(vals[0], np.ndarray):
                kw[name] = np.concatenate(vals)
            elif name in ("errors", "notes"):
                kw[name] = [x for v in vals for x in v]
            elif name == "n_rows":
                kw[name] = sum(vals)
            elif name == "has_time":
                kw[name] = all(vals)
            else:
                kw[name] = "+".join(dict.fromkeys(vals))
        return cls(**kw)

    # ---- geometry ------------------------------------------------------------------
    def track_azimuth_deg(self) -> np.ndarray:
        """Approximate along-track azimuth of the orbit at each pixel (axis, degrees from north).

        Sun-synchronous polar orbits cross a latitude at heading asin(cos i / cos lat)
        west of north when ascending (east of south when descending).  The error of
        this approximation (earth rotation ignored) is a few degrees: far below what
        matters for a 375 m pixel.
        """
        c = np.clip(math.cos(math.radians(_ORBIT_INCLINATION_DEG)) / np.cos(np.radians(self.lat)), -1, 1)
        h = np.degrees(np.arcsin(c))  # negative: west of north
        asc_day = _lookup(self.satellite, lambda s: _DAY_ASCENDING.get(s, True), bool)
        ascending = np.where(self.daypart == 1, ~asc_day, asc_day)
        az = np.where(ascending, h % 180.0, (-h) % 180.0)
        return np.where(self.daypart < 0, 0.0, az)

    def footprint_coords(self) -> np.ndarray:
        """Pixel corners (n, 5, 2) as lon/lat: scan x track km, centred on the pixel centre."""
        az = np.radians(self.track_azimuth_deg())
        ht = self.track_km * 500.0  # half sides, m
        hs = self.scan_km * 500.0
        # unit vectors east/north along track and along scan
        te, tn = np.sin(az), np.cos(az)
        se, sn = np.cos(az), -np.sin(az)
        signs = np.array([(1, 1), (1, -1), (-1, -1), (-1, 1), (1, 1)], float)
        de = signs[None, :, 0] * (ht * te)[:, None] + signs[None, :, 1] * (hs * se)[:, None]
        dn = signs[None, :, 0] * (ht * tn)[:, None] + signs[None, :, 1] * (hs * sn)[:, None]
        # WGS84 radii of curvature: metres per degree of latitude and longitude at each pixel
        a, e2 = 6_378_137.0, 6.69437999014e-3
        s2 = np.sin(np.radians(self.lat)) ** 2
        m_lat = a * (1 - e2) / (1 - e2 * s2) ** 1.5 * math.pi / 180.0
        m_lon = a / np.sqrt(1 - e2 * s2) * np.cos(np.radians(self.lat)) * math.pi / 180.0
        lat = self.lat[:, None] + dn / m_lat[:, None]
        lon = self.lon[:, None] + de / m_lon[:, None]
        return np.stack([lon, lat], axis=-1)

    def footprints(self) -> np.ndarray:
        """Pixel polygons as a shapely array (built in one vectorized call)."""

        return shapely.polygons(self.footprint_coords())

    def covering_ellipse(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The smallest ellipse with the pixel's axes that covers the pixel: half sides x sqrt(2).

        A 1 % margin absorbs the flat-earth corner placement; VIIRS geolocation
        error (under 100 m) is small against the pixel and is not added.
        """
        az = self.track_azimuth_deg()
        ht = self.track_km * 500.0 * math.sqrt(2) * 1.01
        hs = self.scan_km * 500.0 * math.sqrt(2) * 1.01
        major = np.maximum(ht, hs)
        minor = np.minimum(ht, hs)
        angle = np.where(ht >= hs, az, (az + 90.0) % 180.0)
        return major, minor, angle


# ---- reading -----------------------------------------------------------------------


def _read_frame(source: str | Path | bytes, name: str) -> tuple[pd.DataFrame, np.ndarray, list[RecordProblem]]:
    """pandas' C reader; lines with too many fields are reported, not dropped silently."""
    if isinstance(source, bytes):
        buf: Any = io.BytesIO(source)
    else:
        buf = source
    skipped: list[RecordProblem] = []
    try:
        # text columns as plain objects: hashing them later is several times faster than pandas' str dtype
        if isinstance(buf, io.BytesIO):
            head = buf.getvalue()[:4096].split(b"\n", 1)[0].decode("utf-8", "replace")
        else:
            with _open_raw(buf) as fh:
                head = fh.readline(65536).decode("utf-8", "replace")
        dtypes = {c: object for c in (h.strip().strip('"') for h in head.split(","))
                  if c.strip().lower() in _TEXT_COLUMNS}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                df = pd.read_csv(buf, skip_blank_lines=False, on_bad_lines="warn", low_memory=False, dtype=dtypes,
                                 index_col=False)
                replaced = False
            except UnicodeDecodeError:
                # a byte that is not UTF-8: read again with U+FFFD in its place, so the cell holding it is named
                # (the common, clean file pays nothing for this)
                if isinstance(buf, io.BytesIO):
                    buf.seek(0)
                caught.clear()
                df = pd.read_csv(buf, skip_blank_lines=False, on_bad_lines="warn", low_memory=False, dtype=dtypes,
                                 index_col=False, encoding_errors="replace")
                replaced = True
    except (OSError, UnicodeDecodeError) as exc:
        raise FirmsError(f"{name}: cannot read: {exc}") from None
    except pd.errors.EmptyDataError:
        raise FirmsError(f"{name}: empty file (no header line)") from None
    except pd.errors.ParserError as exc:
        raise FirmsError(f"{name}: not a CSV file: {exc}") from None
    long_rows = False
    for w in caught:
        msg = str(w.message)
        long_rows |= "Length of header" in msg
        for m in re.finditer(r"Skipping line (\d+): (.*?)(?:\n|$)", msg):
            skipped.append(row_problem(name, int(m.group(1)), "*", f"malformed line: {m.group(2).strip()}"))
    skipped_lines = np.array(sorted(e.line or 0 for e in skipped), dtype=np.int64)
    df.attrs["long_lines"] = _long_lines(source) if long_rows else {}
    df.attrs["replaced"] = replaced
    return df, skipped_lines, skipped


def _open_raw(path: str | Path) -> Any:
    """Open a file for bytes, transparently decompressing .gz/.bz2/.xz (as pandas does)."""
    p = str(path).lower()
    if p.endswith(".gz"):
        return gzip.open(path, "rb")
    if p.endswith(".bz2"):
        return bz2.open(path, "rb")
    if p.endswith(".xz"):
        return lzma.open(path, "rb")
    return open(path, "rb")  # returned to a with-block


def _long_lines(source: str | Path | bytes) -> dict[int, tuple[int, int]]:
    """Lines with more fields than the header (pandas keeps them truncated when the first row is one).

    Counted on the raw bytes with numpy (FIRMS files have no quoted commas); only
    run when pandas warned, so the common path pays nothing.
    """
    if isinstance(source, bytes):
        data = source
    else:
        with _open_raw(source) as fh:
            data = fh.read()
    arr = np.frombuffer(data, np.uint8)
    line_id = np.cumsum(arr == 10) - (arr == 10)  # newline belongs to its own line
    commas = np.bincount(line_id[arr == 44], minlength=int(line_id[-1]) + 1 if arr.size else 1)
    header = int(commas[0])
    idx = np.flatnonzero(commas > header)
    return {int(i) + 1: (int(commas[i]) + 1, header + 1) for i in idx}


def _numeric(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values, bad) where bad marks non-empty cells that are not numbers."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        v = col.to_numpy(dtype=np.float64, na_value=np.nan)
        return v, np.zeros(v.shape, bool)
    v = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    present = col.notna().to_numpy() & (col.astype(str).str.strip() != "").to_numpy()
    return v, present & np.isnan(v)


def _codes(col: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Factorize a text column: per-row codes (-1 = empty) and the distinct stripped values."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return codes, [str(u).strip() for u in uniques]


def _lookup(values: np.ndarray, fn: Any, dtype: Any = object) -> np.ndarray:
    """Apply ``fn`` once per distinct value of an array (hash factorization, no per-row Python)."""
    if len(values) == 0:
        return np.zeros(0, dtype)
    codes, uniq = pd.factorize(values, use_na_sentinel=False)
    return np.array([fn(u) for u in uniq], dtype=dtype)[codes]


def _parse_dates(col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unix seconds of midnight, day of year (1..366) and an empty mask; parsed once per distinct value."""
    codes, uniq = _codes(col)
    u = np.array([*uniq, ""], dtype=object)
    fmt_ok = np.array([bool(_DATE_RE.match(x)) for x in uniq] + [False])
    u[~fmt_ok] = None  # not a date: NaT
    d = pd.to_datetime(pd.Series(u), format="%Y-%m-%d", errors="coerce").to_numpy("datetime64[D]")
    ok = ~np.isnat(d)
    day_s = np.where(ok, d.astype("datetime64[s]").astype(np.int64), 0).astype(np.float64)
    day_s[~ok] = np.nan
    doy = np.where(ok, (d - d.astype("datetime64[Y]")).astype(np.int64) + 1, 0).astype(np.int16)
    idx = np.where(codes < 0, len(uniq), codes)
    return day_s[idx], doy[idx], codes < 0


def _parse_times(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Seconds after midnight and a bad mask for acq_time as 918, 0918, 09:18 or 09:18:00."""
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        v = col.to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            hh = np.floor(v / 100.0)
            mm = v - hh * 100.0
            bad = ~np.isfinite(v) | (v != np.floor(v)) | (hh < 0) | (hh > 23) | (mm < 0) | (mm > 59)
        return np.where(bad, np.nan, hh * 3600 + mm * 60), bad
    codes, uniq = _codes(col)
    secs = np.full(len(uniq) + 1, np.nan)
    for i, u in enumerate(uniq):
        m = _TIME_RE.match(u)
        if m:
            h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
            if h <= 23 and mi <= 59 and s <= 59:
                secs[i] = h * 3600 + mi * 60 + s
    out = secs[np.where(codes < 0, len(uniq), codes)]
    return out, np.isnan(out)


def read_firms(source: str | Path | bytes, name: str | None = None) -> FirmsBatch:
    """Read and validate one FIRMS CSV; bad rows become :class:`RecordProblem` records.

    Raises :class:`FirmsError` only when nothing can be loaded (unreadable file,
    missing header, a required column absent).
    """
    name = name or (str(source) if not isinstance(source, bytes) else "<bytes>")
    df, skipped_lines, errors = _read_frame(source, name)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise FirmsError(f"{name}: missing required column(s) {', '.join(missing)} (have: {', '.join(df.columns)})")
    n = len(df)
    # line numbers: header is line 1; pandas dropped the lines it warned about
    line = np.arange(n, dtype=np.int64) + 2
    if skipped_lines.size:
        # kept rows are the file's data lines minus the skipped ones, in order
        all_lines = np.arange(2, n + skipped_lines.size + 2, dtype=np.int64)
        kept = np.setdiff1d(all_lines, skipped_lines, assume_unique=True)
        line = kept[:n] if kept.size >= n else line

    bad: dict[str, np.ndarray] = {}
    notes: list[str] = []

    lat, b = _numeric(df["latitude"])
    bad["latitude"] = b | ~(np.abs(lat) <= 90)
    lon, b = _numeric(df["longitude"])
    bad["longitude"] = b | ~(np.abs(lon) <= 180)
    day_s, doy, b = _parse_dates(df["acq_date"])
    bad["acq_date"] = b | np.isnan(day_s)
    del doy

    has_time = "acq_time" in df.columns
    if has_time:
        tod, b = _parse_times(df["acq_time"])
        bad["acq_time"] = b
        t = day_s + np.nan_to_num(tod)
    else:
        notes.append(f"{name}: no acq_time column: times are noon UTC of acq_date (daypart unknown)")
        t = day_s + 43200.0

    # satellite / instrument / confidence as small integer codes into tables (object arrays only at the end)
    sat_tab: list[str] = [""]
    sat_i = np.zeros(n, np.int32)
    instr_i = np.zeros(n, np.int8)  # index into _INSTR
    if "satellite" in df.columns:
        codes, uniq = _codes(df["satellite"])
        sat_tab = [SATELLITE_ALIASES.get(u.lower(), re.sub(r"[^A-Za-z0-9]", "", u).upper()) for u in uniq] + [""]
        sat_i = np.where(codes < 0, len(uniq), codes).astype(np.int32)
        instr_i = np.array([_INSTR.index(INSTRUMENT_OF.get(c, "")) for c in sat_tab], np.int8)[sat_i]
        bad["satellite"] = codes < 0
    if "instrument" in df.columns:
        codes, uniq = _codes(df["instrument"])
        tab = np.array([_INSTR.index(u.upper()) if u.upper() in _INSTR else 3 for u in uniq] + [0], np.int8)
        col_i = tab[np.where(codes < 0, len(uniq), codes)]
        instr_i = np.where(col_i != 0, col_i, instr_i).astype(np.int8)
        bad["instrument"] = (instr_i == 3) | (codes < 0)

    # confidence: VIIRS classes or MODIS percent
    conf_i = np.zeros(n, np.int8)  # index into _CONF
    conf_pct = np.full(n, np.nan)
    if "confidence" in df.columns:
        col = df["confidence"]
        if pd.api.types.is_numeric_dtype(col.dtype):
            conf_pct, b = _numeric(col)
            bad["confidence"] = ~((conf_pct >= 0) & (conf_pct <= 100))
        else:
            codes, uniq = _codes(col)
            cls = []
            pct = []
            for u in uniq:
                c = VIIRS_CONFIDENCE.get(u.lower())
                p = np.nan
                if c is None:
                    try:
                        p = float(u)
                    except ValueError:
                        p = np.nan
                    c = "" if not (0 <= p <= 100) else ("low" if p < 30 else "nominal" if p < 80 else "high")
                cls.append(_CONF.index(c))
                pct.append(p)
            idx = np.where(codes < 0, len(uniq), codes)
            conf_i = np.array([*cls, 0], np.int8)[idx]
            conf_pct = np.array([*pct, np.nan])[idx]
            bad["confidence"] = conf_i == 0
        fin = np.isfinite(conf_pct)
        if fin.any():
            conf_i = np.where(fin, np.where(conf_pct < 30, 1, np.where(conf_pct < 80, 2, 3)), conf_i).astype(np.int8)
            instr_i = np.where((instr_i == 0) & fin, 2, instr_i).astype(np.int8)
        instr_i = np.where((instr_i == 0) & (conf_i != 0), 1, instr_i).astype(np.int8)
    if "bright_ti4" in df.columns:
        instr_i = np.where(instr_i == 0, 1, instr_i).astype(np.int8)

    # pixel size
    for col_name in ("scan", "track"):
        if col_name in df.columns:
            v, b = _numeric(df[col_name])
            bad[col_name] = b | ~((v > 0) & (v <= 10))
        else:
            v = np.where(instr_i == 2, NOMINAL_PIXEL_KM["MODIS"], NOMINAL_PIXEL_KM["VIIRS"])
            if col_name == "scan":
                notes.append(f"{name}: no scan/track columns: nominal nadir pixel size used")
        if col_name == "scan":
            scan = v
        else:
            track = v

    frp = np.full(n, np.nan)
    if "frp" in df.columns:
        frp, b = _numeric(df["frp"])
        bad["frp"] = b | ~((frp >= 0) & np.isfinite(frp))
    bright = np.full(n, np.nan)
    for cname in ("bright_ti4", "brightness"):
        if cname in df.columns:
            bright, b = _numeric(df[cname])
            bad[cname] = b | ~((bright > 150) & (bright < 600)) & ~np.isnan(bright)
            break

    daypart = np.full(n, -1, np.int8)
    if "daynight" in df.columns:
        codes, uniq = _codes(df["daynight"])
        m = np.array([{"D": 0, "N": 1}.get(u.upper(), -2) for u in uniq] + [-2], np.int8)
        daypart = m[np.where(codes < 0, len(uniq), codes)]
        bad["daynight"] = daypart == -2
        daypart = np.where(daypart == -2, -1, daypart).astype(np.int8)
    elif has_time:
        solar_h = ((t % 86400.0) / 3600.0 + lon / 15.0) % 24.0
        daypart = np.where((solar_h >= 6) & (solar_h < 18), 0, 1).astype(np.int8)

    ver_tab: list[str] = [""]
    ver_i = np.zeros(n, np.int32)
    if "version" in df.columns:
        codes, uniq = _codes(df["version"])
        ver_tab = [*uniq, ""]
        ver_i = np.where(codes < 0, len(uniq), codes)

    ftype = np.full(n, -1, np.int8)
    if "type" in df.columns:
        v, b = _numeric(df["type"])
        okt = np.isin(v, [0, 1, 2, 3])
        bad["type"] = b | (~okt & ~np.isnan(v))
        ftype = np.where(okt, v, -1).astype(np.int8)

    if df.attrs.get("replaced"):
        for cname in df.columns:
            if df[cname].dtype == object:
                mask = df[cname].astype(str).str.contains("\ufffd", regex=False).to_numpy()
                if mask.any():
                    bad[cname] = bad.get(cname, np.zeros(n, bool)) | mask
    long_lines = df.attrs.get("long_lines") or {}
    if long_lines:
        ll = np.isin(line, np.fromiter(long_lines, np.int64))
        bad["*"] = ll
    # blank lines (every cell empty) are reported as such rather than field by field
    blank = np.isnan(lat) & np.isnan(lon) & np.isnan(day_s)
    if blank.any():
        cand = np.flatnonzero(blank)
        blank[cand] = df.iloc[cand].isna().all(axis=1).to_numpy()
    any_bad = blank.copy()
    for b in bad.values():
        any_bad |= b
    for i in np.flatnonzero(any_bad):
        if blank[i]:
            errors.append(row_problem(name, int(line[i]), "*", "blank line"))
            continue
        if long_lines and int(line[i]) in long_lines:
            got, want = long_lines[int(line[i])]
            errors.append(row_problem(name, int(line[i]), "*", f"malformed line: expected {want} fields, saw {got}"))
            continue
        for fname, b in bad.items():
            if not b[i]:
                continue
            raw = df[fname].iat[i]
            if raw is None or (isinstance(raw, float) and math.isnan(raw)) or str(raw).strip() == "":
                msg = "empty" + (" (truncated line?)" if i == n - 1 else "")
            else:
                msg = _why(fname, raw)
            errors.append(row_problem(name, int(line[i]), fname, msg))
    errors.sort(key=lambda e: e.line or 0)
    ok = ~any_bad if any_bad.any() else slice(None)  # no copy when every row is good
    return FirmsBatch(
        file=name, n_rows=n + len(skipped_lines), line=line[ok], lat=lat[ok], lon=lon[ok], t=t[ok], has_time=has_time,
        daypart=daypart[ok], satellite=np.array(sat_tab, dtype=str)[sat_i[ok]],
        instrument=_INSTR_ARR[np.minimum(instr_i[ok], 2)], scan_km=scan[ok], track_km=track[ok],
        frp=frp[ok], confidence=_CONF_ARR[conf_i[ok]], confidence_pct=conf_pct[ok], brightness_k=bright[ok],
        version=np.array(ver_tab, dtype=str)[ver_i[ok]], fire_type=ftype[ok], errors=errors, notes=notes,
    )


def _why(fname: str, raw: object) -> str:
    s = str(raw).strip()
    if "\ufffd" in s:
        return f"{s[:60]!r}: bytes that are not UTF-8"
    s = s if len(s) <= 80 else s[:60] + f"... ({len(s)} characters)"
    return {
        "latitude": f"{s!r} is not a latitude in [-90, 90]",
        "longitude": f"{s!r} is not a longitude in [-180, 180]",
        "acq_date": f"{s!r} is not a date in YYYY-MM-DD form",
        "acq_time": f"{s!r} is not a UTC time as HHMM, HH:MM or HH:MM:SS",
        "scan": f"{s!r} is not a pixel size in km (0, 10]",
        "track": f"{s!r} is not a pixel size in km (0, 10]",
        "frp": f"{s!r} is not a fire radiative power >= 0 MW",
        "confidence": f"{s!r} is not a confidence (l/n/h, low/nominal/high or 0-100)",
        "daynight": f"{s!r} is not D or N",
        "type": f"{s!r} is not a FIRMS type (0, 1, 2 or 3)",
        "instrument": f"{s!r} is not VIIRS or MODIS",
        "satellite": f"{s!r} is not a satellite name",
    }.get(fname, f"{s!r} is not valid")


# ---- observations ------------------------------------------------------------------


def source_id(satellite: str) -> str:
    """One source per satellite: ``firms-N20``, ``firms-NPP``, ``firms-AQUA``...; ``firms-UNKNOWN`` if unnamed."""
    return f"firms-{satellite or 'UNKNOWN'}"


def detection_ids(batch: FirmsBatch) -> list[str]:
    """Deterministic ids (same detection -> same id, whatever file it came in)."""
    out = []
    t = np.round(batch.t).astype(np.int64)
    for s, la, lo, tt in zip(batch.satellite.tolist(), batch.lat.tolist(), batch.lon.tolist(), t.tolist(), strict=True):
        key = f"{s}|{la:.5f}|{lo:.5f}|{tt}".encode()
        out.append(f"{source_id(s)}:{hashlib.sha256(key).hexdigest()[:20]}")
    return out


def to_observations(batch: FirmsBatch, excess: np.ndarray | None = None, p_value: np.ndarray | None = None,
                    expected: np.ndarray | None = None) -> list:
    """THERMAL_ANOMALY observations: footprint = pixel polygon, location ellipse covering the pixel."""
    coords = batch.footprint_coords()
    major, minor, angle = batch.covering_ellipse()
    ids = detection_ids(batch)
    t_sigma = 1.0 if batch.has_time else 86400.0 / math.sqrt(12.0)
    obs = []
    for i in range(len(batch)):
        ring = [[round(x, 6), round(y, 6)] for x, y in coords[i].tolist()]
        attrs: dict[str, Any] = {
            "frp": None if math.isnan(batch.frp[i]) else float(batch.frp[i]),
            "confidence": batch.confidence[i] or None,
            "satellite": batch.satellite[i] or None,
            "instrument": batch.instrument[i] or None,
            "scan_km": float(batch.scan_km[i]),
            "track_km": float(batch.track_km[i]),
            "daynight": {0: "D", 1: "N"}.get(int(batch.daypart[i])),
            "excess": None if excess is None else bool(excess[i]),
            "p_value": None if p_value is None else float(p_value[i]),
            "firms_line": int(batch.line[i]),
        }
        if expected is not None:
            attrs["expected"] = float(expected[i])
        if batch.fire_type[i] >= 0:
            attrs["firms_type"] = int(batch.fire_type[i])
        if not math.isnan(batch.brightness_k[i]):
            attrs["brightness_k"] = float(batch.brightness_k[i])
        if batch.version[i]:
            attrs["version"] = batch.version[i]
        obs.append(Observation(
            id=ids[i], source_id=source_id(batch.satellite[i]), kind=ObservationKind.THERMAL_ANOMALY,
            time=from_unix(batch.t[i]), time_sigma_s=t_sigma,
            location=Location(lat=float(batch.lat[i]), lon=float(batch.lon[i]), err_major_m=float(major[i]),
                              err_minor_m=float(minor[i]), err_angle_deg=float(angle[i]),
                              footprint={"type": "Polygon", "coordinates": [ring]}),
            attributes=attrs,
        ))
    return obs


def sources_for(batch: FirmsBatch) -> list:
    """The :class:`Source` records for every satellite in a batch."""
    out = []
    for s in sorted(set(batch.satellite.tolist())):
        instr = INSTRUMENT_OF.get(s, "")
        out.append(Source(id=source_id(s), kind=SourceKind.SATELLITE, name=f"NASA FIRMS {instr} {s}".strip(),
                          reliability=0.9, attributes={"satellite": s, "instrument": instr, "provider": "NASA FIRMS"}))
    return out
