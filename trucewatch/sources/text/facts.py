"""What a report says besides its place: negation, not-an-event, casualties, monitors' offsets.

- Negation: "the SMM did not observe any ceasefire violations", "обстрілів не було", "нарушений не
  зафиксировано" state that nothing happened; a text whose every event sentence is negated gives no claim.
- Announced controlled detonations (demining, disposal of explosive items): explosions the
  authorities explain are no attack; typed ``non_event`` unless the text names an attack besides.
- Not an event: weather forecasts, sports, civic news name places and words such as "град" (hail) or
  "+40 градусів" without any military event; they are typed ``non_event``.
- Casualties: killed and injured counts in Ukrainian, Russian and English, written in digits, in words
  ("п'ятеро", "двое", "five") or as listed people ("33-річний та 56-річний чоловіки"); a number repeated
  in an update counts once (the largest per clause and kind).
- Monitors' offsets (OSCE SMM idiom): "heard 15 undetermined explosions 5-6km south-east of its position",
  "в 4,5 км к северо-востоку от их расположения", with 16-point directions and distance ranges, and the
  report's own locators "(63km north-west of Luhansk)", which describe the named village, not the event.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# -- negation -----------------------------------------------------------------------------------
_VIOL = (r"(?:any\s+|жодн\w*\s+|никаких\s+|ни одного\s+)?(?:ceasefire violations?|violations? of the ceasefire|"
         r"explosions?|shelling|порушен\w*(?: режиму)?|обстріл\w*|вибух\w*|нарушени\w*(?: режима)?|обстрел\w*|взрыв\w*)")
NEGATION_RX = re.compile(
    r"\b(?:did not|didn't|has not|have not|had not|was not|were not)\s+(?:\w+\s+)?"
    r"(?:observe|record|hear|see|register|report|detect)\w*\s+" + _VIOL + "|"
    r"\b(?:observed|recorded|heard|registered|saw|reported)\s+no\s+" + _VIOL + "|"
    r"\bno\s+(?:ceasefire violations?|explosions?|shelling)\s+(?:was|were)\s+(?:recorded|observed|heard|reported)|"
    r"\bне\s+(?:було\s+|было\s+)?(?:зафіксова\w*|зафіксува\w*|фіксува\w*|спостеріга\w*|зафиксирова\w*|"
    r"фиксирова\w*|наблюда\w*|чул\w*|слышал\w*)\s+" + _VIOL + "|"
    r"\b(?:порушень|обстрілів|вибухів|нарушений|обстрелов|взрывов)\s+(?:\w+\s+)?не\s+(?:було|было|"
    r"зафіксовано|зафиксировано|зафіксували|зафиксировали|фіксували|фиксировали|спостерігалося|наблюдалось)|"
    r"\bбез\s+(?:порушень|обстрілів|нарушений|обстрелов)\b",
    re.IGNORECASE)


def negated_sentences(text: str) -> tuple[list[str], list[str]]:
    """(sentences that deny an event, the other sentences)."""
    sents = [s for s in re.split(r"(?<=[.!?;])\s+|\n+", text) if s.strip()]
    neg = [s for s in sents if NEGATION_RX.search(s)]
    return neg, [s for s in sents if not NEGATION_RX.search(s)]


# -- not an event -------------------------------------------------------------------------------
NON_EVENT_RX = re.compile(
    r"синоптик|прогноз погод|погод[аиі]\b|погода в|спек[аиу]\b|спекот|жар[аиу]\b|жарк|\+\d+\s*°|°c|градус|опад|"
    r"дощ|злив|гроз[аиі]|снігопад|ожеледиц|похолодан|потеплін|хмарн|облачн|дожд|метеоролог|"
    r"weather|forecast|heatwave|heat wave|temperatures? (?:of|up to|will)|rain|snowfall|"
    r"матч|чемпіонат|чемпионат|плей-?оф|турнір|турнир|футбол|баскетбол|хокей|хоккей|боксер|боксёр|олімпі|олимпи|"
    r"збірн|сборн|\bmatch\b|championship|tournament|football|olympic|"
    r"рецепт|випічк|выпечк|печиво|мерч|концерт|фестивал|виставк|выставк|прем'єр|премьер|серіал|сериал|"
    r"опалювальн|отопительн|пенсійн|пенсионн|банкрутств|банкротств|ціни на|цены на|курс долар|курс валют|"
    r"свердловин|сонячн\w* енерг|солнечн\w* энерг|recipe|concert|festival",
    re.IGNORECASE)
#: Words that, even without a means, tell of harm or violence (then the text is an event of type "other").
HARM_RX = re.compile(
    r"вибух|взрыв|explos|удар|strike|attack|атак|обстріл|обстрел|shell|загин|погиб|killed|dead|поранен|ранен|"
    r"injur|wound|постражд|пострада|зруйн|разруш|destroy|damag|пошкодж|поврежд|влуч|попада|приліт|прилет|"
    r"теракт|терорист|диверс|підрив|подрыв|blast|detonat|бо[їй]\w* зіткнення|бо[её]в|fight|clash|ceasefire violation|"
    r"порушен\w* режиму|нарушени\w* режима|стрілян|стрельб|gunfire|fire\b|пожеж|пожар|евакуац|эвакуац|"
    r"знищ|уничтож|бомб|bomb|авіаці|авиаци|зіткнен|столкновен|бойов\w* ді|боев\w* действ|войск|військ|окупант|"
    r"оккупант|ворог|противник|\bзсу\b|\bвсу\b|\bппо\b|\bпво\b|збил|сбил|shot down|troops|military|"
    r"drone|дрон|безпілот|беспилот|ракет|missile|артилер|артиллер",
    re.IGNORECASE)


#: Announced controlled detonations: demining, disposal of explosive items, planned blasts.  The
#: authorities post them so that the explosions heard are not taken for an attack.
ANNOUNCED_BLAST_RX = re.compile(
    r"planned (?:demining|detonations?|demolitions?|explosions?|blasts?)|controlled (?:detonations?|explosions?|"
    r"demolitions?|blasts?)|\bdemining\b|(?:explosive ordnance|bomb) disposal|disposal of (?:explosive|unexploded)|"
    r"destruction of (?:explosive|unexploded)|\bsappers?\b|"
    r"планов\w* (?:вибух|підрив|знешкодж|знищен|розмінуван)|контрольован\w* (?:вибух|підрив|детонац)|"
    r"розмінуван\w*|знешкодж\w* вибухонебезпечн|знищенн\w* вибухонебезпечн|сапер\w*|піротехнік\w*|"
    r"планов\w* (?:взрыв|подрыв|уничтожен|разминирован)|контролируем\w* (?:взрыв|подрыв|детонац)|"
    r"разминирован\w*|уничтожени\w* взрывоопасн|обезвреживани\w* взрывоопасн|пиротехник\w*",
    re.IGNORECASE)
#: What is left of an announcement once its own words are gone: words of the blast itself.
_BLAST_WORDS_RX = re.compile(r"explosions?|blasts?|detonations?|вибух\w*|взрыв\w*|підрив\w*|подрыв\w*|"
                             r"heard|почути|слышн\w*|услыш\w*", re.IGNORECASE)


def announced_blast_rest(text: str) -> str | None:
    """The text without its announcement of a controlled detonation and the blast words, or
    None when it announces none (an attack named beside it still shows in what is left)."""
    if not ANNOUNCED_BLAST_RX.search(text):
        return None
    return _BLAST_WORDS_RX.sub(" ", ANNOUNCED_BLAST_RX.sub(" ", text))


WEATHER_RX = re.compile(r"синоптик|прогноз|погод|спек[аиу]\b|жар[аиу]\b|дощ|злив|гроз[аиі]|опад|дожд|weather|"
                        r"forecast|rain|storm|snow|градус", re.IGNORECASE)


def is_non_event(text: str, scores: dict[str, float]) -> bool:
    """True for texts that report no military event: weather, sports, civic news."""
    if scores:
        return False
    return bool(NON_EVENT_RX.search(text)) or not HARM_RX.search(text)


# -- casualties ---------------------------------------------------------------------------------
_WORDNUM = {
    "один": 1, "одна": 1, "одного": 1, "одну": 1, "одне": 1, "одно": 1, "one": 1, "a": 1, "an": 1,
    "два": 2, "дві": 2, "две": 2, "двоє": 2, "двое": 2, "двох": 2, "двоих": 2, "two": 2, "обидва": 2, "оба": 2,
    "три": 3, "троє": 3, "трое": 3, "трьох": 3, "троих": 3, "three": 3,
    "чотири": 4, "четыре": 4, "четверо": 4, "чотирьох": 4, "четверых": 4, "four": 4,
    "п'ять": 5, "пять": 5, "п'ятеро": 5, "пятеро": 5, "п’ятеро": 5, "пʼятеро": 5, "п'ятьох": 5, "пятерых": 5, "five": 5,
    "шість": 6, "шесть": 6, "шестеро": 6, "шістьох": 6, "шестерых": 6, "six": 6,
    "сім": 7, "семь": 7, "семеро": 7, "сімох": 7, "семерых": 7, "seven": 7,
    "вісім": 8, "восемь": 8, "восьмеро": 8, "вісьмох": 8, "eight": 8,
    "дев'ять": 9, "девять": 9, "дев'ятеро": 9, "девятеро": 9, "nine": 9,
    "десять": 10, "десятеро": 10, "ten": 10,
}
_NUM = r"(?:\d+|" + "|".join(sorted((re.escape(w) for w in _WORDNUM if len(w) > 2), key=len, reverse=True)) + r")"
_KILLED = (r"загин\w*|загибл\w*|вбит\w*|вбил\w*|убил\w*|убит\w*|погиб\w*|помер\w*|умер\w*|смертельн\w*|жертв\w*|"
           r"killed|dead|died|deaths?|fatalit\w*|lost (?:their|his|her) li\w+")
_INJURED = (r"поранен\w*|поранил\w*|поранень|ранен\w*|ранил\w*|ранени\w*|травмова\w*|травмирова\w*|травм\w*|"
            r"постражда\w*|пострада\w*|потерпіл\w*|постраждал\w*|контузі\w*|контузи\w*|"
            r"injur\w*|wounded|hurt|casualt\w*")
_NOT_CAS = re.compile(r"без\s+(?:жертв|постраждал|пострадавш|погибш|загибл)|no (?:casualties|injuries)|"
                      r"не постраждав|не постраждал|не пострадал|обійшлося без|обошлось без|"
                      r"загиблих немає|погибших нет|постраждалих немає|пострадавших нет", re.IGNORECASE)
_RISE = re.compile(r"(" + _KILLED + "|" + _INJURED + r").{0,70}?(?:зросл|збільшил|увеличил|возросл|rose|increased|"
                   r"climbed)\w*\s+(?:до|to)\s+(" + _NUM + r")\b", re.IGNORECASE)
_PERSON = re.compile(r"\b(?:чоловік|жінк|мужчин|женщин|людин|человек|житель|жителька|мешкан|man|woman|civilian|"
                     r"person|дитин|ребен|хлопч|дівчин|водій|водител|пенсіонер|пенсионер|цивільн|мирн|гражданск|"
                     r"працівни|работник|раненый|поранений|підліт|подрост|military|soldier|військов|военн)\w*",
                     re.IGNORECASE)
_AGE = re.compile(r"\b\d{1,3}\s*-?\s*(?:річн|летн|year-old|years old|рок)\w*", re.IGNORECASE)
_KILL_RX = re.compile(_KILLED, re.IGNORECASE)
_INJ_RX = re.compile(_INJURED, re.IGNORECASE)


def _val(tok: str) -> int | None:
    t = tok.lower().replace("’", "'").replace("ʼ", "'")
    if t.isdigit():
        v = int(t)
        return v if v < 5000 else None
    return _WORDNUM.get(t)


def _kind(word: str) -> str:
    return "killed" if _KILL_RX.fullmatch(word) else "injured"


_CAS_WORD = re.compile(r"\b(?:" + _KILLED + "|" + _INJURED + ")", re.IGNORECASE)
_NUM_TOKEN = re.compile(r"(?<![\w-])(" + _NUM + r")(?![\w-])", re.IGNORECASE)
_OTHER_THING = re.compile(r"\s*(?:автів|авто|будин|домів|домов|машин|km|км|%|снаряд|вибух|взрыв|разів|раз\b)", re.IGNORECASE)


def clause_casualties(clause: str) -> tuple[int | None, int | None]:
    """Killed and injured counts said in one clause (None when not said).

    Anchored on the casualty words (one scan), with the number looked for just before them ("5 загиблих",
    "шестеро поранені") or just after ("загинули щонайменше 7 людей", "ранив еще 8 человек"), or the
    people listed by age ("загинув 45-річний чоловік"), or a singular verb with a person ("Ранен мужчина")."""
    out: dict[str, int] = {}
    words = list(_CAS_WORD.finditer(clause))
    if not words:
        return None, None
    rise = _RISE.search(clause)
    if rise is not None and _val(rise.group(2)) is not None:
        out[_kind(rise.group(1).lower())] = _val(rise.group(2))  # type: ignore[assignment]
    used: set[int] = set()
    for m in words:
        w = m.group(0).lower()
        k = _kind(w)
        if k in out and rise is not None:
            continue
        if _NOT_CAS.search(clause[max(0, m.start() - 25):m.end() + 5]):
            continue
        v = None
        before = clause[max(0, m.start() - 45):m.start()]
        nb = list(_NUM_TOKEN.finditer(before))
        if nb:
            gap = before[nb[-1].end():]
            if len(gap.split()) <= 2 and not _AGE.match(before[nb[-1].start():]) and "," not in gap:
                v = _val(nb[-1].group(1))
        if v is None:
            after = clause[m.end():m.end() + 50]
            na = _NUM_TOKEN.search(after)
            if na is not None and len(after[:na.start()].split()) <= 3 and "," not in after[:na.start()] \
                    and not _AGE.match(after[na.start():]) and not _OTHER_THING.match(after[na.end():]):
                pos = m.end() + na.start()
                if pos not in used:
                    v = _val(na.group(1))
                    used.add(pos)
        if v is not None:
            out[k] = max(out.get(k, 0), v)
    # no number: people listed by age next to the verb, or a singular verb with a person
    for k, rx in (("killed", _KILL_RX), ("injured", _INJ_RX)):
        if k in out:
            continue
        for m in rx.finditer(clause):
            if _NOT_CAS.search(clause[max(0, m.start() - 25):m.end() + 5]):
                continue
            w = m.group(0).lower()
            if w.startswith(("жертв", "casualt", "постраждал", "пострадавш", "потерпіл")) and not re.search(
                    r"(?:постраждал[аи]?|пострадал[аи]?|потерпіл[аи]?)$", w):
                continue
            nxt = [x.start() for x in (_KILL_RX, _INJ_RX)[k == "killed"].finditer(clause, m.end())]
            after = clause[m.end():min([m.end() + 80, *nxt])]
            ages = len(_AGE.findall(after)) or len(_AGE.findall(clause[max(0, m.start() - 30):m.start()]))
            if ages:
                out[k] = max(out.get(k, 0), ages)
            elif re.search(r"(?:в|л|ла|ий|ый|ая|на|ена|ен|о|иб|ит|ed|ied)$", w) and not re.search(r"(?:ли|ні|ые|ых|ены)$", w):
                if _PERSON.search(clause[max(0, m.start() - 40):m.end() + 40]) or w.endswith(("ий", "ый")):
                    out[k] = max(out.get(k, 0), 1)
    return out.get("killed"), out.get("injured")


def casualties(text: str) -> tuple[int | None, int | None]:
    """Killed and injured of a whole text: per clause the largest, over clauses the largest again
    (updates repeat the same toll: "загинули 5 ... кількість загиблих зросла до 7" is 7, not 12)."""
    killed = injured = None
    for cl in re.split(r"(?<=[.!?;:])\s+|\n+", text):
        k, w = clause_casualties(cl)
        if k is not None:
            killed = max(killed or 0, k)
        if w is not None:
            injured = max(injured or 0, w)
    return killed, injured


# -- monitors' directions and distances ---------------------------------------------------------
_DIR_WORD = (r"(?:north|south|east|west|північн\w*|північ|південн\w*|південь|півдн\w*|східн\w*|схід|сходу|західн\w*|"
             r"захід|заходу|север\w*|юго|юг\w*|восток\w*|восточн\w*|запад\w*)")
_DIR = _DIR_WORD + r"(?:[- ]" + _DIR_WORD + r"){0,2}"
_DIRS = _DIR + r"(?:(?:\s*,\s*|\s+and\s+|\s+та\s+|\s+і\s+|\s+и\s+)" + _DIR + r")*"
_DIST = (r"(?:about\s+|approximately\s+|some\s+|around\s+|близько\s+|приблизно\s+|около\s+|примерно\s+|"
         r"более\s+|понад\s+|over\s+|more than\s+)?(\d+(?:[.,]\d+)?)(?:\s*(?:-|–|to|до)\s*(\d+(?:[.,]\d+)?))?\s*"
         r"(km|kilomet\w*|m|metres|meters|км|кілометр\w*|километр\w*|м|метр\w*)\b")
OFFSET_RX = re.compile(
    _DIST + r"\s*(?:to the\s+|in the\s+|на\s+|к\s+|в\s+|у\s+|north of|)?\s*(" + _DIRS + r")(?:\s+direction)?",
    re.IGNORECASE)
#: What an offset is measured from: the observer (an event offset) or a named place (a position or locator).
_OF_SELF = re.compile(r"\s*(?:of|from|від|вiд|от)\s+(?:its|their|the patrol'?s?|the smm'?s?|the mission'?s?|"
                      r"свого|своєї|своей|своего|их|її|його|місця|места)\b|\s*(?:of\s+(?:its|their)\s+"
                      r"(?:position|location))", re.IGNORECASE)
_OF_PLACE = re.compile(r"\s*(?:of|from|від|вiд|от)\s+(?:the\s+)?(?:[\"'«“]?(?:DPR|LPR|ДНР|ЛНР)[\"'»”]?-?\s*"
                       r"(?:controlled\s+)?|government-controlled\s+|non-government-controlled\s+|"
                       r"подконтрольн\w+\s+|підконтрольн\w+\s+|н\.\s*п\.\s*|с\.\s*|м\.\s*|г\.\s*|"
                       r"(?:the\s+)?(?:village|town|city|settlement)\s+of\s+)*[\"'«“]?[A-ZА-ЯІЇЄҐ]")
#: The report's locator of a village: "(government-controlled, 63km north-west of Luhansk)",
#: ", 50 км к западу от Луганска,".
LOCATOR_RX = re.compile(
    r"[(,]\s*(?:formerly [^,()]{1,30},\s*|прежнее название[^,()]{0,30},\s*|колишн[^,()]{0,30},\s*)?"
    r"(?:(?:non-)?government-controlled,\s*|[\"'«“]?(?:DPR|LPR)[\"'»”]?-controlled,\s*)?"
    r"(\d+(?:[.,]\d+)?)\s*(?:km|км|kilometers|kilometres)\s+(?:to the\s+|к\s+|на\s+)?(" + _DIR + r")\w*\s+"
    r"(?:of|from|от|від)\s+([A-ZА-ЯІЇЄҐ][\w’'\-]+)(?:\s+city)?(?:\s+cent(?:re|er))?"
    r"(?:,\s*\d+(?:[.,]\d+)?\s*(?:km|км)\s+\w+\s+(?:of|от|від)\s+[A-ZА-ЯІЇЄҐ][\w’'\-]+)?\s*[),]",
    re.IGNORECASE)


def _unit_km(unit: str) -> float:
    u = unit.lower()
    return 1.0 if u.startswith(("km", "kilomet", "км", "кілом", "килом")) else 0.001


def _component(word: str) -> float | None:
    w = word.lower()
    if w.startswith(("north", "північ", "север")):
        return 0.0
    if w.startswith(("south", "півд", "юг", "юго")):
        return 180.0
    if w.startswith(("east", "схід", "схо", "східн", "восток", "восточ")):
        return 90.0
    if w.startswith(("west", "захід", "заход", "західн", "запад")):
        return 270.0
    return None


def _cmean(a: float, b: float) -> float:
    x = math.cos(math.radians(a)) + math.cos(math.radians(b))
    y = math.sin(math.radians(a)) + math.sin(math.radians(b))
    return math.degrees(math.atan2(y, x)) % 360.0


def bearing_of(phrase: str) -> float | None:
    """Bearing (degrees) of a direction phrase, 16-point and lists: "north-north-west" 337.5,
    "south-east and south-south-east" ~146, "к северо-востоку" 45, "на південний захід" 225."""
    out = None
    for part in re.split(r"\s*,\s*|\s+and\s+|\s+та\s+|\s+і\s+|\s+и\s+", phrase.strip()):
        comps = [c for c in (_component(w) for w in re.split(r"[- ]+|(?<=о)(?=в)", part) if w) if c is not None]
        if not comps:
            continue
        if len(comps) == 1:
            b = comps[0]
        elif len(comps) == 2:
            b = _cmean(comps[0], comps[1]) if abs(comps[0] - comps[1]) != 180 else comps[0]
        else:
            b = _cmean(comps[0], _cmean(comps[1], comps[2]))
        out = b if out is None else _cmean(out, b)
    return out


@dataclass
class Offset:
    lo_km: float
    hi_km: float
    bearing: float
    start: int
    end: int
    kind: str  # "self" (from the observer), "place" (from a named place that follows), "other"

    @property
    def mid_km(self) -> float:
        return (self.lo_km + self.hi_km) / 2.0


def offsets(text: str) -> list[Offset]:
    """Distance-and-direction phrases of a text, each marked as measured from the observer ("self") or
    from the named place that follows ("place"); locators are not included (see :func:`locators`)."""
    loc_spans = [(m.start(), m.end()) for m in LOCATOR_RX.finditer(text)]
    out: list[Offset] = []
    for m in OFFSET_RX.finditer(text):
        if any(a <= m.start() < b for a, b in loc_spans):
            continue
        b = bearing_of(m.group(4))
        if b is None:
            continue
        f = _unit_km(m.group(3))
        lo = float(m.group(1).replace(",", ".")) * f
        hi = float(m.group(2).replace(",", ".")) * f if m.group(2) else lo
        if re.match(r"(?:more than|over|более|понад)", m.group(0), re.IGNORECASE) and not m.group(2):
            hi = lo * 1.5
        if hi > 150 or hi < lo:
            continue
        rest = text[m.end():m.end() + 80]
        if _OF_SELF.match(rest):
            kind = "self"
        elif _OF_PLACE.match(rest):
            kind = "place"
        elif re.match(r"\s*(?:of|from|від|от)\s", rest, re.IGNORECASE):
            kind = "other"  # "1km south-east of the contact line": from something the text does not place
        else:
            kind = "self"
        out.append(Offset(lo, hi, b, m.start(), m.end(), kind))
    return out


@dataclass
class Locator:
    km: float
    bearing: float
    city: str
    start: int
    end: int


def locators(text: str) -> list[Locator]:
    out = []
    for m in LOCATOR_RX.finditer(text):
        b = bearing_of(m.group(2))
        if b is not None:
            out.append(Locator(float(m.group(1).replace(",", ".")), b, m.group(3), m.start(), m.end()))
    return out


MONITOR_RX = re.compile(r"\bsmm\b|\bсмм\b|monitoring mission|\bmonitors?\b|\bthe mission\b|\bpatrol|"
                        r"спостерігач|наблюдател|\bобсє\b|\bобсе\b|\bosce\b|\bмісі[яї]\b|\bмисси[яи]\b",
                        re.IGNORECASE)
#: Monitors' wording for ceasefire violations by fire (typed ``shelling``).
MONITOR_FIRE_RX = re.compile(
    r"undetermined explosions?|explosions?|impacts?\b|outgoing|incoming|airbursts?|small[- ]arms|"
    r"heavy[- ]machine[- ]gun|machine[- ]gun|bursts?\b|shots?\b|grenade|anti-aircraft|cannon|rounds?\b|"
    r"projectiles?|взрыв\w*|вибух\w*|выстрел\w*|постріл\w*|очеред\w*|черг\w*|снаряд\w*|стрелков\w*|стрілецьк\w*",
    re.IGNORECASE)
