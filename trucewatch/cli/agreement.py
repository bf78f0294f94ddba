"""``trucewatch agreement``: validate agreements and derive lines from areas."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from shapely.geometry import mapping

from trucewatch.agreement import AgreementError, load_agreement, validate_agreement
from trucewatch.agreement.derive import areas_from_occupied, contact_line_from_occupied

app = typer.Typer(help="Agreement files: validate, derive a contact line, export zones.", no_args_is_help=True)


@app.command()
def validate(
    file: Path = typer.Argument(..., help="Agreement YAML file."),
    as_json: bool = typer.Option(False, "--json", help="Print problems as JSON."),
) -> None:
    """Check an agreement; print every problem with its path in the file (exit 1 if any)."""
    problems = validate_agreement(file)
    if as_json:
        typer.echo(json.dumps({"file": str(file), "ok": not problems,
                               "problems": [{"path": p.path, "message": p.message} for p in problems]}))
    elif problems:
        for p in problems:
            typer.echo(f"{file}: {p.path}: {p.message}", err=True)
    else:
        typer.echo(f"{file}: ok")
    raise typer.Exit(1 if problems else 0)


@app.command("from-occupied")
def from_occupied(
    area: Path = typer.Argument(..., help="GeoJSON of the occupied area (Polygon/MultiPolygon, CRS84)."),
    out: Path = typer.Option(Path("."), "--out", help="Directory for contact_line.geojson and areas.geojson."),
    holder: str = typer.Option("UA", help="Party holding the rest of the country."),
    occupier: str = typer.Option("RU", help="Party holding the area."),
    tolerance_km: float = typer.Option(3.0, help="Boundary within this distance of border or coast is not line."),
) -> None:
    """Derive the contact line and both parties' areas from an occupied-area polygon."""
    try:
        obj = json.loads(area.read_text(encoding="utf-8"))
        line = contact_line_from_occupied(obj, border_tolerance_km=tolerance_km)
        areas = areas_from_occupied(obj, holder=holder, occupier=occupier)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        typer.echo(f"error: {area}: {exc}", err=True)
        raise typer.Exit(1) from None
    out.mkdir(parents=True, exist_ok=True)
    (out / "contact_line.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"derived_from": area.name}, "geometry": mapping(line)}]}))
    (out / "areas.geojson").write_text(json.dumps(areas))
    n = len(line.geoms) if hasattr(line, "geoms") else 1
    typer.echo(f"wrote {out / 'contact_line.geojson'} ({n} part(s)) and {out / 'areas.geojson'}")


@app.command()
def zones(
    file: Path = typer.Argument(..., help="Agreement YAML file."),
    out: Path = typer.Option(..., "--out", help="GeoJSON to write: line, zones and protected objects."),
) -> None:
    """Export the line, derived zones and protected objects as GeoJSON."""
    try:
        agr = load_agreement(file)
    except AgreementError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    out.write_text(json.dumps(agr.to_geojson()))
    typer.echo(f"wrote {out}: {len(agr.zones)} zones, {len(agr.protected)} protected objects")
