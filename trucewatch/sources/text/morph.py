"""Ukrainian and Russian morphology for place names (pymorphy3 with its uk and ru dictionaries).

Case endings defeat suffix stripping on exactly the names that matter most: the locative of
Mykolaiv ("Миколаєві") reads like a Mykolaivka, the genitive of Lutsk ("Луцька") like a Luka.  The
analyzers give the dictionary form ("Миколаїв", "Луцьк", "Орёл" for "Орле"), which is then looked up
like any other spelling.  Hromada, raion and facility adjectives ("Шосткинської громади", "Сумскую
общину", "Киришський НПЗ") give the name of their centre by dropping the adjective suffix.

The analyzers are built once, on first use (about 1.5 s and 100 MB for both languages); when pymorphy3
or its dictionaries are missing, :func:`lemmas` returns nothing and the suffix rules of
:mod:`translit` carry on alone.
"""

from __future__ import annotations

import re
from functools import lru_cache

_ANALYZERS: dict[str, object] = {}
_MISSING: set[str] = set()

#: Grammemes of parses that may name a place (nouns, including proper and geographic names).
_NOUNISH = {"NOUN"}
_PERSONAL = frozenset({"Surn", "Name", "Patr"})
_ADJ_SUFFIXES = (
    # longest first: (suffix of the adjective lemma, what the place name may end with instead)
    ("інський", ("а", "и", "ине", "е", "")), ("инський", ("а", "и", "ине", "е", "")),
    ("инский", ("а", "и", "ино", "е", "")), ("анський", ("а",)),
    ("анский", ("а",)), ("івський", ("ів", "івка")), ("овский", ("ов", "овка")), ("ський", ("", "а", "и", "е")),
    ("ский", ("", "а", "ы", "и", "е")),
)
_CYR = re.compile(r"[\u0400-\u04FF]")


def analyzer(lang: str):
    """The pymorphy3 analyzer for ``uk`` or ``ru``, or None when the package or dictionary is missing."""
    if lang in _ANALYZERS:
        return _ANALYZERS[lang]
    if lang in _MISSING:
        return None
    try:
        # lazy: pymorphy3 loads its dictionaries (about 100 MB) only when text is lemmatized
        import pymorphy3

        a = pymorphy3.MorphAnalyzer(lang=lang)
    except Exception:  # ImportError, or the dictionary package for that language is not installed
        _MISSING.add(lang)
        return None
    _ANALYZERS[lang] = a
    return a


def available() -> bool:
    return analyzer("uk") is not None or analyzer("ru") is not None


def _langs(word: str, lang: str | None) -> tuple[str, ...]:
    if lang == "ru":
        return ("ru", "uk")
    if lang == "uk":
        return ("uk", "ru")
    return ("uk", "ru") if re.search(r"[іїєґІЇЄҐ]", word) else ("ru", "uk")


@lru_cache(maxsize=65536)
def lemmas(word: str, lang: str | None = None) -> tuple[str, ...]:
    """Dictionary forms a Cyrillic word may have as a noun (place names first), e.g.
    "Миколаєві" -> ("миколаїв",), "Орле" -> ("орёл",); empty for Latin words."""
    if not _CYR.search(word):
        return ()
    out: list[str] = []
    for lg in _langs(word, lang):
        a = analyzer(lg)
        if a is None:
            continue
        parses = a.parse(word)
        geo = [p for p in parses if "Geox" in p.tag.grammemes]
        rest = [p for p in parses if "Geox" not in p.tag.grammemes]
        for p in geo + rest:
            pos = p.tag.POS
            nf = p.normal_form
            if p.tag.grammemes & _PERSONAL:  # surnames and first names: "Луцька" is not Lutsk
                continue
            if pos in _NOUNISH or (pos == "ADJF" and "Geox" in p.tag.grammemes) or (pos == "ADJF" and lg == "uk"
                                                                                   and nf.endswith(("ів", "їв"))):
                if nf not in out and nf != word.lower():
                    out.append(nf)
        if out:
            break
    w = word.lower()
    # a fleeting vowel the dictionaries miss: "Орлі" -> "орел", "Орле" -> "орел"/"орёл"
    m = re.match(r"(.*[бвгґджзклмнпрстфхцчшщ])([бвгґджзклмнпрстфхцчшщ])(?:і|е|а|у|ом|ові|ем)$", w)
    if m and len(w) <= 8:
        for v in ("е", "о", "ё"):
            cand = m.group(1) + v + m.group(2)
            if cand not in out:
                out.append(cand)
    return tuple(out)


@lru_cache(maxsize=65536)
def is_adjective(word: str, lang: str | None = None) -> bool:
    """True when the word's most probable reading is an ordinary adjective ("Покровському",
    "Кропивницькому", "Луцьку" read as "луцький") rather than a noun or a possessive place name
    ("Миколаєві" from "миколаїв")."""
    if not _CYR.search(word):
        return False
    for lg in _langs(word, lang):
        a = analyzer(lg)
        if a is None:
            continue
        parses = a.parse(word)
        if not parses or "UNKN" in parses[0].tag.grammemes:
            continue
        p = parses[0]
        return p.tag.POS == "ADJF" and "Geox" not in p.tag.grammemes and not p.normal_form.endswith(("ів", "їв"))
    return bool(re.search(r"(?:ськ|цьк|зьк|ск|цк)(?:ий|ого|ому|им|ім|ої|ій|ою|у|а|е|і|ая|ой|ую|ом|ие|их)$",
                          word.lower()))


@lru_cache(maxsize=16384)
def adjective_bases(word: str, lang: str | None = None) -> tuple[str, ...]:
    """Names an adjective may be derived from, most likely first: "Покровському" -> "покровськ",
    "Кропивницькому" -> "кропивницький" (the name is an adjective), "Бучанському" -> "буча",
    "Шосткинської" -> "шостка", "Сумскую" -> "сум"/"суми", "Станіславську" -> "станіслав"."""
    if not _CYR.search(word):
        return ()
    forms: list[str] = []
    nominatives: list[str] = []
    for lg in _langs(word, lang):
        a = analyzer(lg)
        if a is None:
            continue
        for p in a.parse(word):
            if p.tag.POS != "ADJF":
                continue
            if p.normal_form not in forms:
                forms.append(p.normal_form)
            # the name may be the adjective itself in its own gender: "у Вільному" -> "вільне", "вільний"
            try:
                nom = p.inflect({"nomn"})
            except Exception:  # a form the dictionary cannot build
                nom = None
            if nom is not None and nom.word not in nominatives:
                nominatives.append(nom.word)
        if forms:
            break
    if not forms:  # no analyzer: the adjective endings themselves
        m = re.match(r"(.+?)(ськ|цьк|зьк|ск|цк)(?:ий|ого|ому|им|ім|ої|ій|ою|у|а|е|і|ая|ой|ую|ом|ие|их)$", word.lower())
        if m:
            forms.append(m.group(1) + m.group(2) + "ий")
    out: list[str] = []

    def add(x: str) -> None:
        if len(x) >= 3 and x not in out:
            out.append(x)

    for f in nominatives:
        add(f)  # кропивницький, вільне, зелена
    for f in forms:
        if f.endswith(("ий", "ій")):
            add(f[:-2])  # покровськ, луцьк, донецьк
        add(f)
        for suf, repls in _ADJ_SUFFIXES:
            if f.endswith(suf):
                for r in repls:
                    add(f[: -len(suf)] + r)
                break
    return tuple(out)
