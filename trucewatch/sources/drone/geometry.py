"""Camera geometry: where each frame looks on the ground, vectorized over frames.

Frames: world is local north-east-down (NED) around the flight; the airframe
body is forward-right-down with attitude applied as yaw, pitch, roll
(Z-Y-X, aerospace convention, as MAVLink's ATTITUDE); the camera looks along
the gimbal's forward axis with image right = gimbal right and image down =
gimbal down, so gimbal pitch -90 deg is nadir.

A pixel (u, v) (0..width, 0..height, origin top-left) is the ray
``[1, tan(hfov/2) (2u/W - 1), tan(vfov/2) (2v/H - 1)]`` in the gimbal frame.
The ground is flat at the home elevation (relative altitude is height above
ground) unless a DEM is given; with a DEM the ray is intersected with the
terrain by fixed-point iteration (converges where the terrain is less steep
than the ray, i.e. everywhere except looking along a slope near grazing).
Rays at or above the horizon, or reaching beyond ``max_range_m``, are clipped
to that range: such a frame's far edge is not a real footprint edge and its
resolution there is useless anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

#: Frames see nothing useful beyond this slant range (m): clip rays there.
MAX_RANGE_M = 8000.0


@dataclass
class Dem:
    """A terrain grid: elevations (m MSL) on a regular lat/lon grid (north-up)."""

    elev: np.ndarray  # (rows, cols), row 0 = north edge
    lat_north: float
    lon_west: float
    dlat: float  # degrees per row (positive)
    dlon: float  # degrees per column

    @classmethod
    def from_file(cls, path: str) -> Dem:
        """Any single-band raster rasterio can read, in EPSG:4326 (GeoTIFF, ...)."""
        # lazy: rasterio (GDAL) loads only for raster inputs
        import rasterio

        with rasterio.open(path) as ds:
            if ds.crs is not None and ds.crs.to_epsg() not in (4326, None):
                raise ValueError(f"{path}: DEM must be in EPSG:4326 (lat/lon), got {ds.crs}")
            a = ds.read(1).astype(float)
            if ds.nodata is not None:
                a[a == ds.nodata] = np.nan
            tr = ds.transform
            if tr.b != 0 or tr.d != 0 or tr.e >= 0:
                raise ValueError(f"{path}: DEM must be a north-up grid without rotation")
            # pixel-is-area: sample at pixel centres
            return cls(a, tr.f + tr.e / 2, tr.c + tr.a / 2, -tr.e, tr.a)

    def sample(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Bilinear elevation; NaN outside the grid."""
        r = (self.lat_north - np.asarray(lat, float)) / self.dlat
        c = (np.asarray(lon, float) - self.lon_west) / self.dlon
        rows, cols = self.elev.shape
        inside = (r >= 0) & (r <= rows - 1) & (c >= 0) & (c <= cols - 1)
        r = np.clip(r, 0, rows - 1.000001)
        c = np.clip(c, 0, cols - 1.000001)
        r0 = np.floor(r).astype(int)
        c0 = np.floor(c).astype(int)
        fr, fc = r - r0, c - c0
        r1 = np.minimum(r0 + 1, rows - 1)
        c1 = np.minimum(c0 + 1, cols - 1)
        e = self.elev
        z = (e[r0, c0] * (1 - fr) * (1 - fc) + e[r0, c1] * (1 - fr) * fc + e[r1, c0] * fr * (1 - fc) + e[r1, c1] * fr * fc)
        return np.where(inside, z, np.nan)


def euler_matrices(roll_deg: np.ndarray, pitch_deg: np.ndarray, yaw_deg: np.ndarray) -> np.ndarray:
    """(N, 3, 3) rotations body->NED for Z-Y-X (yaw, pitch, roll) Euler angles in degrees."""
    r, p, y = (np.radians(np.asarray(a, float)) for a in (roll_deg, pitch_deg, yaw_deg))
    cr, sr, cp, sp, cy, sy = np.cos(r), np.sin(r), np.cos(p), np.sin(p), np.cos(y), np.sin(y)
    m = np.empty((*np.broadcast(r, p, y).shape, 3, 3))
    m[..., 0, 0] = cp * cy
    m[..., 0, 1] = sr * sp * cy - cr * sy
    m[..., 0, 2] = cr * sp * cy + sr * sy
    m[..., 1, 0] = cp * sy
    m[..., 1, 1] = sr * sp * sy + cr * cy
    m[..., 1, 2] = cr * sp * sy - sr * cy
    m[..., 2, 0] = -sp
    m[..., 2, 1] = sr * cp
    m[..., 2, 2] = cr * cp
    return m


def camera_matrices(roll: np.ndarray, pitch: np.ndarray, yaw: np.ndarray, g_roll: np.ndarray, g_pitch: np.ndarray,
                    g_yaw: np.ndarray, gimbal_frame: str = "horizon") -> np.ndarray:
    """(N, 3, 3) rotations camera(gimbal)->NED."""
    if gimbal_frame == "body":
        return euler_matrices(roll, pitch, yaw) @ euler_matrices(g_roll, g_pitch, g_yaw)
    return euler_matrices(g_roll, g_pitch, np.asarray(yaw, float) + np.asarray(g_yaw, float))


def pixel_rays(u: np.ndarray, v: np.ndarray, hfov_deg: float, vfov_deg: float, width: int, height: int) -> np.ndarray:
    """(..., 3) camera-frame ray directions (not normalised) of pixels (u, v)."""
    th = math.tan(math.radians(hfov_deg) / 2)
    tv = math.tan(math.radians(vfov_deg) / 2)
    u = np.asarray(u, float)
    v = np.asarray(v, float)
    out = np.empty((*np.broadcast(u, v).shape, 3))
    out[..., 0] = 1.0
    out[..., 1] = th * (2 * u / width - 1)
    out[..., 2] = tv * (2 * v / height - 1)
    return out


def intersect_flat(d_ned: np.ndarray, height: np.ndarray, max_range_m: float = MAX_RANGE_M) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground offsets (north, east) of rays ``d_ned`` (..., 3) from ``height`` m above flat ground.

    Returns north, east offsets and a mask of rays that were clipped at ``max_range_m``.
    """
    d = d_ned / np.linalg.norm(d_ned, axis=-1, keepdims=True)
    h = np.broadcast_to(np.asarray(height, float), d.shape[:-1])
    down = d[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(down > 1e-6, h / np.where(down > 1e-6, down, 1.0), np.inf)
    clipped = ~(s <= max_range_m)
    s = np.minimum(s, max_range_m)
    return d[..., 0] * s, d[..., 1] * s, clipped


def project_footprints(n: np.ndarray, e: np.ndarray, height: np.ndarray, R: np.ndarray, hfov_deg: float, vfov_deg: float,
                       width: int, height_px: int, max_range_m: float = MAX_RANGE_M) -> tuple[np.ndarray, np.ndarray]:
    """Footprint corners of every frame: (N, 4, 2) east/north in the flight's local frame, and (N,) clipped flag.

    Corners run top-left, top-right, bottom-right, bottom-left of the image.
    ``n``, ``e``: camera position; ``height``: camera height above the ground (m);
    ``R``: (N, 3, 3) camera->NED rotations.
    """
    uv = np.array([[0, 0], [width, 0], [width, height_px], [0, height_px]], float)
    rays = pixel_rays(uv[:, 0], uv[:, 1], hfov_deg, vfov_deg, width, height_px)  # (4, 3)
    d = np.einsum("nij,kj->nki", R, rays)  # (N, 4, 3)
    dn, de, clipped = intersect_flat(d, np.broadcast_to(np.asarray(height, float)[:, None], d.shape[:2]), max_range_m)
    corners = np.empty((*d.shape[:2], 2))
    corners[..., 0] = np.asarray(e, float)[:, None] + de
    corners[..., 1] = np.asarray(n, float)[:, None] + dn
    return corners, np.asarray(clipped.any(axis=1))


def footprints_baseline(n: np.ndarray, e: np.ndarray, height: np.ndarray, roll: np.ndarray, pitch: np.ndarray,
                        yaw: np.ndarray, g_roll: np.ndarray, g_pitch: np.ndarray, g_yaw: np.ndarray, hfov_deg: float,
                        vfov_deg: float, width: int, height_px: int, gimbal_frame: str = "horizon",
                        max_range_m: float = MAX_RANGE_M) -> list:
    """The straightforward version: one frame at a time, a shapely Polygon each (benchmark baseline)."""

    out = []
    th = math.tan(math.radians(hfov_deg) / 2)
    tv = math.tan(math.radians(vfov_deg) / 2)
    corners_cam = [(1.0, -th, -tv), (1.0, th, -tv), (1.0, th, tv), (1.0, -th, tv)]
    for i in range(len(n)):
        if gimbal_frame == "body":
            R = euler_matrices(roll[i], pitch[i], yaw[i]) @ euler_matrices(g_roll[i], g_pitch[i], g_yaw[i])
        else:
            R = euler_matrices(g_roll[i], g_pitch[i], yaw[i] + g_yaw[i])
        pts = []
        for c in corners_cam:
            d = R @ np.array(c)
            d = d / np.linalg.norm(d)
            s = height[i] / d[2] if d[2] > 1e-6 else math.inf
            s = min(s, max_range_m)
            pts.append((e[i] + d[1] * s, n[i] + d[0] * s))
        out.append(shapely.Polygon(pts))
    return out


def ray_ground_dem(dem: Dem, frame, n0: np.ndarray, e0: np.ndarray, alt_msl: np.ndarray, d_ned: np.ndarray,
                   max_range_m: float = MAX_RANGE_M, iters: int = 25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Intersect rays with a DEM: north/east ground points (local frame) and clipped mask.

    ``frame`` is the flight's LocalFrame; outside the DEM the ground is taken at
    the last known elevation (flagged as clipped).
    """
    d = d_ned / np.linalg.norm(d_ned, axis=-1, keepdims=True)
    down = d[..., 2]
    alt = np.broadcast_to(np.asarray(alt_msl, float), down.shape)
    nn0 = np.broadcast_to(np.asarray(n0, float), down.shape)
    ee0 = np.broadcast_to(np.asarray(e0, float), down.shape)
    lat, lon = frame.to_latlon(ee0, nn0)
    z = dem.sample(lat, lon)
    z = np.where(np.isnan(z), np.nanmedian(dem.elev), z)
    s = np.full(down.shape, max_range_m)
    ok = down > 1e-6
    for _ in range(iters):
        s_new = np.where(ok, (alt - z) / np.where(ok, down, 1), max_range_m)
        s_new = np.clip(s_new, 0, max_range_m)
        if np.allclose(s_new, s, atol=0.05):
            s = s_new
            break
        s = 0.5 * s + 0.5 * s_new if _ > 10 else s_new  # damp late oscillations
        la, lo = frame.to_latlon(ee0 + d[..., 1] * s, nn0 + d[..., 0] * s)
        zz = dem.sample(la, lo)
        z = np.where(np.isnan(zz), z, zz)
    clipped = ~ok | (s >= max_range_m)
    return nn0 + d[..., 0] * s, ee0 + d[..., 1] * s, clipped
