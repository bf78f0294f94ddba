"""The NATS JetStream pipeline: sectors, ingest and fusion workers, dead letters,
redelivery without effect.  Uses a private nats-server on a random port."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.deploy.servers import NatsServer
from trucewatch.deploy.bus import connect, ensure_streams, publish_observations
from trucewatch.deploy.sectors import Sectors
from trucewatch.deploy.worker import Worker

pytestmark = [pytest.mark.nats]


def test_sectors_partition_everything(agreement):
    sec = Sectors(agreement, 100)
    assert 10 <= sec.count <= 14  # ~1,150 km of line
    k = sec.of(np.array([48.0, 50.45, 55.75, 44.6]), np.array([37.8, 30.5, 37.6, 33.5]))
    assert ((k >= 0) & (k < sec.count)).all()
    assert sec.index("s03") == 3
    for bad in ("s99", "x01", "s1", "s-1"):
        with pytest.raises(ValueError, match="unknown sector"):
            sec.index(bad)


@pytest.fixture()
def nats_server(tmp_path):
    srv = NatsServer(tmp_path)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture()
def signed_day(agreement, store):
    """The demo scenario's observations, signed, with the sources and keys registered."""
    from trucewatch.ledger.keys import generate_source_keys, public_key_hex, register_source_keys, sign_observations
    from trucewatch.sim.observe import observe, simulated_sources
    from trucewatch.sim.scenario import make_scenario

    sc = make_scenario(agreement, "demo", seed=11)
    sources = simulated_sources(agreement)
    keys = generate_source_keys(sources, rng=np.random.default_rng(11))
    store.add_sources([s.model_copy(update={"public_key": public_key_hex(keys[s.id])}) for s in sources])
    register_source_keys(store, keys)
    return sign_observations(observe(sc, agreement, 11), keys)


async def _run(nats_url, store, agreement, observations, extra=None, expect=None):
    nc = await connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js)
    sec = Sectors(agreement)
    await publish_observations(js, sec, observations)
    for subject, data in extra or []:
        await js.publish(subject, data)
    w = Worker(nats_url, store, agreement, role="all", batch=200)
    target = expect if expect is not None else len(observations)

    def done(st):
        return st.ingested + st.duplicates + st.dead >= target and st.fused_requests > 0

    await asyncio.wait_for(w.run(until=done), timeout=120)
    # let fusion drain its remaining requests
    w2 = Worker(nats_url, store, agreement, role="fusion")
    task = asyncio.create_task(w2.run())
    await asyncio.sleep(2.0)
    w2.stop()
    await task
    await nc.drain()
    return w.stats


def test_end_to_end_with_dead_letters(nats_server, store, agreement, signed_day):
    forged = signed_day[0].model_copy(update={"id": "forged-1", "signature": signed_day[1].signature})
    sec = Sectors(agreement)
    home = sec.name(int(sec.of(np.array([forged.location.lat]), np.array([forged.location.lon]))[0]))
    extra = [("trucewatch.obs.s02", b"{not json"), ("trucewatch.obs.s99", signed_day[2].model_dump_json().encode()),
             (f"trucewatch.obs.{home}", forged.model_dump_json().encode())]
    stats = asyncio.run(_run(nats_server.url, store, agreement, signed_day, extra, expect=len(signed_day) + 3))
    assert stats.ingested == len(signed_day)
    assert store.count_observations() == len(signed_day)
    reasons = sorted(d["reason"] for d in store.list_dead_letters())
    assert reasons == ["invalid", "rejected", "unknown_sector"], reasons
    assert any("signature" in d["detail"] for d in store.list_dead_letters() if d["reason"] == "rejected")
    assert len(store.query_violations()) > 10
    # every stored observation is in the ledger exactly once (after the sources' key certificates)
    from trucewatch.ledger.certs import load_certified
    from trucewatch.ledger.log import MerkleLog

    assert MerkleLog(store).size == len(signed_day) + len(load_certified(store).entries)


def test_redelivery_changes_nothing(nats_server, store, agreement, signed_day):
    part = signed_day[:60]
    asyncio.run(_run(nats_server.url, store, agreement, part))
    from trucewatch.ledger.log import MerkleLog

    size = MerkleLog(store).size
    viol = sorted((v.id, v.status.value) for v in store.query_violations())

    async def again():
        nc = await connect(nats_server.url)
        js = nc.jetstream()
        # bypass the publisher's de-duplication id: as if a source re-sent after a restart
        for o in part:
            await js.publish("trucewatch.obs." + Sectors(agreement).name(int(Sectors(agreement).of(
                np.array([o.location.lat]), np.array([o.location.lon]))[0])), o.model_dump_json().encode())
        await nc.drain()

    asyncio.run(again())
    w = Worker(nats_server.url, store, agreement, role="all")
    asyncio.run(asyncio.wait_for(w.run(until=lambda st: st.duplicates >= len(part)), timeout=60))
    assert w.stats.ingested == 0 and w.stats.duplicates == len(part)
    assert MerkleLog(store).size == size
    assert sorted((v.id, v.status.value) for v in store.query_violations()) == viol


def test_worker_rejects_bad_role(store, agreement):
    with pytest.raises(ValueError, match="role"):
        Worker("nats://127.0.0.1:1", store, agreement, role="boss")




def test_merge_windows_joins_near_and_caps_span():
    from trucewatch.deploy.worker import merge_windows

    assert merge_windows([(0, 10), (5, 20), (100, 110), (30, 40)], gap=5) == [(0, 20), (30, 40), (100, 110)]
    assert merge_windows([(0, 10), (12, 30)], gap=5, max_span=20) == [(0, 10), (12, 30)]
