"""The source stages' daily-report sections, in one registry.

A section is a :class:`ReportSection`: ``render(store, agreement, start, end)``
reads the period's observations of its kind from the store, summarises them with
the stage's own summary function and returns ``{"title", "html"}``, or None when
the layer saw nothing (the report then omits the section rather than printing
zeros).  The built-ins are :data:`BUILTIN` (drone, air, sea, satellite); a package
adds its own through the ``trucewatch.report_sections`` entry point group
(:mod:`trucewatch.plugins`); a source adapter names its section by ``name``.
These sections are in the analyst view only (they read observations directly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

import numpy as np

from trucewatch import plugins
from trucewatch.errors import TruceWatchError
from trucewatch.model import ObservationKind
from trucewatch.sources.air.report import air_section
from trucewatch.sources.drone.report import daily_section as drone_daily_section
from trucewatch.sources.sea.report import sea_section

SectionFn = Callable[[Any, Any, datetime, datetime], "dict[str, str] | None"]


@dataclass(frozen=True)
class ReportSection:
    """One daily-report section of a source stage or a plugin.

    ``render(store, agreement, start, end)`` gives a section inside the report's
    "Sources" block (analyst view); ``block(ctx) -> report.osce.Block | None`` gives a
    top-level section of the OSCE report in every view (it reads the view's findings,
    ``ctx.rows``), placed ``before``/``after`` a section key (default: before the ledger).
    A section has one or the other."""

    name: str
    render: SectionFn | None = None
    description: str = ""
    block: Callable[[Any], Any] | None = None
    before: str | None = None
    after: str | None = None


class SectionError(TruceWatchError, ValueError):
    """A plugin section that does not meet the interface or reuses a name."""


def _obs(store: Any, start: datetime, end: datetime, kinds: list[ObservationKind]) -> list[Any]:
    return store.query_observations(t_from=start.timestamp(), t_to=end.timestamp(), kinds=[k.value for k in kinds])


def _table(head: list[str], rows: list[list[Any]]) -> str:
    h = "".join(f"<th>{escape(str(c))}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def air_daily_section(store: Any, agreement: Any, start: datetime, end: datetime) -> dict[str, str] | None:
    obs = _obs(store, start, end, [ObservationKind.AIR_SUMMARY, ObservationKind.AIR_TRACK])
    if not obs:
        return None
    sec = air_section(obs, agreement)
    tracks = [o for o in obs if o.kind == ObservationKind.AIR_TRACK]
    parts = [f"<p>{sec['summaries']} air-defence summar{'y' if sec['summaries'] == 1 else 'ies'} and "
             f"{len(tracks)} air track(s) in the period.</p>"]
    if sec["by_type"]:
        parts.append(_table(["Weapon type", "Launched", "Intercepted", "Share intercepted"],
                            [[k, v["launched"], v["intercepted"], v["intercepted_share"] if v["intercepted_share"] is not None else "–"]
                             for k, v in sec["by_type"].items()]))
    if sec["by_area"]:
        parts.append("<p>Launch areas named:</p>" + _table(
            ["Area", "Mentions", "Weapon types", "Side", "Launches forbidden by the agreement"],
            [[a["name"], a["mentions"], ", ".join(a["weapon_types"]), a.get("side") or "–",
              "yes" if a.get("launches_forbidden") else "no"] for a in sec["by_area"][:15]]))
    if sec["inconsistent_summaries"]:
        parts.append(f"<p>{len(sec['inconsistent_summaries'])} summary(ies) with numbers that do not add up were "
                     "flagged and not counted as verified figures.</p>")
    return {"title": "Air: launches, interceptions and tracks", "html": "\n".join(parts)}


def sea_daily_section(store: Any, agreement: Any, start: datetime, end: datetime) -> dict[str, str] | None:
    obs = _obs(store, start, end, [ObservationKind.VESSEL_INCIDENT])
    if not obs:
        return None
    sec = sea_section(obs)
    parts = [f"<p>{sec['incidents']} maritime incident(s) in the period.</p>"]
    parts.append(_table(["Zone", "Incidents by kind"],
                        [[z, ", ".join(f"{k}: {n}" for k, n in c.items())] for z, c in sec["per_zone"].items()]))
    parts.append(_table(["MMSI", "Name", "Type", "Incidents"],
                        [[v["mmsi"], v.get("name") or "–", v.get("vessel_type") or "–",
                          "; ".join(f"{i['incident']} {i['time'][11:16]}" for i in v["incidents"][:6])]
                         for v in sec["vessels_with_incidents"][:20]]))
    parts.append(f"<p class='small'>{escape(sec['note'])}</p>")
    return {"title": "Sea: vessels and incidents", "html": "\n".join(parts)}


def satellite_daily_section(store: Any, agreement: Any, start: datetime, end: datetime) -> dict[str, str] | None:
    obs = _obs(store, start, end, [ObservationKind.THERMAL_ANOMALY, ObservationKind.DAMAGE])
    if not obs:
        return None
    thermal = [o for o in obs if o.kind == ObservationKind.THERMAL_ANOMALY]
    damage = [o for o in obs if o.kind == ObservationKind.DAMAGE]
    excess = [o for o in thermal if o.attributes.get("excess")]
    rows = []
    if thermal and agreement is not None:
        lat = np.array([o.location.lat for o in thermal])
        lon = np.array([o.location.lon for o in thermal])
        side = agreement.side_of(lat, lon)
        near = agreement.distance_to_line_m(lat, lon) <= 30_000
        for party in sorted({str(s) for s in side if s}):
            sel = side == party
            ex = np.array([bool(o.attributes.get("excess")) for o in thermal])
            rows.append([party, int(sel.sum()), int((sel & ex).sum()), int((sel & near).sum())])
    parts = [f"<p>{len(thermal)} thermal anomal{'y' if len(thermal) == 1 else 'ies'} (FIRMS), of which {len(excess)} "
             f"exceed the place's normal fire activity; {len(damage)} radar change detection(s).</p>"]
    if rows:
        parts.append(_table(["Side", "Thermal anomalies", "Of which excess", "Within 30 km of the line"], rows))
    parts.append("<p class='small'>Satellites see a 375 m to 1 km pixel at overpass times only; cloud hides fires, "
                 "and no detection is not evidence of no strike.</p>")
    return {"title": "Satellite: thermal anomalies and damage", "html": "\n".join(parts)}


#: The built-in sections, in the report's order.
BUILTIN: list[ReportSection] = [
    ReportSection("drone", drone_daily_section, "drone flights, sightings and coverage"),
    ReportSection("air", air_daily_section, "air-defence summaries and air tracks"),
    ReportSection("sea", sea_daily_section, "vessels and maritime incidents"),
    ReportSection("satellite", satellite_daily_section, "thermal anomalies and radar damage"),
]


def registry() -> list[ReportSection]:
    """The built-in sections, then installed plugins' (``trucewatch.report_sections``)."""
    out = list(BUILTIN)
    names = {r.name for r in out}
    for p in plugins.load("report_sections"):
        r = p.value
        if not isinstance(r, ReportSection) or (r.render is None) == (r.block is None):
            raise SectionError(f"plugin {p.entry_point!r} ({p.distribution}): {r!r} is not a ReportSection with "
                               "one of render or block")
        if r.name in names:
            raise SectionError(f"plugin {p.entry_point!r} ({p.distribution}): section {r.name!r} is already "
                               "registered")
        names.add(r.name)
        out.append(r)
    return out


def describe() -> list[dict[str, Any]]:
    """Every section as the CLI and the API list it."""
    builtin = {id(r) for r in BUILTIN}
    return [{"name": r.name, "description": r.description, "where": "sources" if r.render is not None else "report",
             "plugin": id(r) not in builtin} for r in registry()]


def render_all(store: Any, agreement: Any, start: datetime, end: datetime) -> list[dict[str, str]]:
    """Every registered section that has something to say for the period."""
    out = []
    for r in registry():
        if r.render is None:
            continue
        sec = r.render(store, agreement, start, end)
        if sec:
            out.append(sec)
    return out
