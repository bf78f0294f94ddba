"""The case state machine and its deadlines (pure, with a fake clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trucewatch.mechanism.core import (
    ACTIONS,
    NEXT,
    Case,
    CaseState,
    FakeClock,
    MechanismConfig,
    MechanismError,
    advance,
    deadlines,
    next_cutoff,
    overdue,
)

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC).timestamp()
CHAIN = ["acknowledge", "assess", "task", "investigate", "decide", "publish"]


def run(case: Case, actions: list[str], clock: FakeClock, step_s: float = 600) -> Case:
    for a in actions:
        clock.advance(step_s)
        s = advance(case, a, "analyst:x", a, clock(), decision="substantiated" if a == "decide" else None)
        case.steps.append(s)
        case.state = CaseState(s.to_state)
    return case


def test_the_only_path_is_one_step_at_a_time() -> None:
    assert [ACTIONS[a] for a in CHAIN] == list(CaseState)[1:]
    for i, state in enumerate(CaseState):
        assert NEXT[state] == ((CHAIN[i],) if i < len(CHAIN) else ())


@pytest.mark.parametrize("state", list(CaseState))
@pytest.mark.parametrize("action", CHAIN)
def test_every_skip_or_repeat_is_refused_with_the_allowed_next_steps(state: CaseState, action: str) -> None:
    case = Case(id="C1", state=state, received_at=T0)
    kw = {"decision": "unsubstantiated"} if action == "decide" else {}
    if NEXT[state] == (action,):
        s = advance(case, action, "analyst:x", "ok", T0 + 1, **kw)
        assert s.from_state == state.value and s.to_state == ACTIONS[action].value
    else:
        with pytest.raises(MechanismError) as e:
            advance(case, action, "analyst:x", "ok", T0 + 1, **kw)
        assert e.value.status == 409 and e.value.extra["allowed_next"] == list(NEXT[state])


def test_decisions_and_actors_are_checked() -> None:
    case = Case(id="C1", state=CaseState.INVESTIGATED, received_at=T0)
    with pytest.raises(MechanismError, match="decision"):
        advance(case, "decide", "analyst:x", "", T0)
    with pytest.raises(MechanismError, match="decision"):
        advance(case, "decide", "analyst:x", "", T0, decision="guilty")
    assert advance(case, "decide", "a", "", T0, decision="could_not_be_attributed").data["decision"] == \
        "could_not_be_attributed"
    with pytest.raises(MechanismError, match="actor"):
        advance(case, "decide", " ", "", T0, decision="substantiated")
    with pytest.raises(MechanismError, match="only the decide step"):
        advance(Case(id="C2", state=CaseState.RECEIVED, received_at=T0), "acknowledge", "a", "", T0,
                decision="substantiated")
    with pytest.raises(MechanismError, match="unknown action"):
        advance(case, "approve", "a", "", T0)


def test_deadlines_run_from_the_step_before_and_flag_overdue() -> None:
    cfg = MechanismConfig()
    clock = FakeClock(T0)
    case = Case(id="C1", state=CaseState.RECEIVED, received_at=T0, party_request=True)
    d = {x["step"]: x for x in deadlines(case, cfg, clock())}
    assert d["acknowledge"]["due"] == T0 + 3600 and not d["acknowledge"]["provisional"]
    assert d["assess"]["due"] == T0 + 3600 + 86400 and d["assess"]["provisional"]
    assert d["investigate"]["due"] == T0 + 48 * 3600  # a party's request
    assert d["publish"]["due"] is None
    clock.advance(3601)
    assert overdue(case, cfg, clock()) == ["acknowledge"]
    run(case, ["acknowledge"], clock, step_s=0)  # an hour late
    d = {x["step"]: x for x in deadlines(case, cfg, clock())}
    assert d["acknowledge"]["late"] and not d["acknowledge"]["overdue"]
    assert d["assess"]["due"] == clock() + 86400 and not d["assess"]["provisional"]
    assert overdue(case, cfg, clock()) == []
    run(case, ["assess", "task", "investigate", "decide"], clock)
    d = {x["step"]: x for x in deadlines(case, cfg, clock())}
    assert d["publish"]["due"] == next_cutoff(clock(), "19:30")
    clock.t = d["publish"]["due"] + 1
    assert overdue(case, cfg, clock()) == ["publish"]
    run(case, ["publish"], clock)
    assert overdue(case, cfg, clock()) == [] and case.state == CaseState.PUBLISHED


def test_not_a_partys_request_has_no_48h_clock_and_config_changes_deadlines() -> None:
    cfg = MechanismConfig(acknowledge_s=600, daily_cutoff="18:00")
    case = Case(id="C1", state=CaseState.RECEIVED, received_at=T0)
    d = {x["step"]: x for x in deadlines(case, cfg, T0)}
    assert d["acknowledge"]["due"] == T0 + 600 and d["investigate"]["due"] is None
    assert next_cutoff(T0, "18:00") == datetime(2026, 12, 1, 18, 0, tzinfo=UTC).timestamp()
    assert next_cutoff(datetime(2026, 12, 1, 19, 0, tzinfo=UTC).timestamp(), "18:00") == \
        datetime(2026, 12, 2, 18, 0, tzinfo=UTC).timestamp()
    with pytest.raises(ValueError):
        MechanismConfig(daily_cutoff="25:00")
    with pytest.raises(ValueError):
        MechanismConfig(bogus=1)
