"""Drone and sea stages measured on material nobody on this project wrote (issue 18).

``measure(split)`` returns the figures ``trucewatch bench realdata`` prints:

- AIS, on public NMEA logs (pyais, gpsd, libais test data; see
  ``trucewatch/data/eval/real/sea/SOURCES.md``), labelled by reading each line
  (``labels.json``): vessels listed (static-only ones too), comment lines
  counted and never reported as errors, messages decoded from logs without
  receiver times, and no invented time on such lines.
- GNSS false alarms per flight hour on benign *real* flights: public ArduPilot
  DataFlash text logs listed in ``trucewatch/data/eval/real/drone/flights.json``
  (source, commit, licence and split per flight; labelled benign by reading
  them, see ``SOURCES.md``); every jamming or spoofing episode on them is a
  false alarm.  Alongside, labelled ``generated_``: benign tlogs written with
  pymavlink's encoder from the simulator, with the two failure modes seen on a
  real flight added -- telemetry-link dropouts and fix acquisition at start.
  A generated log is NOT real data.

The module uses only the stage APIs that main already had where it can, so
that running it against main's code gives the baseline (see ``baseline``).
"""

from __future__ import annotations

import json
import struct
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch.geo import LocalFrame
from trucewatch.sim.drone import fly
from trucewatch.sources.drone.interference import detect
from trucewatch.sources.drone.telemetry import Camera, _packet_length, read_flight, read_tlog, write_tlog
from trucewatch.sources.sea.nmea import decode_lines
from trucewatch.sources.sea.tracks import build_tracks

SEA_DIR = Path(str(files("trucewatch") / "data" / "eval" / "real" / "sea"))
DRONE_DIR = Path(str(files("trucewatch") / "data" / "eval" / "real" / "drone"))


# ------------------------------------------------------------------- sea
def _listed(tracks: Any) -> set[int]:
    """MMSIs a user sees in the vessel list (``trucewatch sea decode``)."""
    if hasattr(tracks, "vessel_rows"):
        return {int(r["mmsi"]) for r in tracks.vessel_rows()}
    return {int(m) for m in tracks.mmsis}


def measure_sea(split: str = "heldout") -> dict[str, Any]:
    labels = json.loads((SEA_DIR / "labels.json").read_text(encoding="utf-8"))
    files_ = {k: v for k, v in labels["files"].items() if v["split"] == split}
    so_total = so_listed = v_total = v_listed = 0
    comment_ok = 0
    untimed_dec = untimed_lab = invented = 0
    dec_total = lab_total = 0
    per_file: dict[str, Any] = {}
    for name, lab in sorted(files_.items()):
        raw = (SEA_DIR / name).read_bytes().splitlines()
        res = decode_lines(raw)
        tr = build_tracks(res.positions, res.statics)
        listed = _listed(tr)
        want_so = {int(m) for m in lab["static_only_mmsi"]}
        so_total += len(want_so)
        so_listed += len(want_so & listed)
        v_total += lab["vessels"]
        v_listed += min(len(listed), lab["vessels"])
        comment_lines = {i + 1 for i, ln in enumerate(raw) if ln.strip().startswith(b"#")}
        err_on_comment = sum(1 for e in res.errors if e.line in comment_lines)
        ok = err_on_comment == 0 and res.stats.get("comments", -1) == lab["comment_lines"]
        comment_ok += ok
        # messages that gave vessel data or were valid non-vessel messages (type 19 counted once)
        st = res.stats
        decoded = (len(res.positions) + st.get("no_position", 0) + st.get("other", 0)
                   + sum(1 for s in res.statics if s.msg_type != 19))
        decoded = min(decoded, lab["decodable_messages"])
        dec_total += decoded
        lab_total += lab["decodable_messages"]
        if not lab["receiver_times"]:
            untimed_dec += decoded
            untimed_lab += lab["decodable_messages"]
            invented += int(np.isfinite(res.positions.t).sum())
        per_file[name] = {"vessels_listed": len(listed), "vessels": lab["vessels"],
                          "static_only_listed": len(want_so & listed), "static_only": len(want_so),
                          "comments_counted": res.stats.get("comments"), "comment_lines": lab["comment_lines"],
                          "errors_on_comment_lines": err_on_comment, "decoded": decoded,
                          "decodable": lab["decodable_messages"], "errors": len(res.errors)}
    return {
        "ais_files": len(files_),
        "ais_static_only_vessels": so_total,
        "ais_static_only_listed_fraction": round(so_listed / so_total, 3) if so_total else None,
        "ais_vessels_listed_fraction": round(v_listed / v_total, 3) if v_total else None,
        "ais_comment_lines_counted_correctly": round(comment_ok / len(files_), 3) if files_ else None,
        "ais_untimed_logs_decoded_fraction": round(untimed_dec / untimed_lab, 3) if untimed_lab else None,
        "ais_untimed_positions_with_invented_time": invented,
        "ais_messages_decoded_fraction": round(dec_total / lab_total, 3) if lab_total else None,
        "ais_per_file": per_file,
    }


# ----------------------------------------------------------------- drone
def _records(buf: bytes) -> list[tuple[int, int, int, int]]:
    """(offset, length, time_us, msgid) of every record of a tlog written by ``write_tlog``."""
    out = []
    pos = 0
    while pos + 9 <= len(buf):
        us = struct.unpack_from(">Q", buf, pos)[0]
        plen = _packet_length(buf, pos + 8)
        if plen is None or plen < 0:
            break
        p = pos + 8
        msgid = buf[p + 5] if buf[p] == 0xFE else int.from_bytes(buf[p + 7:p + 10], "little")
        out.append((pos, 8 + plen, us, msgid))
        pos += 8 + plen
    return out


def cut_tlog(buf: bytes, t_from: float, t_to: float, msgids: set[int] | None = None) -> bytes:
    """The tlog without the records received in [t_from, t_to) -- all of them (a link dropout),
    or only those of ``msgids`` (one message type stops while the rest go on)."""
    keep = bytearray()
    for off, ln, us, mid in _records(buf):
        inside = t_from <= us / 1e6 < t_to
        if inside and (msgids is None or mid in msgids):
            continue
        keep += buf[off:off + ln]
    return bytes(keep)


def acquire_fix(gps: dict[str, np.ndarray], t0: float, settle_s: float, rng: np.random.Generator) -> None:
    """Make the receiver acquire from ``t0``: no fix, then 2D, then 3D with satellites rising and HDOP
    settling (the shape of a receiver cold or warm start), in place."""
    t = gps["t"]
    k = (t >= t0) & (t < t0 + settle_s)
    if not k.any():
        return
    f = (t[k] - t0) / settle_s
    gps["fix"][k] = np.where(f < 0.5, 1, np.where(f < 0.7, 2, 3))
    gps["sats"][k] = np.round(2 + f * 8 + rng.normal(0, 0.5, k.sum())).clip(0, 20)
    gps["hdop"][k] = np.where(f < 0.5, 99.99, 1.0 + 6.0 * (1 - f))


def generated_benign_tlogs(out_dir: Path, n: int, seed: int) -> list[tuple[Path, dict[str, Any]]]:
    """Benign patrol tlogs (GENERATED, not real) with link dropouts and fix acquisition; returns (path, truth)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        legs = np.array([[-12000.0, 0.0], [12000.0, 0.0], [12000.0, 2500.0], [-12000.0, 2500.0]])
        cam = Camera(hfov_deg=50.0, vfov_deg=29.4, frame_interval_s=1.0)
        fl, _truth = fly(rng, LocalFrame(48.5, 37.0), legs, 1_773_561_600.0 + i * 86400, cam,
                         airframe=f"drone:gen-{i:02d}", sysid=1, agl=400.0, ground_msl=150.0, gimbal_pitch=-90.0)
        t = fl.gps["t"]
        acquire_fix(fl.gps, float(t[0]), float(rng.uniform(20, 90)), rng)
        p = out_dir / f"gen_{split_name(i)}_{i:02d}.tlog"
        write_tlog(p, fl)
        buf = p.read_bytes()
        dropouts = []
        for _ in range(int(rng.integers(2, 6))):  # radio dropouts: every message stops
            a = float(rng.uniform(t[0] + 120, t[-1] - 120))
            d = float(rng.uniform(3, 45))
            dropouts.append((a, a + d))
            buf = cut_tlog(buf, a, a + d)
        p.write_bytes(buf)
        out.append((p, {"dropouts": dropouts, "hours": (t[-1] - t[0]) / 3600.0}))
    return out


def split_name(i: int) -> str:
    return "dev" if i % 2 == 0 else "heldout"


def measure_real_flights(split: str = "heldout") -> dict[str, Any]:
    """GNSS false alarms on the real benign flights of one split (``flights.json``)."""
    manifest = json.loads((DRONE_DIR / "flights.json").read_text(encoding="utf-8"))
    flights = [f for f in manifest["flights"] if f["split"] == split]
    alarms = 0
    hours = 0.0
    per_flight: dict[str, Any] = {}
    for f in flights:
        fl = read_flight(DRONE_DIR / f["file"])
        eps = [e for e in detect(fl) if e.kind in ("gnss_jamming", "gnss_spoofing")]
        alarms += len(eps)
        hours += fl.duration_h
        per_flight[f["file"]] = {"minutes": round(fl.duration_h * 60, 2), "false_alarms": len(eps),
                                 "episodes": [f"{e.kind} {e.t_start - fl.t0:.0f}-{e.t_end - fl.t0:.0f} s "
                                              f"{'+'.join(e.signals)}" for e in eps]}
    return {
        "gnss_false_alarms_per_flight_hour": round(alarms / hours, 3) if hours else None,
        "gnss_false_alarms": alarms,
        "gnss_flights": len(flights),
        "gnss_flight_hours": round(hours, 4),
        "gnss_per_flight": per_flight,
        "gnss_note": ("real ArduPilot DataFlash text logs (trucewatch/data/eval/real/drone/SOURCES.md); "
                      "with under an hour of flight, 0 alarms does not show a rate under 1 per hour"
                      if flights else f"no real flight in the {split} split (drone/SOURCES.md)"),
    }


def measure_drone(split: str = "heldout", n: int = 8, seed: int = 18) -> dict[str, Any]:
    out = measure_real_flights(split)
    with tempfile.TemporaryDirectory() as d:
        logs = [x for i, x in enumerate(generated_benign_tlogs(Path(d), n, seed)) if split_name(i) == split]
        alarms = 0
        hours = 0.0
        for p, truth in logs:
            fl = read_tlog(p)
            alarms += sum(1 for e in detect(fl) if e.kind == "gnss_jamming" or e.kind == "gnss_spoofing")
            hours += truth["hours"]
    out.update({
        "generated_gnss_false_alarms_per_flight_hour": round(alarms / hours, 3) if hours else None,
        "generated_gnss_false_alarms": alarms,
        "generated_gnss_flights": len(logs),
        "generated_gnss_flight_hours": round(hours, 2),
        "generated_note": "GENERATED tlogs (simulator + link dropouts + fix acquisition), NOT real data",
    })
    return out


def measure(split: str = "heldout") -> dict[str, Any]:
    """Drone and sea figures on the ``dev`` or ``heldout`` half (tune only on dev)."""
    if split not in ("dev", "heldout"):
        raise ValueError(f"split {split!r} must be 'dev' or 'heldout'")
    half = "held-out half, not tuned on" if split == "heldout" else "development half, tuned on"
    out: dict[str, Any] = {"split": split, "measured_on": (
        f"AIS: real public NMEA logs (pyais, gpsd, libais samples), {half}, labelled by reading "
        "(trucewatch/data/eval/real/sea/SOURCES.md); GNSS: real public ArduPilot DataFlash flight logs, "
        f"{half} (drone/SOURCES.md); the generated_* figures come from simulated tlogs and are not real data")}
    out.update(measure_drone(split))
    out.update(measure_sea(split))
    return out


if __name__ == "__main__":  # python -m trucewatch.bench._real_dronesea [dev|heldout]
    import sys

    print(json.dumps(measure(sys.argv[1] if len(sys.argv) > 1 else "heldout"), indent=1, default=str))
