"""Sample findings for the dashboard, the tests and the API benchmark.

Written straight into the store (sources, observations, violations with their
evidence, workflow transitions), so the service can be shown and measured
before, or without, the fusion and adjudication stages.  Positions are drawn
near the agreement's contact line; parties from the agreement's sides.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from trucewatch.agreement import load_agreement
from trucewatch.ledger import api
from trucewatch.ledger.checkpoint import NoteSigner
from trucewatch.ledger.ingest import ingest, ingest_signed
from trucewatch.ledger.keys import generate_source_keys, register_source_keys, sign_observations
from trucewatch.model import (
    Evidence,
    Location,
    Observation,
    ObservationKind,
    Rule,
    Source,
    SourceKind,
    Status,
    Transition,
    Violation,
    from_unix,
)
from trucewatch.sim.air import simulate_air
from trucewatch.sim.sea import AGREEMENT as SEA_AGREEMENT
from trucewatch.sim.sea import simulate_sea
from trucewatch.sources.air.intake import Post, air_force_source, process_posts
from trucewatch.sources.air.tracks import air_picture_source, read_tracks, track_observations
from trucewatch.sources.sea.pipeline import ais_source, process_lines
from trucewatch.store import Store
from trucewatch.store.store import content_hash

RULE_KINDS = {
    Rule.FIRE_ACROSS_LINE: [ObservationKind.LAUNCH, ObservationKind.IMPACT],
    Rule.HEAVY_WEAPON_IN_ZONE: [ObservationKind.WEAPON_SIGHTING],
    Rule.STRIKE_ON_PROTECTED_OBJECT: [ObservationKind.IMPACT, ObservationKind.REPORT_CLAIM],
    Rule.INTERFERENCE_WITH_MONITORS: [ObservationKind.INTERFERENCE],
}


#: Sample post texts (free text stays as written, in its own language).
_POSTS = [("uk", "Вночі обстріляли околиці населеного пункту, пошкоджено лінію електропередач."),
          ("ru", "Ночью слышны разрывы на окраине посёлка, повреждена школа."),
          ("en", "Shelling reported overnight near the village; a school building was damaged.")]


def _sample_attributes(kind: ObservationKind, src: str, i: int, k: int, t: Any) -> dict[str, Any]:
    """What each sample observation says, as the real stages record it (evidence panel)."""
    if src == "acoustic-net":
        return {"n_sensors": 4, "sensor_ids": [f"sensor-{(i + j) % 12:03d}" for j in range(4)],
                "residual_rms_s": round(0.05 + 0.01 * ((i + k) % 7), 3)}
    if kind == ObservationKind.REPORT_CLAIM:
        lang, text = _POSTS[i % len(_POSTS)]
        return {"note": "sample", "text": text, "language": lang, "channel": f"sample_channel_{i % 3}",
                "url": f"https://t.me/sample_channel_{i % 3}/{1000 + i}"}
    if kind == ObservationKind.WEAPON_SIGHTING:
        return {"note": "sample", "flight_id": f"flight-{i % 5:02d}", "frame_time": t.isoformat(), "gsd_m": 0.12}
    return {"note": "sample"}


def near_line(agreement: Any, n: int, rng: np.random.Generator, spread_m: float = 15_000.0
              ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points scattered around the contact line (lat, lon arrays)."""
    line = agreement.line_en
    # 4,000 anchors along the line, then jitter: interpolating every point is slow
    anchors = shapely.line_interpolate_point(line, np.linspace(0, line.length, min(n, 4000)))
    ax, ay = shapely.get_x(anchors), shapely.get_y(anchors)
    k = rng.integers(0, len(ax), n)
    e = ax[k] + rng.normal(0, spread_m, n)
    nn = ay[k] + rng.normal(0, spread_m, n)
    lat, lon = agreement.frame.to_latlon(e, nn)
    return np.asarray(lat), np.asarray(lon)


def sample_sources(agreement: Any, rng: np.random.Generator, n_sensors: int = 12) -> list[Source]:
    lat, lon = near_line(agreement, n_sensors, rng, 5_000.0)
    out = [Source(id=f"sensor-{i:03d}", kind=SourceKind.ACOUSTIC_SENSOR, name=f"acoustic sensor {i}",
                  lat=float(lat[i]), lon=float(lon[i])) for i in range(n_sensors)]
    out.append(Source(id="acoustic-net", kind=SourceKind.ACOUSTIC_NETWORK, name="acoustic locator"))
    out.append(Source(id="team-alpha", kind=SourceKind.MONITOR_TEAM, name="Monitoring team Alpha"))
    out.append(Source(id="sat-viirs", kind=SourceKind.SATELLITE, name="VIIRS active fires"))
    clat, clon = near_line(agreement, 1, rng, 1_000.0)
    poly = shapely.Point(float(clon[0]), float(clat[0])).buffer(0.08)
    out.append(Source(id="drone-1", kind=SourceKind.DRONE, name="UAV patrol 1",
                      attributes={"coverage": shapely.geometry.mapping(poly)}))
    return out


def populate(store: Store, agreement: Any, rng: np.random.Generator, *, n_violations: int = 40,
             day: datetime | None = None, verified_share: float = 0.5, ledger: bool = False) -> list[Violation]:
    """Sources, observations and violations of one day (status mix, both parties).

    With ``ledger`` the sources get Ed25519 keys, the observations are signed
    and go through trucewatch.ledger's signed ingest, and a checkpoint is
    signed, so evidence proofs verify as in a real deployment.
    """
    day = day or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    sources = sample_sources(agreement, rng)
    store.add_sources(sources)
    lat, lon = near_line(agreement, n_violations, rng)
    sides = agreement.side_of(lat, lon)
    rules = list(RULE_KINDS)
    obs: list[Observation] = []
    viols: list[Violation] = []
    for i in range(n_violations):
        rule = rules[i % len(rules)]
        t = day + timedelta(seconds=float(rng.uniform(0, 86_000)))
        party = str(sides[i]) or "undetermined"
        if rule == Rule.FIRE_ACROSS_LINE and party in agreement.parties:
            # the fire hits this side: it came from the other one
            party = next(p for p in agreement.parties if p != party)
        ev: list[Evidence] = []
        for k, kind in enumerate(RULE_KINDS[rule]):
            src = {"launch": "acoustic-net", "impact": "acoustic-net", "weapon_sighting": "drone-1",
                   "report_claim": "team-alpha", "interference": "team-alpha"}[kind.value]
            o = Observation(id=f"obs-{day:%Y%m%d}-{i:05d}-{k}", source_id=src, kind=kind, time=t,
                            location=Location(lat=float(lat[i] + rng.normal(0, 0.01)),
                                              lon=float(lon[i] + rng.normal(0, 0.01)),
                                              err_major_m=float(rng.uniform(150, 900)), err_minor_m=120.0),
                            attributes=_sample_attributes(kind, src, i, k, t))
            obs.append(o)
            ev.append(Evidence(observation_id=o.id, source_id=src, kind=kind, summary=f"{kind.value} by {src}"))
        viols.append(Violation(
            id=f"v-{day:%Y%m%d}-{i:05d}", event_id=f"e-{day:%Y%m%d}-{i:05d}", rule=rule, party=party,
            confidence=float(np.round(rng.uniform(0.35, 0.99), 3)), time=t,
            location=Location(lat=float(lat[i]), lon=float(lon[i]), err_major_m=float(rng.uniform(200, 2500)),
                              err_minor_m=150.0, err_angle_deg=float(rng.uniform(0, 180))),
            # fire across the line: the launch point (sample geometry: a fixed offset, no draw)
            origin=(Location(lat=float(lat[i]) + 0.045, lon=float(lon[i]) - 0.09, err_major_m=900.0, err_minor_m=400.0,
                             err_angle_deg=30.0) if rule == Rule.FIRE_ACROSS_LINE else None),
            evidence=ev, explanation=f"sample {rule.value.replace('_', ' ')} near the line"))
    if ledger:
        rep = _signed_ingest(store, sources, obs, rng)
    else:
        rep = ingest(store, obs, require_signatures=False)
    if rep.errors:
        raise ValueError(f"sample observations refused: {rep.errors[:3]}")
    store.save_violations(viols)
    _advance(store, viols, rng, verified_share, day)
    return [store.get_violation(v.id) for v in viols]  # type: ignore[misc]


def populate_air_sea(store: Store, agreement: Any, rng: np.random.Generator, *, day: datetime | None = None,
                     drones: int = 16, merchants: int = 10) -> list[Observation]:
    """Air tracks and air-defence summaries of one night, and a day of vessel incidents, as the air
    and sea stages produce them (their simulators, then their own readers: ``track_observations``,
    ``process_posts``, the AIS pipeline judged on the black-sea-maritime agreement).  Unsigned, for
    the dashboard's air and sea layers; ``day`` as in :func:`populate`."""
    day = day or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    sim = simulate_air(rng, agreement, day=day.date().isoformat(), nights=1, drones=drones, cruise=3, ballistic=2,
                       ua_drones=2, patrols=1, near_misses=1)
    tracks, _ = read_tracks(sim.track_lines)
    obs = track_observations(tracks, "airpicture:sample")
    posts = [Post(x["id"], datetime.fromisoformat(x["published_at"]), x["text"], x["source"]) for x in sim.summaries]
    obs += process_posts(posts, "airforce:sample")[1]
    sea = simulate_sea(rng, t0=day.timestamp(), hours=24.0, n_merchants=merchants)
    obs += process_lines(sea.lines, load_agreement(SEA_AGREEMENT), source_id="ais:sample", end_time=sea.t1).observations
    store.add_sources([air_picture_source("airpicture:sample", "sample air picture"),
                       air_force_source("airforce:sample"), ais_source("ais:sample", "sample AIS feed")])
    rep = ingest(store, obs, require_signatures=False)
    if rep.errors:
        raise ValueError(f"sample air/sea observations refused: {rep.errors[:3]}")
    return obs


def _signed_ingest(store: Store, sources: list[Source], obs: list[Observation], rng: np.random.Generator) -> Any:
    keys = generate_source_keys([s.id for s in sources], rng)
    origin = api.log_origin(store) or "trucewatch.sample/log"
    signer = NoteSigner.generate(origin)
    api.init_log(store, origin, signer)
    register_source_keys(store, keys, signer=signer)  # certified by the mission key, in the log
    rep = ingest_signed(store, sign_observations(obs, keys))
    api.make_checkpoint(store, signer)
    return rep


def _advance(store: Store, viols: list[Violation], rng: np.random.Generator, share: float, day: datetime) -> None:
    """Move a share of the findings along the workflow, backdated to the day."""
    at = day + timedelta(hours=23)
    for v in viols:
        u = rng.uniform()
        path: list[Status] = []
        if u < share:
            path = [Status.CORROBORATED, Status.VERIFIED]
            if rng.uniform() < 0.4:
                path.append(Status.NOTIFIED)
        elif u < share + 0.2:
            path = [Status.CORROBORATED]
        elif u < share + 0.25:
            path = [Status.DISMISSED]
        prev = Status.DETECTED
        for s in path:
            store.record_transition(Transition(violation_id=v.id, from_status=prev, to_status=s,
                                               actor="analyst:sample", reason="sample workflow", at=at))
            prev = s


def bulk_observations(store: Store, n: int, rng: np.random.Generator, agreement: Any, *, source_id: str = "bulk",
                      t0: float | None = None, chunk: int = 100_000) -> int:
    """Insert ``n`` synthetic observations fast (driver-level executemany), for load tests only.

    Rows carry Store's own ``content_hash`` of what they hold, so the
    duplicate check works on them as on any other row.
    """
    store.add_sources([Source(id=source_id, kind=SourceKind.SIMULATOR, name="load-test source")])
    t0 = time.time() - 30 * 86400 if t0 is None else t0
    done = 0
    while done < n:
        m = min(chunk, n - done)
        lat, lon = near_line(agreement, m, rng, 30_000.0)
        lat, lon = np.round(lat, 6), np.round(lon, 6)
        t = np.round(t0 + rng.uniform(0, 29 * 86400, m), 3)
        now = time.time()
        rows = []
        for j in range(m):
            oid = f"{source_id}-{done + j:08d}"
            tj, la, lo = float(t[j]), float(lat[j]), float(lon[j])
            o = Observation.model_construct(
                id=oid, source_id=source_id, kind=ObservationKind.EXPLOSION, time=from_unix(tj), time_sigma_s=1.0,
                location=Location.model_construct(lat=la, lon=lo, err_major_m=300.0, err_minor_m=200.0,
                                                  err_angle_deg=0.0, footprint=None),
                attributes={}, payload_hash=None, signature=None, ledger_index=None)
            rows.append((oid, source_id, "explosion", tj, 1.0, la, lo, 300.0, 200.0, 0.0, None, "{}", None,
                         content_hash(o), None, None, now))
        with store.engine.begin() as c:
            first = c.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM observations").scalar()
            c.exec_driver_sql(
                "INSERT INTO observations (id, source_id, kind, t, time_sigma_s, lat, lon, err_major_m, err_minor_m, "
                "err_angle_deg, footprint, attributes, payload_hash, content_hash, signature, ledger_index, "
                "ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
            if store.dialect == "sqlite":
                c.exec_driver_sql("INSERT INTO obs_rtree (id, min_lon, max_lon, min_lat, max_lat) "
                                  "SELECT seq, lon, lon, lat, lat FROM observations WHERE seq > ?", (first,))
        done += m
    return done


def bulk_violations(store: Store, n: int, rng: np.random.Generator, agreement: Any, *, t0: float | None = None,
                    prefix: str = "bulk-v") -> list[str]:
    """``n`` synthetic ``detected`` violations written in bulk (rows as Store.save_violations
    writes them, with their first transition), for load tests only."""
    t0 = time.time() - 30 * 86400 if t0 is None else t0
    lat, lon = near_line(agreement, n, rng, 20_000.0)
    sides = agreement.side_of(lat, lon)
    rules = list(RULE_KINDS)
    t = t0 + rng.uniform(0, 29 * 86400, n)
    conf = rng.uniform(0.3, 1.0, n)
    now = time.time()
    ids = [f"{prefix}-{i:07d}" for i in range(n)]
    rows, trs = [], []
    for i in range(n):
        loc = {"lat": float(lat[i]), "lon": float(lon[i]), "err_major_m": 500.0, "err_minor_m": 300.0,
               "err_angle_deg": 0.0, "footprint": None}
        ev = [{"observation_id": f"bulk-{i:08d}", "source_id": "bulk", "kind": "explosion", "ledger_index": None,
               "summary": ""}]
        rows.append((ids[i], f"{prefix}-e-{i:07d}", rules[i % len(rules)].value, str(sides[i]) or "undetermined",
                     float(conf[i]), Status.DETECTED.value, float(t[i]), float(lat[i]), float(lon[i]), json.dumps(loc),
                     None, json.dumps(ev), "load test", "{}", now, now))
        trs.append((ids[i], None, Status.DETECTED.value, "system", "detected by adjudication", now, "[]"))
    with store.engine.begin() as c:
        first = c.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM violations").scalar()
        c.exec_driver_sql(
            "INSERT INTO violations (id, event_id, rule, party, confidence, status, t, lat, lon, location, origin, "
            "evidence, explanation, attributes, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        c.exec_driver_sql("INSERT INTO transitions (violation_id, from_status, to_status, actor, reason, at, "
                          "counter_evidence) VALUES (?,?,?,?,?,?,?)", trs)
        if store.dialect == "sqlite":
            c.exec_driver_sql("INSERT INTO viol_rtree (id, min_lon, max_lon, min_lat, max_lat) "
                              "SELECT seq, lon, lon, lat, lat FROM violations WHERE seq > ?", (first,))
    return ids
