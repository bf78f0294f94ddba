"""Night strike waves: launch areas, counts, routes, interceptions; tracks and the morning summary.

One wave per night (18:00 to 08:30 Kyiv time): Shahed-type drones from the
usual launch areas (launch_areas table), cruise and ballistic missiles, aimed
at random places on Ukraine's side and at protected energy objects; most are
intercepted somewhere along the route.  Added so that the rules have work that
is not a violation, or is one by the other party:
- Ukrainian long-range drones from Ukraine's side at Russian refineries;
- patrol aircraft flying racetracks on Ukraine's side (no crossing);
- drones that end 5-15 km from a protected object (near misses).

Outputs: the track points as JSONL lines (trucewatch.sources.air.tracks
format; radar picks a track up 5-40 km after launch; 200 m position noise),
the Air Force-style morning summary per night (Ukrainian text), and the truth:
per track the rules it really broke, judged on the noise-free geometry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from trucewatch.agreement import Agreement, load_agreement
from trucewatch.geo import LocalFrame, haversine_m
from trucewatch.model import Observation, Rule
from trucewatch.sim.scenario import Scenario
from trucewatch.sources.air.intake import Post, process_posts
from trucewatch.sources.air.launch_areas import table
from trucewatch.sources.air.rules import FLIGHT_CLASSES, STRIKE_CLASSES
from trucewatch.sources.air.tracks import read_tracks, track_observations

AGREEMENT = Path(__file__).resolve().parents[1] / "data" / "agreements" / "ua-ru-2026" / "agreement.yaml"
KYIV = ZoneInfo("Europe/Kyiv")

DRONE_SITES = ["kursk", "oryol", "bryansk", "millerovo", "primorsko-akhtarsk", "shatalovo", "hvardiiske", "chauda", "navlya"]
MISSILE_SITES = {"cruise_missile": ["engels", "black-sea", "volgograd"], "ballistic_missile": ["kursk", "bryansk", "crimea", "voronezh"]}
SPEED = {"shahed": 50.0, "cruise_missile": 230.0, "ballistic_missile": 1200.0, "aircraft": 220.0, "unknown": 45.0}
STEP_S = {"shahed": 30.0, "cruise_missile": 10.0, "ballistic_missile": 2.0, "aircraft": 20.0, "unknown": 30.0}
NOISE_M = 200.0
#: Ukrainian long-range drone launch area (Sumy/Chernihiv oblasts) for the "other party" tracks.
UA_SITES = [(51.3, 33.6), (51.5, 32.2), (50.6, 34.9)]


@dataclass
class TruthTrack:
    track_id: str
    classification: str
    party: str
    launch: tuple[float, float]
    end: tuple[float, float]
    intercepted: bool
    rules: list[str]
    target: str = ""


@dataclass
class AirSim:
    track_lines: list[str]
    summaries: list[dict[str, Any]]
    truth: list[TruthTrack]
    observations: list[Observation] = field(default_factory=list)

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "tracks.jsonl").write_text("\n".join(self.track_lines) + "\n", encoding="utf-8")
        (directory / "summaries.jsonl").write_text(
            "".join(json.dumps({k: v for k, v in s.items() if k != "expected"}, ensure_ascii=False) + "\n"
                    for s in self.summaries), encoding="utf-8")
        (directory / "summaries_truth.jsonl").write_text(
            "".join(json.dumps({"id": s["id"], "expected": s["expected"]}) + "\n" for s in self.summaries),
            encoding="utf-8")
        (directory / "air_truth.json").write_text(json.dumps([t.__dict__ for t in self.truth], indent=1, default=list))


def _area(aid: str) -> tuple[float, float]:
    a = next(x for x in table() if x.id == aid)
    return a.lat, a.lon


def _ua_points(agr: Agreement, rng: np.random.Generator, n: int, party: str = "UA") -> np.ndarray:
    out: list[np.ndarray] = []
    while sum(len(o) for o in out) < n:
        lat = rng.uniform(46.0, 51.8, 4 * n)
        lon = rng.uniform(23.5, 38.5, 4 * n)
        ok = agr.side_of(lat, lon) == party
        ok &= agr.distance_to_line_m(lat, lon) > 30_000
        out.append(np.column_stack([lat[ok], lon[ok]]))
    return np.concatenate(out)[:n]


def _route(a: tuple[float, float], b: tuple[float, float], rng: np.random.Generator, wiggle_m: float) -> np.ndarray:
    """Launch -> one off-line waypoint -> target, as (lat, lon) vertices."""
    fr = LocalFrame((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    e, n = fr.to_en(np.array([a[0], b[0]]), np.array([a[1], b[1]]))
    mx, my = (e[0] + e[1]) / 2, (n[0] + n[1]) / 2
    dx, dy = e[1] - e[0], n[1] - n[0]
    L = float(np.hypot(dx, dy)) + 1e-9
    off = rng.uniform(-wiggle_m, wiggle_m)
    wx, wy = mx - dy / L * off, my + dx / L * off
    la, lo = fr.to_latlon(np.array([e[0], wx, e[1]]), np.array([n[0], wy, n[1]]))
    return np.column_stack([la, lo])


def _sample(route: np.ndarray, speed: float, step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    seg = haversine_m(route[:-1, 0], route[:-1, 1], route[1:, 0], route[1:, 1])
    cum = np.r_[0.0, np.cumsum(seg)]
    s = np.arange(0.0, cum[-1], speed * step)
    s = np.r_[s, cum[-1]]
    return np.interp(s, cum, route[:, 0]), np.interp(s, cum, route[:, 1]), s


def _truth_rules(agr: Agreement, klass: str, lat: np.ndarray, lon: np.ndarray, intercepted: bool) -> list[str]:
    out = []
    side0 = str(agr.side_of(lat[:1], lon[:1])[0])
    if agr.rules_of(Rule.LAUNCH_FROM_TERRITORY) and klass in STRIKE_CLASSES and side0:
        out.append(Rule.LAUNCH_FROM_TERRITORY.value)
    if agr.rules_of(Rule.FLIGHT_ACROSS_LINE) and klass in FLIGHT_CLASSES:
        sides = agr.side_of(lat, lon).astype(str)
        s = sides[sides != ""]
        if s.size >= 2 and np.any(s[1:] != s[:-1]):
            out.append(Rule.FLIGHT_ACROSS_LINE.value)
    for r in agr.rules_of(Rule.STRIKE_ON_PROTECTED_OBJECT):
        if klass not in STRIKE_CLASSES:
            continue
        j, d = agr.nearest_protected(lat[-1:], lon[-1:], list(r.applies_to) or None)
        if j[0] >= 0 and d[0] <= agr.protected[int(j[0])].radius_m:
            out.append(Rule.STRIKE_ON_PROTECTED_OBJECT.value)
            break
    return out


def simulate_air(rng: np.random.Generator | None = None, agreement: Agreement | None = None, *, day: str = "2026-03-15",
                 nights: int = 1, drones: int = 60, cruise: int = 6, ballistic: int = 4, ua_drones: int = 6,
                 patrols: int = 3, near_misses: int = 4, p_intercept: float = 0.75) -> AirSim:
    """Simulate ``nights`` strike waves; see the module docstring."""
    rng = rng or np.random.default_rng(1)
    agr = agreement or load_agreement(AGREEMENT)
    energy_ua = [p for p in agr.protected if p.category == "energy" and agr.side_of(np.array([p.lat]), np.array([p.lon]))[0] == "UA"]
    energy_ru = [p for p in agr.protected if p.category == "energy" and agr.side_of(np.array([p.lat]), np.array([p.lon]))[0] == "RU"]
    lines: list[str] = []
    truth: list[TruthTrack] = []
    summaries: list[dict[str, Any]] = []
    d0 = datetime.fromisoformat(day).replace(tzinfo=KYIV)
    for night in range(nights):
        start = (d0 + timedelta(days=night)).replace(hour=18).astimezone(UTC).timestamp()
        counts: dict[str, list[int]] = {}
        areas_used: dict[str, set[str]] = {}
        jobs: list[tuple[str, str, tuple[float, float], tuple[float, float], str, float]] = []
        targets = _ua_points(agr, rng, drones + cruise + ballistic)
        ti = 0
        for klass, n, sites in (("shahed", drones, DRONE_SITES), ("cruise_missile", cruise, MISSILE_SITES["cruise_missile"]),
                                ("ballistic_missile", ballistic, MISSILE_SITES["ballistic_missile"])):
            for _ in range(n):
                site = str(rng.choice(sites))
                a = _area(site)
                a = (a[0] + rng.normal(0, 0.02), a[1] + rng.normal(0, 0.02))
                r = rng.random()
                if r < 0.15 and energy_ua:
                    obj = energy_ua[int(rng.integers(len(energy_ua)))]
                    b, tgt = (obj.lat + rng.normal(0, 0.002), obj.lon + rng.normal(0, 0.002)), obj.id
                else:
                    b, tgt = (float(targets[ti, 0]), float(targets[ti, 1])), ""
                ti += 1
                jobs.append((klass, site, a, b, tgt, p_intercept if klass != "ballistic_missile" else 0.4))
        for _ in range(near_misses):
            if not energy_ua:
                break
            obj = energy_ua[int(rng.integers(len(energy_ua)))]
            ang = rng.uniform(0, 2 * np.pi)
            dist = rng.uniform(5_000, 15_000)
            b = (obj.lat + dist * np.cos(ang) / 111_320, obj.lon + dist * np.sin(ang) / (111_320 * np.cos(np.radians(obj.lat))))
            site = str(rng.choice(DRONE_SITES))
            jobs.append(("shahed", site, _area(site), b, f"near:{obj.id}", 0.0))
        for _ in range(ua_drones):
            if not energy_ru:
                break
            obj = energy_ru[int(rng.integers(len(energy_ru)))]
            a = UA_SITES[int(rng.integers(len(UA_SITES)))]
            jobs.append(("unknown", "ua", a, (obj.lat + rng.normal(0, 0.002), obj.lon + rng.normal(0, 0.002)), obj.id, 0.3))
        for k, (klass, site, a, b, tgt, p_i) in enumerate(jobs):
            tid = f"N{night}-{k:04d}"
            route = _route(a, b, rng, 0 if klass == "ballistic_missile" else 60_000)
            lat, lon, s = _sample(route, SPEED[klass], STEP_S[klass])
            intercepted = rng.random() < p_i
            if intercepted:
                cut = max(3, int(len(s) * rng.uniform(0.3, 0.95)))
                lat, lon, s = lat[:cut], lon[:cut], s[:cut]
            party = "UA" if site == "ua" else "RU"
            rules = _truth_rules(agr, klass, lat, lon, intercepted)
            truth.append(TruthTrack(tid, klass, party, (float(lat[0]), float(lon[0])), (float(lat[-1]), float(lon[-1])),
                                    intercepted, rules, tgt))
            if site != "ua":
                counts.setdefault(klass, [0, 0])
                counts[klass][0] += 1
                counts[klass][1] += int(intercepted)
                areas_used.setdefault(klass, set()).add(site)
            # radar picks the track up some way after launch
            seen = s >= rng.uniform(5_000, 40_000) if s[-1] > 45_000 else np.ones(len(s), bool)
            t0 = start + rng.uniform(0, 8 * 3600)
            t = t0 + s / SPEED[klass]
            nlat = lat + rng.normal(0, NOISE_M / 111_320, len(lat))
            nlon = lon + rng.normal(0, NOISE_M / (111_320 * np.cos(np.radians(lat))), len(lat))
            idx = np.flatnonzero(seen)
            for j in idx.tolist():
                rec = {"track_id": tid, "t": round(float(t[j]), 1), "lat": round(float(nlat[j]), 5),
                       "lon": round(float(nlon[j]), 5), "alt_m": 150 if klass == "shahed" else 60 if klass == "cruise_missile" else 20000,
                       "speed_mps": SPEED[klass], "classification": klass, "err_m": 500}
                if intercepted and j == idx[-1]:
                    rec["intercepted"] = True
                lines.append(json.dumps(rec))
        for _ in range(patrols):
            c = _ua_points(agr, rng, 1)[0]
            turn = np.linspace(0, 4 * np.pi, 200)
            plat = c[0] + 0.3 * np.sin(turn)
            plon = c[1] + 0.5 * np.cos(turn)
            tid = f"N{night}-P{len(truth):04d}"
            rules = _truth_rules(agr, "aircraft", plat, plon, False)
            truth.append(TruthTrack(tid, "aircraft", "UA", (float(plat[0]), float(plon[0])), (float(plat[-1]), float(plon[-1])),
                                    False, rules, "patrol"))
            t0 = start + rng.uniform(0, 8 * 3600)
            for j in range(len(turn)):
                lines.append(json.dumps({"track_id": tid, "t": round(t0 + 20.0 * j, 1), "lat": round(float(plat[j]), 5),
                                         "lon": round(float(plon[j]), 5), "alt_m": 6000, "speed_mps": 220,
                                         "classification": "aircraft", "err_m": 500}))
        summaries.append(_summary_post(night, d0 + timedelta(days=night + 1), counts, areas_used))
    lines.sort(key=lambda ln: json.loads(ln)["t"])
    return AirSim(lines, summaries, truth)


_UK_INS = {"shahed": "ударними БпЛА типу Shahed, Гербера та дронами-імітаторами різних типів",
           "cruise_missile": "крилатими ракетами Х-101", "ballistic_missile": "балістичними ракетами Іскандер-М/KN-23"}
_UK_GEN = {"shahed": "ворожих БпЛА типу Shahed, Гербера та дронів-імітаторів", "cruise_missile": "крилатих ракет Х-101",
           "ballistic_missile": "балістичних ракет Іскандер-М/KN-23"}
_UK_NAMES = {"kursk": "Курськ", "oryol": "Орел", "bryansk": "Брянськ", "millerovo": "Міллерово",
             "primorsko-akhtarsk": "Приморсько-Ахтарськ", "shatalovo": "Шаталово", "hvardiiske": "Гвардійське – ТОТ Криму",
             "chauda": "Чауда – ТОТ Криму", "navlya": "Навля", "engels": "Енгельс", "black-sea": "акваторія Чорного моря",
             "volgograd": "Волгоградська область", "crimea": "ТОТ Криму", "voronezh": "Воронезька область"}
_MONTHS = ["січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня",
           "листопада", "грудня"]


def _summary_post(night: int, morning: datetime, counts: dict[str, list[int]], areas: dict[str, set[str]]) -> dict[str, Any]:
    prev = morning - timedelta(days=1)
    total = sum(c[0] for c in counts.values())
    parts = []
    for k in ("shahed", "cruise_missile", "ballistic_missile"):
        if k in counts:
            src = "" if k == "shahed" else " з районів: " + ", ".join(_UK_NAMES[a] for a in sorted(areas[k]))
            parts.append(f"{counts[k][0]} {_UK_INS[k]}{src}")
    text = (f"У ніч на {morning.day} {_MONTHS[morning.month - 1]} (з 18:00 {prev.day} {_MONTHS[prev.month - 1]}) противник "
            f"атакував {total} засобами повітряного нападу: " + ", ".join(parts) + ".\n"
            "Напрямки пуску ударних БпЛА – " + ", ".join(_UK_NAMES[a] for a in sorted(areas.get("shahed", set()))) + ".\n"
            f"За попередніми даними, станом на 08:30, протиповітряною обороною збито/подавлено "
            f"{sum(c[1] for c in counts.values())} засобів повітряного нападу противника:\n"
            + "\n".join(f"– {counts[k][1]} {_UK_GEN[k]};" for k in counts if counts[k][1]))
    published = morning.replace(hour=9, minute=0).astimezone(UTC)
    # the text-report intake's JSONL record (id, source, published_at, text, lang); ``expected`` is the
    # truth and is written to its own file, never into the posts
    return {"id": f"sim-airforce-{night}", "source": "kpszsu (simulated)", "published_at": published.isoformat(),
            "text": text, "lang": "uk",
            "expected": {k: {"launched": v[0], "intercepted": v[1]} for k, v in counts.items()}}


def simulate(scenario: Scenario | None = None, rng: np.random.Generator | None = None, **kw: Any) -> AirSim:
    """Entry point for the scenario simulator: waves on the scenario's night, with AIR_TRACK and
    AIR_SUMMARY observations as the air stage produces them."""
    if scenario is not None and getattr(scenario, "day", None):
        prev = (datetime.fromisoformat(scenario.day) - timedelta(days=1)).date().isoformat()
        kw.setdefault("day", prev)
    sim = simulate_air(rng, **kw)
    tracks, _ = read_tracks(sim.track_lines)
    sim.observations = track_observations(tracks, "airpicture:sim")
    posts = [Post(s["id"], datetime.fromisoformat(s["published_at"]), s["text"], s["source"]) for s in sim.summaries]
    sim.observations += process_posts(posts, "airforce:sim")[1]
    return sim
