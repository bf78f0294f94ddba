"""The dashboard's label catalogues (issue 20): every key in English, Ukrainian and
Russian, the same placeholders, real translations, and every key the page uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "trucewatch" / "service" / "static"
LANGS = ("en", "uk", "ru")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
#: Keys whose value is the same in every language (format names, compass letters in en only).
SAME = {"export.geojson", "export.csv", "export.gpkg", "export.acled"}


def catalogue(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def placeholders(s: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", s))


@pytest.mark.parametrize("lang", LANGS[1:])
def test_every_key_in_every_language(lang: str) -> None:
    en, other = catalogue("en"), catalogue(lang)
    assert set(en) - set(other) == set(), f"{lang} lacks keys"
    assert set(other) - set(en) == set(), f"{lang} has keys English lacks"
    for k, v in other.items():
        assert isinstance(v, str) and v.strip(), f"{lang}: {k}: empty"
        assert placeholders(v) == placeholders(en[k]), f"{lang}: {k}: placeholders differ from English"
        if k not in SAME and CYRILLIC.search(en[k]) is None and re.search(r"[A-Za-z]{3,}", en[k]):
            # a translated label: Cyrillic, and not the English text left in place
            assert v != en[k] and CYRILLIC.search(v), f"{lang}: {k}: not translated ({v!r})"


def test_uk_and_ru_are_different_languages() -> None:
    uk, ru = catalogue("uk"), catalogue("ru")
    same = [k for k in uk if uk[k] == ru[k] and k not in SAME and CYRILLIC.search(uk[k])]
    assert len(same) < 0.15 * len(uk), same  # a copy of one into the other would fail
    assert "і" in "".join(uk.values()) and "ы" in "".join(ru.values())  # letters only one of them has


def test_every_key_the_page_uses_exists() -> None:
    en = catalogue("en")
    js = (STATIC / "app.js").read_text(encoding="utf-8")
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    used = set(re.findall(r"\bt\(\"([a-z_]+\.[A-Za-z_.]+)\"", js))
    used |= set(re.findall(r'data-i18n(?:-placeholder|-title|-aria-label)?="([^"]+)"', html))
    assert len(used) > 60
    assert used - set(en) == set()
    # keys built from values: every status, rule and direction the API can send has a label
    from trucewatch.model import ObservationKind, Rule, Status

    for s in Status:
        assert f"status.{s.value}" in en
    for r in Rule:
        assert f"rule.{r.value}" in en
        assert r.value in js  # offered in the rule filter
    for k in ("launch", "impact", "report_claim", "weapon_sighting", "thermal_anomaly"):
        assert f"kind.{ObservationKind(k).value}" in en
    from trucewatch.places.settlements import _COMPASS

    for d in _COMPASS:
        assert f"dir.{d}" in en
