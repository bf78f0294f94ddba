"""Earth-fixed geometry for acoustic localization.

Every event is solved on its own local tangent plane (east, north, up) centred
on the sensor that heard it first, so a network along a 1,000 km front keeps
centimetre-level geometry: positions go WGS84 -> ECEF with pyproj and are then
rotated into that sensor's ENU frame with numpy, vectorized over all events.
The source is assumed on the ground at the median height of its sensors; the
Earth's curvature inside the plane (about 8 m at 10 km) is modelled, not ignored.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from pyproj import Transformer

EARTH_RADIUS_M = 6_371_008.8


@lru_cache(maxsize=1)
def _transformers() -> tuple[Transformer, Transformer]:
    fwd = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    inv = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
    return fwd, inv


def speed_of_sound(temp_c: float) -> float:
    """Speed of sound in dry air (m/s) at ``temp_c`` degrees Celsius."""
    if not np.isfinite(temp_c) or not -60.0 <= temp_c <= 60.0:
        raise ValueError(f"temp_c: {temp_c} is not a plausible air temperature (-60..60 C)")
    return 331.3 * float(np.sqrt(1.0 + temp_c / 273.15))


def to_ecef(lat: np.ndarray, lon: np.ndarray, h: np.ndarray) -> np.ndarray:
    fwd, _ = _transformers()
    x, y, z = fwd.transform(np.asarray(lon, float), np.asarray(lat, float), np.asarray(h, float))
    return np.stack([np.asarray(x), np.asarray(y), np.asarray(z)], axis=-1)


def from_ecef(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _, inv = _transformers()
    xyz = np.asarray(xyz, float)
    lon, lat, h = inv.transform(xyz[..., 0], xyz[..., 1], xyz[..., 2])
    return np.asarray(lat), np.asarray(lon), np.asarray(h)


def enu_rotation(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) taking ECEF offsets to east/north/up at (lat, lon)."""
    p = np.radians(np.asarray(lat, float))
    lam = np.radians(np.asarray(lon, float))
    sp, cp, sl, cl = np.sin(p), np.cos(p), np.sin(lam), np.cos(lam)
    z = np.zeros_like(sp)
    return np.stack(
        [
            np.stack([-sl, cl, z], axis=-1),
            np.stack([-sp * cl, -sp * sl, cp], axis=-1),
            np.stack([cp * cl, cp * sl, sp], axis=-1),
        ],
        axis=-2,
    )


def ground_up(e: np.ndarray, n: np.ndarray, h0: float | np.ndarray) -> np.ndarray:
    """Up coordinate of the ground at (e, n) in a tangent plane whose origin is ``h0`` below it."""
    return h0 - (e * e + n * n) / (2.0 * EARTH_RADIUS_M)


def enu_to_latlon(ref_ecef: np.ndarray, rot: np.ndarray, enu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Back from per-event ENU (E, 3) to WGS84 latitude/longitude."""
    xyz = ref_ecef + np.einsum("...ji,...j->...i", rot, enu)
    lat, lon, _ = from_ecef(xyz)
    return lat, lon
