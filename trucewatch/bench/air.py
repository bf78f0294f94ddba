"""Air: summary count accuracy on the labelled set, track-violation F1 on simulated strike waves.

``summary_count_accuracy``: share of launched and intercepted counts (per
weapon type) read exactly from trucewatch/data/eval/air_summaries/summaries.jsonl
(120 summaries in Ukrainian and English written by the project; labels are
exact).  Baseline in the same run: a naive reader that takes the first number
after a launch verb as "launched" and the first after an interception verb as
"intercepted", assigned to every type.

``track_violation_f1``: over (track, rule) pairs, findings from
trucewatch.sources.air.rules against the simulator's noise-free truth, on the
full ceasefire (ua-ru-2026: launch, flight and strike rules) and on the
energy-only one (ua-ru-energy: strike rule only), several nights.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch.agreement import load_agreement
from trucewatch.model import Rule
from trucewatch.sim.air import _truth_rules, simulate_air
from trucewatch.sources.air.rules import track_findings
from trucewatch.sources.air.summary import parse_summary
from trucewatch.sources.air.tracks import read_tracks

EVAL = Path(__file__).resolve().parents[1] / "data" / "eval" / "air_summaries" / "summaries.jsonl"


def _naive(text: str) -> tuple[int | None, int | None]:
    m1 = re.search(r"(?:атакував|запустив|випустив|launched|attacked with)\D{0,40}?(\d+)", text, re.I)
    m2 = re.search(r"(?:збито|подавлено|знищили|знешкоджено|shot down|downed)\D{0,60}?(\d+)", text, re.I)
    return (int(m1.group(1)) if m1 else None), (int(m2.group(1)) if m2 else None)


def summary_accuracy() -> dict[str, Any]:
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    ok = total = base_ok = 0
    flag_ok = 0
    area_hit = area_total = 0
    t = time.perf_counter()
    for r in rows:
        s = parse_summary(r["text"], summary_id=r["id"],
                          published=datetime.fromisoformat(r["published"].replace("Z", "+00:00")))
        nl, ni = _naive(r["text"])
        for e in r["expected"]["items"]:
            it = s.item(e["weapon_type"])
            for key, naive in (("launched", nl), ("intercepted", ni)):
                total += 1
                ok += int(((getattr(it, key) if it else None) or 0) == e[key])
                base_ok += int((naive or 0) == e[key])
        flagged = any("more than" in p for p in s.problems)
        flag_ok += int(flagged == bool(r["expected"]["inconsistent"]))
        got = {str(a.get("id") or "").replace("-oblast", "") for a in s.launch_areas}
        area_total += len(r["expected"]["launch_areas"])
        area_hit += len(set(r["expected"]["launch_areas"]) & got)
    dt = time.perf_counter() - t
    return {"summary_count_accuracy": round(ok / total, 4), "baseline_naive_count_accuracy": round(base_ok / total, 4),
            "summaries": len(rows), "counts_scored": total, "inconsistency_flag_accuracy": round(flag_ok / len(rows), 4),
            "launch_area_recall": round(area_hit / max(area_total, 1), 4), "summaries_per_s": round(len(rows) / dt, 1)}


def track_f1(seeds: list[int], drones: int) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1] / "data" / "agreements"
    agrs = {n: load_agreement(root / n / "agreement.yaml") for n in ("ua-ru-2026", "ua-ru-energy")}
    tp = fp = fn = 0
    party_ok = party_n = 0
    per: dict[str, list[int]] = {}
    t_rules = 0.0
    n_tracks = 0
    for seed in seeds:
        sim = simulate_air(np.random.default_rng(seed), agrs["ua-ru-2026"], drones=drones, nights=2)
        tracks, errors = read_tracks(sim.track_lines)
        assert not errors, errors[:3]
        n_tracks += len(tracks)
        for name, agr in agrs.items():
            # the truth re-judged on this agreement from the noise-free geometry kept by the simulator
            truth: dict[tuple[str, str], str] = {}
            for tt in sim.truth:
                for r in tt.rules:
                    if agr.rules_of(Rule(r)):  # truth rules are kept as their string values
                        truth[(tt.track_id, r)] = tt.party
            # the energy-only agreement judges strikes on its own (longer) object list
            if name == "ua-ru-energy":
                truth = {}
                for tt in sim.truth:
                    lat = np.array([tt.launch[0], tt.end[0]])
                    lon = np.array([tt.launch[1], tt.end[1]])
                    for r in _truth_rules(agr, tt.classification, lat, lon, tt.intercepted):
                        truth[(tt.track_id, r)] = tt.party
            t = time.perf_counter()
            found = track_findings(tracks, agr)
            t_rules += time.perf_counter() - t
            fset = {(f.track_id, f.rule.value): f.party for f in found}
            for key in set(fset) | set(truth):
                rule = key[1]
                c = per.setdefault(f"{name}:{rule}", [0, 0, 0])
                if key in fset and key in truth:
                    tp += 1
                    c[0] += 1
                    party_n += 1
                    party_ok += int(fset[key] == truth[key])
                elif key in fset:
                    fp += 1
                    c[1] += 1
                else:
                    fn += 1
                    c[2] += 1
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return {"track_violation_f1": round(f1, 4), "track_tp": tp, "track_fp": fp, "track_fn": fn,
            "track_party_accuracy": round(party_ok / max(party_n, 1), 4), "tracks": n_tracks,
            "per_rule_tp_fp_fn": per, "rules_tracks_per_s": round(2 * n_tracks / max(t_rules, 1e-9), 1)}


def run(quick: bool = False, seed: int = 1) -> dict[str, Any]:
    out: dict[str, Any] = {"benchmark": "air", "quick": quick, "seed": seed}
    out.update(summary_accuracy())
    out.update(track_f1([seed] if quick else [seed + k for k in range(3)], 20 if quick else 80))
    out["goal_summary_count_accuracy_min"] = 0.95
    out["goal_track_violation_f1_min"] = 0.9
    return out
