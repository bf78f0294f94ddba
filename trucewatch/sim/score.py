"""Score found violations against a scenario's ground truth.

A found violation matches a true one when the rule is the same, the times are
within ``time_tol_s`` and the places within ``dist_tol_m``; matching is a
one-to-one optimal assignment (scipy's linear_sum_assignment on a normalised
cost), so one finding can never claim two true violations.

Attribution is judged on matched pairs only: ``attribution_accuracy`` is the
share whose party equals the truth's; ``false_attribution_rate`` the share of
*attributed* matches (party not ``undetermined``) pinned on the wrong party,
which is the error the parties will never forgive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from trucewatch.errors import TruceWatchError
from trucewatch.geo import haversine_m
from trucewatch.model import UNDETERMINED


class ScoreInputError(TruceWatchError, ValueError):
    """A truth or findings file the scorer cannot read; names the record and field."""


@dataclass(frozen=True)
class Item:
    rule: str
    party: str
    t: float
    lat: float
    lon: float
    ref: str


def _time(v: Any, where: str) -> float:
    if isinstance(v, int | float):
        return float(v)
    try:
        return datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ScoreInputError(f"{where}: time: not ISO 8601: {v!r}") from None


def read_truth(path: str | Path) -> list[Item]:
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScoreInputError(f"{path}: cannot read truth: {exc}") from None
    if not isinstance(d, dict) or not isinstance(d.get("violations"), list):
        raise ScoreInputError(f"{path}: violations: expected a list of true violations")
    out = []
    for i, v in enumerate(d["violations"]):
        where = f"{path}: violations[{i}]"
        for f in ("rule", "time", "lat", "lon"):
            if f not in v:
                raise ScoreInputError(f"{where}: {f}: missing")
        out.append(Item(str(v["rule"]), str(v.get("party") or UNDETERMINED), _time(v["time"], where),
                        float(v["lat"]), float(v["lon"]), str(v.get("id", i))))
    return out


def read_found(path: str | Path, *, exclude_status: tuple[str, ...] = ("dismissed",)) -> list[Item]:
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScoreInputError(f"{path}: cannot read findings: {exc}") from None
    if not isinstance(d, dict) or d.get("type") != "FeatureCollection" or not isinstance(d.get("features"), list):
        raise ScoreInputError(f"{path}: expected a GeoJSON FeatureCollection")
    out = []
    for i, f in enumerate(d["features"]):
        where = f"{path}: features[{i}]"
        props = f.get("properties") or {}
        geom = f.get("geometry") or {}
        if geom.get("type") != "Point":
            raise ScoreInputError(f"{where}: geometry: expected a Point")
        for fld in ("rule", "time"):
            if fld not in props:
                raise ScoreInputError(f"{where}: properties.{fld}: missing")
        if props.get("status") in exclude_status:
            continue
        lon, lat = geom["coordinates"][:2]
        out.append(Item(str(props["rule"]), str(props.get("party") or UNDETERMINED), _time(props["time"], where),
                        float(lat), float(lon), str(props.get("id", i))))
    return out


def score(truth: list[Item], found: list[Item], *, time_tol_s: float = 3600.0, dist_tol_m: float = 5000.0) -> dict[str, Any]:
    """Precision, recall, F1, attribution and location error (see module doc)."""
    nt, nf = len(truth), len(found)
    matches: list[tuple[int, int, float]] = []
    if nt and nf:
        tl = np.array([[x.lat, x.lon, x.t] for x in truth])
        fl = np.array([[x.lat, x.lon, x.t] for x in found])
        d = haversine_m(tl[:, None, 0], tl[:, None, 1], fl[None, :, 0], fl[None, :, 1])
        dt = np.abs(tl[:, None, 2] - fl[None, :, 2])
        same = np.array([[a.rule == b.rule for b in found] for a in truth])
        ok = same & (d <= dist_tol_m) & (dt <= time_tol_s)
        cost = np.where(ok, d / dist_tol_m + dt / time_tol_s, 1e6)
        r, c = linear_sum_assignment(cost)
        matches = [(int(i), int(j), float(d[i, j])) for i, j in zip(r, c, strict=True) if ok[i, j]]
    tp = len(matches)
    precision = tp / nf if nf else (1.0 if nt == 0 else 0.0)
    recall = tp / nt if nt else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    right = sum(1 for i, j, _ in matches if found[j].party == truth[i].party)
    attributed = [(i, j) for i, j, _ in matches if found[j].party != UNDETERMINED]
    wrong = sum(1 for i, j in attributed if found[j].party != truth[i].party)
    errs = [m[2] for m in matches]
    per_rule: dict[str, dict[str, int]] = {}
    for x in truth:
        per_rule.setdefault(x.rule, {"truth": 0, "found": 0, "matched": 0})["truth"] += 1
    for x in found:
        per_rule.setdefault(x.rule, {"truth": 0, "found": 0, "matched": 0})["found"] += 1
    for i, _, _ in matches:
        per_rule[truth[i].rule]["matched"] += 1
    return {
        "n_truth": nt, "n_found": nf, "true_positives": tp, "false_positives": nf - tp, "false_negatives": nt - tp,
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
        "attribution_accuracy": round(right / tp, 4) if tp else None,
        "undetermined_rate": round(sum(1 for _, j, _ in matches if found[j].party == UNDETERMINED) / tp, 4) if tp else None,
        "false_attribution_rate": round(wrong / len(attributed), 4) if attributed else 0.0,
        "median_location_error_m": round(float(np.median(errs)), 1) if errs else None,
        "time_tolerance_s": time_tol_s, "distance_tolerance_m": dist_tol_m, "per_rule": per_rule,
    }


def score_files(truth_path: str | Path, found_path: str | Path, **kw: Any) -> dict[str, Any]:
    return score(read_truth(truth_path), read_found(found_path), **kw)
