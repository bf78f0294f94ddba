"""Observation-level source simulation: what each kind of source would report
about a scenario's truth, with each source's own error, misses and false alarms.

This is the fast, self-contained path used by the demo and the fusion
benchmark.  Raw-format simulators (acoustic arrivals, FIRMS rows, telemetry,
posts) live beside it per source and go through the real parsers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from trucewatch.agreement import Agreement
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind
from trucewatch.sim.scenario import Scenario, _Placer, day_bounds


@dataclass
class SourceProfile:
    """Detection probability and error of one simulated source kind."""

    p_detect: float
    err_m: tuple[float, float]  # 95 % ellipse major axis range
    time_sigma_s: float


PROFILES = {
    "acoustic": SourceProfile(0.9, (25.0, 120.0), 0.05),
    "monitor": SourceProfile(0.35, (1500.0, 4000.0), 600.0),
    "osint": SourceProfile(0.5, (3000.0, 10000.0), 3 * 3600.0),
    "thermal": SourceProfile(0.75, (400.0, 600.0), 60.0),
    "drone": SourceProfile(0.9, (15.0, 40.0), 2.0),
    "jamming": SourceProfile(0.9, (3000.0, 8000.0), 60.0),
}


def simulated_sources(agreement: Agreement) -> list[Source]:
    """The mission's simulated sources (ids are stable across runs)."""
    srcs = [
        Source(id="acoustic-net", kind=SourceKind.ACOUSTIC_NETWORK, name="Acoustic sensor network", reliability=0.9),
        Source(id="monitor-team-1", kind=SourceKind.MONITOR_TEAM, name="Monitoring team 1", reliability=0.9),
        Source(id="firms-N20", kind=SourceKind.SATELLITE, name="NASA FIRMS VIIRS NOAA-20", reliability=0.85),
        Source(id="drone-lr-1", kind=SourceKind.DRONE, name="Long-range drone 1", reliability=0.9),
        Source(id="tg-local-news", kind=SourceKind.OPEN_SOURCE, name="Local Telegram channel", reliability=0.6),
        Source(id="news-wire", kind=SourceKind.OPEN_SOURCE, name="News wire", reliability=0.7),
    ]
    for p in agreement.parties[:2]:
        srcs.append(Source(id=f"mod-{p.lower()}", kind=SourceKind.PARTY_STATEMENT, party=p,
                           name=f"{p} official channel", reliability=0.5))
    return srcs


def _oid(*parts: object) -> str:
    return "sim-" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:20]


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(float(t), tz=UTC)


class _Gen:
    def __init__(self, agreement: Agreement, rng: np.random.Generator, seed: int) -> None:
        self.agr = agreement
        self.rng = rng
        self.seed = seed
        self.out: list[Observation] = []

    def obs(self, key: str, source: str, kind: ObservationKind, t: float, lat: float, lon: float,
            profile: SourceProfile, **attrs: object) -> Observation:
        rng = self.rng
        major = float(rng.uniform(*profile.err_m))
        minor = major * float(rng.uniform(0.4, 1.0))
        ang = float(rng.uniform(0, 180))
        # draw the reported position from the ellipse's own distribution
        sig1, sig2 = major / 2.4477, minor / 2.4477
        a, b = rng.normal(0, sig1), rng.normal(0, sig2)
        th = np.radians(90 - ang)
        de = a * np.cos(th) - b * np.sin(th)
        dn = a * np.sin(th) + b * np.cos(th)
        e, n = self.agr.frame.to_en(lat, lon)
        la, lo = self.agr.frame.to_latlon(e + de, n + dn)
        tt = t + rng.normal(0, profile.time_sigma_s)
        o = Observation(
            id=_oid(self.seed, key, source), source_id=source, kind=kind, time=_at(tt),
            time_sigma_s=profile.time_sigma_s,
            location=Location(lat=float(la), lon=float(lo), err_major_m=major, err_minor_m=minor, err_angle_deg=ang),
            attributes={k: v for k, v in attrs.items() if v is not None},
            payload_hash=hashlib.sha256(f"{self.seed}|{key}|{source}".encode()).hexdigest(),
        )
        self.out.append(o)
        return o


def observe(scenario: Scenario, agreement: Agreement, seed: int = 1) -> list[Observation]:
    """Every simulated source's observations of ``scenario`` (order: by time)."""
    rng = np.random.default_rng(seed + 1000)
    g = _Gen(agreement, rng, seed)
    P = PROFILES
    for ev in scenario.events:
        t = ev.t
        if ev.kind == "fire":
            heard_launch = rng.random() < P["acoustic"].p_detect
            heard_impact = rng.random() < P["acoustic"].p_detect
            pair = f"pair-{ev.id}" if heard_launch and heard_impact and rng.random() < 0.95 else None
            if heard_launch and ev.origin:
                t_launch = datetime.fromisoformat(str(ev.origin["time"])).timestamp()
                g.obs(f"{ev.id}-launch", "acoustic-net", ObservationKind.LAUNCH, t_launch, ev.origin["lat"],
                      ev.origin["lon"], P["acoustic"], pair_id=pair, n_sensors=int(rng.integers(4, 12)))
            if heard_impact:
                g.obs(f"{ev.id}-impact", "acoustic-net", ObservationKind.IMPACT, t, ev.lat, ev.lon, P["acoustic"],
                      pair_id=pair, n_sensors=int(rng.integers(4, 12)))
            if rng.random() < P["monitor"].p_detect:
                g.obs(f"{ev.id}-monitor", "monitor-team-1", ObservationKind.REPORT_CLAIM, t, ev.lat, ev.lon,
                      P["monitor"], event_type="shelling", independent=True, heard_or_seen="heard")
            if rng.random() < 0.4:
                victim = ev.attributes.get("victim") or _other(agreement, ev.party)
                src = f"mod-{victim.lower()}" if victim else "tg-local-news"
                o = g.obs(f"{ev.id}-claim", src, ObservationKind.REPORT_CLAIM, t, ev.lat, ev.lon, P["osint"],
                          event_type="shelling", actor=ev.party, independent=True)
                if rng.random() < 0.5:  # a copy of the claim is not corroboration
                    g.obs(f"{ev.id}-copy", "tg-local-news", ObservationKind.REPORT_CLAIM, t, o.location.lat,
                          o.location.lon, P["osint"], event_type="shelling", actor=ev.party, independent=False,
                          origin_id=o.id)
        elif ev.kind == "own_side_blast":
            if rng.random() < P["acoustic"].p_detect:
                g.obs(f"{ev.id}-blast", "acoustic-net", ObservationKind.EXPLOSION, t, ev.lat, ev.lon, P["acoustic"],
                      n_sensors=int(rng.integers(4, 10)))
        elif ev.kind == "weapon_presence":
            if rng.random() < P["drone"].p_detect:
                g.obs(f"{ev.id}-sight", "drone-lr-1", ObservationKind.WEAPON_SIGHTING, t, ev.lat, ev.lon, P["drone"],
                      weapon_class=ev.attributes.get("weapon_class"), count=ev.attributes.get("count", 1),
                      flight_id="flight-1", object_id=f"obj-{ev.id}")
        elif ev.kind == "strike":
            if rng.random() < P["thermal"].p_detect:
                g.obs(f"{ev.id}-thermal", "firms-N20", ObservationKind.THERMAL_ANOMALY, t + 3600 * rng.uniform(0.5, 3),
                      ev.lat, ev.lon, P["thermal"], frp=float(rng.uniform(15, 80)), excess=True, satellite="N20")
            victim = _other(agreement, ev.party)
            o = g.obs(f"{ev.id}-claim", f"mod-{victim.lower()}" if victim else "news-wire", ObservationKind.REPORT_CLAIM,
                      t, ev.lat, ev.lon, P["osint"], event_type="drone_strike", actor=ev.party,
                      facility=ev.attributes.get("object_name"), independent=True)
            g.obs(f"{ev.id}-wire", "news-wire", ObservationKind.REPORT_CLAIM, t, ev.lat, ev.lon, P["osint"],
                  event_type="drone_strike", actor=ev.party, facility=ev.attributes.get("object_name"),
                  independent=True)
            g.obs(f"{ev.id}-copy", "tg-local-news", ObservationKind.REPORT_CLAIM, t, o.location.lat, o.location.lon,
                  P["osint"], event_type="drone_strike", actor=ev.party, independent=False, origin_id=o.id)
        elif ev.kind == "jamming":
            if rng.random() < P["jamming"].p_detect:
                g.obs(f"{ev.id}-jam", "drone-lr-1", ObservationKind.INTERFERENCE, t, ev.lat, ev.lon, P["jamming"],
                      interference="gnss_jamming", flight_id="flight-1")
        elif ev.kind == "field_fire":
            if rng.random() < P["thermal"].p_detect:
                g.obs(f"{ev.id}-thermal", "firms-N20", ObservationKind.THERMAL_ANOMALY, t, ev.lat, ev.lon,
                      P["thermal"], frp=float(rng.uniform(2, 20)), excess=False, satellite="N20")
    _false_alarms(g, scenario, agreement, rng)
    g.out.sort(key=lambda o: (o.time, o.id))
    return g.out


def _other(agreement: Agreement, party: str | None) -> str | None:
    return next((p for p in agreement.parties if p != party), None) if party else None


def _false_alarms(g: _Gen, scenario: Scenario, agreement: Agreement, rng: np.random.Generator) -> None:
    """Acoustic false fixes near the line and unfounded claims: a few per day."""
    t0, t1 = day_bounds(scenario.day)

    placer = _Placer(agreement, rng)
    for i in range(max(2, len(scenario.events) // 25)):
        party = str(rng.choice(agreement.parties[:2]))
        la, lo = placer.near_line(1, party, 1, 10)
        g.obs(f"false-acoustic-{i}", "acoustic-net", ObservationKind.EXPLOSION, rng.uniform(t0, t1), la[0], lo[0],
              PROFILES["acoustic"], n_sensors=4)
    for i in range(max(1, len(scenario.events) // 40)):
        party = str(rng.choice(agreement.parties[:2]))
        la, lo = placer.near_line(1, party, 2, 15)
        g.obs(f"false-claim-{i}", f"mod-{party.lower()}", ObservationKind.REPORT_CLAIM, rng.uniform(t0, t1), la[0],
              lo[0], PROFILES["osint"], event_type="shelling", actor=_other(agreement, party), independent=True)
