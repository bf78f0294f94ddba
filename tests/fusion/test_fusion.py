"""Association, confidence, order independence, streaming and bad input."""

from __future__ import annotations

import random

import numpy as np
import pytest

from trucewatch.fusion import FusionConfig, FusionInputError, IncrementalFusion, fuse, fuse_detailed
from trucewatch.model import Location, Observation, Source
from trucewatch.model import ObservationKind as OK
from trucewatch.pipeline import IncrementalPipeline
from trucewatch.sim.testing import T0, ob, off_line, shift, sources

S = sources()


def _strike(ag, tag: str = "", dt: float = 0.0, at: int = 460) -> list[Observation]:
    """One strike on UA's side seen four ways: two acoustic networks, a satellite, two posts."""
    ua = off_line(ag, "UA", 6000, at=at)
    ru = off_line(ag, "RU", 9000, at=at)
    return [
        ob(f"{tag}l1", "ac-net-a", OK.LAUNCH, *ru, err=500, dt=dt, pair_id=f"{tag}p1", n_sensors=5),
        ob(f"{tag}i1", "ac-net-a", OK.IMPACT, *ua, err=200, dt=dt + 20, pair_id=f"{tag}p1", n_sensors=5),
        ob(f"{tag}i2", "ac-net-b", OK.IMPACT, *shift(*ua, 60, -40), err=300, dt=dt + 21, n_sensors=4),
        ob(f"{tag}th", "sat-viirs", OK.THERMAL_ANOMALY, *shift(*ua, 150, 100), err=400, dt=dt + 3 * 3600,
           excess=True, frp=12.0),
        ob(f"{tag}r1", "tg-1", OK.REPORT_CLAIM, *shift(*ua, 3000, 1000), err=6000, dt=dt + 900, ts=1200,
           event_type="shelling", independent=True),
        ob(f"{tag}r2", "tg-2", OK.REPORT_CLAIM, *shift(*ua, 3000, 1000), err=6000, dt=dt + 1500, ts=1200,
           event_type="shelling", independent=False, origin_id=f"{tag}r1"),
    ]


def _scenario(ag, n_strikes: int = 12, seed: int = 3) -> list[Observation]:
    """Several strikes along the line plus unrelated clutter, some close in space or time."""
    rng = np.random.default_rng(seed)
    out: list[Observation] = []
    for k in range(n_strikes):
        out += _strike(ag, tag=f"s{k}-", dt=float(k * 400), at=int(100 + 60 * k))
    for k in range(25):
        lat, lon = 47.5 + rng.uniform(0, 2), 35.0 + rng.uniform(0, 3)
        kind = [OK.IMPACT, OK.THERMAL_ANOMALY, OK.REPORT_CLAIM][k % 3]
        src = {OK.IMPACT: "ac-net-b", OK.THERMAL_ANOMALY: "sat-viirs", OK.REPORT_CLAIM: f"tg-{k % 8}"}[kind]
        err = {OK.IMPACT: 300.0, OK.THERMAL_ANOMALY: 500.0, OK.REPORT_CLAIM: 8000.0}[kind]
        out.append(ob(f"c{k}", src, kind, lat, lon, err=err, dt=float(rng.uniform(0, 6000)),
                      ts=600.0 if kind == OK.REPORT_CLAIM else 1.0, event_type="other"))
    return out


def test_one_strike_seen_four_ways_is_one_event(agreement):
    evs = fuse(_strike(agreement), S)
    assert len(evs) == 1
    ev = evs[0]
    assert ev.kind == "fire" and ev.origin is not None  # the launch joined through pair_id
    # error groups: net-a's launch and net-a's impact (two signatures), net-b, the satellite, one post (+ its copy)
    assert ev.attributes["n_groups"] == 5
    # lines of evidence: net-a (both fixes), net-b, the satellite, the post (its copy adds nothing)
    assert ev.attributes["n_independent"] == 4
    assert any(x.startswith("raised:") for x in ev.explanation)
    assert any("copy an earlier post" in x for x in ev.explanation)
    # the fused impact sits between the two fixes, not at the launch or the report
    ua = off_line(agreement, "UA", 6000)
    assert abs(ev.location.lat - ua[0]) < 0.003 and ev.location.err_major_m < 300


def test_order_independence_and_deterministic_ids(agreement):
    obs = _scenario(agreement)
    ref = [e.model_dump() for e in fuse(obs, S)]
    assert len(ref) > 12
    rnd = random.Random(7)
    for _ in range(4):
        sh = obs[:]
        rnd.shuffle(sh)
        assert [e.model_dump() for e in fuse(sh, S)] == ref


def test_copies_do_not_count_as_corroboration(agreement):
    ua = off_line(agreement, "UA", 6000)
    orig = ob("p0", "tg-0", OK.REPORT_CLAIM, *ua, err=5000, ts=600, event_type="shelling", independent=True)
    copies = [ob(f"p{i}", f"tg-{i}", OK.REPORT_CLAIM, *shift(*ua, 100 * i, 0), err=5000, dt=60 * i, ts=600,
                 event_type="shelling", independent=False, origin_id="p0") for i in range(1, 7)]
    alone = fuse([orig], S)[0]
    with_copies = fuse([orig, *copies], S)
    assert len(with_copies) == 1
    assert with_copies[0].attributes["n_independent"] == 1
    assert with_copies[0].confidence == pytest.approx(alone.confidence)
    # a second, independent post does raise it
    indep = ob("q0", "tg-7", OK.REPORT_CLAIM, *shift(*ua, 500, 0), err=5000, ts=600, event_type="shelling",
               independent=True, cluster="c1")
    indep0 = orig.model_copy(update={"attributes": {**orig.attributes, "cluster": "c1"}})
    two = fuse([indep0, indep, *copies], S)
    assert len(two) == 1 and two[0].attributes["n_independent"] == 2
    assert two[0].confidence > alone.confidence


def test_same_network_fixes_share_error(agreement):
    ua = off_line(agreement, "UA", 6000)
    one = fuse([ob("a", "ac-net-a", OK.IMPACT, *ua, n_sensors=5)], S)[0]
    same = fuse([ob("a", "ac-net-a", OK.IMPACT, *ua, n_sensors=5),
                 ob("b", "ac-net-a", OK.IMPACT, *shift(*ua, 30, 0), dt=0.5, n_sensors=5)], S)
    other = fuse([ob("a", "ac-net-a", OK.IMPACT, *ua, n_sensors=5),
                  ob("b", "ac-net-b", OK.IMPACT, *shift(*ua, 30, 0), dt=0.5, n_sensors=5)], S)
    assert len(same) == 1 and len(other) == 1
    assert same[0].confidence == pytest.approx(one.confidence)
    assert other[0].confidence > one.confidence
    # two fixes of one network do not shrink the fused ellipse as if independent
    assert same[0].location.err_major_m > 0.9 * one.location.err_major_m


def test_gate_uses_each_ellipse(agreement):
    ua = off_line(agreement, "UA", 6000)
    # 3 km north of an ellipse elongated north-south (4 km x 150 m): joins; 3 km east: does not
    long_ns = ob("e", "ac-net-a", OK.IMPACT, *ua, err=4000, minor=150, angle=0.0)
    north = ob("n", "ac-net-b", OK.IMPACT, *shift(*ua, 0, 3000), err=150)
    east = ob("w", "ac-net-b", OK.IMPACT, *shift(*ua, 3000, 0), err=150)
    assert len(fuse([long_ns, north], S)) == 1
    assert len(fuse([long_ns, east], S)) == 2


def test_time_gates_and_persistence(agreement):
    ua = off_line(agreement, "UA", 6000)
    a = ob("a", "ac-net-a", OK.IMPACT, *ua)
    later = ob("b", "ac-net-b", OK.IMPACT, *ua, dt=600)  # same place 10 min later: another shell
    assert len(fuse([a, later], S)) == 2
    fire3h = ob("t", "sat-viirs", OK.THERMAL_ANOMALY, *ua, err=400, dt=3 * 3600, excess=True)
    fire20h = ob("t2", "sat-viirs", OK.THERMAL_ANOMALY, *ua, err=400, dt=20 * 3600, excess=True)
    assert len(fuse([a, fire3h], S)) == 1
    assert len(fuse([a, fire20h], S)) == 2
    before = ob("t3", "sat-viirs", OK.THERMAL_ANOMALY, *ua, err=400, dt=-3600, excess=True)
    assert len(fuse([a, before], S)) == 2  # a fire seen before the shell landed is not its effect


def test_global_assignment_picks_the_closest_event(agreement):
    ua = off_line(agreement, "UA", 6000)
    e1 = ob("x1", "ac-net-a", OK.IMPACT, *ua)
    e2 = ob("x2", "ac-net-b", OK.IMPACT, *shift(*ua, 2500, 0))
    th = ob("th", "sat-viirs", OK.THERMAL_ANOMALY, *shift(*ua, 2200, 0), err=1500, dt=1800, excess=True)
    evs = {tuple(e.observation_ids) for e in fuse([th, e2, e1], S)}
    assert evs == {("x1",), ("th", "x2")}


def test_sightings_tracks_vessels_and_interference_form_their_own_events(agreement):
    ru = off_line(agreement, "RU", 5000)
    obs = [
        ob("w1", "drone-1", OK.WEAPON_SIGHTING, *ru, err=50, weapon_class="tank", object_id="obj-1"),
        ob("w2", "drone-1", OK.WEAPON_SIGHTING, *shift(*ru, 20, 0), err=50, dt=30, weapon_class="tank", object_id="obj-1"),
        ob("w3", "drone-1", OK.WEAPON_SIGHTING, *shift(*ru, 30, 0), err=50, dt=40, weapon_class="mlrs"),
        ob("a1", "radar-1", OK.AIR_TRACK, *ru, err=300, classification="shahed", track_id="t1",
           origin={"lat": ru[0] + 0.5, "lon": ru[1] + 0.5, "err_m": 3000}),
        ob("v1", "ais-1", OK.VESSEL_INCIDENT, 45.0, 36.0, err=100, incident="barred_vessel_in_zone", mmsi="273000000"),
        ob("v2", "ais-1", OK.VESSEL_INCIDENT, 45.001, 36.0, err=100, dt=600, incident="barred_vessel_in_zone",
           mmsi="273000000"),
        ob("j1", "drone-1", OK.INTERFERENCE, *ru, err=2000, interference="gnss_jamming", flight_id="f1"),
    ]
    evs = fuse(obs, S)
    kinds = sorted((e.kind, tuple(e.observation_ids)) for e in evs)
    assert kinds == [("flight", ("a1",)), ("interference", ("j1",)), ("vessel", ("v1", "v2")),
                     ("weapon_presence", ("w1", "w2")), ("weapon_presence", ("w3",))]
    flight = next(e for e in evs if e.kind == "flight")
    assert flight.origin is not None and flight.origin.lat == pytest.approx(ru[0] + 0.5, abs=1e-6)


def _bad(oid: str, **loc) -> Observation:
    base = dict(lat=48.0, lon=37.0, err_major_m=100.0, err_minor_m=100.0, err_angle_deg=0.0, footprint=None)
    base.update(loc)
    return Observation.model_construct(id=oid, source_id="ac-net-a", kind=OK.IMPACT, time=T0, time_sigma_s=1.0,
                                       location=Location.model_construct(**base), attributes={}, payload_hash=None,
                                       signature=None, ledger_index=None)


def test_bad_input_is_named_and_the_rest_fused(agreement):
    ua = off_line(agreement, "UA", 6000)
    revoked = {**S, "old": Source(id="old", kind="acoustic_network", attributes={"revoked_at": "2026-02-01T00:00:00Z"})}
    good = ob("good", "ac-net-a", OK.IMPACT, *ua)
    obs = [good, _bad("zero", err_major_m=0.0, err_minor_m=0.0), _bad("huge", err_major_m=900_000.0),
           _bad("nan", lat=float("nan")), ob("ghost", "nobody", OK.IMPACT, *ua),
           ob("rev", "old", OK.IMPACT, *ua), ob("slow", "ac-net-a", OK.IMPACT, *ua, ts=30 * 86400)]
    res = fuse_detailed(obs, revoked)
    errs = {e.record: e for e in res.rejected}
    assert set(errs) == {"zero", "huge", "nan", "ghost", "rev", "slow"}
    assert errs["zero"].field == "location.err_major_m" and "below" in errs["zero"].message
    assert errs["huge"].field == "location.err_major_m" and "exceeds" in errs["huge"].message
    assert errs["nan"].field == "location.lat"
    assert errs["ghost"].field == "source_id" and "unknown source" in errs["ghost"].message
    assert errs["rev"].field == "source_id" and "revoked" in errs["rev"].message
    assert errs["slow"].field == "time_sigma_s"
    assert [e.observation_ids for e in res.events] == [["good"]]
    with pytest.raises(FusionInputError, match=r"zero: location\.err_major_m"):
        fuse(obs, revoked, config=FusionConfig(strict=True))


def test_incremental_equals_batch_and_late_observations_join(agreement):
    obs = _scenario(agreement, n_strikes=8)
    batch = {e.id: e.model_dump() for e in fuse(obs, S)}
    rnd = random.Random(11)
    for trial in range(2):
        sh = obs[:]
        rnd.shuffle(sh)
        inc = IncrementalFusion(S, agreement)
        for k in range(0, len(sh), 7):
            inc.add(sh[k : k + 7])
        assert {e.id: e.model_dump() for e in inc.all_events()} == batch, trial
    # a late thermal pass joins the event and is reported as a change (the pipeline judges it)
    inc = IncrementalPipeline(S, agreement)
    first = _strike(agreement)[:3]
    ch, vs = inc.add(first)
    assert len(ch) == 1 and vs and vs[0].rule.value == "fire_across_line"
    old_id = ch[0].id
    ch2, _ = inc.add([_strike(agreement)[3]])
    assert len(ch2) == 1 and "th" in ch2[0].observation_ids and inc.removed_events == [old_id]
    # a precise fix between two events does not glue unrelated ones
    assert len(inc.all_events()) == 1


def test_incremental_split_when_a_better_seed_arrives(agreement):
    ua = off_line(agreement, "UA", 6000)
    th = ob("th", "sat-viirs", OK.THERMAL_ANOMALY, *shift(*ua, 1500, 0), err=1500, dt=1800, excess=True)
    inc = IncrementalFusion(S)
    inc.add([ob("x1", "ac-net-a", OK.IMPACT, *ua), th])
    assert {tuple(e.observation_ids) for e in inc.all_events()} == {("th", "x1")}
    inc.add([ob("x2", "ac-net-b", OK.IMPACT, *shift(*ua, 1700, 0))])  # closer to the fire: it moves
    assert {tuple(e.observation_ids) for e in inc.all_events()} == {("x1",), ("th", "x2")}


def test_streaming_alert_when_a_late_observation_verifies(agreement, tmp_path):
    from trucewatch.model import Status
    from trucewatch.store import Store

    with Store.open(tmp_path / "s.sqlite") as store:
        inc = IncrementalPipeline(S, agreement, store=store)
        strike = _strike(agreement)
        inc.add(strike[1:2])  # one impact fix: a finding, not yet corroborated
        assert inc.alerts == [] and len(inc.all_violations()) == 1
        first = inc.all_violations()[0]
        assert store.get_violation(first.id).status == Status.DETECTED
        inc.add([strike[0], strike[2], strike[3]])  # the launch, a second network, the satellite
        assert len(inc.alerts) == 1 and inc.alerts[0].status == Status.VERIFIED
        assert inc.alerts[0].party == "RU" and first.id in inc.removed_violations
        old = store.get_violation(first.id)  # the superseded finding is closed, with the reason kept
        assert old.status == Status.DISMISSED
        assert inc.alerts[0].id in store.transitions(first.id)[-1].reason


def test_sensors_of_one_network_near_each_other_share_error(agreement):
    ua = off_line(agreement, "UA", 6000)
    srcs = {**S,
            "s-1": Source(id="s-1", kind="acoustic_sensor", lat=48.0, lon=37.0, attributes={"network": "n1"}),
            "s-2": Source(id="s-2", kind="acoustic_sensor", lat=48.05, lon=37.05, attributes={"network": "n1"}),
            "s-far": Source(id="s-far", kind="acoustic_sensor", lat=50.0, lon=33.0, attributes={"network": "n1"})}
    a = ob("a", "s-1", OK.EXPLOSION, *ua, err=800)
    near = fuse([a, ob("b", "s-2", OK.EXPLOSION, *shift(*ua, 40, 0), err=800, dt=0.3)], srcs)
    far = fuse([a, ob("b", "s-far", OK.EXPLOSION, *shift(*ua, 40, 0), err=800, dt=0.3)], srcs)
    assert near[0].attributes["n_independent"] == 1
    # far apart they do not share an error (confidence rises), but they are still one
    # network: one independent line of evidence for verification (docs/confidence.md)
    assert far[0].attributes["n_groups"] == 2 and far[0].confidence > near[0].confidence
    assert far[0].attributes["n_independent"] == 1


def test_empty_input_and_pixel_footprints(agreement):
    assert fuse([], S) == [] and fuse_detailed([], S).rejected == []
    ua = off_line(agreement, "UA", 6000)
    imp = ob("i", "ac-net-a", OK.IMPACT, *ua, err=50)
    lat, lon = shift(*ua, 700, 0)
    d_lat, d_lon = 0.0034, 0.005  # a ~375 m x 375 m pixel... scaled up to ~750 m to cover the impact
    fp = {"type": "Polygon", "coordinates": [[[lon - d_lon, lat - d_lat], [lon + d_lon, lat - d_lat],
                                              [lon + d_lon, lat + d_lat], [lon - d_lon, lat + d_lat],
                                              [lon - d_lon, lat - d_lat]]]}
    bare = ob("t", "sat-viirs", OK.THERMAL_ANOMALY, lat, lon, err=60, dt=1800, excess=True)
    with_fp = bare.model_copy(update={"location": bare.location.model_copy(update={"footprint": fp})})
    assert len(fuse([imp, bare], S)) == 2  # a point 700 m away with a 60 m ellipse is elsewhere
    assert len(fuse([imp, with_fp], S)) == 1  # the pixel it was seen in covers the impact


def test_reports_attach_where_the_effect_was_not_where_the_launch_was(agreement):
    launch = off_line(agreement, "RU", 20000)
    impact = off_line(agreement, "UA", 3000)
    obs = [ob("l", "ac-net-a", OK.LAUNCH, *launch, err=100, pair_id="p", n_sensors=6),
           ob("i", "ac-net-a", OK.IMPACT, *impact, err=100, dt=60, pair_id="p", n_sensors=6),
           ob("m", "monitor-1", OK.REPORT_CLAIM, *shift(*impact, 500, 400), err=2500, dt=560, ts=600,
              event_type="shelling", independent=True)]
    evs = fuse(obs, S)
    assert [e.observation_ids for e in evs] == [["i", "l", "m"]]


def test_rounds_of_one_salvo_are_one_event_without_paired_launches(agreement):
    """Impact fixes metres-precise but tens of metres apart, seconds apart: one salvo, batch and incremental."""
    ua = off_line(agreement, "UA", 6000)
    rounds = [ob(f"i{k}", "ac-net-a", OK.IMPACT, *shift(*ua, 60.0 * k, -45.0 * k), err=2.0, dt=8.0 * k, ts=0.01)
              for k in range(4)]
    assert [sorted(e.observation_ids) for e in fuse(rounds, S)] == [["i0", "i1", "i2", "i3"]]
    inc = IncrementalFusion(S, agreement)
    for r in rounds:
        inc.add([r])
    assert [sorted(e.observation_ids) for e in inc.all_events()] == [["i0", "i1", "i2", "i3"]]
    # beyond the salvo's spread, later than the fire mission, or another network: events of their own
    far = ob("far", "ac-net-a", OK.IMPACT, *shift(*ua, 2000.0, 0.0), err=2.0, dt=2.0, ts=0.01)
    late = ob("late", "ac-net-a", OK.IMPACT, *shift(*ua, 20.0, 0.0), err=2.0, dt=600.0, ts=0.01)
    other = ob("other", "ac-net-b", OK.IMPACT, *shift(*ua, 0.0, 200.0), err=2.0, dt=5.0, ts=0.01)
    got = sorted(sorted(e.observation_ids) for e in fuse([*rounds, far, late, other], S))
    assert got == [["far"], ["i0", "i1", "i2", "i3"], ["late"], ["other"]]
    assert len(fuse(rounds, S, config=FusionConfig(salvo_spread_m=0.0))) > 1
