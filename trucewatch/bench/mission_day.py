"""A realistic mission day replayed end to end through NATS JetStream, PostgreSQL and the workers.

The day (issue 21): 10,000 acoustic sensors, 1,000 drone flights, FIRMS over
the region, 50,000 posts and Black Sea AIS, about 30 observations per second
reaching the bus on average.  The *mix* of kinds comes from the stage
simulators (``trucewatch.sim.raw``, see ``SIM_YIELDS``); the *total* is the
issue's 30 obs/s (``--rate``), i.e. the simulators' heavy-scenario density
times ``rate_scale`` (reported).  Observations are the direct simulator's
(``trucewatch.sim.observe``, heavy scenario) of each kind, replicated with a
random time shift and a 15 km spatial shift per replica (ids, pair, object and
flight ids made unique per replica), then signed.

Replay: the observations of a slice of the day (``hours`` from 00:00) are sent
at constant arrival rate: each one's *intended* send time is its simulated time
divided by ``speedup``; the publisher sends whatever is due and never waits for
the system, and every latency is counted from the intended send (no coordinated
omission).  One ingest worker and one fusion worker (``--role``; separate
processes so each role's CPU is measured apart), nats-server and a fresh
PostgreSQL database (helpers of ``bench.pipeline``), all on this machine.

Reported: wall time against the slice and, scaled, against 24 h (speed-up
achieved, clock until fusion has drained); peak RSS (VmHWM) per process
(workers, nats-server, the database's backends: theirs includes the shared
buffers they touched); ``alert_p99_ms``: from the intended send of the latest
evidence observation of a verified violation to the JetStream timestamp of its
alert on ``TW_ALERTS``; ``violation_stored_p99_ms``: from the intended send of
the latest evidence observation sent before the violation was first stored to
that store (``created_at``); lost (sent, not stored) and duplicated (ledger
entries beyond the stored observations, plus alerts published twice); CPU per
observation of each role, nats-server and PostgreSQL; load average; cpus.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch.agreement import Agreement, load_agreement
from trucewatch.bench.pipeline import _cpu_s, _fuse_pending, _new_db, _port, _stop, _up, _wait_ready
from trucewatch.data import default_agreement_path
from trucewatch.deploy.bus import ALERT_STREAM, connect, ensure_streams, publish_observations
from trucewatch.deploy.sectors import Sectors
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import generate_source_keys, public_key_hex, register_source_keys, sign_observations
from trucewatch.ledger.log import MerkleLog
from trucewatch.model import Observation
from trucewatch.sim.observe import observe, simulated_sources
from trucewatch.sim.scenario import day_bounds, make_scenario
from trucewatch.store import Store
from trucewatch.store.coverage import backend_pids, event_count, ingest_times, violation_times

DAY_S = 86_400.0

#: What the stage simulators turn their raw input into (observations reaching the bus), measured once with
#: ``trucewatch.sim.raw.raw_observations(make_scenario(ag, "heavy", seed=1), ag, 1, stages=ALL_STAGES,
#: drone_log="jsonl")`` on 3 December 2026: unit, units in that run, observations they gave.
SIM_YIELDS: dict[str, dict[str, Any]] = {
    "acoustic": {"unit": "sensor", "units": 3408, "observations": 2291,
                 "note": "located fixes (impact, launch) from 118,211 arrivals of 3,408 sensors"},
    "drone": {"unit": "flight", "units": 60, "observations": 461,
              "note": "weapon sightings and interference from 2,156 detections in 60 flights (26.5 flight-hours)"},
    "firms": {"unit": "region-day", "units": 1, "observations": 575,
              "note": "thermal anomalies over the agreement's region in one day"},
    "posts": {"unit": "post", "units": 1113, "observations": 1110, "note": "report claims extracted from 1,113 posts"},
    "ais": {"unit": "vessel", "units": 33, "observations": 21,
            "note": "vessel incidents from 37,415 positions of 33 vessels (789 vessel-hours)"},
}
#: The issue's mission day in the units above.  400 vessels for the Black Sea's AIS is this module's assumption.
MISSION_UNITS = {"acoustic": 10_000, "drone": 1_000, "firms": 1, "posts": 50_000, "ais": 400}
#: The issue's figure for the whole day, observations per second reaching the bus on average.
MISSION_RATE = 30.0


def mission_mix() -> dict[str, float]:
    """Observations per day of each kind at the simulators' yields and the mission's units."""
    return {k: SIM_YIELDS[k]["observations"] / SIM_YIELDS[k]["units"] * MISSION_UNITS[k] for k in SIM_YIELDS}


def _group(o: Observation) -> str | None:
    """Which mission input an observation of the direct simulator stands for."""
    if o.source_id == "acoustic-net":
        return "acoustic"
    if o.source_id.startswith("drone"):
        return "drone"
    if o.source_id.startswith("firms"):
        return "firms"
    if o.kind.value == "report_claim":
        return "posts"
    if o.kind.value == "vessel_incident":
        return "ais"
    return None


def build_day(agreement: Agreement, *, hours: float, rate: float, seed: int) -> tuple[list[Observation], dict[str, Any]]:
    """The slice [00:00, ``hours``) of the mission day as observations sorted by time (unsigned), and the plan."""
    rng = np.random.default_rng(seed)
    day = "2026-03-15"
    d0, _ = day_bounds(day)
    templates = observe(make_scenario(agreement, "heavy", seed=seed, day=day), agreement, seed)
    by: dict[str, list[Observation]] = {}
    for o in templates:
        g = _group(o)
        if g is not None:
            by.setdefault(g, []).append(o)
    mix = mission_mix()
    derived_per_s = sum(mix.values()) / DAY_S
    scale = rate / derived_per_s
    slice_s = hours * 3600.0
    out: list[Observation] = []
    plan: dict[str, Any] = {}
    for g, per_day in mix.items():
        tpl = by.get(g, [])
        target_day = per_day * scale
        plan[g] = {"per_s": round(target_day / DAY_S, 3), "share": round(per_day / sum(mix.values()), 4),
                   "simulator_yield_per_unit": round(SIM_YIELDS[g]["observations"] / SIM_YIELDS[g]["units"], 4),
                   "units": MISSION_UNITS[g], "templates": len(tpl), "replayed": 0}
        if not tpl:
            plan[g]["note"] = "not replayed: the direct simulator makes no observations of this kind"
            continue
        tt = np.array([o.time.timestamp() - d0 for o in tpl]) % DAY_S
        lat = np.array([o.location.lat for o in tpl])
        n_rep = math.ceil(target_day / len(tpl))
        p_keep = target_day / (n_rep * len(tpl))  # thin the last replica's worth evenly
        shifts = rng.uniform(0, DAY_S, n_rep)
        offs = rng.normal(0, 15_000.0, (n_rep, 2))
        t_all = (tt[None, :] + shifts[:, None]) % DAY_S
        keep = (t_all < slice_s) & (rng.random(t_all.shape) < p_keep)
        for r, i in zip(*np.nonzero(keep), strict=True):
            o = tpl[i]
            dn, de = offs[r]
            loc = o.location.model_copy(update={"lat": float(o.location.lat + dn / 111_320.0),
                                                "lon": float(o.location.lon + de / (111_320.0 * math.cos(math.radians(lat[i]))))})
            attrs = {k: (f"{v}~r{r}" if k.endswith("_id") and isinstance(v, str) else v) for k, v in o.attributes.items()}
            key = f"{seed}|{o.id}|{r}"
            out.append(o.model_copy(update={
                "id": "md-" + hashlib.sha256(key.encode()).hexdigest()[:24],
                "time": datetime.fromtimestamp(d0 + float(t_all[r, i]), tz=UTC), "location": loc,
                "attributes": attrs, "payload_hash": hashlib.sha256(key.encode()).hexdigest()}))
        plan[g]["replayed"] = int(keep.sum())
    out.sort(key=lambda o: (o.time, o.id))
    return out, {"kinds": plan, "rate_per_s": rate, "simulator_derived_per_s": round(derived_per_s, 3),
                 "rate_scale": round(scale, 2), "day_start": d0}


# ---------------------------------------------------------------- processes
def _status_kb(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class _Sampler(threading.Thread):
    """Peak RSS (VmHWM) and CPU of named processes and of the database's backends, sampled every 0.5 s."""

    def __init__(self, procs: dict[str, int], store: Store | None) -> None:
        super().__init__(daemon=True)
        self.procs = dict(procs)
        self.store = store
        self.hwm_kb: dict[str, int] = {}
        self.cpu: dict[str, float] = {}
        self.backend_hwm_kb: dict[int, int] = {}
        self.backend_cpu: dict[int, float] = {}
        self._stop_ev = threading.Event()

    def _backends(self) -> list[int]:
        if self.store is None:
            return []
        try:
            return backend_pids(self.store)
        except Exception:  # a sample is best effort; the run goes on
            return []

    def sample(self) -> None:
        for name, pid in self.procs.items():
            h = _status_kb(pid, "VmHWM")
            if h is not None:
                self.hwm_kb[name] = max(self.hwm_kb.get(name, 0), h)
                self.cpu[name] = _cpu_s(pid)
        for pid in self._backends():
            h = _status_kb(pid, "VmHWM")
            if h is not None:
                self.backend_hwm_kb[pid] = max(self.backend_hwm_kb.get(pid, 0), h)
                self.backend_cpu[pid] = max(self.backend_cpu.get(pid, 0.0), _cpu_s(pid))

    def run(self) -> None:
        while not self._stop_ev.is_set():
            self.sample()
            self._stop_ev.wait(0.5)

    def stop(self) -> None:
        self._stop_ev.set()
        self.join(5)
        self.sample()


# ---------------------------------------------------------------- replay
async def _replay(bus: str, agreement: Agreement, observations: list[Observation], intended: np.ndarray,
                  t0: float) -> dict[str, Any]:
    """Send each observation at its intended time (wall clock ``t0 + intended``), whatever is due at once."""
    nc = await connect(bus)
    js = nc.jetstream()
    await ensure_streams(js)
    sectors = Sectors(agreement)
    i, n, late, taken = 0, len(observations), 0.0, 0
    while i < n:
        now = time.time() - t0
        if intended[i] > now:
            await asyncio.sleep(min(0.05, float(intended[i] - now)))
            continue
        j = int(np.searchsorted(intended, now, side="right"))
        j = min(max(j, i + 1), i + 5000)
        late = max(late, now - float(intended[i]))
        taken += await publish_observations(js, sectors, observations[i:j])
        i = j
    await nc.drain()
    return {"taken": taken, "publisher_max_behind_s": round(late, 2)}


async def _alerts(bus: str) -> list[tuple[float, dict[str, Any]]]:
    """Every alert on TW_ALERTS with its JetStream timestamp (unix s)."""
    nc = await connect(bus)
    js = nc.jetstream()
    out: list[tuple[float, dict[str, Any]]] = []
    try:
        info = await js.stream_info(ALERT_STREAM)
        total = info.state.messages
        if total:
            sub = await js.subscribe("trucewatch.alerts.>", ordered_consumer=True)
            while len(out) < total:
                try:
                    m = await sub.next_msg(timeout=5)
                except Exception:  # nothing more within 5 s: report what came
                    break
                out.append((m.metadata.timestamp.timestamp(), json.loads(m.data)))
            await sub.unsubscribe()
    finally:
        await nc.close()
    return out


def _pct(xs: list[float], q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 1) if xs else None


def _one_run(agreement: Agreement, observations: list[Observation], keys: dict, sources: list, tmp: Path, *,
             speedup: float, day_start: float, drain_timeout_s: float,
             preload: list[Observation] | None = None) -> dict[str, Any]:
    nats_bin = shutil.which("nats-server")
    if not nats_bin:
        raise RuntimeError("nats-server is not installed (scripts/services.sh installs it)")
    port = _port()
    nats = subprocess.Popen([nats_bin, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp / f"nats-{port}")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, drop = _new_db(tmp)
    procs: list[subprocess.Popen] = []
    store: Store | None = None
    sampler: _Sampler | None = None
    try:
        for _ in range(100):
            if _up(port):
                break
            time.sleep(0.1)
        with Store.open(url) as s:
            s.add_sources([x.model_copy(update={"public_key": public_key_hex(keys[x.id])}) for x in sources])
            register_source_keys(s, keys)
            t_pre = time.time()
            for i in range(0, len(preload or []), 2000):  # the hours before the slice, stored directly
                ingest_signed(s, (preload or [])[i:i + 2000])
            preload_s = time.time() - t_pre
        n_pre = len(preload or [])
        bus = f"nats://127.0.0.1:{port}"
        wlog = open(tmp / "workers.log", "a")
        roles = ["ingest", "fusion"]
        procs = [subprocess.Popen([sys.executable, "-m", "trucewatch.cli", "worker", "--bus", bus, "--db", url,
                                   "--role", r], stdout=wlog, stderr=subprocess.STDOUT) for r in roles]
        asyncio.run(_wait_ready(bus, 1))
        store = Store.open(url)
        log_ = MerkleLog(store)
        certs = log_.size - n_pre  # the key certificates (the preload is integrated by ingest_signed)
        names = {f"worker_{r}": p.pid for r, p in zip(roles, procs, strict=True)} | {"nats_server": nats.pid}
        sampler = _Sampler(names, store)
        sampler.sample()
        cpu0 = dict(sampler.cpu)
        backend_cpu0 = dict(sampler.backend_cpu)
        intended = np.array([o.time.timestamp() / speedup for o in observations])
        intended -= intended[0] if len(intended) else 0.0
        load_start = os.getloadavg()
        sampler.start()
        t0 = time.time() + 1.0
        pub = asyncio.run(_replay(bus, agreement, observations, intended, t0))
        t_sent = time.time()
        deadline = t_sent + drain_timeout_s
        while time.time() < deadline and store.count_observations() < n_pre + len(observations):
            time.sleep(0.2)
        t_stored = time.time()
        while time.time() < deadline and log_.size - certs < store.count_observations():
            time.sleep(0.1)
        t_logged = time.time()
        while time.time() < deadline and asyncio.run(_fuse_pending(bus)) > 0:
            time.sleep(0.5)
        t_drained = time.time()
        drained = t_drained < deadline
        sampler.stop()
        load_end = os.getloadavg()
        alerts = asyncio.run(_alerts(bus))

        sent_at = {o.id: t0 + float(x) for o, x in zip(observations, intended, strict=True)}
        rows = ingest_times(store)
        viols = violation_times(store)
        n_events = event_count(store)
        stored = len(rows) - n_pre
        ledger = log_.size - certs - n_pre
        ingest_lat = [(float(ing) - sent_at[oid]) * 1000 for oid, ing in rows if oid in sent_at]
        stored_lat = []
        for _vid, _st, created, ev in viols:
            ids = [str(e.get("observation_id")) for e in ev]
            before = [sent_at[i] for i in ids if i in sent_at and sent_at[i] <= float(created)]
            if before:
                stored_lat.append((float(created) - max(before)) * 1000)
        alert_lat = []
        for ts, v in alerts:
            sent = [sent_at[e["observation_id"]] for e in v.get("evidence", []) if e.get("observation_id") in sent_at]
            if sent:
                alert_lat.append((ts - max(sent)) * 1000)
        alert_ids = Counter(v.get("id") for _, v in alerts)
        dup_alerts = sum(c - 1 for c in alert_ids.values() if c > 1)
        store.close()
        store = None

        sim_s = (observations[-1].time.timestamp() - observations[0].time.timestamp()) if observations else 0.0
        wall = t_drained - t0
        cpu = {k: round(sampler.cpu.get(k, 0.0) - cpu0.get(k, 0.0), 2) for k in names}
        pg_cpu = sum(v - backend_cpu0.get(p, 0.0) for p, v in sampler.backend_cpu.items())
        per_obs = {k: round(v / max(1, stored) * 1e6, 1) for k, v in cpu.items()}
        per_obs["postgres_backends"] = round(pg_cpu / max(1, stored) * 1e6, 1)
        return {
            "observations_sent": len(observations), "observations_stored": stored,
            "published_taken": pub["taken"], "publisher_max_behind_s": pub["publisher_max_behind_s"],
            "simulated_s": round(sim_s, 1), "wall_s_to_drained": round(wall, 1),
            "wall_s_sending": round(t_sent - t0, 1), "stored_s_after_sent": round(t_stored - t_sent, 1),
            "logged_s_after_stored": round(t_logged - t_stored, 1), "fusion_drain_s_after_logged": round(t_drained - t_logged, 1),
            "drained": drained,
            "speedup_target": speedup, "speedup_achieved": round(sim_s / wall, 2) if wall > 0 else None,
            "day_wall_h_projected": round(DAY_S / (sim_s / wall) / 3600, 2) if wall > 0 and sim_s > 0 else None,
            "ingest_p50_ms": _pct(ingest_lat, 50), "ingest_p99_ms": _pct(ingest_lat, 99),
            "alerts": len(alerts), "alert_p50_ms": _pct(alert_lat, 50), "alert_p99_ms": _pct(alert_lat, 99),
            "violation_stored_p50_ms": _pct(stored_lat, 50), "violation_stored_p99_ms": _pct(stored_lat, 99),
            "events": n_events, "violations": len(viols),
            "violations_by_status": dict(Counter(st for _, st, _, _ in viols)),
            "lost": len(observations) - stored, "duplicated": max(0, ledger - stored) + dup_alerts,
            "duplicated_alerts": dup_alerts, "ledger_entries": ledger,
            "cpu_s": cpu | {"postgres_backends": round(pg_cpu, 2)}, "cpu_us_per_obs": per_obs,
            "peak_rss_mb": {k: round(v / 1024, 1) for k, v in sampler.hwm_kb.items()} | {
                "postgres_backends_max": round(max(sampler.backend_hwm_kb.values(), default=0) / 1024, 1),
                "postgres_backends_sum": round(sum(sampler.backend_hwm_kb.values()) / 1024, 1),
                "postgres_backends_seen": len(sampler.backend_hwm_kb)},
            "loadavg_start": [round(x, 2) for x in load_start], "loadavg_end": [round(x, 2) for x in load_end],
            "backend": "postgresql" if url.startswith("postgresql") else "sqlite",
            "preloaded_observations": n_pre, "preload_s": round(preload_s, 1),
        }
    finally:
        if sampler is not None and sampler.is_alive():
            sampler.stop()
        if store is not None:
            store.close()
        _stop(procs, nats, drop)


def run(quick: bool = False, seed: int = 1, *, hours: float | None = None, speedup: float | None = None,
        rate: float = MISSION_RATE, drain_timeout_s: float | None = None,
        preload_hours: float | None = None) -> dict[str, Any]:
    """``quick``: 2 simulated minutes at 24x (tests); otherwise ``hours`` (default 0.5, or
    $TRUCEWATCH_MISSION_HOURS) at ``speedup`` (default 24, or $TRUCEWATCH_MISSION_SPEEDUP): the
    ``trucewatch bench`` command passes only ``--quick`` and ``--seed``.

    ``preload_hours`` ($TRUCEWATCH_MISSION_PRELOAD_HOURS, default 0): that much of the day before
    the slice is stored directly (signed ingest, no bus, no fusion) before the replay, so fusion's
    +-3 h window holds what it holds late in a real day, not an empty morning."""
    pre_h = preload_hours if preload_hours is not None else float(os.environ.get("TRUCEWATCH_MISSION_PRELOAD_HOURS", 0))
    hours = hours if hours is not None else (1 / 30 if quick else float(os.environ.get("TRUCEWATCH_MISSION_HOURS", 0.5)))
    speedup = speedup if speedup is not None else float(os.environ.get("TRUCEWATCH_MISSION_SPEEDUP", 24.0))
    drain = drain_timeout_s if drain_timeout_s is not None else (240.0 if quick else 900.0)
    if hours <= 0 or pre_h < 0 or hours + pre_h > 24 or speedup <= 0 or rate <= 0:
        raise ValueError(f"hours > 0, preload_hours >= 0, together at most 24, speedup and rate > 0 "
                         f"(got hours={hours}, preload_hours={pre_h}, speedup={speedup}, rate={rate})")
    if threading.current_thread() is threading.main_thread():  # SIGTERM (a timeout) still stops workers, drops the database
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    agreement = load_agreement(default_agreement_path())
    t_gen = time.time()
    observations, plan = build_day(agreement, hours=hours + pre_h, rate=rate, seed=seed)
    sources = simulated_sources(agreement)
    keys = generate_source_keys(sources, rng=np.random.default_rng(seed))
    observations = sign_observations(observations, keys)
    cut = plan["day_start"] + pre_h * 3600.0
    k = next((i for i, o in enumerate(observations) if o.time.timestamp() >= cut), len(observations))
    preload, observations = observations[:k], observations[k:]
    gen_s = time.time() - t_gen
    with tempfile.TemporaryDirectory() as d:
        res = _one_run(agreement, observations, keys, sources, Path(d), speedup=speedup, day_start=plan["day_start"],
                       drain_timeout_s=drain, preload=preload)
    plan.pop("day_start")
    return {
        "benchmark": "mission_day", "quick": quick, "seed": seed, "hours_replayed": hours, "hours_preloaded": pre_h, "cpus": os.cpu_count(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"), "generation_s": round(gen_s, 1), "day": plan,
        **res,
        "goals": {"day_wall_h_projected": 1.0, "alert_p99_ms": 2000, "lost": 0, "duplicated": 0},
        "goals_met": {"day_wall_h_projected": (res["day_wall_h_projected"] or 1e9) <= 1.0 and res["drained"],
                      "alert_p99_ms": res["alert_p99_ms"] is not None and res["alert_p99_ms"] < 2000,
                      "lost": res["lost"] == 0, "duplicated": res["duplicated"] == 0},
        "note": "one ingest worker and one fusion worker, nats-server, PostgreSQL and the publisher on the same "
                "machine; latencies from each observation's intended send time (constant arrival rate)",
    }
