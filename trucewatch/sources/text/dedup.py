"""Which claims describe the same event (clusters), and which posts are copies.

Same event: occurrence windows overlap (two hours' slack), places within the
sum of their honest radii (at least 3 km), compatible event types (a fire or an
outage is compatible with the strike that caused it; "other" with anything),
and facilities that do not contradict each other (compared after folding, so
Hercon and Gerkon meet).  The pair test is vectorized over all pairs in blocks;
clusters are the connected components.

Copies: fusion must count independent sources, not posts.  A post is a copy
when Telegram says it was forwarded, when it cites another channel ("via @x",
"джерело: t.me/..."), when its folded text is nearly the same as an earlier
post's of the same cluster (same language, or Ukrainian/Russian cognates), or
when it is a translation: an earlier post of the same cluster in another
language carries the same numbers, place, type, weapon and facility.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
from rapidfuzz import fuzz

from trucewatch.geo import haversine_m
from trucewatch.sources.text.extract import EVENT_TYPES, Claim
from trucewatch.sources.text.translit import fold

_TYPE = {t: i for i, t in enumerate(EVENT_TYPES)}
_EFFECT = {_TYPE["facility_fire"], _TYPE["infrastructure_damage"]}
_STRIKE = {_TYPE[t] for t in ("shelling", "drone_strike", "missile_strike", "air_strike")}
TIME_SLACK_S = 2 * 3600.0
MIN_JOIN_M = 3000.0
#: Place radius above which a claim is too vague to join an event on place alone.
MAX_JOIN_RADIUS_M = 40_000.0
BLOCK = 256
_CITE = re.compile(r"(?:via|source|джерело|источник|по данным|за даними|пише|пишет|передає|передает)\s*:?\s*@\w+|"
                   r"t\.me/\w+|(?:via|джерело|источник)\s*:", re.IGNORECASE)


def _type_compat() -> np.ndarray:
    n = len(EVENT_TYPES)
    m = np.eye(n, dtype=bool)
    other = _TYPE["other"]
    m[other, :] = m[:, other] = True
    for e in _EFFECT:
        for s in _STRIKE | _EFFECT:
            m[e, s] = m[s, e] = True
    return m


COMPAT = _type_compat()


class _UF:
    def __init__(self, n: int) -> None:
        self.p = np.arange(n)

    def find(self, a: int) -> int:
        p = self.p
        while p[a] != a:
            p[a] = p[p[a]]
            a = p[a]
        return int(a)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.p[max(ra, rb)] = min(ra, rb)


def _fac_key(c: Claim) -> str:
    return fold(c.facility_name) if c.facility_name else ""


def settle_ambiguous(claims: list[Claim]) -> int:
    """Give an ambiguous place (a village name shared by several places, no region
    written) the place that other reports of the same time and kind name without
    ambiguity: "Вершина" with "Vershina, Zaporizhzhia region" half an hour later
    is the Zaporizhzhia one.  Only when those reports agree on one place; returns
    how many claims moved.  Runs before clustering, which compares places."""
    by_place: dict[str, list[int]] = {}
    for j, c in enumerate(claims):
        if c.lat is not None and c.place and not c.alternatives:
            by_place.setdefault(c.place, []).append(j)
    moved = 0
    for c in claims:
        if not c.alternatives or c.lat is None or c.place not in by_place:
            continue
        t0, t1 = c.occurred_from.timestamp() - TIME_SLACK_S, c.occurred_to.timestamp() + TIME_SLACK_S
        mates = [claims[j] for j in by_place[c.place]
                 if claims[j].occurred_to.timestamp() >= t0 and claims[j].occurred_from.timestamp() <= t1
                 and COMPAT[_TYPE[c.event_type], _TYPE[claims[j].event_type]]]
        places = {(round(m.lat, 3), round(m.lon, 3)) for m in mates if m.lat is not None and m.lon is not None}
        if len(places) != 1:
            continue  # nobody names it, or they disagree: it stays ambiguous
        m = mates[0]
        c.lat, c.lon, c.admin1, c.radius_m = m.lat, m.lon, m.admin1, m.radius_m
        c.line_distance_km = m.line_distance_km
        c.alternatives = []
        c.reason = f"place settled by {m.report_id}, which names the region"
        moved += 1
    return moved


def cluster(claims: list[Claim]) -> None:
    """Set ``cluster`` (an int, equal for the same event) on every claim, in place."""
    n = len(claims)
    if n == 0:
        return
    lat = np.array([c.lat if c.lat is not None else np.nan for c in claims], float)
    lon = np.array([c.lon if c.lon is not None else np.nan for c in claims], float)
    r = np.array([c.radius_m if c.radius_m is not None else np.nan for c in claims], float)
    t0 = np.array([c.occurred_from.timestamp() for c in claims])
    t1 = np.array([c.occurred_to.timestamp() for c in claims])
    ty = np.array([_TYPE[c.event_type] for c in claims], int)
    fk = [c.facility or "" for c in claims]
    fn = [_fac_key(c) for c in claims]
    fac_kind = {k: i + 1 for i, k in enumerate(sorted(set(fk) - {""}))}
    fkind = np.array([fac_kind.get(k, 0) for k in fk], int)
    ok = np.isfinite(lat) & (r <= MAX_JOIN_RADIUS_M)
    # sweep in start-time order: a block meets every later-starting claim that can still overlap it
    order = np.argsort(t0, kind="stable")
    t0s = t0[order]
    uf = _UF(n)
    for s in range(0, n, BLOCK):
        a = order[s:s + BLOCK]
        hi = int(np.searchsorted(t0s, float(np.max(t1[a])) + TIME_SLACK_S, side="right"))
        b = order[s:max(hi, s + len(a))]
        # windows must overlap by half the shorter one (max 30 min); short windows (stated
        # clock times) get slack, whole-day windows of consecutive days do not join
        overlap = np.minimum(t1[a][:, None], t1[b][None, :]) - np.maximum(t0[a][:, None], t0[b][None, :])
        wa, wb = (t1 - t0)[a][:, None], (t1 - t0)[b][None, :]
        need = np.minimum(1800.0, 0.5 * np.minimum(wa, wb)) - np.where((wa < 7200) & (wb < 7200), TIME_SLACK_S, 0.0)
        fa, fb = fkind[a][:, None], fkind[b][None, :]
        m = (overlap >= need) & COMPAT[ty[a][:, None], ty[b][None, :]] & ((fa == 0) | (fb == 0) | (fa == fb))
        m &= ok[a][:, None] & ok[b][None, :]
        ii, jj = np.nonzero(m)
        x, y = a[ii], b[jj]
        keep = x < y
        x, y = x[keep], y[keep]
        if not len(x):
            continue
        # distance only for the pairs that pass the cheap tests
        d = haversine_m(lat[x], lon[x], lat[y], lon[y])
        close = d <= np.maximum(r[x] + r[y], MIN_JOIN_M)
        for xi, yi in zip(x[close].tolist(), y[close].tolist(), strict=True):
            if fn[xi] and fn[yi] and fuzz.ratio(fn[xi], fn[yi]) < 70:
                continue  # two different named facilities
            uf.union(xi, yi)
    roots = [uf.find(i) for i in range(n)]
    first: dict[int, int] = {}
    pub = [c.published_at.timestamp() for c in claims]
    for i in sorted(range(n), key=lambda i: (pub[i], i)):
        first.setdefault(roots[i], len(first))
    for i, c in enumerate(claims):
        c.cluster = first[roots[i]]


def cluster_key(claims: list[Claim], c: Claim) -> str:
    """A stable string id for a claim's cluster: hash of its earliest report id."""
    ids = sorted((x.published_at, x.report_id) for x in claims if x.cluster == c.cluster)
    return "rc:" + hashlib.sha256(ids[0][1].encode()).hexdigest()[:16]


def _text_key(c: Claim, text: str) -> str:
    return fold(re.sub(r"https?://\S+|@\w+|#\w+", " ", text))


def mark_copies(claims: list[Claim], texts: list[str], forwarded: list[str | None]) -> None:
    """Set ``independent`` and ``origin_id`` on every claim, in place."""
    n = len(claims)
    keys = [_text_key(c, t) for c, t in zip(claims, texts, strict=True)]
    for c, k in zip(claims, keys, strict=True):
        c.text_key = k
    by_cluster: dict[int, list[int]] = {}
    for i, c in enumerate(claims):
        by_cluster.setdefault(c.cluster, []).append(i)
    origin: list[int] = list(range(n))
    for members in by_cluster.values():
        members.sort(key=lambda i: (claims[i].published_at, i))
        for pos, j in enumerate(members):
            cj = claims[j]
            src: int | None = None
            earlier = [i for i in members[:pos] if claims[i].source != cj.source]
            if forwarded[j] or _CITE.search(texts[j]):
                src = earlier[0] if earlier else None
                if src is None and forwarded[j]:
                    cj.independent = False  # forwarded from a post we do not hold
                    cj.origin_id = None
            if src is None:
                best = 0.0
                for i in earlier:
                    ci = claims[i]
                    s = _copy_score(ci, cj, keys[i], keys[j])
                    if s > best:
                        best, src = s, i
                if best < 1.0:
                    src = None
            if src is not None:
                cj.independent = False
                origin[j] = origin[src]
                cj.origin_id = claims[origin[j]].report_id


def _copy_score(a: Claim, b: Claim, ka: str, kb: str) -> float:
    """>= 1 when b reads as a copy or translation of a.

    Same script: nearly the same folded text *and* the same numbers (an
    independent report in a shared idiom differs in its counts or times).
    Another language: the same checkable content, i.e. the same numbers, place,
    type, weapon, facility and occurrence window.
    """
    same_numbers = sorted(a.numbers) == sorted(b.numbers)
    same_script = (a.language == "en") == (b.language == "en")
    if same_script:
        sim = fuzz.token_set_ratio(ka, kb) if min(len(ka), len(kb)) > 20 else fuzz.ratio(ka, kb)
        thr = 82.0 if a.language == b.language else 75.0  # uk/ru cognates read alike when folded
        if sim >= 97.0 or (sim >= thr and same_numbers):
            return sim / thr
    if a.language != b.language and same_numbers and a.numbers and a.place_id == b.place_id \
            and a.event_type == b.event_type and a.weapon == b.weapon and a.facility == b.facility \
            and a.occurred_from == b.occurred_from and a.occurred_to == b.occurred_to:
        return 1.0
    return 0.0
