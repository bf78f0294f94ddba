"""One flight from telemetry (and detections) to observations.

``process_flight`` runs the stages in order: interference detection (so that
frames flown on bad navigation do not count as coverage), footprints, detections
to sightings, weapons checks.  Everything is keyed by the flight id, which is
derived from the airframe and the log's start time, so re-ingesting the same
log yields the same ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trucewatch.agreement import Agreement
from trucewatch.errors import TruceWatchError
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind, from_unix
from trucewatch.sources.drone import interference as itf
from trucewatch.sources.drone.coverage import FrameSet
from trucewatch.sources.drone.detections import Detection, locate, merge
from trucewatch.sources.drone.geometry import Dem
from trucewatch.sources.drone.telemetry import Camera, Flight, make_flight_id, peek_source
from trucewatch.sources.drone.weapons import check_weapons


class UnregisteredSource(TruceWatchError, ValueError):
    """A flight whose airframe is not a registered DRONE source."""


@dataclass
class FlightResult:
    flight: Flight
    frames: FrameSet
    episodes: list[itf.Episode]
    sightings: list[Observation]
    interference: list[Observation]
    candidates: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    @property
    def observations(self) -> list[Observation]:
        return [*self.sightings, *self.interference]

    def summary(self) -> dict[str, Any]:
        fs = self.frames
        return {
            "flight_id": self.flight.flight_id, "source_id": self.flight.source_id,
            "start": from_unix(self.flight.t0).isoformat(), "end": from_unix(self.flight.t1).isoformat(),
            "duration_h": round(self.flight.duration_h, 3), "frames": len(fs), "untrusted_frames": int((~fs.trusted).sum()),
            "sightings": len(self.sightings), "tentative": sum(bool(o.attributes.get("tentative")) for o in self.sightings),
            "violation_candidates": len(self.candidates), "interference": len(self.interference),
            "problems": len(self.problems),
        }


def resolve_source(flight: Flight, sources: list[Source], source_id: str | None = None) -> Source:
    """The registered DRONE source that flew ``flight`` (by explicit id, the log's id, or MAVLink sysid)."""
    drones = [s for s in sources if s.kind == SourceKind.DRONE]
    want = source_id or flight.source_id
    if want:
        for s in drones:
            if s.id == want:
                return s
        raise UnregisteredSource(f"{flight.origin}: flight from unregistered source {want!r}; register it first "
                                 f"(trucewatch drone register {want} --sysid N)")
    hits = [s for s in drones if s.attributes.get("sysid") == flight.sysid]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise UnregisteredSource(f"{flight.origin}: MAVLink system {flight.sysid} matches several sources "
                                 f"({', '.join(s.id for s in hits)}); pass --source")
    raise UnregisteredSource(f"{flight.origin}: flight from unregistered source (MAVLink system id {flight.sysid}); "
                             "register the airframe with its --sysid or pass --source")


def source_for_file(path: str, sources: list[Source], source_id: str | None = None) -> Source | None:
    """The registered source of a telemetry file from its first records (None: read it all to know)."""
    sid, sysid = peek_source(path)
    if source_id is None and sid is None and sysid is None:
        return None
    probe = Flight("", sid, sysid, Camera(), {}, {}, [], None, str(path))
    return resolve_source(probe, sources, source_id)


def bind_source(flight: Flight, source: Source) -> Flight:
    flight.source_id = source.id
    flight.flight_id = make_flight_id(source.id, flight.t0)
    return flight


def interference_observations(flight: Flight, episodes: list[itf.Episode]) -> list[Observation]:
    out = []
    for ep in episodes:
        out.append(Observation(
            id=f"drone:{flight.flight_id}:interference:{ep.kind}:{int(ep.t_start)}",
            source_id=flight.source_id or f"drone:sys{flight.sysid}",
            kind=ObservationKind.INTERFERENCE,
            time=from_unix(ep.t_start),
            time_sigma_s=1.0,
            location=Location(lat=ep.lat, lon=ep.lon, err_major_m=min(max(ep.radius_m, 1.0), 499_000.0),
                              err_minor_m=min(max(ep.radius_m, 1.0), 499_000.0)),
            attributes={
                "interference": ep.kind, "flight_id": flight.flight_id, "affected_area": itf.episode_geojson(ep),
                "start": from_unix(ep.t_start).isoformat(), "end": from_unix(ep.t_end).isoformat(),
                "duration_s": round(ep.t_end - ep.t_start, 1), "signals": ep.signals, "evidence": ep.evidence,
            },
            payload_hash=flight.payload_hash,
        ))
    return out


def process_flight(flight: Flight, detections: list[Detection] | None = None, agreement: Agreement | None = None,
                   dem: Dem | None = None, cfg: itf.InterferenceConfig | None = None,
                   detections_label: str = "detections") -> FlightResult:
    """Run every stage on one flight; bad records end up in ``problems``, never as exceptions."""
    problems = list(flight.problems)
    episodes = itf.detect(flight, cfg)
    for a, b in itf.link_gaps(flight, cfg)[:20]:  # said, so a reader does not take them for jamming
        problems.append(f"{flight.origin or flight.flight_id}: telemetry link dropout of {b - a:.1f} s from "
                        f"{from_unix(a).isoformat()} (no packet of any type): not GNSS interference")
    fs = FrameSet.from_flight(flight, dem=dem)
    fs.trusted = itf.trusted_mask(fs.t, episodes)
    mine: list[Detection] = []
    for d in detections or []:
        if d.flight_id in (flight.flight_id, "*") or d.flight_id == flight.origin:
            mine.append(d)
    located = locate(mine, flight, fs, problems, label=detections_label)
    sightings = merge(located, flight, fs)
    candidates = check_weapons(sightings, agreement) if agreement is not None else []
    inter = interference_observations(flight, episodes)
    return FlightResult(flight, fs, episodes, sightings, inter, candidates, problems)
