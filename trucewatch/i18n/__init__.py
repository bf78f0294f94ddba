"""Labels in English, Ukrainian and Russian from one small JSON message catalogue
per language (``en.json``, ``uk.json``, ``ru.json`` beside this file), shared by
the daily report and the dashboard.  Only labels are translated; free text
(explanations, posts, place names as the gazetteer writes them) stays as written.

``t(key, lang, **fields)`` formats the label with ``str.format``; a key missing
in a language falls back to English (a test asserts none is missing).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from trucewatch.errors import TruceWatchError

LANGS = ("en", "uk", "ru")
DEFAULT = "en"


class LanguageError(TruceWatchError, ValueError):
    pass


def check(lang: str | None) -> str:
    """``lang`` if it is one of ours (``None`` gives English); else a clear error."""
    if lang is None or lang == "":
        return DEFAULT
    lang = lang.strip().lower()
    if lang not in LANGS:
        raise LanguageError(f"lang: {lang!r} is not one of {', '.join(LANGS)}")
    return lang


@lru_cache(maxsize=len(LANGS))
def catalogue(lang: str) -> dict[str, str]:
    data = resources.files("trucewatch.i18n").joinpath(f"{check(lang)}.json").read_text(encoding="utf-8")
    return {k: v for k, v in json.loads(data).items() if not k.startswith("_")}


def t(key: str, lang: str = DEFAULT, /, **fields: Any) -> str:
    text = catalogue(lang).get(key) or catalogue(DEFAULT).get(key)
    if text is None:
        raise KeyError(f"i18n: no label {key!r}")
    return text.format(**fields) if fields else text


def plural(n: int, key: str, lang: str = DEFAULT, /, **fields: Any) -> str:
    """``key.one`` / ``key.few`` / ``key.many`` by the language's plural rule (CLDR: en one/other as one/many)."""
    if lang in ("uk", "ru"):
        m10, m100 = n % 10, n % 100
        form = "one" if m10 == 1 and m100 != 11 else "few" if 2 <= m10 <= 4 and not 12 <= m100 <= 14 else "many"
    else:
        form = "one" if n == 1 else "many"
    return t(f"{key}.{form}", lang, n=n, **fields)


def translator(lang: str) -> Any:
    """A ``t`` bound to one language, for templates."""
    lang = check(lang)

    def _t(key: str, /, **fields: Any) -> str:
        return t(key, lang, **fields)

    return _t


def describe_place(place: Any, lang: str = DEFAULT) -> str:
    """"near Horlivka", "3 km NE of Horlivka", "within 40 km of Horlivka" (a ``places.nearest.Place``)."""
    if place.kind == "none":
        return t("place.unnamed", lang)
    name = place.name if lang == "en" else place.name_local
    if place.kind == "near":
        return t("place.near", lang, place=name)
    if place.kind == "within":
        return t("place.within", lang, km=max(1, round(place.err_m / 1000)), place=name)
    return t("place.offset", lang, km=place.km, dir=t(f"dir.{place.bearing}", lang), place=name)
