"""The demo on the user's path: the simulator writes what sources deliver (raw files),
then ``init``, ``sources add``, ``intake``, ``process`` and ``report daily`` run the
same functions the commands run, each step printed with the command it stands for.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from trucewatch.agreement import load_agreement
from trucewatch.data import default_agreement_path
from trucewatch.ledger.api import log_verifiers
from trucewatch.ledger.keys import public_key_hex
from trucewatch.mission import adapter_key, checkpoint, init_mission, mission_agreement, mission_config
from trucewatch.mission.intake import intake_paths
from trucewatch.pipeline import process
from trucewatch.report.daily import build_daily_report
from trucewatch.report.export import violations_geojson
from trucewatch.sim.raw import raw_observations
from trucewatch.sim.scenario import make_scenario
from trucewatch.sim.score import score_files
from trucewatch.store import Store

#: Raw files that are not what a source delivers to a mission (labels for scoring, the
#: FIRMS history the satellite stage's background model is fitted on).
NOT_DELIVERED = ("posts_truth.jsonl", "firms_viirs_history.csv", "summary.json")


def run_intake_demo(out: Path, *, scenario: str = "demo", seed: int = 1, day: str = "2026-03-15",
                    echo: Callable[[str], None] = print) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    db = out / "trucewatch.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    keys = out / "trucewatch.db.keys"
    if keys.exists():
        shutil.rmtree(keys)
    t: dict[str, float] = {}

    def step(name: str, cmd: str) -> None:
        t[name] = time.perf_counter()
        echo(f"== {name}: {cmd}")

    agreement_file = default_agreement_path()
    step("simulate", f"trucewatch sim --raw --out {out}   (raw files under {out}/raw)")
    agr0 = load_agreement(agreement_file)
    sc = make_scenario(agr0, scenario, seed, day)
    sc.write(out / "truth.json")
    sim_sources, _, info = raw_observations(sc, agr0, seed, out, drone_log="jsonl")
    files = [out / f for fs in info["files"].values() for f in fs if Path(f).name not in NOT_DELIVERED]
    echo(f"   {len(files)} raw file(s): " + ", ".join(sorted({Path(f).parent.name for f in files})))

    step("init", f"trucewatch init --db {db} --agreement {agreement_file}")
    res = init_mission(db, agreement_file, origin="demo.trucewatch.example/log")
    echo(f"   agreement {res['agreement_id']} v{res['agreement_version']}, key folder {res['key_dir']}")
    with Store.open(db, create=False) as store:
        step("sources add", "trucewatch sources add DRONE --kind drone --sysid N --key generate   (each airframe)")
        drones = [s for s in sim_sources if s.kind.value == "drone"]
        for s in drones:
            sk = adapter_key(store, s.model_copy(update={"attributes": {**s.attributes, "adapter": True}}))
            echo(f"   {s.id}: key {public_key_hex(sk)[:16]}… certified")
        step("intake", f"trucewatch intake {out}/raw --db {db}")
        agr = mission_agreement(store)
        # what `trucewatch intake` prints per file (rejected records go to stderr there; not shown here)
        summaries = intake_paths(store, files, agreement=agr, on_file=lambda fs: echo("   " + fs.line()))
        checkpoint(store)
        step("process", f"trucewatch process --db {db}")
        cfg = mission_config(store)
        pres = process(store, agr, fusion_config=cfg.fusion_config(), workflow_config=cfg.workflow_config())
        echo(f"   {pres.observations} observations -> {pres.events} events -> {len(pres.violations)} violations")
        vs = store.query_violations()
        (out / "violations.geojson").write_text(json.dumps(violations_geojson(vs), indent=1))
        step("report", f"trucewatch report daily --db {db} --date {day} --out {out}")
        build_daily_report(store, agr, date.fromisoformat(day), out, cutoff="24:00")
        vkey = log_verifiers(store)[0].vkey()
    (out / "trust.json").write_text(json.dumps({"origin": res["origin"], "log_keys": [vkey]}, indent=1))
    step("score", f"trucewatch score --truth {out}/truth.json --found {out}/violations.geojson")
    result = score_files(out / "truth.json", out / "violations.geojson")
    (out / "score.json").write_text(json.dumps(result, indent=1))
    return {"simulation": "intake", "observations": sum(f.accepted + f.duplicates for f in summaries),
            "accepted": sum(f.accepted for f in summaries), "rejected": sum(f.rejected for f in summaries),
            "events": pres.events, "violations": len(vs),
            "files": {Path(f.file).name: {"format": f.format, "read": f.read, "accepted": f.accepted,
                                          "rejected": f.rejected} for f in summaries},
            "score": {k: result[k] for k in ("precision", "recall", "f1", "attribution_accuracy",
                                             "false_attribution_rate", "median_location_error_m")}}


__all__ = ["run_intake_demo"]
