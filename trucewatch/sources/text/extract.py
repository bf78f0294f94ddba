"""Rule-based extraction of one claim from one report: event type, place (with
relative phrases), time window, claimed actor, weapon and facility.

Rules first, by design: the three languages' vocabulary for the event types is
small and stable, the rules explain themselves ("matched 'обстріл'"), and they
run at thousands of reports per second on two cores.  Place names come from the
gazetteer (trucewatch.sources.text.gazetteer); times are resolved against the
publication time in Kyiv local time with an honest window (its width is the
precision).
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from trucewatch.agreement import Agreement, load_agreement
from trucewatch.geo import haversine_m
from trucewatch.sources.text import facts, morph
from trucewatch.sources.text.gazetteer import _REGION_BY_STEM, Gazetteer
from trucewatch.sources.text.translit import fold, stem

KYIV = ZoneInfo("Europe/Kyiv")
EVENT_TYPES = (
    "shelling", "drone_strike", "missile_strike", "air_strike", "ground_assault", "facility_fire",
    "infrastructure_damage", "monitor_interference", "other", "non_event",
)

# ---------------------------------------------------------------------------
# language
_UK_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RU_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_CYR = re.compile(r"[\u0400-\u04FF]")


def detect_language(text: str) -> str:
    """uk, ru or en (other Latin text is read with the English rules)."""
    uk = len(_UK_ONLY.findall(text))
    ru = len(_RU_ONLY.findall(text))
    if uk or ru:
        return "uk" if uk >= ru else "ru"
    cyr = len(_CYR.findall(text))
    if cyr:
        # Ukrainian text of any length nearly always has і/ї/є; without them it is Russian
        return "ru" if cyr > 25 or re.search(r"\b(что|как|это|был|была|были|возле|около)\b", text.lower()) else "uk"
    return "en"


# ---------------------------------------------------------------------------
# event type: weighted keyword patterns (lower-cased text), all languages at once
_META = set(".^$*+?{}[]\\|()")


def _split_top(pattern: str) -> list[str]:
    """Top-level alternatives of a regex (``|`` outside groups and classes)."""
    out, depth, cls, cur, esc = [], 0, False, [], False
    for ch in pattern:
        if esc:
            cur.append(ch)
            esc = False
            continue
        if ch == "\\":
            esc = True
        elif cls:
            cls = ch != "]"
        elif ch == "[":
            cls = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


def _leading_literal(alt: str) -> str:
    """The literal text every match of this alternative starts with ("" when there is none)."""
    if alt.startswith("\\b"):
        alt = alt[2:]
    lit: list[str] = []
    for _k, ch in enumerate(alt):
        if ch in _META:
            if ch in "?*{" and lit:
                lit.pop()  # the previous character is optional
            break
        lit.append(ch)
    return "".join(lit)


_REGISTRY: list[_Rx] = []
_BY_GRAM: dict[str, set[int]] = {}
_LAST: list = [None, frozenset()]  # (text, ids of patterns that may match it): one-entry cache


def _may_match(text: str) -> frozenset[int]:
    """Ids of the patterns whose leading literals start somewhere in ``text`` (one pass per text)."""
    if _LAST[0] is text:
        return _LAST[1]
    if not _BY_GRAM:
        for k, rx in enumerate(_REGISTRY):
            for lit in rx.literals or ():
                _BY_GRAM.setdefault(lit[:2], set()).add(k)
    ids: set[int] = set()
    get = _BY_GRAM.get
    for g in {text[i:i + 2] for i in range(len(text) - 1)}:
        hit = get(g)
        if hit:
            ids |= hit
    out = frozenset(ids)
    _LAST[0], _LAST[1] = text, out
    return out


class _Rx:
    """A compiled pattern with a literal prefilter: the regex runs only when one of its
    alternatives' leading literals starts somewhere in the text.  The text's character
    pairs are looked up once for all patterns, so a pattern that cannot match costs a set
    lookup.  Exact: every match starts with one of those literals."""

    __slots__ = ("id", "literals", "pattern", "rx")

    def __init__(self, pattern: str) -> None:
        self.rx = re.compile(pattern)
        self.pattern = pattern
        lits = [_leading_literal(a) for a in _split_top(pattern)]
        self.literals: tuple[str, ...] | None = None if any(len(x) < 2 for x in lits) else tuple(set(lits))
        self.id = len(_REGISTRY)
        _REGISTRY.append(self)
        _BY_GRAM.clear()

    def _maybe(self, text: str) -> bool:
        return self.literals is None or self.id in _may_match(text)

    def search(self, text: str, *args: int) -> re.Match[str] | None:
        return self.rx.search(text, *args) if self._maybe(text) else None

    def findall(self, text: str) -> list:
        return self.rx.findall(text) if self._maybe(text) else []

    def finditer(self, text: str):
        return self.rx.finditer(text) if self._maybe(text) else iter(())


def _rx(*parts: str) -> _Rx:
    """Patterns run on lower-cased text, so no IGNORECASE (which is several times slower)."""
    return _Rx("|".join(p.lower() for p in parts))


EVENT_RULES: dict[str, list[tuple[_Rx, float]]] = {
    "shelling": [
        (_rx(r"\bshell(?:ed|ing|s)?\b", r"\bartiller", r"\bmortar", r"\bhowitzer", r"\bmlrs\b", r"\bgrad\b",
             r"\buragan\b", r"\bsmerch\b", r"\bcannon"), 2.0),
        # monitors' idiom: explosions heard or recorded are counted as ceasefire violations
        (_rx(r"ceasefire violations?", r"explosions? (?:was |were )?(?:heard|recorded|observed)",
             r"heard \d* ?explosions?", r"recorded \d* ?explosions?", r"observed \d* ?explosions?", r"explosion \(ceasefire violation\)",
             r"порушен\w* режиму припинення вогню", r"нарушени\w* режима прекращения огня"), 1.0),
        (_rx(r"обстр[іе]л", r"артилер", r"артиллер", r"мін[оа]мет", r"миномет", r"рсзв", r"рсзо", r"\bград(?!ус)",
             r"гаубиц", r"гармат", r"орудий", r"обстрілял", r"обстреля"), 2.0),
    ],
    "drone_strike": [
        (_rx(r"\bdrones?\b", r"\buav", r"\bfpv\b", r"shahed", r"\bgeran", r"lancet", r"quadcopter",
             r"loitering munition"), 2.2),
        (_rx(r"дрон", r"безпілот", r"беспилот", r"бпла", r"\bфпв\b", r"шахед", r"герань", r"ланцет",
             r"квадрокоптер", r"ударн\w+ бпла"), 2.2),
    ],
    "missile_strike": [
        (_rx(r"missile", r"iskander", r"kalibr", r"\bkh-\d+", r"ballistic", r"cruise", r"\bs-300\b",
             r"\batacms\b", r"storm shadow"), 2.6),
        (_rx(r"ракет", r"іскандер", r"искандер", r"калібр", r"калибр", r"\bх-\d+", r"баліст", r"баллист",
             r"крилат", r"крылат", r"\bс-300\b"), 2.6),
    ],
    "air_strike": [
        (_rx(r"glide bomb", r"guided (?:aerial )?bomb", r"\bkabs?\b", r"\bfab-?\d*", r"air ?strike",
             r"aerial bomb", r"\bumpk\b", r"aviation strike", r"warplane", r"bombed"), 3.0),
        (_rx(r"\bкаб(?!мін|інет|инет|ель|ел\b|ан)", r"\bфаб", r"авіабомб", r"авиабомб", r"авіаудар", r"авиаудар", r"авіаційн\w* бомб",
             r"авиационн\w* бомб", r"керован\w* бомб", r"управляем\w* бомб", r"\bупаб", r"\bумпк",
             r"плануюч\w* бомб", r"планирующ\w* бомб", r"\bбомб\w*"), 3.0),
    ],
    "ground_assault": [
        (_rx(r"\bassault", r"\bstorm(?:ed|ing)\b", r"offensive", r"\badvance[ds]?\b", r"infantry",
             r"attacks near", r"repelled \d+ attacks", r"attacks (?:on|against) (?:ukrainian|russian) positions",
             r"armou?red vehicles? attack", r"ground attack", r"repelled"), 2.0),
        (_rx(r"штурм", r"наступ", r"піхот", r"пехот", r"відбил\w* атак", r"отбил\w* атак", r"прорив",
             r"прорыв", r"бронетехн", r"відби\w* \d* ?атак", r"отби\w* \d* ?атак", r"продвину", r"продвиж",
             r"просуну", r"просуван", r"атакува\w* (?:під|поблизу|біля)", r"атак\w* (?:під|поблизу|біля|возле|под) ",
             r"разів атакува", r"бойов\w* зіткнен", r"зіткнен\w* (?:біля|поблизу|під|в районі)", r"боев\w* столкновен",
             r"столкновен\w* (?:у|возле|под|в районе)", r"бойові дії", r"боевые действия"), 2.0),
    ],
    "facility_fire": [
        (_rx(r"\bfire\b", r"\bblaze", r"burning", r"caught fire", r"\bablaze", r"\bexplosions? at\b"), 1.2),
        (_rx(r"пожеж", r"пожар", r"горить", r"горит", r"загоран", r"возгоран", r"палає", r"полыха"), 1.2),
    ],
    "infrastructure_damage": [
        (_rx(r"power outage", r"blackout", r"without (?:power|electricity|water)", r"power line",
             r"substation", r"de-?energi", r"infrastructure", r"water supply", r"gas pipeline"), 1.4),
        (_rx(r"знеструм", r"без світла", r"без электр", r"без свет", r"інфраструктур", r"инфраструктур",
             r"лінія електропередач", r"лэп", r"лЕП", r"підстанц", r"подстанц", r"обесточ", r"водопостач",
             r"водоснабж", r"газопровід", r"газопровод"), 1.4),
    ],
    "monitor_interference": [
        (_rx(r"\bmonitors?\b", r"\bosce\b", r"\bsmm\b", r"monitoring mission", r"\bpatrol"), 1.5),
        (_rx(r"спостерігач", r"наблюдател", r"\bобсє\b", r"\bобсе\b", r"\bсмм\b", r"місі[яї] ", r"мисси[яи]",
             r"патрул"), 1.5),
        (_rx(r"denied", r"prevented", r"blocked", r"jamm", r"not allowed", r"refused (?:passage|access)",
             r"turned back", r"obstruct", r"restrict", r"threaten"), 1.2),
        (_rx(r"не пропуст", r"заблокув", r"заблокир", r"перешкод", r"препятств", r"глушін", r"глушен",
             r"подавлен", r"заважа", r"мешал", r"погрожу", r"угрожа", r"обмеж", r"огранич"), 1.2),
    ],
}
#: Generic words that say "something hit" without the means (fall back to these types).
_GENERIC_HIT = _rx(r"\bstrike", r"\bhit\b", r"\battack", r"удар", r"атак", r"вибух", r"взрыв", r"explosion")
_FACILITY_RX: list[tuple[str, _Rx]] = [
    ("oil_depot", _rx(r"oil depot", r"fuel depot", r"oil terminal", r"нафтобаз", r"нефтебаз", r"паливн\w* склад",
                      r"топливн\w* склад", r"нафтосховищ", r"нефтехранилищ")),
    ("refinery", _rx(r"refinery", r"\bнпз\b", r"нафтопереробн", r"нефтеперераб")),
    ("substation", _rx(r"substation", r"підстанц", r"подстанц")),
    ("power_plant", _rx(r"power (?:plant|station)", r"\bchp\b", r"\bтец\b", r"\bтэц\b", r"\bтес\b", r"\bтэс\b",
                        r"\bгес\b", r"\bгэс\b", r"\bаес\b", r"\bаэс\b", r"електростанц", r"электростанц",
                        r"nuclear plant", r"\bnpp\b")),
    ("airfield", _rx(r"airfield", r"air ?base", r"airport", r"аеродром", r"аэродром", r"аеропорт", r"аэропорт",
                     r"авіабаз", r"авиабаз")),
    ("port", _rx(r"\bport\b", r"\bпорт[уіаеи]?\b", r"\bharbou?r")),
    ("bridge", _rx(r"\bbridge", r"\bміст\b", r"\bмост[уа]?\b", r"\bмосту\b")),
    ("railway", _rx(r"railway", r"rail station", r"залізнич", r"железнодорож", r"\bвокзал", r"\bдепо\b")),
    ("hospital", _rx(r"hospital", r"clinic", r"лікарн", r"больниц", r"госпітал", r"госпитал")),
    ("school", _rx(r"\bschool", r"kindergarten", r"\bшкол", r"дитсад", r"детск\w* сад", r"дитяч\w* садок")),
    ("ammunition_depot", _rx(r"ammunition depot", r"ammo depot", r"arms depot", r"склад\w* боєприпас",
                             r"склад\w* боеприпас", r"арсенал", r"arsenal")),
    ("warehouse", _rx(r"warehouse", r"склад")),
    ("factory", _rx(r"factory", r"\bplant\b", r"enterprise", r"завод", r"підприємств", r"предприяти", r"фабрик")),
    ("gas_station", _rx(r"gas station", r"petrol station", r"\bазс\b")),
    ("residential", _rx(r"apartment", r"residential", r"high-rise", r"багатоповерх", r"многоэтаж",
                        r"житлов\w* будин", r"жилой дом", r"приватн\w* будин", r"частн\w* дом")),
]
_FAC_NAME = re.compile(r"[«\"“„']\s*([^»\"”“'\n]{2,40}?)\s*[»\"”“']|\b([A-Z][a-z]+(?:-[A-Z][a-z]+)?)\b")

WEAPONS: list[tuple[str, _Rx]] = [
    ("shahed", _rx(r"shahed", r"geran", r"шахед", r"герань", r"герані")),
    ("lancet", _rx(r"lancet", r"ланцет")),
    ("fpv_drone", _rx(r"\bfpv\b", r"\bфпв\b")),
    ("iskander", _rx(r"iskander", r"іскандер", r"искандер")),
    ("kalibr", _rx(r"kalibr", r"калібр", r"калибр")),
    ("kh-101", _rx(r"\bkh-?101\b", r"\bх-?101\b")),
    ("kh-22", _rx(r"\bkh-?22\b", r"\bх-?22\b")),
    ("kh-59", _rx(r"\bkh-?59\b", r"\bх-?59\b")),
    ("s-300", _rx(r"\bs-?300\b", r"\bс-?300\b")),
    ("glide_bomb", _rx(r"glide bomb", r"\bkab", r"\bumpk", r"\bкаб(?!мін|інет|инет|ель|ел\b|ан)", r"\bумпк", r"керован\w* авіа\w* бомб",
                       r"управляем\w* авиа\w* бомб")),
    ("fab", _rx(r"\bfab-?\d+", r"\bфаб-?\d+")),
    ("grad", _rx(r"\bgrad\b", r"\bград\b", r"\bbm-21\b", r"\bбм-21\b")),
    ("uragan", _rx(r"uragan", r"ураган")),
    ("smerch", _rx(r"smerch", r"смерч")),
    ("tornado-s", _rx(r"tornado", r"торнадо")),
    ("himars", _rx(r"himars", r"хаймарс", r"хімарс")),
    ("atacms", _rx(r"atacms")),
    ("mortar", _rx(r"mortar", r"міномет", r"миномет")),
    ("artillery", _rx(r"artiller", r"howitzer", r"артилер", r"артиллер", r"гаубиц", r"гармат")),
    ("ballistic_missile", _rx(r"ballistic", r"балістичн", r"баллистич")),
    ("cruise_missile", _rx(r"cruise missile", r"крилат\w* ракет", r"крылат\w* ракет")),
]



def _combined(named: list[tuple[str, _Rx]]) -> list[tuple[str, _Rx]]:
    """Kept for the call sites: the per-pattern prefilter makes one pass per pattern cheap."""
    return named


_WEAPONS_ALL = _combined(WEAPONS)
_FACILITY_ALL = _combined(_FACILITY_RX)


def _first_named(combined: list[tuple[str, _Rx]], named: list, text_l: str) -> tuple[int, int] | None:
    """Index (in list order) of the first pattern that occurs anywhere, and its match end."""
    for k, (_n, rx) in enumerate(named):
        m = rx.search(text_l)
        if m:
            return k, m.end()
    return None


# ---------------------------------------------------------------------------
# actor: who is claimed to have done it (party codes of the sample agreement)
ACTOR_RU = _rx(r"\brussian (?:\w+ )?(?:drones?|missiles?|glide bombs?|shells?)\b", r"\brussian (?:forces|troops|army|military|drones?|missiles?|artillery|aircraft|shelling|attack)",
               r"\brussia (?:attacked|struck|launched|shelled|hit)", r"\boccupiers?\b", r"\bthe enemy\b",
               r"окупант", r"оккупант", r"рашист", r"росі[яй]\w*", r"російськ", r"\bрф\b", r"\bрос\w*ськ\w* армі",
               r"ворог", r"вс рф", r"армия россии", r"российск\w* (?:войск|арми|военн|дрон|ракет|авиац)")
ACTOR_UA = _rx(r"\bukrainian (?:\w+ )?(?:drones?|missiles?|shells?)\b", r"\bukrainian (?:forces|troops|army|military|drones?|missiles?|artillery|shelling|attack)",
               r"\bukraine (?:attacked|struck|launched|shelled|hit)", r"\bafu\b", r"\bзсу\b", r"\bвсу\b",
               r"\bвфу\b", r"укронацист", r"киевск\w* режим", r"боевики киев", r"украинск\w* (?:войск|арми|военн|"
               r"боевик|дрон|беспилот|ракет|формирован)", r"противник", r"українськ\w* (?:військ|дрон|сил)",
               r"сили оборони", r"сил\w* оборон")

# ---------------------------------------------------------------------------
# place phrases
_WORD = re.compile(r"[A-Za-zÀ-ž\u0400-\u04FF'’ʼ][A-Za-zÀ-ž\u0400-\u04FF'’ʼ\-]*|\d+(?:[.,]\d+)?|[.!?;:\n]")
_NEAR = {fold(w) for w in ("near", "outside", "around", "close", "біля", "поблизу", "неподалік", "під", "коло",
                           "около", "возле", "вблизи", "под", "недалеко", "рядом", "поруч", "outskirts",
                           "околиці", "окраине", "околицях", "околицы", "vicinity")}
_IN = {fold(w) for w in ("in", "at", "into", "on", "у", "в", "во", "на", "по", "over", "of", "from", "з", "із",
                         "зі", "из", "со", "до", "від", "от", "towards", "toward", "біля", "near", "южнее",
                         "севернее", "западнее", "восточнее", "південніше", "північніше", "західніше",
                         "східніше")}
#: "в районі населеного пункту X", "in the area of the village of X": near X.
_AREA = {fold(w) for w in ("районі", "районе", "area", "vicinity", "окрестностях", "околицях")}
_SETTLEMENT = {fold(w) for w in ("населеного", "населенного", "села", "селища", "міста", "города", "поселка",
                                 "village", "town", "н.п", "нп")}
_NEAR |= _AREA
_FILLER = _SETTLEMENT | {fold(w) for w in ("the", "of", "a", "пункту", "пункта", "village", "town", "city", "міста",
                                           "outskirts", "околиці", "окраине", "окраины")}


def _near_before(toks: list[str], i: int) -> bool:
    """A near-word before token i, skipping "the village of", "населеного пункту"..."""
    for j in range(i - 1, max(-1, i - 5), -1):
        f = fold(toks[j])
        if f in _NEAR:
            return True
        if f not in _FILLER:
            return False
    return False
#: Words after an adjective that make it name a place: hromada, raion and facility words
#: ("Шосткинської громади", "Лискинском районе", "Киришський НПЗ").
_ADJ_HEAD = {stem(fold(w)) for w in (
    "громада", "громади", "громаді", "громаду", "громадою", "община", "общины", "общине", "общину", "общиной",
    "hromada", "району", "районі", "район", "районе", "района", "округа", "округе", "округ", "НПЗ", "нафтобаза",
    "нафтобазу", "нефтебаза", "нефтебазу", "нефтебазе", "завод", "заводі", "заводе", "аеродром", "аэродром",
    "аеропорт", "аэропорт", "ТЕЦ", "ТЭЦ", "ТЕС", "ГРЕС", "ГРЭС", "порт", "порту", "водосховище", "водохранилище",
    "напрямку", "напрямок", "напрямі", "направлении", "направление", "напрямках",
)}
#: Prepositions after which a name is inflected (reports often keep the nominative after "поблизу",
#: "в районі", "near": there a whole name as written stays what it says).
_CASE_PREP = {fold(w) for w in ("в", "у", "на", "во", "по")}
#: Named places closer than this to an already claimed one are the same event (a suburb, a neighbour).
_SPLIT_MIN_M = 5_000.0
#: Prepositions of origin: a place after them is where something came from, not where it happened.
_FROM = {fold(w) for w in ("з", "із", "зі", "from", "из", "со", "від", "от")}
_BETWEEN = {fold(w) for w in ("between", "між", "поміж", "между")}
_AND = {fold(w) for w in ("and", "та", "і", "й", "и")}
_DIRECTION_WORDS = {stem(fold(w)) for w in ("direction", "axis", "sector", "напрямку", "напрямок", "напрямі",
                                           "направлении", "направление", "направлений")}
_DISTRICT_WORDS = {stem(fold(w)) for w in ("district", "raion", "району", "район", "районі", "районе", "громади",
                                          "громаді", "громада", "community", "hromada")}
_REGION_WORDS = {stem(fold(w)) for w in ("oblast", "region", "province", "області", "область", "областей",
                                        "обл", "области", "краю", "край", "krai")}
_LINE_RX = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(?:km|км|kilomet\w*|кілометр\w*|километр\w*)\s+(?:from|від|от)\s+(?:the\s+)?"
    r"(?:line of contact|contact line|front ?line|front|лінії (?:зіткнення|фронту)|линии (?:соприкосновения|фронта)"
    r"|лінії розмежування|линии разграничения)", re.IGNORECASE)
_KM_RX = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(?:km|км|kilomet\w*|кілометр\w*|километр\w*)\s+(?:to the\s+|на\s+|к\s+)?"
    r"(north-?east|north-?west|south-?east|south-?west|north|south|east|west|"
    r"північн\w*[- ]?схід|північн\w*[- ]?захід|південн\w*[- ]?схід|південн\w*[- ]?захід|північ|південь|схід|захід|"
    r"северо-?восток|северо-?запад|юго-?восток|юго-?запад|север|юг|восток|запад)?\w*\s*"
    r"(?:of|from|від|вiд|от|до)\s", re.IGNORECASE)
_BEARINGS = [("north-?east|північн\\w*[- ]?схід|северо-?восток", 45), ("north-?west|північн\\w*[- ]?захід|северо-?запад", 315),
             ("south-?east|південн\\w*[- ]?схід|юго-?восток", 135), ("south-?west|південн\\w*[- ]?захід|юго-?запад", 225),
             ("north|північ|север", 0), ("south|південь|юг", 180), ("east|схід|восток", 90), ("west|захід|запад", 270)]


def _bearing(word: str | None) -> float | None:
    if not word:
        return None
    for rx, b in _BEARINGS:
        if re.fullmatch(rx, word.lower()):
            return float(b)
    return None


#: Capitalised words that are not places (countries, parties, weapons, days, months, people).
_STOP = {stem(fold(w)) for w in (
    "Ukraine Україна Украина Russia Росія Россия Russian Ukrainian Російська Українська Российская Украинская "
    "Moldova Молдова Молдові Молдове Молдавия Belarus Білорусь Беларусь Белоруссия Poland Польща Польша Romania "
    "Румунія Румыния Georgia Грузія Грузия Lithuania Литва Latvia Латвія Латвия Estonia Естонія Эстония Finland "
    "Kremlin Кремль ЗСУ ВСУ ЗСУ AFU Armed Forces Defence Defense Forces General Staff Генштаб Генштабу "
    "Shahed Шахед Iskander Kalibr Grad Uragan Smerch Tornado HIMARS ATACMS Lancet Ланцет Геран Герань Іскандер "
    "Искандер Калібр Калибр Град Ураган Смерч Торнадо Monday Tuesday Wednesday Thursday Friday Saturday Sunday "
    "January February March April May June July August September October November December "
    "Понеділок Вівторок Середа Четвер Пятниця Субота Неділя Понедельник Вторник Среда Четверг Пятница Суббота "
    "Воскресенье OSCE SMM ОБСЄ ОБСЕ СММ Telegram Reuters AP AFP Ukrinform Укрінформ Суспільне Suspilne "
    "Zelensky Zelenskyy Zelenskiy Зеленський Зеленский Putin Путін Путин Syrskyi Сирський Gerasimov "
    "The This That There These According Earlier Later Today Yesterday Tonight Overnight Last At In On By "
    "Вночі Ночью Вчора Вчера Сьогодні Сегодня Зранку Утром Вранці Увечері Вечером Днем Вдень Також Также "
    "Внаслідок В результате Унаслідок Через Після После Зокрема Кроме Крім За Від Від Про По На У В "
    "Mission Місія Миссия Патруль Patrol Team Команда Група Группа Ворог Противник Enemy "
    "UAV БпЛА БПЛА КАБ ФАБ NATO НАТО EU ЄС ЕС UN ООН ДСНС ГСЧС ОВА ОДА ЦОД Нацполіція Police Поліція "
    "Energoatom Енергоатом Ukrenergo Укренерго DTEK ДТЕК Naftogaz Нафтогаз Photo Фото Video Відео Видео "
    "Air Force Повітряні Сили ППО ПВО Air Defence Defense Ministry Міноборони Минобороны MoD Мин "
    "Oblast Region Області Области Район District Community Громада Багато Много Кілька Декілька Понад Более "
    "Близько Около Кулик Загалом Всего Щонайменше Минимум Президент Мер Голова Глава Очільник"
).split()}
_STOP -= {""}

_NUM_RX = re.compile(r"\d+(?:[.,]\d+)?")


#: Candidates scoring within this of the best (and > 20 km away) make a name ambiguous.
AMBIGUITY_MARGIN = 0.1
# time phrases (see Extractor.time_window)
_T_YESTERDAY = _Rx(r"\byesterday\b|вчора|вчера|учора")
_T_DAYBEFORE = _Rx(r"позавчора|позавчера|day before yesterday")
_T_CLOCK = _Rx(r"(?:\bat|\bо|\bоб|\bв|\bоколо|\baround|\bабо|\bблизько)\s+(\d{1,2})[:.](\d{2})\b")
_T_AGO = _Rx(r"(\d+|an?|one|two|three|годину|час)\s*(hours?|годин\w*|час\w*)\s*(ago|тому|назад)")
_T_JUSTNOW = _Rx(r"just now|minutes ago|щойно|только что|хвилин\w* тому|минут\w* назад|right now|зараз")
_T_NIGHT = _Rx(r"last night|overnight|tonight|during the night|at night|вночі|уночі|цієї ночі|минулої ночі|"
                     r"ночью|этой ночью|в ночь|прошлой ночью|протягом ночі|в течение ночи|нічн|ночн")
_T_MORNING = _Rx(r"\bmorning|вранці|зранку|ранком|утром|с утра|this am\b")
_T_AFTERNOON = _Rx(r"afternoon|вдень|удень|днем|днём|опівдні|в обед")
_T_EVENING = _Rx(r"\bevening|ввечері|увечері|вечером|вечора")
_T_TODAY = _Rx(r"\btoday\b|сьогодні|сегодня|this afternoon|this evening")
_T_LASTWEEK = _Rx(r"last week|past week|минулого тижня|на минулому тижні|на прошлой неделе|за тиждень|за неделю")

#: (weight, scale m) of the contact-line prior per event type.
_LINE_PRIOR = {"shelling": (0.6, 15_000.0), "ground_assault": (0.7, 10_000.0), "monitor_interference": (0.5, 15_000.0),
               "air_strike": (0.4, 30_000.0), "drone_strike": (0.3, 30_000.0), "missile_strike": (0.1, 60_000.0)}
#: How far from the contact line an event of this type can plausibly be (m).
_REACH_M = {"shelling": 80_000.0, "ground_assault": 40_000.0, "air_strike": 120_000.0}


@dataclass
class PlaceHit:
    start: int  # token index
    end: int
    text: str
    ids: list[int]
    match: str
    quality: float | np.ndarray  # per id, or one value for all
    after_prep: bool
    near: bool
    kind: str = "place"  # place, district, direction
    key: str = ""
    st: str = ""


@dataclass
class Claim:
    """What one report claims; ``lat`` is None with a ``reason`` when unlocatable."""

    report_id: str
    source: str
    language: str
    event_type: str
    event_scores: dict[str, float]
    place: str | None
    lat: float | None
    lon: float | None
    radius_m: float | None
    admin1: str | None
    country: str | None
    place_id: int | None
    place_phrase: str | None
    occurred_from: datetime
    occurred_to: datetime
    time_precision: str
    actor: str | None
    weapon: str | None
    facility: str | None
    facility_name: str | None
    published_at: datetime
    reason: str | None = None
    numbers: list[str] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)
    line_distance_km: float | None = None
    #: Other places of the same name that fit almost as well (lat, lon, admin1): the name is ambiguous.
    alternatives: list[tuple[float, float, str]] = field(default_factory=list)
    cluster: int = -1
    independent: bool = True
    origin_id: str | None = None
    url: str | None = None
    forwarded_from: str | None = None
    text_key: str = ""
    #: SHA-256 of the report text as received (for the evidence ledger).
    payload_hash: str | None = None
    #: The report text as received, kept so a reader can check the claim against it (free text, never translated).
    text: str = ""
    #: Casualties the text states for this event (None: not said).
    killed: int | None = None
    injured: int | None = None
    #: The text denies the event ("did not observe any ceasefire violations"): no claim of an event.
    negated: bool = False

    def to_json(self) -> dict:
        return {
            "report_id": self.report_id, "source": self.source, "language": self.language,
            "event_type": self.event_type, "place": self.place, "lat": self.lat, "lon": self.lon,
            "radius_m": None if self.radius_m is None else round(self.radius_m),
            "admin1": self.admin1, "country": self.country,
            "occurred_from": self.occurred_from.isoformat(), "occurred_to": self.occurred_to.isoformat(),
            "time_precision": self.time_precision, "actor": self.actor, "weapon": self.weapon,
            "facility": self.facility_label(), "cluster": self.cluster, "independent": self.independent,
            "origin_id": self.origin_id, "reason": self.reason, "ambiguous": bool(self.alternatives),
            "killed": self.killed, "injured": self.injured, "negated": self.negated,
        }

    def facility_label(self) -> str | None:
        if self.facility and self.facility_name:
            return f"{self.facility}:{self.facility_name}"
        return self.facility or self.facility_name


# ---------------------------------------------------------------------------
_DEFAULT_AGREEMENT: list = []


def default_agreement():
    """The bundled sample agreement: its contact line helps disambiguate front-line villages."""
    if not _DEFAULT_AGREEMENT:
        path = Path(__file__).resolve().parents[2] / "data" / "agreements" / "ua-ru-2026" / "agreement.yaml"
        try:
            _DEFAULT_AGREEMENT.append(load_agreement(path))
        except Exception:
            _DEFAULT_AGREEMENT.append(None)
    return _DEFAULT_AGREEMENT[0]


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text)


def _is_cap(tok: str) -> bool:
    return tok[:1].isupper()


class Extractor:
    """Turns report texts into :class:`Claim`s (one per report)."""

    def __init__(self, gazetteer: Gazetteer | None = None, agreement: Agreement | None = None, use_line: bool = True) -> None:
        self.gaz = gazetteer or Gazetteer.load()
        if agreement is None and use_line:
            agreement = default_agreement()
        self.agreement = agreement
        self.line_d = self.gaz.line_distance(agreement) if agreement is not None else None

    # -- regions ----------------------------------------------------------
    def regions_in(self, toks: list[str]) -> tuple[list[str], set[int]]:
        """Regions the text names, and the token positions used for them (``self._region_at``:
        token position -> region label, for adjacency to places)."""
        found: list[str] = []
        used: set[int] = set()
        self._region_at: dict[int, str] = {}
        self._raions: set[str] = set()
        for i, tok in enumerate(toks):
            if len(tok) < 3 or not tok[0].isalpha():
                continue
            st = stem(fold(tok))
            nxt = stem(fold(toks[i + 1])) if i + 1 < len(toks) else ""
            label = None
            if nxt in _REGION_WORDS:
                label = _REGION_BY_STEM.get(st) or _REGION_BY_STEM.get(st.removesuffix("sk"))
                if label:
                    used.update((i, i + 1))
            elif st.endswith("sin") and len(st) > 5:  # Харківщина, Сумщині, Донеччина
                label = _REGION_BY_STEM.get(st) or _REGION_BY_STEM.get(st[:-3]) or _REGION_BY_STEM.get(st[:-2])
                if label:
                    used.add(i)
            if nxt in _DISTRICT_WORDS and len(st) > 4:
                self._raions.add(st)  # "Волноваського району", "Pokrovsk district"
            if label:
                self._region_at[i] = label
                if label not in found:
                    found.append(label)
        return found, used

    # -- places -----------------------------------------------------------
    def place_hits(self, toks: list[str], skip: set[int]) -> list[PlaceHit]:
        hits: list[PlaceHit] = []
        i = 0
        n = len(toks)
        sentence_start = True
        while i < n:
            tok = toks[i]
            if tok in ".!?;:\n":
                sentence_start = True
                i += 1
                continue
            if i in skip or not _is_cap(tok) or not tok[0].isalpha() or len(tok) < 3:
                sentence_start = sentence_start and not tok[0].isalpha()
                i += 1
                continue
            prev = fold(toks[i - 1]) if i > 0 else ""
            after_prep = prev in _IN or prev in _NEAR
            near = _near_before(toks, i)
            hit = None
            for m in (3, 2, 1):
                if i + m > n:
                    continue
                span = toks[i:i + m]
                if any(not t[0].isalpha() or (j > 0 and not _is_cap(t) and fold(t) not in ("na", "on"))
                       for j, t in enumerate(span)):
                    continue
                key = fold(" ".join(span))
                st = stem(key)
                if m == 1 and st in _STOP:
                    break
                fuzzy = m == 1 and (after_prep or not sentence_start) and len(st) >= 5
                ids, match, q = self.gaz.match_stem(st, fuzzy=fuzzy, key=key)
                if m == 1 and _CYR.search(tok):
                    # morphology: the dictionary form of an inflected name (Миколаєві -> Миколаїв), the name
                    # an adjective comes from (Покровському напрямку -> Покровськ, Шосткинської громади ->
                    # Шостка); the suffix rules' candidates stay, ranked below
                    nxt_st = stem(fold(toks[i + m])) if i + m < n else ""
                    found = self._morph_match(tok, ids, q, nxt_st in _ADJ_HEAD, prev in _CASE_PREP)
                    if found is not None:
                        ids, q, key, st = found
                        match = "exact"
                if ids:
                    hit = PlaceHit(i, i + m, " ".join(span), ids, match, q, after_prep, near, key=key, st=st)
                    break
            sentence_start = False
            if hit is None:
                i += 1
                continue
            nxt = stem(fold(toks[hit.end])) if hit.end < n else ""
            if nxt in _DIRECTION_WORDS:
                hit.kind = "direction"
            elif nxt in _DISTRICT_WORDS:
                hit.kind = "district"
            elif nxt in _REGION_WORDS:
                i = hit.end + 1
                continue
            # "the Pokrovsk direction" / "на Покровському напрямку" (word before)
            if i >= 1 and stem(fold(toks[i - 1])) in _DIRECTION_WORDS:
                hit.kind = "direction"
            # words of the event vocabulary ("Ракетний удар", "Ударні безпілотники") are not places
            if not after_prep and hit.end - hit.start == 1 and _is_event_word(toks[hit.start].lower()):
                i = hit.end
                continue
            # sentence-initial capitalised words are only places when well known or after a preposition
            if (hit.start == 0 or toks[hit.start - 1] in ".!?;:\n") and not after_prep:
                home = [j for j, i in enumerate(hit.ids) if self.gaz.in_area[i]]  # abroad only after a preposition
                if not home or (self.gaz.population[[hit.ids[j] for j in home]].max() < 5000
                                and hit.end - hit.start == 1 and hit.match != "exact"):
                    i = hit.end
                    continue
                if len(home) < len(hit.ids):
                    hit.ids = [hit.ids[j] for j in home]
                    if np.ndim(hit.quality):
                        hit.quality = np.asarray(hit.quality)[home]
            hits.append(hit)
            i = hit.end
        return hits

    def _full_hit(self, key: str, ids: list[int]) -> bool:
        """True when some candidate bears this exact full name (no inflection to undo)."""
        return any(i in self.gaz.by_full.get(key, ()) for i in ids[:200])

    def _morph_match(self, tok: str, ids: list[int], q, head: bool, after_prep: bool = False
                     ) -> tuple[list[int], np.ndarray, str, str] | None:
        """Candidates bearing exactly the name morphology gives for ``tok`` (first), then what the
        suffix rules found (quality capped at 0.85 unless ``tok`` is itself a whole name).  For an
        adjective before a hromada, raion, facility or direction word, a stem match of its base is
        enough ("Шосткинської громади" -> Шостка)."""
        own = fold(tok)
        # a whole name as written ("в населеному пункті Лугівське"): nothing to undo, unless a preposition
        # that governs a case stands before it ("в Орлі" is the locative of Орел, not the village Орли)
        own_full = self._full_hit(own, ids) and not after_prep
        if own_full:
            return None
        adj = morph.is_adjective(tok, self._lang)
        forms = morph.adjective_bases(tok, self._lang) if adj else morph.lemmas(tok, self._lang)
        full: list[int] = []
        key, best = "", -1
        for f in forms:  # every form that is a whole name: the ranking (population, region, line) decides
            k = fold(f)
            if k == own:
                continue
            got = [i for i in self.gaz.by_full.get(k, ()) if self.gaz.kind[i] != "admin1" and i not in full]
            if got:
                pop = int(self.gaz.population[got].max())
                if pop > best:  # the full-name bonus goes to the most prominent reading
                    key, best = k, pop
                full += got
        if full:
            # a name as written keeps its full-name bonus; the dictionary form only adds candidates
            return self._merge(full, ids, q, own if own_full else key, own)
        if adj and head:
            for f in forms:
                k = fold(f)
                st = stem(k)
                if len(st) < 3:
                    continue
                got = [i for i in self.gaz.index.get(st, ()) if self.gaz.kind[i] != "admin1"
                       and not self.gaz.world[i]]
                if got:
                    return self._merge(got, ids, q, k, own)
        return None

    def _merge(self, first: list[int], ids: list[int], q, k: str, own: str
               ) -> tuple[list[int], np.ndarray, str, str]:
        fs = set(first)
        qa = np.asarray(q, float) if np.ndim(q) else np.full(len(ids), float(q) if ids else 0.0)
        rest = [(i, float(qa[j]) if (own, i) in self.gaz.full else min(float(qa[j]), 0.85))
                for j, i in enumerate(ids) if i not in fs]
        return (list(first) + [i for i, _ in rest], np.array([1.0] * len(first) + [x for _, x in rest]),
                k, stem(k))

    def resolve(self, hits: list[PlaceHit], regions: list[str], event_type: str) -> list[int]:
        """Pick one gazetteer id per hit, using region, co-named places and the line."""
        chosen: list[int] = [-1] * len(hits)
        anchors: list[tuple[float, float]] = []
        self._ambiguous: dict[int, list[int]] = {}
        best_sc_all: np.ndarray = np.zeros(0)
        ids_all: np.ndarray = np.zeros(0, int)
        # unambiguous hits first become anchors for the others
        order = sorted(range(len(hits)), key=lambda k: len(hits[k].ids))
        # closeness to the contact line: strong for weapons that only reach a few km, weak for missiles
        line_w, line_scale = _LINE_PRIOR.get(event_type, (0.12, 60_000.0))
        for k in order:
            h = hits[k]
            best_sc = -1e9
            best = -1
            # the region written right after (or just before) the place qualifies it
            gap = 1 if h.end < len(self._toks) and fold(self._toks[h.end]) in _IN else 0
            adjacent = [self._region_at[p] for p in range(h.end, h.end + 1 + gap) if p in self._region_at] + \
                [self._region_at[p] for p in range(max(0, h.start - 4), h.start) if p in self._region_at]
            options: list[tuple[str | None, bool]] = \
                [(r, True) for r in adjacent[:1]] or [(r, False) for r in regions] or [(None, True)]
            for reg, strict in options:
                sc = self.gaz.rank(h.ids, h.quality, h.key, h.st, reg,
                                   [a for j, a in enumerate(anchors)] or None, None, 0.0, strict)
                if self.line_d is not None:
                    sc = sc + line_w * np.exp(-self.line_d[np.asarray(h.ids)] / line_scale)
                if getattr(self, "_lang", None) == "uk":
                    # Ukrainian-language reports are about Ukrainian places unless they say otherwise
                    sc = sc + 0.1 * np.fromiter((self.gaz.country[i] == "UA" for i in h.ids), float, len(h.ids))
                if self._raions and h.kind != "district":
                    # the raion named in the text (Іванівка Волноваського району)
                    a2 = [self.gaz.admin2_stem[i] for i in h.ids]
                    sc = sc + np.array([0.8 if a and any(_same_raion(a, r) for r in self._raions) else 0.0
                                        for a in a2])
                reach = _REACH_M.get(event_type)
                if reach is not None and self.line_d is not None:
                    # mortars, guns and assaults do not reach hundreds of km behind the line
                    sc = sc - 0.5 * (self.line_d[np.asarray(h.ids)] > reach)
                j = int(np.argmax(sc))
                if sc[j] > best_sc:
                    best_sc, best = float(sc[j]), h.ids[j]
                    best_sc_all, ids_all = sc, np.asarray(h.ids)
            chosen[k] = best
            # other places of this name that score almost as well and lie elsewhere: the name is ambiguous
            close = ids_all[(best_sc_all >= best_sc - AMBIGUITY_MARGIN) & (ids_all != best)]
            if close.size:
                far = haversine_m(self.gaz.lat[best], self.gaz.lon[best], self.gaz.lat[close], self.gaz.lon[close])
                self._ambiguous[k] = [int(i) for i in close[far > 20_000][:3]]
            else:
                self._ambiguous[k] = []
            anchors.append((float(self.gaz.lat[best]), float(self.gaz.lon[best])))
        return chosen

    # -- time -------------------------------------------------------------
    def time_window(self, text_l: str, pub: datetime) -> tuple[datetime, datetime, str]:
        """Occurrence window [from, to] in UTC and its precision, from phrases in the text."""
        loc = pub.astimezone(KYIV)
        day0 = loc.replace(hour=0, minute=0, second=0, microsecond=0)
        day = day0
        prec = None
        # explicit day: weekday, yesterday, date
        if _T_YESTERDAY.search(text_l):
            day = day0 - timedelta(days=1)
            prec = "day"
        elif _T_DAYBEFORE.search(text_l):
            day = day0 - timedelta(days=2)
            prec = "day"
        else:
            wd = _weekday(text_l)
            if wd is not None:
                back = (loc.weekday() - wd) % 7
                day = day0 - timedelta(days=back)
                prec = "day"
            else:
                dm = _date(text_l, loc)
                if dm is not None:
                    day = dm
                    prec = "day"
        hm = _T_CLOCK.search(text_l) if ":" in text_l or "." in text_l else None
        if hm and int(hm.group(1)) < 24 and int(hm.group(2)) < 60:
            t = day.replace(hour=int(hm.group(1)), minute=int(hm.group(2)))
            if t > loc + timedelta(minutes=5):
                t -= timedelta(days=1)
            return _utc(t - timedelta(minutes=15)), _utc(t + timedelta(minutes=15)), "minute"
        ago = _T_AGO.search(text_l)
        if ago:
            g = ago.group(1)
            h = int(g) if g.isdigit() else (2 if g == "two" else 3 if g == "three" else 1)
            t = loc - timedelta(hours=h)
            return _utc(t - timedelta(minutes=40)), _utc(t + timedelta(minutes=40)), "hour"
        if _T_JUSTNOW.search(text_l):
            return _utc(loc - timedelta(minutes=30)), _utc(loc), "hour"
        part = None
        if _T_NIGHT.search(text_l):
            part = (-6, 6)
        elif _T_MORNING.search(text_l):
            part = (5, 12)
        elif _T_AFTERNOON.search(text_l):
            part = (12, 18)
        elif _T_EVENING.search(text_l):
            part = (17, 24)
        if part is not None:
            a = day + timedelta(hours=part[0])
            b = day + timedelta(hours=part[1])
            if prec is None and a > loc:  # "this evening" said in the morning means yesterday's
                a -= timedelta(days=1)
                b -= timedelta(days=1)
            b = min(b, loc) if b > loc and a < loc else b
            return _utc(a), _utc(b), "part_of_day"
        if prec == "day":
            return _utc(day), _utc(min(day + timedelta(days=1), loc)), "day"
        if _T_TODAY.search(text_l):
            return _utc(day0), _utc(loc), "day"
        if _T_LASTWEEK.search(text_l):
            return _utc(day0 - timedelta(days=7)), _utc(loc), "week"
        # nothing said: reports are about the last day
        return _utc(loc - timedelta(hours=24)), _utc(loc), "day"

    # -- the whole report ---------------------------------------------------
    def classify(self, text_l: str) -> tuple[str, dict[str, float]]:
        scores: dict[str, float] = {}
        for et, rules in EVENT_RULES.items():
            s = 0.0
            for rx, w in rules:
                if rx.search(text_l):
                    s += w
            if s:
                scores[et] = s
        if facts.MONITOR_RX.search(text_l):
            # monitors count undetermined explosions, impacts, outgoing rounds, airbursts and small-arms fire
            # as ceasefire violations by fire
            fire = len(facts.MONITOR_FIRE_RX.findall(text_l))
            if fire:
                scores["shelling"] = scores.get("shelling", 0.0) + min(1.5 + 0.5 * fire, 3.5)
        mi = scores.get("monitor_interference", 0.0)
        # monitors must be named *and* hindered
        if mi and not (mi >= 2.6):
            scores.pop("monitor_interference")
        elif mi:
            scores["monitor_interference"] = mi + 2.0
        # "MLRS rockets" are shelling, not missiles
        if "missile_strike" in scores and "shelling" in scores and re.search(
                r"\bmlrs|рсзв|рсзо|\bgrad\b|\bград(?!ус)|uragan|ураган|smerch|смерч|реактивн", text_l) \
                and not re.search(r"missile|ракет[аиу] (?:типу|типа)|баліст|баллист|крилат|крылат|iskander|іскандер|"
                                  r"искандер|kalibr|калібр|калибр", text_l):
            scores.pop("missile_strike")
        if not scores:
            return ("other", {})
        # a named means beats the effect (fire, outage) it caused
        means = {k: v for k, v in scores.items() if k not in ("facility_fire", "infrastructure_damage")}
        pool = means or scores
        prio = {t: i for i, t in enumerate(("monitor_interference", "air_strike", "missile_strike", "drone_strike",
                                            "shelling", "ground_assault", "facility_fire", "infrastructure_damage"))}
        best = max(pool, key=lambda k: (pool[k], -prio.get(k, 99)))
        if best == "ground_assault" and "shelling" in scores and scores["ground_assault"] <= scores["shelling"]:
            best = "shelling"
        return best, scores

    def facility(self, text: str, text_l: str) -> tuple[str | None, str | None]:
        kind = None
        pos = -1
        hit = _first_named(_FACILITY_ALL, _FACILITY_RX, text_l)
        if hit is not None:
            kind, pos = _FACILITY_RX[hit[0]][0], hit[1]
        name = None
        if kind is not None:
            window = text[pos:pos + 60]
            before = text[max(0, pos - 60):pos]
            m = re.search(r"[«\"“„]\s*([^»\"”“\n]{2,40}?)\s*[»\"”“]", window) or re.search(
                r"[«\"“„]\s*([^»\"”“\n]{2,40}?)\s*[»\"”“]", before)
            if m:
                name = m.group(1).strip()
            else:
                m = re.match(r"\s*(?:of\s+|of the\s+|company\s+)?([A-Z][A-Za-z]+(?:[- ][A-Z][A-Za-z]+)?)\b", window)
                if m and stem(fold(m.group(1))) not in _STOP and not self.gaz.index.get(stem(fold(m.group(1)))):
                    name = m.group(1)
                else:
                    m = re.search(r"\b([A-Z][a-z]+)\s+(?:oil depot|fuel depot|refinery|plant|factory|terminal)",
                                  text[max(0, pos - 40):pos + 5])
                    if m and stem(fold(m.group(1))) not in _STOP and not self.gaz.index.get(stem(fold(m.group(1)))):
                        name = m.group(1)
        return kind, name

    def weapon(self, text_l: str) -> str | None:
        hit = _first_named(_WEAPONS_ALL, WEAPONS, text_l)
        return WEAPONS[hit[0]][0] if hit is not None else None

    def actor(self, text_l: str, source_party: str | None) -> str | None:
        ru = len(ACTOR_RU.findall(text_l))
        ua = len(ACTOR_UA.findall(text_l))
        if ru > ua:
            return "RU"
        if ua > ru:
            return "UA"
        if source_party in ("UA", "RU") and not (ru or ua):
            return None
        return None

    def extract(self, rid: str, source: str, text: str, published: datetime, lang: str | None = None,
                source_party: str | None = None) -> Claim:
        """The report's main claim (see :meth:`extract_many` for one claim per event)."""
        return self.extract_many(rid, source, text, published, lang, source_party, split=False)[0]

    def extract_many(self, rid: str, source: str, text: str, published: datetime, lang: str | None = None,
                     source_party: str | None = None, split: bool = True) -> list[Claim]:
        """Claims of one report: the main one first, then one per further event place the text names
        ("ударили по Краматорську ... під обстріл потрапила Дружківка"), with report ids ``rid#2``...

        A text that denies the event, or reports none (weather, sports), gives one claim of type
        ``non_event`` without a place, its ``reason`` saying why."""
        text_l = text.lower()
        language = lang or detect_language(text)
        self._lang = language if language in ("uk", "ru") else None
        toks = tokenize(text)
        if facts.WEATHER_RX.search(text_l) and re.search(r"\bград\b", text_l):  # hail in a forecast, not Grad
            et, scores = self.classify(re.sub(r"\bград\b", " ", text_l))
        else:
            et, scores = self.classify(text_l)
        t0, t1, prec = self.time_window(text_l, published)
        self._toks = toks
        fac, fac_name = self.facility(text, text_l)
        claim = Claim(
            report_id=rid, source=source, language=language, event_type=et, event_scores=scores, place=None,
            lat=None, lon=None, radius_m=None, admin1=None, country=None, place_id=None,
            place_phrase=None, occurred_from=t0, occurred_to=t1, time_precision=prec,
            actor=self.actor(text_l, source_party), weapon=self.weapon(text_l), facility=fac,
            facility_name=fac_name, published_at=published,
            numbers=_NUM_RX.findall(text), text=text,
        )
        monitor = bool(facts.MONITOR_RX.search(text))
        neg, rest = facts.negated_sentences(text)
        if neg:
            rest_text = " ".join(rest)
            _et2, sc2 = self.classify(rest_text.lower()) if rest else ("other", {})
            if not sc2 and not (monitor and rest and facts.MONITOR_FIRE_RX.search(rest_text)):
                claim.event_type, claim.negated = "non_event", True
                claim.reason = "negated: " + neg[0].strip()[:120]
                claim.concepts = ["non_event"]
                return [claim]
        rest_l = facts.announced_blast_rest(text_l)
        if rest_l is not None and not self.classify(rest_l)[1]:
            # demining or a planned detonation, announced: the explosions are no attack
            claim.event_type = "non_event"
            claim.reason = "announced controlled detonation (demining, disposal of explosive items), not an attack"
            claim.concepts = ["non_event"]
            return [claim]
        if facts.is_non_event(text, scores):
            claim.event_type = "non_event"
            claim.reason = "not an event report (no military event named: weather, sports, civic news)"
            claim.concepts = ["non_event"]
            return [claim]
        regions, used = self.regions_in(toks)
        claim.admin1 = regions[0] if regions else None
        hits = self.place_hits(toks, used)
        m = _LINE_RX.search(text)
        if m:
            claim.line_distance_km = float(m.group(1).replace(",", "."))
        self._primary = -1
        if not (monitor and self._locate_monitor(claim, text, toks, hits, regions)):
            self._locate(claim, text, toks, hits, regions)
        claim.killed, claim.injured = facts.casualties(text)
        claim.concepts = sorted({claim.event_type, fac or "", claim.weapon or "", str(claim.place_id)} - {""})
        out = [claim]
        if split and not monitor and claim.lat is not None and len(hits) > 1 and self._primary >= 0:
            out += self._split_events(claim, text, toks, hits)
        return out

    # -- several events in one text -----------------------------------------
    def _split_events(self, claim: Claim, text: str, toks: list[str], hits: list[PlaceHit]) -> list[Claim]:
        """One more claim per further place of an event: a place after a location preposition (or in a
        list with one), more than 5 km from the places already claimed, not a launch site ("з Брянської
        області", "from Kursk") nor a reference point ("20 km from X", "between A and B")."""
        g = self.gaz
        starts = [_char_offset(text, toks, h.start) for h in hits]
        taken = [(claim.lat, claim.lon)]
        owners: list[tuple[int, Claim]] = [(starts[self._primary], claim)]
        extra: list[Claim] = []
        for j, h in enumerate(hits):
            if j == self._primary or j in self._skip_split or h.kind in ("district", "direction"):
                continue
            i = self._chosen[j]
            if i < 0 or g.kind[i] == "admin1":
                continue
            prev = fold(toks[h.start - 1]) if h.start > 0 else ""
            if prev in _FROM:
                continue
            listed = prev in _AND or text[:starts[j]].rstrip().endswith(",")
            if not (h.after_prep or h.near or listed or self._subject_place(toks, h)):
                continue
            lat, lon = float(g.lat[i]), float(g.lon[i])
            if min(float(haversine_m(lat, lon, a, b)) for a, b in taken) < _SPLIT_MIN_M:
                continue
            c = copy.copy(claim)
            c.report_id = f"{claim.report_id}#{len(extra) + 2}"
            c.alternatives = [(float(g.lat[a]), float(g.lon[a]), g.admin1[a]) for a in self._ambiguous.get(j, [])]
            r = float(g.radius[i]) + (5_000.0 if h.near else 0.0)
            self._set(c, i, lat, lon, r, g.admin1[i], h.text)
            c.concepts = sorted({c.event_type, c.facility or "", c.weapon or "", str(c.place_id)} - {""})
            taken.append((lat, lon))
            owners.append((starts[j], c))
            extra.append(c)
        if extra:
            self._share_casualties(text, owners)
        return extra

    @staticmethod
    def _subject_place(toks: list[str], h: PlaceHit) -> bool:
        """"під обстріл потрапила Дружківка", "Дружківка: 2 загиблих": a place as the clause's subject."""
        nxt = toks[h.end] if h.end < len(toks) else ""
        return nxt in (":", ".", ";", "\n") or (h.start > 0 and toks[h.start - 1] in (".", ":", ";", "\n"))

    @staticmethod
    def _share_casualties(text: str, owners: list[tuple[int, Claim]]) -> None:
        """Casualties of each clause go to the claim whose place the clause (or the one before) names."""
        owners = sorted(owners, key=lambda o: o[0])
        per: dict[int, list[int | None]] = {id(c): [None, None] for _p, c in owners}
        cur = owners[0][1]
        pos = 0
        for cl in re.split(r"(?<=[.!?;:])\s+|\n+", text):
            a = text.find(cl, pos)
            b = a + len(cl)
            pos = max(pos, b)
            inside = [c for p, c in owners if a <= p < b]
            if inside:
                cur = inside[0]
            k, w = facts.clause_casualties(cl)
            acc = per[id(cur)]
            if k is not None:
                acc[0] = max(acc[0] or 0, k)
            if w is not None:
                acc[1] = max(acc[1] or 0, w)
        for _p, c in owners:
            c.killed, c.injured = per[id(c)]

    # -- monitors' patrol paragraphs -------------------------------------------
    def _locate_monitor(self, claim: Claim, text: str, toks: list[str], hits: list[PlaceHit],
                        regions: list[str]) -> bool:
        """Monitors' idiom: the named position (a village, or "N km direction of" it), moved by the stated
        offset of what was heard ("5-6km south-east of its position").  A village's own locator
        ("(63km north-west of Luhansk)") is not the place; it picks the candidate that fits it and stands
        in for a village the gazetteer lacks.  False when the text has no position (then the general
        rules run)."""
        g = self.gaz
        locs = facts.locators(text)
        offs = facts.offsets(text)
        if not locs and not offs:
            return False
        spans = [(lc.start, lc.end) for lc in locs]
        starts = [_char_offset(text, toks, h.start) for h in hits]
        placed: list[tuple[int, int, int]] = []  # (char, end char, hit index)
        for j, h in enumerate(hits):
            c = starts[j]
            if any(a <= c < b for a, b in spans) or h.kind == "direction":
                continue
            nxt = toks[h.end] if h.end < len(toks) else ""
            if nxt.lower().startswith(("people", "народн")):  # "Donetsk People's Republic"
                continue
            if re.search(r"(?:base|returned|вернул\w*|повернул\w*)[^.]{0,30}$", text[max(0, c - 45):c], re.I):
                continue
            placed.append((c, c + len(h.text), j))
        if any(hits[a[2]].after_prep or hits[a[2]].near for a in placed):
            placed = [a for a in placed if hits[a[2]].after_prep or hits[a[2]].near]
        anchors: list[tuple[int, int, int | facts.Locator]] = [*placed, *((lc.start, lc.end, lc) for lc in locs)]
        if not anchors:
            return False
        anchors.sort(key=lambda a: a[0])
        c0, c1, first = anchors[0]
        chosen = self.resolve(hits, regions, claim.event_type) if hits else []
        loc_after = None
        if isinstance(first, facts.Locator):
            loc_after = first
        else:
            loc_after = next((lc for lc in locs if 0 <= lc.start - c1 <= 60), None)
        city = None
        if loc_after is not None:
            cands = g.lookup(loc_after.city, limit=1)
            city = cands[0] if cands else None
        if isinstance(first, facts.Locator):
            if city is None:
                return False
            lat, lon = _offset(city.lat, city.lon, first.km * 1000.0, first.bearing)
            r = 0.2 * first.km * 1000.0 + 2000.0
            name, pid, admin1, country = f"{first.km:g} km from {city.name}", None, city.admin1, city.country
        else:
            j = first
            i = chosen[j]
            lat, lon, r = float(g.lat[i]), float(g.lon[i]), float(g.radius[i])
            name, pid, admin1, country = g.name[i], int(i), g.admin1[i], g.country[i]
            if city is not None and loc_after is not None:  # (a city comes only from a locator)
                # the locator as a consistency check: the candidate it fits, or the locator itself
                elat, elon = _offset(city.lat, city.lon, loc_after.km * 1000.0, loc_after.bearing)
                # locators are rounded to the km and to 8 or 16 compass points (tan 22.5 deg ~ 0.41)
                tol = max(5_000.0, 0.45 * loc_after.km * 1000.0 + 2_000.0)
                ids = np.asarray(hits[j].ids)
                d = haversine_m(g.lat[ids], g.lon[ids], elat, elon)
                k = int(np.argmin(d))
                if float(d[k]) <= tol:
                    i = int(ids[k])
                    lat, lon, r = float(g.lat[i]), float(g.lon[i]), float(g.radius[i])
                    name, pid, admin1, country = g.name[i], int(i), g.admin1[i], g.country[i]
                else:
                    lat, lon, r = elat, elon, 0.2 * loc_after.km * 1000.0 + 2000.0
                    name, pid = f"{hits[j].text} ({loc_after.km:g} km from {city.name})", None
                    admin1, country = city.admin1, city.country
        phrase = name
        # the position may itself be "N km direction of" the village
        pos_off = next((o for o in offs if o.kind == "place" and 0 <= c0 - o.end <= 70), None)
        if pos_off is not None:
            lat, lon = _offset(lat, lon, pos_off.mid_km * 1000.0, pos_off.bearing)
            r = math.hypot(r, 0.15 * pos_off.mid_km * 1000.0)
            phrase = f"{pos_off.mid_km:g} km from {name}"
        self_offs = [o for o in offs if o.kind == "self" and o is not pos_off]
        ev = next((o for o in self_offs if o.start > c0), self_offs[0] if self_offs else None)
        if ev is not None:
            lat, lon = _offset(lat, lon, ev.mid_km * 1000.0, ev.bearing)
            r = math.hypot(r, ((ev.hi_km - ev.lo_km) / 2 + 0.15 * ev.mid_km) * 1000.0 + 500.0)
            phrase = f"{ev.lo_km:g}-{ev.hi_km:g} km at {ev.bearing:.0f} deg of the position at {phrase}"
        claim.place = name
        claim.place_id = pid
        claim.lat, claim.lon, claim.radius_m = round(lat, 5), round(lon, 5), max(r, 1000.0)
        claim.admin1 = admin1 or claim.admin1
        claim.country = country
        claim.place_phrase = phrase
        return True

    def _locate(self, claim: Claim, text: str, toks: list[str], hits: list[PlaceHit], regions: list[str]) -> None:
        g = self.gaz
        if not hits:
            if regions:
                i = g.admin1_entry.get(regions[0])
                if i is not None:
                    self._set(claim, i, float(g.lat[i]), float(g.lon[i]), float(g.radius[i]), regions[0], "region")
                    return
            claim.reason = "no place named" if not regions else f"region {regions[0]} not in gazetteer"
            return
        chosen = self.resolve(hits, regions, claim.event_type)
        self._chosen = chosen
        self._skip_split: set[int] = set()
        # primary place: first hit after a location preposition, else the first hit (directions and
        # districts only when nothing else is named)
        k = next((j for j, h in enumerate(hits) if h.after_prep and h.kind not in ("district", "direction")),
                 next((j for j, h in enumerate(hits) if h.kind not in ("district", "direction")), 0))
        self._primary = k
        claim.alternatives = [(float(g.lat[a]), float(g.lon[a]), g.admin1[a]) for a in self._ambiguous.get(k, [])]
        h = hits[k]
        i = chosen[k]
        if regions and g.admin1[i] not in regions and h.match != "exact" and g.kind[i] != "admin1":
            # the text names the region and no place of this spelling lies in it: the village is not in
            # the gazetteer ("в селе Ратчино" of Lipetsk oblast), so the region's area, not a look-alike
            ra = g.admin1_entry.get(regions[0])
            if ra is not None:
                self._set(claim, ra, float(g.lat[ra]), float(g.lon[ra]), float(g.radius[ra]), regions[0],
                          f"{h.text} (not found in {regions[0]}): region")
                claim.alternatives = []
                return
        i = chosen[k]
        lat, lon, r = float(g.lat[i]), float(g.lon[i]), float(g.radius[i])
        phrase = h.text
        # between A and B
        if k + 1 < len(hits):
            h2 = hits[k + 1]
            gap = [fold(t) for t in toks[h.end:h2.start]]
            before = fold(toks[h.start - 1]) if h.start > 0 else ""
            if before in _BETWEEN and len(gap) == 1 and gap[0] in _AND:
                i2 = chosen[k + 1]
                self._skip_split.add(k + 1)
                d = float(haversine_m(lat, lon, g.lat[i2], g.lon[i2]))
                if d < 80_000:
                    lat, lon = (lat + float(g.lat[i2])) / 2, (lon + float(g.lon[i2])) / 2
                    r = max(d / 2 + max(r, float(g.radius[i2])), r)
                    phrase = f"between {h.text} and {h2.text}"
                    self._set(claim, i, lat, lon, r, g.admin1[i], phrase)
                    return
        # N km [direction] of A (the phrase ends right before the place); a reference point is no event
        for j2, h2 in enumerate(hits):
            c2 = _char_offset(text, toks, h2.start)
            if any(m2.end() >= c2 - 3 for m2 in _KM_RX.finditer(text, max(0, c2 - 80), c2 + 1)):
                self._skip_split.add(j2)
        start_char = _char_offset(text, toks, h.start)
        km = None
        for m in _KM_RX.finditer(text, max(0, start_char - 80), start_char + 1):
            if m.end() >= start_char - 3:
                km = m
        if km is not None:
            dist = float(km.group(1).replace(",", ".")) * 1000.0
            if dist <= 100_000:
                b = _bearing(km.group(2))
                if b is not None:
                    lat, lon = _offset(lat, lon, dist, b)
                    r = max(r, 0.35 * dist + 1000.0)
                    phrase = f"{km.group(0).strip()} {h.text}"
                else:
                    r = r + dist
                    phrase = f"within {dist / 1000:g} km of {h.text}"
                self._set(claim, i, lat, lon, r, g.admin1[i], phrase)
                return
        if h.kind == "direction":
            r = max(r, 25_000.0)
            phrase = f"{h.text} direction"
        elif h.kind == "district":
            r = max(r, 30_000.0)
            phrase = f"{h.text} district"
        elif h.near:
            r = r + 5_000.0
            phrase = f"near {h.text}"
        self._set(claim, i, lat, lon, r, g.admin1[i], phrase)

    def _set(self, claim: Claim, i: int, lat: float, lon: float, r: float, admin1: str, phrase: str) -> None:
        g = self.gaz
        claim.place = g.name[i]
        claim.place_id = int(i)
        claim.lat, claim.lon, claim.radius_m = round(lat, 5), round(lon, 5), r
        claim.admin1 = admin1 or claim.admin1
        claim.country = g.country[i]
        claim.place_phrase = phrase


def _is_event_word(word: str) -> bool:
    """True when a word belongs to the event, weapon or facility vocabulary."""
    for rules in EVENT_RULES.values():
        for rx, _w in rules:
            m = rx.search(word)
            if m and m.start() == 0:
                return True
    for _n, rx in WEAPONS:
        m = rx.search(word)
        if m and m.start() == 0:
            return True
    g = _GENERIC_HIT.search(word)
    return bool(g and g.start() == 0)


def _same_raion(a: str, b: str) -> bool:
    """Raion stems from the postal file and from text agree (Volnovaskyi ~ Волноваського ~ Volnovakha)."""
    if a == b:
        return True
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 5 and n >= min(len(a), len(b)) - 2


def _char_offset(text: str, toks: list[str], k: int) -> int:
    """Character offset of token k (tokens are found left to right)."""
    pos = 0
    for j, t in enumerate(toks):
        p = text.find(t, pos)
        if p < 0:
            return pos
        if j == k:
            return p
        pos = p + len(t)
    return pos


def _offset(lat: float, lon: float, dist_m: float, bearing_deg: float) -> tuple[float, float]:
    b = np.radians(bearing_deg)
    dlat = dist_m * np.cos(b) / 111_320.0
    dlon = dist_m * np.sin(b) / (111_320.0 * np.cos(np.radians(lat)))
    return lat + float(dlat), lon + float(dlon)


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


_WEEKDAYS = [
    (r"monday|понеділ|понедельник", 0), (r"tuesday|вівтор|вторник", 1), (r"wednesday|серед[уи]|среду|среда", 2),
    (r"thursday|четвер|четверг", 3), (r"friday|п.ятниц|пятниц", 4), (r"saturday|субот", 5),
    (r"sunday|неділ|воскресен", 6),
]
_WD_RX = [(re.compile(r"\b(?:on|у|в|во)\s+(?:" + p + ")"), d) for p, d in _WEEKDAYS]
_MONTHS = {
    1: r"january|jan\b|січ|январ", 2: r"february|feb\b|лют|феврал", 3: r"march|mar\b|берез|март",
    4: r"april|apr\b|квіт|апрел", 5: r"may\b|травн|мая|май", 6: r"june|jun\b|червн|июн",
    7: r"july|jul\b|липн|июл", 8: r"august|aug\b|серпн|август", 9: r"september|sep\b|вересн|сентябр",
    10: r"october|oct\b|жовтн|октябр", 11: r"november|nov\b|листопад|ноябр", 12: r"december|dec\b|грудн|декабр",
}
_DATE_RX = re.compile(r"\b(\d{1,2})\s+(" + "|".join(f"(?:{v})" for v in _MONTHS.values()) + r")\w*")
_DATE_RX2 = re.compile(r"\b(" + "|".join(f"(?:{v})" for v in _MONTHS.values()) + r")\w*\s+(\d{1,2})\b")
_DOTDATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})(?:\.(\d{2,4}))?\b")


_HAS_DIGIT = re.compile(r"\d")
_WD_ANY = _Rx("|".join(p for p, _ in _WEEKDAYS).replace("п.ятниц", "ятниц"))


def _weekday(text_l: str) -> int | None:
    if not _WD_ANY.search(text_l):
        return None
    for rx, d in _WD_RX:
        if rx.search(text_l):
            return d
    return None


def _month_of(word: str) -> int | None:
    for m, rx in _MONTHS.items():
        if re.match(rx, word):
            return m
    return None


def _date(text_l: str, loc: datetime) -> datetime | None:
    if not _HAS_DIGIT.search(text_l):
        return None
    day = month = None
    m = _DATE_RX.search(text_l)
    if m:
        day, month = int(m.group(1)), _month_of(m.group(2))
    else:
        m = _DATE_RX2.search(text_l)
        if m:
            day, month = int(m.group(2)), _month_of(m.group(1))
        else:
            m = _DOTDATE.search(text_l)
            if m and int(m.group(2)) <= 12:
                day, month = int(m.group(1)), int(m.group(2))
    if not day or not month or day > 31:
        return None
    year = loc.year
    try:
        d = loc.replace(year=year, month=month, day=day, hour=0, minute=0, second=0, microsecond=0)
    except ValueError:
        return None
    if d > loc:
        try:
            d = d.replace(year=year - 1)
        except ValueError:
            return None
    if (loc - d).days > 60:
        return None
    return d
