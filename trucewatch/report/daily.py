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

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from trucewatch.access.views import Views
from trucewatch.agreement import Agreement
from trucewatch.i18n import check, translator
from trucewatch.i18n import t as translate
from trucewatch.places.nearest import nearest_places
from trucewatch.report import osce
from trucewatch.report.areas import area_names
from trucewatch.report.figures import _points, map_png
from trucewatch.report.view import (
    Period,
    ReportError,
    ReportView,
    _checkpoint,
    _extra_sections,
    _t,
    default_views,
    period_for,
    view_rows,
)
from trucewatch.store import Store

#: The report's public names; the views and the period live in ``report.view``.
__all__ = ["Period", "ReportError", "ReportView", "build_daily_report", "default_views", "period_for", "report_context"]


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

