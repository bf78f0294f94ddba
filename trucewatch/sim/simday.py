"""A simulated day of observations of every kind, generated directly as columns.

For the fusion benchmark: ground truth (fire across the line, long-range
launches and strikes on protected objects, heavy weapons in their zones,
interference) seen by acoustic networks, satellites, SAR, drones, radars and
Telegram-like channels with copies, plus clutter (false acoustic fixes,
background and industrial heat, rumours, weapons outside their zones).  Each
row carries its truth label and its arrival time (when the system learns of
it), so the benchmark can score violations and time to verification.
All randomness comes from the numpy Generator passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from trucewatch.fusion.arrays import (
    AIR,
    FIRE,
    INTERFERENCE,
    LAUNCH,
    SECOND,
    SEED,
    SIGHTING,
    TEXT,
    VESSEL,
    FusionInput,
    key64,
)
from trucewatch.fusion.config import FusionConfig
from trucewatch.model import KIND_CODES, ObservationArrays, ObservationKind, Rule
from trucewatch.sources.acoustic.pairing import pair_fixes
from trucewatch.sources.acoustic.pipeline import Fix

K = {k: KIND_CODES[k] for k in ObservationKind}
CHI = 2.447746830680816
DAY0 = 1772323200.0  # 2026-03-01T00:00:00Z
WEAPONS = ["tank", "towed_artillery", "self_propelled_artillery", "mlrs", "heavy_mlrs", "mortar", "truck", "apc"]
AIR_CLASSES = ["shahed", "decoy", "cruise_missile", "ballistic_missile"]
AIR_P = [0.6, 0.15, 0.15, 0.1]
AIR_SPEED = {"shahed": 50.0, "decoy": 50.0, "cruise_missile": 250.0, "ballistic_missile": 1500.0}

#: Events per simulated day at scale 1 (about 1.05 million observations in all).
COUNTS = {"line_fire": 30_000, "long_range": 5_000, "weapons": 24_000, "interference": 2_000, "vessels": 1_000,
          "false_fixes": 30_000, "heat": 200_000, "rumours": 50_000}


@dataclass
class SimDay:
    fi: FusionInput
    origin_cols: tuple[np.ndarray, np.ndarray, np.ndarray]
    truth: np.ndarray  # truth happening per row, -1 for clutter
    arrival: np.ndarray  # unix s when the system receives the row
    extras: dict[str, np.ndarray]
    source_names: list[str]
    truth_rules: list[tuple[int, Rule, str]]  # (happening, rule, party)
    truth_time: np.ndarray  # per happening
    counts: dict[str, int] = field(default_factory=dict)


class _Sources:
    def __init__(self, rng: np.random.Generator) -> None:
        self.names: list[str] = []
        self.rel: list[float] = []
        self.kind: list[str] = []
        self.idx: dict[str, np.ndarray] = {}
        for prefix, kind, n, lo, hi in (("ac", "acoustic_network", 4, 0.85, 0.85), ("viirs", "satellite", 3, 0.75, 0.75),
                                        ("sar", "satellite", 1, 0.7, 0.7), ("drone", "drone", 20, 0.9, 0.9),
                                        ("radar", "radar", 6, 0.9, 0.9), ("tg", "open_source", 400, 0.3, 0.7),
                                        ("ais", "ais", 1, 0.9, 0.9)):
            start = len(self.names)
            for i in range(n):
                self.names.append(f"{prefix}-{i}")
                self.rel.append(float(rng.uniform(lo, hi)))
                self.kind.append(kind)
            self.idx[prefix] = np.arange(start, start + n)


class _Rows:
    """Column builder: every add() appends a block of rows."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {}
        self.n = 0

    def add(self, **c: Any) -> np.ndarray:
        m = len(c["lat"])
        defaults = {"tier": SEED, "family": FIRE, "sub": -1, "pair": -1, "link": -1, "group": -1, "copy": False,
                    "quality": 1.0, "weapon_class": None, "classification": None, "intercepted": False,
                    "path": None, "affected_area": None, "incident": None, "flag": None, "olat": np.nan,
                    "olon": np.nan, "oerr": np.nan, "footvar": 0.0, "effect": False,
                    "line_src": -1}
        for k, v in defaults.items():
            c.setdefault(k, v)
        for k, v in c.items():
            if isinstance(v, list):
                arr = np.empty(m, dtype=object)
                arr[:] = v if len(v) == m else [v] * m
            elif v is None or isinstance(v, str):
                arr = np.full(m, v, dtype=object)
            elif np.ndim(v) == 0:
                arr = np.full(m, v)
            else:
                arr = np.asarray(v)
            self.cols.setdefault(k, []).append(arr)
        out = np.arange(self.n, self.n + m)
        self.n += m
        return out

    def get(self, k: str) -> np.ndarray:
        return np.concatenate(self.cols[k])


#: Position noise the simulator draws, against the covariances the gates assume:
#: (factor on the stated sigma, Student-t degrees of freedom or None for Gaussian).
#: "miscalibrated": true sigma 1.75x what the sources state; "heavy_tailed": Student-t
#: with 3 degrees of freedom, scaled to the stated sigma (same variance, far more outliers).
NOISE_MODELS: dict[str, tuple[float, float | None]] = {"nominal": (1.0, None), "miscalibrated": (1.75, None),
                                                       "heavy_tailed": (1.0, 3.0)}
_noise_model: list[tuple[float, float | None]] = [NOISE_MODELS["nominal"]]


def _draw(rng: np.random.Generator, m: int) -> np.ndarray:
    factor, df = _noise_model[0]
    if df is None:
        return factor * rng.standard_normal(m)
    return factor * rng.standard_t(df, m) * np.sqrt((df - 2.0) / df)


def _noise(rng: np.random.Generator, major: np.ndarray, minor: np.ndarray, az: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z1, z2 = _draw(rng, len(major)), _draw(rng, len(major))
    a, b, th = major / CHI * z1, minor / CHI * z2, np.radians(az)
    return a * np.sin(th) + b * np.cos(th), a * np.cos(th) - b * np.sin(th)


def _move(lat: np.ndarray, lon: np.ndarray, de: np.ndarray, dn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat2 = lat + dn / 111_195.0
    return lat2, lon + de / (111_195.0 * np.cos(np.radians(lat)))


class _Line:
    def __init__(self, ag: Any) -> None:
        self.ag = ag
        self.length = ag.line_en.length

    def points(self, rng: np.random.Generator, m: int, party: np.ndarray, dist_m: np.ndarray,
               along: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points ``dist_m`` off the line on ``party``'s side; returns lat, lon, along."""
        d = rng.uniform(0, self.length, m) if along is None else np.clip(along, 0, self.length)
        line = self.ag.line_en
        p = shapely.line_interpolate_point(line, d)
        a = shapely.line_interpolate_point(line, np.clip(d - 200, 0, self.length))
        b = shapely.line_interpolate_point(line, np.clip(d + 200, 0, self.length))
        tx, ty = shapely.get_x(b) - shapely.get_x(a), shapely.get_y(b) - shapely.get_y(a)
        nrm = np.hypot(tx, ty) + 1e-9
        nx, ny = -ty / nrm, tx / nrm
        px, py = shapely.get_x(p), shapely.get_y(p)
        lat2k, lon2k = self.ag.frame.to_latlon(px + 2000 * nx, py + 2000 * ny)
        plus = self.ag.side_of(lat2k, lon2k)
        sign = np.where(plus == party, 1.0, -1.0)
        lat, lon = self.ag.frame.to_latlon(px + sign * dist_m * nx, py + sign * dist_m * ny)
        return np.asarray(lat), np.asarray(lon), d


def _times(rng: np.random.Generator, m: int, hours: float) -> np.ndarray:
    return DAY0 + rng.uniform(0, hours * 3600.0, m)


def _reports(rows: _Rows, rng: np.random.Generator, src: _Sources, lat: np.ndarray, lon: np.ndarray, t: np.ndarray,
             truth: np.ndarray, mean_orig: float, mean_copies: float, family: int = FIRE) -> None:
    """Original posts near each place (Poisson per place) and their copies."""
    k = rng.poisson(mean_orig, len(lat))
    base = np.repeat(np.arange(len(lat)), k)
    m = len(base)
    if m == 0:
        return
    err = rng.uniform(2000, 6000, m)
    de, dn = _noise(rng, err, err, np.zeros(m))
    la, lo = _move(lat[base], lon[base], de, dn)
    ts = rng.uniform(300, 1800, m)
    tt = t[base] + rng.normal(0, 1, m) * ts
    chan = rng.choice(src.idx["tg"], m)
    arr = t[base] + rng.uniform(120, 3600, m)
    start = rows.n
    root = np.arange(start, start + m)
    gkey = root + 10**12
    rows.add(lat=la, lon=lo, t=tt, ts=ts, major=err, minor=err, az=np.zeros(m), kind=np.full(m, K[ObservationKind.REPORT_CLAIM]),
             src=chan, truth=truth[base], arrival=arr, tier=TEXT, family=family, link=gkey, group=gkey, line_src=chan)
    c = rng.poisson(mean_copies, m)
    cb = np.repeat(np.arange(m), c)
    mc = len(cb)
    if mc:
        rows.add(lat=la[cb], lon=lo[cb], t=tt[cb], ts=ts[cb], major=err[cb], minor=err[cb], az=np.zeros(mc),
                 kind=np.full(mc, K[ObservationKind.REPORT_CLAIM]), src=rng.choice(src.idx["tg"], mc),
                 truth=truth[base][cb], arrival=arr[cb] + rng.uniform(60, 7200, mc), tier=TEXT, family=family,
                 link=gkey[cb], group=gkey[cb], copy=True, line_src=chan[cb])


def _fixes(rows: _Rows, rng: np.random.Generator, src: _Sources, lat: np.ndarray, lon: np.ndarray, t: np.ndarray,
           truth: np.ndarray, net: np.ndarray, kind: int, family: int, lo_err: float, hi_err: float,
           pair: np.ndarray | None = None, n_sensors: np.ndarray | None = None) -> None:
    m = len(lat)
    if m == 0:
        return
    major = rng.uniform(lo_err, hi_err, m)
    minor = major * rng.uniform(0.4, 1.0, m)
    az = rng.uniform(0, 180, m)
    de, dn = _noise(rng, major, minor, az)
    la, lo = _move(lat, lon, de, dn)
    ns = n_sensors if n_sensors is not None else rng.integers(3, 9, m)
    q = np.clip(0.55 + 0.1 * (ns - 3), 0.3, 0.95)
    rows.add(lat=la, lon=lo, t=t + rng.normal(0, 1.0, m), ts=np.ones(m), major=major, minor=minor, az=az,
             kind=np.full(m, kind), src=src.idx["ac"][net], truth=truth, arrival=t + rng.uniform(5, 30, m),
             family=family, pair=pair if pair is not None else -1, quality=q)


def _thermal(rows: _Rows, rng: np.random.Generator, src: _Sources, lat: np.ndarray, lon: np.ndarray, t: np.ndarray,
             truth: np.ndarray, excess: np.ndarray) -> None:
    m = len(lat)
    if m == 0:
        return
    err = np.full(m, 400.0)
    de, dn = _noise(rng, err, err, np.zeros(m))
    la, lo = _move(lat, lon, de, dn)
    q = np.where(excess, 0.9, 0.27)
    rows.add(lat=la, lon=lo, t=t, ts=np.full(m, 1.0), major=err, minor=err, az=np.zeros(m),
             kind=np.full(m, K[ObservationKind.THERMAL_ANOMALY]), src=rng.choice(src.idx["viirs"], m), truth=truth,
             arrival=t + rng.uniform(1800, 3 * 3600, m), tier=SECOND, quality=q, footvar=375.0**2 * 2 / 12)


def simulate_day(ag: Any, rng: np.random.Generator, scale: float = 1.0, hours: float = 24.0,
                 config: FusionConfig | None = None, *, truth_keys: bool = True, noise: str = "nominal",
                 acoustic_pairs: bool = True) -> SimDay:
    """Generate one day (``hours``) at ``scale`` times the heavy load of COUNTS.

    ``truth_keys=False`` strips every grouping key the simulator took from its
    truth (drone object ids, launch-impact pair ids, vessel ids, copy links):
    real sources do not hand those over.  Copies of a post are then found the
    way a text stage finds them, by identical content (same claimed place and
    time), and the earliest to arrive counts as the original; launch-impact
    pairs come from the acoustic stage's pairing of each network's fixes
    (``acoustic_pairs``; off: no pairs at all).  ``noise`` picks
    a NOISE_MODELS entry for position errors.
    """
    if noise not in NOISE_MODELS:
        raise ValueError(f"noise: unknown model {noise!r}; known: {', '.join(NOISE_MODELS)}")
    _noise_model[0] = NOISE_MODELS[noise]
    try:
        day = _simulate(ag, rng, scale, hours, config or FusionConfig())
    finally:
        _noise_model[0] = NOISE_MODELS["nominal"]
    if not truth_keys:
        strip_truth_keys(day, config or FusionConfig(), acoustic_pairs=acoustic_pairs)
    day.counts["noise"] = noise  # type: ignore[assignment]
    return day


def strip_truth_keys(day: SimDay, config: FusionConfig, acoustic_pairs: bool = True) -> None:
    """Drop the keys taken from the truth; derive copy links from content only and, with
    ``acoustic_pairs``, launch-impact pairs from the acoustic stage's pairing (in place)."""
    fi = day.fi
    o = fi.obs
    n = len(fi)
    fi.pair = np.full(n, -1, np.int64)
    fi.sub = np.where(fi.family == VESSEL, -1, fi.sub)
    text = fi.tier == TEXT
    keep = ~text[fi.link_idx] & (fi.family[fi.link_idx] != SIGHTING)  # air track ids: one per row, no grouping
    fi.link_idx, fi.link_key = fi.link_idx[keep], fi.link_key[keep]
    # a text stage's duplicate detection: identical claimed place, time and uncertainty
    tr = np.flatnonzero(text)
    content = np.column_stack([o.lat[tr], o.lon[tr], o.t[tr], o.t_sigma[tr]])
    _, cid = np.unique(content, axis=0, return_inverse=True)
    cid = cid.ravel().astype(np.int64)
    order = np.lexsort((day.arrival[tr], cid))
    first = np.ones(len(order), bool)
    first[1:] = cid[order][1:] != cid[order][:-1]
    copy = np.zeros(len(tr), bool)
    copy[order[~first]] = True
    fi.copy = np.zeros(n, bool)
    fi.copy[tr] = copy
    key = cid + 7 * 10**12
    fi.link_idx = np.concatenate([fi.link_idx, tr])
    fi.link_key = np.concatenate([fi.link_key, key])
    fi.group = fi.group.copy()
    fi.group[tr] = key
    if acoustic_pairs:
        fi.pair = acoustic_pair_keys(day)


def acoustic_pair_keys(day: SimDay) -> np.ndarray:
    """Launch-impact pair keys from the acoustic stage's own pairing (sources/acoustic/pairing.py),
    run per network on the located fixes alone: time of flight against range, greedy, each fix once."""
    o = day.fi.obs
    n = len(day.fi)
    pair = np.full(n, -1, np.int64)
    is_l = o.kind == K[ObservationKind.LAUNCH]
    is_i = o.kind == K[ObservationKind.IMPACT]
    ac = np.flatnonzero((is_l | is_i) & (day.fi.source_kind == "acoustic_network"))
    for s in np.unique(o.source_idx[ac]).tolist():
        rows = ac[o.source_idx[ac] == s]
        fixes = [Fix(str(r), float(o.t[r]), float(o.lat[r]), float(o.lon[r]), float(o.err_major[r]),
                     float(o.err_minor[r]), float(o.err_angle[r]), 4, [], [], "launch" if is_l[r] else "impact",
                     0.0, 0.0, float(o.t_sigma[r]), 0.0, 1.0) for r in rows.tolist()]
        for k, p in enumerate(pair_fixes(fixes)):
            key = 8 * 10**12 + s * 10**7 + k
            pair[int(p.launch_id)] = key
            pair[int(p.impact_id)] = key
    return pair


def _simulate(ag: Any, rng: np.random.Generator, scale: float, hours: float, config: FusionConfig) -> SimDay:
    src = _Sources(rng)
    line = _Line(ag)
    rows = _Rows()
    n = {k: max(round(v * scale * hours / 24.0), 1) for k, v in COUNTS.items()}
    truth_rules: list[tuple[int, Rule, str]] = []
    truth_time: list[np.ndarray] = []
    next_truth = 0
    parties = np.array(ag.parties, dtype=object)

    # --- A. fire near the line -------------------------------------------------
    m = n["line_fire"]
    tA = _times(rng, m, hours)
    op = rng.choice(parties, m)
    across = rng.random(m) < 0.9  # the rest: fire that lands on the firing side (not across the line)
    olat, olon, along = line.points(rng, m, op, rng.uniform(2000, 20000, m))
    other = np.where(op == parties[0], parties[1], parties[0])
    ip = np.where(across, other, op)
    idist = np.where(across, rng.uniform(500, 15000, m), rng.uniform(1000, 8000, m))
    ilat, ilon, _ = line.points(rng, m, ip, idist, along + rng.normal(0, 3000, m))
    truth = np.arange(next_truth, next_truth + m)
    next_truth += m
    truth_time.append(tA)
    so, si = ag.side_of(olat, olon), ag.side_of(ilat, ilon)
    viol = (so != "") & (si != "") & (so != si)
    for k in np.flatnonzero(viol).tolist():
        truth_rules.append((int(truth[k]), Rule.FIRE_ACROSS_LINE, str(so[k])))
    j, dpo = ag.nearest_protected(ilat, ilon, ["energy"])
    rad = np.array([ag.protected[x].radius_m for x in j])
    for k in np.flatnonzero(dpo <= rad).tolist():
        truth_rules.append((int(truth[k]), Rule.STRIKE_ON_PROTECTED_OBJECT, str(so[k]) or "undetermined"))
    flight = np.hypot(*(np.array(_delta(olat, olon, ilat, ilon)))) / 300.0
    heard_l = rng.random(m) < 0.7
    k_l = np.where(heard_l, 1 + (rng.random(m) < 0.5), 0)
    k_i = rng.choice([1, 2, 3], m, p=[0.3, 0.45, 0.25])
    net1 = rng.integers(0, 4, m)
    pair_ok = rng.random(m) < 0.85
    for slot in range(3):
        net = (net1 + slot) % 4
        has_i = k_i > slot
        has_l = k_l > slot
        pr = np.where(has_i & has_l & pair_ok, truth * 4 + slot, -1)
        # a network refines its solution as more sensors report: 1-3 fixes each
        e = np.repeat(np.flatnonzero(has_l), rng.integers(1, 4, int(has_l.sum())))
        _fixes(rows, rng, src, olat[e], olon[e], tA[e], truth[e], net[e], K[ObservationKind.LAUNCH], LAUNCH,
               200, 900, pair=pr[e])
        e = np.repeat(np.flatnonzero(has_i), rng.integers(1, 4, int(has_i.sum())))
        _fixes(rows, rng, src, ilat[e], ilon[e], tA[e] + flight[e], truth[e], net[e], K[ObservationKind.IMPACT],
               FIRE, 100, 600, pair=pr[e])
    th = rng.random(m) < 0.25
    npx = np.where(th, rng.integers(1, 4, m), 0)
    e = np.repeat(np.arange(m), npx)
    _thermal(rows, rng, src, ilat[e], ilon[e], tA[e] + rng.uniform(1200, 10 * 3600, len(e)), truth[e],
             rng.random(len(e)) < 0.9)
    e = np.flatnonzero(rng.random(m) < 0.1)
    if len(e):
        de, dn = _noise(rng, np.full(len(e), 60.0), np.full(len(e), 60.0), np.zeros(len(e)))
        la, lo = _move(ilat[e], ilon[e], de, dn)
        tt = tA[e] + rng.uniform(3600, 12 * 3600, len(e))
        rows.add(lat=la, lon=lo, t=tt, ts=np.full(len(e), 1.0), major=np.full(len(e), 60.0), minor=np.full(len(e), 60.0),
                 az=np.zeros(len(e)), kind=np.full(len(e), K[ObservationKind.DAMAGE]),
                 src=np.full(len(e), src.idx["sar"][0]), truth=truth[e], arrival=tt + 3600, tier=SECOND,
                 quality=rng.uniform(0.5, 0.95, len(e)))
    _reports(rows, rng, src, ilat, ilon, tA + flight, truth, 0.8, 1.5)

    # --- B. long-range launches ------------------------------------------------
    m = n["long_range"]
    tB = _times(rng, m, hours)
    lp = np.where(rng.random(m) < 0.7, parties[1], parties[0]) if len(parties) > 1 else rng.choice(parties, m)
    tp = np.where(lp == parties[0], parties[1], parties[0])
    llat, llon, _ = line.points(rng, m, lp, rng.uniform(40_000, 250_000, m))
    tlat, tlon, _ = line.points(rng, m, tp, rng.uniform(30_000, 400_000, m))
    prot = np.array([[p.lat, p.lon] for p in ag.protected if p.category == "energy"])
    pside = ag.side_of(prot[:, 0], prot[:, 1]) if len(prot) else np.zeros(0, object)
    to_prot = rng.random(m) < 0.25
    for party in ag.parties:
        cand = prot[pside == party]
        sel = np.flatnonzero(to_prot & (tp == party))
        if len(cand) and len(sel):
            pick = cand[rng.integers(0, len(cand), len(sel))]
            tlat[sel], tlon[sel] = pick[:, 0], pick[:, 1]
        elif len(sel):
            to_prot[sel] = False
    cls = rng.choice(AIR_CLASSES, m, p=AIR_P)
    intercepted = rng.random(m) < 0.7
    frac = np.where(intercepted, rng.uniform(0.5, 0.95, m), 1.0)
    elat, elon = llat + frac * (tlat - llat), llon + frac * (tlon - llon)
    dist = np.hypot(*(np.array(_delta(llat, llon, elat, elon))))
    speed = np.array([AIR_SPEED[c] for c in cls])
    tend = tB + dist / speed
    truth = np.arange(next_truth, next_truth + m)
    next_truth += m
    truth_time.append(tB)
    # truth from the true geometry: where it started, where it ended, whether its path crossed the line
    lside, eside = ag.side_of(llat, llon), ag.side_of(elat, elon)
    # the true path is the one the radars report: six points along it, straight in lat/lon
    fr6 = np.linspace(0, 1, 6)
    plat = llat[:, None] + fr6[None, :] * (elat - llat)[:, None]
    plon = llon[:, None] + fr6[None, :] * (elon - llon)[:, None]
    pe, pn = ag.frame.to_en(plat.ravel(), plon.ravel())
    paths_en = shapely.linestrings(np.column_stack([pe, pn]), indices=np.repeat(np.arange(m), 6))
    crossed = shapely.intersects(paths_en, ag.line_en)
    jp, dp = ag.nearest_protected(elat, elon, ["energy"])
    at_prot = dp <= np.array([ag.protected[x].radius_m for x in jp])
    for k in range(m):
        party = str(lside[k]) or "undetermined"  # launched from outside both areas: nobody's territory
        if crossed[k]:
            truth_rules.append((int(truth[k]), Rule.FLIGHT_ACROSS_LINE, party))
        if lside[k] != "":
            truth_rules.append((int(truth[k]), Rule.LAUNCH_FROM_TERRITORY, party))
        if at_prot[k] and not intercepted[k]:
            truth_rules.append((int(truth[k]), Rule.STRIKE_ON_PROTECTED_OBJECT, party))
    del eside
    n_radar = 1 + rng.binomial(2, 0.5, m)  # an air-defence network: most tracks seen by 2-3 radars
    e = np.repeat(np.arange(m), n_radar)
    me = len(e)
    err = rng.uniform(300, 1000, me)
    de, dn = _noise(rng, err, err, np.zeros(me))
    la, lo = _move(elat[e], elon[e], de, dn)
    fr = np.linspace(0, 1, 6)
    paths = []
    for k in e.tolist():
        plat = llat[k] + fr * (elat[k] - llat[k])
        plon = llon[k] + fr * (elon[k] - llon[k])
        paths.append(np.column_stack([plon, plat]))
    oerr = np.full(me, 15000.0)
    ode, odn = _noise(rng, oerr / 2, oerr / 2, np.zeros(me))
    oa, ob_ = _move(llat[e], llon[e], ode, odn)
    slot_in_track = np.arange(me) - np.repeat(np.cumsum(n_radar) - n_radar, n_radar)  # 0, 1, 2 within a track
    radar = src.idx["radar"][(rng.integers(0, len(src.idx["radar"]), m)[e] + slot_in_track) % len(src.idx["radar"])]
    start = rows.n
    rows.add(lat=la, lon=lo, t=tend[e] + rng.normal(0, 5, me), ts=np.full(me, 5.0), major=err, minor=err,
             az=np.zeros(me), kind=np.full(me, K[ObservationKind.AIR_TRACK]), src=radar, truth=truth[e],
             arrival=tend[e] + 10, family=AIR, sub=np.array([key64("cls", c) for c in cls[e]]),
             link=np.arange(start, start + me) + 2 * 10**12, quality=0.95, classification=cls[e],
             intercepted=intercepted[e], path=paths, olat=oa, olon=ob_, oerr=oerr,
             effect=~intercepted[e])
    hit = np.flatnonzero(~intercepted)
    th = rng.random(len(hit)) < 0.6
    e = np.repeat(hit, np.where(th, rng.integers(1, 4, len(hit)), 0))
    _thermal(rows, rng, src, elat[e], elon[e], tend[e] + rng.uniform(1200, 6 * 3600, len(e)), truth[e],
             np.ones(len(e), bool))
    _reports(rows, rng, src, elat[hit], elon[hit], tend[hit], truth[hit], 3.0, 3.0)

    # --- C. heavy weapons ------------------------------------------------------
    m = n["weapons"]
    tC = _times(rng, m, hours)
    wp = rng.choice(parties, m)
    wlat, wlon, _ = line.points(rng, m, wp, rng.uniform(1000, 60000, m))
    wcls = rng.choice(WEAPONS, m)
    truth = np.arange(next_truth, next_truth + m)
    next_truth += m
    truth_time.append(tC)
    wside = ag.side_of(wlat, wlon)
    zones = ag.zones_containing(wlat, wlon, "withdrawal")
    for c in set(wcls.tolist()):
        wc = ag.weapon_class_of(c)
        if wc is None:
            continue
        for z, inside in zones:
            if z.weapon_class != wc.id:
                continue
            for k in np.flatnonzero(inside & (wcls == c)).tolist():
                truth_rules.append((int(truth[k]), Rule.HEAVY_WEAPON_IN_ZONE, str(z.party or wside[k])))
    ns = rng.poisson(14, m) + 1  # drone video: many frames per object
    e = np.repeat(np.arange(m), ns)
    me = len(e)
    err = rng.uniform(20, 120, me)
    de, dn = _noise(rng, err, err, np.zeros(me))
    la, lo = _move(wlat[e], wlon[e], de, dn)
    has_obj = (rng.random(m) < 0.8)[e]
    tt = tC[e] + rng.uniform(0, 7200, me)
    rows.add(lat=la, lon=lo, t=tt, ts=np.full(me, 1.0), major=err, minor=err, az=np.zeros(me),
             kind=np.full(me, K[ObservationKind.WEAPON_SIGHTING]), src=rng.choice(src.idx["drone"], me),
             truth=truth[e], arrival=tt + 60, family=SIGHTING, sub=np.array([key64("wc", c) for c in wcls[e]]),
             link=np.where(has_obj, truth[e] + 3 * 10**12, -1), quality=0.9, weapon_class=wcls[e])

    # --- D. interference -------------------------------------------------------
    m = n["interference"]
    tD = _times(rng, m, hours)
    jp = rng.choice(parties, m)
    jlat, jlon, _ = line.points(rng, m, jp, rng.uniform(5000, 50000, m))
    truth = np.arange(next_truth, next_truth + m)
    next_truth += m
    truth_time.append(tD)
    areas = []
    for k in range(m):
        d = 0.1
        areas.append([{"type": "Polygon", "coordinates": [[[jlon[k] - d, jlat[k] - d], [jlon[k] + d, jlat[k] - d],
                                                            [jlon[k] + d, jlat[k] + d], [jlon[k] - d, jlat[k] + d],
                                                            [jlon[k] - d, jlat[k] - d]]]}])
    poly = shapely.box(jlon - 0.1, jlat - 0.1, jlon + 0.1, jlat + 0.1)
    for k in range(m):
        g_en = ag.frame.geom_to_en(poly[k])
        on = [p for p, a in ag.areas_en.items() if a.contains(g_en)]
        truth_rules.append((int(truth[k]), Rule.INTERFERENCE_WITH_MONITORS, on[0] if len(on) == 1 else "undetermined"))
    ns = rng.integers(3, 7, m)
    e = np.repeat(np.arange(m), ns)
    me = len(e)
    err = np.full(me, 3000.0)
    de, dn = _noise(rng, err, err, np.zeros(me))
    la, lo = _move(jlat[e], jlon[e], de, dn)
    tt = tD[e] + rng.uniform(0, 1800, me)
    rows.add(lat=la, lon=lo, t=tt, ts=np.full(me, 60.0), major=err, minor=err, az=np.zeros(me),
             kind=np.full(me, K[ObservationKind.INTERFERENCE]), src=rng.choice(src.idx["drone"], me), truth=truth[e],
             arrival=tt + 30, family=INTERFERENCE, quality=1.0,
             affected_area=[areas[k] for k in e.tolist()])

    # --- E. vessels (no naval rule in the sample agreement: negatives) ---------
    m = n["vessels"]
    tE = _times(rng, m, hours)
    vlat, vlon = rng.uniform(44.0, 45.5, m), rng.uniform(31.0, 37.0, m)
    truth = np.arange(next_truth, next_truth + m)
    next_truth += m
    truth_time.append(tE)
    e = np.repeat(np.arange(m), 2)
    me = len(e)
    tt = tE[e] + rng.uniform(0, 3600, me)
    inc = rng.choice(["barred_vessel_in_zone", "ais_gap", "loitering"], m)[e]
    rows.add(lat=vlat[e], lon=vlon[e], t=tt, ts=np.full(me, 10.0), major=np.full(me, 50.0), minor=np.full(me, 50.0),
             az=np.zeros(me), kind=np.full(me, K[ObservationKind.VESSEL_INCIDENT]), src=np.full(me, src.idx["ais"][0]),
             truth=truth[e], arrival=tt + 60, family=VESSEL, sub=truth[e] + 5 * 10**12, incident=inc, flag="RU")

    # --- clutter ---------------------------------------------------------------
    m = n["false_fixes"]
    tF = _times(rng, m, hours)
    flat, flon, _ = line.points(rng, m, rng.choice(parties, m), rng.uniform(0, 30000, m))
    is_l = rng.random(m) < 0.3
    for kind, fam, mask in ((K[ObservationKind.LAUNCH], LAUNCH, is_l), (K[ObservationKind.IMPACT], FIRE, ~is_l)):
        e = np.flatnonzero(mask)
        _fixes(rows, rng, src, flat[e], flon[e], tF[e], np.full(len(e), -1), rng.integers(0, 4, len(e)), kind, fam,
               150, 800, n_sensors=np.full(len(e), 3))
    m = n["heat"]
    sites_lat, sites_lon = rng.uniform(45.0, 52.0, 2000), rng.uniform(28.0, 40.0, 2000)
    ind = rng.random(m) < 0.5
    hlat = np.where(ind, sites_lat[rng.integers(0, 2000, m)], rng.uniform(45.0, 52.0, m))
    hlon = np.where(ind, sites_lon[rng.integers(0, 2000, m)], rng.uniform(28.0, 40.0, m))
    _thermal(rows, rng, src, hlat, hlon, _times(rng, m, hours), np.full(m, -1), rng.random(m) < 0.15)
    m = n["rumours"]
    rlat, rlon, _ = line.points(rng, m, rng.choice(parties, m), rng.uniform(0, 50000, m))
    _reports(rows, rng, src, rlat, rlon, _times(rng, m, hours), np.full(m, -1), 1.0, 1.5)

    return _assemble(rows, src, config, truth_rules, np.concatenate(truth_time))


def _delta(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ((lon2 - lon1) * 111_195.0 * np.cos(np.radians((lat1 + lat2) / 2)), (lat2 - lat1) * 111_195.0)


def _assemble(rows: _Rows, src: _Sources, config: FusionConfig, truth_rules: list[tuple[int, Rule, str]],
              truth_time: np.ndarray) -> SimDay:
    g = rows.get
    n = rows.n
    ids = np.array([f"o{i:07d}" for i in range(n)], dtype=object)
    kind = g("kind").astype(np.int8)
    obs = ObservationArrays(ids, g("src").astype(np.int32), src.names, kind, g("t").astype(float),
                            g("ts").astype(float), g("lat").astype(float), g("lon").astype(float),
                            g("major").astype(float), g("minor").astype(float), g("az").astype(float))
    s_idx = obs.source_idx
    rel_src = np.asarray(src.rel)[s_idx]
    rel = np.clip(rel_src * g("quality").astype(float), 0, 0.999)
    group = g("group").astype(np.int64)
    sig = (kind == K[ObservationKind.LAUNCH]).astype(np.int64) * 10**6  # launch and effect: two signatures
    group = np.where(group < 0, s_idx.astype(np.int64) + sig + 6 * 10**12, group)
    # independent lines: one per source (network, channel, satellite); a copy is its original's channel
    line_src = g("line_src").astype(np.int64)
    line = np.where(line_src >= 0, line_src, s_idx.astype(np.int64)) + 7 * 10**12
    link = g("link").astype(np.int64)
    has = link >= 0
    fi = FusionInput(obs, g("family").astype(np.int8), g("tier").astype(np.int8), g("sub").astype(np.int64),
                     g("pair").astype(np.int64), np.flatnonzero(has).astype(np.int64), link[has], rel, group,
                     g("copy").astype(bool), np.asarray(src.kind, dtype=object)[s_idx],
                     effect=g("effect").astype(bool), line=line)
    fi.derive(config)
    fv = g("footvar").astype(float)
    fi.cov[:, 0] += fv
    fi.cov[:, 2] += fv
    extras = {k: g(k) for k in ("weapon_class", "classification", "intercepted", "path", "affected_area", "incident",
                                "flag")}
    origin = (g("olat").astype(float), g("olon").astype(float), g("oerr").astype(float))
    counts = {"observations": n}
    return SimDay(fi, origin, g("truth").astype(np.int64), g("arrival").astype(float), extras, src.names, truth_rules,
                  truth_time, counts)
