"""Vessel tracks: positions grouped per MMSI and time-sorted, with identity from static messages.

All per-vessel work is done on the flat, (mmsi, t)-sorted columns with group
offsets, so that no stage loops over vessels in Python for the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trucewatch.geo import haversine_m
from trucewatch.sources.sea.nmea import Positions, StaticReport

#: ITU-R M.1371 "type of ship and cargo" (first digit / exact codes) to the categories
#: agreements bar (``barred_vessel_types``).
_EXACT = {30: "fishing", 31: "tug", 32: "tug", 33: "special", 34: "special", 35: "military", 36: "pleasure",
          37: "pleasure", 50: "pilot", 51: "sar", 52: "tug", 53: "special", 54: "special", 55: "law_enforcement",
          58: "special", 59: "special"}
_DECADE = {2: "wig", 4: "high_speed", 6: "passenger", 7: "cargo", 8: "tanker", 9: "other"}
#: Aliases accepted in an agreement's ``barred_vessel_types``.
ALIASES = {"naval": "military", "warship": "military", "navy": "military", "coast_guard": "law_enforcement"}


def vessel_category(ship_type: int | None) -> str:
    if not ship_type:
        return "unknown"
    if ship_type in _EXACT:
        return _EXACT[ship_type]
    return _DECADE.get(ship_type // 10, "other")


def flag_of(mmsi: int) -> str:
    """ISO country code of the MMSI's maritime identification digits (pyais's MID table)."""
    # lazy: pyais message classes load only when AIS is decoded
    from pyais.util import get_country

    code, _name = get_country(int(mmsi))
    return code if code != "NA" else "unknown"


@dataclass
class VesselInfo:
    mmsi: int
    name: str | None = None
    callsign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    category: str = "unknown"
    flag: str = "unknown"
    #: True when the category was given by a list of known naval MMSIs, not by the vessel.
    listed_naval: bool = False
    #: Static messages (5, 19, 24) heard from it: a vessel may send only these (no position).
    static_reports: int = 0


@dataclass
class Tracks:
    """Positions sorted by (mmsi, t) with per-vessel group offsets."""

    pos: Positions
    mmsis: np.ndarray  # unique, sorted
    starts: np.ndarray  # index of each vessel's first row
    ends: np.ndarray  # one past its last row
    vidx: np.ndarray  # vessel index of each row
    info: dict[int, VesselInfo] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.mmsis)

    def vessel(self, mmsi: int) -> VesselInfo:
        return self.info.get(int(mmsi)) or VesselInfo(int(mmsi), flag=flag_of(mmsi))

    def step_dt(self) -> np.ndarray:
        """Seconds since the vessel's previous report (nan at a vessel's first row)."""
        dt = np.empty(len(self.pos))
        dt[1:] = np.diff(self.pos.t)
        dt[self.starts] = np.nan
        return dt

    def step_dist_m(self) -> np.ndarray:
        d = np.empty(len(self.pos))
        d[1:] = haversine_m(self.pos.lat[:-1], self.pos.lon[:-1], self.pos.lat[1:], self.pos.lon[1:])
        d[self.starts] = np.nan
        return d

    def usual_interval_s(self) -> np.ndarray:
        """Per vessel: median seconds between reports (its usual reporting rate); nan with < 2 reports."""
        dt = self.step_dt()
        ok = np.isfinite(dt) & (dt > 0)
        out = np.full(len(self.mmsis), np.nan)
        if not ok.any():
            return out
        v = self.vidx[ok]
        d = dt[ok]
        order = np.lexsort((d, v))
        v, d = v[order], d[order]
        uv, first, counts = np.unique(v, return_index=True, return_counts=True)
        lo = first + (counts - 1) // 2
        hi = first + counts // 2
        out[uv] = (d[lo] + d[hi]) / 2
        return out

    def hours(self) -> float:
        """Vessel-hours covered (first to last timed report of each vessel; untimed reports add none)."""
        if not len(self.mmsis):
            return 0.0
        t = self.pos.t
        ok = np.isfinite(t)
        if not ok.any():
            return 0.0
        first = np.full(len(self.mmsis), np.nan)
        last = np.full(len(self.mmsis), np.nan)
        np.fmin.at(first, self.vidx[ok], t[ok])
        np.fmax.at(last, self.vidx[ok], t[ok])
        return float(np.nansum(last - first) / 3600.0)

    def static_only(self) -> list[VesselInfo]:
        """Vessels heard only through static messages (identity, no position), by MMSI."""
        have = set(self.mmsis.tolist())
        return [v for m, v in sorted(self.info.items()) if m not in have and v.static_reports > 0]

    def vessel_rows(self) -> list[dict]:
        """Every vessel heard: those with positions (``reports`` > 0), then the static-only ones."""
        fields = ("name", "callsign", "imo", "ship_type", "category", "flag")
        rows = [{"mmsi": int(m), "reports": int(self.ends[k] - self.starts[k]),
                 **{f: getattr(self.vessel(m), f) for f in fields}} for k, m in enumerate(self.mmsis)]
        rows += [{"mmsi": v.mmsi, "reports": 0, **{f: getattr(v, f) for f in fields}} for v in self.static_only()]
        return rows


def vessel_infos(statics: list[StaticReport], naval_mmsi: set[int] | None = None) -> dict[int, VesselInfo]:
    """Merge static reports per MMSI (latest non-empty value of each field wins)."""
    info: dict[int, VesselInfo] = {}
    for s in sorted(statics, key=lambda s: s.t):
        v = info.get(s.mmsi)
        if v is None:
            v = info[s.mmsi] = VesselInfo(s.mmsi, flag=flag_of(s.mmsi))
        v.static_reports += 1
        v.name = s.name or v.name
        v.callsign = s.callsign or v.callsign
        v.imo = s.imo or v.imo
        if s.ship_type:
            v.ship_type = s.ship_type
            v.category = vessel_category(s.ship_type)
    for m in naval_mmsi or ():
        v = info.get(int(m)) or VesselInfo(int(m), flag=flag_of(m))
        v.category = "military"
        v.listed_naval = True
        info[int(m)] = v
    return info


def build_tracks(positions: Positions, statics: list[StaticReport] | None = None,
                 naval_mmsi: set[int] | None = None) -> Tracks:
    """Sort by (mmsi, t), drop duplicate receptions of one report, and index the vessels.

    Reports whose time is unknown (NaN) follow a vessel's timed ones, in line order.
    """
    p = positions
    untimed = ~np.isfinite(p.t)
    order = np.lexsort((p.lon, p.lat, np.where(untimed, p.line, 0), np.where(untimed, np.inf, p.t), p.mmsi))
    p = p.take(order)
    if len(p) > 1:
        dup = np.zeros(len(p), bool)
        dup[1:] = (np.diff(p.mmsi) == 0) & (np.diff(p.t) == 0) & (np.diff(p.lat) == 0) & (np.diff(p.lon) == 0)
        if dup.any():
            p = p.take(~dup)
    mmsis, starts = np.unique(p.mmsi, return_index=True)
    ends = np.append(starts[1:], len(p)).astype(np.int64)
    vidx = np.repeat(np.arange(len(mmsis)), ends - starts)
    info = vessel_infos(statics or [], naval_mmsi)
    return Tracks(p, mmsis, starts.astype(np.int64), ends, vidx, info)
