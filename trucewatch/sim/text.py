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
WHEN = {"en": "At {hm}", "uk": "О {hm}", "ru": "В {hm}"}


def _nearest_places(gaz, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Index of the nearest settlement (not an oblast entry) for each point (vectorized per point)."""
    ok = np.array([k != "admin1" for k in gaz.kind]) & (gaz.radius < 5000)
    cand = np.flatnonzero(ok)
    out = np.empty(len(lat), int)
    for k in range(len(lat)):
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
    """Records (with a ``truth`` key) for events of {id, t, lat, lon, type}."""
    from trucewatch.sources.text.gazetteer import Gazetteer

    gaz = gaz or Gazetteer.load()
    if not events:
        return []
    lat = np.array([e["lat"] for e in events])
    lon = np.array([e["lon"] for e in events])
    near = _nearest_places(gaz, lat, lon)
    out: list[dict[str, Any]] = []
    langs = ("en", "uk", "ru")
    for e, pi in zip(events, near, strict=True):
        t = datetime.fromtimestamp(float(e["t"]), tz=UTC)
        hm = (t + timedelta(hours=2)).strftime("%H:%M")
        n = int(rng.integers(1, 9))
        k_ind = int(rng.integers(1, 5))
        first = None
        for j in range(k_ind):
            lang = langs[int(rng.integers(0, 3))]
            text = TEMPLATES[e["type"]][lang].format(when=WHEN[lang].format(hm=hm), place=_name(gaz, pi, lang, rng),
                                                     n=n + (j if rng.random() < 0.6 else 0))
            pub = t + timedelta(minutes=float(rng.uniform(10, 180)))
            rid = f"sim-{e['id']}-{j}"
            rec = {"id": rid, "source": f"sim_channel_{int(rng.integers(0, 40))}", "published_at": pub.isoformat(),
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
                text = TEMPLATES[e["type"]][lang].format(when=WHEN[lang].format(hm=hm),
                                                         place=_name(gaz, pi, lang, rng), n=n)
            out.append({"id": f"sim-{e['id']}-c{c}", "source": f"sim_aggregator_{int(rng.integers(0, 10))}",
                        "published_at": pub.isoformat(), "text": text, "lang": lang,
                        "truth": {"event": e["id"], "lat": e["lat"], "lon": e["lon"], "type": e["type"],
                                  "copy_of": first["id"]}})
    return out


def simulate(truth_events: list[Any], rng: np.random.Generator, agreement=None, report_share: float = 0.6
             ) -> dict[str, Any]:
    """Posts about a share of the truth events, and the observations the stage makes of them.

    ``truth_events``: trucewatch.sim.scenario.TruthEvent objects or dicts with
    id, time (ISO) or t, lat, lon, kind.  Returns {records, observations, errors}.
    """
    from trucewatch.sources.text.pipeline import extract_observations

    evs = []
    for te in truth_events:
        d = te if isinstance(te, dict) else te.__dict__
        typ = KIND_TO_TYPE.get(str(d.get("kind")))
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


def simulate_posts(n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """About ``n`` standalone posts about random events near the contact line (for throughput)."""
    # events along the front: Kharkiv to Kherson, as a band of points
    k = max(1, n // 3)
    s = rng.uniform(0, 1, k)
    lat = 49.9 - 3.3 * s + rng.normal(0, 0.25, k)
    lon = 37.6 - 4.6 * s ** 1.5 + rng.normal(0, 0.25, k)
    types = list(TEMPLATES)
    t0 = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    evs = [{"id": f"e{i}", "t": t0 + float(rng.uniform(0, 7 * 86400)), "lat": float(lat[i]), "lon": float(lon[i]),
            "type": types[int(rng.integers(0, len(types)))]} for i in range(k)]
    recs = posts_for_events(evs, rng)[:n]
    return [{kk: v for kk, v in r.items() if kk != "truth"} for r in recs]
