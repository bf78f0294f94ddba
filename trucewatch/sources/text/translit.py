"""Romanisation of Ukrainian and Russian names, and the folded matching key.

Four systems are written out here because none of the installed packages
writes Ukraine's official romanisation (Cabinet of Ministers resolution 55 of
27 January 2010, the "national" system, also adopted by BGN/PCGN in 2019):

- ``national``: the 2010 Ukrainian table (word-initial Є Ї Й Ю Я become
  ye yi y yu ya, elsewhere ie i i iu ia; "зг" becomes "zgh"; soft sign and
  apostrophe are dropped);
- ``bgn_pcgn_1965``: the older BGN/PCGN Ukrainian table still found in press
  archives (Kharkiv, Zaporizhzhya, Mykolayiv, soft sign as ');
- ``iso9``: ISO 9:1995, one Latin letter (with diacritics) per Cyrillic letter;
- ``russian_bgn``: BGN/PCGN for Russian, the source of "press spellings" of
  Ukrainian places through their Russian names (Kharkov, Nikolayev, Zaporozhye).

:func:`fold` maps any of these, the Cyrillic originals in either language and
common English press forms to one lossy lower-case key: the letters whose
spelling differs between systems (г/h/g, х/kh/h, и/і/ы/y/i, є/ye/ie, ц/ts/c,
doubled consonants, soft signs) collapse, so variants meet in one dictionary
lookup and what remains (Kharkiv/Kharkov) is left to fuzzy matching.
"""

from __future__ import annotations

import re
from functools import lru_cache

from unidecode import unidecode

_UK_NATIONAL = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh", "з": "z",
    "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "'": "", "’": "", "ʼ": "",
}
#: Word-initial forms of the national system.
_UK_NATIONAL_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}

_UK_BGN_1965 = dict(_UK_NATIONAL, **{"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya", "ь": "'"})

_ISO9 = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g̀", "д": "d", "е": "e", "є": "ê", "ё": "ë", "ж": "ž",
    "з": "z", "и": "i", "і": "ì", "ї": "ï", "й": "j", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c", "ч": "č", "ш": "š",
    "щ": "ŝ", "ъ": "ʺ", "ы": "y", "ь": "ʹ", "э": "è", "ю": "û", "я": "â", "'": "ʼ", "’": "ʼ",
}

_RU_BGN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "ë", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y",
    "ь": "", "э": "e", "ю": "yu", "я": "ya",
    # Ukrainian letters met in Russian-language text about Ukrainian places
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
}
_VOWELS_CYR = set("аеёиоуыэюяіїєьъй'’")

SYSTEMS = ("national", "bgn_pcgn_1965", "iso9", "russian_bgn")


def _apply(name: str, table: dict[str, str], initial: dict[str, str] | None, ru: bool = False) -> str:
    out: list[str] = []
    prev = " "
    low = name.lower()
    for i, ch in enumerate(name):
        lc = low[i]
        if lc in table:
            at_start = not prev.isalpha() and prev not in "'’"
            if initial and at_start and lc in initial:
                rep = initial[lc]
            elif ru and lc == "е" and (at_start or prev.lower() in _VOWELS_CYR):
                rep = "ye"
            elif initial is not None and lc == "г" and prev.lower() == "з":
                rep = "gh"  # зг -> zgh (national system)
            else:
                rep = table[lc]
            if ch != lc and rep:
                rep = rep[0].upper() + rep[1:]
            out.append(rep)
        else:
            out.append(ch)
        prev = ch
    return "".join(out)


def romanize(name: str, system: str = "national") -> str:
    """Romanise a Cyrillic name with one of :data:`SYSTEMS`."""
    if system == "national":
        return _apply(name, _UK_NATIONAL, _UK_NATIONAL_INITIAL)
    if system == "bgn_pcgn_1965":
        return _apply(name, _UK_BGN_1965, _UK_NATIONAL_INITIAL)
    if system == "iso9":
        return _apply(name, _ISO9, None)
    if system == "russian_bgn":
        return _apply(name, _RU_BGN, None, ru=True)
    raise ValueError(f"unknown romanisation system {system!r}; known: {', '.join(SYSTEMS)}")


def variants(name: str) -> set[str]:
    """The name in every system (Cyrillic input) or itself (Latin input)."""
    if not has_cyrillic(name):
        return {name}
    return {name} | {romanize(name, s) for s in SYSTEMS}


_CYR_RE = re.compile(r"[\u0400-\u04FF]")


def has_cyrillic(s: str) -> bool:
    return _CYR_RE.search(s) is not None


# Internal Cyrillic -> Latin map used only for the key: both languages at once.
_KEY_CYR = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "o", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia",
    "'": "", "’": "", "ʼ": "", "`": "", "ʹ": "", "ʺ": "", "«": "", "»": "", '"': "",
})
_FOLD_STEPS = [
    (re.compile(r"shch|sch"), "s"),
    (re.compile(r"zgh"), "zg"),
    (re.compile(r"kh"), "x"),
    (re.compile(r"zh"), "z"),
    (re.compile(r"ch"), "c"),
    (re.compile(r"sh"), "s"),
    (re.compile(r"t[sz]"), "c"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"[jy]"), "i"),
    (re.compile(r"w"), "v"),
    (re.compile(r"h"), "g"),
    (re.compile(r"[^a-z0-9 \-]"), ""),
    (re.compile(r"([a-z])\1+"), r"\1"),
    (re.compile(r"i(?=[aeou])"), ""),  # glide before a vowel: ia/ya/я -> a
    (re.compile(r"\s+"), " "),
]


@lru_cache(maxsize=200_000)
def fold(s: str) -> str:
    """Lossy matching key shared by all spellings (see the module docstring)."""
    t = s.lower().translate(_KEY_CYR)
    t = unidecode(t).lower()
    for rx, rep in _FOLD_STEPS:
        t = rx.sub(rep, t)
    return t.strip(" -")


# Case endings (already folded) stripped before the trailing vowels.  Ukrainian
# and Russian declensions of place names reduce to the nominative's stem:
# Покровськом/Покровске -> pokrovsk, Костянтинівці -> kostantinivc (+ c->k variant).
_ENDINGS = ("ami", "omu", "ogo", "emu", "ego", "ovi", "evi", "ax", "om", "em", "im", "oi", "ei", "ou", "eu")
_TRAIL_V = re.compile(r"[aeiou]+$")


def _stem_word(w: str) -> str:
    if len(w) > 4:
        for e in _ENDINGS:
            if w.endswith(e) and len(w) - len(e) >= 3:
                w = w[: -len(e)]
                break
    s = _TRAIL_V.sub("", w)
    return s if len(s) >= 2 else w


@lru_cache(maxsize=200_000)
def stem(key: str) -> str:
    """Stem of a folded key, word by word (hyphenated parts kept together)."""
    return " ".join(_stem_word(w) for w in key.split(" ") if w)


_Q_ENDINGS = (*_ENDINGS, "iv", "ov", "ev", "im", "ix", "i", "a", "u", "e", "o")


def _word_alternatives(w: str) -> list[str]:
    """Stems an inflected word may come from (the plain stem first)."""
    out = [_stem_word(w)]
    for e in _Q_ENDINGS:
        if w.endswith(e) and len(w) - len(e) >= 2:
            out.append(_TRAIL_V.sub("", w[: -len(e)]) or w[: -len(e)])
    base = list(dict.fromkeys(out))
    for b in base:
        if b.endswith("sin") and len(b) > 6:  # Нікопольщина -> Нікополь
            out.append(b[:-3])
    base = list(dict.fromkeys(out))
    for b in base:
        if b.endswith("c"):
            out.append(b[:-1] + "k")
        if b.endswith("z"):
            out.append(b[:-1] + "g")
        m = re.search(r"([oe])([a-z]{1,2})$", b)
        if m:
            out.append(b[: m.start()] + "i" + m.group(2))
        m = re.search(r"i(v|vk|vsk|n|nk)$", b)
        if m:
            out.append(b[: m.start()] + "o" + m.group(1))
            out.append(b[: m.start()] + "e" + m.group(1))
        if b.endswith("sk") and len(b) > 5:  # adjectives: Бучанський -> Буча, Херсонський -> Херсон
            out.append(b[:-2])
            if b.endswith("ansk"):
                out.append(b[:-4])
    return list(dict.fromkeys(x for x in out if len(x) >= 2))


@lru_cache(maxsize=100_000)
def query_stems(key: str) -> tuple[str, ...]:
    """Candidate index stems for a folded (possibly inflected) name, most likely first."""
    words = [w for w in key.split(" ") if w]
    if not words:
        return ()
    if len(words) == 1:
        return tuple(_word_alternatives(words[0]))
    alts = [_word_alternatives(w)[:6] or [w] for w in words[:3]]
    out = [" ".join(a[0] for a in alts)]
    for k, a in enumerate(alts):
        for x in a[1:]:
            out.append(" ".join(x if j == k else alts[j][0] for j in range(len(alts))))
    if len(alts) == 2:
        out += [f"{x} {y}" for x in alts[0][:4] for y in alts[1][:4]]
    return tuple(dict.fromkeys(out))


def stem_variants(st: str) -> list[str]:
    """Alternations of the last word: ц/к (Костянтинівці), і/о (Харкові), Russian -овка."""
    out = [st]
    head, _, last = st.rpartition(" ")
    pre = head + " " if head else ""
    if last.endswith("c"):
        out.append(pre + last[:-1] + "k")
    if last.endswith("z"):
        out.append(pre + last[:-1] + "g")
    m = re.search(r"([oe])([a-z]{1,2})$", last)
    if m:
        out.append(pre + last[: m.start()] + "i" + m.group(2))
    m = re.search(r"i(v|vk|vsk|n|nk)$", last)
    if m:
        out.append(pre + last[: m.start()] + "o" + m.group(1))
        out.append(pre + last[: m.start()] + "e" + m.group(1))
    return out
