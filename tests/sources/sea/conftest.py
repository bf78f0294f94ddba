"""Fixtures of the sea-source tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import pytest


@pytest.fixture()
def tcp_feed() -> Callable[..., tuple[int, threading.Thread]]:
    """Start a loopback AIS feed: one connection, ``payload`` sent (in ``chunk``-byte writes
    if given, to split lines mid-way), then closed.  Returns (port, server thread)."""

    def start(payload: bytes, chunk: int | None = None) -> tuple[int, threading.Thread]:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        step = chunk or max(1, len(payload))

        def serve() -> None:
            conn, _ = srv.accept()
            with conn:
                for k in range(0, len(payload), step):
                    conn.sendall(payload[k:k + step])
            srv.close()

        th = threading.Thread(target=serve, daemon=True)
        th.start()
        return srv.getsockname()[1], th

    return start
