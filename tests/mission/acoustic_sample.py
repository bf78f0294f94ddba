"""A tiny acoustic network for intake tests: six sensors 1-2 km around one impact,
arrival times from the locator's own speed of sound (no noise)."""

from __future__ import annotations

from pathlib import Path

from pyproj import Geod

from trucewatch.sources.acoustic.associate import LocateConfig


def write_acoustic(d: Path, t0: float = 1773568800.0) -> tuple[Path, Path]:
    d.mkdir(parents=True, exist_ok=True)
    lat0, lon0 = 48.30, 37.20
    c = LocateConfig().c
    geod = Geod(ellps="WGS84")
    rows = ["sensor_id,lat,lon,alt_m,clock_sigma_s"]
    arr = ["arrival_id,sensor_id,time_unix_s,snr_db,kind_hint,bearing_deg"]
    for i, (r, az) in enumerate([(1200, 0), (1500, 60), (1300, 130), (1800, 200), (1600, 260), (1100, 320)]):
        lon, lat, _ = geod.fwd(lon0, lat0, az, r)
        rows.append(f"s{i},{lat:.7f},{lon:.7f},0.0,0.002")
        arr.append(f"a{i},s{i},{t0 + r / c:.6f},30.0,impact,")
    (d / "sensors.csv").write_text("\n".join(rows) + "\n")
    (d / "arrivals.csv").write_text("\n".join(arr) + "\n")
    return d / "sensors.csv", d / "arrivals.csv"
