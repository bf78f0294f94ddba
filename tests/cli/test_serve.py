"""``trucewatch tokens`` and ``trucewatch serve`` (a real server process), and the API benchmark in quick mode."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from trucewatch.cli import app

AGREEMENT = Path(__file__).resolve().parents[2] / "trucewatch/data/agreements/ua-ru-2026/agreement.yaml"


def test_tokens_create_list_revoke(tmp_path) -> None:
    db = str(tmp_path / "t.db")
    r = CliRunner().invoke(app, ["tokens", "create", "--role", "liaison", "--party", "UA", "--db", db, "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    assert rec["token"].startswith(f"tw_{rec['id']}.") and rec["party"] == "UA"
    listed = json.loads(CliRunner().invoke(app, ["tokens", "list", "--db", db]).stdout)
    assert [t["id"] for t in listed] == [rec["id"]] and "token" not in listed[0]
    r = CliRunner().invoke(app, ["tokens", "create", "--role", "liaison", "--db", db])
    assert r.exit_code == 2 and "party" in r.output
    r = CliRunner().invoke(app, ["tokens", "create", "--role", "emperor", "--db", db])
    assert r.exit_code == 2 and "emperor" in r.output
    assert CliRunner().invoke(app, ["tokens", "revoke", rec["id"], "--db", db]).exit_code == 0
    assert CliRunner().invoke(app, ["tokens", "revoke", rec["id"], "--db", db]).exit_code == 1


@pytest.mark.slow
def test_serve_runs_the_api_and_dashboard(tmp_path) -> None:
    db = str(tmp_path / "s.db")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "trucewatch.cli", "serve", "--db", db, "--agreement", str(AGREEMENT),
                             "--port", str(port), "--sample", "--allow-unsigned"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ | {"PYTHONUNBUFFERED": "1"})
    try:
        line = ""
        deadline = time.time() + 240  # generous: --sample fills the store first, and CI machines are loaded
        while "dashboard:" not in line and time.time() < deadline:
            line = proc.stderr.readline()
        assert "#token=" in line, f"serve printed no dashboard link in time (exit code {proc.poll()})"
        token = line.split("#token=")[1].strip()
        url = f"http://127.0.0.1:{port}"
        up = False
        while not up and time.time() < deadline:
            try:
                up = httpx.get(f"{url}/api/v1/health").status_code == 200
            except httpx.HTTPError:
                time.sleep(0.2)
        assert up, "serve did not answer /health in time"
        assert 'src="/static/vendor/leaflet/leaflet.js"' in httpx.get(f"{url}/").text
        assert httpx.get(f"{url}/static/vendor/leaflet/leaflet.js").status_code == 200
        vs = httpx.get(f"{url}/api/v1/violations", headers={"Authorization": f"Bearer {token}"}).json()
        assert len(vs) == 40  # --sample filled the empty store
        assert httpx.get(f"{url}/api/v1/violations").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.slow
def test_bench_api_quick() -> None:
    from trucewatch.bench.api import run

    out = run(quick=True, seed=2)
    assert out["observations_in_store"] >= 20_000
    assert out["query"]["errors"] == 0 and out["query"]["requests"] > 0
    assert out["alert_service_path"]["n"] == out["alert_service_path"]["of"]
    assert out["alert_pipeline"]["alerts"] >= 1 and out["alert_p99_ms"] is not None  # real fusion -> SSE
    assert out["ingest_obs_per_s"] > 0
