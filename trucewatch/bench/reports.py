"""Text reports: geocoding, event type, clustering and throughput on the labelled set (vs exact-name lookup).

Accuracy is measured on trucewatch/data/eval/reports/reports.jsonl (labelled by
the project, see its build_eval.py); throughput on simulated posts from
trucewatch.sim.text.  The baseline geocodes the same reports with exact-name
lookup only: the first capitalised word or pair whose folded spelling equals a
gazetteer name, most populous place first (no stemming, variants, fuzzy
matching or disambiguation).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np

from trucewatch.geo import haversine_m
from trucewatch.sim.text import simulate_posts
from trucewatch.sources.text.extract import Extractor
from trucewatch.sources.text.gazetteer import Gazetteer
from trucewatch.sources.text.pipeline import extract_claims
from trucewatch.sources.text.translit import fold

EVAL = Path(__file__).resolve().parents[1] / "data" / "eval" / "reports" / "reports.jsonl"


def load_eval(path: Path = EVAL) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def pairwise_f1(pred: list, truth: list) -> dict:
    """Pairwise precision/recall/F1 of a clustering against labels (vectorized)."""
    _, p = np.unique(np.asarray([str(x) for x in pred]), return_inverse=True)
    _, t = np.unique(np.asarray([str(x) for x in truth]), return_inverse=True)
    n = len(p)
    same_p = p[:, None] == p[None, :]
    same_t = t[:, None] == t[None, :]
    iu = np.triu_indices(n, 1)
    sp, st = same_p[iu], same_t[iu]
    tp = int(np.sum(sp & st))
    prec = tp / max(int(sp.sum()), 1)
    rec = tp / max(int(st.sum()), 1)
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4)}


def exact_baseline(rows: list[dict], gaz) -> list[tuple[float, float] | None]:
    by_key: dict[str, list[int]] = {}
    for (k, i) in gaz.full:
        by_key.setdefault(k, []).append(i)
    out: list[tuple[float, float] | None] = []
    for r in rows:
        toks = re.findall(r"[A-Za-z\u0400-\u04FF'’\-]+", r["text"])
        hit = None
        for j, tk in enumerate(toks):
            if not tk[:1].isupper():
                continue
            for m in (2, 1):
                k = fold(" ".join(toks[j:j + m]))
                ids = [i for i in by_key.get(k, []) if gaz.kind[i] != "admin1"]
                if ids:
                    best = max(ids, key=lambda i: gaz.population[i])
                    hit = (float(gaz.lat[best]), float(gaz.lon[best]))
                    break
            if hit:
                break
        out.append(hit)
    return out


def run(quick: bool = False, seed: int = 1) -> dict:
    t0 = time.perf_counter()
    gaz = Gazetteer.load()
    ex = Extractor(gaz)
    load_s = time.perf_counter() - t0
    rows = load_eval()
    recs = [{k: r[k] for k in ("id", "source", "published_at", "text", "lang")} for r in rows]
    claims, errors = extract_claims(recs, extractor=ex)
    by_id = {c.report_id: c for c in claims}
    lab = [r["label"] for r in rows]
    lat = np.array([by_id[r["id"]].lat if r["id"] in by_id and by_id[r["id"]].lat is not None else np.nan
                    for r in rows], float)
    lon = np.array([by_id[r["id"]].lon if r["id"] in by_id and by_id[r["id"]].lon is not None else np.nan
                    for r in rows], float)
    tl = np.array([x["lat"] for x in lab])
    tn = np.array([x["lon"] for x in lab])
    d = haversine_m(lat, lon, tl, tn)
    ok10 = np.where(np.isfinite(d), d <= 10_000, False)
    et_ok = np.array([by_id[r["id"]].event_type == r["label"]["event_type"] if r["id"] in by_id else False
                      for r in rows])
    cl = pairwise_f1([by_id[r["id"]].cluster if r["id"] in by_id else f"missing{i}" for i, r in enumerate(rows)],
                     [x["cluster"] for x in lab])
    # copies: a claim is dependent iff labelled copy_of
    dep_pred = np.array([not by_id[r["id"]].independent if r["id"] in by_id else False for r in rows])
    dep_true = np.array([x["copy_of"] is not None for x in lab])
    tp = int(np.sum(dep_pred & dep_true))
    copy_p = tp / max(int(dep_pred.sum()), 1)
    copy_r = tp / max(int(dep_true.sum()), 1)
    base = exact_baseline(rows, gaz)
    bd = np.array([haversine_m(b[0], b[1], x["lat"], x["lon"]) if b else np.inf for b, x in zip(base, lab,
                                                                                                   strict=True)])
    base10 = float(np.mean(bd <= 10_000))
    parts = {}
    for part in ("viina", "viina_holdout", "viina_holdout2", "written"):
        m = np.array([x.get("part") == part for x in lab])
        if m.any():
            sel = [i for i in range(len(rows)) if m[i]]
            cf = pairwise_f1([by_id[rows[i]["id"]].cluster if rows[i]["id"] in by_id else f"missing{i}" for i in sel],
                             [lab[i]["cluster"] for i in sel])
            parts[part] = {"n": int(m.sum()), "geocode_within_10km": round(float(ok10[m].mean()), 4),
                           "event_type_accuracy": round(float(et_ok[m].mean()), 4), "cluster_f1": cf["f1"]}
    by_lang: dict[str, list[bool]] = {}
    for r, ok in zip(rows, ok10, strict=True):
        c = by_id.get(r["id"])
        by_lang.setdefault(c.language if c else "?", []).append(bool(ok))
    # throughput: simulated posts, end to end (extraction, clustering, copy marking)
    n_posts = 600 if quick else 4000
    sim = simulate_posts(n_posts, np.random.default_rng(seed), with_truth=True)
    posts = [{k: v for k, v in r.items() if k != "truth"} for r in sim]
    t1 = time.perf_counter()
    sim_claims, _ = extract_claims(posts, extractor=ex)
    dt = time.perf_counter() - t1
    # generality: random villages along the front named without their region (many share a name)
    sc = {c.report_id: c for c in sim_claims}
    slat = np.array([sc[r["id"]].lat if sc[r["id"]].lat is not None else np.nan for r in sim], float)
    slon = np.array([sc[r["id"]].lon if sc[r["id"]].lon is not None else np.nan for r in sim], float)
    sd = haversine_m(slat, slon, np.array([r["truth"]["lat"] for r in sim]), np.array([r["truth"]["lon"] for r in sim]))
    sim_ok = np.where(np.isfinite(sd), sd <= 10_000, False)
    sim_geo = float(np.mean(sim_ok))
    sim_amb = np.array([bool(sc[r["id"]].alternatives) for r in sim])
    sim_et = float(np.mean([sc[r["id"]].event_type == r["truth"]["type"] for r in sim]))
    # the baseline's speed on the same posts
    t2 = time.perf_counter()
    exact_baseline(posts, gaz)
    dtb = time.perf_counter() - t2
    geo = float(ok10.mean())
    return {
        "benchmark": "reports",
        "n_reports": len(rows),
        "geocode_within_10km": round(geo, 4),
        "event_type_accuracy": round(float(et_ok.mean()), 4),
        "cluster_f1": cl["f1"],
        "cluster_precision": cl["precision"],
        "cluster_recall": cl["recall"],
        "copy_precision": round(copy_p, 4),
        "copy_recall": round(copy_r, 4),
        "reports_per_s": round(len(sim_claims) / dt, 1),
        "n_throughput_posts": len(posts),
        "simulated_geocode_within_10km": round(sim_geo, 4),
        "simulated_event_type_accuracy": round(sim_et, 4),
        "simulated_ambiguous_share": round(float(sim_amb.mean()), 4),
        "simulated_geocode_within_10km_unambiguous": round(float(sim_ok[~sim_amb].mean()), 4) if (~sim_amb).any()
        else None,
        "ambiguous_share": round(float(np.mean([bool(c.alternatives) for c in claims])), 4),
        "baseline": {"method": "exact-name lookup, most populous", "geocode_within_10km": round(base10, 4),
                     "reports_per_s": round(len(posts) / dtb, 1)},
        "geocode_ratio_vs_baseline": round(geo / base10, 3) if base10 else None,
        "by_part": parts,
        "geocode_by_language": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_lang.items())},
        "median_error_km": round(float(np.nanmedian(d)) / 1000, 2),
        "unlocated": int(np.sum(~np.isfinite(lat))),
        "errors": len(errors),
        "gazetteer_load_s": round(load_s, 2),
        "goals": {"geocode_within_10km": 0.9, "event_type_accuracy": 0.85, "cluster_f1": 0.85, "reports_per_s": 500},
    }
