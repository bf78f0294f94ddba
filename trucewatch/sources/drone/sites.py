"""Declared storage sites and their inventories, checked on each covered visit.

Sites file (YAML or JSON, docs/drone.md)::

    sites:
      - id: ps-07
        name: Permanent storage site 7
        party: UA
        kind: permanent_storage        # or holding_area
        lat: 48.10
        lon: 37.61
        radius_m: 150                   # or polygon: [[lon, lat], ...]
        inventory:
          - {class: self_propelled_artillery, count: 6}
          - {class: tank, serials: [A-101, A-102]}   # count defaults to len(serials)

A visit is one flight that looked at the site.  Per class: *covered* when at
least ``COVERED_FRACTION`` of the site was seen at the class's required ground
resolution by trusted frames; then *present* (seen >= declared) or *missing*
(covered, fewer seen); otherwise *unverifiable*.  Seen = non-tentative
sightings of that class inside the site.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml

from trucewatch.errors import TruceWatchError
from trucewatch.geo import LocalFrame
from trucewatch.model import Observation
from trucewatch.sources.drone.coverage import FrameSet, required_gsd

COVERED_FRACTION = 0.9
GRID_POINTS = 120


@dataclass
class InventoryItem:
    cls: str
    count: int
    serials: list[str] = field(default_factory=list)


@dataclass
class Site:
    id: str
    name: str
    party: str | None
    kind: str
    lat: float
    lon: float
    polygon: Any  # shapely Polygon, WGS84
    inventory: list[InventoryItem]


class SitesError(TruceWatchError, ValueError):
    def __init__(self, file: str, problems: list[str]) -> None:
        super().__init__(f"{file}: " + "; ".join(problems))
        self.problems = problems


def load_sites(path: str | Path) -> list[Site]:
    """Read a sites file; raise SitesError naming every bad site and field."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SitesError(str(path), [f"cannot read: {exc}"]) from None
    except RecursionError:
        raise SitesError(str(path), ["cannot read: nested too deeply"]) from None
    except (ValueError, OverflowError) as exc:  # PyYAML's int and timestamp constructors
        raise SitesError(str(path), [f"cannot read: {str(exc)[:120]}"]) from None
    return parse_sites(doc, str(path))


def parse_sites(doc: Any, name: str = "sites") -> list[Site]:
    problems: list[str] = []
    items = doc.get("sites") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise SitesError(name, ["expected a mapping with a 'sites' list"])
    out: list[Site] = []
    seen: set[str] = set()
    for i, s in enumerate(items):
        where = f"sites[{i}]"
        if not isinstance(s, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        sid = s.get("id")
        if not isinstance(sid, str) or not sid:
            problems.append(f"{where}.id: missing")
            continue
        if sid in seen:
            problems.append(f"{where}.id: duplicate site {sid!r}")
        seen.add(sid)
        try:
            if "polygon" in s:
                ring = np.asarray(s["polygon"], float)
                if ring.ndim != 2 or ring.shape[1] != 2 or len(ring) < 3:
                    raise ValueError("polygon: expected [[lon, lat], ...] with 3+ points")
                poly = shapely.Polygon(ring)
                if not poly.is_valid or poly.area == 0:
                    raise ValueError("polygon: not a valid polygon")
                c = poly.centroid
                lat, lon = c.y, c.x
            else:
                lat, lon, r = float(s["lat"]), float(s["lon"]), float(s.get("radius_m", 100))
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError(f"lat/lon: {lat},{lon} is off the globe")
                if not 1 <= r <= 20_000:
                    raise ValueError(f"radius_m: {r} is not between 1 and 20000")
                fr = LocalFrame(lat, lon)
                poly = fr.geom_to_latlon(shapely.Point(*fr.to_en(lat, lon)).buffer(r, quad_segs=16))
            inv = []
            for j, it in enumerate(s.get("inventory") or []):
                if not isinstance(it, dict) or not isinstance(it.get("class"), str):
                    raise ValueError(f"inventory[{j}].class: missing")
                serials = [str(x) for x in it.get("serials") or []]
                count = it.get("count", len(serials))
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise ValueError(f"inventory[{j}].count: {count!r} is not a whole number >= 0")
                if serials and count < len(serials):
                    raise ValueError(f"inventory[{j}].count: {count} is below the {len(serials)} serials listed")
                inv.append(InventoryItem(it["class"].strip().lower(), count, serials))
        except (KeyError, TypeError, ValueError) as exc:
            msg = str(exc) if not isinstance(exc, KeyError) else f"{exc.args[0]}: missing"
            problems.append(f"{where} ({sid}).{msg}")
            continue
        out.append(Site(sid, str(s.get("name", sid)), s.get("party"), str(s.get("kind", "permanent_storage")),
                        float(lat), float(lon), poly, inv))
    if problems:
        raise SitesError(name, problems)
    return out


def _grid(site: Site, n: int = GRID_POINTS) -> tuple[np.ndarray, np.ndarray]:
    fr = LocalFrame(site.lat, site.lon)
    poly = fr.geom_to_en(site.polygon)
    x0, y0, x1, y1 = poly.bounds
    step = math.sqrt(poly.area / n)
    gx, gy = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
    xs, ys = gx.ravel(), gy.ravel()
    keep = shapely.contains_xy(poly, xs, ys)
    if not keep.any():
        xs, ys, keep = np.array([0.0]), np.array([0.0]), np.array([True])
    lat, lon = fr.to_latlon(xs[keep], ys[keep])
    return np.atleast_1d(lat), np.atleast_1d(lon)


def check_sites(sites: list[Site], framesets: list[FrameSet], sightings: list[Observation],
                t1: float = -math.inf, t2: float = math.inf) -> list[dict[str, Any]]:
    """One record per (site, visit, class): declared, seen, status."""
    out: list[dict[str, Any]] = []
    slat = np.array([o.location.lat for o in sightings]) if sightings else np.zeros(0)
    slon = np.array([o.location.lon for o in sightings]) if sightings else np.zeros(0)
    for site in sites:
        glat, glon = _grid(site)
        inside_site = shapely.contains_xy(site.polygon, slon, slat) if len(slat) else np.zeros(0, bool)
        for fs in framesets:
            any_seen, best, _ = fs.seen(glat, glon, t1, t2, max_gsd=math.inf)
            if not any_seen.any():
                continue  # not a visit
            sel = np.isfinite(best)
            in_win = fs.t[(fs.t >= t1) & (fs.t <= t2)]
            for item in site.inventory:
                need = required_gsd(item.cls)
                frac = float(np.mean(best <= need))
                mine = [o for k, o in enumerate(sightings) if inside_site[k] and o.attributes.get("flight_id") == fs.flight_id
                        and o.attributes.get("weapon_class") == item.cls and not o.attributes.get("tentative")]
                seen_n = sum(int(o.attributes.get("count", 1)) for o in mine)
                serials_seen = sorted({s for o in mine for s in o.attributes.get("serials", [])})
                if frac < COVERED_FRACTION:
                    status = "unverifiable"
                elif seen_n >= item.count:
                    status = "present"
                else:
                    status = "missing"
                rec = {"site_id": site.id, "site_name": site.name, "party": site.party, "kind": site.kind,
                       "flight_id": fs.flight_id, "source_id": fs.source_id,
                       "visit_from": float(in_win.min()) if in_win.size else None,
                       "visit_to": float(in_win.max()) if in_win.size else None,
                       "class": item.cls, "declared": item.count, "seen": seen_n, "status": status,
                       "missing": max(item.count - seen_n, 0) if status == "missing" else 0,
                       "excess": max(seen_n - item.count, 0), "covered_fraction": round(frac, 3),
                       "best_gsd_m": round(float(np.min(best[sel])), 3) if sel.any() else None,
                       "required_gsd_m": need, "sighting_ids": [o.id for o in mine]}
                if item.serials and serials_seen:
                    rec["serials_missing"] = sorted(set(item.serials) - set(serials_seen))
                    rec["serials_undeclared"] = sorted(set(serials_seen) - set(item.serials))
                out.append(rec)
    return out


def sites_to_json(sites: list[Site]) -> str:
    return json.dumps([{"id": s.id, "name": s.name, "party": s.party, "kind": s.kind, "lat": s.lat, "lon": s.lon,
                        "inventory": [{"class": i.cls, "count": i.count, "serials": i.serials} for i in s.inventory]}
                       for s in sites])
