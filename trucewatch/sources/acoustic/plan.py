"""Sensor planning: expected location error from the Cramér-Rao bound, and greedy placement.

For any point, the sensors within ``range_m`` are assumed to hear a blast
there; the Fisher information of their arrival times about (east, north,
origin time) gives the best achievable 95 % error ellipse.  Fewer than four
sensors in range means no fix at all (infinite error).  All points are done
at once: sensor-point pairs come from a KD-tree and the 3x3 information
matrices are summed with ``bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from trucewatch.agreement import Agreement
from trucewatch.geo import CHI2_95_2D
from trucewatch.sources.acoustic.formats import Sensors
from trucewatch.sources.acoustic.geometry import speed_of_sound


@dataclass
class PlanResult:
    coverage_share: float  # share of the line with 95 % error <= threshold
    threshold_m: float
    line_median_error_m: float
    n_sensors: int
    added: list[dict[str, float]] = field(default_factory=list)
    coverage_after: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def _pairs(pts: np.ndarray, sens: np.ndarray, range_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(point index, sensor index, unit vector components) of every pair within range."""
    if len(pts) == 0 or len(sens) == 0:
        z = np.zeros(0)
        return z.astype(np.int64), z.astype(np.int64), z, z
    m = cKDTree(pts).sparse_distance_matrix(cKDTree(sens), range_m, output_type="ndarray")
    i, j, d = m["i"].astype(np.int64), m["j"].astype(np.int64), m["v"]
    d = np.maximum(d, 1.0)
    return i, j, (pts[i, 0] - sens[j, 0]) / d, (pts[i, 1] - sens[j, 1]) / d


def _info(n_pts: int, i: np.ndarray, ux: np.ndarray, uy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Summed Fisher components (n_pts, 6): xx, xy, xt, yy, yt, tt (unit c)."""
    comps = [ux * ux, ux * uy, ux, uy * uy, uy, np.ones_like(ux)]
    return np.column_stack([np.bincount(i, weights=cmp * w, minlength=n_pts) for cmp in comps])


def _err95(F: np.ndarray, count: np.ndarray, c: float) -> np.ndarray:
    """95 % major semi-axis (m) from summed components; inf where fewer than four sensors or degenerate."""
    xx, xy, xt, yy, yt, tt = (F[:, k] for k in range(6))
    # position block of the inverse via the Schur complement of the time column
    tt_s = np.where(tt > 0, tt, 1.0)
    a = xx - xt * xt / tt_s
    b = xy - xt * yt / tt_s
    d = yy - yt * yt / tt_s
    det = a * d - b * b
    tr = a + d
    with np.errstate(divide="ignore", invalid="ignore"):
        lam_min = tr / 2 - np.sqrt(np.maximum((a - d) ** 2 / 4 + b * b, 0))
        err = CHI2_95_2D * c / np.sqrt(lam_min)
    bad = (count < 4) | ~(det > 1e-12 * np.maximum(tr, 1e-300) ** 2) | ~np.isfinite(err)
    return np.where(bad, np.inf, err)


def error_map(sens_en: np.ndarray, sigma: np.ndarray, pts: np.ndarray, range_m: float, c: float) -> np.ndarray:
    """CRLB 95 % major semi-axis (m) at each point (N, 2) for sensors (S, 2) in the same plane."""
    i, j, ux, uy = _pairs(pts, sens_en, range_m)
    F = _info(len(pts), i, ux, uy, 1.0 / sigma[j] ** 2)
    return _err95(F, np.bincount(i, minlength=len(pts)), c)


def line_points(line_en: Any, step_m: float = 250.0) -> np.ndarray:

    parts = list(line_en.geoms) if hasattr(line_en, "geoms") else [line_en]
    out = []
    for p in parts:
        s = np.arange(0.0, p.length + 1e-9, step_m)
        q = shapely.line_interpolate_point(p, s)
        out.append(np.column_stack([shapely.get_x(q), shapely.get_y(q)]))
    return np.vstack(out) if out else np.zeros((0, 2))


def greedy_add(sens_en: np.ndarray, sigma: np.ndarray, targets: np.ndarray, cands: np.ndarray, n_add: int,
               range_m: float, c: float, threshold_m: float, new_sigma: float) -> list[int]:
    """Pick ``n_add`` candidate sites one at a time, each maximizing the gain in covered line.

    Score per target point: 1 if its error is within the threshold, plus a small
    term for error reduction (capped at 10x threshold) so the first sensors in
    an uncovered stretch still count.
    """
    i, j, ux, uy = _pairs(targets, sens_en, range_m)
    F = _info(len(targets), i, ux, uy, 1.0 / sigma[j] ** 2)
    cnt = np.bincount(i, minlength=len(targets)).astype(float)
    ci, cj, cux, cuy = _pairs(targets, cands, range_m)
    add_comp = np.column_stack([cux * cux, cux * cuy, cux, cuy * cuy, cuy, np.ones_like(cux)]) / new_sigma**2
    cap = 10 * threshold_m

    def score(err: np.ndarray, count: np.ndarray) -> np.ndarray:
        e = np.minimum(err, cap)
        return (err <= threshold_m) + 0.2 * (1 - e / cap) + 0.05 * np.minimum(count, 4) / 4

    chosen: list[int] = []
    for _ in range(n_add):
        if ci.size == 0:
            break
        base = score(_err95(F, cnt, c), cnt)
        Fn = F[ci] + add_comp
        new = score(_err95(Fn, cnt[ci] + 1, c), cnt[ci] + 1)
        gain = np.bincount(cj, weights=new - base[ci], minlength=len(cands))
        gain[chosen] = -np.inf
        k = int(np.argmax(gain))
        if not np.isfinite(gain[k]) or gain[k] <= 0:
            break
        chosen.append(k)
        sel = cj == k
        F[ci[sel]] += add_comp[sel]
        cnt[ci[sel]] += 1
    return chosen


def plan(sensors: Sensors, agreement: Agreement, *, range_m: float = 8000.0, temp_c: float = 15.0,
         threshold_m: float = 100.0, add: int = 0, out_png: str | None = None, grid_cells: int = 300) -> PlanResult:
    """Coverage of the contact line, optional greedy additions, optional map PNG."""
    c = speed_of_sound(temp_c)
    frame = agreement.frame
    se, sn = frame.to_en(sensors.lat, sensors.lon)
    S = np.column_stack([se, sn]) if len(sensors) else np.zeros((0, 2))
    sig = sensors.sigma.astype(float)
    lp = line_points(agreement.line_en)
    err_line = error_map(S, sig, lp, range_m, c)
    cov = float(np.mean(err_line <= threshold_m)) if len(lp) else 0.0
    fin = err_line[np.isfinite(err_line)]
    res = PlanResult(round(cov, 4), threshold_m, round(float(np.median(err_line)), 2) if fin.size * 2 > len(lp) else float("inf"),
                     len(sensors))
    added_en = np.zeros((0, 2))
    if add > 0:
        # candidate sites: a grid over the line's neighbourhood (within range of the line)
        xmin, ymin = lp.min(axis=0) - range_m
        xmax, ymax = lp.max(axis=0) + range_m
        step = max((xmax - xmin) * (ymax - ymin) / 6000, 1e6) ** 0.5
        gx, gy = np.meshgrid(np.arange(xmin, xmax, step), np.arange(ymin, ymax, step))
        cands = np.column_stack([gx.ravel(), gy.ravel()])
        near = cKDTree(lp).query(cands, distance_upper_bound=range_m * 0.75)[0]
        cands = cands[np.isfinite(near)]
        new_sigma = float(np.median(sig)) if sig.size else 0.002
        pick = greedy_add(S, sig, lp, cands, add, range_m, c, threshold_m, new_sigma)
        added_en = cands[pick]
        la, lo = frame.to_latlon(added_en[:, 0], added_en[:, 1])
        res.added = [{"lat": round(float(a), 6), "lon": round(float(b), 6)} for a, b in zip(np.atleast_1d(la), np.atleast_1d(lo), strict=True)]
        S2 = np.vstack([S, added_en])
        sig2 = np.concatenate([sig, np.full(len(added_en), new_sigma)])
        res.coverage_after = round(float(np.mean(error_map(S2, sig2, lp, range_m, c) <= threshold_m)), 4)
    if out_png:
        _draw(out_png, S, sig, added_en, lp, agreement, range_m, c, threshold_m, res, grid_cells)
    return res


def _draw(out: str, S: np.ndarray, sig: np.ndarray, added: np.ndarray, lp: np.ndarray, agreement: Agreement, range_m: float,
          c: float, threshold_m: float, res: PlanResult, cells: int) -> None:
    # lazy: matplotlib loads only when a picture is drawn
    import matplotlib

    matplotlib.use("Agg")
    # lazy: matplotlib loads only when a picture is drawn
    import matplotlib.pyplot as plt

    # lazy: matplotlib loads only when a picture is drawn
    from matplotlib.colors import LogNorm

    allp = np.vstack([S, lp, added]) if len(S) else lp
    xmin, ymin = allp.min(axis=0) - range_m * 0.5
    xmax, ymax = allp.max(axis=0) + range_m * 0.5
    step = max(xmax - xmin, ymax - ymin) / cells
    gx, gy = np.meshgrid(np.arange(xmin, xmax, step), np.arange(ymin, ymax, step))
    S2 = np.vstack([S, added]) if len(added) else S
    sig2 = np.concatenate([sig, np.full(len(added), float(np.median(sig)) if sig.size else 0.002)])
    err = error_map(S2, sig2, np.column_stack([gx.ravel(), gy.ravel()]), range_m, c).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(10, 8), dpi=110)
    em = np.ma.masked_invalid(np.where(np.isfinite(err), err, np.nan))
    if em.count():
        pc = ax.pcolormesh(gx / 1000, gy / 1000, em, norm=LogNorm(vmin=max(float(em.min()), 0.1), vmax=max(float(em.max()), 1.0)),
                           cmap="viridis_r", shading="auto")
        fig.colorbar(pc, ax=ax, label="expected 95 % location error (m, Cramér-Rao bound)")
        ax.contour(gx / 1000, gy / 1000, np.where(np.isfinite(err), err, 1e9), levels=[threshold_m], colors="white",
                   linewidths=0.8)
    for part in (list(agreement.line_en.geoms) if hasattr(agreement.line_en, "geoms") else [agreement.line_en]):
        x, y = part.xy
        ax.plot(np.asarray(x) / 1000, np.asarray(y) / 1000, color="red", lw=1.2)
    if len(S):
        ax.scatter(S[:, 0] / 1000, S[:, 1] / 1000, s=6, c="black", label=f"sensors ({len(S)})")
    if len(added):
        ax.scatter(added[:, 0] / 1000, added[:, 1] / 1000, s=40, marker="*", c="orange", label=f"proposed ({len(added)})")
    ax.set_xlim(xmin / 1000, xmax / 1000)
    ax.set_ylim(ymin / 1000, ymax / 1000)
    ax.set_aspect("equal")
    ax.set_xlabel("east (km)")
    ax.set_ylabel("north (km)")
    cov = f"{res.coverage_share:.0%}" + (f" -> {res.coverage_after:.0%}" if res.coverage_after is not None else "")
    ax.set_title(f"Acoustic coverage: contact line within {threshold_m:.0f} m: {cov} (range {range_m / 1000:.0f} km)")
    if len(S) or len(added):
        ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
