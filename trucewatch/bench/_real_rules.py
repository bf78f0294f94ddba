"""Rules on real headlines: do findings stay where the evidence puts them?

The March 2025 VIINA headlines (real Ukrainian and Russian news, ODbL; see
/work/shared/README.md) go through the real text path (``extract_observations``
with the sample agreement), batch fusion and adjudication under the sample
agreement with its start moved to 2025-01-01.  No labels are needed: each
finding is checked against its own geometry.

- ``protected_beyond_radius_2sigma``: strike-on-protected-object findings whose
  event lies farther from the object than its protected radius plus twice the
  location's one-sigma uncertainty (sigma = 95 % radius / 2.448).  Goal: 0.
- ``fire_near_line_beyond_rule``: fire-across-line findings without a located
  launch whose impact estimate lies farther from the line than the rule's
  distance (``AdjudicationConfig.unknown_origin_max_km``).
- ``auto_verified_single_line``: findings the workflow would verify whose
  evidence is one independent line (one operator of one source kind).

Splits: ``dev`` = headlines published on days 1-15, ``heldout`` = days 16-31
(nothing here was tuned on them), ``all`` = the whole month.
"""

from __future__ import annotations

import csv
import os
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch.adjudication import adjudicate
from trucewatch.adjudication.rules import AdjudicationConfig
from trucewatch.adjudication.workflow import WorkflowConfig, meets
from trucewatch.agreement import load_agreement
from trucewatch.fusion import fuse
from trucewatch.geo import CHI2_95_2D, haversine_m
from trucewatch.model import Rule, Status
from trucewatch.sources.text.intake import record_from_dict
from trucewatch.sources.text.pipeline import extract_observations, sources_of

#: The headline file under the shared folder (read-only); ``path=`` or TRUCEWATCH_SHARED overrides it.
VIINA_REL = Path("data") / "events" / "viina_headlines_2025-03.csv"
SPLITS = ("dev", "heldout", "all")


def _viina_path() -> Path:
    """The shared folder beside the checkout (``../shared``), inside it, or TRUCEWATCH_SHARED."""
    root = Path(__file__).resolve().parents[2]
    cands = [Path(os.environ["TRUCEWATCH_SHARED"])] if os.environ.get("TRUCEWATCH_SHARED") else []
    cands += [root.parent / "shared", root / "shared", root.parent.parent / "shared"]
    for c in cands:
        if (c / VIINA_REL).exists():
            return c / VIINA_REL
    return cands[0] / VIINA_REL


def _records(path: Path, split: str) -> list[dict[str, Any]]:
    """Headlines as text-stage records; a date-only stamp becomes mid-morning
    (as in trucewatch/data/eval/reports/build_eval.py)."""
    out = []
    with path.open(encoding="utf-8-sig") as f:
        for idx, r in enumerate(csv.DictReader(f)):
            day = datetime.fromisoformat(r["datetime"]).replace(tzinfo=UTC)
            if (split == "dev" and day.day > 15) or (split == "heldout" and day.day <= 15):
                continue
            if day.hour == 0 and day.minute == 0:
                day += timedelta(hours=10)
            out.append({"id": f"viina-{idx}", "source": "viina", "published_at": day.isoformat(),
                        "text": r["headline"], "lang": None})
    return out


def _agreement() -> Any:
    ag = load_agreement(str(resources.files("trucewatch") / "data" / "agreements" / "ua-ru-2026" / "agreement.yaml"))
    ag.start = datetime(2025, 1, 1, tzinfo=UTC)  # the sample agreement, in force for the headlines' month
    return ag


def measure(split: str = "heldout", path: str | Path | None = None) -> dict[str, Any]:
    """Counts of findings that the evidence's geometry does not support (see module doc)."""
    if split not in SPLITS:
        raise ValueError(f"split: {split!r} is not one of {', '.join(SPLITS)}")
    src = Path(path) if path else _viina_path()
    if not src.exists():
        raise FileNotFoundError(f"{src}: the VIINA headline file is missing (see /work/shared/README.md)")
    ag = _agreement()
    raw = _records(src, split)
    recs = [record_from_dict(r, r["id"]) for r in raw]
    obs, _errs = extract_observations(recs, ag)
    sources = {s.id: s for s in sources_of(recs)}
    events = fuse(obs, sources, ag)
    by_id = {o.id: o for o in obs}
    cfg = AdjudicationConfig()
    vs = adjudicate(events, by_id, ag, cfg)
    ev = {e.id: e for e in events}
    wf = WorkflowConfig()
    objs = {p.id: p for p in ag.protected}
    n_prot = n_prot_far = n_prot_5km = n_fire = n_fire_far = n_fire_20km = n_ver = n_ver_one = 0
    worst: list[dict[str, Any]] = []
    by_rule: dict[str, int] = {}
    for v in vs:
        by_rule[v.rule.value] = by_rule.get(v.rule.value, 0) + 1
        e = ev[v.event_id]
        sigma = e.location.err_major_m / CHI2_95_2D
        if v.rule == Rule.STRIKE_ON_PROTECTED_OBJECT:
            n_prot += 1
            p = objs[v.attributes["protected_object"]]
            d = float(haversine_m(e.location.lat, e.location.lon, p.lat, p.lon))
            n_prot_5km += int(d > 5000.0)
            if d > p.radius_m + 2.0 * sigma:
                n_prot_far += 1
                worst.append({"event": e.id, "object": p.id, "distance_km": round(d / 1000, 1),
                              "err95_km": round(e.location.err_major_m / 1000, 1)})
        elif v.rule == Rule.FIRE_ACROSS_LINE and v.attributes.get("origin_known") is False:
            n_fire += 1
            d = float(ag.distance_to_line_m(np.array([e.location.lat]), np.array([e.location.lon]))[0])
            n_fire_20km += int(d > 20_000.0)
            if d > cfg.unknown_origin_max_km * 1000.0:
                n_fire_far += 1
        ok, _ = meets(v, wf, Status.VERIFIED)
        if ok and meets(v, wf, Status.CORROBORATED)[0]:
            n_ver += 1
            lines = v.attributes.get("n_lines", v.attributes.get("n_independent", 1))
            if int(lines) < 2 or _one_operator(v, sources):
                n_ver_one += 1
    worst.sort(key=lambda w: -w["distance_km"])
    return {
        "measured_on": (f"VIINA headlines March 2025 (real, ODbL), split {split} "
                        f"({'days 1-15' if split == 'dev' else 'days 16-31' if split == 'heldout' else 'all days'}),"
                        " sample agreement ua-ru-2026 with start moved to 2025-01-01; no labels: each finding is "
                        "checked against its own geometry"),
        "headlines": len(raw),
        "located_claims": len(obs),
        "events": len(events),
        "findings": len(vs),
        "findings_by_rule": dict(sorted(by_rule.items())),
        "unlocated_claims": sum(1 for e in events if e.attributes.get("unlocated_claim")),
        "protected_findings": n_prot,
        "protected_beyond_radius_2sigma": n_prot_far,
        "protected_beyond_5km": n_prot_5km,
        "protected_beyond_examples": worst[:5],
        "fire_near_line_findings": n_fire,
        "fire_near_line_beyond_rule": n_fire_far,
        "fire_near_line_beyond_20km": n_fire_20km,
        "auto_verified": n_ver,
        "auto_verified_single_line": n_ver_one,
        "goal": {"protected_beyond_radius_2sigma": "== 0"},
    }


def _one_operator(v: Any, sources: dict[str, Any]) -> bool:
    """True when every piece of evidence comes from one (source kind, operator)."""
    ops = set()
    for e in v.evidence:
        s = sources.get(e.source_id)
        kind = s.kind.value if s is not None else "unknown"
        net = (s.attributes.get("network") if s is not None else None) or e.source_id
        ops.add((kind, net))
    return len(ops) <= 1
