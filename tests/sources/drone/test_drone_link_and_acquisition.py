"""Telemetry-link dropouts and fix acquisition are not GNSS interference (issue 18); real jamming still is."""

from __future__ import annotations

import numpy as np

from trucewatch.bench._real_dronesea import acquire_fix, cut_tlog
from trucewatch.sources.drone.interference import InterferenceConfig, acquisition_windows, detect, link_gaps
from trucewatch.sources.drone.telemetry import read_tlog, write_tlog

LEGS = np.array([[-9000.0, 0.0], [9000.0, 0.0], [9000.0, 2000.0], [-9000.0, 2000.0]])
GPS_RAW_INT = 24


def _tlog(tmp_path, make, seed=1, acquire_s=0.0):
    fl, _ = make(seed=seed, legs=LEGS)
    if acquire_s:
        acquire_fix(fl.gps, float(fl.gps["t"][0]), acquire_s, np.random.default_rng(seed))
    p = tmp_path / "f.tlog"
    write_tlog(p, fl)
    return fl, p


def test_link_dropout_is_not_jamming_but_gps_silence_is(tmp_path, make):
    fl, p = _tlog(tmp_path, make)
    t0 = float(fl.nav["t"][0])
    buf = p.read_bytes()
    # the radio drops out twice: every message type missing, receiver state the same either side
    cut = cut_tlog(cut_tlog(buf, t0 + 200, t0 + 240), t0 + 400, t0 + 412)
    p.write_bytes(cut)
    got = read_tlog(p)
    gaps = link_gaps(got)
    assert len(gaps) == 2 and abs(gaps[0][1] - gaps[0][0] - 40) < 1
    assert detect(got) == []
    from trucewatch.sources.drone.pipeline import process_flight

    res = process_flight(got)
    assert res.interference == [] and sum("telemetry link dropout" in p for p in res.problems) == 2
    # the same stretch with only GPS_RAW_INT missing while the rest goes on is GNSS loss
    p.write_bytes(cut_tlog(buf, t0 + 200, t0 + 240, {GPS_RAW_INT}))
    eps = detect(read_tlog(p))
    assert [e.kind for e in eps] == ["gnss_jamming"] and "gps_silent" in eps[0].signals
    assert abs(eps[0].t_start - (t0 + 200)) < 2 and abs(eps[0].t_end - (t0 + 240)) < 2


def test_fix_acquisition_at_start_is_not_jamming(tmp_path, make):
    _fl, p = _tlog(tmp_path, make, seed=2, acquire_s=60.0)
    got = read_tlog(p)
    assert got.gps["fix"][0] < 3 and got.gps["hdop"][0] > 4  # the log really starts without a fix
    assert detect(got) == []
    # without the acquisition rule the same log was read as jamming (what main did)
    assert any(e.kind == "gnss_jamming" for e in detect(got, InterferenceConfig(acquisition_max_s=0.0)))


def test_same_degradation_after_a_good_fix_is_jamming(make):
    fl, _ = make(seed=3, legs=LEGS)
    t = fl.gps["t"]
    acquire_fix(fl.gps, float(t[0]) + 300, 60.0, np.random.default_rng(0))  # loses and regains fix mid-flight
    eps = [e for e in detect(fl) if e.kind == "gnss_jamming"]
    assert len(eps) == 1 and abs(eps[0].t_start - (t[0] + 300)) < 2


def test_receiver_that_never_gets_a_fix_is_reported(make):
    fl, _ = make(seed=4, legs=LEGS)
    g = fl.gps
    g["fix"][:] = 1
    g["sats"][:] = 2
    g["hdop"][:] = 99.99
    eps = [e for e in detect(fl) if e.kind == "gnss_jamming"]
    assert eps and eps[0].t_start >= g["t"][0] + InterferenceConfig().acquisition_max_s - 1


def test_reboot_restarts_acquisition(tmp_path, make):
    fl, _ = make(seed=5, legs=LEGS)
    t = fl.nav["t"]
    half = len(t) // 2
    a = type(fl)(fl.flight_id, fl.source_id, fl.sysid, fl.camera, {k: v[:half] for k, v in fl.nav.items()},
                 {k: v[fl.gps["t"] < t[half]] for k, v in fl.gps.items()})
    b = type(fl)(fl.flight_id, fl.source_id, fl.sysid, fl.camera, {k: v[half:] for k, v in fl.nav.items()},
                 {k: v[fl.gps["t"] >= t[half]].copy() for k, v in fl.gps.items()})
    acquire_fix(b.gps, float(t[half]), 45.0, np.random.default_rng(1))
    pa, pb = tmp_path / "a.tlog", tmp_path / "b.tlog"
    write_tlog(pa, a)
    write_tlog(pb, b)
    p = tmp_path / "ab.tlog"
    p.write_bytes(pa.read_bytes() + pb.read_bytes())  # the autopilot rebooted: its boot clock restarts
    got = read_tlog(p)
    assert len(got.boots) == 1 and abs(got.boots[0] - t[half]) < 1
    assert detect(got) == []


def test_acquisition_windows():
    t = np.arange(0.0, 100.0)
    good = t >= 30
    cfg = InterferenceConfig()
    assert acquisition_windows(t, good, [0.0], cfg) == [(0.0, 30.0)]
    good2 = good & ~((t >= 32) & (t < 35))  # a flicker right after the first fix: still acquiring
    assert acquisition_windows(t, good2, [0.0], cfg) == [(0.0, 35.0)]
    assert acquisition_windows(t, np.ones_like(good), [0.0], cfg) == []
