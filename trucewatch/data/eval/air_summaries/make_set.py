"""Write the labelled set of air-defence summaries (summaries.jsonl) used by ``trucewatch bench air``.

The project wrote these summaries: twelve phrasings (seven Ukrainian, five
English) modelled on the structure of the Air Force's morning posts in
2024-2025 and on wire-service English renderings, filled with drawn counts,
weapons and launch areas, with Ukrainian numeral agreement (1 / 2-4 / 5+).
Labels are the numbers put in, so they are exact.  Run:
``python trucewatch/data/eval/air_summaries/make_set.py`` (seeded, reproducible).

Limits (see docs/air_sea.md): written by the same team as the parser, so the
score is an upper bound of what real posts give; real posts vary more.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).with_name("summaries.jsonl")

MONTHS_UK = ["січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня",
             "листопада", "грудня"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]

DRONE_AREAS = [("kursk", "Курськ", "Kursk"), ("oryol", "Орел", "Oryol"), ("bryansk", "Брянськ", "Bryansk"),
               ("millerovo", "Міллерово", "Millerovo"), ("primorsko-akhtarsk", "Приморсько-Ахтарськ", "Primorsko-Akhtarsk"),
               ("shatalovo", "Шаталово", "Shatalovo"), ("hvardiiske", "Гвардійське – ТОТ Криму", "Hvardiiske (occupied Crimea)"),
               ("chauda", "Чауда – ТОТ Криму", "Chauda (occupied Crimea)"), ("navlya", "Навля", "Navlya")]
MISSILE_AREAS = {
    "cruise_missile": [("saratov", "з Саратовської області", "from the Saratov region"),
                       ("black-sea", "з акваторії Чорного моря", "from the Black Sea"),
                       ("volgograd", "з Волгоградської області", "from the Volgograd region"),
                       ("caspian-sea", "з акваторії Каспійського моря", "from the Caspian Sea")],
    "ballistic_missile": [("kursk", "з Курської області", "from the Kursk region"),
                          ("bryansk", "з Брянської області", "from the Bryansk region"),
                          ("crimea", "з ТОТ Криму", "from occupied Crimea"),
                          ("voronezh", "з Воронезької області", "from the Voronezh region")],
    "guided_missile": [("kursk", "з Курської області", "from the Kursk region"),
                       ("belgorod", "з Бєлгородської області", "from the Belgorod region")],
}

# Ukrainian forms: instrumental (after "атакував N ..."), and accusative/genitive by numeral (1, 2-4, 5+)
UK = {
    "shahed": {"ins": ("ударним БпЛА типу Shahed", "ударними БпЛА типу Shahed, Гербера та дронами-імітаторами різних типів"),
               "acc": ("ворожий БпЛА типу Shahed", "ворожі БпЛА типу Shahed та дрони-імітатори", "ворожих БпЛА типу Shahed, Гербера та дронів-імітаторів різних типів")},
    "cruise_missile": {"ins": ("крилатою ракетою {m}", "крилатими ракетами {m}"),
                       "acc": ("крилату ракету {m}", "крилаті ракети {m}", "крилатих ракет {m}")},
    "ballistic_missile": {"ins": ("балістичною ракетою {m}", "балістичними ракетами {m}"),
                          "acc": ("балістичну ракету {m}", "балістичні ракети {m}", "балістичних ракет {m}")},
    "guided_missile": {"ins": ("керованою авіаційною ракетою {m}", "керованими авіаційними ракетами {m}"),
                       "acc": ("керовану авіаційну ракету {m}", "керовані авіаційні ракети {m}", "керованих авіаційних ракет {m}")},
    "glide_bomb": {"ins": ("керованою авіабомбою", "керованими авіабомбами"),
                   "acc": ("керовану авіабомбу", "керовані авіабомби", "керованих авіабомб")},
}
EN = {"shahed": "Shahed-type attack UAVs and decoy drones of various types", "cruise_missile": "{m} cruise missiles",
      "ballistic_missile": "{m} ballistic missiles", "guided_missile": "{m} guided air missiles",
      "glide_bomb": "guided aerial bombs"}
MODELS = {"cruise_missile": [("Х-101", "Kh-101"), ("«Калібр»", "Kalibr"), ("Х-101/Х-555", "Kh-101/Kh-555"), ("Х-22", "Kh-22")],
          "ballistic_missile": [("Іскандер-М/KN-23", "Iskander-M/KN-23"), ("Іскандер-М", "Iskander-M"), ("«Кинджал»", "Kinzhal")],
          "guided_missile": [("Х-59/69", "Kh-59/69"), ("Х-31П", "Kh-31P")], "glide_bomb": [("", "")], "shahed": [("", "")]}


def _form(n: int) -> int:
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def _draw(rng: np.random.Generator) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"weapon_type": "shahed", "launched": int(rng.integers(20, 500))}]
    for wt, p in (("ballistic_missile", 0.5), ("cruise_missile", 0.4), ("guided_missile", 0.25), ("glide_bomb", 0.08)):
        if rng.random() < p:
            items.append({"weapon_type": wt, "launched": int(rng.integers(1, 60 if wt == "cruise_missile" else 15))})
    for it in items:
        frac = rng.uniform(0.0, 1.0) if it["weapon_type"] == "ballistic_missile" else rng.uniform(0.6, 1.0)
        it["intercepted"] = 0 if it["weapon_type"] == "glide_bomb" else round(it["launched"] * frac)
        mi = int(rng.integers(len(MODELS[it["weapon_type"]])))
        it["model_uk"], it["model_en"] = MODELS[it["weapon_type"]][mi]
        if it["weapon_type"] in MISSILE_AREAS:
            a = MISSILE_AREAS[it["weapon_type"]][int(rng.integers(len(MISSILE_AREAS[it["weapon_type"]])))]
            it["area"] = a
    rng.shuffle(items)
    return sorted(items, key=lambda i: (i["weapon_type"] != "shahed", i["weapon_type"]))  # drones first


def _uk_ins(it: dict) -> str:
    f = UK[it["weapon_type"]]["ins"][0 if _form(it["launched"]) == 0 else 1].format(m=it["model_uk"]).strip()
    area = f" {it['area'][1]}" if "area" in it else ""
    return f"{it['launched']} {f}{area}"


def _uk_acc(it: dict) -> str:
    f = UK[it["weapon_type"]]["acc"][_form(it["intercepted"])].format(m=it["model_uk"]).strip()
    return f"{it['intercepted']} {f}"


def _en(it: dict, key: str) -> str:
    return f"{it[key]} {EN[it['weapon_type']].format(m=it['model_en']).strip()}"


def make(n: int = 120, seed: int = 20260315) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    day0 = date(2025, 3, 1)
    for k in range(n):
        style = k % 12
        d = day0 + timedelta(days=k * 3 % 300)
        prev = d - timedelta(days=1)
        items: list[dict[str, Any]] = _draw(rng) if style in (0, 5, 7, 8, 11) else [
            {"weapon_type": "shahed", "launched": int(rng.integers(20, 400)), "model_uk": "", "model_en": ""}]
        if len(items) == 1 and items[0]["weapon_type"] == "shahed":
            items[0]["intercepted"] = round(items[0]["launched"] * rng.uniform(0.6, 1.0))
        # a few summaries whose numbers do not add up, as printed (labels keep the printed numbers)
        inconsistent = k % 25 == 13
        if inconsistent:
            items[0]["intercepted"] = items[0]["launched"] + int(rng.integers(1, 20))
        areas = [DRONE_AREAS[i] for i in sorted(rng.choice(len(DRONE_AREAS), int(rng.integers(2, 6)), replace=False))]
        tot_l = sum(i["launched"] for i in items)
        tot_i = sum(i["intercepted"] for i in items)
        ints = [i for i in items if i["intercepted"] > 0]
        mon_uk, mon_en = MONTHS_UK[d.month - 1], MONTHS_EN[d.month - 1]
        pmon_uk, pmon_en = MONTHS_UK[prev.month - 1], MONTHS_EN[prev.month - 1]
        head_uk = f"У ніч на {d.day} {mon_uk} (з 18:00 {prev.day} {pmon_uk})"
        head_en = f"On the night of {mon_en} {d.day} (from 18:00 on {pmon_en} {prev.day})"
        a_uk = ", ".join(a[1] for a in areas)
        a_en = ", ".join(a[2] for a in areas)
        hits = int(rng.integers(2, 40))
        locs = int(rng.integers(2, 15))
        if style == 0:
            lines = [f"{head_uk} противник атакував {tot_l} засобами повітряного нападу: " + ", ".join(_uk_ins(i) for i in items) + ".",
                     f"Напрямки пуску ударних БпЛА – {a_uk}.",
                     "Повітряний напад відбивали авіація, зенітні ракетні війська, підрозділи РЕБ та безпілотних систем, мобільні вогневі групи Сил оборони України.",
                     f"За попередніми даними, станом на 08:30, протиповітряною обороною збито/подавлено {tot_i} засобів повітряного нападу противника:"]
            lines += [f"– {_uk_acc(i)};" for i in ints]
            lines.append(f"Зафіксовано влучання {hits} ракет та ударних БпЛА на {locs} локаціях.")
            text, lang = "\n".join(lines), "uk"
        elif style == 1:
            it = items[0]
            text = (f"{head_uk} противник атакував {it['launched']} ударними БпЛА типу Shahed, Гербера та дронами інших типів "
                    f"з напрямків: {a_uk}. Близько {max(1, it['launched'] * 6 // 10)} з них – «шахеди».\n"
                    "Повітряний напад відбивали авіація, зенітні ракетні війська, підрозділи РЕБ та безпілотних систем.\n"
                    f"За попередніми даними, станом на 08:30, протиповітряною обороною збито/подавлено {it['intercepted']} "
                    f"ворожих БпЛА типу Shahed, Гербера та дронів інших типів на півночі, півдні та сході країни.\n"
                    f"Зафіксовано влучання {hits} ударних БпЛА на {locs} локаціях, а також падіння збитих (уламки) на {locs + 1} локаціях.")
            lang = "uk"
        elif style == 2:
            it = items[0]
            text = (f"В ніч на {d.day} {mon_uk} ворог випустив {it['launched']} ударних БпЛА типу «Шахед» з районів: {a_uk}.\n"
                    f"В результаті бойової роботи сили ППО знищили {it['intercepted']} ворожих дронів.")
            lang = "uk"
        elif style == 3:
            it = items[0]
            lost = it["launched"] - it["intercepted"]
            text = (f"{head_uk} противник атакував {it['launched']} ударними БпЛА типу Shahed та дронами-імітаторами з напрямків "
                    f"{a_uk}. Станом на 09:00 підтверджено збиття {it['intercepted']} ворожих БпЛА. "
                    f"{lost} ворожих БпЛА-імітаторів – локаційно втрачені (без негативних наслідків).")
            lang = "uk"
        elif style == 4:
            it = items[0]
            text = (f"Overnight, Russia launched {it['launched']} Shahed-type drones from {a_en}; {it['intercepted']} were shot down.")
            lang = "en"
        elif style == 5:
            text = (f"{head_en}, the enemy attacked with {tot_l} air attack assets: " + ", ".join(
                _en(i, "launched") + (f" {i['area'][2]}" if "area" in i else "") for i in items) + ".\n"
                f"Launch directions of the UAVs: {a_en}.\n"
                f"According to preliminary data, as of 08:30, air defence shot down/suppressed {tot_i} enemy air attack assets:\n"
                + "\n".join(f"- {_en(i, 'intercepted')};" for i in ints) + f"\nHits were recorded at {locs} locations.")
            lang = "en"
        elif style == 6:
            it = items[0]
            text = (f"The Air Force reported that {it['launched']} Shahed and decoy drones were launched from {a_en} overnight. "
                    f"{it['intercepted']} drones were shot down or suppressed by electronic warfare, while "
                    f"{hits} hit their targets at {locs} locations.")
            lang = "en"
        elif style == 7:
            lines = [f"{head_uk} ворог атакував:"] + [f"– {_uk_ins(i)};" for i in items] + [
                f"Напрямки пуску БпЛА: {a_uk}.", "За попередніми даними, станом на 09:00 збито/подавлено:"] + [
                f"– {_uk_acc(i)};" for i in ints] + [f"Зафіксовано влучання на {locs} локаціях."]
            text, lang = "\n".join(lines), "uk"
        elif style == 8:
            parts = [_en(i, "launched") + (f" {i['area'][2]}" if "area" in i else "") for i in items]
            downs = [f"{i['intercepted']} " + ("drones" if i["weapon_type"] == "shahed" else EN[i["weapon_type"]].format(m=i["model_en"]).strip()) for i in ints]
            text = (f"Russia attacked Ukraine overnight on {mon_en} {d.day} with " + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
                    + f", the Air Force said. Drones were launched from {a_en}. Air defences downed " + ", ".join(downs) + ".")
            lang = "en"
        elif style == 9:
            it = items[0]
            text = (f"{d.day} {mon_uk}. Нічна атака: противник запустив {it['launched']} ударних БпЛА (Shahed, Гербера, імітатори) "
                    f"з напрямків {a_uk}. Знешкоджено {it['intercepted']} ворожих безпілотників.")
            lang = "uk"
        elif style == 10:
            it = items[0]
            text = (f"{head_en}, Russia attacked with {it['launched']} Shahed-type strike UAVs, Gerbera and other drones from the "
                    f"directions of {a_en}. About {max(1, it['launched'] // 2)} of them were Shaheds. As of 08:30, "
                    f"{it['intercepted']} enemy UAVs were shot down or suppressed in the north, south and east of the country. "
                    f"Hits by {hits} strike UAVs were recorded at {locs} locations.")
            lang = "en"
        else:
            lines = [f"{head_uk} противник завдав комбінованого удару: {tot_l} засобів повітряного нападу, з них " + ", ".join(
                f"{i['launched']} " + UK[i["weapon_type"]]["acc"][_form(i["launched"])].format(m=i["model_uk"]).replace("ворож", "ударн").strip()
                + (f" {i['area'][1]}" if "area" in i else "") for i in items) + ".",
                f"Напрямки пуску БпЛА – {a_uk}.",
                f"Станом на 08:30 протиповітряною обороною збито/подавлено {tot_i} цілей: " + ", ".join(_uk_acc(i) for i in ints) + "."]
            text, lang = "\n".join(lines), "uk"
        launch_areas = sorted({a[0] for a in areas} | {i["area"][0] for i in items if "area" in i})
        out.append({
            "id": f"air-eval-{k:03d}", "language": lang, "style": style, "published": f"{d.isoformat()}T07:00:00Z",
            "text": text,
            "expected": {"items": [{"weapon_type": i["weapon_type"], "launched": i["launched"], "intercepted": i["intercepted"]}
                                   for i in items],
                         "launch_areas": launch_areas, "inconsistent": inconsistent},
        })
    return out


def main() -> None:
    rows = make()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} summaries to {OUT}")


if __name__ == "__main__":
    main()
