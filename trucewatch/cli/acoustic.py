"""``trucewatch acoustic``: locate arrivals, plan a sensor network, listen to field sensors over MQTT."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import typer

from trucewatch.agreement import load_agreement
from trucewatch.sim.acoustic import band_network, simulate_arrivals, sources_from_scenario
from trucewatch.sim.scenario import day_bounds, make_scenario
from trucewatch.sources.acoustic import locate_files
from trucewatch.sources.acoustic.associate import LocateConfig
from trucewatch.sources.acoustic.formats import read_sensors
from trucewatch.sources.acoustic.geometry import speed_of_sound
from trucewatch.sources.acoustic.pairing import pair_fixes
from trucewatch.sources.acoustic.plan import plan
from trucewatch.sources.acoustic.stream import listen

app = typer.Typer(help="Acoustic sensor network: associate arrivals, locate launches and impacts, plan coverage.",
                  no_args_is_help=True)


def _cfg(temp_c: float, max_range_km: float, model_sigma_ms: float, wind_ms: float = 0.0, wind_from_deg: float = 0.0):
    try:
        speed_of_sound(temp_c)
    except ValueError as exc:
        typer.echo(f"error: --temp-c: {exc}", err=True)
        raise typer.Exit(2) from None
    if not 0.1 <= max_range_km <= 200:
        typer.echo(f"error: --max-range-km: {max_range_km} is outside 0.1..200", err=True)
        raise typer.Exit(2)
    if not 0 <= wind_ms <= 60 or not math.isfinite(wind_from_deg):
        typer.echo(f"error: --wind-ms: {wind_ms} is outside 0..60 m/s (or --wind-from-deg is not a number)", err=True)
        raise typer.Exit(2)
    # meteorological convention: the direction the wind blows from, clockwise from north
    th = math.radians(wind_from_deg)
    return LocateConfig(temp_c=temp_c, max_range_m=max_range_km * 1000.0, model_sigma_s=model_sigma_ms / 1000.0,
                        wind_e_ms=-wind_ms * math.sin(th), wind_n_ms=-wind_ms * math.cos(th))


def _need(path: Path, opt: str) -> None:
    if not path.is_file():
        typer.echo(f"error: {opt}: {path} is not a readable file", err=True)
        raise typer.Exit(2)


def _load_agreement(agreement: Path | None):
    if agreement is None:
        return None

    try:
        return load_agreement(agreement)
    except Exception as exc:  # AgreementError lists every problem; show them, no traceback
        typer.echo(f"error: --agreement: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("locate")
def locate_cmd(
    sensors: Path = typer.Option(..., "--sensors", help="Sensor registry CSV: sensor_id,lat,lon,alt_m[,clock_sigma_s]."),
    arrivals: Path = typer.Option(..., "--arrivals", help="Arrivals CSV or JSONL: sensor_id,time_unix_s[,snr_db,kind_hint,bearing_deg]."),
    temp_c: float = typer.Option(15.0, "--temp-c", help="Air temperature (C) for the speed of sound."),
    max_range_km: float = typer.Option(20.0, "--max-range-km", help="Farthest a sensor can hear a source."),
    model_sigma_ms: float = typer.Option(0.0, "--model-sigma-ms", help="Propagation error added to each clock sigma."),
    wind_ms: float = typer.Option(0.0, "--wind-ms", help="Known surface wind speed (m/s) from a met report."),
    wind_from_deg: float = typer.Option(0.0, "--wind-from-deg", help="Direction the wind blows from (deg from north)."),
    agreement: Path | None = typer.Option(None, "--agreement", help="Agreement YAML: adds launch-impact pairs with sides."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Associate arrivals into events and locate each; explain every event that cannot be fixed."""
    _need(sensors, "--sensors")
    _need(arrivals, "--arrivals")
    cfg = _cfg(temp_c, max_range_km, model_sigma_ms, wind_ms, wind_from_deg)
    agr = _load_agreement(agreement)
    res = locate_files(sensors, arrivals, cfg)
    for e in res.errors:
        typer.echo(f"error: {e}", err=True)
    for n in res.notes:
        typer.echo(f"note: {n}", err=True)
    pairs = pair_fixes(res.fixes, agr) if agr is not None or any(f.kind == "launch" for f in res.fixes) else []
    pid = {fid: p.pair_id for p in pairs for fid in (p.launch_id, p.impact_id)}
    items: list[tuple[float, str]] = []
    for f in res.fixes:
        d = f.to_json()
        if f.id in pid:
            d["pair_id"] = pid[f.id]
        items.append((f.time_unix_s, json.dumps(d) if as_json else
                      f"{f.kind:9s} t={f.time_unix_s:.3f} {f.lat:.6f},{f.lon:.6f} ±{f.err_major_m:.1f}/{f.err_minor_m:.1f} m "
                      f"@{f.err_angle_deg:.0f}° n={f.n_sensors} rms={f.residual_rms_s * 1000:.2f} ms id={f.id}"))
    for fl in res.failures:
        items.append((fl.time_unix_s, json.dumps({"error": fl.line(), "time_unix_s": round(fl.time_unix_s, 4),
                                                  "sensor_ids": fl.sensor_ids, "arrival_ids": fl.arrival_ids})
                      if as_json else fl.line()))
    for _, line in sorted(items, key=lambda x: x[0]):
        typer.echo(line)
    for p in pairs:
        typer.echo(json.dumps({"pair": p.to_json()}) if as_json else
                   f"pair {p.pair_id}: launch {p.launch_id} -> impact {p.impact_id} tof {p.tof_s:.1f} s range "
                   f"{p.range_m / 1000:.1f} km launch side {p.launch_side} impact side {p.impact_side} "
                   f"across {p.across_line} attribution {p.attribution}")
    typer.echo(f"located {len(res.fixes)} event(s); {len(res.failures)} cannot be located; "
               f"{len(res.errors)} bad record(s)", err=True)


@app.command("plan")
def plan_cmd(
    sensors: Path = typer.Option(..., "--sensors", help="Sensor registry CSV."),
    agreement: Path = typer.Option(..., "--agreement", help="Agreement YAML (its contact line is the target)."),
    out: Path = typer.Option(Path("acoustic-plan.png"), "--out", help="Map PNG to write."),
    range_km: float = typer.Option(8.0, "--range-km", help="Distance within which a sensor hears a typical shell."),
    add: int = typer.Option(0, "--add", help="Propose this many more sensors (greedy, to cover the line)."),
    threshold_m: float = typer.Option(100.0, "--threshold-m", help="Error that counts as covered."),
    temp_c: float = typer.Option(15.0, "--temp-c"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Map the expected location error (Cramér-Rao bound) and the share of the contact line covered."""
    _need(sensors, "--sensors")
    agr = _load_agreement(agreement)
    sens, errs = read_sensors(sensors)
    for e in errs:
        typer.echo(f"error: {e}", err=True)
    if range_km <= 0 or add < 0 or threshold_m <= 0:
        typer.echo("error: --range-km and --threshold-m must be positive, --add not negative", err=True)
        raise typer.Exit(2)
    res = plan(sens, agr, range_m=range_km * 1000, temp_c=temp_c, threshold_m=threshold_m, add=add, out_png=str(out))
    d = res.to_json() | {"map": str(out)}
    if as_json:
        typer.echo(json.dumps(d))
    else:
        typer.echo(f"contact line within {threshold_m:.0f} m: {res.coverage_share:.1%}"
                   + (f" -> {res.coverage_after:.1%} with {len(res.added)} more sensor(s)" if res.coverage_after is not None else "")
                   + f"; map: {out}")
        for a in res.added:
            typer.echo(f"  add sensor at {a['lat']:.5f},{a['lon']:.5f}")


@app.command("listen")
def listen_cmd(
    sensors: Path = typer.Option(..., "--sensors", help="Sensor registry CSV."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(1883, "--port"),
    duration_s: float = typer.Option(0.0, "--duration", help="Stop after this many seconds (0: until interrupted)."),
    temp_c: float = typer.Option(15.0, "--temp-c"),
    max_range_km: float = typer.Option(20.0, "--max-range-km"),
    wind_ms: float = typer.Option(0.0, "--wind-ms", help="Known surface wind speed (m/s)."),
    wind_from_deg: float = typer.Option(0.0, "--wind-from-deg", help="Direction the wind blows from (deg)."),
) -> None:
    """Locate arrivals streamed on MQTT topic trucewatch/arrivals/<sensor_id>; one JSON line per fix."""
    _need(sensors, "--sensors")
    sens, errs = read_sensors(sensors)
    for e in errs:
        typer.echo(f"error: {e}", err=True)
    cfg = _cfg(temp_c, max_range_km, 0.0, wind_ms, wind_from_deg)

    def show(res) -> None:
        for e in res.errors:
            typer.echo(f"error: {e}", err=True)
        for f in res.fixes:
            typer.echo(json.dumps(f.to_json()))
        for fl in res.failures:
            typer.echo(json.dumps({"error": fl.line(), "time_unix_s": round(fl.time_unix_s, 4),
                                   "sensor_ids": fl.sensor_ids, "arrival_ids": fl.arrival_ids}))
        sys.stdout.flush()

    try:
        listen(sens, cfg, host=host, port=port, duration_s=duration_s, on_result=show)
    except (ConnectionError, OSError) as exc:
        typer.echo(f"error: MQTT broker {host}:{port}: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


@app.command("simulate")
def simulate_cmd(
    agreement: Path = typer.Option(..., "--agreement", help="Agreement YAML (sensors go along its contact line)."),
    out_dir: Path = typer.Option(Path("."), "--out-dir"),
    scenario: str = typer.Option("demo", "--scenario", help="demo, quiet or heavy."),
    seed: int = typer.Option(1, "--seed"),
    fa_per_hour: float = typer.Option(0.25, "--fa-per-hour", help="False alarms per sensor per hour."),
) -> None:
    """Write sensors.csv and arrivals.csv heard from a simulated scenario (input for ``locate``)."""
    agr = _load_agreement(agreement)
    try:
        sc = make_scenario(agr, scenario, seed)
    except ValueError as exc:
        typer.echo(f"error: --scenario: {exc}", err=True)
        raise typer.Exit(2) from None
    rng = np.random.default_rng(seed)
    sens = band_network(agr.line_en, agr.frame, rng)
    arr, _ = simulate_arrivals(sens, sources_from_scenario(sc, agr, rng), rng, t_span=day_bounds(sc.day),
                              fa_per_hour=fa_per_hour)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "sensors.csv").write_text(sens.to_csv())
    (out_dir / "arrivals.csv").write_text(arr.to_csv(sens))
    typer.echo(f"wrote {len(sens)} sensors and {len(arr)} arrivals to {out_dir}")
