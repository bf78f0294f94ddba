"""Fuzz: air-picture track points (JSONL) on a mutated feed never raise or hang, and every
non-blank line is a track point or an error naming the line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from hypothesis import given

from tests.fuzzing import FUZZ, bounded, mutated
from trucewatch.sources.air.tracks import read_tracks_file

T0 = 1_773_532_800.0


def _feed() -> bytes:
    lines = []
    for k, (lat, lon, cls) in enumerate([(51.2, 35.1, "shahed"), (45.1, 33.9, "cruise_missile"), (47.9, 37.2, "aircraft")]):
        for i in range(8):
            d = {"track_id": f"trk-{k}", "t": T0 + 60 * i, "lat": round(lat - 0.05 * i, 5),
                 "lon": round(lon + 0.04 * i, 5), "alt_m": 150.0 + 10 * i, "speed_mps": 50.0, "classification": cls}
            if i == 0:
                d["t"] = "2026-03-15T00:00:00Z"
            lines.append(json.dumps(d))
    return ("\n".join(lines) + "\n").encode()


FEED = _feed()


def test_feed_reads_cleanly(tmp_path: Path) -> None:
    (tmp_path / "t.jsonl").write_bytes(FEED)
    tracks, errors = read_tracks_file(tmp_path / "t.jsonl")
    assert len(tracks) == 3 and not errors


@FUZZ
@given(data=mutated(FEED))
def test_fuzz_tracks(tmp_path_factory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("fz") / "t.jsonl"
    p.write_bytes(data)
    with bounded(10):
        tracks, errors = read_tracks_file(p)
    n_lines = sum(1 for ln in data.split(b"\n") if ln.decode("utf-8", "replace").strip())
    assert sum(len(tr.t) for tr in tracks) + len({e.line for e in errors}) == n_lines
    for tr in tracks:
        assert np.isfinite(tr.t).all() and (np.abs(tr.lat) <= 90).all() and (tr.err_m > 0).all() and np.isfinite(tr.err_m).all()
