"""Live AIS feeds on TCP (a client of an AIS server, e.g. an AIS-catcher or rtl-ais relay) or UDP (datagrams
sent to us), decoded in small batches so that time-of-receipt stamps lines without their own time."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

from trucewatch.sources.sea.nmea import AisDecoder, DecodeResult, Positions

#: A batch is decoded when it has this many lines or is this old.
BATCH_LINES = 2000
BATCH_SECONDS = 1.0


def tcp_lines(host: str, port: int, *, timeout_s: float = 5.0, max_s: float | None = None) -> Iterator[bytes]:
    """Lines from a TCP server until it closes the connection (or ``max_s`` passes)."""
    start = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.settimeout(0.5)
        buf = b""
        while max_s is None or time.monotonic() - start < max_s:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            yield from lines
        if buf.strip():
            yield buf


def udp_lines(host: str, port: int, *, max_s: float | None = None, idle_s: float | None = None,
              ready: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """Lines from UDP datagrams (one or more sentences each).  Stops after ``max_s``, or after
    ``idle_s`` without a datagram once one has arrived.  ``ready(port)`` is called once bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, port))
        sock.settimeout(0.2)
        if ready is not None:
            ready(sock.getsockname()[1])
        start = last = time.monotonic()
        got = False
        while max_s is None or time.monotonic() - start < max_s:
            try:
                data, _ = sock.recvfrom(65536)
            except TimeoutError:
                if got and idle_s is not None and time.monotonic() - last > idle_s:
                    break
                continue
            got, last = True, time.monotonic()
            yield from (ln for ln in data.split(b"\n") if ln.strip())


def decode_stream(lines: Iterator[bytes], decoder: AisDecoder | None = None) -> Iterator[DecodeResult]:
    """Batch a live line iterator and decode each batch, stamping lines with the receive time."""
    dec = decoder or AisDecoder()
    batch: list[bytes] = []
    t_batch = time.monotonic()
    for line in lines:
        batch.append(line)
        if len(batch) >= BATCH_LINES or time.monotonic() - t_batch >= BATCH_SECONDS:
            yield dec.feed(batch, recv_time=time.time())
            batch, t_batch = [], time.monotonic()
    if batch:
        yield dec.feed(batch, recv_time=time.time())
    tail = dec.finish()
    if tail:
        yield DecodeResult(Positions.empty(), [], tail, {"lines": 0})
