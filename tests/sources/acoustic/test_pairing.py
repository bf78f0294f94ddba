"""Launch-impact pairing and sides of the line, including a launch whose ellipse straddles it."""

from __future__ import annotations

import numpy as np
import shapely

from trucewatch.model import UNDETERMINED
from trucewatch.sources.acoustic.pairing import pair_fixes, straddles
from trucewatch.sources.acoustic.pipeline import Fix


def _on_line(agreement, frac: float, offset_m: float) -> tuple[float, float]:
    """A point ``offset_m`` to the left (+) or right (-) of the main contact line at ``frac`` of its length."""
    parts = list(agreement.line_en.geoms) if hasattr(agreement.line_en, "geoms") else [agreement.line_en]
    line = max(parts, key=lambda p: p.length)
    s = frac * line.length
    p, q = shapely.line_interpolate_point(line, s), shapely.line_interpolate_point(line, s + 50)
    tx, ty = q.x - p.x, q.y - p.y
    nr = np.hypot(tx, ty)
    lat, lon = agreement.frame.to_latlon(p.x - ty / nr * offset_m, p.y + tx / nr * offset_m)
    return float(lat), float(lon)


def _fix(fid: str, kind: str, t: float, lat: float, lon: float, err: float) -> Fix:
    return Fix(fid, t, lat, lon, err, err * 0.6, 30.0, 8, [], [fid], kind, 0.001, err, 0.001, 5.0, 0.5)


def test_pairs_sides_and_undetermined_near_the_line(agreement) -> None:
    t = 1_773_532_800.0
    far_l = _on_line(agreement, 0.4, 6000.0)
    far_i = _on_line(agreement, 0.4, -9000.0)
    near_l = _on_line(agreement, 0.6, 150.0)  # 150 m from the line with a 400 m ellipse: straddles
    near_i = _on_line(agreement, 0.6, -12000.0)
    r1 = float(np.hypot(6000 + 9000, 0))
    r2 = float(np.hypot(150 + 12000, 0))
    fixes = [
        _fix("L1", "launch", t, *far_l, 30.0),
        _fix("I1", "impact", t + 10 + 2.5 * r1 / 1000, *far_i, 30.0),
        _fix("L2", "launch", t + 5, *near_l, 400.0),
        _fix("I2", "impact", t + 5 + 10 + 2.5 * r2 / 1000, *near_i, 30.0),
        _fix("I3", "impact", t + 2000, *far_i, 30.0),  # nothing fits its timing
    ]
    pairs = {p.launch_id: p for p in pair_fixes(fixes, agreement)}
    assert set(pairs) == {"L1", "L2"}
    p1, p2 = pairs["L1"], pairs["L2"]
    assert p1.impact_id == "I1" and p2.impact_id == "I2"
    s_l = agreement.side_of(np.array([far_l[0]]), np.array([far_l[1]]))[0]
    s_i = agreement.side_of(np.array([far_i[0]]), np.array([far_i[1]]))[0]
    assert s_l and s_i and s_l != s_i
    assert p1.launch_side == s_l and p1.impact_side == s_i and p1.across_line is True and p1.attribution == s_l
    assert p2.launch_side == UNDETERMINED and p2.attribution == UNDETERMINED and p2.across_line is None
    assert p2.launch_distance_to_line_m < 400.0


def test_straddle_uses_the_ellipse_orientation(agreement) -> None:
    lat, lon = _on_line(agreement, 0.5, 300.0)
    # a long thin ellipse: straddles when its major axis points across the line, not along it
    parts = list(agreement.line_en.geoms) if hasattr(agreement.line_en, "geoms") else [agreement.line_en]
    line = max(parts, key=lambda p: p.length)
    p, q = shapely.line_interpolate_point(line, 0.5 * line.length), shapely.line_interpolate_point(line, 0.5 * line.length + 50)
    along = (90.0 - np.degrees(np.arctan2(q.y - p.y, q.x - p.x))) % 180.0
    across = (along + 90.0) % 180.0
    s, d = straddles(agreement, np.array([lat, lat]), np.array([lon, lon]), np.array([600.0, 600.0]),
                     np.array([50.0, 50.0]), np.array([along, across]))
    assert abs(d[0] - 300.0) < 30.0
    assert not s[0] and s[1]
