"""Air summaries as the press really quotes them (uk/en/ru), the JSONL `published` format, the consistency flag.

Real cases come from the DEVELOPMENT file of trucewatch/data/eval/real/air/ only; the held-out file
is never used in tests (it is what `trucewatch.bench._real_air.measure("heldout")` reports).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trucewatch.bench._real_air import family_counts, load, measure
from trucewatch.sources.air.counting import numbers
from trucewatch.sources.air.summary import parse_summary

DEV = {r["id"]: r for r in load("dev")}
HELDOUT_IDS = {r["id"] for r in load("heldout")}
EVAL = Path(__file__).resolve().parents[3] / "trucewatch" / "data" / "eval" / "air_summaries" / "summaries.jsonl"


def _got(rid: str) -> dict[str, tuple[int | None, int | None]]:
    r = DEV[rid]
    got = family_counts(parse_summary(r["text"], summary_id=rid))
    return {e["family"]: got.get(e["family"]) or (got.get("missile_all") if e["family"] == "missile" else None)
            or (None, None) for e in r["expected"]}


def _want(rid: str) -> dict[str, tuple[int | None, int | None]]:
    return {e["family"]: (e["launched"], e["intercepted"]) for e in DEV[rid]["expected"]}


@pytest.mark.parametrize("rid", [
    "regionews-2024-05-21",  # "28 з 29" in the title, again in the body: merged, not added
    "mezha-2024-05-21",  # the launched count only in "28 із 29 шахедів"; a list of related links below
    "stolica-2025-05-07",  # number words ("п'ять ... з яких дві"), Kyiv's own share not added
    "25tv-espreso-72-59",  # "Крім того", decoys "виявлені у місцях" not intercepted
    "ukrinform-en-2025-09-27",  # "More than 70 of the drones were Shahed-type": a sub-count
    "unn-en-2025-09-27",  # "more than 70 of them were Shaheds"
    "lb-2023-08-30",  # "всі 28 ракет та 15 із 16", then "44 ... 28 ракет і 16 БпЛА" again
    "heraldngr-2023-10-16",  # "the missiles, of which it shot down two"
    "swissinfo-2024-08-16",  # "three Shahed-type drones and two drones of an unidentified type" = 5
    "gordonua-1730123",  # "18 сбиты с курса (локационно потеряны)" are not interceptions
    "interfax-en-874109",  # "Fifty-one of 70", "ten Tu-95MC missile-carrying aircraft" are not missiles
    "dogruhaber-1059596",  # "127 missiles and 109 drones were launched", models listed as parts
    "postfactum-14shahed-kh22",  # "крилату ракету типу Х-22" is one missile; "усі 14 шахедів"
    "ukranews-en-929641",  # "21 out of 23 Kh-101/Kh-555 cruise missiles"
    "devdiscourse-2733686",  # "destroyed the missile and 18 of the drones"
    "alarabiya-2024-08-17",  # "shot down all 14 Russian drones fired": the participle is not the verb
    "city1016-28drones",  # "destroyed 21 of the drones"; the three cruise missiles' fate not stated
    "ukranews-2023-09-14",  # "Как сообщали ..., 13 сентября ... 44 дрона": another night, dropped
    "nasdaq-2023-08-19",  # "15 of the Russia-launched Iranian-made Shahed drones were shot down"
    "newsnews-8277092c",  # "змогли знешкодити 84 з них, проте зафіксовано влучання": the verb before counts
    "unn-2023-09-14",  # a related story glued below the lead ("35 безпілотників"): the lead's "17 з 22" wins
    "alarabiya-2023-09-21",  # the title's "36 out of 42" is outvoted by the body's two "43"
    "novyny-kr-235542",  # the page lost its і/ї: "балстичн ракети «скандер-М»", "локацйно зникли"
    "warsawpoint-55245",  # "two other cruise missiles had struck" (another attack), "three were wounded"
    "disinformwatch-2023-09-28",  # "оставшиеся 10 беспилотников": the complement, not a count
    "izmailvechernii-228017",  # a regional command's share and reconnaissance drones are not the night's tally
    "city1016-28drones",  # "three missiles" (title) and "three cruise missiles" (body): one family
    "interfax-en-874109",  # "a massive missile attack" is no missile
    "unian-12405516",  # "Як повідомляв УНІАН, упродовж ночі 26 вересня ...": the same night, kept
    "ostro-i486765",  # "крилатою ракетою «Іскандер-К»": one missile, instrumental
    "nv-yahoo-2023-10-23",  # "Thirteen Shahed drones, launched from Crimea, were shot down"
    "nbn-2023-09-23",  # "Две ракеты попали в ...": hits, not interceptions
])
def test_dev_real_phrasing(rid):
    assert rid in DEV and rid not in HELDOUT_IDS
    assert _got(rid) == _want(rid)


def test_dev_set_accuracy_and_split_are_disjoint():
    dev = measure("dev")
    assert dev["n_summaries"] >= 20 and dev["n_families"] >= 30
    assert dev["counts_exact"] >= 0.9, dev["misses"]
    ev_dev = {r["event"] for r in load("dev")}
    ev_held = {r["event"] for r in load("heldout")}
    assert not ev_dev & ev_held  # one attack night never sits in both halves
    for r in load("dev") + load("heldout"):
        assert r["url"].startswith("http") and r["licence"] and r["language"] in ("uk", "en", "ru")


def test_numbers_with_case_suffixes_and_words():
    got = [(n.value, n.approx) for n in numbers("атакували 15-ю ударними БпЛА, збиття 37-ми дронів, 54-ма ракетами")]
    assert got == [(15, False), (37, False), (54, False)]
    got = [(n.value, n.approx) for n in numbers("понад п’ятьма десятками дронів; сорок дронів; двох ракет")]
    assert got == [(50, True), (40, False), (2, False)]
    assert [n.value for n in numbers("fifty-one of seventy drones, twenty one missiles")] == [51, 70, 21]
    # model names, times, dates and ordinals are not counts
    assert numbers("Х-101, Shahed-131/136, з 18:00 7 червня, 384-та доба, Ту-95МС") == []


def test_krim_toho_is_not_crimea():
    s = parse_summary("Противник запустив 30 ударних БпЛА з напрямку Курськ. Крім того, ворог використав 2 балістичні "
                      "ракети Іскандер-М з Воронезької області. Збито 20 БпЛА.", published=datetime(2026, 3, 1, 7, tzinfo=UTC))
    assert "crimea" not in {a["id"] for a in s.launch_areas}
    assert {i.weapon_type: (i.launched, i.intercepted) for i in s.items} == {"shahed": (30, 20),
                                                                             "ballistic_missile": (2, None)}


def test_lost_and_intercepted_above_launched_is_flagged_not_fixed():
    s = parse_summary("Ворог атакував 50 ударними БпЛА. Збито 40 БпЛА. 20 ворожих БпЛА-імітаторів локаційно втрачені.",
                      published=datetime(2026, 3, 1, 7, tzinfo=UTC))
    it = s.item("shahed")
    assert (it.launched, it.intercepted, it.lost) == (50, 40, 20)
    assert any(p.startswith("items[0].lost") and "exceed" in p for p in s.problems)


def test_repeated_mentions_do_not_raise_a_flag():
    r = DEV["regionews-2024-05-21"]
    s = parse_summary(r["text"])
    assert not [p for p in s.problems if "more than" in p or "add up" in p or "exceed" in p]


def _cli(*args: str):
    from trucewatch.cli import app

    return CliRunner().invoke(app, ["air", "summaries", *args])


def test_cli_reads_documented_jsonl_published(tmp_path):
    f = tmp_path / "posts.jsonl"
    f.write_text(json.dumps({"id": "p1", "published": "2026-03-15T07:00:00Z",
                             "text": "Overnight, Russia launched 40 Shahed-type drones from Kursk; 30 were shot down."})
                 + "\n", encoding="utf-8")
    res = _cli(str(f), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["errors"] == []
    assert [(i["weapon_type"], i["launched"], i["intercepted"]) for i in out["summaries"][0]["items"]] == \
        [("shahed", 40, 30)]


def test_cli_reads_the_projects_own_air_eval_file():
    res = _cli(str(EVAL), "--json")
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    assert len(out["summaries"]) == 120
    assert not [e for e in out["errors"] if e["field"] in ("published", "published_at", "(line)", "text")]


def test_cli_names_bad_records_and_fields(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text("\n".join([
        json.dumps({"id": "ok", "published": "2026-03-15T07:00:00Z", "text": "Russia launched 10 drones; 8 were shot down."}),
        json.dumps({"id": "late", "published": "15 March", "text": "Russia launched 10 drones."}),
        json.dumps({"id": "empty", "published": "2026-03-15T07:00:00Z", "text": ""}),
        json.dumps([1, 2]),
        "{broken",
    ]) + "\n", encoding="utf-8")
    res = _cli(str(f), "--json")
    assert res.exit_code == 0
    out = json.loads(res.stdout)
    errs = {(e["record"], e["field"]) for e in out["errors"]}
    assert ("bad.jsonl line 2 (id=late)", "published") in errs
    assert ("bad.jsonl line 3 (id=empty)", "text") in errs
    assert ("bad.jsonl line 4", "(line)") in errs
    assert ("bad.jsonl line 5", "(line)") in errs
    assert [s["id"] for s in out["summaries"]] == ["ok"]


def test_number_words_without_pymorphy(monkeypatch):
    """pymorphy3 is optional: the word table still reads the forms posts use."""
    from trucewatch.sources.air import counting

    monkeypatch.setattr(counting, "_morph", lambda lang: None)
    counting._cyr_value.cache_clear()
    try:
        got = [n.value for n in numbers("двох ракет, сорок дронів, п'ятьма дронами, две ракеты, трёх дронов")]
        assert got == [2, 40, 5, 2, 3]
    finally:
        counting._cyr_value.cache_clear()


def test_disagreeing_mentions_are_flagged_with_what_was_kept():
    s = parse_summary("Вночі ворог запустив 22 ударних БпЛА. Збито 17 дронів. Ворог запустив 35 ударних БпЛА.",
                      published=datetime(2026, 3, 1, 7, tzinfo=UTC))
    # the earliest statement wins (the lead quotes the post; later text is related stories), and it is flagged
    assert (s.item("shahed").launched, s.item("shahed").intercepted) == (22, 17)
    assert any(p.startswith("items[0].launched") and "disagree (22, 35); kept 22" in p for p in s.problems)
    # a title and a body that repeat one number agree: nothing to flag (dev: regionews-2024-05-21)
    assert not [p for p in parse_summary(DEV["regionews-2024-05-21"]["text"]).problems if "disagree" in p]


@pytest.mark.parametrize(("text", "want"), [
    # "N of the M <weapon>": a pair, as "N of M" is
    ("Ukraine's air force said it shot down 15 of the 19 drones Russia launched overnight.", {"drone": (19, 15)}),
    # "N of the <adjectives> <weapon>": the partitive names its own weapon; "of the regions" names none
    ("Russia launched 20 drones. The air force said 15 of the Iranian-made Shahed drones were shot down over 5 of the "
     "regions.", {"drone": (20, 15)}),
    # one count for two families is their total, not the first family's
    ("Russia launched 25 missiles and drones overnight. Air defences destroyed 20 drones and 3 missiles.",
     {"drone": (None, 20), "missile": (None, 3)}),
    ("Росія випустила 60 ракет і дронів. Збито 40 дронів.", {"drone": (None, 40)}),
    # ... but "87 drones and four missiles" are two counts
    ("Russia launched 87 drones and four missiles. It downed 56 drones and two missiles.",
     {"drone": (87, 56), "missile": (4, 2)}),
    # "знешкодили 32 з них": the verb before the partitive, not the hit after it
    ("Росіяни атакували 44 дронами. Сили ППО знешкодили 32 з них, проте зафіксовано влучання 12 дронів.",
     {"drone": (44, 32)}),
])
def test_partitives_and_combined_families(text, want):
    got = family_counts(parse_summary(text))
    assert {f: got.get(f) or (got.get("missile_all") if f == "missile" else None) for f in want} == want
    assert not set(got) - set(want) - {"missile_all"}


def test_two_family_total_is_flagged_against_the_items():
    s = parse_summary("Russia launched 25 missiles and drones overnight. Air defences destroyed 20 drones and 3 missiles.")
    assert s.total_launched == 25
    assert any("total_launched" in p for p in s.problems)  # the items do not state their own launches


@pytest.mark.parametrize(("text", "want"), [
    # disappeared from radar is lost, not intercepted, in all three languages
    ("Russia launched 40 drones. Air defence shot down 25 drones; 15 drones disappeared from radar.", (40, 25, 15)),
    ("Ворог атакував 40 БпЛА. Збито 25 БпЛА. Ще 15 дронів-імітаторів зникли з радарів.", (40, 25, 15)),
    ("Враг атаковал 40 БпЛА. Сбиты 25 БпЛА, еще 15 дронов исчезли с радаров.", (40, 25, 15)),
    # "the remaining 5", "решта 5": the complement of what was said, never a count
    ("Russia launched 30 drones; 25 were shot down. The remaining 5 drones hit targets in Odesa.", (30, 25, None)),
    ("Ворог запустив 30 дронів, 25 з них збито. Куди влучили решта 5 дронів, не уточнюється.", (30, 25, None)),
])
def test_lost_phrasings_and_complements(text, want):
    s = parse_summary(text)
    it = s.items[0]
    assert (it.launched, it.intercepted, it.lost) == want


def test_casualties_and_attack_nouns_are_not_counts():
    s = parse_summary("Russia launched 20 drones and a cruise missile in a massive missile attack; 18 drones were shot "
                      "down. Three people were wounded and four were killed.")
    assert family_counts(s) == {"drone": (20, 18), "cruise_missile": (1, None), "missile_all": (1, None)}


def test_pages_that_lost_the_letter_i():
    # some pages drop і/ї in transit; the weapon and state words must still be read
    s = parse_summary("Ворог застосував чотири балстичн ракети скандер-М та 50 безплотникв-мтаторв. "
                      "Збито 30 БпЛА, 20 безплотникв локацйно втрачено.")
    got = family_counts(s)
    assert got["ballistic_missile"] == (4, None) and got["drone"] == (50, 30)


@pytest.mark.parametrize(("text", "want"), [
    # a sub-count after "including / зокрема / в том числе" is a part, not added
    ("Russia launched 100 drones, including 60 Shaheds. Air defences shot down 80.", {"drone": (100, 80)}),
    ("Ворог атакував 100 БпЛА, зокрема 60 шахедів. Збито 80 дронів.", {"drone": (100, 80)}),
    ("Враг атаковал 100 БпЛА, в том числе 60 шахедов. Сбито 80 дронов.", {"drone": (100, 80)}),
    # number words; a verb's bare object ("Сбиты тридцать пять", "Збито 50,") is the last weapon named
    ("Ночью враг запустил сорок два беспилотника. Сбиты тридцать пять.", {"drone": (42, 35)}),
    ("Russia launched forty-two drones overnight; thirty-five were shot down.", {"drone": (42, 35)}),
    ("Росія атакувала 60 дронами, з них 40 – шахеди. Збито 50, ще 8 локаційно втрачені.", {"drone": (60, 50)}),
    # "of the 60 launched, 50 ...": the leading number is the whole
    ("Of the 60 drones launched, 50 were shot down.", {"drone": (60, 50)}),
    ("Из 60 запущенных дронов сбиты 50.", {"drone": (60, 50)}),
    ("З 60 запущених дронів збито 50.", {"drone": (60, 50)}),
    # a title and a body that repeat one count are merged, not added
    ("ППО збила 50 з 60 дронів\nВорог запустив 60 ударних БпЛА. Станом на 9:00 збито 50 дронів.", {"drone": (60, 50)}),
    # "9 ракетами: 6 Х-101 та 3 Іскандер-М": 9 is the missiles' total, no family of its own
    ("Противник атакував 9 ракетами: 6 Х-101 та 3 Іскандер-М. Збито 5 Х-101.",
     {"cruise_missile": (6, 5), "ballistic_missile": (3, None)}),
    # "обидві збиті" as "both": intercepted = launched; "Крім того" is no place and no count
    ("Ворог запустив 30 дронів. Збито 25. Крім того, зафіксовано пуск 2 ракет Х-59, обидві збиті.",
     {"drone": (30, 25), "guided_missile": (2, 2)}),
    # each count to its own weapon
    ("Russia launched 50 drones from Kursk and 3 Iskander-M missiles from Belgorod region. 45 drones were downed.",
     {"drone": (50, 45), "ballistic_missile": (3, None)}),
])
def test_general_phrasings_three_languages(text, want):
    got = family_counts(parse_summary(text))
    assert {f: got.get(f) for f in want} == want
    assert not {f for f in got if f != "missile_all"} - set(want)


def test_as_reported_paragraphs_kept_only_for_the_same_night():
    same = ("Вночі 26 вересня ППО збила 26 безпілотників.\n"
            "Як повідомлялося, у ніч на 26 вересня росіяни запустили 38 дронів.")
    other = ("Вночі 26 вересня ППО збила 26 безпілотників.\n"
             "Як повідомлялося, у ніч на 25 вересня росіяни запустили 44 дрони.")
    assert family_counts(parse_summary(same))["drone"] == (38, 26)
    assert family_counts(parse_summary(other))["drone"] == (None, 26)


@pytest.mark.parametrize(("text", "want"), [
    ("Ворог атакував місто крилатою ракетою Іскандер-К та 10 дронами. Збито 8 дронів.",
     {"cruise_missile": (1, None), "drone": (10, 8)}),
    ("Враг ударил управляемой ракетой Х-59 и 10 дронами. Сбиты 8 дронов и ракета.",
     {"guided_missile": (1, None), "drone": (10, 8)}),
    ("Twelve drones, launched from Kursk and Crimea, were shot down; two drones, launched from Bryansk, were lost.",
     {"drone": (None, 12)}),
])
def test_one_missile_in_the_instrumental_and_participle_clauses(text, want):
    got = family_counts(parse_summary(text))
    assert {f: got.get(f) for f in want} == want
