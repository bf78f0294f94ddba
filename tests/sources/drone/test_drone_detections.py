"""Detections -> ground positions -> merged sightings; bad records flagged, the rest processed."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trucewatch.geo import haversine_m
from trucewatch.model import ObservationKind
from trucewatch.sources.drone.coverage import FrameSet
from trucewatch.sources.drone.detections import locate, merge, parse_detection, read_detections
from trucewatch.sources.drone.telemetry import Flight

H = "ab" * 32


def _true_fs(fl: Flight, truth: dict) -> FrameSet:
    from trucewatch.sources.drone.telemetry import NAV_FIELDS

    tf = Flight(fl.flight_id, fl.source_id, fl.sysid, fl.camera, {k: truth[k] for k in NAV_FIELDS}, fl.gps, [], None, "truth")
    return FrameSet.from_flight(tf)


def _dets_for(fs: FrameSet, lat: float, lon: float, cls: str, every: int = 1, conf: float = 0.9) -> list[dict]:
    pe, pn = fs.frame.to_en(lat, lon)
    nf = len(fs)
    u, v, inside, gsd = fs.project(np.full(nf, float(pe)), np.full(nf, float(pn)), np.arange(nf))
    out = []
    for k in np.flatnonzero(inside)[::every]:
        w = 8.0 / gsd[k]
        box = [u[k] - w / 2, v[k] - w / 2, u[k] + w / 2, v[k] + w / 2]
        if min(box) < 0 or box[2] > 1920 or box[3] > 1080:
            continue
        out.append({"id": f"{cls}-{k}-{lat:.5f}", "flight_id": fs.flight_id, "t": float(fs.t[k]), "class": cls,
                    "confidence": conf, "image_hash": H, "bbox": [float(x) for x in box]})
    return out


def _run(fl, recs, problems=None):
    problems = [] if problems is None else problems
    fs = FrameSet.from_flight(fl)
    dets = [parse_detection(r, i + 1, None, json.dumps(r)) for i, r in enumerate(recs)]
    located = locate(dets, fl, fs, problems)
    return merge(located, fl, fs), problems


def test_pixel_boxes_locate_and_merge(make):
    fl, truth = make()
    fs = _true_fs(fl, truth)
    k = len(truth["t"]) // 6
    a = fs.frame.to_latlon(float(truth["e"][k]) + 60.0, float(truth["n"][k]) - 50.0)
    b = fs.frame.to_latlon(float(truth["e"][k]) + 150.0, float(truth["n"][k]) + 80.0)
    recs = _dets_for(fs, float(a[0]), float(a[1]), "tank") + _dets_for(fs, float(b[0]), float(b[1]), "towed_artillery")
    # one confused frame: the tank called a self-propelled gun; the vote keeps "tank"
    recs[1]["class"] = "self_propelled_artillery"
    sightings, problems = _run(fl, recs)
    assert problems == []
    assert len(sightings) == 2
    by_cls = {s.attributes["weapon_class"]: s for s in sightings}
    assert set(by_cls) == {"tank", "towed_artillery"}
    for s, (la, lo) in ((by_cls["tank"], a), (by_cls["towed_artillery"], b)):
        d = float(haversine_m(s.location.lat, s.location.lon, la, lo))
        assert d < 15.0  # noise: 0.3 deg attitude, a couple of metres GNSS
        assert d < s.location.err_major_m  # inside its own 95 % ellipse
        assert s.kind == ObservationKind.WEAPON_SIGHTING
        assert s.attributes["n_frames"] > 3 and s.attributes["count"] == 1
        assert s.attributes["flight_id"] == fl.flight_id and s.attributes["image_hash"] == H
        assert s.id.endswith(s.attributes["object_id"])
    # deterministic: same input, same ids
    again, _ = _run(fl, recs)
    assert [s.id for s in again] == [s.id for s in sightings]


def test_same_frame_detections_are_two_objects(make):
    fl, truth = make()
    fs = _true_fs(fl, truth)
    k = len(truth["t"]) // 6
    la, lo = fs.frame.to_latlon(float(truth["e"][k]), float(truth["n"][k]) + 20.0)
    la2, lo2 = fs.frame.to_latlon(float(truth["e"][k]) + 25.0, float(truth["n"][k]) + 20.0)
    recs = _dets_for(fs, float(la), float(lo), "tank", every=1) + _dets_for(fs, float(la2), float(lo2), "tank", every=1)
    sightings, _ = _run(fl, recs)
    assert len(sightings) == 2
    t_of = {r["id"]: r["t"] for r in recs}
    for s in sightings:  # never two detections of one frame in one object
        ts = [t_of[i] for i in s.attributes["detection_ids"]]
        assert len(ts) == len(set(ts))


def test_single_low_confidence_detection_is_tentative(make):
    fl, truth = make()
    fs = _true_fs(fl, truth)
    k = len(truth["t"]) // 6
    la, lo = fs.frame.to_latlon(float(truth["e"][k]), float(truth["n"][k]))
    recs = _dets_for(fs, float(la), float(lo), "mlrs", conf=0.5)[:1]
    sightings, _ = _run(fl, recs)
    assert len(sightings) == 1 and sightings[0].attributes["tentative"] is True


def test_bad_detections_are_flagged_and_the_rest_processed(tmp_path, make):
    fl, truth = make()
    fs = _true_fs(fl, truth)
    k = len(truth["t"]) // 6
    la, lo = fs.frame.to_latlon(float(truth["e"][k]), float(truth["n"][k]))
    good = _dets_for(fs, float(la), float(lo), "tank")
    far_la, far_lo = fs.frame.to_latlon(0.0, 9000.0)
    bad = [
        {**good[0], "id": "late", "t": fl.t1 + 3600},  # outside the flight
        {**good[0], "id": "offimage", "bbox": [1900, 10, 1990, 50]},  # outside the image
        {"id": "ground-far", "flight_id": fl.flight_id, "t": good[0]["t"], "class": "tank", "lat": float(far_la),
         "lon": float(far_lo)},  # analyst position not in the frame taken then
        {**good[0], "id": "conf", "confidence": 2},
        {**good[0], "id": "hash", "image_hash": "xyz"},
        {"id": "nocls", "flight_id": fl.flight_id, "t": good[0]["t"], "bbox": [1, 1, 5, 5]},
    ]
    p = tmp_path / "det.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [*bad, *good]) + "\n{oops\n")
    batch = read_detections(p)
    assert len(batch.problems) == 4  # the three bad fields and the broken line
    text = "\n".join(batch.problems)
    assert "det.jsonl:4: field confidence" in text and "det.jsonl:5: field image_hash" in text
    assert "det.jsonl:6: field class" in text and "not JSON" in text
    problems: list[str] = []
    located = locate(batch.detections, fl, FrameSet.from_flight(fl), problems, label="det.jsonl")
    assert len(problems) == 3
    assert all("outside any frame" in m for m in problems)
    assert "det.jsonl:1 (id late)" in problems[0] and "det.jsonl:2 (id offimage)" in problems[1]
    assert "det.jsonl:3 (id ground-far)" in problems[2]
    assert len(located) == len(good)
    assert len(merge(located, fl, FrameSet.from_flight(fl))) == 1


def test_analyst_ground_position_inside_frame(make):
    fl, truth = make()
    k = len(truth["t"]) // 6
    rec = {"id": "a1", "flight_id": fl.flight_id, "t": float(truth["t"][k]), "class": "air_defence",
           "lat": float(truth["lat"][k]), "lon": float(truth["lon"][k]), "err_m": 12.0}
    sightings, problems = _run(fl, [rec])
    assert problems == [] and len(sightings) == 1
    assert sightings[0].location.lat == pytest.approx(rec["lat"], abs=1e-6)
    assert sightings[0].location.err_major_m == pytest.approx(12.0, rel=0.01)


def test_flickering_object_is_tentative(make):
    fl, truth = make()
    fs = _true_fs(fl, truth)
    k = len(truth["t"]) // 6
    la, lo = fs.frame.to_latlon(float(truth["e"][k]), float(truth["n"][k]))
    steady = _dets_for(fs, float(la), float(lo), "tank", conf=0.9)
    sightings, _ = _run(fl, steady)
    assert sightings[0].attributes["tentative"] is False
    assert sightings[0].attributes["frames_in_view"] >= len(steady) * 0.8
    flicker = steady[::8]  # seen in one frame of eight while in clear view
    assert len(flicker) >= 2
    sightings, _ = _run(fl, flicker)
    s = sightings[0].attributes
    assert s["detect_ratio"] < 0.2 and s["tentative"] is True
