"""Probabilities that an uncertain position meets a rule's geometry (docs/confidence.md).

A position is a bivariate normal given by its 95 % ellipse (major, minor,
azimuth of the major axis from north, as in ``trucewatch.geo``).  A rule asks
"is the impact within the protected radius", "is the origin on this party's
side", "is the weapon inside its zone", "is the impact within D of the line";
with a vague position the honest answer is a probability, not the point
estimate's yes or no.

- Discs with a circular error: closed form, the non-central chi-square CDF
  (scipy).  Elliptical errors: the same fixed sample cloud as the regions.
- Regions and distances: a fixed cloud of standard-normal samples (scrambled
  Sobol, so results are deterministic and smooth), moved and stretched per row
  and tested all at once with shapely 2 / a KD-tree.  Rows whose ellipse is
  far from the boundary (beyond ``FAR_SIGMA`` sigma) are decided by their
  point estimate without sampling, so precise sensor fixes cost nothing extra.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
import shapely
from scipy.special import ndtri
from scipy.stats import ncx2

from trucewatch.geo import CHI2_95_2D

#: Samples per uncertain row (a power of two for the Sobol sequence).
N_SAMPLES = 256
#: Beyond this many major-axis sigmas from a boundary, the point estimate decides.
FAR_SIGMA = 4.5


@lru_cache(maxsize=4)
def unit_samples(k: int = N_SAMPLES, seed: int = 20250301) -> np.ndarray:
    """(k, 2) fixed standard-normal samples (scrambled Sobol through the normal quantile)."""
    from scipy.stats import qmc  # lazy: scipy.stats takes ~0.3 s to import, needed once per process

    u = qmc.Sobol(d=2, scramble=True, seed=seed).random(k)
    z = ndtri(np.clip(u, 1e-9, 1 - 1e-9))
    z.flags.writeable = False
    return z


def sample_en(e: np.ndarray, n: np.ndarray, major95: np.ndarray, minor95: np.ndarray, azimuth_deg: np.ndarray,
              z: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, k) east and north of samples of each row's 95 % ellipse (local metres)."""
    z = unit_samples() if z is None else z
    s1 = np.asarray(major95, float)[:, None] / CHI2_95_2D
    s2 = np.asarray(np.minimum(minor95, major95), float)[:, None] / CHI2_95_2D
    th = np.radians(np.nan_to_num(np.asarray(azimuth_deg, float)))[:, None]
    a, b = s1 * z[None, :, 0], s2 * z[None, :, 1]
    de = a * np.sin(th) + b * np.cos(th)
    dn = a * np.cos(th) - b * np.sin(th)
    return np.asarray(e, float)[:, None] + de, np.asarray(n, float)[:, None] + dn


def p_within_disc(d: np.ndarray, radius: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """P(|X - c| <= radius) for X ~ N(mu, sigma^2 I) with |mu - c| = d: the non-central
    chi-square (2 dof, non-centrality (d/sigma)^2) CDF at (radius/sigma)^2."""
    d, radius, sigma = np.broadcast_arrays(np.asarray(d, float), np.asarray(radius, float), np.asarray(sigma, float))
    out = (d <= radius).astype(float)
    ok = sigma > 0
    if ok.any():
        s = sigma[ok]
        out[ok] = ncx2.cdf((radius[ok] / s) ** 2, 2, np.maximum((d[ok] / s) ** 2, 1e-12))
    return np.clip(out, 0.0, 1.0)


def p_within_disc_ellipse(de: np.ndarray, dn: np.ndarray, radius: np.ndarray, major95: np.ndarray,
                          minor95: np.ndarray, azimuth_deg: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
    """P(position within ``radius`` of a centre) for a general ellipse; (de, dn) is the
    estimate's offset from the centre.  Circular rows use the closed form."""
    de, dn, radius = np.asarray(de, float), np.asarray(dn, float), np.asarray(radius, float)
    major95, minor95 = np.asarray(major95, float), np.asarray(minor95, float)
    d = np.hypot(de, dn)
    circ = minor95 >= 0.98 * major95
    out = np.empty(len(d))
    if circ.any():
        out[circ] = p_within_disc(d[circ], radius[circ], (major95[circ] + minor95[circ]) / (2 * CHI2_95_2D))
    ell = np.flatnonzero(~circ)
    if len(ell):
        far = d[ell] - radius[ell] > FAR_SIGMA * major95[ell] / CHI2_95_2D
        out[ell[far]] = 0.0
        s = ell[~far]
        if len(s):
            pe, pn = sample_en(de[s], dn[s], major95[s], minor95[s], azimuth_deg[s], z)
            out[s] = np.mean(pe**2 + pn**2 <= radius[s, None] ** 2, axis=1)
    return out


def p_where(inside_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], boundary_dist: np.ndarray, e: np.ndarray,
            n: np.ndarray, major95: np.ndarray, minor95: np.ndarray, azimuth_deg: np.ndarray,
            z: np.ndarray | None = None) -> np.ndarray:
    """P(the position satisfies ``inside_fn``), a vectorized predicate over flat east/north
    arrays; rows farther than FAR_SIGMA sigma from the predicate's boundary
    (``boundary_dist``, m) take the point estimate's answer."""
    e, n = np.asarray(e, float), np.asarray(n, float)
    out = np.asarray(inside_fn(e, n), bool).astype(float)
    near = np.flatnonzero(np.asarray(boundary_dist, float) <= FAR_SIGMA * np.asarray(major95, float) / CHI2_95_2D)
    if len(near):
        pe, pn = sample_en(e[near], n[near], np.asarray(major95)[near], np.asarray(minor95)[near],
                           np.asarray(azimuth_deg)[near], z)
        hit = np.asarray(inside_fn(pe.ravel(), pn.ravel()), bool).reshape(pe.shape)
        out[near] = hit.mean(axis=1)
    return out


def p_in_geometry(geom_en: shapely.Geometry, e: np.ndarray, n: np.ndarray, major95: np.ndarray, minor95: np.ndarray,
                  azimuth_deg: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
    """Probability mass of each row's ellipse inside a (local-frame) polygon."""
    e, n = np.asarray(e, float), np.asarray(n, float)
    if len(e) == 0 or geom_en is None or geom_en.is_empty:
        return np.zeros(len(e))
    shapely.prepare(geom_en)
    bd = shapely.distance(geom_en.boundary, shapely.points(e, n))
    return p_where(lambda x, y: shapely.contains_xy(geom_en, x, y), bd, e, n, major95, minor95, azimuth_deg, z)


def p_within_distance(dist_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], limit_m: float, e: np.ndarray,
                      n: np.ndarray, major95: np.ndarray, minor95: np.ndarray, azimuth_deg: np.ndarray,
                      z: np.ndarray | None = None) -> np.ndarray:
    """P(distance to a feature <= ``limit_m``); ``dist_fn`` maps flat east/north to metres."""
    e, n = np.asarray(e, float), np.asarray(n, float)
    if len(e) == 0:
        return np.zeros(0)
    d = np.asarray(dist_fn(e, n), float)
    return p_where(lambda x, y: dist_fn(x, y) <= limit_m, np.abs(d - limit_m), e, n, major95, minor95, azimuth_deg, z)


__all__ = ["FAR_SIGMA", "N_SAMPLES", "p_in_geometry", "p_where", "p_within_disc", "p_within_disc_ellipse",
           "p_within_distance", "sample_en", "unit_samples"]
