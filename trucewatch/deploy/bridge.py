"""MQTT to NATS bridge for field sensors.

Field sensors publish signed observations as JSON to Mosquitto on
``trucewatch/obs/<source_id>``; the bridge forwards each to its sector's NATS
subject.  A payload that is not a valid observation goes to the dead-letter
stream with the reason; the bridge never stops on one bad message.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from pydantic import ValidationError

from trucewatch.agreement import Agreement
from trucewatch.deploy.bus import connect, dead_letter, ensure_streams, msg_id
from trucewatch.deploy.sectors import Sectors
from trucewatch.model import Observation

TOPIC = "trucewatch/obs/#"


async def run_bridge(mqtt_host: str, mqtt_port: int, bus_url: str, agreement: Agreement, *,
                     stop: asyncio.Event | None = None, sector_km: float = 100.0) -> dict[str, int]:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=100_000)
    sectors = Sectors(agreement, sector_km)
    nc = await connect(bus_url)
    js = nc.jetstream()
    await ensure_streams(js)
    subscribed = threading.Event()

    def on_connect(client: Any, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        client.subscribe(TOPIC, qos=1)

    def on_subscribe(*_a: Any) -> None:
        subscribed.set()

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (msg.topic, bytes(msg.payload)))

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="trucewatch-bridge", clean_session=False)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(mqtt_host, mqtt_port, keepalive=30)
    client.loop_start()
    await asyncio.to_thread(subscribed.wait, 10)
    stats = {"forwarded": 0, "dead": 0}
    try:
        while not stop.is_set():
            try:
                topic, data = await asyncio.wait_for(queue.get(), timeout=0.2)
            except TimeoutError:
                continue
            try:
                o = Observation.model_validate_json(data)
            except ValidationError as exc:
                e = exc.errors()[0]
                await dead_letter(js, "invalid", topic, data, f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
                stats["dead"] += 1
                continue
            if not topic.endswith("/" + o.source_id):
                await dead_letter(js, "wrong_topic", topic, data, f"{o.id}: source {o.source_id} published on {topic}")
                stats["dead"] += 1
                continue
            k = int(sectors.of(np.array([o.location.lat]), np.array([o.location.lon]))[0])
            await js.publish(f"trucewatch.obs.{sectors.name(k)}", data, headers={"Nats-Msg-Id": msg_id(o)})
            stats["forwarded"] += 1
    finally:
        client.loop_stop()
        client.disconnect()
        await nc.drain()
    return stats
