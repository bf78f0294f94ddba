"""Every workflow transition, allowed and refused; thresholds from configuration; the audit trail."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

import pytest

from trucewatch.adjudication.workflow import (
    ALLOWED,
    WorkflowConfig,
    WorkflowError,
    auto_advance,
    contest,
    history,
    transition,
)
from trucewatch.fusion import learn_reliability
from trucewatch.model import Evidence, Location, ObservationKind, Rule, Source, SourceKind, Status, Violation
from trucewatch.store import Store


def _viol(vid: str = "v1", conf: float = 0.95, n_ind: int = 2, sources=("s1", "s2")) -> Violation:
    return Violation(id=vid, event_id=f"ev-{vid}", rule=Rule.FIRE_ACROSS_LINE, party="RU", confidence=conf,
                     time=datetime(2026, 3, 1, tzinfo=UTC), location=Location(lat=48.0, lon=37.5),
                     evidence=[Evidence(observation_id=f"o-{s}", source_id=s, kind=ObservationKind.IMPACT)
                               for s in sources],
                     attributes={"n_independent": n_ind})


@pytest.fixture()
def store(tmp_path):
    st = Store.open(tmp_path / "wf.sqlite")
    st.add_sources([Source(id="s1", kind=SourceKind.ACOUSTIC_NETWORK, reliability=0.8),
                    Source(id="s2", kind=SourceKind.SATELLITE, reliability=0.7),
                    Source(id="bad", kind=SourceKind.OPEN_SOURCE,
                           attributes={"revoked_at": "2026-02-01T00:00:00Z"})])
    yield st
    st.close()


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory):
    """One database for the 49 transition cases (each uses its own finding)."""
    st = Store.open(tmp_path_factory.mktemp("wf") / "wf.sqlite")
    yield st
    st.close()


def _path_to(target: Status) -> list[Status]:
    """Shortest chain of allowed steps from detected to ``target``."""
    prev: dict[Status, Status | None] = {Status.DETECTED: None}
    q = deque([Status.DETECTED])
    while q:
        s = q.popleft()
        for t in sorted(ALLOWED[s], key=lambda x: x.value):
            if t not in prev:
                prev[t] = s
                q.append(t)
    out = []
    s: Status | None = target
    while s is not None and s != Status.DETECTED:
        out.append(s)
        s = prev[s]
    return out[::-1]


ALL_PAIRS = [(a, b) for a in Status for b in Status]


@pytest.mark.parametrize(("frm", "to"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_every_transition_allowed_or_refused(shared_store, frm, to):
    store = shared_store
    vid = f"v-{frm.value}-{to.value}"
    store.save_violations([_viol(vid)])
    for step in _path_to(frm):
        transition(store, vid, step, "analyst:a", f"to {step.value}", ["doc-1"])
    assert store.get_violation(vid).status == frm
    before = len(store.transitions(vid))
    if to in ALLOWED[frm]:
        tr = transition(store, vid, to, "analyst:b", "because", ["obs-9"])
        assert tr.from_status == frm and tr.to_status == to
        assert store.get_violation(vid).status == to
        assert len(store.transitions(vid)) == before + 1
    else:
        with pytest.raises(WorkflowError, match=f"{vid}: to_status: {frm.value} -> {to.value} is not allowed"):
            transition(store, vid, to, "analyst:b", "because", ["obs-9"])
        assert store.get_violation(vid).status == frm
        assert len(store.transitions(vid)) == before


def test_every_state_is_reachable_and_the_table_is_explicit():
    for s in Status:
        assert s in ALLOWED
        if s != Status.DETECTED:
            assert _path_to(s)[-1] == s
    assert ALLOWED[Status.DISMISSED] == frozenset()


def test_refusals_name_the_problem(store):
    with pytest.raises(WorkflowError, match="ghost: violation_id: no such finding"):
        contest(store, "ghost", "RU", "not us", ["photo-1"])
    with pytest.raises(WorkflowError, match="no such finding"):
        history(store, "ghost")
    store.save_violations([_viol()])
    with pytest.raises(WorkflowError, match="to_status: unknown state 'approved'"):
        transition(store, "v1", "approved", "a", "r")
    with pytest.raises(WorkflowError, match="actor"):
        transition(store, "v1", Status.CORROBORATED, " ", "r")
    with pytest.raises(WorkflowError, match="reason"):
        transition(store, "v1", Status.CORROBORATED, "a", "")
    with pytest.raises(WorkflowError, match="detected -> contested is not allowed"):
        contest(store, "v1", "RU", "not us")  # nothing to reply to before verification
    transition(store, "v1", Status.VERIFIED, "analyst:a", "ok")
    with pytest.raises(WorkflowError, match="reason"):
        contest(store, "v1", "RU", " ")  # a contest needs a reason


def test_a_verified_finding_may_be_contested_without_counter_evidence(store):
    """Right of reply (issue 19): verified -> contested is allowed; counter-evidence is optional."""
    store.save_violations([_viol()])
    transition(store, "v1", Status.VERIFIED, "analyst:a", "two networks")
    tr = contest(store, "v1", "RU", "our battery was elsewhere")
    assert tr.from_status == Status.VERIFIED and tr.to_status == Status.CONTESTED and tr.counter_evidence == []
    assert store.get_violation("v1").status == Status.CONTESTED


def test_contest_and_outcome_are_kept_in_the_audit_trail(store):
    store.save_violations([_viol()])
    transition(store, "v1", Status.VERIFIED, "analyst:a", "two independent networks")
    transition(store, "v1", Status.NOTIFIED, "board", "sent to both parties")
    contest(store, "v1", "RU", "our battery was elsewhere", ["obs-ru-1", "https://example.org/statement"])
    transition(store, "v1", Status.CONFIRMED, "board", "counter-evidence does not place the launch elsewhere")
    trail = history(store, "v1")
    assert [t.to_status for t in trail] == [Status.DETECTED, Status.VERIFIED, Status.NOTIFIED, Status.CONTESTED,
                                            Status.CONFIRMED]
    c = trail[3]
    assert c.actor == "party:RU" and c.counter_evidence == ["obs-ru-1", "https://example.org/statement"]
    assert c.from_status == Status.NOTIFIED
    # re-adjudication refreshes evidence but never rewinds the status or the trail
    store.save_violations([_viol(conf=0.5)])
    assert store.get_violation("v1").status == Status.CONFIRMED and len(history(store, "v1")) == 5


def test_auto_advance_uses_configured_thresholds(store, tmp_path):
    vs = [_viol("strong", 0.95, 2), _viol("medium", 0.8, 2), _viol("single", 0.95, 1, ("s1",))]
    taken = auto_advance(store, vs, WorkflowConfig())
    assert {v: store.get_violation(v).status for v in ("strong", "medium", "single")} == {
        "strong": Status.VERIFIED, "medium": Status.CORROBORATED, "single": Status.DETECTED}
    assert [t.violation_id for t in taken if t.to_status == Status.VERIFIED] == ["strong"]
    assert all(t.actor == "trucewatch:auto" and "confidence" in t.reason for t in taken)
    # a looser configuration from YAML verifies the single-source finding too
    cfg_file = tmp_path / "wf.yaml"
    cfg_file.write_text("workflow:\n  corroborate_min_independent: 1\n  verify_min_independent: 1\n"
                        "  verify_min_confidence: 0.6\n")
    taken = auto_advance(store, vs, WorkflowConfig.from_yaml(cfg_file))
    assert store.get_violation("single").status == Status.VERIFIED
    assert store.get_violation("medium").status == Status.VERIFIED
    assert auto_advance(store, vs, WorkflowConfig.from_yaml(cfg_file)) == []  # idempotent
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow:\n  verify_min_confidnce: 0.6\n")
    with pytest.raises(ValueError, match="verify_min_confidnce"):
        WorkflowConfig.from_yaml(bad)


def test_evidence_from_a_revoked_source_is_never_verified(store):
    v = _viol("rv", 0.99, 3, ("s1", "s2", "bad"))
    auto_advance(store, [v])
    assert store.get_violation("rv").status == Status.CORROBORATED
    with pytest.raises(WorkflowError, match="revoked source"):
        transition(store, "rv", Status.VERIFIED, "analyst:a", "looks right")
    transition(store, "rv", Status.DISMISSED, "analyst:a", "evidence from a revoked key")


def test_learn_reliability_from_findings(store):
    store.save_violations([_viol("c1", sources=("s1",)), _viol("c2", sources=("s1", "s2")),
                           _viol("d1", sources=("s2",))])
    for vid, final in (("c1", Status.CONFIRMED), ("c2", Status.CONFIRMED), ("d1", Status.DISMISSED)):
        for step in _path_to(final):
            transition(store, vid, step, "board", "ok", ["x"])
    out = learn_reliability(store)
    assert out["s1"]["after"] > 0.8 and out["s1"]["confirmed"] == 2
    assert out["s2"]["confirmed"] == 1 and out["s2"]["dismissed"] == 1
    assert store.get_source("s1").reliability == pytest.approx(out["s1"]["after"])
    again = learn_reliability(store)  # the registered prior is kept: learning twice does not compound
    assert again["s1"]["after"] == pytest.approx(out["s1"]["after"])
