"""Launched / intercepted counts per weapon family from an air-defence summary, as real posts phrase them.

Why a module of its own: the Air Force's own posts are regular, but the press
quotes them in Ukrainian, Russian and English with numbers in words and case
suffixes ("15-ю", "п'ятьма"), "17 з 22", "all 14", "one of four", sub-counts
("more than 70 of them were Shaheds"), the same number repeated in the title and
the body, and unrelated page text (related headlines, governors, casualties).
Adding every number up gave exact counts for about a fifth of the families
(measured on real press quotations, see trucewatch/bench/_real_air.py).

How (rules, auditable; no language model):
1. Page text that is not the summary is dropped: "Нагадаємо / Напомним / Earlier"
   paragraphs, headline-like lines inside the body, list bullets of links, and
   sentences quoting governors, mayors, city administrations or prosecutors, or
   counting a single city ("у Києві", "over his region").
2. Numbers are tokens: digits with an optional case suffix ("54-ма"), or number
   words (uk/ru through pymorphy3 lemmas when installed, else a word table; en
   by table, "fifty-one" included), with an approximate flag for "понад / близько /
   около / more than / about" and "п'ятьма десятками"-style estimates.
3. Each number attaches to the weapon phrase right after it (a few words, no
   other number in between); "N з/из/of/out of (the) M <weapon>" gives intercepted N
   of launched M; "N of them / з них / of which" refers to the last weapon named
   and is a sub-count unless a verb of interception follows or precedes it
   ("змогли знешкодити 84 з них"); "N of the <adjectives> <weapon>" names its own
   weapon; "N missiles and drones" is a total of both families, not missiles; a
   leading "з / из / of the N <weapon>" is the whole the next count is out of; a
   bare object of an interception verb ("Збито 25.", "shot down 80") is the last
   weapon named; "the remaining N", casualties, "a missile attack", regional
   commands' shares and reconnaissance drones are not counts; "all N <weapon>",
   "both <weapon>", "a <weapon>", and "всі / all (of them)" without a number are
   understood.
4. Each count gets a state from the nearest verb: a passive right after it
   ("were shot down", "були збиті", "локаційно втрачені"), else the nearest
   before it in the sentence, else the previous sentence's (list items).
   Negated interception ("не вдалося збити") and hits are not interceptions.
5. Repeated mentions are merged, not added: per family and state, equal values
   of one model collapse, and where they differ the value stated most often wins,
   a tie going to the earliest sentence (the lead quotes the post; a related story
   glued below it is another night), and the disagreement is flagged; a generic count ("57 drones") and model counts
   ("Shahed ..."), the larger wins unless the models are distinct parts; exact
   numbers beat approximate ones; a generic "N missiles" equal to the sum of the
   named missile families is their total, not a family of its own.
Some pages lose the letters і/ї in transit ("балстичн ракети «скандер-М»"): the weapon stems
accept that spelling too.
What cannot be reconciled (intercepted above launched, parts that do not add up
to the stated total) is flagged by the caller, never silently changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

FAMILIES = ("drone", "cruise_missile", "ballistic_missile", "guided_missile", "glide_bomb", "missile", "aircraft")

# ---------------------------------------------------------------- numbers

_EN_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
             "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
             "seventeen": 17, "eighteen": 18, "nineteen": 19}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
            "ninety": 90}
#: Ukrainian and Russian cardinal lemmas (pymorphy3 normal forms) -> value.
_CYR_LEMMAS = {
    "один": 1, "одна": 1, "два": 2, "дві": 2, "две": 2, "три": 3, "чотири": 4, "четыре": 4, "п'ять": 5, "пять": 5,
    "шість": 6, "шесть": 6, "сім": 7, "семь": 7, "вісім": 8, "восемь": 8, "дев'ять": 9, "девять": 9,
    "десять": 10, "одинадцять": 11, "одиннадцать": 11, "дванадцять": 12, "двенадцать": 12, "тринадцять": 13,
    "тринадцать": 13, "чотирнадцять": 14, "четырнадцать": 14, "п'ятнадцять": 15, "пятнадцать": 15,
    "шістнадцять": 16, "шестнадцать": 16, "сімнадцять": 17, "семнадцать": 17, "вісімнадцять": 18,
    "восемнадцать": 18, "дев'ятнадцять": 19, "девятнадцать": 19, "двадцять": 20, "двадцать": 20,
    "тридцять": 30, "тридцать": 30, "сорок": 40, "п'ятдесят": 50, "пятьдесят": 50, "шістдесят": 60,
    "шестьдесят": 60, "сімдесят": 70, "семьдесят": 70, "вісімдесят": 80, "восемьдесят": 80,
    "дев'яносто": 90, "девяносто": 90, "сто": 100, "двісті": 200, "двести": 200, "триста": 300,
    "чотириста": 400, "четыреста": 400, "п'ятсот": 500, "пятьсот": 500, "шістсот": 600, "шестьсот": 600,
    "сімсот": 700, "семьсот": 700, "вісімсот": 800, "восемьсот": 800, "дев'ятсот": 900, "девятьсот": 900,
}
#: Fallback word forms when pymorphy3 is absent (oblique cases of the small numbers that posts use).
_CYR_FORMS = {
    "одну": 1, "одного": 1, "одним": 1, "одной": 1, "двох": 2, "двома": 2, "двух": 2, "двумя": 2, "трьох": 3,
    "трьома": 3, "трех": 3, "трёх": 3, "тремя": 3, "чотирьох": 4, "чотирма": 4, "четырех": 4, "четырёх": 4,
    "п'яти": 5, "п'ятьма": 5, "пяти": 5, "пятью": 5, "шести": 6, "шістьма": 6, "семи": 7, "сімома": 7,
    "восьми": 8, "вісьмох": 8, "вісьма": 8, "дев'яти": 9, "девяти": 9, "десяти": 10, "десятьма": 10,
    "двадцяти": 20, "двадцати": 20, "тридцяти": 30, "тридцати": 30, "сорока": 40, "ста": 100,
}
#: Multipliers that make an estimate ("п'ятьма десятками", "более сотни", "dozens").
_ESTIMATES = {"десят": 10, "сотн": 100, "сотен": 100, "dozen": 12, "hundreds": 100}
_APPROX = re.compile(r"(понад|більше|більш як|близько|майже|до|около|более|больше|почти|свыше|порядка|"
                     r"more than|over|about|around|almost|nearly|up to|some|approximately|at least|"
                     r"щонайменше|не менше)\s*$", re.I)

_WORD = re.compile(r"[A-Za-zА-ЯЁҐЄІЇа-яёґєії'’ʼ]+(?:-[A-Za-zА-ЯЁҐЄІЇа-яёґєії]+)?")


@lru_cache(maxsize=2)
def _morph(lang: str) -> Any:
    try:
        import pymorphy3  # lazy: optional dependency (better uk/ru number words); loads dictionaries once

        return pymorphy3.MorphAnalyzer(lang=lang)
    except Exception:  # missing package or dictionary: fall back to the word table
        return None


@lru_cache(maxsize=4096)
def _cyr_value(word: str) -> int | None:
    w = word.lower().replace("’", "'").replace("ʼ", "'")
    if w in _CYR_LEMMAS:
        return _CYR_LEMMAS[w]
    if w in _CYR_FORMS:
        return _CYR_FORMS[w]
    lang = "uk" if re.search(r"[ієїґ']", w) else "ru"
    for lg in (lang, "ru" if lang == "uk" else "uk"):
        m = _morph(lg)
        if m is None:
            continue
        for p in m.parse(w):
            tag = str(p.tag)
            if "NUMR" in tag or "Anum" in tag or p.normal_form in ("сорок", "один"):
                v = _CYR_LEMMAS.get(p.normal_form.replace("’", "'"))
                if v is not None and p.score > 0.05:
                    return v
    return None


@dataclass
class Num:
    value: int
    start: int
    end: int
    approx: bool = False
    word: bool = False  # written in words


_MONTHS = (r"січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|грудня|"
           r"января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|"
           r"january|february|march|april|may|june|july|august|september|october|november|december")


def numbers(text: str) -> list[Num]:
    """Counted numbers in ``text``: digits (with a case suffix) and number words, without model
    names (Х-101, Su-34), times, dates and years."""
    out: list[Num] = []
    for m in re.finditer(r"\d+(?:[.,]\d+)?", text):
        a, b = m.start(), m.end()
        tok = m.group()
        if not tok.isdigit() or len(tok) > 7:
            continue  # 08.30, 1.5; a run of digits is no count
        before, after = text[a - 1:a] if a else "", text[b:b + 1]
        if before and (before in "-/:." or before.isalpha()):
            if not (before in "-–" and a >= 2 and text[a - 2] == " "):
                continue  # Х-101, 131/136, 18:00, KN23
        if after in (":", "/") or (after == "." and text[b + 1:b + 2].isdigit()):
            continue  # 18:00, 131/136, 08.30
        end = b
        suf = re.match(r"-?(ма|ми|ю|ти|го|х|ох|ої|ий|ох|ьох)\b", text[b:b + 5])
        if suf:
            end = b + suf.end()
        elif after.isalpha() and not re.match(r"[xх]\b", text[b:b + 2], re.I):
            continue  # Su34-like, 3km
        tail = text[end:end + 16].lower().strip()
        head = text[max(0, a - 14):a].lower().strip()
        if re.match(rf"({_MONTHS})\b", tail) or re.search(rf"\b({_MONTHS})$", head):
            continue  # a date
        if re.match(r"(р\.|року|роках|год|year|рік|рр|a\.m|p\.m|am\b|pm\b|мск|msk|gmt|utc)", tail) or (
                len(tok) == 4 and 1990 < int(tok) < 2100):
            continue  # a year or a clock time
        if re.match(r"(-?(та|ша|я|й|ї)\b|-?(th|st|nd|rd)\b|\s*(доб|day|month|місяц|месяц|лет|years?)\b)", text[b:b + 12],
                    re.I):
            continue  # ordinals and durations: "384-та доба", "31 months"
        approx = bool(_APPROX.search(text[max(0, a - 16):a]))
        out.append(Num(int(tok), a, end, approx))
    for m in _WORD.finditer(text):
        w = m.group()
        v = _word_value(w)
        if v is None:
            continue
        a, b = m.start(), m.end()
        # "twenty one", "сто двадцять"
        if out and out[-1].word and out[-1].end >= a - 1 and text[out[-1].end:a].strip() == "" and \
                (out[-1].value % 100 == 0 or (out[-1].value % 10 == 0 and v < 10)) and out[-1].value > v:
            out[-1] = Num(out[-1].value + v, out[-1].start, b, out[-1].approx, True)
            continue
        approx = bool(_APPROX.search(text[max(0, a - 16):a]))
        nxt = re.match(r"\s+(\w+)", text[b:b + 20])
        if nxt:
            for stem, mult in _ESTIMATES.items():
                if nxt.group(1).lower().startswith(stem):
                    v, approx, b = v * mult, True, b + nxt.end()
                    break
        out.append(Num(v, a, b, approx, True))
    # "more than a hundred", "более сотни": a bare estimate word
    for m in re.finditer(r"(?i)\b(сотн\w*|hundreds?|dozens?|десятк\w*)\b", text):
        if any(n.start <= m.start() < n.end for n in out):
            continue
        if re.search(r"(понад|більше|более|свыше|около|more than|over|about|кілька|несколько)\s*$",
                     text[max(0, m.start() - 14):m.start()], re.I):
            base = 100 if m.group(1).lower().startswith(("сот", "hundred")) else 12 if "dozen" in m.group(1).lower() \
                else 10
            out.append(Num(base, m.start(), m.end(), True, True))
    out.sort(key=lambda n: n.start)
    return out


def _word_value(w: str) -> int | None:
    lw = w.lower()
    if re.fullmatch(r"[a-z]+(-[a-z]+)?", lw):
        if lw in _EN_UNITS:
            return _EN_UNITS[lw]
        if lw in _EN_TENS:
            return _EN_TENS[lw]
        if "-" in lw:
            t, u = lw.split("-", 1)
            if t in _EN_TENS and u in _EN_UNITS and _EN_UNITS[u] < 10:
                return _EN_TENS[t] + _EN_UNITS[u]
        return None
    if "-" in lw:
        return None
    return _cyr_value(lw)


# ---------------------------------------------------------------- weapons

@dataclass(frozen=True)
class Weapon:
    family: str  # one of FAMILIES, or "total"
    key: str | None  # the model / sub-type named, so mentions of one model merge and distinct models add
    start: int
    end: int
    shahed: bool = False
    decoys: bool = False
    models: tuple[str, ...] = ()


_MODEL_FAMILY: list[tuple[str, str, str]] = [  # (regex, family, key)
    (r"(?:[хx]|kh)-?101|(?:[хx]|kh)-?555|(?:[хx]|kh)-?55\b", "cruise_missile", "kh-101"),
    (r"калібр|kalibr|калибр", "cruise_missile", "kalibr"),
    (r"(?:[хx]|kh)-?22\b|(?:[хx]|kh)-?32\b", "cruise_missile", "kh-22"),
    (r"і?скандер-к|искандер-к|iskander-k", "cruise_missile", "iskander-k"),
    (r"(?:[хx]|kh)-?59|(?:[хx]|kh)-?69|(?:[хx]|kh)-?31|(?:[хx]|kh)-?35", "guided_missile", "kh-59"),
    (r"кинджал|кінджал|kinzhal", "ballistic_missile", "kinzhal"),
    (r"і?скандер|искандер|iskander|kn-?23|кн-?23|kn-?24", "ballistic_missile", "iskander-m"),
    (r"[сc]-?300|s-?300|[сc]-?400|s-?400", "ballistic_missile", "s-300"),
]
_MODELS_RE = re.compile(r"(?:[ХX]|Kh)-\d+\w*(?:/(?:[ХX]|Kh)?-?\d+\w*)?|Іскандер-[МК]|Искандер-[МК]|Iskander-[MK]|"
                        r"KN-2[34]|Калібр\w*|Калибр\w*|Kalibr|Кинджал\w*|Kinzhal|Shahed(?:-\d+)?(?:/\d+)?|"
                        r"Гербер\w*|Gerbera|С-[34]00|S-[34]00", re.I)
_TOTAL = re.compile(r"засоб\w* (повітряного|воздушного) нападу|засоб\w* ПН\b|(air|aerial) attack (assets|weapons|means)|"
                    r"means of (enemy )?air attack|air attack vehicles|aerial weapons|повітрян\w* (ціл|обʼєкт|об'єкт|об’єкт)\w*|"
                    r"воздушн\w* (цел|объект)\w*|air targets|aerial targets|\bцілей\b|\bціль\b|\btargets\b", re.I)
_FAMILY_WORDS: list[tuple[str, re.Pattern[str]]] = [
    ("cruise_missile", re.compile(r"крилат|крылат|cruise", re.I)),
    ("ballistic_missile", re.compile(r"бал[іi]?стич|баллистич|ballistic|аеробаліст|аэробаллист", re.I)),
    ("guided_missile", re.compile(r"керован\w* (авіаційн\w* )?ракет|управляем\w* (авиационн\w* )?ракет|"
                                  r"guided (air(craft)? )?missile|протирадіолокаційн|противорадиолокац|anti-radar", re.I)),
    ("glide_bomb", re.compile(r"авіабомб|авиабомб|\bкаб(и|ів|ами|ы|ов)?\b|guided (aerial |air )?bombs?|glide bombs?|"
                              r"\bkabs?\b|aerial bombs?", re.I)),
    ("drone", re.compile(r"shahed|шахед|шахід|герань|герани|geran|gerbera|гербер|бпла|бпЛА|дрон|безп[іi]?лот|беспилот|"
                         r"\buavs?\b|drones?\b|kamikaze|камікадзе|і?м[іi]?татор|имитатор|decoy|lancet|ланцет|"
                         r"unmanned aerial vehicles?", re.I)),
    ("aircraft", re.compile(r"\bлітак\w*|\bсамол[её]т\w*|\bsu-\d|\bсу-\d", re.I)),
    ("missile", re.compile(r"ракет|missiles?\b", re.I)),
]
_DRONE_MORE = re.compile(
    r"(\s*(,|та|і|й|и|and|or|а також)?\s*((ворож\w*|ударн\w*|other|різних|інших|других|разных|of)\s+)*"
    r"(дрон\w*(-і?м[іi]?татор\w*)?|безп[іi]?лот\w*(-і?м[іi]?татор\w*)?|беспилот\w*|БпЛА(-і?м[іi]?татор\w*)?|БПЛА|UAVs?|drones?|"
    r"Гербер\w*|Gerbera|і?м[іi]?татор\w*|имитатор\w*|decoy\w*|other types?)(?=[\s,.;)]|$))?"
    r"(\s*(of\s+(an?\s+|the\s+)?)?(unidentified|unknown|other|various|different|інших|різних|невідомих|других|разных)"
    r"\s+(тип\w*|types?|моделей|models?))?", re.I)
_RECON = re.compile(r"розвідувальн|разведывательн|reconnaissance|\bорлан|\borlan|мерлін|merlin|supercam|\bzala\b", re.I)
_PLATFORM = re.compile(r"\b(Tu-\d|Ту-?\d|МіГ|MiG|Су-\d|Su-\d|bombers?|бомбардувальник\w*|бомбардировщик\w*|"
                       r"ракетонос\w*|missile-carrying|carriers?|носі\w+|носител\w*|кораб\w*|ships?|boats?|"
                       r"aircraft|літак\w*|самол[её]т\w*|vessels?|submarines?|підводн\w*)", re.I)
_SHAHED = re.compile(r"shahed|шахед|шахід|герань|герани|geran|ударн\w* (бпла|дрон|безп[іi]?лот|беспилот)|"
                     r"(attack|strike|kamikaze) (uav|drone)|камікадзе|камикадзе", re.I)
_DECOY = re.compile(r"і?м[іi]?татор|имитатор|decoy|gerbera|гербер|цели-ловушк|ловушк", re.I)
_OTHER_TYPES = re.compile(r"інших типів|других типов|other types?|різних типів|разных типов|unidentified|невідом|"
                          r"неустановлен|other drones|інших дронів", re.I)
#: Words that end a weapon phrase: where the count's phrase stops.
_PHRASE_STOP = re.compile(r"[.;!?\n(]|,\s|\s[–—-]\s|\s(з|із|зі|из|від|от|from|of|out|in|у|в|над|over|on|at|з яких|which|"
                          r"які|которые|that|were|was|були|було|был|были|and|та|і|й|и|а)\s", re.I)

#: "... and drones" right after a missile phrase (or "... and missiles" after a drone phrase), no number between.
_AND_FAMILY = re.compile(r"\s*(and|or|та|і|й|и|або|или)\s+((attack|strike|enemy|russian|ударн\w*|ворож\w*|російськ\w*|"
                         r"российск\w*)\s+)?(?P<noun>drones|uavs|дрон(ів|ов|и|ы|ами)|бпла|безп[іi]?лотник(ів|и|ами)|"
                         r"беспилотник(ов|и|ами)|missiles|ракет(и|ы|ами)?)\b", re.I)  # plurals: "and a missile" is a count


def weapon_at(text: str, pos: int, limit: int = 70) -> Weapon | None:
    """The weapon phrase starting at ``pos`` (after a number), if the next few words name one.

    The phrase is the words up to a stop word; a model name right after it ("типу Shahed",
    "Х-101", "«Іскандер-М»") belongs to it.  Adjectives before the noun are allowed
    ("ворожих ударних БпЛА"), but not other nouns ("напрямків", "locations")."""
    seg = text[pos:pos + limit]
    lead = re.match(r"[\s«»\"'“”„-]*", seg)
    s0 = lead.end() if lead else 0
    if re.match(r"(з|із|зі|из|of|out|from|від|от|which|які|которые|and|та|і|й|и|а|or|або|или)\b", seg[s0:], re.I):
        return None  # "17 з 22 дронів": the weapon belongs to the other number
    digit = re.search(r"(?<![\w/-])\d", seg[s0:])
    if digit is not None:
        seg = seg[:s0 + digit.start()]
    # the first 4 words, or up to a stop
    words = list(re.finditer(r"[^\s,.;:!?()]+", seg[s0:]))[:6]
    if not words:
        return None
    end = s0 + words[-1].end()
    stop = _PHRASE_STOP.search(seg, s0)
    if stop is not None and stop.start() < end:
        end = stop.start()
    for rx in (_HIT, _LOST, _INTERCEPT, _LAUNCH):
        verb = next((v for v in rx.finditer(seg, s0, end) if v.start() > 0 and seg[v.start() - 1].isspace()), None)
        if verb is not None:
            end = verb.start()  # "48 дронів-і?м[іi]?таторів локаційно втрачено": the verb is not part of the weapon
    # extend over a type/model qualifier: "типу Shahed-131/136", "typu", "Х-101/Х-555", "«Кинджал»"
    ext = re.match(r"(\s*(типу|типа|type|types|of the|[«\"“]?)\s*[«\"“]?(Shahed|Шахед|Герань|Gerbera|Гербер\w*|Kh-\d+|Х-\d+|"
                   r"X-\d+|І?скандер-\w|Искандер-\w|Iskander-\w|Калібр\w*|Kalibr|Кинджал\w*|Kinzhal|KN-23|C-300|С-300|"
                   r"S-300)[\w/-]*[»\"”]?)+", seg[end:], re.I)
    if ext:
        end += ext.end()
    while True:
        more = _DRONE_MORE.match(seg[end:])
        if more is None or not more.group().strip() or not _FAMILY_WORDS[4][1].search(seg[s0:end]):
            break
        end += more.end()
    phrase = seg[s0:end]
    if not phrase.strip():
        return None
    if _PLATFORM.search(phrase):
        return None
    if _RECON.search(phrase):
        return None  # reconnaissance drones (Orlan, Merlin) are no part of the strike tally the summary gives  # "ten Tu-95MS missile-carrying aircraft", "two small missile boats": launchers, not weapons
    # head words must name a weapon within the first 4 words (adjectives allowed before)
    first = " ".join(w.group() for w in words[:4])
    if _TOTAL.search(phrase) and _TOTAL.search(first):
        return Weapon("total", None, pos + s0, pos + end)
    fam = key = None
    low = phrase.lower()
    for pat, f, k in _MODEL_FAMILY:
        if re.search(pat, low):
            fam, key = f, k
            break
    word_fam = next((f for f, rx in _FAMILY_WORDS if rx.search(phrase)), None)
    if word_fam is None and fam is None:
        return None
    if word_fam is not None and not re.search(_FAMILY_WORDS[[f for f, _ in _FAMILY_WORDS].index(word_fam)][1].pattern,
                                              first, re.I) and fam is None:
        return None
    if fam is None or (word_fam == "drone" and fam != "drone" and not re.search(r"ракет|missile", low)):
        fam = word_fam
    assert fam is not None  # fam is None only when word_fam is set (both None returned above)
    both = _AND_FAMILY.match(seg[end:])
    if both is not None and (fam == "drone") != bool(re.match(r"(?i)[dдбu]", both.group("noun"))):
        # "25 missiles and drones", "60 ракет і дронів": one count for two families is their total
        return Weapon("total", None, pos + s0, pos + end + both.end())
    models = tuple(m.group() for m in _MODELS_RE.finditer(phrase))
    shahed = bool(_SHAHED.search(phrase))
    decoys = bool(_DECOY.search(phrase))
    if fam == "drone":
        other = bool(_OTHER_TYPES.search(phrase))
        if shahed and not (decoys or other):
            key = "shahed"
        elif decoys and not shahed:
            key = "decoy"
        elif other and not shahed:
            key = "other"
        else:
            key = None
    return Weapon(fam, key, pos + s0, pos + end, shahed, decoys, models)


# ---------------------------------------------------------------- states

_HIT = re.compile(r"влучан|влучил|влучання|падіння|уламк|попадан|попал\w*|\bhits?\b|\bimpacts?\b|debris|\bstruck\b|"
                  r"strikes? (from|by)|did not reach|не досягл|не долетів|не долетев|hit their targets|"
                  r"не вдалося|не удалось|не вдалось|not destroyed|failed to|were not|не були", re.I)
_LOST = re.compile(r"втрачен|потерян|\blost\b|сбит\w* с курса|missing from|locationally|локац[іi]?йно|локационно|"
                   r"\bзник\w*|\bисчез\w*|disappeared|vanished|"
                   r"returned|повернув|вернулся|went to belarus|crossing the border", re.I)
_INTERCEPT = re.compile(r"збит|збил|збиття|збити|подавл|знешкод|знищ|перехоп|ліквідув|ліквідов|уничтож|сбит|сбил|"
                        r"подавлен|нейтрализ|избиени|shot down|shoot down|\bdown(ed|s)?\b|neutrali[sz]|destroy|"
                        r"intercept|suppress|jammed|\bdowning\b", re.I)
_LAUNCH = re.compile(r"атакува|атакував|атакували|атака|атаку\b|запусти|запуск|випусти|застосува|завда|пуск|"
                     r"атаковал|запустил|выпустил|применил|нанесла удар|нанес удар|"
                     r"\blaunch(ed|es|ing)?\b|\battack(ed|s)? (ukraine )?with\b|\battacked\b|\bfired\b|\bused\b|"
                     r"\bdeployed\b|\brecorded\b|зафіксовано|зафиксирован", re.I)
_PASSIVE = re.compile(r"^[\s,–-]*(?:(?:which|that|які|которые|of which|з них|из них)\s+)?(?:(?:it|they)\s+)?"
                      r"(?:were|was|have been|had been|are|is|було|були|був|була|є|были|было|был|была|"
                      r"удалося|вдалося|удалось|it was able to|вдалось)?\s*(?:successfully\s+)?"
                      r"(?:(?:не|not)\s+\w*\s*)?\w+(?:\s+(?:down|off|out))?", re.I)


@lru_cache(maxsize=8192)
def _state_of(s: str) -> str | None:
    if _HIT.search(s):
        return "hit"
    if _LOST.search(s):
        return "lost"
    if _INTERCEPT.search(s):
        return "intercept"
    if _LAUNCH.search(s):
        return "launch"
    return None


@lru_cache(maxsize=8192)
def _first_state(s: str) -> str | None:
    """State of the first keyword in ``s`` (text after a number, when none comes before it)."""
    # "drones launched by invaders shot down": an attributive participle is not the verb
    s = re.sub(r"(?i)(?<!were )(?<!was )(?<!been )(?<!are )\b(launched|fired|released|used)\s+by\b|\b(запущен|выпущенн|випущен)\w*", " ", s)
    best: tuple[int, str] | None = None
    for name, rx in (("hit", _HIT), ("lost", _LOST), ("intercept", _INTERCEPT), ("launch", _LAUNCH)):
        m = rx.search(s)
        if m is not None and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None


def _last_weapon_word(s: str) -> Weapon | None:
    """The last weapon word in ``s``: what "of which" and "з яких" refer to."""
    best: tuple[int, str] | None = None
    for fam, rx in _FAMILY_WORDS:
        for m in rx.finditer(s):
            if best is None or m.start() > best[0]:
                best = (m.start(), fam)
    if best is None:
        return None
    return Weapon(best[1], None, best[0], best[0])


@lru_cache(maxsize=8192)
def _nearest_state(s: str) -> str | None:
    """State of the keyword nearest to the end of ``s`` (text before a number)."""
    best: tuple[int, str] | None = None
    for name, rx in (("hit", _HIT), ("lost", _LOST), ("intercept", _INTERCEPT), ("launch", _LAUNCH)):
        for m in rx.finditer(s):
            if best is None or m.end() > best[0] or (m.end() == best[0] and name in ("hit", "lost")):
                best = (m.end(), name)
    return best[1] if best else None


# ---------------------------------------------------------------- unrelated text

_RELATED = re.compile(r"^\W*(нагада\w*|напомн\w*|раніше|ранее|earlier|as reported|as previously|"
                      r"як повідомля\w*|как сообща\w*|как ранее|read (also|more)|читайте|"
                      r"дивіться також|see also|related|also read|контекст|context)\b", re.I)
_OTHER_SPEAKER = re.compile(r"губернатор|governor|mayor|\bмер\b|мэр|кличко|klitschko|військов\w* адміністрац|"
                            r"военн\w* администрац|military administration|\bОВА\b|\bКМВА\b|\bКВА\b|прокурор|prosecutor|"
                            r"генштаб|general staff|"
                            # a regional command's share of the night (its own, smaller count)
                            r"(повітрян\w*|оперативн\w*|воздушн\w*) командуван\w*|(воздушн\w*|оперативн\w*) командован\w*|"
                            r"air command\b|operational command|сил\w* оборони півдня|сил\w* обороны юга|"
                            r"southern defen[cs]e forces", re.I)
#: One city or region's share of the night ("У Києві було збито ... 11 дронів"): a part, not the summary,
#: when it is named before the count.
_LOCAL = re.compile(r"\b(у|в)\s+Києві\b|\bв\s+Киеве\b|\bнад\s+(Києвом|Киевом)\b|\b(in|over)\s+Kyiv\b|"
                    r"\bin the capital\b|\bу столиці\b|\bв столице\b|over (his|her|their|the city|the region)\b|"
                    r"над (його|її|містом|городом|областю)\b", re.I)


_MONTH_NO = {m: i % 12 + 1 for i, m in enumerate(_MONTHS.split("|"))}


def _dates(s: str) -> set[tuple[int, int]]:
    """(month, day) pairs named in ``s``: "26 вересня", "в ночь на 13 сентября", "September 26"."""
    out = set()
    for m in re.finditer(rf"(?i)\b(\d{{1,2}})(?:-?го)?\s+({_MONTHS})\b|\b({_MONTHS})\s+(\d{{1,2}})\b", s):
        day, mon = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        out.add((_MONTH_NO[mon.lower()], int(day)))
    return out


def summary_sentences(text: str) -> list[str]:
    """The sentences that can belong to the summary, in order (unrelated page text dropped)."""
    lines = [ln.strip() for ln in text.split("\n")]
    keep: list[str] = []
    first = True
    own = _dates(" ".join(ln for ln in lines if not _RELATED.match(ln)))
    for ln in lines:
        if not ln:
            continue
        if _RELATED.match(ln):
            named = _dates(ln)
            if not (named and named <= own):
                continue  # "Нагадаємо, ..." paragraphs report other nights
            ln = re.sub(r"^[^,]{0,40},\s*", "", ln)  # "Як повідомляв УНІАН, упродовж ночі 26 вересня ...": the same night
        if re.match(r"^[-•]\s", ln) and not re.search(r"\d", ln.split(" ", 2)[1] if " " in ln else ""):
            # a bullet list of links ("- Війська Росії ..."); the summary's own list items start with a count
            if not re.match(r"^[-•–]\s*\d", ln):
                continue
        headline = not re.search(r"[.!?:;»\"”)]\s*$", ln) and len(ln) < 140 and not re.match(r"^[-–•\d]", ln) \
            and not (keep and keep[-1].rstrip().endswith(":"))
        if headline and not first:
            continue  # a related headline in the page body
        first = False
        keep.append(ln)
    sents: list[str] = []
    for ln in keep:
        for s in re.split(r"(?<=[.!?])\s+(?=[A-ZА-ЯЁҐЄІЇ«\"“\d])", ln):
            s = s.strip()
            if not s or _RELATED.match(s) or _OTHER_SPEAKER.search(s):
                continue
            loc = _LOCAL.search(s)
            first_num = re.search(r"\d", s)
            if loc is not None and (first_num is None or loc.start() < first_num.start()):
                continue
            sents.append(s)
    return sents


# ---------------------------------------------------------------- counting

@dataclass
class Mention:
    family: str
    key: str | None
    state: str  # launch, intercept, lost
    value: int
    approx: bool = False
    weak: bool = False  # implied ("all 14" implies 14 launched)
    shahed: bool = False
    decoys: bool = False
    models: tuple[str, ...] = ()
    sentence: int = 0
    pos: int = 0  # offset in the sentence (for launch areas)


@dataclass
class Counts:
    """Per family: launched, intercepted, lost (None: not stated), and what was named."""
    launched: dict[str, int | None] = field(default_factory=dict)
    intercepted: dict[str, int | None] = field(default_factory=dict)
    lost: dict[str, int | None] = field(default_factory=dict)
    shahed: dict[str, bool] = field(default_factory=dict)
    decoys: dict[str, bool] = field(default_factory=dict)
    models: dict[str, list[str]] = field(default_factory=dict)
    total_launched: int | None = None
    total_intercepted: int | None = None
    mentions: list[Mention] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)
    #: (family, state, values seen, value kept) where exact mentions of one model disagree
    conflicts: list[tuple[str, str, list[int], int]] = field(default_factory=list)


#: Head nouns that make a weapon word an attribute ("missile attack", "drone strike", "missile boats").
_NOT_WEAPON_HEAD = re.compile(r"\b(attacks?|strikes?|barrage|alerts?|threats?|danger|defen[cs]e|systems?|units?|troops|"
                              r"launchers?|carriers?|boats?|salvos?|fragments?|debris|wreckage)\s*$", re.I)
#: A clause that opens with "of the / з / из" before its first number: that number is the whole.
_OF_LEAD = re.compile(r"(^|[.;:]\s*|,\s*)(всього\s+|всего\s+)?(з|із|зі|из|of the|out of the|out of)\s*$", re.I)
#: "the remaining 10 drones", "оставшиеся 10", "решта 5": the complement of what was stated.
_REMAINING = re.compile(r"\b(the )?(remaining|rest of the|other)\s*$|\b(оставш\w*|остальн\w*|решта|решту|інші)\s*$", re.I)
#: How far (characters) a count looks for its verb or its antecedent.
_WINDOW = 240
_OF_THEM = re.compile(r"^\s*(з них|із них|из них|of them|of which|з яких|из которых|of these|з цих|из этих|"
                      r"of the|з цих \w+|из этих \w+)\b", re.I)
_OF_NUM = re.compile(r"\s*(з|із|зі|из|of|out of)(\s+the)?\s*$", re.I)
_ALL = re.compile(r"(?:\b(all|усі|всі|все|всех|всіх|усіх)\s*$)", re.I)


def count(text: str) -> Counts:
    """Counts per weapon family from one summary's text (already cleaned of odd spaces)."""
    sents = summary_sentences(text)
    mentions: list[Mention] = []
    totals: dict[str, list[tuple[int, bool]]] = {}
    unassigned: list[str] = []
    state = "launch"
    last_weapon: Weapon | None = None
    for si, s in enumerate(sents):
        sent_state = _state_of(s)
        nums = numbers(s)
        used: set[int] = set()
        for k, n in enumerate(nums):
            if k in used:
                continue
            nxt = nums[k + 1] if k + 1 < len(nums) else None
            w = weapon_at(s, n.end)
            if _REMAINING.search(s[max(0, n.start - 24):n.start]):
                continue  # "the remaining 10 drones", "оставшиеся 10": the complement, not a count of its own
            approx, weak = n.approx, False
            pair_launched: int | None = None
            # "17 з 22 ударних дронів", "one of four missiles", "81 дрон з 112"
            if nxt is not None and _OF_NUM.search(s[(w.end if w else n.end):nxt.start]) and \
                    len(s[n.end:nxt.start]) < 60:
                w2 = weapon_at(s, nxt.end)
                tail = s[nxt.end:nxt.end + 12]
                if w2 is not None or re.match(r"\s*([,.;)]|$|які|which|запущен|launched|fired|used)", tail):
                    w = w2 if w2 is not None and w2.family != "total" else w
                    pair_launched = nxt.value
                    used.add(k + 1)
            # a window, not the whole sentence: the nearest verb is near, and hostile text stays linear
            before = s[max(0, n.start - _WINDOW):n.start]
            after_w = s[(w.end if w else n.end):(w.end if w else n.end) + _WINDOW]
            # state: a passive verb right after, else the nearest verb before, else the sentence's/previous
            pas = _PASSIVE.match(after_w)
            st = None
            if pas is not None and not re.match(r"\s*\w+\s+by\b|\s*(запущен|выпущенн|випущен|застосован)",
                                                after_w, re.I):
                st = _state_of(pas.group())
            if st == "launch" and re.match(r"\s*,\s*(launched|fired|запущен\w*|выпущенн\w*|випущен\w*)\b", after_w, re.I):
                # "Thirteen Shahed drones, launched from Crimea, were shot down": the finite verb after the
                # participle's clause says what happened to them
                fin = re.search(r"\b(were|was|have been|had been|були|було|була|був|были|было|была|был)\s+"
                                r"(?:(?:also|then|successfully|також|тоже|также)\s+)?(\w+(?:\s+(?:down|off))?)",
                                after_w.split(".")[0], re.I)
                fin_st = _state_of(fin.group(2)) if fin is not None else None
                if fin_st in ("intercept", "lost", "hit"):
                    st = fin_st
            if st == "launch" and not re.match(r"[\s,–-]*(which|that|які|которые|were|was|have|had|are|is|були|було|"
                                               r"був|была|был|были|было)\b", after_w, re.I) \
                    and _nearest_state(before[-80:]) in ("intercept", "lost"):
                st = None  # "shot down all 14 drones fired overnight": the participle describes the drones
            if st is None or (st == "launch" and _nearest_state(before[-24:]) == "hit"):
                # "Hits by 17 attack UAVs were recorded": the hit names the count, "recorded" does not
                st = _nearest_state(before)
            if pair_launched is not None and st in (None, "launch"):
                st = "intercept"
            if w is not None and pair_launched is None and _OF_LEAD.search(before):
                st = "launch"  # "З 60 запущених дронів збито 50": the whole the next count is out of
            if st is None:
                st = _first_state(after_w) or state
            # "N of them / з них": a part of the weapon named before
            om = _OF_THEM.match(s[n.end:]) if w is None else None
            if w is None and om is not None:
                rest = s[n.end + om.end():]
                # "18 of the drones": the partitive names its own weapon; "з них": the one named before
                part = re.search(r"(of the|з цих|из этих)(\s+|$)", om.group(), re.I)
                if part:
                    # "15 of the Russia-launched Shahed drones were shot down": the weapon follows
                    ref = weapon_at(s, n.end + part.end(), 80)
                    if ref is None:
                        continue  # "5 of the regions": no weapon, no count
                    rest = s[ref.end:]
                else:
                    ref = _last_weapon_word(before) or last_weapon
                if ref is None or ref.family == "total":
                    continue
                w_after = weapon_at(rest, 0) if rest else None
                pm = _PASSIVE.match(rest)
                pst = _state_of(pm.group()) if pm is not None else None
                if w_after is not None or re.match(r"\s*[–—-]?\s*(were|was|були|було|є|были|это|це)?\s*"
                                                   r"[«\"]?(shahed|шахед|ударн|strike|attack)", rest, re.I):
                    continue  # "більше 70 з них – шахеди": a sub-type, not a count of its own
                verb_before = _nearest_state(before[-50:])
                st2 = pst or (verb_before if verb_before in ("intercept", "lost") else None) or \
                    _nearest_state(rest[:40]) or verb_before
                if st2 not in ("intercept", "lost", "hit"):
                    continue
                w = ref
                st = st2
            if w is None and re.search(r"(of which|з яких|из которых|з них|из них|of them)\b[^.;]{0,30}$", before, re.I):
                ref = _last_weapon_word(before)
                if ref is not None and ref.family != "total":
                    w = ref
                    st = _first_state(after_w[:40]) or _nearest_state(before[-40:]) or st
            if w is None:
                # a bare number: "80 were shot down", "58 of which it was able to shoot down"
                if re.match(r"\s*(of which|з яких|из которых|which)\b", s[n.end:], re.I) and last_weapon:
                    rest = s[n.end:]
                    st = _nearest_state(rest[:60]) or st
                    w = last_weapon
                elif st in ("intercept", "lost") and re.match(r"\s*(were|was|були|було|был|были|had been|have been)\b",
                                                              s[n.end:], re.I):
                    # "80 were shot down" names the last weapon; "three were wounded" is no count of it
                    bare = _PASSIVE.match(s[n.end:])
                    bare_st = _state_of(bare.group()) if bare is not None else None
                    if bare_st in ("intercept", "lost"):
                        w, st = last_weapon, bare_st
                elif last_weapon is not None and _nearest_state(before[-30:]) in ("intercept", "lost") and \
                        re.match(r"\s*([.,;!]|$|(and|та|і|й|и|а)\b)", s[n.end:], re.I):
                    # "Air defences shot down 80.", "Збито 25, ще 8 ...": the verb's bare object is the last weapon
                    w, st = last_weapon, _nearest_state(before[-30:]) or st
                if w is None:
                    if st in ("intercept", "lost") and not n.word:
                        unassigned.append(f"{st} count {n.value} names no weapon")
                    continue
            if w.family == "total":
                if st in ("launch", "intercept"):
                    totals.setdefault(st, []).append((n.value, approx))
                continue
            if st == "hit":
                last_weapon = w
                continue
            if _ALL.search(before[-12:]) and st == "intercept":
                weak = True
            mentions.append(Mention(w.family, w.key, st, n.value, approx, False, w.shahed, w.decoys, w.models, si,
                                    n.start))
            if weak and pair_launched is None:
                mentions.append(Mention(w.family, w.key, "launch", n.value, approx, True, w.shahed, w.decoys, w.models,
                                        si, n.start))
            if pair_launched is not None:
                mentions.append(Mention(w.family, w.key, "launch", pair_launched, False, False, w.shahed, w.decoys,
                                        w.models, si, n.start))
            last_weapon = w
        # numbers in words the digits missed: "a cruise missile", "both missiles", "all (of them)"
        for m in re.finditer(r"(?i)\b(a|an|both|the)\s+(?=\w)", s):
            if any(n.start <= m.start() < n.end for n in nums):
                continue
            w = weapon_at(s, m.end(), 40)
            if w is None or w.family == "total":
                continue
            word = m.group(1).lower()
            head = s[m.end():w.end]
            if _NOT_WEAPON_HEAD.search(head):
                continue  # "a massive missile attack", "a drone strike": the noun is the attack, not a weapon
            plural = re.search(r"(missiles|drones|uavs|bombs)\b", head, re.I)
            if word in ("a", "an", "the") and plural:
                continue
            st = _nearest_state(s[max(0, m.start() - _WINDOW):m.start()]) or sent_state or state
            if st not in ("launch", "intercept"):
                continue
            if word == "the":
                # "destroyed the missile": the one launched
                if st != "intercept":
                    continue
                same = [x for x in mentions if x.family == w.family and x.state == "launch" and not x.weak]
                if not same and w.family == "missile":  # "the missile" after "a cruise missile"
                    same = [x for x in mentions if x.family.endswith("missile") and x.state == "launch" and not x.weak]
                if not same or len({x.family for x in same}) != 1 or max(x.value for x in same) != 1:
                    continue
                mentions.append(Mention(same[0].family, same[0].key, st, 1, sentence=si, pos=m.start()))
                continue
            val = 2 if word == "both" else 1
            if word == "both":
                same = [x for x in mentions if x.family == w.family and x.state == "launch"]
                if not same and w.family == "missile":
                    same = [x for x in mentions if x.family.endswith("missile") and x.state == "launch"]
                if same and max(x.value for x in same) != 2:
                    continue
                mentions.append(Mention(same[0].family if same else w.family, same[0].key if same else w.key, st, val,
                                        sentence=si, pos=m.start()))
                continue
            mentions.append(Mention(w.family, w.key, st, val, False, False, w.shahed, w.decoys, w.models, si, m.start()))
        # one missile in Ukrainian/Russian: "крилату ракету типу Х-22", "ракету «Х-22»"
        for m in re.finditer(r"(?i)\b(?:(крилату|крылатую|балістичну|баллистическую|керовану|управляемую|крилатою|"
                             r"крылатой|балістичною|баллистической|керованою|управляемой)\s+(ракету|ракетою|ракетой)\b|"
                             r"(ракету|ракетою|ракетой)\s+(?:типу\s+|типа\s+)?[«\"“]?"
                             r"(?=[ХXK]h?-\d|Іскандер|Искандер|Калібр|Калибр|Кинджал))", s):
            if any(n.start <= m.start() < n.end + 3 for n in nums):
                continue
            st = _nearest_state(s[max(0, m.start() - _WINDOW):m.start()]) or sent_state or state
            w = weapon_at(s, m.start(), 50)
            if w is None or w.family == "total" or st not in ("launch", "intercept"):
                continue
            mentions.append(Mention(w.family, w.key, st, 1, False, False, w.shahed, w.decoys, w.models, si, m.start()))
        # "Усі вони були знищені", "Ракети були збиті усі", "all of them were shot down": intercepted = launched
        for m in re.finditer(r"(?i)\b(усі|всі|все|all|обидві|обидва|обе|оба|both)\b", s):
            if any(abs(n.start - m.end()) < 3 for n in nums):
                continue
            if sent_state != "intercept" and not _INTERCEPT.search(s[m.start():m.start() + 60]):
                continue
            w = weapon_at(s, m.end(), 40)
            if w is None:
                prev = s[max(0, m.start() - _WINDOW):m.start()]
                wm = None
                for wfam, rx in _FAMILY_WORDS:
                    hit = list(rx.finditer(prev[-40:]))
                    if hit:
                        wm = wfam
                        break
                fam = wm or (last_weapon.family if last_weapon is not None and
                             re.search(r"(вони|they|them|of them)", s[m.end():m.end() + 12], re.I) else None)
                if fam is None:
                    continue
            else:
                fam = w.family
            if fam == "total":
                continue
            launched = [x for x in mentions if x.family == fam and x.state == "launch" and not x.weak]
            if fam == "missile" and not launched:
                launched = [x for x in mentions if x.family.endswith("missile") and x.state == "launch"]
            if launched:
                v = _merge(launched)
                if v is not None:
                    mentions.append(Mention(launched[0].family, None, "intercept", v, sentence=si, pos=m.start()))
        state = sent_state or state
    return _combine(mentions, totals, unassigned)


def _merge(ms: list[Mention]) -> int | None:
    """One value from several mentions of one family and state (see module doc, step 5)."""
    if not ms:
        return None
    strong = [m for m in ms if not m.weak] or ms
    exact = [m for m in strong if not m.approx] or strong
    # one model stated with different values: the value stated most often wins (a title's typo is outvoted by
    # the body), a tie goes to the earliest sentence (the lead quotes the post; later paragraphs are related
    # stories, regional shares or other nights), and the larger within one sentence
    votes: dict[str | None, dict[int, list[int]]] = {}
    for m in exact:
        v = votes.setdefault(m.key, {}).setdefault(m.value, [0, m.sentence])
        v[0] += 1
        v[1] = min(v[1], m.sentence)
    by_key: dict[str | None, int] = {k: max(vs, key=lambda val: (vs[val][0], -vs[val][1], val))
                                     for k, vs in votes.items()}
    generic = by_key.pop(None, None)
    parts = sum(by_key.values()) if by_key else None
    if len(by_key) == 1:
        parts = next(iter(by_key.values()))
    if generic is None:
        return parts
    if parts is None:
        return generic
    return max(generic, parts)


def _disagree(ms: list[Mention]) -> list[int]:
    """Distinct exact values that mentions of one model give for one family and state ([] if they agree)."""
    by_key: dict[str | None, set[int]] = {}
    for m in ms:
        if not m.weak and not m.approx:
            by_key.setdefault(m.key, set()).add(m.value)
    vals = sorted({v for vs in by_key.values() if len(vs) > 1 for v in vs})
    return vals


def _combine(mentions: list[Mention], totals: dict[str, list[tuple[int, bool]]], unassigned: list[str]) -> Counts:
    c = Counts(mentions=mentions, unassigned=unassigned)
    # bare "missiles" when exactly one missile family was launched
    fams_launched = {m.family for m in mentions if m.state == "launch" and m.family.endswith("missile")
                     and m.family != "missile"}
    only = next(iter(fams_launched)) if len(fams_launched) == 1 else None
    only_launched = {m.value for m in mentions if m.family == only and m.state == "launch"}
    for m in mentions:
        # "three missiles" in a title, "three cruise missiles" in the body: one family, told twice
        if m.family == "missile" and only is not None and (m.state != "launch" or m.value in only_launched):
            m.family = only
    for state in ("launch", "intercept"):
        specific = [_merge([m for m in mentions if m.family == f and m.state == state]) for f in fams_launched]
        generic = [m for m in mentions if m.family == "missile" and m.state == state and not m.approx]
        if len(fams_launched) > 1 and generic and None not in specific and \
                all(m.value == sum(v or 0 for v in specific) for m in generic):
            # "9 ракетами: 6 Х-101 та 3 Іскандер-М": the 9 is the missiles' total, not a family of its own
            mentions = [m for m in mentions if m not in generic]
            c.mentions = mentions
    for fam in dict.fromkeys(m.family for m in mentions):
        fm = [m for m in mentions if m.family == fam]
        for state, attr in (("launch", "launched"), ("intercept", "intercepted"), ("lost", "lost")):
            ms = [m for m in fm if m.state == state]
            v = _merge(ms)
            getattr(c, attr)[fam] = v
            bad = _disagree(ms)
            if bad and v is not None:
                c.conflicts.append((fam, attr, bad, v))  # kept the largest; the caller flags it
        c.shahed[fam] = any(m.shahed for m in fm)
        c.decoys[fam] = any(m.decoys for m in fm)
        seen: list[str] = []
        for m in fm:
            for md in m.models:
                if md not in seen:
                    seen.append(md)
        c.models[fam] = seen
    for key, attr in (("launch", "total_launched"), ("intercept", "total_intercepted")):
        vals = totals.get(key) or []
        exact = [v for v, a in vals if not a] or [v for v, _a in vals]
        if exact:
            setattr(c, attr, max(exact))
    return c
