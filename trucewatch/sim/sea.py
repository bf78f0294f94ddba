"""Maritime traffic simulator: real NMEA AIS sentences (encoded with pyais) plus the truth.

What it makes, on the sample maritime agreement (black-sea-maritime):
- merchant vessels shuttling on the grain corridor between the Odesa ports and
  the Bosporus, reporting every ``report_s`` under way and every 3 minutes
  moored, with static (type 5, two-part) messages every 6 minutes;
- reception that drops single reports (``p_drop``) and has short coverage
  holes (log-normal minutes): the honest source of false alarms;
- dark periods (AIS switched off) of 45 minutes to 6 hours in the corridor;
- spoofing: jumps onto land, jumps faster than any ship, and several vessels
  jumping to one point within minutes;
- a naval vessel (ship type 35) sailing from off Crimea into the corridor and
  the Zmiinyi exclusion zone, one that stays outside every zone, and a loiterer.

Every line carries an NMEA 4.0 tag block with the receive time (``\\c:...*hh\\``).
Usable alone (``simulate_sea(rng=...)``) or from a scenario (``simulate(scenario, rng)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
from pyais.encode import encode_dict

from trucewatch.agreement import load_agreement
from trucewatch.geo import haversine_m
from trucewatch.model import Observation
from trucewatch.sim.scenario import Scenario, TruthEvent
from trucewatch.sources.sea.pipeline import process_lines

AGREEMENT = Path(__file__).resolve().parents[1] / "data" / "agreements" / "black-sea-maritime" / "agreement.yaml"
#: Corridor route (lon, lat), Odesa ports to the Bosporus: the same waypoints as the agreement's corridor.
ROUTE = np.array([(30.95, 46.55), (30.80, 46.30), (30.55, 45.90), (30.10, 45.35), (29.75, 44.80), (29.20, 44.10),
                  (28.95, 43.40), (28.80, 42.70), (28.95, 42.00), (29.12, 41.30)])
#: Off south-west Crimea, 57 km from Sevastopol (outside its port zone).
NAVAL_BASE_OFFSHORE = (32.90, 44.35)
ZMIINYI = (30.30, 45.27)
#: Inland points > 15 km from the coast of land.geojson, for on-land spoofing.
INLAND = [(30.5, 46.9), (31.5, 47.2), (29.2, 45.6), (30.3, 46.7), (27.5, 44.3), (34.0, 45.0)]
#: Where a mass jump sends vessels (a real 2017 case put ships at Gelendzhik airport).
MASS_POINT = (38.0, 44.58)
FLAGS_MID = [538, 636, 215, 229, 248, 256, 271, 272, 351, 370, 636, 477, 240, 241, 209]
KNOT = 0.514444


@dataclass
class SeaTruth:
    incident: str  # ais_gap, spoofing, barred_vessel_in_zone, loitering
    mmsi: int
    t_from: float
    t_to: float
    lat: float
    lon: float
    detail: str = ""


@dataclass
class SeaSim:
    lines: list[str]
    truth: list[SeaTruth]
    t0: float
    t1: float
    vessels: dict[int, dict[str, Any]] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)

    def write(self, path: Path) -> None:
        Path(path).write_text("\n".join(self.lines) + "\n", encoding="ascii")


def _tag(t: float) -> str:
    body = f"c:{int(t)}"
    cs = reduce(lambda a, b: a ^ b, body.encode(), 0)
    return f"\\{body}*{cs:02X}\\"


def _route_pos(route: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lat, lon and course at distance ``s`` (m) along ``route`` (lon, lat)."""
    seg = haversine_m(route[:-1, 1], route[:-1, 0], route[1:, 1], route[1:, 0])
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.clip(s, 0, cum[-1])
    lat = np.interp(s, cum, route[:, 1])
    lon = np.interp(s, cum, route[:, 0])
    k = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(seg) - 1)
    dx = (route[k + 1, 0] - route[k, 0]) * np.cos(np.radians(lat))
    dy = route[k + 1, 1] - route[k, 1]
    course = np.degrees(np.arctan2(dx, dy)) % 360
    return lat, lon, course


def _offset(lat: np.ndarray, lon: np.ndarray, course: np.ndarray, metres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift to the right of the course by ``metres``."""
    az = np.radians(course + 90.0)
    dlat = metres * np.cos(az) / 111_320.0
    dlon = metres * np.sin(az) / (111_320.0 * np.cos(np.radians(lat)))
    return lat + dlat, lon + dlon


class _Vessel:
    def __init__(self, mmsi: int, name: str, ship_type: int, t: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                 sog: np.ndarray, cog: np.ndarray, status: np.ndarray) -> None:
        self.mmsi, self.name, self.ship_type = mmsi, name, ship_type
        self.t, self.lat, self.lon, self.sog, self.cog, self.status = t, lat, lon, sog, cog, status
        self.keep = np.ones(len(t), bool)


def _merchant(rng: np.random.Generator, mmsi: int, t0: float, t1: float, report_s: float) -> _Vessel:
    seg = haversine_m(ROUTE[:-1, 1], ROUTE[:-1, 0], ROUTE[1:, 1], ROUTE[1:, 0])
    length = float(seg.sum())
    v = rng.uniform(9, 14) * KNOT
    dwell = rng.uniform(4, 12) * 3600
    leg = length / v
    period = 2 * (leg + dwell)
    t = np.arange(t0 + rng.uniform(0, report_s), t1, report_s)
    ph = (t - t0 + rng.uniform(0, period)) % period
    fwd = ph < leg
    dwell_end = (ph >= leg) & (ph < leg + dwell)
    back = (ph >= leg + dwell) & (ph < 2 * leg + dwell)
    s = np.where(fwd, ph * v, np.where(dwell_end, length, np.where(back, length - (ph - leg - dwell) * v, 0.0)))
    lat, lon, course = _route_pos(ROUTE, s)
    # lateral offset from the route's forward direction, so it does not flip at a turnaround
    lat, lon = _offset(lat, lon, course, np.full(len(t), rng.uniform(-4000, 4000)))
    course = np.where(back, (course + 180) % 360, course)
    under_way = fwd | back
    sog = np.where(under_way, v / KNOT + rng.normal(0, 0.2, len(t)), 0.0)
    status = np.where(under_way, 0, 5)
    # moored: one report in three (3 minutes)
    vs = _Vessel(mmsi, f"MV SIM {mmsi % 10000:04d}", int(rng.choice([70, 71, 79, 80, 82, 89])), t, lat, lon,
                 np.clip(sog, 0, 102), course, status)
    vs.keep &= under_way | (np.arange(len(t)) % 3 == 0)
    return vs


def _naval(rng: np.random.Generator, mmsi: int, t0: float, t1: float, report_s: float, target: tuple[float, float],
           start: tuple[float, float]) -> _Vessel:
    route = np.array([start, target])
    v = 16 * KNOT
    d = float(haversine_m(start[1], start[0], target[1], target[0]))
    t = np.arange(t0 + rng.uniform(0, report_s), t1, report_s)
    tt = t - t0
    go = d / v
    hold = 4 * 3600.0
    s = np.where(tt < go, tt * v, np.where(tt < go + hold, d, np.maximum(d - (tt - go - hold) * v, 0)))
    lat, lon, course = _route_pos(route, s)
    moving = (tt < go) | (tt >= go + hold)
    # holding: small circle near the target
    ang = tt / 900.0
    lat = np.where(moving, lat, lat + 0.005 * np.sin(ang))
    lon = np.where(moving, lon, lon + 0.007 * np.cos(ang))
    sog = np.where(moving, 16.0, 3.0)
    return _Vessel(mmsi, f"WARSHIP {mmsi % 1000:03d}", 35, t, lat, lon, sog, course, np.zeros(len(t), int))


def _loiterer(rng: np.random.Generator, mmsi: int, t0: float, t1: float, report_s: float) -> _Vessel:
    t = np.arange(t0 + rng.uniform(0, report_s), t1, report_s)
    tt = t - t0
    c_lon, c_lat = ZMIINYI[0] + 0.12, ZMIINYI[1] + 0.05
    r = 1500.0
    ang = tt * (3 * KNOT) / r
    lat = c_lat + r * np.sin(ang) / 111_320.0
    lon = c_lon + r * np.cos(ang) / (111_320.0 * np.cos(np.radians(c_lat)))
    # arrive from, and leave towards, the south (straight lines outside the loiter window)
    start, end = t0 + 3 * 3600, t0 + 7 * 3600
    leave = np.clip(t - end, 0.0, 2 * 3600.0)  # two hours south, then at anchor there
    away = np.where(tt < 3 * 3600, (start - t), leave) * 10 * KNOT
    lat = lat - away / 111_320.0
    anchored = t - end > 2 * 3600.0
    lat = np.where(anchored, lat[np.searchsorted(t, end + 2 * 3600.0) - 1] if anchored.any() else lat, lat)
    lon = np.where(anchored, c_lon, lon)
    sog = np.where(anchored, 0.0, np.where(away > 0, 10.0, 3.0))
    return _Vessel(mmsi, f"FV SIM {mmsi % 1000:03d}", 90, t, lat, lon, sog, np.zeros(len(t)), np.where(anchored, 1, 0))


def simulate_sea(rng: np.random.Generator | None = None, *, t0: float | None = None, hours: float = 24.0,
                 n_merchants: int = 30, report_s: float = 60.0, n_dark: int = 8, n_spoof_land: int = 3,
                 n_spoof_speed: int = 3, n_mass: int = 4, p_drop: float = 0.08, holes_per_day: float = 2.0,
                 static_s: float = 360.0) -> SeaSim:
    """Simulate ``hours`` of AIS traffic; see the module docstring."""
    rng = rng or np.random.default_rng(1)
    t0 = float(t0 if t0 is not None else datetime(2026, 3, 15, tzinfo=UTC).timestamp())
    t1 = t0 + hours * 3600.0
    used: set[int] = set()

    def new_mmsi(mid: int | None = None) -> int:
        while True:
            m = int((mid or int(rng.choice(FLAGS_MID))) * 1_000_000 + rng.integers(0, 1_000_000))
            if m not in used:
                used.add(m)
                return m

    vessels = [_merchant(rng, new_mmsi(), t0, t1, report_s) for _ in range(n_merchants)]
    truth: list[SeaTruth] = []
    naval = _naval(rng, new_mmsi(273), t0 + 2 * 3600, t1, report_s, ZMIINYI, NAVAL_BASE_OFFSHORE)
    vessels.append(naval)
    hold = (naval.sog < 5) & (naval.t > (naval.t[0] if len(naval.t) else 0.0))
    if hold.any():
        kh = np.flatnonzero(hold)
        truth.append(SeaTruth("loitering", naval.mmsi, float(naval.t[kh[0]]), float(naval.t[kh[-1]]),
                              float(naval.lat[kh[0]]), float(naval.lon[kh[0]]), "naval vessel holding near Zmiinyi"))
    inz = np.flatnonzero(haversine_m(naval.lat, naval.lon, ZMIINYI[1], ZMIINYI[0]) < 30_000)
    if inz.size:
        kz = int(inz[0])
        truth.append(SeaTruth("barred_vessel_in_zone", naval.mmsi, float(naval.t[kz]), float(naval.t[inz[-1]]),
                              float(naval.lat[kz]), float(naval.lon[kz]), "naval vessel enters the Zmiinyi/corridor zones"))
    vessels.append(_naval(rng, new_mmsi(273), t0, t1, report_s, (36.3, 43.9), (37.0, 44.2)))  # stays outside
    loit = _loiterer(rng, new_mmsi(272), t0, t1, report_s)
    vessels.append(loit)
    truth.append(SeaTruth("loitering", loit.mmsi, t0 + 3 * 3600, t0 + 7 * 3600, ZMIINYI[1] + 0.05, ZMIINYI[0] + 0.12))

    merchants = vessels[:n_merchants]
    busy: dict[int, list[tuple[float, float]]] = {}

    def pick(v: _Vessel, dur: float) -> int | None:
        """A row where the vessel is under way with ``dur`` seconds of clean track after it."""
        ok = np.flatnonzero((v.status == 0) & (v.t < t1 - dur - 3600) & (v.t > t0 + 3600))
        for _ in range(20):
            if ok.size == 0:
                return None
            k = int(rng.choice(ok))
            a, b = float(v.t[k]) - 3 * 3600, float(v.t[k]) + dur + 7 * 3600  # keep incidents apart (detectors merge 6 h)
            if all(b < x or a > y for x, y in busy.get(v.mmsi, [])):
                busy.setdefault(v.mmsi, []).append((a, b))
                return k
        return None

    order = rng.permutation(len(merchants))
    it = iter(order.tolist())
    for _ in range(n_dark):
        v = merchants[next(it, int(rng.integers(len(merchants))))]
        dur = float(rng.uniform(0.75, 6.0) * 3600)
        k = pick(v, dur)
        if k is None:
            continue
        off = (v.t >= v.t[k]) & (v.t < v.t[k] + dur)
        v.keep &= ~off
        truth.append(SeaTruth("ais_gap", v.mmsi, float(v.t[k]), float(v.t[k] + dur), float(v.lat[k]), float(v.lon[k]),
                              f"dark for {dur / 3600:.1f} h"))
    for mode, n in (("on_land", n_spoof_land), ("impossible_speed", n_spoof_speed)):
        for _ in range(n):
            v = merchants[next(it, int(rng.integers(len(merchants))))]
            dur = float(rng.uniform(5, 30) * 60)
            k = pick(v, dur)
            if k is None:
                continue
            sel = (v.t >= v.t[k]) & (v.t < v.t[k] + dur)
            if mode == "on_land":
                lon_s, lat_s = INLAND[int(rng.integers(len(INLAND)))]
                v.lat[sel] = lat_s + rng.normal(0, 0.002, sel.sum())
                v.lon[sel] = lon_s + rng.normal(0, 0.002, sel.sum())
            else:
                v.lat[sel] += rng.choice([-1, 1]) * rng.uniform(0.3, 0.8)
                v.lon[sel] += rng.choice([-1, 1]) * rng.uniform(0.3, 0.8)
            v.keep[np.flatnonzero(sel)[:1]] = True
            truth.append(SeaTruth("spoofing", v.mmsi, float(v.t[k]), float(v.t[k] + dur), float(v.lat[k]),
                                  float(v.lon[k]), mode))
    if n_mass:
        tm = t0 + rng.uniform(0.3, 0.7) * (t1 - t0)
        for _ in range(n_mass):
            v = merchants[next(it, int(rng.integers(len(merchants))))]
            k = int(np.searchsorted(v.t, tm + rng.uniform(0, 900)))
            if k >= len(v.t) - 30:
                continue
            if any(not (v.t[k] + 1800 + 7 * 3600 < x or v.t[k] - 3 * 3600 > y) for x, y in busy.get(v.mmsi, [])):
                continue
            busy.setdefault(v.mmsi, []).append((float(v.t[k]) - 3 * 3600, float(v.t[k]) + 8 * 3600))
            sel = (v.t >= v.t[k]) & (v.t < v.t[k] + 1800)
            v.lat[sel] = MASS_POINT[1] + rng.normal(0, 0.001, sel.sum())
            v.lon[sel] = MASS_POINT[0] + rng.normal(0, 0.001, sel.sum())
            v.keep[np.flatnonzero(sel)[:1]] = True
            truth.append(SeaTruth("spoofing", v.mmsi, float(v.t[k]), float(v.t[k] + 1800), MASS_POINT[1], MASS_POINT[0],
                                  "mass_jump"))

    # reception: single drops and short coverage holes (not incidents)
    for v in vessels:
        v.keep &= rng.random(len(v.t)) >= p_drop
        n_holes = rng.poisson(holes_per_day * hours / 24.0)
        for _ in range(n_holes):
            a = rng.uniform(t0, t1)
            d = float(np.exp(rng.normal(np.log(240.0), 0.8)))
            v.keep &= ~((v.t >= a) & (v.t < a + d))

    # encode
    recs: list[tuple[float, str]] = []
    vessels = [v for v in vessels if len(v.t)]  # short runs: the naval vessel may not have sailed yet
    for v in vessels:
        for i in np.flatnonzero(v.keep).tolist():
            msg = {"type": 1, "mmsi": v.mmsi, "status": int(v.status[i]), "speed": float(round(v.sog[i], 1)),
                   "lon": float(v.lon[i]), "lat": float(v.lat[i]), "course": float(round(v.cog[i], 1) % 360),
                   "heading": round(v.cog[i]) % 360, "second": int(v.t[i]) % 60, "accuracy": 1}
            recs.append((float(v.t[i]), encode_dict(msg, talker_id="AI", sentence_type="VDM",
                                                      radio_channel="A" if i % 2 else "B")[0]))
        for j, ts in enumerate(np.arange(v.t[0] + rng.uniform(0, static_s), t1, static_s).tolist()):
            if rng.random() < p_drop:
                continue
            parts = encode_dict({"type": 5, "mmsi": v.mmsi, "shipname": v.name, "callsign": f"S{v.mmsi % 100000:05d}",
                                 "ship_type": v.ship_type, "imo": 9_000_000 + v.mmsi % 999_999, "ais_version": 0,
                                 "destination": "ODESA"}, talker_id="AI", sentence_type="VDM", seq_id=j % 10)
            recs.extend((ts + 1e-3 * q, p) for q, p in enumerate(parts))
    recs.sort(key=lambda r: r[0])
    lines = [_tag(t) + s for t, s in recs]
    info = {v.mmsi: {"name": v.name, "ship_type": v.ship_type} for v in vessels}
    return SeaSim(lines, truth, t0, t1, info)


def simulate(scenario: Scenario | None = None, rng: np.random.Generator | None = None, **kw: Any) -> SeaSim:
    """Entry point for the scenario simulator: AIS traffic over the scenario's day, with
    the observations the AIS stage derives from it (judged on the maritime agreement)."""
    if scenario is not None and getattr(scenario, "day", None):
        kw.setdefault("t0", datetime.fromisoformat(scenario.day).replace(tzinfo=UTC).timestamp())
    sim = simulate_sea(rng, **kw)
    res = process_lines(sim.lines, load_agreement(AGREEMENT), source_id="ais:sim", end_time=sim.t1)
    sim.observations = res.observations
    return sim


def truth_events(sim: SeaSim) -> list[Any]:
    """The truth as scenario TruthEvents (kind ``vessel_incident``)."""

    out = []
    for i, tr in enumerate(sim.truth):
        barred = tr.incident == "barred_vessel_in_zone"
        out.append(TruthEvent(id=f"sea-{i}", kind="vessel_incident",
                              time=datetime.fromtimestamp(tr.t_from, tz=UTC).isoformat(), lat=tr.lat, lon=tr.lon,
                              violation=barred, rule="naval_vessel_in_zone" if barred else None,
                              party="RU" if barred else None,
                              attributes={"incident": tr.incident, "mmsi": tr.mmsi, "detail": tr.detail,
                                          "t_to": datetime.fromtimestamp(tr.t_to, tz=UTC).isoformat()}))
    return out
