"""`trucewatch drone ...` end to end on simulated raw files (real tlogs), and the benchmark in quick mode."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from trucewatch.cli import app
from trucewatch.sim.drone import simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def raw(tmp_path_factory, agreement):
    events = [
        {"id": "W1", "kind": "weapon_presence", "time": "2026-03-15T09:00:00+00:00", "violation": True, "party": "UA",
         "attributes": {"weapon_class": "self_propelled_artillery", "count": 2}},
        {"id": "J1", "kind": "jamming", "time": "2026-03-15T12:00:00+00:00", "violation": True, "party": "RU",
         "attributes": {"duration_s": 400}},
    ]
    from trucewatch.sim.drone import _place_near_line

    rng = np.random.default_rng(7)
    events[0]["lat"], events[0]["lon"] = _place_near_line(agreement, rng, "UA", 5, 10)
    events[1]["lat"], events[1]["lon"] = _place_near_line(agreement, rng, "RU", 5, 10)
    sim = simulate(events, np.random.default_rng(8), agreement, n_sites=1, p_false_object=0.0)
    out = tmp_path_factory.mktemp("drone")
    paths = sim.write_raw(out / "raw")
    return sim, paths, out


def _cli(*args):
    return runner.invoke(app, ["drone", *map(str, args)])


def test_cli_end_to_end(raw):
    sim, paths, out = raw
    st = out / "state"
    tlog = paths["telemetry"][0]
    # not registered yet: a clear error, exit 2
    r = _cli("ingest", tlog, "--state", st)
    assert r.exit_code == 2 and "unregistered source" in r.output
    for s in sim.sources:
        r = _cli("register", s.id, "--sysid", s.attributes["sysid"], "--hfov", 50, "--vfov", 29.4, "--state", st)
        assert r.exit_code == 0, r.output
    r = _cli("register", "drone:other", "--sysid", 1, "--state", st)
    assert r.exit_code == 2 and "already used" in r.output
    results = []
    for p in paths["telemetry"]:
        r = _cli("ingest", p, "--detections", paths["detections"], "--json", "--state", st)
        assert r.exit_code == 0, r.output
        results.append(json.loads(r.stdout.strip().splitlines()[-1]))
    weapon = next(x for x in results if x["sightings"])
    assert weapon["violation_candidates"] >= 1
    assert all(c["party"] == "UA" for c in weapon["candidates"])
    jam = next(x for x in results if x["interference"])
    assert jam["interference"][0]["interference"] == "gnss_jamming"
    # idempotent: the same log gives the same flight and observation ids
    again = json.loads(_cli("ingest", paths["telemetry"][0], "--detections", paths["detections"], "--json", "--state", st)
                       .stdout.strip().splitlines()[-1])
    assert again["flight_id"] == results[0]["flight_id"]
    assert [c["observation_id"] for c in again["candidates"]] == [c["observation_id"] for c in results[0]["candidates"]]
    r = _cli("flights", "--json", "--state", st)
    assert len(json.loads(r.stdout)) == len(paths["telemetry"])
    # coverage GeoJSON
    cov = out / "coverage.geojson"
    r = _cli("coverage", "--flight", weapon["flight_id"], "--out", cov, "--state", st)
    assert r.exit_code == 0, r.output
    gj = json.loads(cov.read_text())
    assert gj["type"] == "FeatureCollection" and any(f["properties"]["layer"] == "coverage" for f in gj["features"])
    r = _cli("coverage", "--flight", "nope", "--out", cov, "--state", st)
    assert r.exit_code == 2 and "unknown flight" in r.output
    # was the weapon's place seen, and well enough for a tank?
    w = next(o for o in sim.objects if o["event_id"] == "W1")
    r = _cli("seen", "--lat", w["lat"], "--lon", w["lon"], "--class", "tank", "--state", st)
    ans = json.loads(r.stdout)
    assert ans["observed"] is True and ans["best_gsd_m"] < 1.0
    r = _cli("seen", "--lat", w["lat"] + 1, "--lon", w["lon"], "--state", st)
    assert json.loads(r.stdout)["observed"] is False
    # storage sites
    r = _cli("sites", "--sites", paths["sites"], "--json", "--state", st)
    assert r.exit_code == 0, r.output
    recs = json.loads(r.stdout)
    site = yaml.safe_load(open(paths["sites"]))["sites"][0]
    assert [x["site_id"] for x in recs] == [site["id"]]
    assert recs[0]["declared"] == site["inventory"][0]["count"]
    assert recs[0]["status"] in ("present", "missing", "unverifiable")


def test_cli_bad_inputs(tmp_path, raw):
    """Its own state, with the airframes registered here: the test must not rely on another test's order."""
    sim, paths, _out = raw
    st = tmp_path / "state"
    for s in sim.sources:
        assert _cli("register", s.id, "--sysid", s.attributes["sysid"], "--state", st).exit_code == 0
    r = _cli("ingest", tmp_path / "missing.tlog", "--state", st)
    assert r.exit_code == 2 and "no such file" in r.output
    junk = tmp_path / "junk.tlog"
    junk.write_bytes(b"\x01\x02" * 50)
    r = _cli("ingest", junk, "--state", st)
    assert r.exit_code == 2 and "not a flight log" in r.output
    # a truncated log is still ingested, with the truncation reported
    cut = tmp_path / "cut.tlog"
    data = open(paths["telemetry"][0], "rb").read()
    cut.write_bytes(data[: len(data) - 5])
    r = _cli("ingest", cut, "--state", st)
    assert r.exit_code == 0 and "truncated" in r.output
    r = _cli("seen", "--lat", 95, "--lon", 0, "--state", st)
    assert r.exit_code == 2


def test_bench_quick():
    from trucewatch.bench.drone import run

    res = run(quick=True, seed=3)
    for k in ("frames_per_s", "baseline_frames_per_s", "sighting_f1", "jamming_detect_recall", "jamming_false_alarms_per_h"):
        assert res[k] is not None
    assert res["footprint_max_diff_m"] < 1e-6
    assert res["frames_per_s"] > res["baseline_frames_per_s"]
    # like for like: the headline builds polygons as the baseline does; corners only is slower to be honest about
    assert "polygon" in res["speedup_setup"]
    assert res["frames_per_s_corners_only"] >= res["frames_per_s"] * 0.8
    assert 0.0 <= res["sighting_f1"] <= 1.0 and res["weapons_in_zone_true"] > 0


def test_daily_section_hook(raw, monkeypatch, agreement, tmp_path):
    from datetime import UTC, datetime

    from trucewatch.sources.drone.report import daily_section

    sim, paths, _out = raw
    day = (datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC))
    monkeypatch.setenv("TRUCEWATCH_DRONE_STATE", str(tmp_path / "empty"))
    assert daily_section(None, agreement, *day) is None
    st = tmp_path / "state"
    monkeypatch.setenv("TRUCEWATCH_DRONE_STATE", str(st))
    for s in sim.sources:
        assert _cli("register", s.id, "--sysid", s.attributes["sysid"]).exit_code == 0
    w = next(o for o in sim.objects if o["event_id"] == "W1")
    tlog = next(p for p in paths["telemetry"] if w["flight_id"] in p)
    db = tmp_path / "store.db"
    assert _cli("ingest", tlog, "--store", db).exit_code == 2  # only `trucewatch init` creates a store
    from trucewatch.mission import init_mission

    init_mission(db, agreement.source_file)
    first = _cli("ingest", tlog, "--detections", paths["detections"], "--store", db, "--json")
    assert first.exit_code == 0, first.output
    rep = json.loads(first.stdout.strip().splitlines()[-1])["store"]
    assert rep["accepted"] >= 1 and rep["errors"] == []
    again = json.loads(_cli("ingest", tlog, "--detections", paths["detections"], "--store", db, "--json")
                       .stdout.strip().splitlines()[-1])["store"]
    assert again["accepted"] == 0 and again["duplicates"] == rep["accepted"]  # re-ingest is idempotent
    from trucewatch.store.store import Store

    with Store.open(db) as store:
        stored = store.query_observations()
        assert stored and all(o.signature and o.ledger_index is not None for o in stored)  # signed and logged
        sec = daily_section(store, agreement, *day)
    assert sec is not None and "Weapons inside their withdrawal zones" in sec["html"]
    sec = daily_section(None, agreement, *day)
    assert sec["title"] == "Drone patrols" and "Weapons inside their withdrawal zones" in sec["html"]
    assert "1 drone flight (" in sec["html"] and "flight hours" in sec["html"]


def test_cli_jsonl_telemetry(tmp_path, raw):
    from trucewatch.sources.drone.telemetry import write_jsonl

    sim, _paths, _out = raw
    st = tmp_path / "state"
    from dataclasses import replace

    fl = replace(sim.flights[0], source_id="drone:unknown")  # the fixture is shared: do not mutate it
    p = tmp_path / "f.jsonl"
    write_jsonl(p, fl)
    r = _cli("ingest", p, "--state", st)
    assert r.exit_code == 2 and "unregistered source 'drone:unknown'" in r.output
    assert _cli("register", "drone:unknown", "--state", st).exit_code == 0
    r = _cli("ingest", p, "--json", "--state", st)
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["source_id"] == "drone:unknown" and res["frames"] > 100
    # detections named with the operator's own flight name
    _, paths, _ = raw
    recs = [json.loads(x) for x in open(paths["detections"])]
    mine = [{**d, "flight_id": "op-flight-7"} for d in recs if d["flight_id"] == fl.flight_id]
    det = tmp_path / "det.jsonl"
    det.write_text("".join(json.dumps(d) + "\n" for d in mine))
    r = _cli("ingest", p, "--detections", det, "--json", "--state", st)
    assert "no detection names flight" in r.output
    r = _cli("ingest", p, "--detections", det, "--detections-flight", "op-flight-7", "--json", "--state", st)
    assert json.loads(r.stdout.strip().splitlines()[-1])["sightings"] >= (1 if mine else 0)
