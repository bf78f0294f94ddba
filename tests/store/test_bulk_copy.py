"""Bulk inserts (COPY on PostgreSQL: binary, encoded by the store, for plain tables; text for
the observations; executemany on SQLite) give back exactly what went in: JSON with non-ASCII
text, NULLs, integers, floats, bytes."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import pytest

from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind
from trucewatch.store.ledger import _copy_binary


def test_binary_copy_layout_of_fixed_and_variable_rows():
    head = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    fixed = _copy_binary(["int8", "bytea"], [(5, b"a" * 32), (1 << 50, b"b" * 32)])
    assert fixed == (head + struct.pack(">hiqi", 2, 8, 5, 32) + b"a" * 32
                     + struct.pack(">hiqi", 2, 8, 1 << 50, 32) + b"b" * 32 + b"\xff\xff")
    var = _copy_binary(["int4", "text", "bytea", "float8", "text"], [(1, "é", b"", 2, None)])
    assert var == (head + struct.pack(">hii", 5, 4, 1) + struct.pack(">i", 2) + "é".encode()
                   + struct.pack(">i", 0) + struct.pack(">id", 8, 2.0) + b"\xff\xff\xff\xff" + b"\xff\xff")


def test_observations_round_trip_through_bulk_insert(any_store):
    s = any_store
    s.add_sources([Source(id="s1", kind=SourceKind.ACOUSTIC_NETWORK)])
    poly = {"type": "Polygon", "coordinates": [[[37.0, 48.0], [37.1, 48.0], [37.1, 48.1], [37.0, 48.0]]]}
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    obs = [Observation(id=f"o{i}", source_id="s1", kind=ObservationKind.IMPACT, time=t0 + timedelta(seconds=i),
                       location=Location(lat=48.0 + i / 1e3, lon=37.5, err_major_m=80.5, err_minor_m=40,
                                         footprint=poly if i % 2 else None),
                       attributes={"note": "вибух «Ж» 🚀", "n": i, "x": None}, payload_hash="ab" * 32,
                       ledger_index=i if i == 3 else None)
           for i in range(6)]
    rep = s.add_observations(obs)
    assert rep.accepted == [o.id for o in obs] and not rep.errors
    back = s.get_observations([o.id for o in obs])
    for a, b in zip(obs, back, strict=True):
        assert b.attributes == a.attributes
        assert b.location.footprint == a.location.footprint
        assert b.location.lat == pytest.approx(a.location.lat, abs=0) and b.location.err_major_m == 80.5
        assert b.payload_hash == a.payload_hash and b.ledger_index == a.ledger_index and b.time == a.time
