"""`trucewatch watch`: a file dropped while it runs is taken in and fused; SIGTERM leaves a
consistent store; a restart skips what was done (content hash in the store)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.mission.mission_util import REPO, SAMPLES, init_store
from trucewatch.store import Store
from trucewatch.store import schema as S


def _count(db: Path, table) -> int:
    with Store.open(db, create=False) as store, store.engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar())


def test_watch_takes_in_a_dropped_file_and_stops_cleanly(tmp_path):
    db = init_store(tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "trucewatch.cli", "watch", str(drop), "--db", str(db), "--interval", "0.3",
           "--settle", "0.3", "--max-s", "240"]
    p = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(2.0)
        assert p.poll() is None, p.stdout.read()
        shutil.copy(SAMPLES["firms"], drop / "fires.csv")  # dropped while watch runs
        deadline = time.time() + 200
        while time.time() < deadline and _count(db, S.intake_files) == 0:
            time.sleep(0.5)
        assert _count(db, S.intake_files) == 1
        deadline = time.time() + 60
        while time.time() < deadline and _count(db, S.events) == 0:  # then the incremental pipeline
            time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, out
    assert "fires.csv: firms: read 5, accepted 5" in out and "Traceback" not in out
    assert _count(db, S.observations) == 5 and _count(db, S.events) >= 1
    # restart: the file is known by its content, nothing is read again
    res = subprocess.run([*cmd[:-2], "--once"], cwd=REPO, env=env, capture_output=True, text=True, timeout=200)
    assert res.returncode == 0 and "fires.csv" not in res.stdout, res.stdout + res.stderr
    assert _count(db, S.observations) == 5


def test_watch_polls_a_feed_url(tmp_path):
    from tests.mission.mission_util import run, text_claims

    db = init_store(tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    url = SAMPLES["feed-rss"].resolve().as_uri()
    out = run("watch", drop, "--db", db, "--rss", url, "--once", "--settle", "0").output
    assert f"{url}: feed: read 10, accepted {text_claims(SAMPLES['feed-rss'])}" in out
    out = run("watch", drop, "--db", db, "--rss", url, "--once", "--settle", "0").output
    assert "accepted" not in out  # the same snapshot: known by its content hash
    bad = run("watch", drop, "--db", db, "--rss", (tmp_path / "gone.xml").as_uri(), "--once").output
    assert "warning" in bad and "gone.xml" in bad


def test_watch_reads_ais_over_tcp(tmp_path):
    import socket
    import threading

    from tests.mission.mission_util import run

    lines = SAMPLES["nmea"].read_bytes()
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            conn.sendall(lines)
            time.sleep(1.0)

    threading.Thread(target=serve, daemon=True).start()
    db = init_store(tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    out = run("watch", drop, "--db", db, "--ais", f"tcp://127.0.0.1:{port}", "--ais-every", "2", "--max-s", "5",
              "--interval", "0.5").output
    srv.close()
    got = [ln for ln in out.splitlines() if ln.startswith(f"tcp://127.0.0.1:{port}: ais-nmea: read ")]
    assert got and sum(int(ln.split("read ")[1].split(",")[0]) for ln in got) >= 30, out
    assert "--ais" in run("watch", drop, "--db", db, "--ais", "http://x", "--once", code=2).output


@pytest.mark.mqtt
def test_watch_locates_mqtt_arrivals(tmp_path):
    """Arrivals published on MQTT are located, signed as the acoustic network and logged (mosquitto :1883)."""
    import csv
    import socket

    from tests.mission.acoustic_sample import write_acoustic
    from trucewatch.mission.watch import DropFolder, LiveArrivals, flush_arrivals
    from trucewatch.sources.acoustic.stream import publish_arrivals

    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1.0).close()
    except OSError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("mosquitto is not running on 127.0.0.1:1883")
        pytest.skip("mosquitto is not running on 127.0.0.1:1883 (scripts/services.sh starts it)")
    db = init_store(tmp_path)
    sensors, arrivals = write_acoustic(tmp_path / "net", t0=time.time() - 60)
    rows = [{"sensor_id": r["sensor_id"], "time_unix_s": float(r["time_unix_s"]), "kind_hint": "impact",
             "arrival_id": r["arrival_id"] + "-mqtt"} for r in csv.DictReader(arrivals.open())]
    with Store.open(db, create=False) as store:
        drop = DropFolder(store, tmp_path)
        live = LiveArrivals(sensors)
        assert live.ready.wait(15.0), live.error
        publish_arrivals(rows)
        got = []
        deadline = time.time() + 30
        while time.time() < deadline and not any(f.accepted for f in got):
            time.sleep(0.5)
            got += flush_arrivals(drop, live)
        live.stop()
        got += flush_arrivals(drop, live)
        assert sum(f.accepted for f in got) == 1, [f.as_dict() for f in got]
        obs = store.query_observations()
        assert len(obs) == 1 and obs[0].source_id == "acoustic-net" and obs[0].ledger_index is not None
