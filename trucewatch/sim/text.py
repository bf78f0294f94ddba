"""Simulated text reports: posts in English, Ukrainian and Russian about truth events.

Each reported truth event gets one to four independent posts from different
channels (place named by the nearest gazetteer settlement, in a random
romanisation or its Cyrillic form), and some copies: reposts with "via @x" and
translations that keep the numbers.  ``simulate`` returns the raw JSONL records
(the stage's raw format), the REPORT_CLAIM observations the text stage makes of
them, and the truth labels per record; ``simulate_posts`` makes standalone
posts for benchmarks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from trucewatch.agreement import Agreement
from trucewatch.sources.text.extract import default_agreement
from trucewatch.sources.text.gazetteer import Gazetteer
from trucewatch.sources.text.pipeline import extract_observations
from trucewatch.sources.text.translit import romanize

#: Truth event kind -> reported event type (kinds without a text report are skipped).
KIND_TO_TYPE = {
    "fire": "shelling", "own_side_blast": "shelling", "strike": "missile_strike", "jamming": "monitor_interference",
    "field_fire": "facility_fire", "drone_strike": "drone_strike", "air_strike": "air_strike",
    "ground_assault": "ground_assault", "infrastructure_damage": "infrastructure_damage",
}
TEMPLATES = {
    "shelling": {
        "en": "{when} artillery shelling was reported near the village of {place}. {n} shells landed.",
        "uk": "{when} зафіксовано артилерійський обстріл в районі населеного пункту {place}, {n} прильотів.",
        "ru": "{when} зафиксирован артиллерийский обстрел в районе населенного пункта {place}, {n} прилетов.",
    },
    "drone_strike": {
        "en": "{when} a drone strike hit the area of {place}; {n} people injured.",
        "uk": "{when} ударний дрон атакував населений пункт {place}, постраждали {n} людей.",
        "ru": "{when} ударный беспилотник атаковал населенный пункт {place}, пострадали {n} человек.",
    },
    "missile_strike": {
        "en": "{when} a missile strike on {place}, {n} casualties.",
        "uk": "{when} ракетний удар по населеному пункту {place}, {n} постраждалих.",
        "ru": "{when} ракетный удар по населенному пункту {place}, {n} пострадавших.",
    },
    "air_strike": {
        "en": "{when} guided glide bombs were dropped on {place}, {n} buildings hit.",
        "uk": "{when} ворог скинув {n} КАБів на населений пункт {place}.",
        "ru": "{when} авиация сбросила {n} КАБов на населенный пункт {place}.",
    },
    "ground_assault": {
        "en": "{when} an infantry assault near {place} was repelled, {n} attacks.",
        "uk": "{when} відбито {n} штурмів в районі населеного пункту {place}.",
        "ru": "{when} отбиты {n} атак в районе населенного пункта {place}.",
    },
    "facility_fire": {
        "en": "{when} a large fire is burning at a warehouse in {place}; {n} fire crews.",
        "uk": "{when} пожежа на складі в населеному пункті {place}, працюють {n} розрахунків.",
        "ru": "{when} пожар на складе в населенном пункте {place}, работают {n} расчетов.",
    },
    "infrastructure_damage": {
        "en": "{when} a substation was damaged in {place}; {n} thousand without power.",
        "uk": "{when} пошкоджено підстанцію в населеному пункті {place}, без світла {n} тисяч.",
        "ru": "{when} повреждена подстанция в населенном пункте {place}, без света {n} тысяч.",
    },
    "monitor_interference": {
        "en": "{when} monitors were denied passage at a checkpoint near {place}; {n} vehicles turned back.",
        "uk": "{when} спостерігачів місії не пропустили через блокпост поблизу {place}, {n} машин.",
        "ru": "{when} наблюдателей миссии не пропустили через блокпост в районе {place}, {n} машин.",
    },
}
#: Own-side blasts (demining, training) are announced by the authorities as planned detonations,
#: the way regional administrations do it (not in TEMPLATES: standalone posts never draw them).
ANNOUNCEMENTS = {
    "demining": {
        "en": "{when} explosions may be heard near {place}: sappers are carrying out planned demining, "
              "the regional administration said. {n} explosive items will be destroyed.",
        "uk": "{when} поблизу {place} можна почути вибухи: сапери проводять планове знешкодження "
              "вибухонебезпечних предметів, повідомили в ОВА. Буде знищено {n} предметів.",
        "ru": "{when} в районе {place} будут слышны взрывы: саперы проводят плановое уничтожение "
              "взрывоопасных предметов, сообщили в администрации. Будет уничтожено {n} предметов.",
    },
}
#: Share of own-side blasts that channels report as shelling anyway (a rumour, before or instead of
#: the announcement): a judgement, not a measured rate.
RUMOUR_SHARE = 0.25
WHEN = {"en": "At {hm}", "uk": "О {hm}", "ru": "В {hm}"}
#: How the oblast is written after a place (about half of real reports name it).
REGION = {
    "Donetsk Oblast": ("Donetsk region", "Донецької області", "Донецкой области"),
    "Kharkiv Oblast": ("Kharkiv region", "Харківської області", "Харьковской области"),
    "Zaporizhzhia Oblast": ("Zaporizhzhia region", "Запорізької області", "Запорожской области"),
    "Kherson Oblast": ("Kherson region", "Херсонської області", "Херсонской области"),
    "Luhansk Oblast": ("Luhansk region", "Луганської області", "Луганской области"),
    "Dnipropetrovsk Oblast": ("Dnipropetrovsk region", "Дніпропетровської області", "Днепропетровской области"),
    "Mykolaiv Oblast": ("Mykolaiv region", "Миколаївської області", "Николаевской области"),
    "Sumy Oblast": ("Sumy region", "Сумської області", "Сумской области"),
}
#: Typical distance from the contact line (km, exponential scale) of each event type.
REACH_KM = {"shelling": 6, "ground_assault": 3, "monitor_interference": 8, "air_strike": 25, "drone_strike": 20,
            "missile_strike": 80, "facility_fire": 40, "infrastructure_damage": 40}


def report_type(kind: str, rng: np.random.Generator) -> str | None:
    """The event type posts give a truth event of ``kind`` (None: nobody posts about it)."""
    typ = KIND_TO_TYPE.get(kind)
    if kind == "own_side_blast" and rng.random() >= RUMOUR_SHARE:
        return "demining"
    return typ


def _template(typ: str, lang: str) -> str:
    return (TEMPLATES.get(typ) or ANNOUNCEMENTS[typ])[lang]


def _nearest_places(gaz, lat: np.ndarray, lon: np.ndarray, towns: np.ndarray | None = None) -> np.ndarray:
    """Index of the nearest settlement (not an oblast entry) for each point (vectorized per point).

    Villages and small towns only, except where ``towns`` is set: a strike on a named facility
    (a refinery, a power plant) is reported by the town it belongs to, however large."""
    settlement = np.array([k != "admin1" for k in gaz.kind])
    cand = np.flatnonzero(settlement & (gaz.radius < 5000))
    every = np.flatnonzero(settlement)
    out = np.empty(len(lat), int)
    for k in range(len(lat)):
        if towns is not None and towns[k]:
            d = (gaz.lat[every] - lat[k]) ** 2 + ((gaz.lon[every] - lon[k]) * np.cos(np.radians(lat[k]))) ** 2
            out[k] = every[int(np.argmin(d))]
            continue
        d = (gaz.lat[cand] - lat[k]) ** 2 + ((gaz.lon[cand] - lon[k]) * np.cos(np.radians(lat[k]))) ** 2
        out[k] = cand[int(np.argmin(d))]
    return out


def _name(gaz, i: int, lang: str, rng: np.random.Generator) -> str:
    local = gaz.name_local[i]
    if lang == "en":
        system = ["national", "national", "bgn_pcgn_1965", "russian_bgn"][int(rng.integers(0, 4))]
        return romanize(local, system) if any("\u0400" <= c <= "\u04ff" for c in local) else gaz.name[i]
    return local


def posts_for_events(events: list[dict[str, Any]], rng: np.random.Generator, gaz=None
                     ) -> list[dict[str, Any]]:
    """Records (with a ``truth`` key) for events of {id, t, lat, lon, type} (and ``facility``: the
    name of the object struck, when there is one)."""
    gaz = gaz or Gazetteer.load()
    if not events:
        return []
    lat = np.array([e["lat"] for e in events])
    lon = np.array([e["lon"] for e in events])
    near = _nearest_places(gaz, lat, lon, np.array([bool(e.get("facility")) for e in events]))
    out: list[dict[str, Any]] = []
    langs = ("en", "uk", "ru")
    for e, pi in zip(events, near, strict=True):
        t = datetime.fromtimestamp(float(e["t"]), tz=UTC)
        hm = (t + timedelta(hours=2)).strftime("%H:%M")
        n = int(rng.integers(1, 9))
        k_ind = int(rng.integers(1, 5))
        first: dict[str, Any] | None = None
        reg = REGION.get(gaz.admin1[pi])
        for j in range(k_ind):
            lang = langs[int(rng.integers(0, 3))]
            place = _name(gaz, pi, lang, rng)
            if reg is not None and rng.random() < 0.5:
                place += (", " if lang == "en" else " ") + reg[langs.index(lang)]
            text = _template(e["type"], lang).format(when=WHEN[lang].format(hm=hm), place=place,
                                                     n=n + (j if rng.random() < 0.6 else 0))
            pub = t + timedelta(minutes=float(rng.uniform(10, 180)))
            rid = f"sim-{e['id']}-{j}"
            rec: dict[str, Any] = {"id": rid, "source": f"sim_channel_{int(rng.integers(0, 40))}", "published_at": pub.isoformat(),
                   "text": text, "lang": lang,
                   "truth": {"event": e["id"], "lat": e["lat"], "lon": e["lon"], "type": e["type"], "copy_of": None}}
            out.append(rec)
            first = first or rec
        for c in range(int(rng.integers(0, 3))):
            assert first is not None
            pub = datetime.fromisoformat(first["published_at"]) + timedelta(minutes=float(rng.uniform(5, 120)))
            if rng.random() < 0.5:
                text, lang = f"{first['text']} (via @{first['source']})", first["lang"]
            else:
                lang = [x for x in langs if x != first["lang"]][int(rng.integers(0, 2))]
                text = _template(e["type"], lang).format(when=WHEN[lang].format(hm=hm),
                                                         place=_name(gaz, pi, lang, rng), n=n)
            out.append({"id": f"sim-{e['id']}-c{c}", "source": f"sim_aggregator_{int(rng.integers(0, 10))}",
                        "published_at": pub.isoformat(), "text": text, "lang": lang,
                        "truth": {"event": e["id"], "lat": e["lat"], "lon": e["lon"], "type": e["type"],
                                  "copy_of": first["id"]}})
    return out


def simulate(truth_events: list[Any], rng: np.random.Generator, agreement: Agreement | None = None, report_share: float = 0.6
             ) -> dict[str, Any]:
    """Posts about a share of the truth events, and the observations the stage makes of them.

    ``truth_events``: trucewatch.sim.scenario.TruthEvent objects or dicts with
    id, time (ISO) or t, lat, lon, kind.  Returns {records, observations, errors}.
    """
    evs = []
    for te in truth_events:
        d = te if isinstance(te, dict) else te.__dict__
        typ = report_type(str(d.get("kind")), rng)
        if typ is None or rng.random() > report_share:
            continue
        t = d.get("t")
        if t is None:
            t = datetime.fromisoformat(str(d["time"])).timestamp()
        evs.append({"id": d["id"], "t": float(t), "lat": float(d["lat"]), "lon": float(d["lon"]), "type": typ})
    records = posts_for_events(evs, rng)
    raw = [{k: v for k, v in r.items() if k != "truth"} for r in records]
    obs, errs = extract_observations(raw, agreement)
    return {"records": records, "observations": obs, "errors": errs}


def simulate_posts(n: int, rng: np.random.Generator, with_truth: bool = False, agreement: Agreement | None = None
                   ) -> list[dict[str, Any]]:
    """About ``n`` standalone posts about random events near the contact line (for throughput);
    ``with_truth`` keeps each record's ``truth`` (event, lat, lon, type, copy_of).

    Events lie along the agreement's contact line (the bundled sample by default), at a
    distance from it typical of their type (shelling within a few km, missiles far behind).
    """
    agr = agreement or default_agreement()
    k = max(1, n // 3)
    types = list(TEMPLATES)
    typ = [types[int(rng.integers(0, len(types)))] for _ in range(k)]
    parts = list(agr.line_en.geoms) if hasattr(agr.line_en, "geoms") else [agr.line_en]
    main = max(parts, key=lambda p: p.length)
    s = rng.uniform(0.03, 0.97, k) * main.length
    p = shapely.line_interpolate_point(main, s)
    q = shapely.line_interpolate_point(main, s + 50.0)
    tx, ty = shapely.get_x(q) - shapely.get_x(p), shapely.get_y(q) - shapely.get_y(p)
    norm = np.hypot(tx, ty) + 1e-9
    d = np.array([rng.exponential(REACH_KM[t]) for t in typ]) * 1000.0 * rng.choice([-1.0, 1.0], k)
    lat, lon = agr.frame.to_latlon(shapely.get_x(p) - ty / norm * d, shapely.get_y(p) + tx / norm * d)
    t0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    evs = [{"id": f"e{i}", "t": t0 + float(rng.uniform(0, 7 * 86400)), "lat": float(lat[i]), "lon": float(lon[i]),
            "type": typ[i]} for i in range(k)]
    recs = posts_for_events(evs, rng)[:n]
    if with_truth:
        return recs
    return [{kk: v for kk, v in r.items() if kk != "truth"} for r in recs]
