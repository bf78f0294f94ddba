"""Vessel incidents on hand-made tracks and on simulated traffic."""

from __future__ import annotations

import json
from functools import reduce
from pathlib import Path

import numpy as np
import pytest
from pyais.encode import encode_dict
from typer.testing import CliRunner

from trucewatch.model import ObservationKind
from trucewatch.sources.sea.incidents import detect_incidents
from trucewatch.sources.sea.nmea import Positions, StaticReport
from trucewatch.sources.sea.pipeline import process_lines
from trucewatch.sources.sea.tracks import build_tracks

MARITIME = Path(__file__).resolve().parents[3] / "trucewatch" / "data" / "agreements" / "black-sea-maritime" / "agreement.yaml"
T0 = 1_773_532_800.0  # 2026-03-15


@pytest.fixture(scope="module")
def maritime():
    from trucewatch.agreement import load_agreement

    return load_agreement(MARITIME)


def _pos(rows: list[tuple[int, float, float, float]], sog: float = 10.0) -> Positions:
    """rows: (mmsi, t, lat, lon)."""
    a = np.array(rows, float)
    n = len(a)
    return Positions(a[:, 1], a[:, 0].astype(np.int64), a[:, 2], a[:, 3], np.full(n, sog), np.zeros(n), np.zeros(n),
                     np.ones(n, np.int8), np.zeros(n, np.int8), np.arange(n, dtype=np.int64))


def _line(t0: float, lat0: float, lon0: float, dlat: float, n: int, dt: float, mmsi: int) -> list[tuple[int, float, float, float]]:
    return [(mmsi, t0 + k * dt, lat0 + k * dlat, lon0) for k in range(n)]


def test_barred_vessel_in_zone_uses_static_type_and_naval_list(maritime):
    # a warship sailing north into the Zmiinyi zone (20 km around 45.255 N 30.204 E)
    rows = _line(T0, 44.90, 30.20, 0.005, 120, 60, 273100200)
    # a cargo ship on the same course: not barred
    rows += _line(T0, 44.90, 30.25, 0.005, 120, 60, 538000001)
    # an unidentified vessel that a naval MMSI list names
    rows += _line(T0, 44.90, 30.15, 0.005, 120, 60, 273999999)
    statics = [StaticReport(273100200, T0, 5, 1, "WARSHIP", None, 35), StaticReport(538000001, T0, 5, 2, "CARGO", None, 70)]
    tr = build_tracks(_pos(rows), statics, naval_mmsi={273999999})
    inc = [i for i in detect_incidents(tr, maritime) if i.incident == "barred_vessel_in_zone"]
    got = {(i.mmsi, i.zone_id) for i in inc}
    assert (273100200, "zmiinyi") in got
    assert (273999999, "zmiinyi") in got
    assert not any(i.mmsi == 538000001 for i in inc)
    w = next(i for i in inc if i.mmsi == 273100200)
    assert w.attrs["vessel_type"] == "military" and w.attrs["flag"] == "RU"
    assert next(i for i in inc if i.mmsi == 273999999).attrs["identity_source"] == "naval MMSI list"
    # entry: first report inside, i.e. about 20 km south of the island
    assert 45.05 < w.lat < 45.09


def test_gaps_are_judged_against_the_vessels_own_rate(maritime):
    rows = []
    # fast reporter (10 s) in the corridor off Odesa, dark for 40 min: a gap
    rows += [(538000010, T0 + k * 10, 46.0, 30.6) for k in range(360)]
    rows += [(538000010, T0 + 3600 + 2400 + k * 10, 46.0, 30.6) for k in range(360)]
    # slow reporter (3 min, e.g. at anchor) with a 25 min pause: below the 30-minute floor
    rows += [(538000011, T0 + k * 180, 45.5, 30.3) for k in range(40)]
    rows += [(538000011, T0 + 40 * 180 + 1500 + k * 180, 45.5, 30.3) for k in range(40)]
    # fast reporter dark for 2 h far from every zone (mid Black Sea): not judged
    rows += [(538000012, T0 + k * 10, 43.3, 34.0) for k in range(360)]
    rows += [(538000012, T0 + 3600 + 7200 + k * 10, 43.3, 34.0) for k in range(360)]
    tr = build_tracks(_pos(rows, sog=0.0))
    gaps = [i for i in detect_incidents(tr, maritime) if i.incident == "ais_gap"]
    assert [g.mmsi for g in gaps] == [538000010]
    g = gaps[0]
    assert g.attrs["zone_id"] == "grain-corridor" and abs(g.attrs["gap_s"] - 2410) < 1
    assert abs(g.attrs["usual_interval_s"] - 10) < 1e-6


def test_gap_ellipse_covers_where_the_ship_could_be(maritime):
    rows = [(538000020, T0 + k * 10, 46.0, 30.6) for k in range(100)]
    rows += [(538000020, T0 + 1000 + 3600 + k * 10, 45.8, 30.6) for k in range(100)]
    tr = build_tracks(_pos(rows, sog=10.0))
    g = next(i for i in detect_incidents(tr, maritime) if i.incident == "ais_gap")
    # 10 kn for an hour: 18.5 km; the fixes are 22 km apart, so the ellipse must reach both
    assert g.err_major_m >= 11_000
    assert 45.85 < g.lat < 45.95


def test_spoofing_modes(maritime):
    rows = []
    # jump inland (46.9 N 30.5 E, 30+ km from the coast) for 5 minutes
    rows += _line(T0, 45.0, 30.0, 0.001, 60, 60, 538000030)
    rows += [(538000030, T0 + 3600 + k * 60, 46.9, 30.5) for k in range(5)]
    rows += _line(T0 + 3900, 45.06, 30.0, 0.001, 30, 60, 538000030)
    # impossible speed: 40 km in a minute at sea, then back
    rows += _line(T0, 44.5, 31.5, 0.001, 60, 60, 538000031)
    rows += [(538000031, T0 + 3600, 44.86, 31.5)]
    rows += _line(T0 + 3660, 44.56, 31.5, 0.001, 30, 60, 538000031)
    # three vessels jumping to one point within minutes
    for m, lon in ((538000040, 31.0), (538000041, 31.2), (538000042, 31.4)):
        rows += _line(T0, 43.5, lon, 0.001, 60, 60, m)
        rows += [(m, T0 + 3600 + (m - 538000040) * 120, 44.58, 38.0)]
        rows += _line(T0 + 3900, 43.56, lon, 0.001, 30, 60, m)
    tr = build_tracks(_pos(rows))
    sp = {i.mmsi: i.attrs["spoof_mode"] for i in detect_incidents(tr, maritime) if i.incident == "spoofing"}
    assert sp[538000030] == "on_land"
    assert sp[538000031] == "impossible_speed"
    assert all(sp[m] == "mass_jump" for m in (538000040, 538000041, 538000042))
    assert len(sp) == 5


def test_docked_ship_is_not_on_land(maritime):
    # Odesa port: the coarse coastline puts it "on land", but within the margin
    tr = build_tracks(_pos([(538000050, T0 + k * 60, 46.495, 30.745) for k in range(100)], sog=0.0))
    assert not [i for i in detect_incidents(tr, maritime) if i.incident == "spoofing"]


def test_loitering_but_not_transit(maritime):
    ang = np.arange(0, 4 * 3600, 60) / 600.0
    rows = [(538000060, T0 + k * 60, 45.30 + 0.01 * np.sin(a), 30.35 + 0.014 * np.cos(a)) for k, a in enumerate(ang)]
    rows += _line(T0, 45.0, 30.0, 0.003, 240, 60, 538000061)  # transit at ~10 kn
    tr = build_tracks(_pos(rows, sog=3.0))
    lo = [i for i in detect_incidents(tr, maritime) if i.incident == "loitering"]
    assert [i.mmsi for i in lo] == [538000060]


def test_simulated_traffic_recall_and_observations(maritime):
    from trucewatch.sim.sea import simulate_sea

    sim = simulate_sea(np.random.default_rng(5), hours=12, n_merchants=12, n_dark=4, n_spoof_land=2, n_spoof_speed=2,
                       n_mass=3)
    res = process_lines(sim.lines, maritime, source_id="ais:test", end_time=sim.t1)
    assert not res.errors
    for kind in ("ais_gap", "spoofing", "barred_vessel_in_zone"):
        truth = [t for t in sim.truth if t.incident == kind]
        hit = [t for t in truth if any(i.mmsi == t.mmsi and i.incident == kind for i in res.incidents)]
        assert len(hit) >= 0.9 * len(truth), (kind, len(hit), len(truth))
    obs = res.observations
    assert obs and all(o.kind == ObservationKind.VESSEL_INCIDENT for o in obs)
    for o in obs:
        assert {"incident", "mmsi", "vessel_type", "zone_id", "flag"} <= set(o.attributes)
    again = process_lines(sim.lines, maritime, source_id="ais:test", end_time=sim.t1).observations
    assert [o.id for o in obs] == [o.id for o in again]  # deterministic ids: re-ingest is idempotent
    json.dumps([o.model_dump(mode="json") for o in obs])


def test_cli_incidents_and_errors(tmp_path):
    from trucewatch.cli import app

    line = encode_dict({"type": 1, "mmsi": 538000070, "lat": 46.0, "lon": 30.6}, talker_id="AI", sentence_type="VDM")[0]
    body = "c:1773532800"
    tag = f"\\{body}*{reduce(lambda a, b: a ^ b, body.encode(), 0):02X}\\"
    f = tmp_path / "feed.nmea"
    f.write_text("\n".join([tag + line, line[:-2] + "00", "junk", tag + line]) + "\n")
    out = tmp_path / "obs.jsonl"
    r = CliRunner().invoke(app, ["sea", "incidents", str(f), "--json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert d["stats"]["positions"] == 2
    assert {e["field"] for e in d["errors"]} == {"checksum", "sentence"}
    r = CliRunner().invoke(app, ["sea", "incidents", str(tmp_path / "missing.nmea")])
    assert r.exit_code == 2 and "file not found" in r.output


def test_report_section(maritime):
    from trucewatch.sim.sea import simulate_sea
    from trucewatch.sources.sea.report import sea_section

    sim = simulate_sea(np.random.default_rng(6), hours=8, n_merchants=6, n_dark=2, n_spoof_land=1, n_spoof_speed=1,
                       n_mass=0)
    res = process_lines(sim.lines, maritime, end_time=sim.t1)
    sec = sea_section(res.observations, res.tracks)
    assert sec["incidents"] == len(res.observations)
    assert sum(sum(c.values()) for c in sec["per_zone"].values()) == len(res.observations)
    layers = {f["properties"]["layer"] for f in sec["map"]["features"]}
    assert {"track", "incident"} <= layers
    assert "not absence of a ship" in sec["note"]
    json.dumps(sec)


def test_cli_listen_tcp(tmp_path, tcp_feed):
    from trucewatch.cli import app
    from trucewatch.sim.sea import simulate_sea

    sim = simulate_sea(np.random.default_rng(8), hours=3, n_merchants=3, n_dark=0, n_spoof_land=0, n_spoof_speed=0,
                       n_mass=0)
    port, _ = tcp_feed(("\n".join(sim.lines) + "\n").encode())
    r = CliRunner().invoke(app, ["sea", "listen", "--tcp", f"127.0.0.1:{port}", "--seconds", "20", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert d["stats"]["lines"] == len(sim.lines) and d["stats"]["vessels"] >= 3 and not d["errors"]
    r = CliRunner().invoke(app, ["sea", "listen", "--tcp", "nohostport"])
    assert r.exit_code == 2 and "host:port" in r.output


def test_each_incident_keeps_its_stretch_of_track_for_the_map(maritime):
    from trucewatch.sources.sea.report import map_layer

    rows = [(538000010, T0 + k * 10, 46.0 + k * 1e-4, 30.6) for k in range(360)]
    rows += [(538000010, T0 + 3600 + 2400 + k * 10, 46.1 + k * 1e-4, 30.6) for k in range(360)]
    rows += [(538000099, T0 + k * 10, 44.0, 33.0) for k in range(50)]  # another vessel: not in this track
    tr = build_tracks(_pos(rows, sog=5.0))
    gap = next(i for i in detect_incidents(tr, maritime) if i.incident == "ais_gap")
    trk = gap.attrs["track"]
    assert 2 <= len(trk) <= 60 and all(len(q) == 3 for q in trk)
    assert all(abs(q[2] - gap.t) <= 6 * 3600 for q in trk) and all(abs(q[0] - 30.6) < 1e-6 for q in trk)
    # with no full tracks (what the dashboard reads from the store) the map draws that stretch ...
    obs = process_lines([], maritime).observations  # an empty feed gives no incident
    assert obs == []
    from trucewatch.sources.sea.incidents import incident_observations

    o = incident_observations([gap], "ais:test")[0]
    lines = [f for f in map_layer([o])["features"] if f["properties"]["layer"] == "track"]
    assert len(lines) == 1 and len(lines[0]["geometry"]["coordinates"]) == len(trk)
    # ... and never trusts a stored one blindly: a broken track is left off, the incident stays
    bad = o.model_copy(update={"attributes": {**o.attributes, "track": [["x", 1], [None]]}})
    feats = map_layer([bad])["features"]
    assert [f["properties"]["layer"] for f in feats] == ["gap", "incident"]
