"""Satellite simulation: FIRMS-like thermal detections and Sentinel-1-like radar stacks.

Fires (background and war) are burning intervals at a place; a satellite
sees one when an overpass falls inside the interval, the sky is clear and the
fire is hot enough, and then reports one or more VIIRS I-band pixels whose
size grows with scan angle (375 m at nadir to about 800 m at the swath edge).

* Background: agricultural burning in spring and autumn (cells vary a little
  from year to year), persistent sources (gas flares, plants) burning every
  day, and sporadic fires anywhere.
* War: each fire-causing truth event (impact, strike...) starts a fire with a
  probability, lasting hours (shelling) to days (depots, refineries).
* Overpasses: S-NPP, NOAA-20 and NOAA-21 near 13:30 and 01:30 local solar
  time, with a per-day scan angle; clouds hide whole 1-degree regions per day.

Radar: a co-registered stack of VV/VH amplitude images with gamma speckle,
buildings brighter than ground, and known footprints whose backscatter
changes after a damage date.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch.sources.satellite.background import BackgroundModel, detect
from trucewatch.sources.satellite.firms import read_firms, to_observations

DAY_S = 86400.0
SATELLITES = ("NPP", "N20", "N21")
#: Minutes after S-NPP's crossing time (same orbit plane, half an orbit apart: about 50 and 25 min earlier).
_SAT_OFFSET_MIN = {"NPP": 0.0, "N20": -50.0, "N21": -25.0}
FIRE_KINDS = frozenset({"impact", "strike", "explosion", "fire", "shelling", "air_strike", "missile_strike",
                        "drone_strike", "facility_fire"})
#: Truth kinds that are ordinary (not war) fires.
BACKGROUND_KINDS = frozenset({"field_fire", "wildfire", "agricultural_fire"})


@dataclass
class FireSimConfig:
    bbox: tuple[float, float, float, float] = (46.5, 35.0, 49.5, 39.0)  # lat0, lon0, lat1, lon1
    ag_cell_frac: float = 0.3
    ag_fires_per_cell_year: float = 2.5
    persistent_sources: int = 8
    sporadic_per_cell_day: float = 4e-4
    cloud_a: float = 0.7  # Beta(a, b) daily cloud share per 1-degree region
    cloud_b: float = 0.9
    satellites: tuple[str, ...] = SATELLITES
    war_fire_prob: float = 0.45
    cell_deg: float = 0.1


@dataclass
class Fires:
    lat: np.ndarray
    lon: np.ndarray
    t0: np.ndarray  # start, unix s
    dur: np.ndarray  # seconds
    frp: np.ndarray  # MW (typical)
    war: np.ndarray  # bool
    truth_index: np.ndarray  # int, -1 for background

    @classmethod
    def concat(cls, parts: list[Fires]) -> Fires:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))


@dataclass
class SimFirms:
    """Simulated detections: the CSV text in the real VIIRS NRT layout, plus the labels behind it."""

    csv_text: str
    lat: np.ndarray
    lon: np.ndarray
    t: np.ndarray
    war: np.ndarray  # bool: detection of a war fire
    truth_index: np.ndarray  # index into the truth events, -1 for background
    extra: dict[str, Any] = field(default_factory=dict)


# ---- truth adapters ----------------------------------------------------------------------


def _get(ev: Any, name: str, default: Any = None) -> Any:
    if isinstance(ev, dict):
        return ev.get(name, default)
    return getattr(ev, name, default)


def _unix(t: Any) -> float:
    if isinstance(t, datetime):
        return t.timestamp()
    if isinstance(t, np.datetime64):
        return float(t.astype("datetime64[ms]").astype(np.int64)) / 1000.0
    return float(t)


def _attr(ev: Any, name: str) -> Any:
    v = _get(ev, name)
    if v is None:
        attrs = _get(ev, "attributes") or {}
        v = attrs.get(name) if isinstance(attrs, dict) else None
    return v


def war_fires(truth: Iterable[Any], rng: np.random.Generator, prob: float = 0.45) -> Fires:
    """Fires started by truth events: war fires from ``kind`` in FIRE_KINDS, ordinary ones from BACKGROUND_KINDS.

    Strikes on facilities (``strike``, ``missile_strike``, or any event naming an
    ``object_id``/``facility``) almost always burn, for a day or more; shelling
    impacts start a fire with probability ``prob`` and burn for hours.  Truth
    field fires (``field_fire``) become background fires (``war`` False).
    """
    rows = []
    for i, e in enumerate(truth):
        kind = str(_get(e, "kind", "")).lower()
        if kind not in FIRE_KINDS and kind not in BACKGROUND_KINDS:
            continue
        is_big = kind in ("strike", "missile_strike", "facility_fire") or bool(
            _attr(e, "object_id") or _attr(e, "facility") or _attr(e, "target_kind"))
        rows.append((i, _unix(_get(e, "t")), float(_get(e, "lat")), float(_get(e, "lon")), is_big,
                     kind in BACKGROUND_KINDS))
    if not rows:
        return Fires(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, bool),
                     np.zeros(0, np.int64))
    idx = np.array([r[0] for r in rows], np.int64)
    t = np.array([r[1] for r in rows])
    lat = np.array([r[2] for r in rows])
    lon = np.array([r[3] for r in rows])
    big = np.array([r[4] for r in rows], bool)
    bgk = np.array([r[5] for r in rows], bool)
    p = np.where(big | bgk, 0.9, prob)
    keep = rng.random(idx.size) < p
    n = int(keep.sum())
    big, bgk = big[keep], bgk[keep]
    # shelling and field fires burn hours; facility and depot fires burn a day or more
    dur = np.where(big, rng.lognormal(math.log(30 * 3600), 0.6, n), rng.lognormal(math.log(5 * 3600), 0.8, n))
    frp = np.where(big, rng.lognormal(math.log(40), 0.8, n), rng.lognormal(math.log(6), 0.9, n))
    jitter = rng.normal(0, 80.0, (n, 2))  # metres: the fire is near, not at, the impact point
    la = lat[keep] + jitter[:, 1] / 111_320.0
    lo = lon[keep] + jitter[:, 0] / (111_320.0 * np.cos(np.radians(lat[keep])))
    return Fires(la, lo, t[keep], dur, frp, ~bgk, idx[keep])


@dataclass
class Landscape:
    """The fixed geography of the background: agricultural cells, persistent sources."""

    ag_lat: np.ndarray
    ag_lon: np.ndarray
    ag_peak_spring: np.ndarray  # day of year
    ag_peak_autumn: np.ndarray
    ag_weight: np.ndarray
    src_lat: np.ndarray
    src_lon: np.ndarray
    src_frp: np.ndarray

    @classmethod
    def make(cls, cfg: FireSimConfig, rng: np.random.Generator) -> Landscape:
        lat0, lon0, lat1, lon1 = cfg.bbox
        ny = round((lat1 - lat0) / cfg.cell_deg)
        nx = round((lon1 - lon0) / cfg.cell_deg)
        n_ag = int(ny * nx * cfg.ag_cell_frac)
        cells = rng.choice(ny * nx, n_ag, replace=False)
        ag_lat = lat0 + (cells // nx + 0.5) * cfg.cell_deg
        ag_lon = lon0 + (cells % nx + 0.5) * cfg.cell_deg
        ns = cfg.persistent_sources
        return cls(ag_lat, ag_lon, rng.normal(105, 12, n_ag), rng.normal(255, 15, n_ag),
                   rng.lognormal(0, 0.7, n_ag), rng.uniform(lat0, lat1, ns), rng.uniform(lon0, lon1, ns),
                   rng.lognormal(math.log(12), 0.5, ns))


def background_fires(land: Landscape, cfg: FireSimConfig, rng: np.random.Generator, start: float,
                     n_days: int) -> Fires:
    """A period of ordinary fires: seasonal agriculture, persistent sources, sporadic."""
    parts = []
    days = np.arange(n_days)
    day_t = start + days * DAY_S
    doy = ((day_t / DAY_S).astype(np.int64) - (day_t.astype("datetime64[s]").astype("datetime64[Y]")
                                               .astype("datetime64[D]").astype(np.int64))).astype(float)
    # agricultural: seasonal Gaussian bumps; the year's own activity level and which cells burn vary
    year_scale = rng.lognormal(0, 0.25)
    active = rng.random(land.ag_lat.size) < 0.85
    shift = rng.normal(0, 6)
    prof = (np.exp(-0.5 * ((doy[None, :] - land.ag_peak_spring[:, None] - shift) / 12.0) ** 2)
            + 0.8 * np.exp(-0.5 * ((doy[None, :] - land.ag_peak_autumn[:, None] - shift) / 15.0) ** 2))
    prof /= 12.0 * math.sqrt(2 * math.pi) * 1.8
    rate = cfg.ag_fires_per_cell_year * year_scale * land.ag_weight[:, None] * prof * active[:, None]
    k = rng.poisson(rate)
    ci, di = np.nonzero(k)
    reps = k[ci, di]
    ci, di = np.repeat(ci, reps), np.repeat(di, reps)
    m = ci.size
    half = cfg.cell_deg / 2
    lat = land.ag_lat[ci] + rng.uniform(-half, half, m)
    lon = land.ag_lon[ci] + rng.uniform(-half, half, m)
    # field burning starts late morning to afternoon local time
    local_start = rng.normal(12.5, 2.0, m) * 3600
    t0 = day_t[di] + local_start - lon / 15.0 * 3600
    parts.append(Fires(lat, lon, t0, rng.lognormal(math.log(4 * 3600), 0.6, m), rng.lognormal(math.log(5), 0.9, m),
                       np.zeros(m, bool), np.full(m, -1, np.int64)))
    # persistent sources: burning every day (one 24 h interval per day)
    ns = land.src_lat.size
    if ns:
        si = np.repeat(np.arange(ns), n_days)
        dd = np.tile(days, ns)
        up = rng.random(si.size) < 0.9  # occasional shutdowns
        si, dd = si[up], dd[up]
        parts.append(Fires(land.src_lat[si], land.src_lon[si], day_t[dd], np.full(si.size, DAY_S),
                           land.src_frp[si] * rng.lognormal(0, 0.3, si.size), np.zeros(si.size, bool),
                           np.full(si.size, -1, np.int64)))
    # sporadic: anywhere, any day
    lat0, lon0, lat1, lon1 = cfg.bbox
    n_cells = (lat1 - lat0) * (lon1 - lon0) / cfg.cell_deg**2
    ms = rng.poisson(cfg.sporadic_per_cell_day * n_cells * n_days)
    tt = start + rng.uniform(0, n_days * DAY_S, ms)
    parts.append(Fires(rng.uniform(lat0, lat1, ms), rng.uniform(lon0, lon1, ms), tt,
                       rng.lognormal(math.log(6 * 3600), 0.8, ms), rng.lognormal(math.log(4), 1.0, ms),
                       np.zeros(ms, bool), np.full(ms, -1, np.int64)))
    return Fires.concat(parts)


def observe(fires: Fires, cfg: FireSimConfig, rng: np.random.Generator) -> SimFirms:
    """What VIIRS reports of a set of fires: overpasses, clouds, detection limit, pixel geometry."""
    n = fires.lat.size
    nd = np.ceil(fires.dur / DAY_S).astype(np.int64) + 2  # candidate days (start day -1 .. end)
    fi = np.repeat(np.arange(n), nd)
    off = np.arange(fi.size) - np.repeat(np.cumsum(nd) - nd, nd) - 1
    day = np.floor(fires.t0[fi] / DAY_S).astype(np.int64) + off
    ns = len(cfg.satellites)
    fi = np.repeat(fi, 2 * ns)
    day = np.repeat(day, 2 * ns)
    sat_i = np.tile(np.repeat(np.arange(ns), 2), fi.size // (2 * ns))
    night = np.tile(np.array([0, 1]), fi.size // 2)
    lon = fires.lon[fi]
    # per satellite and day, the scan angle over a place changes with the 16-day orbit repeat
    phase = (day * 7 + sat_i * 5 + np.floor(lon * 0.37).astype(np.int64)) % 16
    scan_deg = np.clip((phase / 15.0 * 2 - 1) * 56.0 + rng.normal(0, 2.0, fi.size), -56.06, 56.06)
    local_h = np.where(night == 1, 1.5, 13.5) + scan_deg / 56.0 * 0.7 \
        + np.array([_SAT_OFFSET_MIN[s] / 60.0 for s in cfg.satellites])[sat_i]
    t_pass = day * DAY_S + (local_h - lon / 15.0) * 3600.0
    burning = (t_pass >= fires.t0[fi]) & (t_pass <= fires.t0[fi] + fires.dur[fi])
    # clouds: one draw per 1-degree region and day, shared by all satellites that day
    reg = (np.floor(fires.lat[fi]) * 1000 + np.floor(lon)).astype(np.int64)
    ck = reg * 100_000 + day
    uk, inv = np.unique(ck, return_inverse=True)
    cloud = rng.beta(cfg.cloud_a, cfg.cloud_b, uk.size)[inv]
    clear = rng.random(fi.size) > cloud
    frp_now = fires.frp[fi] * rng.lognormal(0, 0.5, fi.size)
    scan_km = 0.375 * (1 + 1.13 * (scan_deg / 56.0) ** 2)
    track_km = 0.375 * (1 + 1.07 * (scan_deg / 56.0) ** 2)
    # detection limit grows with pixel area (a small fire is diluted in a big edge pixel)
    p_det = 1 - np.exp(-frp_now / (0.8 * scan_km * track_km / 0.14))
    seen = burning & clear & (rng.random(fi.size) < p_det)
    s = np.flatnonzero(seen)
    # big fires light up several adjacent pixels
    npx = 1 + rng.poisson(np.clip(frp_now[s] / 25.0, 0, 6))
    s_rep = np.repeat(s, npx)
    k = s_rep.size
    f = fi[s_rep]
    dx = rng.uniform(-0.5, 0.5, k) * scan_km[s_rep] * 1000 + (np.arange(k) - np.repeat(np.cumsum(npx) - npx, npx)) \
        * scan_km[s_rep] * 1000 * rng.choice([-1, 1], k)
    dy = rng.uniform(-0.5, 0.5, k) * track_km[s_rep] * 1000
    lat = fires.lat[f] + dy / 111_320.0
    lon_o = fires.lon[f] + dx / (111_320.0 * np.cos(np.radians(fires.lat[f])))
    t = np.round(t_pass[s_rep] / 60.0) * 60.0
    frp = np.round(frp_now[s_rep] / npx.repeat(npx), 2)
    bright = np.round(300 + 25 * np.log1p(frp) + rng.normal(0, 3, k), 2)
    conf = np.where(frp > 5, "h", np.where(frp > 1, "n", "l"))
    order = np.argsort(t, kind="stable")
    sat_names = np.array(cfg.satellites)[sat_i[s_rep]]
    dt = t.astype("datetime64[s]")
    dates = np.datetime_as_string(dt, unit="D")
    # lazy: pandas only to write the simulated FIRMS history
    import pandas as pd

    dn = np.where(night[s_rep] == 1, "N", "D")
    o = order
    hhmm_i = (t[o] % DAY_S // 3600).astype(np.int64) * 100 + (t[o] % 3600 // 60).astype(np.int64)
    df = pd.DataFrame({
        "latitude": np.round(lat[o], 5), "longitude": np.round(lon_o[o], 5), "bright_ti4": np.round(bright[o], 2),
        "scan": np.round(scan_km[s_rep][o], 2), "track": np.round(track_km[s_rep][o], 2), "acq_date": dates[o],
        "acq_time": np.char.zfill(hhmm_i.astype(str), 4),  # FIRMS NRT writes four digits (0918)
        "satellite": sat_names[o], "instrument": "VIIRS", "confidence": conf[o], "version": "2.0NRT",
        "bright_ti5": np.round(bright[o] - 20, 2), "frp": np.round(frp[o], 2), "daynight": dn[o],
    })
    text = df.to_csv(index=False, lineterminator="\n")
    return SimFirms(text, lat[order], lon_o[order], t[order], fires.war[f][order], fires.truth_index[f][order])


def simulate_year(rng: np.random.Generator, truth: Iterable[Any] = (), cfg: FireSimConfig | None = None,
                  start: str = "2026-01-01", history_years: int = 3, n_days: int = 365,
                  land: Landscape | None = None) -> tuple[SimFirms, SimFirms]:
    """History (``history_years`` of background before ``start``) and one period with war fires added."""
    cfg = cfg or FireSimConfig()
    land = land or Landscape.make(cfg, rng)
    t_start = float(np.datetime64(start, "s").astype(np.int64))
    hist = background_history(land, cfg, rng, t_start, history_years)
    bg = background_fires(land, cfg, rng, t_start, n_days)
    war = war_fires(truth, rng, cfg.war_fire_prob)
    war_in = (war.t0 >= t_start) & (war.t0 < t_start + n_days * DAY_S)
    war = Fires(*(getattr(war, f)[war_in] for f in Fires.__dataclass_fields__))
    return hist, observe(Fires.concat([bg, war]), cfg, rng)


def background_history(land: Landscape, cfg: FireSimConfig, rng: np.random.Generator, start: float,
                       years: int) -> SimFirms:
    """``years`` of background fires before ``start``, observed: what a background model is fitted on."""
    return observe(Fires.concat([background_fires(land, cfg, rng, start - y * 365 * DAY_S, 365)
                                 for y in range(years, 0, -1)]), cfg, rng)


def simulate_period(truth: list[Any], rng: np.random.Generator, cfg: FireSimConfig) -> tuple[Landscape, float, SimFirms]:
    """Background and war fires over the truth's area (``cfg.bbox`` is set to it) and days, observed.

    Shared by ``simulate`` and trucewatch.sim.raw (which goes through files), so both
    draw the same fires for a seed.  Returns the landscape and first day too, for
    :func:`background_history`.
    """
    t = np.array([_unix(_get(e, "t")) for e in truth])
    la = np.array([float(_get(e, "lat")) for e in truth])
    lo = np.array([float(_get(e, "lon")) for e in truth])
    cfg.bbox = (float(la.min()) - 0.5, float(lo.min()) - 0.5, float(la.max()) + 0.5, float(lo.max()) + 0.5)
    start = math.floor(t.min() / DAY_S) * DAY_S
    n_days = math.ceil((t.max() + 2 * DAY_S - start) / DAY_S)
    land = Landscape.make(cfg, rng)
    fires = Fires.concat([background_fires(land, cfg, rng, start, n_days), war_fires(truth, rng, cfg.war_fire_prob)])
    return land, start, observe(fires, cfg, rng)


def simulate(truth: Iterable[Any], rng: np.random.Generator, cfg: FireSimConfig | None = None,
             history_years: int = 2) -> tuple[list, str]:
    """Scenario hook: THERMAL_ANOMALY observations and the raw FIRMS CSV for the truth's period.

    Background fires are added over the truth's time span in the truth's area;
    with ``history_years`` > 0 a background model is fitted on simulated years
    of the same landscape before the period, so each observation carries
    ``excess``, ``p_value`` and ``expected`` as real ones do after ``detect``.
    """
    truth = list(truth)
    cfg = cfg or FireSimConfig()
    if not truth:
        return [], ""
    land, start, sim = simulate_period(truth, rng, cfg)
    batch = read_firms(sim.csv_text.encode(), name="sim-firms.csv")
    if history_years <= 0 or len(batch) == 0:
        return to_observations(batch), sim.csv_text
    hist = read_firms(background_history(land, cfg, rng, start, history_years).csv_text.encode(), name="sim-history.csv")
    d = detect(BackgroundModel.fit(hist), batch)
    return to_observations(batch, excess=d.excess, p_value=d.p_value, expected=d.expected), sim.csv_text


# ---- radar -------------------------------------------------------------------------------


@dataclass
class SarStack:
    files: list[Path]
    dates: list[str]
    split: str  # first inspection date
    footprints: dict[str, Any]  # GeoJSON FeatureCollection (EPSG:4326) with properties id, damaged
    damaged: np.ndarray  # bool per footprint
    crs: str
    transform: Any


def synthetic_sar_stack(out_dir: str | Path, rng: np.random.Generator, size: int = 256, n_ref: int = 10,
                        n_post: int = 3, n_buildings: int = 120, damaged_frac: float = 0.25, looks: float = 4.4,
                        pixel_m: float = 10.0, change_db: float = 1.5, confounder_frac: float = 0.1, crs: str = "EPSG:32637",
                        origin: tuple[float, float] = (400_000.0, 5_280_000.0)) -> SarStack:
    """Write a co-registered VV/VH GeoTIFF stack with gamma speckle and known damaged footprints.

    Buildings are bright (double bounce); damage lowers and scrambles their
    backscatter after the split date (rubble scatters diffusely).  Undamaged
    scenes change too (seasonal ground moisture, a mild global gain drift), so
    the test must find local, persistent change, not any change.
    """
    # lazy: rasterio (GDAL) and pyproj only to write radar GeoTIFFs
    import rasterio
    from pyproj import Transformer  # lazy: as above
    from rasterio.transform import from_origin  # lazy: as above

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    transform = from_origin(origin[0], origin[1], pixel_m, pixel_m)
    # ground: smooth texture in dB
    ground_vv = -12 + 2 * rng.standard_normal((size, size))
    ground_vh = ground_vv - 7
    lab = np.full((size, size), -1, np.int32)
    boxes = []
    for b in range(n_buildings):
        for _ in range(50):
            h, w = rng.integers(3, 9, 2)
            r, c = rng.integers(2, size - 12, 2)
            if (lab[r - 1:r + h + 1, c - 1:c + w + 1] < 0).all():
                lab[r:r + h, c:c + w] = b
                boxes.append((b, r, c, h, w))
                break
    nb = len(boxes)
    damaged = rng.random(nb) < damaged_frac
    bright = rng.normal(6, 2, nb)  # dB above ground
    base_vv = ground_vv.copy()
    base_vh = ground_vh.copy()
    inb = lab >= 0
    base_vv[inb] += bright[lab[inb]]
    base_vh[inb] += bright[lab[inb]] * 0.6
    # damage severity varies (a hit roof vs a collapsed block); some intact buildings change too
    # (renovation, vehicles, a new fence): the test must not equate change with damage
    severity = np.where(damaged, rng.uniform(0.2, 1.0, nb), 0.0)
    other = ~damaged & (rng.random(nb) < confounder_frac)
    other_db = np.where(other, rng.normal(0, 1.2, nb), 0.0)
    sev_px = np.where(inb, severity[np.where(inb, lab, 0)], 0.0)
    oth_px = np.where(inb, other_db[np.where(inb, lab, 0)], 0.0)
    dates = [str(np.datetime64("2025-01-05") + np.timedelta64(12 * i, "D")) for i in range(n_ref + n_post)]
    files = []
    for i, d in enumerate(dates):
        post = i >= n_ref
        season = 0.8 * math.sin(2 * math.pi * i / 30.0)
        gain = rng.normal(0, 0.3)
        vv_db = base_vv + season * (~inb) + gain
        vh_db = base_vh + season * (~inb) + gain
        if post:
            delta = sev_px * (-change_db + rng.normal(0, 1.0, (size, size))) + oth_px
            vv_db = vv_db + delta
            vh_db = vh_db + delta * 0.7
        # intensity with gamma speckle (L looks), stored as amplitude like GRD products
        spk = rng.gamma(looks, 1.0 / looks, (2, size, size))
        amp = np.sqrt(np.stack([10 ** (vv_db / 10) * spk[0], 10 ** (vh_db / 10) * spk[1]])).astype(np.float32)
        f = out / f"S1_{d.replace('-', '')}_IW_GRDH.tif"
        with rasterio.open(f, "w", driver="GTiff", width=size, height=size, count=2, dtype="float32", crs=crs,
                           transform=transform, tiled=True, blockxsize=128, blockysize=128, nodata=0) as ds:
            ds.write(amp)
            ds.set_band_description(1, "VV")
            ds.set_band_description(2, "VH")
            ds.update_tags(ACQUISITION_DATE=d)
        files.append(f)
    tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    feats = []
    for (b, r, c, h, w), dm in zip(boxes, damaged, strict=True):
        x0, y0 = transform.c + c * transform.a, transform.f + r * transform.e
        x1, y1 = transform.c + (c + w) * transform.a, transform.f + (r + h) * transform.e
        xs, ys = tr.transform([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
        feats.append({"type": "Feature", "properties": {"id": f"b{b:04d}", "damaged": bool(dm)},
                      "geometry": {"type": "Polygon", "coordinates": [[[float(x), float(y)] for x, y in
                                                                       zip(xs, ys, strict=True)]]}})
    fc = {"type": "FeatureCollection", "features": feats}
    return SarStack(files, dates, dates[n_ref], fc, damaged, crs, transform)


def demo_strikes(rng: np.random.Generator, start: str | float, n_days: int,
                 bbox: tuple[float, float, float, float] = FireSimConfig.bbox, per_day: float = 8.0,
                 deep_per_day: float = 0.15) -> list[dict[str, Any]]:
    """Stand-alone truth for benchmarks and tests: shelling along a wavy front, and some deep strikes.

    The lead's scenario (trucewatch.sim.scenario) provides the real truth; this
    only makes the stage testable on its own.
    """
    t0 = _unix(np.datetime64(start, "s")) if isinstance(start, str) else float(start)
    lat0, lon0, lat1, lon1 = bbox
    front_lon = (lon0 + lon1) / 2
    k = rng.poisson(per_day, n_days)
    d = np.repeat(np.arange(n_days), k)
    la = rng.uniform(lat0 + 0.2, lat1 - 0.2, d.size)
    lo = front_lon + 0.3 * np.sin(la * 3) + rng.normal(0, 0.1, d.size)
    tt = t0 + d * DAY_S + rng.uniform(0, DAY_S, d.size)
    ev: list[dict[str, Any]] = [{"t": float(a), "lat": float(b), "lon": float(c), "kind": "impact", "party": "RU"}
                                for a, b, c in zip(tt, la, lo, strict=True)]
    nd = rng.poisson(deep_per_day * n_days)
    for a, b, c in zip(t0 + rng.uniform(0, n_days * DAY_S, nd), rng.uniform(lat0, lat1, nd),
                       rng.uniform(lon0, lon1, nd), strict=True):
        ev.append({"t": float(a), "lat": float(b), "lon": float(c), "kind": "missile_strike", "party": "RU"})
    ev.sort(key=lambda e: e["t"])
    return ev
