"""Association probability against clutter, the clutter map, and flights joined by where they struck."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from trucewatch.fusion import FusionConfig, IncrementalFusion, fuse
from trucewatch.fusion.arrays import from_observations
from trucewatch.fusion.clutter import ClutterMap, ClutterMapError, learn_clutter
from trucewatch.fusion.core import fuse_arrays
from trucewatch.model import Observation
from trucewatch.model import ObservationKind as OK
from trucewatch.sim.testing import ob, off_line, shift, sources

S = sources()


def _fix_and_post(ag, post_offset_m: float, tag: str = "", at: int = 460) -> list[Observation]:
    """One acoustic fix and one post at ``post_offset_m`` east of it: two independent lines."""
    ua = off_line(ag, "UA", 6000, at=at)
    return [ob(f"{tag}i", "ac-net-a", OK.IMPACT, *ua, err=300, n_sensors=3),
            ob(f"{tag}r", "tg-1", OK.REPORT_CLAIM, *shift(*ua, post_offset_m, 0), err=5000, dt=600, ts=900,
               event_type="shelling")]


def _map(report_density: float) -> ClutterMap:
    return ClutterMap(0.5, default={"report_claim": report_density, "thermal_anomaly": 0.0})


def test_without_a_map_nothing_changes(agreement):
    obs = _fix_and_post(agreement, 1500)
    a = fuse(obs, S)
    b = fuse(obs, S, config=FusionConfig(clutter_map=ClutterMap(0.5)))  # a map of zeros
    assert [e.model_dump() for e in a] == [e.model_dump() for e in b]


def test_dense_clutter_lowers_the_support_of_a_coincidental_report(agreement):
    near = _fix_and_post(agreement, 500)
    far = _fix_and_post(agreement, 4500)
    base_near = fuse(near, S)[0].confidence
    cfg = FusionConfig(clutter_map=_map(0.02))
    c_near = fuse(near, S, config=cfg)[0]
    c_far = fuse(far, S, config=cfg)[0]
    assert len(fuse(far, S, config=cfg)) == 1  # the report still joins: gating is unchanged
    # the closer the report, the likelier it is about this event
    assert c_far.confidence < c_near.confidence < base_near
    assert any("association probability" in x for x in c_far.explanation)
    # sparse clutter: a report near the event keeps almost all its support
    c_sparse = fuse(near, S, config=FusionConfig(clutter_map=_map(1e-6)))[0]
    assert c_sparse.confidence == pytest.approx(base_near, abs=0.01)


def test_order_independence_and_streaming_with_a_map(agreement):
    obs: list[Observation] = []
    for k in range(6):
        obs += _fix_and_post(agreement, 800 + 600 * k, tag=f"s{k}-", at=100 + 60 * k)
    cfg = FusionConfig(clutter_map=_map(0.01))
    ref = {e.id: e.model_dump() for e in fuse(obs, S, config=cfg)}
    rnd = random.Random(5)
    sh = obs[:]
    rnd.shuffle(sh)
    assert {e.id: e.model_dump() for e in fuse(sh, S, config=cfg)} == ref
    inc = IncrementalFusion(S, agreement, config=cfg)
    for k in range(0, len(sh), 3):
        inc.add(sh[k : k + 3])
    assert {e.id: e.model_dump() for e in inc.all_events()} == ref


def test_learn_clutter_counts_unexplained_posts_once(agreement, tmp_path):
    rng = np.random.default_rng(2)
    obs = _fix_and_post(agreement, 500)
    # 40 rumours (each with a copy) in one 0.5-degree cell, far from the fix, over 10 hours
    for k in range(40):
        lat, lon = 48.1 + rng.uniform(0, 0.3), 37.6 + rng.uniform(0, 0.3)
        obs.append(ob(f"rum{k}", f"tg-{k % 8}", OK.REPORT_CLAIM, lat, lon, err=4000, dt=k * 900.0, ts=600,
                      event_type="shelling"))
        obs.append(ob(f"rum{k}c", f"tg-{(k + 1) % 8}", OK.REPORT_CLAIM, lat, lon, err=4000, dt=k * 900.0 + 60,
                      ts=600, event_type="shelling", origin_id=f"rum{k}", independent=False))
    cfg = FusionConfig()
    fi, _, errs = from_observations(obs, S, cfg)
    assert not errs
    m = learn_clutter(fi, fuse_arrays(fi, cfg).label)
    hours = (39 * 900 + 60) / 3600
    area = (111.195 * 0.5) ** 2 * np.cos(np.radians(48.25))
    assert m.cells[(96, 75)]["report_claim"] == pytest.approx(40 / (area * hours), rel=1e-6)
    assert "thermal_anomaly" not in m.default
    # the joined post is not clutter; the map round-trips through its file format
    p = tmp_path / "clutter.json"
    m.save(p)
    m2 = ClutterMap.load(p)
    assert m2.cells == m.cells and m2.default == m.default
    dens = m2.density(np.array([0, 0, -1]), np.array([48.2, 10.0, 48.2]), np.array([37.7, 10.0, 37.7]))
    assert dens[0] == pytest.approx(m.cells[(96, 75)]["report_claim"]) and dens[1] == m.default["report_claim"]
    assert dens[2] == 0.0


@pytest.mark.parametrize("doc, field", [
    ({"format": "nope"}, "format"),
    ({"format": "trucewatch-clutter-map/1", "cell_deg": "x"}, "cell_deg"),
    ({"format": "trucewatch-clutter-map/1", "cell_deg": 0.5, "hours": "ten"}, "hours"),
    ({"format": "trucewatch-clutter-map/1", "cell_deg": 0.5, "default": {"report_claim": -1}}, "default.report_claim"),
    ({"format": "trucewatch-clutter-map/1", "cell_deg": 0.5, "default": {"rumour": 1}}, "default.rumour"),
    ({"format": "trucewatch-clutter-map/1", "cell_deg": 0.5, "cells": [{"lat_i": 1}]}, "cells[0]"),
    ({"format": "trucewatch-clutter-map/1", "cell_deg": 0.5, "cells": [{"lat_i": 1, "lon_i": 2, "damage": "x"}]},
     "cells[0].damage"),
])
def test_bad_clutter_maps_name_the_field(tmp_path, doc, field):
    p = tmp_path / "m.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(ClutterMapError, match=field.replace("[", r"\[").replace("]", r"\]")):
        ClutterMap.load(p)
    p.write_text("{truncated")
    with pytest.raises(ClutterMapError):
        ClutterMap.load(p)


def test_fusion_config_reads_a_map_path_and_detection_probabilities(tmp_path):
    p = tmp_path / "m.json"
    _map(0.01).save(p)
    cfg = FusionConfig.from_dict({"clutter_map": str(p), "detection_prob": {"report_claim": 0.3}})
    assert cfg.clutter().default["report_claim"] == 0.01
    assert cfg.detection_prob["report_claim"] == 0.3 and cfg.detection_prob["thermal_anomaly"] == 0.5
    with pytest.raises(ValueError, match="detection_prob"):
        FusionConfig.from_dict({"detection_prob": {"report_claim": 0}})


def _flight(ag, intercepted: bool) -> list[Observation]:
    ru = off_line(ag, "RU", 120_000)
    ua = off_line(ag, "UA", 80_000)
    path = [[ru[1], ru[0], 0.0], [ua[1], ua[0], 1800.0]]
    return [
        ob("trk", "radar-1", OK.AIR_TRACK, *ua, err=800, dt=1800, ts=5, classification="shahed",
           intercepted=intercepted, path=path, origin={"lat": ru[0], "lon": ru[1], "err_m": 5000}),
        ob("heat", "sat-viirs", OK.THERMAL_ANOMALY, *shift(*ua, 200, 100), err=400, dt=1800 + 2 * 3600, excess=True),
        ob("post", "tg-3", OK.REPORT_CLAIM, *shift(*ua, 2000, 0), err=5000, dt=1900, ts=600, event_type="strike"),
    ]


def test_a_flight_that_struck_is_joined_by_the_heat_and_reports_where_it_ended(agreement):
    evs = fuse(_flight(agreement, intercepted=False), S)
    assert len(evs) == 1
    ev = evs[0]
    assert ev.kind == "flight" and ev.attributes["n_independent"] == 3
    # shot down: it did not strike there, so the fire is a separate happening
    evs = fuse(_flight(agreement, intercepted=True), S)
    assert sorted(e.kind for e in evs) == ["flight", "strike"]
    # streaming gives the same events in any order
    obs = _flight(agreement, intercepted=False)
    ref = {e.id: e.model_dump() for e in fuse(obs, S, agreement)}
    inc = IncrementalFusion(S, agreement)
    for o in reversed(obs):
        inc.add([o])
    assert {e.id: e.model_dump() for e in inc.all_events()} == ref


def test_time_slabs_find_exactly_the_pairs_one_tree_finds(agreement, monkeypatch):
    from trucewatch.fusion import gating
    from trucewatch.fusion.arrays import SEED
    from trucewatch.sim.simday import simulate_day

    day = simulate_day(agreement, np.random.default_rng(4), scale=0.01, hours=96.0)
    fi, cfg = day.fi, FusionConfig()
    seeds = np.flatnonzero(fi.tier == SEED)
    other = np.flatnonzero(fi.tier != SEED)
    got, trees = {}, {}
    box = gating._box

    def counted(*a):
        trees[slab] = trees.get(slab, 0) + 1
        return box(*a)

    monkeypatch.setattr(gating, "_box", counted)
    for slab in (10**9, 256):  # one tree per bucket pair, then slabs of about 256 rows
        monkeypatch.setattr(gating, "SLAB_ROWS", slab)
        within = gating.gate_pairs(fi, seeds, None, cfg)
        across = gating.gate_pairs(fi, other, seeds, cfg)
        got[slab] = [set(zip(p[0].tolist(), p[1].tolist(), strict=True)) for p in (within, across)]
    assert len(got[256][0]) > 1000 and len(got[256][1]) > 100
    assert got[256] == got[10**9] and trees[256] > 3 * trees[10**9]
