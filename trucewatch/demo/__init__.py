"""The built-in demo: a simulated day through the whole pipeline, scored against its truth.

Why here: the demo orchestrates the simulator (trucewatch.sim), the ledger, the
pipeline and the report; it sits on top of the product, beside the CLI, so no core
package depends on it.  ``run_demo`` draws observations directly (or from raw files
through the source stages, ``raw=True``); ``trucewatch.demo.intake`` runs the user's path.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from trucewatch.agreement import load_agreement
from trucewatch.data import default_agreement_path
from trucewatch.demo.intake import run_intake_demo
from trucewatch.ledger import ingest_signed, latest_checkpoint, make_checkpoint
from trucewatch.ledger.api import init_log
from trucewatch.ledger.checkpoint import NoteSigner
from trucewatch.ledger.keys import generate_source_keys, public_key_hex, register_source_keys, sign_observations
from trucewatch.mission import KEY_DIR_KEY, MissionConfig, set_mission_config, store_agreement
from trucewatch.pipeline import process
from trucewatch.report.daily import build_daily_report
from trucewatch.report.export import violations_geojson
from trucewatch.sim.observe import observe, simulated_sources
from trucewatch.sim.raw import raw_observations
from trucewatch.sim.scenario import make_scenario
from trucewatch.sim.score import score_files
from trucewatch.store import Store


def run_demo(out: Path, *, scenario: str = "demo", seed: int = 1, day: str = "2026-03-15",
             progress: bool = True, raw: bool = False) -> dict[str, Any]:
    """The whole pipeline on a simulated day; returns the score.

    ``raw``: sources' raw files (written under ``out/raw``) through the real source
    stages (trucewatch.sim.raw); otherwise observations invented directly (trucewatch.sim.observe).
    """
    out.mkdir(parents=True, exist_ok=True)
    db = out / "trucewatch.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    steps = ["agreement", "simulate", "sign and ingest", "fuse and adjudicate", "report", "score"]
    timings: dict[str, float] = {}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  disable=not progress, transient=False) as bar:
        task = bar.add_task("demo", total=len(steps))

        def step(name: str) -> None:
            timings[name] = time.perf_counter()
            bar.update(task, description=f"demo: {name}")

        step("agreement")
        agr = load_agreement(default_agreement_path())
        bar.advance(task)
        step("simulate")
        sc = make_scenario(agr, scenario, seed, day)
        sc.write(out / "truth.json")
        raw_info: dict[str, Any] | None = None
        if raw:
            # drone telemetry as JSONL, not MAVLink tlog: the same stage, half the time (the demo has 2 minutes)
            sources, obs, raw_info = raw_observations(sc, agr, seed, out, drone_log="jsonl")
        else:
            sources = simulated_sources(agr)
            obs = observe(sc, agr, seed)
        bar.advance(task)
        step("sign and ingest")
        keys = generate_source_keys(sources, rng=np.random.default_rng(seed))
        sources = [s.model_copy(update={"public_key": public_key_hex(keys[s.id])}) for s in sources]
        obs = sign_observations(obs, keys)
        store = Store.open(db)
        store.add_sources(sources)
        log_key = NoteSigner.generate("demo.trucewatch.example/log")
        init_log(store, "demo.trucewatch.example/log", log_key)
        register_source_keys(store, keys, signer=log_key)  # certified by the mission key, in the log
        _write_private(out / "keys" / "log.key", log_key.private_key_string())
        _record_mission(store, out / "keys")  # `serve --db` then finds the agreement: the map has its line and zones
        # what a party keeps outside the store: `trucewatch verify --db ... --trust <out>/trust.json`
        (out / "trust.json").write_text(json.dumps({"origin": log_key.name, "log_keys": [log_key.vkey()]}, indent=1))
        rep = ingest_signed(store, obs)
        make_checkpoint(store, log_key)
        bar.advance(task)
        step("fuse and adjudicate")
        res = process(store, agr)
        vs = store.query_violations()
        (out / "violations.geojson").write_text(json.dumps(violations_geojson(vs), indent=1))
        bar.advance(task)
        step("report")
        build_daily_report(store, agr, date.fromisoformat(day), out, cutoff="24:00")
        bar.advance(task)
        step("score")
        result = score_files(out / "truth.json", out / "violations.geojson")
        (out / "score.json").write_text(json.dumps(result, indent=1))
        bar.advance(task)
        checkpoint_size = (latest_checkpoint(store) or {}).get("size")
        store.close()
    summary = {"simulation": "raw" if raw else "direct",
               "observations": len(obs), "accepted": len(rep.accepted), "rejected": len(rep.errors),
               "events": res.events, "violations": len(vs), "checkpoint_size": checkpoint_size,
               "score": {k: result[k] for k in ("precision", "recall", "f1", "attribution_accuracy",
                                                "false_attribution_rate", "median_location_error_m")}}
    if raw_info is not None:
        summary["stages"] = {k: {"observations": v.get("observations", 0), "seconds": v.get("seconds")}
                             for k, v in raw_info["counts"].items()}
        summary["stage_errors"] = {k: len(v) for k, v in raw_info["errors"].items()}
    return summary


def _record_mission(store: Store, keys: Path) -> None:
    """The agreement, config and key folder in the demo store, as `trucewatch init` records them."""
    store_agreement(store, default_agreement_path(), check=False)
    keys.chmod(0o700)
    store.set_setting(KEY_DIR_KEY, str(keys.resolve()))
    set_mission_config(store, MissionConfig())


def _write_private(path: Path, text: str) -> None:
    """A secret for the local demo only: 0600, beside the demo's database."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    path.chmod(0o600)


__all__ = ["run_demo", "run_intake_demo"]
