"""Detections (one object in one frame) to sightings (one object, merged over frames).

Detections JSONL, one object per line (docs/drone.md):
``{"id": "d1", "flight_id": "...", "t": "2026-03-15T10:00:01Z", "class": "tank",
"confidence": 0.9, "image_hash": "<sha256 hex>", "bbox": [u0, v0, u1, v1]}``
with either ``bbox`` (pixels, origin top-left) or ``lat``/``lon`` (an analyst's
ground position, optional ``err_m``); ``serial`` is optional.

A pixel box is put on the ground through the frame's geometry at the
detection's time (camera position, attitude and gimbal interpolated from the
telemetry); its 95 % ellipse combines the camera's pointing error (stretched
along the line of sight by the grazing angle), the box size and the GNSS error.
Detections of the same class group closer than their combined uncertainty are
one object (single-linkage over a k-d tree, connected components): that merged
object is one WEAPON_SIGHTING observation.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch._jsonl import BadLine, json_lines
from trucewatch.geo import CHI2_95_2D
from trucewatch.model import Location, Observation, ObservationKind, from_unix
from trucewatch.sources.drone.coverage import FrameSet, camera_state, required_gsd
from trucewatch.sources.drone.geometry import pixel_rays, ray_ground_dem
from trucewatch.sources.drone.telemetry import Flight, _parse_time

#: Classes a detector confuses with each other are merged as one object.
CLASS_GROUP = {
    # tanks, self-propelled and towed guns look alike from above at patrol resolutions
    "tank": "gun", "self_propelled_artillery": "gun", "towed_artillery": "gun", "artillery": "gun",
    "mlrs": "rocket", "grad": "rocket", "heavy_mlrs": "rocket", "tornado_s": "rocket", "uragan": "rocket", "smerch": "rocket",
    "air_defence": "air_defence", "mortar": "mortar",
}
GNSS_SIGMA_M = 3.0
#: Detections merge when closer than this many combined sigmas, or MIN_GATE_M.
GATE_SIGMAS = 2.8
MIN_GATE_M = 12.0
#: A single-frame detection below this confidence is kept but marked tentative.
TENTATIVE_BELOW = 0.8
#: An object whose detections average below this confidence is tentative: frames of one
#: object are not independent evidence, so confidences are averaged, not combined.
TENTATIVE_MEAN_BELOW = 0.6
#: An object in clear view (at the class's resolution) in at least MIN_VIEW_FRAMES frames
#: but detected in under this share of them is tentative: true objects in clear view are
#: detected consistently, ambiguous shapes flicker.
TENTATIVE_RATIO_BELOW = 0.2
MIN_VIEW_FRAMES = 5
#: Longest identifier or class name accepted (longer is a corrupt line).
MAX_ID_CHARS = 200


@dataclass
class Detection:
    key: str
    line: int
    flight_id: str
    t: float
    cls: str
    confidence: float
    image_hash: str | None
    bbox: tuple[float, float, float, float] | None
    lat: float | None = None
    lon: float | None = None
    err_m: float | None = None
    serial: str | None = None
    raw: str = ""
    # filled by locate()
    e: float = math.nan
    n: float = math.nan
    sig_major: float = math.nan
    sig_minor: float = math.nan
    azimuth: float = 0.0
    gsd: float = math.nan
    untrusted_nav: bool = False


@dataclass
class DetectionBatch:
    detections: list[Detection] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_detections(path: str | Path, flight_id: str | None = None) -> DetectionBatch:
    """Parse a detections JSONL; every bad line is named in ``problems`` and skipped."""
    path = Path(path)
    out = DetectionBatch()
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for lineno, rec in json_lines(lines):
        where = f"{path.name}:{lineno}"
        if isinstance(rec, BadLine):
            out.problems.append(f"{where}: not JSON ({rec.why}); skipped")
            continue
        try:
            if not isinstance(rec, dict):
                raise ValueError("expected an object")
            out.detections.append(parse_detection(rec, lineno, flight_id, lines[lineno - 1]))
        except ValueError as exc:
            out.problems.append(f"{where}: {exc}; skipped")
    return out


def parse_detection(rec: dict[str, Any], lineno: int, flight_id: str | None, raw: str = "") -> Detection:
    fid = rec.get("flight_id") or flight_id
    if not fid or not isinstance(fid, str):
        raise ValueError("field flight_id: missing")
    if "t" not in rec:
        raise ValueError("field t: missing")
    try:
        t = _parse_time(rec["t"])
    except ValueError as exc:
        raise ValueError(f"field t: {exc}") from None
    if len(fid) > MAX_ID_CHARS or any(ord(c) < 32 or c == "\ufffd" for c in fid):
        raise ValueError(f"field flight_id: {fid[:60]!r} is not an identifier")
    cls = rec.get("class")
    if not isinstance(cls, str) or not cls.strip():
        raise ValueError("field class: missing or not a string")
    if len(cls) > MAX_ID_CHARS or any(ord(c) < 32 or c == "\ufffd" for c in cls):
        raise ValueError(f"field class: {cls[:60]!r} is not a class name")
    rid = rec.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, str | int) or len(str(rid)) > MAX_ID_CHARS
                            or any(ord(c) < 32 or c == "\ufffd" for c in str(rid))):
        raise ValueError(f"field id: {str(rid)[:60]!r} is not an identifier")
    conf = rec.get("confidence", 1.0)
    if isinstance(conf, bool) or not isinstance(conf, int | float) or not 0 <= conf <= 1:
        raise ValueError(f"field confidence: {conf!r} is not a number in [0, 1]")
    ih = rec.get("image_hash")
    if ih is not None and (not isinstance(ih, str) or len(ih) != 64 or any(c not in "0123456789abcdef" for c in ih.lower())):
        raise ValueError(f"field image_hash: {ih!r} is not a SHA-256 hex digest")
    bbox = rec.get("bbox")
    lat, lon = rec.get("lat"), rec.get("lon")
    if bbox is not None:
        if (not isinstance(bbox, list) or len(bbox) != 4
                or any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in bbox)):
            raise ValueError(f"field bbox: {bbox!r} is not [u0, v0, u1, v1] in pixels")
        if bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
            raise ValueError(f"field bbox: {bbox!r} has no area (u1 <= u0 or v1 <= v0)")
        bbox = tuple(float(v) for v in bbox)
    elif lat is not None and lon is not None:
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (lat, lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError(f"field lat/lon: {lat!r},{lon!r} is not a position")
    else:
        raise ValueError("field bbox: give a pixel bbox or a ground lat/lon")
    err = rec.get("err_m")
    if err is not None and (isinstance(err, bool) or not isinstance(err, int | float) or err <= 0):
        raise ValueError(f"field err_m: {err!r} is not a positive number")
    key = str(rec.get("id") or hashlib.sha256(raw.encode()).hexdigest()[:16])
    serial = rec.get("serial")
    return Detection(key, lineno, fid, t, cls.strip().lower(), float(conf), ih.lower() if ih else None, bbox,
                     float(lat) if lat is not None and bbox is None else None,
                     float(lon) if lon is not None and bbox is None else None,
                     float(err) if err is not None else None, str(serial) if serial is not None else None, raw)


def locate(dets: list[Detection], flight: Flight, fs: FrameSet, problems: list[str], *, label: str = "detections") -> list[Detection]:
    """Ground positions and uncertainties for the detections of one flight (vectorized).

    Returns the detections that fall in a frame; the others are named in ``problems``.
    """
    if not dets:
        return []
    cam = flight.camera
    frame = fs.frame
    t = np.array([d.t for d in dets])
    half = cam.frame_interval_s
    in_time = (t >= flight.t0 - half) & (t <= flight.t1 + half)
    tc = np.clip(t, flight.t0, flight.t1)
    e0, n0, alt, rel, R = camera_state(flight, tc, frame)
    height = rel  # flat ground at home elevation; the DEM refines below
    ok = in_time.copy()
    has_box = np.array([d.bbox is not None for d in dets])
    box = np.array([d.bbox if d.bbox is not None else (0, 0, 1, 1) for d in dets], float)
    inside_img = (box[:, 0] >= 0) & (box[:, 1] >= 0) & (box[:, 2] <= cam.width_px) & (box[:, 3] <= cam.height_px)
    u = (box[:, 0] + box[:, 2]) / 2
    v = (box[:, 1] + box[:, 3]) / 2
    ray = pixel_rays(u, v, cam.hfov_deg, cam.vfov_deg, cam.width_px, cam.height_px)
    d = np.einsum("nij,nj->ni", R, ray)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    if fs.dem is not None:
        gn, ge, clipped = ray_ground_dem(fs.dem, frame, n0, e0, alt, d)
    else:
        down = d[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(down > 1e-6, height / np.where(down > 1e-6, down, 1), np.inf)
        clipped = ~(s < 8000.0)
        s = np.where(clipped, 0.0, s)
        gn, ge = n0 + d[:, 0] * s, e0 + d[:, 1] * s
    # analyst-given ground positions: must lie inside the frame at that time
    ge = np.where(has_box, ge, np.nan)
    gn = np.where(has_box, gn, np.nan)
    glat = np.array([d_.lat if d_.lat is not None else np.nan for d_ in dets])
    glon = np.array([d_.lon if d_.lon is not None else np.nan for d_ in dets])
    pe, pn = frame.to_en(np.nan_to_num(glat), np.nan_to_num(glon))
    ge = np.where(has_box, ge, pe)
    gn = np.where(has_box, gn, pn)
    idx = np.clip(np.searchsorted(fs.t, tc), 0, len(fs) - 1)
    # project into the nearest frame for the in-frame test and the GSD
    _, _, inside_pt, gsd = fs.project(ge, gn, idx)
    _, _, inside_prev, gsd_p = fs.project(ge, gn, np.maximum(idx - 1, 0))
    inside_pt |= inside_prev
    gsd = np.fmin(gsd, gsd_p)
    ok &= np.where(has_box, inside_img & ~clipped, inside_pt)
    trusted = fs.trusted[idx]
    r = np.sqrt((ge - e0) ** 2 + (gn - n0) ** 2 + height**2)
    sin_g = np.clip(height / np.maximum(r, 1e-9), 0.05, 1)
    sp = math.radians(cam.pointing_sigma_deg)
    box_px = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    sig_box = np.where(has_box, gsd * box_px / 4, 0.0)
    across = np.sqrt((r * sp) ** 2 + sig_box**2 + GNSS_SIGMA_M**2)
    along = np.sqrt((r * sp / sin_g) ** 2 + sig_box**2 + GNSS_SIGMA_M**2)
    given_err = np.array([d_.err_m if d_.err_m is not None else np.nan for d_ in dets]) / CHI2_95_2D
    across = np.where(has_box, across, np.where(np.isfinite(given_err), given_err, 10.0 / CHI2_95_2D))
    along = np.where(has_box, along, across)
    az = np.degrees(np.arctan2(ge - e0, gn - n0)) % 180.0
    out = []
    for i, det in enumerate(dets):
        if not ok[i]:
            if not in_time[i]:
                why = f"time {from_unix(t[i]).isoformat()} is outside flight {flight.flight_id} ({from_unix(flight.t0).isoformat()} to {from_unix(flight.t1).isoformat()})"
            elif has_box[i] and not inside_img[i]:
                why = f"bbox {list(det.bbox or ())} is outside the {cam.width_px}x{cam.height_px} image"
            elif has_box[i]:
                why = "the box centre looks above the horizon or beyond camera range"
            else:
                why = f"ground position {det.lat},{det.lon} is not in the frame taken at that time"
            problems.append(f"{label}:{det.line} (id {det.key}): detection outside any frame: {why}; skipped")
            continue
        if not trusted[i]:
            problems.append(f"{label}:{det.line} (id {det.key}): navigation untrusted at {from_unix(t[i]).isoformat()} "
                            "(GNSS interference): ground position unknown; skipped")
            continue
        det.e, det.n = float(ge[i]), float(gn[i])
        det.sig_major, det.sig_minor = float(max(along[i], across[i])), float(min(along[i], across[i]))
        det.azimuth = float(az[i])
        det.gsd = float(gsd[i])
        det.untrusted_nav = not bool(trusted[i])
        out.append(det)
    return out


def _uf_components(n: int, pairs: np.ndarray) -> np.ndarray:
    # lazy: scipy submodules load only on this path (import cost at command start)
    from scipy.sparse import coo_matrix

    # lazy: scipy submodules load only on this path (import cost at command start)
    from scipy.sparse.csgraph import connected_components

    if pairs.size == 0:
        return np.arange(n)
    m = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    return connected_components(m, directed=False)[1]


def _split_components(comp: np.ndarray, e: np.ndarray, n: np.ndarray, sig: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Split chained components: average linkage on distance in combined sigmas, where two
    detections from the same frame never merge (they are two objects)."""
    # lazy: scipy submodules load only on this path (import cost at command start)
    from scipy.cluster.hierarchy import fcluster, linkage

    # lazy: scipy submodules load only on this path (import cost at command start)
    from scipy.spatial.distance import squareform

    out = comp.copy()
    nxt = int(comp.max()) + 1 if comp.size else 0
    labels, counts = np.unique(comp, return_counts=True)
    for c in labels[counts > 1]:
        idx = np.flatnonzero(comp == c)
        if idx.size > 3000:  # keep memory bounded; single linkage stands
            continue
        de = e[idx, None] - e[None, idx]
        dn = n[idx, None] - n[None, idx]
        d = np.hypot(de, dn) / np.maximum(np.hypot(sig[idx, None], sig[None, idx]), MIN_GATE_M / GATE_SIGMAS)
        d[t[idx, None] == t[None, idx]] = 1e3
        np.fill_diagonal(d, 0.0)
        z = linkage(squareform(d, checks=False), method="average")
        lab = fcluster(z, t=GATE_SIGMAS, criterion="distance")
        if lab.max() > 1:
            out[idx] = nxt + lab
            nxt += int(lab.max()) + 1
    return out


def merge(dets: list[Detection], flight: Flight, fs: FrameSet) -> list[Observation]:
    """Merge located detections of one flight into WEAPON_SIGHTING observations."""
    # lazy: scipy submodules load only on this path (import cost at command start)
    from scipy.spatial import cKDTree

    frame = fs.frame

    if not dets:
        return []
    e = np.array([d.e for d in dets])
    n = np.array([d.n for d in dets])
    sig = np.array([d.sig_major for d in dets])
    group = np.array([CLASS_GROUP.get(d.cls, d.cls) for d in dets], dtype=object)
    tree = cKDTree(np.column_stack([e, n]))
    maxgate = max(MIN_GATE_M, GATE_SIGMAS * float(np.sqrt(2) * sig.max()))
    pairs = tree.query_pairs(maxgate, output_type="ndarray")
    if pairs.size:
        dist = np.hypot(e[pairs[:, 0]] - e[pairs[:, 1]], n[pairs[:, 0]] - n[pairs[:, 1]])
        gate = np.maximum(MIN_GATE_M, GATE_SIGMAS * np.hypot(sig[pairs[:, 0]], sig[pairs[:, 1]]))
        keep = (dist <= gate) & (group[pairs[:, 0]] == group[pairs[:, 1]])
        pairs = pairs[keep]
    comp = _uf_components(len(dets), pairs)
    comp = _split_components(comp, e, n, sig, np.array([round(d.t, 3) for d in dets]))
    # frames in which each object was in clear view (trusted, in the image, fine enough), in one broadcast
    labels = np.unique(comp)
    obj_e = np.array([e[comp == c].mean() for c in labels])
    obj_n = np.array([n[comp == c].mean() for c in labels])
    need = np.array([required_gsd(dets[int(np.flatnonzero(comp == c)[0])].cls) for c in labels])
    trusted = np.flatnonzero(fs.trusted)
    in_view = np.zeros(len(labels), int)
    step = max(1, 2_000_000 // max(len(trusted), 1))
    for a in range(0, len(labels), step):
        sl = slice(a, a + step)
        _, _, ins, g = fs.project(obj_e[sl, None], obj_n[sl, None], trusted[None, :])
        in_view[sl] = np.sum(ins & (g <= need[sl, None]), axis=1)
    view_of = dict(zip(labels.tolist(), in_view.tolist(), strict=True))
    obs: list[Observation] = []
    for c in labels:
        idx = np.flatnonzero(comp == c)
        members = [dets[i] for i in idx]
        w = 1.0 / np.array([d.sig_major * d.sig_minor for d in members])
        me = float(np.sum(w * e[idx]) / w.sum())
        mn = float(np.sum(w * n[idx]) / w.sum())
        # frames are not independent (pointing bias): do not shrink below half the best single error
        best = int(np.argmin([d.sig_major for d in members]))
        shrink = max(1.0 / math.sqrt(len(members)), 0.5)
        major = max(members[best].sig_major * shrink, 1.0) * CHI2_95_2D
        minor = max(members[best].sig_minor * shrink, 1.0) * CHI2_95_2D
        votes: dict[str, float] = {}
        for d in members:
            votes[d.cls] = votes.get(d.cls, 0.0) + d.confidence
        cls = max(sorted(votes), key=lambda k: votes[k])
        conf = float(np.mean([d.confidence for d in members]))
        times = sorted({round(d.t, 3) for d in members})
        keys = sorted(d.key for d in members)
        object_id = hashlib.sha256(("|".join([flight.flight_id, *keys])).encode()).hexdigest()[:16]
        top = max(members, key=lambda d: (d.confidence, -d.gsd if math.isfinite(d.gsd) else -1e9))
        lat, lon = frame.to_latlon(me, mn)
        serials = sorted({d.serial for d in members if d.serial})
        n_view = int(view_of[int(c)])
        ratio = len(times) / n_view if n_view else 1.0
        tentative = bool((len(times) < 2 and conf < TENTATIVE_BELOW) or conf < TENTATIVE_MEAN_BELOW
                         or (n_view >= MIN_VIEW_FRAMES and ratio < TENTATIVE_RATIO_BELOW))
        payload = hashlib.sha256("\n".join(d.raw for d in sorted(members, key=lambda d: d.key)).encode()).hexdigest()
        obs.append(Observation(
            id=f"drone:{flight.flight_id}:sighting:{object_id}",
            source_id=flight.source_id or f"drone:sys{flight.sysid}",
            kind=ObservationKind.WEAPON_SIGHTING,
            time=from_unix(times[0]),
            time_sigma_s=max(1.0, (times[-1] - times[0]) / 2),
            location=Location(lat=float(lat), lon=float(lon), err_major_m=float(major), err_minor_m=float(minor),
                              err_angle_deg=float(members[best].azimuth)),
            attributes={
                "weapon_class": cls, "count": 1, "image_hash": top.image_hash, "flight_id": flight.flight_id,
                "object_id": object_id, "confidence": round(conf, 4), "n_frames": len(times),
                "frames_in_view": n_view, "detect_ratio": round(min(ratio, 1.0), 3),
                "first_seen": from_unix(times[0]).isoformat(), "last_seen": from_unix(times[-1]).isoformat(),
                "detection_ids": keys, "image_hashes": sorted({d.image_hash for d in members if d.image_hash}),
                "best_gsd_m": round(float(np.nanmin([d.gsd for d in members])), 3), "serials": serials,
                "tentative": tentative, "nav_untrusted": any(d.untrusted_nav for d in members),
            },
            payload_hash=payload,
        ))
    obs.sort(key=lambda o: (o.time, o.id))
    return obs
