"""The label catalogue: every key in all three languages, the same placeholders, and
Ukrainian and Russian that are written in their own alphabets."""

from __future__ import annotations

import json
import re
import string
from importlib import resources
from pathlib import Path

import pytest

from trucewatch.i18n import LANGS, LanguageError, catalogue, check, describe_place, plural, t

REPO = Path(__file__).resolve().parents[2]
CYR = re.compile(r"[А-Яа-яЁёІіЇїЄєҐґ]")
UK_ONLY, RU_ONLY = set("іїєґІЇЄҐ"), set("ыэъёЫЭЪЁ")


def _raw(lang: str) -> dict[str, str]:
    return json.loads(resources.files("trucewatch.i18n").joinpath(f"{lang}.json").read_text(encoding="utf-8"))


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_key_in_every_language_with_the_same_placeholders() -> None:
    en = catalogue("en")
    assert len(en) > 100
    for lang in LANGS:
        cat = catalogue(lang)
        assert set(cat) == set(en), (lang, set(en) ^ set(cat))
        for k, v in cat.items():
            assert v.strip(), (lang, k)
            assert _fields(v) == _fields(en[k]), (lang, k)


@pytest.mark.parametrize("lang, foreign", [("uk", RU_ONLY), ("ru", UK_ONLY)])
def test_translations_are_written_in_the_language(lang: str, foreign: set[str]) -> None:
    for k, v in catalogue(lang).items():
        letters = re.sub(r"\{[^}]*\}|TruceWatch|UTC|GNSS|trucewatch verify|F1|F2|tw_", "", v)
        if re.search(r"[A-Za-z]", catalogue("en")[k]):
            assert CYR.search(letters), (lang, k, v)
        assert not set(letters) & foreign, (lang, k, v)  # no Russian letters in Ukrainian and vice versa
    assert catalogue("uk")["section.summary"] != catalogue("ru")["section.summary"]


def test_every_label_the_code_asks_for_exists() -> None:
    """Literal keys in the report's code and template are all in the catalogue (f-string keys are checked
    by rendering: tests/report)."""
    en = catalogue("en")
    used = set()
    for path in [*REPO.joinpath("trucewatch/report").glob("*.py"), REPO / "trucewatch/report/templates/daily.html",
                 REPO / "trucewatch/i18n/__init__.py"]:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""", path.read_text(encoding="utf-8")))
    assert len(used) > 60
    assert not used - set(en), sorted(used - set(en))


def test_helpers() -> None:
    assert check(None) == "en" and check("UK") == "uk"
    with pytest.raises(LanguageError, match="de"):
        check("de")
    assert t("place.offset", "uk", km=3, dir=t("dir.NE", "uk"), place="Горлівка") == \
        "3 км на північний схід від н. п. Горлівка"
    assert t("place.offset", "ru", km=3, dir=t("dir.NE", "ru"), place="Горловка") == \
        "3 км к северо-востоку от н. п. Горловка"
    with pytest.raises(KeyError):
        t("no.such.key")
    assert _raw("en")["_comment"]


def test_plural_rules() -> None:
    from trucewatch import i18n

    cat = {"x.one": "{n} one", "x.few": "{n} few", "x.many": "{n} many"}
    orig = i18n.catalogue
    try:
        i18n.catalogue = lambda lang: cat  # type: ignore[assignment]
        assert [plural(n, "x", "uk") for n in (1, 2, 5, 11, 21, 22, 25, 112)] == [
            "1 one", "2 few", "5 many", "11 many", "21 one", "22 few", "25 many", "112 many"]
        assert [plural(n, "x", "en") for n in (1, 2)] == ["1 one", "2 many"]
    finally:
        i18n.catalogue = orig


def test_describe_place_in_three_languages() -> None:
    from trucewatch.places.nearest import nearest_places

    p = nearest_places([48.30], [38.02], [300])[0]
    assert describe_place(p, "en") == "near Horlivka"
    assert describe_place(p, "uk") == "поблизу н. п. Горлівка"
    assert describe_place(p, "ru").startswith("вблизи н. п. ")
