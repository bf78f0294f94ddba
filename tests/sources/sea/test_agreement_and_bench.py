"""The two sample agreements validate; sea zones come out of them; the benchmarks run (quick sizes)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

AGR = Path(__file__).resolve().parents[3] / "trucewatch" / "data" / "agreements"


def test_sample_agreements_validate():
    from trucewatch.cli import app

    for name in ("black-sea-maritime", "ua-ru-energy"):
        r = CliRunner().invoke(app, ["agreement", "validate", str(AGR / name / "agreement.yaml"), "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["ok"] is True


def test_sea_zones_of_the_maritime_agreement():
    from trucewatch.agreement import load_agreement
    from trucewatch.sources.sea.incidents import sea_zones

    agr = load_agreement(AGR / "black-sea-maritime" / "agreement.yaml")
    zones = {z.id: z for z in sea_zones(agr)}
    assert {"grain-corridor", "odesa-ports", "novorossiysk", "sevastopol", "zmiinyi"} <= set(zones)
    assert zones["zmiinyi"].barred == {"military", "law_enforcement"}
    assert zones["grain-corridor"].kind == "corridor"
    # the land agreement has no sea zones: nothing barred at sea
    full = load_agreement(AGR / "ua-ru-2026" / "agreement.yaml")
    assert sea_zones(full) == []


def test_sea_benchmark_quick():
    from trucewatch.bench.sea import run

    d = run(quick=True, seed=2)
    for k in ("ais_msgs_per_s", "baseline_ais_msgs_per_s", "dark_gap_recall", "spoof_recall",
              "dark_gap_false_alarms_per_1000_vessel_hours", "spoof_false_alarms_per_1000_vessel_hours"):
        assert k in d
    assert d["ais_messages_bare"] == d["ais_messages_ours"]
    assert d["dark_gap_recall"] >= 0.75 and d["spoof_recall"] >= 0.75
