"""Probabilities that an uncertain position meets a rule's geometry, against closed
forms and brute-force Monte Carlo; and the rules that use them."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.special import ndtr

from trucewatch.adjudication import adjudicate
from trucewatch.adjudication.rules import AdjudicationConfig
from trucewatch.adjudication.uncertain import (
    p_in_geometry,
    p_within_disc,
    p_within_disc_ellipse,
    p_within_distance,
    sample_en,
    unit_samples,
)
from trucewatch.fusion import fuse
from trucewatch.geo import CHI2_95_2D, ellipse_cov
from trucewatch.model import ObservationKind as OK
from trucewatch.model import Rule
from trucewatch.sim.testing import ob, shift, sources

S = sources()


def brute_disc(d: float, r: float, major: float, minor: float, az: float, n: int = 400_000) -> float:
    """P(|X| <= r), X ~ the 95 % ellipse centred (d, 0) east of the disc's centre."""
    rng = np.random.default_rng(5)
    c = ellipse_cov(major, minor, az)
    x = rng.multivariate_normal([d, 0.0], c, n)
    return float(np.mean(np.hypot(x[:, 0], x[:, 1]) <= r))


@pytest.mark.parametrize(("d", "r", "sigma"), [(0.0, 1.0, 1.0), (3.0, 2.0, 1.5), (48_700.0, 2000.0, 45_000.0),
                                               (500.0, 2000.0, 200.0), (2500.0, 2000.0, 400.0)])
def test_disc_closed_form_matches_brute_force(d, r, sigma):
    p = float(p_within_disc(np.array([d]), np.array([r]), np.array([sigma]))[0])
    assert p == pytest.approx(brute_disc(d, r, sigma * CHI2_95_2D, sigma * CHI2_95_2D, 0.0), abs=0.004)
    if d == 0.0:  # Rayleigh: 1 - exp(-r^2 / 2 sigma^2)
        assert p == pytest.approx(1 - np.exp(-(r**2) / (2 * sigma**2)), rel=1e-9)


def test_disc_far_claim_is_improbable():
    # the example: a claim +/-110 km, 48.7 km from a 2 km protected radius
    p = p_within_disc(np.array([48_700.0]), np.array([2000.0]), np.array([110_000.0 / CHI2_95_2D]))[0]
    assert p < 0.005
    # an exact position decides by the point
    assert list(p_within_disc(np.array([1.0, 3.0]), np.array([2.0, 2.0]), np.array([0.0, 0.0]))) == [1.0, 0.0]


@pytest.mark.parametrize(("d", "major", "minor", "az"), [(1500.0, 3000.0, 800.0, 0.0), (1500.0, 3000.0, 800.0, 90.0),
                                                         (2500.0, 2000.0, 500.0, 45.0), (0.0, 5000.0, 1000.0, 30.0)])
def test_elliptical_disc_matches_brute_force(d, major, minor, az):
    p = float(p_within_disc_ellipse(np.array([d]), np.array([0.0]), np.array([2000.0]), np.array([major]),
                                    np.array([minor]), np.array([az]))[0])
    assert p == pytest.approx(brute_disc(d, 2000.0, major, minor, az), abs=0.03)


def test_samples_have_the_ellipse_covariance():
    z = unit_samples()
    assert abs(z.mean()) < 0.02 and np.std(z, axis=0) == pytest.approx([1.0, 1.0], abs=0.03)
    pe, pn = sample_en(np.array([0.0]), np.array([0.0]), np.array([3000.0]), np.array([1000.0]), np.array([30.0]))
    c = np.cov(np.vstack([pe[0], pn[0]]))
    ref = ellipse_cov(3000.0, 1000.0, 30.0)
    assert c == pytest.approx(ref, rel=0.08, abs=0.02 * ref.max())


def test_mass_on_one_side_of_a_straight_boundary_is_a_normal_cdf():
    half = shapely.box(0.0, -1e6, 1e6, 1e6)  # east of x = 0
    e = np.array([-3000.0, -500.0, 0.0, 800.0, 4000.0, 50_000.0])
    major = np.array([4000.0, 2000.0, 3000.0, 2000.0, 6000.0, 1000.0])
    minor = major * np.array([1.0, 0.5, 1.0, 0.3, 1.0, 1.0])
    az = np.array([0.0, 90.0, 0.0, 60.0, 0.0, 0.0])
    p = p_in_geometry(half, e, np.zeros(6), major, minor, az)
    cov = ellipse_cov(major, minor, az)
    sigma_e = np.sqrt(cov[:, 0, 0])
    assert p == pytest.approx(ndtr(e / sigma_e), abs=0.03)
    assert p[-1] == 1.0  # far from the boundary: decided without sampling


def test_within_distance_of_a_straight_line_closed_form():
    line = shapely.LineString([(0.0, -1e6), (0.0, 1e6)])

    def dist(x, y):
        return shapely.distance(line, shapely.points(x, y))

    d = np.array([10_000.0, 30_000.0, 45_000.0, 39_000.0])
    major = np.array([8000.0, 30_000.0, 20_000.0, 2000.0])
    p = p_within_distance(dist, 40_000.0, d, np.zeros(4), major, major, np.zeros(4))
    s = major / CHI2_95_2D
    ref = ndtr((40_000.0 - d) / s) - ndtr((-40_000.0 - d) / s)
    assert p == pytest.approx(ref, abs=0.03)


# ---------------------------------------------------------------- the rules


def _claim(oid: str, lat: float, lon: float, err: float, src: str = "tg-0", event_type: str = "missile_strike"):
    return ob(oid, src, OK.REPORT_CLAIM, lat, lon, err=err, ts=600, event_type=event_type)


def test_vague_claim_near_a_protected_object_is_an_unlocated_claim(agreement):
    hpp = next(p for p in agreement.protected if p.id == "dniprohes")
    far = shift(hpp.lat, hpp.lon, 48_700.0, 0.0)
    obs = [_claim("c1", *far, err=110_000.0)]
    events = fuse(obs, S)
    vs = adjudicate(events, {o.id: o for o in obs}, agreement)
    assert [v for v in vs if v.rule == Rule.STRIKE_ON_PROTECTED_OBJECT] == []
    marks = events[0].attributes["unlocated_claim"]
    assert any(m["rule"] == "strike_on_protected_object" and m["protected_object"] == "dniprohes"
               and m["p_geometry"] < 0.01 for m in marks)
    assert any(x.startswith("unlocated claim:") for x in events[0].explanation)
    # adjudicating again replaces the note, it does not repeat it
    adjudicate(events, {o.id: o for o in obs}, agreement)
    assert sum(x.startswith("unlocated claim:") for x in events[0].explanation) == len(marks)


def test_precise_strike_on_a_protected_object_is_a_finding(agreement):
    hpp = next(p for p in agreement.protected if p.id == "dniprohes")
    near = shift(hpp.lat, hpp.lon, 600.0, 0.0)
    obs = [ob("i", "ac-net-a", OK.IMPACT, *near, err=300.0, n_sensors=6),
           ob("i2", "ac-net-b", OK.IMPACT, *shift(*near, 30, 0), err=300.0, dt=0.5, n_sensors=6)]
    events = fuse(obs, S)
    vs = [v for v in adjudicate(events, {o.id: o for o in obs}, agreement) if v.rule == Rule.STRIKE_ON_PROTECTED_OBJECT]
    assert len(vs) == 1 and vs[0].attributes["p_geometry"] > 0.99
    assert "unlocated_claim" not in events[0].attributes


def test_threshold_is_configuration(agreement):
    hpp = next(p for p in agreement.protected if p.id == "dniprohes")
    edge = shift(hpp.lat, hpp.lon, 2300.0, 0.0)  # just outside the 2 km radius, +/- 1.5 km
    obs = [ob("i", "ac-net-a", OK.IMPACT, *edge, err=1500.0, n_sensors=6)]
    events = fuse(obs, S)
    by_id = {o.id: o for o in obs}

    def prot(cfg):
        return [v for v in adjudicate(events, by_id, agreement, cfg) if v.rule == Rule.STRIKE_ON_PROTECTED_OBJECT]

    assert prot(AdjudicationConfig()) == []  # p about 0.3 < 0.5
    low = AdjudicationConfig(geometry_threshold={"strike_on_protected_object": 0.2})
    got = prot(low)
    assert len(got) == 1 and 0.2 <= got[0].attributes["p_geometry"] < 0.5


def test_bad_threshold_config_is_named(tmp_path):
    f = tmp_path / "adj.yaml"
    f.write_text("adjudication:\n  geometry_threshold: {strike_on_protected: 0.5}\n")
    with pytest.raises(ValueError, match="geometry_threshold: unknown rule kind"):
        AdjudicationConfig.from_yaml(f)
    f.write_text("adjudication:\n  geometry_threshold: {fire_across_line: 1.5}\n")
    with pytest.raises(ValueError, match="geometry_threshold"):
        AdjudicationConfig.from_yaml(f)
    f.write_text("adjudication:\n  geometry_threshold: {fire_across_line: 0.7}\n")
    cfg = AdjudicationConfig.from_yaml(f)
    assert cfg.threshold(Rule.FIRE_ACROSS_LINE) == 0.7 and cfg.threshold(Rule.STRIKE_ON_PROTECTED_OBJECT) == 0.5


def test_fire_near_the_line_needs_its_probability(agreement):
    from trucewatch.sim.testing import off_line

    def judge(d_m, err):
        where = off_line(agreement, "UA", d_m, at=200)
        d = float(agreement.distance_to_line_m(np.array([where[0]]), np.array([where[1]]))[0])
        obs = [_claim("c1", *where, err=err, event_type="shelling")]
        events = fuse(obs, S)
        vs = [v for v in adjudicate(events, {o.id: o for o in obs}, agreement) if v.rule == Rule.FIRE_ACROSS_LINE]
        s_ = err / CHI2_95_2D  # straight-line closed form, the reference
        ref = float(ndtr((40_000.0 - d) / s_) - ndtr((-40_000.0 - d) / s_))
        return vs, events[0].attributes.get("unlocated_claim", []), ref

    # about 66 km behind the line, +/- 30 km: its ellipse reaches 40 km but P(within 40 km) is small
    vs, marks, ref = judge(80_000.0, 30_000.0)
    assert ref < 0.1 and vs == [] and [m["rule"] for m in marks] == ["fire_across_line"]
    assert marks[0]["p_geometry"] == pytest.approx(ref, abs=0.1)
    # about 29 km, +/- 10 km: P about 0.98, a finding (party undetermined: no launch located)
    vs, marks, ref = judge(30_000.0, 10_000.0)
    assert ref > 0.9 and len(vs) == 1 and marks == []
    assert vs[0].attributes["p_geometry"] == pytest.approx(ref, abs=0.05)
    # close and precise: p near 1
    q = off_line(agreement, "UA", 5000.0)
    obs = [ob("i", "ac-net-a", OK.IMPACT, *q, err=300.0, n_sensors=6)]
    events = fuse(obs, S)
    vs = adjudicate(events, {o.id: o for o in obs}, agreement)
    assert len(vs) == 1 and vs[0].attributes["p_geometry"] > 0.99


def test_reports_that_claim_no_attack_are_no_strike_on_a_protected_object(agreement):
    # "Ukrainians want peace" read as the town of Ukrainka beside a power plant: no attack claimed
    tpp = next(p for p in agreement.protected if p.id == "trypilska")
    at = shift(tpp.lat, tpp.lon, 1100.0, 0.0)
    obs = [_claim("c1", *at, err=900.0, event_type="other"), _claim("c2", *at, err=900.0, src="tg-1", event_type="other")]
    events = fuse(obs, S)
    vs = adjudicate(events, {o.id: o for o in obs}, agreement)
    assert [v for v in vs if v.rule == Rule.STRIKE_ON_PROTECTED_OBJECT] == []
    # a report of a missile strike there is one
    obs[1] = _claim("c2", *at, err=900.0, src="tg-1", event_type="missile_strike")
    events = fuse(obs, S)
    vs = adjudicate(events, {o.id: o for o in obs}, agreement)
    assert [v.attributes["protected_object"] for v in vs if v.rule == Rule.STRIKE_ON_PROTECTED_OBJECT] == ["trypilska"]
