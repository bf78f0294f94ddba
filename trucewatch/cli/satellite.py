"""``trucewatch satellite``: FIRMS intake, background model and excess fires, radar change detection."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import typer

from trucewatch.sources.satellite.background import BackgroundModel, ModelError
from trucewatch.sources.satellite.background import detect as run_detect
from trucewatch.sources.satellite.firms import FirmsBatch, FirmsError, read_firms, to_observations
from trucewatch.sources.satellite.radar import RadarError, change_test, load_footprints
from trucewatch.sources.satellite.radar import to_observations as radar_observations

app = typer.Typer(help="Satellites: FIRMS thermal anomalies against a background model; radar damage.",
                  no_args_is_help=True)
background_app = typer.Typer(help="Background fire model (expected fires per 0.1 degree cell, day of year, daypart).",
                             no_args_is_help=True)
app.add_typer(background_app, name="background")


def _fail(msg: str, code: int = 2) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def _read(files: list[Path], since: str | None = None, until: str | None = None, as_json: bool = False):
    """Read every file; a file that cannot be read is reported and the others still load."""
    batches = []
    for f in files:
        try:
            batches.append(read_firms(f))
        except FirmsError as exc:
            if as_json:
                typer.echo(json.dumps({"file": str(f), "line": None, "field": None, "error": str(exc)}))
            typer.echo(f"error: {exc}", err=True)
    if not batches:
        raise typer.Exit(2)
    b = FirmsBatch.concat(batches)
    keep = np.ones(len(b), bool)
    for bound, op in ((since, np.greater_equal), (until, np.less)):
        if bound:
            try:
                tb = float(np.datetime64(bound, "s").astype(np.int64))
            except ValueError:
                _fail(f"--since/--until: {bound!r} is not an ISO date")
            keep &= op(b.t, tb)
    return b.subset(keep) if not keep.all() else b


def _iso(t: float) -> str:
    return datetime.fromtimestamp(float(t), tz=UTC).isoformat().replace("+00:00", "Z")


@app.command()
def ingest(
    files: list[Path] = typer.Argument(..., help="FIRMS CSV file(s): VIIRS or MODIS, archive or NRT."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per accepted detection and per rejected row."),
    observations: bool = typer.Option(False, "--observations", help="Print full THERMAL_ANOMALY observations."),
) -> None:
    """Validate FIRMS files; print detections (with pixel footprint) and row errors. Exit 0 if any row loaded."""
    b = _read(files, as_json=as_json or observations)
    if observations:
        for o in to_observations(b):
            typer.echo(o.model_dump_json())
    elif as_json:
        tt = [_iso(x) for x in b.t.tolist()]
        for i in range(len(b)):
            frp = b.frp[i]
            typer.echo(json.dumps({
                "lat": float(b.lat[i]), "lon": float(b.lon[i]), "time": tt[i], "satellite": b.satellite[i] or None,
                "instrument": b.instrument[i] or None, "confidence": b.confidence[i] or None,
                "frp": None if math.isnan(frp) else float(frp),
                "footprint_km": [float(b.scan_km[i]), float(b.track_km[i])],
                "daynight": {0: "D", 1: "N"}.get(int(b.daypart[i])), "file": b.file, "line": int(b.line[i]),
            }))
    for e in b.errors:
        if as_json or observations:
            typer.echo(json.dumps(e.to_json()))
        else:
            typer.echo(str(e), err=True)
    for n in b.notes:
        typer.echo(f"note: {n}", err=True)
    if not as_json and not observations:
        typer.echo(f"{len(b)} detection(s) accepted, {len(b.errors)} row(s) rejected")
    raise typer.Exit(0 if len(b) else 1)


@background_app.command("fit")
def background_fit(
    history: list[Path] = typer.Argument(..., help="FIRMS history CSV file(s) (years of detections)."),
    out: Path = typer.Option(..., "--out", help="Model file to write (.npz)."),
    since: str | None = typer.Option(None, "--since", help="Use history from this date (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Use history before this date (YYYY-MM-DD)."),
    cell_deg: float = typer.Option(0.1, "--cell-deg", help="Cell size in degrees."),
    persistent_frac: float = typer.Option(0.2, "--persistent-frac",
                                          help="Cells burning on at least this share of days are persistent."),
) -> None:
    """Fit the background model: expected fires per cell, day of year and daypart, with persistent sources."""
    b = _read(history, since, until)
    for e in b.errors:
        typer.echo(str(e), err=True)
    try:
        m = BackgroundModel.fit(b, cell_deg=cell_deg, persistent_frac=persistent_frac)
        m.save(out)
    except (ModelError, OSError) as exc:
        _fail(str(exc))
    typer.echo(json.dumps({"model": str(out), "detections": len(b), "rejected_rows": len(b.errors),
                           "cells": int(m.cell_keys.size), "persistent_cells": int(m.persistent.sum()),
                           "dayparts": m.dayparts, "dispersion_k": round(m.dispersion_k, 4),
                           "first_day": m.meta["first_day"], "last_day": m.meta["last_day"]}))


@app.command()
def detect(
    new: list[Path] = typer.Argument(..., help="FIRMS CSV file(s) to judge."),
    model: Path = typer.Option(..., "--model", help="Model from `satellite background fit`."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per flagged cluster."),
    alpha: float = typer.Option(0.05, "--alpha", help="Flag a cell-day when its count has under this probability."),
    since: str | None = typer.Option(None, "--since"),
    until: str | None = typer.Option(None, "--until"),
    observations: bool = typer.Option(False, "--observations",
                                      help="Print every detection as a THERMAL_ANOMALY observation with excess/p_value."),
) -> None:
    """Flag excess fire activity against the background model and cluster it."""
    try:
        m = BackgroundModel.load(model)
    except ModelError as exc:
        _fail(str(exc))
    b = _read(new, since, until)
    for e in b.errors:
        typer.echo(json.dumps(e.to_json()) if as_json else str(e), err=True)
    d = run_detect(m, b, alpha=alpha)
    if observations:
        for o in to_observations(b, excess=d.excess, p_value=d.p_value, expected=d.expected):
            typer.echo(o.model_dump_json())
        return
    for c in d.clusters:
        if as_json:
            typer.echo(json.dumps(c))
        else:
            typer.echo(f"{c['first_seen']} {c['lat']:.4f},{c['lon']:.4f} r={c['radius_m']:.0f} m: {c['explanation']}")
    if not as_json:
        typer.echo(f"{int(d.excess.sum())} of {len(b)} detection(s) in excess, {len(d.clusters)} cluster(s)", err=True)


@app.command()
def radar(
    files: list[Path] = typer.Argument(..., help="Co-registered GeoTIFFs (VV/VH amplitude), one per date."),
    split: str = typer.Option(..., "--split", help="First date of the inspection window (YYYY-MM-DD)."),
    footprints: Path | None = typer.Option(None, "--footprints", help="Building footprints (GeoJSON, lon/lat)."),
    out: Path | None = typer.Option(None, "--out", help="Write the change-probability raster (GeoTIFF)."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines: one per footprint, then a summary."),
    tile: int = typer.Option(512, "--tile", help="Tile size in pixels (memory: files x 2 x tile^2 x 4 bytes)."),
    corr_px: float = typer.Option(2.0, "--corr-px", help="Pixels per independent speckle sample (GRD: 2-4)."),
    inspect_days: int | None = typer.Option(None, "--inspect-days", help="Inspection window length in days."),
    threshold: float = typer.Option(0.9, "--threshold", help="DAMAGE observations at or above this probability."),
    observations: bool = typer.Option(False, "--observations", help="Print DAMAGE observations."),
) -> None:
    """Pixel-wise t-test change detection: reference dates before --split against the inspection window."""
    try:
        fc = load_footprints(footprints) if footprints else None
        res = change_test(files, split, out=out, footprints=fc, tile=tile, corr_px=corr_px, inspect_days=inspect_days)
    except RadarError as exc:
        for p in exc.problems:
            typer.echo(f"error: {p}", err=True)
        raise typer.Exit(2) from None
    for n in res.stack.notes:
        typer.echo(f"note: {n}", err=True)
    if observations:
        for o in radar_observations(res, threshold=threshold):
            typer.echo(o.model_dump_json())
        return
    summary: dict[str, Any] = {"reference_images": res.n_ref, "inspection_images": res.n_post,
                               "last_reference": str(res.last_ref), "first_inspection": str(res.first_post),
                               "raster": str(res.probability_path) if res.probability_path else None,
                               **res.pixel_summary,
                               "footprints": len(res.footprints),
                               "footprints_damaged": sum(1 for r in res.footprints
                                                         if (r["damage_probability"] or 0) >= threshold)}
    for r in res.footprints:
        rec = {k: v for k, v in r.items() if not k.startswith("_") and k != "properties"}
        if as_json:
            typer.echo(json.dumps(rec))
        else:
            typer.echo(f"{rec['id']}: damage_probability={rec['damage_probability']} mean_z={rec['mean_z']} "
                       f"pixels={rec['n_pixels']}")
    typer.echo(json.dumps({"summary": summary}) if as_json else json.dumps(summary, indent=2))
