"""Air-defence summaries: counts per weapon type, launch areas, time window, checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from trucewatch.sources.air.summary import parse_summary

EVAL = Path(__file__).resolve().parents[3] / "trucewatch" / "data" / "eval" / "air_summaries" / "summaries.jsonl"

UK = """У ніч на 8 червня (з 18:00 7 червня) противник атакував 215 засобами повітряного нападу: 206 ударними БпЛА типу «Shahed» та дронами-імітаторами різних типів, 2 крилатими ракетами Х-101 з Саратовської області, 7 керованими авіаційними ракетами Х-59/69 з Курської області.
Напрямки пуску БпЛА – Курськ, Орел, Брянськ, Міллерово, Приморсько-Ахтарськ, Шаталово.
Повітряний напад відбивали авіація, зенітні ракетні війська, підрозділи РЕБ та мобільні вогневі групи Сил оборони України.
За попередніми даними, станом на 08:30, протиповітряною обороною збито/подавлено 184 засоби повітряного нападу противника:
– 2 крилаті ракети Х-101;
– 7 керованих авіаційних ракет Х-59/69;
– 175 ворожих БпЛА типу «Shahed» та дронів-імітаторів різних типів.
Зафіксовано влучання ракет та 22 ударних БпЛА на 12 локаціях."""


def test_ukrainian_summary_counts_areas_and_window():
    s = parse_summary(UK, summary_id="kpszsu/1", published=datetime(2025, 6, 8, 6, 0, tzinfo=UTC))
    got = {i.weapon_type: (i.launched, i.intercepted) for i in s.items}
    assert got == {"shahed": (206, 175), "cruise_missile": (2, 2), "guided_missile": (7, 7)}
    assert (s.total_launched, s.total_intercepted) == (215, 184)
    assert not s.problems
    assert s.language == "uk"
    # Kyiv summer time is UTC+3
    assert s.window_from == datetime(2025, 6, 7, 15, 0, tzinfo=UTC)
    assert s.window_to == datetime(2025, 6, 8, 5, 30, tzinfo=UTC)
    cruise = s.item("cruise_missile")
    assert [a["id"] for a in cruise.launch_areas] == ["saratov"]
    assert "Х-101" in cruise.models
    drone_ids = {a["id"] for a in s.item("shahed").launch_areas}
    assert drone_ids == {"kursk", "oryol", "bryansk", "millerovo", "primorsko-akhtarsk", "shatalovo"}
    assert s.item("shahed").includes_decoys


def test_issue_example_english():
    s = parse_summary("Launched 100 Shahed-type drones from Kursk, Oryol and Primorsko-Akhtarsk; 80 were shot down.",
                      published=datetime(2026, 3, 15, 7, tzinfo=UTC))
    assert [(i.weapon_type, i.launched, i.intercepted) for i in s.items] == [("shahed", 100, 80)]
    assert [a["id"] for a in s.launch_areas] == ["kursk", "oryol", "primorsko-akhtarsk"]
    assert all(a["lat"] is not None for a in s.launch_areas)


def test_bare_counts_resolve_to_the_launched_family():
    s = parse_summary("Overnight Russia launched 6 Iskander-M ballistic missiles from the Kursk region and 145 attack drones. "
                      "Air defence shot down 2 missiles and 105 drones; 40 drones were lost locationally.",
                      published=datetime(2026, 3, 15, 7, tzinfo=UTC))
    got = {i.weapon_type: (i.launched, i.intercepted, i.lost) for i in s.items}
    assert got == {"ballistic_missile": (6, 2, None), "shahed": (145, 105, 40)}


def test_more_intercepted_than_launched_is_flagged_not_dropped():
    s = parse_summary("У ніч на 3 квітня противник атакував 50 ударними БпЛА типу Shahed з напрямку Курськ. "
                      "Збито/подавлено 57 ворожих БпЛА.", published=datetime(2026, 4, 3, 6, tzinfo=UTC))
    assert s.item("shahed").launched == 50 and s.item("shahed").intercepted == 57
    assert any(p.startswith("items[0].intercepted") and "more than" in p for p in s.problems)


def test_model_numbers_times_and_dates_are_not_counts():
    s = parse_summary("У ніч на 12 лютого (з 19:00 11 лютого) ворог випустив 3 ракети Х-22 та 4 ракети KN-23 і "
                      "12 дронів Shahed-131/136. Станом на 09:00 збито 1 ракету Х-22 і 10 дронів.",
                      published=datetime(2026, 2, 12, 7, tzinfo=UTC))
    got = {i.weapon_type: (i.launched, i.intercepted) for i in s.items}
    assert got == {"cruise_missile": (3, 1), "ballistic_missile": (4, None), "shahed": (12, 10)}


def test_not_a_summary_gives_no_items():
    s = parse_summary("Тривога в Києві триває. Будьте в укриттях.", summary_id="x")
    assert not s.items and s.problems


def test_labelled_set_accuracy():
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 100
    ok = total = 0
    for r in rows:
        s = parse_summary(r["text"], published=datetime.fromisoformat(r["published"].replace("Z", "+00:00")))
        for e in r["expected"]["items"]:
            it = s.item(e["weapon_type"])
            for k in ("launched", "intercepted"):
                total += 1
                ok += int(((getattr(it, k) if it else None) or 0) == e[k])
    assert ok / total >= 0.95


def test_intake_formats_and_cli(tmp_path):
    from trucewatch.cli import app

    tg = {"name": "Повітряні Сили ЗСУ", "messages": [
        {"id": 1, "type": "message", "date": "2025-06-08T09:10:00", "date_unixtime": "1749363000",
         "text": [UK[:200], {"type": "bold", "text": UK[200:]}]},
        {"id": 2, "type": "service", "date": "2025-06-08T09:11:00", "text": ""},
        {"id": 3, "type": "message", "date": "2025-06-08T10:00:00", "text": "Загроза балістики!"}]}
    f = tmp_path / "result.json"
    f.write_text(json.dumps(tg, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "obs.jsonl"
    r = CliRunner().invoke(app, ["air", "summaries", str(f), "--json", "--out", str(out)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(d["summaries"]) == 1
    obs = [json.loads(x) for x in out.read_text().splitlines()]
    assert {o["attributes"]["weapon_type"] for o in obs} == {"shahed", "cruise_missile", "guided_missile"}
    for o in obs:
        assert o["kind"] == "air_summary"
        assert {"weapon_type", "launched", "intercepted", "launch_areas", "window_from", "window_to"} <= set(o["attributes"])
    bad = tmp_path / "posts.jsonl"
    bad.write_text('{"id": "a", "source": "kpszsu", "published_at": "2026-04-03T06:00:00Z", '
                   '"text": "Противник атакував 5 ударними БпЛА. Збито 9 БпЛА."}\n'
                   '{"id": "b", "source": "kpszsu", "published_at": "2026-04-03T06:00:00Z", "text": ""}\nnot json\n',
                   encoding="utf-8")
    r = CliRunner().invoke(app, ["air", "summaries", str(bad)])
    assert r.exit_code == 0
    errs = [ln for ln in r.output.splitlines() if ln.startswith("error:")]
    assert any("items[0].intercepted" in e and "more than 5 launched" in e for e in errs)
    assert any("line 2" in e for e in errs) and any("line 3" in e for e in errs)
    assert "1 summaries" in r.output


def test_report_section_sets_counts_against_the_agreement(agreement):
    from trucewatch.sources.air.intake import Post, process_posts
    from trucewatch.sources.air.report import air_section

    _, obs, _ = process_posts([Post("p1", datetime(2025, 6, 8, 6, tzinfo=UTC), UK)])
    sec = air_section(obs, agreement)
    assert sec["by_type"]["shahed"] == {"launched": 206, "intercepted": 175, "summaries": 1,
                                        "intercepted_share": round(175 / 206, 3)}
    kursk = next(a for a in sec["by_area"] if a["name"].startswith("Курськ"))
    assert kursk["side"] == "RU" and kursk["launches_forbidden"] is True
    json.dumps(sec)


def test_older_formats_lost_decoys_and_explicit_year():
    uk = ("У ніч на 28 грудня 2024 року противник атакував 16 ударними БпЛА типу «Shahed» та ударними БпЛА інших "
          "типів з напрямків Міллерово, Приморсько-Ахтарськ – РФ.\nСтаном на 09:00 підтверджено збиття 12 ударних БпЛА "
          "у Київській, Черкаській, Сумській та Херсонській областях. 3 ворожі БпЛА-імітатори – локаційно втрачені "
          "(без негативних наслідків).")
    s = parse_summary(uk, published=datetime(2025, 1, 1, 7, tzinfo=UTC))
    assert [(i.weapon_type, i.launched, i.intercepted, i.lost) for i in s.items] == [("shahed", 16, 12, 3)]
    assert [a["id"] for a in s.launch_areas] == ["millerovo", "primorsko-akhtarsk"]  # not the Ukrainian oblasts
    assert s.window_to == datetime(2024, 12, 28, 7, 0, tzinfo=UTC)
    emoji = ("⚡️ У ніч на 5 лютого (з 18:00 4 лютого) ворог атакував 104 ударними БпЛА типу Shahed та дронами-імітаторами "
             "різних типів з напрямків: Курськ, Брянськ, Орел.\n✅ Станом на 08:30 збито 56 ворожих БпЛА.\n"
             "❗️ 48 ворожих дронів-імітаторів локаційно втрачено (без негативних наслідків).")
    s = parse_summary(emoji, published=datetime(2025, 2, 5, 7, tzinfo=UTC))
    assert [(i.weapon_type, i.launched, i.intercepted, i.lost) for i in s.items] == [("shahed", 104, 56, 48)]


def test_unknown_listed_place_is_kept_not_dropped():
    s = parse_summary("Overnight, Russia launched 40 Shahed-type drones from Kursk and Zyuzyukino-Nowhere; 30 were shot down.",
                      published=datetime(2026, 3, 15, 7, tzinfo=UTC))
    names = [a["name"] for a in s.launch_areas]
    assert names == ["Kursk", "Zyuzyukino-Nowhere"]
    odd = s.launch_areas[1]
    # the project gazetteer may know it; if not, it stays unresolved and the summary says so
    assert odd["resolved_by"] == "gazetteer" or (odd["lat"] is None and any("not geocoded" in p for p in s.problems))
