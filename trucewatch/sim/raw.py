"""Raw-format scenario simulation: the truth as each source's real input files,
read back through the stage's real parser, locator or extractor.

``trucewatch.sim.observe`` invents observations directly and so skips every
source stage.  Here each stage's own simulator (trucewatch.sim.<stage>) makes
what the sensor or channel would deliver (acoustic sensor registry and
arrivals, posts JSONL, FIRMS CSV, MAVLink tlogs and detections, air tracks and
summaries, AIS NMEA); the files are written under ``out_dir/raw/`` (a
temporary directory when none is given, so the parse path is always the file
path) and read back by the stage's ingest code.  A stage that fails is
reported in ``info["errors"]`` and leaves the others running: a broken stage
must show up in the demo summary, not crash the demo.

Stages ``acoustic``, ``text``, ``satellite`` and ``drone`` are driven by the
scenario's truth.  ``air`` and ``sea`` invent their own traffic (strike waves,
shipping) whose truth is not in the scenario's ``truth.json``, so they are
opt-in (``stages=ALL_STAGES``): adding them to a scored run would count their
real violations as false positives.

Determinism: every stage draws from its own Generator seeded by
``(seed, stage index)``, so one stage's draws never shift another's.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from trucewatch.agreement import Agreement, load_agreement
from trucewatch.data import default_agreement_path
from trucewatch.ledger.ingest import ingest
from trucewatch.model import Observation, Source, SourceKind
from trucewatch.pipeline import process
from trucewatch.report.export import violations_geojson
from trucewatch.sim.acoustic import band_network, simulate_arrivals, sources_from_scenario
from trucewatch.sim.air import simulate_air
from trucewatch.sim.drone import simulate
from trucewatch.sim.observe import observe, simulated_sources
from trucewatch.sim.satellite import FireSimConfig, background_history, simulate_period
from trucewatch.sim.scenario import Scenario, day_bounds, make_scenario
from trucewatch.sim.score import score_files
from trucewatch.sim.sea import AGREEMENT, simulate_sea
from trucewatch.sim.text import posts_for_events, report_type
from trucewatch.sources.acoustic import SOURCE_ID, LocateConfig, observations_from_files
from trucewatch.sources.acoustic.formats import Sensors
from trucewatch.sources.air.intake import air_force_source, process_posts, read_posts
from trucewatch.sources.air.tracks import air_picture_source, read_tracks_file, track_observations
from trucewatch.sources.drone.detections import read_detections
from trucewatch.sources.drone.pipeline import bind_source, process_flight, resolve_source, source_for_file
from trucewatch.sources.drone.telemetry import Camera, read_flight
from trucewatch.sources.satellite.background import BackgroundModel, detect
from trucewatch.sources.satellite.firms import read_firms, sources_for, to_observations
from trucewatch.sources.sea.pipeline import ais_source, process_lines
from trucewatch.sources.text import extract_observations, read_any, sources_of
from trucewatch.store import Store

ALL_STAGES = ("acoustic", "text", "satellite", "drone", "air", "sea")
#: Stages whose simulators are driven by the scenario's truth (the demo's default).
DEFAULT_STAGES = ("acoustic", "text", "satellite", "drone")
#: Drone telemetry format written and read back: MAVLink ``tlog`` (real, slow) or telemetry ``jsonl``.
DRONE_LOGS = ("tlog", "jsonl")


@dataclass
class StageOutput:
    sources: list[Source] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # per-record errors from the stage's parser
    stats: dict[str, Any] = field(default_factory=dict)


def _rng(seed: int, stage: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), ALL_STAGES.index(stage), 0x5A11])


def _str_errors(errs: Iterable[Any], limit: int = 200) -> list[str]:
    out = [str(e) for e in errs]
    if len(out) > limit:
        out = [*out[:limit], f"... and {len(out) - limit} more"]
    return out


# ---- acoustic ---------------------------------------------------------------------------------


#: Acoustic sectors: sensors are kept within this distance of the scenario's fire (launch and impact points).
SECTOR_KM = 30.0


def _acoustic(scenario: Scenario, agreement: Agreement, rng: np.random.Generator, d: Path) -> StageOutput:
    """Sensor band along the contact line in the active sectors; per-round sources; arrivals CSV -> locator."""
    temp_c = 15.0
    # the layout of trucewatch.sim.acoustic.simulate (3 km grid, +-12 km around the main line), kept only in
    # the sectors where the scenario fires: a mission instruments its active sectors, and the sensors beyond
    # 30 km of any round cannot hear it (50 % range of a 7 kg shell is about 8 km) but add false arrivals
    band = band_network(agreement.line_en, agreement.frame, rng, 3000.0, 12_000.0, 0.005)
    pts = [(e.lat, e.lon) for e in scenario.events if e.kind in ("fire", "own_side_blast", "strike")]
    pts += [(e.origin["lat"], e.origin["lon"]) for e in scenario.events if e.kind == "fire" and e.origin]
    if pts:
        fe, fn = agreement.frame.to_en(np.array([p[0] for p in pts]), np.array([p[1] for p in pts]))
        se, sn = agreement.frame.to_en(band.lat, band.lon)
        near, _ = cKDTree(np.c_[fe, fn]).query(np.c_[se, sn], distance_upper_bound=SECTOR_KM * 1000.0)
        keep = np.flatnonzero(np.isfinite(near))
    else:
        keep = np.arange(0)
    sensors = Sensors.from_columns(band.ids[keep], band.lat[keep], band.lon[keep], band.alt[keep], band.sigma[keep])
    src = sources_from_scenario(scenario, agreement, rng)
    arrivals, labels = simulate_arrivals(sensors, src, rng, temp_c=temp_c, fa_per_hour=0.25,
                                         t_span=day_bounds(scenario.day))
    sp, ap = d / "sensors.csv", d / "arrivals.csv"
    sp.write_text(sensors.to_csv(), encoding="utf-8")
    ap.write_text(arrivals.to_csv(sensors), encoding="utf-8")
    # the locator's 15 km reach matches the band; fixes are paired launch->impact over the agreement
    obs, res, pairs = observations_from_files(sp, ap, LocateConfig(temp_c=temp_c, max_range_m=15_000.0), agreement)
    heard = (np.unique(np.asarray(src.truth, dtype=object)[np.unique(labels[labels >= 0])]) if len(src)
             else np.zeros(0, object))
    source = Source(id=SOURCE_ID, kind=SourceKind.ACOUSTIC_NETWORK, name="Acoustic sensor network", reliability=0.9)
    return StageOutput([source], obs, [str(sp), str(ap)], _str_errors(res.errors), {
        "sensors": len(sensors), "band_sensors": len(band), "arrivals": len(arrivals), "false_arrivals": int((labels < 0).sum()),
        "truth_sources": len(src), "truth_events_heard": len(heard), "fixes": len(res.fixes), "pairs": len(pairs),
        "failures": len(res.failures),
    })


# ---- text ---------------------------------------------------------------------------------------


def _text(scenario: Scenario, agreement: Agreement, rng: np.random.Generator, d: Path,
          report_share: float = 0.6) -> StageOutput:
    """Posts about a share of the truth events (trucewatch.sim.text) -> JSONL -> the text extractor."""
    evs = []
    for e in scenario.events:
        typ = report_type(e.kind, rng)
        if typ is None or rng.random() > report_share:
            continue
        if e.kind == "strike" and e.attributes.get("weapon") == "drone":
            typ = "drone_strike"  # a drone strike is reported as one, not as a missile
        evs.append({"id": e.id, "t": e.t, "lat": e.lat, "lon": e.lon, "type": typ,
                    "facility": e.attributes.get("object_name")})
    records = posts_for_events(evs, rng)
    p = d / "posts.jsonl"
    with open(p, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({k: v for k, v in r.items() if k != "truth"}, ensure_ascii=False) + "\n")
    with open(d / "posts_truth.jsonl", "w", encoding="utf-8") as f:  # labels for scoring the extractor, not read
        for r in records:
            f.write(json.dumps({"id": r["id"], **r["truth"]}, ensure_ascii=False) + "\n")
    recs, read_errs = read_any(p)
    obs, ext_errs = extract_observations(recs, agreement)
    return StageOutput(sources_of(recs), obs, [str(p)], _str_errors([*read_errs, *ext_errs]), {
        "events_reported": len(evs), "posts": len(records), "claims": len(obs),
        "unlocated": len(ext_errs), "copies": sum(1 for o in obs if not o.attributes.get("independent", True)),
    })


# ---- satellite ----------------------------------------------------------------------------------


def _satellite(scenario: Scenario, agreement: Agreement, rng: np.random.Generator, d: Path,
               history_years: int = 2) -> StageOutput:
    """FIRMS VIIRS CSV for the truth's days (+ background history) -> read_firms -> background model."""
    # the same flow as trucewatch.sim.satellite.simulate, but through files
    cfg = FireSimConfig()
    land, start, sim = simulate_period(scenario.events, rng, cfg)
    p = d / "firms_viirs.csv"
    p.write_text(sim.csv_text, encoding="utf-8")
    hist = background_history(land, cfg, rng, start, history_years)
    hp = d / "firms_viirs_history.csv"
    hp.write_text(hist.csv_text, encoding="utf-8")
    batch = read_firms(p)
    errs = list(getattr(batch, "errors", []) or [])
    if len(batch) == 0:
        return StageOutput([], [], [str(p), str(hp)], _str_errors(errs), {"detections": 0})
    hbatch = read_firms(hp)
    det = detect(BackgroundModel.fit(hbatch), batch)
    obs = to_observations(batch, excess=det.excess, p_value=det.p_value, expected=det.expected)
    return StageOutput(sources_for(batch), obs, [str(p), str(hp)], _str_errors(errs), {
        "detections": len(batch), "history_detections": len(hbatch), "war_detections": int(sim.war.sum()),
        "excess": int(np.sum(det.excess)),
    })


# ---- drone --------------------------------------------------------------------------------------


def _drone(scenario: Scenario, agreement: Agreement, rng: np.random.Generator, d: Path, log: str = "tlog") -> StageOutput:
    """Patrol flights (trucewatch.sim.drone) -> MAVLink tlogs + detections JSONL -> the drone pipeline."""
    sim = simulate(scenario, rng, agreement)
    paths = sim.write_raw(d, tlog=log == "tlog")
    sources = list(sim.sources)
    errors: list[str] = []
    obs: list[Observation] = []
    n_sight = n_inter = 0
    det_path = Path(paths["detections"])
    batch = read_detections(det_path)
    errors += _str_errors(batch.problems)
    by_flight: dict[str, list[Any]] = {}
    for det in batch.detections:
        by_flight.setdefault(det.flight_id, []).append(det)
    for tl in paths["telemetry"]:
        try:
            src = source_for_file(tl, sources)
            cam = Camera.from_dict(src.attributes["camera"]) if src is not None and src.attributes.get("camera") else None
            flight = read_flight(tl, cam)
            if src is None:
                src = resolve_source(flight, sources)
            bind_source(flight, src)
        except Exception as exc:  # the drone reader's own errors (TelemetryError, UnregisteredSource, OSError)
            errors.append(f"{Path(tl).name}: {exc}")
            continue
        res = process_flight(flight, by_flight.get(flight.flight_id, []), agreement, detections_label=det_path.name)
        errors += _str_errors(res.problems)
        obs += res.observations
        n_sight += len(res.sightings)
        n_inter += len(res.interference)
    return StageOutput(sources, obs, [*paths["telemetry"], str(det_path)], errors, {
        "flights": len(sim.flights), "flight_hours": round(sim.flight_hours, 2), "detections": len(batch.detections),
        "sightings": n_sight, "interference": n_inter, "truth_objects": len(sim.objects),
    })


# ---- air and sea (own traffic, opt-in) ---------------------------------------------------------


def _air(scenario: Scenario, agreement: Agreement, rng: np.random.Generator, d: Path) -> StageOutput:
    """The night wave before the scenario's day -> tracks/summaries JSONL -> the air stage."""
    prev = (datetime.fromisoformat(scenario.day) - timedelta(days=1)).date().isoformat()
    sim = simulate_air(rng, agreement, day=prev)
    sim.write(d)
    tracks, t_err = read_tracks_file(d / "tracks.jsonl")
    obs = track_observations(tracks, "airpicture:sim")
    posts, p_err = read_posts(d / "summaries.jsonl")  # the text-report intake's JSONL, as a channel feed gives it
    _, s_obs, s_err = process_posts(posts, "airforce:sim")
    return StageOutput([air_picture_source("airpicture:sim", "Simulated air picture"), air_force_source("airforce:sim")],
                       obs + s_obs, [str(d / "tracks.jsonl"), str(d / "summaries.jsonl")],
                       _str_errors([*t_err, *p_err, *s_err]),
                       {"tracks": len(tracks), "summaries": len(posts), "truth_tracks": len(sim.truth)})


def _sea(scenario: Scenario, agreement: Agreement, rng: np.random.Generator, d: Path) -> StageOutput:
    """AIS traffic over the scenario's day -> NMEA file -> the AIS stage (judged on the maritime agreement)."""
    t0, _ = day_bounds(scenario.day)
    sim = simulate_sea(rng, t0=t0)
    p = d / "ais.nmea"
    sim.write(p)
    with open(p, "rb") as f:
        res = process_lines(f, load_agreement(AGREEMENT), source_id="ais:sim", end_time=sim.t1)
    return StageOutput([ais_source("ais:sim", "Simulated AIS feed")], res.observations, [str(p)],
                       _str_errors(res.errors), {"lines": len(sim.lines), **res.stats})


STAGE_FUNCS: dict[str, Callable[[Scenario, Any, np.random.Generator, Path], StageOutput]] = {
    "acoustic": _acoustic, "text": _text, "satellite": _satellite, "drone": _drone, "air": _air, "sea": _sea,
}


def raw_observations(scenario: Scenario, agreement: Agreement, seed: int, out_dir: str | Path | None = None,
                     stages: Iterable[str] = DEFAULT_STAGES, drone_log: str = "tlog",
                     ) -> tuple[list[Source], list[Observation], dict[str, Any]]:
    """Every stage's observations of ``scenario`` made through its raw files and real parser.

    Returns (sources, observations sorted by time and id, info) where ``info``
    has per-stage ``counts`` (observations by kind, raw-input stats, seconds),
    ``errors`` (stage -> list of messages; a stage that raised has one entry
    starting ``stage failed:``) and ``files`` (the raw inputs written).
    ``drone_log`` picks the telemetry format (see DRONE_LOGS).
    """
    stages = list(stages)
    unknown = [s for s in stages if s not in STAGE_FUNCS]
    if unknown:
        raise ValueError(f"unknown stage(s) {', '.join(unknown)}; known: {', '.join(ALL_STAGES)}")
    if drone_log not in DRONE_LOGS:
        raise ValueError(f"drone_log: {drone_log!r} is not one of {', '.join(DRONE_LOGS)}")
    tmp = None
    if out_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="trucewatch-raw-")
        root = Path(tmp.name)
    else:
        root = Path(out_dir) / "raw"
    info: dict[str, Any] = {"counts": {}, "errors": {}, "files": {}}
    sources: dict[str, Source] = {}
    obs: dict[str, Observation] = {}
    try:
        for stage in stages:
            d = root / stage
            d.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            try:
                rng = _rng(seed, stage)
                out = (_drone(scenario, agreement, rng, d, drone_log) if stage == "drone"
                       else STAGE_FUNCS[stage](scenario, agreement, rng, d))
            except Exception as exc:  # one broken stage must not take the others down; it is reported
                tb = traceback.format_exc(limit=3).strip().splitlines()
                info["errors"][stage] = [f"stage failed: {type(exc).__name__}: {exc}", *tb[-2:]]
                info["counts"][stage] = {"observations": 0, "seconds": round(time.perf_counter() - t0, 2)}
                continue
            for s in out.sources:
                sources.setdefault(s.id, s)
            dup = 0
            for o in out.observations:
                if o.id in obs:
                    dup += 1
                    continue
                obs[o.id] = o
            info["counts"][stage] = {
                "observations": len(out.observations), "duplicate_ids": dup,
                "by_kind": dict(sorted(Counter(o.kind.value for o in out.observations).items())),
                **out.stats, "seconds": round(time.perf_counter() - t0, 2),
            }
            if out.errors:
                info["errors"][stage] = out.errors
            if out_dir is not None:
                info["files"][stage] = [str(Path(f).relative_to(Path(out_dir))) for f in out.files]
    finally:
        if tmp is not None:
            tmp.cleanup()
    # every observation must name a registered source
    missing = sorted({o.source_id for o in obs.values()} - set(sources))
    if missing:
        info["errors"].setdefault("sources", []).append(f"observations name unregistered sources: {', '.join(missing)}")
    out_obs = sorted(obs.values(), key=lambda o: (o.time, o.id))
    info["total"] = len(out_obs)
    info["digest"] = hashlib.sha256("\n".join(o.id for o in out_obs).encode()).hexdigest()[:16]
    if out_dir is not None:
        (root / "summary.json").write_text(json.dumps({k: v for k, v in info.items()}, indent=1, default=str))
    return list(sources.values()), out_obs, info


#: Source ids of the direct path (trucewatch.sim.observe) by the stage that would have made them; the rest
#: (monitor team, party channels, news, Telegram) are text reports.
DIRECT_SOURCE_STAGE = {"acoustic-net": "acoustic", "firms-N20": "satellite", "drone-lr-1": "drone"}


def mixed_observations(scenario: Scenario, agreement: Agreement, seed: int, raw_stages: Iterable[str],
                       out_dir: str | Path | None = None, drone_log: str = "jsonl",
                       ) -> tuple[list[Source], list[Observation], dict[str, Any]]:
    """Raw path for ``raw_stages``, direct path (trucewatch.sim.observe) for the other default stages.

    For ablation: what each stage's real parser gains or loses against the invented observations.
    """
    raw_stages = list(raw_stages)
    sources, obs, info = raw_observations(scenario, agreement, seed, out_dir, raw_stages, drone_log)
    keep = [o for o in observe(scenario, agreement, seed)
            if DIRECT_SOURCE_STAGE.get(o.source_id, "text") not in raw_stages]
    used = {o.source_id for o in keep}
    have = {s.id for s in sources}
    sources += [s for s in simulated_sources(agreement) if s.id in used and s.id not in have]
    info["direct"] = len(keep)
    return sources, sorted([*obs, *keep], key=lambda o: (o.time, o.id)), info


def score_observations(scenario: Scenario, agreement: Agreement, sources: list[Source], obs: list[Observation],
                       work: Path) -> dict[str, Any]:
    """Store (unsigned), fuse, adjudicate and score ``obs`` against ``scenario`` in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    scenario.write(work / "truth.json")
    with Store.open(work / "ablation.db") as store:
        store.add_sources(sources)
        rep = ingest(store, obs, require_signatures=False)
        res = process(store, agreement)
        vs = store.query_violations()
    (work / "violations.geojson").write_text(json.dumps(violations_geojson(vs)))
    sc = score_files(work / "truth.json", work / "violations.geojson")
    return {"observations": len(obs), "rejected": len(rep.errors), "events": res.events, "violations": len(vs),
            **{k: sc[k] for k in ("precision", "recall", "f1", "attribution_accuracy", "median_location_error_m")},
            "per_rule": sc.get("per_rule")}


def ablation(scenario_name: str = "demo", seed: int = 1, day: str = "2026-03-15") -> dict[str, Any]:
    """Demo score with the direct path, each stage raw alone (others direct), and every stage raw."""
    agr = load_agreement(default_agreement_path())
    sc = make_scenario(agr, scenario_name, seed, day)
    configs: dict[str, list[str]] = {"direct": [], **{f"raw_{s}": [s] for s in DEFAULT_STAGES},
                                     "raw_all": list(DEFAULT_STAGES)}
    out: dict[str, Any] = {"scenario": scenario_name, "seed": seed, "runs": {}}
    with tempfile.TemporaryDirectory(prefix="trucewatch-ablation-") as tmp:
        for name, stages in configs.items():
            t0 = time.perf_counter()
            srcs, obs, info = mixed_observations(sc, agr, seed, stages)
            r = score_observations(sc, agr, srcs, obs, Path(tmp) / name)
            r["seconds"] = round(time.perf_counter() - t0, 1)
            r["stage_errors"] = {k: len(v) for k, v in info["errors"].items()}
            out["runs"][name] = r
    return out


__all__ = ["ALL_STAGES", "DEFAULT_STAGES", "ablation", "mixed_observations", "raw_observations"]


if __name__ == "__main__":  # python -m trucewatch.sim.raw [scenario] [seed]: the ablation table as JSON
    import sys

    args = sys.argv[1:]
    print(json.dumps(ablation(args[0] if args else "demo", int(args[1]) if len(args) > 1 else 1), indent=1))
