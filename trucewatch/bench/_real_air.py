"""Air-defence summary counting on REAL Air Force summaries, as quoted by the press.

The set (trucewatch/data/eval/real/air/, see SOURCES.md there) holds short press
quotations of the Ukrainian Air Force's daily summaries in Ukrainian, English and
Russian, labelled by reading them: per weapon family, the launched and intercepted
counts the quotation states (``null`` where it states none).  It is split by attack
night into a development half (rules were tuned on it) and a held-out half (never
looked at while tuning), so the held-out figure is what to quote.

Why families and not the parser's types: the press merges Shahed, Gerbera and decoy
drones into "drones", so the parser's ``shahed``/``drone``/``decoy`` items are summed
into one ``drone`` family; a label ``missile`` (a post that gives only "N missiles")
is compared with the sum over every missile type the parser found.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trucewatch.sources.air.summary import Summary, parse_summary

DATA = Path(__file__).resolve().parents[1] / "data" / "eval" / "real" / "air"

#: parser weapon type -> labelled family
FAMILY = {"shahed": "drone", "drone": "drone", "decoy": "drone", "cruise_missile": "cruise_missile",
          "ballistic_missile": "ballistic_missile", "guided_missile": "guided_missile", "glide_bomb": "glide_bomb",
          "missile": "missile", "aircraft": "aircraft"}
_MISSILE_TYPES = ("missile", "cruise_missile", "ballistic_missile", "guided_missile")


def load(split: str = "heldout") -> list[dict[str, Any]]:
    """Rows of one split ("dev" or "heldout")."""
    if split not in ("dev", "heldout"):
        raise ValueError(f"split must be 'dev' or 'heldout', not {split!r}")
    path = DATA / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _published(date: str | None) -> datetime | None:
    if date and len(date) == 10:
        return datetime.fromisoformat(date).replace(hour=7, tzinfo=UTC)
    return None


def _sum(vals: list[int | None]) -> int | None:
    got = [v for v in vals if v is not None]
    return sum(got) if got else None


def family_counts(s: Summary) -> dict[str, tuple[int | None, int | None]]:
    """The parser's items folded into labelled families: {family: (launched, intercepted)}."""
    out: dict[str, list[list[int | None]]] = {}
    for it in s.items:
        fam = FAMILY.get(it.weapon_type)
        if fam is None:
            continue
        acc = out.setdefault(fam, [[], []])
        acc[0].append(it.launched)
        acc[1].append(it.intercepted)
    res = {f: (_sum(v[0]), _sum(v[1])) for f, v in out.items()}
    missiles = [it for it in s.items if it.weapon_type in _MISSILE_TYPES]
    if missiles and "missile" not in res:
        res["missile_all"] = (_sum([i.launched for i in missiles]), _sum([i.intercepted for i in missiles]))
    return res


def measure(split: str = "heldout") -> dict[str, Any]:
    """Exact-count accuracy on one split of the real set.

    ``counts_exact``: share of labelled (summary, family) pairs whose launched AND
    intercepted are both what the post states (a ``null`` label must come out ``None``).
    Also each side alone, per language, families the parser invented (``spurious_families``)
    and how many summaries it flagged: numbers that cannot all be true (``flagged_inconsistent``) and
    mentions of one weapon that disagree (``flagged_disagreeing_mentions``).
    """
    rows = load(split)
    pairs = ok = l_ok = i_ok = spurious = flagged = disagree = 0
    per_lang: dict[str, list[int]] = {}
    misses: list[dict[str, Any]] = []
    for r in rows:
        s = parse_summary(r["text"], summary_id=r["id"], published=_published(r.get("date")))
        got = family_counts(s)
        flagged += int(any("more than" in p or "add up" in p or "exceed" in p for p in s.problems))
        disagree += int(any("disagree" in p for p in s.problems))
        labelled = {e["family"] for e in r["expected"]}
        spurious += len({f for f in got if f != "missile_all"} - labelled
                        - ({"cruise_missile", "ballistic_missile", "guided_missile"} if "missile" in labelled else set()))
        for e in r["expected"]:
            fam = e["family"]
            pred = got.get(fam) or (got.get("missile_all") if fam == "missile" else None) or (None, None)
            lo, io = pred[0] == e["launched"], pred[1] == e["intercepted"]
            pairs += 1
            l_ok += int(lo)
            i_ok += int(io)
            ok += int(lo and io)
            c = per_lang.setdefault(r["language"], [0, 0])
            c[0] += int(lo and io)
            c[1] += 1
            if not (lo and io):
                misses.append({"id": r["id"], "family": fam, "expected": [e["launched"], e["intercepted"]],
                               "got": list(pred)})
    n = max(pairs, 1)
    return {
        "set": f"real {'held-out' if split == 'heldout' else 'development'} air summaries",
        "measured_on": (f"real press quotations of Ukrainian Air Force summaries (uk/en/ru), "
                        f"{'held-out half, not tuned on' if split == 'heldout' else 'development half, tuned on'}; "
                        "labelled by reading (trucewatch/data/eval/real/air/SOURCES.md)"),
        "split": split, "n_summaries": len(rows), "n_families": pairs,
        "counts_exact": round(ok / n, 4), "launched_exact": round(l_ok / n, 4), "intercepted_exact": round(i_ok / n, 4),
        "counts_exact_by_language": {k: round(v[0] / v[1], 4) for k, v in sorted(per_lang.items())},
        "spurious_families": spurious, "flagged_inconsistent": flagged, "flagged_disagreeing_mentions": disagree,
        "misses": misses,
    }


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    for sp in sys.argv[1:] or ["dev", "heldout"]:
        m = measure(sp)
        print(json.dumps({k: v for k, v in m.items() if k != "misses"}, ensure_ascii=False))
