"""``trucewatch sea``: decode AIS NMEA, judge vessel tracks against a maritime agreement, simulate traffic."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import typer

from trucewatch.agreement import AgreementError, load_agreement
from trucewatch.model import from_unix, to_utc
from trucewatch.sim.sea import simulate_sea
from trucewatch.sources.sea.incidents import detect_incidents, incident_observations
from trucewatch.sources.sea.live import decode_stream, tcp_lines, udp_lines
from trucewatch.sources.sea.nmea import Positions, decode_lines
from trucewatch.sources.sea.pipeline import SeaResult, process_file, read_naval_list
from trucewatch.sources.sea.tracks import build_tracks

app = typer.Typer(help="AIS (NMEA !AIVDM/!AIVDO): decode, vessel tracks, maritime incidents, live feeds.",
                  no_args_is_help=True)

DEFAULT_AGREEMENT = Path(__file__).resolve().parents[1] / "data" / "agreements" / "black-sea-maritime" / "agreement.yaml"


def _agreement(path: Path | None) -> Any:
    try:
        return load_agreement(path or DEFAULT_AGREEMENT)
    except AgreementError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def _start(start: str | None) -> float | None:
    if not start:
        return None

    try:
        return to_utc(datetime.fromisoformat(start.replace("Z", "+00:00"))).timestamp()
    except ValueError:
        typer.echo(f"error: --start: {start!r} is not an ISO 8601 time", err=True)
        raise typer.Exit(2) from None


def _interval(start: float | None, interval: float | None) -> float | None:
    """An assumed rate is used only when asked for, and only with a start time."""
    if interval is None:
        if start is not None:
            typer.echo("error: --start needs --line-interval (assumed seconds per line): one start time for "
                       "every untimed line would date them all alike", err=True)
            raise typer.Exit(2)
        return None
    if not interval > 0:
        typer.echo(f"error: --line-interval: {interval} must be a positive number of seconds", err=True)
        raise typer.Exit(2)
    if start is None:
        typer.echo("error: --line-interval needs --start (the assumed time of line 1)", err=True)
        raise typer.Exit(2)
    return interval


def _untimed_note(stats: dict) -> None:
    if stats.get("untimed"):
        typer.echo(f"note: {stats['untimed']} sentences carry no receiver time (no tag block c:, time prefix/suffix "
                   "or $GPRMC/$PGHP clock before them): decoded in line order with time unknown, not judged for "
                   "incidents; give --start and --line-interval to assume times", err=True)


def _naval(path: Path | None) -> set[int] | None:
    if path is None:
        return None

    try:
        return read_naval_list(path)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _report(res: Any, out: Path | None, as_json: bool, errors_shown: int = 20) -> None:
    for e in res.errors[:errors_shown]:
        typer.echo(f"error: {e}", err=True)
    if len(res.errors) > errors_shown:
        typer.echo(f"... and {len(res.errors) - errors_shown} more errors", err=True)
    if out is not None:
        with out.open("w", encoding="utf-8") as fh:
            for o in res.observations:
                fh.write(o.model_dump_json() + "\n")
    if as_json:
        typer.echo(json.dumps({"stats": res.stats, "errors": [asdict(e) for e in res.errors],
                               "incidents": [{"incident": i.incident, "mmsi": i.mmsi, "t": i.t, "lat": i.lat,
                                              "lon": i.lon, "zone_id": i.zone_id} for i in res.incidents]},
                              default=str))
        return
    so = res.stats.get("vessels_static_only")
    typer.echo(f"{res.stats.get('lines', 0)} lines, {res.stats.get('positions', 0)} positions, "
               f"{res.stats.get('vessels', 0)} vessels{f' (+{so} static only)' if so else ''}, "
               f"{res.stats.get('vessel_hours', 0)} vessel-hours, "
               f"{len(res.errors)} errors, {len(res.incidents)} incidents")
    for i in res.incidents:
        extra = i.attrs.get("spoof_mode") or (f"{i.attrs['gap_s'] / 3600:.1f} h" if "gap_s" in i.attrs else "")
        typer.echo(f"  {from_unix(i.t).isoformat()}  {i.incident:22s} mmsi {i.mmsi}  "
                   f"{i.attrs.get('vessel_type', '')}  zone {i.zone_id or '-'}  {extra}")
    if out is not None:
        typer.echo(f"wrote {len(res.observations)} observations to {out}")


@app.command()
def incidents(
    file: Path = typer.Argument(..., help="NMEA file (one sentence per line; tag block c: or a time prefix gives the time)."),
    agreement: Path | None = typer.Option(None, "--agreement", "-a", help="Agreement YAML (default: black-sea-maritime)."),
    naval_mmsi: Path | None = typer.Option(None, help="File of known naval MMSIs (one per line)."),
    start: str | None = typer.Option(None, help="Assumed time (ISO 8601) of line 1, with --line-interval."),
    line_interval: float | None = typer.Option(None, help="Assumed seconds per line for lines without a time "
                                                          "(needs --start); without both they stay untimed."),
    out: Path | None = typer.Option(None, "--out", help="Write VESSEL_INCIDENT observations as JSONL."),
    source_id: str = typer.Option("ais:feed", help="Registered source id of the feed."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Decode an AIS file, build vessel tracks, and list incidents against the agreement."""
    if not file.is_file():
        typer.echo(f"error: {file}: file not found", err=True)
        raise typer.Exit(2)
    t0 = _start(start)
    res = process_file(file, _agreement(agreement), source_id=source_id, naval_mmsi=_naval(naval_mmsi),
                       start_time=t0, line_interval=_interval(t0, line_interval))
    if not as_json:
        _untimed_note(res.stats)
    _report(res, out, as_json)


@app.command()
def decode(
    file: Path = typer.Argument(..., help="NMEA file."),
    start: str | None = typer.Option(None, help="Assumed time (ISO 8601) of line 1, with --line-interval."),
    line_interval: float | None = typer.Option(None, help="Assumed seconds per line for lines without a time "
                                                          "(needs --start); without both they stay untimed."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Decode only: counts, per-record errors and the vessels heard (identity from static messages;
    vessels that sent only static data are listed with 0 reports)."""
    if not file.is_file():
        typer.echo(f"error: {file}: file not found", err=True)
        raise typer.Exit(2)
    t0 = _start(start)
    interval = _interval(t0, line_interval)
    with file.open("rb") as fh:
        res = decode_lines(fh, t0, interval)
    tr = build_tracks(res.positions, res.statics)
    vessels = tr.vessel_rows()
    if as_json:
        typer.echo(json.dumps({"stats": res.stats, "errors": [asdict(e) for e in res.errors], "vessels": vessels}))
        return
    for e in res.errors:
        typer.echo(f"error: {e}", err=True)
    _untimed_note(res.stats)
    st = res.stats
    typer.echo(f"{st['lines']} AIS lines, {st['messages']} messages, {len(res.positions)} positions, "
               f"{len(vessels)} vessels ({len(tr.static_only())} static only), {len(res.errors)} errors; "
               f"{st['comments']} comment, {st['blank']} blank, {st['other_nmea']} other NMEA lines")
    for v in vessels:
        typer.echo(f"  {v['mmsi']}  {v['reports']:6d} reports  {v['name'] or '?':20s} {v['callsign'] or '?':8s} "
                   f"{v['category']:16s} {v['flag']}")


@app.command()
def listen(
    tcp: str | None = typer.Option(None, help="host:port of a TCP AIS server to read from."),
    udp: str | None = typer.Option(None, help="host:port to receive UDP AIS datagrams on."),
    seconds: float = typer.Option(60.0, help="Stop after this long."),
    agreement: Path | None = typer.Option(None, "--agreement", "-a"),
    out: Path | None = typer.Option(None, "--out", help="Write VESSEL_INCIDENT observations as JSONL."),
    source_id: str = typer.Option("ais:live"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Read a live feed for a while, then judge the tracks it gave."""
    if (tcp is None) == (udp is None):
        typer.echo("error: give exactly one of --tcp or --udp", err=True)
        raise typer.Exit(2)
    addr = tcp or udp or ""
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit():
        typer.echo(f"error: {'--tcp' if tcp else '--udp'}: {addr!r} is not host:port", err=True)
        raise typer.Exit(2)
    try:
        lines = tcp_lines(host, int(port), max_s=seconds) if tcp else udp_lines(host, int(port), max_s=seconds)
        parts, statics, errors, n = [], [], [], 0
        for r in decode_stream(lines):
            parts.append(r.positions)
            statics += r.statics
            errors += r.errors
            n += r.stats.get("lines", 0)
    except OSError as exc:
        typer.echo(f"error: {addr}: {exc}", err=True)
        raise typer.Exit(1) from None
    tracks = build_tracks(Positions.concat(parts), statics)
    agr = _agreement(agreement)
    inc = detect_incidents(tracks, agr)
    res = SeaResult(tracks, inc, incident_observations(inc, source_id), errors,
                    {"lines": n, "positions": len(tracks.pos), "vessels": len(tracks),
                     "vessel_hours": round(tracks.hours(), 2)})
    _report(res, out, as_json)


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="NMEA file to write; the truth goes beside it as .truth.json."),
    hours: float = typer.Option(24.0),
    vessels: int = typer.Option(30, help="Merchant vessels on the corridor."),
    seed: int = typer.Option(1),
) -> None:
    """Simulate AIS traffic on the Black Sea corridor (real NMEA, with gaps, spoofing and a warship)."""
    sim = simulate_sea(np.random.default_rng(seed), hours=hours, n_merchants=vessels)
    sim.write(out)
    truth = out.with_suffix(".truth.json")
    truth.write_text(json.dumps([asdict(t) for t in sim.truth], indent=1))
    typer.echo(f"wrote {len(sim.lines)} sentences to {out} and {len(sim.truth)} truth incidents to {truth}")
