"""Drone patrol simulator: flights over the scenario's weapons and jammers.

Given the scenario's ground truth (``weapon_presence`` and ``jamming`` events,
see trucewatch.sim.scenario) and a numpy Generator, fly one patrol per target
(a fixed-wing drone from a base 12-20 km away, a search pattern over the target,
back), and produce what the drone would record:

- telemetry (reported = truth + sensor noise; GNSS degraded near active jammers,
  optionally spoofed: a shift or a slow walk-off; occasional benign satellite
  dips in turns), as :class:`Flight` columns and, on request, real MAVLink tlogs;
- detections JSONL records from a detector that misses (per frame, and some
  camouflaged objects always), confuses classes, and makes false detections
  (single frames, plus now and then a persistent false object);
- declared storage sites with inventories, some items missing, each visited.

Truth for scoring is returned alongside: every object (with whether it is inside
its withdrawal zone) and every interference episode (start, end, kind).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml

from trucewatch.agreement import Agreement
from trucewatch.geo import LocalFrame
from trucewatch.model import Observation, Source, SourceKind
from trucewatch.sources.drone.coverage import FrameSet, required_gsd
from trucewatch.sources.drone.detections import parse_detection
from trucewatch.sources.drone.pipeline import process_flight
from trucewatch.sources.drone.telemetry import (
    GPS_FIELDS,
    NAV_FIELDS,
    Camera,
    Flight,
    make_flight_id,
    write_jsonl,
    write_tlog,
)

CLASSES = ["tank", "towed_artillery", "self_propelled_artillery", "mlrs", "heavy_mlrs"]
CONFUSE = {"tank": "self_propelled_artillery", "self_propelled_artillery": "tank", "towed_artillery": "self_propelled_artillery",
           "mlrs": "heavy_mlrs", "heavy_mlrs": "mlrs"}
OBJECT_SIZE_M = {"tank": 7.0, "towed_artillery": 9.0, "self_propelled_artillery": 8.0, "mlrs": 8.0, "heavy_mlrs": 12.0}
AIRSPEED = 28.0
NAV_HZ = 2.0
GPS_HZ = 2.0


@dataclass
class DroneSim:
    sources: list[Source]
    flights: list[Flight]
    detections: list[dict[str, Any]]
    objects: list[dict[str, Any]]  # truth: id, lat, lon, class, party, in_zone, camouflaged, flight_id
    episodes: list[dict[str, Any]]  # truth: flight_id, kind, t_start, t_end, lat, lon
    sites: dict[str, Any]  # sites file document
    false_objects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def flight_hours(self) -> float:
        return sum(f.duration_h for f in self.flights)

    def write_raw(self, out: Path, tlog: bool = True) -> dict[str, Any]:
        """Write tlogs (or telemetry JSONL), detections.jsonl, sites.yaml and airframes.json under ``out``."""
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for f in self.flights:
            p = out / (f"{f.flight_id}.tlog" if tlog else f"{f.flight_id}.jsonl")
            (write_tlog if tlog else write_jsonl)(p, f)
            files.append(str(p))
        with open(out / "detections.jsonl", "w") as fh:
            for d in self.detections:
                fh.write(json.dumps(d) + "\n")
        (out / "sites.yaml").write_text(yaml.safe_dump(self.sites, sort_keys=False))
        (out / "airframes.json").write_text(json.dumps([s.model_dump(mode="json") for s in self.sources], indent=1))
        return {"telemetry": files, "detections": str(out / "detections.jsonl"), "sites": str(out / "sites.yaml")}

    def observations(self, agreement: Agreement) -> list[Observation]:
        dets = [parse_detection(d, i + 1, None, json.dumps(d)) for i, d in enumerate(self.detections)]
        out: list[Observation] = []
        for f in self.flights:
            out += process_flight(f, [d for d in dets if d.flight_id == f.flight_id], agreement).observations
        return out


def _event_fields(e: Any) -> dict[str, Any]:
    if isinstance(e, dict):
        return e
    return {k: getattr(e, k) for k in ("id", "kind", "time", "lat", "lon", "violation", "party", "attributes") if hasattr(e, k)}


def _t(v: Any) -> float:
    if isinstance(v, int | float):
        return float(v)
    return datetime.fromisoformat(str(v).replace("Z", "+00:00")).astimezone(UTC).timestamp()


def _chaikin(p: np.ndarray, it: int = 3) -> np.ndarray:
    for _ in range(it):
        q = 0.75 * p[:-1] + 0.25 * p[1:]
        r = 0.25 * p[:-1] + 0.75 * p[1:]
        p = np.vstack([p[:1], np.column_stack([q, r]).reshape(-1, 2), p[-1:]])
    return p


def _resample(path: np.ndarray, speed: float, dt: float) -> np.ndarray:
    seg = np.hypot(*np.diff(path, axis=0).T)
    s = np.concatenate([[0], np.cumsum(seg)])
    st = np.arange(0, s[-1], speed * dt)
    return np.column_stack([np.interp(st, s, path[:, 0]), np.interp(st, s, path[:, 1])])


def _pattern(rng: np.random.Generator, target_e: float, target_n: float, spread: float) -> np.ndarray:
    """Base -> search pattern over the target (legs both ways) -> base, in east/north metres."""
    b = rng.uniform(0, 2 * np.pi)
    dist = rng.uniform(12_000, 20_000)
    base = np.array([target_e + dist * np.sin(b), target_n + dist * np.cos(b)])
    h = rng.uniform(0, np.pi)
    along = np.array([np.sin(h), np.cos(h)])
    across = np.array([np.cos(h), -np.sin(h)])
    legs = []
    half = 1500.0
    offsets = np.linspace(-spread, spread, 3)
    for k, off in enumerate(offsets):
        c = np.array([target_e, target_n]) + across * off
        a, z = c - along * half, c + along * half
        legs += [a, z] if k % 2 == 0 else [z, a]
    # a cross leg
    c = np.array([target_e, target_n])
    legs += [c + across * half, c - across * half]
    return np.vstack([base, *legs, base])


def fly(rng: np.random.Generator, frame: LocalFrame, path_en: np.ndarray, t_start: float, camera: Camera, *,
        airframe: str, sysid: int, agl: float, ground_msl: float, gimbal_pitch: float) -> tuple[Flight, dict[str, np.ndarray]]:
    """True flight along ``path_en`` (smoothed), with reported telemetry = truth + noise."""
    wind_dir = rng.uniform(0, 2 * np.pi)
    wind_spd = rng.uniform(0, 9)
    p = _resample(_chaikin(path_en, 4), 26.0, 1.0 / NAV_HZ)
    n = len(p)
    t = t_start + np.arange(n) / NAV_HZ
    gv = np.gradient(p, axis=0) * NAV_HZ  # ground velocity e, n
    # wind drifts slowly
    wn = wind_spd * np.cos(wind_dir) + np.cumsum(rng.normal(0, 0.01, n))
    we = wind_spd * np.sin(wind_dir) + np.cumsum(rng.normal(0, 0.01, n))
    air_e, air_n = gv[:, 0] - we, gv[:, 1] - wn
    yaw = np.degrees(np.arctan2(air_e, air_n))
    airspeed = np.hypot(air_e, air_n)
    course = np.unwrap(np.arctan2(gv[:, 0], gv[:, 1]))
    turn = np.gradient(course) * NAV_HZ
    roll = np.degrees(np.arctan(np.hypot(gv[:, 0], gv[:, 1]) * turn / 9.81))
    alt_rel = agl + np.cumsum(rng.normal(0, 0.05, n))
    lat, lon = frame.to_latlon(p[:, 0], p[:, 1])
    truth = {
        "t": t, "lat": lat, "lon": lon, "alt_msl": ground_msl + alt_rel, "alt_rel": alt_rel, "vn": gv[:, 1], "ve": gv[:, 0],
        "vd": -np.gradient(alt_rel) * NAV_HZ, "roll": roll, "pitch": np.full(n, 2.0), "yaw": yaw,
        "gimbal_roll": np.zeros(n), "gimbal_pitch": np.full(n, gimbal_pitch), "gimbal_yaw": np.zeros(n),
        "airspeed": airspeed, "groundspeed": np.hypot(gv[:, 0], gv[:, 1]), "e": p[:, 0], "n": p[:, 1],
    }
    nav = {k: truth[k].copy() for k in NAV_FIELDS}
    ang_noise = 0.3
    for k in ("roll", "pitch", "yaw", "gimbal_roll", "gimbal_pitch", "gimbal_yaw"):
        nav[k] = nav[k] + rng.normal(0, ang_noise, n)
    nav["airspeed"] = airspeed + rng.normal(0, 0.7, n)
    # GNSS: slowly wandering error of a couple of metres
    err_e = np.convolve(rng.normal(0, 1.2, n + 20), np.ones(20) / np.sqrt(20), "valid")[:n]
    err_n = np.convolve(rng.normal(0, 1.2, n + 20), np.ones(20) / np.sqrt(20), "valid")[:n]
    glat, glon = frame.to_latlon(p[:, 0] + err_e, p[:, 1] + err_n)
    nav["lat"], nav["lon"] = glat, glon
    sats = np.clip(np.round(13 + np.cumsum(rng.normal(0, 0.15, n)) * 0.3), 8, 20)
    hdop = np.clip(0.8 + rng.normal(0, 0.08, n), 0.5, 2.0)
    # benign: brief dips in sharp turns
    dips = np.flatnonzero(np.abs(roll) > 20)
    if dips.size:
        pick = rng.choice(dips, size=min(dips.size, max(1, dips.size // 200)), replace=False)
        for i in pick.tolist():
            w = int(rng.integers(1, 21))  # up to 10 s of masked sky in a turn
            sats[i:i + w] = rng.integers(4, 7)
            hdop[i:i + w] = rng.uniform(2.0, 5.0)
    # multipath glitches: now and then one or two fixes tens of metres off (not interference)
    glitch_lat, glitch_lon = glat.copy(), glon.copy()
    for i in np.flatnonzero(rng.random(n) < 1.5 / 3600 / NAV_HZ).tolist():
        w = int(rng.integers(1, 3))
        a = rng.uniform(0, 2 * np.pi)
        m = rng.uniform(40, 200)
        la, lo = frame.to_latlon(p[i:i + w, 0] + err_e[i:i + w] + m * np.sin(a), p[i:i + w, 1] + err_n[i:i + w] + m * np.cos(a))
        glitch_lat[i:i + w], glitch_lon[i:i + w] = la, lo
    gps = {"t": t.copy(), "lat": glitch_lat, "lon": glitch_lon, "alt": nav["alt_msl"].copy(), "fix": np.full(n, 3.0),
           "sats": sats.astype(float), "hdop": hdop, "vel": truth["groundspeed"] + rng.normal(0, 0.2, n),
           "cog": np.degrees(np.arctan2(gv[:, 0], gv[:, 1])) % 360}
    fl = Flight(make_flight_id(airframe, float(t[0])), airframe, sysid, camera, nav, {k: gps[k] for k in GPS_FIELDS},
                [], None, "sim")
    return fl, truth


def _apply_jamming(rng: np.random.Generator, fl: Flight, truth: dict[str, np.ndarray], frame: LocalFrame,
                   je: float, jn: float, radius: float, t_on: float, t_off: float) -> list[tuple[float, float]]:
    d = np.hypot(truth["e"] - je, truth["n"] - jn)
    t = truth["t"]
    hit = (d < radius) & (t >= t_on) & (t <= t_off)
    g = fl.gps
    idx = np.flatnonzero(hit)
    if idx.size == 0:
        return []
    g["fix"][hit] = rng.choice([0, 1, 2], size=idx.size, p=[0.5, 0.4, 0.1])
    g["sats"][hit] = rng.integers(0, 4, idx.size)
    g["hdop"][hit] = 99.99
    # the navigation solution dead-reckons and drifts
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    out = []
    for r in runs:
        drift = rng.normal(0, 0.8, 2)
        k = np.arange(len(r)) / NAV_HZ
        la, lo = frame.to_latlon(truth["e"][r] + drift[0] * k, truth["n"][r] + drift[1] * k)
        fl.nav["lat"][r], fl.nav["lon"][r] = la, lo
        g["lat"][r], g["lon"][r] = la, lo
        out.append((float(t[r[0]]), float(t[r[-1]])))
    return out


def _apply_spoofing(rng: np.random.Generator, fl: Flight, truth: dict[str, np.ndarray], frame: LocalFrame) -> dict[str, Any] | None:
    t = truth["t"]
    n = len(t)
    if n < 600:
        return None
    a = int(rng.integers(n // 5, n // 2))
    dur = int(rng.integers(int(120 * NAV_HZ), int(480 * NAV_HZ)))
    b = min(a + dur, n - 1)
    mode = "shift" if rng.random() < 0.5 else "walk_off"
    ang = rng.uniform(0, 2 * np.pi)
    k = np.arange(b - a) / NAV_HZ
    if mode == "shift":
        mag = np.full(b - a, rng.uniform(300, 3000))
    else:
        mag = rng.uniform(8, 15) * k
    oe, on = mag * np.sin(ang), mag * np.cos(ang)
    la, lo = frame.to_latlon(truth["e"][a:b] + oe, truth["n"][a:b] + on)
    fl.gps["lat"][a:b], fl.gps["lon"][a:b] = la, lo
    fl.nav["lat"][a:b], fl.nav["lon"][a:b] = la, lo
    if mode == "walk_off":
        v = np.array([np.sin(ang), np.cos(ang)]) * (mag[-1] / max(k[-1], 1))
        fl.gps["vel"][a:b] = np.hypot(truth["ve"][a:b] + v[0], truth["vn"][a:b] + v[1])
        fl.nav["ve"][a:b] += v[0]
        fl.nav["vn"][a:b] += v[1]
    return {"kind": "gnss_spoofing", "mode": mode, "t_start": float(t[a]), "t_end": float(t[b - 1])}


def _place_near_line(agreement: Agreement, rng: np.random.Generator, party: str, dmin_km: float, dmax_km: float) -> tuple[float, float]:
    line = agreement.line_en
    parts = list(line.geoms) if hasattr(line, "geoms") else [line]
    main = max(parts, key=lambda g: g.length)
    for _ in range(500):
        s = rng.uniform(0.05, 0.95) * main.length
        p = shapely.line_interpolate_point(main, s)
        q = shapely.line_interpolate_point(main, s + 50)
        tx, ty = q.x - p.x, q.y - p.y
        nrm = math.hypot(tx, ty) or 1.0
        d = rng.uniform(dmin_km, dmax_km) * 1000 * rng.choice([-1, 1])
        e, nn = p.x - ty / nrm * d, p.y + tx / nrm * d
        la, lo = agreement.frame.to_latlon(e, nn)
        lat, lon = float(la), float(lo)
        if agreement.side_of(np.array([lat]), np.array([lon]))[0] == party:
            dist = float(agreement.distance_to_line_m(np.array([lat]), np.array([lon]))[0])
            if dmin_km * 1000 * 0.95 <= dist <= dmax_km * 1000 * 1.05:
                return lat, lon
    raise RuntimeError(f"cannot place a point on {party}'s side {dmin_km}-{dmax_km} km from the line")


def _in_zone(agreement: Agreement, lat: float, lon: float, cls: str) -> bool:
    wc = agreement.weapon_class_of(cls)
    if wc is None:
        return False
    side = agreement.side_of(np.array([lat]), np.array([lon]))[0]
    return any(ins[0] and z.weapon_class == wc.id and (z.party is None or z.party == side)
               for z, ins in agreement.zones_containing(np.array([lat]), np.array([lon]), kind="withdrawal"))


def simulate(truth: Any, rng: np.random.Generator, agreement: Agreement, *, spoofing: float = 0.0, n_sites: int = 2,
             p_detect: float = 0.55, p_camouflaged: float = 0.04, false_rate: float = 0.004,
             p_false_object: float = 0.3, n_airframes: int = 3) -> DroneSim:
    """Patrol flights over ``truth`` (a Scenario, or a list of truth events / dicts).

    ``spoofing``: probability that a flight is also spoofed once.
    """
    events = [_event_fields(e) for e in (truth.events if hasattr(truth, "events") else truth or [])]
    camera = Camera(hfov_deg=50.0, vfov_deg=math.degrees(2 * math.atan(math.tan(math.radians(25)) * 1080 / 1920)),
                    width_px=1920, height_px=1080, gimbal_frame="horizon", frame_interval_s=1.0, pointing_sigma_deg=0.5)
    sources = [Source(id=f"drone:uav-{k + 1:02d}", kind=SourceKind.DRONE, name=f"Patrol UAV {k + 1}",
                      attributes={"sysid": k + 1, "camera": camera.to_dict()}) for k in range(n_airframes)]
    targets: list[dict[str, Any]] = []
    for e in events:
        if e.get("kind") == "weapon_presence":
            targets.append({"type": "weapon", **e})
        elif e.get("kind") == "jamming":
            targets.append({"type": "jamming", **e})
    # storage sites: deep on each party's side, some declared items missing
    sites_doc: dict[str, Any] = {"sites": []}
    t_day = min((_t(e["time"]) for e in events), default=1_773_532_800.0)
    parties = list(agreement.parties[:2])
    for k in range(n_sites):
        party = parties[k % len(parties)]
        lat, lon = _place_near_line(agreement, rng, party, 75, 95)
        cls = str(rng.choice(CLASSES))
        declared = int(rng.integers(3, 7))
        present = declared - int(rng.integers(0, 3))
        sid = f"site-{party.lower()}-{k + 1}"
        sites_doc["sites"].append({"id": sid, "name": f"Storage site {k + 1}", "party": party, "kind": "permanent_storage",
                                   "lat": round(lat, 6), "lon": round(lon, 6), "radius_m": 200,
                                   "inventory": [{"class": cls, "count": declared}]})
        targets.append({"type": "site", "id": sid, "time": float(t_day + rng.uniform(6, 18) * 3600), "lat": lat, "lon": lon,
                        "party": party, "attributes": {"weapon_class": cls, "count": present, "declared": declared},
                        "violation": False})
    flights: list[Flight] = []
    objects: list[dict[str, Any]] = []
    false_objects: list[dict[str, Any]] = []
    episodes: list[dict[str, Any]] = []
    detections: list[dict[str, Any]] = []
    for ti, tg in enumerate(targets):
        src = sources[ti % len(sources)]
        frame = LocalFrame(float(tg["lat"]), float(tg["lon"]))
        attrs = tg.get("attributes") or {}
        t_evt = _t(tg["time"])
        # object layout (truth) in the target's frame
        objs: list[dict[str, Any]] = []
        if tg["type"] in ("weapon", "site"):
            cnt = int(attrs.get("count", 1))
            cls = str(attrs.get("weapon_class", "tank"))
            spacing = 40.0 if tg["type"] == "site" else 90.0
            for j in range(cnt):
                oe, on = (rng.normal(0, spacing) for _ in range(2)) if j else (0.0, 0.0)
                la, lo = frame.to_latlon(oe, on)
                objs.append({"id": f"{tg['id']}-o{j + 1}", "e": float(oe), "n": float(on), "lat": float(la), "lon": float(lo),
                             "class": cls, "party": tg.get("party"), "event_id": tg["id"], "site": tg["type"] == "site",
                             "camouflaged": bool(rng.random() < p_camouflaged)})
            _spread_objects(objs, 45.0 if tg["type"] == "weapon" else 30.0, rng, frame)
        # flight timing: over the target around the event time
        jam_r = float(rng.uniform(6_000, 15_000))
        if tg["type"] == "jamming":
            # fly over a point inside the jammer's reach
            a = rng.uniform(0, 2 * np.pi)
            off = rng.uniform(0, 0.5) * jam_r
            ce, cn = off * np.sin(a), off * np.cos(a)
        else:
            ce, cn = 0.0, 0.0
        path = _pattern(rng, ce, cn, 250.0)
        agl = float(rng.uniform(350, 650))
        fl, tr = fly(rng, frame, path, 0.0, camera, airframe=src.id, sysid=int(src.attributes["sysid"]), agl=agl,
                     ground_msl=float(rng.uniform(80, 250)), gimbal_pitch=float(rng.uniform(-90, -70)))
        # shift time so the closest approach to the centre happens at the event time
        k_close = int(np.argmin(np.hypot(tr["e"] - ce, tr["n"] - cn)))
        shift = t_evt - float(tr["t"][k_close])
        for dct in (fl.nav, fl.gps, tr):
            dct["t"] = dct["t"] + shift
        fl.flight_id = make_flight_id(src.id, float(fl.nav["t"][0]))
        if tg["type"] == "jamming":
            dur = float(attrs.get("duration_s", 600))
            t_on = t_evt - dur / 2
            for a_, b_ in _apply_jamming(rng, fl, tr, frame, 0.0, 0.0, jam_r, t_on, t_on + dur):
                episodes.append({"flight_id": fl.flight_id, "kind": "gnss_jamming", "t_start": a_, "t_end": b_,
                                 "lat": float(tg["lat"]), "lon": float(tg["lon"]), "event_id": tg["id"]})
        if spoofing and rng.random() < spoofing and tg["type"] != "jamming":
            sp = _apply_spoofing(rng, fl, tr, frame)
            if sp:
                episodes.append({"flight_id": fl.flight_id, **sp, "lat": math.nan, "lon": math.nan, "event_id": None})
        # detections from the true camera
        true_fl = Flight(fl.flight_id, src.id, fl.sysid, camera, {k: tr[k] for k in NAV_FIELDS}, fl.gps, [], None, "truth")
        fs = FrameSet.from_flight(true_fl)
        # a persistent false object (a tractor, a decoy) now and then, somewhere the camera passes
        if rng.random() < p_false_object:
            k = int(rng.integers(len(fs)))
            c = fs.corners[k].mean(axis=0)
            la, lo = fs.frame.to_latlon(c[0], c[1])
            fo = {"id": f"{fl.flight_id}-false", "e": None, "lat": float(la), "lon": float(lo), "class": str(rng.choice(CLASSES)),
                  "flight_id": fl.flight_id, "p": float(rng.uniform(0.1, 0.35))}
            false_objects.append(fo)
        for o in objs:
            o["flight_id"] = fl.flight_id
            o["in_zone"] = _in_zone(agreement, o["lat"], o["lon"], o["class"])
            objects.append(o)
        detections += _detect(rng, fs, objs, [f for f in false_objects if f["flight_id"] == fl.flight_id], p_detect, false_rate)
        flights.append(fl)
    return DroneSim(sources, flights, detections, objects, episodes, sites_doc, false_objects)


def _spread_objects(objs: list[dict[str, Any]], min_gap: float, rng: np.random.Generator, frame: LocalFrame) -> None:
    """Push objects apart to at least ``min_gap`` metres (weapons are dispersed)."""
    for _ in range(50):
        moved = False
        for i in range(len(objs)):
            for j in range(i):
                de, dn = objs[i]["e"] - objs[j]["e"], objs[i]["n"] - objs[j]["n"]
                d = math.hypot(de, dn)
                if d < min_gap:
                    a = rng.uniform(0, 2 * np.pi) if d < 1e-6 else math.atan2(de, dn)
                    objs[i]["e"] = objs[j]["e"] + min_gap * 1.1 * math.sin(a)
                    objs[i]["n"] = objs[j]["n"] + min_gap * 1.1 * math.cos(a)
                    moved = True
        if not moved:
            break
    for o in objs:
        la, lo = frame.to_latlon(o["e"], o["n"])
        o["lat"], o["lon"] = float(la), float(lo)


def _hash(*parts: Any) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _detect(rng: np.random.Generator, fs: FrameSet, objs: list[dict[str, Any]], false_objs: list[dict[str, Any]],
            p_detect: float, false_rate: float) -> list[dict[str, Any]]:
    """Detector output for one flight (true camera geometry), as detections JSONL records."""
    cam = fs.camera
    out: list[dict[str, Any]] = []
    items = [(o, False) for o in objs] + [(o, True) for o in false_objs]
    nf = len(fs)
    for o, is_false in items:
        pe, pn = fs.frame.to_en(o["lat"], o["lon"])
        idx = np.arange(nf)
        u, v, inside, gsd = fs.project(np.full(nf, float(pe)), np.full(nf, float(pn)), idx)
        size = OBJECT_SIZE_M.get(o["class"], 8.0)
        if is_false:
            p = np.full(nf, o["p"])
        else:
            p = np.where(gsd <= required_gsd(o["class"]), p_detect, 0.05) * (0.05 if o.get("camouflaged") else 1.0)
        hit = inside & (rng.random(nf) < p)
        for k in np.flatnonzero(hit).tolist():
            w = max(size / gsd[k], 4.0)
            cu, cv = u[k] + rng.normal(0, 2), v[k] + rng.normal(0, 2)
            box = [cu - w / 2, cv - w / 2, cu + w / 2, cv + w / 2]
            if box[0] < 0 or box[1] < 0 or box[2] > cam.width_px or box[3] > cam.height_px:
                continue
            cls = o["class"] if rng.random() < 0.93 else CONFUSE.get(o["class"], o["class"])
            conf = float(np.clip(rng.beta(8, 2), 0, 1)) if not is_false else float(rng.uniform(0.35, 0.8))
            out.append(_record(fs, k, cls, conf, box, o["id"]))
    # single-frame false detections anywhere in the image
    fk = np.flatnonzero(rng.random(nf) < false_rate)
    for k in fk.tolist():
        cu, cv = rng.uniform(50, cam.width_px - 50), rng.uniform(50, cam.height_px - 50)
        box = [cu - 10, cv - 10, cu + 10, cv + 10]
        out.append(_record(fs, k, str(rng.choice(CLASSES)), float(rng.uniform(0.3, 0.75)), box, "false"))
    return out


def _record(fs: FrameSet, k: int, cls: str, conf: float, box: list[float], truth_id: str) -> dict[str, Any]:
    t = float(fs.t[k])
    return {"id": _hash(fs.flight_id, k, cls, *np.round(box, 1))[:16], "flight_id": fs.flight_id,
            "t": datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z"), "class": cls,
            "confidence": round(conf, 3), "image_hash": _hash("frame", fs.flight_id, k),
            "bbox": [round(float(b), 1) for b in box], "_truth": truth_id}


def simulate_observations(truth: Any, rng: np.random.Generator, agreement: Agreement, **kw: Any) -> tuple[list[Observation], DroneSim]:
    """Observations (WEAPON_SIGHTING, INTERFERENCE) and the raw inputs behind them, for the scenario driver."""
    sim = simulate(truth, rng, agreement, **kw)
    return sim.observations(agreement), sim
