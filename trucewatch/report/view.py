"""What one reader of the daily report may see: the period between cut-offs, the
report views (analyst, a party's liaison, the public) over the role views of
``trucewatch.access``, and the text a view may show of a finding (evidence,
explanation, raw identities), plus the sections other packages contribute.
Shared by the daily report (``daily``) and its OSCE-structured sections (``osce``)."""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

from trucewatch.access.roles import Principal, Role
from trucewatch.access.views import Views, ViolationFilter
from trucewatch.agreement import Agreement
from trucewatch.errors import TruceWatchError
from trucewatch.mechanism.reports import daily_sections
from trucewatch.model import Rule, Status
from trucewatch.report import layers as L
from trucewatch.report import sections as report_sections
from trucewatch.store import Store

RULE_TITLES = {
    Rule.FIRE_ACROSS_LINE.value: "Fire across the contact line",
    Rule.HEAVY_WEAPON_IN_ZONE.value: "Heavy weapons inside withdrawal zones",
    Rule.STRIKE_ON_PROTECTED_OBJECT.value: "Strikes on protected objects",
    Rule.FLIGHT_ACROSS_LINE.value: "Military flights across the line",
    Rule.INTERFERENCE_WITH_MONITORS.value: "Interference with the monitors",
    Rule.NAVAL_VESSEL_IN_ZONE.value: "Naval vessels in maritime zones",
    Rule.LAUNCH_FROM_TERRITORY.value: "Launches of missiles and long-range drones",
}

class ReportError(TruceWatchError, ValueError):
    pass


@dataclass
class Period:
    start: datetime
    end: datetime

    @property
    def previous(self) -> Period:
        return Period(self.start - timedelta(days=1), self.end - timedelta(days=1))


def period_for(day: date, cutoff: str = "19:30") -> Period:
    """The 24 hours up to ``cutoff`` (UTC, ``HH:MM``; ``24:00`` = end of day) on ``day``."""
    try:
        hh, mm = (int(x) for x in cutoff.split(":"))
        if not (0 <= hh <= 24 and 0 <= mm < 60) or (hh == 24 and mm):
            raise ValueError
    except ValueError:
        raise ReportError(f"cutoff: expected HH:MM, got {cutoff!r}") from None
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hh, minutes=mm)
    return Period(end - timedelta(days=1), end)





@dataclass(frozen=True)
class ReportView:
    """Whose report this is: ``analyst`` (the full view; administrators get it too),
    ``liaison`` of one ``party``, or ``public``.  The findings come from the API's
    own role filter and redaction (``trucewatch.access.views.Views``), so a report
    never shows more than the same caller gets from ``/api/v1/violations``."""

    role: str = "analyst"
    party: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ("analyst", "liaison", "public"):
            raise ReportError(f"view: {self.role!r} is not one of public, liaison:PARTY, analyst")
        if (self.role == "liaison") != bool(self.party):
            raise ReportError("view: a liaison view names its party (liaison:UA); no other view does")

    @classmethod
    def parse(cls, text: str) -> ReportView:
        """``public``, ``analyst`` or ``liaison:PARTY`` (the CLI's ``--view``)."""
        role, _, party = text.strip().partition(":")
        return cls(role.lower(), party.strip() or None)

    @property
    def full(self) -> bool:
        return self.role == "analyst"

    @property
    def key(self) -> str:
        """A file- and cache-safe name, distinct per view (role and party)."""
        return f"liaison-{self.party}" if self.role == "liaison" else self.role

    @property
    def title(self) -> str:
        return {"analyst": "Analyst view", "public": "Public view"}.get(self.role, f"Liaison view: {self.party}")

    def title_in(self, t: Any) -> str:
        """The title in a report language (``t``: a trucewatch.i18n translator)."""
        return t(f"view.{self.role}", party=self.party or "")

    def scope_in(self, t: Any) -> str:
        return t(f"view.{self.role}.scope", party=self.party or "")

    @property
    def scope(self) -> str:
        if self.role == "public":
            return ("Published findings only, after the publication delay; without source identities, "
                    "observation ids or the mission's reasoning.")
        if self.role == "liaison":
            return (f"Findings that concern {self.party} only; source identities and observation ids withheld.")
        return "All findings, with their evidence and sources. Internal: not for distribution."

    def principal(self) -> Principal:
        role = {"analyst": Role.ANALYST, "liaison": Role.LIAISON, "public": Role.PUBLIC}[self.role]
        return Principal(token_id=f"report:{self.key}", role=role, party=self.party)


def default_views(store: Store, config: Any = None) -> Views:
    """The API's views with the service's publication rule (``config``: the service's config,
    or anything with ``public_statuses`` and ``public_delay_s``; default: the service's defaults)."""
    return Views.with_rule(store, config)


def view_rows(views: Views, view: ReportView, t_from: float, t_to: float, now: float | None = None,
              page: int = 5000) -> list[dict[str, Any]]:
    """Findings in [t_from, t_to) as ``view`` sees them through the API (``Views.query``), oldest first,
    dismissed ones left out (the report counts violations, not rejected candidates)."""
    p = view.principal()
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        rows = views.query(p, ViolationFilter(t_from=t_from, t_to=t_to, limit=page, offset=offset), now)
        out += [r for r in rows if r.get("status") != Status.DISMISSED.value]
        if len(rows) < page:
            return out
        offset += page




def _t(v: dict[str, Any]) -> float:
    """A row's time in Unix seconds (the public rows carry only the ISO ``time``)."""
    return float(v["t"]) if v.get("t") is not None else datetime.fromisoformat(str(v["time"])).timestamp()


def _mechanism_sections(store: Store, agreement: Agreement, period: Period, view: ReportView) -> list[dict[str, str]]:
    """Cases and overdue, freedom of movement and obstruction, holding sites, corrections, and
    (analyst view) the unobserved segments of the line (issue 19)."""
    return daily_sections(store, period.start.timestamp(), period.end.timestamp(), view, agreement=agreement)


def _checkpoint(store: Store) -> dict[str, Any] | None:
    try:
        mod = importlib.import_module("trucewatch.ledger")
    except ImportError:
        return None
    fn = getattr(mod, "latest_checkpoint", None)
    return fn(store) if fn else None


def _extra_sections(store: Store, agreement: Agreement, period: Period) -> list[dict[str, str]]:
    """The source stages' sections (registry: trucewatch.report.sections, plugins included)."""
    return report_sections.render_all(store, agreement, period.start, period.end)


def _published_sections(store: Store, agreement: Agreement, period: Period, views: Views,
                        now: float | None) -> list[dict[str, str]]:
    """Air and sea for liaisons and the public: the published view of the API's own map
    layers (``report.layers``, ``full=False``): only what is older than the public
    delay, aggregated (launched and intercepted per weapon type, tracks counted by
    class, vessel incidents counted per zone); no track, no position, no vessel."""
    now = time.time() if now is None else now
    end = min(period.end.timestamp(), now - views.public_delay_s)
    if end <= period.start.timestamp():
        return []
    w = L.Window(period.start.timestamp(), end, None, 500, 2)

    def table(head: list[str], rows: list[list[Any]]) -> str:
        h = "".join(f"<th>{escape(str(c))}</th>" for c in head)
        body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
        return f"<table><tr>{h}</tr>{body}</table>"

    out = []
    air = L.air_layer(store, agreement, w, full=False)["summary"]
    if air["summaries"] or air["tracks_by_class"]:
        parts = [f"<p>{air['summaries']} air-defence summar{'y' if air['summaries'] == 1 else 'ies'} in the "
                 "published part of the period.</p>"]
        if air["by_type"]:
            parts.append(table(["Weapon type", "Launched", "Intercepted"],
                               [[k, v["launched"], v["intercepted"]] for k, v in sorted(air["by_type"].items())]))
        if air["tracks_by_class"]:
            parts.append(table(["Track class", "Tracks", "Intercepted"],
                               [[k, v["tracks"], v["intercepted"]] for k, v in sorted(air["tracks_by_class"].items())]))
        out.append({"title": "Air: launches and interceptions (published view)", "html": "\n".join(parts)})
    sea = L.sea_layer(store, agreement, w, full=False)["summary"]
    if sea["incidents"]:
        parts = [f"<p>{sea['incidents']} maritime incident(s) in the published part of the period.</p>",
                 table(["Zone", "Incidents by kind"],
                       [[z, ", ".join(f"{k}: {n}" for k, n in sorted(c.items()))]
                        for z, c in sorted(sea["per_zone"].items())]),
                 f"<p class='small'>{escape(str(sea['note']))}</p>"]
        out.append({"title": "Sea: incidents (published view)", "html": "\n".join(parts)})
    return out


def _evidence_text(v: dict[str, Any], view: ReportView, kinds: dict[str, str]) -> str:
    """Evidence as the view may cite it: sources by name for analysts; for a liaison
    the kind of source only (with ledger indexes, which it can check); for the
    public the counts per kind that the public API gives."""
    if view.role == "public":
        return ", ".join(f"{n} {k}" for k, n in sorted((v.get("evidence_counts") or {}).items()))
    parts = []
    for e in v.get("evidence") or []:
        kind = e.get("kind")
        idx = f" [log #{e['ledger_index']}]" if e.get("ledger_index") is not None else ""
        if view.full:
            parts.append(f"{kind} by {e.get('source_id')} ({e.get('observation_id')}){idx}")
        else:
            sid = str(e.get("source_id"))
            sk = sid[len("withheld ("):-1] if sid.startswith("withheld (") else kinds.get(sid, "unknown source")
            parts.append(f"{kind} ({sk.replace('_', ' ')}){idx}")
    return "; ".join(parts)


def _scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every string of ``secrets`` (source and observation ids) replaced, longest first."""
    for s in sorted({x for x in secrets if x}, key=len, reverse=True):
        text = text.replace(s, "[withheld]")
    return text


def _explanation(v: dict[str, Any], view: ReportView, secrets: list[str]) -> str:
    """The finding's reasoning: as written for analysts, without identities for a liaison
    (the adjudicator cites observation ids and sources in it: ``secrets`` are the
    finding's own, as stored, and every registered source), none for the public
    (the public API gives none)."""
    if view.full:
        return str(v.get("explanation") or "")
    if view.role == "public":
        return ""
    return _scrub(str(v.get("explanation") or ""), secrets)


def _raw_identities(views: Views, ids: list[str]) -> dict[str, list[str]]:
    """Finding id -> the observation and source ids of its evidence as stored (before any
    redaction: a withheld or unregistered source is named there and nowhere else)."""
    out: dict[str, list[str]] = {}
    for i in ids:
        raw = views.raw(i) or {}
        out[i] = [str(x) for e in raw.get("evidence") or [] for x in (e.get("observation_id"), e.get("source_id"))]
    return out

