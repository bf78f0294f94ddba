"""``trucewatch mechanism``: overdue cases, the step chain, the weekly summary."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from typer.testing import CliRunner

from trucewatch.cli import app
from trucewatch.mechanism.core import AllegationIn, FakeClock
from trucewatch.mechanism.mission import Mechanism
from trucewatch.store import Store


def test_cases_verify_and_weekly(tmp_path) -> None:
    db = str(tmp_path / "m.db")
    store = Store.open(db)
    m = Mechanism(store, clock=FakeClock(time.time() - 7200))  # received 2 h ago: acknowledgement overdue
    cid = m.submit_allegation(AllegationIn(time=datetime.fromtimestamp(time.time() - 9000, UTC), lat=48.0, lon=37.9,
                                           type="shelling"), actor="monitor:t", role="monitor", party=None)["case_id"]
    store.close()
    r = CliRunner().invoke(app, ["mechanism", "cases", "--db", db, "--overdue"])
    assert r.exit_code == 1 and cid in r.output and "OVERDUE: acknowledge" in r.output
    r = CliRunner().invoke(app, ["mechanism", "verify", "--db", db])
    assert r.exit_code == 0 and json.loads(r.output)["ok"] is True
    wk = datetime.now(UTC).date().isocalendar()
    out = tmp_path / "w.html"
    r = CliRunner().invoke(app, ["mechanism", "weekly", "--db", db, "--week", f"{wk.year}-W{wk.week:02d}",
                                 "--view", "liaison:UA", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Cases and deadlines" in out.read_text() and "liaison:UA view" in out.read_text()
    r = CliRunner().invoke(app, ["mechanism", "weekly", "--db", db, "--week", "2026-W99"])
    assert r.exit_code == 2 and "--week" in r.output
