"""Launch-impact pairing and which side of the line each end is on.

A launch pairs with a later impact when the time of flight fits the range
for tube or rocket artillery: between range/1200 m/s and range/150 m/s + 20 s,
scored against a typical 10 s + 2.5 s/km.  Pairs are chosen greedily by that
score, each fix used at most once.  With an agreement, each end gets its
party's side; an end whose 95 % ellipse reaches across the contact line is
``undetermined`` (the fusion/adjudication stage makes the final call; this
only says what the acoustic geometry can and cannot support).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import shapely

from trucewatch.agreement import Agreement
from trucewatch.geo import haversine_m
from trucewatch.model import UNDETERMINED
from trucewatch.sources.acoustic.pipeline import Fix

V_MIN_MS = 150.0
V_MAX_MS = 1200.0
TOF_SLACK_S = 20.0
MIN_RANGE_M = 300.0
MAX_RANGE_M = 100_000.0


@dataclass
class Pair:
    pair_id: str
    launch_id: str
    impact_id: str
    tof_s: float
    range_m: float
    launch_side: str | None = None  # party code, "undetermined", or "" outside every party's area
    impact_side: str | None = None
    #: True/False when both ends are clear of the line; None when an ellipse straddles it.
    across_line: bool | None = None
    #: The launching side for fire across the line, "undetermined" when the launch ellipse straddles.
    attribution: str | None = None
    launch_distance_to_line_m: float | None = None
    launch_err_major_m: float | None = None
    launch_zone_ids: list[str] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _expected_tof(r_m: np.ndarray) -> np.ndarray:
    return 10.0 + 2.5 * r_m / 1000.0


def pair_fixes(fixes: list[Fix], agreement: Agreement | None = None) -> list[Pair]:
    """Pair launches with impacts; with ``agreement``, add sides, straddling and zones."""
    L = [f for f in fixes if f.kind == "launch"]
    IMP = [f for f in fixes if f.kind in ("impact", "explosion")]
    if not L or not IMP:
        return []
    lt = np.array([f.time_unix_s for f in L])
    it = np.array([f.time_unix_s for f in IMP])
    io = np.argsort(it)
    it_s = it[io]
    lo = np.searchsorted(it_s, lt + MIN_RANGE_M / V_MAX_MS)
    hi = np.searchsorted(it_s, lt + MAX_RANGE_M / V_MIN_MS + TOF_SLACK_S, side="right")
    cnt = np.maximum(hi - lo, 0)
    li = np.repeat(np.arange(len(L)), cnt)
    ii = io[np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(cnt.sum())]
    if li.size == 0:
        return []
    llat = np.array([f.lat for f in L])
    llon = np.array([f.lon for f in L])
    ilat = np.array([f.lat for f in IMP])
    ilon = np.array([f.lon for f in IMP])
    r = haversine_m(llat[li], llon[li], ilat[ii], ilon[ii])
    tof = it[ii] - lt[li]
    ok = (r >= MIN_RANGE_M) & (r <= MAX_RANGE_M) & (tof >= r / V_MAX_MS) & (tof <= r / V_MIN_MS + TOF_SLACK_S)
    exp = _expected_tof(r)
    cost = np.abs(tof - exp) / (0.35 * exp + 5.0)
    # an impact whose kind was not heard (explosion) is a weaker candidate
    cost = cost + 0.3 * np.array([IMP[j].kind == "explosion" for j in ii])
    li, ii, r, tof, cost = li[ok], ii[ok], r[ok], tof[ok], cost[ok]
    used_l = np.zeros(len(L), bool)
    used_i = np.zeros(len(IMP), bool)
    pairs: list[Pair] = []
    for k in np.argsort(cost, kind="stable"):
        a, b = li[k], ii[k]
        if used_l[a] or used_i[b]:
            continue
        used_l[a] = used_i[b] = True
        pid = "pair-" + hashlib.sha256(f"{L[a].id}|{IMP[b].id}".encode()).hexdigest()[:16]
        pairs.append(Pair(pid, L[a].id, IMP[b].id, float(tof[k]), float(r[k])))
    if agreement is not None and pairs:
        by_id = {f.id: f for f in fixes}
        attribute_pairs(pairs, by_id, agreement)
    t_of = {f.id: f.time_unix_s for f in L}
    pairs.sort(key=lambda p: t_of[p.launch_id])
    return pairs


def straddles(agreement: Agreement, lat: np.ndarray, lon: np.ndarray, major: np.ndarray, minor: np.ndarray,
              angle_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Whether each 95 % ellipse reaches across the contact line; and the centre's distance to it (m)."""
    lat, lon = np.atleast_1d(lat), np.atleast_1d(lon)
    major, minor, angle_deg = np.atleast_1d(major), np.atleast_1d(minor), np.atleast_1d(angle_deg)
    dist = np.asarray(agreement.distance_to_line_m(lat, lon), float)
    out = dist <= minor  # surely crosses
    maybe = np.flatnonzero((dist <= major) & ~out)
    if maybe.size:
        e, n = agreement.frame.to_en(lat[maybe], lon[maybe])
        t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        th = np.radians(90.0 - angle_deg[maybe])[:, None]
        x = major[maybe][:, None] * np.cos(t)[None]
        y = minor[maybe][:, None] * np.sin(t)[None]
        pe = e[:, None] + x * np.cos(th) - y * np.sin(th)
        pn = n[:, None] + x * np.sin(th) + y * np.cos(th)
        polys = shapely.polygons(np.stack([pe, pn], axis=-1))
        out[maybe] = shapely.intersects(polys, agreement.line_en)
    return out, dist


def attribute_pairs(pairs: list[Pair], by_id: dict[str, Fix], agreement: Agreement) -> None:
    """Fill sides, straddling, attribution and withdrawal zones of the launch, in place."""
    Ls = [by_id[p.launch_id] for p in pairs]
    Is = [by_id[p.impact_id] for p in pairs]

    def cols(fs: list[Fix]) -> tuple[np.ndarray, ...]:
        return tuple(np.array([getattr(f, k) for f in fs], float)
                     for k in ("lat", "lon", "err_major_m", "err_minor_m", "err_angle_deg"))

    lla, llo, lma, lmi, lan = cols(Ls)
    ila, ilo, ima, imi, ian = cols(Is)
    l_side = agreement.side_of(lla, llo)
    i_side = agreement.side_of(ila, ilo)
    l_str, l_dist = straddles(agreement, lla, llo, lma, lmi, lan)
    i_str, _ = straddles(agreement, ila, ilo, ima, imi, ian)
    zones = agreement.zones_containing(lla, llo)
    for k, p in enumerate(pairs):
        p.launch_side = UNDETERMINED if l_str[k] else str(l_side[k])
        p.impact_side = UNDETERMINED if i_str[k] else str(i_side[k])
        p.launch_distance_to_line_m = float(l_dist[k])
        p.launch_err_major_m = float(lma[k])
        p.launch_zone_ids = [z.id for z, m in zones if m[k]]
        if l_str[k] or i_str[k]:
            p.across_line = None
        else:
            p.across_line = bool(l_side[k] and i_side[k] and l_side[k] != i_side[k])
        if l_str[k]:
            p.attribution = UNDETERMINED
        elif p.across_line is not False and l_side[k]:
            p.attribution = str(l_side[k])
        else:
            p.attribution = None


def launch_zones(fixes: list[Fix], agreement: Agreement | None) -> dict[str, list[str]]:
    """Zone ids holding each launch fix's centre (a launch inside a withdrawal zone is a heavy weapon there)."""
    L = [f for f in fixes if f.kind == "launch"]
    if not L or agreement is None:
        return {}
    zones = agreement.zones_containing(np.array([f.lat for f in L]), np.array([f.lon for f in L]))
    return {f.id: [z.id for z, m in zones if m[k]] for k, f in enumerate(L)}
