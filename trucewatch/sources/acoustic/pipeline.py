"""Sensors + arrivals -> located events -> Observations.

``locate`` associates arrivals into events (see associate), fits all events
at once (see solver), rejects fits whose residuals do not fit the clock noise
or whose geometry cannot fix a position, and explains every arrival it could
not use.  ``to_observations`` hands the fixes to fusion in the observation
contract (LAUNCH / IMPACT / EXPLOSION with a 95 % ellipse).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from scipy.stats import chi2 as chi2_dist

from trucewatch.errors import RecordProblem
from trucewatch.geo import ellipse_from_cov, haversine_m
from trucewatch.model import MIN_ERROR_M, Location, Observation, ObservationKind, from_unix
from trucewatch.sources.acoustic.associate import LocateConfig, Network, associate, combine_winds
from trucewatch.sources.acoustic.formats import KIND_NAMES, Arrivals, Sensors
from trucewatch.sources.acoustic.geometry import enu_to_latlon, ground_up
from trucewatch.sources.acoustic.reconcile import build_batch, reconcile
from trucewatch.sources.acoustic.solver import Batch, Solution, fit_wind, linear_init, solve, wind_cov

SOURCE_ID = "acoustic-net"
#: Sensors closer than this are "at one point" for geometry checks.
SAME_POINT_M = 1.0
#: Reported ellipses are at least this large (the observation contract's floor, model.MIN_ERROR_M).
ELLIPSE_FLOOR_M = MIN_ERROR_M


@dataclass
class Fix:
    """One located event."""

    id: str
    time_unix_s: float
    lat: float
    lon: float
    err_major_m: float
    err_minor_m: float
    err_angle_deg: float
    n_sensors: int
    sensor_ids: list[str]
    arrival_ids: list[str]
    kind: str  # launch, impact, explosion
    residual_rms_s: float
    crlb_major_m: float
    time_sigma_s: float
    chi2: float
    p_value: float

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("lat", "lon"):
            d[k] = round(d[k], 7)
        for k in ("err_major_m", "err_minor_m", "err_angle_deg", "crlb_major_m", "chi2"):
            d[k] = round(d[k], 2)
        d["time_unix_s"] = round(d["time_unix_s"], 4)
        d["residual_rms_s"] = round(d["residual_rms_s"], 6)
        d["time_sigma_s"] = round(d["time_sigma_s"], 6)
        d["p_value"] = round(d["p_value"], 4)
        return d


@dataclass
class Failure:
    """Arrivals that could not be turned into a fix, and why."""

    reason: str
    time_unix_s: float
    sensor_ids: list[str]
    arrival_ids: list[str]

    def line(self) -> str:
        sens = ",".join(self.sensor_ids[:8]) + ("..." if len(self.sensor_ids) > 8 else "")
        return f"cannot locate: {self.reason} (t={self.time_unix_s:.3f}, sensors {sens}, {len(self.arrival_ids)} arrival(s))"


@dataclass
class LocateResult:
    fixes: list[Fix]
    failures: list[Failure]
    errors: list[RecordProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timing_s: dict[str, float] = field(default_factory=dict)
    #: Arrival indices of each fix (into the Arrivals given), same order as fixes.
    groups: list[np.ndarray] = field(default_factory=list)


def fix_id(arrival_ids: list[str]) -> str:
    """Deterministic id: the same arrivals always give the same observation id."""
    return "acoustic-" + hashlib.sha256("|".join(sorted(arrival_ids)).encode()).hexdigest()[:24]


def locate(sensors: Sensors, arr: Arrivals, cfg: LocateConfig | None = None, *, net: Network | None = None,
           seed_before: float | None = None) -> LocateResult:
    """Associate and locate every event in ``arr``; explain every arrival not used."""
    cfg = cfg or LocateConfig()
    net = net or Network(sensors, cfg.max_range_m)
    notes: list[str] = []
    given = sensors.sigma_given if sensors.sigma_given is not None else np.ones(len(sensors), bool)
    if cfg.auto_sigma and not given.all() and len(arr) >= 8:
        est = estimate_sigma(sensors, arr, cfg, net)
        if est is not None:
            sensors = Sensors(sensors.ids, sensors.lat, sensors.lon, sensors.alt,
                              np.where(given, sensors.sigma, est), sensors.index, given)
            notes.append(f"clock sigma estimated from fit residuals: {est * 1000:.2f} ms for "
                         f"{int((~given).sum())} sensor(s) without clock_sigma_s")
    t0 = time.perf_counter()
    asc = associate(sensors, arr, cfg, net, seed_before=seed_before)
    notes += asc.notes
    t1 = time.perf_counter()
    fixes, failures, used, groups = fit_groups(sensors, arr, asc.groups, cfg, net, seed_before, notes)
    t2 = time.perf_counter()
    left = np.setdiff1d(np.arange(len(arr)), used)
    if seed_before is not None:  # streaming: young arrivals may still join an event
        left = left[arr.t[left] < seed_before]
    failures += explain_leftovers(sensors, arr, left, cfg, net)
    failures.sort(key=lambda f: f.time_unix_s)
    order = np.argsort([f.time_unix_s for f in fixes], kind="stable")
    return LocateResult([fixes[i] for i in order], failures, notes=notes,
                        timing_s={"associate": t1 - t0, "locate": t2 - t1, "explain": time.perf_counter() - t2},
                        groups=[groups[i] for i in order])


def estimate_sigma(sensors: Sensors, arr: Arrivals, cfg: LocateConfig, net: Network,
                   probe_sigma_s: float = 0.02, max_arrivals: int = 5000) -> float | None:
    """Timing noise (s) from a first pass with generous gates: robust scale of the fit residuals.

    Used when the registry does not give ``clock_sigma_s``: gating with a
    made-up sigma would either reject good arrivals or admit foreign ones.
    """
    probe = replace(cfg, model_sigma_s=probe_sigma_s, auto_sigma=False)
    sub = arr.take(np.arange(min(len(arr), max_arrivals)))
    asc = associate(sensors, sub, probe, net)
    groups = [g for g in asc.groups if g.size >= 6]
    if len(groups) < 2:
        return None
    b, *_ = build_batch(sensors, sub, groups, probe, net)
    sol = solve(b, probe.c)
    n = b.M.sum(axis=1)
    r = np.abs(sol.resid[b.M])
    dof_corr = float(np.sqrt(np.sum(n) / np.sum(n - 3)))
    est = 1.4826 * float(np.median(r)) * dof_corr
    return est if np.isfinite(est) and est > 0 else None


def locate_groups(sensors: Sensors, arr: Arrivals, groups: list[np.ndarray], cfg: LocateConfig,
                  net: Network) -> tuple[list[Fix], list[Failure], np.ndarray, list[np.ndarray]]:
    """Vectorized fit of associated groups, outlier pass, residual and geometry checks."""
    c = cfg.c
    groups = [g for g in groups if g.size]
    if not groups:
        return [], [], np.zeros(0, np.int64), []
    b, idx, ref, t_ref = build_batch(sensors, arr, groups, cfg, net)
    sol = solve(b, c)
    # outlier pass: drop the worst arrival where it is beyond the gate and enough remain; refit
    for _ in range(2):
        z = np.abs(sol.resid) / b.sig
        worst = np.argmax(np.where(b.M, z, -1), axis=1)
        rows = np.arange(len(worst))
        bad = (z[rows, worst] > cfg.gate_sigma) & (b.M.sum(axis=1) > cfg.min_sensors)
        if not bad.any():
            break
        b.M[rows[bad], worst[bad]] = False
        sub = np.flatnonzero(bad)
        bs = Batch(b.S[sub], b.T[sub], b.M[sub], b.sig[sub], b.h0[sub], b.wind)
        s2 = solve(bs, c, x0=sol.x[sub])
        _merge(sol, s2, sub)
    if cfg.wind_sigma_ms:  # the wind is an estimate (or a guess): its error widens the ellipses
        sol.cov = sol.cov + wind_cov(b, sol.x, sol.cov, c, cfg.wind_sigma_ms)
    n = b.M.sum(axis=1)
    dof = np.maximum(n - 3, 1)
    p = chi2_dist.sf(sol.chi2, dof)
    scale = np.maximum(1.0, sol.chi2 / dof)
    maj, mnr, ang = ellipse_from_cov(sol.cov[:, :2, :2] * scale[:, None, None])
    crlb_major, _, _ = ellipse_from_cov(sol.cov[:, :2, :2])
    e, nn = sol.x[:, 0], sol.x[:, 1]
    enu = np.column_stack([e, nn, ground_up(e, nn, b.h0)])
    lat, lon = enu_to_latlon(net.ecef[ref], net.rot[ref], enu)
    d_near = np.min(np.where(b.M, np.hypot(b.S[..., 0] - e[:, None], b.S[..., 1] - nn[:, None]), np.inf), axis=1)
    spread = _spread(b)
    fixes: list[Fix] = []
    failures: list[Failure] = []
    used: list[np.ndarray] = []
    kept_groups: list[np.ndarray] = []
    for i in range(len(groups)):
        members = idx[i][b.M[i]]
        aids = [str(a) for a in arr.ids[members]]
        sids = [str(s) for s in sensors.ids[arr.sensor[members]]]
        reason = None
        if n[i] < cfg.min_sensors:
            reason = f"only {n[i]} sensor(s) heard it (need {cfg.min_sensors})"
        elif spread[i] < SAME_POINT_M:
            reason = "all sensors that heard it are at one point"
        elif not sol.ok[i] or not np.isfinite(maj[i]):
            reason = "sensor geometry cannot fix a position (sensors in a line or too close together)"
        elif p[i] < cfg.p_min:
            rms = float(np.sqrt(np.sum(sol.resid[i] ** 2) / n[i]))
            reason = (f"residuals do not fit the clock noise: rms {rms * 1000:.1f} ms vs sigma "
                      f"{float(np.median(b.sig[i][b.M[i]])) * 1000:.1f} ms, chi2 {sol.chi2[i]:.1f} on {dof[i]} dof "
                      f"(p={p[i]:.1e})")
        elif d_near[i] > cfg.max_range_m:
            reason = f"fix is {d_near[i] / 1000:.1f} km from the nearest sensor that heard it (beyond max range)"
        elif maj[i] > 500_000.0:
            reason = f"95 % error ellipse of {maj[i] / 1000:.0f} km says nothing about place"
        if reason is not None:
            failures.append(Failure(reason, float(t_ref[i]), sids, aids))
            used.append(members)
            continue
        kinds = arr.kind[members]
        n_l, n_i = int(np.sum(kinds == 1)), int(np.sum(kinds == 2))
        kind = "launch" if n_l > n_i else "impact" if n_i > n_l else "explosion"
        rms = float(np.sqrt(np.sum(sol.resid[i] ** 2) / n[i]))
        fixes.append(Fix(fix_id(aids), float(t_ref[i] + sol.x[i, 2] / c), float(lat[i]), float(lon[i]),
                         float(max(maj[i], ELLIPSE_FLOOR_M)), float(max(mnr[i], ELLIPSE_FLOOR_M)), float(ang[i]), int(n[i]), sids, aids, kind,
                         rms, float(crlb_major[i]), float(np.sqrt(max(sol.cov[i, 2, 2], 0)) / c), float(sol.chi2[i]),
                         float(p[i])))
        used.append(members)
        kept_groups.append(members)
    return fixes, failures, np.concatenate(used) if used else np.zeros(0, np.int64), kept_groups


def estimate_wind(sensors: Sensors, arr: Arrivals, groups: list[np.ndarray], cfg: LocateConfig,
                  net: Network, min_events: int = 3) -> tuple[LocateConfig, str | None]:
    """One effective wind for the batch, from the events that determine it; returned as the config to fit with.

    Each event with at least ``min_sensors + 2`` sensors gets its own wind
    (two more unknowns, see solver.fit_wind); the batch wind is the median of
    the well-determined ones (robust to a mixed group), and what is left of
    the wind's uncertainty is their spread (a wind that varies over the front
    or in time), which association's gates keep allowing for.  Wind is
    uniform over a few tens of km and minutes; ``locate`` is called per
    streaming window, so this is one wind per window.
    """
    if not cfg.wind_sigma_ms:
        return cfg, None
    big = [g for g in groups if np.unique(arr.sensor[g]).size >= cfg.min_sensors + 2]
    if len(big) < min_events:
        return cfg, None
    b, *_ = build_batch(sensors, arr, big, cfg, net)
    w, sd = fit_wind(b, cfg.c, linear_init(b, cfg.c)[0], cfg.wind_sigma_ms)
    est = combine_winds(w, sd, cfg.wind_sigma_ms, min_events, (cfg.wind_e_ms, cfg.wind_n_ms))
    if est is None:
        return cfg, None
    (we, wn), sd_left, k = est
    out = replace(cfg, wind_e_ms=we, wind_n_ms=wn, wind_sigma_ms=sd_left)
    note = (f"wind estimated from {k} events: {we:+.2f} m/s east, {wn:+.2f} m/s north "
            f"(+- {sd_left:.3f} m/s)")
    return out, note


def fit_groups(sensors: Sensors, arr: Arrivals, groups: list[np.ndarray], cfg: LocateConfig,
               net: Network, seed_before: float | None = None,
               notes: list[str] | None = None) -> tuple[list[Fix], list[Failure], np.ndarray, list[np.ndarray]]:
    """Batch wind, reconcile (joint re-assignment), locate_groups, then one refit where two fixes are one source."""
    cfg, note = estimate_wind(sensors, arr, groups, cfg, net)
    if note and notes is not None:
        notes.append(note)
    groups = reconcile(sensors, arr, groups, cfg, net, seed_before)
    fixes, failures, used, kept = locate_groups(sensors, arr, groups, cfg, net)
    merged = merge_duplicates(fixes, kept, sensors, arr)
    if merged is None:
        return fixes, failures, used, kept
    id_index = {str(a): i for i, a in enumerate(arr.ids)}
    rejected = [np.array([id_index[a] for a in f.arrival_ids], np.int64) for f in failures]
    return locate_groups(sensors, arr, merged + rejected, cfg, net)


def merge_duplicates(fixes: list[Fix], groups: list[np.ndarray], sensors: Sensors,
                     arr: Arrivals) -> list[np.ndarray] | None:
    """Union the groups of fixes that are one source heard twice (None when there are none).

    A second association pass can build a group from arrivals the first group
    of the same source left out; such fixes share origin time and place but no
    sensor.  Merged when origin times agree within 4 sigma (+1 ms) and the
    centres within 3 ellipse majors (+10 m).
    """
    if len(fixes) < 2:
        return None
    t = np.array([f.time_unix_s for f in fixes])
    order = np.argsort(t)
    parent = list(range(len(fixes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    found = False
    for a_pos, i in enumerate(order):
        fi = fixes[i]
        for j in order[a_pos + 1:]:
            fj = fixes[j]
            tol = 4 * np.hypot(fi.time_sigma_s, fj.time_sigma_s) + 0.001
            if fj.time_unix_s - fi.time_unix_s > tol:
                break
            d = float(haversine_m(fi.lat, fi.lon, fj.lat, fj.lon))
            if d <= 3 * (fi.err_major_m + fj.err_major_m) + 10.0 and not set(fi.sensor_ids) & set(fj.sensor_ids):
                parent[root(int(j))] = root(int(i))
                found = True
    if not found:
        return None
    out: dict[int, list[np.ndarray]] = {}
    for k in range(len(fixes)):
        out.setdefault(root(k), []).append(groups[k])
    return [np.concatenate(v) for v in out.values()]


def _merge(sol: Solution, s2: Solution, sub: np.ndarray) -> None:
    sol.x[sub] = s2.x
    sol.cov[sub] = s2.cov
    sol.chi2[sub] = s2.chi2
    sol.n[sub] = s2.n
    sol.resid[sub] = s2.resid
    sol.ok[sub] = s2.ok


def _spread(b: Batch) -> np.ndarray:
    """Largest distance of a sensor from the group's first sensor (m): ~0 when all at one point."""
    d = np.hypot(b.S[..., 0], b.S[..., 1])
    return np.max(np.where(b.M, d, 0.0), axis=1)


def explain_leftovers(sensors: Sensors, arr: Arrivals, left: np.ndarray, cfg: LocateConfig,
                      net: Network) -> list[Failure]:
    """Group unused arrivals that could share a source, and say why each group has no fix."""
    if left.size == 0:
        return []
    left = left[np.argsort(arr.t[left], kind="stable")]
    t = arr.t[left]
    horizon = 2 * cfg.max_range_m / cfg.c + cfg.window_slack_s
    hi = np.searchsorted(t, t + horizon, side="right")
    cnt = hi - np.arange(left.size) - 1
    i = np.repeat(np.arange(left.size), cnt)
    j = i + 1 + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    if i.size:
        si, sj = arr.sensor[left[i]], arr.sensor[left[j]]
        d = np.linalg.norm(net.ecef[si] - net.ecef[sj], axis=1)
        link = (np.abs(t[j] - t[i]) <= d / cfg.c + cfg.window_slack_s) & (d <= 2 * cfg.max_range_m) & (si != sj)
        i, j = i[link], j[link]
    # star clusters, not chains: an arrival joins the earliest linked arrival that leads a cluster
    # (links only go forward in time, so one pass in time order settles it)
    lead = np.arange(left.size)
    if i.size:
        o = np.lexsort((i, j))
        i, j = i[o], j[o]
        starts = np.searchsorted(j, np.arange(left.size))
        ends = np.searchsorted(j, np.arange(left.size), side="right")
        for k in range(left.size):
            for m in i[starts[k]:ends[k]]:
                if lead[m] == m:
                    lead[k] = m
                    break
    order = np.argsort(lead, kind="stable")
    bounds = np.flatnonzero(np.diff(lead[order])) + 1
    out: list[Failure] = []
    for comp in np.split(order, bounds):
        members = left[comp]
        s = arr.sensor[members]
        uniq = np.unique(s)
        if uniq.size < cfg.min_sensors:
            why = (f"only {uniq.size} sensor(s) heard it (need {cfg.min_sensors})" if uniq.size > 1 else
                   "heard by one sensor only (false alarm, or too far for the others)")
        else:
            P = net.ecef[uniq] - net.ecef[uniq].mean(axis=0)
            sv = np.linalg.svd(P, compute_uv=False)
            if sv[0] < SAME_POINT_M:
                why = f"all {uniq.size} sensors that heard it are at one point"
            elif sv[1] < SAME_POINT_M * 10:
                why = f"the {uniq.size} sensors that heard it lie in a line: no unique position"
            else:
                why = f"arrivals at {uniq.size} sensors do not fit one source within the timing noise"
        out.append(Failure(why, float(arr.t[members].min()), [str(x) for x in sensors.ids[s]],
                           [str(x) for x in arr.ids[members]]))
    return out


def to_observations(result: LocateResult, source_id: str = SOURCE_ID, pairs: dict[str, str] | None = None,
                    extra: dict[str, dict[str, Any]] | None = None) -> list[Observation]:
    """Fixes as Observations (LAUNCH / IMPACT / EXPLOSION); ``pairs`` maps fix id -> pair_id,
    ``extra`` adds attributes per fix id (e.g. ``zone_ids`` of a launch)."""
    kinds = {"launch": ObservationKind.LAUNCH, "impact": ObservationKind.IMPACT, "explosion": ObservationKind.EXPLOSION}
    out = []
    for f in result.fixes:
        attrs: dict[str, Any] = {"n_sensors": f.n_sensors, "sensor_ids": f.sensor_ids, "arrival_ids": f.arrival_ids,
                                 "residual_rms_s": round(f.residual_rms_s, 6), "crlb_major_m": round(f.crlb_major_m, 2),
                                 "p_value": round(f.p_value, 4)}
        if pairs and f.id in pairs:
            attrs["pair_id"] = pairs[f.id]
        if extra and f.id in extra:
            attrs.update(extra[f.id])
        payload = "|".join(sorted(f.arrival_ids)).encode()
        out.append(Observation(
            id=f.id, source_id=source_id, kind=kinds[f.kind], time=from_unix(f.time_unix_s),
            time_sigma_s=max(f.time_sigma_s, 1e-4),
            location=Location(lat=f.lat, lon=f.lon, err_major_m=f.err_major_m, err_minor_m=f.err_minor_m,
                              err_angle_deg=f.err_angle_deg),
            attributes=attrs, payload_hash=hashlib.sha256(payload).hexdigest()))
    return out


__all__ = ["KIND_NAMES", "SOURCE_ID", "Failure", "Fix", "LocateConfig", "LocateResult", "explain_leftovers",
           "fix_id", "locate", "locate_groups", "to_observations"]
