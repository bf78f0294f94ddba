"""The mechanism's tables on SQLite and PostgreSQL: migration 0003, the operations
end to end through the repository, the append-only hash-chained steps."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, update

from trucewatch.mechanism.core import AllegationIn, FakeClock, MechanismError
from trucewatch.mechanism.mission import Mechanism
from trucewatch.store import mechanism as T
from trucewatch.store.mechanism import ConflictError


def test_migration_creates_every_mechanism_table(store) -> None:
    names = set(inspect(store.engine).get_table_names())
    assert {t.name for t in T.TABLES} <= names


def test_a_case_through_the_store_and_its_chain(store, agreement) -> None:
    clock = FakeClock(time.time())
    m = Mechanism(store, clock=clock, agreement=agreement)
    a = AllegationIn(time=datetime.fromtimestamp(clock() - 600, UTC), lat=48.1, lon=37.8, type="shelling",
                     description="three impacts", accused_party="RU")
    out = m.submit_allegation(a, actor="liaison:UA:t1", role="liaison", party="UA")
    cid = out["case_id"]
    assert out["ledger_index"] is not None
    with pytest.raises(MechanismError) as e:
        m.submit_allegation(a.model_copy(update={"accused_party": "XX"}), actor="a", role="analyst", party=None)
    assert e.value.field == "accused_party"
    for action in ("acknowledge", "assess"):
        clock.advance(60)
        m.step_case(cid, action, actor="analyst:t2", reason=action)
    with pytest.raises(MechanismError) as e:
        m.step_case(cid, "publish", actor="analyst:t2")
    assert e.value.status == 409 and e.value.extra["allowed_next"] == ["task"]
    sq = {"type": "Polygon", "coordinates": [[[37.7, 48.0], [37.9, 48.0], [37.9, 48.2], [37.7, 48.2], [37.7, 48.0]]]}
    task = m.create_task(actor="analyst:t2", asset_kind="monitor_team", asset_id="team-1", area=sq,
                         t_from=clock() - 3600, t_to=clock() + 3600, case_id=cid)
    assert m.get_case_row(cid)["state"] == "tasked"
    done = m.complete_task(task["id"], actor="monitor:t3", seen=False, covered=[sq])
    assert done["result"]["outcome"] == "not_seen"
    with pytest.raises(MechanismError):
        m.complete_task(task["id"], actor="monitor:t3", seen=True)
    detail = m.case_detail(cid)
    assert [x["action"] for x in detail["timeline"] if x["kind"] in ("step", "task")] == \
        ["receive", "acknowledge", "assess", "create", "task", "complete", "task_result"]
    assert m.list_cases(party="RU")[0]["id"] == cid and m.list_cases(party="XX") == []
    n, broken = store.mechanism.verify_steps()
    assert n == 7 and broken is None
    # the log is append-only in intent; an edit is detected
    with store.engine.begin() as c:
        c.execute(update(T.steps).where(T.steps.c.seq == 3).values(reason="rewritten"))
    n, broken = store.mechanism.verify_steps()
    assert broken == 3


def test_a_stale_step_is_a_conflict_and_writes_nothing(store) -> None:
    repo = store.mechanism
    now = time.time()
    row = {"id": "C-x", "state": "received", "type": "t", "received_at": now, "party_request": 0,
           "submitter_party": None, "accused_party": None, "submitted_by": "a", "lat": 0.0, "lon": 0.0,
           "decision": None, "updated_at": now}
    repo.write(inserts=[(T.cases, row)])
    with pytest.raises(ConflictError):
        repo.write(updates=[(T.cases, (T.cases.c.id == "C-x") & (T.cases.c.state == "acknowledged"),
                             {"state": "assessed"})],
                   step_rows=[{"subject": "case:C-x", "action": "assess", "actor": "a", "at": now}],
                   expect_updates=1)
    assert repo.case("C-x")["state"] == "received" and repo.steps(["case:C-x"]) == []


def test_heartbeats_are_idempotent(store) -> None:
    rows = [{"sensor_id": "s1", "at": 100.0 + i, "status": "ok"} for i in range(5)]
    assert store.mechanism.add_heartbeats(rows + rows[:2]) == 5
    assert store.mechanism.add_heartbeats(rows) == 0
    assert len(store.mechanism.heartbeats(0, 1000)) == 5
