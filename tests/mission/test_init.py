"""`trucewatch init`: the agreement (versioned), log key, key folder and config in the store;
read commands on a store that does not exist fail with exit 2 and create nothing."""

from __future__ import annotations

import os
import stat

import yaml

from tests.mission.mission_util import AGREEMENT, init_store, run
from trucewatch.mission import agreement_versions, mission_agreement, mission_config
from trucewatch.store import Store


def test_init_stores_agreement_keys_and_config(tmp_path):
    db = init_store(tmp_path)
    keys = tmp_path / "mission.db.keys"
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(keys / "log.key").st_mode) == 0o600
    with Store.open(db, create=False) as store:
        agr = mission_agreement(store)
        assert agr.id == "ua-ru-2026" and agr.parties == ["UA", "RU"]
        assert agr.contact_line.length > 0 and agr.areas  # GeoJSON inlined: no file needed any more
        assert mission_config(store).report_cutoff == "19:30"
    # same agreement again: no new version; the log key stays
    out = run("init", "--db", db, "--agreement", AGREEMENT, "--json").output
    assert '"agreement_added": false' in out and '"agreement_version": 1' in out


def test_amendment_is_a_new_version(tmp_path):
    db = init_store(tmp_path)
    amended = tmp_path / "amended"
    amended.mkdir()
    raw = yaml.safe_load(AGREEMENT.read_text())
    raw["name"] = "Amended: buffer zone widened"
    raw["buffer_zone_km"] = 20
    for name in ("contact_line", "areas"):
        (amended / raw[name]).write_text((AGREEMENT.parent / raw[name]).read_text())
    (amended / "agreement.yaml").write_text(yaml.safe_dump(raw))
    run("init", "--db", db, "--agreement", amended / "agreement.yaml")
    with Store.open(db, create=False) as store:
        assert [v["version"] for v in agreement_versions(store)] == [1, 2]
        assert mission_agreement(store).name.startswith("Amended")
        assert mission_agreement(store, 1).name.startswith("Sample")


def test_init_refuses_bad_agreement_and_config(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n")
    res = run("init", "--db", tmp_path / "a.db", "--agreement", bad, code=2)
    assert "parties" in res.output and not (tmp_path / "a.db").exists()
    cfg = tmp_path / "mission.yaml"
    cfg.write_text("report_cutoff: '25:00'\n")
    res = run("init", "--db", tmp_path / "b.db", "--agreement", AGREEMENT, "--config", cfg, code=2)
    assert "report_cutoff" in res.output
    cfg.write_text("fusion: {gate_everything: true}\n")
    assert "gate_everything" in run("init", "--db", tmp_path / "b.db", "--agreement", AGREEMENT, "--config", cfg,
                                    code=2).output
    cfg.write_text("report_cutoff: '18:00'\npublic_delay_s: 3600\nworkflow: {verify_min_confidence: 0.95}\n")
    run("init", "--db", tmp_path / "c.db", "--agreement", AGREEMENT, "--config", cfg)
    with Store.open(tmp_path / "c.db", create=False) as store:
        c = mission_config(store)
        assert (c.report_cutoff, c.public_delay_s, c.workflow_config().verify_min_confidence) == ("18:00", 3600, 0.95)


def test_read_commands_refuse_a_missing_store(tmp_path):
    db = tmp_path / "typo.db"
    (tmp_path / "sources.json").write_text("[]")
    for cmd in (["process", "--db", db], ["export", "--db", db, "--out", tmp_path / "x.csv"],
                ["report", "daily", "--db", db, "--date", "2026-03-15", "--out", tmp_path / "r"],
                ["intake", tmp_path, "--db", db], ["sources", "list", "--db", db], ["serve", "--db", db],
                ["ingest", __file__, "--db", db], ["sources-add", tmp_path / "sources.json", "--db", db]):
        res = run(*cmd, code=2)
        assert "no such store" in res.output and "trucewatch init" in res.output, cmd
    assert not db.exists()


def test_missing_db_option_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("TRUCEWATCH_DB", raising=False)
    assert "TRUCEWATCH_DB" in run("intake", tmp_path, code=2).output
    db = init_store(tmp_path)
    monkeypatch.setenv("TRUCEWATCH_DB", str(db))
    assert "no key" not in run("sources", "list").output


def test_process_says_what_falls_outside_the_agreement(tmp_path):
    from tests.mission.mission_util import copy_samples

    db = init_store(tmp_path)
    files = copy_samples(tmp_path / "in", "firms")  # November 2025: before the sample agreement's start
    run("intake", *files, "--db", db)
    out = run("process", "--db", db).output
    assert "5 observation(s) before its start" in out
    assert '"before_start": 5' in run("process", "--db", db, "--json").output


def test_a_store_at_0002_gains_the_mission_tables(tmp_path):
    import sqlite3

    p = tmp_path / "old.db"
    with Store.open(p):
        pass
    with sqlite3.connect(p) as c:  # a store written before migration 0004
        c.execute("DROP TABLE mission_agreements")
        c.execute("DROP TABLE intake_files")
        c.execute("UPDATE alembic_version SET version_num = '0002'")
    with Store.open(p, create=False) as store:
        assert mission_agreement(store) is None
    with sqlite3.connect(p) as c:
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"mission_agreements", "intake_files"} <= names


def test_serve_takes_the_stored_agreement(tmp_path):
    from trucewatch.cli.serve import _agreement

    db = init_store(tmp_path)
    with Store.open(db, create=False) as store:
        agr = _agreement(store, None)
    assert agr is not None and agr.id == "ua-ru-2026" and agr.to_geojson()["features"]
