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
    # a second allegation anchors the seven steps in the signed log
    m.submit_allegation(a, actor="analyst:t2", role="analyst", party=None)
    assert m.verify_steps() == {"steps": 8, "broken_at_seq": None, "anchors_checked": 1, "anchor_mismatches": [],
                                "ok": True}
    # the table is append-only in intent; an edit is detected by the chain
    with store.engine.begin() as c:
        c.execute(update(T.steps).where(T.steps.c.seq == 3).values(reason="rewritten"))
    n, broken = store.mechanism.verify_steps()
    assert broken == 3
    # and a rewritten chain (hashes recomputed) no longer matches its anchor in the log
    from trucewatch.store.mechanism import GENESIS, _step_hash

    with store.engine.begin() as c:
        prev = GENESIS
        for r in c.execute(T.steps.select().order_by(T.steps.c.seq)).mappings().all():
            h = _step_hash(prev, dict(r))
            c.execute(update(T.steps).where(T.steps.c.seq == r["seq"]).values(prev_hash=prev, hash=h))
            prev = h
    v = m.verify_steps()
    assert v["broken_at_seq"] is None and len(v["anchor_mismatches"]) == 1 and not v["ok"]


def test_a_stale_step_is_a_conflict_and_writes_nothing(store) -> None:
    repo = store.mechanism
    now = time.time()
    row = {"id": "C-x", "state": "received", "type": "t", "received_at": now, "party_request": 0,
           "submitter_party": None, "accused_party": None, "submitted_by": "a", "lat": 0.0, "lon": 0.0,
           "decision": None, "updated_at": now}
    repo.write(inserts=[(T.cases, row)])
    with pytest.raises(ConflictError):
        repo.write(updates=[(T.cases, {"id": "C-x", "state": "acknowledged"}, {"state": "assessed"})],
                   step_rows=[{"subject": "case:C-x", "action": "assess", "actor": "a", "at": now}],
                   expect_updates=1)
    assert repo.case("C-x")["state"] == "received" and repo.steps(["case:C-x"]) == []


def test_heartbeats_are_idempotent(store) -> None:
    rows = [{"sensor_id": "s1", "at": 100.0 + i, "status": "ok"} for i in range(5)]
    assert store.mechanism.add_heartbeats(rows + rows[:2]) == 5
    assert store.mechanism.add_heartbeats(rows) == 0
    assert len(store.mechanism.heartbeats(0, 1000)) == 5


def test_sites_health_prenotifications_replies_and_corrections_on_both_backends(store, agreement) -> None:
    from trucewatch.model import Location, Source, SourceKind, Status, Violation

    now = time.time()
    clock = FakeClock(now)
    m = Mechanism(store, clock=clock, agreement=agreement)
    # holding site: a missing serial is a finding
    m.add_site(actor="liaison:RU:t", party="RU", name="Depot", lat=48.3, lon=38.4, radius_m=400, site_id="HS-9")
    m.declare_inventory("HS-9", [{"class": "MLRS", "count": 2, "serials": ["A1", "A2"]}], actor="liaison:RU:t")
    insp = m.inspect("HS-9", [{"class": "MLRS", "count": 1, "serials": ["A1"]}], actor="monitor:t")
    assert [f["attributes"]["serial"] for f in insp["findings"]] == ["A2"]
    assert m.sites()[0]["last_inspection"] is not None
    # sensor health: a silent sensor near the line becomes a finding, once
    ln = agreement.contact_line.geoms[0] if hasattr(agreement.contact_line, "geoms") else agreement.contact_line
    pt = ln.interpolate(0.3, normalized=True)
    store.add_sources([Source(id="hb-x", kind=SourceKind.ACOUSTIC_SENSOR, lat=pt.y, lon=pt.x)])
    m.add_heartbeats([{"sensor_id": "hb-x", "at": now - 7200 + k * 300, "status": "ok"} for k in range(4)]
                     + [{"sensor_id": "hb-x", "at": now - 60, "status": "ok"}])
    out = m.analyse_sensor_health(now - 7200, now, actor="analyst:t")
    assert [f["cause"] for f in out["findings"]] == ["unknown"]
    assert m.analyse_sensor_health(now - 7200, now, actor="analyst:t")["findings"] == []
    fom = {r["party"]: r for r in m.freedom_of_movement(now - 86400, now + 1)}
    assert fom["undetermined"]["sensor_outage"] == 1 and fom["RU"]["weapon_missing"] == 1
    # pre-notification: a finding inside the accepted window is dismissed through the workflow
    store.save_violations([Violation(id="pv-1", event_id="pe-1", rule="fire_across_line", party="UA", confidence=0.5,
                                     time=datetime.fromtimestamp(now - 600, UTC), location=Location(lat=47.6, lon=37.2))])
    area = {"type": "Polygon", "coordinates": [[[37.1, 47.5], [37.3, 47.5], [37.3, 47.7], [37.1, 47.7], [37.1, 47.5]]]}
    pn = m.prenotify(actor="liaison:UA:t", party="UA", kind="exercise", area=area, t_from=now - 3600, t_to=now + 3600,
                     description="drill")
    got = m.decide_prenotification(pn["id"], True, actor="analyst:t", reason="ok")
    assert got["applied"]["dismissed"] == ["pv-1"] and store.get_violation("pv-1").status == Status.DISMISSED
    with pytest.raises(MechanismError):
        m.decide_prenotification(pn["id"], False, actor="analyst:t", reason="again")
    # a contest on the missing-weapon finding, upheld after publication: a correction
    fid = insp["findings"][0]["id"]
    m.change_finding(fid, "publish", actor="analyst:t", reason="weekly")
    r = m.reply("finding", fid, kind="contest", party="RU", actor="liaison:RU:t", reason="under repair")
    with pytest.raises(MechanismError) as e:
        m.reply("finding", fid, kind="reply", party="UA", actor="liaison:UA:t", reason="x")
    assert e.value.status == 403
    m.review(r["id"], "escalate", actor="analyst:t", reason="disputed")
    m.review(r["id"], "resolve", actor="analyst:t", reason="commission: repaired", outcome="upheld")
    corr = m.corrections()
    assert [(c["target_id"], c["change"]) for c in corr] == [(fid, "dismissed")]
    assert store.mechanism.verify_steps()[1] is None


def test_neighbouring_sensors_down_together_are_suspected_interference(store, agreement) -> None:
    from trucewatch.model import Source, SourceKind

    now = time.time()
    m = Mechanism(store, clock=FakeClock(now), agreement=agreement)
    ln = agreement.contact_line.geoms[0] if hasattr(agreement.contact_line, "geoms") else agreement.contact_line
    pt = ln.interpolate(0.6, normalized=True)
    ids = ["nb-0", "nb-1", "nb-2", "nb-3"]
    store.add_sources([Source(id=i, kind=SourceKind.ACOUSTIC_SENSOR, lat=pt.y + 0.02 * k, lon=pt.x)
                       for k, i in enumerate(ids)])
    beats = []
    for k, sid in enumerate(ids):
        for j in range(0, 240, 5):  # 4 h every 5 min; nb-0..2 silent 60-180 min together, nb-3 at another time
            silent = (60 <= j < 180) if k < 3 else (200 <= j < 235)
            if not silent:
                beats.append({"sensor_id": sid, "at": now - 4 * 3600 + j * 60, "status": "ok"})
    m.add_heartbeats(beats)
    out = m.analyse_sensor_health(now - 4 * 3600, now, actor="analyst:t")
    causes = {f["attributes"]["sensor_id"]: f["cause"] for f in out["findings"]}
    assert causes == {"nb-0": "suspected interference", "nb-1": "suspected interference",
                      "nb-2": "suspected interference", "nb-3": "unknown"}
