"""Batch association and fused estimates on columnar input (the hot path).

Order of decisions (docs/fusion.md):

1. *Units*: rows sharing an identity (object id, track id, origin post, text
   cluster, summary window) are one unit.  A launch/impact ``pair_id`` is a
   vote between seed events (step 2), not an identity: a pairing stage can err.
2. *Seeds*: precise observations (acoustic fixes, launches, sightings, tracks,
   vessel and interference reports) are linked by their gates; connected
   components are events.
3. *Second tier* (thermal pixels, damage, coarse fixes): each unit joins the
   compatible event with the lowest cost (global arg-min over all candidate
   pairs, ties to the event with the smallest id hash); the rest link among
   themselves into their own events.
4. *Text*: report units join the best compatible event of tiers 1-2; the rest
   are report-only events.

Every decision uses only gate-passing pairs, so the result decomposes over
connected components of the gate graph: the basis of the incremental mode.
Rows are first put in a canonical order (hash of the id), so the result does
not depend on input order, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from trucewatch.fusion.arrays import (
    AIR,
    FIRE,
    INTERFERENCE,
    LAUNCH,
    SECOND,
    SEED,
    SIGHTING,
    SUMMARY,
    TEXT,
    VESSEL,
    FusionInput,
    concat,
)
from trucewatch.fusion.clutter import association_probability, row_class
from trucewatch.fusion.confidence import event_confidence, independent_lines
from trucewatch.fusion.config import FusionConfig
from trucewatch.fusion.gating import gate_pairs, local_delta, position_pairs, salvo_pairs
from trucewatch.geo import EARTH_RADIUS_M, ellipse_from_cov
from trucewatch.model import KIND_CODES, ObservationArrays, ObservationKind

KC = {k: KIND_CODES[k] for k in ObservationKind}
FIRE_KINDS = np.array([KC[ObservationKind.LAUNCH], KC[ObservationKind.IMPACT], KC[ObservationKind.EXPLOSION]])


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    g = coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _min_row_label(comp: np.ndarray) -> np.ndarray:
    """Component label -> smallest row in it (canonical, order-free)."""
    rep = np.full(comp.max() + 1 if len(comp) else 0, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(rep, comp, np.arange(len(comp), dtype=np.int64))
    return rep[comp]


def _key_edges(rows: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chain edges between rows sharing a key."""
    if len(rows) < 2:
        return rows[:0], rows[:0]
    o = np.lexsort((rows, keys))
    r, k = rows[o], keys[o]
    same = k[1:] == k[:-1]
    return r[:-1][same], r[1:][same]


def _spread16(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.uint64) & np.uint64(0xFFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    return (v | (v << np.uint64(1))) & np.uint64(0x55555555)


def canonical_order(ids: np.ndarray, t: np.ndarray | None = None, lat: np.ndarray | None = None,
                    lon: np.ndarray | None = None, h: np.ndarray | None = None) -> np.ndarray:
    """Deterministic row order that depends only on the rows, not their input order.

    Rows are laid out by hour, then along a Z-order curve of ~5 km cells, then
    by a stable hash of the id: neighbours in space and time sit next to each
    other in memory (gathers in the gate stay in cache), and the order is the
    same for any permutation of the input, so sums and tie-breaks are too.
    """
    if h is None:
        h = pd.util.hash_array(np.asarray(ids, dtype=object))
    if t is None or lat is None or lon is None or len(ids) == 0:
        return np.argsort(h, kind="stable")
    hour = np.floor(t / 3600.0).astype(np.int64)
    x = np.floor((np.asarray(lon) + 180.0) / 0.05).astype(np.int64)
    y = np.floor((np.asarray(lat) + 90.0) / 0.05).astype(np.int64)
    z = _spread16(x) | (_spread16(y) << np.uint64(1))
    return np.lexsort((h, z, hour))


def _best_per_unit(unit: np.ndarray, target: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each unit, the target with the lowest cost (ties: smallest target), how
    many distinct targets it was compatible with (its ambiguity), and the index
    of the winning pair (lowest cost to that target; ties: first)."""
    if len(unit) == 0:
        return unit, target, unit, unit
    uu, inv = np.unique(unit, return_inverse=True)
    best = np.full(len(uu), np.inf)
    np.minimum.at(best, inv, cost)
    at_min = cost <= best[inv]
    tgt = np.full(len(uu), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(tgt, inv[at_min], target[at_min])
    tu, tinv = np.unique(target, return_inverse=True)
    pair_key = np.unique(inv.astype(np.int64) * len(tu) + tinv)
    k = np.bincount(pair_key // len(tu), minlength=len(uu))
    win = np.flatnonzero(at_min & (target == tgt[inv]))
    first = np.full(len(uu), len(unit), np.int64)
    np.minimum.at(first, inv[win], win)
    return uu, tgt, k, first


def _event_anchors(fi: FusionInput, label: np.ndarray, rows: np.ndarray, config: FusionConfig) -> tuple[FusionInput, np.ndarray]:
    """One virtual row per anchor event: its fused position and covariance and
    the time interval all its rows agree on (their union if they do not)."""
    o = fi.obs
    # an event's place is where the effect was: launches only stand in when there is nothing else
    launch = o.kind[rows] == KC[ObservationKind.LAUNCH]
    if launch.any():
        has_effect = np.zeros(len(fi), bool)
        has_effect[label[rows[~launch]]] = True
        rows = rows[~launch | ~has_effect[label[rows]]]
    ev_lab = label[rows]
    uniq, inv = np.unique(ev_lab, return_inverse=True)
    E = len(uniq)
    _, lat, lon, maj, mnr, ang, _, C = _fuse_positions(fi, rows, inv, E, o.lat, o.lon, fi.cov, fi.group,
                                                       with_cov=True)
    lo = np.full(E, -np.inf)
    np.maximum.at(lo, inv, fi.lo[rows])
    hi = np.full(E, np.inf)
    np.minimum.at(hi, inv, fi.hi[rows])
    bad = lo > hi
    if bad.any():
        lo2 = np.full(E, np.inf)
        np.minimum.at(lo2, inv, fi.lo[rows])
        hi2 = np.full(E, -np.inf)
        np.maximum.at(hi2, inv, fi.hi[rows])
        lo[bad], hi[bad] = lo2[bad], hi2[bad]
    fam = np.full(E, 127, np.int64)
    np.minimum.at(fam, inv, fi.family[rows].astype(np.int64))  # FIRE (0) wins over LAUNCH
    z = np.zeros(E)
    arr = ObservationArrays(uniq.astype(object), np.zeros(E, np.int32), list(o.sources), np.zeros(E, np.int8),
                            (lo + hi) / 2, z, lat, lon, maj, mnr, ang)
    v = FusionInput(arr, fam.astype(np.int8), np.full(E, SEED, np.int8), np.full(E, -1, np.int64),
                    np.full(E, -1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), z.copy(),
                    np.zeros(E, np.int64), np.zeros(E, bool), np.full(E, "", dtype=object))
    la, lo_ = np.radians(lat), np.radians(lon)
    v.coslat = np.cos(la)
    v.xyz = EARTH_RADIUS_M * np.column_stack([np.cos(la) * np.cos(lo_), np.cos(la) * np.sin(lo_), np.sin(la)])
    v.cov = np.column_stack([C[:, 0, 0], C[:, 0, 1], C[:, 1, 1]])
    v.lo, v.hi = lo, hi
    return v, uniq


def _pair_votes(lab: np.ndarray, rows: np.ndarray, keys: np.ndarray, in_seed: np.ndarray,
                is_launch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Launch-impact pairs as votes between seed events: each event holding impacts joins the
    launch event that most of its rows' pairs name (ties: smallest label); a launch event may
    take several (a salvo).  One stray pair then cannot chain missions through an impact."""
    ok = in_seed[rows]
    rows, keys = rows[ok], keys[ok]
    lw = pd.DataFrame({"k": keys[is_launch[rows]], "b": lab[rows[is_launch[rows]]]})
    iw = pd.DataFrame({"k": keys[~is_launch[rows]], "a": lab[rows[~is_launch[rows]]]})
    m = iw.merge(lw, on="k")
    m = m[m["a"] != m["b"]]
    if m.empty:
        e = np.zeros(0, np.int64)
        return e, e
    v = m.groupby(["a", "b"]).size().reset_index(name="n").sort_values(["a", "n", "b"], ascending=[True, False, True])
    v = v.drop_duplicates("a")
    return v["a"].to_numpy(np.int64), v["b"].to_numpy(np.int64)


def associate(fi: FusionInput, config: FusionConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event label per row (the smallest row index of its event, rows in canonical
    order), each row's ambiguity (how many events its unit could have joined) and
    its association probability against clutter (fusion/clutter.py; 1 for seeds)."""
    n = len(fi)
    cmap = config.clutter()
    beta_u = np.ones(n)
    if cmap is not None:
        cls = row_class(fi)
        lam = cmap.density(cls, fi.obs.lat, fi.obs.lon)
    rows = np.arange(n, dtype=np.int64)
    # 1. units
    ei, ej = _key_edges(fi.link_idx, fi.link_key)
    has_pair = rows[fi.pair >= 0]
    # pairs are not identities: a pairing stage can be wrong, so they vote between seed events (step 2)
    ui, uj = ei, ej
    unit = _min_row_label(_components(n, ui, uj))
    utier = np.full(n, 9, np.int8)
    np.minimum.at(utier, unit, fi.tier)
    rtier = utier[unit]  # tier of the unit each row belongs to
    label = np.full(n, -1, np.int64)

    # 2. seeds
    seed_rows = rows[(fi.tier == SEED) & (rtier == SEED)]
    si, sj, _ = gate_pairs(fi, seed_rows, None, config, skip_same=unit)
    pi_, pj_ = position_pairs(fi, seed_rows, None, config.weapon_position_m)
    qi, qj = salvo_pairs(fi, seed_rows, None, config.salvo_spread_m, config.fire_mission_window_s)
    si, sj = np.concatenate([si, pi_, qi]), np.concatenate([sj, pj_, qj])
    in_seed = rtier == SEED
    keep = in_seed[ui]
    comp = _components(n, np.concatenate([ui[keep], si]), np.concatenate([uj[keep], sj]))
    lab = _min_row_label(comp)
    vi, vj = _pair_votes(lab, has_pair, fi.pair[has_pair], in_seed, fi.obs.kind == KC[ObservationKind.LAUNCH])
    if len(vi):
        comp = _components(n, np.concatenate([ui[keep], si, vi]), np.concatenate([uj[keep], sj, vj]))
        lab = _min_row_label(comp)
    label[in_seed] = lab[in_seed]

    # 3. second tier: attach, then link the rest among themselves; from here on a
    # flight that struck also gates as fire, so its heat and reports join it
    gv = fi.gate_view()
    sec_units = rtier == SECOND
    sec_rows = rows[(fi.tier == SECOND) & sec_units]
    ai, aj, ac = gate_pairs(gv, sec_rows, seed_rows, config)
    bu, bt, bk, bp = _best_per_unit(unit[ai], label[aj], ac)
    attach = np.full(n, -1, np.int64)
    attach[bu] = bt
    amb_u = np.ones(n, np.int64)
    amb_u[bu] = bk
    if cmap is not None and len(bu):
        wi, wj = ai[bp], aj[bp]
        beta_u[bu] = association_probability(gv, wi, wj, cls[wi], lam[wi], config.detection_prob)
    joined = sec_units & (attach[unit] >= 0)
    label[joined] = attach[unit[joined]]
    rest = sec_rows[~joined[sec_rows]]
    ri, rj, _ = gate_pairs(fi, rest, None, config, skip_same=unit)
    rest_mask = sec_units & ~joined
    keep = rest_mask[ui]
    comp = _components(n, np.concatenate([ui[keep], ri]), np.concatenate([uj[keep], rj]))
    lab = _min_row_label(comp)
    label[rest_mask] = lab[rest_mask]

    # 4. text: attach to any located event of tiers 1-2, else stand alone
    text_units = rtier == TEXT
    # copies follow their unit: only rows that are not copies gate (unless a unit has nothing else)
    unit_has_orig = np.zeros(n, bool)
    unit_has_orig[unit[(fi.tier == TEXT) & ~fi.copy]] = True
    text_rows = rows[(fi.tier == TEXT) & text_units & (~fi.copy | ~unit_has_orig[unit])]
    # weak rows (a thermal pixel with no excess heat) do not explain reports
    anchor = rows[(label >= 0) & (fi.tier < TEXT) & (fi.rel >= config.min_anchor_reliability)]
    # reports are vague: they gate against each anchor event's fused estimate, not its every row
    vfi, v_label = _event_anchors(gv, label, anchor, config)
    tfi = concat(fi.take(text_rows), vfi)
    nt = len(text_rows)
    ti, tj, tcst = gate_pairs(tfi, np.arange(nt), np.arange(nt, len(tfi)), config,
                              space_chi2=config.text_space_gate_chi2, time_frac=config.text_time_frac)
    ti_loc, tj_loc = ti, tj
    ti, tj = text_rows[ti], v_label[tj - nt]
    bu, bt, bk, bp = _best_per_unit(unit[ti], tj, tcst)
    attach[:] = -1
    attach[bu] = bt
    amb_u[bu] = bk
    if cmap is not None and len(bu):
        wr = ti[bp]
        beta_u[bu] = association_probability(tfi, ti_loc[bp], tj_loc[bp], cls[wr], lam[wr], config.detection_prob)
    joined = text_units & (attach[unit] >= 0)
    label[joined] = attach[unit[joined]]
    alone = text_units & ~joined
    label[alone] = unit[alone]
    assert (label >= 0).all()
    return label, amb_u[unit], beta_u[unit]


@dataclass
class EventTable:
    """Fused events, columnar; ``label`` maps each input row to its event."""

    label: np.ndarray  # event index per row (rows in the caller's order)
    rel_eff: np.ndarray  # support of each row after dividing by its ambiguity
    ambiguity: np.ndarray  # number of events each row could have joined
    rows_sorted: np.ndarray  # rows grouped by event
    starts: np.ndarray  # offsets of each event in rows_sorted (len E+1)
    ids: np.ndarray  # object: event ids
    family: np.ndarray
    kind: np.ndarray  # object
    t: np.ndarray
    t_sigma: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    err_major: np.ndarray
    err_minor: np.ndarray
    err_angle: np.ndarray
    has_origin: np.ndarray
    o_lat: np.ndarray
    o_lon: np.ndarray
    o_major: np.ndarray
    o_minor: np.ndarray
    o_angle: np.ndarray
    confidence: np.ndarray
    n_groups: np.ndarray
    n_obs: np.ndarray
    n_copies: np.ndarray
    nis: np.ndarray  # mean normalized innovation of located members (consistency)
    assoc_prob: np.ndarray | None = None  # per row: chance it joined its event not by coincidence (clutter.py)
    n_lines: np.ndarray | None = None  # independent lines of evidence (source kind and operator)

    def __len__(self) -> int:
        return len(self.ids)

    def members(self, e: int) -> np.ndarray:
        return self.rows_sorted[self.starts[e] : self.starts[e + 1]]


def event_ids(ids: np.ndarray, ev: np.ndarray, n_events: int, h: np.ndarray | None = None) -> np.ndarray:
    """``ev-`` + a hash of the member ids (order-free): same members, same id.
    ``h`` is the ids' ``pd.util.hash_array`` when the caller has it already."""
    if h is None:
        h = pd.util.hash_array(np.asarray(ids, dtype=object))
    h = h.astype(np.uint64)
    with np.errstate(over="ignore"):
        # two independent order-free mixes: a sum and a xor of scrambled member hashes
        a = (h ^ (h >> np.uint64(31))) * np.uint64(0x9E3779B97F4A7C15)
        b = (h ^ (h >> np.uint64(29))) * np.uint64(0xBF58476D1CE4E5B9)
        s1 = np.zeros(n_events, np.uint64)
        np.add.at(s1, ev, a)
        s2 = np.zeros(n_events, np.uint64)
        np.bitwise_xor.at(s2, ev, b)
        cnt = np.bincount(ev, minlength=n_events).astype(np.uint64)
        mix = s1 ^ (s2 * np.uint64(0x94D049BB133111EB)) ^ (cnt * np.uint64(0xD6E8FEB86659FD93))
    return np.array([f"ev-{int(x):016x}" for x in mix], dtype=object)


def _fuse_positions(fi: FusionInput, rows: np.ndarray, ev: np.ndarray, n_events: int, lat: np.ndarray, lon: np.ndarray,
                    cov: np.ndarray, group: np.ndarray, with_cov: bool = False) -> tuple[np.ndarray, ...]:
    """Information-weighted position per event; rows of one independence group
    in one event share a weight of 1 (their errors are not independent)."""
    present = np.zeros(n_events, bool)
    if len(rows) == 0:
        z = np.full(n_events, np.nan)
        out = (present, z, z.copy(), z.copy(), z.copy(), z.copy(), z.copy())
        return (*out, np.full((n_events, 2, 2), np.nan)) if with_cov else out
    lat, lon, cov, group = lat[rows], lon[rows], cov[rows], group[rows]
    present[ev] = True
    tr = cov[:, 0] + cov[:, 2]
    o = np.lexsort((tr, ev))
    first = np.ones(len(o), bool)
    first[1:] = ev[o][1:] != ev[o][:-1]
    ref = np.zeros(n_events, np.int64)
    ref[ev[o][first]] = o[first]
    rlat, rlon = lat[ref[ev]], lon[ref[ev]]
    de, dn = local_delta(rlat, rlon, lat, lon)
    # weight 1/(members of the same group in the event)
    gk = pd.util.hash_array(ev.astype(np.int64)) ^ group.astype(np.uint64)
    _, ginv, gcnt = np.unique(gk, return_inverse=True, return_counts=True)
    w = 1.0 / gcnt[ginv]
    det = cov[:, 0] * cov[:, 2] - cov[:, 1] ** 2
    iee, ien, inn = cov[:, 2] / det, -cov[:, 1] / det, cov[:, 0] / det
    W = np.zeros((n_events, 3))
    b = np.zeros((n_events, 2))
    for k, v in enumerate((iee, ien, inn)):
        W[:, k] = np.bincount(ev, w * v, n_events)
    b[:, 0] = np.bincount(ev, w * (iee * de + ien * dn), n_events)
    b[:, 1] = np.bincount(ev, w * (ien * de + inn * dn), n_events)
    wd = W[:, 0] * W[:, 2] - W[:, 1] ** 2
    wd = np.where(present, wd, 1.0)
    cee, cen, cnn = W[:, 2] / wd, -W[:, 1] / wd, W[:, 0] / wd
    xe = cee * b[:, 0] + cen * b[:, 1]
    xn = cen * b[:, 0] + cnn * b[:, 1]
    r0 = np.zeros(n_events, np.int64)
    r0[present] = ref[present]
    base_lat, base_lon = lat[r0], lon[r0]
    flat = base_lat + np.degrees(xn / EARTH_RADIUS_M)
    flon = base_lon + np.degrees(xe / (EARTH_RADIUS_M * np.cos(np.radians(base_lat))))
    C = np.empty((n_events, 2, 2))
    C[:, 0, 0], C[:, 0, 1], C[:, 1, 0], C[:, 1, 1] = cee, cen, cen, cnn
    maj, mnr, ang = ellipse_from_cov(C)
    # consistency: mean squared Mahalanobis distance of members from the fused point
    re, rn = de - xe[ev], dn - xn[ev]
    nis_m = (cov[:, 2] * re * re - 2 * cov[:, 1] * re * rn + cov[:, 0] * rn * rn) / det
    nis = np.bincount(ev, nis_m, n_events) / np.maximum(np.bincount(ev, minlength=n_events), 1)
    nanm = ~present
    for a in (flat, flon, maj, mnr, ang, nis):
        a[nanm] = np.nan
    if with_cov:
        return present, flat, flon, maj, mnr, ang, nis, C
    return present, flat, flon, maj, mnr, ang, nis


def fuse_arrays(fi: FusionInput, config: FusionConfig | None = None, *,
                origin_cols: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                labels: np.ndarray | None = None) -> EventTable:
    """Associate rows and compute each event's fused location, origin, time and confidence.

    ``origin_cols`` (lat, lon, 95 % radius) gives launch positions carried as
    attributes (air tracks); NaN where none.  ``labels`` (any integer per row)
    replaces association, to score another clustering (the DBSCAN baseline)
    with the same estimates, confidence and rules.
    """
    config = config or FusionConfig()
    n = len(fi)
    id_hash = pd.util.hash_array(np.asarray(fi.obs.ids, dtype=object))
    perm = canonical_order(fi.obs.ids, fi.obs.t, fi.obs.lat, fi.obs.lon, h=id_hash)
    # all sums run in canonical order, so results are bit-identical for any input order
    caller_fi = fi
    fi = fi.take(perm)
    if origin_cols is not None:
        origin_cols = (origin_cols[0][perm], origin_cols[1][perm], origin_cols[2][perm])
    if labels is None:
        lab_c, amb, beta = associate(fi, config)
    else:
        lab_c, amb, beta = np.asarray(labels)[perm], np.ones(n, np.int64), np.ones(n)
    # an observation that fits several events supports the one it joined less, and
    # one that may have fallen in the gate by chance less still (fusion/clutter.py)
    fi.rel = fi.rel / amb * beta
    uniq, ev = np.unique(lab_c, return_inverse=True)
    E = len(uniq)
    o = fi.obs
    rows = np.arange(n)
    fam_ev = np.full(E, -1, np.int64)
    np.maximum.at(fam_ev, ev, fi.family.astype(np.int64))
    # an event with a launch and impacts is a fire event (family FIRE wins)
    famset = np.zeros((E, 7), bool)
    famset[ev, fi.family] = True
    fam_ev = np.where(famset[:, FIRE], FIRE, np.argmax(famset, axis=1))
    # a flight with the heat and reports of where it struck is still a flight
    fam_ev = np.where(famset[:, AIR], AIR, fam_ev)
    kinds = np.zeros((E, len(KC)), bool)
    kinds[ev, o.kind] = True
    # location: everything but launches (launch-only events use the launches)
    is_launch = o.kind == KC[ObservationKind.LAUNCH]
    has_effect = np.bincount(ev, ~is_launch, E) > 0
    loc_rows = rows[~is_launch | ~has_effect[ev]]
    _, lat, lon, maj, mnr, ang, nis = _fuse_positions(fi, loc_rows, ev[loc_rows], E, o.lat, o.lon, fi.cov, fi.group)
    lrows = rows[is_launch]
    has_o, olat, olon, omaj, omin, oang, _ = _fuse_positions(fi, lrows, ev[lrows], E, o.lat, o.lon, fi.cov, fi.group)
    if origin_cols is not None:
        a_lat, a_lon, a_err = origin_cols
        ok = np.isfinite(a_lat) & ~has_o[ev]
        if ok.any():
            r = rows[ok]
            s1 = (np.maximum(a_err[r], 1.0) / 2.447746830680816) ** 2 + config.space_floor_m**2
            ocov = np.zeros((n, 3))
            ocov[r, 0] = s1
            ocov[r, 2] = s1
            h2, la2, lo2, mj2, mn2, an2, _ = _fuse_positions(fi, r, ev[r], E, a_lat, a_lon, ocov, fi.group)
            for dst, src in ((olat, la2), (olon, lo2), (omaj, mj2), (omin, mn2), (oang, an2)):
                dst[h2] = src[h2]
            has_o = has_o | h2
    # time: point-like members weighted by 1/sigma^2; otherwise the intersection of windows
    tau2 = o.t_sigma**2 + config.time_floor_s**2
    point = (fi.hi - fi.lo) <= 2 * config.time_gate_sigma * np.sqrt(tau2) + 1e-6
    w = np.where(point, 1.0 / tau2, 0.0)
    sw = np.bincount(ev, w, E)
    t_pt = np.bincount(ev, w * (o.t - o.t.min() if n else o.t), E) / np.where(sw > 0, sw, 1) + (o.t.min() if n else 0)
    lo_max = np.full(E, -np.inf)
    np.maximum.at(lo_max, ev, fi.lo)
    hi_min = np.full(E, np.inf)
    np.minimum.at(hi_min, ev, fi.hi)
    t_win = np.where(lo_max <= hi_min, (lo_max + hi_min) / 2, hi_min)
    t = np.where(sw > 0, t_pt, t_win)
    t_sig = np.where(sw > 0, 1.0 / np.sqrt(np.where(sw > 0, sw, 1)),
                     np.abs(hi_min - lo_max) / (2 * config.time_gate_sigma))
    # weapons move and come in batteries: sightings spread over a position are not a disagreement
    nis = np.where(fam_ev == SIGHTING, np.nan, nis)
    conf, n_groups, n_copies = event_confidence(fi, ev, E, nis)
    n_lines = independent_lines(fi, ev, E)
    kind = np.empty(E, object)
    kind[:] = "fire"
    fire_like = kinds[:, FIRE_KINDS].any(axis=1)
    txt = kinds[:, KC[ObservationKind.REPORT_CLAIM]] | kinds[:, KC[ObservationKind.DAMAGE]]
    kind[(fam_ev == FIRE) & ~fire_like & txt] = "strike"
    kind[(fam_ev == FIRE) & ~fire_like & ~txt] = "fire_thermal"
    kind[fam_ev == LAUNCH] = "fire"
    kind[fam_ev == SIGHTING] = "weapon_presence"
    kind[fam_ev == AIR] = "flight"
    kind[fam_ev == INTERFERENCE] = "interference"
    kind[fam_ev == VESSEL] = "vessel"
    kind[fam_ev == SUMMARY] = "air_summary"
    order = np.argsort(ev, kind="stable")
    starts = np.searchsorted(ev[order], np.arange(E + 1))
    ids = event_ids(o.ids, ev, E, h=id_hash[perm])
    label = np.empty(n, np.int64)
    label[perm] = ev
    rel_eff = np.empty(n)
    rel_eff[perm] = fi.rel
    ambiguity = np.empty(n, np.int64)
    ambiguity[perm] = amb
    assoc_prob = np.empty(n)
    assoc_prob[perm] = beta
    del caller_fi
    return EventTable(label, rel_eff, ambiguity, perm[order], starts, ids, fam_ev, kind, t, t_sig, lat, lon, maj, mnr, ang, has_o, olat, olon,
                      omaj, omin, oang, conf, n_groups, np.bincount(ev, minlength=E), n_copies, nis,
                      assoc_prob, n_lines)


__all__ = ["SECOND", "SEED", "TEXT", "EventTable", "associate", "fuse_arrays"]
