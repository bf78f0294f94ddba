"""`trucewatch watch`: a drop folder fed through intake, then the incremental pipeline.

Why polling: it works the same on local disks, network shares and
bind-mounted volumes, where inotify events are lost.  A file is read once its
size and mtime stayed the same for ``settle_s`` (a copy in progress is not
cut), and remembered by content hash in the store (``intake_files``), so a
restart (after Ctrl-C, SIGTERM or a crash) skips what was committed and
re-reads only the file that was in hand.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trucewatch.adjudication.workflow import auto_advance
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import sign_observation
from trucewatch.mission import adapter_key, mission_agreement, mission_config
from trucewatch.mission import checkpoint as _checkpoint
from trucewatch.mission.intake import FileSummary, done_hashes, file_sha256, intake_paths, walk
from trucewatch.model import Source, SourceKind
from trucewatch.pipeline import IncrementalPipeline
from trucewatch.sources.acoustic import SOURCE_ID, LocateResult, pair_fixes, read_sensors, to_observations
from trucewatch.sources.acoustic.pairing import launch_zones
from trucewatch.sources.acoustic.stream import listen
from trucewatch.sources.sea.live import tcp_lines, udp_lines
from trucewatch.store.store import Store


class DropFolder:
    def __init__(self, store: Store, folder: str | Path, *, settle_s: float = 1.0, agreement: Any = None) -> None:
        self.store = store
        self.folder = Path(folder)
        self.settle_s = settle_s
        self.agreement = agreement if agreement is not None else mission_agreement(store)
        self.config = mission_config(store)
        self._seen: dict[Path, tuple[int, float, float]] = {}  # path -> (size, mtime, first seen unchanged)
        self._pending: list[str] = []  # observation ids accepted since the last process_new
        self._fusion: Any = None

    def _settled(self, now: float) -> list[Path]:
        out = []
        for p in walk([self.folder]):
            try:
                st = p.stat()
            except OSError:
                continue
            key = (st.st_size, st.st_mtime)
            old = self._seen.get(p)
            if old is None or old[:2] != key:
                self._seen[p] = (*key, now)
                if self.settle_s > 0:
                    continue
            if now - self._seen[p][2] >= self.settle_s:
                out.append(p)
        return out

    def scan(self, should_stop: Callable[[], bool] = lambda: False) -> list[FileSummary]:
        """Take in every settled file not yet done; returns their summaries."""

        ready = self._settled(time.time())
        if not ready:
            return []
        hashes = {p: file_sha256(p) for p in ready}
        done = done_hashes(self.store, list(hashes.values()))
        todo = [p for p in ready if hashes[p] not in done]
        out: list[FileSummary] = []
        for p in todo:
            if should_stop():
                break
            # one file at a time: a stop request between files leaves nothing half done
            out += intake_paths(self.store, [p], agreement=self.agreement)
        self._pending += [oid for fs in out for oid in fs.accepted_ids]
        if out:
            _checkpoint(self.store)
        return [fs for fs in out if fs.format is not None or fs.errors]

    def poll_feed(self, url: str, timeout_s: float = 30.0) -> list[FileSummary]:
        """Fetch an RSS/Atom URL and take the snapshot in (format ``feed``); an unchanged feed is
        skipped by its content hash, entries seen in an earlier snapshot come back as duplicates."""

        with urllib.request.urlopen(url, timeout=timeout_s) as r:  # the operator names the URL
            body = r.read(50 * 1024 * 1024)
        if hashlib.sha256(body).hexdigest() in done_hashes(self.store, [hashlib.sha256(body).hexdigest()]):
            return []
        name = "feed-" + hashlib.sha256(url.encode()).hexdigest()[:12] + ".xml"
        with tempfile.TemporaryDirectory(prefix="trucewatch-feed-") as tmp:
            p = Path(tmp) / name
            p.write_bytes(body)
            out = intake_paths(self.store, [p], fmt="feed", agreement=self.agreement)
        for fs in out:
            fs.file = url
        self._pending += [oid for fs in out for oid in fs.accepted_ids]
        _checkpoint(self.store)
        return out

    def process_new(self) -> str | None:
        """Fuse and adjudicate the observations accepted since the last call (incrementally)."""
        if self.agreement is None or (not self._pending and self._fusion is not None):
            return None
        sources = {s.id: s for s in self.store.list_sources()}
        if self._fusion is None:
            self._fusion = IncrementalPipeline(sources, self.agreement, self.config.fusion_config())
            new = self.store.query_observations()  # what earlier runs stored: the state to continue from
        else:
            self._fusion.sources.update(sources)
            new = self.store.get_observations(self._pending)
        self._pending = []
        if not new:
            return None
        events, violations = self._fusion.add(new)
        self.store.save_events(events)
        auto_advance(self.store, violations, self.config.workflow_config())
        return f"{len(new)} observation(s) -> {len(events)} event(s) changed -> {len(violations)} finding(s) changed"


class LiveAis:
    """AIS over TCP (``tcp://host:port``, a client) or UDP (``udp://host:port``, bound) read in a
    thread; each flush writes the lines, stamped with their receive time, as one NMEA snapshot that
    goes through the same intake (format ``ais-nmea``, source ``ais:live-<host>-<port>``).

    Limitation: the sea stage judges each snapshot alone, so an AIS gap that spans two flushes is
    not seen as one gap."""

    def __init__(self, url: str) -> None:
        u = urlsplit(url)
        if u.scheme not in ("tcp", "udp") or not u.hostname or not u.port:
            raise ValueError(f"--ais: {url!r} is not tcp://HOST:PORT or udp://HOST:PORT")
        self.url, self.scheme, self.host, self.port = url, u.scheme, u.hostname, u.port
        self.name = f"live-{self.host}-{self.port}".replace(":", "_")
        self.lines: list[bytes] = []
        self.error: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ais {url}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                src = (tcp_lines(self.host, self.port, max_s=1.0) if self.scheme == "tcp"
                       else udp_lines(self.host, self.port, max_s=1.0))
                for ln in src:
                    if ln.strip():
                        with self._lock:
                            self.lines.append(f"{time.time():.3f} ".encode() + ln.strip())
            except OSError as exc:  # not up yet or gone: tried again
                self.error = str(exc)
                self._stop.wait(2.0)

    def take(self) -> list[bytes]:
        with self._lock:
            out, self.lines = self.lines, []
        return out

    def stop(self) -> None:
        self._stop.set()


def flush_ais(drop: DropFolder, live: LiveAis) -> list[FileSummary]:
    """Take the lines ``live`` received since the last flush in through intake."""

    lines = live.take()
    if not lines:
        return []
    with tempfile.TemporaryDirectory(prefix="trucewatch-ais-") as tmp:
        p = Path(tmp) / f"{live.name}.nmea"
        p.write_bytes(b"\n".join(lines) + b"\n")
        out = intake_paths(drop.store, [p], fmt="ais-nmea", agreement=drop.agreement)
    for fs in out:
        fs.file = live.url
    drop._pending += [oid for fs in out for oid in fs.accepted_ids]
    _checkpoint(drop.store)
    return out


class LiveArrivals:
    """MQTT acoustic arrivals (``trucewatch/arrivals/<sensor_id>``) located as they close
    (trucewatch.sources.acoustic.stream.listen, in a thread) with the sensor registry given."""

    def __init__(self, sensors_path: str | Path, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.sensors, errs = read_sensors(sensors_path)
        if len(self.sensors) == 0:
            raise ValueError(f"--arrivals-sensors: {sensors_path}: no usable sensor ("
                             + "; ".join(str(e) for e in errs[:3]) + ")")
        self.url = f"mqtt://{host}:{port}/trucewatch/arrivals/+"
        self.results: list[Any] = []
        self.ready = threading.Event()
        self._stop = threading.Event()
        self.error: str | None = None

        def run() -> None:
            try:
                listen(self.sensors, host=host, port=port, on_result=self._add, ready=self.ready,
                       stop=self._stop, flush_every_s=1.0, quiet_s=3.0)
            except Exception as exc:  # broker down: reported by take(), watch goes on with its folder
                self.error = f"{type(exc).__name__}: {exc}"

        self._lock = threading.Lock()
        self._thread = threading.Thread(target=run, name="mqtt arrivals", daemon=True)
        self._thread.start()

    def _add(self, result: Any) -> None:
        with self._lock:
            self.results.append(result)

    def take(self) -> list[Any]:
        with self._lock:
            out, self.results = self.results, []
        return out

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()  # listen locates what is buffered before it returns
        self._thread.join(timeout_s)


def flush_arrivals(drop: DropFolder, live: LiveArrivals) -> list[FileSummary]:
    """Sign and append the fixes located since the last call, as intake does for a file."""
    results = live.take()
    if not results:
        return []
    res = LocateResult([f for r in results for f in r.fixes], [f for r in results for f in r.failures],
                       [e for r in results for e in r.errors])
    fs = FileSummary(live.url, "acoustic-mqtt", read=sum(f.n_sensors for f in res.fixes) + len(res.errors))
    errors = [e.as_dict() for e in res.errors]
    if res.fixes:
        pairs = pair_fixes(res.fixes, drop.agreement)
        pid = {fid: p.pair_id for p in pairs for fid in (p.launch_id, p.impact_id)}
        extra = {fid: {"zone_ids": z} for fid, z in launch_zones(res.fixes, drop.agreement).items() if z}
        obs = to_observations(res, SOURCE_ID, pid, extra)
        src = Source(id=SOURCE_ID, kind=SourceKind.ACOUSTIC_NETWORK, name="Acoustic sensor network", reliability=0.9)
        sk = adapter_key(drop.store, src)
        rep = ingest_signed(drop.store, [sign_observation(o, sk) for o in obs])
        fs.accepted, fs.duplicates, fs.accepted_ids = len(rep.accepted), len(rep.duplicates), list(rep.accepted)
        errors += [{"record": e.record, "field": e.field, "message": e.message} for e in rep.errors]
        drop._pending += fs.accepted_ids
        _checkpoint(drop.store)
    fs.errors, fs.rejected, fs.done = errors, len(errors), True
    return [fs]


__all__ = ["DropFolder", "LiveAis", "LiveArrivals", "flush_ais", "flush_arrivals"]
