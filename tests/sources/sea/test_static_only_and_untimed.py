"""Vessels that send only static data are listed with their identity; untimed logs flow through the pipeline."""

from __future__ import annotations

import json

import numpy as np
from pyais.encode import encode_dict
from typer.testing import CliRunner

from trucewatch.sources.sea.pipeline import process_lines
from trucewatch.sources.sea.report import sea_section


def _navy_static() -> list[str]:
    return encode_dict({"type": 5, "mmsi": 273310000, "shipname": "NAVY SHIP", "callsign": "UBCD", "ship_type": 35},
                       talker_id="AI", sentence_type="VDM", seq_id=3)


def _pos(mmsi: int, lat: float) -> str:
    return encode_dict({"type": 1, "mmsi": mmsi, "lat": lat, "lon": 31.0}, talker_id="AI", sentence_type="VDM")[0]


def test_static_only_navy_ship_is_listed_with_identity():
    lines = ["\\c:1700000000*55\\" + _pos(272111222, 46.0), *_navy_static(), _pos(272111222, 46.001)]
    res = process_lines(lines)
    assert res.stats["vessels"] == 1 and res.stats["vessels_static_only"] == 1
    (v,) = res.tracks.static_only()
    assert (v.mmsi, v.name, v.callsign, v.ship_type, v.category) == (273310000, "NAVY SHIP", "UBCD", 35, "military")
    sec = sea_section(res.observations, res.tracks)
    assert sec["vessels_static_only"][0]["vessel_type"] == "military"


def test_untimed_log_decodes_and_is_not_judged():
    lines = [_pos(272111222, 46.0 + k * 1e-3) for k in range(5)] + _navy_static()
    res = process_lines(lines)
    assert res.errors == [] and res.stats["positions_untimed"] == 5 and res.incidents == []
    assert res.stats["vessels"] == 1 and res.stats["vessels_static_only"] == 1
    assert np.isnan(res.tracks.pos.t).all() and res.tracks.pos.line.tolist() == [1, 2, 3, 4, 5]
    assert res.stats["vessel_hours"] == 0.0


def test_cli_decode_lists_static_only_and_rejects_rate_without_start(tmp_path):
    from trucewatch.cli.sea import app

    f = tmp_path / "log.nmea"
    f.write_text("\n".join(["# header", _pos(272111222, 46.0), *_navy_static(), ""]) + "\n")
    r = CliRunner().invoke(app, ["decode", str(f), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["errors"] == [] and out["stats"]["comments"] == 1
    navy = next(v for v in out["vessels"] if v["mmsi"] == 273310000)
    assert navy["reports"] == 0 and navy["name"] == "NAVY SHIP" and navy["category"] == "military"
    r = CliRunner().invoke(app, ["decode", str(f), "--line-interval", "2"])
    assert r.exit_code == 2 and "needs --start" in r.output
    r = CliRunner().invoke(app, ["decode", str(f), "--start", "2026-01-01T00:00:00Z"])
    assert r.exit_code == 2 and "needs --line-interval" in r.output
    r = CliRunner().invoke(app, ["decode", str(f), "--start", "2026-01-01T00:00:00Z", "--line-interval", "2", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["stats"]["untimed"] == 0
