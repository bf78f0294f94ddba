"""Air tracks: JSONL intake with per-line errors, AIR_TRACK observations, findings against two agreements."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trucewatch.model import ObservationKind, Rule
from trucewatch.sources.air.rules import track_findings
from trucewatch.sources.air.tracks import read_tracks, track_observations

AGR = Path(__file__).resolve().parents[3] / "trucewatch" / "data" / "agreements"
T0 = 1_773_600_000.0


@pytest.fixture(scope="module")
def full():
    from trucewatch.agreement import load_agreement

    return load_agreement(AGR / "ua-ru-2026" / "agreement.yaml")


@pytest.fixture(scope="module")
def energy():
    from trucewatch.agreement import load_agreement

    return load_agreement(AGR / "ua-ru-energy" / "agreement.yaml")


def _track(tid: str, a: tuple[float, float], b: tuple[float, float], klass: str = "shahed", n: int = 60,
           intercepted: bool = False) -> list[str]:
    lat = np.linspace(a[0], b[0], n)
    lon = np.linspace(a[1], b[1], n)
    out = []
    for k in range(n):
        rec = {"track_id": tid, "t": T0 + 30 * k, "lat": float(lat[k]), "lon": float(lon[k]), "alt_m": 150,
               "speed_mps": 50, "classification": klass}
        if intercepted and k == n - 1:
            rec["intercepted"] = True
        out.append(json.dumps(rec))
    return out


def test_intake_errors_name_line_and_field():
    lines = _track("A", (51.7, 36.2), (50.5, 35.0), n=5)
    lines += ["{bad json", json.dumps({"t": T0, "lat": 50, "lon": 30}), json.dumps({"track_id": "B", "t": "yesterday", "lat": 1, "lon": 2}),
              json.dumps({"track_id": "B", "t": T0, "lat": 130, "lon": 30}),
              json.dumps({"track_id": "B", "t": T0, "lat": 50, "lon": 30, "classification": "ufo"}),
              json.dumps({"track_id": "C", "t": "2026-03-15T00:00:00Z", "lat": 50, "lon": 30, "classification": "geran"})]
    tracks, errors = read_tracks(lines)
    assert [(e.line, e.field) for e in errors] == [(6, "(line)"), (7, "track_id"), (8, "t"), (9, "lat/lon"), (10, "classification")]
    assert sorted(t.track_id for t in tracks) == ["A", "C"]
    assert next(t for t in tracks if t.track_id == "C").classification == "shahed"


def test_full_ceasefire_findings(full):
    # Shahed from Kursk to Kharkiv CHP-5 area... end at Zmiivska TPP (protected, energy)
    lines = _track("S1", (51.73, 36.19), (49.59, 36.52))
    # Ukrainian patrol aircraft inside Ukraine's area, parallel to the line: nothing
    lines += _track("P1", (50.4, 31.0), (49.0, 31.5), klass="aircraft")
    # drone from Bryansk shot down over Russia: launch only
    lines += _track("S2", (53.24, 34.36), (52.6, 34.0), intercepted=True)
    # near miss: ends 10 km from Trypilska TPP
    lines += _track("S3", (51.73, 36.19), (50.22, 30.75))
    tracks, errors = read_tracks(lines)
    assert not errors
    found = {(f.track_id, f.rule): f for f in track_findings(tracks, full)}
    assert set(found) == {("S1", Rule.LAUNCH_FROM_TERRITORY), ("S1", Rule.FLIGHT_ACROSS_LINE),
                          ("S1", Rule.STRIKE_ON_PROTECTED_OBJECT), ("S2", Rule.LAUNCH_FROM_TERRITORY),
                          ("S3", Rule.LAUNCH_FROM_TERRITORY), ("S3", Rule.FLIGHT_ACROSS_LINE)}
    assert all(f.party == "RU" for f in found.values())
    strike = found[("S1", Rule.STRIKE_ON_PROTECTED_OBJECT)]
    assert strike.attributes["object_id"] == "zmiivska"
    cross = found[("S1", Rule.FLIGHT_ACROSS_LINE)]
    assert full.side_of([cross.lat], [cross.lon])[0] == "UA"


def test_energy_only_ceasefire_cares_only_where_tracks_end(full, energy):
    lines = _track("S1", (51.73, 36.19), (49.59, 36.52))
    lines += _track("S3", (51.73, 36.19), (50.22, 30.75))
    lines += _track("U1", (51.3, 33.6), (54.57, 39.73), klass="unknown", intercepted=True)  # UA drone at Ryazan refinery
    tracks, _ = read_tracks(lines)
    found = track_findings(tracks, energy)
    assert {(f.track_id, f.rule) for f in found} == {("S1", Rule.STRIKE_ON_PROTECTED_OBJECT),
                                                   ("U1", Rule.STRIKE_ON_PROTECTED_OBJECT)}
    u1 = next(f for f in found if f.track_id == "U1")
    assert u1.party == "UA" and u1.attributes["intercepted"] is True


def test_origin_on_a_boundary_is_undetermined(full):
    # first point 300 m from the contact line with a 5 km error circle
    lat, lon = 48.6, 37.95
    d = float(full.distance_to_line_m([lat], [lon])[0])
    lines = [json.dumps({"track_id": "X", "t": T0 + k, "lat": lat + 0.01 * k, "lon": lon, "classification": "shahed",
                         "err_m": d + 5000}) for k in range(3)]
    tracks, _ = read_tracks(lines)
    launch = [f for f in track_findings(tracks, full) if f.rule == Rule.LAUNCH_FROM_TERRITORY]
    assert launch and launch[0].party == "undetermined"


def test_observations_and_findings_from_observations(full):
    tracks, _ = read_tracks(_track("S1", (51.73, 36.19), (49.59, 36.52), n=200))
    obs = track_observations(tracks, "airpicture:test")
    o = obs[0]
    assert o.kind == ObservationKind.AIR_TRACK
    assert o.attributes["origin"]["lat"] == pytest.approx(51.73)
    assert (o.location.lat, o.location.lon) == pytest.approx((49.59, 36.52))
    assert 2 <= len(o.attributes["path"]) < 20  # a straight line simplifies to its ends
    assert o.attributes["path"][0][2] == T0
    assert track_observations(tracks, "airpicture:test")[0].id == o.id
    rules = {f.rule for f in track_findings(obs, full)}
    assert rules == {Rule.LAUNCH_FROM_TERRITORY, Rule.FLIGHT_ACROSS_LINE, Rule.STRIKE_ON_PROTECTED_OBJECT}
    assert all(f.observation_id == o.id for f in track_findings(obs, full))


def test_simulation_truth_and_cli(tmp_path, full):
    from trucewatch.cli import app
    from trucewatch.sim.air import simulate_air

    sim = simulate_air(np.random.default_rng(3), full, drones=15, cruise=2, ballistic=2, ua_drones=2, patrols=1,
                       near_misses=2)
    tracks, errors = read_tracks(sim.track_lines)
    assert not errors
    found = {(f.track_id, f.rule.value) for f in track_findings(tracks, full)}
    truth = {(t.track_id, r) for t in sim.truth for r in t.rules}
    tp = len(found & truth)
    assert 2 * tp / (len(found) + len(truth)) >= 0.85
    sim.write(tmp_path)
    r = CliRunner().invoke(app, ["air", "tracks", str(tmp_path / "tracks.jsonl"), "--json"])
    assert r.exit_code == 0, r.output
    assert len(json.loads(r.stdout)["findings"]) == len(found)
