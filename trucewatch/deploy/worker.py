"""Pipeline workers on NATS JetStream: ingest and fusion, horizontally scaled.

Every worker of a role pulls from one durable consumer (a work queue), so N
processes share the load and a message goes to one of them at a time.  A
message is acknowledged only after the database commit of its effect; a worker
killed before that leaves it unacknowledged and JetStream redelivers it to
another worker after ``ack_wait``.  Redelivery changes nothing: the store keys
observations by id and content hash, the ledger appends only newly stored
observations, and fusion results have deterministic ids and are upserted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig
from pydantic import ValidationError

from trucewatch.agreement import Agreement
from trucewatch.deploy.bus import FUSE_STREAM, OBS_STREAM, connect, dead_letter, ensure_streams, publish_observations
from trucewatch.deploy.sectors import Sectors
from trucewatch.ledger.ingest import ingest, ingest_signed
from trucewatch.ledger.integrator import Integrator
from trucewatch.ledger.schedule import CheckpointScheduler
from trucewatch.model import Observation
from trucewatch.pipeline import process_sector
from trucewatch.store import Store

log = logging.getLogger("trucewatch.worker")

#: Fusion looks this far around a request's window for observations that may join its events.
FUSION_MARGIN_S = 3 * 3600.0


@dataclass
class WorkerStats:
    ingested: int = 0
    duplicates: int = 0
    dead: int = 0
    fused_requests: int = 0
    alerts: int = 0
    started: float = field(default_factory=time.time)


def _ingest(store: Store, observations: list[Observation], require_signatures: bool) -> Any:
    if require_signatures:
        # The log entries are queued in the same transaction as the observations,
        # so a redelivered batch has nothing left to finish; the integrator loop
        # (one worker at a time holds it) adds them to the tree.
        return ingest_signed(store, observations, integrate=False)
    return ingest(store, observations, require_signatures=False, integrate=False)


class Worker:
    """One worker process: ``role`` is ``ingest``, ``fusion`` or ``all``."""

    def __init__(self, bus_url: str, store: Store, agreement: Agreement, *, role: str = "all",
                 batch: int = 500, require_signatures: bool = True, sector_km: float = 100.0,
                 ack_wait_s: float = 30.0, fusion_config: Any = None) -> None:
        if role not in ("ingest", "fusion", "all"):
            raise ValueError(f"role: expected ingest, fusion or all, got {role!r}")
        self.bus_url = bus_url
        self.store = store
        self.agreement = agreement
        self.role = role
        self.batch = batch
        self.require_signatures = require_signatures
        self.sectors = Sectors(agreement, sector_km)
        self.ack_wait_s = ack_wait_s
        self.fusion_config = fusion_config  # a FusionConfig (gates, clutter map), None: defaults
        self.stats = WorkerStats()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self, *, until: Callable[[WorkerStats], bool] | None = None) -> WorkerStats:
        nc = await connect(self.bus_url)
        js = nc.jetstream()
        await ensure_streams(js)
        cfg = ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=self.ack_wait_s, max_ack_pending=20_000)
        subs = []
        if self.role in ("ingest", "all"):
            subs.append(("ingest", await js.pull_subscribe("trucewatch.obs.>", durable="ingest", stream=OBS_STREAM, config=cfg)))
        if self.role in ("fusion", "all"):
            subs.append(("fusion", await js.pull_subscribe("trucewatch.fuse.>", durable="fusion", stream=FUSE_STREAM, config=cfg)))
        # Ingest and fusion run as two concurrent loops: a long fusion pass must
        # not hold back the commit (and acknowledgement) of new observations.
        loops = [asyncio.create_task(self._loop(js, kind, sub, until)) for kind, sub in subs]
        # Every ingest worker runs an integrator loop; one at a time holds the log's lock and
        # integrates (every 0.2 s), then signs the tree head when the checkpoint policy says so.
        checkpoints = (Integrator(self.store, scheduler=CheckpointScheduler(self.store)).start()
                       if self.role != "fusion" and self.require_signatures else None)
        try:
            await asyncio.gather(*loops)
        finally:
            if checkpoints is not None:
                await checkpoints.stop()
            for t in loops:
                t.cancel()
            try:
                await nc.drain()
            except Exception:  # a drain that times out must not lose the stats
                await nc.close()
        return self.stats

    async def _loop(self, js: Any, kind: str, sub: Any, until: Callable[[WorkerStats], bool] | None) -> None:
        # Fusion takes big batches: requests that piled up during a pass are
        # merged per sector into one window, so fusion keeps up under load.
        batch, wait = (self.batch, 0.2) if kind == "ingest" else (2000, 0.5)
        while not self._stop.is_set() and not (until and until(self.stats)):
            try:
                msgs = await sub.fetch(batch, timeout=wait)
            except (TimeoutError, NatsTimeout):
                continue
            except Exception as exc:  # bus down or restarting: the client reconnects
                log.warning("fetch failed (%s); retrying", exc)
                await asyncio.sleep(0.5)
                continue
            try:
                if kind == "ingest":
                    await self._handle_observations(js, msgs)
                else:
                    await self._handle_fuse(js, msgs)
            except Exception as exc:
                # Database or bus failure mid-batch: nothing was acknowledged that
                # was not committed; hand the rest back for redelivery and go on.
                log.warning("%s batch failed (%s: %s); redelivering", kind, type(exc).__name__, exc)
                for m in msgs:
                    try:
                        await m.nak(delay=1.0)
                    except Exception:  # redelivered after ack_wait anyway
                        pass
                await asyncio.sleep(1.0)

    # ----------------------------------------------------------------- ingest
    async def _handle_observations(self, js: Any, msgs: list[Any]) -> None:
        parsed: list[tuple[Observation, Any, int]] = []
        good: list[Observation] = []
        good_msgs: list[Any] = []
        for m in msgs:
            sector = m.subject.rsplit(".", 1)[-1]
            try:
                k = self.sectors.index(sector)
            except ValueError as exc:
                await self._dead(js, m, "unknown_sector", str(exc))
                continue
            try:
                o = Observation.model_validate_json(m.data)
            except ValidationError as exc:
                e = exc.errors()[0]
                await self._dead(js, m, "invalid", f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                continue
            parsed.append((o, m, k))
        if parsed:  # sectors of the whole batch in one vectorised look-up
            got = self.sectors.of(np.array([o.location.lat for o, _, _ in parsed]),
                                  np.array([o.location.lon for o, _, _ in parsed]))
            for (o, m, k), g in zip(parsed, got.tolist(), strict=True):
                if g != k:
                    await self._dead(js, m, "wrong_sector",
                                     f"{o.id}: location is in {self.sectors.name(g)}, sent to {self.sectors.name(k)}")
                    continue
                good.append(o)
                good_msgs.append(m)
        if good:
            t0 = time.perf_counter()
            rep = await asyncio.to_thread(_ingest, self.store, good, self.require_signatures)
            log.debug("ingest batch %d in %.3f s", len(good), time.perf_counter() - t0)
            bad = {e.record.split(" ")[0]: e for e in rep.errors}
            for o, m in zip(good, good_msgs, strict=True):
                if o.id in bad:
                    await self._dead(js, m, "rejected", str(bad[o.id]))
            self.stats.ingested += len(rep.accepted)
            self.stats.duplicates += len(rep.duplicates)
            # Fuse requests for accepted *and* duplicate observations: a duplicate may be
            # the redelivery of a batch whose requests were lost with the worker.
            # Near a border the neighbour sector may own the event: ask it too.
            windows: dict[int, tuple[float, float]] = {}
            ok = [o for o in good if o.id not in bad]
            if ok:
                touched = self.sectors.touched(np.array([o.location.lat for o in ok]),
                                               np.array([o.location.lon for o in ok]))
                for o, ks in zip(ok, touched, strict=True):
                    t = o.time.timestamp()
                    for k in ks[ks >= 0]:
                        lo, hi = windows.get(int(k), (t, t))
                        windows[int(k)] = (min(lo, t), max(hi, t))
            for k, (lo, hi) in windows.items():
                await js.publish(f"trucewatch.fuse.{self.sectors.name(k)}", json.dumps({"t_from": lo, "t_to": hi}).encode())
        # Acknowledge only now: the commit (and the fuse requests) are durable.
        for m in good_msgs:
            await m.ack()

    async def _dead(self, js: Any, m: Any, reason: str, detail: str) -> None:
        await dead_letter(js, reason, m.subject, m.data, detail)
        await asyncio.to_thread(self.store.add_dead_letter, m.subject, reason, detail, m.data)
        self.stats.dead += 1
        await m.ack()

    # ----------------------------------------------------------------- fusion
    def _fuse_locked(self, k: int, lo: float, hi: float) -> list[Any]:
        # Two workers must not re-fuse the same sector at once (read-compute-replace).
        with self.store.exclusive(f"fuse-sector-{k}"):
            return fuse_sector(self.store, self.agreement, self.sectors, k, lo, hi, self.fusion_config)

    async def _handle_fuse(self, js: Any, msgs: list[Any]) -> None:
        # Requests are merged per sector into disjoint windows (overlapping or
        # touching ones joined), so a backlog costs one pass per stretch of time,
        # not one pass per request, and never one pass over everything.
        spans: dict[int, list[tuple[float, float]]] = {}
        for m in msgs:
            try:
                k = self.sectors.index(m.subject.rsplit(".", 1)[-1])
                req = json.loads(m.data)
                lo, hi = float(req["t_from"]), float(req["t_to"])
            except (ValueError, KeyError, TypeError) as exc:
                await self._dead(js, m, "invalid_fuse_request", str(exc))
                continue
            spans.setdefault(k, []).append((lo, hi))
        for k, windows in spans.items():
            for lo, hi in merge_windows(windows, gap=FUSION_MARGIN_S):
                t0 = time.perf_counter()
                verified = await asyncio.to_thread(self._fuse_locked, k, lo, hi)
                log.debug("fused sector %d window %.0f s in %.3f s", k, hi - lo, time.perf_counter() - t0)
                for v in verified:
                    await js.publish(f"trucewatch.alerts.{v.party}", v.model_dump_json().encode(),
                                     headers={"Nats-Msg-Id": f"{v.id}:verified"})
                    self.stats.alerts += 1
        for m in msgs:
            if not m._ackd:
                await m.ack()
        self.stats.fused_requests += len(msgs)


def merge_windows(windows: list[tuple[float, float]], gap: float, max_span: float = 86_400.0) -> list[tuple[float, float]]:
    """Union of time windows, joining those less than ``gap`` apart (one pass over
    the union reads less than one pass per window, since each pass reads ``gap``
    around its window), cut into spans of at most ``max_span`` to bound a pass."""
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(windows):
        if out and lo <= out[-1][1] + gap and hi - out[-1][0] <= max_span:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def fuse_sector(store: Store, agreement: Agreement, sectors: Sectors, k: int, t_from: float, t_to: float,
                fusion_config: Any = None) -> list[Any]:
    """Re-fuse sector ``k`` around a window of new observations (``FUSION_MARGIN_S`` either side);
    return newly verified violations.  The step itself is the pipeline's (trucewatch.pipeline)."""
    return process_sector(store, agreement, sectors.of, k, t_from, t_to, FUSION_MARGIN_S, fusion_config)


async def publish_file(bus_url: str, agreement: Agreement, observations: list[Observation], sector_km: float = 100.0) -> int:
    nc = await connect(bus_url)
    js = nc.jetstream()
    await ensure_streams(js)
    n = await publish_observations(js, Sectors(agreement, sector_km), observations)
    await nc.drain()
    return n
