"""Text capabilities that real material needed (issue 18), checked on the *dev* half of the real sets
(trucewatch/data/eval/real/text/dev.jsonl) and on small sentences; the held-out half is never used here."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

from trucewatch.sources.text import facts
from trucewatch.sources.text.extract import Extractor

DEV = Path(__file__).resolve().parents[3] / "trucewatch" / "data" / "eval" / "real" / "text" / "dev.jsonl"
PUB = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def ex() -> Extractor:
    return Extractor()


@pytest.fixture(scope="module")
def dev() -> dict[str, dict]:
    return {d["id"]: d for d in (json.loads(x) for x in DEV.open(encoding="utf-8") if x.strip())}


def km(a: float, b: float, c: float, d: float) -> float:
    return math.hypot((a - c) * 111.2, (b - d) * 111.2 * math.cos(math.radians(a)))


def claims(ex: Extractor, item: dict) -> list:
    return ex.extract_many(item["id"], "test", item["text"], PUB, item.get("lang"))


def events(cs: list) -> list:
    return [c for c in cs if c.event_type != "non_event" and c.lat is not None]


def near(cs: list, place: dict, tol_km: float = 10.0) -> bool:
    return any(km(c.lat, c.lon, place["lat"], place["lon"]) <= tol_km for c in events(cs))


# -- morphology ----------------------------------------------------------------------------------
def test_lemmas_and_adjective_bases():
    pytest.importorskip("pymorphy3")
    from trucewatch.sources.text import morph

    assert "миколаїв" in morph.lemmas("Миколаєві", "uk")
    assert "курск" in morph.lemmas("Курске", "ru")
    assert morph.is_adjective("Покровському", "uk")
    assert not morph.is_adjective("Миколаєві", "uk")
    assert morph.adjective_bases("Покровському", "uk").index("покровськ") < morph.adjective_bases(
        "Покровському", "uk").index("покров")
    assert "шостка" in morph.adjective_bases("Шосткинської", "uk")
    assert "сум" in morph.adjective_bases("Сумскую", "ru")


@pytest.mark.parametrize("rid", ["h51", "h18", "h07", "viina4159", "viina3930"])
def test_inflected_city_is_the_city_not_a_lookalike_village(ex, dev, rid):
    """Луцьку is Lutsk (not Luka), Одесі is Odesa, Орлі is Oryol, Сум is Sumy, Торецке is Toretsk."""
    item = dev[rid]
    assert near(claims(ex, item), item["places"][0])


def test_hromada_adjective_names_its_centre(ex, dev):
    item = dev["h43"]  # "у Шалигінській громаді"
    assert near(claims(ex, item), item["places"][0])
    c = ex.extract("x", "t", "Обстріл Шосткинської громади: РФ атакувала, поранено 6 людей", PUB)
    assert c.place == "Shostka"


# -- regions ------------------------------------------------------------------------------------
def test_oblast_adjective_is_the_oblast_not_a_village(ex, dev):
    c = claims(ex, dev["viina1944"])[0]  # "атакували Сумщину"
    assert c.admin1 == "Sumy Oblast" and c.place_phrase == "region" and c.radius_m >= 20_000
    c = ex.extract("x", "t", "У Дружківці на Донеччині внаслідок обстрілу загинули 7 людей.", PUB)
    assert c.place == "Druzhkivka" and c.admin1 == "Donetsk Oblast"


def test_unknown_village_falls_back_to_the_named_region(ex):
    c = ex.extract("x", "t", "В Липецкой области беспилотник упал рядом с жилым домом в селе Ратчино.", PUB, "ru")
    g = ex.gaz
    i = g.admin1_entry["Lipetsk Oblast"]
    assert c.admin1 == "Lipetsk Oblast"
    assert km(c.lat, c.lon, float(g.lat[i]), float(g.lon[i])) < 1.0 and c.radius_m >= 20_000


def test_region_in_text_selects_the_candidate(ex):
    c = ex.extract("x", "t", "Russian drones hit Bilozerka, Kherson region, overnight.", PUB)
    assert c.admin1 == "Kherson Oblast" and km(c.lat, c.lon, 46.63, 32.44) < 10
    c = ex.extract("x", "t", "Russian drones hit Bilozerka, Sumy region, overnight.", PUB)
    assert c.admin1 == "Sumy Oblast"


# -- abroad -------------------------------------------------------------------------------------
def test_places_abroad_resolve_abroad(ex, dev):
    c = ex.extract("x", "t", "A blast was heard in Berlin on Tuesday, police said.", PUB)
    assert c.country == "DE" and km(c.lat, c.lon, 52.52, 13.40) < 10
    for rid in ("h07", "h11"):  # Oryol, the Ilsky refinery (Krasnodar krai)
        item = dev[rid]
        cs = claims(ex, item)
        assert events(cs)[0].country == "RU" and near(cs, item["places"][0])


# -- several events -----------------------------------------------------------------------------
def test_one_claim_per_event_place(ex, dev):
    for rid in ("viina2740", "viina4406", "h33"):
        item = dev[rid]
        cs = claims(ex, item)
        assert len(events(cs)) == len(item["places"]), rid
        assert all(near(cs, p) for p in item["places"]), rid
        assert len({c.report_id for c in cs}) == len(cs)


def test_casualties_are_split_between_the_events(ex, dev):
    cs = claims(ex, dev["h33"])  # killed 1 in Kivsharivka; injured 1 in Kupiansk
    assert sum(c.killed or 0 for c in cs) == 1 and sum(c.injured or 0 for c in cs) == 1
    assert {(c.killed or 0, c.injured or 0) for c in cs} == {(1, 0), (0, 1)}


def test_extract_keeps_one_claim(ex, dev):
    c = ex.extract("x", "t", dev["viina4406"]["text"], PUB)
    assert c.report_id == "x" and c.lat is not None


# -- monitors' patrol paragraphs ------------------------------------------------------------------
@pytest.mark.parametrize("rid", ["p04", "p06", "p12", "p21", "p25", "p27", "p32"])
def test_patrol_place_within_tolerance_and_typed(ex, dev, rid):
    item = dev[rid]
    cs = events(claims(ex, item))
    assert len(cs) == 1
    assert km(cs[0].lat, cs[0].lon, item["lat"], item["lon"]) <= item["tolerance_km"]
    assert cs[0].event_type == "shelling"


def test_patrol_offset_from_named_village_not_from_its_locator(ex):
    t = ("At 10:25 the SMM camera in Zolote (government-controlled, 60km west of Luhansk) recorded "
         "15 undetermined explosions 5-6km south-east of its position.")
    c = ex.extract("x", "t", t, PUB)
    g = ex.gaz
    z = next(i for i in g.by_full["zolote"] if g.admin1[i] == "Luhansk Oblast")
    lat, lon = float(g.lat[z]) - 5.5 * 0.7071 / 111.32, float(g.lon[z]) + 5.5 * 0.7071 / (
        111.32 * math.cos(math.radians(float(g.lat[z]))))
    assert km(c.lat, c.lon, lat, lon) < 1.0
    assert c.event_type == "shelling"


def test_village_missing_from_gazetteer_uses_the_locator(ex):
    t = ("A patrol was positioned at a checkpoint approximately 1.5km south-west of 'LPR'-controlled Molodizhne "
         "(63km north-west of Luhansk). The SMM heard an explosion assessed as an airburst about 50-100m north-west.")
    c = ex.extract("x", "t", t, PUB)
    # Luhansk moved 63 km north-west, then 1.5 km south-west
    assert km(c.lat, c.lon, 48.568 + 0.4003 - 0.0095, 39.3055 - 0.6042 - 0.0144) < 2.0
    assert c.radius_m >= 10_000  # the locator is coarse


def test_offsets_and_bearings():
    assert facts.bearing_of("north-north-west") == pytest.approx(337.5)
    assert facts.bearing_of("south-east and south-south-east") == pytest.approx(146.25)
    assert facts.bearing_of("северо-востоку") == pytest.approx(45.0)
    assert facts.bearing_of("південний захід") == pytest.approx(225.0)
    o = facts.offsets("heard 15 undetermined explosions 5-6km south-east of its position")
    assert [(x.lo_km, x.hi_km, x.bearing, x.kind) for x in o] == [(5.0, 6.0, 135.0, "self")]
    o = facts.offsets("positioned 1.5km south-west of 'LPR'-controlled Molodizhne (63km north-west of Luhansk)")
    assert [(x.lo_km, x.kind) for x in o] == [(1.5, "place")]
    assert [(x.km, x.city) for x in facts.locators("Molodizhne (63km north-west of Luhansk)")] == [(63.0, "Luhansk")]
    assert facts.offsets("about 1km south-east of the contact line")[0].kind == "other"


# -- negation and non-events ----------------------------------------------------------------------
@pytest.mark.parametrize("rid", ["q02", "q03"])
def test_negated_reports_give_no_event(ex, dev, rid):
    cs = claims(ex, dev[rid])
    assert not events(cs) and cs[0].negated and cs[0].reason.startswith("negated")


def test_negation_in_ukrainian_and_a_real_event_beside_it(ex):
    assert ex.extract("x", "t", "В інших громадах області обстрілів не було.", PUB).negated
    c = ex.extract("x", "t", "Росіяни обстріляли Нікополь з артилерії. В інших громадах обстрілів не було.", PUB)
    assert not c.negated and c.event_type == "shelling" and c.place == "Nikopol"


def test_non_events_are_typed_as_such(ex, dev):
    ids = [k for k, d in dev.items() if d["set"] == "headlines" and not d["event"]]
    assert len(ids) >= 5
    for rid in ids:
        cs = claims(ex, dev[rid])
        assert not events(cs), rid
    assert ex.extract("x", "t", "Дощі, спека і град: якою буде погода в Україні 28 липня", PUB).event_type == "non_event"
    # Grad rockets are still shelling
    assert ex.extract("x", "t", "Окупанти обстріляли Нікополь з «Градів».", PUB).event_type == "shelling"


# -- casualties ---------------------------------------------------------------------------------
def test_casualties_on_dev_items(ex, dev):
    items = [d for d in dev.values() if d["set"] == "headlines" and d.get("casualties")]
    assert len(items) >= 8
    for item in items:
        cs = events(claims(ex, item)) or claims(ex, item)
        k = sum(c.killed or 0 for c in cs)
        w = sum(c.injured or 0 for c in cs)
        assert (k, w) == (item["casualties"].get("killed", 0), item["casualties"].get("injured", 0)), item["id"]


def test_casualty_phrasings():
    assert facts.casualties("Загинув 45-річний чоловік. Ще один, 47 років, отримав осколкові поранення.") == (1, 1)
    assert facts.casualties("загинули п'ятеро людей, ще п'ятеро поранені") == (5, 5)
    assert facts.casualties("Погибших или пострадавших нет.") == (None, None)
    assert facts.casualties("5 killed and 12 injured in the strike") == (5, 12)
    assert facts.casualties("Поранені 33-річний та 56-річний чоловіки.") == (None, 2)


# -- the measure --------------------------------------------------------------------------------
def test_measure_on_dev(ex):
    from trucewatch.bench._real_text import measure

    m = measure("dev", extractor=ex)
    for k in ("headline_places_within_10km", "patrol_places_within_tolerance", "negation_refusal_rate",
              "non_event_refusal_rate", "casualties_exact", "headline_places", "patrol_items"):
        assert k in m
    assert m["headline_places"] >= 25 and m["patrol_items"] >= 5
    assert m["headline_places_within_10km"] >= 0.9
    assert m["patrol_places_within_tolerance"] >= 0.85
    assert m["negation_refusal_rate"] == 1.0
