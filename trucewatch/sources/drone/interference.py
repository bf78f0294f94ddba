"""GNSS jamming and spoofing, detected from the drone's own telemetry.

Jamming shows in the receiver: the fix drops below 3D, satellites fall away,
HDOP grows, or GPS_RAW_INT stops arriving while the rest of the telemetry goes
on.  Spoofing keeps a good-looking fix but moves it: the GNSS track jumps
further than the airframe can fly, reports an impossible speed, or walks away
from where air data say the airframe goes (airspeed along the heading plus a
wind estimated over the minutes before).  All per-sample tests are numpy over
the whole flight; only the few episodes found are handled one by one.

Where the interference may come from: a jammer or spoofer reaches every point
the drone was affected at, so it lies within range R of each of them; the
affected area is the intersection of discs of radius R around the (trusted or
dead-reckoned) positions along the episode, R being the smaller of the radio
horizon and ``EFFECT_RANGE_M``.  If the discs do not meet (a long episode, two
jammers) the area is the union instead.

What is *not* interference (both seen on real benign flights):

- a telemetry-link dropout: every message type stops at once and the
  receiver state (fix, satellites, HDOP) is the same on both sides; only a
  GPS_RAW_INT silence while other packets keep arriving is GNSS loss;
- fix acquisition: from the start of the log (and after an autopilot reboot)
  until the receiver first holds a good fix for ``acquisition_settle_s``, the
  receiver is still searching, not being denied (capped at
  ``acquisition_max_s``: a receiver that never gets a fix is reported).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from trucewatch.geo import LocalFrame
from trucewatch.sources.drone.telemetry import Flight


@dataclass
class InterferenceConfig:
    min_sats: int = 6
    max_hdop: float = 4.0
    #: A gap in GPS_RAW_INT longer than this (s) while nav continues counts as loss.
    gps_gap_s: float = 5.0
    #: Jamming shorter than this (s) is ordinary signal loss (banking, masking).
    min_jam_s: float = 5.0
    #: Without loss of fix, few satellites or high HDOP must last this long (s): banking and
    #: terrain masking cost satellites for seconds on every flight.
    min_weak_jam_s: float = 15.0
    merge_gap_s: float = 15.0
    #: A GNSS step further than this (m) from where the airframe could be is a jump.
    jump_m: float = 60.0
    #: Speed no patrol drone reaches (m/s).
    max_speed_mps: float = 120.0
    #: Velocity residual against air data (m/s) that, held for ``drag_s``, is a walk-off.
    drag_mps: float = 6.0
    drag_s: float = 30.0
    #: Wind is the median of GNSS minus air velocity over [t - wind_window_s, t - wind_lag_s].
    wind_window_s: float = 240.0
    wind_lag_s: float = 30.0
    #: Jump-only episodes shorter than this (s) are receiver glitches (multipath), not spoofing.
    min_spoof_s: float = 5.0
    #: A return jump within this time that undoes an earlier jump ends its episode.
    pair_within_s: float = 7200.0
    #: Assumed effective range of a tactical jammer/spoofer (m); caps the affected area.
    effect_range_m: float = 40_000.0
    jammer_height_m: float = 10.0
    #: No packet of any type for this long (s) is a telemetry-link dropout, not GNSS loss.
    link_gap_s: float = 2.0
    #: The receiver is acquiring until its state has been good for this long (s) ...
    acquisition_settle_s: float = 10.0
    #: ... but acquisition lasts at most this long (s) after the log start or a reboot.
    acquisition_max_s: float = 300.0


@dataclass
class Episode:
    kind: str  # gnss_jamming | gnss_spoofing
    t_start: float
    t_end: float
    signals: list[str]
    evidence: dict[str, float] = field(default_factory=dict)
    area: Any = None  # shapely geometry, WGS84
    lat: float = math.nan
    lon: float = math.nan
    radius_m: float = math.nan


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs (inclusive) of True runs."""
    if mask.size == 0:
        return []
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _merge(intervals: list[tuple[float, float, str]], gap: float) -> list[tuple[float, float, list[str]]]:
    out: list[tuple[float, float, list[str]]] = []
    for a, b, sig in sorted(intervals):
        if out and a - out[-1][1] <= gap:
            pa, pb, ps = out[-1]
            out[-1] = (pa, max(pb, b), ps if sig in ps else [*ps, sig])
        else:
            out.append((a, b, [sig]))
    return out


def _subtract(a: float, b: float, holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Parts of [a, b] outside every hole (holes sorted, may overlap)."""
    out: list[tuple[float, float]] = []
    cur = a
    for ha, hb in holes:
        if hb <= cur or ha >= b:
            continue
        if ha > cur:
            out.append((cur, ha))
        cur = max(cur, hb)
        if cur >= b:
            break
    if cur < b:
        out.append((cur, b))
    return out


def link_gaps(flight: Flight, cfg: InterferenceConfig | None = None) -> list[tuple[float, float]]:
    """Stretches with no packet of any type from the airframe: the telemetry link, not GNSS.

    Uses every packet's receive time where the log has them (tlog), else the
    navigation samples (one record per sample: a gap there is a gap in everything).
    """
    cfg = cfg or InterferenceConfig()
    mt = flight.msg_t if flight.msg_t is not None and len(flight.msg_t) > 1 else flight.nav["t"]
    d = np.diff(mt)
    idx = np.flatnonzero(d > cfg.link_gap_s)
    return [(float(mt[i]), float(mt[i + 1])) for i in idx]


def acquisition_windows(t: np.ndarray, good: np.ndarray, starts: list[float],
                        cfg: InterferenceConfig) -> list[tuple[float, float]]:
    """From each (re)start until the receiver first holds a good state for ``acquisition_settle_s``."""
    out: list[tuple[float, float]] = []
    if len(t) == 0:
        return out
    runs = [(float(t[a]), float(t[b])) for a, b in _runs(good)]
    t_last = float(t[-1])
    for s0 in sorted(starts):
        end = s0 + cfg.acquisition_max_s
        for ra, rb in runs:
            eff = max(ra, s0)
            if rb >= s0 and (rb - eff >= cfg.acquisition_settle_s or rb == t_last):
                end = min(eff, end)
                break
        if end > s0:
            out.append((s0, end))
    return out


def _lagged_median(t: np.ndarray, x: np.ndarray, window: float, lag: float) -> np.ndarray:
    """Median of x over [t - window, t - lag] (time-based), NaN where empty."""
    # lazy: pandas loads only on this path (it adds about half a second to every command start)
    import pandas as pd

    s = pd.Series(x, index=pd.to_datetime(t, unit="s"))
    med = s.rolling(f"{int(window - lag)}s", min_periods=5).median().to_numpy()
    return np.interp(t - lag, t, med, left=np.nan)


def detect(flight: Flight, cfg: InterferenceConfig | None = None) -> list[Episode]:
    """GNSS interference episodes of one flight, with their affected areas."""
    cfg = cfg or InterferenceConfig()
    nav, g = flight.nav, flight.gps
    if len(g["t"]) < 2:
        g = {"t": nav["t"], "lat": nav["lat"], "lon": nav["lon"], "alt": nav["alt_msl"], "fix": np.full_like(nav["t"], 3),
             "sats": np.full_like(nav["t"], -1), "hdop": np.full_like(nav["t"], np.nan),
             "vel": nav["groundspeed"], "cog": np.degrees(np.arctan2(nav["ve"], nav["vn"])) % 360}
    t = g["t"]
    frame = LocalFrame.around(nav["lat"], nav["lon"])
    jam_iv: list[tuple[float, float, str]] = []
    # --- jamming: receiver state
    no_fix = g["fix"] < 3
    few = (g["sats"] >= 0) & (g["sats"] < cfg.min_sats)
    dop = np.nan_to_num(g["hdop"], nan=0.0) > cfg.max_hdop
    links = link_gaps(flight, cfg)
    t_first = float(min(nav["t"][0], t[0]))
    acq = acquisition_windows(t, ~(no_fix | few | dop), [t_first, *flight.boots], cfg)
    # not interference: link dropouts (no packet of any kind) and fix acquisition
    holes = sorted(links + acq)
    step = float(np.median(np.diff(t))) if len(t) > 2 else cfg.gps_gap_s
    for mask, name in ((no_fix, "fix_lost"), (few, "satellites_low"), (dop, "hdop_high")):
        for ia, ib in _runs(mask):
            # a bad state lasts until the next sample, but not across a dropout
            end = float(t[ib + 1]) if ib + 1 < len(t) else float(t[ib])
            end = min(end, float(t[ib]) + max(step, 1.0)) if any(la < end and lb > t[ib] for la, lb in links) else end
            jam_iv.extend((x, y, name) for x, y in _subtract(float(t[ia]), end, holes))
    # GPS silence while other packets keep arriving (before the first / after the last packet too)
    edges = np.concatenate([[nav["t"][0]], t, [nav["t"][-1]]])
    gaps = np.flatnonzero(np.diff(edges) > cfg.gps_gap_s)
    for i in gaps:
        for x, y in _subtract(float(edges[i]), float(edges[i + 1]), holes):
            if y - x > cfg.gps_gap_s:
                jam_iv.append((x, y, "gps_silent"))
    jams = [(a, b, s) for a, b, s in _merge(jam_iv, cfg.merge_gap_s)
            if b - a >= (cfg.min_jam_s if {"fix_lost", "gps_silent"} & set(s) else cfg.min_weak_jam_s)]

    # --- spoofing: motion consistency, only between good fixes
    good = ~(no_fix | few | dop)
    ge, gn = frame.to_en(g["lat"], g["lon"])
    dt = np.diff(t)
    dpe, dpn = np.diff(ge), np.diff(gn)
    step_ok = good[1:] & good[:-1] & (dt > 0) & (dt <= cfg.gps_gap_s)
    # predicted velocity: air data + wind, else the GNSS velocity before the step
    yaw = np.radians(np.interp(t, nav["t"], np.unwrap(np.radians(nav["yaw"])) * 180 / np.pi))
    air = np.interp(t, nav["t"], nav["airspeed"])
    has_air = np.isfinite(air) & (air > 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        vgn = np.concatenate([[np.nan], dpn / np.where(dt > 0, dt, np.nan)])
        vge = np.concatenate([[np.nan], dpe / np.where(dt > 0, dt, np.nan)])
    vgn = np.where(np.concatenate([[False], step_ok]), vgn, np.nan)
    vge = np.where(np.concatenate([[False], step_ok]), vge, np.nan)
    an, ae = air * np.cos(yaw), air * np.sin(yaw)
    prev_vn = np.concatenate([[np.nan], _ffill(vgn)[:-1]])
    prev_ve = np.concatenate([[np.nan], _ffill(vge)[:-1]])
    wn = _ffill(_lagged_median(t, vgn - an, cfg.wind_window_s, cfg.wind_lag_s))
    we = _ffill(_lagged_median(t, vge - ae, cfg.wind_window_s, cfg.wind_lag_s))
    use_air = has_air & np.isfinite(wn) & np.isfinite(we)
    pvn = np.where(use_air, an + wn, prev_vn)
    pve = np.where(use_air, ae + we, prev_ve)
    with np.errstate(invalid="ignore"):
        sm_n = _smooth(t, np.where(use_air, vgn - an, np.nan), 10.0)
        sm_e = _smooth(t, np.where(use_air, vge - ae, np.nan), 10.0)
        rv = np.hypot(sm_n - wn, sm_e - we)
    walk_offs = _walk_offs(t, rv, sm_n, sm_e, wn, we, cfg)
    # jump: step far from where predicted velocity takes it
    with np.errstate(invalid="ignore"):
        res = np.hypot(dpn - pvn[1:] * dt, dpe - pve[1:] * dt)
        res = np.where(np.isfinite(res), res, np.hypot(dpn, dpe) - cfg.max_speed_mps * dt)
        jump = step_ok & (res > cfg.jump_m)
        fast = step_ok & (np.hypot(dpn, dpe) > cfg.max_speed_mps * np.maximum(dt, 1e-3) + cfg.jump_m)
        fast |= good[1:] & (np.nan_to_num(g["vel"][1:], nan=0.0) > cfg.max_speed_mps)
        jump |= fast
    spoof_events: list[tuple[float, float, str, np.ndarray]] = []
    for i in np.flatnonzero(jump):
        spoof_events.append((float(t[i]), float(t[i + 1]), "implausible_speed" if fast[i] else "position_jump",
                             np.array([dpe[i], dpn[i]])))
    for i0, i1 in walk_offs:
        spoof_events.append((float(t[i0]), float(t[i1]), "track_walk_off", np.zeros(2)))
    spoofs = _pair_spoofs(sorted(spoof_events, key=lambda x: x[0]), cfg, float(nav["t"][-1]))
    spoofs = [s for s in spoofs if s[1] - s[0] >= cfg.min_spoof_s or "track_walk_off" in s[2]]
    # drop spoofing inside jamming (re-acquisition jumps are not spoofing)
    spoofs = [s for s in spoofs if not any(a - cfg.merge_gap_s <= s[0] <= b + cfg.merge_gap_s for a, b, _ in jams)
              or "track_walk_off" in s[2]]

    episodes: list[Episode] = []
    for a, b, sig in jams:
        sel = (t >= a) & (t <= b)
        ev = {"duration_s": round(b - a, 1)}
        if sel.any():
            ev["min_satellites"] = float(np.min(np.where(g["sats"][sel] >= 0, g["sats"][sel], np.inf)))
            ev["max_hdop"] = float(np.nanmax(np.append(g["hdop"][sel], np.nan))) if np.isfinite(g["hdop"][sel]).any() else math.nan
        episodes.append(Episode("gnss_jamming", a, b, sig, {k: v for k, v in ev.items() if np.isfinite(v)}))
    for a, b, sig, jmax in spoofs:
        episodes.append(Episode("gnss_spoofing", a, b, sig, {"duration_s": round(b - a, 1), "max_jump_m": round(jmax, 1)}))
    for ep in episodes:
        _locate(ep, flight, frame, cfg, trusted_before=_trusted_pos(t, ge, gn, good, ep.t_start))
    episodes.sort(key=lambda e: e.t_start)
    return episodes


def _walk_offs(t: np.ndarray, rv: np.ndarray, sm_n: np.ndarray, sm_e: np.ndarray, wn: np.ndarray, we: np.ndarray,
               cfg: InterferenceConfig) -> list[tuple[int, int]]:
    """Index ranges where GNSS velocity departs from air data + wind for ``drag_s`` or longer.

    At an onset the wind is frozen at its value from before it (the running
    estimate would otherwise learn the spoofer's drift as wind) and the episode
    lasts until the residual against that frozen wind stays low for ``drag_s``.
    """
    out: list[tuple[int, int]] = []
    high = np.nan_to_num(rv, nan=0.0) > cfg.drag_mps
    i = 0
    n = len(t)
    for a, b in _runs(high):
        if a < i or t[b] - t[a] < cfg.drag_s:
            continue
        k = max(a - 1, 0)
        r = np.hypot(sm_n[a:] - wn[k], sm_e[a:] - we[k])
        low = np.nan_to_num(r, nan=np.inf) < cfg.drag_mps * 0.5
        end = n - 1
        for c, d in _runs(low):
            if t[a + d] - t[a + c] >= cfg.drag_s or a + d == n - 1:
                end = a + c
                break
        out.append((a, end))
        i = end + 1
    return out


def _ffill(x: np.ndarray) -> np.ndarray:
    idx = np.where(np.isfinite(x), np.arange(len(x)), 0)
    np.maximum.accumulate(idx, out=idx)
    out = x[idx]
    return out


def _smooth(t: np.ndarray, x: np.ndarray, window: float) -> np.ndarray:
    # lazy: pandas loads only on this path (it adds about half a second to every command start)
    import pandas as pd

    s = pd.Series(x, index=pd.to_datetime(t, unit="s"))
    return s.rolling(f"{int(window)}s", min_periods=3).mean().to_numpy()


def _pair_spoofs(events: list[tuple[float, float, str, np.ndarray]], cfg: InterferenceConfig,
                 t_end: float) -> list[tuple[float, float, list[str], float]]:
    """Group spoofing signals into episodes; a jump and the later jump that undoes it make one."""
    out: list[tuple[float, float, list[str], float]] = []
    used = [False] * len(events)
    for i, (a, b, sig, vec) in enumerate(events):
        if used[i]:
            continue
        used[i] = True
        end, sigs, jmax = b, [sig], float(np.hypot(*vec))
        if sig != "track_walk_off":
            for j in range(i + 1, len(events)):
                a2, b2, sig2, vec2 = events[j]
                if a2 - a > cfg.pair_within_s:
                    break
                if sig2 != "track_walk_off" and np.hypot(*(vec + vec2)) < 0.35 * np.hypot(*vec):
                    for k in range(i + 1, j + 1):
                        used[k] = True
                        if events[k][2] not in sigs:
                            sigs.append(events[k][2])
                        jmax = max(jmax, float(np.hypot(*events[k][3])))
                    end = b2
                    break
        # absorb signals right after (same episode)
        for j in range(i + 1, len(events)):
            if not used[j] and events[j][0] - end <= cfg.merge_gap_s * 4:
                used[j] = True
                end = max(end, events[j][1])
                if events[j][2] not in sigs:
                    sigs.append(events[j][2])
                jmax = max(jmax, float(np.hypot(*events[j][3])))
        out.append((a, end, sigs, jmax))
    return out


def _trusted_pos(t: np.ndarray, ge: np.ndarray, gn: np.ndarray, good: np.ndarray, t0: float) -> tuple[float, float, float] | None:
    idx = np.flatnonzero(good & (t < t0 - 1.0))
    if idx.size == 0:
        return None
    i = idx[-1]
    return float(t[i]), float(ge[i]), float(gn[i])


def _locate(ep: Episode, flight: Flight, frame: LocalFrame, cfg: InterferenceConfig,
            trusted_before: tuple[float, float, float] | None) -> None:
    nav = flight.nav
    ts = np.linspace(ep.t_start, max(ep.t_end, ep.t_start + 1.0), 12)
    ne, nn = frame.to_en(nav["lat"], nav["lon"])
    if ep.kind == "gnss_spoofing" and trusted_before is not None:
        # dead-reckon from the last trusted fix with the nav velocity before the episode
        t0, e0, n0 = trusted_before
        k = min(max(int(np.searchsorted(nav["t"], t0)), 0), len(nav["t"]) - 1)
        ve, vn = nav["ve"][k], nav["vn"][k]
        yaw0 = math.radians(nav["yaw"][k])
        air = nav["airspeed"][k]
        # heading changes come from attitude (not spoofed); speed from air data where known
        yaw = np.radians(np.interp(ts, nav["t"], np.degrees(np.unwrap(np.radians(nav["yaw"])))))
        wind_e, wind_n = (ve - air * math.sin(yaw0), vn - air * math.cos(yaw0)) if np.isfinite(air) else (0.0, 0.0)
        spd = air if np.isfinite(air) else math.hypot(ve, vn)
        tt = np.concatenate([[t0], ts])
        yy = np.concatenate([[yaw0], yaw])
        dte = np.diff(tt)
        pe = e0 + np.cumsum(dte * (spd * np.sin(yy[1:]) + wind_e))
        pn = n0 + np.cumsum(dte * (spd * np.cos(yy[1:]) + wind_n))
    else:
        pe = np.interp(ts, nav["t"], ne)
        pn = np.interp(ts, nav["t"], nn)
    alt = float(np.nanmedian(nav["alt_rel"])) if len(nav["alt_rel"]) else 500.0
    horizon = 4120.0 * (math.sqrt(max(alt, 1.0)) + math.sqrt(cfg.jammer_height_m))
    r = min(horizon, cfg.effect_range_m)
    discs = shapely.buffer(shapely.points(pe, pn), r, quad_segs=16)
    area = shapely.intersection_all(discs)
    if area.is_empty:
        area = shapely.union_all(discs)
        ep.signals = [*ep.signals, "area_union"]
    c = area.centroid
    ep.radius_m = float(max(np.max(np.hypot(shapely.get_coordinates(area)[:, 0] - c.x, shapely.get_coordinates(area)[:, 1] - c.y)), 1.0))
    lat, lon = frame.to_latlon(c.x, c.y)
    ep.lat, ep.lon = float(lat), float(lon)
    ep.area = shapely.set_precision(frame.geom_to_latlon(shapely.simplify(area, 50.0)), 1e-6)


def trusted_mask(t: np.ndarray, episodes: list[Episode], margin_s: float = 5.0) -> np.ndarray:
    """False for times inside any interference episode (navigation not to be trusted)."""
    ok = np.ones(np.shape(t), bool)
    for ep in episodes:
        ok &= ~((t >= ep.t_start - margin_s) & (t <= ep.t_end + margin_s))
    return ok


def episode_geojson(ep: Episode) -> dict[str, Any]:
    return mapping(ep.area) if ep.area is not None else {}
