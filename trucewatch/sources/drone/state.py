"""Local persistence for the drone CLI (documented in docs/drone.md).

Layout under the state directory (``--state``, env ``TRUCEWATCH_DRONE_STATE``,
default ``./trucewatch-data/drone``)::

    airframes.json                 registered DRONE sources (trucewatch.model.Source, JSON list)
    sites.yaml                     declared storage sites (optional; see sites.py)
    flights/<flight_id>/summary.json      flight summary, camera, problems, candidates, episodes
    flights/<flight_id>/frames.npz        camera frames (coverage layer, see coverage.FrameSet)
    flights/<flight_id>/observations.jsonl WEAPON_SIGHTING and INTERFERENCE observations

Files are written to a temporary name and renamed, so a crash never leaves a
half-written flight.  Re-ingesting a log overwrites its flight directory with the
same content (ids are deterministic).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from trucewatch.model import Observation, Source, SourceKind
from trucewatch.sources.drone.coverage import FrameSet
from trucewatch.sources.drone.geometry import Dem
from trucewatch.sources.drone.telemetry import Camera

DEFAULT_STATE = Path("trucewatch-data") / "drone"


def default_state() -> Path:
    return Path(os.environ.get("TRUCEWATCH_DRONE_STATE", str(DEFAULT_STATE)))


def _atomic_write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)


class DroneState:
    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_state()

    # -------------------------------------------------------------- airframes
    @property
    def airframes_file(self) -> Path:
        return self.root / "airframes.json"

    def sources(self) -> list[Source]:
        if not self.airframes_file.exists():
            return []
        return [Source.model_validate(d) for d in json.loads(self.airframes_file.read_text())]

    def register(self, source: Source) -> None:
        if source.kind != SourceKind.DRONE:
            raise ValueError(f"source {source.id}: kind must be drone, not {source.kind}")
        cam = source.attributes.get("camera")
        if cam is not None:
            Camera.from_dict(cam)  # raises ValueError naming the field
        others = [s for s in self.sources() if s.id != source.id]
        sysid = source.attributes.get("sysid")
        if sysid is not None:
            clash = [s.id for s in others if s.attributes.get("sysid") == sysid]
            if clash:
                raise ValueError(f"source {source.id}: MAVLink sysid {sysid} is already used by {clash[0]}")
        _atomic_write(self.airframes_file, json.dumps([s.model_dump(mode="json") for s in [*others, source]], indent=1))

    def camera_of(self, source: Source) -> Camera:
        cam = source.attributes.get("camera")
        return Camera.from_dict(cam) if cam else Camera()

    # ---------------------------------------------------------------- flights
    def flight_dir(self, flight_id: str) -> Path:
        return self.root / "flights" / flight_id

    def save_flight(self, result: Any, extra: dict[str, Any] | None = None) -> Path:
        d = self.flight_dir(result.flight.flight_id)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / "frames.tmp.npz"
        result.frames.save(tmp)
        os.replace(tmp, d / "frames.npz")
        _atomic_write(d / "observations.jsonl", "".join(o.model_dump_json() + "\n" for o in result.observations))
        summary = {**result.summary(), "camera": result.flight.camera.to_dict(), "origin": result.flight.origin,
                   "payload_hash": result.flight.payload_hash, "problems": result.problems,
                   "candidates": result.candidates,
                   "episodes": [{"kind": e.kind, "start": e.t_start, "end": e.t_end, "signals": e.signals,
                                 "evidence": e.evidence, "lat": e.lat, "lon": e.lon, "radius_m": e.radius_m}
                                for e in result.episodes], **(extra or {})}
        _atomic_write(d / "summary.json", json.dumps(summary, indent=1, default=str))
        return d

    def flight_ids(self) -> list[str]:
        base = self.root / "flights"
        if not base.exists():
            return []
        return sorted(p.name for p in base.iterdir() if (p / "summary.json").exists())

    def summary(self, flight_id: str) -> dict[str, Any]:
        p = self.flight_dir(flight_id) / "summary.json"
        if not p.exists():
            raise KeyError(flight_id)
        return json.loads(p.read_text())

    def frames(self, flight_id: str) -> FrameSet:
        s = self.summary(flight_id)
        fs = FrameSet.load(self.flight_dir(flight_id) / "frames.npz", Camera.from_dict(s["camera"]))
        if s.get("dem") and Path(s["dem"]).exists():  # the terrain the flight was ingested with
            fs.dem = Dem.from_file(s["dem"])
        return fs

    def observations(self, flight_id: str) -> list[Observation]:
        p = self.flight_dir(flight_id) / "observations.jsonl"
        if not p.exists():
            return []
        return [Observation.model_validate_json(line) for line in p.read_text().splitlines() if line.strip()]

    def flights_between(self, t1: float, t2: float) -> list[str]:
        """Flights that overlap [t1, t2)."""
        out = []
        for fid in self.flight_ids():
            s = self.summary(fid)
            a = datetime.fromisoformat(s["start"]).timestamp()
            b = datetime.fromisoformat(s["end"]).timestamp()
            if b >= t1 and a < t2:
                out.append(fid)
        return out
