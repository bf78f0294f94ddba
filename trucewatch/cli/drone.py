"""``trucewatch drone``: register airframes, ingest flight logs (MAVLink .tlog or
telemetry JSONL) with their detections, export coverage, ask whether a place
was seen, and check declared storage sites."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError

from trucewatch.agreement import AgreementError, load_agreement
from trucewatch.data import default_agreement_path
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import sign_observation
from trucewatch.mission import MissionError, adapter_key, open_mission_store
from trucewatch.model import Source, SourceKind, from_unix, to_utc
from trucewatch.sources.drone.detections import read_detections
from trucewatch.sources.drone.geometry import Dem
from trucewatch.sources.drone.pipeline import (
    UnregisteredSource,
    bind_source,
    process_flight,
    resolve_source,
    source_for_file,
)
from trucewatch.sources.drone.queries import seen_at, site_status
from trucewatch.sources.drone.sites import SitesError, load_sites
from trucewatch.sources.drone.state import DroneState
from trucewatch.sources.drone.telemetry import Camera, TelemetryError, read_flight
from trucewatch.store import StoreMissing

app = typer.Typer(help="Drone patrols: telemetry, coverage, weapon sightings, storage sites, GNSS interference.",
                  no_args_is_help=True)

StateOpt = typer.Option(None, "--state", help="State directory (default $TRUCEWATCH_DRONE_STATE or ./trucewatch-data/drone).")


def _fail(msg: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _state(path: Path | None) -> Any:
    return DroneState(path)


def _time(value: str | None, name: str) -> float | None:
    if value is None:
        return None

    try:
        return to_utc(datetime.fromisoformat(value.replace("Z", "+00:00"))).timestamp()
    except ValueError:
        _fail(f"{name}: {value!r} is not an ISO 8601 time")
    return None


_AGREEMENTS: dict[tuple[str, float], Any] = {}


def _agreement(path: Path | None) -> Any:
    """Load (once per process and file version: deriving zones takes seconds) the agreement."""
    p = Path(path or default_agreement_path())
    try:
        key = (str(p.resolve()), p.stat().st_mtime)
    except OSError as exc:
        _fail(f"{p}: {exc}", 1)
    if key not in _AGREEMENTS:
        try:
            _AGREEMENTS[key] = load_agreement(p)
        except AgreementError as exc:
            _fail(str(exc), 1)
    return _AGREEMENTS[key]


@app.command()
def register(
    source_id: str = typer.Argument(..., help="Source id of the airframe, e.g. drone:lr-01."),
    sysid: int = typer.Option(None, "--sysid", help="MAVLink system id in its logs."),
    name: str = typer.Option("", "--name"),
    party: str = typer.Option("neutral", "--party"),
    hfov: float = typer.Option(60.0, "--hfov", help="Horizontal field of view, degrees."),
    vfov: float = typer.Option(34.0, "--vfov", help="Vertical field of view, degrees."),
    width: int = typer.Option(1920, "--width"),
    height: int = typer.Option(1080, "--height"),
    gimbal_frame: str = typer.Option("horizon", "--gimbal-frame", help="horizon (stabilised) or body (fixed mount)."),
    mount_pitch: float = typer.Option(-90.0, "--mount-pitch", help="Camera pitch when the log has no gimbal data."),
    frame_interval: float = typer.Option(1.0, "--frame-interval", help="Seconds between camera frames."),
    state: Path | None = StateOpt,
) -> None:
    """Register an airframe as a DRONE source (flights from unregistered airframes are refused)."""
    try:
        cam = Camera(hfov_deg=hfov, vfov_deg=vfov, width_px=width, height_px=height, gimbal_frame=gimbal_frame,
                     mount_pitch_deg=mount_pitch, frame_interval_s=frame_interval)
        attrs: dict[str, Any] = {"camera": cam.to_dict()}
        if sysid is not None:
            attrs["sysid"] = sysid
        src = Source(id=source_id, kind=SourceKind.DRONE, name=name, party=party, attributes=attrs)
        _state(state).register(src)
    except (ValueError, ValidationError) as exc:
        _fail(str(exc).splitlines()[0] if isinstance(exc, ValidationError) else str(exc))
    typer.echo(f"registered {source_id}")


@app.command()
def ingest(
    log: Path = typer.Argument(..., help="Telemetry: MAVLink .tlog or telemetry .jsonl."),
    source: str = typer.Option(None, "--source", help="Registered source id (default: found by the log's MAVLink sysid)."),
    detections: Path = typer.Option(None, "--detections", "-d", help="Detections JSONL for this flight."),
    det_flight: str = typer.Option(None, "--detections-flight",
                                   help="The flight_id this log has in the detections file, when it is not ours."),
    agreement: Path = typer.Option(None, "--agreement", "-a", help="Agreement YAML (default: bundled sample)."),
    dem: Path = typer.Option(None, "--dem", help="Terrain model (GeoTIFF, EPSG:4326) instead of flat ground."),
    store: str = typer.Option(None, "--store", help="Also add the source and observations to this store (URL or SQLite path)."),
    as_json: bool = typer.Option(False, "--json"),
    state: Path | None = StateOpt,
) -> None:
    """Read a flight log, find interference, coverage, sightings and violation candidates; keep them in the state."""
    st = _state(state)
    if not log.exists():
        _fail(f"{log}: no such file")
    try:
        src = source_for_file(str(log), st.sources(), source)
        cam = st.camera_of(src) if src is not None and src.attributes.get("camera") else None
        flight = read_flight(log, cam)
        if src is None:
            src = resolve_source(flight, st.sources(), source)
        bind_source(flight, src)
    except (TelemetryError, UnregisteredSource, OSError) as exc:
        _fail(str(exc))
    dets: list = []
    problems: list[str] = []
    if detections is not None:
        try:
            batch = read_detections(detections, flight.flight_id)
        except OSError as exc:
            _fail(f"{detections}: {exc}")
        problems += batch.problems
        if det_flight:
            for d_ in batch.detections:
                if d_.flight_id == det_flight:
                    d_.flight_id = flight.flight_id
        others = sorted({d.flight_id for d in batch.detections} - {flight.flight_id})
        dets = [d for d in batch.detections if d.flight_id == flight.flight_id]
        if others and not dets:
            problems.append(f"{detections.name}: no detection names flight {flight.flight_id} (found {', '.join(others[:3])})")
    d = None
    if dem is not None:
        try:
            d = Dem.from_file(str(dem))
        except Exception as exc:  # rasterio raises its own error types for unreadable rasters
            _fail(f"{dem}: {exc}")
    agr = _agreement(agreement) if dets else None  # only sightings need the agreement
    res = process_flight(flight, dets, agr, dem=d, detections_label=detections.name if detections else "detections")
    res.problems = problems + res.problems
    st.save_flight(res, {"dem": str(dem.resolve())} if dem is not None else None)
    summary = res.summary()
    if store:  # through the ledger: signed with the airframe's key from the mission's key folder, then logged
        try:
            with open_mission_store(store) as s:
                if s.get_source(src.id) is None:
                    src = src.model_copy(update={"attributes": {**src.attributes, "adapter": True}})
                sk = adapter_key(s, src)
                rep = ingest_signed(s, [sign_observation(o, sk) for o in res.observations])
                summary["store"] = rep.as_dict()
        except (StoreMissing, MissionError, ValueError) as exc:
            _fail(f"--store: {exc}")
    for p in res.problems[:50]:
        typer.echo(f"warning: {p}", err=True)
    if len(res.problems) > 50:
        typer.echo(f"warning: ... and {len(res.problems) - 50} more flagged records", err=True)
    if as_json:
        typer.echo(json.dumps({**summary, "candidates": res.candidates,
                               "interference": [o.attributes | {"id": o.id} for o in res.interference]}, default=str))
    else:
        typer.echo(f"flight {flight.flight_id} ({src.id}): {summary['frames']} frames, {summary['sightings']} sightings, "
                   f"{summary['violation_candidates']} weapons in withdrawal zones, {summary['interference']} interference "
                   f"episodes, {summary['problems']} flagged records")


@app.command()
def flights(as_json: bool = typer.Option(False, "--json"), state: Path | None = StateOpt) -> None:
    """List ingested flights."""
    st = _state(state)
    rows = [{k: v for k, v in st.summary(f).items() if k not in ("candidates", "episodes", "problems", "camera")}
            for f in st.flight_ids()]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for r in rows:
        typer.echo(f"{r['flight_id']}  {r['start'][:19]}  {r['duration_h']:.2f} h  {r['sightings']} sightings  "
                   f"{r['interference']} interference")


@app.command()
def coverage(
    flight: str = typer.Option(..., "--flight", help="Flight id (see `trucewatch drone flights`)."),
    out: Path = typer.Option(..., "--out", help="GeoJSON file to write."),
    state: Path | None = StateOpt,
) -> None:
    """Write a flight's coverage (footprints by ground-resolution band, and the track) as GeoJSON."""
    st = _state(state)
    try:
        fs = st.frames(flight)
    except KeyError:
        _fail(f"unknown flight {flight!r}; known: {', '.join(st.flight_ids()[:10]) or 'none'}")
    gj = fs.to_geojson()
    out.write_text(json.dumps(gj))
    typer.echo(f"wrote {out} ({len(gj['features'])} features)")


@app.command()
def seen(
    lat: float = typer.Option(..., "--lat"),
    lon: float = typer.Option(..., "--lon"),
    t_from: str = typer.Option(None, "--from", help="ISO 8601 start (default: any)."),
    t_to: str = typer.Option(None, "--to", help="ISO 8601 end (default: any)."),
    cls: str = typer.Option("tank", "--class", help="Sighting class whose required resolution applies."),
    state: Path | None = StateOpt,
) -> None:
    """Was this place observed between two times at a resolution good enough for the class? (JSON)"""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        _fail(f"--lat/--lon: {lat},{lon} is off the globe")
    st = _state(state)
    r = seen_at(st, lat, lon, _time(t_from, "--from"), _time(t_to, "--to"), cls)
    typer.echo(json.dumps({"lat": lat, "lon": lon, "class": cls, "required_gsd_m": r["required_gsd_m"],
                           "observed": r["observed"],
                           "first_time": from_unix(r["first_time"]).isoformat() if r["observed"] else None,
                           "flight_id": r["flight_id"], "best_gsd_m": r["best_gsd_m"]}))


@app.command()
def sites(
    sites_file: Path = typer.Option(None, "--sites", help="Sites file (default: sites.yaml in the state directory)."),
    t_from: str = typer.Option(None, "--from"),
    t_to: str = typer.Option(None, "--to"),
    all_visits: bool = typer.Option(False, "--all-visits", help="Every visit, not only the latest per site and class."),
    as_json: bool = typer.Option(False, "--json"),
    state: Path | None = StateOpt,
) -> None:
    """Per declared storage site and class: declared, seen, status (present / missing / unverifiable)."""
    st = _state(state)
    path = sites_file or st.root / "sites.yaml"
    if not path.exists():
        _fail(f"{path}: no sites file (give --sites FILE)")
    try:
        declared = load_sites(path)
    except SitesError as exc:
        _fail(str(exc))
    recs = site_status(st, declared, _time(t_from, "--from"), _time(t_to, "--to"), all_visits=all_visits)
    if as_json:
        typer.echo(json.dumps(recs, default=str))
        return
    for r in recs:
        typer.echo(f"{r['site_id']:<20} {r['class']:<26} declared {r['declared']:>3}  seen {r['seen']:>3}  {r['status']}")
