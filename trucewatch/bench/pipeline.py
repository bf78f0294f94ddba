"""End-to-end pipeline throughput on NATS JetStream with 1 and 2 workers.

Starts a private nats-server on a random loopback port, a fresh database
(PostgreSQL on 127.0.0.1:5432 when it answers, else SQLite), publishes signed
observations and measures until every one is stored: sustained
``observations_per_s``, ``p99_latency_ms`` from publish to commit, ``lost`` and
``duplicated`` (ledger entries beyond the stored observations).
"""

from __future__ import annotations

import asyncio
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
        from sqlalchemy import create_engine, text

        name = f"tw_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))

        def drop() -> None:
            with admin.connect() as c:
                c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
                c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            admin.dispose()

        return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, drop
    return str(tmp / f"bench-{uuid.uuid4().hex[:6]}.db"), lambda: None


async def _wait_ready(bus: str, n_workers: int, timeout: float = 90.0) -> None:
    """Until every worker has a pull request waiting on the ingest consumer."""
    from trucewatch.deploy.bus import OBS_STREAM, connect, ensure_streams

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
    from trucewatch.deploy.bus import connect, ensure_streams, publish_observations
    from trucewatch.deploy.sectors import Sectors

    nc = await connect(bus)
    js = nc.jetstream()
    await ensure_streams(js)
    sectors = Sectors(agreement)
    for i in range(0, len(observations), 500):
        chunk = observations[i : i + 500]
        now = time.time()
        await publish_observations(js, sectors, chunk)
        for o in chunk:
            published[o.id] = now
    await nc.drain()


def _one(n_workers: int, observations: list, keys: dict, agreement: Any, tmp: Path) -> dict[str, Any]:
    from trucewatch.deploy.loadgen import SOURCES
    from trucewatch.ledger.keys import public_key_hex, register_source_keys
    from trucewatch.ledger.log import MerkleLog
    from trucewatch.store import Store
    from trucewatch.store import schema as S

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
                                   "--role", "all"], stdout=log, stderr=subprocess.STDOUT) for _ in range(n_workers)]
        asyncio.run(_wait_ready(bus, n_workers))
        published: dict[str, float] = {}
        t0 = time.time()
        asyncio.run(_publish_all(bus, agreement, observations, published))
        store = Store.open(url)
        deadline = time.time() + 600
        while time.time() < deadline and store.count_observations() < len(observations):
            time.sleep(0.2)
        t1 = time.time()
        with store.engine.connect() as c:
            rows = c.execute(S.observations.select().with_only_columns(S.observations.c.id, S.observations.c.ingested_at)).all()
        lat = sorted((ing - published[oid]) * 1000 for oid, ing in rows if oid in published)
        stored = len(rows)
        ledger = MerkleLog(store).size
        store.close()
        p99 = lat[int(0.99 * (len(lat) - 1))] if lat else None
        last = max((ing for _, ing in rows), default=t1)
        return {"workers": n_workers, "observations_per_s": round(stored / max(1e-9, last - t0), 1),
                "p99_latency_ms": round(p99, 1) if p99 is not None else None,
                "lost": len(observations) - stored, "duplicated": max(0, ledger - stored),
                "backend": "postgresql" if url.startswith("postgresql") else "sqlite"}
    finally:
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


def run(quick: bool = False, seed: int = 1) -> dict[str, Any]:
    import numpy as np

    from trucewatch.agreement import load_agreement
    from trucewatch.commands import default_agreement_path
    from trucewatch.deploy.loadgen import SOURCES, synthetic_stream
    from trucewatch.ledger.keys import generate_source_keys, sign_observations

    n = 2_000 if quick else 30_000
    agreement = load_agreement(default_agreement_path())
    keys = generate_source_keys(SOURCES, rng=np.random.default_rng(seed))
    obs = sign_observations(synthetic_stream(agreement, n, seed=seed), keys)
    with tempfile.TemporaryDirectory() as d:
        one = _one(1, obs, keys, agreement, Path(d))
        two = _one(2, obs, keys, agreement, Path(d))
    return {
        "benchmark": "pipeline", "observations": n, "backend": one["backend"],
        "observations_per_s_1_worker": one["observations_per_s"], "observations_per_s_2_workers": two["observations_per_s"],
        "observations_per_s": two["observations_per_s"],
        "scaling_2_over_1": round(two["observations_per_s"] / one["observations_per_s"], 2) if one["observations_per_s"] else None,
        "p99_latency_ms_1_worker": one["p99_latency_ms"], "p99_latency_ms": two["p99_latency_ms"],
        "lost": one["lost"] + two["lost"], "duplicated": one["duplicated"] + two["duplicated"],
        "note": "end to end: publish -> verify signature -> store -> ledger append -> fuse requests; 2 cores shared by "
                "publisher, workers, NATS and the database",
    }
