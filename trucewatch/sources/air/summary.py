"""Air-defence daily summaries (Ukrainian or English) to counts per weapon type.

Ukraine's Air Force posts every morning what was launched overnight, from
where, and what was shot down, e.g. "У ніч на 8 червня (з 18:00 7 червня)
противник атакував 215 засобами повітряного нападу: 206 ударними БпЛА типу
Shahed ..., 2 крилатими ракетами Х-101 з Саратовської області ...  станом на
08:30 ... збито/подавлено 184 ...".

How it reads them (no language model; rules that are easy to audit):
1. The text is cut into clauses (sentences, lines, ``;``, "while", "of which"...).
   Each clause gets a state from its keywords, strongest first: *hit* (влучання,
   hits, debris), *lost* (локаційно втрачені, lost), *intercept* (збито,
   подавлено, shot down...), *launch* (атакував, запустив, launched...);
   a clause without keywords inherits the state before it (list items).
2. Counted numbers are digits not part of a model name (Х-101, KN-23), a time
   (18:00) or a date (7 червня, June 7), and not a sub-count ("100 з них").
3. The words after a number up to the next number name its weapon: a total
   ("засобів повітряного нападу", "air attack assets"), cruise, ballistic or
   guided missiles, glide bombs, Shahed-type drones and decoys; a bare
   "дронів"/"drones"/"missiles", or no words at all ("80 were shot down"),
   take the launched type they can only mean.
4. Launch areas: place names in launch clauses, geocoded with
   :mod:`trucewatch.sources.air.launch_areas`.
5. Checks: intercepted above launched, and items that do not sum to the
   stated total, are flagged on the record (``problems``), never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from trucewatch.sources.air.counting import count as count_families
from trucewatch.sources.air.launch_areas import geocode, match

KYIV = ZoneInfo("Europe/Kyiv")

MONTHS = {
    **{m: i + 1 for i, m in enumerate(["січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня",
                                        "вересня", "жовтня", "листопада", "грудня"])},
    **{m: i + 1 for i, m in enumerate(["january", "february", "march", "april", "may", "june", "july", "august",
                                        "september", "october", "november", "december"])},
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))

WEAPON_TYPES = ("shahed", "decoy", "drone", "cruise_missile", "ballistic_missile", "guided_missile", "glide_bomb",
                "aircraft", "missile")

_HIT = re.compile(r"влучан|влучил|падіння|уламк|\bhits?\b|\bimpacts?\b|debris|did not reach|не досягл", re.I)
_LOST = re.compile(r"втрачен|\blost\b", re.I)
_INTERCEPT = re.compile(r"збит|збил|подавл|знешкод|знищ|перехоп|shot down|\bdowned\b|\bdown\b|neutrali[sz]|destroyed|"
                       r"intercept|suppress", re.I)
# "attack" only as a verb: "attack UAVs" and "air attack assets" are nouns
_LAUNCH = re.compile(r"атакува|атака|атаку\b|запусти|випусти|застосува|завда|\blaunch(ed|es|ing)?\b|\battack(ed|s)\b|"
                     r"\battacked\b|\bfired\b|\bused\b", re.I)
_SPLIT = re.compile(r"[.;!?\n]+\s*|,?\s+\bwhile\b\s+|,?\s+\bwhereas\b\s+|,\s+а також\s+|,?\s+\bof which\b\s+|"
                    r",?\s+тоді як\s+|,?\s+з яких\s+")
_NUM = re.compile(r"(?<!\d)\d{1,9}(?!\d)")  # longer digit runs are not counts (and int() refuses 4300+ digits)
_SUB = re.compile(r"^\s*(з них|із них|of them|of which|з яких)", re.I)

# (weapon type, pattern), checked in this order on the words after a number
_WEAPONS: list[tuple[str, re.Pattern[str]]] = [
    ("total", re.compile(r"засоб\w* повітряного нападу|air attack (assets|weapons|means)|aerial attack (assets|weapons)|"
                         r"^\W*(цілей|цілі|ціль|targets?)\b", re.I)),
    ("cruise_missile", re.compile(r"крилат|cruise|калібр|kalibr|[хx]-?101|kh-?101|[хx]-?55|kh-?55|[хx]-?22\b|kh-?22\b|"
                                  r"[хx]-?32|kh-?32|іскандер-к|iskander-k", re.I)),
    ("ballistic_missile", re.compile(r"балістичн|ballistic|іскандер|iskander|kn-?23|кн-?23|кинджал|kinzhal|[хx]-?47|kh-?47|"
                                     r"[сc]-?300|s-?300|[сc]-?400|s-?400", re.I)),
    ("guided_missile", re.compile(r"керован\w* (авіаційн\w* )?ракет|guided (air )?missile|[хx]-?59|kh-?59|[хx]-?69|kh-?69|"
                                  r"[хx]-?31|kh-?31|[хx]-?35|kh-?35", re.I)),
    ("glide_bomb", re.compile(r"авіабомб|\bкаб\w*|guided (aerial |air )?bomb|glide bomb|\bkabs?\b|aerial bomb", re.I)),
    ("shahed", re.compile(r"shahed|шахед|герань|geran|ударн\w* (бпла|дрон|безпілот)|(attack|strike) (uav|drone)", re.I)),
    ("decoy", re.compile(r"імітатор|decoy|gerbera|гербер", re.I)),
    ("drone", re.compile(r"бпла|дрон|безпілот|\buavs?\b|drones?", re.I)),
    ("aircraft", re.compile(r"літак|aircraft|\bсу-\d|\bsu-\d", re.I)),
    ("missile", re.compile(r"ракет|missile", re.I)),
]
#: Models named, kept as detail.
_MODELS = re.compile(r"(?:[ХX]|Kh)-\d+\w*(?:/(?:[ХX]|Kh)?-?\d+\w*)?|Іскандер-[МК]|Iskander-[MK]|KN-23|Калібр|Kalibr|"
                     r"Кинджал|Kinzhal|Shahed(?:-\d+)?(?:/\d+)?|Гербера|Gerbera|С-300|S-300|С-400|S-400", re.I)
_MISSILES = ("cruise_missile", "ballistic_missile", "guided_missile")


@dataclass
class SummaryItem:
    weapon_type: str
    launched: int | None = None
    intercepted: int | None = None
    lost: int | None = None
    models: list[str] = field(default_factory=list)
    includes_decoys: bool = False
    launch_areas: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Summary:
    id: str
    language: str
    items: list[SummaryItem]
    total_launched: int | None
    total_intercepted: int | None
    launch_areas: list[dict[str, Any]]
    window_from: datetime | None
    window_to: datetime | None
    problems: list[str] = field(default_factory=list)
    text: str = ""

    def item(self, weapon_type: str) -> SummaryItem | None:
        return next((i for i in self.items if i.weapon_type == weapon_type), None)


def _clean(text: str) -> str:
    t = text.replace("\u00a0", " ").replace("\u202f", " ").replace("«", "").replace("»", "").replace("“", "")
    t = t.replace("”", "").replace("—", "–").replace("\r", "")
    return re.sub(r"[ \t]+", " ", t)


def _language(text: str) -> str:
    cyr = len(re.findall(r"[а-яіїєґ]", text, re.I))
    lat = len(re.findall(r"[a-z]", text, re.I))
    return "uk" if cyr >= lat else "en"


def _counted(clause: str) -> list[re.Match[str]]:
    out = []
    for m in _NUM.finditer(clause):
        a, b = m.start(), m.end()
        before = clause[max(0, a - 1):a]
        after = clause[b:b + 1]
        if before in "-/:–" and before != "" and not (before == "–" and clause[max(0, a - 2):a - 1] == " "):
            continue  # Х-101, 59/69, 18:00
        if after in (":", "/") or (after == "-" and clause[b + 1:b + 2].isalpha()):
            continue  # 18:00, 131/136, "3-х"
        if before.isalpha() or after.isalpha():
            continue  # KN23, Su34, 3х
        tail = clause[b:b + 16].lower().strip()
        head = clause[max(0, a - 12):a].lower().strip()
        if re.match(rf"({_MONTH_RE})\b", tail) or re.search(rf"\b({_MONTH_RE})$", head):
            continue  # a date
        if re.match(r"(р\.|року|year|рік|рр)", tail) or (len(m.group()) == 4 and 1990 < int(m.group()) < 2100):
            continue  # a year
        if _SUB.match(clause[b:b + 12]):
            continue  # "близько 100 з них" - a part of a count given before
        out.append(m)
    return out


def _weapon(words: str) -> tuple[str | None, list[str], bool]:
    w = words[:160]
    # stop at the launch area ("з ...", "from ...") so place names cannot look like weapons
    models = [m.group() for m in _MODELS.finditer(w)]
    for kind, pat in _WEAPONS:
        if pat.search(w):
            if kind == "shahed" or (kind == "drone" and re.search(r"shahed|шахед|герань|geran", w, re.I)):
                return "shahed", models, bool(_WEAPONS[6][1].search(w))
            if kind == "decoy" and re.search(r"ударн|strike|attack", w, re.I):
                return "shahed", models, True
            return kind, models, False
    return None, models, False


#: Where a list of launch places starts ("з напрямків: Курськ, Орел", "from the directions of Kursk").
_LIST_START = re.compile(r"(напрямк\w*|з район\w*|з акваторі\w*|directions? of|areas? of|launched from|"
                         r"\bfrom\b)[\s:–-]*", re.I)


def _areas_in(text: str) -> list[dict[str, Any]]:
    """Launch places in ``text``: names the launch-area table knows anywhere, and, inside a list of
    places ("з напрямків: ...", "from ..."), other capitalised names too, geocoded with the project
    gazetteer when it is there or kept unresolved (lat None) so the summary can say so."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    m = _LIST_START.search(text)
    list_from = m.end() if m else len(text)
    pos = 0
    # not split on "(" or "–": "Гвардійське – ТОТ Криму" and "Hvardiiske (occupied Crimea)" are one place
    for seg in re.split(r"([,:;]|\s+(?:та|і|й|and|or)\s+)", text):
        start, pos = pos, pos + len(seg)
        seg = seg.strip(" .–-\n")
        if not seg or re.fullmatch(r"[,:;]|(?:та|і|й|and|or)", seg):
            continue
        area = match(seg)
        if area is not None:
            # keep only the place name: the shortest tail of the segment that still names the same area
            words = seg.split()
            for i in range(len(words) - 1, -1, -1):
                tail = " ".join(words[i:])
                a2 = match(tail)
                if a2 is not None and a2.id == area.id:
                    seg = tail
                    break
        elif start >= list_from and _looks_like_place(seg):
            seg = re.sub(r"\s*(?:[–-]\s*)?(?:\(?\b(?:РФ|RF|Russia|Росія)\b\)?)\s*$", "", seg).strip() or seg
        else:
            continue
        g = geocode(seg)
        key = str(g["id"] or g["name"])
        if key not in seen:
            seen.add(key)
            out.append(g)
    return out


def _looks_like_place(seg: str) -> bool:
    words = seg.split()
    if not 1 <= len(words) <= 4 or not words[0][:1].isupper():
        return False
    if any(p.search(seg) for _k, p in _WEAPONS) or _NUM.search(seg) or re.search(rf"\b({_MONTH_RE})\b", seg.lower()):
        return False
    return not re.match(r"(?i)(the|enemy|russia|росія|рф|україн|ukrain|air|повітр|станом|as of)\b", seg)


def _window(text: str, published: datetime | None) -> tuple[datetime | None, datetime | None]:
    low = text.lower()
    year = (published or datetime.now(UTC)).astimezone(KYIV).year
    night = re.search(rf"(?:ніч на|night of)\s+(?:(\d{{1,2}})\s+({_MONTH_RE})|({_MONTH_RE})\s+(\d{{1,2}}))"
                      r"(?:,?\s+((?:19|20)\d\d))?", low)
    start = re.search(rf"(?:з|from)\s+(\d{{1,2}}):(\d{{2}})\s+(?:on\s+)?(?:(\d{{1,2}})\s+({_MONTH_RE})|({_MONTH_RE})\s+(\d{{1,2}}))", low)
    asof = re.search(r"(?:станом на|as of)\s+(\d{1,2}):(\d{2})", low)
    if night:
        day = int(night.group(1) or night.group(4))
        mon = MONTHS[night.group(2) or night.group(3)]
        if night.group(5):
            year = int(night.group(5))
        elif published is not None and (mon, day) > (published.astimezone(KYIV).month, published.astimezone(KYIV).day + 2):
            year -= 1  # a December night in a post dated early January
        try:
            d_end = datetime(year, mon, day, tzinfo=KYIV)
        except ValueError:
            d_end = None
    else:
        d_end = published.astimezone(KYIV).replace(hour=0, minute=0, second=0, microsecond=0) if published else None
    w_to = w_from = None
    if d_end is not None:
        hh, mm = (int(asof.group(1)), int(asof.group(2))) if asof else (9, 0)
        w_to = d_end.replace(hour=min(hh, 23), minute=min(mm, 59))
        if start:
            day = int(start.group(3) or start.group(6))
            mon = MONTHS[start.group(4) or start.group(5)]
            try:
                w_from = datetime(year if mon <= d_end.month else year - 1, mon, day, int(start.group(1)) % 24,
                                  int(start.group(2)) % 60, tzinfo=KYIV)
            except ValueError:
                w_from = None
        if w_from is None:
            w_from = (d_end - timedelta(days=1)).replace(hour=18, minute=0)
    elif published is not None:
        w_to = published
        w_from = published - timedelta(hours=15)
    return (w_from.astimezone(UTC) if w_from else None), (w_to.astimezone(UTC) if w_to else None)


def parse_summary(text: str, *, summary_id: str = "summary", published: datetime | None = None) -> Summary:
    """Read one summary.  Never raises on odd text: what cannot be read is listed in ``problems``."""
    raw = text
    text = _clean(text)
    lang = _language(text)
    problems: list[str] = []
    clauses = [c for c in _SPLIT.split(text) if c and c.strip()]
    state = "launch"
    found: list[tuple[str, str | None, int, list[str], bool, list[dict[str, Any]]]] = []
    drone_areas: list[dict[str, Any]] = []
    for clause in clauses:
        if _HIT.search(clause):
            state = "hit"
        elif _LOST.search(clause):
            state = "lost"
        elif _INTERCEPT.search(clause):
            state = "intercept"
        elif _LAUNCH.search(clause) or re.search(r"напрямк|direction", clause, re.I):
            state = "launch"
        if state == "hit":
            continue
        nums = _counted(clause)
        for k, m in enumerate(nums):
            end = nums[k + 1].start() if k + 1 < len(nums) else len(clause)
            words = clause[m.end():end]
            kind, models, decoys = _weapon(words)
            areas = _areas_in(words) if state == "launch" else []
            found.append((state, kind, int(m.group()), models, decoys, areas))
        if state == "launch":
            # place names outside any item's words (e.g. "Напрямки пуску БпЛА – Курськ, Орел")
            spans = [clause[: nums[0].start()]] if nums else [clause]
            for sp in spans:
                drone_areas += [a for a in _areas_in(sp) if a not in drone_areas]

    # counts: trucewatch.sources.air.counting (real phrasing, merged mentions); the clause pass above
    # keeps only what it is good at, the launch areas of each weapon
    counts = count_families(text)
    items: dict[str, SummaryItem] = {}
    for fam in counts.launched:
        wtype = "shahed" if fam == "drone" and counts.shahed.get(fam) else fam
        items[fam] = SummaryItem(wtype, counts.launched[fam], counts.intercepted[fam], counts.lost[fam],
                                 list(counts.models.get(fam, [])), counts.decoys.get(fam, False))
    for state, kind, _n, _models, _decoys, areas in found:
        kfam = "drone" if kind in ("shahed", "decoy", "drone") else kind
        if state != "launch" or kfam is None or kfam not in items:
            continue
        for a in areas:
            if a not in items[kfam].launch_areas:
                items[kfam].launch_areas.append(a)
    problems += [f"{u} and cannot be assigned" for u in counts.unassigned]
    order = list(items)
    problems += [f"items[{order.index(fam)}].{attr} ({items[fam].weapon_type}): mentions disagree "
                 f"({', '.join(map(str, vals))}); kept {kept}" for fam, attr, vals, kept in counts.conflicts
                 if fam in items]
    totals = {k: v for k, v in (("launched", counts.total_launched), ("intercepted", counts.total_intercepted))
              if v is not None}
    all_areas = list(drone_areas)
    for it in items.values():
        if not it.launch_areas and it.weapon_type in ("shahed", "decoy", "drone"):
            it.launch_areas = list(drone_areas)
        all_areas += [a for a in it.launch_areas if a not in all_areas]
    # single-type summaries without a per-type count: the total is that type's count
    if not items and totals.get("launched") is not None:
        items["unknown"] = SummaryItem("unknown", totals["launched"], totals.get("intercepted"), launch_areas=drone_areas)
    out_items = list(items.values())
    for i, it in enumerate(out_items):
        if it.launched is None and it.intercepted is not None:
            problems.append(f"items[{i}] ({it.weapon_type}): {it.intercepted} intercepted but no launch count")
        if it.launched is not None and it.intercepted is not None and it.intercepted > it.launched:
            problems.append(f"items[{i}].intercepted ({it.weapon_type}): {it.intercepted} intercepted is more than "
                            f"{it.launched} launched")
        elif it.launched is not None and it.intercepted is not None and it.lost and \
                it.intercepted + it.lost > it.launched:
            problems.append(f"items[{i}].lost ({it.weapon_type}): {it.intercepted} intercepted and {it.lost} lost "
                            f"exceed {it.launched} launched")
    for key in ("launched", "intercepted"):
        tot = totals.get(key)
        s = sum(getattr(it, key) or 0 for it in out_items)
        if tot is not None and out_items and s != tot and not (key == "intercepted" and s == 0):
            problems.append(f"total_{key}: items add up to {s} but the summary says {tot}")
    unresolved = [a["name"] for a in all_areas if a["lat"] is None]
    if unresolved:
        problems.append(f"launch_areas: not geocoded: {', '.join(unresolved)}")
    if not out_items:
        problems.append("no launch or interception counts found")
    w_from, w_to = _window(text, published)
    return Summary(summary_id, lang, out_items, totals.get("launched"), totals.get("intercepted"), all_areas,
                   w_from, w_to, problems, raw)

