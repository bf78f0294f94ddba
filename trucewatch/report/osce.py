"""The daily report's sections, in the order of an OSCE SMM daily report.

A section is ``fn(ctx: ReportContext) -> Block | None``: it reads what it needs
from the context (the view's findings, the store, the period, the language) and
returns a rendered block, or None to be left out.  Sections that a reader
expects every day (holding sites, civilian harm, freedom of movement,
corrections) return a block saying "no data" rather than None, so an absent
topic is visible as absent.

Other packages add theirs with :func:`register_section` (e.g. the mechanism's
cases, holding sites or corrections), before or in place of a built-in one::

    from trucewatch.report.osce import Block, register_section
    register_section("holding_sites", my_holding_sites, replace=True)

Every label goes through ``ctx.t`` (the message catalogue, trucewatch.i18n);
free text (explanations, place names as the gazetteer writes them) is left as
written.  Raw ids stay out of the body: findings are referred to as F1, F2, ...
and the annex maps those to ids and evidence as the view may see them.
"""

from __future__ import annotations

import base64
import io
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import numpy as np

from trucewatch.i18n import describe_place, plural
from trucewatch.model import UNDETERMINED, Rule
from trucewatch.places.nearest import nearest_places
from trucewatch.report import figures as F
from trucewatch.report import sections as report_sections
from trucewatch.report import view as V
from trucewatch.report.areas import area_names
from trucewatch.store import reports as RS

#: Observation kinds that are explosions, and the OSCE type each counts as.
EXPLOSION_KINDS = {"impact": "impact", "launch": "outgoing", "explosion": "undetermined"}
EXPLOSION_TYPES = ("impact", "outgoing", "airburst", "undetermined")
#: Sources whose explosion records are counted (the mission's own sensors and teams; not posts or satellites).
COUNTED_SOURCE_KINDS = {"acoustic_sensor", "acoustic_network", "monitor_team", "drone", "radar"}
_KILLED = ("killed", "fatalities", "deaths", "dead")
_INJURED = ("injured", "wounded")


#: The adjudicator's "Evidence: kind xN: id (ledger #i); ..." sentence, which the annex's evidence column repeats.
_EVIDENCE_LIST = re.compile(r"\s*Evidence: [^.]*?(?:\.(?=\s|$)|$)")


@dataclass
class Block:
    key: str
    title: str
    html: str
    css_class: str = ""


@dataclass
class ReportContext:
    """Everything a section may read.  ``rows`` are the view's findings of the period
    (the API's own rendering for the view), ``old`` those of the previous period."""

    store: Any
    agreement: Any
    view: Any  # trucewatch.report.view.ReportView
    views: Any  # trucewatch.access.views.Views
    lang: str
    t: Callable[..., str]
    period: Any
    prev: Any
    now: float | None
    rows: list[dict[str, Any]]
    old: list[dict[str, Any]]
    places: list[Any]  # places.nearest.Place per row
    areas: list[str]
    areas_old: list[str]
    refs: dict[str, str]  # finding id -> "F12"
    prev_has_data: bool
    cur_has_data: bool
    trend_rows: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def place(self, i: int) -> str:
        return describe_place(self.places[i], self.lang)

    def published_end(self, end: float) -> float:
        """The latest time the view may see observation-derived figures up to (the public delay)."""
        if self.view.role != "public":
            return end
        now = time.time() if self.now is None else self.now
        return min(end, now - self.views.public_delay_s)


Section = Callable[[ReportContext], Block | None]
SECTIONS: list[tuple[str, Section]] = []


def register_section(key: str, fn: Section, *, before: str | None = None, after: str | None = None,
                     replace: bool = False) -> None:
    """Add a section (or replace the one called ``key``).  Without ``before``/``after`` it goes
    before the annexes (``ledger``)."""
    _place(SECTIONS, key, fn, before=before, after=after, replace=replace)


def _place(sections: list[tuple[str, Section]], key: str, fn: Section, *, before: str | None = None,
           after: str | None = None, replace: bool = False) -> None:
    keys = [k for k, _ in sections]
    if key in keys:
        if not replace:
            raise ValueError(f"report section {key!r} is already registered (pass replace=True)")
        sections[keys.index(key)] = (key, fn)
        return
    anchor = before or ("ledger" if after is None else None)
    if after is not None and after in keys:
        sections.insert(keys.index(after) + 1, (key, fn))
    elif anchor is not None and anchor in keys:
        sections.insert(keys.index(anchor), (key, fn))
    else:
        sections.append((key, fn))


def sections_with_plugins() -> list[tuple[str, Section]]:
    """The registered sections plus the top-level ones installed plugins declare
    (``trucewatch.report_sections`` entries with a ``block``, report.sections), placed by
    their ``before``/``after``; worked out per report, so a plugin is never half-registered."""
    out = list(SECTIONS)
    for s in report_sections.registry():
        if s.block is not None:
            _place(out, s.name, s.block, before=s.before, after=s.after)
    return out


def render_sections(ctx: ReportContext) -> list[Block]:
    out = []
    for _key, fn in sections_with_plugins():
        b = fn(ctx)
        if b is not None:
            out.append(b)
    return out


# ------------------------------------------------------------------ helpers
def table(head: list[str], rows: list[list[Any]], num: set[int] | None = None, cls: str = "") -> str:
    """An HTML table (cells escaped; a cell given as ``("html", s)`` is inserted as is)."""
    num = num or set()

    def td(i: int, c: Any, tag: str) -> str:
        body = c[1] if isinstance(c, tuple) and c and c[0] == "html" else escape(str(c))
        return f"<{tag}{' class=num' if i in num else ''}>{body}</{tag}>"

    h = "".join(td(i, c, "th") for i, c in enumerate(head))
    body = "".join("<tr>" + "".join(td(i, c, "td") for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table class='{cls}'><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def p(text: str, cls: str = "") -> str:
    return f"<p class='{cls}'>{escape(text)}</p>" if cls else f"<p>{escape(text)}</p>"


def distance(m: float, t: Callable[..., str], prefix: str = "") -> str:
    """"±1.2 km" / "±850 m" with the language's units."""
    return prefix + (t("unit.km", n=f"{m / 1000:.1f}") if m >= 1000 else t("unit.m", n=f"{m:.0f}"))


def rule_title(rule: str, t: Callable[..., str]) -> str:
    try:
        return t(f"rule.{rule}")
    except KeyError:
        return rule.replace("_", " ")


def party_label(party: str, t: Callable[..., str]) -> str:
    return t("party.undetermined") if party in (UNDETERMINED, "", None) else str(party)


def status_label(status: str, t: Callable[..., str]) -> str:
    try:
        return t(f"status.{status}")
    except KeyError:
        return status


def area_label(area: str, t: Callable[..., str]) -> str:
    try:
        return t(f"area.{area}")
    except KeyError:
        return area


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt  # lazy: matplotlib takes ~1 s to import; only reports draw

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def img(b64: str, alt: str, cls: str = "") -> str:
    return f"<img class='{cls}' alt='{escape(alt)}' src='data:image/png;base64,{b64}'>"


def _obs_rows(ctx: ReportContext, t_from: float, t_to: float, kinds: list[str]) -> list[dict[str, Any]]:
    """Columns of the observations of ``kinds`` in [t_from, t_to) (no pydantic: a 30-day read stays cheap)."""
    t_to = ctx.published_end(t_to)
    if t_to <= t_from:
        return []
    return RS.observation_columns(ctx.store, t_from, t_to, kinds)


def has_observations(store: Any, t_from: float, t_to: float, source_kinds: set[str] | None = None) -> bool:
    """Whether the store holds an observation in [t_from, t_to) (from sources of ``source_kinds``
    when given): "no data" versus zero.  A stray post from the evening before is not
    coverage of a day, so the report asks for the mission's own sensors and teams."""
    return RS.has_observations(store, t_from, t_to, source_kinds)


def explosion_type(kind: str, attrs: dict[str, Any]) -> str:
    if str(attrs.get("burst") or attrs.get("explosion_type") or "").lower() in ("air", "airburst") or attrs.get("airburst"):
        return "airburst"
    t = str(attrs.get("explosion_type") or "").lower()
    if t in EXPLOSION_TYPES:
        return t
    return EXPLOSION_KINDS.get(kind, "undetermined")


def _explosions(ctx: ReportContext, t_from: float, t_to: float) -> list[dict[str, Any]]:
    rows = [r for r in _obs_rows(ctx, t_from, t_to, list(EXPLOSION_KINDS))
            if (r.get("source_kind") or "") in COUNTED_SOURCE_KINDS]
    for r in rows:
        r["type"] = explosion_type(r["kind"], r["attributes"])
    return rows


def _prev_text(n: int, has: bool, t: Callable[..., str]) -> str:
    return str(n) if has else t("no_data")


# ----------------------------------------------------------------- sections
def summary(ctx: ReportContext) -> Block:
    t = ctx.t
    items = []
    prev = len(ctx.old) if ctx.prev_has_data else None
    items.append(plural(len(ctx.rows), "summary.total", ctx.lang) + " " + (
        t("summary.previous", n=prev) if prev is not None else t("summary.previous_no_data")) + ".")
    by_area = Counter(ctx.areas)
    by_area_old = Counter(ctx.areas_old)
    exp = explosion_counts(ctx)[0]
    for a, n in by_area.most_common(6):
        line = plural(n, "summary.area", ctx.lang, area=area_label(a, t))
        line += " " + (t("summary.previous", n=by_area_old.get(a, 0)) if ctx.prev_has_data
                       else t("summary.previous_no_data"))
        if exp.get(a):
            line += t("summary.area_explosions", n=sum(exp[a].values()))
        items.append(line + ".")
    parties = Counter(v["party"] for v in ctx.rows)
    if parties:
        items.append(t("summary.attribution") + " " + ", ".join(
            f"{party_label(k, t)}: {n}" for k, n in sorted(parties.items())) + ".")
    weapons = sum(1 for v in ctx.rows if v["rule"] == Rule.HEAVY_WEAPON_IN_ZONE.value)
    if weapons:
        items.append(t("summary.weapons", n=weapons))
    strikes = sum(1 for v in ctx.rows if v["rule"] == Rule.STRIKE_ON_PROTECTED_OBJECT.value)
    if strikes:
        items.append(t("summary.protected", n=strikes))
    inter = sum(1 for v in ctx.rows if v["rule"] == Rule.INTERFERENCE_WITH_MONITORS.value)
    items.append(t("summary.interference", n=inter) if inter else t("summary.no_interference"))
    if not ctx.cur_has_data:
        items.append(t("summary.no_observations"))
    return Block("summary", t("section.summary"),
                 "<ul class='summary'>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")


def map_section(ctx: ReportContext) -> Block:
    png = F.map_png(ctx.agreement, ctx.rows, lang=ctx.lang)
    ctx.extra["map_png"] = png
    return Block("map", ctx.t("section.map"), img(base64.b64encode(png).decode(), ctx.t("section.map"), "map"))


def explosion_counts(ctx: ReportContext) -> tuple[dict[str, Counter], Counter, bool]:
    """(area -> type -> count this period, area -> count the previous period, whether the previous
    period has explosion records at all); computed once per report (the summary needs it first)."""
    if "explosions" in ctx.extra:
        return ctx.extra["explosions"]
    cur = _explosions(ctx, ctx.period.start.timestamp(), ctx.period.end.timestamp())
    old = _explosions(ctx, ctx.prev.start.timestamp(), ctx.prev.end.timestamp()) if ctx.prev_has_data else []
    per: dict[str, Counter] = defaultdict(Counter)
    per_old: Counter = Counter()
    if cur:
        for r, a in zip(cur, area_names(np.array([r["lat"] for r in cur]), np.array([r["lon"] for r in cur])),
                        strict=True):
            per[a][r["type"]] += 1
    if old:
        per_old.update(area_names(np.array([r["lat"] for r in old]), np.array([r["lon"] for r in old])))
    # explosions compare only where the sensors reported explosions in the previous period
    ctx.extra["explosions"] = (per, per_old, bool(old))
    return ctx.extra["explosions"]


def explosions(ctx: ReportContext) -> Block:
    """Explosions by type and area against the previous period, with the last 30 days as a chart."""
    t = ctx.t

    per, per_old, prev_data = explosion_counts(ctx)
    head = [t("col.area"), *[t(f"explosion.{k}") for k in EXPLOSION_TYPES], t("col.total"), t("col.previous")]
    rows = []
    for a in sorted(set(per) | set(per_old), key=lambda a: -sum(per[a].values())):
        rows.append([area_label(a, t), *[per[a].get(k, 0) for k in EXPLOSION_TYPES], sum(per[a].values()),
                     _prev_text(per_old.get(a, 0), prev_data, t)])
    parts = []
    if rows:
        parts.append(table(head, rows, num=set(range(1, len(head)))))
    else:
        parts.append(p(t("explosions.none") if ctx.cur_has_data else t("no_data_period")))
    parts.append(p(t("explosions.note"), "small"))
    trend = _explosions(ctx, ctx.period.end.timestamp() - 30 * 86400, ctx.period.end.timestamp())
    if trend:
        parts.append(img(_explosion_chart(trend, ctx.period.end, t), t("chart.explosions"), "chart"))
    return Block("explosions", t("section.explosions"), "\n".join(parts))


def _explosion_chart(rows: list[dict[str, Any]], end: datetime, t: Callable[..., str], days: int = 30) -> str:
    import matplotlib  # lazy: ~1 s to import; only reports draw

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as above

    start = end.timestamp() - days * 86400
    counts = np.zeros((len(EXPLOSION_TYPES), days))
    k = ((np.array([r["t"] for r in rows]) - start) // 86400).astype(int)
    ty = np.array([EXPLOSION_TYPES.index(r["type"]) for r in rows])
    ok = (k >= 0) & (k < days)
    np.add.at(counts, (ty[ok], k[ok]), 1)
    fig, ax = plt.subplots(figsize=(8.6, 1.9))
    bottom = np.zeros(days)
    colours = ("#c0392b", "#2c3e50", "#e67e22", "#95a5a6")
    for i, name in enumerate(EXPLOSION_TYPES):
        ax.bar(np.arange(days), counts[i], bottom=bottom, label=t(f"explosion.{name}"), width=0.8, color=colours[i])
        bottom += counts[i]
    labels = [(end - timedelta(days=days - d - 1)).strftime("%d.%m") for d in range(days)]
    ax.set_xticks(np.arange(days)[::5], labels[::5], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title(t("chart.explosions"), fontsize=9)
    ax.legend(fontsize=7, ncols=4, loc="upper left", frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def violations_by_rule(ctx: ReportContext) -> Block:
    t = ctx.t
    cur, old = Counter(v["rule"] for v in ctx.rows), Counter(v["rule"] for v in ctx.old)
    rows = [[rule_title(r, t), cur.get(r, 0), _prev_text(old.get(r, 0), ctx.prev_has_data, t)]
            for r in sorted(set(cur) | set(old), key=lambda r: -cur.get(r, 0))]
    parts = [table([t("col.rule"), t("col.this_period"), t("col.previous")], rows, num={1, 2}) if rows
             else p(t("findings.none"))]
    if ctx.trend_rows:
        parts.append(img(base64.b64encode(F.chart_png(ctx.trend_rows, ctx.period.end, lang=ctx.lang)).decode(),
                         t("chart.findings"), "chart"))
    return Block("rules", t("section.rules"), "\n".join(parts))


def findings_by_settlement(ctx: ReportContext) -> Block:
    """One line per finding, grouped by area and named by settlement ("3 km NE of Horlivka")."""
    t = ctx.t
    if not ctx.rows:
        return Block("findings", t("section.findings"), p(t("findings.none")))
    order = sorted(range(len(ctx.rows)), key=lambda i: (ctx.areas[i], ctx.rows[i].get("t") or 0))
    parts = []
    for area in sorted(set(ctx.areas), key=lambda a: (-ctx.areas.count(a), a)):
        rows = []
        for i in (i for i in order if ctx.areas[i] == area):
            v = ctx.rows[i]
            when = datetime.fromisoformat(str(v["time"])).astimezone(UTC)
            err = float((v.get("location") or {}).get("err_major_m") or 0.0)
            rows.append([ctx.refs[v["id"]], when.strftime("%d.%m %H:%M"), ctx.place(i),
                         distance(err, t, "±"), rule_title(v["rule"], t),
                         ("html", f"<span class='party-{escape(str(v['party']))}'>"
                                  f"{escape(party_label(v['party'], t))}</span>"),
                         f"{float(v['confidence']):.2f}", status_label(v["status"], t)])
        parts.append(f"<h3>{escape(area_label(area, t))} ({len(rows)})</h3>")
        parts.append(table([t("col.ref"), t("col.time"), t("col.place"), t("col.uncertainty"), t("col.rule"),
                            t("col.party"), t("col.conf"), t("col.status")], rows, num={6}, cls="findings"))
    parts.append(p(t("findings.note"), "small"))
    return Block("findings", t("section.findings"), "\n".join(parts))


def weapons(ctx: ReportContext) -> Block:
    """Weapons in violation of the withdrawal lines, by type and side."""
    t = ctx.t
    idx = [i for i, v in enumerate(ctx.rows) if v["rule"] == Rule.HEAVY_WEAPON_IN_ZONE.value]
    if not idx:
        return Block("weapons", t("section.weapons"), p(t("weapons.none") if ctx.cur_has_data else t("no_data_period")))
    by: dict[str, Counter] = defaultdict(Counter)
    detail = []
    for i in idx:
        v = ctx.rows[i]
        a = v.get("attributes") or {}
        kind = str(a.get("sighting_class") or a.get("weapon_class") or t("weapons.unknown_type")).replace("_", " ")
        n = int(a.get("count") or 1) if str(a.get("count") or "1").isdigit() else 1
        by[kind][v["party"]] += n
        detail.append([ctx.refs[v["id"]], datetime.fromisoformat(str(v["time"])).astimezone(UTC).strftime("%d.%m %H:%M"),
                       kind, party_label(v["party"], t), ctx.place(i)])
    sides = sorted({s for c in by.values() for s in c})
    rows = [[k, *[c.get(s, 0) for s in sides], sum(c.values())] for k, c in sorted(by.items())]
    html = table([t("col.weapon_type"), *[party_label(s, t) for s in sides], t("col.total")], rows,
                 num=set(range(1, len(sides) + 2)))
    html += table([t("col.ref"), t("col.time"), t("col.weapon_type"), t("col.party"), t("col.place")], detail)
    return Block("weapons", t("section.weapons"), html)


def holding_sites(ctx: ReportContext) -> Block:
    """Declared holding (storage) sites: what the drone stage checked in the period; "no data" otherwise."""
    t = ctx.t
    sites = ctx.extra.get("drone", {}).get("storage_sites") if ctx.view.full else None
    if not sites:
        return Block("holding_sites", t("section.holding_sites"), p(t("holding_sites.none")))
    rows = [[r.get("site_name") or t("holding_sites.site"), party_label(str(r.get("party")), t),
             str(r.get("class", "")).replace("_", " "), r.get("declared"), r.get("seen"), r.get("status"),
             f"{100 * float(r.get('covered_fraction') or 0):.0f}%"] for r in sites]
    return Block("holding_sites", t("section.holding_sites"),
                 table([t("col.site"), t("col.party"), t("col.weapon_type"), t("col.declared"), t("col.seen"),
                        t("col.status"), t("col.covered")], rows, num={3, 4, 6}))


def casualty_numbers(attrs: dict[str, Any]) -> tuple[int | None, int | None]:
    """(killed, injured) an observation's attributes carry (None when it says nothing)."""

    def num(keys: tuple[str, ...], src: dict[str, Any]) -> int | None:
        for k in keys:
            try:
                n = int(float(src[k]))
            except (KeyError, TypeError, ValueError):
                continue
            if n >= 0:
                return n
        return None

    cas = attrs.get("casualties")
    src = cas if isinstance(cas, dict) else attrs
    return num(_KILLED, src), num(_INJURED, src)


def civilian_harm(ctx: ReportContext) -> Block:
    """Civilian casualties as the period's records carry them (reports, monitor teams), per area.
    Claims are not verified counts: the section says how many records each figure rests on."""
    t = ctx.t
    obs = [r for r in _obs_rows(ctx, ctx.period.start.timestamp(), ctx.period.end.timestamp(),
                                ["report_claim", "damage", "impact", "explosion"])
           if any(x is not None for x in casualty_numbers(r["attributes"]))]
    if not obs:
        return Block("civilian_harm", t("section.civilian_harm"),
                     p(t("civilian_harm.none") if ctx.cur_has_data else t("no_data_period")))
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r, a in zip(obs, area_names(np.array([r["lat"] for r in obs]), np.array([r["lon"] for r in obs])),
                    strict=True):
        k, inj = casualty_numbers(r["attributes"])
        per[a][0] += k or 0
        per[a][1] += inj or 0
        per[a][2] += 1
    rows = [[area_label(a, t), k, inj, n] for a, (k, inj, n) in sorted(per.items(), key=lambda x: -sum(x[1][:2]))]
    return Block("civilian_harm", t("section.civilian_harm"),
                 table([t("col.area"), t("col.killed"), t("col.injured"), t("col.records")], rows, num={1, 2, 3})
                 + p(t("civilian_harm.note"), "small"))


def infrastructure(ctx: ReportContext) -> Block:
    """Damage to civilian infrastructure: strikes on protected objects, and radar/imagery damage records."""
    t = ctx.t
    rows = []
    objs = {o.id: o for o in getattr(ctx.agreement, "protected", [])} if ctx.agreement is not None else {}
    for i, v in enumerate(ctx.rows):
        if v["rule"] != Rule.STRIKE_ON_PROTECTED_OBJECT.value:
            continue
        a = v.get("attributes") or {}
        o = objs.get(str(a.get("protected_object")))
        name = o.name if o is not None else str(a.get("protected_object") or t("infra.object"))
        dist = a.get("distance_m")
        rows.append([ctx.refs[v["id"]], name, ctx.place(i),
                     distance(float(dist), t) if dist is not None else "–", status_label(v["status"], t)])
    damage = _obs_rows(ctx, ctx.period.start.timestamp(), ctx.period.end.timestamp(), ["damage"])
    parts = []
    if rows:
        parts.append(table([t("col.ref"), t("col.object"), t("col.place"), t("col.distance"), t("col.status")], rows))
    if damage:
        parts.append(p(t("infra.damage_records", n=len(damage))))
    if not parts:
        parts.append(p(t("infra.none") if ctx.cur_has_data else t("no_data_period")))
    return Block("infrastructure", t("section.infrastructure"), "\n".join(parts))


def freedom_of_movement(ctx: ReportContext) -> Block:
    """Restrictions of the monitors' movement and interference with their assets (GNSS jamming of drones)."""
    t = ctx.t
    parts = []
    idx = [i for i, v in enumerate(ctx.rows) if v["rule"] == Rule.INTERFERENCE_WITH_MONITORS.value]
    if idx:
        rows = [[ctx.refs[ctx.rows[i]["id"]],
                 datetime.fromisoformat(str(ctx.rows[i]["time"])).astimezone(UTC).strftime("%d.%m %H:%M"),
                 ctx.place(i), party_label(ctx.rows[i]["party"], t), status_label(ctx.rows[i]["status"], t)]
                for i in idx]
        parts.append(table([t("col.ref"), t("col.time"), t("col.place"), t("col.party"), t("col.status")], rows))
    inter = _obs_rows(ctx, ctx.period.start.timestamp(), ctx.period.end.timestamp(), ["interference"])
    if inter:
        pl = nearest_places(np.array([r["lat"] for r in inter]), np.array([r["lon"] for r in inter]),
                            np.array([r["err_major_m"] for r in inter]))
        rows = []
        for r, place in zip(sorted(inter, key=lambda r: r["t"]), pl, strict=True):
            a = r["attributes"]
            start = _when(a.get("start")) or datetime.fromtimestamp(r["t"], UTC)
            dur = a.get("duration_s")
            if dur is None and _when(a.get("end")) is not None and _when(a.get("start")) is not None:
                dur = (_when(a.get("end")) - _when(a.get("start"))).total_seconds()  # type: ignore[operator]
            kind = str(a.get("interference") or t("fom.unknown_kind")).replace("_", " ")
            rows.append([start.strftime("%d.%m %H:%M"), kind,
                         t("unit.s", n=f"{float(dur):.0f}") if dur is not None else t("fom.duration_unknown"),
                         describe_place(place, ctx.lang)])
        parts.append(f"<h3>{escape(t('fom.interference'))}</h3>")
        parts.append(table([t("col.start"), t("col.kind"), t("col.duration"), t("col.source_area")], rows))
    if not parts:
        parts.append(p(t("fom.none") if ctx.cur_has_data else t("no_data_period")))
    return Block("freedom_of_movement", t("section.freedom_of_movement"), "\n".join(parts))


def _when(x: Any) -> datetime | None:
    if x is None or x == "":
        return None
    try:
        if isinstance(x, (int, float)):
            return datetime.fromtimestamp(float(x), UTC)
        d = datetime.fromisoformat(str(x))
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def corrections(ctx: ReportContext) -> Block:
    """Findings of earlier periods whose status changed in this one (dismissed, contested, confirmed...):
    what earlier reports said that no longer holds.  Only findings the view may see."""
    t = ctx.t
    a, b = ctx.period.start.timestamp(), ctx.published_end(ctx.period.end.timestamp())
    steps = RS.corrections(ctx.store, a, b)
    rows = []
    p_ = ctx.view.principal()
    for s in steps:
        v = ctx.views.get(p_, s["violation_id"], ctx.now)
        if v is None:
            continue
        when = datetime.fromtimestamp(float(s["t"]), UTC)
        rows.append([when.strftime("%d.%m %H:%M"), rule_title(v["rule"], t),
                     f"{status_label(str(s['from_status']), t)} → {status_label(str(s['to_status']), t)}",
                     datetime.fromtimestamp(float(s["at"]), UTC).strftime("%d.%m %H:%M")])
        ctx.extra.setdefault("corrected", []).append(v["id"])
    if not rows:
        return Block("corrections", t("section.corrections"), p(t("corrections.none")))
    return Block("corrections", t("section.corrections"),
                 table([t("col.finding_time"), t("col.rule"), t("col.change"), t("col.changed_at")], rows))


def sources(ctx: ReportContext) -> list[Block]:
    """The source stages' own sections (analyst) or the published air and sea summaries (others)."""
    secs = (V._extra_sections(ctx.store, ctx.agreement, ctx.period) if ctx.view.full
            else V._published_sections(ctx.store, ctx.agreement, ctx.period, ctx.views, ctx.now))
    return [Block(f"source:{i}", s["title"], s["html"]) for i, s in enumerate(secs)]


def mechanism(ctx: ReportContext) -> Block | None:
    """The mechanism's sections (cases and overdue, freedom of movement, holding sites,
    corrections, unobserved line; trucewatch.mechanism.reports) in the report's view."""
    secs = V._mechanism_sections(ctx.store, ctx.agreement, ctx.period, ctx.view)
    if not secs:
        return None
    html = "".join(f"<h3>{escape(s['title'])}</h3>\n{s['html']}" for s in secs)
    return Block("mechanism", ctx.t("section.mechanism"), html)


def source_sections(ctx: ReportContext) -> Block | None:
    blocks = sources(ctx)
    if not blocks and ctx.view.full:
        return None
    html = "".join(f"<h3>{escape(b.title)}</h3>\n{b.html}" for b in blocks)
    if not ctx.view.full:
        html += p(ctx.t("sources.published_note"), "small")
    return Block("sources", ctx.t("section.sources"), html)


def ledger(ctx: ReportContext) -> Block:
    t = ctx.t
    cp = ctx.extra.get("checkpoint")
    if cp:
        html = (p(t("ledger.text", n=cp.get("size", "?")))
                + f"<div class='checkpoint'>{escape(str(cp.get('note', '')))}</div>")
    else:
        html = p(t("ledger.none"))
    return Block("ledger", t("section.ledger"), html)


def method(ctx: ReportContext) -> Block:
    return Block("method", ctx.t("section.method"), p(ctx.t("method.text"), "small"))


def annex(ctx: ReportContext) -> Block | None:
    """Annex: finding references to ids, with the evidence as the view may cite it."""
    t = ctx.t
    if not ctx.rows:
        return None
    kinds = ctx.views.source_kinds() if not ctx.view.full else {}
    raw_ids = V._raw_identities(ctx.views, [v["id"] for v in ctx.rows]) if ctx.view.role == "liaison" else {}
    entries = []
    for v in sorted(ctx.rows, key=lambda v: int(ctx.refs[v["id"]][1:])):
        ev = V._evidence_text(v, ctx.view, kinds)
        ex = _EVIDENCE_LIST.sub("", V._explanation(v, ctx.view, raw_ids.get(v["id"], []) + list(kinds))).strip()
        text = f" <span class='ex'>{escape(ex)}</span>" if ex else ""
        entries.append(f"<p class='entry'><b>{ctx.refs[v['id']]}</b> <span class='id'>{escape(v['id'])}</span>"
                       f"{text} <span class='ev'>{escape(t('col.evidence'))}: "
                       f"{escape(ev or t('annex.no_evidence'))}</span></p>")
    return Block("annex", t("section.annex"), "<div class='annex-cols'>" + "".join(entries) + "</div>", "annex")


for _k, _f in (("summary", summary), ("map", map_section), ("explosions", explosions), ("rules", violations_by_rule),
               ("findings", findings_by_settlement), ("weapons", weapons), ("holding_sites", holding_sites),
               ("civilian_harm", civilian_harm), ("infrastructure", infrastructure),
               ("freedom_of_movement", freedom_of_movement), ("corrections", corrections),
               ("mechanism", mechanism), ("sources", source_sections), ("ledger", ledger), ("method", method), ("annex", annex)):
    SECTIONS.append((_k, _f))


