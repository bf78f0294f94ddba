"""Background fire model: what a place normally burns, so that war fires stand out.

In the spirit of The Economist's war-fire model: count detections per 0.1 degree
cell, day of year and daypart (day/night overpass) over a history of years;
the expected count on a new day is the cell's own rate in a window around that
day of year, shrunk towards the rate of its 0.5 degree region (so a cell that
never burned in a short history is not "infinitely" surprised), and observed
counts are judged against a negative binomial with a dispersion fitted on the
history (fires are clumpy: one field fire is ten pixels on one day and none
for a month).  A flag says: expected, observed, p-value, and whether the cell
is a persistent source (a gas flare, a steel plant: burning most days), where
a far stronger excess is needed.

Everything is columnar: history counts are a dense (cells x 366 x dayparts)
array for the cells that ever burned, and each query is a gather over it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from trucewatch.errors import TruceWatchError
from trucewatch.geo import LocalFrame, haversine_m
from trucewatch.sources.satellite.firms import FirmsBatch

DAY_S = 86400.0
N_DOY = 366


def _doy(t: np.ndarray) -> np.ndarray:
    d = t.astype("datetime64[s]").astype("datetime64[D]")
    return (d - d.astype("datetime64[Y]")).astype(np.int64)  # 0..365


def _day_index(t: np.ndarray) -> np.ndarray:
    return np.floor(t / DAY_S).astype(np.int64)


def _max_over_satellites(key: np.ndarray, satellite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys and, for each, the largest count any single satellite contributed."""
    sat_code, sat_uniq = pd.factorize(satellite)
    ns = max(len(sat_uniq), 1)
    u1, c1 = np.unique(key * ns + np.maximum(sat_code, 0), return_counts=True)
    k2 = u1 // ns
    starts = np.flatnonzero(np.r_[True, k2[1:] != k2[:-1]])
    return k2[starts], np.maximum.reduceat(c1, starts) if c1.size else c1


class ModelError(TruceWatchError, ValueError):
    pass


@dataclass
class BackgroundModel:
    cell_deg: float
    region_cells: int  # region = region_cells x region_cells cells
    dayparts: int  # 2 (day/night) or 1 (history had no daypart)
    cell_keys: np.ndarray  # int64 sorted
    counts: np.ndarray  # (C, 366, D) history detections per cell, day of year, daypart (summed over years)
    region_keys: np.ndarray  # int64 sorted
    region_counts: np.ndarray  # (R, 366, D)
    exposure: np.ndarray  # (366,) years of history covering each day of year
    dispersion_k: float
    active_frac: np.ndarray  # (C,) share of history days with any detection in the cell
    persistent: np.ndarray  # (C,) bool
    meta: dict[str, Any] = field(default_factory=dict)

    # ---- keys ------------------------------------------------------------------------
    def _nx(self) -> int:
        return round(360.0 / self.cell_deg)

    def cell_of(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        iy = np.floor((np.asarray(lat) + 90.0) / self.cell_deg + 1e-9).astype(np.int64)
        ix = np.floor((np.asarray(lon) + 180.0) / self.cell_deg + 1e-9).astype(np.int64)
        return iy * self._nx() + ix

    def region_of(self, cell: np.ndarray) -> np.ndarray:
        nx = self._nx()
        iy, ix = cell // nx, cell % nx
        rn = -(-nx // self.region_cells)
        return (iy // self.region_cells) * rn + ix // self.region_cells

    def cell_centre(self, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        nx = self._nx()
        return (cell // nx + 0.5) * self.cell_deg - 90.0, (cell % nx + 0.5) * self.cell_deg - 180.0

    # ---- fit -------------------------------------------------------------------------
    @classmethod
    def fit(cls, hist: FirmsBatch, cell_deg: float = 0.1, region_cells: int = 5,
            persistent_frac: float = 0.2, min_days_persistent: int = 10) -> BackgroundModel:
        """Count the history; estimate dispersion and the persistent-source mask."""
        if len(hist) == 0:
            raise ModelError("history has no accepted detections")
        dayparts = 2 if bool(np.all(hist.daypart >= 0)) else 1
        m = cls(cell_deg, region_cells, dayparts, np.zeros(0, np.int64), np.zeros((0, N_DOY, dayparts)),
                np.zeros(0, np.int64), np.zeros((0, N_DOY, dayparts)), np.zeros(N_DOY), 1.0,
                np.zeros(0), np.zeros(0, bool))
        cell = m.cell_of(hist.lat, hist.lon)
        dp = hist.daypart.astype(np.int64) if dayparts == 2 else np.zeros(len(hist), np.int64)
        keys, ci = np.unique(cell, return_inverse=True)
        days = _day_index(hist.t)
        d0, d1 = int(days.min()), int(days.max())
        all_days = np.arange(d0, d1 + 1)
        n_days = all_days.size
        # exposure: every calendar day between the first and last history date counts once
        exposure = np.bincount(_doy(all_days.astype(np.float64) * DAY_S), minlength=N_DOY).astype(np.float64)

        # count per cell, date and daypart as seen by ONE satellite (the busiest): a history from
        # S-NPP alone and new data from three VIIRS satellites then count alike
        key = (ci.astype(np.int64) * (n_days + 1) + (days - d0)) * dayparts + dp
        uk, kc = _max_over_satellites(key, hist.satellite)
        kci = uk // dayparts // (n_days + 1)
        kday = (uk // dayparts) % (n_days + 1)
        kdp = uk % dayparts
        kdoy = _doy((kday + d0).astype(np.float64) * DAY_S)
        counts = np.zeros((keys.size, N_DOY, dayparts), np.int32)
        np.add.at(counts, (kci, kdoy, kdp), kc)
        rkeys_all = m.region_of(keys)
        rkeys, ri = np.unique(rkeys_all, return_inverse=True)
        rcounts = np.zeros((rkeys.size, N_DOY, dayparts), np.int64)
        np.add.at(rcounts, ri, counts)

        # per-date counts for dispersion and persistence
        total = np.bincount(kci, weights=kc, minlength=keys.size)
        sumsq = np.bincount(kci, weights=kc.astype(float) ** 2, minlength=keys.size)
        cell_days = n_days * dayparts
        mean = total / cell_days
        var = sumsq / cell_days - mean**2
        excess_var = np.maximum(var - mean, 1e-12)
        use = total >= 3
        k = float(np.sum(mean[use] ** 2) / np.sum(excess_var[use])) if use.any() else 0.5
        k = float(np.clip(k, 0.02, 5.0))
        # persistence: share of history days with any detection (either daypart)
        udays = np.unique(uk // dayparts)
        active_days = np.bincount(udays // (n_days + 1), minlength=keys.size)
        active_frac = active_days / n_days
        persistent = (active_frac >= persistent_frac) & (n_days >= min_days_persistent)
        if (hist.fire_type == 2).any():  # FIRMS "static land source" flags
            static = np.bincount(ci[hist.fire_type == 2], minlength=keys.size)
            persistent |= static >= 3
        m.cell_keys, m.counts, m.region_keys, m.region_counts = keys, counts, rkeys, rcounts
        m.exposure, m.dispersion_k, m.active_frac, m.persistent = exposure, k, active_frac, persistent
        m.meta = {"history_file": hist.file, "n_detections": len(hist),
                  "first_day": str(np.datetime64(d0, "D")), "last_day": str(np.datetime64(d1, "D")),
                  "n_days": n_days, "persistent_frac": persistent_frac}
        return m

    # ---- save / load -----------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        meta = dict(self.meta, cell_deg=self.cell_deg, region_cells=self.region_cells, dayparts=self.dayparts,
                    dispersion_k=self.dispersion_k, format="trucewatch-firms-background/1")
        # sparse storage: only non-zero history counts are written
        c_idx = np.nonzero(self.counts)
        with open(path, "wb") as fh:
            np.savez_compressed(
                fh, meta=np.array(json.dumps(meta)), cell_keys=self.cell_keys,
                nz_idx=np.stack(c_idx).astype(np.int32), nz_val=self.counts[c_idx].astype(np.int32),
                region_keys=self.region_keys, exposure=self.exposure, active_frac=self.active_frac,
                persistent=self.persistent)

    @classmethod
    def load(cls, path: str | Path) -> BackgroundModel:
        try:
            z = np.load(path, allow_pickle=False)
            meta = json.loads(str(z["meta"]))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path}: not a background model file: {exc}") from None
        if meta.get("format") != "trucewatch-firms-background/1":
            raise ModelError(f"{path}: unknown model format {meta.get('format')!r}")
        d = int(meta["dayparts"])
        keys = z["cell_keys"]
        counts = np.zeros((keys.size, N_DOY, d), np.int32)
        idx = z["nz_idx"]
        counts[idx[0], idx[1], idx[2]] = z["nz_val"]
        m = cls(float(meta["cell_deg"]), int(meta["region_cells"]), d, keys, counts, z["region_keys"],
                np.zeros(0), z["exposure"], float(meta["dispersion_k"]), z["active_frac"], z["persistent"], meta)
        rkeys_all = m.region_of(keys)
        ri = np.searchsorted(m.region_keys, rkeys_all)
        rc = np.zeros((m.region_keys.size, N_DOY, d), np.int64)
        np.add.at(rc, ri, counts)
        m.region_counts = rc
        return m

    # ---- expectation -----------------------------------------------------------------
    def expected(self, cell: np.ndarray, doy: np.ndarray, dp: np.ndarray,
                 windows: tuple[int, ...] = (15, 45, 183), min_exposure_days: float = 14.0,
                 prior_days: float = 30.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Expected detections per (cell, day of year, daypart); also the window used and persistence.

        The window widens until it covers ``min_exposure_days`` of history, so a
        model fitted on winter still answers (less specifically) in spring.
        """
        cell = np.asarray(cell, np.int64)
        q = cell.size
        ci = np.searchsorted(self.cell_keys, cell)
        ci = np.clip(ci, 0, max(self.cell_keys.size - 1, 0))
        known = (self.cell_keys.size > 0) & (self.cell_keys[ci] == cell) if self.cell_keys.size else np.zeros(q, bool)
        reg = self.region_of(cell)
        ri = np.clip(np.searchsorted(self.region_keys, reg), 0, max(self.region_keys.size - 1, 0))
        rknown = (self.region_keys[ri] == reg) if self.region_keys.size else np.zeros(q, bool)
        if self.dayparts == 1:
            dp = np.zeros(q, np.int64)
        dp = np.asarray(dp, np.int64)
        mu = np.full(q, np.nan)
        used = np.zeros(q, np.int64)
        cells_per_region = float(self.region_cells**2)
        cum_exp = np.concatenate([[0.0], np.cumsum(np.tile(self.exposure, 3))])
        for w in windows:
            todo = np.isnan(mu)
            if not todo.any():
                break
            lo = doy[todo] + N_DOY - w
            hi = doy[todo] + N_DOY + w + 1
            e = cum_exp[hi] - cum_exp[lo]  # years x days of history in the window
            ok = e >= min_exposure_days if w != windows[-1] else e > 0
            if not ok.any():
                continue
            sel = np.flatnonzero(todo)[ok]
            win = (doy[sel, None] + np.arange(-w, w + 1)[None, :]) % N_DOY
            n_c = self._window_sum(self.counts, ci[sel], known[sel], win, dp[sel])
            n_r = self._window_sum(self.region_counts, ri[sel], rknown[sel], win, dp[sel])
            ee = e[ok]
            lam_r = n_r / (ee * cells_per_region)
            mu[sel] = (n_c + prior_days * lam_r + prior_days * 1e-4) / (ee + prior_days)
            used[sel] = w
        mu = np.where(np.isnan(mu), 1e-4, mu)  # no history at all at this time of year
        pers = np.where(known, self.persistent[ci] if self.persistent.size else False, False)
        return mu, used, pers

    def _window_sum(self, arr: np.ndarray, idx: np.ndarray, known: np.ndarray, win: np.ndarray,
                    dp: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """Sum of ``arr[idx, win, dp]`` per query, in chunks so memory stays bounded (chunk x 366 x D)."""
        if arr.shape[0] == 0:
            return np.zeros(idx.size)
        out = np.zeros(idx.size)
        for a in range(0, idx.size, chunk):
            sl = slice(a, a + chunk)
            rows = arr[idx[sl]]  # (q, 366, D)
            g = np.take_along_axis(rows, win[sl, :, None], axis=1)  # (q, 2w+1, D)
            tot = g.sum(axis=1).astype(np.float64)  # (q, D)
            d = dp[sl]
            col = np.where(d < 0, 0, d)
            out[sl] = np.where(d < 0, tot.sum(axis=1), tot[np.arange(col.size), col])
        return np.where(known, out, 0.0)

    def p_value(self, observed: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """P(X >= observed) for X ~ NegBin(mean mu, dispersion k): the chance of this much fire in a normal year."""
        k = self.dispersion_k
        return stats.nbinom.sf(np.asarray(observed) - 1, k, k / (k + np.asarray(mu)))


@dataclass
class Detection:
    """Per-detection verdicts plus clusters of flagged detections."""

    key_cell: np.ndarray
    expected: np.ndarray  # expected count of the detection's cell/day/daypart
    observed: np.ndarray  # observed count of the same
    p_value: np.ndarray
    excess: np.ndarray  # bool
    persistent: np.ndarray  # bool
    window_days: np.ndarray
    clusters: list[dict[str, Any]]


def detect(model: BackgroundModel, new: FirmsBatch, alpha: float = 0.05, alpha_persistent: float = 0.0005,
           link_m: float = 2000.0, link_s: float = DAY_S) -> Detection:
    """Judge each cell/day/daypart of ``new`` against the model and cluster the flagged detections."""
    n = len(new)
    cell = model.cell_of(new.lat, new.lon)
    day = _day_index(new.t)
    dp = new.daypart.astype(np.int64)
    if model.dayparts == 1:
        dp = np.zeros(n, np.int64)
    key = (cell * 100_000 + day) * 3 + (dp + 1)
    uk, cnt = _max_over_satellites(key, new.satellite)  # observed as by one satellite, like the history
    inv = np.searchsorted(uk, key)
    first = np.zeros(uk.size, np.int64)
    first[inv] = np.arange(n)
    mu, used, pers = model.expected(cell[first], _doy(new.t[first]), dp[first])
    p = model.p_value(cnt, mu)
    flag = np.where(pers, p < alpha_persistent, p < alpha)
    det = Detection(cell, mu[inv], cnt[inv].astype(np.int64), p[inv], flag[inv], pers[inv], used[inv], [])
    det.clusters = cluster(new, det, link_m=link_m, link_s=link_s)
    return det


def cluster(new: FirmsBatch, det: Detection, link_m: float = 2000.0, link_s: float = DAY_S) -> list[dict[str, Any]]:
    """Connected components of flagged detections within ``link_m`` and ``link_s`` of each other."""
    # lazy: scipy submodules load only on this path (import cost at command start)
    from scipy.sparse import coo_matrix

    # lazy: scipy submodules load only on this path (import cost at command start)
    from scipy.sparse.csgraph import connected_components

    # lazy: scipy submodules load only on this path (import cost at command start)
    from scipy.spatial import cKDTree

    idx = np.flatnonzero(det.excess)
    if idx.size == 0:
        return []
    frame = LocalFrame.around(new.lat[idx], new.lon[idx])
    e, nn = frame.to_en(new.lat[idx], new.lon[idx])
    tt = (new.t[idx] - new.t[idx].min()) * (link_m / link_s)
    pts = np.column_stack([e, nn, tt])
    pairs = cKDTree(pts).query_pairs(r=link_m, output_type="ndarray")
    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(idx.size, idx.size)) if len(pairs) else \
        coo_matrix((idx.size, idx.size))
    _ncomp, lab = connected_components(g, directed=False)
    order = np.argsort(lab, kind="stable")
    bounds = np.flatnonzero(np.diff(lab[order])) + 1
    out = []
    for grp in np.split(idx[order], bounds):
        la, lo = float(new.lat[grp].mean()), float(new.lon[grp].mean())
        half_px = float(np.max(np.hypot(new.scan_km[grp], new.track_km[grp])) * 500.0)
        radius = float(np.max(haversine_m(la, lo, new.lat[grp], new.lon[grp]))) + half_px
        # distinct cell/day/daypart keys in the cluster: their expectations add up
        keys, first = np.unique(det.key_cell[grp] * 10_000_000 + np.floor(new.t[grp] / DAY_S).astype(np.int64) * 3
                                + new.daypart[grp], return_index=True)
        kk = grp[first]
        p_min = float(np.min(det.p_value[grp]))
        out.append({
            "lat": round(la, 5), "lon": round(lo, 5), "radius_m": round(radius, 1),
            "first_seen": _iso(float(new.t[grp].min())), "last_seen": _iso(float(new.t[grp].max())),
            "n_detections": int(grp.size), "expected": round(float(det.expected[kk].sum()), 4),
            "observed": int(det.observed[kk].sum()),
            "p_value": float(min(1.0, p_min * keys.size)),
            "persistent_source": bool(det.persistent[grp].any()),
            "satellites": sorted(set(new.satellite[grp].tolist()) - {""}),
            "frp_sum": None if np.isnan(new.frp[grp]).all() else round(float(np.nansum(new.frp[grp])), 2),
            "explanation": (f"{grp.size} flagged detection(s); their {keys.size} cell-day(s) had "
                            f"{int(det.observed[kk].sum())} (busiest satellite) where "
                            f"{float(det.expected[kk].sum()):.3g} were expected; chance in a normal year "
                            f"p={min(1.0, p_min * keys.size):.2g}"
                            + (" (persistent source: stricter threshold)" if det.persistent[grp].any() else "")),
        })
    out.sort(key=lambda c: (c["first_seen"], c["lat"], c["lon"]))
    return out


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Rank AUC (Mann-Whitney), ties counted half."""
    scores = np.asarray(scores, float)
    labels = np.asarray(labels, bool)
    n1, n0 = int(labels.sum()), int((~labels).sum())
    if n1 == 0 or n0 == 0:
        return math.nan
    r = stats.rankdata(scores)
    return float((r[labels].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
