#!/usr/bin/env python
"""Write the labelled evaluation set for text reports (reports.jsonl, labels inside).

Two parts, both labelled by the project:
1. ``viina``: real headlines (Ukrainian and Russian, March 2025) from the VIINA
   corpus (Zhukov, ODbL 1.0), read and labelled by hand here: the place the
   headline is about (GeoNames coordinates of that place, chosen by reading the
   oblast named or implied), the event type under the policy of docs/text.md
   (the means when named, else the effect), and same-event clusters: the same
   city hit by the same means in the same attack night (or day) is one event,
   also when a later headline updates the casualty count or comes days later
   about the same strike.  ``viina_holdout`` rows were labelled after the rules
   were tuned and were not used to tune them (cluster tags of the first batch
   were later made consistent with this rule across both batches).
   ``viina_holdout2`` is a second fresh random sample labelled after all tuning.
2. ``written``: reports written by the project in English, Ukrainian and
   Russian for hand-picked events: villages sharing a name across oblasts,
   transliteration variants (national, BGN/PCGN, press/Russian spellings),
   relative locations ("7 km south-east of", "between A and B", "near", "the A
   direction"), independent reports of one event from several channels, and
   copies (reposts with "via @x", lightly edited reposts and translations)
   labelled with ``copy_of``.  Coordinates are those of GeoNames for the place;
   for relative phrases the label is the point the phrase describes.

Run: python trucewatch/data/eval/reports/build_eval.py  (deterministic, seed 7)
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
VIINA = Path(__file__).resolve().parents[5] / "shared" / "data" / "events" / "viina_headlines_2025-03.csv"

# place key -> (lat, lon) from GeoNames
P = {
    "kharkiv": (49.9935, 36.2304), "odesa": (46.4775, 30.7326), "dnipro": (48.4647, 35.0462),
    "kherson": (46.6354, 32.6169), "kryvyi_rih": (47.9105, 33.3918), "kramatorsk": (48.7389, 37.5844),
    "kupiansk": (49.7100, 37.6158), "zaporizhzhia": (47.8388, 35.1396), "kyiv": (50.4501, 30.5234),
    "sumy": (50.9077, 34.7981), "pokrovsk": (48.2820, 37.1760), "kivsharivka": (49.6303, 37.6775),
    "kozacha_lopan": (50.3321, 36.1982), "nikopol": (47.5683, 34.3913), "antonivka_kh": (46.6767, 32.7306),
    "zolochiv_kh": (50.2733, 35.9776), "toretsk": (48.3948, 37.8478), "stepnohirsk": (47.5902, 35.3640),
    "chervonyi_maiak": (46.9574, 33.6039), "kropyvnytskyi": (48.5079, 32.2623), "sloviansk": (48.8527, 37.6057),
    "udachne": (48.2410, 36.9924), "izium": (49.2128, 37.2566), "kurakhove": (47.9847, 37.2807),
    "kamianske": (48.5172, 34.6062), "bucha": (50.5435, 30.2129), "lyman": (48.9901, 37.8084),
    "huliaipole": (47.6669, 36.2558), "orikhiv": (47.5761, 35.7833), "vovchansk": (50.2908, 36.9411),
    "siversk": (48.8648, 38.0968), "marhanets": (47.6309, 34.6245), "beryslav": (46.8385, 33.4266),
    "druzhkivka": (48.6200, 37.5254), "shostka": (51.8643, 33.4728), "ochakiv": (46.6147, 31.5451),
    "izmail": (45.3506, 28.8375), "balakliia": (49.4560, 36.8443), "polohy": (47.4787, 36.2546),
    "vilniansk": (47.9477, 35.4403), "synelnykove": (48.3236, 35.5261), "kostiantynivka": (48.5273, 37.7059),
    "kostiantynivka_zp": (46.8178, 35.4242), "novoselivka_kh": (49.4627, 36.8595),
    "novoselivka_od": (47.1640, 30.8263), "zolochiv_lv": (49.8074, 24.9038), "mykolaivka_do": (48.5757, 37.7977),
    "mykolaivka_su": (50.9414, 34.3737), "pokrovske_dp": (47.9813, 36.2345), "ivanivka_kh": (46.7127, 34.5498),
    "belgorod": (50.6034, 36.5809), "kursk": (51.7269, 36.1846), "bryansk": (53.2710, 34.3214),
    "millerovo": (48.9252, 40.3998), "yeysk": (46.6926, 38.2791), "primorsko_akhtarsk": (46.0485, 38.1790),
    "bilenke_do": (48.7659, 37.6331), "bilenke_zp": (47.6262, 35.0369), "terny_dp": (48.1451, 33.5583),
    "terny_su": (50.9892, 33.9707), "horodok_km": (49.1721, 26.5636), "horodok_lv": (49.7848, 23.6481),
    "chornomorsk": (46.3010, 30.6556), "chernihiv": (51.4982, 31.2893), "dobropillia": (48.4700, 37.0853),
    "bilozerka": (46.6326, 32.4383), "pavlohrad": (48.5341, 35.8703), "poltava": (49.5883, 34.5514),
    "okhtyrka": (50.3103, 34.8988), "rostov": (47.2357, 39.7015), "pivdenne_od": (46.6222, 31.1013),
    "chasiv_yar": (48.5877, 37.8341), "velyka_novosilka": (47.8428, 36.8363), "mirnohrad": (48.3041, 37.2618),
    "bakhmut": (48.5947, 38.0003), "avdiivka": (48.1395, 37.7426), "selydove": (48.1469, 37.3003),
    "kotlyne": (48.2570, 36.9940), "bilozerske": (48.5337, 37.0627), "oleksandrivka_do": (48.7074, 36.9127),
}

# ---------------------------------------------------------------------------
# part 1: VIINA headlines labelled by hand: row index -> (place, event type, cluster tag or "")
VIINA_LABELS: dict[int, tuple[str, str, str]] = {
    4934: ("kryvyi_rih", "missile_strike", ""), 2554: ("kozacha_lopan", "air_strike", ""),
    2429: ("dnipro", "drone_strike", ""), 4969: ("kharkiv", "drone_strike", "kh0330"),
    2367: ("kharkiv", "drone_strike", "kh0313"), 1885: ("kramatorsk", "facility_fire", ""),
    238: ("kivsharivka", "shelling", ""), 3506: ("odesa", "drone_strike", "od0321"),
    3665: ("odesa", "drone_strike", "od0321"), 1348: ("odesa", "drone_strike", ""),
    535: ("odesa", "drone_strike", ""), 1870: ("kherson", "drone_strike", ""),
    816: ("odesa", "drone_strike", "od0304"), 807: ("odesa", "drone_strike", "od0304"),
    4559: ("kherson", "shelling", ""), 2089: ("dnipro", "drone_strike", ""),
    2458: ("pokrovsk", "ground_assault", ""), 1887: ("odesa", "drone_strike", "od0311"),
    3624: ("zaporizhzhia", "air_strike", ""), 3468: ("kupiansk", "air_strike", ""),
    1631: ("nikopol", "shelling", ""), 5170: ("kupiansk", "air_strike", ""),
    730: ("dnipro", "drone_strike", ""), 2801: ("antonivka_kh", "drone_strike", ""),
    126: ("kharkiv", "drone_strike", "kh0301"), 2559: ("zolochiv_kh", "drone_strike", ""),
    5151: ("kharkiv", "drone_strike", ""), 4784: ("dnipro", "facility_fire", "dp0328"),
    4788: ("dnipro", "drone_strike", "dp0328"), 471: ("kherson", "drone_strike", ""),
    3138: ("toretsk", "ground_assault", ""), 2130: ("stepnohirsk", "shelling", ""),
    3543: ("kramatorsk", "shelling", ""), 2699: ("kryvyi_rih", "missile_strike", ""),
    2101: ("chervonyi_maiak", "air_strike", ""), 619: ("kharkiv", "shelling", ""),
    3471: ("kropyvnytskyi", "drone_strike", ""), 3975: ("sloviansk", "air_strike", ""),
    4323: ("kryvyi_rih", "facility_fire", ""), 1407: ("kharkiv", "missile_strike", ""),
    1903: ("udachne", "shelling", ""), 3504: ("odesa", "drone_strike", "od0320"),
    4074: ("pokrovsk", "ground_assault", ""), 3611: ("dnipro", "drone_strike", ""),
    607: ("kharkiv", "drone_strike", ""), 4270: ("izium", "drone_strike", ""),
    3190: ("kupiansk", "drone_strike", ""), 4645: ("zaporizhzhia", "drone_strike", ""),
    2785: ("kurakhove", "ground_assault", ""), 3985: ("kyiv", "drone_strike", "kv0323"),
    1415: ("kharkiv", "drone_strike", ""), 4546: ("kharkiv", "drone_strike", ""),
    727: ("zaporizhzhia", "drone_strike", ""), 3932: ("kyiv", "drone_strike", "kv0323"),
    1667: ("kherson", "drone_strike", ""), 952: ("kyiv", "drone_strike", ""),
    470: ("nikopol", "shelling", ""), 3354: ("kamianske", "shelling", ""),
    4920: ("kharkiv", "drone_strike", "kh0330"), 4408: ("dnipro", "drone_strike", ""),
    736: ("kherson", "ground_assault", ""), 2854: ("pokrovsk", "shelling", ""),
    1293: ("kryvyi_rih", "missile_strike", ""), 3691: ("kyiv", "drone_strike", ""),
    154: ("bucha", "drone_strike", ""), 4916: ("", "", ""),
}
VIINA_LABELS = {k: v for k, v in VIINA_LABELS.items() if v[0]}

#: Held out: labelled after the rules were tuned and never used to tune them (part "viina_holdout").
VIINA_HOLDOUT: dict[int, tuple[str, str, str]] = {
    4729: ("dnipro", "facility_fire", "dp0328"), 4715: ("dnipro", "facility_fire", "dp0328"),
    2484: ("chornomorsk", "drone_strike", ""), 4046: ("kyiv", "drone_strike", "kv0323"),
    3955: ("kyiv", "drone_strike", "kv0323"), 3687: ("zaporizhzhia", "drone_strike", "zp0322"),
    345: ("kharkiv", "drone_strike", "kh0302"), 273: ("kharkiv", "drone_strike", "kh0302"),
    1354: ("dobropillia", "other", ""), 729: ("odesa", "drone_strike", "od0304"), 2669: ("chernihiv", "drone_strike", ""),
    750: ("odesa", "drone_strike", "od0304"), 1908: ("pokrovsk", "shelling", ""), 1984: ("odesa", "drone_strike", "od0311"),
    2314: ("dnipro", "drone_strike", ""), 3845: ("zaporizhzhia", "drone_strike", "zp0322"),
    2291: ("kharkiv", "drone_strike", "kh0313"), 3441: ("odesa", "drone_strike", "od0320"), 3418: ("kramatorsk", "other", ""),
    3586: ("bilozerka", "drone_strike", ""), 961: ("pavlohrad", "missile_strike", ""),
    1624: ("kryvyi_rih", "missile_strike", "viina-1293"), 2607: ("kryvyi_rih", "missile_strike", "viina-2699"),
    6: ("kherson", "shelling", ""), 4753: ("poltava", "infrastructure_damage", ""),
    2455: ("kherson", "air_strike", ""), 4638: ("pokrovsk", "shelling", ""), 3209: ("kramatorsk", "air_strike", ""),
    950: ("odesa", "drone_strike", "od0305"), 1023: ("odesa", "other", "od0305"),
    2298: ("zaporizhzhia", "infrastructure_damage", "zp0313"),
    2265: ("zaporizhzhia", "infrastructure_damage", "zp0313"), 1473: ("kostiantynivka", "shelling", ""),
    2026: ("odesa", "missile_strike", ""), 4276: ("pokrovsk", "ground_assault", ""),
    3165: ("zaporizhzhia", "drone_strike", ""),
}


#: Second holdout: a fresh random sample labelled after all tuning; reported, never tuned on.
VIINA_HOLDOUT2: dict[int, tuple[str, str, str]] = {
    4400: ("okhtyrka", "drone_strike", ""), 3408: ("kropyvnytskyi", "other", "viina-3471"),
    3472: ("kropyvnytskyi", "other", "viina-3471"), 3397: ("kropyvnytskyi", "other", "viina-3471"),
    3556: ("kropyvnytskyi", "drone_strike", "viina-3471"), 1626: ("kherson", "drone_strike", ""),
    4970: ("dnipro", "missile_strike", ""), 3862: ("dobropillia", "drone_strike", ""),
    1150: ("kryvyi_rih", "missile_strike", ""), 949: ("sumy", "drone_strike", ""),
    3873: ("kyiv", "drone_strike", "viina-3691"), 3779: ("kyiv", "drone_strike", "viina-3691"),
    1279: ("kramatorsk", "shelling", ""), 1570: ("druzhkivka", "other", ""), 4471: ("kharkiv", "drone_strike",
                                                                                 "viina-4546"),
    4467: ("kharkiv", "drone_strike", "viina-4546"), 1015: ("odesa", "drone_strike", "od0305"),
    1021: ("odesa", "drone_strike", "od0305"), 954: ("odesa", "drone_strike", "od0305"),
    4639: ("dnipro", "drone_strike", "dp0328"), 1546: ("dobropillia", "other", "viina-1354"),
    1565: ("dobropillia", "missile_strike", "viina-1354"), 971: ("kostiantynivka", "air_strike", ""),
    3793: ("nikopol", "shelling", ""), 4307: ("nikopol", "shelling", "np0326"), 4371: ("nikopol", "shelling", "np0326"),
    3784: ("zaporizhzhia", "other", "zp0322"), 3786: ("zaporizhzhia", "drone_strike", "zp0322"),
    3738: ("zaporizhzhia", "other", "zp0322"), 1405: ("kharkiv", "missile_strike", ""),
    3964: ("kyiv", "drone_strike", "kv0323"), 763: ("kharkiv", "drone_strike", ""),
    3509: ("odesa", "drone_strike", "od0321"), 3339: ("kamianske", "missile_strike", ""),
    3379: ("kostiantynivka", "shelling", ""), 2324: ("kostiantynivka", "air_strike", ""),
    3265: ("kherson", "shelling", ""), 4095: ("sumy", "missile_strike", ""), 1529: ("odesa", "facility_fire", ""),
    724: ("sumy", "other", ""), 74: ("zaporizhzhia", "drone_strike", ""), 4548: ("dnipro", "other", ""),
    1151: ("dobropillia", "air_strike", ""), 945: ("antonivka_kh", "drone_strike", ""),
    3693: ("rostov", "drone_strike", ""), 2764: ("izium", "drone_strike", ""), 4322: ("kryvyi_rih", "other", ""),
    4495: ("kherson", "drone_strike", ""), 236: ("zaporizhzhia", "drone_strike", ""),
    3326: ("sloviansk", "air_strike", ""), 2886: ("kyiv", "drone_strike", ""),
    2129: ("kryvyi_rih", "missile_strike", ""), 1264: ("pivdenne_od", "infrastructure_damage", ""),
}


def viina_part(labels: dict[int, tuple[str, str, str]] | None = None, part: str = "viina") -> list[dict]:
    rows = list(csv.DictReader(VIINA.open(encoding="utf-8-sig")))
    out = []
    for idx, (place, et, tag) in sorted((labels or VIINA_LABELS).items()):
        r = rows[idx]
        day = datetime.fromisoformat(r["datetime"]).replace(tzinfo=UTC)
        if day.hour == 0 and day.minute == 0:  # date only: call it mid-morning
            day += timedelta(hours=10)
        lat, lon = P[place]
        out.append({
            "id": f"viina-{idx}", "source": "viina", "published_at": day.isoformat(),
            "text": r["headline"], "lang": None,
            "label": {"lat": lat, "lon": lon, "event_type": et, "cluster": tag or f"viina-{idx}",
                      "copy_of": None, "place": place, "part": part},
        })
    return out


# ---------------------------------------------------------------------------
# part 2: written reports.  Place forms: nominative, locative ("in X"), genitive ("near X").
F: dict[str, dict[str, Sequence[str]]] = {
    "bilenke_do": {"uk": ("Біленьке", "Біленькому", "Біленького"), "ru": ("Беленькое", "Беленьком", "Беленького"),
                   "en": ("Bilenke", "Bilen'ke", "Belenkoye"), "reg": ("Донецької області", "Донецкой области",
                                                                      "Donetsk region")},
    "bilenke_zp": {"uk": ("Біленьке", "Біленькому", "Біленького"), "ru": ("Беленькое", "Беленьком", "Беленького"),
                   "en": ("Bilenke", "Bilen'ke", "Belenkoye"), "reg": ("Запорізької області", "Запорожской области",
                                                                      "Zaporizhzhia oblast")},
    "terny_dp": {"uk": ("Терни", "Тернах", "Терн"), "ru": ("Терны", "Тернах", "Терн"), "en": ("Terny", "Terni"),
                 "reg": ("Дніпропетровської області", "Днепропетровской области", "Dnipropetrovsk region")},
    "terny_su": {"uk": ("Терни", "Тернах", "Терн"), "ru": ("Терны", "Тернах", "Терн"), "en": ("Terny", "Terni"),
                 "reg": ("Сумської області", "Сумской области", "Sumy oblast")},
    "horodok_km": {"uk": ("Городок", "Городку", "Городка"), "ru": ("Городок", "Городке", "Городка"),
                   "en": ("Horodok", "Gorodok"), "reg": ("Хмельницької області", "Хмельницкой области",
                                                         "Khmelnytskyi region")},
    "horodok_lv": {"uk": ("Городок", "Городку", "Городка"), "ru": ("Городок", "Городке", "Городка"),
                   "en": ("Horodok", "Gorodok"), "reg": ("Львівської області", "Львовской области", "Lviv region")},
    "zolochiv_kh": {"uk": ("Золочів", "Золочеві", "Золочева"), "ru": ("Золочев", "Золочеве", "Золочева"),
                    "en": ("Zolochiv", "Zolochev"), "reg": ("Харківської області", "Харьковской области",
                                                             "Kharkiv Oblast")},
    "zolochiv_lv": {"uk": ("Золочів", "Золочеві", "Золочева"), "ru": ("Золочев", "Золочеве", "Золочева"),
                    "en": ("Zolochiv", "Zolochev"), "reg": ("Львівської області", "Львовской области",
                                                             "Lviv region")},
    "mykolaivka_do": {"uk": ("Миколаївка", "Миколаївці", "Миколаївки"), "ru": ("Николаевка", "Николаевке",
                      "Николаевки"), "en": ("Mykolaivka", "Mykolayivka"), "reg": ("Донецької області",
                      "Донецкой области", "Donetsk region")},
    "mykolaivka_su": {"uk": ("Миколаївка", "Миколаївці", "Миколаївки"), "ru": ("Николаевка", "Николаевке",
                      "Николаевки"), "en": ("Mykolaivka", "Mykolayivka"), "reg": ("Сумської області",
                      "Сумской области", "Sumy oblast")},
    "kostiantynivka": {"uk": ("Костянтинівка", "Костянтинівці", "Костянтинівки"), "ru": ("Константиновка",
                       "Константиновке", "Константиновки"), "en": ("Kostiantynivka", "Kostyantynivka",
                       "Konstantinovka"), "reg": ("Донецької області", "Донецкой области", "Donetsk region")},
    "pokrovske_dp": {"uk": ("Покровське", "Покровському", "Покровського"), "ru": ("Покровское", "Покровском",
                     "Покровского"), "en": ("Pokrovske", "Pokrovskoye"), "reg": ("Дніпропетровської області",
                     "Днепропетровской области", "Dnipropetrovsk region")},
    "pokrovsk": {"uk": ("Покровськ", "Покровську", "Покровська"), "ru": ("Покровск", "Покровске", "Покровска"),
                 "en": ("Pokrovsk", "Pokrovs'k"), "reg": ("Донецької області", "Донецкой области", "Donetsk region")},
    "huliaipole": {"uk": ("Гуляйполе", "Гуляйполі", "Гуляйполя"), "ru": ("Гуляйполе", "Гуляйполе", "Гуляйполя"),
                   "en": ("Huliaipole", "Hulyaipole", "Gulyaypole"), "reg": ("Запорізької області",
                   "Запорожской области", "Zaporizhzhia region")},
    "orikhiv": {"uk": ("Оріхів", "Оріхові", "Оріхова"), "ru": ("Орехов", "Орехове", "Орехова"),
                "en": ("Orikhiv", "Orekhov"), "reg": ("Запорізької області", "Запорожской области",
                                                      "Zaporizhzhia oblast")},
    "vovchansk": {"uk": ("Вовчанськ", "Вовчанську", "Вовчанська"), "ru": ("Волчанск", "Волчанске", "Волчанска"),
                  "en": ("Vovchansk", "Volchansk"), "reg": ("Харківської області", "Харьковской области",
                                                            "Kharkiv region")},
    "siversk": {"uk": ("Сіверськ", "Сіверську", "Сіверська"), "ru": ("Северск", "Северске", "Северска"),
                "en": ("Siversk", "Seversk"), "reg": ("Донецької області", "Донецкой области", "Donetsk region")},
    "marhanets": {"uk": ("Марганець", "Марганці", "Марганця"), "ru": ("Марганец", "Марганце", "Марганца"),
                  "en": ("Marhanets", "Marganets"), "reg": ("Дніпропетровської області", "Днепропетровской области",
                                                            "Dnipropetrovsk region")},
    "beryslav": {"uk": ("Берислав", "Бериславі", "Берислава"), "ru": ("Берислав", "Бериславе", "Берислава"),
                 "en": ("Beryslav", "Berislav"), "reg": ("Херсонської області", "Херсонской области",
                                                         "Kherson region")},
    "druzhkivka": {"uk": ("Дружківка", "Дружківці", "Дружківки"), "ru": ("Дружковка", "Дружковке", "Дружковки"),
                   "en": ("Druzhkivka", "Druzhkovka"), "reg": ("Донецької області", "Донецкой области",
                                                               "Donetsk region")},
    "shostka": {"uk": ("Шостка", "Шостці", "Шостки"), "ru": ("Шостка", "Шостке", "Шостки"),
                "en": ("Shostka", "Shostka"), "reg": ("Сумської області", "Сумской области", "Sumy region")},
    "ochakiv": {"uk": ("Очаків", "Очакові", "Очакова"), "ru": ("Очаков", "Очакове", "Очакова"),
                "en": ("Ochakiv", "Ochakov"), "reg": ("Миколаївської області", "Николаевской области",
                                                      "Mykolaiv region")},
    "izmail": {"uk": ("Ізмаїл", "Ізмаїлі", "Ізмаїла"), "ru": ("Измаил", "Измаиле", "Измаила"),
               "en": ("Izmail", "Izmayil"), "reg": ("Одеської області", "Одесской области", "Odesa region")},
    "balakliia": {"uk": ("Балаклія", "Балаклії", "Балаклії"), "ru": ("Балаклея", "Балаклее", "Балаклеи"),
                  "en": ("Balakliia", "Balakleya"), "reg": ("Харківської області", "Харьковской области",
                                                            "Kharkiv region")},
    "polohy": {"uk": ("Пологи", "Пологах", "Пологів"), "ru": ("Пологи", "Пологах", "Пологов"),
               "en": ("Polohy", "Pologi"), "reg": ("Запорізької області", "Запорожской области",
                                                   "Zaporizhzhia region")},
    "synelnykove": {"uk": ("Синельникове", "Синельниковому", "Синельникового"), "ru": ("Синельниково",
                    "Синельниково", "Синельниково"), "en": ("Synelnykove", "Sinelnikovo"),
                    "reg": ("Дніпропетровської області", "Днепропетровской области", "Dnipropetrovsk region")},
    "chasiv_yar": {"uk": ("Часів Яр", "Часовому Ярі", "Часового Яру"), "ru": ("Часов Яр", "Часовом Яре",
                   "Часова Яра"), "en": ("Chasiv Yar", "Chasov Yar"), "reg": ("Донецької області",
                   "Донецкой области", "Donetsk region")},
    "velyka_novosilka": {"uk": ("Велика Новосілка", "Великій Новосілці", "Великої Новосілки"),
                         "ru": ("Великая Новоселка", "Великой Новоселке", "Великой Новоселки"),
                         "en": ("Velyka Novosilka", "Velykа Novosilka", "Velikaya Novoselka"),
                         "reg": ("Донецької області", "Донецкой области", "Donetsk region")},
    "kupiansk": {"uk": ("Куп'янськ", "Куп'янську", "Куп'янська"), "ru": ("Купянск", "Купянске", "Купянска"),
                 "en": ("Kupiansk", "Kupyansk"), "reg": ("Харківської області", "Харьковской области",
                                                         "Kharkiv region")},
    "nikopol": {"uk": ("Нікополь", "Нікополі", "Нікополя"), "ru": ("Никополь", "Никополе", "Никополя"),
                "en": ("Nikopol", "Nikopol"), "reg": ("Дніпропетровської області", "Днепропетровской области",
                                                      "Dnipropetrovsk region")},
    "kherson": {"uk": ("Херсон", "Херсоні", "Херсона"), "ru": ("Херсон", "Херсоне", "Херсона"),
                "en": ("Kherson", "Kherson"), "reg": ("Херсонської області", "Херсонской области", "Kherson region")},
    "belgorod": {"uk": ("Бєлгород", "Бєлгороді", "Бєлгорода"), "ru": ("Белгород", "Белгороде", "Белгорода"),
                 "en": ("Belgorod", "Bilhorod"), "reg": ("", "", "")},
    "millerovo": {"uk": ("Міллерово", "Міллерово", "Міллерово"), "ru": ("Миллерово", "Миллерово", "Миллерово"),
                  "en": ("Millerovo", "Millerovo"), "reg": ("Ростовської області", "Ростовской области",
                                                            "Rostov region")},
    "yeysk": {"uk": ("Єйськ", "Єйську", "Єйська"), "ru": ("Ейск", "Ейске", "Ейска"), "en": ("Yeysk", "Yeisk"),
              "reg": ("Краснодарського краю", "Краснодарского края", "Krasnodar Krai")},
    "kursk": {"uk": ("Курськ", "Курську", "Курська"), "ru": ("Курск", "Курске", "Курска"), "en": ("Kursk", "Kursk"),
              "reg": ("", "", "")},
}
# pairs for "between A and B" (both forms genitive in uk/ru after між/между: instrumental in fact)
BETWEEN = [
    ("kostiantynivka", "druzhkivka", ("Костянтинівкою", "Дружківкою"), ("Константиновкой", "Дружковкой")),
    ("orikhiv", "huliaipole", ("Оріховом", "Гуляйполем"), ("Ореховом", "Гуляйполем")),
    ("siversk", "chasiv_yar", ("Сіверськом", "Часовим Яром"), ("Северском", "Часовым Яром")),
]

TYPES = {
    "shelling": {
        "en": ["{when} Russian artillery shelled {loc}{reg}; {n} houses were damaged.",
               "Mortar and artillery fire hit {loc}{reg} {when}, {n} civilians wounded.",
               "{loc_cap} came under MLRS shelling {when}{reg}."],
        "uk": ["{when} окупанти обстріляли з артилерії {loc}{reg}, пошкоджено {n} будинків.",
               "Ворог {when} вів мінометний обстріл по {loc}{reg}: поранено {n} людей.",
               "Під артилерійським обстрілом {when} опинилися мешканці {gen}{reg}."],
        "ru": ["{when} ВСУ обстреляли из артиллерии {loc}{reg}, повреждены {n} домов.",
               "Минометный обстрел {loc}{reg} {when}: ранены {n} человек.",
               "{when} противник вел огонь из РСЗО «Град» по {loc}{reg}."],
    },
    "drone_strike": {
        "en": ["{when} a Russian Shahed drone hit {loc}{reg}; {n} people injured.",
               "Drone attack on {loc}{reg} {when}: {n} wounded, a warehouse on fire.",
               "An FPV drone struck a car in {loc}{reg} {when}, {n} hurt."],
        "uk": ["{when} ворожий ударний безпілотник атакував {loc}{reg}, поранено {n} людей.",
               "Атака дронів на {loc}{reg} {when}: є {n} постраждалих.",
               "{when} FPV-дрон влучив в автомобіль у {loc}{reg}, {n} поранених."],
        "ru": ["{when} украинский беспилотник атаковал {loc}{reg}, пострадали {n} человек.",
               "Атака БПЛА на {loc}{reg} {when}: {n} раненых.",
               "{when} дрон-камикадзе ударил по {loc}{reg}, ранены {n}."],
    },
    "missile_strike": {
        "en": ["{when} a ballistic missile (Iskander-M) hit {loc}{reg}, {n} killed.",
               "Missile strike on {loc}{reg} {when}: {n} dead, dozens of homes damaged."],
        "uk": ["{when} росіяни вдарили балістичною ракетою по {loc}{reg}, загинули {n} людей.",
               "Ракетний удар по {loc}{reg} {when}: {n} загиблих."],
        "ru": ["{when} ракетный удар по {loc}{reg}, погибли {n} человек.",
               "{when} по {loc}{reg} выпущены крылатые ракеты, {n} погибших."],
    },
    "air_strike": {
        "en": ["{when} Russian aircraft dropped {n} glide bombs (KABs) on {loc}{reg}.",
               "Guided aerial bombs hit {loc}{reg} {when}; {n} buildings destroyed."],
        "uk": ["{when} росіяни скинули {n} КАБів на {loc}{reg}.",
               "Авіаудар керованими авіабомбами по {loc}{reg} {when}: зруйновано {n} будинків."],
        "ru": ["{when} авиация сбросила {n} управляемых авиабомб на {loc}{reg}.",
               "Удар КАБ по {loc}{reg} {when}: разрушены {n} домов."],
    },
    "ground_assault": {
        "en": ["Russian infantry assaults near {gen_en}{reg} were repelled {when}; {n} attacks in total.",
               "{when} Russian forces stormed positions outside {gen_en}{reg} with armoured vehicles."],
        "uk": ["{when} Сили оборони відбили {n} штурмів біля {gen}{reg}.",
               "Ворог {when} намагався штурмувати позиції поблизу {gen}{reg}, {n} атак відбито."],
        "ru": ["{when} ВС РФ продвинулись у {gen}{reg}, отбиты {n} атак противника.",
               "Штурм позиций возле {gen}{reg} {when}, {n} атак."],
    },
    "facility_fire": {
        "en": ["A large fire broke out at the oil depot in {loc}{reg} {when} after explosions; {n} fire crews on site.",
               "{when} a fuel depot in {loc}{reg} is burning, {n} tanks on fire."],
        "uk": ["{when} у {loc}{reg} спалахнула пожежа на нафтобазі, працюють {n} пожежних розрахунків.",
               "Після вибухів у {loc}{reg} {when} горить нафтобаза, {n} резервуарів."],
        "ru": ["{when} в {loc}{reg} горит нефтебаза, {n} пожарных расчетов на месте.",
               "Пожар на нефтебазе в {loc}{reg} {when}, горят {n} резервуаров."],
    },
    "infrastructure_damage": {
        "en": ["{when} a substation in {loc}{reg} was damaged, {n} thousand households without power.",
               "Power outage in {loc}{reg} {when} after a power line was damaged; {n} villages without electricity."],
        "uk": ["{when} у {loc}{reg} пошкоджено підстанцію, без світла {n} тисяч родин.",
               "Знеструмлення у {loc}{reg} {when}: пошкоджено лінію електропередач, {n} сіл без світла."],
        "ru": ["{when} в {loc}{reg} повреждена подстанция, без света {n} тысяч семей.",
               "{when} в {loc}{reg} обесточены {n} сел после повреждения ЛЭП."],
    },
    "monitor_interference": {
        "en": ["{when} monitors were denied passage at a checkpoint near {gen_en}{reg}; the patrol turned back.",
               "The monitoring mission's UAV was jammed {when} near {gen_en}{reg}; {n} minutes of signal loss."],
        "uk": ["{when} спостерігачів місії не пропустили через блокпост біля {gen}{reg}.",
               "Безпілотник місії спостерігачів {when} зазнав глушіння поблизу {gen}{reg}, {n} хвилин без зв'язку."],
        "ru": ["{when} наблюдателей миссии не пропустили через блокпост возле {gen}{reg}.",
               "Беспилотник миссии наблюдателей {when} подавлен РЭБ возле {gen}{reg}, {n} минут без связи."],
    },
}
WHEN = {  # (en, uk, ru, window hours relative to local midnight of the publication day)
    "night": ("overnight", "Вночі", "Ночью"),
    "morning": ("this morning", "Сьогодні вранці", "Сегодня утром"),
    "evening": ("yesterday evening", "Вчора ввечері", "Вчера вечером"),
    "at": ("at {hm}", "О {hm}", "В {hm}"),
}
CHANNELS = {"en": ["kyiv_independent_feed", "ukrinform_en", "reuters_ua_wire", "osint_monitor_en"],
            "uk": ["suspilne_news", "ukrainska_pravda", "oda_channel", "local_news_uk", "hromada_info"],
            "ru": ["rbc_ukraine_ru", "strana_ua", "local_news_ru", "war_reports_ru", "rybar_like"]}


def _events(rng: np.random.Generator) -> list[dict]:
    """The hand-picked events: place, type, relative phrase, day and time."""
    base = datetime(2026, 2, 2, tzinfo=UTC)
    specs = [
        ("bilenke_do", "shelling", "plain"), ("bilenke_zp", "drone_strike", "plain"),
        ("zolochiv_kh", "drone_strike", "plain"), ("zolochiv_lv", "missile_strike", "plain"),
        ("terny_dp", "shelling", "plain"), ("terny_su", "drone_strike", "plain"),
        ("kostiantynivka", "air_strike", "plain"), ("pokrovske_dp", "shelling", "plain"),
        ("pokrovsk", "ground_assault", "direction"), ("huliaipole", "shelling", "km"),
        ("orikhiv", "air_strike", "plain"), ("vovchansk", "shelling", "near"), ("siversk", "ground_assault", "near"),
        ("marhanets", "drone_strike", "plain"), ("beryslav", "drone_strike", "plain"),
        ("druzhkivka", "facility_fire", "plain"), ("shostka", "infrastructure_damage", "plain"),
        ("ochakiv", "shelling", "plain"), ("izmail", "drone_strike", "plain"), ("balakliia", "missile_strike", "plain"),
        ("polohy", "monitor_interference", "near"), ("synelnykove", "infrastructure_damage", "plain"),
        ("chasiv_yar", "ground_assault", "plain"), ("velyka_novosilka", "air_strike", "plain"),
        ("kupiansk", "air_strike", "km"), ("nikopol", "shelling", "plain"), ("kherson", "drone_strike", "plain"),
        ("belgorod", "drone_strike", "plain"), ("millerovo", "facility_fire", "plain"),
        ("yeysk", "drone_strike", "plain"), ("kursk", "missile_strike", "plain"),
        ("kostiantynivka", "monitor_interference", "near"), ("orikhiv", "shelling", "km"),
        ("vovchansk", "air_strike", "plain"), ("kherson", "shelling", "km"),
        ("horodok_km", "drone_strike", "plain"), ("horodok_lv", "air_strike", "plain"),
        ("between:0", "shelling", "between"), ("between:1", "ground_assault", "between"),
        ("between:2", "shelling", "between"), ("nikopol", "drone_strike", "plain"),
        ("siversk", "shelling", "km"), ("ochakiv", "drone_strike", "plain"),
    ]
    # a second pass over the same places a week later with other types: same names, other events
    later = [(p, t2, r) for (p, _t, r), t2 in zip(specs[:22], ["drone_strike", "shelling", "air_strike"] * 8,
                                                   strict=False)]
    specs = specs + later
    evs = []
    for k, (place, et, rel) in enumerate(specs):
        day = base + timedelta(days=k // 3)  # three events per day, so same-day events must be told apart
        when = ["night", "morning", "evening", "at"][k % 4]
        hm = f"{int(rng.integers(6, 21)):02d}:{int(rng.integers(0, 12)) * 5:02d}"
        evs.append({"k": k, "place": place, "type": et, "rel": rel, "day": day, "when": when, "hm": hm,
                    "n": int(rng.integers(2, 9)), "km": int(rng.integers(3, 12)),
                    "dir": ["north", "south", "east", "west", "south-east", "north-west"][int(rng.integers(0, 6))]})
    return evs


DIR_UK = {"north": "на північ", "south": "на південь", "east": "на схід", "west": "на захід",
          "south-east": "на південний схід", "north-west": "на північний захід"}
DIR_RU = {"north": "к северу", "south": "к югу", "east": "к востоку", "west": "к западу",
          "south-east": "к юго-востоку", "north-west": "к северо-западу"}
DIR_DEG = {"north": 0, "south": 180, "east": 90, "west": 270, "south-east": 135, "north-west": 315}


def _truth_point(ev: dict) -> tuple[float, float]:
    if ev["rel"] == "between":
        a, b = BETWEEN[int(ev["place"].split(":")[1])][:2]
        return (P[a][0] + P[b][0]) / 2, (P[a][1] + P[b][1]) / 2
    lat, lon = P[ev["place"]]
    if ev["rel"] == "km":
        brg = math.radians(DIR_DEG[ev["dir"]])
        d = ev["km"] * 1000.0
        lat += d * math.cos(brg) / 111_320.0
        lon += d * math.sin(brg) / (111_320.0 * math.cos(math.radians(lat)))
    return lat, lon


def _loc_phrase(ev: dict, lang: str, rng: np.random.Generator, variant: int) -> dict[str, str]:
    """Place phrase pieces for the templates in one language."""
    if ev["rel"] == "between":
        a, b, uk, ru = BETWEEN[int(ev["place"].split(":")[1])]
        en = f"between {F[a]['en'][variant % len(F[a]['en'])]} and {F[b]['en'][0]}"
        ph = {"en": en, "uk": f"між {uk[0]} та {uk[1]}", "ru": f"между {ru[0]} и {ru[1]}"}[lang]
        return {"loc": ph, "gen": ph, "gen_en": ph, "loc_cap": ph[0].upper() + ph[1:], "reg": ""}
    f = F[ev["place"]]
    en_name = f["en"][variant % len(f["en"])]
    uk_nom, uk_loc, uk_gen = f["uk"]
    ru_nom, ru_loc, ru_gen = f["ru"]
    reg_uk, reg_ru, reg_en = f["reg"]
    with_reg = ev["place"].endswith(("_kh", "_km", "_lv", "_do", "_su", "_dp", "_zp")) or variant % 3 == 0
    reg = {"en": f", {reg_en}", "uk": f" {reg_uk}", "ru": f" {reg_ru}"}[lang] if with_reg and reg_uk else ""
    if ev["rel"] == "km":
        km = ev["km"]
        loc = {"en": f"{km} km {ev['dir']} of {en_name}", "uk": f"{km} км {DIR_UK[ev['dir']]} від {uk_gen}",
               "ru": f"{km} км {DIR_RU[ev['dir']]} от {ru_gen}"}[lang]
        return {"loc": loc, "gen": loc, "gen_en": loc, "loc_cap": loc, "reg": reg}
    if ev["rel"] == "direction":
        adj = {"en": f"the {en_name} direction", "uk": "Покровському напрямку", "ru": "Покровском направлении"}[lang]
        return {"loc": adj, "gen": adj, "gen_en": adj, "loc_cap": adj[0].upper() + adj[1:], "reg": ""}
    if lang == "en":
        loc = en_name if ev["rel"] != "near" else f"the outskirts of {en_name}"
        return {"loc": loc, "gen": en_name, "gen_en": en_name, "loc_cap": loc[0].upper() + loc[1:], "reg": reg}
    if lang == "uk":
        return {"loc": uk_loc if ev["rel"] != "near" else f"околиці {uk_gen}", "gen": uk_gen, "gen_en": uk_gen,
                "loc_cap": uk_nom, "reg": reg}
    return {"loc": ru_loc if ev["rel"] != "near" else f"окраине {ru_gen}", "gen": ru_gen, "gen_en": ru_gen,
            "loc_cap": ru_nom, "reg": reg}


def _render(ev: dict, lang: str, rng: np.random.Generator, variant: int, template: int | None = None) -> str:
    tpls = TYPES[ev["type"]][lang]
    t = tpls[(template if template is not None else variant) % len(tpls)]
    w = WHEN[ev["when"]][{"en": 0, "uk": 1, "ru": 2}[lang]].format(hm=ev["hm"])
    ph = _loc_phrase(ev, lang, rng, variant)
    # prepositions the templates carry already; "у"/"в"/"на" + locative
    text = t.format(when=w, n=ev["n"], **ph)
    if lang in ("uk", "ru") and ev["type"] in ("shelling",) and "по " in text and ev["rel"] == "plain":
        text = text.replace(f"по {ph['loc']}", f"по {ph['loc']}")
    return text[0].upper() + text[1:]


def _pub_time(ev: dict, minutes: int) -> datetime:
    day = ev["day"]  # midnight UTC; Kyiv is UTC+2 in February
    hour = {"night": 6, "morning": 10, "evening": 6 + 24, "at": None}[ev["when"]]
    if hour is None:
        h, m = map(int, ev["hm"].split(":"))
        t = day + timedelta(hours=h - 2, minutes=m + 20)
    else:
        t = day + timedelta(hours=hour - 2)
    return t + timedelta(minutes=minutes)


def written_part(seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    out: list[dict] = []
    for ev in _events(rng):
        lat, lon = _truth_point(ev)
        cl = f"ev{ev['k']:02d}"
        n_ind = int(rng.integers(3, 6))  # independent reports of this event
        langs = list(rng.permutation(["en", "uk", "ru"]))
        posts: list[dict] = []
        used: dict[str, set[int]] = {}
        for j in range(n_ind):
            lang = str(langs[j % 3])
            ch = CHANNELS[lang][int(rng.integers(0, len(CHANNELS[lang])))]
            evj = dict(ev)
            if j and rng.random() < 0.7:  # independent channels often carry other (updated) counts
                evj["n"] = ev["n"] + j
            if j >= 3 and ev["when"] == "at":  # a later outlet may only say "today"/"this morning"
                evj["when"] = "morning" if int(ev["hm"][:2]) < 12 else "night"
            # independent writers do not share wording: a template not yet used in this language
            free = [t for t in range(len(TYPES[ev["type"]][lang])) if t not in used.setdefault(lang, set())]
            if not free:
                continue
            tpl = free[int(rng.integers(0, len(free)))]
            used[lang].add(tpl)
            text = _render(evj, lang, rng, variant=j + ev["k"], template=tpl)
            posts.append({"lang": lang, "source": f"{ch}{j}", "text": text, "t": _pub_time(ev, 15 * j + 5),
                          "copy_of": None, "ev": evj})
        # copies: a verbatim repost with attribution, an edited repost, a translation
        orig = posts[0]
        kinds = ["repost", "edit", "translate"]
        for c in range(int(rng.integers(0, 4))):
            kind = kinds[int(rng.integers(0, 3))]
            if kind == "repost":
                text = f"{orig['text']} (via @{orig['source']})"
                lang = orig["lang"]
            elif kind == "edit":
                text = {"en": "BREAKING: ", "uk": "⚡️Терміново: ", "ru": "⚡️Срочно: "}[orig["lang"]] + orig["text"]
                lang = orig["lang"]
            else:
                lang = str([x for x in ("en", "uk", "ru") if x != orig["lang"]][int(rng.integers(0, 2))])
                text = _render(posts[0]["ev"], lang, rng, variant=orig_variant(ev), template=0)
            posts.append({"lang": lang, "source": f"aggregator_{c}_{ev['k']}", "text": text,
                          "t": _pub_time(ev, 90 + 20 * c), "copy_of": 0})
        for j, p in enumerate(posts):
            rid = f"w-{ev['k']:02d}-{j}"
            out.append({
                "id": rid, "source": p["source"], "published_at": p["t"].isoformat(), "text": p["text"],
                "lang": p["lang"],
                "label": {"lat": round(lat, 5), "lon": round(lon, 5), "event_type": ev["type"], "cluster": cl,
                          "copy_of": f"w-{ev['k']:02d}-0" if p["copy_of"] is not None else None,
                          "place": ev["place"], "relative": ev["rel"], "part": "written"},
            })
    return out


def orig_variant(ev: dict) -> int:
    return ev["k"]


def main() -> None:
    rows = (viina_part() + viina_part(VIINA_HOLDOUT, "viina_holdout") + viina_part(VIINA_HOLDOUT2, "viina_holdout2")
            + written_part())
    with (HERE / "reports.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    langs: dict[str, int] = {}
    for r in rows:
        lg = r["lang"] or ("uk" if any(ch in r["text"] for ch in "іїєґІЇЄ") else "ru")
        langs[lg] = langs.get(lg, 0) + 1
    print(f"{len(rows)} reports, languages {langs}")


if __name__ == "__main__":
    main()
