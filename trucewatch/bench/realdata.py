"""Measures on real material nobody on this project wrote, against the goals of issue 18.

Each measure lives in its own module ``trucewatch.bench._real_<name>`` with
``measure(split: str = "heldout") -> dict`` (held-out halves of labelled real
sets; each result says what it was measured on).  This aggregator runs them,
reports a module that is absent under ``missing`` and one that fails under
``errors`` (named, never a traceback), and checks the goals:

| measure | key | goal |
|---|---|---|
| air counts exact | air.counts_exact | >= 0.9 |
| headline places within 10 km | text.headline_places_within_10km | >= 0.9 |
| patrol places within tolerance | text.patrol_places_within_tolerance | >= 0.85 |
| GNSS false alarms on benign flights | dronesea.gnss_false_alarms_per_flight_hour | <= 1 per hour |
| protected-object findings beyond radius + 2 sigma | rules.protected_beyond_radius_2sigma | 0 |
"""

from __future__ import annotations

import importlib
import operator
import time
from collections.abc import Callable
from typing import Any

#: (key in the output, module) of each real-data measure.
MEASURES: list[tuple[str, str]] = [
    ("air", "trucewatch.bench._real_air"),
    ("text", "trucewatch.bench._real_text"),
    ("dronesea", "trucewatch.bench._real_dronesea"),
    ("rules", "trucewatch.bench._real_rules"),
]

#: goal name -> (measure key, field, comparison, target)
GOALS: dict[str, tuple[str, str, str, float]] = {
    "air_counts_exact": ("air", "counts_exact", ">=", 0.9),
    "headline_places_within_10km": ("text", "headline_places_within_10km", ">=", 0.9),
    "patrol_places_within_tolerance": ("text", "patrol_places_within_tolerance", ">=", 0.85),
    "gnss_false_alarms_per_flight_hour": ("dronesea", "gnss_false_alarms_per_flight_hour", "<=", 1.0),
    "protected_beyond_radius_2sigma": ("rules", "protected_beyond_radius_2sigma", "==", 0.0),
}
_OPS: dict[str, Callable[[Any, Any], bool]] = {">=": operator.ge, "<=": operator.le, "==": operator.eq}


def _module(name: str) -> Any | None:
    """The measure module, or None when this checkout does not have it."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def goals(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Pass/fail per goal; ``null`` pass when the measure is missing or lacks the field."""
    out: dict[str, dict[str, Any]] = {}
    for goal, (key, fld, op, target) in GOALS.items():
        value = results.get(key, {}).get(fld) if isinstance(results.get(key), dict) else None
        ok: bool | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            ok = bool(_OPS[op](value, target))
        out[goal] = {"measure": f"{key}.{fld}", "value": value, "goal": f"{op} {target:g}", "pass": ok}
    return out


def aggregate(split: str = "heldout", measures: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Run every measure on ``split``; missing modules and failures are named, not raised."""
    result: dict[str, Any] = {"benchmark": "realdata", "split": split}
    missing: list[str] = []
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for key, name in measures or MEASURES:
        mod = _module(name)
        if mod is None or not hasattr(mod, "measure"):
            missing.append(name)
            continue
        t0 = time.perf_counter()
        try:
            out = mod.measure(split=split)
        except Exception as exc:  # one broken measure must not hide the others; it is named
            errors[key] = f"{name}.measure(split={split!r}) failed: {type(exc).__name__}: {exc}"
            continue
        finally:
            seconds[key] = round(time.perf_counter() - t0, 2)
        if not isinstance(out, dict):
            errors[key] = f"{name}.measure returned {type(out).__name__}, expected a dict"
            continue
        if not out.get("measured_on"):
            errors[key] = f"{name}.measure: measured_on: every figure says what it was measured on"
        result[key] = out
    result["missing"] = missing
    if errors:
        result["errors"] = errors
    result["seconds"] = seconds
    result["goals"] = goals(result)
    result["all_goals_pass"] = all(g["pass"] is True for g in result["goals"].values())
    return result


def run(quick: bool, seed: int) -> dict[str, Any]:
    """``trucewatch bench realdata``: the held-out halves (``quick`` and ``seed`` do not
    apply: real sets are fixed and small)."""
    del quick, seed
    return aggregate("heldout")
