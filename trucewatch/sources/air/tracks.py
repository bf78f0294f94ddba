"""Air-picture tracks: JSONL intake (one point per line) and AIR_TRACK observations.

Format (docs/air_sea.md#tracks), one JSON object per line::

    {"track_id": "T-0412", "t": "2026-03-15T01:02:03Z", "lat": 50.1, "lon": 36.2,
     "alt_m": 150, "speed_mps": 50, "classification": "shahed", "err_m": 500, "intercepted": false}

``t`` may be ISO 8601 or unix seconds; ``alt_m``, ``speed_mps``, ``err_m`` (95 %
position error, default 500 m) and ``intercepted`` are optional; a track is
intercepted when any of its points says so.  Classification synonyms (geran,
kh-101, iskander...) map to the contract's classes.  A bad line gets an error
naming the line and field; the rest of the file is read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from trucewatch._jsonl import BadLine, json_lines
from trucewatch.errors import RecordProblem
from trucewatch.geo import LocalFrame
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind, from_unix, sha256_hex, to_utc

CLASSES = ("shahed", "decoy", "cruise_missile", "ballistic_missile", "glide_bomb", "aircraft", "helicopter", "unknown")
SYNONYMS = {
    "geran": "shahed", "geran-2": "shahed", "shahed-136": "shahed", "shahed-131": "shahed", "attack_drone": "shahed",
    "uav": "shahed", "drone": "shahed", "gerbera": "decoy", "parody": "decoy", "imitator": "decoy",
    "cruise": "cruise_missile", "kh-101": "cruise_missile", "kalibr": "cruise_missile", "kh-55": "cruise_missile",
    "kh-22": "cruise_missile", "kh-59": "cruise_missile", "kh-69": "cruise_missile", "missile": "unknown",
    "ballistic": "ballistic_missile", "iskander": "ballistic_missile", "iskander-m": "ballistic_missile",
    "kn-23": "ballistic_missile", "kinzhal": "ballistic_missile", "kab": "glide_bomb", "guided_bomb": "glide_bomb",
    "plane": "aircraft", "fighter": "aircraft", "bomber": "aircraft", "heli": "helicopter",
}
DEFAULT_ERR_M = 500.0
#: Path simplification tolerance (m): keeps turns, drops straight-line points.
SIMPLIFY_M = 250.0


@dataclass
class AirTrack:
    track_id: str
    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt_m: np.ndarray
    err_m: np.ndarray
    classification: str
    intercepted: bool
    attributes: dict[str, Any] = field(default_factory=dict)


def air_picture_source(source_id: str = "airpicture:feed", name: str = "", party: str = "neutral") -> Source:
    """The registered Source for an air-picture feed (kind AIR_DEFENCE, as the contract says)."""
    return Source(id=source_id, kind=SourceKind.AIR_DEFENCE, party=party, name=name or f"air picture {source_id}",
                  reliability=0.9)


def classify(value: Any) -> str | None:
    s = str(value or "unknown").strip().lower().replace(" ", "_")
    if s in CLASSES:
        return s
    return SYNONYMS.get(s) or SYNONYMS.get(s.replace("_", "-"))


def _time(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError("not a time")
    if isinstance(v, (int, float)):
        if not math.isfinite(v):
            raise ValueError("not finite")
        t = float(v) / 1000.0 if v > 1e11 else float(v)
    elif isinstance(v, str):
        try:
            t = to_utc(datetime.fromisoformat(v.strip().replace("Z", "+00:00"))).timestamp()
        except OverflowError:
            raise ValueError("outside the range of dates") from None
    else:
        raise ValueError(f"expected ISO 8601 or unix seconds, got {type(v).__name__}")
    if not 946_684_800.0 <= t <= 4_102_444_800.0:  # 2000..2100: anything else is a corrupt field
        raise ValueError("not a time in 2000..2100")
    return t


def read_tracks(lines: Iterable[str | bytes]) -> tuple[list[AirTrack], list[RecordProblem]]:
    """Parse JSONL points into tracks (time-sorted); errors name line and field."""
    ids: list[str] = []
    cols: dict[str, list[float]] = {k: [] for k in ("t", "lat", "lon", "alt", "err")}
    cls: list[str] = []
    icp: list[bool] = []
    errors: list[RecordProblem] = []
    # feeds are lenient about encoding: a bad byte becomes U+FFFD, not a lost point
    text = (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw for raw in lines)
    for no, d in json_lines(text):
        if isinstance(d, BadLine):
            errors.append(RecordProblem.at_line(no, "(line)", f"not JSON: {d.why}"))
            continue
        if not isinstance(d, dict):
            errors.append(RecordProblem.at_line(no, "(line)", "expected a JSON object"))
            continue
        tid = d.get("track_id")
        if tid is None or str(tid).strip() == "":
            errors.append(RecordProblem.at_line(no, "track_id", "missing"))
            continue
        try:
            t = _time(d.get("t"))
        except (ValueError, TypeError) as exc:
            errors.append(RecordProblem.at_line(no, "t", f"{d.get('t')!r}: {exc}"))
            continue
        try:
            lat, lon = float(d["lat"]), float(d["lon"])
        except (KeyError, TypeError, ValueError, OverflowError):
            errors.append(RecordProblem.at_line(no, "lat" if not isinstance(d.get("lat"), (int, float)) else "lon", "missing or not a number"))
            continue
        if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
            errors.append(RecordProblem.at_line(no, "lat/lon", f"{lat}, {lon} is off the globe (lat/lon swapped?)"))
            continue
        c = classify(d.get("classification"))
        if c is None:
            errors.append(RecordProblem.at_line(no, "classification", f"unknown class {d.get('classification')!r}; "
                                                           f"use one of {', '.join(CLASSES)}"))
            continue
        try:
            alt = float(a) if (a := d.get("alt_m")) is not None else np.nan
            err = float(e) if (e := d.get("err_m")) is not None else DEFAULT_ERR_M
        except (TypeError, ValueError, OverflowError):
            errors.append(RecordProblem.at_line(no, "alt_m/err_m", "not a number"))
            continue
        if not err > 0 or not math.isfinite(err):
            errors.append(RecordProblem.at_line(no, "err_m", f"{err} must be a positive number"))
            continue
        if math.isinf(alt):
            errors.append(RecordProblem.at_line(no, "alt_m", f"{alt} is not finite"))
            continue
        ids.append(str(tid))
        cols["t"].append(t)
        cols["lat"].append(lat)
        cols["lon"].append(lon)
        cols["alt"].append(alt)
        cols["err"].append(err)
        cls.append(c)
        icp.append(bool(d.get("intercepted", False)))
    if not ids:
        return [], errors
    id_arr = np.array(ids, dtype=object)
    t_arr = np.array(cols["t"])
    uid, inv = np.unique(id_arr, return_inverse=True)
    order = np.lexsort((t_arr, inv))
    inv_s = inv[order]
    starts = np.flatnonzero(np.r_[True, inv_s[1:] != inv_s[:-1]])
    ends = np.r_[starts[1:], len(order)]
    arr = {k: np.asarray(v)[order] for k, v in cols.items()}
    cls_a = np.array(cls, dtype=object)[order]
    icp_a = np.array(icp)[order]
    out = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=False):
        vals, counts = np.unique(cls_a[a:b], return_counts=True)
        known = [(c, v) for v, c in zip(vals, counts, strict=False) if v != "unknown"]
        klass = max(known)[1] if known else "unknown"
        out.append(AirTrack(str(uid[inv_s[a]]), arr["t"][a:b], arr["lat"][a:b], arr["lon"][a:b], arr["alt"][a:b],
                            arr["err"][a:b], klass, bool(icp_a[a:b].any())))
    return out, errors


def read_tracks_file(path: str | Path) -> tuple[list[AirTrack], list[RecordProblem]]:
    with open(path, "rb") as fh:  # bytes: a bad byte is U+FFFD in its field, not an exception for the file
        return read_tracks(fh)


def simplified_path(tr: AirTrack, tol_m: float = SIMPLIFY_M) -> list[list[float]]:
    """[[lon, lat, t], ...] with Douglas-Peucker in a local frame (first and last point kept)."""

    if len(tr.t) <= 2:
        return [[float(a), float(b), float(c)] for a, b, c in zip(tr.lon, tr.lat, tr.t, strict=False)]
    fr = LocalFrame.around(tr.lat, tr.lon)
    e, n = fr.to_en(tr.lat, tr.lon)
    line = shapely.LineString(np.column_stack([e, n]))
    simp = shapely.simplify(line, tol_m, preserve_topology=False)
    kept = shapely.get_coordinates(simp)
    # kept vertices are a subset of the originals: map them back to their indices for the times
    where = {(float(x), float(y)): i for i, (x, y) in enumerate(zip(e.tolist(), n.tolist(), strict=False))}
    idx = np.unique(np.r_[0, [where[(float(x), float(y))] for x, y in kept if (float(x), float(y)) in where], len(e) - 1])
    return [[round(float(tr.lon[i]), 6), round(float(tr.lat[i]), 6), float(tr.t[i])] for i in idx.tolist()]


def track_observations(tracks: list[AirTrack], source_id: str) -> list[Observation]:
    """One AIR_TRACK per track: location = last point, origin = first point (both with their error)."""
    obs = []
    for tr in tracks:
        path = simplified_path(tr)
        key = f"{source_id}|{tr.track_id}|{tr.t[0]:.3f}"
        attrs = {"track_id": tr.track_id, "classification": tr.classification,
                 "origin": {"lat": float(tr.lat[0]), "lon": float(tr.lon[0]), "err_m": float(tr.err_m[0])},
                 "path": path, "intercepted": tr.intercepted, "n_points": len(tr.t),
                 "start": from_unix(tr.t[0]).isoformat(), **tr.attributes}
        obs.append(Observation(
            id=f"trk-{sha256_hex(key.encode())[:24]}", source_id=source_id, kind=ObservationKind.AIR_TRACK,
            time=from_unix(tr.t[-1]), time_sigma_s=1.0,
            location=Location(lat=float(tr.lat[-1]), lon=float(tr.lon[-1]), err_major_m=float(tr.err_m[-1]),
                              err_minor_m=float(tr.err_m[-1])),
            attributes=attrs, payload_hash=sha256_hex(json.dumps(path).encode())))
    return obs


def tracks_from_observations(obs: list[Observation]) -> list[AirTrack]:
    """Rebuild tracks from AIR_TRACK observations (their simplified paths), for the rules."""
    out = []
    for o in obs:
        if o.kind != ObservationKind.AIR_TRACK:
            continue
        p = np.asarray(o.attributes.get("path") or [[o.location.lon, o.location.lat, o.t]], float)
        err = np.full(len(p), o.location.err_major_m)
        org = o.attributes.get("origin") or {}
        if org.get("err_m"):
            err[0] = float(org["err_m"])
        out.append(AirTrack(str(o.attributes.get("track_id", o.id)), p[:, 2], p[:, 1], p[:, 0], np.full(len(p), np.nan),
                            err, str(o.attributes.get("classification", "unknown")),
                            bool(o.attributes.get("intercepted", False)), {"observation_id": o.id}))
    return out
