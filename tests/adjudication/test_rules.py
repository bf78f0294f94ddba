"""Rules of the sample agreement on fused events: attribution only beyond uncertainty."""

from __future__ import annotations

import copy
from datetime import timedelta

import numpy as np
import pytest

from trucewatch.adjudication import AdjudicationInputError, adjudicate
from trucewatch.fusion import fuse
from trucewatch.model import UNDETERMINED, Observation, Rule
from trucewatch.model import ObservationKind as OK
from trucewatch.sim.testing import ob, off_line, shift, sources

S = sources()


def judge(ag, obs: list[Observation]):
    events = fuse(obs, S)
    return events, adjudicate(events, {o.id: o for o in obs}, ag)


def fire(ag, origin_side="RU", origin_d=9000.0, origin_err=500.0, impact_side="UA", impact_d=6000.0,
         impact_err=200.0, tag=""):
    o = off_line(ag, origin_side, origin_d)
    i = off_line(ag, impact_side, impact_d)
    return [ob(f"{tag}l", "ac-net-a", OK.LAUNCH, *o, err=origin_err, pair_id=f"{tag}p", n_sensors=6),
            ob(f"{tag}i", "ac-net-a", OK.IMPACT, *i, err=impact_err, dt=25, pair_id=f"{tag}p", n_sensors=6),
            ob(f"{tag}i2", "ac-net-b", OK.IMPACT, *shift(*i, 40, 0), err=impact_err, dt=25.5, n_sensors=6)]


def test_fire_across_line_attributed_to_the_origin_side(agreement):
    events, vs = judge(agreement, fire(agreement))
    assert len(vs) == 1
    v = vs[0]
    assert v.rule == Rule.FIRE_ACROSS_LINE and v.party == "RU"
    assert v.origin is not None and v.event_id == events[0].id
    assert {e.observation_id for e in v.evidence} == {"l", "i", "i2"}
    assert "Attributed to RU" in v.explanation and "i2" in v.explanation
    # and the mirror image
    _, vs2 = judge(agreement, fire(agreement, origin_side="UA", impact_side="RU"))
    assert [v.party for v in vs2] == ["UA"]


def test_ellipse_straddling_the_line_is_undetermined(agreement):
    # the launch is 1.5 km from the line on RU's side but its 95 % ellipse is 4 km
    _, vs = judge(agreement, fire(agreement, origin_d=1500.0, origin_err=4000.0))
    assert len(vs) == 1 and vs[0].party == UNDETERMINED
    assert "reaches the line" in vs[0].explanation
    # same place with a tight ellipse: attributed
    _, vs = judge(agreement, fire(agreement, origin_d=1500.0, origin_err=300.0))
    assert vs[0].party == "RU"


def test_fire_within_one_side_is_not_across_the_line(agreement):
    _, vs = judge(agreement, fire(agreement, origin_side="RU", impact_side="RU", origin_d=15000, impact_d=5000))
    assert vs == []


def test_impact_without_origin_near_the_line_is_undetermined(agreement):
    i = off_line(agreement, "UA", 6000)
    _, vs = judge(agreement, [ob("i", "ac-net-a", OK.IMPACT, *i, n_sensors=6)])
    assert [(v.rule, v.party) for v in vs] == [(Rule.FIRE_ACROSS_LINE, UNDETERMINED)]
    assert "no evidence locates where the fire came from" in vs[0].explanation
    far = ob("f", "ac-net-a", OK.IMPACT, 50.45, 30.52, n_sensors=6)  # Kyiv, far from the line
    _, vs = judge(agreement, [far])
    assert vs == []


def test_contradictory_impacts_on_both_sides_are_undetermined(agreement):
    # two networks pair the same launch with impacts located on opposite sides, each beyond its uncertainty
    obs = [ob("l", "ac-net-a", OK.LAUNCH, *off_line(agreement, "RU", 9000), err=500, pair_id="p", n_sensors=6),
           ob("i", "ac-net-a", OK.IMPACT, *off_line(agreement, "UA", 1500), err=300, dt=25, pair_id="p", n_sensors=6),
           ob("i2", "ac-net-b", OK.IMPACT, *off_line(agreement, "RU", 1500), err=300, dt=25.5, pair_id="p",
              n_sensors=6)]
    events, vs = judge(agreement, obs)
    assert len(events) == 1
    assert vs and all(v.party == UNDETERMINED for v in vs)
    assert "contradictory evidence: impacts" in " ".join(v.explanation for v in vs)


def test_strike_on_protected_object(agreement):
    znpp = (47.5119, 34.5858)
    src = off_line(agreement, "UA", 12000, at=150)
    obs = [ob("l", "ac-net-a", OK.LAUNCH, *src, err=400, pair_id="z", n_sensors=6),
           ob("i", "ac-net-a", OK.IMPACT, *shift(*znpp, 300, 200), err=200, dt=40, pair_id="z", n_sensors=6),
           ob("t", "sat-viirs", OK.THERMAL_ANOMALY, *shift(*znpp, 250, 150), err=400, dt=5000, excess=True)]
    _, vs = judge(agreement, obs)
    strikes = [v for v in vs if v.rule == Rule.STRIKE_ON_PROTECTED_OBJECT]
    assert len(strikes) == 1
    assert strikes[0].attributes["protected_object"] == "znpp"
    assert strikes[0].party == agreement.side_of(np.array([src[0]]), np.array([src[1]]))[0]
    assert "Zaporizhzhia NPP" in strikes[0].explanation


def test_heavy_weapon_in_its_withdrawal_zone(agreement):
    near = off_line(agreement, "RU", 8000)
    mid = off_line(agreement, "RU", 30000)
    obs = [ob("tank-near", "drone-1", OK.WEAPON_SIGHTING, *near, err=50, weapon_class="tank", object_id="o1"),
           ob("tank-mid", "drone-1", OK.WEAPON_SIGHTING, *mid, err=50, weapon_class="tank", object_id="o2"),
           ob("mlrs-mid", "drone-1", OK.WEAPON_SIGHTING, *shift(*mid, 500, 0), err=50, weapon_class="mlrs",
              object_id="o3"),
           ob("alien", "drone-1", OK.WEAPON_SIGHTING, *near, err=50, dt=99999, weapon_class="bicycle")]
    _, vs = judge(agreement, obs)
    got = sorted((v.attributes["sighting_class"], v.party) for v in vs if v.rule == Rule.HEAVY_WEAPON_IN_ZONE)
    assert got == [("mlrs", "RU"), ("tank", "RU")]  # the tank 30 km out is outside its 15 km zone


def test_flight_across_line_and_launch_from_territory(agreement):
    ru = off_line(agreement, "RU", 60000)
    ua = off_line(agreement, "UA", 80000)
    path = [[ru[1], ru[0], 0], [(ru[1] + ua[1]) / 2, (ru[0] + ua[0]) / 2, 600], [ua[1], ua[0], 1200]]
    trk = ob("trk", "radar-1", OK.AIR_TRACK, *ua, err=300, classification="shahed", track_id="t1", path=path,
             origin={"lat": ru[0], "lon": ru[1], "err_m": 2000}, intercepted=True)
    _, vs = judge(agreement, [trk])
    assert sorted((v.rule.value, v.party) for v in vs) == [("flight_across_line", "RU"), ("launch_from_territory", "RU")]
    civil = trk.model_copy(update={"id": "civ", "attributes": {**trk.attributes, "classification": "unknown",
                                                               "track_id": "t2"}})
    _, vs = judge(agreement, [civil])
    assert vs == []


def test_interference_side_from_the_affected_area(agreement):
    ru = off_line(agreement, "RU", 40000)
    lat, lon = ru

    def square(la, lo, d):
        return {"type": "Polygon", "coordinates": [[[lo - d, la - d], [lo + d, la - d], [lo + d, la + d],
                                                    [lo - d, la + d], [lo - d, la - d]]]}

    j1 = ob("j1", "drone-1", OK.INTERFERENCE, lat, lon, err=2000, interference="gnss_jamming",
            affected_area=square(lat, lon, 0.05))
    near = off_line(agreement, "RU", 2000, at=300)
    j2 = ob("j2", "drone-1", OK.INTERFERENCE, *near, err=2000, dt=50000, interference="gnss_jamming",
            affected_area=square(near[0], near[1], 0.3))
    _, vs = judge(agreement, [j1, j2])
    got = {v.evidence[0].observation_id: v.party for v in vs}
    assert got == {"j1": "RU", "j2": UNDETERMINED}


def test_only_rules_present_and_only_while_active(agreement):
    only_fire = copy.copy(agreement)
    only_fire.rules = [r for r in agreement.rules if r.kind == Rule.HEAVY_WEAPON_IN_ZONE]
    events = fuse(fire(agreement), S)
    obs = {o.id: o for o in fire(agreement)}
    assert adjudicate(events, obs, only_fire) == []
    early = [e.model_copy(update={"time": agreement.start - timedelta(days=1)}) for e in events]
    assert adjudicate(early, obs, agreement) == []
    assert len(adjudicate(events, obs, agreement)) == 1


def test_naval_rule_when_the_agreement_has_it(agreement):
    sea = copy.copy(agreement)
    rule = agreement.rules[0].model_copy(update={"id": "R7", "kind": Rule.NAVAL_VESSEL_IN_ZONE})
    sea.rules = [*agreement.rules, rule]
    v = ob("v1", "ais-1", OK.VESSEL_INCIDENT, 44.9, 36.2, err=100, incident="barred_vessel_in_zone",
           mmsi="273000000", flag="RU")
    g = ob("v2", "ais-1", OK.VESSEL_INCIDENT, 44.5, 36.2, err=100, dt=90000, incident="ais_gap", mmsi="273000001")
    events = fuse([v, g], S)
    vs = adjudicate(events, {"v1": v, "v2": g}, sea)
    assert [(x.rule, x.party) for x in vs] == [(Rule.NAVAL_VESSEL_IN_ZONE, "RU")]
    assert adjudicate(events, {"v1": v, "v2": g}, agreement) == []


def test_ids_are_deterministic_and_evidence_keeps_ledger_indexes(agreement):
    obs = fire(agreement)
    obs[1] = obs[1].model_copy(update={"ledger_index": 41})
    a = judge(agreement, obs)[1]
    b = judge(agreement, list(reversed(obs)))[1]
    assert [v.model_dump() for v in a] == [v.model_dump() for v in b]
    ev = {e.observation_id: e for e in a[0].evidence}
    assert ev["i"].ledger_index == 41 and ev["l"].ledger_index is None
    assert "ledger #41" in a[0].explanation


def test_missing_observation_is_a_named_error(agreement):
    events = fuse(fire(agreement), S)
    with pytest.raises(AdjudicationInputError, match=r"observation_ids: i2 is not among"):
        adjudicate(events, {o.id: o for o in fire(agreement) if o.id != "i2"}, agreement)


def test_tentative_sighting_is_not_a_weapon_in_zone(agreement):
    """A drone's tentative detection (docs/drone.md) never makes a violation on its own."""
    from datetime import UTC, datetime

    import numpy as np

    from trucewatch.adjudication import adjudicate
    from trucewatch.fusion import fuse
    from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind

    # 5 km from the line on UA's side: inside every withdrawal zone
    lat, lon = 48.55, 37.75
    for d in np.linspace(0.02, 0.3, 15):
        if agreement.side_of(np.array([lat]), np.array([lon - d]))[0] == "UA" and 3000 < agreement.distance_to_line_m(
                np.array([lat]), np.array([lon - d]))[0] < 10000:
            lon = lon - d
            break
    src = {"drone-1": Source(id="drone-1", kind=SourceKind.DRONE)}

    def sighting(tentative: bool) -> Observation:
        return Observation(id=f"s-{tentative}", source_id="drone-1", kind=ObservationKind.WEAPON_SIGHTING,
                           time=datetime(2026, 3, 15, 10, tzinfo=UTC), location=Location(lat=lat, lon=lon, err_major_m=20, err_minor_m=20),
                           attributes={"weapon_class": "tank", "count": 1, "tentative": tentative})

    for tentative, expected in ((False, 1), (True, 0)):
        obs = [sighting(tentative)]
        events = fuse(obs, src, agreement)
        vs = [v for v in adjudicate(events, {o.id: o for o in obs}, agreement) if v.rule.value == "heavy_weapon_in_zone"]
        assert len(vs) == expected, (tentative, vs)


def test_reports_of_a_fire_that_claim_no_attack_are_not_fire_across_the_line(agreement):
    i = off_line(agreement, "UA", 6000)
    fire_reports = [ob(f"r{k}", f"tg-{k}", OK.REPORT_CLAIM, *i, err=2000, dt=60.0 * k, ts=900,
                       event_type="facility_fire", cluster="c1") for k in range(3)]
    events, vs = judge(agreement, fire_reports)
    assert len(events) == 1 and vs == []
    # one of them says it was shelled: now it is possible fire across the line, undetermined
    fire_reports[1] = fire_reports[1].model_copy(update={"attributes": {"event_type": "shelling", "cluster": "c1"}})
    _, vs = judge(agreement, fire_reports)
    assert [(v.rule, v.party) for v in vs] == [(Rule.FIRE_ACROSS_LINE, UNDETERMINED)]


def test_heat_seen_where_reports_tell_of_a_fire_is_not_fire_across_the_line(agreement):
    """A field or warehouse fire seen from space and reported as a fire: no one claims anyone fired."""
    i = off_line(agreement, "UA", 6000)
    heat = [ob(f"th{k}", "sat-viirs", OK.THERMAL_ANOMALY, *shift(*i, 100.0 * k, 0), err=400, dt=600.0 + k,
               excess=True, frp=10.0) for k in range(2)]
    reports = [ob(f"r{k}", f"tg-{k}", OK.REPORT_CLAIM, *i, err=2000, dt=60.0 * k, ts=900,
                  event_type="facility_fire", cluster="c1") for k in range(2)]
    events, vs = judge(agreement, heat + reports)
    assert len(events) == 1 and [v for v in vs if v.rule == Rule.FIRE_ACROSS_LINE] == []
    # a report that says it was shelled makes it possible fire across the line again
    reports[1] = reports[1].model_copy(update={"attributes": {"event_type": "shelling", "cluster": "c1"}})
    _, vs = judge(agreement, heat + reports)
    assert [(v.rule, v.party) for v in vs if v.rule == Rule.FIRE_ACROSS_LINE] == [
        (Rule.FIRE_ACROSS_LINE, UNDETERMINED)]


def test_rounds_of_one_fire_mission_are_one_finding(agreement):
    o = off_line(agreement, "RU", 9000)
    i = off_line(agreement, "UA", 6000)
    obs = []
    for k in range(4):  # four rounds, eight seconds apart, each located launch and impact
        obs += [ob(f"l{k}", "ac-net-a", OK.LAUNCH, *shift(*o, 30 * k, 0), err=400, dt=8.0 * k, pair_id=f"p{k}",
                   n_sensors=6),
                ob(f"i{k}", "ac-net-a", OK.IMPACT, *shift(*i, 0, 80 * k), err=200, dt=8.0 * k + 25, pair_id=f"p{k}",
                   n_sensors=6)]
    events, vs = judge(agreement, obs)
    assert len(events) == 1 and [v.party for v in vs] == ["RU"]
    assert len(vs[0].evidence) == 8
    # the same battery firing again a quarter of an hour later is a second fire mission
    late = [x.model_copy(update={"id": x.id + "b", "time": x.time + timedelta(minutes=15),
                                 "attributes": {**x.attributes, "pair_id": x.attributes["pair_id"] + "b"}})
            for x in obs]
    events, vs = judge(agreement, obs + late)
    assert len(events) == 2 and len(vs) == 2


def test_vehicles_of_one_battery_are_one_finding(agreement):
    pos = off_line(agreement, "RU", 8000)
    battery = [ob(f"m{k}", "drone-1", OK.WEAPON_SIGHTING, *shift(*pos, 150 * k, 40 * k), err=10, dt=20.0 * k,
                  weapon_class="mlrs", object_id=f"veh{k}") for k in range(3)]
    events, vs = judge(agreement, battery)
    assert len(events) == 1 and [(v.rule, v.party) for v in vs] == [(Rule.HEAVY_WEAPON_IN_ZONE, "RU")]
    assert not any("disagree" in x for x in events[0].explanation)  # a battery is spread out, not inconsistent
    # another battery 3 km away, or a tank in the same field, is another finding
    other = [ob("far", "drone-1", OK.WEAPON_SIGHTING, *shift(*pos, 3000, 0), err=10, weapon_class="mlrs",
                object_id="veh9"),
             ob("tank", "drone-1", OK.WEAPON_SIGHTING, *shift(*pos, 100, 0), err=10, weapon_class="tank",
                object_id="veh8")]
    events, vs = judge(agreement, battery + other)
    assert len(events) == 3 and len(vs) == 3
