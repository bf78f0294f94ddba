"""trucewatch.access: who sees what, without the HTTP layer.

The same Views serve the API, the daily report and the mechanism's reports, so these
tests pin the rule itself: a liaison sees its party's findings (and those naming it as
victim or target), the public only published ones after the delay and without
identities, monitors nothing; unknown and withheld sources stay withheld.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from trucewatch.access import Principal, Role, TokenStore, Views, ViolationFilter, may_alert
from trucewatch.access.views import DEFAULT_PUBLIC_DELAY_S, DEFAULT_PUBLIC_STATUSES
from trucewatch.model import (
    Evidence,
    Location,
    ObservationKind,
    Rule,
    Source,
    SourceKind,
    Status,
    Transition,
    Violation,
)
from trucewatch.store import Store

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ANALYST = Principal("a", Role.ANALYST)
LIAISON_UA = Principal("l", Role.LIAISON, party="UA")
PUBLIC = Principal("p", Role.PUBLIC)
MONITOR = Principal("m", Role.MONITOR, source_ids=("team-1",))


def _violation(vid: str, party: str, **attrs: object) -> Violation:
    return Violation(id=vid, event_id=f"e-{vid}", rule=Rule.FIRE_ACROSS_LINE, party=party, confidence=0.9,
                     time=NOW, location=Location(lat=48.0, lon=37.8, err_major_m=500, err_minor_m=300),
                     evidence=[Evidence(observation_id=f"o-{vid}", source_id="team-1", kind=ObservationKind.EXPLOSION,
                                        summary="heard by team-1"),
                               Evidence(observation_id=f"p-{vid}", source_id="posts", kind=ObservationKind.REPORT_CLAIM)],
                     explanation="team-1 heard it", attributes=dict(attrs))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "access.db")
    s.add_sources([Source(id="team-1", kind=SourceKind.MONITOR_TEAM, name="Team 1"),
                   Source(id="posts", kind=SourceKind.OPEN_SOURCE, name="Posts")])
    s.save_violations([_violation("v-ua", "UA", sensor_id="s-9"), _violation("v-ru", "RU"),
                       _violation("v-ru-victim-ua", "RU", victim_party="UA"), _violation("v-pub", "RU")])
    s.record_transition(Transition(violation_id="v-pub", from_status=Status.DETECTED, to_status=Status.VERIFIED,
                                   actor="analyst:x", at=NOW - timedelta(days=2)))
    yield s
    s.close()


def _ids(views: Views, p: Principal, now: float) -> set[str]:
    return {v["id"] for v in views.query(p, ViolationFilter(limit=100), now)}


def test_each_role_sees_its_findings(store: Store) -> None:
    views = Views.with_rule(store)
    now = time.time()
    assert _ids(views, ANALYST, now) == {"v-ua", "v-ru", "v-ru-victim-ua", "v-pub"}
    assert _ids(views, LIAISON_UA, now) == {"v-ua", "v-ru-victim-ua"}
    assert _ids(views, PUBLIC, now) == {"v-pub"}
    assert _ids(views, MONITOR, now) == set()


def test_public_waits_for_the_delay(store: Store) -> None:
    views = Views.with_rule(store)
    verified_at = (NOW - timedelta(days=2)).timestamp()
    assert _ids(views, PUBLIC, verified_at + DEFAULT_PUBLIC_DELAY_S - 1) == set()
    assert _ids(views, PUBLIC, verified_at + DEFAULT_PUBLIC_DELAY_S + 1) == {"v-pub"}
    assert views.get(PUBLIC, "v-ua") is None  # outside the view: as if it did not exist


def test_redaction_per_role(store: Store) -> None:
    views = Views.with_rule(store)
    full = views.get(ANALYST, "v-ua")
    assert full is not None and full["attributes"] == {"sensor_id": "s-9"} and full["place"]
    liaison = views.get(LIAISON_UA, "v-ua")
    assert liaison is not None and "sensor_id" not in liaison["attributes"]
    sources = {e["source_id"] for e in liaison["evidence"]}
    assert sources == {"withheld (monitor_team)", "posts"}  # a monitor team is never named outside the mission
    public = views.get(PUBLIC, "v-pub")
    assert public is not None
    assert "evidence" not in public and "explanation" not in public and "attributes" not in public
    assert public["evidence_counts"] == {"explosion": 1, "report_claim": 1}


def test_fast_path_equals_general_path(store: Store) -> None:
    import json

    views = Views.with_rule(store)
    f = ViolationFilter(bbox=(37.0, 47.0, 38.5, 49.0), limit=3)
    fast = json.loads(views.query_json(ANALYST, f))
    assert [v["id"] for v in fast] == [v["id"] for v in views.query(ANALYST, f)]
    assert fast == json.loads(json.dumps(views.query(ANALYST, f)))


def test_alerts_follow_the_view(store: Store) -> None:
    v = Views.with_rule(store).raw("v-ru-victim-ua")
    assert v is not None
    assert may_alert(ANALYST, v) and may_alert(LIAISON_UA, v)
    assert not may_alert(Principal("r", Role.LIAISON, party="RU"), {**v, "party": "UA", "attributes": {}})
    assert not may_alert(PUBLIC, v) and not may_alert(MONITOR, v)


def test_default_rule_is_the_services() -> None:
    from trucewatch.service.config import ServiceConfig

    cfg = ServiceConfig()
    assert cfg.public_statuses == DEFAULT_PUBLIC_STATUSES and cfg.public_delay_s == DEFAULT_PUBLIC_DELAY_S


def test_tokens_round_trip(store: Store) -> None:
    tokens = TokenStore(store, cache_s=0.0)
    token, rec = tokens.create("liaison", party="UA", label="ua desk")
    p = tokens.authenticate(token)
    assert (p.role, p.party, p.token_id) == (Role.LIAISON, "UA", rec["id"])
    assert [r["id"] for r in tokens.list()] == [rec["id"]] and "secret_hash" not in tokens.list()[0]
    assert tokens.revoke(rec["id"]) and not tokens.revoke(rec["id"])
