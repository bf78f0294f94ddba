"""The daily report's figures, offline: the map of findings over the line, zones and
larger towns, and the 30-day chart.  PNG bytes, inlined into the HTML and PDF."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from trucewatch.agreement import Agreement
from trucewatch.agreement.derive import _basemap
from trucewatch.i18n import translator
from trucewatch.model import UNDETERMINED, Rule
from trucewatch.places.nearest import _index as _places_index
from trucewatch.report.view import RULE_TITLES, _t

PARTY_COLOURS = {"UA": "#1f5fbf", "RU": "#c0392b", UNDETERMINED: "#7f7f7f"}


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

