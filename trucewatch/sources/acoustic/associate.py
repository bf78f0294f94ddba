"""Association: which arrivals came from the same source event.

Arrivals are taken in time order.  The earliest unassigned arrival is the
*seed*: its event's other arrivals can only be at sensors within twice the
detection range, no earlier than the seed minus a slack and no later than the
seed plus the sensor distance over the speed of sound (triangle inequality).
Inside that physical window, hypotheses come from the exact four-arrival
solution of the squared range equations (seed plus three picks: first the
earliest pick at each of the nearest sensors, which is right for salvos where
one launcher fires every half second, then rank-weighted random picks for
interleaved batteries); each is scored by how many sensors have an arrival
within tolerance of its prediction.  The best is refined with shrinking gates
(120 ms, 30 ms, then ``gate_sigma`` clock sigmas), keeping at most one arrival
per sensor.  A group is kept only when the seed survives and at least
``min_sensors`` sensors agree; otherwise the seed alone is released as
unassociated and the next arrival seeds.

Wind nobody measured (``wind_sigma_ms``, 5 m/s per component by default:
ordinary weather) changes the speed along each path by w.u, so a fit's
travel-time error grows with the path length d, about |w| d / c^2 (0.25 s at
10 km for 3 m/s) -- far outside millisecond gates.  Every gate is therefore
widened by ``wind_gate`` sds of the wind times d / c^2, and each refinement
step fits the event's own wind as well (two more unknowns, prior about the
given wind); once a few sensors agree the wind is known to a few cm/s and the
gates are back to the clock's.  Wide gates cost precision in dense fire, so
they are used only on a pilot pass over the first ``wind_pilot_arrivals``
arrivals, whose events give the wind (weighted median) with which everything
is then grouped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from itertools import combinations

import numpy as np
from scipy.spatial import cKDTree

from trucewatch.sources.acoustic.formats import Arrivals, Sensors
from trucewatch.sources.acoustic.geometry import EARTH_RADIUS_M, enu_rotation, ground_up, speed_of_sound, to_ecef
from trucewatch.sources.acoustic.solver import celerity


@dataclass
class LocateConfig:
    """Knobs of association and localization (defaults suit a field network)."""

    temp_c: float = 15.0
    #: Farthest a sensor is expected to hear a source (m); bounds the association window.
    max_range_m: float = 20_000.0
    min_sensors: int = 4
    #: Final gate and outlier threshold, in sigmas of clock plus model error.
    gate_sigma: float = 3.5
    #: Known uniform wind (m/s, toward east / north), e.g. from a met report; modelled along every path.
    wind_e_ms: float = 0.0
    wind_n_ms: float = 0.0
    #: Unknown part of the wind (m/s per component, about wind_e/n_ms): ordinary weather, and a wrong
    #: temperature acts alike.  Association widens its gates by it in proportion to each path's length and
    #: fits a wind per event; the locate stage then estimates one wind for the batch from the events and
    #: fits with it.  0: the wind is known exactly (still air unless given).
    wind_sigma_ms: float = 5.0
    #: Sigmas of that wind uncertainty allowed for in association's gates.
    wind_gate: float = 2.0
    #: While the wind is this uncertain (m/s), association first estimates it from the events among the
    #: first ``wind_pilot_arrivals`` arrivals (wide gates and a wind per event there only), then groups
    #: everything with that wind, fixed, and gates widened by its standard error.
    wind_pilot_min_sd_ms: float = 0.5
    wind_pilot_arrivals: int = 2000
    #: The pilot stops once its events pin the wind down to this standard error (m/s; its wide gates are
    #: slow): a few events with millisecond clocks, all its arrivals with 20 ms picks.
    wind_pilot_se_ms: float = 0.02
    #: Propagation-model error (wind, temperature layers, terrain) added to each clock sigma.
    model_sigma_s: float = 0.0
    #: Fits whose chi-square p-value is below this are rejected (residuals do not fit the noise).
    p_min: float = 1e-3
    hypotheses: int = 96
    #: Association passes over the seeds that failed (dense overlapping fire).
    passes: int = 2
    #: Estimate the clock sigma from residuals for sensors whose registry row gives none.
    auto_sigma: bool = True
    seed: int = 0
    window_slack_s: float = 0.2
    coarse_gates_s: tuple[float, ...] = (0.12, 0.03, 0.01)
    #: Arrivals farther than this times the group's 75th-percentile sensor distance are left out.
    reach_factor: float = 1.6
    #: Far members whose SNR is off the group's attenuation curve by more than this many scales are left out.
    snr_z: float = 3.5
    #: Groups smaller than this must also be heard by most sensors nearer than their median sensor.
    small_group: int = 7
    #: Largest share of those nearer sensors allowed to be silent at the predicted time.
    max_silent_share: float = 0.34
    #: Rounds of joint re-assignment, merge and refit after association (see reconcile); 0 turns it off.
    reconcile_rounds: int = 2
    #: An arrival joins an event only when its density under the event beats the local arrival rate
    #: by this log ratio (0: more likely this event's than anything else heard there).
    assign_llr_min: float = 0.0
    #: A sensor where an event has two candidate arrivals closer than this in log likelihood ratio
    #: (about 95 % : 5 %) is left out of the event rather than guessed.
    ambiguity_llr: float = 3.0
    #: Hand back unchanged a group that re-assignment would drop when no other event wanted its arrivals
    #: (the fit's tests then say why it cannot be located).
    hand_back: bool = True
    #: Detection odds of an event at a sensor come from its members within this distance band (m); 0: off.
    detection_width_m: float = 1500.0
    #: Pairs of events this close (s, m) are tried re-split by arrival order (salvo rounds); 0 s: off.
    sibling_window_s: float = 2.0
    sibling_reach_m: float = 1000.0
    #: The re-split is kept when its chi-square is below this share of the current one.
    sibling_gain: float = 0.9
    #: Events whose members' summed log likelihood ratios fall below this are chance fits and dropped.
    min_event_score: float = 0.0
    #: Half-width (s) of the window in which a sensor's local arrival rate is counted.
    rate_window_s: float = 10.0

    @property
    def c(self) -> float:
        return speed_of_sound(self.temp_c)


@dataclass
class Association:
    groups: list[np.ndarray]  # arrival indices per event (one per sensor)
    unassigned: np.ndarray  # arrival indices in no group
    seeds_tried: int = 0
    notes: list[str] = field(default_factory=list)
    #: Each group's own wind fit (east, north m/s) and its sd (inf where the wind was not fitted).
    winds: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    wind_sd: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    #: The config the groups were made with (the pilot's wind estimate in it).
    cfg: LocateConfig | None = None


@dataclass
class _Keys:
    """Arrivals sorted by (sensor, time) as one float key: sensor * span + (t - t_min)."""

    key: np.ndarray
    span: float
    t_min: float


class Network:
    """Sensor geometry precomputed once: ECEF, ENU rotations, neighbour lists."""

    def __init__(self, sensors: Sensors, max_range_m: float) -> None:
        self.sensors = sensors
        self.ecef = to_ecef(sensors.lat, sensors.lon, sensors.alt) if len(sensors) else np.zeros((0, 3))
        self.rot = enu_rotation(sensors.lat, sensors.lon)
        self.tree = cKDTree(self.ecef) if len(sensors) else None
        self.max_range_m = max_range_m
        #: Sensors that reported anything in the input being associated (set by associate()).
        self.alive = np.ones(len(sensors), bool)
        self._nb: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def neighbours(self, s: int) -> tuple[np.ndarray, np.ndarray]:
        """Other sensors that can hear a source that ``s`` hears, and their distance to ``s``."""
        got = self._nb.get(s)
        if got is None:
            assert self.tree is not None
            idx = np.array(self.tree.query_ball_point(self.ecef[s], 2.0 * self.max_range_m), dtype=np.int64)
            idx = idx[idx != s]
            d = np.linalg.norm(self.ecef[idx] - self.ecef[s], axis=1)
            order = np.argsort(d, kind="stable")
            got = (idx[order], d[order])
            self._nb[s] = got
        return got

    def enu(self, ref: int, idx: np.ndarray) -> np.ndarray:
        """Positions (K, 3) of sensors ``idx`` in the tangent plane of sensor ``ref``."""
        return (self.ecef[idx] - self.ecef[ref]) @ self.rot[ref].T


def _sigma(sensors: Sensors, cfg: LocateConfig) -> np.ndarray:
    return np.sqrt(sensors.sigma**2 + cfg.model_sigma_s**2)


def associate(sensors: Sensors, arr: Arrivals, cfg: LocateConfig, net: Network | None = None,
              seed_before: float | None = None, stop_at_se: float = 0.0) -> Association:
    """Group arrivals into events.  ``seed_before``: only seeds earlier than this (streaming).

    ``stop_at_se``: stop once three or more events give the wind to this standard error (the pilot pass).
    """
    n = len(arr)
    if n == 0 or len(sensors) == 0:
        return Association([], np.arange(n), cfg=cfg)
    net = net or Network(sensors, cfg.max_range_m)
    notes: list[str] = []
    if cfg.wind_sigma_ms > cfg.wind_pilot_min_sd_ms and cfg.wind_pilot_arrivals > 0:
        # wide wind gates cost precision in dense fire: pay them only on a pilot slice, to learn the wind
        first = np.sort(np.argsort(arr.t, kind="stable")[:cfg.wind_pilot_arrivals])
        pilot = associate(sensors, arr.take(first), replace(cfg, wind_pilot_arrivals=0), net, seed_before,
                          stop_at_se=cfg.wind_pilot_se_ms)
        est = combine_winds(pilot.winds, pilot.wind_sd, cfg.wind_sigma_ms, prior_mean=(cfg.wind_e_ms, cfg.wind_n_ms))
        if est is not None:
            (we, wn), sd, k = est
            cfg = replace(cfg, wind_e_ms=we, wind_n_ms=wn, wind_sigma_ms=max(sd, 0.0))
            notes.append(f"association: wind {we:+.2f} m/s east, {wn:+.2f} m/s north (+- {sd:.3f}) from {k} "
                         "events of a pilot pass")
    net.alive = np.bincount(arr.sensor, minlength=len(sensors)) > 0
    c = cfg.c
    rng = np.random.default_rng(cfg.seed)
    sig_s = _sigma(sensors, cfg)
    # arrivals by (sensor, time) for window look-ups
    by_sensor = np.lexsort((arr.t, arr.sensor))
    t_min = float(arr.t.min())
    span = float(arr.t.max() - t_min) + 1000.0
    keys = _Keys(arr.sensor[by_sensor] * span + (arr.t[by_sensor] - t_min), span, t_min)
    assigned = np.zeros(n, bool)
    released = np.zeros(n, bool)
    time_order = np.argsort(arr.t, kind="stable")
    groups: list[np.ndarray] = []
    winds: list[tuple[float, float]] = []
    wind_sd: list[float] = []
    tried = 0
    n_pinned, info = 0, 0.0
    # a seed that failed among many overlapping events may succeed once those events have taken
    # their arrivals: later passes retry the released seeds (stop when a pass finds nothing)
    for _ in range(cfg.passes):
        found = 0
        released[:] = False
        for a0 in time_order:
            if assigned[a0] or released[a0]:
                continue
            if seed_before is not None and arr.t[a0] >= seed_before:
                break
            tried += 1
            g = _grow(a0, arr, net, cfg, c, rng, sig_s, by_sensor, keys, assigned)
            if g is None:
                released[a0] = True
            else:
                assigned[g[0]] = True
                groups.append(g[0])
                winds.append(g[1])
                wind_sd.append(g[2])
                found += 1
                if g[2] < 0.25 * cfg.wind_sigma_ms:
                    n_pinned += 1
                    info += 1.0 / g[2] ** 2
                if stop_at_se and n_pinned >= 3 and info * stop_at_se**2 >= 1.0:
                    break
        if found == 0 or (stop_at_se and n_pinned >= 3 and info * stop_at_se**2 >= 1.0):
            break
    return Association(groups, np.flatnonzero(~assigned), tried, notes, np.array(winds).reshape(-1, 2),
                       np.repeat(np.array(wind_sd, float), 2).reshape(-1, 2), cfg)


def combine_winds(w: np.ndarray, sd: np.ndarray, prior_sd: float, min_events: int = 3,
                  prior_mean: tuple[float, float] = (0.0, 0.0),
                  min_z: float = 3.0) -> tuple[tuple[float, float], float, int] | None:
    """One wind from per-event fits (E, 2) and their sds: weighted median, and its standard error.

    Only events that pin the wind down (sd below a quarter of the prior) count;
    the median resists a mixed group.  The error is the events' own sds
    scaled up by how much more they scatter than those sds say (a wind that
    varies over the front or in time).  None with fewer than ``min_events``.
    """
    good = np.all(np.isfinite(sd) & (sd < 0.25 * prior_sd), axis=1) & np.isfinite(w).all(axis=1)
    if good.sum() < min_events:
        return None
    w, sd = w[good], sd[good]
    wt = 1.0 / sd**2
    est = np.empty(2)
    for k in range(2):
        o = np.argsort(w[:, k])
        cw = np.cumsum(wt[o, k])
        est[k] = w[o[np.searchsorted(cw, 0.5 * cw[-1])], k]
    s_z = np.maximum(1.4826 * np.median(np.abs((w - est) / sd), axis=0), 1.0)
    se = np.sqrt(np.pi / 2) * s_z / np.sqrt(wt.sum(axis=0))
    # a wind within min_z standard errors of the prior mean is not detected: keep the prior mean (a biased
    # estimate from mixed groups in dense fire would cost more than it gains)
    est = np.where(np.abs(est - prior_mean) < min_z * se, prior_mean, est)
    return (float(est[0]), float(est[1])), float(min(np.max(se), prior_sd)), int(good.sum())


def _window(a0: int, arr: Arrivals, net: Network, cfg: LocateConfig, c: float, by_sensor: np.ndarray,
            keys: _Keys, assigned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unassigned arrivals physically able to share the seed's source, and their distance rank."""
    s0, t0 = int(arr.sensor[a0]), float(arr.t[a0])
    nb, d = net.neighbours(s0)
    if nb.size == 0:
        return np.arange(0), nb
    w = float(np.hypot(cfg.wind_e_ms, cfg.wind_n_ms))
    lo = t0 - cfg.window_slack_s - 2 * d * w / c**2 - keys.t_min
    hi = t0 + d / max(c - w, 1.0) + cfg.window_slack_s - keys.t_min
    # one binary search over (sensor, time) keys for every neighbour at once
    i_lo = np.searchsorted(keys.key, nb * keys.span + lo)
    i_hi = np.searchsorted(keys.key, nb * keys.span + hi, side="right")
    cnt = np.maximum(i_hi - i_lo, 0)
    if cnt.sum() == 0:
        return np.arange(0), nb
    rep = np.repeat(i_lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt) + np.arange(cnt.sum())
    cand = by_sensor[rep]
    cand = cand[~assigned[cand]]
    return cand, nb


def _grow(a0: int, arr: Arrivals, net: Network, cfg: LocateConfig, c: float, rng: np.random.Generator,
          sig_s: np.ndarray, by_sensor: np.ndarray, keys: _Keys, assigned: np.ndarray,
          ) -> tuple[np.ndarray, tuple[float, float], float] | None:
    """One event grown from seed ``a0``: its arrivals, its wind fit and that fit's sd (inf: not fitted)."""
    cand, nb = _window(a0, arr, net, cfg, c, by_sensor, keys, assigned)
    if cand.size < cfg.min_sensors - 1:
        return None
    s0, t0 = int(arr.sensor[a0]), float(arr.t[a0])
    cs = arr.sensor[cand]
    # group candidates by sensor, sensors ordered by distance to the seed's sensor
    dist_rank = np.full(len(net.sensors), -1, np.int64)
    dist_rank[nb] = np.arange(nb.size)
    order = np.lexsort((arr.t[cand], dist_rank[cs]))
    cand, cs = cand[order], cs[order]
    new_sensor = np.ones(cand.size, bool)
    new_sensor[1:] = cs[1:] != cs[:-1]
    sensor_start = np.flatnonzero(new_sensor)
    n_sens = sensor_start.size
    if n_sens < cfg.min_sensors - 1:
        return None
    per_sensor = np.diff(np.append(sensor_start, cand.size))
    seg_id = np.repeat(np.arange(n_sens), per_sensor)
    # geometry in the seed's tangent plane; times relative to the seed
    all_idx = np.concatenate([[a0], cand])
    P = net.enu(s0, arr.sensor[all_idx])
    T = arr.t[all_idx] - t0
    h0 = float(np.median(net.sensors.alt[arr.sensor[all_idx]]) - net.sensors.alt[s0])
    # hypotheses: rows into all_idx (0 is the seed)
    near = min(n_sens, 6)
    det = [list(cmb) for cmb in combinations(range(near), 3)]
    picks_det = np.array(det, np.int64).reshape(-1, 3)
    picks_det = sensor_start[picks_det] + 1  # earliest arrival at each chosen sensor
    tol = cfg.coarse_gates_s[0]
    wind = (cfg.wind_e_ms, cfg.wind_n_ms)
    w_gate = cfg.wind_gate * cfg.wind_sigma_ms / c**2  # s per metre of path
    sig_all = sig_s[arr.sensor[all_idx]]

    def best_of(picks: np.ndarray) -> tuple[float, np.ndarray]:
        rows = np.column_stack([np.zeros(len(picks), np.int64), picks])
        # first-order wind correction (see _four_point): the exact solve is for still air
        Tw = T[rows] + (wind[0] * P[rows][..., 0] + wind[1] * P[rows][..., 1]) / c**2
        hyp = _four_point(P[rows], Tw, h0, c)
        hyp[:, 2] -= (wind[0] * hyp[:, 0] + wind[1] * hyp[:, 1]) / c
        # score: distinct sensors with an arrival near the prediction; the seed must fit
        res = np.abs(T[None, :] - _predict(hyp, P, h0, c, wind))  # (H, K+1)
        # an unknown wind shifts each arrival by up to |w| d / c^2 (d the path length)
        tol_k = tol + w_gate * np.hypot(hyp[:, None, 0] - P[None, 1:, 0], hyp[:, None, 1] - P[None, 1:, 1]) \
            if w_gate else tol
        inl = res[:, 1:] < tol_k
        hits = np.logical_or.reduceat(inl, sensor_start, axis=1).sum(axis=1)
        score = np.where((res[:, 0] < tol) & np.isfinite(hyp).all(axis=1),
                         hits - 0.5 * np.mean(np.where(inl, res[:, 1:] / tol_k, 0), axis=1), -1)
        b = int(np.argmax(score))
        return float(score[b]), hyp[b]

    def refine(x: np.ndarray) -> tuple[np.ndarray, tuple[float, float], float] | None:
        """Shrinking gates around hypothesis ``x``; rows into all_idx of the final group, or None.

        With an uncertain wind each gate is widened by the wind's current sd times the path length
        over c^2, and every step also fits the event's wind; once a few sensors agree the wind is
        known to centimetres per second and the gates are back to the clock's.
        """
        chosen_rows = None
        wv, wsd = wind, cfg.wind_sigma_ms
        fitted = False

        def widen(x: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray | float:
            if not wsd:
                return 0.0
            return cfg.wind_gate * wsd * np.hypot(P[rows, 0] - x[0], P[rows, 1] - x[1]) / c**2

        for gate in [*cfg.coarse_gates_s, None]:
            r = T - _predict(x[None], P, h0, c, wv)[0]
            gate_v = cfg.gate_sigma * sig_all if gate is None else np.maximum(gate, cfg.gate_sigma * sig_all)
            ok = np.abs(r) < np.hypot(gate_v, widen(x))  # clock and wind errors add in quadrature
            if not ok[0]:
                return None
            # at most one arrival per sensor: the best fitting one
            key = np.where(ok[1:], np.abs(r[1:]), np.inf)
            pick = np.lexsort((key, seg_id))[sensor_start]
            pick = pick[np.isfinite(key[pick])] + 1
            chosen_rows = np.concatenate([[0], pick])
            if chosen_rows.size < cfg.min_sensors:
                return None
            if cfg.wind_sigma_ms > cfg.wind_pilot_min_sd_ms:  # the wind is a guess: fit it per event
                fit = _gauss_newton_wind(P[chosen_rows], T[chosen_rows], sig_all[chosen_rows], x, h0, c, wind,
                                         cfg.wind_sigma_ms)
                if fit is None:
                    return None
                x, wv, wsd = fit
                fitted = True
            else:
                refit = _gauss_newton(P[chosen_rows], T[chosen_rows], sig_all[chosen_rows], x, h0, c, wind)
                if refit is None:
                    return None
                x = refit
        # final membership with the refined position, and plausible range from the source
        assert chosen_rows is not None
        r = np.abs(T - _predict(x[None], P, h0, c, wv)[0])
        d_src = np.hypot(P[chosen_rows, 0] - x[0], P[chosen_rows, 1] - x[1])
        keep = (r[chosen_rows] < np.hypot(cfg.gate_sigma * sig_all[chosen_rows], widen(x, chosen_rows))) \
            & (d_src <= cfg.max_range_m)
        # a lone arrival far beyond the group's reach is more likely another event's than this one's
        if keep.sum() >= cfg.min_sensors:
            factor = cfg.reach_factor if keep.sum() >= 8 else cfg.reach_factor * 1.2
            keep &= d_src <= factor * np.percentile(d_src[keep], 75) + 500.0
        rows_k = chosen_rows[keep]
        kept = _snr_consistent(rows_k, d_src[keep], arr.snr[all_idx[rows_k]], cfg.snr_z)
        if kept.size < cfg.min_sensors or kept[0] != 0:
            return None
        if kept.size < cfg.small_group and _silent_neighbours(
                x, P, all_idx, kept, nb, s0, arr, net, keys, h0, c,
                float(np.hypot(cfg.gate_sigma * np.max(sig_all), np.max(widen(x, kept), initial=0.0))),
                cfg.max_silent_share, wv):
            return None
        return kept, wv, (wsd if fitted else np.inf)

    best_score, best_x = best_of(picks_det)
    # score = sensors hit minus a penalty below 0.5, so "at least k hits" is score > k - 0.5
    group = refine(best_x) if best_score > cfg.min_sensors - 1.5 else None
    # random picks only when the earliest-arrival combinations did not give a large group
    if group is None or group[0].size < 8:
        H = cfg.hypotheses
        w = 1.0 / (1.0 + np.arange(n_sens)) ** 0.5
        draw = rng.random((H, n_sens)) ** (1.0 / w)
        chosen = np.argpartition(-draw, 2, axis=1)[:, :3]
        rk = np.minimum(rng.geometric(0.5, (H, 3)) - 1, per_sensor[chosen] - 1)
        sc2, x2 = best_of(sensor_start[chosen] + rk + 1)
        if sc2 > best_score and sc2 > cfg.min_sensors - 1.5:
            g2 = refine(x2)
            if g2 is not None and (group is None or g2[0].size > group[0].size):
                group = g2
    if group is None:
        return None
    return all_idx[group[0]], group[1], group[2]


def _snr_consistent(rows: np.ndarray, d: np.ndarray, snr: np.ndarray, z_max: float) -> np.ndarray:
    """Drop far members whose loudness does not fit the group's own attenuation with distance.

    A sensor that missed this event can still report a neighbouring event at
    the predicted time by chance; that arrival is then much louder (or quieter)
    than this source would be at that distance.  Model: snr + 20 log10 d =
    A - b d (spherical spreading plus linear excess attenuation), fitted to
    the group itself, robust scale (MAD, at least 2 dB).  Needs six or more SNRs.
    """
    ok = np.isfinite(snr)
    if ok.sum() < 6:
        return rows
    y = snr + 20 * np.log10(np.maximum(d, 1.0))
    X = np.column_stack([np.ones(d.size), d / 1000.0])
    coef, *_ = np.linalg.lstsq(X[ok], y[ok], rcond=None)
    r = y - X @ coef
    scale = max(1.4826 * float(np.median(np.abs(r[ok] - np.median(r[ok])))), 2.0)
    far = d > np.median(d)
    bad = ok & far & (np.abs(r) > z_max * scale)
    bad[0] = False  # the seed stays (it is nearest by construction)
    return rows[~bad]


def _gauss_newton(P: np.ndarray, T: np.ndarray, sig: np.ndarray, x: np.ndarray, h0: float, c: float,
                  wind: tuple[float, float] = (0.0, 0.0), iters: int = 4) -> np.ndarray | None:
    """A few plain Gauss-Newton steps for one event (association only needs metres, not the last millimetre)."""
    x = np.array(x, float)
    for _ in range(iters):
        u = h0 - (x[0] ** 2 + x[1] ** 2) / (2 * EARTH_RADIUS_M)
        dx, dy, dz = x[0] - P[:, 0], x[1] - P[:, 1], u - P[:, 2]
        d = np.sqrt(dx * dx + dy * dy + dz * dz) + 1e-9
        r = (T - x[2] / c - d / celerity(c, wind, dx, dy)) / sig
        J = np.column_stack([dx / (c * d), dy / (c * d), np.full(d.size, 1.0 / c)]) / sig[:, None]
        step, *_ = np.linalg.lstsq(J, r, rcond=None)
        if not np.isfinite(step).all():
            return None
        x += step
        if np.abs(step).max() < 0.01:
            break
    return x if np.isfinite(x).all() and np.hypot(x[0], x[1]) < 1e6 else None


def _gauss_newton_wind(P: np.ndarray, T: np.ndarray, sig: np.ndarray, x: np.ndarray, h0: float, c: float,
                       w0: tuple[float, float], w_sd: float, iters: int = 6,
                       ) -> tuple[np.ndarray, tuple[float, float], float] | None:
    """Gauss-Newton for one event with its wind (prior ``w0`` +- ``w_sd`` per component) as two more unknowns.

    Returns (east, north, c*tau), the wind and its largest posterior sd, or None.
    """
    th = np.array([*np.asarray(x, float)[:3], *w0])
    prior = np.asarray(w0, float)
    for _ in range(iters):
        u = h0 - (th[0] ** 2 + th[1] ** 2) / (2 * EARTH_RADIUS_M)
        dx, dy, dz = th[0] - P[:, 0], th[1] - P[:, 1], u - P[:, 2]
        d = np.sqrt(dx * dx + dy * dy + dz * dz) + 1e-9
        h = np.sqrt(dx * dx + dy * dy) + 1e-9
        v = c - (th[3] * dx + th[4] * dy) / h
        r = np.concatenate([(T - th[2] / c - d / v) / sig, (prior - th[3:]) / w_sd])
        J = np.zeros((d.size + 2, 5))
        J[:-2] = np.column_stack([dx / (v * d), dy / (v * d), np.full(d.size, 1.0 / c),
                                  d * dx / (h * v * v), d * dy / (h * v * v)]) / sig[:, None]
        J[-2, 3] = J[-1, 4] = 1.0 / w_sd
        step, *_ = np.linalg.lstsq(J, r, rcond=None)
        if not np.isfinite(step).all():
            return None
        th += step
        if np.abs(step[:3]).max() < 0.01 and np.abs(step[3:]).max() < 1e-3:
            break
    if not (np.isfinite(th).all() and np.hypot(th[0], th[1]) < 1e6 and np.hypot(th[3], th[4]) < 60.0):
        return None
    try:
        cov = np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        return None
    sd = float(np.sqrt(max(cov[3, 3], cov[4, 4], 0.0)))
    return th[:3], (float(th[3]), float(th[4])), sd


def _silent_neighbours(x: np.ndarray, P: np.ndarray, all_idx: np.ndarray, keep: np.ndarray, nb: np.ndarray, s0: int,
                       arr: Arrivals, net: Network, keys: _Keys, h0: float, c: float, gate: float, share: float,
                       wind: tuple[float, float] = (0.0, 0.0)) -> bool:
    """True when too many sensors nearer the fix than its median detecting sensor heard nothing then.

    Four random arrivals can fit a source by chance (one degree of freedom);
    a real source is also heard by the sensors closest to it.
    """
    det_s = arr.sensor[all_idx[keep]]
    Q = net.enu(s0, nb)
    d_nb = np.hypot(Q[:, 0] - x[0], Q[:, 1] - x[1])
    d_det = np.hypot(P[keep, 0] - x[0], P[keep, 1] - x[1])
    # a sensor that reported nothing at all in this input may be offline: its silence is no evidence
    near = nb[(d_nb < np.median(d_det)) & ~np.isin(nb, det_s) & net.alive[nb]]
    if near.size == 0:
        return False
    Qn = net.enu(s0, near)
    pred = _predict(x[None], Qn, h0, c, wind)[0] + arr.t[all_idx[0]] - keys.t_min
    lo = np.searchsorted(keys.key, near * keys.span + pred - gate)
    hi = np.searchsorted(keys.key, near * keys.span + pred + gate, side="right")
    silent = int(np.sum(hi == lo))
    n_near_det = int(np.sum(d_det < np.median(d_det))) + 1
    return silent > 0 and silent / (silent + n_near_det) > share


def _predict(x: np.ndarray, P: np.ndarray, h0: float, c: float, wind: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Arrival times (H, K) predicted by hypotheses x (H, 3: e, n, c*tau) at sensors P (K, 3)."""
    u = ground_up(x[:, 0], x[:, 1], h0)
    dx = x[:, None, 0] - P[None, :, 0]
    dy = x[:, None, 1] - P[None, :, 1]
    d = np.sqrt(dx**2 + dy**2 + (u[:, None] - P[None, :, 2]) ** 2)
    return x[:, None, 2] / c + d / celerity(c, wind, dx, dy)


def _four_point(P: np.ndarray, T: np.ndarray, h0: float, c: float) -> np.ndarray:
    """Exact solutions (H, 3) of the squared range equations for H sets of four arrivals.

    Still air.  Under a uniform wind w the travel time is d/c - w.(s - x)/c^2 to
    first order, so callers add w.s/c^2 to the times first and take w.x/c^2 off
    the origin time after.
    """
    km = 1e-3
    S = P * km
    ct = T * c * km
    u0 = h0 * km
    A = np.stack([-2 * S[..., 0], -2 * S[..., 1], 2 * ct, np.ones_like(ct)], axis=-1)
    rhs = ct * ct - np.sum(S * S, axis=-1) + 2 * S[..., 2] * u0
    det = np.linalg.det(A)
    good = np.abs(det) > 1e-9
    A = np.where(good[:, None, None], A, np.eye(4))
    sol = np.linalg.solve(A, rhs[..., None])[..., 0]
    out = sol[:, :3] / km
    out[~good] = np.nan
    return out
