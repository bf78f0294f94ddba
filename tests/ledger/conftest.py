"""A store with registered sources, source keys, a mission log key and signed
observations ingested through the ledger."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from trucewatch.ledger.api import init_log, make_checkpoint
from trucewatch.ledger.checkpoint import NoteSigner
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import generate_source_keys, register_source_keys, sign_observations
from trucewatch.model import Location, Observation, Source
from trucewatch.store import Store

ORIGIN = "trucewatch.test/ua-ru-2026"
#: Key certificates the default fixture logs first (one per source): observation i is entry i + CERTS.
CERTS = 3
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def make_observations(n: int, start: int = 0, sources: int = 3, rng: np.random.Generator | None = None
                      ) -> list[Observation]:
    rng = rng or np.random.default_rng(start)
    out = []
    for i in range(start, start + n):
        out.append(Observation(
            id=f"obs:{i:06d}", source_id=f"src-{i % sources}", kind="impact",
            time=T0 + timedelta(seconds=float(i) * 13.25 + 0.000123),
            location=Location(lat=48.0 + float(rng.uniform(0, 0.5)), lon=37.0 + float(rng.uniform(0, 0.5)),
                              err_major_m=float(rng.uniform(100, 900)), err_minor_m=80.0, err_angle_deg=12.5),
            attributes={"n_sensors": int(rng.integers(3, 9)), "pair_id": f"p{i // 2}", "weapon": None,
                        "snr": float(rng.uniform(0, 30)), "tags": ["a", "ü"]},
            payload_hash="ab" * 32))
    return out


def graft_forged_tree(db: Path, forged_db: Path) -> None:
    """Give the SQLite store ``db`` the Merkle nodes and root of ``forged_db``: history
    rewritten consistently in tree and state, so only a signed checkpoint still contradicts it."""
    con = sqlite3.connect(db)
    con.execute("ATTACH DATABASE ? AS f", (str(forged_db),))
    con.execute("DELETE FROM ledger_nodes")
    con.execute("INSERT INTO ledger_nodes SELECT * FROM f.ledger_nodes")
    con.execute("UPDATE ledger_state SET root = (SELECT root FROM f.ledger_state)")
    con.commit()
    con.close()


@dataclass
class LedgerFixture:
    store: Store
    path: Any
    keys: dict
    signer: NoteSigner
    observations: list[Observation]


def build(path, n: int = 40, sources: int = 3, checkpoint: bool = True) -> LedgerFixture:
    store = Store.open(path)
    srcs = [Source(id=f"src-{i}", kind="acoustic_sensor") for i in range(sources)]
    store.add_sources(srcs)
    keys = generate_source_keys(srcs, np.random.default_rng(7))
    signer = NoteSigner.generate(ORIGIN)
    init_log(store, ORIGIN, signer)
    register_source_keys(store, keys, signer=signer)  # certificates: entries 0 .. sources-1
    obs = sign_observations(make_observations(n, sources=sources), keys)
    rep = ingest_signed(store, obs)
    assert not rep.errors and len(rep.accepted) == n
    if checkpoint:
        make_checkpoint(store, signer)
    return LedgerFixture(store, path, keys, signer, obs)


@pytest.fixture()
def ledger(tmp_path):
    f = build(tmp_path / "ledger.db")
    yield f
    f.store.close()
