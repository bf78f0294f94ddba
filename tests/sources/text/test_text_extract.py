"""Extraction rules: event type, place phrases, time windows, actor, weapon, facility."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trucewatch.geo import haversine_m
from trucewatch.sources.text.extract import Extractor, detect_language

PUB = datetime(2026, 3, 12, 8, 10, tzinfo=UTC)  # a Thursday, 10:10 in Kyiv


@pytest.fixture(scope="module")
def ex() -> Extractor:
    return Extractor()


@pytest.mark.parametrize(
    ("text", "etype"),
    [("Окупанти обстріляли з артилерії Нікополь, поранено 3 людини.", "shelling"),
     ("Ночью беспилотник атаковал Белгород.", "drone_strike"),
     ("Russia launched an Iskander ballistic missile at Kharkiv.", "missile_strike"),
     ("Росіяни скинули 20 КАБів на Куп'янськ.", "air_strike"),
     ("Russian infantry assaults near Siversk were repelled.", "ground_assault"),
     ("Пожар на нефтебазе в Миллерово.", "facility_fire"),
     ("У Шостці знеструмлення: пошкоджено підстанцію.", "infrastructure_damage"),
     ("Monitors were denied passage at a checkpoint near Polohy.", "monitor_interference"),
     ("Обстріл з РСЗВ «Град» по Херсону, ракети влучили в будинки.", "shelling"),
     ("Вибухи чути в Одесі.", "other")],
)
def test_event_type(ex: Extractor, text: str, etype: str) -> None:
    assert ex.extract("r", "s", text, PUB).event_type == etype


def test_language() -> None:
    assert detect_language("Вночі ворог атакував Харків дронами") == "uk"
    assert detect_language("Ночью противник атаковал Харьков беспилотниками") == "ru"
    assert detect_language("Overnight drones hit Kharkiv") == "en"


def test_region_disambiguates(ex: Extractor) -> None:
    a = ex.extract("r", "s", "У Золочеві Харківської області внаслідок удару безпілотника загорілася лікарня", PUB)
    b = ex.extract("r", "s", "Ракетный удар по Золочеву Львовской области.", PUB)
    assert a.admin1 == "Kharkiv Oblast" and abs(a.lon - 35.98) < 0.1
    assert b.admin1 == "Lviv Oblast" and abs(b.lon - 24.90) < 0.1


def test_relative_km(ex: Extractor) -> None:
    c = ex.extract("r", "s", "Shelling reported 10 km south of Huliaipole this morning.", PUB)
    base = ex.gaz.lookup("Huliaipole")[0]
    d = float(haversine_m(base.lat, base.lon, c.lat, c.lon))
    assert 9_000 < d < 11_000 and c.lat < base.lat
    assert c.radius_m >= 3_500  # the direction is uncertain


def test_between_and_direction(ex: Extractor) -> None:
    c = ex.extract("r", "s", "Бої між Костянтинівкою та Дружківкою тривають, ворог штурмує.", PUB)
    a, b = ex.gaz.lookup("Kostiantynivka")[0], ex.gaz.lookup("Druzhkivka")[0]
    assert abs(c.lat - (a.lat + b.lat) / 2) < 0.02 and c.place_phrase.startswith("between")
    d = ex.extract("r", "s", "На Покровському напрямку Сили оборони відбили 39 атак.", PUB)
    assert d.place == "Pokrovsk" and d.radius_m >= 25_000


def test_near_widens(ex: Extractor) -> None:
    a = ex.extract("r", "s", "Drone strike in Orikhiv.", PUB)
    b = ex.extract("r", "s", "Drone strike near Orikhiv.", PUB)
    assert b.radius_m == pytest.approx(a.radius_m + 5000)


@pytest.mark.parametrize(
    ("text", "start", "end", "prec"),
    [("Вночі дрон атакував Харків", "2026-03-11T16:00", "2026-03-12T04:00", "part_of_day"),
     ("At 06:40 shelling hit Nikopol", "2026-03-12T04:25", "2026-03-12T04:55", "minute"),
     ("Вчера вечером обстрел Херсона", "2026-03-11T15:00", "2026-03-11T22:00", "part_of_day"),
     ("On Tuesday a drone hit Sumy", "2026-03-09T22:00", "2026-03-10T22:00", "day"),
     ("Drone hit Sumy 2 hours ago", "2026-03-12T05:30", "2026-03-12T06:50", "hour"),
     ("Обстріл Херсона", "2026-03-11T08:10", "2026-03-12T08:10", "day")],
)
def test_time_window(ex: Extractor, text: str, start: str, end: str, prec: str) -> None:
    c = ex.extract("r", "s", text, PUB)
    assert c.occurred_from.strftime("%Y-%m-%dT%H:%M") == start
    assert c.occurred_to.strftime("%Y-%m-%dT%H:%M") == end
    assert c.time_precision == prec


def test_actor_weapon_facility(ex: Extractor) -> None:
    c = ex.extract("r", "s", "Overnight a Russian Shahed drone hit the Gerkon oil depot near Kostiantynivka.", PUB)
    assert c.actor == "RU" and c.weapon == "shahed" and c.facility == "oil_depot" and c.facility_name == "Gerkon"
    d = ex.extract("r", "s", "ВСУ обстреляли нефтебазу «Херкон» в Константиновке.", PUB)
    assert d.actor == "UA" and d.facility_name == "Херкон"


def test_unlocated_has_reason(ex: Extractor) -> None:
    c = ex.extract("r", "s", "Українська ППО за ніч збила 16 ударних безпілотників", PUB)
    assert c.lat is None and c.reason
    r = ex.extract("r", "s", "Росіяни 115 разів обстріляли Сумщину.", PUB)
    assert r.admin1 == "Sumy Oblast" and r.radius_m > 20_000


def test_area_phrases_and_reach(ex: Extractor) -> None:
    a = ex.extract("r", "s", "Shelling was reported near the village of Promin.", PUB)
    b = ex.extract("r", "s", "Обстріл в районі населеного пункту Промінь.", PUB)
    assert a.place_phrase.startswith("near") and b.place_phrase.startswith("near")
    # a mortar attack on "Северска" is Siversk near the line, not Severskaya in Krasnodar Krai
    c = ex.extract("r", "s", "Минометный обстрел окраины Северска.", PUB)
    assert c.admin1 == "Donetsk Oblast"


def test_monitor_idiom(ex: Extractor) -> None:
    c = ex.extract("r", "s", "In Luhansk region, the Mission recorded 648 ceasefire violations, including 519 explosions "
                   "near Zolote.", PUB)
    assert c.event_type == "shelling" and c.place == "Zolote"
    d = ex.extract("r", "s", "The patrol heard 4 explosion (ceasefire violation) at 09:40 7.5 km south-east of "
                   "Huliaipole.", PUB)
    assert d.event_type == "shelling" and d.time_precision == "minute"
    base = ex.gaz.lookup("Huliaipole")[0]
    assert d.lat < base.lat and d.lon > base.lon


def test_prefilter_is_exact() -> None:
    """The literal prefilter never hides a match the plain regex finds."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from trucewatch.sources.text.extract import _REGISTRY

    words = ["обстріл", "дрон", "shahed", "kab", "ракета", "grad", "fire", "oil depot", "нефтебаз", "вчора", "at 06:40",
             "ночью", "monitors", "denied", "х-101", "kh-22", "on tuesday", "substation", "x", " ", ",", "а", "ab"]

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.sampled_from(words), min_size=1, max_size=12))
    def check(parts: list[str]) -> None:
        text = " ".join(parts)
        for rx in _REGISTRY:
            assert (rx.search(text) is None) == (re.search(rx.pattern, text) is None), rx.pattern

    check()


def test_ambiguous_names_are_flagged(ex: Extractor) -> None:
    c = ex.extract("r", "s", "A missile strike on Mykhailivka.", PUB)
    assert c.alternatives and c.to_json()["ambiguous"] is True
    d = ex.extract("r", "s", "A missile strike on Kryvyi Rih.", PUB)
    assert not d.alternatives


def test_raion_disambiguates(ex: Extractor) -> None:
    a = ex.extract("r", "s", "Обстріл села Іванівка Волноваського району Донецької області.", PUB)
    b = ex.extract("r", "s", "Обстріл села Іванівка Слов'янського району Донецької області.", PUB)
    c = ex.extract("r", "s", "Shelling of Ivanivka, Volnovakha district, Donetsk region.", PUB)
    assert abs(a.lat - 47.58) < 0.05 and abs(b.lat - 48.92) < 0.05 and abs(c.lat - 47.58) < 0.05


def test_event_words_are_not_places(ex: Extractor) -> None:
    a = ex.extract("r", "s", "Ракетний удар завдано по об'єктам цивільної інфраструктури Кривого Рогу", PUB)
    b = ex.extract("r", "s", "Ударні безпілотники знову атакують Дніпро", PUB)
    assert a.place == "Kryvyi Rih" and b.place == "Dnipro"
    c = ex.extract("r", "s", "У Південному на Одещині внаслідок атаки РФ світла не буде 5 днів", PUB)
    assert c.admin1 == "Odesa Oblast" and c.event_type != "ground_assault"


@pytest.mark.parametrize("text", [
    "At 11:20 explosions may be heard near Kupiansk: sappers are carrying out planned demining, the regional "
    "administration said.",
    "О 11:20 поблизу Куп'янська можна почути вибухи: сапери проводять планове знешкодження вибухонебезпечних "
    "предметів, повідомили в ОВА.",
    "В 11:20 в районе Купянска будут слышны взрывы: саперы проводят плановое уничтожение взрывоопасных предметов.",
])
def test_announced_demining_is_not_an_attack(ex: Extractor, text: str) -> None:
    c = ex.extract("r", "s", text, PUB)
    assert c.event_type == "non_event" and "controlled detonation" in (c.reason or "")


def test_an_attack_on_deminers_is_still_an_attack(ex: Extractor) -> None:
    assert ex.extract("r", "s", "Russian artillery shelled sappers during demining near Kupiansk.", PUB
                      ).event_type == "shelling"
    assert ex.extract("r", "s", "Ворожий дрон атакував саперів під час розмінування біля Куп'янська.", PUB
                      ).event_type == "drone_strike"
