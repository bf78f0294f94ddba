"""The store: idempotent ingest, clear errors, bounding-box queries, workflow rows, migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trucewatch.model import (
    Evidence,
    Location,
    Observation,
    ObservationKind,
    Rule,
    Source,
    SourceKind,
    Status,
    Transition,
    Violation,
)
from trucewatch.store import Store, StoreError


def _obs(i: int, lat: float = 48.0, lon: float = 37.5, **kw) -> Observation:
    base = dict(id=f"o{i}", source_id="s1", kind=ObservationKind.IMPACT, time=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=i),
                location=Location(lat=lat, lon=lon, err_major_m=80, err_minor_m=40))
    base.update(kw)
    return Observation(**base)


@pytest.fixture()
def s(any_store):
    store = any_store
    store.add_sources([Source(id="s1", kind=SourceKind.ACOUSTIC_NETWORK)])
    return store


def test_duplicates_are_idempotent_and_conflicts_refused(s):
    r1 = s.add_observations([_obs(1), _obs(2)])
    assert len(r1.accepted) == 2
    r2 = s.add_observations([_obs(1), _obs(2, lat=48.5)])
    assert r2.duplicates == ["o1"]
    assert r2.errors and r2.errors[0].record == "o2" and r2.errors[0].field == "id"
    assert s.count_observations() == 2


def test_bad_records_name_record_and_field(s):
    future = datetime.now(UTC) + timedelta(days=2)
    rep = s.add_observations([_obs(1, source_id="ghost"), _obs(2, time=future), _obs(3)])
    errs = {(e.record, e.field) for e in rep.errors}
    assert ("o1", "source_id") in errs and ("o2", "time") in errs
    assert rep.accepted == ["o3"]


def test_location_off_the_globe_rejected_by_model():
    with pytest.raises(ValueError, match="lat"):
        Location(lat=200, lon=10)


def test_bbox_and_time_queries(s):
    s.add_observations([_obs(i, lat=47 + i * 0.1, lon=36 + i * 0.1) for i in range(20)])
    got = s.query_observations(bbox=(36.45, 47.45, 36.95, 47.95))
    assert [o.id for o in got] == [f"o{i}" for i in range(5, 10)]
    t0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    assert len(s.query_observations(t_from=t0 + 3, t_to=t0 + 6)) == 3


def test_violations_and_transitions(s):
    v = Violation(id="v1", event_id="e1", rule=Rule.FIRE_ACROSS_LINE, party="RU", confidence=0.8,
                  time=datetime(2026, 3, 1, tzinfo=UTC), location=Location(lat=48, lon=37.5),
                  evidence=[Evidence(observation_id="o1", source_id="s1", kind=ObservationKind.IMPACT)])
    s.save_violations([v])
    s.save_violations([v.model_copy(update={"confidence": 0.9})])  # refresh, not duplicate
    assert len(s.query_violations()) == 1 and s.get_violation("v1").confidence == 0.9
    s.record_transition(Transition(violation_id="v1", from_status=Status.DETECTED, to_status=Status.CORROBORATED, actor="a"))
    with pytest.raises(StoreError, match="concurrent"):
        s.record_transition(Transition(violation_id="v1", from_status=Status.DETECTED, to_status=Status.VERIFIED, actor="a"))
    with pytest.raises(StoreError, match="no such violation"):
        s.record_transition(Transition(violation_id="nope", from_status=None, to_status=Status.VERIFIED, actor="a"))
    assert [t.to_status for t in s.transitions("v1")] == [Status.DETECTED, Status.CORROBORATED]
    assert s.query_violations(bbox=(37, 47.5, 38, 48.5))[0].id == "v1"
    assert s.query_violations(bbox=(30, 47.5, 31, 48.5)) == []


def test_reopen_keeps_data_and_schema_matches_migrations(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from trucewatch.store.schema import metadata

    p = tmp_path / "x.db"
    with Store.open(p) as a:
        a.add_sources([Source(id="s1", kind=SourceKind.DRONE)])
    with Store.open(p) as b:
        assert b.get_source("s1").kind == SourceKind.DRONE
        with b.engine.connect() as c:
            ctx = MigrationContext.configure(c, opts={"include_name": lambda name, type_, parent: not (
                type_ == "table" and "rtree" in name)})
            diff = compare_metadata(ctx, metadata)
    assert diff == [], diff


def test_a_store_at_revision_0001_gains_the_kind_index_on_open(tmp_path):
    import sqlite3

    p = tmp_path / "old.db"
    with Store.open(p):
        pass
    with sqlite3.connect(p) as c:  # make it look like a store written before revision 0002
        c.execute("DROP INDEX ix_observations_kind_t")
        c.execute("UPDATE alembic_version SET version_num = '0001'")
    with Store.open(p):
        pass
    with sqlite3.connect(p) as c:
        from alembic.script import ScriptDirectory

        from trucewatch.store.migrate import alembic_config

        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert c.execute("SELECT version_num FROM alembic_version").fetchall() == [(head,)]
        plan = c.execute("EXPLAIN QUERY PLAN SELECT id FROM observations WHERE kind = 'air_track' AND t > 0").fetchall()
    assert "ix_observations_kind_t" in str(plan)


def test_record_transitions_in_bulk(s):
    vs = [Violation(id=f"v{i}", event_id=f"e{i}", rule=Rule.FIRE_ACROSS_LINE, party="UA", confidence=0.9,
                    time=datetime(2026, 3, 1, tzinfo=UTC), location=Location(lat=48, lon=37.5)) for i in range(3)]
    s.save_violations(vs)
    steps = [Transition(violation_id="v0", from_status=Status.DETECTED, to_status=Status.CORROBORATED, actor="a"),
             Transition(violation_id="v0", from_status=Status.CORROBORATED, to_status=Status.VERIFIED, actor="a"),
             Transition(violation_id="v1", from_status=Status.DETECTED, to_status=Status.CORROBORATED, actor="a")]
    s.record_transitions(steps)
    got = s.get_violations(["v0", "v1", "v2"])
    assert [got[k].status for k in ("v0", "v1", "v2")] == [Status.VERIFIED, Status.CORROBORATED, Status.DETECTED]
    with pytest.raises(StoreError, match="concurrent"):
        s.record_transitions([Transition(violation_id="v2", from_status=Status.VERIFIED, to_status=Status.NOTIFIED, actor="a")])
    assert s.get_violation("v2").status == Status.DETECTED  # all or nothing
