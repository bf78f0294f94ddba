"""Candidate pairs: which observations could be the same happening.

Each observation's own uncertainty decides its gate (95 % ellipse -> covariance,
pixel footprint, persistence window, time sigma), so one fixed radius cannot
serve.  Observations are bucketed by family and by the size of their gates
(powers of 4); for each pair of buckets one KD-tree box query with the largest
gate of the two buckets finds candidates in O(n log n), then an exact test keeps
the pairs whose Mahalanobis distance and time intervals agree.
Coordinates are earth-centred (x, y, z) so no map projection is needed and the
result does not depend on where a local frame was centred.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from trucewatch.fusion.arrays import SEED, SIGHTING, FusionInput, K
from trucewatch.geo import EARTH_RADIUS_M
from trucewatch.model import ObservationKind

if TYPE_CHECKING:  # config imports clutter, which imports this module: a type-only import breaks the loop
    from trucewatch.fusion.config import FusionConfig

#: Time gate cost at the edge of the window (keeps time and space comparable).
TIME_COST_SCALE = 9.0


def local_delta(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """East/north metres from point 1 to point 2 (tangent plane at their midpoint)."""
    dlon = (lon2 - lon1 + 180.0) % 360.0 - 180.0
    latm = np.radians((lat1 + lat2) / 2)
    de = EARTH_RADIUS_M * np.cos(latm) * np.radians(dlon)
    dn = EARTH_RADIUS_M * np.radians(lat2 - lat1)
    return de, dn


def pair_cost(fi: FusionInput, i: np.ndarray, j: np.ndarray, config: FusionConfig, space_chi2: float | None = None,
              time_frac: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(passes the gate, cost) for rows i, j: squared Mahalanobis distance plus time cost."""
    o = fi.obs
    dlon = (o.lon[j] - o.lon[i] + 180.0) % 360.0 - 180.0
    de = (EARTH_RADIUS_M * np.pi / 180.0) * 0.5 * (fi.coslat[i] + fi.coslat[j]) * dlon
    dn = (EARTH_RADIUS_M * np.pi / 180.0) * (o.lat[j] - o.lat[i])
    cee = fi.cov[i, 0] + fi.cov[j, 0]
    cen = fi.cov[i, 1] + fi.cov[j, 1]
    cnn = fi.cov[i, 2] + fi.cov[j, 2]
    det = np.maximum(cee * cnn - cen * cen, 1e-9)
    m2 = (cnn * de * de - 2 * cen * de * dn + cee * dn * dn) / det
    ci = (fi.lo[i] + fi.hi[i]) / 2
    cj = (fi.lo[j] + fi.hi[j]) / 2
    hw = np.maximum((fi.hi[i] - fi.lo[i]) / 2 + (fi.hi[j] - fi.lo[j]) / 2, 1e-9)
    tc = np.abs(ci - cj) / hw
    ok = (m2 <= (space_chi2 or config.space_gate_chi2)) & (tc <= time_frac)
    si, sj = fi.sub[i], fi.sub[j]
    ok &= (si == sj) | (si < 0) | (sj < 0)
    ok &= fi.family[i] == fi.family[j]
    return ok, m2 + TIME_COST_SCALE * tc * tc


def _bucket_keys(fi: FusionInput, rows: np.ndarray, chi2: float, fine: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tr = fi.cov[rows, 0] + fi.cov[rows, 2]
    det = fi.cov[rows, 0] * fi.cov[rows, 2] - fi.cov[rows, 1] ** 2
    lmax = tr / 2 + np.sqrt(np.maximum(tr * tr / 4 - det, 0))
    rs = np.sqrt(chi2 * lmax)  # spatial reach of this row's gate, m
    hw = (fi.hi[rows] - fi.lo[rows]) / 2  # temporal reach, s
    step = 1.5 if fine else 0.5  # buckets of x1.6 in reach, or x4 for the smaller side of a lopsided pair
    bs = np.floor(np.log2(np.maximum(rs, 1.0)) * step).astype(np.int64)
    bt = np.floor(np.log2(np.maximum(hw, 1.0)) * step / 1.5).astype(np.int64)
    key = (fi.family[rows].astype(np.int64) * 64 + bs) * 64 + bt
    return key, rs, hw


#: Rows per time slab: small enough that a slab's KD-tree stays in cache, so the
#: cost stays linear in the number of rows however many days a batch spans.
SLAB_ROWS = 16_384


def _box(xyz: np.ndarray, tc: np.ndarray, ra: np.ndarray, rb: np.ndarray | None, rs: float, scale: float
         ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs within a Chebyshev box of half-width ``rs`` in (x, y, z, t * scale); rb None: within ra (i < j)."""
    ta = cKDTree(np.column_stack([xyz[ra], tc[ra] * scale]), balanced_tree=False, compact_nodes=False)
    if rb is None:
        pr = ta.query_pairs(rs, p=np.inf, output_type="ndarray")
        return ra[pr[:, 0]], ra[pr[:, 1]]
    tb = cKDTree(np.column_stack([xyz[rb], tc[rb] * scale]), balanced_tree=False, compact_nodes=False)
    m = ta.sparse_distance_matrix(tb, rs, p=np.inf, output_type="ndarray")
    return ra[m["i"]], rb[m["j"]]


def _slab_pairs(xyz: np.ndarray, tc: np.ndarray, ra: np.ndarray, rb: np.ndarray, rs: float, rt: float,
                within: bool) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Candidate pairs of one bucket pair, slab by slab in time.

    Partners lie at most ``rt`` apart in time, so with slabs at least ``rt``
    wide each row meets only its own and the neighbouring slabs: many small
    trees instead of one large one (the same pairs, each found once)."""
    scale = rs / max(rt, 1e-9)
    lo = float(min(tc[ra].min(), tc[rb].min()))
    span = float(max(tc[ra].max(), tc[rb].max())) - lo
    n = max(len(ra), len(rb))
    width = max(rt, span * SLAB_ROWS / max(n, 1))
    if width >= span or n <= SLAB_ROWS:
        yield _box(xyz, tc, ra, None if within else rb, rs, scale)
        return
    sa = np.floor((tc[ra] - lo) / width).astype(np.int64)
    oa = np.argsort(sa, kind="stable")
    ra, sa = ra[oa], sa[oa]
    if within:
        rb, sb = ra, sa
    else:
        sb = np.floor((tc[rb] - lo) / width).astype(np.int64)
        ob = np.argsort(sb, kind="stable")
        rb, sb = rb[ob], sb[ob]
    ka = np.unique(sa)
    for k in ka.tolist():
        A = ra[np.searchsorted(sa, k):np.searchsorted(sa, k, side="right")]
        if within:
            yield _box(xyz, tc, A, None, rs, scale)
            B = rb[np.searchsorted(sb, k + 1):np.searchsorted(sb, k + 1, side="right")]
        else:
            B = rb[np.searchsorted(sb, k - 1):np.searchsorted(sb, k + 1, side="right")]
        if len(B):
            yield _box(xyz, tc, A, B, rs, scale)


def gate_pairs(fi: FusionInput, rows_a: np.ndarray, rows_b: np.ndarray | None, config: FusionConfig, *,
               space_chi2: float | None = None, time_frac: float = 1.0,
               skip_same: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gate-passing pairs (i in rows_a, j in rows_b, cost); with rows_b None, pairs within rows_a (i < j by row).

    ``space_chi2`` and ``time_frac`` tighten the gate (text reports use a 99 % gate);
    pairs with equal ``skip_same`` labels (already one unit) are not tested."""
    chi2 = space_chi2 or config.space_gate_chi2
    same = rows_b is None
    rows_a = np.asarray(rows_a, np.int64)
    rows_b = rows_a if same else np.asarray(rows_b, np.int64)
    out_i: list[np.ndarray] = []
    out_j: list[np.ndarray] = []
    if len(rows_a) == 0 or len(rows_b) == 0:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    # the side with fewer rows gets coarse buckets: the other side's trees are built once per bucket pair
    lopsided = False
    ka, rsa, hwa = _bucket_keys(fi, rows_a, chi2, fine=not lopsided)
    kb, rsb, hwb = (ka, rsa, hwa) if same else _bucket_keys(fi, rows_b, chi2)
    hwa, hwb = hwa * time_frac, hwb * time_frac
    ua = np.unique(ka)
    ub = np.unique(kb)
    groups_a = {k: rows_a[ka == k] for k in ua}
    groups_b = groups_a if same else {k: rows_b[kb == k] for k in ub}
    rs_a = {k: rsa[ka == k].max() for k in ua}
    hw_a = {k: hwa[ka == k].max() for k in ua}
    rs_b = rs_a if same else {k: rsb[kb == k].max() for k in ub}
    hw_b = hw_a if same else {k: hwb[kb == k].max() for k in ub}
    tc = (fi.lo + fi.hi) / 2
    for a in ua:
        for b in ub:
            if a // 4096 != b // 4096:  # different family
                continue
            if same and b < a:
                continue
            ra, rb = groups_a[a], groups_b[b]
            rs = rs_a[a] + rs_b[b]
            rt = hw_a[a] + hw_b[b]
            for i, j in _slab_pairs(fi.xyz, tc, ra, rb, rs, rt, same and a == b):
                out_i.append(i)
                out_j.append(j)
    if not out_i:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    i = np.concatenate(out_i)
    j = np.concatenate(out_j)
    if same:
        i, j = np.minimum(i, j), np.maximum(i, j)
        keep = i != j
        i, j = i[keep], j[keep]
    # walk the rows in memory order: gathers then hit the cache (rows are laid out by hour and place)
    o = np.argsort(i, kind="stable")
    i, j = i[o], j[o]
    if skip_same is not None:
        keep = skip_same[i] != skip_same[j]
        i, j = i[keep], j[keep]
    ok, cost = pair_cost(fi, i, j, config, space_chi2, time_frac)
    return i[ok], j[ok], cost[ok]


def position_pairs(fi: FusionInput, rows_a: np.ndarray, rows_b: np.ndarray | None, radius_m: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Weapon sightings of one class closer than ``radius_m`` whose windows overlap:
    the vehicles of one battery or position, one finding (docs/fusion.md)."""
    e = np.zeros(0, np.int64)
    if radius_m <= 0:
        return e, e
    rows_a = np.asarray(rows_a, np.int64)
    rows_a = rows_a[fi.family[rows_a] == SIGHTING]
    same = rows_b is None
    rows_b = rows_a if same else np.asarray(rows_b, np.int64)
    rows_b = rows_b[fi.family[rows_b] == SIGHTING]
    if len(rows_a) == 0 or len(rows_b) == 0:
        return e, e
    # time is a fourth axis, scaled so the widest pair of windows spans radius_m: the tree
    # then only pairs sightings close in both (days of sightings at one place stay cheap)
    tc = (fi.lo + fi.hi) / 2
    hw = (fi.hi - fi.lo) / 2
    scale = radius_m / max(float(hw[rows_a].max()) + float(hw[rows_b].max()), 1e-9)
    ta = cKDTree(np.column_stack([fi.xyz[rows_a], tc[rows_a] * scale]), balanced_tree=False, compact_nodes=False)
    if same:
        pr = ta.query_pairs(radius_m, p=np.inf, output_type="ndarray")
        i, j = rows_a[pr[:, 0]], rows_a[pr[:, 1]]
    else:
        tb = cKDTree(np.column_stack([fi.xyz[rows_b], tc[rows_b] * scale]), balanced_tree=False, compact_nodes=False)
        m = ta.sparse_distance_matrix(tb, radius_m, p=np.inf, output_type="ndarray")
        i, j = rows_a[m["i"]], rows_b[m["j"]]
    near = np.sum((fi.xyz[i] - fi.xyz[j]) ** 2, axis=1) <= radius_m * radius_m
    i, j = i[near], j[near]
    ok = (fi.sub[i] == fi.sub[j]) & (fi.lo[i] <= fi.hi[j]) & (fi.lo[j] <= fi.hi[i]) & (i != j)
    return i[ok], j[ok]


def salvo_pairs(fi: FusionInput, rows_a: np.ndarray, rows_b: np.ndarray | None, radius_m: float,
                window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Located impacts of one source closer than ``radius_m`` and ``window_s / 2`` apart in time:
    the rounds of one salvo (docs/fusion.md, fire missions).

    Why: a locator fixes every round to a few metres, but the rounds of one fire mission land
    tens to hundreds of metres apart (the sheaf's dispersion), seconds apart; gated on their
    own errors, a round whose launch was not paired stood alone as a second finding.
    """
    e = np.zeros(0, np.int64)
    if radius_m <= 0 or window_s <= 0:
        return e, e
    impact = (fi.obs.kind == K[ObservationKind.IMPACT]) & (fi.tier == SEED)
    rows_a = np.asarray(rows_a, np.int64)
    rows_a = rows_a[impact[rows_a]]
    same = rows_b is None
    rows_b = rows_a if same else np.asarray(rows_b, np.int64)
    rows_b = rows_b[impact[rows_b]]
    if len(rows_a) == 0 or len(rows_b) == 0:
        return e, e
    half = window_s / 2.0
    t0 = float(min(fi.obs.t[rows_a].min(), fi.obs.t[rows_b].min()))
    scale = radius_m / half  # time as a fourth axis: |dt| <= half maps to radius_m
    pts_a = np.column_stack([fi.xyz[rows_a], (fi.obs.t[rows_a] - t0) * scale])
    ta = cKDTree(pts_a, balanced_tree=False, compact_nodes=False)
    if same:
        pr = ta.query_pairs(radius_m, p=np.inf, output_type="ndarray")
        i, j = rows_a[pr[:, 0]], rows_a[pr[:, 1]]
    else:
        tb = cKDTree(np.column_stack([fi.xyz[rows_b], (fi.obs.t[rows_b] - t0) * scale]), balanced_tree=False,
                     compact_nodes=False)
        m = ta.sparse_distance_matrix(tb, radius_m, p=np.inf, output_type="ndarray")
        i, j = rows_a[m["i"]], rows_b[m["j"]]
    near = np.sum((fi.xyz[i] - fi.xyz[j]) ** 2, axis=1) <= radius_m * radius_m
    ok = near & (fi.obs.source_idx[i] == fi.obs.source_idx[j]) & (i != j)
    return i[ok], j[ok]
