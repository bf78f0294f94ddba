"""Scenario simulator: ground truth of one or more days along a real contact line.

A scenario is a list of :class:`TruthEvent` (what really happened, which of it
breaks the agreement, by whom and where) produced from a seed.  Source
simulators (trucewatch.sim.observe and the per-source modules) turn the truth
into the observations the mission's sources would have produced.  The truth is
written as ``truth.json``, the form ``trucewatch score`` reads.

Scenario names: ``demo`` (one day, every land rule, moderate load), ``quiet``
(one day, few incidents), ``heavy`` (one day, dense shelling).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from trucewatch.agreement import Agreement
from trucewatch.model import Rule

SCENARIOS: dict[str, dict[str, int]] = {
    #            fire across, own-side blasts, weapons in zone, weapons outside, protected strikes, jamming, field fires
    "demo": dict(fire=40, own_side=15, weapon_in=10, weapon_out=8, protected=2, jamming=3, field_fires=25),
    "quiet": dict(fire=5, own_side=5, weapon_in=2, weapon_out=4, protected=0, jamming=1, field_fires=15),
    "heavy": dict(fire=400, own_side=60, weapon_in=30, weapon_out=20, protected=6, jamming=8, field_fires=40),
}

#: Typical ranges (km) of the weapons the simulator fires across the line.
WEAPON_RANGES_KM = {"mortar": (2, 7), "artillery": (8, 25), "mlrs": (10, 35)}
#: Sighting classes placed by the simulator and the weapon class they belong to.
SIGHTING_CLASSES = ["tank", "towed_artillery", "self_propelled_artillery", "mlrs", "heavy_mlrs"]


@dataclass
class TruthEvent:
    id: str
    kind: str  # fire, own_side_blast, weapon_presence, strike, jamming, field_fire
    time: str  # ISO 8601 UTC
    lat: float
    lon: float
    violation: bool
    rule: str | None = None
    party: str | None = None
    origin: dict[str, Any] | None = None  # lat, lon (float), time (ISO 8601)
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def t(self) -> float:
        return datetime.fromisoformat(self.time).timestamp()


@dataclass
class Scenario:
    name: str
    seed: int
    day: str
    agreement_id: str
    events: list[TruthEvent]

    def violations(self) -> list[dict[str, Any]]:
        return [
            {"id": e.id, "rule": e.rule, "party": e.party, "time": e.time, "lat": e.lat, "lon": e.lon,
             "origin": e.origin, "kind": e.kind}
            for e in self.events if e.violation
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.name, "seed": self.seed, "day": self.day, "agreement": self.agreement_id,
            "events": [asdict(e) for e in self.events], "violations": self.violations(),
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1))

    @classmethod
    def read(cls, path: Path) -> Scenario:
        d = json.loads(Path(path).read_text())
        return cls(d["scenario"], d["seed"], d["day"], d["agreement"], [TruthEvent(**e) for e in d["events"]])


def _iso(t: float) -> str:
    return datetime.fromtimestamp(float(t), tz=UTC).isoformat()


class _Placer:
    """Random points at a chosen distance from the line on a chosen party's side."""

    def __init__(self, agreement: Agreement, rng: np.random.Generator) -> None:
        self.agr = agreement
        self.rng = rng
        parts = list(agreement.line_en.geoms) if hasattr(agreement.line_en, "geoms") else [agreement.line_en]
        self.main = max(parts, key=lambda p: p.length)  # the long line, not border pockets

    def near_line(self, n: int, party: str, d_min_km: float, d_max_km: float) -> tuple[np.ndarray, np.ndarray]:
        out_lat: list[np.ndarray] = []
        out_lon: list[np.ndarray] = []
        need = n
        for _ in range(50):
            if need <= 0:
                break
            m = need * 3 + 10
            s = self.rng.uniform(0.03, 0.97, m) * self.main.length
            p = shapely.line_interpolate_point(self.main, s)
            q = shapely.line_interpolate_point(self.main, s + 50.0)
            tx, ty = shapely.get_x(q) - shapely.get_x(p), shapely.get_y(q) - shapely.get_y(p)
            norm = np.hypot(tx, ty) + 1e-9
            nx, ny = -ty / norm, tx / norm
            d = self.rng.uniform(d_min_km, d_max_km, m) * 1000.0 * self.rng.choice([-1.0, 1.0], m)
            e = shapely.get_x(p) + nx * d
            nn = shapely.get_y(p) + ny * d
            lat, lon = self.agr.frame.to_latlon(e, nn)
            side = self.agr.side_of(lat, lon)
            dist = self.agr.distance_to_line_m(lat, lon)
            ok = (side == party) & (dist >= d_min_km * 1000 * 0.98) & (dist <= d_max_km * 1000 * 1.02)
            out_lat.append(lat[ok][:need])
            out_lon.append(lon[ok][:need])
            need -= min(int(ok.sum()), need)
        lat = np.concatenate(out_lat)[:n]
        lon = np.concatenate(out_lon)[:n]
        if len(lat) < n:
            raise RuntimeError(f"could not place {n} points on {party}'s side at {d_min_km}-{d_max_km} km")
        return lat, lon

    def toward_line(self, lat: np.ndarray, lon: np.ndarray, range_km: np.ndarray, other: str) -> tuple[np.ndarray, np.ndarray]:
        """Impact points ``range_km`` from each origin on ``other``'s side (rejection sampling)."""
        e0, n0 = self.agr.frame.to_en(lat, lon)
        out_lat = np.full(len(lat), np.nan)
        out_lon = np.full(len(lat), np.nan)
        todo = np.arange(len(lat))
        for _ in range(200):
            if todo.size == 0:
                break
            ang = self.rng.uniform(0, 2 * np.pi, todo.size)
            e = e0[todo] + np.cos(ang) * range_km[todo] * 1000
            n = n0[todo] + np.sin(ang) * range_km[todo] * 1000
            la, lo = self.agr.frame.to_latlon(e, n)
            ok = (self.agr.side_of(la, lo) == other) & (self.agr.distance_to_line_m(la, lo) > 800)
            out_lat[todo[ok]] = la[ok]
            out_lon[todo[ok]] = lo[ok]
            todo = todo[~ok]
        if todo.size:
            # range too short to cross here: stretch it
            range_km[todo] *= 1.5
            la, lo = self.toward_line(lat[todo], lon[todo], range_km[todo], other)
            out_lat[todo], out_lon[todo] = la, lo
        return out_lat, out_lon


def make_scenario(agreement: Agreement, name: str = "demo", seed: int = 1, day: str = "2026-03-15") -> Scenario:
    """Generate ground truth for one day (UTC) under ``agreement``."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    counts = SCENARIOS[name]
    rng = np.random.default_rng(seed)
    place = _Placer(agreement, rng)
    t0 = datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()
    parties = agreement.parties[:2]
    events: list[TruthEvent] = []

    def times(n: int, night_bias: bool = False) -> np.ndarray:
        if night_bias:  # most fire happens at night
            h = np.where(rng.random(n) < 0.7, rng.uniform(-5, 5, n) % 24, rng.uniform(0, 24, n))
            return np.sort(t0 + h * 3600)
        return np.sort(t0 + rng.uniform(0.5, 23.5, n) * 3600)

    def add(kind: str, t: float, lat: float, lon: float, violation: bool, rule: Rule | None, party: str | None,
            origin: dict[str, Any] | None = None, **attrs: Any) -> None:
        events.append(TruthEvent(f"T{len(events) + 1:05d}", kind, _iso(t), round(float(lat), 6), round(float(lon), 6),
                                 violation, rule.value if rule else None, party, origin, attrs))

    # Fire across the line: launch on the firing party's side, impact on the other.
    n = counts["fire"]
    firing = rng.choice(parties, n, p=[0.45, 0.55])
    weapons = rng.choice(list(WEAPON_RANGES_KM), n, p=[0.25, 0.55, 0.2])
    ts = times(n, night_bias=True)
    for party in parties:
        idx = np.flatnonzero(firing == party)
        if idx.size == 0:
            continue
        other = next(p for p in parties if p != party)
        lo_km = np.array([WEAPON_RANGES_KM[w][0] for w in weapons[idx]])
        hi_km = np.array([WEAPON_RANGES_KM[w][1] for w in weapons[idx]])
        rng_km = rng.uniform(lo_km, hi_km)
        la, lo = place.near_line(idx.size, party, 1.5, 8.0)
        ila, ilo = place.toward_line(la, lo, rng_km.copy(), other)
        for k, i in enumerate(idx.tolist()):
            flight = 10 + rng_km[k] * 2.5  # seconds of flight, roughly
            add("fire", ts[i] + flight, ila[k], ilo[k], True, Rule.FIRE_ACROSS_LINE, str(party),
                origin={"lat": round(float(la[k]), 6), "lon": round(float(lo[k]), 6), "time": _iso(ts[i])},
                weapon=str(weapons[i]), rounds=int(rng.integers(1, 6)))

    # Own-side blasts (demining, training, accidents): not violations of the line rule.
    n = counts["own_side"]
    ts = times(n)
    for i in range(n):
        party = str(rng.choice(parties))
        la, lo = place.near_line(1, party, 25, 60)
        add("own_side_blast", ts[i], la[0], lo[0], False, None, party, cause="demining")

    # Heavy weapons inside (violation) and outside (compliant) their withdrawal zones.
    for key, inside in (("weapon_in", True), ("weapon_out", False)):
        n = counts[key]
        ts = times(n)
        for i in range(n):
            party = str(rng.choice(parties))
            cls = str(rng.choice(SIGHTING_CLASSES))
            wc = agreement.weapon_class_of(cls)
            dist = wc.distance_km if wc else 25.0
            d_lo, d_hi = (2.0, dist * 0.85) if inside else (dist * 1.15, dist * 1.15 + 20)
            la, lo = place.near_line(1, party, d_lo, d_hi)
            add("weapon_presence", ts[i], la[0], lo[0], inside, Rule.HEAVY_WEAPON_IN_ZONE if inside else None,
                party, weapon_class=cls, count=int(rng.integers(1, 4)))

    # Strikes on protected energy objects, from the other party's side, deep in the rear.
    prot = [p for p in agreement.protected if p.category == "energy"]
    n = counts["protected"]
    ts = times(n, night_bias=True)
    for i in range(n):
        if not prot:
            break
        obj = prot[int(rng.integers(len(prot)))]
        side = agreement.side_of(np.array([obj.lat]), np.array([obj.lon]))[0]
        attacker = next((p for p in parties if p != side), parties[0])
        jitter = rng.normal(0, obj.radius_m / 3, 2) / 111_000
        add("strike", ts[i], obj.lat + jitter[0], obj.lon + jitter[1] / np.cos(np.radians(obj.lat)), True,
            Rule.STRIKE_ON_PROTECTED_OBJECT, attacker, object_id=obj.id, object_name=obj.name, weapon="drone")

    # GNSS jamming of monitor drones near the line: interference, attributed only when clear.
    n = counts["jamming"]
    ts = times(n)
    for i in range(n):
        party = str(rng.choice(parties))
        la, lo = place.near_line(1, party, 5, 20)
        add("jamming", ts[i], la[0], lo[0], True, Rule.INTERFERENCE_WITH_MONITORS, party, duration_s=int(rng.integers(120, 900)))

    # Ordinary fires far from the line (stubble, industry): not violations.
    n = counts["field_fires"]
    ts = times(n)
    for i in range(n):
        party = str(rng.choice(parties))
        la, lo = place.near_line(1, party, 40, 150)
        add("field_fire", ts[i], la[0], lo[0], False, None, None, cause="agricultural")

    # Keep only rules the agreement has: a partial ceasefire makes the rest legal.
    have = {r.kind.value for r in agreement.rules}
    for e in events:
        if e.violation and e.rule not in have:
            e.violation = False
    events.sort(key=lambda e: e.time)
    for i, e in enumerate(events):
        e.id = f"T{i + 1:05d}"
    return Scenario(name, seed, day, agreement.id, events)


def day_bounds(day: str) -> tuple[float, float]:
    t0 = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return t0.timestamp(), (t0 + timedelta(days=1)).timestamp()
