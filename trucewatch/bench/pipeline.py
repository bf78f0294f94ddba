"""End-to-end pipeline throughput on NATS JetStream with 1 and 2 workers.

Starts a private nats-server on a random loopback port, a fresh database
(PostgreSQL on 127.0.0.1:5432 when it answers, else SQLite), publishes signed
observations and measures:

- ``ingest``: workers with ``--role ingest`` only; the clock runs from the first
  publish until every observation is stored *and* in the Merkle tree (the
  integrator has drained the queue): ``observations_per_s``, the workers' CPU
  per observation (user + system time of the worker processes, from /proc),
  the signature-check ceiling measured in this process on the same messages
  (bare libsodium, CPU time), and the integration lag;
- ``all``: workers with ``--role all`` (1, then 2); the clock also waits until
  fusion has drained its requests (before 2026-12 it stopped at "stored", with
  fusion still 30-80 s behind).

``lost`` and ``duplicated``: stored observations missing, ledger entries beyond them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from nacl.bindings import crypto_sign_open

from trucewatch.agreement import load_agreement
from trucewatch.data import default_agreement_path
from trucewatch.deploy.bus import FUSE_STREAM, OBS_STREAM, connect, ensure_streams, publish_observations
from trucewatch.deploy.loadgen import SOURCES, synthetic_stream
from trucewatch.deploy.sectors import Sectors
from trucewatch.ledger.canonical import signing_message
from trucewatch.ledger.keys import generate_source_keys, public_key_hex, register_source_keys, sign_observations
from trucewatch.ledger.log import MerkleLog
from trucewatch.store import Store
from trucewatch.store.coverage import ingest_times, log_append_times
from trucewatch.store.postgres import scratch_database

PG_ADMIN = os.environ.get("TRUCEWATCH_PG_URL", "postgresql://trucewatch:trucewatch@127.0.0.1:5432/postgres")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _new_db(tmp: Path) -> tuple[str, Any]:
    if _up(5432):
        stack = contextlib.ExitStack()
        url = stack.enter_context(scratch_database(PG_ADMIN, "tw_bench"))
        return url, stack.close
    return str(tmp / f"bench-{uuid.uuid4().hex[:6]}.db"), lambda: None


def _stop(procs: list[subprocess.Popen[Any]], nats: subprocess.Popen[Any], drop: Any) -> None:
    """Stop the workers (SIGTERM, then kill after 20 s), then nats-server, then drop the scratch database."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
    nats.send_signal(signal.SIGTERM)
    nats.wait(10)
    drop()


async def _wait_ready(bus: str, n_workers: int, timeout: float = 90.0) -> None:
    """Until every worker has a pull request waiting on the ingest consumer."""
    nc = await connect(bus)
    js = nc.jetstream()
    await ensure_streams(js)
    end = time.time() + timeout
    while time.time() < end:
        try:
            if (await js.consumer_info(OBS_STREAM, "ingest")).num_waiting >= n_workers:
                break
        except Exception:  # the consumer does not exist until the first worker makes it
            pass
        await asyncio.sleep(0.2)
    await nc.close()


async def _publish_all(bus: str, agreement: Any, observations: list, published: dict[str, float]) -> None:
    nc = await connect(bus)
    js = nc.jetstream()
    await ensure_streams(js)
    sectors = Sectors(agreement)
    for i in range(0, len(observations), 2000):
        chunk = observations[i : i + 2000]
        now = time.time()
        await publish_observations(js, sectors, chunk)
        for o in chunk:
            published[o.id] = now
    await nc.drain()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc)."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


async def _fuse_pending(bus: str) -> int:
    nc = await connect(bus)
    try:
        info = await nc.jetstream().consumer_info(FUSE_STREAM, "fusion")
        return info.num_pending + info.num_ack_pending
    except Exception:
        return 0
    finally:
        await nc.close()


def _one(n_workers: int, observations: list, keys: dict, agreement: Any, tmp: Path, role: str = "all") -> dict[str, Any]:
    nats_bin = shutil.which("nats-server")
    if not nats_bin:
        raise RuntimeError("nats-server is not installed (scripts/services.sh installs it)")
    port = _port()
    sd = tmp / f"nats-{port}"
    nats = subprocess.Popen([nats_bin, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(sd)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, drop = _new_db(tmp)
    procs: list[subprocess.Popen] = []
    try:
        for _ in range(100):
            if _up(port):
                break
            time.sleep(0.1)
        with Store.open(url) as s:
            s.add_sources([x.model_copy(update={"public_key": public_key_hex(keys[x.id])}) for x in SOURCES])
            register_source_keys(s, keys)
        bus = f"nats://127.0.0.1:{port}"
        log = open(tmp / "workers.log", "a")
        procs = [subprocess.Popen([sys.executable, "-m", "trucewatch.cli", "worker", "--bus", bus, "--db", url,
                                   "--role", role], stdout=log, stderr=subprocess.STDOUT) for _ in range(n_workers)]
        asyncio.run(_wait_ready(bus, n_workers))
        with Store.open(url) as s0:
            certs = MerkleLog(s0).size  # the key certificates, logged before any observation
        cpu0 = sum(_cpu_s(p.pid) for p in procs)  # ready workers: start-up CPU excluded
        published: dict[str, float] = {}
        t0 = time.time()
        asyncio.run(_publish_all(bus, agreement, observations, published))
        store = Store.open(url)
        log_ = MerkleLog(store)
        deadline = time.time() + 900
        while time.time() < deadline and store.count_observations() < len(observations):
            time.sleep(0.1)
        t_stored = time.time()
        while time.time() < deadline and log_.size - certs < store.count_observations():
            time.sleep(0.05)
        t_logged = time.time()
        cpu = sum(_cpu_s(p.pid) for p in procs) - cpu0
        t_drained = None
        if role == "all":
            while time.time() < deadline and asyncio.run(_fuse_pending(bus)) > 0:
                time.sleep(0.5)
            t_drained = time.time()
        rows = ingest_times(store)
        appended = log_append_times(store)
        lat = sorted((ing - published[oid]) * 1000 for oid, ing in rows if oid in published)
        stored = len(rows)
        ledger = log_.size - certs
        store.close()
        p99 = lat[int(0.99 * (len(lat) - 1))] if lat else None
        out = {"workers": n_workers, "role": role,
               "observations_per_s": round(stored / max(1e-9, t_logged - t0), 1),
               "stored_per_s": round(stored / max(1e-9, t_stored - t0), 1),
               "worker_cpu_us_per_obs": round(cpu / max(1, stored) * 1e6, 1),
               "integration_lag_s": round(t_logged - t_stored, 2),
               "p99_latency_ms": round(p99, 1) if p99 is not None else None,
               "lost": len(observations) - stored, "duplicated": max(0, ledger - stored),
               "backend": "postgresql" if url.startswith("postgresql") else "sqlite",
               "appended_rows": len(appended)}
        if t_drained is not None:
            out["drained_per_s"] = round(stored / max(1e-9, t_drained - t0), 1)
            out["fusion_drain_s_after_stored"] = round(t_drained - t_logged, 1)
        return out
    finally:
        _stop(procs, nats, drop)


def run(quick: bool = False, seed: int = 1) -> dict[str, Any]:
    n = 2_000 if quick else 30_000
    agreement = load_agreement(default_agreement_path())
    keys = generate_source_keys(SOURCES, rng=np.random.default_rng(seed))
    obs = sign_observations(synthetic_stream(agreement, n, seed=seed), keys)
    ceiling = _sig_ceiling_us(obs, keys)
    with tempfile.TemporaryDirectory() as d:
        ing = _one(2, obs, keys, agreement, Path(d), role="ingest")
        one = _one(1, obs, keys, agreement, Path(d))
        two = _one(2, obs, keys, agreement, Path(d))
    cpu = ing["worker_cpu_us_per_obs"]
    return {
        "benchmark": "pipeline", "observations": n, "backend": one["backend"],
        "cpus": os.cpu_count(), "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "ingest_observations_per_s": ing["observations_per_s"], "ingest_worker_cpu_us_per_obs": cpu,
        "sig_check_cpu_us": ceiling, "ingest_cpu_over_sig_check": round(cpu / ceiling, 2),
        "integration_lag_s": ing["integration_lag_s"], "ingest_p99_latency_ms": ing["p99_latency_ms"],
        "observations_per_s_1_worker": one["observations_per_s"], "observations_per_s_2_workers": two["observations_per_s"],
        "observations_per_s": two["observations_per_s"],
        "drained_per_s_1_worker": one.get("drained_per_s"), "drained_per_s_2_workers": two.get("drained_per_s"),
        "fusion_drain_s_after_stored_2_workers": two.get("fusion_drain_s_after_stored"),
        "scaling_2_over_1": round(two["observations_per_s"] / one["observations_per_s"], 2) if one["observations_per_s"] else None,
        "p99_latency_ms_1_worker": one["p99_latency_ms"], "p99_latency_ms": two["p99_latency_ms"],
        "lost": ing["lost"] + one["lost"] + two["lost"], "duplicated": ing["duplicated"] + one["duplicated"] + two["duplicated"],
        "runs": {"ingest_2": ing, "all_1": one, "all_2": two},
        "goals": {"ingest_observations_per_s": 4000, "ingest_worker_cpu_us_per_obs": 150, "integration_lag_s": 1.0},
        "goals_met": {"ingest_observations_per_s": ing["observations_per_s"] >= 4000,
                      "ingest_worker_cpu_us_per_obs": cpu <= 150, "integration_lag_s": ing["integration_lag_s"] < 1.0},
        "note": "end to end: publish (acks awaited in windows of 256) -> verify signature -> store + queue -> "
                "integrate -> fuse requests; 2 cores shared by publisher, workers, NATS and the database",
    }


def _sig_ceiling_us(observations: list, keys: dict) -> float:
    """CPU µs of one bare libsodium signature check over these messages (one thread)."""
    pairs = [(base64.b64decode(o.signature) + signing_message(o), bytes(keys[o.source_id].verify_key))
             for o in observations[:5000]]
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        for sm, pk in pairs:
            crypto_sign_open(sm, pk)
        best = min(best, time.process_time() - t)
    return round(best / len(pairs) * 1e6, 1)
