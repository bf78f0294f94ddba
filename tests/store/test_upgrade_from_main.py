"""A store made by an earlier release still opens, upgrades and verifies (issue 16).

``data/main-2026-12-03.db.gz`` was made by main as of 2026-12-03 (before the store took over the
ledger's SQL and migration 0001 became explicit DDL), the way a user makes one:

    trucewatch init --db store.db --agreement trucewatch/data/agreements/ua-ru-2026/agreement.yaml \\
        --origin upgrade-test.trucewatch/log
    trucewatch sim --scenario quiet --raw --out sim          # simulated raw source files, 2026-03-15
    trucewatch intake sim/raw/text/posts.jsonl \\
        tests/sources/satellite/data/viirs_noaa20_nrt_2025-11-16_sample.csv --db store.db
    trucewatch process --db store.db                         # 71 observations -> 21 events -> 8 violations
    trucewatch ledger checkpoint --db store.db --key store.db.keys/log.key
    sqlite3 store.db 'VACUUM'

``main-2026-12-03.log.key`` is that store's mission log key (a throwaway test key), so the test can
append and sign after the upgrade.  The figures below were read from that store by main's
``trucewatch verify`` and ``ledger status``.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from trucewatch.ledger.api import make_checkpoint
from trucewatch.ledger.checkpoint import NoteSigner
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import generate_source_keys, register_source_keys, sign_observations
from trucewatch.ledger.log import MerkleLog
from trucewatch.ledger.trust import Trust
from trucewatch.ledger.verify import verify_store
from trucewatch.model import Location, Observation, Source
from trucewatch.store import Store
from trucewatch.store import schema as S
from trucewatch.store.mechanism import metadata as mechanism_metadata
from trucewatch.store.migrate import alembic_config

DATA = Path(__file__).parent / "data"
OLD_SIZE = 109  # 38 key certificates + 71 signed observations
OLD_ROOT = "4d2ac05ef2008474b65ff4ba9845ebeb21565a7077919cfbbe3ce1ca3109d06e"


def _old_store(tmp_path: Path) -> Path:
    db = tmp_path / "store.db"
    with gzip.open(DATA / "main-2026-12-03.db.gz") as src, open(db, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return db


def _signer() -> NoteSigner:
    return NoteSigner.from_private_key_string((DATA / "main-2026-12-03.log.key").read_text())


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_a_store_made_by_main_upgrades_and_verifies(tmp_path: Path) -> None:
    db = _old_store(tmp_path)
    with Store.open(db) as store:
        with sqlite3.connect(db) as con:
            assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == _head()
        assert store.count_observations() == 71
        assert len(store.query_violations()) == 8
        assert MerkleLog(store).check() == (OLD_SIZE, bytes.fromhex(OLD_ROOT))
        trust = Trust(log_keys=[_signer().vkey()])
        report = verify_store(store, trust)
        assert report.ok, [str(p) for p in report.problems]
        assert (report.size, report.root, report.checkpoints) == (OLD_SIZE, OLD_ROOT, 2)
        assert report.signatures_checked == 71 and report.certificates == 38


def test_the_upgraded_store_takes_new_evidence(tmp_path: Path) -> None:
    """Register a key, ingest, sign a checkpoint with today's code: the old log extends and verifies."""
    db = _old_store(tmp_path)
    signer = _signer()
    with Store.open(db) as store:
        store.add_sources([Source(id="upgrade-probe", kind="acoustic_sensor")])
        keys = generate_source_keys(["upgrade-probe"], np.random.default_rng(3))
        register_source_keys(store, keys, signer=signer)
        obs = Observation(id="obs:upgrade:1", source_id="upgrade-probe", kind="impact",
                          time=datetime(2026, 3, 15, 12, tzinfo=UTC),
                          location=Location(lat=48.2, lon=37.6, err_major_m=300, err_minor_m=200, err_angle_deg=0))
        rep = ingest_signed(store, sign_observations([obs], keys))
        assert rep.accepted == ["obs:upgrade:1"] and not rep.errors
        make_checkpoint(store, signer)
        report = verify_store(store, Trust(log_keys=[signer.vkey()]))
        assert report.ok, [str(p) for p in report.problems]
        assert report.size == OLD_SIZE + 2  # one key certificate, one observation
        assert MerkleLog(store).consistency_proof(OLD_SIZE)  # the old tree is a prefix of the new one


def test_migrations_make_exactly_the_declared_schema(tmp_path: Path) -> None:
    """The explicit DDL of the migrations and the tables the store code queries agree
    (a column added to schema.py without a migration fails here)."""
    with Store.open(tmp_path / "fresh.db") as store:
        url = store.url
    engine = create_engine(url)
    declared = {t for md in (S.metadata, mechanism_metadata) for t in md.tables}
    with engine.connect() as c:
        ctx = MigrationContext.configure(c, opts={
            "include_object": lambda obj, name, type_, reflected, compare_to: type_ != "table" or name in declared,
        })
        diffs = compare_metadata(ctx, [S.metadata, mechanism_metadata])
    engine.dispose()
    assert diffs == []
