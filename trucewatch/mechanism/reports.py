"""What each role reads of the mechanism: redaction, spot and weekly reports,
and the daily report's mechanism sections.

Views follow the daily report's (trucewatch.report.daily.ReportView): the
analyst (and administrator) sees everything; a liaison sees what concerns its
party, with other actors reduced to their role; the public sees published
cases and findings only, with no person or account named.  Violations come
through ``trucewatch.access``'s ``Views`` (the API's own role filter), never raw.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

from trucewatch.access.views import ViolationFilter
from trucewatch.mechanism.core import iso
from trucewatch.mechanism.mission import Mechanism, stored_config
from trucewatch.store.mechanism import has_mechanism_tables

PUBLISHED = ("published", "changed")
#: Mechanism findings that get a spot report the same day.
SERIOUS = ("weapon_missing", "declared_weapon_outside_site", "denial_of_access", "sensor_outage")


def _role(p: Any) -> str:
    return str(getattr(p.role, "value", p.role))


def _actor(actor: str | None, p: Any) -> str | None:
    """Full actor for the mission's staff; for others their own actors, the rest by role only."""
    if actor is None or _role(p) in ("administrator", "analyst"):
        return actor
    if _role(p) == "liaison" and actor.startswith(f"liaison:{p.party}:"):
        return actor
    return actor.split(":")[0]


#: Steps whose reason the public reads (the mission's published reasoning); others are internal notes.
PUBLIC_REASONS = ("decide", "publish")


def redact_case(c: dict[str, Any], p: Any) -> dict[str, Any]:
    """A case as ``p`` may read it.  Liaisons and monitors: other actors by role only, no
    task assets, observation ids or task step data (monitor identities stay internal, as in
    the findings' liaison view); the other party's allegation without its attachments.
    Public: no account named, no internal reasons, no evidence ids, published findings only."""
    role = _role(p)
    if role in ("administrator", "analyst"):
        return c
    out = dict(c)
    for key in ("timeline", "decisions"):
        if key in out:
            rows = []
            for x in out[key]:
                y = x | {"actor": _actor(x.get("actor"), p)}
                if role == "public" or x.get("kind") == "task":
                    y["data"] = {}
                if role == "public" and x.get("action") not in PUBLIC_REASONS and "reason" in y:
                    y["reason"] = ""
                rows.append(y)
            out[key] = rows
    if "allegations" in out:
        algs = []
        for a in out["allegations"]:
            own = (role == "liaison" and a.get("submitter_party") == p.party) or \
                (role == "monitor" and a.get("submitted_by") == p.actor)
            fields = ("id", "type", "t_from", "t_to", "lat", "lon", "err_m", "content_hash", "ledger_index",
                      "received_at", "accused_party") + (("description", "place", "cited_observations")
                                                         if role == "monitor" else ("description", "place")
                                                         if role != "public" else ())
            keep = dict(a) if own else {k: a[k] for k in fields if k in a}
            keep["submitted_by"] = _actor(a.get("submitted_by"), p) if role != "public" else None
            algs.append(keep)
        out["allegations"] = algs
    if "tasks" in out:
        out["tasks"] = [{"id": t["id"], "asset_kind": t["asset_kind"], "t_from_iso": t.get("t_from_iso"),
                         "t_to_iso": t.get("t_to_iso"), "state": t["state"],
                         "outcome": (t.get("result") or {}).get("outcome"),
                         "coverage_fraction": ((t.get("result") or {}).get("coverage") or {}).get("fraction")}
                        for t in out["tasks"]]
    out.pop("observations", None)
    if role == "public":
        for k in ("violations", "replies", "tasks", "submitter_party"):
            out.pop(k, None)
        out["findings"] = [redact_finding(f, p) for f in out.get("findings", []) if f["status"] in PUBLISHED]
    return out


def redact_finding(f: dict[str, Any], p: Any) -> dict[str, Any]:
    out = dict(f) | {"t_iso": iso(f["t"])}
    if _role(p) in ("administrator", "analyst"):
        return out
    out.pop("dedupe_key", None)
    if _role(p) == "public":
        attrs = out.get("attributes") or {}
        out["attributes"] = {k: attrs[k] for k in ("class", "missing_count") if k in attrs}
    return out


def redact_correction(c: dict[str, Any], p: Any) -> dict[str, Any]:
    out = dict(c)
    out["actor"] = _actor(c.get("actor"), p)
    if _role(p) == "public":
        out["actor"] = None
        if c["target_kind"] == "violation" and not str(c.get("reason", "")).startswith("contest upheld"):
            out["reason"] = "dismissed after publication"
    return out


# ------------------------------------------------------------------ spot
def spot_case(mech: Any, case_id: str, p: Any) -> dict[str, Any]:
    """Spot report on one case: what was alleged, what the mission did, its decision and deadlines."""
    c = redact_case(mech.case_detail(case_id), p)
    return {"report": "spot", "subject": f"case {case_id}", "view": _view(p), "generated": iso(mech.clock()),
            "case": {k: c.get(k) for k in ("id", "type", "state", "decision", "received_at", "lat", "lon",
                                            "accused_party", "deadlines", "overdue")},
            "allegations": c.get("allegations", []), "timeline": c.get("timeline", []),
            "findings": c.get("findings", [])}


def spot_finding(mech: Any, f: dict[str, Any], p: Any) -> dict[str, Any]:
    rf = redact_finding(f, p)
    replies = mech.repo.replies_to("finding", [f["id"]])
    if _role(p) == "liaison":
        replies = [r for r in replies if r["party"] == p.party]
    elif _role(p) == "public":
        replies = [{"kind": r["kind"], "state": r["state"], "outcome": r["outcome"]} for r in replies]
    return {"report": "spot", "subject": f"finding {f['id']}", "view": _view(p), "generated": iso(mech.clock()),
            "finding": rf, "replies": replies}


def _view(p: Any) -> str:
    r = _role(p)
    if r in ("administrator", "analyst"):
        return "analyst"
    return f"liaison:{p.party}" if r == "liaison" else r


# ---------------------------------------------------------------- weekly
def mechanism_summary(mech: Any, t_from: float, t_to: float, p: Any) -> dict[str, Any]:
    """Cases, overdue, obstruction, holding sites and corrections in [t_from, t_to), in ``p``'s view."""
    role = _role(p)
    party = p.party if role == "liaison" else None
    cases = mech.list_cases(party=party, states=["published"] if role == "public" else None, limit=100_000)
    in_period = [c for c in cases if t_from <= _ts(c["received_at"]) < t_to]
    overdue = [c for c in cases if c["is_overdue"]] if role != "public" else []
    statuses = list(PUBLISHED) if role in ("public", "liaison") else None
    finds = mech.repo.list_findings(t_from=t_from, t_to=t_to, party=party if role == "liaison" else None,
                                    statuses=statuses if role == "public" else None)
    sites = mech.sites(party=party) if role != "public" else []
    corr = [redact_correction(c, p) for c in mech.corrections(t_from, t_to)]
    return {
        "cases": {"received": len(in_period), "by_state": dict(Counter(c["state"] for c in in_period)),
                  "decisions": dict(Counter(c["decision"] for c in in_period if c["decision"])),
                  "overdue": [{"id": c["id"], "state": c["state"], "overdue": c["overdue"]} for c in overdue]},
        "obstruction": {"freedom_of_movement": mech.freedom_of_movement(t_from, t_to, statuses=statuses),
                        "findings": [redact_finding(f, p) for f in finds
                                     if f["kind"] in ("denial_of_access", "sensor_outage", "interference")]},
        "holding_sites": {"sites": len(sites), "inspection_overdue": [s["id"] for s in sites if s["inspection_overdue"]],
                          "missing": [redact_finding(f, p) for f in finds
                                      if f["kind"] in ("weapon_missing", "declared_weapon_outside_site")]},
        "corrections": corr,
    }


def _ts(s: str | float) -> float:
    if isinstance(s, (int, float)):
        return float(s)
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def weekly(mech: Any, views: Any, start: date, p: Any) -> dict[str, Any]:
    """The weekly summary for ISO week starting ``start`` (Monday 00:00 UTC), in ``p``'s view."""
    a = datetime(start.year, start.month, start.day, tzinfo=UTC)
    b = a + timedelta(days=7)
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = views.query(p, ViolationFilter(t_from=a.timestamp(), t_to=b.timestamp(), limit=5000, offset=offset))
        rows += page
        if len(page) < 5000:
            break
        offset += 5000
    prev = views.query(p, ViolationFilter(t_from=(a - timedelta(days=7)).timestamp(), t_to=a.timestamp(),
                                          limit=100_000, offset=0))
    return {"report": "weekly", "week": f"{start.isocalendar().year}-W{start.isocalendar().week:02d}",
            "from": iso(a.timestamp()), "to": iso(b.timestamp()), "view": _view(p), "generated": iso(mech.clock()),
            "findings": {"total": len(rows), "previous_week": len(prev),
                         "by_rule": dict(Counter(v["rule"] for v in rows)),
                         "by_party": dict(Counter(v["party"] for v in rows)),
                         "by_status": dict(Counter(v["status"] for v in rows))},
            **mechanism_summary(mech, a.timestamp(), b.timestamp(), p)}


# ------------------------------------------------------------------ html
def _table(head: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p>None.</p>"
    h = "".join(f"<th>{escape(str(c))}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _sections(s: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    c = s["cases"]
    parts = [f"<p>{c['received']} case(s) received; by state: "
             + escape(", ".join(f"{k} {v}" for k, v in sorted(c["by_state"].items())) or "none") + "; decisions: "
             + escape(", ".join(f"{k} {v}" for k, v in sorted(c["decisions"].items())) or "none") + ".</p>"]
    if c["overdue"]:
        parts.append("<p><b>Overdue:</b></p>" + _table(["Case", "State", "Overdue steps"],
                                                       [[o["id"], o["state"], ", ".join(o["overdue"])]
                                                        for o in c["overdue"]]))
    out.append({"title": "Cases and deadlines", "html": "".join(parts)})
    fom = s["obstruction"]["freedom_of_movement"]
    out.append({"title": "Freedom of movement and obstruction", "html": _table(
        ["Party", "Denials of access", "Sensor outages", "Suspected interference"],
        [[r["party"], r["denial_of_access"], r["sensor_outage"], r["suspected_interference"]] for r in fom])
        + _table(["Time", "Kind", "Party", "Cause", "Summary"],
                 [[f["t_iso"], f["kind"], f["party"], f["cause"], f["summary"]]
                  for f in s["obstruction"]["findings"]])})
    hs = s["holding_sites"]
    out.append({"title": "Weapons holding sites", "html":
                f"<p>{hs['sites']} site(s) in this view; inspection overdue: "
                f"{escape(', '.join(hs['inspection_overdue']) or 'none')}.</p>"
                + _table(["Time", "Kind", "Party", "Summary"],
                         [[f["t_iso"], f["kind"], f["party"], f["summary"]] for f in hs["missing"]])})
    out.append({"title": "Corrections", "html": _table(
        ["When", "Finding", "Change", "Before", "After", "Reason"],
        [[c["at_iso"], c["target_id"], c["change"], c["before"], c["after"], c["reason"]] for c in s["corrections"]])})
    return out


def to_html(data: dict[str, Any]) -> str:
    """A plain, self-contained HTML rendering of a spot or weekly report."""
    title = f"TruceWatch {data['report']} report: {data.get('subject') or data.get('week')} ({data['view']} view)"
    body = [f"<h1>{escape(title)}</h1>", f"<p>Generated {escape(str(data.get('generated')))}</p>"]
    if data["report"] == "weekly":
        f = data["findings"]
        body.append(f"<h2>Findings</h2><p>{f['total']} finding(s) (previous week {f['previous_week']}).</p>")
        body.append(_table(["Rule", "Count"], sorted(f["by_rule"].items())))
        for sec in _sections(data):
            body.append(f"<h2>{escape(sec['title'])}</h2>{sec['html']}")
    elif "case" in data:
        c = data["case"]
        body.append(_table(["Case", "Type", "State", "Decision", "Received", "Overdue"],
                           [[c["id"], c["type"], c["state"], c["decision"] or "–", c["received_at"],
                             ", ".join(c["overdue"] or []) or "–"]]))
        body.append("<h2>Timeline</h2>" + _table(["When", "What", "Actor", "Reason"],
                                                [[x["at_iso"], x.get("action") or x["kind"], x.get("actor") or "",
                                                  x.get("reason") or ""] for x in data["timeline"]]))
    else:
        f = data["finding"]
        body.append(_table(["Finding", "Kind", "Party", "Cause", "Status", "Summary"],
                           [[f["id"], f["kind"], f["party"], f["cause"], f["status"], f["summary"]]]))
    css = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:3px}"
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{css}</style></head>" \
           f"<body>{''.join(body)}</body></html>"


def daily_sections(store: Any, t_from: float, t_to: float, view: Any, clock: Any = None,
                   agreement: Any = None) -> list[dict[str, str]]:
    """The daily report's mechanism sections (cases and overdue, obstruction, holding sites,
    corrections) for one report view (``trucewatch.report.daily.ReportView``); in the analyst
    view with an agreement also the period's unobserved segments of the line."""
    if not _has_tables(store):
        return []
    kw: dict[str, Any] = {"agreement": agreement, "config": stored_config(store)}
    if clock is not None:
        kw["clock"] = clock
    mech = Mechanism(store, **kw)
    out = _sections(mechanism_summary(mech, t_from, t_to, view.principal()))
    if agreement is not None and getattr(view, "full", False):
        u = mech.unobserved_segments(t_from, t_to)
        s = u["summary"]
        rows = []
        for f in u["features"][:60]:
            c = f["geometry"]["coordinates"]
            rows.append([f"{c[0][1]:.3f}, {c[0][0]:.3f}", f"{c[-1][1]:.3f}, {c[-1][0]:.3f}",
                         f["properties"]["length_km"], f"{f['properties']['observed_fraction']:.0%}"])
        more = f"<p class='small'>… and {len(u['features']) - 60} more.</p>" if len(u["features"]) > 60 else ""
        out.append({"title": "Unobserved segments of the line", "html":
                    f"<p>{s['unobserved']} of {s['segments']} segments ({s['unobserved_km']:.0f} of "
                    f"{s['line_km']:.0f} km) were observed over less than {s['min_observed']:.0%} of their length "
                    "by sensors, drones, imagery footprints or tasked patrols.</p>"
                    + _table(["From (lat, lon)", "To (lat, lon)", "km", "Observed"], rows) + more})
    return out


def _has_tables(store: Any) -> bool:
    return has_mechanism_tables(store)
