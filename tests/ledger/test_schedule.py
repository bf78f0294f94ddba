"""Checkpoints on a schedule: by age of the oldest uncovered entry, by count, in
the background of the service, and without crashing when no mission key is at hand."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi.testclient import TestClient

from tests.ledger.conftest import CERTS as K
from tests.ledger.conftest import build, make_observations
from trucewatch.ledger.api import latest_checkpoint
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import sign_observations
from trucewatch.ledger.schedule import CheckpointPolicy, CheckpointScheduler
from trucewatch.ledger.trust import Trust
from trucewatch.ledger.verify import verify_store


def test_due_by_age_then_by_count(tmp_path):
    f = build(tmp_path / "s.db", n=5, checkpoint=False)
    sched = CheckpointScheduler(f.store, f.signer, CheckpointPolicy(max_age_s=60, max_entries=1000, poll_s=1))
    now = time.time()
    assert sched.tick(now + 5) is None  # 8 entries wait, the oldest for a few seconds only
    cp = sched.tick(now + 61)
    assert cp is not None and cp["size"] == 5 + K
    assert sched.tick(now + 1000) is None  # nothing new: no second checkpoint of the same size
    ingest_signed(f.store, sign_observations(make_observations(1000, start=5), f.keys))
    cp = sched.tick(time.time())  # 1,000 entries wait: due at once
    assert cp is not None and cp["size"] == 1005 + K
    rep = verify_store(f.store, Trust(log_keys=[f.signer.vkey()]))
    assert rep.ok, rep.problems[:3]


def test_background_task_signs_and_stop_covers_the_rest(tmp_path):
    f = build(tmp_path / "s.db", n=3, checkpoint=False)

    async def main() -> None:
        sched = CheckpointScheduler(f.store, f.signer, CheckpointPolicy(max_age_s=0.1, max_entries=1000,
                                                                         poll_s=0.05)).start()
        for _ in range(100):
            if latest_checkpoint(f.store):
                break
            await asyncio.sleep(0.05)
        assert latest_checkpoint(f.store)["size"] == 3 + K
        slow = CheckpointPolicy(max_age_s=3600, max_entries=1000, poll_s=0.05)
        sched2 = CheckpointScheduler(f.store, f.signer, slow).start()
        await sched.stop()
        ingest_signed(f.store, sign_observations(make_observations(2, start=3), f.keys))
        await asyncio.sleep(0.2)
        assert latest_checkpoint(f.store)["size"] == 3 + K  # not due yet (one hour)
        await sched2.stop()  # a clean shutdown signs what waits
        assert latest_checkpoint(f.store)["size"] == 5 + K

    asyncio.run(main())


def test_service_checkpoints_what_the_api_ingests(tmp_path, monkeypatch):
    from trucewatch.service.app import create_app
    from trucewatch.service.config import ServiceConfig

    monkeypatch.setenv("TRUCEWATCH_CHECKPOINT_MAX_AGE_S", "0.2")
    monkeypatch.setenv("TRUCEWATCH_CHECKPOINT_POLL_S", "0.05")
    f = build(tmp_path / "svc.db", n=4)
    app = create_app(f.store, None, ServiceConfig(require_signatures=True))
    tok = app.state.tokens.create("administrator")[0]
    body = [o.model_dump(mode="json") for o in sign_observations(make_observations(6, start=4), f.keys)]
    with TestClient(app) as c:
        r = c.post("/api/v1/observations", json={"observations": body}, headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200 and r.json()["accepted"] == 6, r.text
        for _ in range(100):
            if latest_checkpoint(f.store)["size"] == 10 + K:
                break
            time.sleep(0.05)
    assert latest_checkpoint(f.store)["size"] == 10 + K
    assert verify_store(f.store, Trust(log_keys=[f.signer.vkey()])).ok


def test_no_mission_key_warns_once_and_signs_nothing(tmp_path, caplog, monkeypatch):
    import trucewatch.ledger.api as api

    f = build(tmp_path / "k.db", n=3, checkpoint=False)
    monkeypatch.setattr(api, "_SIGNERS", {})  # another process: the key is neither in memory nor on disk
    monkeypatch.delenv("TRUCEWATCH_MISSION_KEY", raising=False)
    sched = CheckpointScheduler(f.store, None, CheckpointPolicy(max_age_s=0, max_entries=1000, poll_s=1))
    with caplog.at_level(logging.WARNING, logger="trucewatch.ledger.schedule"):
        assert sched.tick() is None and sched.tick() is None
    assert len([r for r in caplog.records if "no mission key" in r.getMessage()]) == 1
    assert latest_checkpoint(f.store) is None
