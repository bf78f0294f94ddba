"""Acoustic simulation: what a pole-mounted sensor network hears of the truth.

Physics kept simple but honest: a blast of ``charge_kg`` TNT-equivalent has a
source level of 168 + 10 log10(W) dB at 1 m; the level falls with spherical
spreading (20 log10 d) plus 5 dB/km of ground and atmospheric excess
attenuation; each sensor has its own noise floor (about 45 dB), and detection
follows a logistic curve in SNR around 12 dB.  That puts a 7 kg shell's 50 %
detection range near 8 km and a mortar's near 6.5 km.  Each sensor's clock adds
Gaussian timing noise (its ``clock_sigma_s``); sensors also raise false alarms
(Poisson, ``fa_per_hour``) and tag arrivals launch/impact correctly only 80 %
of the time.  Salvos are simulated round by round, so they overlap in time.

``simulate(scenario, agreement, rng)`` returns sensors, raw arrivals (the real
input format), the truth label of every arrival and the Observations produced
by the real pipeline (association, localization, pairing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, overload

import numpy as np
import shapely
from scipy.spatial import cKDTree

from trucewatch.agreement import Agreement
from trucewatch.geo import LocalFrame
from trucewatch.sim.scenario import Scenario, day_bounds
from trucewatch.sources.acoustic import observations_from
from trucewatch.sources.acoustic.associate import LocateConfig
from trucewatch.sources.acoustic.formats import Arrivals, Sensors
from trucewatch.sources.acoustic.geometry import speed_of_sound, to_ecef

#: TNT-equivalent blast (kg) of impacts; launches (muzzle blast) are scaled by LAUNCH_FACTOR.
CHARGE_KG = {"mortar": (0.8, 3.0), "artillery": (5.0, 10.0), "mlrs": (15.0, 25.0)}
LAUNCH_FACTOR = {"mortar": 0.5, "artillery": 1.5, "mlrs": 0.8}
#: Seconds between rounds of one weapon in a salvo.
ROUND_INTERVAL_S = {"mortar": 4.0, "artillery": 8.0, "mlrs": 0.5}
IMPACT_SCATTER_M = {"mortar": 40.0, "artillery": 60.0, "mlrs": 150.0}
DETECT_SNR_DB = 12.0
#: A sensor cannot separate two onsets closer than this: it reports the first only.
DEAD_TIME_S = 0.02
NOISE_FLOOR_DB = 45.0
EXCESS_DB_PER_KM = 5.0


@dataclass
class Sources:
    """Truth acoustic sources (one per launch, impact or blast)."""

    ids: list[str] = field(default_factory=list)
    t: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    alt: list[float] = field(default_factory=list)
    charge: list[float] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)  # 0 explosion, 1 launch, 2 impact
    truth: list[str] = field(default_factory=list)  # truth event id

    def add(self, sid: str, t: float, lat: float, lon: float, alt: float, charge: float, kind: int, truth: str) -> None:
        self.ids.append(sid)
        self.t.append(float(t))
        self.lat.append(float(lat))
        self.lon.append(float(lon))
        self.alt.append(float(alt))
        self.charge.append(float(charge))
        self.kind.append(int(kind))
        self.truth.append(truth)

    def __len__(self) -> int:
        return len(self.ids)

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(getattr(self, k)) for k in ("t", "lat", "lon", "alt", "charge", "kind")}


def detection_probability(dist_m: np.ndarray, charge_kg: np.ndarray, noise_db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probability, SNR dB) of hearing a blast at ``dist_m``."""
    d = np.maximum(np.asarray(dist_m, float), 1.0)
    level = 168.0 + 10 * np.log10(np.maximum(charge_kg, 1e-3)) - 20 * np.log10(d) - EXCESS_DB_PER_KM * d / 1000.0
    snr = level - noise_db
    return 1.0 / (1.0 + np.exp(-(snr - DETECT_SNR_DB) / 2.0)), snr


def band_network(line_en: Any, frame: LocalFrame, rng: np.random.Generator, spacing_m: float = 3000.0,
                 depth_m: float = 12_000.0, clock_sigma_s: float = 0.001, prefix: str = "AS",
                 terrain: Any = None) -> Sensors:
    """Sensors on a jittered grid in a band of +-``depth_m`` around a line (local-frame shapely geometry)."""
    parts = list(line_en.geoms) if hasattr(line_en, "geoms") else [line_en]
    line = max(parts, key=lambda p: p.length)
    s = np.arange(spacing_m / 2, line.length, spacing_m)
    p = shapely.line_interpolate_point(line, s)
    q = shapely.line_interpolate_point(line, np.minimum(s + 50.0, line.length))
    px, py = shapely.get_x(p), shapely.get_y(p)
    tx, ty = shapely.get_x(q) - px, shapely.get_y(q) - py
    nrm = np.hypot(tx, ty) + 1e-9
    nx, ny = -ty / nrm, tx / nrm
    offs = np.arange(-depth_m, depth_m + 1, spacing_m)
    e = (px[:, None] + nx[:, None] * offs[None, :]).ravel()
    n = (py[:, None] + ny[:, None] * offs[None, :]).ravel()
    e = e + rng.normal(0, spacing_m * 0.15, e.size)
    n = n + rng.normal(0, spacing_m * 0.15, n.size)
    # keep a sensor only where the band is not folded onto itself (line bends)
    d = shapely.distance(line, shapely.points(e, n))
    keep = d <= depth_m + spacing_m
    e, n = e[keep], n[keep]
    lat, lon = frame.to_latlon(e, n)
    alt = (terrain(e, n) if terrain else np.full(e.size, 150.0)) + 3.0
    ids = [f"{prefix}{i:05d}" for i in range(e.size)]
    return Sensors.from_columns(ids, lat, lon, alt, np.full(e.size, clock_sigma_s))


@overload
def simulate_arrivals(sensors: Sensors, src: Sources, rng: np.random.Generator, *, temp_c: float = ...,
                      fa_per_hour: float = ..., t_span: tuple[float, float] | None = ...,
                      hint_accuracy: float = ..., noise_db: np.ndarray | None = ...,
                      return_merged: Literal[False] = ..., wind: tuple[float, float] = ...
                      ) -> tuple[Arrivals, np.ndarray]: ...
@overload
def simulate_arrivals(sensors: Sensors, src: Sources, rng: np.random.Generator, *, temp_c: float = ...,
                      fa_per_hour: float = ..., t_span: tuple[float, float] | None = ...,
                      hint_accuracy: float = ..., noise_db: np.ndarray | None = ...,
                      return_merged: Literal[True], wind: tuple[float, float] = ...
                      ) -> tuple[Arrivals, np.ndarray, np.ndarray]: ...
def simulate_arrivals(sensors: Sensors, src: Sources, rng: np.random.Generator, *, temp_c: float = 15.0,
                      fa_per_hour: float = 6.0, t_span: tuple[float, float] | None = None,
                      hint_accuracy: float = 0.8, noise_db: np.ndarray | None = None,
                      return_merged: bool = False, wind: tuple[float, float] = (0.0, 0.0)
                      ) -> tuple[Arrivals, np.ndarray] | tuple[Arrivals, np.ndarray, np.ndarray]:
    """Arrivals heard by ``sensors`` from ``src`` plus false alarms; returns (arrivals, source index or -1).

    With ``return_merged`` also the second source of arrivals where two onsets fell within the dead time.
    """
    c = speed_of_sound(temp_c)
    a = src.arrays()
    ns = len(sensors)
    noise = rng.normal(NOISE_FLOOR_DB, 3.0, ns) if noise_db is None else noise_db
    sens_xyz = to_ecef(sensors.lat, sensors.lon, sensors.alt)
    out_s: list[np.ndarray] = []
    out_t: list[np.ndarray] = []
    out_snr: list[np.ndarray] = []
    out_src: list[np.ndarray] = []
    if len(src):
        src_xyz = to_ecef(a["lat"], a["lon"], a["alt"])
        tree = cKDTree(sens_xyz)
        near = tree.query_ball_point(src_xyz, 30_000.0)
        cnt = np.array([len(x) for x in near], np.int64)
        si = np.concatenate([np.asarray(x, np.int64) for x in near]) if cnt.sum() else np.zeros(0, np.int64)
        ei = np.repeat(np.arange(len(src)), cnt)
        d = np.linalg.norm(sens_xyz[si] - src_xyz[ei], axis=1)
        p, snr = detection_probability(d, a["charge"][ei], noise[si])
        heard = rng.random(d.size) < p
        si, ei, d, snr = si[heard], ei[heard], d[heard], snr[heard]
        v: np.ndarray | float = c
        if wind[0] or wind[1]:  # sound is carried by the wind along each path
            fr = LocalFrame.around(sensors.lat, sensors.lon)
            se, sn = fr.to_en(sensors.lat, sensors.lon)
            qe, qn = fr.to_en(a["lat"], a["lon"])
            de, dn = se[si] - qe[ei], sn[si] - qn[ei]
            v = c + (wind[0] * de + wind[1] * dn) / (np.hypot(de, dn) + 1e-9)
        t = a["t"][ei] + d / v + rng.normal(0.0, 1.0, d.size) * sensors.sigma[si]
        out_s.append(si)
        out_t.append(t)
        out_snr.append(snr + rng.normal(0, 1.5, d.size))
        out_src.append(ei)
    if t_span is None and len(src):
        t_span = (float(np.min(a["t"])), float(np.max(a["t"])) + 60.0)
    if t_span is not None and fa_per_hour > 0:
        hours = (t_span[1] - t_span[0]) / 3600.0
        k = rng.poisson(fa_per_hour * hours, ns)
        out_s.append(np.repeat(np.arange(ns), k))
        out_t.append(rng.uniform(t_span[0], t_span[1], int(k.sum())))
        out_snr.append(rng.uniform(10.0, 22.0, int(k.sum())))
        out_src.append(np.full(int(k.sum()), -1))
    if not out_s:
        z = np.zeros(0, np.int64)
        return (Arrivals.empty(), z, z) if return_merged else (Arrivals.empty(), z)
    s = np.concatenate(out_s)
    t = np.concatenate(out_t)
    snr = np.concatenate(out_snr)
    lab = np.concatenate(out_src)
    true_kind = np.where(lab >= 0, a["kind"][np.maximum(lab, 0)] if len(src) else 0, 0)
    u = rng.random(lab.size)
    wrong = np.where(true_kind == 1, 2, np.where(true_kind == 2, 1, rng.integers(1, 3, lab.size)))
    hint = np.where(u < hint_accuracy, true_kind, np.where(u < hint_accuracy + 0.15, 0, wrong)).astype(np.int8)
    hint = np.where(lab < 0, rng.integers(0, 3, lab.size), hint).astype(np.int8)
    # dead time: a later onset within DEAD_TIME_S of an earlier one at the same sensor is not reported
    o = np.lexsort((t, s))
    s, t, snr, lab, hint = s[o], t[o], snr[o], lab[o], hint[o]
    merged = np.zeros(t.size, bool)
    merged[1:] = (s[1:] == s[:-1]) & (np.diff(t) < DEAD_TIME_S)
    # the reported onset also carries the merged source (second label, -1 if none)
    run_start = np.maximum.accumulate(np.where(~merged, np.arange(t.size), 0))
    lab2 = np.full(t.size, -1)
    lab2[run_start[merged]] = lab[merged]
    s, t, snr, lab, hint, lab2 = s[~merged], t[~merged], snr[~merged], lab[~merged], hint[~merged], lab2[~merged]
    ids = np.array([f"{sensors.ids[i]}@{x:.6f}" for i, x in zip(s, t, strict=True)], dtype=object)
    arr = Arrivals(ids, s.astype(np.int64), t, snr, hint, np.full(t.size, np.nan))
    order = np.lexsort((s, t))
    if return_merged:
        return arr.take(order), lab[order], lab2[order]
    return arr.take(order), lab[order]


def sources_from_scenario(scenario: Scenario, agreement: Agreement, rng: np.random.Generator, alt: float = 150.0) -> Sources:
    """Truth events -> acoustic sources: every round of every fire mission, blasts and strikes."""
    frame = agreement.frame
    src = Sources()
    for ev in scenario.events:
        t = ev.t
        if ev.kind == "fire":
            weapon = str(ev.attributes.get("weapon", "artillery"))
            if weapon not in CHARGE_KG:
                weapon = "artillery"
            rounds = int(ev.attributes.get("rounds", 1))
            lo, hi = CHARGE_KG[weapon]
            dt = ROUND_INTERVAL_S[weapon]
            ie, inn = frame.to_en(ev.lat, ev.lon)
            t_launch = datetime.fromisoformat(str(ev.origin["time"])).timestamp() if ev.origin else None
            for k in range(rounds):
                w = float(rng.uniform(lo, hi))
                if ev.origin and t_launch is not None:
                    src.add(f"{ev.id}/launch/{k}", t_launch + k * dt, ev.origin["lat"], ev.origin["lon"], alt,
                            w * LAUNCH_FACTOR[weapon], 1, ev.id)
                de, dn = rng.normal(0, IMPACT_SCATTER_M[weapon], 2)
                la, lo_ = frame.to_latlon(ie + de, inn + dn)
                src.add(f"{ev.id}/impact/{k}", t + k * dt, float(la), float(lo_), alt, w, 2, ev.id)
        elif ev.kind in ("own_side_blast", "strike"):
            src.add(f"{ev.id}/blast", t, ev.lat, ev.lon, alt, float(rng.uniform(5, 40)), 0, ev.id)
    return src


@dataclass
class AcousticSim:
    sensors: Sensors
    arrivals: Arrivals
    labels: np.ndarray  # source index per arrival, -1 for false alarms
    sources: Sources
    observations: list
    result: Any
    pairs: list


def simulate(scenario: Scenario, agreement: Agreement, rng: np.random.Generator, *, spacing_m: float = 3000.0,
             depth_m: float = 12_000.0, clock_sigma_s: float = 0.005, fa_per_hour: float = 0.25,
             temp_c: float = 15.0) -> AcousticSim:
    """The scenario as the acoustic network hears it, through the real locator and pairing."""
    sensors = band_network(agreement.line_en, agreement.frame, rng, spacing_m, depth_m, clock_sigma_s)
    src = sources_from_scenario(scenario, agreement, rng)

    arrivals, labels = simulate_arrivals(sensors, src, rng, temp_c=temp_c, fa_per_hour=fa_per_hour,
                                         t_span=day_bounds(scenario.day))

    obs, result, pairs = observations_from(sensors, arrivals, LocateConfig(temp_c=temp_c, max_range_m=15_000.0),
                                           agreement)
    return AcousticSim(sensors, arrivals, labels, src, obs, result, pairs)
