"""Records -> claims -> REPORT_CLAIM observations (the stage's public entry points).

``extract_claims`` runs extraction per record (a failure is that record's
error, never the batch's), then clustering and copy detection over the batch.
``extract_observations`` turns located claims into observations per the
observation contract: the 95 % ellipse is a circle of the place's or phrase's
honest radius (widened to reach every other place of the same name when the name
stays ambiguous, so no stage takes one guess among several villages for a fix),
the time is the middle of the window and ``time_sigma_s`` half of it.  ``sources_of`` registers each channel, outlet or team as a Source.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import numpy as np

from trucewatch.agreement import Agreement
from trucewatch.errors import RecordProblem
from trucewatch.geo import haversine_m
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind
from trucewatch.sources.text.dedup import cluster, cluster_key, mark_copies, settle_ambiguous
from trucewatch.sources.text.extract import Claim, Extractor
from trucewatch.sources.text.intake import _RE, Record, record_from_dict

#: Official channels of the parties (lower-case source names or Telegram handles).
PARTY_CHANNELS: dict[str, str] = {
    "mod_russia": "RU", "mod_russia_en": "RU", "telegram:mod_russia": "RU", "mil.ru": "RU",
    "generalstaffzsu": "UA", "telegram:generalstaffzsu": "UA", "kpszsu": "UA", "telegram:kpszsu": "UA",
    "mod.gov.ua": "UA", "feed:mod.gov.ua": "UA", "zsu.gov.ua": "UA",
}
_BAD_ID = re.compile(r"[^A-Za-z0-9_.:\-/@]+")


def source_id(source: str) -> str:
    """Deterministic Source id for a channel or outlet name."""
    s = _BAD_ID.sub("_", source.strip())[:150] or "unknown"
    return s if s.startswith(("telegram:", "feed:", "text:", "monitor:")) else f"text:{s}"


def source_kind_party(rec: Record) -> tuple[SourceKind, str]:
    if rec.patrol is not None or rec.source_kind == SourceKind.MONITOR_TEAM.value:
        return SourceKind.MONITOR_TEAM, "neutral"
    party = rec.party or PARTY_CHANNELS.get(rec.source.lower())
    if rec.source_kind == SourceKind.PARTY_STATEMENT.value or party:
        return SourceKind.PARTY_STATEMENT, party or "neutral"
    return SourceKind.OPEN_SOURCE, "neutral"


def sources_of(records: list[Record]) -> list[Source]:
    out: dict[str, Source] = {}
    for r in records:
        kind, party = source_kind_party(r)
        sid = source_id(r.source)
        if sid not in out:
            out[sid] = Source(id=sid, kind=kind, party=party, name=r.source[:200],
                              reliability=0.9 if kind == SourceKind.MONITOR_TEAM else 0.6)
    return list(out.values())


def _as_records(records: list[Any]) -> tuple[list[Record], list[RecordProblem]]:
    recs: list[Record] = []
    errs: list[RecordProblem] = []
    for n, r in enumerate(records, 1):
        if isinstance(r, Record):
            recs.append(r)
            continue
        try:
            recs.append(record_from_dict(r, f"record {n}"))
        except _RE as e:
            errs.append(e.err)
    return recs, errs


def extract_claims(records: list[Any], agreement: Agreement | None = None, extractor: Extractor | None = None
                   ) -> tuple[list[Claim], list[RecordProblem]]:
    """Claims for records (Record objects or JSONL dicts), clustered and copy-marked."""
    recs, errs = _as_records(records)
    ex = extractor or _extractor(agreement)
    claims: list[Claim] = []
    texts: list[str] = []
    fwd: list[str | None] = []
    for r in recs:
        try:
            _, party = source_kind_party(r)
            # one claim per event the text names (the main one keeps the record's id, others get id#2...)
            got = ex.extract_many(r.id, r.source, r.text, r.published_at, r.lang, party)
        except Exception as e:
            errs.append(RecordProblem(f"record (id={r.id[:60]})", "text", f"extraction failed: {type(e).__name__}: {e}"))
            continue
        digest = hashlib.sha256(r.text.encode("utf-8")).hexdigest()
        for c in got:
            c.url, c.forwarded_from = r.url, r.forwarded_from
            c.payload_hash = digest
            claims.append(c)
            texts.append(r.text)
            fwd.append(r.forwarded_from)
    settle_ambiguous(claims)
    cluster(claims)
    mark_copies(claims, texts, fwd)
    return claims, errs


_EXTRACTORS: dict[int, Extractor] = {}


def _extractor(agreement: Agreement | None) -> Extractor:
    key = id(agreement)
    if key not in _EXTRACTORS:
        _EXTRACTORS[key] = Extractor(agreement=agreement)
    return _EXTRACTORS[key]


#: Characters of a post's text kept with its observation (a Telegram post is at most 4,096).
TEXT_MAX = 4096


def location_radius_m(c: Claim) -> float:
    """The claim's 95 % radius (m): the place's own radius, or, when the name is ambiguous,
    one that reaches the farthest other place of that name (plus the place's radius).

    Why: the extractor's pick among villages of one name is a guess; a circle the size of
    one village around it made a report from another oblast look like a precise fix, so
    fusion left it standing alone and the rules judged it in the wrong place."""
    if c.lat is None or c.lon is None or c.radius_m is None:
        raise ValueError(f"claim {c.report_id} has no location: {c.reason}")
    r = float(c.radius_m)
    if c.alternatives:
        alt = np.array([a[:2] for a in c.alternatives], dtype=float)
        r += float(np.max(haversine_m(c.lat, c.lon, alt[:, 0], alt[:, 1])))
    return float(min(max(r, 100.0), 499_000.0))


def claim_to_observation(c: Claim, claims: list[Claim] | None = None, ckey: str | None = None) -> Observation:
    if c.lat is None or c.lon is None or c.radius_m is None:
        raise ValueError(f"claim {c.report_id} has no location: {c.reason}")
    r = location_radius_m(c)
    half = (c.occurred_to - c.occurred_from).total_seconds() / 2.0
    mid = c.occurred_from + timedelta(seconds=half)
    return Observation(
        id="report:" + hashlib.sha256(f"{c.source}\x00{c.report_id}".encode()).hexdigest()[:24],
        source_id=source_id(c.source),
        kind=ObservationKind.REPORT_CLAIM,
        time=mid,
        time_sigma_s=max(half, 60.0),
        location=Location(lat=c.lat, lon=c.lon, err_major_m=r, err_minor_m=r, err_angle_deg=0.0),
        attributes={
            "event_type": c.event_type, "actor": c.actor, "facility": c.facility_label(), "place": c.place,
            "admin1": c.admin1, "cluster": ckey if ckey is not None else (cluster_key(claims, c) if claims else
                                                                          str(c.cluster)),
            "independent": c.independent, "origin_id": c.origin_id, "language": c.language,
            "weapon": c.weapon, "report_id": c.report_id, "place_phrase": c.place_phrase,
            "time_precision": c.time_precision, "occurred_from": c.occurred_from.isoformat(),
            "occurred_to": c.occurred_to.isoformat(), "url": c.url,
            # what the post says and where it was posted: the reader checks the claim against it
            "text": c.text[:TEXT_MAX], "channel": c.source,
            "ambiguous": bool(c.alternatives), "line_distance_km": c.line_distance_km,
            "alternatives": [{"lat": a[0], "lon": a[1], "admin1": a[2]} for a in c.alternatives],
        },
        payload_hash=c.payload_hash or hashlib.sha256(c.report_id.encode()).hexdigest(),
    )


def extract_observations(records: list[Any], agreement: Agreement | None = None) -> tuple[list[Observation], list[RecordProblem]]:
    """REPORT_CLAIM observations for records; unlocatable reports come back as errors (field ``place``)."""
    claims, errs = extract_claims(records, agreement)
    keys: dict[int, str] = {}
    earliest: dict[int, Claim] = {}
    for c in claims:
        e = earliest.get(c.cluster)
        if e is None or (c.published_at, c.report_id) < (e.published_at, e.report_id):
            earliest[c.cluster] = c
    for k, c in earliest.items():
        keys[k] = "rc:" + hashlib.sha256(c.report_id.encode()).hexdigest()[:16]
    obs: list[Observation] = []
    source_of = {c.report_id: c.source for c in claims}  # a copy's line of evidence is its original's source
    for c in claims:
        if c.event_type == "non_event":
            # denied ("did not observe any ceasefire violations") or not about an event (a forecast): said, not dropped
            errs.append(RecordProblem(f"record (id={c.report_id[:60]})", "event_type", c.reason or "not an event"))
            continue
        if c.lat is None:
            errs.append(RecordProblem(f"record (id={c.report_id[:60]})", "place", c.reason or "no place"))
            continue
        o = claim_to_observation(c, ckey=keys[c.cluster])
        if c.origin_id and c.origin_id in source_of:
            o.attributes["origin_source"] = source_id(source_of[c.origin_id])
        obs.append(o)
    return obs, errs
