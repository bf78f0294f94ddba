"""`trucewatch intake` on real sample files kept in the repo: each format is sniffed, run
through its stage, signed by the adapter source's key and appended through the ledger.
Running again adds nothing; bad records are named; unknown files name the formats read."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from tests.mission.acoustic_sample import write_acoustic
from tests.mission.mission_util import AGREEMENT, SAMPLES, copy_samples, init_store, run, text_claims
from trucewatch.sources.registry import format_names


def _rows(out: str) -> dict[str, dict]:
    rows = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    for r in rows:
        assert set(r) >= {"file", "format", "read", "accepted", "duplicates", "rejected", "errors"}
    return {os.path.basename(r["file"]): r for r in rows}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """One mission store and one intake of a folder of mixed real formats (shared: intake is slow)."""
    tmp = tmp_path_factory.mktemp("mixed")
    db = init_store(tmp)
    folder = tmp / "drop"
    copy_samples(folder / "sat", "firms", "firms-slice")
    copy_samples(folder / "text", "feed-rss", "feed-atom", "telegram", "headlines")
    copy_samples(folder / "sea", "nmea", "nmea-gpsd")
    copy_samples(folder / "air", "air")
    write_acoustic(folder / "acoustic")
    (folder / "notes.bin").write_bytes(b"\x00\x01 nothing we read\n")
    res = run("intake", folder, "--db", db, "--json", code=1)  # notes.bin cannot be read: exit 1
    return {"db": db, "folder": folder, "rows": _rows(res.output), "tmp": tmp}


EXPECTED = {  # file -> (format, records read, at least this many accepted)
    "viirs_noaa20_nrt_2025-11-16_sample.csv": ("firms", 5, 5),
    "ukraine_2022_lat_lon_date_slice.csv": ("firms", 33, 33),
    "feed.rss": ("feed", 10, 10),
    "feed.atom": ("feed", 8, 7),
    "telegram_result.json": ("telegram", 16, 10),
    "viina_headlines_slice.csv": ("headlines-csv", 40, 10),
    "pyais_sample.nmea": ("ais-nmea", 38, 0),
    "gpsd_ais-nmea.log": ("ais-nmea", 18, 0),
    "dev.jsonl": ("air-summaries", 68, 10),
    "arrivals.csv": ("acoustic-arrivals", 6, 1),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_format_is_read_signed_and_logged(mixed, name):
    fmt, read, accepted = EXPECTED[name]
    r = mixed["rows"][name]
    assert r["format"] == fmt and r["read"] == read and r["accepted"] >= accepted, r
    assert r["done"]
    for e in r["errors"]:
        assert e["record"] and e["field"] and e["message"]


def test_bad_records_and_unknown_files_are_named(mixed):
    rows = mixed["rows"]
    assert {e["field"] for e in rows["pyais_sample.nmea"]["errors"]} <= {"payload", "fragment"}  # named by line
    assert all(e["record"].startswith("line ") for e in rows["pyais_sample.nmea"]["errors"])
    assert rows["feed.atom"]["rejected"] == 1 and rows["feed.atom"]["errors"][0]["field"] == "place"
    unk = rows["notes.bin"]
    assert unk["format"] is None and not unk["done"]
    assert all(f in unk["errors"][0]["message"] for f in format_names())
    assert rows["sensors.csv"]["format"] == "acoustic-sensors" and rows["sensors.csv"]["done"]


def test_every_entry_is_signed_certified_and_checkpointed(mixed):
    """`trucewatch verify` with the log key taken from outside the store passes: every entry covered."""
    from trucewatch.ledger.api import log_verifiers
    from trucewatch.store import Store

    with Store.open(mixed["db"], create=False) as store:
        vkey = log_verifiers(store)[0].vkey()
        sources = {s.id: s for s in store.list_sources()}
    trust = mixed["tmp"] / "trust.json"
    trust.write_text(json.dumps({"log_keys": [vkey]}))
    out = run("verify", "--db", mixed["db"], "--trust", trust).output
    assert out.startswith("OK") or "\nOK" in out
    assert "firms-N20" in sources and sources["firms-N20"].attributes.get("adapter")
    keys = mixed["tmp"] / "mission.db.keys" / "sources"
    assert keys.is_dir() and all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in keys.iterdir())


def test_again_adds_nothing(mixed):
    first = mixed["rows"]
    again = _rows(run("intake", mixed["folder"] / "sat", mixed["folder"] / "sea", "--db", mixed["db"], "--json").output)
    for name, r in again.items():
        assert r["accepted"] == 0 and r["duplicates"] == first[name]["accepted"] + first[name]["duplicates"], r
    skip = _rows(run("intake", mixed["folder"] / "sat", "--db", mixed["db"], "--json", "--skip-done").output)
    assert all(r["note"].startswith("already taken in") for r in skip.values())


def test_cut_file_keeps_good_records_and_names_the_bad(mixed, tmp_path):
    src = SAMPLES["firms-slice"].read_text()
    cut = tmp_path / "cut_firms.csv"
    cut.write_text(src.replace("2022-03-12", "2022-03-13")[: len(src) // 2].rsplit(",", 1)[0])  # ends mid-row
    r = _rows(run("intake", cut, "--db", mixed["db"], "--json").output)["cut_firms.csv"]
    assert r["format"] == "firms" and r["accepted"] + r["duplicates"] >= 10 and r["rejected"] >= 1, r
    assert r["errors"][-1]["record"].startswith("line ")


def test_revoked_key_is_rejected_by_name(mixed, tmp_path):
    run("sources", "revoke", "firms-N20", "--reason", "test: key lost", "--at", "2020-01-01T00:00:00Z",
        "--db", mixed["db"])
    f = tmp_path / "later.csv"
    f.write_text(SAMPLES["firms"].read_text().replace("2025-11-16", "2025-11-17"))
    r = _rows(run("intake", f, "--db", mixed["db"], "--json").output)["later.csv"]
    assert r["accepted"] == 0 and r["rejected"] == 5
    assert all(e["field"] == "source_id" and "revoked" in e["message"] for e in r["errors"]), r["errors"]
    # a rotation gives the adapter a new key: the same file now goes in
    run("sources", "rotate", "firms-N20", "--db", mixed["db"])
    r = _rows(run("intake", f, "--db", mixed["db"], "--json").output)["later.csv"]
    assert r["accepted"] == 0 and r["rejected"] == 5  # rotation keys are valid from now: old data stays refused


def test_source_option_and_registered_sources(tmp_path):
    db = init_store(tmp_path)
    f = copy_samples(tmp_path / "in", "feed-rss")[0]
    res = run("intake", f, "--db", db, "--source", "team-1", code=1)
    assert "team-1" in res.output and "not registered" in res.output
    run("sources", "add", "team-1", "--kind", "monitor_team", "--operator", "mission", "--key", "generate", "--db", db)
    r = _rows(run("intake", f, "--db", db, "--source", "team-1", "--json").output)["feed.rss"]
    assert r["read"] == 10 and r["accepted"] == text_claims(f) > 10  # posts naming several places: a claim each
    listed = json.loads(run("sources", "list", "--db", db, "--json").output)
    team = next(s for s in listed if s["id"] == "team-1")
    assert team["operator"] == "mission" and team["private_key_held"] and len(team["keys"]) == 1
    # a source registered with only a public key: intake cannot sign for it
    pub = tmp_path / "dev.pub"
    pub.write_text("ab" * 32 + "\n")
    run("sources", "add", "drone-7", "--kind", "drone", "--key", pub, "--db", db)
    assert "no private key" in run("intake", f, "--db", db, "--source", "drone-7", code=1).output
    assert "--format" in run("intake", f, "--db", db, "--format", "pdf", code=2).output


def test_unknown_agreementless_store_still_reads(tmp_path):
    """A store made before `init` existed (no agreement): intake reads, text claims unchecked against areas."""
    from trucewatch.mission import init_mission

    db = tmp_path / "m.db"
    init_mission(db, AGREEMENT)
    shutil.copy(SAMPLES["firms"], tmp_path / "f.csv")
    assert _rows(run("intake", tmp_path / "f.csv", "--db", db, "--json").output)["f.csv"]["accepted"] == 5


def test_radar_stack_with_footprints(tmp_path):
    """No real GeoTIFF stack is kept in the repo (size): a simulated one (trucewatch.sim.satellite)."""
    import numpy as np

    from trucewatch.sim.satellite import synthetic_sar_stack

    st = synthetic_sar_stack(tmp_path / "sar", np.random.default_rng(3), size=96, n_buildings=30)
    (tmp_path / "sar" / "footprints.geojson").write_text(json.dumps(st.footprints))
    db = init_store(tmp_path)
    rows = _rows(run("intake", tmp_path / "sar", "--db", db, "--json").output)
    first = rows[st.files[0].name]
    assert first["format"] == "radar-geotiff" and first["read"] == len(st.files) and first["accepted"] >= 1, first
    assert all(rows[f.name]["note"].startswith("read with") for f in st.files[1:])
    assert rows["footprints.geojson"]["format"] == "radar-footprints" and rows["footprints.geojson"]["done"]


def test_arrivals_without_registry_are_not_marked_done(tmp_path):
    """A file that cannot be read yet (its sensor registry has not arrived) is named and read again later."""
    db = init_store(tmp_path)
    sensors, arrivals = write_acoustic(tmp_path / "net")
    held = tmp_path / "sensors.csv"
    sensors.rename(held)
    r = _rows(run("intake", arrivals, "--db", db, "--json", code=1).output)["arrivals.csv"]
    assert not r["done"] and r["errors"][0]["field"] == "sensor registry"
    held.rename(sensors)
    r = _rows(run("intake", tmp_path / "net", "--db", db, "--json", "--skip-done").output)["arrivals.csv"]
    assert r["done"] and r["accepted"] == 1
