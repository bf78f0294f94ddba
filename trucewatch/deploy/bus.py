"""The message bus: NATS JetStream streams and subjects (see docs/deployment.md).

Streams:
- ``TW_OBS``   ``trucewatch.obs.<sector>``  signed observations from sources (work queue)
- ``TW_FUSE``  ``trucewatch.fuse.<sector>`` "re-fuse this sector and window" requests (work queue)
- ``TW_ALERTS`` ``trucewatch.alerts.<party>`` violations that reached verified (limits)
- ``TW_DLQ``   ``trucewatch.dlq.<reason>``  messages that could not be processed, with the reason

Publishers set ``Nats-Msg-Id`` (observation id and content hash), so JetStream
drops a re-published duplicate within its window; the store's content hash
catches any that come later.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats
import numpy as np
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from trucewatch.model import Observation
from trucewatch.store import content_hash

OBS_STREAM = "TW_OBS"
FUSE_STREAM = "TW_FUSE"
ALERT_STREAM = "TW_ALERTS"
DLQ_STREAM = "TW_DLQ"

STREAMS = {
    OBS_STREAM: (["trucewatch.obs.>"], RetentionPolicy.WORK_QUEUE),
    FUSE_STREAM: (["trucewatch.fuse.>"], RetentionPolicy.WORK_QUEUE),
    ALERT_STREAM: (["trucewatch.alerts.>"], RetentionPolicy.LIMITS),
    DLQ_STREAM: (["trucewatch.dlq.>"], RetentionPolicy.LIMITS),
}


async def connect(url: str, **kw: Any) -> nats.NATS:
    kw.setdefault("drain_timeout", 5)
    return await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.5, **kw)


async def ensure_streams(js: Any) -> None:
    """Create the streams if missing (file storage: they survive a NATS restart)."""
    for name, (subjects, retention) in STREAMS.items():
        cfg = StreamConfig(name=name, subjects=subjects, retention=retention, storage=StorageType.FILE,
                           discard=DiscardPolicy.OLD, duplicate_window=600.0)
        try:
            await js.add_stream(cfg)
        except BadRequestError:
            await js.update_stream(cfg)


def msg_id(obs: Observation) -> str:
    return f"{obs.id}:{content_hash(obs)[:16]}"


async def publish_observations(js: Any, sectors: Any, observations: list[Observation], window: int = 256) -> int:
    """Publish each observation to its sector's subject; return how many the stream took.

    Up to ``window`` publishes wait for their acknowledgements at once (the
    stream's acknowledgement is still awaited for every message before
    returning): one round trip per message serialised the publisher."""
    if not observations:
        return 0
    k = sectors.of(np.array([o.location.lat for o in observations]), np.array([o.location.lon for o in observations]))
    n = 0
    names = [sectors.name(int(s)) for s in k.tolist()]
    for i in range(0, len(observations), window):
        acks = await asyncio.gather(*(
            js.publish(f"trucewatch.obs.{s}", o.model_dump_json().encode(), headers={"Nats-Msg-Id": msg_id(o)})
            for o, s in zip(observations[i:i + window], names[i:i + window], strict=True)))
        n += sum(0 if a.duplicate else 1 for a in acks)
    return n


async def dead_letter(js: Any, reason: str, subject: str, data: bytes, detail: str) -> None:
    """Park a message with its reason; never blocks the stream it came from."""
    body = json.dumps({"subject": subject, "reason": reason, "detail": detail[:2000],
                       "data": data[:65536].decode("utf-8", "replace")}).encode()
    await js.publish(f"trucewatch.dlq.{reason}", body)
