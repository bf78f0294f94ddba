"""The agreement at run time: the line, each side, the zones, the objects and
the rules, with vectorized queries (which side, how far from the line, which
zone) for adjudication.

Geometry lives in one azimuthal equidistant frame centred on the contact line
(see trucewatch.geo); zones that the file does not give explicitly are derived
by buffering the line by the weapon class's distance and keeping the part on
each party's side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import split

from trucewatch.agreement.spec import (
    AgreementError,
    AgreementProblem,
    AgreementSpec,
    load_spec,
    read_geojson,
)
from trucewatch.geo import LocalFrame, haversine_m
from trucewatch.model import Rule, to_utc

#: Only territory within this distance of the line is considered for a side
#: decided by ``left_party`` (far from the line, left/right means nothing).
LEFT_RIGHT_MAX_M = 300_000.0


@dataclass
class Zone:
    id: str
    kind: str
    party: str | None
    geometry: BaseGeometry  # WGS84
    geometry_en: BaseGeometry  # local frame
    distance_km: float | None = None
    weapon_class: str | None = None
    barred_vessel_types: list[str] = field(default_factory=list)
    derived: bool = False
    description: str = ""


@dataclass
class ProtectedObject:
    id: str
    name: str
    category: str
    lat: float
    lon: float
    radius_m: float
    party: str | None


@dataclass
class WeaponClass:
    id: str
    distance_km: float  # from the line, on each side
    includes: list[str]
    description: str = ""


def _geometry_from_geojson(obj: dict[str, Any]) -> BaseGeometry:
    if obj.get("type") == "FeatureCollection":
        geoms = [shape(f["geometry"]) for f in obj.get("features", []) if f.get("geometry")]
        return shapely.union_all(geoms) if geoms else shapely.GeometryCollection()
    if obj.get("type") == "Feature":
        return shape(obj["geometry"])
    return shape(obj)


class Agreement:
    """A loaded, checked agreement.  Build with :func:`load_agreement`."""

    def __init__(self, spec: AgreementSpec, base: Path, *, source_file: str = "") -> None:
        self.spec = spec
        self.source_file = source_file
        self.id = spec.id
        self.name = spec.name
        self.parties = [p.id for p in spec.parties]
        self.start = to_utc(spec.start)
        self.end = to_utc(spec.end) if spec.end else None
        self.domains = list(spec.domains)
        self.rules = list(spec.rules)
        problems: list[AgreementProblem] = []
        self._check_references(problems)

        line_obj, ps = read_geojson(spec.contact_line, base, "contact_line")
        problems += ps
        self.contact_line: BaseGeometry = shapely.MultiLineString()
        if line_obj is not None:
            try:
                geom = _geometry_from_geojson(line_obj)
            except Exception as exc:  # shapely raises several types for bad GeoJSON
                problems.append(AgreementProblem("contact_line", f"not a geometry: {exc}"))
            else:
                problems += self._check_line(geom)
                if not problems:
                    self.contact_line = geom
        if problems:
            raise AgreementError(source_file, problems)

        self.frame = LocalFrame(self.contact_line.centroid.y, self.contact_line.centroid.x)
        self.line_en = self.frame.geom_to_en(self.contact_line)
        shapely.prepare(self.line_en)

        self.areas: dict[str, BaseGeometry] = {}
        self.areas_en: dict[str, BaseGeometry] = {}
        if spec.areas is not None:
            obj, ps = read_geojson(spec.areas, base, "areas")
            problems += ps
            if obj is not None:
                problems += self._load_areas(obj)
        elif spec.left_party is None:
            problems.append(AgreementProblem("areas", "give either areas (each party's controlled area) or left_party"))
        if spec.end is not None and spec.end <= spec.start:
            problems.append(AgreementProblem("end", f"end {spec.end.isoformat()} is not after start {spec.start.isoformat()}"))

        self.weapon_classes: dict[str, WeaponClass] = {}
        for wid, w in spec.weapon_classes.items():
            if (w.width_km is None) == (w.distance_km is None):
                problems.append(AgreementProblem(f"weapon_classes.{wid}", "give exactly one of width_km or distance_km"))
                continue
            dist = w.distance_km if w.distance_km is not None else w.width_km / 2  # type: ignore[operator]
            self.weapon_classes[wid] = WeaponClass(wid, float(dist), list(w.includes) or [wid], w.description)

        self.protected = [
            ProtectedObject(p.id, p.name, p.category, p.lat, p.lon, p.radius_m, p.party) for p in spec.protected_objects
        ]
        for i, p in enumerate(spec.protected_objects):
            if not (-90 <= p.lat <= 90 and -180 <= p.lon <= 180):
                problems.append(AgreementProblem(f"protected_objects[{i}]", f"position {p.lat},{p.lon} is off the globe"))
        self.zones: list[Zone] = []
        if not problems:
            problems += self._build_zones(base)
        if problems:
            raise AgreementError(source_file, problems)

    # ------------------------------------------------------------------ checks
    def _check_references(self, problems: list[AgreementProblem]) -> None:
        spec = self.spec
        seen: set[str] = set()
        for i, p in enumerate(spec.parties):
            if p.id in seen:
                problems.append(AgreementProblem(f"parties[{i}].id", f"duplicate party {p.id}"))
            seen.add(p.id)
        known = set(self.parties)
        for i, z in enumerate(spec.zones):
            if z.party is not None and z.party not in known:
                problems.append(AgreementProblem(f"zones[{i}].party", f"unknown party {z.party!r}"))
            if z.weapon_class is not None and z.weapon_class not in spec.weapon_classes:
                problems.append(AgreementProblem(f"zones[{i}].weapon_class", f"unknown weapon class {z.weapon_class!r}"))
            if z.geometry is None and z.distance_km is None and z.weapon_class is None and z.kind != "buffer":
                problems.append(AgreementProblem(f"zones[{i}].geometry", "a zone needs a geometry, a distance_km or a weapon_class"))
        for i, po in enumerate(spec.protected_objects):
            if po.party is not None and po.party not in known:
                problems.append(AgreementProblem(f"protected_objects[{i}].party", f"unknown party {po.party!r}"))
        if spec.left_party is not None and spec.left_party not in known:
            problems.append(AgreementProblem("left_party", f"unknown party {spec.left_party!r}"))
        ids = [r.id for r in spec.rules]
        for i, rid in enumerate(ids):
            if ids.index(rid) != i:
                problems.append(AgreementProblem(f"rules[{i}].id", f"duplicate rule id {rid}"))

    @staticmethod
    def _check_line(geom: BaseGeometry) -> list[AgreementProblem]:
        if geom.geom_type not in ("LineString", "MultiLineString"):
            return [AgreementProblem("contact_line", f"expected LineString or MultiLineString, got {geom.geom_type}")]
        if geom.is_empty:
            return [AgreementProblem("contact_line", "the line is empty")]
        coords = shapely.get_coordinates(geom)
        bad = np.flatnonzero((np.abs(coords[:, 1]) > 90) | (np.abs(coords[:, 0]) > 180) | ~np.isfinite(coords).all(axis=1))
        if bad.size:
            return [AgreementProblem(f"contact_line.coordinates[{int(bad[0])}]", f"{coords[bad[0]].tolist()} is off the globe (lon, lat order?)")]
        out = []
        parts = list(geom.geoms) if geom.geom_type == "MultiLineString" else [geom]
        for i, part in enumerate(parts):
            if not part.is_simple:
                where = f"contact_line.coordinates[{i}]" if len(parts) > 1 else "contact_line"
                out.append(AgreementProblem(where, "the line intersects itself"))
        return out

    def _load_areas(self, obj: dict[str, Any]) -> list[AgreementProblem]:
        problems = []
        feats = obj.get("features") if obj.get("type") == "FeatureCollection" else None
        if not isinstance(feats, list):
            return [AgreementProblem("areas", "expected a FeatureCollection with properties.party on each feature")]
        by_party: dict[str, list[BaseGeometry]] = {}
        for i, f in enumerate(feats):
            party = (f.get("properties") or {}).get("party")
            if party not in self.parties:
                problems.append(AgreementProblem(f"areas.features[{i}].properties.party", f"unknown party {party!r}"))
                continue
            try:
                g = shape(f["geometry"])
            except Exception as exc:
                problems.append(AgreementProblem(f"areas.features[{i}].geometry", f"not a geometry: {exc}"))
                continue
            if not g.is_valid:
                g = shapely.make_valid(g)
            by_party.setdefault(party, []).append(g)
        for party, geoms in by_party.items():
            area = shapely.union_all(geoms)
            self.areas[party] = area
            en = self.frame.geom_to_en(area)
            shapely.prepare(en)
            self.areas_en[party] = en
        return problems

    def _build_zones(self, base: Path) -> list[AgreementProblem]:
        problems: list[AgreementProblem] = []
        spec = self.spec
        for i, z in enumerate(spec.zones):
            if z.geometry is not None:
                obj, ps = read_geojson(z.geometry, base, f"zones[{i}].geometry")
                problems += ps
                if obj is None:
                    continue
                try:
                    g = _geometry_from_geojson(obj)
                except Exception as exc:
                    problems.append(AgreementProblem(f"zones[{i}].geometry", f"not a geometry: {exc}"))
                    continue
                g_en = self.frame.geom_to_en(g)
                if z.party is not None and z.kind == "withdrawal":
                    on_side = self._share_on_side(g_en, z.party)
                    if on_side < 0.9:
                        problems.append(AgreementProblem(
                            f"zones[{i}]", f"withdrawal zone for {z.party} lies {100 * (1 - on_side):.0f}% on another side of the line"))
                self.zones.append(Zone(z.id, z.kind, z.party, g, g_en, z.distance_km, z.weapon_class,
                                       list(z.barred_vessel_types), False, z.description))
                continue
            dist_km = z.distance_km
            if dist_km is None and z.weapon_class is not None:
                dist_km = self.weapon_classes[z.weapon_class].distance_km
            if dist_km is None and z.kind == "buffer":
                dist_km = spec.buffer_zone_km
            if dist_km is None:
                problems.append(AgreementProblem(f"zones[{i}].distance_km", "cannot derive the zone: no distance"))
                continue
            parties = [z.party] if z.party else [None]
            for party in parties:
                g_en = self.derive_zone_en(dist_km, party)
                self.zones.append(Zone(z.id, z.kind, party, self.frame.geom_to_latlon(g_en), g_en, dist_km,
                                       z.weapon_class, list(z.barred_vessel_types), True, z.description))
        # Withdrawal zones implied by the weapon classes, per party, when not listed.
        listed = {(z.weapon_class, z.party) for z in self.zones if z.kind == "withdrawal"}
        for wid, w in self.weapon_classes.items():
            for party in self.parties:
                if (wid, party) in listed or (wid, None) in listed:
                    continue
                g_en = self.derive_zone_en(w.distance_km, party)
                self.zones.append(Zone(f"withdrawal-{wid}-{party}", "withdrawal", party, self.frame.geom_to_latlon(g_en),
                                       g_en, w.distance_km, wid, [], True, f"{wid}: {w.distance_km:g} km from the line"))
        if spec.buffer_zone_km and not any(z.kind == "buffer" for z in self.zones):
            g_en = self.derive_zone_en(spec.buffer_zone_km, None)
            self.zones.append(Zone("buffer", "buffer", None, self.frame.geom_to_latlon(g_en), g_en, spec.buffer_zone_km,
                                   None, [], True, f"{spec.buffer_zone_km:g} km each side of the line"))
        for zone in self.zones:
            shapely.prepare(zone.geometry_en)
        return problems

    def _share_on_side(self, g_en: BaseGeometry, party: str) -> float:
        if party in self.areas_en:
            if g_en.area == 0:
                return 1.0
            return float(g_en.intersection(self.areas_en[party]).area / g_en.area)
        pts = shapely.get_coordinates(g_en)
        sides = self._left_right_side(pts[:, 0], pts[:, 1])
        return float(np.mean(sides == party)) if len(pts) else 1.0

    def derive_zone_en(self, distance_km: float, party: str | None) -> BaseGeometry:
        """Buffer the line by ``distance_km`` and keep ``party``'s side (local frame)."""
        buf = shapely.buffer(self.line_en, distance_km * 1000.0, quad_segs=8)
        if party is None:
            return buf
        if party in self.areas_en:
            return shapely.intersection(buf, self.areas_en[party])
        # left/right: split the buffer by the line and keep pieces on that side
        pieces = list(split(buf, _extended(self.line_en, distance_km * 1500.0)).geoms)
        keep = []
        for p in pieces:
            rp = p.representative_point()
            if self._left_right_side(np.array([rp.x]), np.array([rp.y]))[0] == party:
                keep.append(p)
        return shapely.union_all(keep) if keep else shapely.Polygon()

    # ----------------------------------------------------------------- queries
    def _left_right_side(self, e: np.ndarray, n: np.ndarray) -> np.ndarray:
        pts = shapely.points(e, n)
        d = shapely.line_locate_point(self.line_en, pts)
        length = self.line_en.length
        a = shapely.line_interpolate_point(self.line_en, np.clip(d - 5.0, 0, length))
        b = shapely.line_interpolate_point(self.line_en, np.clip(d + 5.0, 0, length))
        ax, ay = shapely.get_x(a), shapely.get_y(a)
        bx, by = shapely.get_x(b), shapely.get_y(b)
        cross = (bx - ax) * (n - ay) - (by - ay) * (e - ax)
        left = self.spec.left_party
        other = next((p for p in self.parties if p != left), "")
        out = np.where(cross > 0, np.array(left, dtype=object), other).astype(object)  # left may be None
        far = shapely.distance(self.line_en, pts) > LEFT_RIGHT_MAX_M
        out[far] = ""
        return out

    def side_of(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Party whose side each point is on; ``""`` outside every party's area."""
        e, n = self.frame.to_en(np.atleast_1d(lat), np.atleast_1d(lon))
        if not self.areas_en:
            return self._left_right_side(e, n)
        out = np.full(e.shape, "", dtype=object)
        for party, area in self.areas_en.items():
            inside = shapely.contains_xy(area, e, n)
            out[inside & (out == "")] = party
        return out

    def distance_to_line_m(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        e, n = self.frame.to_en(np.atleast_1d(lat), np.atleast_1d(lon))
        return shapely.distance(self.line_en, shapely.points(e, n))

    def weapon_class_of(self, sighting_class: str) -> WeaponClass | None:
        for w in self.weapon_classes.values():
            if sighting_class == w.id or sighting_class in w.includes:
                return w
        return None

    def zones_containing(self, lat: np.ndarray, lon: np.ndarray, kind: str | None = None) -> list[tuple[Zone, np.ndarray]]:
        e, n = self.frame.to_en(np.atleast_1d(lat), np.atleast_1d(lon))
        return [(z, shapely.contains_xy(z.geometry_en, e, n)) for z in self.zones if kind is None or z.kind == kind]

    def nearest_protected(self, lat: np.ndarray, lon: np.ndarray, category: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Index into ``self.protected`` of the nearest object (-1 if none) and its distance in m."""
        lat = np.atleast_1d(np.asarray(lat, float))
        lon = np.atleast_1d(np.asarray(lon, float))
        objs = [i for i, p in enumerate(self.protected) if not category or p.category in category]
        if not objs:
            return np.full(lat.shape, -1), np.full(lat.shape, np.inf)
        plat = np.array([self.protected[i].lat for i in objs])
        plon = np.array([self.protected[i].lon for i in objs])
        d = haversine_m(lat[:, None], lon[:, None], plat[None, :], plon[None, :])
        j = np.argmin(d, axis=1)
        return np.asarray(objs)[j], d[np.arange(len(lat)), j]

    def rules_of(self, kind: Rule) -> list:
        return [r for r in self.rules if r.kind == kind]

    def active(self, t: datetime) -> bool:
        t = to_utc(t)
        return t >= self.start and (self.end is None or t < self.end)

    def to_geojson(self) -> dict[str, Any]:
        """Line, areas, zones and protected objects as one FeatureCollection (for maps)."""
        feats: list[dict[str, Any]] = [
            {"type": "Feature", "properties": {"layer": "contact_line"}, "geometry": mapping(self.contact_line)}
        ]
        for z in self.zones:
            feats.append({"type": "Feature", "geometry": mapping(shapely.set_precision(z.geometry, 1e-5)), "properties": {
                "layer": "zone", "id": z.id, "kind": z.kind, "party": z.party, "weapon_class": z.weapon_class,
                "distance_km": z.distance_km, "derived": z.derived}})
        for p in self.protected:
            feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                          "properties": {"layer": "protected_object", "id": p.id, "name": p.name,
                                         "category": p.category, "radius_m": p.radius_m}})
        return {"type": "FeatureCollection", "features": feats}


def _extended(line: BaseGeometry, by_m: float) -> BaseGeometry:
    """The line with both ends pushed out by ``by_m`` so it cuts its own buffer in two."""
    parts = list(line.geoms) if hasattr(line, "geoms") else [line]
    out = []
    for p in parts:
        c = np.asarray(p.coords)
        if len(c) < 2:
            continue
        d0 = c[0] - c[1]
        d1 = c[-1] - c[-2]
        c0 = c[0] + d0 / (np.hypot(*d0) or 1.0) * by_m
        c1 = c[-1] + d1 / (np.hypot(*d1) or 1.0) * by_m
        out.append(shapely.LineString(np.vstack([c0, c, c1])))
    return shapely.MultiLineString(out) if len(out) > 1 else out[0]


def load_agreement(file: str | Path) -> Agreement:
    """Load and check an agreement file; raise AgreementError listing every problem."""
    spec, base = load_spec(file)
    return Agreement(spec, base, source_file=str(file))


def validate_agreement(file: str | Path) -> list[AgreementProblem]:
    try:
        load_agreement(file)
    except AgreementError as exc:
        return exc.problems
    return []
