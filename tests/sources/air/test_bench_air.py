"""``trucewatch bench air`` parts at small sizes: fields present and goals within reach."""

from __future__ import annotations


def test_air_benchmark_parts():
    from trucewatch.bench.air import summary_accuracy, track_f1

    d = summary_accuracy()
    assert d["summaries"] >= 100
    assert d["summary_count_accuracy"] >= 0.95
    assert d["summary_count_accuracy"] > d["baseline_naive_count_accuracy"]
    t = track_f1([4], 10)
    assert t["track_violation_f1"] >= 0.85
    assert t["track_tp"] > 0
