"""Radar change detection for building damage on co-registered Sentinel-1-style stacks.

Following Ballinger's pixel-wise t-test: for every pixel and polarisation
(VV, VH), compare backscatter (in dB, where multiplicative speckle becomes
additive and closer to Gaussian) in a reference period against an inspection
window with a two-sample t-test; combine the polarisations as signed normal
scores (Stouffer);
and average the resulting normal scores over each building footprint.

The stack is read window by window (``tile`` pixels square) so a full
Sentinel-1 scene (25,000 x 17,000 px, dozens of dates) fits in memory.
Every file must share the first file's CRS, grid and band layout; a mismatch
is reported naming the file and band, because a shifted grid silently
compares different places.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from scipy import special, stats
from shapely.geometry import mapping, shape

from trucewatch.errors import TruceWatchError
from trucewatch.geo import LocalFrame
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind, from_unix, sha256_hex

POLARISATIONS = ("VV", "VH", "HH", "HV")
_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})-?(\d{2})-?(\d{2})(?:T\d{6})?")


class RadarError(TruceWatchError, ValueError):
    """Stack problems; ``problems`` lists each one (file, band, what)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Stack:
    files: list[Path]
    dates: list[np.datetime64]  # one per acquisition, sorted
    pols: list[str]  # polarisations used, e.g. ["VV", "VH"]
    layers: list[dict[str, tuple[Path, int]]]  # per date: polarisation -> (file, 1-based band)
    crs: Any
    transform: Any
    width: int
    height: int
    nodata: float | None
    db: bool  # values already in dB (else linear amplitude or intensity: the t-test does not care which)
    notes: list[str] = field(default_factory=list)


_POL_RE = re.compile(r"(?<![A-Z])(VV|VH|HH|HV)(?![A-Z])")


def _file_date(path: Path, tags: dict[str, str]) -> np.datetime64 | None:
    for key in ("ACQUISITION_DATE", "ACQUISITION_START_TIME", "DATE", "TIFFTAG_DATETIME"):
        v = tags.get(key)
        if v:
            m = re.match(r"(\d{4})[-:](\d{2})[-:](\d{2})", v)
            if m:
                return np.datetime64(f"{m.group(1)}-{m.group(2)}-{m.group(3)}", "D")
    m = _DATE_IN_NAME.search(path.name)
    if m:
        try:
            return np.datetime64(f"{m.group(1)}-{m.group(2)}-{m.group(3)}", "D")
        except ValueError:
            return None
    return None


_OK_DTYPES = ("float32", "float64", "uint16", "int16", "uint8", "uint32", "int32")


def open_stack(files: Sequence[str | Path]) -> Stack:
    """Check that every file is on the first file's grid and CRS; find each date's polarisations.

    A file may hold both polarisations (bands described ``VV``/``VH``, or SNAP's
    ``Sigma0_VV_db``...; undescribed bands are taken as VV, VH in order) or one
    (its polarisation from the band description or a ``_VV``/``_VH`` token in
    the file name); files of the same date are paired.  Every problem is
    listed, naming the file and band.
    """
    # lazy: rasterio (GDAL) loads only for raster inputs
    import rasterio

    # lazy: rasterio (GDAL) loads only for raster inputs
    from rasterio.errors import RasterioIOError

    problems: list[str] = []
    if not files:
        raise RadarError(["no files given"])
    paths = [Path(f) for f in files]
    ref = None
    notes: list[str] = []
    by_date: dict[np.datetime64, dict[str, tuple[Path, int]]] = {}
    files_of: dict[np.datetime64, list[Path]] = {}
    db_flags: dict[Path, bool] = {}
    for p in paths:
        try:
            ds = rasterio.open(p)
        except (RasterioIOError, OSError) as exc:
            problems.append(f"{p}: cannot open as a raster: {exc}")
            continue
        with ds:
            desc = [(d or "").strip().upper() for d in ds.descriptions]
            if ref is None:
                ref = (p, ds.crs, ds.transform, ds.width, ds.height, ds.nodata)
                if ds.crs is None:
                    problems.append(f"{p}: no CRS: the stack cannot be placed on the ground")
            else:
                rp, rcrs, rtr, rw, rh, _rn = ref
                if ds.crs != rcrs:
                    problems.append(f"{p}: CRS {ds.crs} differs from the stack's {rcrs} (first file {rp.name})")
                if (ds.width, ds.height) != (rw, rh):
                    problems.append(f"{p}: grid {ds.width}x{ds.height} px differs from the stack's {rw}x{rh} "
                                    f"(first file {rp.name}); resample to a common grid first")
                elif not ds.transform.almost_equals(rtr, precision=1e-6 * max(abs(rtr.a), 1e-9)):
                    problems.append(f"{p}: grid transform {tuple(ds.transform)[:6]} differs from the stack's "
                                    f"{tuple(rtr)[:6]} (first file {rp.name}); co-register first")
            # which band is which polarisation
            pols: dict[str, int] = {}
            for i, d in enumerate(desc):
                m = _POL_RE.search(d)
                if m and m.group(1) not in pols:
                    pols[m.group(1)] = i + 1
            if not pols:
                m = _POL_RE.search(p.stem.upper().replace("-", "_"))
                if ds.count == 1 and m:
                    pols = {m.group(1): 1}
                else:
                    pols = {pol: i + 1 for i, pol in enumerate(("VV", "VH")[: ds.count])}
                    notes.append(f"{p}: bands have no polarisation in their descriptions: taken as "
                                 f"{', '.join(f'band {b} {q}' for q, b in pols.items())}")
            for pol, bi in pols.items():
                if ds.dtypes[bi - 1] not in _OK_DTYPES:
                    problems.append(f"{p}: band {bi} ({pol}) has unsupported type {ds.dtypes[bi - 1]}")
            db_flags[p] = any("DB" in desc[bi - 1].replace("_", " ").split() or desc[bi - 1].endswith("_DB")
                              for bi in pols.values())
            d = _file_date(p, ds.tags())
            if d is None:
                problems.append(f"{p}: no acquisition date (tag ACQUISITION_DATE or YYYYMMDD in the file name)")
                continue
            slot = by_date.setdefault(d, {})
            files_of.setdefault(d, []).append(p)
            for pol, bi in pols.items():
                if pol in slot:
                    problems.append(f"{p}: band {bi} ({pol}) for {d} duplicates {slot[pol][0].name} band {slot[pol][1]}")
                else:
                    slot[pol] = (p, bi)
    if ref is None:
        raise RadarError(problems)
    dates = sorted(by_date)
    # polarisations present on the first date define the stack; every date must have them
    want: list[str] = [q for q in ("VV", "VH", "HH", "HV") if dates and q in by_date[dates[0]]]
    for d in dates:
        for q in want:
            if q not in by_date[d]:
                problems.append(f"{', '.join(str(f) for f in files_of[d])}: no {q} band for {d} "
                                f"(the stack's first date has {', '.join(want)})")
    if len(set(db_flags.values())) > 1:
        problems.append("stack mixes dB and linear files: " + ", ".join(f"{f.name}={'dB' if v else 'linear'}"
                                                                       for f, v in db_flags.items()))
    if problems:
        raise RadarError(problems)
    return Stack(paths, [d.astype("datetime64[D]") for d in dates], want, [{q: by_date[d][q] for q in want} for d in dates],
                 ref[1], ref[2], ref[3], ref[4], ref[5], bool(next(iter(db_flags.values()), False)), notes)


@dataclass
class RadarResult:
    stack: Stack
    n_ref: int
    n_post: int
    split: np.datetime64
    last_ref: np.datetime64
    first_post: np.datetime64
    probability_path: Path | None
    footprints: list[dict[str, Any]]  # id, n_pixels, mean_z, damage_probability, geometry
    pixel_summary: dict[str, Any]


def _ttest(x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-sample t and degrees of freedom along axis 0 (NaN = missing), pooled variance.

    Speckle in dB has the same variance before and after (it depends on the
    number of looks only), so pooling is justified and gives the short
    inspection window (often 1-3 images) far more power than Welch's test.
    """
    n1 = np.sum(np.isfinite(x1), axis=0).astype(np.float64)
    n2 = np.sum(np.isfinite(x2), axis=0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        m1, m2 = np.nanmean(x1, axis=0), np.nanmean(x2, axis=0)
        ss = np.nansum((x1 - m1) ** 2, axis=0) + np.nansum((x2 - m2) ** 2, axis=0)
        df = n1 + n2 - 2
        sp2 = ss / df
        se = np.sqrt(sp2 * (1 / n1 + 1 / n2))
        t = (m2 - m1) / se
    ok = (n1 >= 2) & (n2 >= 1) & (se > 0)
    return np.where(ok, t, np.nan), np.where(ok, df, np.nan)


def change_test(files: Sequence[str | Path], split: str | np.datetime64, out: str | Path | None = None,
                footprints: dict[str, Any] | None = None, tile: int = 512, corr_px: float = 1.0,
                inspect_days: int | None = None) -> RadarResult:
    """Pixel-wise t-test (reference: dates before ``split``; inspection: on/after it), tiled.

    Writes a float32 GeoTIFF (band 1: change probability 1-p, band 2: normal
    score z) on the stack's grid when ``out`` is given, and scores each
    footprint (GeoJSON in lon/lat) by the mean z of its pixels.  ``corr_px`` is
    the number of pixels per independent speckle sample (1 for single-look
    simulations; about 2-4 for Sentinel-1 GRD).
    """
    # lazy: rasterio (GDAL) loads only for raster inputs
    import rasterio

    # lazy: rasterio (GDAL) loads only for raster inputs
    from rasterio.windows import Window

    st = open_stack(files)
    split_d = np.datetime64(str(split), "D")
    dates = np.array(st.dates, dtype="datetime64[D]")
    ref = np.flatnonzero(dates < split_d)
    post = np.flatnonzero(dates >= split_d)
    if inspect_days is not None:
        post = post[dates[post] < split_d + np.timedelta64(inspect_days, "D")]
    problems = []
    if ref.size < 2:
        problems.append(f"need at least 2 reference images before {split_d}, have {ref.size}")
    if post.size < 1:
        problems.append(f"need at least 1 inspection image on or after {split_d}, have {post.size}")
    if problems:
        raise RadarError(problems)

    fp_geoms, fp_ids, fp_props = _footprints_in_crs(footprints, st.crs) if footprints else ([], [], [])
    nf = len(fp_geoms)
    z_sum = np.zeros(nf)
    z_n = np.zeros(nf)
    dsets = {p: rasterio.open(p) for p in st.files}
    dst = None
    n_px = 0
    n_hi = 0
    samples: list[np.ndarray] = []
    srng = np.random.default_rng(0)
    try:
        if out is not None:
            prof = {"driver": "GTiff", "width": st.width, "height": st.height, "count": 2, "dtype": "float32",
                    "crs": st.crs, "transform": st.transform, "tiled": True, "blockxsize": 256,
                    "blockysize": 256, "compress": "deflate", "nodata": np.nan}
            dst = rasterio.open(out, "w", **prof)
            dst.set_band_description(1, "change_probability")
            dst.set_band_description(2, "z")
        for r0 in range(0, st.height, tile):
            for c0 in range(0, st.width, tile):
                win = Window(c0, r0, min(tile, st.width - c0), min(tile, st.height - r0))
                cube = np.stack([np.stack([dsets[lay[q][0]].read(lay[q][1], window=win).astype(np.float32)
                                           for q in st.pols]) for lay in st.layers])  # (N, B, h, w)
                bad = ~np.isfinite(cube)
                if st.nodata is not None and np.isfinite(st.nodata):
                    bad |= cube == st.nodata
                if st.db:
                    db = np.where(bad, np.nan, cube)
                else:
                    # amplitude or intensity: log makes speckle additive; the factor 10 or 20 cancels in t
                    with np.errstate(divide="ignore", invalid="ignore"):
                        db = np.where(bad | (cube <= 0), np.nan, 20.0 * np.log10(cube))
                t, df = _ttest(db[ref], db[post])  # (B, h, w)
                # signed normal scores per polarisation, combined by Stouffer: a building that lost its
                # double bounce darkens in every pixel, and a signed mean keeps that consistency
                zb = special.ndtri(np.clip(stats.t.cdf(np.where(np.isfinite(t), t, 0.0), np.where(np.isfinite(df), df, 1.0)),
                                           1e-300, 1 - 1e-16))
                zb = np.where(np.isfinite(t), zb, np.nan)
                nb = np.sum(np.isfinite(zb), axis=0)
                with np.errstate(invalid="ignore", divide="ignore"):
                    z = np.nansum(zb, axis=0) / np.sqrt(nb)
                p_comb = 2.0 * special.ndtr(-np.abs(z))
                valid = np.isfinite(t).any(axis=0)
                prob = np.where(valid, 1.0 - p_comb, np.nan).astype(np.float32)  # two-sided change probability
                z = np.where(valid, z, np.nan).astype(np.float32)
                zv = z[valid]
                samples.append(srng.choice(zv, min(zv.size, 4096), replace=False) if zv.size else zv)
                n_px += int(valid.sum())
                n_hi += int((prob > 0.99).sum())
                if dst is not None:
                    dst.write(np.stack([prob, z]), window=win)
                if nf:
                    lab = _rasterize(fp_geoms, win, st.transform)
                    m = (lab >= 0) & valid
                    z_sum += np.bincount(lab[m], weights=z[m].astype(np.float64), minlength=nf)
                    z_n += np.bincount(lab[m], minlength=nf)
    finally:
        for ds in dsets.values():
            ds.close()
        if dst is not None:
            dst.close()
    # the scene's unchanged majority defines "no change": recentre and rescale z on its median and MAD,
    # which absorbs calibration drift between dates and the t-test's small-sample tails
    zs = np.concatenate(samples) if samples else np.zeros(0)
    med = float(np.median(zs)) if zs.size else 0.0
    scale = float(1.4826 * np.median(np.abs(zs - med))) if zs.size else 1.0
    scale = scale if scale > 1e-6 else 1.0
    recs = []
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_z = (z_sum / z_n - med) / scale
        n_eff = z_n / max(corr_px, 1e-9)
        prob_fp = 1.0 - 2.0 * special.ndtr(-np.abs(mean_z) * np.sqrt(n_eff))
    for i in range(nf):
        recs.append({"id": fp_ids[i], "n_pixels": int(z_n[i]),
                     "mean_z": None if z_n[i] == 0 else round(float(mean_z[i]), 4),
                     "damage_probability": None if z_n[i] == 0 else float(prob_fp[i]),
                     "properties": fp_props[i]})
    res = RadarResult(st, int(ref.size), int(post.size), split_d, dates[ref].max(), dates[post].min(),
                      Path(out) if out is not None else None, recs,
                      {"valid_pixels": n_px, "pixels_p_gt_0_99": n_hi, "expected_false_at_0_99": round(0.01 * n_px),
                       "scene_z_median": round(med, 4), "scene_z_scale": round(scale, 4)})
    if footprints:
        attach_geometry(res, footprints)
    return res


def _footprints_in_crs(fc: dict[str, Any], crs: Any) -> tuple[list, list[str], list[dict]]:

    src_crs = _fc_crs(fc)
    try:
        tr = Transformer.from_crs(src_crs, crs, always_xy=True)
    except Exception as exc:  # pyproj raises its own CRSError
        raise RadarError([f"footprints: crs {src_crs!r}: {exc}"]) from None
    feats = fc.get("features", []) if fc.get("type") == "FeatureCollection" else [fc]
    geoms, ids, props = [], [], []
    problems = []
    for i, f in enumerate(feats):
        try:
            g = shape(f["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problems.append(f"footprints feature {i}: geometry: {exc}")
            continue
        if g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"footprints feature {i}: geometry: {g.geom_type} is not a polygon")
            continue
        pr = dict(f.get("properties") or {})
        fid = str(pr.get("id", f.get("id", i)))
        geoms.append(shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))))
        ids.append(fid)
        props.append(pr)
    if problems:
        raise RadarError(problems)
    return geoms, ids, props


def _fc_crs(fc: dict[str, Any]) -> str:
    """GeoJSON is lon/lat, unless a legacy ``crs`` member names another (e.g. urn:ogc:def:crs:EPSG::32637)."""
    c = fc.get("crs")
    named = ((c.get("properties") or {}).get("name")) if isinstance(c, dict) else None
    if named and "CRS84" not in str(named).upper():
        return str(named)
    return "EPSG:4326"


def _rasterize(geoms: list, win: Any, transform: Any) -> np.ndarray:
    # lazy: rasterio (GDAL) loads only for raster inputs
    from rasterio import features, windows

    wt = windows.transform(win, transform)
    shape = (int(win.height), int(win.width))
    return features.rasterize(((g, i) for i, g in enumerate(geoms)), out_shape=shape, transform=wt, fill=-1,
                              dtype="int32", all_touched=False)


def load_footprints(path: str | Path) -> dict[str, Any]:
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RadarError([f"{path}: not a GeoJSON file: {exc}"]) from None
    return obj


def to_observations(res: RadarResult, threshold: float = 0.9, source_id: str = "sentinel1-change") -> list:
    """DAMAGE observations for footprints whose change probability reaches ``threshold``."""

    lo_t = float(res.last_ref.astype("datetime64[s]").astype(np.int64))
    hi_t = float(res.first_post.astype("datetime64[s]").astype(np.int64)) + 86400.0
    obs = []
    geo_of = {}
    # footprints were given in lon/lat: keep them for the observation
    for r in res.footprints:
        if r["damage_probability"] is None or r["damage_probability"] < threshold:
            continue
        geo_of[r["id"]] = r
    for fid, r in geo_of.items():
        g = r.get("_geometry")
        if g is None:
            continue
        poly = shape(g)
        c = poly.centroid
        frame = LocalFrame(c.y, c.x)
        en = frame.geom_to_en(poly)
        minx, miny, maxx, maxy = en.bounds
        half = max(maxx - minx, maxy - miny, 10.0) / 2 * math.sqrt(2)
        key = f"{fid}|{res.last_ref}|{res.first_post}".encode()
        obs.append(Observation(
            id=f"{source_id}:{sha256_hex(key)[:20]}", source_id=source_id, kind=ObservationKind.DAMAGE,
            time=from_unix((lo_t + hi_t) / 2), time_sigma_s=(hi_t - lo_t) / 2,
            location=Location(lat=c.y, lon=c.x, err_major_m=half, err_minor_m=half, footprint=mapping(poly)),
            attributes={"damage_probability": r["damage_probability"], "footprint_id": fid,
                        "mean_z": r["mean_z"], "n_pixels": r["n_pixels"], "reference_images": res.n_ref,
                        "inspection_images": res.n_post, "last_reference": str(res.last_ref),
                        "first_inspection": str(res.first_post)},
        ))
    return obs


def attach_geometry(res: RadarResult, fc: dict[str, Any]) -> None:
    """Give each footprint record its lon/lat geometry (for observations and maps)."""

    feats = fc.get("features", []) if fc.get("type") == "FeatureCollection" else [fc]
    src = _fc_crs(fc)
    tr = None if src == "EPSG:4326" else Transformer.from_crs(src, "EPSG:4326", always_xy=True)
    by_id = {}
    for i, f in enumerate(feats):
        pr = f.get("properties") or {}
        g = f.get("geometry")
        if tr is not None and g:
            g = mapping(shapely.transform(shape(g), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))))
        by_id[str(pr.get("id", f.get("id", i)))] = g
    for r in res.footprints:
        r["_geometry"] = by_id.get(r["id"])


def radar_source(source_id: str = "sentinel1-change") -> Any:
    """The :class:`Source` for DAMAGE observations from this change detector."""
    return Source(id=source_id, kind=SourceKind.SATELLITE, name="Sentinel-1 C-band SAR change detection",
                  reliability=0.75, attributes={"sensor": "C-band SAR", "method": "pixel-wise t-test (Ballinger)"})
