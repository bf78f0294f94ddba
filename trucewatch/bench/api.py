"""API under load: bbox violation queries (p99) on >= 1M observations, ingest rate, alert latency.

Drives ``trucewatch serve`` running in a separate process on loopback from this
process, with a constant-arrival-rate (open-model) query load, latency timed from each
request's intended send time (issue 21: no coordinated omission).  Baselines in the
same run: the same bbox query straight on the store in-process, and signed
ingest straight into the store, so the HTTP/auth/serialization overhead shows as
a ratio.  Alert latency (``alert_p99_ms``) is measured through the real stages:
a simulated day's signed observations are posted in time order to a second
service whose pipeline hook runs fusion, adjudication and the workflow; the
latency of a finding is from the POST of the batch holding its last piece of
evidence to the alert's arrival on the SSE stream.  ``alert_service_path``
isolates the service's own part (a hook that only marks a violation verified).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch.agreement import load_agreement
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import generate_source_keys, register_source_keys, sign_observations
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind, Status, utcnow
from trucewatch.service import integrations as I
from trucewatch.service.auth import TokenStore
from trucewatch.sim.observe import observe, simulated_sources
from trucewatch.sim.sample import bulk_observations, bulk_violations, near_line
from trucewatch.sim.scenario import make_scenario
from trucewatch.store import Store

MARK = "bench_verifies"


def bench_pipeline(store: Any, agreement: Any, ids: list[str]) -> None:
    """Pipeline hook for this benchmark: an observation whose attributes name a
    violation under ``bench_verifies`` moves it to verified (via the workflow)."""
    for o in store.get_observations(ids):
        vid = o.attributes.get(MARK)
        if vid:
            I.transition(store, str(vid), Status.VERIFIED, actor="bench:pipeline",
                         reason=f"bench: corroborated by {o.id}")


def _server_stack() -> dict[str, str]:
    """HTTP parser and event loop uvicorn picks ("auto") in the served process."""
    return {"http": "httptools" if importlib.util.find_spec("httptools") else "h11",
            "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
            "cores": str(os.cpu_count())}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(db: Path, agreement_file: Path, cfg: dict[str, Any], work: Path) -> tuple[Any, str]:
    # lazy: only the API benchmarks make HTTP requests
    import httpx

    cfg_file = work / f"service-{_free_port()}.yaml"
    cfg_file.write_text(json.dumps(cfg))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "trucewatch.cli", "serve", "--db", str(db), "--agreement",
                             str(agreement_file), "--port", str(port), "--config", str(cfg_file),
                             "--no-dashboard-token"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 90
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if time.time() > deadline or proc.poll() is not None:
            err = proc.stderr.read().decode()[-2000:] if proc.stderr and proc.poll() is not None else ""
            proc.kill()
            raise RuntimeError(f"service did not start: {err}")
        time.sleep(0.2)


def _stop(proc: Any) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


class _Listener(threading.Thread):
    """Arrival time of each ``violation.verified`` alert on the SSE stream."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.arrivals: dict[str, tuple[float, dict[str, Any]]] = {}
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        # lazy: only the API benchmarks make HTTP requests
        import httpx

        try:
            with httpx.stream("GET", f"{self.url}/api/v1/alerts/stream",
                              headers={"Authorization": f"Bearer {self.token}"},
                              timeout=httpx.Timeout(10.0, read=None)) as r:
                event = None
                for line in r.iter_lines():
                    if self.stop.is_set():
                        return
                    if line.startswith("event:"):
                        event = line[6:].strip()
                        if event == "ready":
                            self.ready.set()
                    elif line.startswith("data:") and event == "violation.verified":
                        v = json.loads(line[5:])["violation"]
                        self.arrivals.setdefault(v["id"], (time.perf_counter(), v))
        except httpx.HTTPError:
            if not self.stop.is_set():
                raise


def _pipeline_alerts(agreement: Any, agreement_file: Path, work: Path, seed: int, quick: bool) -> dict[str, Any]:
    """Alert latency through the real stages: a simulated day's signed observations are
    posted in time order in small batches to a service whose pipeline hook runs
    fusion, adjudication and the workflow (trucewatch.service.hooks.process_window);
    latency = SSE arrival - POST of the batch holding the finding's last evidence."""
    # lazy: only the API benchmarks make HTTP requests
    import httpx

    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 3 * 86400))
    sc = make_scenario(agreement, "quiet" if quick else "demo", seed, day)
    sources = simulated_sources(agreement)
    keys = generate_source_keys(sources, rng=np.random.default_rng(seed))
    obs = sorted(sign_observations(observe(sc, agreement, seed), keys), key=lambda o: o.time)
    db = work / "pipeline.db"
    store = Store.open(db)
    store.add_sources(sources)
    register_source_keys(store, keys)
    admin = TokenStore(store.engine).create("administrator", label="bench")[0]
    store.close()
    proc, url = _start_server(db, agreement_file, {"require_signatures": True,
                                                   "pipeline": "trucewatch.service.hooks:process_window"}, work)
    sent: dict[str, float] = {}
    try:
        lis = _Listener(url, admin)
        lis.start()
        if not lis.ready.wait(15):
            raise RuntimeError("SSE stream did not open")
        batch = 10
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=120) as c:
            for k in range(0, len(obs), batch):
                part = obs[k:k + batch]
                t = time.perf_counter()
                c.post("/api/v1/observations",
                       json={"observations": [o.model_dump(mode="json") for o in part]}).raise_for_status()
                for o in part:
                    sent[o.id] = t
                time.sleep(0.1)
        time.sleep(3.0)
        lis.stop.set()
    finally:
        _stop(proc)
    lat = []
    for ta, v in lis.arrivals.values():
        ts = [sent[e["observation_id"]] for e in v["evidence"] if e["observation_id"] in sent]
        if ts:
            lat.append((ta - max(ts)) * 1000)
    return {"scenario": sc.name, "observations": len(obs), "batch": 10, "alerts": len(lat),
            "p50_ms": round(_pct(lat, 50), 1), "p99_ms": round(_pct(lat, 99), 1),
            "max_ms": round(max(lat), 1) if lat else None,
            "path": "POST signed batch -> ingest_signed -> process_window (fuse, adjudicate, auto_advance) -> "
                    "watcher -> SSE"}


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


def _build(path: Path, n_obs: int, n_viol: int, seed: int, agreement: Any) -> None:
    tmp = path.with_suffix(".building")
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    store = Store.open(tmp)
    rng = np.random.default_rng(seed)
    bulk_observations(store, n_obs, rng, agreement)
    bulk_violations(store, n_viol, rng, agreement)
    with store.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    tmp.rename(path)


def _store_copy(n_obs: int, n_viol: int, seed: int, agreement: Any, work: Path) -> tuple[Path, float, bool]:
    """A fresh copy of the load-test store; the (slow) build is cached between runs."""
    cache = Path(os.environ.get("TRUCEWATCH_BENCH_CACHE", Path.home() / ".cache" / "trucewatch" / "bench"))
    cache.mkdir(parents=True, exist_ok=True)
    src = cache / f"api-{n_obs}-{n_viol}-{seed}.db"
    t = time.perf_counter()
    built = not src.exists()
    if built:
        _build(src, n_obs, n_viol, seed, agreement)
    dst = work / "bench.db"
    shutil.copyfile(src, dst)
    return dst, time.perf_counter() - t, built


def _boxes(agreement: Any, n: int, seed: int, size_deg: float = 0.5) -> list[tuple[float, float, float, float]]:
    lat, lon = near_line(agreement, n, np.random.default_rng(seed + 1), 10_000.0)
    h = size_deg / 2
    return [(float(x - h), float(y - h), float(x + h), float(y + h)) for y, x in zip(lat, lon, strict=True)]


def run(quick: bool, seed: int) -> dict[str, Any]:
    # lazy: only the API benchmarks make HTTP requests
    import httpx

    n_obs, n_viol = (20_000, 2_000) if quick else (1_000_000, 50_000)
    query_s, rate, alerts, ingest_batches, batch = (3.0, 40.0, 5, 3, 200) if quick else (20.0, 100.0, 30, 20, 500)
    light_rate = 20.0
    agreement_file = Path(__file__).resolve().parents[1] / "data/agreements/ua-ru-2026/agreement.yaml"
    agreement = load_agreement(agreement_file)
    work = Path(tempfile.mkdtemp(prefix="trucewatch-bench-api-"))
    db, build_s, built = _store_copy(n_obs, n_viol, seed, agreement, work)
    store = Store.open(db)
    tokens = TokenStore(store.engine)
    analyst = tokens.create("analyst", label="bench")[0]
    monitor_src = "bench-monitor"
    store.add_sources([Source(id=monitor_src, kind=SourceKind.MONITOR_TEAM, name="bench monitor")])
    keys = generate_source_keys([monitor_src], np.random.default_rng(seed))
    register_source_keys(store, keys)
    monitor = tokens.create("monitor", source_ids=[monitor_src], label="bench")[0]
    targets = bulk_violations(store, alerts, np.random.default_rng(seed + 7), agreement, t0=time.time() - 3600,
                              prefix="bench-alert")
    n_stored = store.count_observations()

    # ------------------------------------------------------------ baselines (in-process, same store)
    boxes = _boxes(agreement, 400, seed)
    direct = []
    for b in boxes[:200]:
        t = time.perf_counter()
        store.query_violations(bbox=b, limit=100)
        direct.append((time.perf_counter() - t) * 1000)

    def make_obs(prefix: str, n: int, attrs: dict[str, Any] | None = None) -> list[Observation]:
        now = utcnow()
        rng = np.random.default_rng(abs(hash(prefix)) % 2**32)
        return [Observation(id=f"{prefix}-{i:06d}", source_id=monitor_src, kind=ObservationKind.REPORT_CLAIM,
                            time=now, location=Location(lat=float(47.5 + rng.uniform(0, 1)),
                                                        lon=float(36 + rng.uniform(0, 2)), err_major_m=800.0,
                                                        err_minor_m=500.0),
                            attributes=dict(attrs or {"event_type": "shelling"})) for i in range(n)]

    base_obs = sign_observations(make_obs(f"bench-direct-{seed}", batch * 2), keys)
    t = time.perf_counter()
    for k in range(2):
        rep = ingest_signed(store, base_obs[k * batch:(k + 1) * batch])
        assert rep.accepted, rep.errors[:3]
    direct_ingest = batch * 2 / (time.perf_counter() - t)
    store.close()

    # ------------------------------------------------------------ the server, in its own process
    cfg = work / "service.yaml"
    cfg.write_text(json.dumps({"require_signatures": True, "pipeline": "trucewatch.bench.api:bench_pipeline",
                               "max_body_bytes": 32 * 1024 * 1024, "alert_poll_s": 0.25}))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "trucewatch.cli", "serve", "--db", str(db), "--agreement",
                             str(agreement_file), "--port", str(port), "--config", str(cfg),
                             "--no-dashboard-token"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError(f"service did not start: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
            time.sleep(0.2)
        h = {"Authorization": f"Bearer {analyst}"}

        # -------------------------------------------------------- bbox queries at a fixed rate (open loop)
        lock = threading.Lock()

        def open_loop(rate_per_s: float, seconds: float) -> tuple[list[float], list[int], int, float, list[float]]:
            """Constant arrival rate: request k is due at start + k/rate whatever the replies do.
            Latency counts from that intended send time (no coordinated omission: a
            request that waits behind a slow one carries its wait); ``service`` from
            the actual send, for comparison."""
            lat: list[float] = []
            service: list[float] = []
            rows: list[int] = []
            errs = 0
            workers = 16
            period = workers / rate_per_s
            stop_at = time.perf_counter() + seconds

            def worker(w: int) -> None:
                nonlocal errs
                with httpx.Client(base_url=url, headers=h, timeout=10) as c:
                    nxt = time.perf_counter() + w * period / workers
                    i = w
                    while nxt < stop_at:
                        pause = nxt - time.perf_counter()
                        if pause > 0:
                            time.sleep(pause)
                        b = boxes[i % len(boxes)]
                        t = time.perf_counter()
                        r = c.get("/api/v1/violations",
                                  params={"bbox": ",".join(f"{x:.5f}" for x in b), "limit": 100})
                        done_at = time.perf_counter()
                        dt = (done_at - t) * 1000
                        with lock:
                            if r.status_code == 200:
                                lat.append((done_at - nxt) * 1000)
                                service.append(dt)
                                rows.append(len(r.json()))
                            else:
                                errs += 1
                        nxt += period
                        i += workers

            t0 = time.perf_counter()
            ths = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
            for th in ths:
                th.start()
            for th in ths:
                th.join()
            return lat, rows, errs, len(lat) / (time.perf_counter() - t0), service

        light_ms, _, light_errors, light_rps, light_service = open_loop(light_rate, query_s / 2)
        lat_ms, sizes, errors, achieved, service_ms = open_loop(rate, query_s)
        # past capacity: the backlog shows in latency from the intended send, not in service time
        over_rate = rate * 2.5
        over_ms, _, over_errors, over_rps, over_service = open_loop(over_rate, query_s / 2)

        # -------------------------------------------------------- closed loop: what one server process sustains
        done = 0
        stop_at = time.perf_counter() + query_s / 2

        def closed(w: int) -> None:
            nonlocal done
            with httpx.Client(base_url=url, headers=h, timeout=10) as c:
                i = w
                while time.perf_counter() < stop_at:
                    b = boxes[i % len(boxes)]
                    if c.get("/api/v1/violations", params={"bbox": ",".join(f"{x:.5f}" for x in b),
                                                           "limit": 100}).status_code == 200:
                        with lock:
                            done += 1
                    i += 2

        t_c = time.perf_counter()
        ths = [threading.Thread(target=closed, args=(w,)) for w in range(2)]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        max_rps = done / (time.perf_counter() - t_c)

        # -------------------------------------------------------- ingest through the API (signed batches)
        mh = {"Authorization": f"Bearer {monitor}"}
        api_obs = sign_observations(make_obs(f"bench-api-{seed}", batch * ingest_batches), keys)
        bodies = [json.dumps({"observations": [o.model_dump(mode="json") for o in api_obs[k * batch:(k + 1) * batch]]})
                  for k in range(ingest_batches)]
        accepted = 0
        with httpx.Client(base_url=url, headers=mh | {"content-type": "application/json"}, timeout=60) as c:
            t = time.perf_counter()
            for body in bodies:
                r = c.post("/api/v1/observations", content=body)
                r.raise_for_status()
                accepted += r.json()["accepted"]
            ingest_s = time.perf_counter() - t
        if accepted != batch * ingest_batches:
            raise RuntimeError(f"ingest accepted {accepted} of {batch * ingest_batches}")

        # -------------------------------------------------------- alert latency: ingest -> verified -> SSE
        arrivals: dict[str, float] = {}
        ready = threading.Event()
        stop = threading.Event()

        def listen() -> None:
            try:
                _listen()
            except httpx.HTTPError:
                if not stop.is_set():
                    raise

        def _listen() -> None:
            with httpx.stream("GET", f"{url}/api/v1/alerts/stream", headers=h,
                              timeout=httpx.Timeout(10.0, read=None)) as r:
                event = None
                for line in r.iter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("event:"):
                        event = line[6:].strip()
                        if event == "ready":
                            ready.set()
                    elif line.startswith("data:") and event == "violation.verified":
                        vid = json.loads(line[5:])["violation"]["id"]
                        arrivals.setdefault(vid, time.perf_counter())

        th = threading.Thread(target=listen, daemon=True)
        th.start()
        if not ready.wait(10):
            raise RuntimeError("SSE stream did not open")
        sent: dict[str, float] = {}
        with httpx.Client(base_url=url, headers=mh, timeout=30) as c:
            for k, vid in enumerate(targets):
                o = sign_observations(make_obs(f"bench-alert-{seed}-{k}", 1, {"event_type": "shelling", MARK: vid}),
                                      keys)[0]
                payload = {"observations": [o.model_dump(mode="json")]}
                sent[vid] = time.perf_counter()
                c.post("/api/v1/observations", json=payload).raise_for_status()
                t_wait = time.perf_counter() + 5
                while vid not in arrivals and time.perf_counter() < t_wait:
                    time.sleep(0.002)
                time.sleep(0.05)
        stop.set()
        alert_ms = [(arrivals[v] - sent[v]) * 1000 for v in targets if v in arrivals]
    finally:
        _stop(proc)
    try:
        real = _pipeline_alerts(agreement, agreement_file, work, seed, quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    api_ingest = accepted / ingest_s
    p99 = _pct(lat_ms, 99)
    return {
        "benchmark": "api", "quick": quick, "seed": seed,
        "observations_in_store": n_stored, "violations_in_store": n_viol + alerts,
        "store_build_s": round(build_s, 1), "store_built_this_run": built,
        "query": {"target_rate_per_s": rate, "requests_per_s": round(achieved, 1), "requests": len(lat_ms),
                  "errors": errors + light_errors, "p50_ms": round(_pct(lat_ms, 50), 2), "p99_ms": round(p99, 2),
                  "latency_from": "intended send time (constant arrival rate, 16 senders; no coordinated omission)",
                  "service_p99_ms": round(_pct(service_ms, 99), 2),
                  "service_p99_note": "from the actual send: what a closed-loop client would have reported",
                  "light_load_service_p99_ms": round(_pct(light_service, 99), 2),
                  "overload": {"target_rate_per_s": over_rate, "requests_per_s": round(over_rps, 1),
                               "errors": over_errors, "p99_ms": round(_pct(over_ms, 99), 2),
                               "service_p99_ms": round(_pct(over_service, 99), 2)},
                  "light_load": {"target_rate_per_s": light_rate, "requests_per_s": round(light_rps, 1),
                                 "p50_ms": round(_pct(light_ms, 50), 2), "p99_ms": round(_pct(light_ms, 99), 2)},
                  "mean_rows": round(float(np.mean(sizes)), 1) if sizes else 0,
                  "max_requests_per_s_closed_loop_2_clients": round(max_rps, 1),
                  "baseline_direct_store_p50_ms": round(_pct(direct, 50), 2),
                  "baseline_direct_store_p99_ms": round(_pct(direct, 99), 2),
                  "ratio_api_p99_to_direct_p99": round(p99 / max(_pct(direct, 99), 1e-9), 2)},
        "requests_per_s": round(achieved, 1), "p99_ms": round(p99, 2),
        "ingest_obs_per_s": round(api_ingest, 1),
        "ingest": {"batch": batch, "batches": ingest_batches, "signed": True,
                   "baseline_direct_ingest_signed_obs_per_s": round(direct_ingest, 1),
                   "ratio_api_to_direct": round(api_ingest / direct_ingest, 2)},
        # ingest of the observation that completes a finding's evidence -> alert, through the real stages
        "alert_p99_ms": real["p99_ms"] if real["alerts"] else None,
        "alert_pipeline": real,
        "alert_service_path": {"n": len(alert_ms), "of": len(targets), "p50_ms": round(_pct(alert_ms, 50), 1),
                               "p99_ms": round(_pct(alert_ms, 99), 1),
                  "max_ms": round(max(alert_ms), 1) if alert_ms else None,
                  "path": "POST signed observation -> ingest_signed -> pipeline hook -> workflow.transition -> "
                          "watcher -> SSE"},
        "server": _server_stack(),
        "goals": {"p99_ms_lt_100": p99 < 100,
                  "alert_p99_ms_lt_2000": bool(real["alerts"]) and real["p99_ms"] < 2000
                  and _pct(alert_ms, 99) < 2000},
    }
