"""Flight telemetry: MAVLink ``.tlog`` and a JSONL of the same fields, read into
columns (one numpy array per field) so that every later stage is vectorized.

A ``.tlog`` is what QGroundControl and MAVProxy record: each MAVLink packet is
preceded by its receive time as a big-endian uint64 of microseconds since the
Unix epoch.  We walk the records ourselves (rather than through
``mavutil.mavlink_connection``, which silently drops a truncated last packet) so
that a truncated, corrupt or out-of-order record is reported by byte offset and
the rest of the flight is still read.  Packets are decoded, and their CRC
checked, by pymavlink's generated ``ardupilotmega`` dialect.

Messages used (MAVLink common / ardupilotmega):

- ``GLOBAL_POSITION_INT``: navigation solution (lat, lon, alt MSL, relative alt,
  velocity) -- the time base of the flight;
- ``ATTITUDE``: roll, pitch, yaw of the airframe;
- ``GIMBAL_DEVICE_ATTITUDE_STATUS`` (quaternion) or ``MOUNT_STATUS`` (centi-degrees):
  camera gimbal angles;
- ``GPS_RAW_INT``: raw GNSS fix type, satellites, HDOP, position, speed, course;
- ``VFR_HUD``: airspeed, ground speed, heading;
- ``CAMERA_INFORMATION``: focal length, sensor size, resolution (field of view);
- ``HEARTBEAT``: the system id, used to find the registered airframe.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch._jsonl import BadLine, json_lines
from trucewatch.errors import TruceWatchError
from trucewatch.geo import LocalFrame
from trucewatch.model import sha256_hex

#: Navigation columns (sampled at GLOBAL_POSITION_INT times); angles in degrees.
NAV_FIELDS = (
    "t", "lat", "lon", "alt_msl", "alt_rel", "vn", "ve", "vd",
    "roll", "pitch", "yaw", "gimbal_roll", "gimbal_pitch", "gimbal_yaw",
    "airspeed", "groundspeed",
)
#: Raw GNSS columns (sampled at GPS_RAW_INT times).
GPS_FIELDS = ("t", "lat", "lon", "alt", "fix", "sats", "hdop", "vel", "cog")
#: Plausible sample times, unix s (2000-01-01 .. 2100-01-01): anything else is a corrupt stamp or field.
T_MIN, T_MAX = 946_684_800.0, 4_102_444_800.0


class TelemetryError(TruceWatchError, ValueError):
    """The file cannot be read as a flight at all (no usable navigation data)."""


@dataclass
class Camera:
    """The camera on an airframe: field of view, image size and how its gimbal is reported."""

    hfov_deg: float = 60.0
    vfov_deg: float = 34.0
    width_px: int = 1920
    height_px: int = 1080
    #: ``horizon``: gimbal roll/pitch are relative to the horizon and yaw to the
    #: airframe's heading (a stabilised gimbal, MAVLink's default);
    #: ``body``: all gimbal angles are relative to the airframe (a fixed or
    #: unstabilised mount, where attitude moves the footprint).
    gimbal_frame: str = "horizon"
    #: Gimbal angles used when the log carries none (a fixed mount), degrees.
    mount_pitch_deg: float = -90.0
    mount_yaw_deg: float = 0.0
    #: Camera frames are taken at this interval along the flight, seconds.
    frame_interval_s: float = 1.0
    #: One-sigma pointing error of the camera (attitude + gimbal), degrees.
    pointing_sigma_deg: float = 0.5

    def __post_init__(self) -> None:
        problems = []
        if not (0.5 <= self.hfov_deg < 170 and 0.5 <= self.vfov_deg < 170):
            problems.append(f"field of view {self.hfov_deg}x{self.vfov_deg} deg is not between 0.5 and 170")
        if self.width_px < 1 or self.height_px < 1:
            problems.append(f"image size {self.width_px}x{self.height_px} px must be positive")
        if self.gimbal_frame not in ("horizon", "body"):
            problems.append(f"gimbal_frame {self.gimbal_frame!r} must be 'horizon' or 'body'")
        if not self.frame_interval_s > 0:
            problems.append("frame_interval_s must be positive")
        if problems:
            raise ValueError("camera: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Camera:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"camera: unknown field(s) {', '.join(unknown)}")
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Flight:
    """One flight of one airframe, as columns.  ``problems`` lists flagged records."""

    flight_id: str
    source_id: str | None
    sysid: int | None
    camera: Camera
    nav: dict[str, np.ndarray]
    gps: dict[str, np.ndarray]
    problems: list[str] = field(default_factory=list)
    payload_hash: str | None = None
    origin: str = ""
    #: Receive times of every packet of the airframe (any message type), sorted; None when the
    #: format has one record per sample (JSONL).  A stretch with no packet at all is a telemetry
    #: link dropout, not a GNSS outage.
    msg_t: np.ndarray | None = None
    #: Times at which the autopilot rebooted (its boot clock went back): the receiver acquires anew.
    boots: list[float] = field(default_factory=list)
    #: How the input's records were used (tlog records or JSONL lines): ``read`` = ``used`` + ``other``
    #: (messages this stage does not read) + ``header`` + ``bad`` (each named in ``problems``).
    records: dict[str, int] = field(default_factory=dict)

    @property
    def t0(self) -> float:
        return float(self.nav["t"][0])

    @property
    def t1(self) -> float:
        return float(self.nav["t"][-1])

    @property
    def duration_h(self) -> float:
        return (self.t1 - self.t0) / 3600.0

    def __len__(self) -> int:
        return int(self.nav["t"].shape[0])


def make_flight_id(airframe: str, t0: float) -> str:
    """Deterministic flight id: airframe plus start time (same log -> same id)."""
    stamp = datetime.fromtimestamp(t0, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in airframe)
    return f"{safe}-{stamp}"


# ----------------------------------------------------------------- tlog read
_V1, _V2 = 0xFE, 0xFD


def _packet_length(buf: bytes, pos: int) -> int | None:
    """Total length of the MAVLink packet starting at ``pos`` or None if not a packet start."""
    magic = buf[pos]
    if magic == _V2:
        if pos + 3 > len(buf):
            return -1
        plen, incompat = buf[pos + 1], buf[pos + 2]
        return 10 + plen + 2 + (13 if incompat & 0x01 else 0)
    if magic == _V1:
        if pos + 2 > len(buf):
            return -1
        return 6 + buf[pos + 1] + 2
    return None


def _plausible_stamp(buf: bytes, pos: int) -> bool:
    if pos + 9 > len(buf):
        return False
    us = struct.unpack_from(">Q", buf, pos)[0]
    return 946_684_800_000_000 <= us <= 4_102_444_800_000_000 and buf[pos + 8] in (_V1, _V2)


def _quat_to_euler(w: float, x: float, y: float, z: float) -> tuple[float, float, float]:
    roll = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return math.degrees(roll), math.degrees(pitch), math.degrees(yaw)


def read_tlog(path: str | Path, camera: Camera | None = None, *, sysid: int | None = None) -> Flight:
    """Read a MAVLink telemetry log.  Bad records are listed in ``Flight.problems``.

    ``sysid`` keeps only packets from that MAVLink system (a log may hold the
    ground station's own packets too); by default the system that sent the
    most ``GLOBAL_POSITION_INT`` packets is the airframe.
    """
    # lazy: pymavlink loads only for MAVLink logs (its dialect import takes about a second)
    from pymavlink.dialects.v20 import ardupilotmega as mav2

    path = Path(path)
    buf = path.read_bytes()
    mav = mav2.MAVLink(None)
    mav.robust_parsing = True
    problems: list[str] = []
    rows: dict[str, list[tuple]] = {k: [] for k in ("pos", "att", "gim", "mnt", "gps", "hud")}
    cam_info: tuple | None = None
    boot_ms: list[tuple[int, float, int]] = []
    decoded: list[tuple[float, int, Any]] = []
    wanted = {getattr(mav2, f"MAVLINK_MSG_ID_{m}") for m in (
        "HEARTBEAT", "GLOBAL_POSITION_INT", "ATTITUDE", "GIMBAL_DEVICE_ATTITUDE_STATUS", "MOUNT_STATUS", "GPS_RAW_INT",
        "VFR_HUD", "CAMERA_INFORMATION")}
    skipped = 0
    rec_t: list[int] = []  # receive time (us) and sender of every packet, for link-dropout detection
    rec_sys: list[int] = []
    n_bad = 0
    pos = 0
    n = len(buf)
    while pos < n:
        rec = pos
        n_bad += 1  # undone below for a record that is decoded or skipped
        if pos + 8 > n:
            problems.append(f"{path.name}: record at byte {rec}: truncated (only {n - pos} bytes left of a timestamp)")
            break
        us = struct.unpack_from(">Q", buf, pos)[0]
        pos += 8
        plen = _packet_length(buf, pos) if pos < n else -1
        if plen is None:
            problems.append(f"{path.name}: record at byte {rec}: not a MAVLink packet (byte 0x{buf[pos]:02x}); resynchronising")
            pos = _resync(buf, rec + 1)
            continue
        if plen < 0 or pos + plen > n:
            problems.append(f"{path.name}: record at byte {rec}: truncated packet ({n - pos} of {max(plen, 0)} bytes); log ends here")
            break
        msgid = buf[pos + 5] if buf[pos] == _V1 else int.from_bytes(buf[pos + 7:pos + 10], "little")
        rec_t.append(us)
        rec_sys.append(buf[pos + 3] if buf[pos] == _V1 else buf[pos + 5])
        if msgid not in wanted:  # logs carry dozens of other messages: skip them undecoded
            pos += plen
            skipped += 1
            n_bad -= 1
            continue
        pkt = bytearray(buf[pos:pos + plen])
        try:
            msg = mav.decode(pkt)
        except Exception as exc:  # pymavlink raises MAVError and struct.error for bad packets
            problems.append(f"{path.name}: record at byte {rec}: bad packet ({exc}); skipped")
            pos = _resync(buf, rec + 1)
            continue
        pos += plen
        if msg.get_type() == "BAD_DATA":
            problems.append(f"{path.name}: record at byte {rec}: bad packet; skipped")
            continue
        if not T_MIN <= us / 1e6 <= T_MAX:
            problems.append(f"{path.name}: record at byte {rec} ({msg.get_type()}): timestamp {us} us is not a time "
                            f"in 2000..2100; skipped")
            continue
        n_bad -= 1
        decoded.append((us / 1e6, rec, msg))
    times = np.array([d[0] for d in decoded])
    n_late = int(np.count_nonzero(~_in_order(times)))
    for i in np.flatnonzero(~_in_order(times)):
        t, rec, msg = decoded[i]
        problems.append(f"{path.name}: record at byte {rec} ({msg.get_type()}): time {t:.3f} is out of order "
                        f"(time going backwards); record skipped")
    for keep, (t, _rec, msg) in zip(_in_order(times), decoded, strict=True):
        if not keep:
            continue
        mtype = msg.get_type()
        src = msg.get_srcSystem()
        if mtype == "GLOBAL_POSITION_INT":
            rows["pos"].append((src, t, msg.lat / 1e7, msg.lon / 1e7, msg.alt / 1e3, msg.relative_alt / 1e3,
                                msg.vx / 100, msg.vy / 100, msg.vz / 100))
            boot_ms.append((src, t, msg.time_boot_ms))
        elif mtype == "ATTITUDE":
            rows["att"].append((src, t, math.degrees(msg.roll), math.degrees(msg.pitch), math.degrees(msg.yaw)))
        elif mtype == "GIMBAL_DEVICE_ATTITUDE_STATUS":
            r, p, y = _quat_to_euler(*msg.q)
            rows["gim"].append((src, t, r, p, y))
        elif mtype == "MOUNT_STATUS":
            rows["mnt"].append((src, t, msg.pointing_b / 100, msg.pointing_a / 100, msg.pointing_c / 100))
        elif mtype == "GPS_RAW_INT":
            hdop = msg.eph / 100 if msg.eph != 65535 else math.nan
            vel = msg.vel / 100 if msg.vel != 65535 else math.nan
            cog = msg.cog / 100 if msg.cog != 65535 else math.nan
            rows["gps"].append((src, t, msg.lat / 1e7, msg.lon / 1e7, msg.alt / 1e3, msg.fix_type,
                                msg.satellites_visible if msg.satellites_visible != 255 else -1, hdop, vel, cog))
        elif mtype == "VFR_HUD":
            rows["hud"].append((src, t, msg.airspeed, msg.groundspeed, float(msg.heading)))
        elif mtype == "CAMERA_INFORMATION" and cam_info is None:
            cam_info = (msg.focal_length, msg.sensor_size_h, msg.sensor_size_v, msg.resolution_h, msg.resolution_v)
    if not rows["pos"]:
        raise TelemetryError(f"{path.name}: no GLOBAL_POSITION_INT packets: not a flight log"
                             + (f" ({problems[0]})" if problems else ""))
    if sysid is None:
        ids, counts = np.unique([r[0] for r in rows["pos"]], return_counts=True)
        sysid = int(ids[np.argmax(counts)])
    camera = camera or Camera()
    if cam_info is not None:
        camera = _camera_from_info(camera, cam_info, problems, path.name)
    sel = {k: np.array([r[1:] for r in v if r[0] == sysid], float) for k, v in rows.items()}
    fixes = sel["pos"]
    nav_raw = {"t": fixes[:, 0], "lat": fixes[:, 1], "lon": fixes[:, 2], "alt_msl": fixes[:, 3],
               "alt_rel": fixes[:, 4], "vn": fixes[:, 5], "ve": fixes[:, 6], "vd": fixes[:, 7]}
    att = sel["att"].reshape(-1, 4)
    gim = sel["gim"].reshape(-1, 4) if sel["gim"].size else sel["mnt"].reshape(-1, 4)
    hud = sel["hud"].reshape(-1, 4)
    nav = assemble_nav(nav_raw, att, gim, hud, camera)
    g = sel["gps"].reshape(-1, len(GPS_FIELDS))
    gps = {k: g[:, i] for i, k in enumerate(GPS_FIELDS)}
    flight = Flight("", None, sysid, camera, nav, gps, problems, sha256_hex(buf), str(path),
                    records={"read": len(decoded) + skipped + n_bad, "used": len(decoded) - n_late, "other": skipped,
                             "header": 0, "bad": n_bad + n_late})
    rt, rs = np.asarray(rec_t, np.float64) / 1e6, np.asarray(rec_sys)
    flight.msg_t = np.sort(rt[rs == sysid])
    bm = np.array([(t, ms) for s_, t, ms in boot_ms if s_ == sysid], float).reshape(-1, 2)
    # a boot clock that goes back by more than a second: the autopilot restarted
    flight.boots = [float(x) for x in bm[1:, 0][np.diff(bm[:, 1]) < -1000]]
    return _finish(flight)


def _in_order(t: np.ndarray) -> np.ndarray:
    """Mask of records kept: isolated out-of-order stamps (one record ahead of or
    behind its neighbours) are dropped first, then anything before the running
    maximum (a clock that went back) until time passes it again."""
    n = len(t)
    keep = np.ones(n, bool)
    if n < 2:
        return keep
    prev = np.concatenate([[-np.inf], t[:-1]])
    nxt = np.concatenate([t[1:], [np.inf]])
    ahead = (t > nxt) & (prev <= nxt)  # one stamp too late between two in order
    keep &= ~ahead
    ts = np.where(keep, t, -np.inf)
    run_max = np.maximum.accumulate(ts)
    prev_max = np.concatenate([[-np.inf], run_max[:-1]])
    keep &= t >= prev_max
    return keep


def _resync(buf: bytes, start: int) -> int:
    """Position of the next plausible tlog record at or after ``start`` (or the end)."""
    n = len(buf)
    pos = start
    while pos < n:
        nxt = [i for i in (buf.find(b"\xfd", pos + 8), buf.find(b"\xfe", pos + 8)) if i >= 0]
        if not nxt:
            return n
        cand = min(nxt) - 8
        if _plausible_stamp(buf, cand):
            return cand
        pos = cand + 1
    return n


def _camera_from_info(camera: Camera, info: tuple, problems: list[str], name: str) -> Camera:
    focal, sw, sh, rw, rh = info
    if focal > 0 and sw > 0 and sh > 0 and rw > 0 and rh > 0:
        d = camera.to_dict()
        d.update(hfov_deg=math.degrees(2 * math.atan(sw / (2 * focal))),
                 vfov_deg=math.degrees(2 * math.atan(sh / (2 * focal))), width_px=int(rw), height_px=int(rh))
        return Camera(**d)
    problems.append(f"{name}: CAMERA_INFORMATION has no usable focal length/sensor size; registered camera used")
    return camera


def _interp_angle(t: np.ndarray, ts: np.ndarray, deg: np.ndarray) -> np.ndarray:
    return np.degrees(np.angle(np.interp(t, ts, np.cos(np.radians(deg))) + 1j * np.interp(t, ts, np.sin(np.radians(deg)))))


def assemble_nav(nav_raw: dict[str, np.ndarray], att: np.ndarray, gim: np.ndarray, hud: np.ndarray,
                 camera: Camera) -> dict[str, np.ndarray]:
    """Put attitude, gimbal and air data on the navigation time base (interpolated)."""
    t = nav_raw["t"]
    nav = dict(nav_raw)
    if len(att):
        for i, k in enumerate(("roll", "pitch", "yaw")):
            nav[k] = _interp_angle(t, att[:, 0], att[:, i + 1])
    else:  # no attitude: level flight along the velocity vector
        nav["roll"] = np.zeros_like(t)
        nav["pitch"] = np.zeros_like(t)
        nav["yaw"] = np.degrees(np.arctan2(nav["ve"], nav["vn"]))
    if len(gim):
        for i, k in enumerate(("gimbal_roll", "gimbal_pitch", "gimbal_yaw")):
            nav[k] = _interp_angle(t, gim[:, 0], gim[:, i + 1])
    else:
        nav["gimbal_roll"] = np.zeros_like(t)
        nav["gimbal_pitch"] = np.full_like(t, camera.mount_pitch_deg)
        nav["gimbal_yaw"] = np.full_like(t, camera.mount_yaw_deg)
    if len(hud):
        nav["airspeed"] = np.interp(t, hud[:, 0], hud[:, 1])
        nav["groundspeed"] = np.interp(t, hud[:, 0], hud[:, 2])
    else:
        nav["airspeed"] = np.full_like(t, np.nan)
        nav["groundspeed"] = np.hypot(nav["vn"], nav["ve"])
    return {k: np.asarray(nav[k], float) for k in NAV_FIELDS}


def _finish(flight: Flight) -> Flight:
    """Drop duplicate/invalid navigation samples (flagged) and set the flight id."""
    nav = flight.nav
    t = nav["t"]
    bad = ~(np.isfinite(nav["lat"]) & np.isfinite(nav["lon"]) & (np.abs(nav["lat"]) <= 90) & (np.abs(nav["lon"]) <= 180))
    bad |= (nav["lat"] == 0) & (nav["lon"] == 0)
    dup = np.zeros_like(bad)
    dup[1:] = np.diff(t) <= 0
    for i in np.flatnonzero(bad)[:20]:
        flight.problems.append(f"{flight.origin}: nav sample {i} at t={t[i]:.3f}: position "
                               f"{nav['lat'][i]},{nav['lon'][i]} is not valid; skipped")
    if bad.sum() > 20:
        flight.problems.append(f"{flight.origin}: {int(bad.sum()) - 20} more invalid nav samples skipped")
    for i in np.flatnonzero(dup & ~bad)[:20]:
        flight.problems.append(f"{flight.origin}: nav sample {i}: time {t[i]:.3f} does not advance; skipped")
    keep = ~(bad | dup)
    if keep.sum() < 2:
        raise TelemetryError(f"{flight.origin}: fewer than 2 valid navigation samples")
    flight.nav = {k: v[keep] for k, v in nav.items()}
    if len(flight.gps["t"]):
        g = flight.gps
        order_ok = np.concatenate([[True], np.diff(g["t"]) > 0])
        flight.gps = {k: v[order_ok] for k, v in g.items()}
    if not flight.flight_id:
        flight.flight_id = make_flight_id(flight.source_id or f"sys{flight.sysid}", flight.t0)
    return flight


# --------------------------------------------------------------- tlog write
def write_tlog(path: str | Path, flight: Flight, *, gps_every: int = 1, include_camera_info: bool = True) -> int:
    """Write ``flight`` as a MAVLink tlog with pymavlink's own encoder; returns packets written.

    Used by the simulator and tests, so that the reader is exercised on the
    real binary format.
    """
    # lazy: pymavlink loads only for MAVLink logs (its dialect import takes about a second)
    from pymavlink.dialects.v20 import ardupilotmega as mav2

    mav = mav2.MAVLink(None, srcSystem=int(flight.sysid or 1), srcComponent=1)
    cam = flight.camera
    out = bytearray()
    nav = flight.nav
    t0 = nav["t"][0]
    count = 0

    def put(t: float, msg: Any) -> None:
        nonlocal count
        out.extend(struct.pack(">Q", round(t * 1e6)))
        out.extend(msg.pack(mav))
        count += 1

    put(t0, mav2.MAVLink_heartbeat_message(1, 3, 0, 0, 4, 3))
    if include_camera_info:
        focal = 10.0
        sw = 2 * focal * math.tan(math.radians(cam.hfov_deg / 2))
        sh = 2 * focal * math.tan(math.radians(cam.vfov_deg / 2))
        put(t0, mav2.MAVLink_camera_information_message(0, [0] * 32, [0] * 32, 0, focal, sw, sh, cam.width_px,
                                                        cam.height_px, 0, 0, 0, b""))
    g = flight.gps
    gi = 0
    ng = len(g["t"])
    for i in range(len(nav["t"])):
        t = float(nav["t"][i])
        while gi < ng and g["t"][gi] <= t:
            if gi % gps_every == 0:
                put(float(g["t"][gi]), mav2.MAVLink_gps_raw_int_message(
                    round(g["t"][gi] * 1e6), int(g["fix"][gi]), round(g["lat"][gi] * 1e7), round(g["lon"][gi] * 1e7),
                    round(g["alt"][gi] * 1e3), 65535 if not np.isfinite(g["hdop"][gi]) else min(65534, round(g["hdop"][gi] * 100)),
                    65535, 65535 if not np.isfinite(g["vel"][gi]) else round(g["vel"][gi] * 100),
                    65535 if not np.isfinite(g["cog"][gi]) else round(g["cog"][gi] % 360 * 100) % 36000,
                    int(g["sats"][gi]) if g["sats"][gi] >= 0 else 255))
            gi += 1
        ms = round((t - t0) * 1000) % 2**32
        put(t, mav2.MAVLink_global_position_int_message(
            ms, round(nav["lat"][i] * 1e7), round(nav["lon"][i] * 1e7), round(nav["alt_msl"][i] * 1e3),
            round(nav["alt_rel"][i] * 1e3), round(nav["vn"][i] * 100), round(nav["ve"][i] * 100),
            round(nav["vd"][i] * 100), round(nav["yaw"][i] % 360 * 100) % 36000))
        put(t, mav2.MAVLink_attitude_message(ms, math.radians(nav["roll"][i]), math.radians(nav["pitch"][i]),
                                             math.radians(((nav["yaw"][i] + 180) % 360) - 180), 0, 0, 0))
        q = _euler_to_quat(nav["gimbal_roll"][i], nav["gimbal_pitch"][i], nav["gimbal_yaw"][i])
        put(t, mav2.MAVLink_gimbal_device_attitude_status_message(0, 0, ms, 0, q, 0, 0, 0, 0))
        if np.isfinite(nav["airspeed"][i]):
            put(t, mav2.MAVLink_vfr_hud_message(float(nav["airspeed"][i]), float(nav["groundspeed"][i]),
                                                round(nav["yaw"][i] % 360) % 360, 50, float(nav["alt_msl"][i]),
                                                float(-nav["vd"][i])))
    Path(path).write_bytes(bytes(out))
    return count


def _euler_to_quat(roll: float, pitch: float, yaw: float) -> list[float]:
    r, p, y = (math.radians(a) / 2 for a in (roll, pitch, yaw))
    cr, sr, cp, sp, cy, sy = math.cos(r), math.sin(r), math.cos(p), math.sin(p), math.cos(y), math.sin(y)
    return [cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy]


# ------------------------------------------------------------------- JSONL
#: JSONL sample fields: required, then optional with their defaults.
JSONL_REQUIRED = ("t", "lat", "lon", "alt_msl", "alt_rel")
JSONL_OPTIONAL = {
    "vn": math.nan, "ve": math.nan, "vd": 0.0, "roll": 0.0, "pitch": 0.0, "yaw": math.nan,
    "gimbal_roll": 0.0, "gimbal_pitch": math.nan, "gimbal_yaw": math.nan, "airspeed": math.nan, "groundspeed": math.nan,
    "gps_lat": math.nan, "gps_lon": math.nan, "gps_fix": 3, "gps_sats": -1, "gps_hdop": math.nan,
}


def _parse_time(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(v, int | float):
        t = float(v)
    elif isinstance(v, str):
        try:
            t = datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(UTC).timestamp()
        except (ValueError, OverflowError):
            raise ValueError(f"{v[:60]!r} is not a time (unix seconds or ISO 8601)") from None
    else:
        raise ValueError(f"{str(v)[:60]!r} is not a time (unix seconds or ISO 8601)")
    if not T_MIN <= t <= T_MAX:  # also refuses NaN
        raise ValueError(f"{t!r} is not a time in 2000..2100")
    return t


def read_jsonl(path: str | Path, camera: Camera | None = None) -> Flight:
    """Read telemetry JSONL (format in docs/drone.md).  Bad lines are flagged, not fatal."""
    path = Path(path)
    raw = path.read_bytes()
    problems: list[str] = []
    header: dict[str, Any] = {}
    rows: list[list[float]] = []
    cols = list(JSONL_REQUIRED) + list(JSONL_OPTIONAL)
    last_t = -math.inf
    n_read = n_header = 0
    for lineno, rec in json_lines(raw.decode("utf-8", errors="replace").split("\n")):
        n_read += 1
        where = f"{path.name}:{lineno}"
        if isinstance(rec, BadLine):
            problems.append(f"{where}: not JSON ({rec.why}); skipped")
            continue
        if not isinstance(rec, dict):
            problems.append(f"{where}: expected an object; skipped")
            continue
        if rec.get("type") == "flight":
            n_header += 1
            if header:
                problems.append(f"{where}: a second flight header; skipped")
                continue
            header = rec
            continue
        try:
            missing = [k for k in JSONL_REQUIRED if k not in rec]
            if missing:
                raise ValueError(f"field {missing[0]}: missing")
            vals: list[float] = []
            for k in cols:
                v = rec.get(k, JSONL_OPTIONAL.get(k))
                if k == "t":
                    vals.append(_parse_time(v))
                    continue
                if v is None:
                    v = JSONL_OPTIONAL.get(k, math.nan)
                if isinstance(v, bool) or not isinstance(v, int | float):
                    raise ValueError(f"field {k}: {str(v)[:60]!r} is not a number")
                if math.isinf(v) or (math.isnan(v) and k in JSONL_REQUIRED):
                    raise ValueError(f"field {k}: {v!r} is not a finite number")
                vals.append(float(v))
            if not (-90 <= vals[1] <= 90 and -180 <= vals[2] <= 180):
                raise ValueError(f"field lat/lon: {vals[1]},{vals[2]} is off the globe")
        except ValueError as exc:
            problems.append(f"{where}: {exc}; skipped")
            continue
        if vals[0] <= last_t:
            problems.append(f"{where}: field t: {vals[0]:.3f} does not advance from {last_t:.3f}; skipped")
            continue
        last_t = vals[0]
        rows.append(vals)
    if len(rows) < 2:
        raise TelemetryError(f"{path.name}: fewer than 2 valid telemetry samples" + (f" ({problems[0]})" if problems else ""))
    a = np.array(rows, float)
    c = {k: a[:, i] for i, k in enumerate(cols)}
    if "camera" in header and camera is None:
        try:
            camera = Camera.from_dict(header["camera"])
        except (TypeError, ValueError) as exc:
            problems.append(f"{path.name}: header camera: {exc}; registered camera used")
    camera = camera or Camera()
    t = c["t"]
    # velocities from positions where not given
    if np.isnan(c["vn"]).any():
        fr = LocalFrame.around(c["lat"], c["lon"])
        e, n = fr.to_en(c["lat"], c["lon"])
        ve, vn = np.gradient(e, t), np.gradient(n, t)
        c["vn"] = np.where(np.isnan(c["vn"]), vn, c["vn"])
        c["ve"] = np.where(np.isnan(c["ve"]), ve, c["ve"])
    c["yaw"] = np.where(np.isnan(c["yaw"]), np.degrees(np.arctan2(c["ve"], c["vn"])), c["yaw"])
    c["gimbal_pitch"] = np.where(np.isnan(c["gimbal_pitch"]), camera.mount_pitch_deg, c["gimbal_pitch"])
    c["gimbal_yaw"] = np.where(np.isnan(c["gimbal_yaw"]), camera.mount_yaw_deg, c["gimbal_yaw"])
    c["groundspeed"] = np.where(np.isnan(c["groundspeed"]), np.hypot(c["vn"], c["ve"]), c["groundspeed"])
    nav = {k: c[k] for k in NAV_FIELDS}
    gps = {
        "t": t, "lat": np.where(np.isnan(c["gps_lat"]), c["lat"], c["gps_lat"]),
        "lon": np.where(np.isnan(c["gps_lon"]), c["lon"], c["gps_lon"]), "alt": c["alt_msl"],
        "fix": c["gps_fix"], "sats": c["gps_sats"], "hdop": c["gps_hdop"],
        "vel": np.hypot(c["vn"], c["ve"]), "cog": np.degrees(np.arctan2(c["ve"], c["vn"])) % 360,
    }
    sysid = header.get("sysid")
    fid, sid = header.get("flight_id"), header.get("source_id")
    for name, v in (("flight_id", fid), ("source_id", sid)):
        if v is not None and (not isinstance(v, str) or any(ord(c) < 32 or c == "\ufffd" for c in v) or len(v) > 200):
            problems.append(f"{path.name}: header {name}: {str(v)[:60]!r} is not an identifier; ignored")
            if name == "flight_id":
                fid = None
            else:
                sid = None
    flight = Flight(str(fid or ""), sid, int(sysid) if isinstance(sysid, int) and 0 <= sysid <= 255 else None,
                    camera, nav, gps, problems, sha256_hex(raw), str(path),
                    records={"read": n_read, "used": len(rows), "other": 0, "header": min(n_header, 1),
                             "bad": n_read - len(rows) - min(n_header, 1)})
    return _finish(flight)


def write_jsonl(path: str | Path, flight: Flight) -> None:
    """Write ``flight`` in the telemetry JSONL format (GNSS sampled at nav times)."""
    nav, g = flight.nav, flight.gps
    t = nav["t"]

    def at(k: str) -> np.ndarray:
        if len(g["t"]) == 0:
            return np.full_like(t, np.nan)
        idx = np.clip(np.searchsorted(g["t"], t, side="right") - 1, 0, len(g["t"]) - 1)
        return g[k][idx]

    gl = {"gps_lat": at("lat"), "gps_lon": at("lon"), "gps_fix": at("fix"), "gps_sats": at("sats"), "gps_hdop": at("hdop")}
    with open(path, "w") as f:
        f.write(json.dumps({"type": "flight", "source_id": flight.source_id, "flight_id": flight.flight_id,
                            "sysid": flight.sysid, "camera": flight.camera.to_dict()}) + "\n")
        for i in range(len(t)):
            rec: dict[str, Any] = {k: round(float(nav[k][i]), 7) for k in NAV_FIELDS if np.isfinite(nav[k][i])}
            for k, v in gl.items():
                if np.isfinite(v[i]):
                    rec[k] = int(v[i]) if k in ("gps_fix", "gps_sats") else round(float(v[i]), 7)
            f.write(json.dumps(rec) + "\n")


# --------------------------------------------------- DataFlash text log read
#: GPS epoch (1980-01-06) in unix seconds; GPS time runs ahead of UTC by the leap seconds below.
_GPS_EPOCH = 315_964_800.0
_GPS_LEAP_S = 18.0
#: Longest line we look at: anything longer is not a DataFlash text record (hostile or binary input).
_DF_MAX_LINE = 4096


def _df_num(row: dict[str, str], k: str) -> float:
    """One numeric field of a DataFlash record; the error names the field."""
    try:
        return float(row[k])
    except ValueError:
        raise ValueError(f"field {k}: {row[k][:40]!r} is not a number") from None


def _df_boot(row: dict[str, str]) -> float:
    """Boot-clock time (s) of a non-GPS DataFlash record, NaN when it carries none (old logs)."""
    try:
        if "TimeUS" in row:
            return _df_num(row, "TimeUS") / 1e6
        if "TimeMS" in row:
            return _df_num(row, "TimeMS") / 1000.0
    except ValueError:
        pass
    return math.nan


def _df_time(row: dict[str, str], name: str) -> tuple[float, bool]:
    """(seconds, absolute?) of one DataFlash GPS record: GPS week + ms when logged, else the boot clock.

    Newer logs carry ``GWk``/``GMS`` (absolute) and ``TimeUS`` (boot clock); older
    copter logs carry only ``Time``/``TimeMS`` in milliseconds (GPS time of week or
    boot clock, depending on the version) -- relative, but monotonic within a flight.
    """
    if row.get("GWk") not in (None, "", "0") and "GMS" in row:
        return _GPS_EPOCH + _df_num(row, "GWk") * 604_800.0 + _df_num(row, "GMS") / 1000.0 - _GPS_LEAP_S, True
    if "TimeUS" in row:
        return _df_num(row, "TimeUS") / 1e6, False
    for k in ("TimeMS", "Time", "T"):
        if k in row:
            return _df_num(row, k) / 1000.0, False
    raise ValueError(f"{name} has no time field (GWk/GMS, TimeUS, TimeMS or Time)")


def read_dataflash_text(path: str | Path, camera: Camera | None = None) -> Flight:
    """Read an ArduPilot DataFlash *text* log (``FMT, ...`` / ``GPS, ...`` lines, as Mission
    Planner and ``mavlogdump.py --format`` export them, and as ArduPilot's LogAnalyzer
    examples are stored).

    Columns come from the log's own ``FMT`` records, so old (``Status,Time,NSats,HDop,
    Lat,Lng,RelAlt,Alt,Spd,GCrs``) and new (``TimeUS,I,Status,GMS,GWk,NSats,HDop,...``)
    layouts both work.  The navigation track is the GPS fix (these logs are on-board:
    there is no telemetry link to drop); ``ATT`` gives the attitude where present.
    Every bad record is named by line and field and skipped; nothing raises but a file
    with no usable GPS record.
    """
    path = Path(path)
    camera = camera or Camera()
    fmts: dict[str, list[str]] = {}
    problems: list[str] = []
    gps_rows: list[list[float]] = []
    att_rows: list[list[float]] = []
    msg_t: list[float] = []
    absolute = False
    n_read = n_used = n_other = n_header = n_bad = 0
    with open(path, "rb") as fh:
        for lineno, raw_line in enumerate(fh, start=1):
            n_read += 1
            where = f"{path.name}:{lineno}"
            if len(raw_line) > _DF_MAX_LINE:
                n_bad += 1
                problems.append(f"{where}: line of {len(raw_line)} bytes is not a DataFlash record; skipped")
                continue
            line = raw_line.decode("utf-8", errors="replace").strip()
            parts = [p.strip() for p in line.split(",")]
            name = parts[0]
            if len(parts) < 2 or not name.isalnum():
                n_header += 1  # preamble ("ArduCopter V3.0.1", "Free RAM: ...") and blank lines
                continue
            if name == "FMT":
                # FMT, type, length, Name, Format, Col1,Col2,...
                if len(parts) < 6 or not parts[3].isalnum():
                    n_bad += 1
                    problems.append(f"{where}: FMT record: expected type, length, name, format, columns; skipped")
                    continue
                n_header += 1
                fmts[parts[3]] = [c for c in parts[5:] if c]
                continue
            cols = fmts.get(name)
            if name not in ("GPS", "ATT") and cols is None:
                n_other += 1
                continue
            if cols is None:
                n_bad += 1
                problems.append(f"{where}: {name} record before its FMT record; skipped")
                continue
            if len(parts) - 1 != len(cols):
                n_bad += 1
                problems.append(f"{where}: {name} record has {len(parts) - 1} fields, its FMT names "
                                f"{len(cols)} (truncated or corrupt); skipped")
                continue
            row = dict(zip(cols, parts[1:], strict=True))
            try:
                if name == "GPS":
                    t, absolute_t = _df_time(row, name)
                    absolute = absolute or absolute_t
                    vals = [t]
                    boot = _df_num(row, "TimeUS") / 1e6 if "TimeUS" in row else math.nan
                    for fld in ("Status", "NSats", "HDop", "Lat", "Lng", "Alt", "Spd", "GCrs"):
                        if fld not in row:
                            raise ValueError(f"field {fld}: missing from its FMT")
                        v = _df_num(row, fld)
                        if not math.isfinite(v):
                            raise ValueError(f"field {fld}: {v!r} is not a finite number")
                        vals.append(v)
                    if not (-90 <= vals[4] <= 90 and -180 <= vals[5] <= 180):
                        raise ValueError(f"field Lat/Lng: {vals[4]},{vals[5]} is off the globe")
                    vals.append(_df_num(row, "RelAlt") if row.get("RelAlt") not in (None, "") else math.nan)
                    vals.append(_df_num(row, "VZ") if row.get("VZ") not in (None, "") else math.nan)
                    vals.append(boot)
                    if not math.isfinite(vals[0]):
                        raise ValueError(f"field time: {vals[0]!r} is not a finite number")
                    gps_rows.append(vals)
                elif name == "ATT":
                    vals = []
                    for fld in ("Roll", "Pitch", "Yaw"):
                        if fld not in row:
                            raise ValueError(f"field {fld}: missing from its FMT")
                        vals.append(_df_num(row, fld))
                    # old ATT records carry no time: placed after the last GPS fix, by line order
                    att_rows.append([_df_boot(row), *vals, float(len(gps_rows))])
                else:
                    n_other += 1
                    msg_t.append(_df_boot(row))
                    continue
            except ValueError as exc:
                n_bad += 1
                problems.append(f"{where}: {name} {exc}; skipped")
                continue
            n_used += 1
    if not gps_rows:
        raise TelemetryError(f"{path.name}: no usable GPS record in a DataFlash text log"
                             + (f" ({problems[0]})" if problems else ""))
    g = np.asarray(gps_rows, float)
    # other records run on the boot clock: move them onto the GPS time base (GPS week when logged)
    boot_off = 0.0 if not absolute else math.nan
    if absolute and np.isfinite(g[:, 11]).any():
        boot_off = float(np.nanmedian(g[:, 0] - g[:, 11]))
    elif not absolute and not np.isfinite(g[:, 11]).any():
        boot_off = math.nan  # old logs: GPS "Time" is GPS time of week, not the boot clock
    order = _in_order(g[:, 0])
    for i in np.flatnonzero(~order)[:20]:
        problems.append(f"{path.name}: GPS record {i}: time {g[i, 0]:.3f} does not advance; skipped")
    g = g[order]
    t = g[:, 0]
    gps = {"t": t, "lat": g[:, 4], "lon": g[:, 5], "alt": g[:, 6], "fix": g[:, 1], "sats": g[:, 2],
           "hdop": g[:, 3], "vel": g[:, 7], "cog": g[:, 8]}
    cog = np.radians(g[:, 8])
    roll = pitch = yaw = np.full_like(t, np.nan)
    if att_rows:
        a = np.asarray(att_rows, float)
        ta = a[:, 0] + boot_off
        if not np.isfinite(ta).all():  # untimed ATT: between the GPS fixes around it, by line order
            raw_t = np.asarray(gps_rows, float)[:, 0]
            ta = np.interp(a[:, 4] - 0.5, np.arange(len(raw_t)), raw_t)
        ok = np.isfinite(ta)
        if ok.sum() >= 2:
            srt = np.argsort(ta[ok], kind="stable")
            roll = np.interp(t, ta[ok][srt], a[ok, 1][srt])
            pitch = np.interp(t, ta[ok][srt], a[ok, 2][srt])
            yaw = _interp_angle(t, ta[ok][srt], a[ok, 3][srt])
    nan = np.full_like(t, np.nan)
    nav = {"t": t, "lat": g[:, 4], "lon": g[:, 5], "alt_msl": g[:, 6], "alt_rel": g[:, 9],
           "vn": g[:, 7] * np.cos(cog), "ve": g[:, 7] * np.sin(cog), "vd": g[:, 10],
           "roll": roll, "pitch": pitch, "yaw": yaw, "gimbal_roll": nan, "gimbal_pitch": nan,
           "gimbal_yaw": nan, "airspeed": nan, "groundspeed": g[:, 7]}
    if not absolute:
        problems.append(f"{path.name}: times are relative (boot clock or GPS time of week, no GPS week)")
    other_t = np.asarray(msg_t, float) + boot_off
    mt = np.sort(np.concatenate([t, other_t[np.isfinite(other_t)]]))
    flight = Flight(flight_id="", source_id=None, sysid=None, camera=camera, nav=nav, gps=gps,
                    problems=problems, payload_hash=None, origin=path.name,
                    # every timed record: where only GPS records carry a time, a gap in them is a
                    # logging gap (no record at all), not a GNSS outage
                    msg_t=mt if len(mt) > len(t) else None,
                    records={"read": n_read, "used": n_used, "other": n_other, "header": n_header, "bad": n_bad})
    flight = _finish(flight)
    flight.flight_id = make_flight_id(f"dataflash-{path.stem}", flight.t0)
    return flight


def is_dataflash_text(head: bytes) -> bool:
    """Whether the start of a file looks like a DataFlash text log: text (a binary tlog has NUL
    bytes in its first records) with ``FMT,`` records."""
    return b"\x00" not in head[:4096] and (b"\nFMT," in head or head.startswith(b"FMT,"))



def peek_source(path: str | Path, max_records: int = 500) -> tuple[str | None, int | None]:
    """(source id, MAVLink sysid) named by the start of a telemetry file, without reading it all."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(65536)
    if is_dataflash_text(head):  # on-board log: no source id or MAVLink system id in it
        return None, None
    if head[:1] in (b"{", b"\n", b" ") or path.suffix.lower() in (".jsonl", ".json"):
        try:
            first = json.loads(head.split(b"\n", 1)[0])
        except ValueError:
            return None, None
        if isinstance(first, dict) and first.get("type") == "flight":
            sysid = first.get("sysid")
            return first.get("source_id"), sysid if isinstance(sysid, int) else None
        return None, None
    # lazy: pymavlink loads only for MAVLink logs (its dialect import takes about a second)
    from pymavlink.dialects.v20 import ardupilotmega as mav2

    mav = mav2.MAVLink(None)
    counts: dict[int, int] = {}
    pos = 0
    for _ in range(max_records):
        if pos + 9 > len(head):
            break
        plen = _packet_length(head, pos + 8)
        if plen is None or plen < 0 or pos + 8 + plen > len(head):
            break
        try:
            msg = mav.decode(bytearray(head[pos + 8:pos + 8 + plen]))
        except Exception:  # corrupt start: let the full reader report it
            break
        if msg.get_type() in ("GLOBAL_POSITION_INT", "HEARTBEAT"):
            counts[msg.get_srcSystem()] = counts.get(msg.get_srcSystem(), 0) + 1
        pos += 8 + plen
    return None, (max(counts, key=lambda k: counts[k]) if counts else None)


def read_flight(path: str | Path, camera: Camera | None = None) -> Flight:
    """A ``.tlog`` (binary MAVLink), a DataFlash text log or a ``.jsonl`` telemetry file, by content."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(65536)
    if path.suffix.lower() in (".jsonl", ".json"):
        return read_jsonl(path, camera)
    if is_dataflash_text(head):
        return read_dataflash_text(path, camera)
    if head[:1] in (b"{", b"\n", b" "):
        return read_jsonl(path, camera)
    return read_tlog(path, camera)
