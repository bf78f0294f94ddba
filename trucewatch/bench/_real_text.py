"""Text stage measured on labelled *real* text nobody on the project wrote (issue 18).

Sets: trucewatch/data/eval/real/text/{dev,heldout}.jsonl, built by scripts/build_real_text_eval.py
(sources, licences and labelling rules in SOURCES.md there).  ``headlines``: news headlines and short
items in Ukrainian and Russian (held-out: months other than March 2025; dev: a labelled sample of the
March 2025 VIINA file plus the dev share of the others), with every place of an event labelled, or
``event: false`` for weather, sports and civic news.  ``patrol``: OSCE SMM patrol sentences with the true
location (named position moved by the stated offset) and a tolerance; ``negated`` ones ("did not
observe any ceasefire violations") must give no claim.

``measure(split)`` runs the public extraction entry point on every item, one record at a time, and
returns the figures; ``bench realdata`` imports it.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

from trucewatch.sources.text.extract import Extractor

DATA = Path(__file__).resolve().parents[1] / "data" / "eval" / "real" / "text"
#: Claim types that are not events (the extractor's verdict for weather, sports, ...).
NOT_EVENT = {"non_event"}


def load(split: str = "heldout", data_dir: Path | None = None) -> list[dict]:
    path = (data_dir or DATA) / f"{split}.jsonl"
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _published(s: str | None) -> datetime:
    if not s:
        return datetime(2025, 1, 1, 12, tzinfo=UTC)
    t = datetime.fromisoformat(s.replace(" ", "T")[:19])
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _claims(ex, item: dict) -> list:
    """All claims the extractor makes for one text (one per event when it can split them)."""
    pub = _published(item.get("published_at"))
    many = getattr(ex, "extract_many", None)
    if many is not None:
        return list(many(item["id"], "eval", item["text"], pub, item.get("lang")))
    return [ex.extract(item["id"], "eval", item["text"], pub, item.get("lang"))]


def _is_event(c) -> bool:
    return c.event_type not in NOT_EVENT and not getattr(c, "negated", False)


def measure(split: str = "heldout", data_dir: Path | None = None, extractor=None) -> dict:
    """Figures on one split of the real-text sets (see the module docstring)."""
    ex = extractor or Extractor()
    rows = load(split, data_dir)
    places = places_ok = items_ok = n_event_items = 0
    non_event = non_event_ok = 0
    cas_n = cas_ok = 0
    p_n = p_ok = 0
    p_err: list[float] = []
    p_typed = 0
    neg_n = neg_ok = 0
    misses: list[dict] = []
    for it in rows:
        claims = _claims(ex, it)
        events = [c for c in claims if _is_event(c)]
        located = [c for c in events if c.lat is not None]
        if it["set"] == "headlines":
            if not it["event"]:
                non_event += 1
                non_event_ok += not events
                if events:
                    misses.append({"id": it["id"], "why": "non-event taken as " + events[0].event_type})
                continue
            n_event_items += 1
            all_ok = True
            for p in it["places"]:
                places += 1
                d = min((_km(p["lat"], p["lon"], c.lat, c.lon) for c in located), default=math.inf)
                ok = d <= 10.0
                places_ok += ok
                all_ok &= ok
                if not ok:
                    misses.append({"id": it["id"], "place": p["name"], "km": None if math.isinf(d) else round(d, 1),
                                   "got": [c.place for c in located]})
            items_ok += all_ok and bool(it["places"])
            cas = it.get("casualties") or {}
            if cas:
                cas_n += 1
                k = sum(getattr(c, "killed", None) or 0 for c in events)
                w = sum(getattr(c, "injured", None) or 0 for c in events)
                cas_ok += k == cas.get("killed", 0) and w == cas.get("injured", 0)
        else:
            if it["negated"]:
                neg_n += 1
                neg_ok += not events
                if events:
                    misses.append({"id": it["id"], "why": "negation not refused"})
                continue
            p_n += 1
            d = min((_km(it["lat"], it["lon"], c.lat, c.lon) for c in located), default=math.inf)
            p_err.append(d)
            p_ok += d <= it["tolerance_km"]
            p_typed += any(c.event_type == "shelling" for c in events)
            if d > it["tolerance_km"]:
                misses.append({"id": it["id"], "km": None if math.isinf(d) else round(d, 1),
                               "tol": it["tolerance_km"], "got": [c.place_phrase for c in located]})
    fin = sorted(e for e in p_err if math.isfinite(e))

    def frac(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return {
        "split": split,
        "measured_on": "held-out real text (not tuned on)" if split == "heldout" else "dev real text (tuned on)",
        "headline_places_within_10km": frac(places_ok, places),
        "headline_items_all_places_within_10km": frac(items_ok, n_event_items),
        "headline_places": places, "headline_event_items": n_event_items,
        "non_event_refusal_rate": frac(non_event_ok, non_event), "non_event_items": non_event,
        "casualties_exact": frac(cas_ok, cas_n), "casualty_items": cas_n,
        "patrol_places_within_tolerance": frac(p_ok, p_n), "patrol_items": p_n,
        "patrol_median_error_km": round(fin[len(fin) // 2], 2) if fin else None,
        "patrol_typed_shelling": frac(p_typed, p_n),
        "negation_refusal_rate": frac(neg_ok, neg_n), "negation_items": neg_n,
        "misses": misses,
    }


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    out = measure(sys.argv[1] if len(sys.argv) > 1 else "heldout",
                  Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(json.dumps(out, ensure_ascii=False, indent=1))
