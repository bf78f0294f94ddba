"""Fault tests: kill -9 workers, crash the database, restart NATS, mid-stream of
100,000 observations; the stored observations, the ledger's entries and the
violations must equal those of an undisturbed run.  Private servers on random
loopback ports; bounded in time."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from tests.deploy.servers import NatsServer, PgServer, start_worker

pytestmark = [pytest.mark.faults, pytest.mark.nats, pytest.mark.postgres, pytest.mark.slow]

N = int(os.environ.get("TRUCEWATCH_FAULT_N", "100000"))
TIMEOUT_S = 900


@pytest.fixture(scope="module")
def stream(agreement):
    from trucewatch.deploy.loadgen import SOURCES, synthetic_stream
    from trucewatch.ledger.keys import generate_source_keys, sign_observations

    keys = generate_source_keys(SOURCES, rng=np.random.default_rng(5))
    return keys, sign_observations(synthetic_stream(agreement, N, seed=5, days=30), keys)


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    srv = PgServer(tmp_path_factory.mktemp("faults"))
    srv.start()
    yield srv
    srv.stop()
    srv.remove()


def _new_db(pg: PgServer, keys) -> str:
    from sqlalchemy import create_engine, text

    from trucewatch.deploy.loadgen import SOURCES
    from trucewatch.ledger.keys import public_key_hex, register_source_keys
    from trucewatch.store import Store

    name = f"tw_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg.url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = pg.url.rsplit("/", 1)[0] + "/" + name
    with Store.open(url) as s:
        s.add_sources([x.model_copy(update={"public_key": public_key_hex(keys[x.id])}) for x in SOURCES])
        register_source_keys(s, keys)
    return url


async def _pending(nats_url: str) -> int:
    from trucewatch.deploy.bus import FUSE_STREAM, OBS_STREAM, connect

    nc = await connect(nats_url)
    js = nc.jetstream()
    n = 0
    for stream, durable in ((OBS_STREAM, "ingest"), (FUSE_STREAM, "fusion")):
        try:
            info = await js.consumer_info(stream, durable)
            n += info.num_pending + info.num_ack_pending
        except Exception:
            n += 1
    await nc.close()
    return n


def _queued(url: str) -> int:
    """Acknowledged log entries the integrator has not added to the tree yet."""
    from sqlalchemy import func, select

    from trucewatch.store import Store
    from trucewatch.store import schema as S

    with Store.open(url, migrate=False) as s, s.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(S.ledger_queue)).scalar_one())


def _snapshot(url: str) -> dict:
    from trucewatch.ledger.certs import load_certified
    from trucewatch.ledger.log import MerkleLog
    from trucewatch.store import Store
    from trucewatch.store import schema as S

    with Store.open(url) as s:
        with s.engine.connect() as c:
            obs = set(c.execute(S.observations.select().with_only_columns(S.observations.c.id, S.observations.c.content_hash)).all())
        log = MerkleLog(s)
        certs = set(load_certified(s).entries)  # key certificates: a fresh mission key and time per run
        entries = sorted(h.hex() for i, h in log.leaf_hashes() if i not in certs)
        viol = sorted((v.id, v.rule.value, v.party, v.status.value) for v in s.query_violations())
        return {"obs": obs, "ledger_size": log.size - len(certs), "ledger_entries": entries, "violations": viol}


def _run(pg, keys, observations, tmp: Path, disturb=None) -> dict:
    """One run on a fresh database and a fresh nats-server (a shared server would
    drop the second run's messages as duplicates of the first's)."""
    from trucewatch.deploy.worker import publish_file

    nats = NatsServer(tmp / uuid.uuid4().hex[:6])
    nats.start()
    url = _new_db(pg, keys)
    log = tmp / f"workers-{uuid.uuid4().hex[:6]}.log"
    procs = [start_worker(nats.url, url, "all", log) for _ in range(2)]
    from tests.conftest import SAMPLE_AGREEMENT
    from trucewatch.agreement import load_agreement

    agr = load_agreement(SAMPLE_AGREEMENT)
    chunks = np.array_split(np.arange(len(observations)), 10)
    try:
        for i, idx in enumerate(chunks):
            asyncio.run(publish_file(nats.url, agr, [observations[j] for j in idx]))
            if disturb:
                procs = disturb(i, procs, pg, nats, url, log) or procs
        end = time.time() + TIMEOUT_S
        while time.time() < end:
            if asyncio.run(_pending(nats.url)) == 0 and _queued(url) == 0:
                break
            for k, p in enumerate(procs):  # a worker that died by itself is restarted too
                if p.poll() is not None:
                    procs[k] = start_worker(nats.url, url, "all", log)
            time.sleep(1.0)
        else:
            pytest.fail(f"stream not drained in {TIMEOUT_S} s; see {log}:\n{log.read_text()[-3000:]}")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except Exception:
                p.kill()
        nats.stop()
    return _snapshot(url)


def test_kill_restart_crash_equal_undisturbed(pg, stream, tmp_path):
    keys, observations = stream
    calm = _run(pg, keys, observations, tmp_path)
    assert len(calm["obs"]) == N and calm["ledger_size"] == N

    def chaos(i, procs, pg, nats, url, log):
        if i == 2:  # kill -9 a worker mid-stream, start a new one
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait()
            procs[0] = start_worker(nats.url, url, "all", log)
        if i == 4:  # crash the database (immediate shutdown) and bring it back
            pg.restart()
        if i == 6:  # restart the message bus (file storage keeps the streams)
            nats.restart()
        if i == 8:  # kill -9 both workers at once
            for p in procs:
                p.send_signal(signal.SIGKILL)
                p.wait()
            return [start_worker(nats.url, url, "all", log) for _ in procs]
        return procs

    stormy = _run(pg, keys, observations, tmp_path, chaos)
    assert stormy["obs"] == calm["obs"], "stored observations differ"
    assert stormy["ledger_size"] == calm["ledger_size"] == N, "ledger lost or duplicated entries"
    assert stormy["ledger_entries"] == calm["ledger_entries"]
    assert stormy["violations"] == calm["violations"]


