"""Private, throw-away servers for pipeline and fault tests: a nats-server and a
PostgreSQL cluster on random loopback ports, so killing or restarting them
never disturbs the rest of the suite."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def need(binary: str | Path) -> str:
    found = shutil.which(str(binary)) if not Path(binary).is_absolute() else (str(binary) if Path(binary).exists() else None)
    if not found:
        msg = f"{binary} is not installed (scripts/services.sh installs it)"
        pytest.fail(msg) if CI else pytest.skip(msg)
    return str(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class NatsServer:
    def __init__(self, root: Path) -> None:
        self.bin = need("nats-server")
        self.port = free_port()
        self.dir = root / "nats"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.bin, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


class PgServer:
    """A private cluster run as the postgres user (initdb refuses root)."""

    def __init__(self, root: Path) -> None:
        need(PG_BIN / "initdb")
        import tempfile

        self.port = free_port()
        # Not under pytest's tmp dir: its parents are private to root, and the
        # cluster runs as the postgres user.
        self.dir = Path(tempfile.mkdtemp(prefix="trucewatch-pg-"))
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._run([str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "-U", "trucewatch", "--auth=trust", "-E", "UTF8"])

    def _run(self, cmd: list[str]) -> None:
        if os.geteuid() == 0:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(cmd)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def url(self) -> str:
        return f"postgresql://trucewatch@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "-o",
                   f"'-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on'", "start"])
        wait_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "-w", "stop"])

    def restart(self) -> None:
        self.stop("immediate")  # like a crash: no clean shutdown
        self.start()

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def start_worker(bus: str, db: str, role: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ)
    return subprocess.Popen([sys.executable, "-m", "trucewatch.cli", "worker", "--bus", bus, "--db", db, "--role", role],
                            stdout=open(log, "a"), stderr=subprocess.STDOUT, env=env)
