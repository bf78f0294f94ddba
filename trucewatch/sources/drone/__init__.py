"""Drone patrols: telemetry, camera coverage, weapon sightings, storage sites and
GNSS interference (issue 9).  See docs/drone.md."""

from trucewatch.sources.drone.coverage import FrameSet, required_gsd, seen_any
from trucewatch.sources.drone.pipeline import FlightResult, UnregisteredSource, process_flight, resolve_source
from trucewatch.sources.drone.telemetry import Camera, Flight, TelemetryError, read_flight, read_jsonl, read_tlog

__all__ = [
    "Camera",
    "Flight",
    "FlightResult",
    "FrameSet",
    "TelemetryError",
    "UnregisteredSource",
    "process_flight",
    "read_flight",
    "read_jsonl",
    "read_tlog",
    "required_gsd",
    "resolve_source",
    "seen_any",
]
