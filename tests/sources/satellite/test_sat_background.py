"""Background model: expectation, persistence, excess flags, clusters; simulated and real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trucewatch.sim.satellite import FireSimConfig, demo_strikes, simulate_year
from trucewatch.sources.satellite.background import BackgroundModel, ModelError, auc, detect
from trucewatch.sources.satellite.firms import read_firms

REAL_2022 = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "firms" / "ukraine_2022_lat_lon_date.csv"
BBOX = (47.0, 36.0, 48.5, 38.0)


def _csv(rows: list[tuple[float, float, str, str, str]]) -> bytes:
    lines = ["latitude,longitude,acq_date,acq_time,satellite,daynight,scan,track,frp,confidence"]
    lines += [f"{la},{lo},{d},{t},N20,{dn},0.4,0.4,3.0,n" for la, lo, d, t, dn in rows]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def sim_year():
    rng = np.random.default_rng(7)
    cfg = FireSimConfig(bbox=BBOX)
    truth = demo_strikes(rng, "2026-01-01", 120, cfg.bbox)
    hist, new = simulate_year(rng, truth, cfg, history_years=2, n_days=120)
    return read_firms(hist.csv_text.encode(), "h.csv"), read_firms(new.csv_text.encode(), "n.csv"), new


def test_flare_is_persistent_and_new_fire_is_excess():
    days = np.arange(np.datetime64("2025-01-01"), np.datetime64("2025-03-01"))
    rows = [(47.05, 37.05, str(d), "1030", "D") for d in days]  # a flare burning every day
    rows += [(47.55, 37.55, "2025-01-10", "1030", "D")]  # one field fire elsewhere
    m = BackgroundModel.fit(read_firms(_csv(rows), "h.csv"))
    assert m.dayparts == 2
    assert m.persistent.sum() == 1
    lat_c, lon_c = m.cell_centre(m.cell_keys[m.persistent])
    assert abs(lat_c[0] - 47.05) < 0.06 and abs(lon_c[0] - 37.05) < 0.06
    new = read_firms(_csv([
        (47.05, 37.05, "2025-02-10", "1030", "D"),  # the flare again: normal
        (47.851, 37.851, "2025-02-10", "1030", "D"),  # never burned there: excess
        (47.852, 37.852, "2025-02-10", "1030", "D"),
        (47.853, 37.851, "2025-02-10", "1030", "D"),
    ]), "n.csv")
    d = detect(m, new)
    assert d.excess.tolist() == [False, True, True, True]
    assert d.persistent.tolist() == [True, False, False, False]
    assert d.p_value[0] > 0.3 and d.p_value[1] < 0.01
    assert d.observed.tolist() == [1, 3, 3, 3]
    assert len(d.clusters) == 1
    c = d.clusters[0]
    for k in ("lat", "lon", "radius_m", "first_seen", "last_seen", "n_detections", "expected", "p_value",
              "persistent_source"):
        assert k in c
    assert c["n_detections"] == 3 and c["persistent_source"] is False
    assert c["expected"] < 0.05 and c["p_value"] < 0.01
    assert 200 < c["radius_m"] < 2000


def test_expected_follows_season_and_window_widens():
    rows = []
    for y in (2023, 2024):  # fields burn every April day, never in winter
        for d in np.arange(np.datetime64(f"{y}-04-01"), np.datetime64(f"{y}-05-01")):
            rows.append((47.25, 37.25, str(d), "1100", "D"))
        rows.append((47.95, 37.95, f"{y}-01-15", "1100", "D"))
        rows.append((47.95, 37.95, f"{y}-12-15", "1100", "D"))
    m = BackgroundModel.fit(read_firms(_csv(rows), "h.csv"))
    cell = m.cell_of(np.array([47.25, 47.25]), np.array([37.25, 37.25]))
    mu, used, _ = m.expected(cell, np.array([105, 15]), np.array([0, 0]))
    assert mu[0] > 0.5 and mu[1] < 0.05  # April busy, January quiet
    assert used.tolist() == [15, 15]


def test_save_load_roundtrip(tmp_path, sim_year):
    h, n, _ = sim_year
    m = BackgroundModel.fit(h)
    m.save(tmp_path / "model.npz")
    m2 = BackgroundModel.load(tmp_path / "model.npz")
    assert np.array_equal(m.counts, m2.counts) and np.array_equal(m.persistent, m2.persistent)
    assert m2.dispersion_k == pytest.approx(m.dispersion_k)
    np.testing.assert_allclose(detect(m, n).p_value, detect(m2, n).p_value)
    (tmp_path / "junk.npz").write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"junk\.npz"):
        BackgroundModel.load(tmp_path / "junk.npz")


def test_sim_excess_auc_and_false_flag_rate(sim_year):
    h, n, new = sim_year
    m = BackgroundModel.fit(h)
    d = detect(m, n)
    score = -np.log10(np.clip(d.p_value, 1e-300, 1))
    a = auc(score, new.war)
    assert a >= 0.9, a
    assert d.excess[~new.war].mean() < 0.15
    assert d.excess[new.war].mean() > 0.7
    # a model that knows nothing (fitted on an unrelated place) must do worse on background
    far = read_firms(b"latitude,longitude,acq_date\n10.0,10.0,2024-06-01\n10.0,10.0,2025-06-01\n", "far.csv")
    d0 = detect(BackgroundModel.fit(far), n)
    assert d0.excess[~new.war].mean() > d.excess[~new.war].mean() + 0.2


def test_auc_helper():
    assert auc(np.array([1, 2, 3, 4]), np.array([0, 0, 1, 1], bool)) == 1.0
    assert auc(np.array([1, 1, 1, 1]), np.array([0, 1, 0, 1], bool)) == 0.5


def test_real_2022_war_excess():
    """Documented real-data check (not ground truth): a winter-only model, then the invasion."""
    if not REAL_2022.exists():
        pytest.skip("shared FIRMS 2022 file not present")
    b = read_firms(REAL_2022)
    assert len(b) == 133_979 and not b.errors

    def day(s):
        return float(np.datetime64(s, "s").astype(np.int64))

    m = BackgroundModel.fit(b.subset(b.t < day("2022-02-10")))
    assert m.dayparts == 1  # lat/lon/date only

    def share(a, z):
        d = detect(m, b.subset((b.t >= day(a)) & (b.t < day(z))))
        return float(d.excess.mean()), len(d.clusters)

    control, _ = share("2022-02-10", "2022-02-24")  # the last fortnight of peace
    war, n_clusters = share("2022-02-24", "2022-03-10")  # the first fortnight of the invasion
    assert war > control + 0.05, (war, control)
    assert n_clusters > 50


def test_more_satellites_do_not_inflate_the_count():
    """A history from S-NPP alone, new data from three VIIRS satellites: same fire, same verdict."""
    lines = ["latitude,longitude,acq_date,acq_time,satellite,daynight"]
    for d in np.arange(np.datetime64("2024-03-01"), np.datetime64("2024-04-30")):
        if int((d - np.datetime64("2024-03-01")).astype(int)) % 3 == 0:
            lines.append(f"47.35,37.35,{d},1030,N,D")
    m = BackgroundModel.fit(read_firms(("\n".join(lines) + "\n").encode(), "h.csv"))
    new = "latitude,longitude,acq_date,acq_time,satellite,daynight\n" + "".join(
        f"47.35,37.35,2025-03-20,{t},{s},D\n" for t, s in (("0940", "N20"), ("1005", "N21"), ("1030", "N")))
    d = detect(m, read_firms(new.encode(), "n.csv"))
    assert d.observed.tolist() == [1, 1, 1]
    assert not d.excess.any()
    one = "latitude,longitude,acq_date,acq_time,satellite,daynight\n" + "47.35,37.35,2025-03-20,1030,N,D\n" * 3
    d1 = detect(m, read_firms(one.encode(), "one.csv"))
    assert d1.observed.tolist() == [3, 3, 3]
    assert d1.p_value[0] < d.p_value[0]
