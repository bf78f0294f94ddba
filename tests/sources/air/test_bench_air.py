"""``trucewatch bench air`` quick run: fields present and goals within reach."""

from __future__ import annotations


def test_air_benchmark_quick():
    from trucewatch.bench.air import run

    d = run(quick=True, seed=4)
    assert d["summaries"] >= 100
    assert d["summary_count_accuracy"] >= 0.95
    assert d["summary_count_accuracy"] > d["baseline_naive_count_accuracy"]
    assert d["track_violation_f1"] >= 0.85
