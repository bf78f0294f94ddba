"""Coverage: which ground each camera frame saw, when, and how sharply.

A :class:`FrameSet` holds one flight's frames as columns (time, camera
position in the flight's local frame, camera->NED rotation, footprint corners,
centre ground resolution).  "Was P seen between T1 and T2 well enough to see a
tank?" is answered exactly, not from the footprint polygons: P is projected
back into every frame of the window (vectorized over points x frames) and is
seen when it falls inside the image, in front of the camera, within range, at
a ground sample distance (GSD) no coarser than the class needs.  Frames taken
while navigation was untrustworthy (GNSS jamming or spoofing) do not count:
their footprint is not where the log says.

GSD at a point: slant range x pixel angle across the line of sight, stretched
by 1/sqrt(sin(grazing angle)) (the geometric mean of the across- and
along-range pixel sizes on the ground).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from trucewatch.geo import LocalFrame
from trucewatch.sources.drone.geometry import (
    MAX_RANGE_M,
    Dem,
    camera_matrices,
    pixel_rays,
    project_footprints,
    ray_ground_dem,
)
from trucewatch.sources.drone.telemetry import Camera, Flight

#: Coarsest GSD (m) at which an analyst can tell the class apart (about NIIRS 5,
#: 0.75-1.2 m: "identify" tracked vehicles, towed and self-propelled artillery,
#: rocket launchers; mortars and light guns need NIIRS 6-7).
REQUIRED_GSD_M: dict[str, float] = {
    "tank": 1.0, "towed_artillery": 1.0, "self_propelled_artillery": 1.0, "artillery": 1.0, "mlrs": 1.0, "grad": 1.0,
    "heavy_mlrs": 1.2, "tornado_s": 1.2, "uragan": 1.2, "smerch": 1.2, "tochka_u": 1.2, "tactical_missile": 1.2,
    "air_defence": 1.0, "mortar": 0.3, "artillery_under_100mm": 0.5,
}
DEFAULT_REQUIRED_GSD_M = 1.0
#: Bands of the coverage map (m).
GSD_BANDS = (0.0, 0.3, 1.0, 2.5, math.inf)


def required_gsd(cls: str | None) -> float:
    return REQUIRED_GSD_M.get(cls or "", DEFAULT_REQUIRED_GSD_M)


def _interp_deg(t: np.ndarray, ts: np.ndarray, deg: np.ndarray) -> np.ndarray:
    r = np.radians(deg)
    return np.degrees(np.arctan2(np.interp(t, ts, np.sin(r)), np.interp(t, ts, np.cos(r))))


def camera_state(flight: Flight, t: np.ndarray, frame: LocalFrame) -> tuple[np.ndarray, ...]:
    """Camera east, north, altitude MSL, height above home and camera->NED rotation at times ``t``."""
    nav = flight.nav
    ts = nav["t"]
    lat = np.interp(t, ts, nav["lat"])
    lon = np.interp(t, ts, nav["lon"])
    e, n = frame.to_en(lat, lon)
    alt = np.interp(t, ts, nav["alt_msl"])
    rel = np.interp(t, ts, nav["alt_rel"])
    ang = {k: _interp_deg(t, ts, nav[k]) for k in ("roll", "pitch", "yaw", "gimbal_roll", "gimbal_pitch", "gimbal_yaw")}
    R = camera_matrices(ang["roll"], ang["pitch"], ang["yaw"], ang["gimbal_roll"], ang["gimbal_pitch"], ang["gimbal_yaw"],
                        flight.camera.gimbal_frame)
    return np.atleast_1d(e), np.atleast_1d(n), alt, rel, R


@dataclass
class FrameSet:
    """One flight's camera frames."""

    flight_id: str
    source_id: str
    camera: Camera
    lat0: float
    lon0: float
    t: np.ndarray  # (N,)
    e: np.ndarray  # camera east, m
    n: np.ndarray  # camera north, m
    alt_msl: np.ndarray  # camera altitude MSL
    ground_msl: np.ndarray  # flat ground elevation under the camera (home elevation)
    R: np.ndarray  # (N, 3, 3) camera -> NED
    corners: np.ndarray  # (N, 4, 2) east/north
    clipped: np.ndarray  # (N,) bool
    gsd: np.ndarray  # (N,) centre GSD, m
    trusted: np.ndarray  # (N,) bool: navigation trustworthy
    dem: Dem | None = field(default=None, repr=False)

    @property
    def frame(self) -> LocalFrame:
        return LocalFrame(self.lat0, self.lon0)

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @classmethod
    def from_flight(cls, flight: Flight, dem: Dem | None = None, max_range_m: float = MAX_RANGE_M) -> FrameSet:
        cam = flight.camera
        t = np.arange(flight.t0, flight.t1 + 1e-9, cam.frame_interval_s)
        frame = LocalFrame.around(flight.nav["lat"], flight.nav["lon"])
        e, n, alt, rel, R = camera_state(flight, t, frame)
        if dem is None:
            corners, clipped = project_footprints(n, e, rel, R, cam.hfov_deg, cam.vfov_deg, cam.width_px, cam.height_px,
                                                  max_range_m)
        else:
            uv = np.array([[0, 0], [cam.width_px, 0], [cam.width_px, cam.height_px], [0, cam.height_px]], float)
            rays = pixel_rays(uv[:, 0], uv[:, 1], cam.hfov_deg, cam.vfov_deg, cam.width_px, cam.height_px)
            d = np.einsum("nij,kj->nki", R, rays)
            gn, ge, cl = ray_ground_dem(dem, frame, n[:, None], e[:, None], alt[:, None], d, max_range_m)
            corners = np.stack([ge, gn], axis=-1)
            clipped = np.asarray(cl.any(axis=1))
        fs = cls(flight.flight_id, flight.source_id or "", cam, frame.lat0, frame.lon0, t, e, n, alt, alt - rel, R,
                 corners, clipped, np.zeros_like(t), np.ones(t.shape, bool), dem)
        # centre GSD from the centre ray's ground point
        centre = corners.mean(axis=1)
        fs.gsd = fs._gsd_at(centre[:, 0], centre[:, 1], np.arange(len(t)))
        return fs

    # ------------------------------------------------------------ geometry
    def _height_above(self, pe: np.ndarray, pn: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Camera height above the ground at points (pe, pn) for frames idx (broadcast)."""
        if self.dem is None:
            return self.alt_msl[idx] - self.ground_msl[idx]
        lat, lon = self.frame.to_latlon(pe, pn)
        z = self.dem.sample(lat, lon)
        z = np.where(np.isnan(z), self.ground_msl[idx], z)
        return self.alt_msl[idx] - z

    def _gsd_at(self, pe: np.ndarray, pn: np.ndarray, idx: np.ndarray) -> np.ndarray:
        dn = pn - self.n[idx]
        de = pe - self.e[idx]
        dd = self._height_above(pe, pn, idx)
        r = np.sqrt(dn * dn + de * de + dd * dd)
        ifov = 2 * math.tan(math.radians(self.camera.hfov_deg) / 2) / self.camera.width_px
        sin_graze = np.clip(dd / np.maximum(r, 1e-9), 1e-3, 1.0)
        return r * ifov / np.sqrt(sin_graze)

    def project(self, pe: np.ndarray, pn: np.ndarray, idx: np.ndarray,
                max_range_m: float = MAX_RANGE_M) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Points (pe, pn) into frames idx (all broadcast together): pixel u, v, inside mask, GSD."""
        dn = pn - self.n[idx]
        de = pe - self.e[idx]
        dd = self._height_above(pe, pn, idx)
        R = self.R[idx]
        # camera coords = R^T v
        x = R[..., 0, 0] * dn + R[..., 1, 0] * de + R[..., 2, 0] * dd
        y = R[..., 0, 1] * dn + R[..., 1, 1] * de + R[..., 2, 1] * dd
        z = R[..., 0, 2] * dn + R[..., 1, 2] * de + R[..., 2, 2] * dd
        cam = self.camera
        th = math.tan(math.radians(cam.hfov_deg) / 2)
        tv = math.tan(math.radians(cam.vfov_deg) / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (y / x / th + 1) * cam.width_px / 2
            v = (z / x / tv + 1) * cam.height_px / 2
        r = np.sqrt(dn * dn + de * de + dd * dd)
        inside = (x > 0) & (u >= 0) & (u <= cam.width_px) & (v >= 0) & (v <= cam.height_px) & (r <= max_range_m) & (dd > 0)
        ifov = 2 * th / cam.width_px
        sin_graze = np.clip(dd / np.maximum(r, 1e-9), 1e-3, 1.0)
        return u, v, inside, r * ifov / np.sqrt(sin_graze)

    def polygons(self, idx: np.ndarray | None = None) -> np.ndarray:
        c = self.corners if idx is None else self.corners[idx]
        ring = np.concatenate([c, c[:, :1]], axis=1)
        return shapely.polygons(ring)

    # ------------------------------------------------------------ queries
    def seen(self, lat: np.ndarray, lon: np.ndarray, t1: float = -math.inf, t2: float = math.inf,
             max_gsd: float | np.ndarray = DEFAULT_REQUIRED_GSD_M, chunk: int = 2_000_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each point: seen well enough in [t1, t2]? best GSD (inf if never in frame), first time seen (nan)."""
        lat = np.atleast_1d(np.asarray(lat, float))
        lon = np.atleast_1d(np.asarray(lon, float))
        max_gsd = np.broadcast_to(np.asarray(max_gsd, float), lat.shape)
        pe, pn = self.frame.to_en(lat, lon)
        win = np.flatnonzero((self.t >= t1) & (self.t <= t2) & self.trusted)
        best = np.full(lat.shape, np.inf)
        first = np.full(lat.shape, np.nan)
        if win.size == 0 or lat.size == 0:
            return np.zeros(lat.shape, bool), best, first
        # coarse prefilter: frames whose footprint box (plus margin) holds the point
        lo = self.corners[win].min(axis=1) - 1.0
        hi = self.corners[win].max(axis=1) + 1.0
        step = max(1, chunk // max(win.size, 1))
        for a in range(0, lat.size, step):
            sl = slice(a, a + step)
            e_ = pe[sl, None]
            n_ = pn[sl, None]
            box = (e_ >= lo[None, :, 0]) & (e_ <= hi[None, :, 0]) & (n_ >= lo[None, :, 1]) & (n_ <= hi[None, :, 1])
            pi, fi = np.nonzero(box)
            if pi.size == 0:
                continue
            _, _, inside, gsd = self.project(pe[sl][pi], pn[sl][pi], win[fi])
            gsd = np.where(inside, gsd, np.inf)
            blk = best[sl]
            np.minimum.at(blk, pi, gsd)
            best[sl] = blk
            ok = inside & (gsd <= max_gsd[sl][pi])
            tt = np.where(ok, self.t[win[fi]], np.inf)
            fb = np.full(blk.shape, np.inf)
            np.minimum.at(fb, pi, tt)
            first[sl] = np.where(np.isfinite(fb), fb, np.nan)
        return np.isfinite(first), best, first

    # ------------------------------------------------------------ output
    def to_geojson(self, bands: tuple[float, ...] = GSD_BANDS) -> dict[str, Any]:
        """Coverage map: one MultiPolygon per GSD band (trusted frames) plus the camera track."""
        feats: list[dict[str, Any]] = []
        fr = self.frame
        for lo, hi in itertools.pairwise(bands):
            sel = np.flatnonzero((self.gsd >= lo) & (self.gsd < hi) & self.trusted & ~self.clipped)
            if sel.size == 0:
                continue
            geom = shapely.union_all(shapely.make_valid(self.polygons(sel)))
            geom = shapely.simplify(geom, 1.0)
            ll = shapely.set_precision(fr.geom_to_latlon(geom), 1e-6)
            feats.append({"type": "Feature", "geometry": mapping(ll), "properties": {
                "layer": "coverage", "flight_id": self.flight_id, "source_id": self.source_id,
                "gsd_min_m": lo, "gsd_max_m": None if math.isinf(hi) else hi, "n_frames": int(sel.size),
                "t_from": float(self.t[sel].min()), "t_to": float(self.t[sel].max()), "area_km2": round(geom.area / 1e6, 4)}})
        untrusted = int((~self.trusted).sum())
        lat, lon = fr.to_latlon(self.e, self.n)
        feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": np.round(np.column_stack([lon, lat]), 6).tolist()},
                      "properties": {"layer": "track", "flight_id": self.flight_id, "source_id": self.source_id,
                                     "n_frames": len(self), "untrusted_frames": untrusted}})
        return {"type": "FeatureCollection", "features": feats}

    def save(self, path: Path) -> None:
        np.savez_compressed(path, t=self.t, e=self.e, n=self.n, alt_msl=self.alt_msl, ground_msl=self.ground_msl, R=self.R,
                            corners=self.corners, clipped=self.clipped, gsd=self.gsd, trusted=self.trusted,
                            meta=np.array([self.flight_id, self.source_id, repr(self.lat0), repr(self.lon0)]))

    @classmethod
    def load(cls, path: Path, camera: Camera) -> FrameSet:
        z = np.load(path, allow_pickle=False)
        fid, sid, lat0, lon0 = (str(x) for x in z["meta"])
        return cls(fid, sid, camera, float(lat0), float(lon0), z["t"], z["e"], z["n"], z["alt_msl"], z["ground_msl"], z["R"],
                   z["corners"], z["clipped"], z["gsd"], z["trusted"])


def seen_any(framesets: list[FrameSet], lat: np.ndarray, lon: np.ndarray, t1: float = -math.inf, t2: float = math.inf,
             weapon_class: str | None = None, max_gsd: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:meth:`FrameSet.seen` over several flights: seen by any, best GSD, earliest time."""
    lat = np.atleast_1d(np.asarray(lat, float))
    lim = max_gsd if max_gsd is not None else required_gsd(weapon_class)
    seen = np.zeros(lat.shape, bool)
    best = np.full(lat.shape, np.inf)
    first = np.full(lat.shape, np.nan)
    for fs in framesets:
        s, b, f = fs.seen(lat, lon, t1, t2, lim)
        seen |= s
        best = np.minimum(best, b)
        first = np.fmin(first, f)
    return seen, best, first
