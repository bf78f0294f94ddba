"""The real-data aggregator (``trucewatch bench realdata``) with fake measure modules."""

from __future__ import annotations

import sys
import types

import pytest

from trucewatch.bench import realdata


def _fake(monkeypatch, name: str, result=None, exc: Exception | None = None) -> str:
    mod = types.ModuleType(name)
    calls: list[str] = []

    def measure(split: str = "heldout"):
        calls.append(split)
        if exc is not None:
            raise exc
        return result

    mod.measure = measure  # type: ignore[attr-defined]
    mod.calls = calls  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, name, mod)
    return name


def test_goals_pass_and_fail_from_the_measures(monkeypatch):
    measures = [
        ("air", _fake(monkeypatch, "fake_real_air", {"counts_exact": 0.93, "measured_on": "held-out air posts"})),
        ("text", _fake(monkeypatch, "fake_real_text", {"headline_places_within_10km": 0.88,
                                                        "patrol_places_within_tolerance": 0.9,
                                                        "measured_on": "held-out headlines"})),
        ("dronesea", _fake(monkeypatch, "fake_real_ds", {"gnss_false_alarms_per_flight_hour": 0.4,
                                                          "measured_on": "benign tlogs"})),
        ("rules", _fake(monkeypatch, "fake_real_rules", {"protected_beyond_radius_2sigma": 2,
                                                          "measured_on": "VIINA"})),
    ]
    out = realdata.aggregate("heldout", measures)
    assert out["missing"] == [] and "errors" not in out
    assert sys.modules["fake_real_air"].calls == ["heldout"]
    g = out["goals"]
    assert g["air_counts_exact"]["pass"] is True and g["air_counts_exact"]["value"] == 0.93
    assert g["headline_places_within_10km"]["pass"] is False
    assert g["patrol_places_within_tolerance"]["pass"] is True
    assert g["gnss_false_alarms_per_flight_hour"]["pass"] is True
    assert g["protected_beyond_radius_2sigma"]["pass"] is False
    assert out["all_goals_pass"] is False
    assert out["text"]["measured_on"] == "held-out headlines"
    # at the goals exactly: pass
    out = realdata.aggregate("dev", [("rules", _fake(monkeypatch, "fake_real_rules2",
                                                      {"protected_beyond_radius_2sigma": 0, "measured_on": "x"}))])
    assert out["goals"]["protected_beyond_radius_2sigma"]["pass"] is True and out["split"] == "dev"


def test_missing_and_failing_measures_are_named(monkeypatch):
    measures = [
        ("air", "trucewatch.bench._real_no_such_module"),
        ("text", _fake(monkeypatch, "fake_broken", exc=FileNotFoundError("labels.jsonl: no such file"))),
        ("dronesea", _fake(monkeypatch, "fake_unsaid", {"gnss_false_alarms_per_flight_hour": 0.1})),
        ("rules", _fake(monkeypatch, "fake_notdict", [1, 2])),
    ]
    out = realdata.aggregate("heldout", measures)
    assert out["missing"] == ["trucewatch.bench._real_no_such_module"]
    assert "labels.jsonl: no such file" in out["errors"]["text"] and "fake_broken" in out["errors"]["text"]
    assert "measured_on" in out["errors"]["dronesea"]
    assert "expected a dict" in out["errors"]["rules"]
    assert out["goals"]["air_counts_exact"]["pass"] is None
    assert out["all_goals_pass"] is False


def test_bench_cli_discovers_realdata_and_run_uses_the_held_out_split(monkeypatch):
    from trucewatch.cli.bench import available

    assert "realdata" in available()
    name = _fake(monkeypatch, "fake_only", {"protected_beyond_radius_2sigma": 0, "measured_on": "x"})
    monkeypatch.setattr(realdata, "MEASURES", [("rules", name)])
    out = realdata.run(quick=True, seed=3)
    assert out["split"] == "heldout" and sys.modules[name].calls == ["heldout"]
    assert set(out["goals"]) == set(realdata.GOALS)


@pytest.mark.parametrize("key", ["air", "text", "dronesea", "rules"])
def test_every_measure_module_is_listed(key):
    assert key in dict(realdata.MEASURES)


def test_rules_measure_on_a_small_headline_file(tmp_path):
    """The rules measure runs the real text path; splits by day; every count is bounded."""
    from trucewatch.bench._real_rules import measure

    f = tmp_path / "h.csv"
    f.write_text(
        '"datetime","lon","lat","place_name","event_type","headline"\n'
        '"2025-03-02 00:00:00","0","0","","","Внаслідок обстрілу Херсона поранено двох людей"\n'
        '"2025-03-03 00:00:00","0","0","","","Ракетний удар по Запоріжжю: пошкоджено об\'єкт енергетики"\n'
        '"2025-03-20 00:00:00","0","0","","","Окупанти обстріляли Нікополь з артилерії, є руйнування"\n'
        '"2025-03-21 00:00:00","0","0","","","У Києві відбувся концерт"\n', encoding="utf-8")
    dev = measure("dev", path=f)
    held = measure("heldout", path=f)
    assert (dev["headlines"], held["headlines"]) == (2, 2)
    assert measure("all", path=f)["headlines"] == 4
    for out in (dev, held):
        assert "split" in out["measured_on"] and out["located_claims"] <= out["headlines"]
        assert 0 <= out["protected_beyond_radius_2sigma"] <= out["protected_findings"] <= out["findings"]
        assert out["auto_verified_single_line"] <= out["auto_verified"]
    with pytest.raises(ValueError, match="split"):
        measure("train", path=f)
