"""``trucewatch plugins``: what the registries hold, built-ins and plugins.

(Meant for the CLI package, ``trucewatch/cli/``; kept apart so the lead can move it.)
"""

from __future__ import annotations

import json
from typing import Any

import typer

from trucewatch import exports, plugins
from trucewatch.adjudication import rules
from trucewatch.report import sections
from trucewatch.sources import registry


def extensions() -> dict[str, Any]:
    """Every registry's entries, and which installed distributions added plugins."""
    return {
        "sources": registry.describe(),
        "rules": rules.describe(),
        "exports": exports.describe(),
        "report_sections": sections.describe(),
        "distributions": sorted({p.distribution for ps in plugins.load_all().values() for p in ps}),
    }


def plugins_cmd(
    as_json: bool = typer.Option(False, "--json", help="One JSON object: sources, rules, exports, report_sections."),
    only_plugins: bool = typer.Option(False, "--plugins-only", help="Leave the built-ins out."),
) -> None:
    """List the source adapters, rules, export formats and report sections, built-in and
    added by installed plugins (entry points: trucewatch.sources, .rules, .exports, .report_sections)."""
    try:
        ext = extensions()
    except (plugins.PluginError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if only_plugins:
        ext = {k: [e for e in v if e.get("plugin")] if k != "distributions" else v for k, v in ext.items()}
    if as_json:
        typer.echo(json.dumps(ext, indent=2))
        return
    for group in ("sources", "rules", "exports", "report_sections"):
        typer.echo(f"{group}:")
        for e in ext[group]:
            tag = " [plugin]" if e.get("plugin") else ""
            extra = ""
            if group == "sources":
                extra = f" formats={','.join(e['formats']) or '-'}"
            elif group == "rules":
                extra = f" kinds={','.join(e['kinds'])}"
            elif group == "exports":
                extra = f" suffixes={','.join(e['suffixes'])}"
            typer.echo(f"  {e['name']}{tag}{extra}: {e['description']}")
    typer.echo("plugin distributions: " + (", ".join(ext["distributions"]) or "none"))


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins_cmd)
