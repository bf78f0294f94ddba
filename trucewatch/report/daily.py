"""The daily report, in the spirit of the OSCE Special Monitoring Mission's:
a fixed cut-off, counts by kind and area against the previous period, a map, a
30-day chart, every violation with its status, confidence and evidence (with
ledger indexes), restrictions and interference, and the ledger checkpoint the
report was built on.  HTML is self-contained (images inlined); the PDF is
rendered from the same HTML by WeasyPrint.
"""

from __future__ import annotations

import base64
import importlib
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape

from trucewatch.agreement import Agreement
from trucewatch.model import UNDETERMINED, Rule, Status, Violation
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

#: Optional report sections contributed by source stages: "module:function"
#: taking (store, agreement, t_from, t_to) and returning {"title", "html"} or None.
SECTION_PROVIDERS: list[str] = [
    "trucewatch.sources.drone.report:daily_section",
    "trucewatch.report.sections:air_daily_section",
    "trucewatch.report.sections:sea_daily_section",
    "trucewatch.report.sections:satellite_daily_section",
]


class ReportError(ValueError):
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


def map_png(agreement: Agreement, violations: list[Violation], *, size: tuple[float, float] = (9, 6.5)) -> bytes:
    """A plain offline map: countries, the line, the buffer zone and the violations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shapely

    from trucewatch.agreement.derive import _basemap

    fig, ax = plt.subplots(figsize=size)
    fig.patch.set_facecolor("white")
    ax.set_facecolor("#dfe9f3")
    if violations:
        la = np.array([v.location.lat for v in violations])
        lo = np.array([v.location.lon for v in violations])
        x0, x1 = min(lo.min(), 32.0) - 0.7, max(lo.max(), 38.5) + 0.7
        y0, y1 = min(la.min(), 46.3) - 0.5, max(la.max(), 50.5) + 0.5
    else:
        b = agreement.contact_line.bounds
        x0, y0, x1, y1 = b[0] - 1, b[1] - 1, b[2] + 1, b[3] + 1
    for f in _basemap("countries.geojson")["features"]:
        from shapely.geometry import shape

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
    for party in sorted({v.party for v in violations}):
        sel = [v for v in violations if v.party == party]
        ax.scatter([v.location.lon for v in sel], [v.location.lat for v in sel], s=26,
                   c=PARTY_COLOURS.get(party, "#8e44ad"), edgecolors="black", linewidths=0.4,
                   label=f"attributed to {party}" if party != UNDETERMINED else "undetermined", zorder=5)
        for v in sel:
            if v.origin is not None:
                ax.plot([v.origin.lon, v.location.lon], [v.origin.lat, v.location.lat],
                        color=PARTY_COLOURS.get(party, "#8e44ad"), linewidth=0.6, alpha=0.7)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.plot([], [], color="#222222", label="contact line")
    if violations:
        ax.legend(loc="lower left", fontsize=8, framealpha=0.9)
    ax.set_title("Violations in the reporting period", fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def chart_png(store: Store, end: datetime, days: int = 30) -> bytes:
    """Violations per day over the last ``days`` days, stacked by rule."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = end - timedelta(days=days)
    vs = store.query_violations(t_from=start.timestamp(), t_to=end.timestamp())
    vs = [v for v in vs if v.status != Status.DISMISSED]
    rules = sorted({v.rule.value for v in vs}) or [Rule.FIRE_ACROSS_LINE.value]
    counts = np.zeros((len(rules), days))
    for v in vs:
        k = min(days - 1, int((v.time - start).total_seconds() // 86400))
        counts[rules.index(v.rule.value), k] += 1
    fig, ax = plt.subplots(figsize=(9, 2.6))
    x = np.arange(days)
    bottom = np.zeros(days)
    for i, r in enumerate(rules):
        ax.bar(x, counts[i], bottom=bottom, label=RULE_TITLES.get(r, r), width=0.8)
        bottom += counts[i]
    labels = [(start + timedelta(days=int(d) + 1)).strftime("%d %b") for d in x]
    ax.set_xticks(x[::5], labels[::5], fontsize=8)
    ax.set_ylabel("violations")
    ax.legend(fontsize=7, ncols=2, loc="upper left")
    ax.set_title(f"Last {days} days", fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _checkpoint(store: Store) -> dict[str, Any] | None:
    try:
        mod = importlib.import_module("trucewatch.ledger")
    except ImportError:
        return None
    fn = getattr(mod, "latest_checkpoint", None)
    return fn(store) if fn else None


def _extra_sections(store: Store, agreement: Agreement, period: Period) -> list[dict[str, str]]:
    out = []
    for spec in SECTION_PROVIDERS:
        mod_name, fn_name = spec.split(":")
        mod = importlib.import_module(mod_name)
        sec = getattr(mod, fn_name)(store, agreement, period.start, period.end)
        if sec:
            out.append(sec)
    return out


def _evidence_text(v: Violation) -> str:
    parts = []
    for e in v.evidence:
        idx = f" [log #{e.ledger_index}]" if e.ledger_index is not None else ""
        parts.append(f"{e.kind.value if hasattr(e.kind, 'value') else e.kind} by {e.source_id}{idx}")
    return "; ".join(parts)


def report_context(store: Store, agreement: Agreement, day: date, *, cutoff: str = "19:30",
                   mission: str = "TruceWatch monitoring mission") -> dict[str, Any]:
    period = period_for(day, cutoff)
    prev = period.previous
    cur = [v for v in store.query_violations(t_from=period.start.timestamp(), t_to=period.end.timestamp())
           if v.status != Status.DISMISSED]
    old = [v for v in store.query_violations(t_from=prev.start.timestamp(), t_to=prev.end.timestamp())
           if v.status != Status.DISMISSED]
    areas_cur = area_names([v.location.lat for v in cur], [v.location.lon for v in cur]) if cur else []
    areas_old = area_names([v.location.lat for v in old], [v.location.lon for v in old]) if old else []
    by_area = Counter(areas_cur)
    by_area_old = Counter(areas_old)
    area_rows = [{"area": a, "count": by_area.get(a, 0), "previous": by_area_old.get(a, 0),
                  "by_rule": dict(Counter(v.rule.value for v, aa in zip(cur, areas_cur, strict=True) if aa == a))}
                 for a in sorted(set(by_area) | set(by_area_old), key=lambda a: -by_area.get(a, 0))]
    rule_rows = [{"rule": r, "title": RULE_TITLES.get(r, r),
                  "count": sum(1 for v in cur if v.rule.value == r),
                  "previous": sum(1 for v in old if v.rule.value == r)}
                 for r in sorted({v.rule.value for v in cur} | {v.rule.value for v in old})]
    party_rows = Counter(v.party for v in cur)
    status_rows = Counter(v.status.value for v in cur)
    rows = []
    for v, a in sorted(zip(cur, areas_cur, strict=True), key=lambda x: x[0].time):
        rows.append({
            "id": v.id, "time": v.time.strftime("%H:%M"), "date": v.time.strftime("%d %b"), "area": a,
            "lat": f"{v.location.lat:.4f}", "lon": f"{v.location.lon:.4f}",
            "err_m": f"{v.location.err_major_m:,.0f}", "rule": RULE_TITLES.get(v.rule.value, v.rule.value),
            "party": v.party, "confidence": f"{v.confidence:.2f}", "status": v.status.value,
            "explanation": v.explanation, "evidence": _evidence_text(v),
        })
    interference = [r for r in rows if r["rule"] == RULE_TITLES[Rule.INTERFERENCE_WITH_MONITORS.value]]
    return {
        "mission": mission, "agreement": agreement.name or agreement.id, "day": day.strftime("%d %B %Y"),
        "cutoff": cutoff, "period_start": period.start.strftime("%H:%M %d %b %Y UTC"),
        "period_end": period.end.strftime("%H:%M %d %b %Y UTC"), "total": len(cur), "previous_total": len(old),
        "rule_rows": rule_rows, "area_rows": area_rows, "party_rows": sorted(party_rows.items()),
        "status_rows": sorted(status_rows.items()), "violations": rows, "interference": interference,
        "checkpoint": _checkpoint(store), "n_observations": store.count_observations(),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "sections": _extra_sections(store, agreement, period), "_period": period, "_violations": cur,
    }


def build_daily_report(store: Store, agreement: Agreement, day: date, out_dir: str | Path, *,
                       cutoff: str = "19:30", pdf: bool = True, mission: str = "TruceWatch monitoring mission") -> dict[str, Path]:
    """Write report.html (self-contained) and report.pdf to ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = report_context(store, agreement, day, cutoff=cutoff, mission=mission)
    map_bytes = map_png(agreement, ctx["_violations"])
    chart_bytes = chart_png(store, ctx["_period"].end)
    (out_dir / "map.png").write_bytes(map_bytes)
    ctx["map_b64"] = base64.b64encode(map_bytes).decode()
    ctx["chart_b64"] = base64.b64encode(chart_bytes).decode()
    env = Environment(loader=PackageLoader("trucewatch.report", "templates"), autoescape=select_autoescape(["html"]))
    text = env.get_template("daily.html").render(**ctx)
    paths = {"html": out_dir / "report.html", "map": out_dir / "map.png"}
    paths["html"].write_text(text, encoding="utf-8")
    if pdf:
        from weasyprint import HTML

        HTML(string=text, base_url=str(out_dir)).write_pdf(out_dir / "report.pdf")
        paths["pdf"] = out_dir / "report.pdf"
    return paths
