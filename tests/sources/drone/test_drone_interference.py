"""GNSS jamming and spoofing from telemetry: detection, timing, affected area."""

from __future__ import annotations

import numpy as np
import shapely

from trucewatch.sim.drone import _apply_jamming, _apply_spoofing
from trucewatch.sources.drone.interference import InterferenceConfig, detect, trusted_mask
from trucewatch.sources.drone.pipeline import interference_observations

LEGS = np.array([[-15000.0, 0.0], [15000.0, 0.0], [15000.0, 3000.0], [-15000.0, 3000.0], [-15000.0, 6000.0], [15000.0, 6000.0]])


def test_clean_flight_has_no_interference(make):
    for seed in range(3):
        fl, _ = make(seed=seed, legs=LEGS)
        assert detect(fl) == []


def test_jamming_detected_with_area_around_the_jammer(make):
    fl, truth = make(seed=4, legs=LEGS)
    rng = np.random.default_rng(0)
    je, jn = 2000.0, 1500.0
    runs = _apply_jamming(rng, fl, truth, __import__("trucewatch.geo", fromlist=["LocalFrame"]).LocalFrame(48.5, 37.0),
                          je, jn, 8000.0, float(truth["t"][0]), float(truth["t"][-1]))
    assert runs
    eps = detect(fl)
    jams = [e for e in eps if e.kind == "gnss_jamming"]
    assert len(jams) == len(runs)
    for (a, b), ep in zip(runs, jams, strict=True):
        assert abs(ep.t_start - a) <= 2 and abs(ep.t_end - b) <= 2
        assert "fix_lost" in ep.signals or "satellites_low" in ep.signals
    from trucewatch.geo import LocalFrame

    jlat, jlon = LocalFrame(48.5, 37.0).to_latlon(je, jn)
    assert any(ep.area.contains(shapely.Point(float(jlon), float(jlat))) for ep in jams)
    obs = interference_observations(fl, jams)
    assert obs[0].attributes["interference"] == "gnss_jamming"
    assert obs[0].attributes["affected_area"]["type"] in ("Polygon", "MultiPolygon")
    assert obs[0].attributes["flight_id"] == fl.flight_id
    assert obs[0].id == interference_observations(fl, jams)[0].id
    # frames flown on jammed navigation are not trusted
    t = truth["t"]
    mask = trusted_mask(t, jams)
    assert not mask[(t > runs[0][0] + 10) & (t < runs[0][1] - 10)].any()


def test_spoofing_shift_and_walk_off(make):
    from trucewatch.geo import LocalFrame

    found = {"shift": 0, "walk_off": 0}
    total = {"shift": 0, "walk_off": 0}
    for seed in range(6):
        fl, truth = make(seed=10 + seed, legs=LEGS)
        sp = _apply_spoofing(np.random.default_rng(seed), fl, truth, LocalFrame(48.5, 37.0))
        assert sp is not None
        total[sp["mode"]] += 1
        eps = [e for e in detect(fl) if e.kind == "gnss_spoofing"]
        assert len(eps) <= 2
        if any(e.t_start <= sp["t_end"] + 30 and e.t_end >= sp["t_start"] - 30 for e in eps):
            found[sp["mode"]] += 1
    assert sum(found.values()) >= 5, (found, total)


def test_gps_silence_counts_as_loss(make):
    fl, _ = make(seed=5, legs=LEGS)
    g = fl.gps
    t = g["t"]
    cut = (t > t[400]) & (t < t[400] + 60)
    fl.gps = {k: v[~cut] for k, v in g.items()}
    eps = detect(fl, InterferenceConfig())
    assert any(e.kind == "gnss_jamming" and "gps_silent" in e.signals for e in eps)


def test_multipath_glitch_is_not_spoofing(make):
    from trucewatch.geo import LocalFrame

    fl, truth = make(seed=6, legs=LEGS)
    fr = LocalFrame(48.5, 37.0)
    i = len(truth["t"]) // 2
    la, lo = fr.to_latlon(truth["e"][i] + 150.0, truth["n"][i])
    fl.gps["lat"][i], fl.gps["lon"][i] = la, lo
    assert detect(fl) == []
    # the same offset held for two minutes is a spoofed shift
    j = slice(i, i + 240)
    la, lo = fr.to_latlon(truth["e"][j] + 150.0, truth["n"][j])
    fl.gps["lat"][j], fl.gps["lon"][j] = la, lo
    eps = detect(fl)
    assert len(eps) == 1 and eps[0].kind == "gnss_spoofing"
    assert abs(eps[0].t_start - truth["t"][i - 1]) < 2 and abs(eps[0].t_end - truth["t"][i + 240]) < 2


def test_satellite_dip_in_a_turn_is_not_jamming(make):
    fl, _ = make(seed=7, legs=LEGS)
    i = len(fl.gps["t"]) // 3
    fl.gps["sats"][i:i + 20] = 5  # 10 s of masked sky, fix kept
    fl.gps["hdop"][i:i + 20] = 3.0
    assert detect(fl) == []
    fl.gps["fix"][i:i + 20] = 1  # the same 10 s without a fix: jamming
    eps = detect(fl)
    assert len(eps) == 1 and eps[0].kind == "gnss_jamming" and "fix_lost" in eps[0].signals
