"""ACLED-style CSV with ACLED's full column set (codebook 2023/2024).

``location`` is the settlement nearest the estimate within its uncertainty
(``trucewatch.places.nearest``) and ``geo_precision`` comes from the real
distance to it and the uncertainty (1: within ~2 km of the named place; 2: near
it or part of its district; 3: only a larger region), never from the town's size.
``latitude``/``longitude`` are the finding's own estimate, not the town's centre.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import numpy as np

from trucewatch.exports.common import cell, flat, to_csv
from trucewatch.i18n import describe_place
from trucewatch.places.nearest import nearest_places

NAME = "acled"
SUFFIXES = (".acled.csv", ".acled")
MEDIA_TYPE = "text/csv; charset=utf-8"
EXT = "acled.csv"

COLUMNS = ["event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type", "sub_event_type",
           "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2", "inter2", "interaction",
           "civilian_targeting", "iso", "region", "country", "admin1", "admin2", "admin3", "location", "latitude",
           "longitude", "geo_precision", "source", "source_scale", "notes", "fatalities", "tags", "timestamp"]

#: rule -> (disorder_type, event_type, sub_event_type), after the ACLED codebook.
TYPES = {
    "fire_across_line": ("Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack"),
    "launch_from_territory": ("Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack"),
    "strike_on_protected_object": ("Political violence", "Explosions/Remote violence",
                                   "Shelling/artillery/missile attack"),
    "flight_across_line": ("Political violence", "Explosions/Remote violence", "Air/drone strike"),
    "heavy_weapon_in_zone": ("Strategic developments", "Strategic developments", "Other"),
    "naval_vessel_in_zone": ("Strategic developments", "Strategic developments", "Other"),
    "interference_with_monitors": ("Strategic developments", "Strategic developments", "Other"),
}
_AIR = {"drone_strike", "air_strike", "missile_strike", "flight"}
#: ISO 3166 numeric and names of the countries a finding may lie in.
COUNTRIES = {"UA": (804, "Ukraine"), "RU": (643, "Russia"), "BY": (112, "Belarus"), "MD": (498, "Moldova")}
#: ACLED inter codes: 1 state forces, 3 political militia (ACLED codes unidentified armed groups so),
#: 7 civilians, 8 external/other forces (a state's forces acting abroad).
STATE, MILITIA, CIVILIANS, EXTERNAL = 1, 3, 7, 8
_KILLED = ("fatalities", "killed", "deaths", "dead")


def _int(x: Any) -> int | None:
    try:
        n = int(float(x))
    except (TypeError, ValueError):
        return None
    return n if n >= 0 else None


def fatalities(v: dict[str, Any]) -> int:
    """Deaths recorded in the finding's attributes (0 when none is recorded, as ACLED codes it)."""
    attrs = v.get("attributes") or {}
    for k in _KILLED:
        n = _int(attrs.get(k))
        if n is not None:
            return n
    cas = attrs.get("casualties")
    if isinstance(cas, dict):
        n = _int(cas.get("killed"))
        if n is not None:
            return n
    return 0


def _actor(party: str, names: dict[str, str], iso2: str) -> tuple[str, int | str]:
    if party in ("", "undetermined", None):
        country = COUNTRIES.get(iso2, (0, iso2))[1]
        return f"Unidentified Armed Group ({country})" if country else "Unidentified Armed Group", MILITIA
    name = names.get(party, party)
    return f"Military Forces of {name}", STATE if party == iso2 else EXTERNAL


def rows(views: list[dict[str, Any]], party_names: dict[str, str]) -> list[dict[str, Any]]:
    if not views:
        return []
    lat = np.array([float(v["lat"]) for v in views])
    lon = np.array([float(v["lon"]) for v in views])
    err = np.array([float((v.get("location") or {}).get("err_major_m") or 0.0) for v in views])
    places = nearest_places(lat, lon, err)
    parties = list(party_names)
    out: list[dict[str, Any]] = []
    now = int(time.time())
    for v, pl in zip(views, places, strict=True):
        attrs = v.get("attributes") or {}
        disorder, etype, sub = TYPES.get(v["rule"], ("Strategic developments", "Strategic developments", "Other"))
        if v["rule"] == "strike_on_protected_object" and str(attrs.get("event_type", "")) in _AIR:
            sub = "Air/drone strike"
        iso2 = pl.country or ""
        actor1, inter1 = _actor(v["party"], party_names, iso2)
        inter2: int | str
        actor2, inter2, civ = "", "", ""
        if v["rule"] == "strike_on_protected_object" or attrs.get("civilian_target"):
            country = COUNTRIES.get(iso2, (0, iso2))[1]
            actor2, inter2, civ = f"Civilians ({country})" if country else "Civilians", CIVILIANS, "Civilian targeting"
        elif etype == "Explosions/Remote violence" and v["party"] in parties and len(parties) == 2:
            other = parties[1 - parties.index(v["party"])]
            actor2, inter2 = _actor(other, party_names, iso2)
        codes = sorted(int(x) for x in (inter1, inter2) if x != "")
        interaction = int(f"{codes[0]}{codes[1]}") if len(codes) == 2 else codes[0] * 10
        f = flat(v)
        when = datetime.fromisoformat(str(v["time"]))
        iso, country = COUNTRIES.get(iso2, ("", iso2))
        note_place = pl.name or f"{float(v['lat']):.3f}, {float(v['lon']):.3f}"
        e = float(err[len(out)])
        unc = f"{e / 1000:.1f} km" if e >= 1000 else f"{e:.0f} m"
        notes = (f"On {when:%d %B %Y}, {v['rule'].replace('_', ' ')}, {describe_place(pl)} "
                 f"(95 % uncertainty {unc}). Status {v['status']}, confidence {float(v['confidence']):.2f}. "
                 f"{v.get('explanation') or ''}").strip()
        out.append({
            "event_id_cnty": f"{(country or 'XXX')[:3].upper()}TW-{v['id']}", "event_date": when.date().isoformat(),
            "year": when.year, "time_precision": 1, "disorder_type": disorder, "event_type": etype,
            "sub_event_type": sub, "actor1": actor1, "assoc_actor_1": "", "inter1": inter1, "actor2": actor2,
            "assoc_actor_2": "", "inter2": inter2, "interaction": interaction, "civilian_targeting": civ,
            "iso": iso, "region": "Europe" if country else "", "country": country,
            "admin1": pl.admin1.removesuffix(" Oblast"), "admin2": pl.admin2, "admin3": "",
            "location": pl.name or note_place, "latitude": round(float(v["lat"]), 4),
            "longitude": round(float(v["lon"]), 4), "geo_precision": pl.geo_precision,
            "source": "; ".join(x for x in (f["sources"] or f["evidence_kinds"]).split(";") if x) or "TruceWatch",
            "source_scale": "Other", "notes": notes, "fatalities": fatalities(v),
            "tags": f"status: {v['status']}; confidence: {float(v['confidence']):.2f}; uncertainty_m: {e:.0f}",
            "timestamp": int(float(v.get("updated_at") or now)),
        })
    return out


def write(views: list[dict[str, Any]], ctx: Any = None) -> bytes:
    names = ctx.party_names if ctx is not None else {}
    return to_csv(rows(views, names), COLUMNS).encode()


__all__ = ["COLUMNS", "cell", "rows", "write"]
