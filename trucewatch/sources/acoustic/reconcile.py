"""Reconciliation: every located event competes for every arrival it could explain.

Association grows one event at a time from a seed, so in dense fire (an MLRS
salvo: rounds 0.5 s apart from one launcher, impacts a few hundred metres
apart) an early event can take another round's arrivals at a few sensors, or
settle on a compromise position between two rounds, and a later event is then
built from the leftovers (a split).  Here all events are fitted at once, and
then, for a few rounds, all together:

* **re-assignment** -- each arrival near an event's predicted time is scored by
  a likelihood ratio: the density of "this event, heard here" (Gaussian in the
  residual, with the clock sigma and the event's own prediction uncertainty)
  against "something else heard here" (the local arrival rate at that sensor,
  counted around the predicted time).  In quiet periods the gate stays at
  ``gate_sigma``; in dense fire it tightens by itself, where a chance arrival
  is most likely.  One arrival belongs to at most one event and an event
  takes at most one arrival per sensor, best score first (greedy over all
  candidate pairs at once, no loop per arrival);
* **drop** -- events left with fewer than ``min_sensors`` sensors release
  their arrivals;
* **merge** -- events whose positions and origin times agree within their own
  uncertainty (Mahalanobis distance in east, north and origin time) are one
  source split in two, and are merged;
* **refit** of every event, batched.

Arrivals no event wants are associated afresh once (a mixed group that lost
its foreign arrivals frees the rest for their own event).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import chi2 as chi2_dist

from trucewatch.sources.acoustic.associate import LocateConfig, Network, _sigma, associate
from trucewatch.sources.acoustic.formats import Arrivals, Sensors
from trucewatch.sources.acoustic.geometry import ground_up
from trucewatch.sources.acoustic.solver import Batch, Solution, celerity, solve


def build_batch(sensors: Sensors, arr: Arrivals, groups: list[np.ndarray], cfg: LocateConfig,
                net: Network) -> tuple[Batch, np.ndarray, np.ndarray, np.ndarray]:
    """Pad groups into a Batch in per-event tangent planes; returns (batch, idx, ref sensor, t_ref)."""
    E = len(groups)
    N = max((g.size for g in groups), default=0)
    idx = np.full((E, N), -1, np.int64)
    lens = np.array([g.size for g in groups], np.int64)
    M = np.arange(N)[None, :] < lens[:, None]
    if E:
        idx[M] = np.concatenate(groups)
    safe = np.where(M, idx, 0)
    t = np.where(M, arr.t[safe], np.inf)
    first = np.argmin(t, axis=1)
    rows = np.arange(E)
    ref_arr = safe[rows, first]
    ref = arr.sensor[ref_arr]
    t_ref = arr.t[ref_arr]
    sens = arr.sensor[safe]
    S = np.matmul(net.ecef[sens] - net.ecef[ref][:, None, :], net.rot[ref].transpose(0, 2, 1))
    # the source is taken on the ground at the median height of its sensors
    alt = np.sort(np.where(M, sensors.alt[sens], np.inf), axis=1)
    mid = np.maximum(lens - 1, 0)
    h0 = (0.5 * (alt[rows, mid // 2] + alt[rows, (mid + 1) // 2]) - sensors.alt[ref]) if E else np.zeros(0)
    sig = _sigma(sensors, cfg)[sens]
    T = np.where(M, arr.t[safe] - t_ref[:, None], 0.0)
    return Batch(S, T, M, np.where(M, sig, 1.0), h0, (cfg.wind_e_ms, cfg.wind_n_ms)), idx, ref, t_ref


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [lo, hi) per row: (row of each element, element index), without a Python loop."""
    cnt = np.maximum(hi - lo, 0)
    row = np.repeat(np.arange(lo.size), cnt)
    start = np.repeat(lo - np.concatenate([[0], np.cumsum(cnt)[:-1]]), cnt)
    return row, start + np.arange(int(cnt.sum()))


class _Scorer:
    """Candidate (event, arrival) pairs of fitted events, with their likelihood-ratio scores."""

    def __init__(self, sensors: Sensors, arr: Arrivals, cfg: LocateConfig, net: Network) -> None:
        self.arr, self.cfg, self.net = arr, cfg, net
        self.sig_s = _sigma(sensors, cfg)
        self.by_sensor = np.lexsort((arr.t, arr.sensor))
        self.t_min = float(arr.t.min())
        self.span = float(arr.t.max() - self.t_min) + 1000.0
        self.key = arr.sensor[self.by_sensor] * self.span + (arr.t[self.by_sensor] - self.t_min)

    def pairs(self, sol: Solution, b: Batch, ref: np.ndarray, t_ref: np.ndarray,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(event, arrival, score) for every arrival inside an event's gate, and (event, sensor, distance)
        of every alive sensor within range of an event."""
        cfg, net, c = self.cfg, self.net, self.cfg.c
        x = sol.x
        E = x.shape[0]
        enu = np.column_stack([x[:, 0], x[:, 1], ground_up(x[:, 0], x[:, 1], b.h0)])
        pos = net.ecef[ref] + np.einsum("eji,ej->ei", net.rot[ref], enu)
        assert net.tree is not None
        near = net.tree.query_ball_point(pos, cfg.max_range_m)
        cnt = np.fromiter((len(v) for v in near), np.int64, E)
        ev = np.repeat(np.arange(E), cnt)
        s = np.fromiter((j for v in near for j in v), np.int64, int(cnt.sum()))
        # sensors in each event's own plane
        P = np.einsum("pij,pj->pi", net.rot[ref[ev]], net.ecef[s] - net.ecef[ref[ev]])
        dx, dy, dz = x[ev, 0] - P[:, 0], x[ev, 1] - P[:, 1], enu[ev, 2] - P[:, 2]
        d = np.sqrt(dx * dx + dy * dy + dz * dz) + 1e-9
        v = celerity(c, b.wind, dx, dy)
        pred = t_ref[ev] + x[ev, 2] / c + d / v
        # prediction variance from the event's covariance (e, n, c*tau)
        J = np.column_stack([dx / (v * d), dy / (v * d), np.full(d.size, 1.0 / c)])
        var_pred = np.maximum(np.einsum("pi,pij,pj->p", J, sol.cov[ev], J), 0.0)
        sig = np.sqrt(self.sig_s[s] ** 2 + var_pred)
        sig = np.where(np.isfinite(sig), sig, np.inf)
        gate = cfg.gate_sigma * sig
        good = np.isfinite(gate) & sol.ok[ev]
        ev, s, pred, sig, gate, d = ev[good], s[good], pred[good], sig[good], gate[good], d[good]
        near = (ev, s, np.hypot(dx, dy)[good])
        base = s * self.span - self.t_min
        lo = np.searchsorted(self.key, base + pred - gate)
        hi = np.searchsorted(self.key, base + pred + gate, side="right")
        # local rate of "something else" at that sensor around the predicted time
        w = cfg.rate_window_s
        n_w = (np.searchsorted(self.key, base + pred + w, side="right") - np.searchsorted(self.key, base + pred - w))
        rate = np.maximum(n_w, 1) / (2.0 * w)
        pr, k = _expand(lo, hi)
        a = self.by_sensor[k]
        z = (self.arr.t[a] - pred[pr]) / sig[pr]
        score = -0.5 * z * z - np.log(sig[pr] * np.sqrt(2 * np.pi) * rate[pr])
        keep = score > cfg.assign_llr_min
        return ev[pr][keep], a[keep], score[keep], near


def _assign(ev: np.ndarray, a: np.ndarray, score: np.ndarray, sensor: np.ndarray,
            margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best score first: one event per arrival, one arrival per (event, sensor).

    A sensor where an event has two candidate arrivals whose scores differ by
    less than ``margin`` (log odds) is left out of that event: at that sensor
    the two rounds of a salvo cannot be told apart, and guessing would mix them.
    """
    S = int(sensor.max()) + 1
    key = ev * S + sensor[a]
    o = np.lexsort((-score, key))
    k_o, s_o = key[o], score[o]
    head = np.ones(o.size, bool)
    head[1:] = k_o[1:] != k_o[:-1]
    # the second-best candidate of a key directly follows its best
    second = np.flatnonzero(head[:-1] & ~head[1:]) + 1
    ambiguous_keys = k_o[second[s_o[second - 1] - s_o[second] < margin]]
    ok = ~np.isin(key, ambiguous_keys)
    ev, a, score, key = ev[ok], a[ok], score[ok], key[ok]
    o = np.argsort(-score, kind="stable")
    ev, a, score, key = ev[o], a[o], score[o], key[o]
    _, first = np.unique(a, return_index=True)
    first = np.sort(first)  # keep best-first order
    ev, a, score, key = ev[first], a[first], score[first], key[first]
    _, first = np.unique(key, return_index=True)
    return ev[first], a[first], score[first]


def _complete(ev: np.ndarray, a: np.ndarray, near: tuple[np.ndarray, np.ndarray, np.ndarray], sensor: np.ndarray,
              alive: np.ndarray, n_events: int, max_missing: float) -> np.ndarray:
    """Events heard by enough of the sensors nearer than their median member (bool per event).

    A real source is heard by nearly every working sensor close to it; a
    chance fit of arrivals from several sources (a mix inside a salvo) sits
    where most near sensors heard nothing at the predicted time.
    """
    ne, ns, nd = near
    S = alive.size
    member = np.zeros(n_events * S, bool)
    member[ev * S + sensor[a]] = True
    is_mem = member[ne * S + ns]
    # median member distance per event
    o = np.lexsort((nd, ne))
    me, md = ne[o][is_mem[o]], nd[o][is_mem[o]]
    cut = np.searchsorted(me, np.arange(n_events + 1))
    cnt = np.diff(cut)
    med = np.full(n_events, np.inf)
    has = cnt > 0
    lo_i = cut[:-1][has] + (cnt[has] - 1) // 2
    hi_i = cut[:-1][has] + cnt[has] // 2
    med[has] = 0.5 * (md[lo_i] + md[hi_i])
    close = (nd < med[ne]) & alive[ns]
    n_close = np.bincount(ne[close], minlength=n_events)
    n_miss = np.bincount(ne[close & ~is_mem], minlength=n_events)
    return n_miss <= max_missing * np.maximum(n_close, 1)


def _detection_log_odds(groups: list[np.ndarray], near: tuple[np.ndarray, np.ndarray, np.ndarray],
                        sensor: np.ndarray, alive: np.ndarray, width_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Log odds that each event is heard at each sensor in range, from its own members at similar distance.

    Estimated per event as (members + 1) / (working sensors + 2) among the
    sensors within ``width_m`` of the same distance from the source (the
    candidate sensor left out).  An arrival at a sensor where the event is
    rarely heard is more likely something else's.  Returns (key ev*S+sensor,
    log odds), keys sorted.
    """
    ne, ns, nd = near
    S = alive.size
    member = np.zeros(len(groups) * S + 1, bool)
    if groups:
        ev_m = np.repeat(np.arange(len(groups)), [g.size for g in groups])
        member[ev_m * S + sensor[np.concatenate(groups)]] = True
    w = alive[ns]
    ne, ns, nd = ne[w], ns[w], nd[w]
    key = ne * S + ns
    is_mem = member[key]
    o = np.lexsort((nd, ne))
    ne, nd, is_mem, key = ne[o], nd[o], is_mem[o], key[o]
    # distance offset per event keeps events apart in one sorted axis
    big = 4.0 * (float(nd.max()) + width_m) if nd.size else 1.0
    axis = ne * big + nd
    cm = np.concatenate([[0], np.cumsum(is_mem)])
    lo = np.searchsorted(axis, axis - width_m)
    hi = np.searchsorted(axis, axis + width_m, side="right")
    n_mem = cm[hi] - cm[lo] - is_mem
    n_all = hi - lo - 1
    p = (n_mem + 1.0) / (n_all + 2.0)
    k2 = np.argsort(key)
    return key[k2], np.log(p / (1 - p))[k2]


def _groups_of(ev: np.ndarray, a: np.ndarray, n_events: int, sensor: np.ndarray, min_sensors: int) -> list[np.ndarray]:
    o = np.lexsort((a, ev))
    ev, a = ev[o], a[o]
    cut = np.searchsorted(ev, np.arange(n_events + 1))
    groups = [a[cut[i]:cut[i + 1]] for i in range(n_events)]
    return [g for g in groups if np.unique(sensor[g]).size >= min_sensors]


def _merge_pairs(sol: Solution, pos: np.ndarray, t0: np.ndarray, c: float, q: float) -> list[tuple[int, int]]:
    """Event pairs whose place and origin time agree within their uncertainty (one source split)."""
    E = len(t0)
    if E < 2:
        return []
    sd = np.sqrt(np.maximum(np.einsum("eii->e", sol.cov), 0.0))
    sd = np.where(np.isfinite(sd) & sol.ok, sd, 0.0)
    reach = float(min(np.max(sd) * 2 * np.sqrt(q) + 1.0, 5_000.0))
    pts = np.column_stack([pos, c * (t0 - t0.min())])
    pr = cKDTree(pts).query_pairs(reach, output_type="ndarray")
    if pr.size == 0:
        return []
    i, j = pr[:, 0], pr[:, 1]
    # east/north/c*tau differences in each event's own plane are close enough at these distances;
    # compare in ECEF horizontal + time: distance vector, covariance sum (position part isotropic-safe)
    dpos = np.linalg.norm(pos[i] - pos[j], axis=1)
    dtau = c * (t0[i] - t0[j])
    vi = np.einsum("eii->e", sol.cov[i, :2, :2]) + np.einsum("eii->e", sol.cov[j, :2, :2])
    vt = sol.cov[i, 2, 2] + sol.cov[j, 2, 2]
    m2 = dpos**2 / np.maximum(vi, 1e-6) + dtau**2 / np.maximum(vt, 1e-6)
    ok = (m2 < q) & sol.ok[i] & sol.ok[j]
    return list(zip(i[ok].tolist(), j[ok].tolist(), strict=True))


def reconcile(sensors: Sensors, arr: Arrivals, groups: list[np.ndarray], cfg: LocateConfig,
              net: Network, seed_before: float | None = None) -> list[np.ndarray]:
    """Groups after joint re-assignment, merge of splits and re-association of what is left.

    A group no other event competes for is handed back unchanged when the
    re-assignment would drop it: with nothing better to explain its arrivals,
    the fit's own tests (chi-square, geometry) say why it cannot be located.
    """
    groups = [g for g in groups if g.size]
    if not groups or len(arr) == 0 or cfg.reconcile_rounds <= 0:
        return groups
    scorer = _Scorer(sensors, arr, cfg, net)
    q = float(chi2_dist.ppf(0.999, 3))
    original = groups
    uncontested = np.ones(len(groups), bool)
    for r in range(cfg.reconcile_rounds + 1):
        if not groups:
            break
        b, _, ref, t_ref = build_batch(sensors, arr, groups, cfg, net)
        sol = solve(b, cfg.c)
        ev, a, score, near = scorer.pairs(sol, b, ref, t_ref)
        if r == 0:
            owner = np.full(len(arr), -1)
            for k, g in enumerate(groups):
                owner[g] = k
            rival = (owner[a] >= 0) & (owner[a] != ev)
            uncontested[np.unique(owner[a][rival])] = False
        if cfg.detection_width_m > 0 and ev.size and net.alive.any():
            keys, odds = _detection_log_odds(groups, near, arr.sensor, net.alive, cfg.detection_width_m)
            k = ev * net.alive.size + arr.sensor[a]
            at = np.minimum(np.searchsorted(keys, k), keys.size - 1)
            score = score + np.where(keys[at] == k, odds[at], 0.0)
            keep = score > cfg.assign_llr_min
            ev, a, score = ev[keep], a[keep], score[keep]
        ev, a, sc = _assign(ev, a, score, arr.sensor, cfg.ambiguity_llr)
        ok = _complete(ev, a, near, arr.sensor, net.alive, len(groups), cfg.max_silent_share)
        # event score: summed log likelihood ratios of its members (a track score); chance fits score low
        ok &= np.bincount(ev, weights=sc, minlength=len(groups)) >= cfg.min_event_score
        keep = ok[ev]
        groups = _groups_of(ev[keep], a[keep], len(groups), arr.sensor, cfg.min_sensors)
        if r == cfg.reconcile_rounds - 1:
            # what no event wants may still be an event of its own (the rest of a broken mix)
            groups = groups + _reassociate(sensors, arr, groups, cfg, net, seed_before)
        if r == cfg.reconcile_rounds or not groups:
            break
        groups = _merge_splits(sensors, arr, groups, cfg, net, q)
        if cfg.sibling_window_s > 0:
            groups = _swap_siblings(sensors, arr, groups, cfg, net)
    used = np.zeros(len(arr), bool)
    if groups:
        used[np.concatenate(groups)] = True
    back = [g for k, g in enumerate(original) if uncontested[k] and not used[g].any()] if cfg.hand_back else []
    return groups + back


def _merge_splits(sensors: Sensors, arr: Arrivals, groups: list[np.ndarray], cfg: LocateConfig, net: Network,
                  q: float) -> list[np.ndarray]:
    """Union the groups of events that are one source (the next assignment keeps one arrival per sensor)."""
    b, _, ref, t_ref = build_batch(sensors, arr, groups, cfg, net)
    sol = solve(b, cfg.c)
    enu = np.column_stack([sol.x[:, 0], sol.x[:, 1], ground_up(sol.x[:, 0], sol.x[:, 1], b.h0)])
    pos = net.ecef[ref] + np.einsum("eji,ej->ei", net.rot[ref], enu)
    pairs = _merge_pairs(sol, pos, t_ref + sol.x[:, 2] / cfg.c, cfg.c, q)
    if not pairs:
        return groups
    parent = np.arange(len(groups))
    for i, j in pairs:  # few pairs: union-find over them
        ri, rj = _root(parent, i), _root(parent, j)
        parent[max(ri, rj)] = min(ri, rj)
    roots = np.array([_root(parent, k) for k in range(len(groups))])
    return [np.unique(np.concatenate([groups[k] for k in np.flatnonzero(roots == rt)])) for rt in np.unique(roots)]


def _swap_siblings(sensors: Sensors, arr: Arrivals, groups: list[np.ndarray], cfg: LocateConfig,
                   net: Network) -> list[np.ndarray]:
    """Re-split pairs of nearby events by arrival order where that fits much better.

    Two rounds from one launcher (same place, 0.5 s apart) heard by sensors
    along a band can also be fitted as two compromise sources ~80 m either
    side, each taking the early round on one side and the late round on the
    other; gates cannot tell.  Arrival order can: at every sensor that both
    events use, the earlier arrival goes to one event and the later to the
    other.  The swap is kept only when the chi-square over those sensors
    falls by more than half; the next re-assignment places the rest.
    """
    if len(groups) < 2:
        return groups
    b, _, ref, t_ref = build_batch(sensors, arr, groups, cfg, net)
    sol = solve(b, cfg.c)
    enu = np.column_stack([sol.x[:, 0], sol.x[:, 1], ground_up(sol.x[:, 0], sol.x[:, 1], b.h0)])
    pos = net.ecef[ref] + np.einsum("eji,ej->ei", net.rot[ref], enu)
    t0 = t_ref + sol.x[:, 2] / cfg.c
    pts = np.column_stack([pos, cfg.c * (t0 - t0.min())])
    reach = float(np.hypot(cfg.sibling_reach_m, cfg.c * cfg.sibling_window_s))
    pr = cKDTree(pts).query_pairs(reach, output_type="ndarray")
    if pr.size == 0:
        return groups
    pr = pr[(np.linalg.norm(pos[pr[:, 0]] - pos[pr[:, 1]], axis=1) <= cfg.sibling_reach_m)
            & (np.abs(t0[pr[:, 0]] - t0[pr[:, 1]]) <= cfg.sibling_window_s) & sol.ok[pr[:, 0]] & sol.ok[pr[:, 1]]]
    # one pair per event (the closest in time), so swaps do not collide
    pr = pr[np.argsort(np.abs(t0[pr[:, 0]] - t0[pr[:, 1]]), kind="stable")] if pr.size else pr
    taken = np.zeros(len(groups), bool)
    cand: list[tuple[int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for i, j in pr.tolist():  # one iteration per nearby pair (few), array code inside
        if taken[i] or taken[j]:
            continue
        si, sj = arr.sensor[groups[i]], arr.sensor[groups[j]]
        common = np.intersect1d(si, sj)
        if common.size < cfg.min_sensors + 2:
            continue
        ai = groups[i][np.unique(si, return_index=True)[1]]
        aj = groups[j][np.unique(sj, return_index=True)[1]]
        ai, aj = ai[np.isin(arr.sensor[ai], common)], aj[np.isin(arr.sensor[aj], common)]
        early = np.where(arr.t[ai] <= arr.t[aj], ai, aj)
        late = np.where(arr.t[ai] <= arr.t[aj], aj, ai)
        if np.array_equal(early, ai) or np.array_equal(early, aj):
            continue  # already split by order
        taken[i] = taken[j] = True
        cand.append((i, j, ai, aj, early, late))
    if not cand:
        return groups
    sets = [g for c in cand for g in c[2:]]
    bb, *_ = build_batch(sensors, arr, sets, cfg, net)
    chi = solve(bb, cfg.c).chi2.reshape(-1, 4)
    out = list(groups)
    for k, (i, j, ai, aj, early, late) in enumerate(cand):
        if chi[k, 2] + chi[k, 3] < cfg.sibling_gain * (chi[k, 0] + chi[k, 1]):
            rest_i = groups[i][~np.isin(groups[i], ai)]
            rest_j = groups[j][~np.isin(groups[j], aj)]
            out[i] = np.concatenate([early, rest_i])
            out[j] = np.concatenate([late, rest_j])
    return out


def _root(parent: np.ndarray, k: int) -> int:
    while parent[k] != k:
        k = int(parent[k])
    return k


def _reassociate(sensors: Sensors, arr: Arrivals, groups: list[np.ndarray], cfg: LocateConfig, net: Network,
                 seed_before: float | None) -> list[np.ndarray]:
    used = np.zeros(len(arr), bool)
    if groups:
        used[np.concatenate(groups)] = True
    left = np.flatnonzero(~used)
    if left.size < cfg.min_sensors:
        return []
    alive = net.alive.copy()  # associate() marks silent sensors from its own input; keep the full picture
    try:
        asc = associate(sensors, arr.take(left), cfg, net, seed_before=seed_before)
    finally:
        net.alive = alive
    return [left[g] for g in asc.groups]
