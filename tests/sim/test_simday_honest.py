"""Issue 21: the fusion benchmark's day without truth keys, its noise models and the GNN baseline."""

from __future__ import annotations

import numpy as np
import pytest

from trucewatch.fusion.arrays import SIGHTING, TEXT, VESSEL
from trucewatch.sim import simday


@pytest.fixture(scope="module")
def ag():
    from trucewatch.bench.fusion import _agreement

    return _agreement()


@pytest.fixture(scope="module")
def honest(ag):
    return simday.simulate_day(ag, np.random.default_rng(5), scale=0.004, truth_keys=False)


def test_no_key_taken_from_the_truth(ag, honest):
    keyed = simday.simulate_day(ag, np.random.default_rng(5), scale=0.004)
    fi, kfi = honest.fi, keyed.fi
    # the keyed day does carry truth keys (otherwise this test proves nothing)
    assert (kfi.pair >= 0).any() and (kfi.family[kfi.link_idx] == SIGHTING).any() and (kfi.sub[kfi.family == VESSEL] >= 0).all()
    assert not (fi.family[fi.link_idx] == SIGHTING).any()  # no drone object ids
    assert (fi.sub[fi.family == VESSEL] == -1).all()  # no vessel ids
    # pairs only from the acoustic stage's pairing: never a launch-impact pair key of the simulator
    assert set(np.unique(fi.pair[fi.pair >= 0]) // 10**12) <= {8}
    for key in np.unique(fi.pair[fi.pair >= 0])[:50]:
        rows = np.flatnonzero(fi.pair == key)
        assert len(rows) == 2 and len({int(fi.obs.source_idx[r]) for r in rows}) == 1


def test_copies_are_found_by_content_and_the_first_to_arrive_is_the_original(honest):
    fi, o = honest.fi, honest.fi.obs
    text = np.flatnonzero(fi.tier == TEXT)
    key = dict(zip(fi.link_idx.tolist(), fi.link_key.tolist(), strict=True))
    by_key: dict[int, list[int]] = {}
    for r in text.tolist():
        by_key.setdefault(key[r], []).append(r)
    assert any(len(v) > 1 for v in by_key.values())
    for rows in by_key.values():
        content = {(o.lat[r], o.lon[r], o.t[r]) for r in rows}
        assert len(content) == 1  # one content, one key
        first = min(rows, key=lambda r: honest.arrival[r])
        assert not fi.copy[first] and fi.copy[[r for r in rows if r != first]].all()
        assert len({int(fi.group[r]) for r in rows}) == 1  # copies are not independent


@pytest.mark.parametrize(("name", "sd", "heavy"), [("nominal", 1.0, False), ("miscalibrated", 1.75, False),
                                                    ("heavy_tailed", 1.0, True)])
def test_noise_models(name, sd, heavy):
    simday._noise_model[0] = simday.NOISE_MODELS[name]
    try:
        z = simday._draw(np.random.default_rng(1), 200_000)
    finally:
        simday._noise_model[0] = simday.NOISE_MODELS["nominal"]
    assert abs(z.std() - sd) < 0.05 * sd
    tail = np.mean(np.abs(z) > 4 * sd)
    assert (tail > 3e-3) if heavy else (tail < 3e-4)


def test_unknown_noise_model_is_named(ag):
    with pytest.raises(ValueError, match="noise: unknown model 'loud'"):
        simday.simulate_day(ag, np.random.default_rng(1), scale=0.001, noise="loud")


def test_gnn_baseline_respects_families_and_gates(honest):
    from trucewatch.bench.fusion import gnn_labels

    lab = gnn_labels(honest)
    fam = honest.fi.gate_view().family
    assert len(lab) == len(honest.fi) and 1 < len(np.unique(lab)) < len(lab)
    # a cluster never mixes families (the gate requires the same family)
    per = {}
    for la, f in zip(lab.tolist(), fam.tolist(), strict=True):
        per.setdefault(la, set()).add(f)
    assert all(len(v) == 1 for v in per.values())
