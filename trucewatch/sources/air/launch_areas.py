"""Launch areas that Ukraine's Air Force names in its morning summaries, with coordinates.

Why a table of our own: the summaries name Russian regions, airfields, sea
areas and places in occupied Crimea, which a Ukrainian gazetteer lacks.  The
general gazetteer (trucewatch.sources.text.gazetteer) is used only as a
fallback for names not here.

Coordinates are approximate public positions (city centre, airfield, or the
region's/sea's rough centre), entered by the project from Wikipedia/OSM-level
sources; ``err_m`` says how far the real launch point may lie from them.
Matching: names are transliterated with unidecode, lower-cased, apostrophes
dropped, and a token matches an entry when it starts with one of the entry's
stems (so declined Ukrainian forms like "Курської" or "Брянської" match).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from unidecode import unidecode

from trucewatch.sources.text.gazetteer import Gazetteer


@dataclass(frozen=True)
class LaunchArea:
    id: str
    name: str  # English
    kind: str  # city, airfield, region, sea, territory
    lat: float
    lon: float
    err_m: float
    stems: tuple[str, ...]
    note: str = ""


# (id, English name, kind, lat, lon, err_km, stems, note)
_TABLE: list[tuple[str, str, str, float, float, float, tuple[str, ...], str]] = [
    ("kursk", "Kursk", "city", 51.730, 36.193, 30, ("kursk",), "drone launch sites around Kursk; also 'Kursk oblast'"),
    ("kursk-khalino", "Kursk-Khalino airfield", "airfield", 51.751, 36.296, 10, ("khalino", "xalino"), "air base NE of Kursk"),
    ("oryol", "Oryol", "city", 52.967, 36.069, 30, ("orel", "oryol", "orlov", "oriol"), "Shahed launch site near Oryol"),
    ("bryansk", "Bryansk", "city", 53.243, 34.364, 40, ("briansk", "bryansk"), "Bryansk and its oblast"),
    ("navlya", "Navlya", "city", 52.830, 34.500, 15, ("navli", "navlya"), "drone launch site, Bryansk oblast"),
    ("millerovo", "Millerovo", "airfield", 48.952, 40.295, 15, ("millerov", "milerov"), "Millerovo air base, Rostov oblast"),
    ("primorsko-akhtarsk", "Primorsko-Akhtarsk", "city", 46.050, 38.170, 20,
     ("primorsko-akhtarsk", "prymorsko-akhtarsk", "primorsko akhtarsk", "akhtarsk"), "Shahed launch site, Krasnodar krai"),
    ("shatalovo", "Shatalovo", "airfield", 54.340, 32.470, 15, ("shatalov",), "air base, Smolensk oblast"),
    ("hvardiiske", "Hvardiiske (occupied Crimea)", "airfield", 45.115, 33.977, 15,
     ("gvardiisk", "hvardiisk", "gvardeisk", "gvardeysk", "hvardiysk"), "Saky/Hvardiiske area airfield, occupied Crimea"),
    ("chauda", "Chauda (occupied Crimea)", "city", 45.000, 35.840, 15, ("chaud",), "Shahed launch site, occupied Crimea"),
    ("saky", "Saky (occupied Crimea)", "airfield", 45.093, 33.595, 15, ("saki", "saky"), "Saky air base, occupied Crimea"),
    ("dzhankoi", "Dzhankoi (occupied Crimea)", "city", 45.709, 34.393, 15, ("dzhankoi", "dzhankoy", "dzhankoj"), ""),
    ("cape-chauda", "Cape Chauda (occupied Crimea)", "city", 45.000, 35.840, 15, ("mis chaud",), ""),
    ("crimea", "Occupied Crimea", "territory", 45.300, 34.400, 120, ("krim", "krym", "crimea"), "'TOT Krymu' in the reports"),
    ("donetsk", "Donetsk (occupied)", "city", 48.015, 37.803, 30, ("donetsk",), "occupied Donetsk"),
    ("luhansk", "Luhansk (occupied)", "city", 48.574, 39.308, 30, ("lugansk", "luhansk"), "occupied Luhansk"),
    ("mariupol", "Mariupol (occupied)", "city", 47.097, 37.543, 20, ("mariupol",), ""),
    ("novorossiysk", "Novorossiysk", "city", 44.723, 37.769, 20, ("novorosiisk", "novorossiysk", "novorossiisk"),
     "naval base: ship-launched Kalibr"),
    ("taganrog", "Taganrog", "city", 47.236, 38.897, 20, ("taganrog",), "Taganrog and its airfield"),
    ("yeysk", "Yeysk", "airfield", 46.680, 38.210, 15, ("eisk", "yeysk", "ieisk", "yeisk"), "Yeysk air base, Krasnodar krai"),
    ("rostov", "Rostov oblast", "region", 47.700, 40.700, 150, ("rostov",), ""),
    ("belgorod", "Belgorod oblast", "region", 50.700, 37.000, 100, ("bielgorod", "belgorod", "bilhorod"), ""),
    ("voronezh", "Voronezh oblast", "region", 51.000, 40.000, 150, ("voronez", "voronezh"), ""),
    ("lipetsk", "Lipetsk", "airfield", 52.634, 39.445, 20, ("lipetsk", "lipets"), "Lipetsk air base"),
    ("tambov", "Tambov oblast", "region", 52.700, 41.400, 120, ("tambov",), ""),
    ("smolensk", "Smolensk oblast", "region", 54.800, 32.500, 120, ("smolensk",), ""),
    ("kaluga", "Kaluga oblast", "region", 54.400, 35.500, 120, ("kaluz", "kaluga"), ""),
    ("saratov", "Saratov oblast", "region", 51.500, 46.000, 150, ("saratov",), "Tu-95MS launch area (Engels)"),
    ("engels", "Engels air base", "airfield", 51.481, 46.210, 15, ("engels", "engel's", "engelsa"), "strategic bombers"),
    ("volgograd", "Volgograd oblast", "region", 49.500, 44.000, 150, ("volgograd",), "Tu-95MS/Tu-22M3 launch area"),
    ("astrakhan", "Astrakhan oblast", "region", 46.900, 47.000, 150, ("astrakhan", "astraxan"), ""),
    ("murmansk", "Murmansk oblast", "region", 68.000, 33.000, 200, ("murmansk",), "Olenya air base region"),
    ("olenya", "Olenya air base", "airfield", 68.152, 33.464, 15, ("olenia", "olenya", "olenegorsk"), "Tu-95MS/Tu-22M3"),
    ("mozdok", "Mozdok air base", "airfield", 43.788, 44.606, 15, ("mozdok",), ""),
    ("shaykovka", "Shaykovka air base", "airfield", 54.226, 34.368, 15, ("shaikovk", "shaykovk"), "Tu-22M3"),
    ("black-sea", "Black Sea", "sea", 44.000, 34.000, 250, ("chornogo", "chorne", "black sea"), "ship- and submarine-launched Kalibr"),
    ("azov-sea", "Sea of Azov", "sea", 46.000, 36.500, 150, ("azov",), ""),
    ("caspian-sea", "Caspian Sea", "sea", 42.000, 50.500, 250, ("kaspii", "kaspi", "caspian"), "Tu-95MS launch area"),
    ("kherson-occupied", "occupied Kherson oblast", "territory", 46.500, 33.800, 80, ("khersonsk",), "left bank, occupied"),
    ("zaporizhzhia-occupied", "occupied Zaporizhzhia oblast", "territory", 47.000, 35.500, 80,
     ("zaporiz", "zaporizh"), "southern part, occupied"),
]

#: Regions: the name of an oblast ("Kurs'koyi oblasti") is the oblast, not its capital.
_REGION_WORDS = ("oblast", "oblasti", "region", "krai", "kraiu", "kraju")


#: Ukrainian/Russian words whose transliteration collides with a place stem ("Крім" = "besides", not "Крим").
_FUNCTION_WORDS = re.compile(r"(?i)(?<![\w-])(крім|окрім|кроме|опріч)(?![\w-])")


def _norm(text: str) -> str:
    s = unidecode(text).lower().replace("'", "").replace("`", "").replace("\u2019", "")
    return re.sub(r"[^a-z0-9\- ]+", " ", s).strip()


@lru_cache(maxsize=1)
def table() -> list[LaunchArea]:
    return [LaunchArea(i, n, k, la, lo, e * 1000.0, tuple(_norm(s) for s in st), note)
            for i, n, k, la, lo, e, st, note in _TABLE]


def match(name: str) -> LaunchArea | None:
    """The most specific table entry for one place name, or None.

    A name followed by a region word ("Kurskoi oblasti", "Kursk region") prefers
    a region entry; otherwise airfields and cities win over regions and seas.
    """
    # "Крім того" ("besides") transliterates to "krim" like "Крим" (Crimea): drop such function words
    # in their own script, as whole words, before transliterating
    n = _norm(_FUNCTION_WORDS.sub(" ", name))
    if not n:
        return None
    tokens = n.split()
    is_region = any(t in _REGION_WORDS for t in tokens)
    best: tuple[int, LaunchArea] | None = None
    joined = " ".join(tokens)
    for area in table():
        for stem in area.stems:
            hit = (" " in stem and stem in joined) or any(t.startswith(stem) for t in tokens)
            if not hit:
                continue
            spec = {"airfield": 4, "city": 3, "territory": 2, "region": 2, "sea": 1}.get(area.kind, 0)
            if is_region and area.kind == "region":
                spec = 6
            spec = spec * 100 + len(stem)
            if best is None or spec > best[0]:
                best = (spec, area)
    if best is not None and is_region and best[1].kind != "region":
        # "Kursk oblast": keep the city's coordinates but widen them to an oblast
        a = best[1]
        return LaunchArea(a.id + "-oblast", a.name + " oblast", "region", a.lat, a.lon, max(a.err_m, 100_000.0),
                          a.stems, a.note)
    return best[1] if best else None


def geocode(name: str) -> dict[str, object]:
    """``{name, lat, lon, err_m, kind, id, resolved_by}``; lat/lon None when nothing knows the name."""
    a = match(name)
    if a is not None:
        return {"name": name.strip(), "id": a.id, "canonical": a.name, "lat": a.lat, "lon": a.lon, "err_m": a.err_m,
                "kind": a.kind, "resolved_by": "launch_areas"}
    try:  # the text stage's gazetteer
        hits = Gazetteer.load().lookup(name, limit=1)
    except (OSError, ValueError):  # no gazetteer file: the name stays unresolved
        hits = []
    hit = hits[0] if hits else None
    if hit is not None and hit.match in ("exact", "variant"):
        return {"name": name.strip(), "id": None, "canonical": hit.name, "lat": float(hit.lat),
                "lon": float(hit.lon), "err_m": max(float(hit.radius_m or 0.0), 20_000.0),
                "kind": hit.kind or "place", "resolved_by": "gazetteer"}
    return {"name": name.strip(), "id": None, "canonical": None, "lat": None, "lon": None, "err_m": None,
            "kind": None, "resolved_by": None}
