"""Streaming arrivals over MQTT: topic ``trucewatch/arrivals/<sensor_id>``, JSON payload.

Payload: ``{"time_unix_s": 1773532800.123456, "snr_db": 18.5, "kind_hint": "launch",
"bearing_deg": 212.0, "arrival_id": "..."}`` (only ``time_unix_s`` is required; a
``sensor_id`` in the payload must match the topic).  Arrivals are buffered and
located in data time: an event is closed once the newest arrival is later than
its first arrival plus the longest possible travel-time spread (twice the
detection range over the speed of sound) plus ``latency_s`` for late delivery.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from trucewatch.errors import RecordProblem
from trucewatch.sources.acoustic.associate import LocateConfig, Network
from trucewatch.sources.acoustic.formats import Sensors, parse_arrival_rows, problem
from trucewatch.sources.acoustic.pipeline import LocateResult, locate

TOPIC_PREFIX = "trucewatch/arrivals/"


def parse_message(topic: str, payload: bytes) -> tuple[dict[str, Any] | None, RecordProblem | None]:
    """One MQTT message -> an arrival row (sensor from the topic), or the reason it is unusable."""
    if not topic.startswith(TOPIC_PREFIX) or len(topic) == len(TOPIC_PREFIX):
        return None, problem("mqtt", topic, "topic", f"expected {TOPIC_PREFIX}<sensor_id>")
    sid = topic[len(TOPIC_PREFIX):]
    try:
        obj = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, problem("mqtt", topic, "payload", f"not valid JSON ({exc})")
    except (RecursionError, ValueError) as exc:  # nested too deeply; an integer past Python's digit limit
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:120]
        return None, problem("mqtt", topic, "payload", f"not valid JSON ({why})")
    if not isinstance(obj, dict):
        return None, problem("mqtt", topic, "payload", "not a JSON object")
    if "sensor_id" in obj and str(obj["sensor_id"]) != sid:
        return None, problem("mqtt", topic, "sensor_id", f"payload says {obj['sensor_id']!r}, topic says {sid!r}")
    obj["sensor_id"] = sid
    return obj, None


class StreamLocator:
    """Buffer arrivals and locate events as soon as no more arrivals can join them."""

    def __init__(self, sensors: Sensors, cfg: LocateConfig | None = None, latency_s: float = 5.0) -> None:
        self.sensors = sensors
        self.cfg = cfg or LocateConfig()
        self.net = Network(sensors, self.cfg.max_range_m)
        self.horizon_s = 2 * self.cfg.max_range_m / self.cfg.c + self.cfg.window_slack_s + latency_s
        self.rows: list[tuple[str, dict[str, Any]]] = []
        self.done_ids: set[str] = set()
        self.errors: list[RecordProblem] = []
        self._n = 0
        self.lock = threading.Lock()

    def add(self, row: dict[str, Any]) -> None:
        with self.lock:
            self._n += 1
            self.rows.append((f"msg{self._n}", row))

    def flush(self, force: bool = False) -> LocateResult:
        """Locate every event that can no longer grow (all buffered ones with ``force``)."""
        with self.lock:
            rows, self.rows = self.rows, []
        arr, errors, _ = parse_arrival_rows(rows, self.sensors, "mqtt")
        again = np.array([str(a) in self.done_ids for a in arr.ids], bool)
        for a in arr.ids[again]:
            errors.append(problem("mqtt", str(a), "arrival_id", "already used in an earlier fix; ignored"))
        arr = arr.take(np.flatnonzero(~again))
        self.errors += errors
        if len(arr) == 0:
            return LocateResult([], [], errors)
        cutoff = None if force else float(arr.t.max()) - self.horizon_s
        res = locate(self.sensors, arr, self.cfg, net=self.net, seed_before=cutoff)
        res.errors = errors
        used = {a for f in res.fixes for a in f.arrival_ids} | {a for f in res.failures for a in f.arrival_ids}
        self.done_ids |= used
        keep = [r for r, aid in zip(arr.records(self.sensors), arr.ids, strict=True) if str(aid) not in used]
        with self.lock:
            self.rows = [(f"kept{i}", r) for i, r in enumerate(keep)] + self.rows
        return res


def listen(sensors: Sensors, cfg: LocateConfig | None = None, *, host: str = "127.0.0.1", port: int = 1883,
           duration_s: float = 0.0, flush_every_s: float = 2.0, quiet_s: float = 3.0,
           on_result: Callable[[LocateResult], None],
           ready: threading.Event | None = None, stop: threading.Event | None = None) -> StreamLocator:
    """Subscribe to ``trucewatch/arrivals/+`` and call ``on_result`` with each batch of fixes and failures.

    Besides the data-time rule, everything buffered is located once no message
    has come for ``quiet_s`` seconds of wall time (the network has gone quiet).
    """
    # lazy: paho-mqtt loads only for live MQTT feeds
    import paho.mqtt.client as mqtt

    loc = StreamLocator(sensors, cfg)
    stop = stop or threading.Event()
    connected = threading.Event()
    last = [time.monotonic()]

    def on_connect(client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any = None) -> None:
        client.subscribe(TOPIC_PREFIX + "+", qos=1)

    def on_subscribe(client: Any, userdata: Any, mid: Any, reason_codes: Any, properties: Any = None) -> None:
        connected.set()
        if ready is not None:
            ready.set()

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        row, err = parse_message(msg.topic, msg.payload)
        if err is not None:
            with loc.lock:
                loc.errors.append(err)
            on_result(LocateResult([], [], [err]))
        else:
            last[0] = time.monotonic()
            loc.add(row)  # type: ignore[arg-type]

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"trucewatch-acoustic-{time.time_ns()}")
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        if not connected.wait(10.0):
            raise ConnectionError(f"no subscription confirmed by the MQTT broker at {host}:{port} within 10 s")
        t_end = time.monotonic() + duration_s if duration_s > 0 else float("inf")
        while not stop.is_set() and time.monotonic() < t_end:
            stop.wait(min(flush_every_s, max(t_end - time.monotonic(), 0.01)))
            res = loc.flush(force=time.monotonic() - last[0] > quiet_s)
            if res.fixes or res.failures or res.errors:
                on_result(res)
        res = loc.flush(force=True)
        if res.fixes or res.failures or res.errors:
            on_result(res)
    finally:
        client.loop_stop()
        client.disconnect()
    return loc


def publish_arrivals(rows: list[dict[str, Any]], host: str = "127.0.0.1", port: int = 1883) -> None:
    """Send arrival rows (with ``sensor_id``) to the broker, one message per arrival (QoS 1)."""
    # lazy: paho-mqtt loads only for live MQTT feeds
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"trucewatch-pub-{time.time_ns()}")
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        infos = [client.publish(TOPIC_PREFIX + str(r["sensor_id"]), json.dumps(r), qos=1) for r in rows]
        for info in infos:
            info.wait_for_publish(10.0)
    finally:
        client.loop_stop()
        client.disconnect()
