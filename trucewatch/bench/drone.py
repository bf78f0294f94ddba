"""Drone patrols: footprint projection rate vs a per-frame shapely loop, weapons-in-zone sighting F1, jamming recall and false alarms.

Data come from trucewatch.sim.drone over the sample agreement and a generated
scenario (``demo``; several seeds for full runs): telemetry with noise,
detector misses, false detections and confusions, jamming near the line and
(for the interference metrics) spoofing on part of the flights.
"""

from __future__ import annotations

import json
import math
import time
from importlib.resources import files
from typing import Any

import numpy as np
import shapely

from trucewatch.agreement import load_agreement
from trucewatch.geo import haversine_m
from trucewatch.sim.drone import simulate
from trucewatch.sim.scenario import make_scenario
from trucewatch.sources.drone.detections import parse_detection
from trucewatch.sources.drone.geometry import camera_matrices, footprints_baseline, project_footprints
from trucewatch.sources.drone.pipeline import process_flight
from trucewatch.sources.drone.sites import check_sites, parse_sites


def match_objects(pred: list[tuple[float, float]], truth: list[tuple[float, float]], max_m: float = 60.0) -> int:
    """One-to-one matches (greedy by distance) between predicted and true positions."""
    if not pred or not truth:
        return 0
    p = np.array(pred)
    q = np.array(truth)
    d = haversine_m(p[:, None, 0], p[:, None, 1], q[None, :, 0], q[None, :, 1])
    pairs = np.argwhere(d <= max_m)
    order = np.argsort(d[pairs[:, 0], pairs[:, 1]])
    used_p: set[int] = set()
    used_q: set[int] = set()
    for i, j in pairs[order]:
        if i not in used_p and j not in used_q:
            used_p.add(int(i))
            used_q.add(int(j))
    return len(used_p)


def score_interference(episodes: list[Any], truth: list[dict[str, Any]], tol_s: float = 30.0) -> tuple[int, int, int, int]:
    """(truth found, truth total, detections matching no truth, detections total)."""
    found = 0
    for tr in truth:
        if any(e[0] == tr["flight_id"] and e[1] <= tr["t_end"] + tol_s and e[2] >= tr["t_start"] - tol_s for e in episodes):
            found += 1
    false = sum(1 for e in episodes
                if not any(e[0] == tr["flight_id"] and e[1] <= tr["t_end"] + tol_s and e[2] >= tr["t_start"] - tol_s for tr in truth))
    return found, len(truth), false, len(episodes)


def _footprint_rates(rng: np.random.Generator, n: int, n_base: int) -> dict[str, Any]:
    e = rng.uniform(-5e3, 5e3, n)
    nn = rng.uniform(-5e3, 5e3, n)
    h = rng.uniform(200, 1200, n)
    roll, pitch, yaw = rng.normal(0, 10, n), rng.normal(2, 3, n), rng.uniform(-180, 180, n)
    gr, gp, gy = rng.normal(0, 1, n), rng.uniform(-90, -40, n), rng.uniform(-30, 30, n)
    args = (50.0, 29.4, 1920, 1080)
    # baseline on a prefix (it is slow), vectorized on everything.  Like for like: the baseline builds a
    # shapely polygon per frame, so the headline (frames_per_s, speedup) builds them too;
    # frames_per_s_corners_only is the corners as arrays (what coverage, detections and sites use),
    # against the same polygon-building baseline: not like for like, kept apart and labelled.
    t_base = math.inf
    for _ in range(3):  # best of three for both: the machine is shared and noisy
        t0 = time.perf_counter()
        base = footprints_baseline(nn[:n_base], e[:n_base], h[:n_base], roll[:n_base], pitch[:n_base], yaw[:n_base],
                                   gr[:n_base], gp[:n_base], gy[:n_base], *args, gimbal_frame="body")
        t_base = min(t_base, time.perf_counter() - t0)
    best = best_poly = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        R = camera_matrices(roll, pitch, yaw, gr, gp, gy, "body")
        corners, _ = project_footprints(nn, e, h, R, *args)
        t1 = time.perf_counter()
        polys = shapely.polygons(np.concatenate([corners, corners[:, :1]], axis=1))
        t2 = time.perf_counter()
        best = min(best, t1 - t0)
        best_poly = min(best_poly, t2 - t0)
    # same answer?
    ref = np.array([shapely.get_coordinates(p)[:4] for p in base])
    max_diff = float(np.max(np.abs(ref - corners[:n_base])))
    assert len(polys) == n
    return {"frames_per_s": round(n / best_poly, 1), "baseline_frames_per_s": round(n_base / t_base, 1),
            "speedup": round((n / best_poly) / (n_base / t_base), 1),
            "speedup_setup": "like for like: both sides build one shapely polygon per frame",
            "frames_per_s_corners_only": round(n / best, 1),
            "speedup_corners_only_not_like_for_like": round((n / best) / (n_base / t_base), 1),
            "footprint_max_diff_m": round(max_diff, 6), "frames": n, "baseline_frames": n_base}


def run(quick: bool = False, seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"bench": "drone", "quick": quick, "seed": seed}
    out.update(_footprint_rates(rng, 20_000 if quick else 200_000, 1_000 if quick else 10_000))

    agr = load_agreement(str(files("trucewatch") / "data/agreements/ua-ru-2026/agreement.yaml"))
    seeds = [seed] if quick else [seed + k for k in range(4)]
    tp = n_pred = n_true = 0
    found = total = false = 0
    hours = 0.0
    t_proc = 0.0
    frames = 0
    site_status: dict[str, int] = {}
    site_right = site_total = 0
    by_kind: dict[str, list[int]] = {}
    for s in seeds:
        sc = make_scenario(agr, "quiet" if quick else "demo", s)
        sim = simulate(sc, np.random.default_rng(s + 1000), agr, spoofing=0.3)
        dets = [parse_detection(d, i + 1, None, json.dumps(d)) for i, d in enumerate(sim.detections)]
        by_flight: dict[str, list] = {}
        for d in dets:
            by_flight.setdefault(d.flight_id, []).append(d)
        t0 = time.perf_counter()
        results = [process_flight(f, by_flight.get(f.flight_id, []), agr) for f in sim.flights]
        t_proc += time.perf_counter() - t0
        frames += sum(len(r.frames) for r in results)
        cands = [c for r in results for c in r.candidates]
        truth = [(o["lat"], o["lon"]) for o in sim.objects if o["in_zone"]]
        tp += match_objects([(c["lat"], c["lon"]) for c in cands], truth)
        n_pred += len(cands)
        n_true += len(truth)
        eps = [(r.flight.flight_id, e.t_start, e.t_end) for r in results for e in r.episodes]
        f_, t_, fa, _ = score_interference(eps, sim.episodes)
        for kind in ("gnss_jamming", "gnss_spoofing"):
            kf, kt, _, _ = score_interference(eps, [e for e in sim.episodes if e["kind"] == kind])
            by_kind.setdefault(kind, [0, 0])
            by_kind[kind][0] += kf
            by_kind[kind][1] += kt
        found += f_
        total += t_
        false += fa
        hours += sim.flight_hours
        # storage sites: status against the truth (present count vs declared)
        sites = parse_sites(sim.sites)
        recs = check_sites(sites, [r.frames for r in results], [o for r in results for o in r.sightings])
        for site in sim.sites["sites"]:
            for item in site["inventory"]:
                true_present = sum(1 for o in sim.objects if o["event_id"] == site["id"] and not o["camouflaged"])
                want = "present" if true_present >= item["count"] else "missing"
                got = [r["status"] for r in recs if r["site_id"] == site["id"] and r["class"] == item["class"]]
                st = got[0] if got else "not_visited"
                site_status[st] = site_status.get(st, 0) + 1
                site_total += 1
                site_right += st == want
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_true if n_true else 0.0
    out.update({
        "sighting_f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0,
        "sighting_precision": round(prec, 4), "sighting_recall": round(rec, 4), "weapons_in_zone_true": n_true,
        "weapons_in_zone_flagged": n_pred,
        "jamming_detect_recall": round(found / total, 4) if total else None, "interference_episodes_true": total,
        "recall_by_kind": {k: round(v[0] / v[1], 4) if v[1] else None for k, v in by_kind.items()},
        "episodes_by_kind": {k: v[1] for k, v in by_kind.items()},
        "jamming_false_alarms_per_h": round(false / hours, 4) if hours else None, "false_alarms": false,
        "flight_hours": round(hours, 2), "pipeline_frames_per_s": round(frames / t_proc, 1) if t_proc else None,
        "site_checks_correct": f"{site_right}/{site_total}", "site_status": site_status, "scenarios": len(seeds),
    })
    out["goals_met"] = {"speedup_10x": out["speedup"] >= 10, "sighting_f1_0.9": out["sighting_f1"] >= 0.9,
                        "jamming_recall_0.9": (out["jamming_detect_recall"] or 0) >= 0.9,
                        "false_alarms_under_1_per_h": (out["jamming_false_alarms_per_h"] or 0) < 1.0}
    return out
