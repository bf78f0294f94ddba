"""Every read of non-public data is audited durably before it is answered (issue 15, point 6).

``trucewatch serve`` runs in its own process; after N liaison reads it is killed
with SIGKILL (no shutdown, no flush) and the store must hold N audit rows.  The
service's settings ask for a 60 s ``audit_flush_s``: a log that buffers records
in memory would lose them all here.  And when the audit write fails, the data
is not sent: 503.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from tests.service.conftest import AGREEMENT, free_port, make_store
from trucewatch.access.tokens import TokenStore
from trucewatch.store import Store
from trucewatch.store import schema as S

ROOT = Path(__file__).resolve().parents[2]


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


def _serve(db: Path, cfg: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "trucewatch.cli", "serve", "--db", str(db), "--agreement",
                                 str(AGREEMENT), "--port", str(port), "--config", str(cfg), "--no-dashboard-token"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def _wait_up(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 90.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"serve did not start in {timeout:.0f} s: {log.read_text()[-2000:]}")


def test_liaison_reads_survive_kill_9(tmp_path: Path, agreement: Any) -> None:
    db = tmp_path / "svc.db"
    store = make_store(db, agreement)
    token = TokenStore(store.engine).create("liaison", party="UA")[0]
    store.close()
    cfg = tmp_path / "service.yaml"
    cfg.write_text("require_signatures: false\naudit_flush_s: 60\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    proc = _serve(db, cfg, port, log)
    n = 5
    try:
        _wait_up(proc, url, log)
        with httpx.Client(base_url=url, timeout=30) as c:
            for i in range(n):
                r = c.get("/api/v1/violations", params={"limit": 10 + i}, headers=auth(token))
                assert r.status_code == 200, r.text
                assert r.json() and {v["party"] for v in r.json()} == {"UA"}
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown hook runs
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with Store.open(db) as store, store.engine.connect() as c:
        rows = c.execute(select(S.audit_log.c.role, S.audit_log.c.party, S.audit_log.c.path, S.audit_log.c.query,
                                S.audit_log.c.status_code)
                         .where(S.audit_log.c.path == "/api/v1/violations")).all()
    assert sorted(r.query for r in rows) == sorted(f"limit={10 + i}" for i in range(n))
    assert {(r.role, r.party, r.status_code) for r in rows} == {("liaison", "UA", 200)}


@pytest.mark.parametrize("who", ["liaison_UA", "analyst"])
def test_no_audit_no_data(client, tokens, store, who) -> None:
    """The audit table is gone: the read is refused with 503 and no finding leaves."""
    assert client.get("/api/v1/violations", headers=auth(tokens[who])).status_code == 200
    with store.engine.begin() as c:
        c.execute(text("DROP TABLE audit_log"))
    r = client.get("/api/v1/violations", headers=auth(tokens[who]))
    assert r.status_code == 503, r.text
    assert "audit" in r.json()["detail"] and "v-" not in r.text
    # public data read by the public is not audited, so it does not depend on the log
    assert client.get("/api/v1/violations", headers=auth(tokens["public"])).status_code == 200
