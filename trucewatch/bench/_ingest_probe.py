"""One ingest + log measurement in this process, for ``bench ledger`` (run as a
subprocess so a baseline checkout can run the same workload: it uses only the API
that main and this branch share, plus the integrator when the tree has one).

    python trucewatch/bench/_ingest_probe.py DB_URL N [LOG_N]   -> one JSON line

Measures signed ingest end to end (verify, store, log: until every entry is in
the Merkle tree) in batches of 500 as a worker takes them, the process CPU per
observation (every thread: ingest and integrator), the signature-check ceiling
(bare libsodium, one thread, the same messages) in the same process, and raw log
appends or integration of LOG_N entries.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from nacl.bindings import crypto_sign_open

from trucewatch.ledger.api import init_log
from trucewatch.ledger.canonical import signing_message
from trucewatch.ledger.checkpoint import NoteSigner
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.integrator import integrate_pending
from trucewatch.ledger.keys import generate_source_keys, register_source_keys, sign_observations
from trucewatch.ledger.log import LogEntry, MerkleLog, bulk_insert
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind
from trucewatch.store import Store
from trucewatch.store import schema as S


def main() -> None:
    url, n = sys.argv[1], int(sys.argv[2])
    log_n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    rng = np.random.default_rng(1)
    store = Store.open(url)
    srcs = [Source(id=f"acoustic-{i:02d}", kind=SourceKind.ACOUSTIC_SENSOR) for i in range(20)]
    store.add_sources(srcs)
    keys = generate_source_keys(srcs, rng)
    signer = NoteSigner.generate("bench.trucewatch/log")
    init_log(store, "bench.trucewatch/log", signer)
    register_source_keys(store, keys, signer=signer)
    t0 = datetime(2026, 11, 20, tzinfo=UTC)
    obs = sign_observations([Observation(
        id=f"obs:acoustic:{i:08d}", source_id=srcs[i % 20].id, kind=ObservationKind.IMPACT,
        time=t0 + timedelta(seconds=float(rng.uniform(0, 86400))),
        location=Location(lat=float(rng.uniform(47, 49)), lon=float(rng.uniform(36, 39)),
                          err_major_m=float(rng.uniform(80, 900)), err_minor_m=60.0,
                          err_angle_deg=float(rng.uniform(0, 180))),
        attributes={"pair_id": f"pair-{i // 2}", "n_sensors": int(rng.integers(3, 12)), "weapon": None},
        payload_hash=os.urandom(32).hex()) for i in range(n)], keys)
    new = hasattr(MerkleLog, "integrate")
    log = MerkleLog(store)
    base = log.size

    # ---- ingest, as a worker does it (the branch: integrator thread every 0.2 s)
    stop = threading.Event()
    lags: list[float] = []

    def integrator() -> None:
        lg = MerkleLog(store)
        while not stop.is_set():
            if integrate_pending(store, lg) and lg.last_lag_s is not None:
                lags.append(lg.last_lag_s)
            stop.wait(0.2)

    th = threading.Thread(target=integrator) if new else None
    if th is not None:
        th.start()
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(0, n, 500):
        part = obs[i:i + 500]
        rep = ingest_signed(store, part, integrate=False) if new else ingest_signed(store, part)
        assert len(rep.accepted) == len(part), rep.as_dict()
    t_ack = time.perf_counter() - w0
    while log.size < base + n:
        time.sleep(0.005)
    wall = time.perf_counter() - w0
    if th is not None:
        stop.set()
        th.join()
    cpu = time.process_time() - c0

    # ---- the signature-check ceiling on the same messages, same process
    pairs = []
    for o in obs:
        assert o.signature is not None  # sign_observations signs every observation
        pairs.append((base64.b64decode(o.signature) + signing_message(o), bytes(keys[o.source_id].verify_key)))
    best = best_cpu = float("inf")
    for _ in range(2):
        a, ac = time.perf_counter(), time.process_time()
        for sm, pk in pairs:
            crypto_sign_open(sm, pk)
        best = min(best, time.perf_counter() - a)
        best_cpu = min(best_cpu, time.process_time() - ac)

    out = {"tree": "branch" if new else "baseline", "backend": store.dialect, "observations": n,
           "ingest_obs_per_s": round(n / wall, 1), "ack_obs_per_s": round(n / t_ack, 1),
           "cpu_us_per_obs": round(cpu / n * 1e6, 1), "sig_check_cpu_us": round(best_cpu / n * 1e6, 1),
           "sig_ceiling_per_s": round(n / best, 1), "sig_ceiling_per_cpu_s": round(n / best_cpu, 1),
           "cpu_over_sig_check": round(cpu / best_cpu, 2), "integration_lag_s_max": round(max(lags), 3) if lags else None}

    # ---- the log alone: LOG_N entries through integration (branch) or append (baseline)
    if log_n:
        leaf = [os.urandom(32) for _ in range(log_n)]
        size0 = log.size
        ac = time.process_time()
        if new:
            now = time.time()
            with store.engine.begin() as c:
                bulk_insert(c, S.ledger_queue, ("observation_id", "leaf", "key", "queued_at"),
                            [(f"log:{i:08d}", h, b"k" * 32, now) for i, h in enumerate(leaf)])
            a = time.perf_counter()
            while log.integrate(100_000):
                pass
        else:
            a = time.perf_counter()
            for b in range(0, log_n, 1000):
                log.append([LogEntry(f"log:{i:08d}", leaf[i], b"k" * 32) for i in range(b, min(log_n, b + 1000))])
        t, tc = time.perf_counter() - a, time.process_time() - ac
        assert log.size == size0 + log_n
        out |= {"log_entries": log_n, "log_entries_per_s": round(log_n / t, 1),
                "log_cpu_us_per_entry": round(tc / log_n * 1e6, 2)}
    store.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
