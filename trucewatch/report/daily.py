"""The daily report, in the structure of the OSCE Special Monitoring Mission's:
a fixed cut-off, counts by area against the previous period ("no data" where
there was none), explosions by type, findings by settlement, weapons, holding
sites, civilian harm, infrastructure, freedom of movement, corrections and the
ledger checkpoint it rests on.  The sections are registered functions in
``trucewatch.report.osce`` (other packages add theirs); this module holds the
views, the period, the map and the charts, and writes HTML (self-contained,
images inlined) and PDF (WeasyPrint, from the same HTML), in en, uk or ru.
"""

from __future__ import annotations

import importlib
import io
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from trucewatch.access.roles import Principal, Role
from trucewatch.access.views import Views, ViolationFilter
from trucewatch.agreement import Agreement
from trucewatch.agreement.derive import _basemap
from trucewatch.errors import TruceWatchError
from trucewatch.i18n import check, translator
from trucewatch.i18n import t as translate
from trucewatch.mechanism.reports import daily_sections
from trucewatch.model import UNDETERMINED, Rule, Status
from trucewatch.places.nearest import _index as _places_index
from trucewatch.places.nearest import nearest_places
from trucewatch.report import layers as L
from trucewatch.report import osce
from trucewatch.report import sections as report_sections
from trucewatch.report.areas import area_names
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


PARTY_COLOURS = {"UA": "#1f5fbf", "RU": "#c0392b", UNDETERMINED: "#7f7f7f"}


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


def _points(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([float(r["lat"]) for r in rows], float), np.array([float(r["lon"]) for r in rows], float))


def map_png(agreement: Agreement, violations: list[dict[str, Any]], *, size: tuple[float, float] = (9, 6.2),
            lang: str = "en") -> bytes:
    """A plain offline map: countries, the line, the buffer zone, the larger towns (gazetteer)
    and the findings (rows of a view)."""
    t = translator(lang)
    import matplotlib  # lazy: ~1 s to import; only reports draw

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as above
    import shapely  # lazy: with the map only

    fig, ax = plt.subplots(figsize=size)
    fig.patch.set_facecolor("white")
    ax.set_facecolor("#dfe9f3")
    if violations:
        la, lo = _points(violations)
        x0, x1 = min(lo.min(), 32.0) - 0.7, max(lo.max(), 38.5) + 0.7
        y0, y1 = min(la.min(), 46.3) - 0.5, max(la.max(), 50.5) + 0.5
    else:
        b = agreement.contact_line.bounds
        x0, y0, x1, y1 = b[0] - 1, b[1] - 1, b[2] + 1, b[3] + 1
    for f in _basemap("countries.geojson")["features"]:
        from shapely.geometry import shape  # lazy: with the map only

        g = shape(f["geometry"])
        if not g.intersects(shapely.box(x0, y0, x1, y1)):
            continue
        for poly in getattr(g, "geoms", [g]):
            xs, ys = poly.exterior.xy
            ax.fill(xs, ys, facecolor="#f7f4ea" if f["properties"]["name"] != "Ukraine" else "#fffdf5",
                    edgecolor="#8a8a8a", linewidth=0.6)
    for z in agreement.zones:
        if z.kind != "buffer":
            continue
        for poly in getattr(z.geometry, "geoms", [z.geometry]):
            if poly.geom_type != "Polygon":
                continue
            xs, ys = poly.exterior.xy
            ax.fill(xs, ys, facecolor="#f3d27a", alpha=0.35, edgecolor="none")
    for part in getattr(agreement.contact_line, "geoms", [agreement.contact_line]):
        xs, ys = part.xy
        ax.plot(xs, ys, color="#222222", linewidth=1.4)
    for party in sorted({str(v["party"]) for v in violations}):
        sel = [v for v in violations if v["party"] == party]
        la, lo = _points(sel)
        colour = PARTY_COLOURS.get(party, "#8e44ad")
        ax.scatter(lo, la, s=26, c=colour, edgecolors="black", linewidths=0.4,
                   label=t("map.attributed", party=party) if party != UNDETERMINED else t("party.undetermined"),
                   zorder=5)
        for v in sel:
            o = v.get("origin")
            if o and o.get("lat") is not None and o.get("lon") is not None:
                ax.plot([o["lon"], v["lon"]], [o["lat"], v["lat"]], color=colour, linewidth=0.6, alpha=0.7)
    _town_labels(ax, (x0, y0, x1, y1), lang)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)))
    ax.tick_params(labelsize=7)
    ax.plot([], [], color="#222222", label=t("map.contact_line"))
    if violations:
        ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    ax.set_title(t("map.title"), fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _town_labels(ax: Any, box: tuple[float, float, float, float], lang: str, n: int = 14) -> None:
    """The ``n`` most populous gazetteer towns in the map's box, as reference points."""
    try:
        _tree, c = _places_index()
    except Exception:  # the map is still readable without towns
        return
    lat, lon, pop = np.asarray(c["lat"]), np.asarray(c["lon"]), np.asarray(c["pop"])
    inside = np.flatnonzero((lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3]) & (pop >= 50_000))
    names = c["name"] if lang == "en" else c["name_local"]
    for i in inside[np.argsort(-pop[inside])][:n]:
        ax.plot(lon[i], lat[i], marker="s", markersize=2.5, color="#333333", zorder=4)
        ax.annotate(str(names[i]), (lon[i], lat[i]), xytext=(3, 2), textcoords="offset points", fontsize=6.5,
                    color="#333333", zorder=4)


def chart_png(rows: list[dict[str, Any]], end: datetime, days: int = 30, lang: str = "en") -> bytes:
    """Findings per day over the ``days`` days before ``end`` (rows of one view), stacked by rule."""
    t = translator(lang)
    import matplotlib  # lazy: ~1 s to import; only reports draw

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as above

    start = end - timedelta(days=days)
    rules = sorted({str(v["rule"]) for v in rows}) or [Rule.FIRE_ACROSS_LINE.value]
    counts = np.zeros((len(rules), days))
    for v in rows:
        k = int((_t(v) - start.timestamp()) // 86400)
        if 0 <= k < days:
            counts[rules.index(str(v["rule"])), k] += 1
    fig, ax = plt.subplots(figsize=(8.6, 1.9))
    x = np.arange(days)
    bottom = np.zeros(days)
    for i, r in enumerate(rules):
        ax.bar(x, counts[i], bottom=bottom, label=t(f"rule.{r}") if r in RULE_TITLES else r, width=0.8)
        bottom += counts[i]
    labels = [(start + timedelta(days=int(d))).strftime("%d.%m") for d in x]
    ax.set_xticks(x[::5], labels[::5], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=6.5, ncols=2, loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(t("chart.findings"), fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


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


def report_context(store: Store, agreement: Agreement, day: date, *, cutoff: str = "19:30",
                   mission: str = "TruceWatch monitoring mission", view: ReportView | None = None,
                   views: Views | None = None, now: float | None = None, lang: str = "en") -> dict[str, Any]:
    """Everything the template shows, for one ``view`` in one language: the header and the
    sections of ``trucewatch.report.osce`` (registered there; each returns a block or None).
    Findings, counts, map and trend all come from the view's rows (``view_rows``); source
    sections, which read observations directly, are in the analyst view only."""
    lang = check(lang)
    t = translator(lang)
    view = view or ReportView()
    views = views or default_views(store)
    period = period_for(day, cutoff)
    prev = period.previous
    cur = sorted(view_rows(views, view, period.start.timestamp(), period.end.timestamp(), now),
                 key=lambda v: (_t(v), v["id"]))
    old = view_rows(views, view, prev.start.timestamp(), prev.end.timestamp(), now)
    errs = np.array([float((v.get("location") or {}).get("err_major_m") or 0.0) for v in cur])
    places = nearest_places(*_points(cur), errs) if cur else []
    ctx = osce.ReportContext(
        store=store, agreement=agreement, view=view, views=views, lang=lang, t=t, period=period, prev=prev, now=now,
        rows=cur, old=old, places=places, areas=area_names(*_points(cur)) if cur else [],
        areas_old=area_names(*_points(old)) if old else [],
        refs={v["id"]: f"F{i + 1}" for i, v in enumerate(cur)},
        prev_has_data=bool(old) or osce.has_observations(store, prev.start.timestamp(), prev.end.timestamp(),
                                                         osce.COUNTED_SOURCE_KINDS),
        cur_has_data=osce.has_observations(store, period.start.timestamp(), period.end.timestamp()) or bool(cur),
        trend_rows=view_rows(views, view, (period.end - timedelta(days=30)).timestamp(), period.end.timestamp(), now),
    )
    ctx.extra["checkpoint"] = _checkpoint(store)
    if view.full:
        secs = _extra_sections(store, agreement, period)
        for sec in secs:
            if isinstance(sec.get("data"), dict) and "storage_sites" in sec["data"]:
                ctx.extra["drone"] = sec["data"]
    blocks = osce.render_sections(ctx)
    dfmt = _long_date(day, lang)
    return {
        "lang": lang, "t": t, "mission": mission if mission != "TruceWatch monitoring mission" else t("mission"),
        "agreement": agreement.name or agreement.id, "day": dfmt,
        "view": view.role, "view_title": view.title_in(t), "view_scope": view.scope_in(t), "view_party": view.party,
        "cutoff": cutoff, "period_start": period.start.strftime("%H:%M %d.%m.%Y UTC"),
        "period_end": period.end.strftime("%H:%M %d.%m.%Y UTC"), "blocks": blocks,
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "_period": period, "_violations": cur, "_view": view, "_views": views, "_now": now, "_ctx": ctx,
    }


def _long_date(day: date, lang: str) -> str:
    return f"{day.day} {translate(f'month.{day.month}', lang)} {day.year}"


def build_daily_report(store: Store, agreement: Agreement, day: date, out_dir: str | Path, *,
                       cutoff: str = "19:30", pdf: bool = True, mission: str = "TruceWatch monitoring mission",
                       view: ReportView | None = None, views: Views | None = None,
                       now: float | None = None, lang: str = "en") -> dict[str, Path]:
    """Write report.html (self-contained), report.pdf and map.png to ``out_dir`` for one
    ``view`` (default: the analyst's full view) in ``lang`` (en, uk, ru); return their paths.
    ``views`` carries the publication rule (statuses, delay) of the service; ``now`` is
    the time the public delay is counted from (default: now)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = report_context(store, agreement, day, cutoff=cutoff, mission=mission, view=view, views=views, now=now,
                         lang=lang)
    map_bytes = ctx["_ctx"].extra.get("map_png") or map_png(agreement, ctx["_violations"], lang=ctx["lang"])
    (out_dir / "map.png").write_bytes(map_bytes)
    env = Environment(loader=PackageLoader("trucewatch.report", "templates"), autoescape=select_autoescape(["html"]))
    text = env.get_template("daily.html").render(**ctx)
    paths = {"html": out_dir / "report.html", "map": out_dir / "map.png"}
    paths["html"].write_text(text, encoding="utf-8")
    if pdf:
        from weasyprint import HTML  # lazy: WeasyPrint loads Pango; only PDFs need it

        HTML(string=text, base_url=str(out_dir)).write_pdf(out_dir / "report.pdf")
        paths["pdf"] = out_dir / "report.pdf"
    return paths
