"""Clustering, copies, observations, CLI and benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from trucewatch.model import ObservationKind, SourceKind
from trucewatch.sources.text import extract_claims, extract_observations, sources_of
from trucewatch.sources.text.intake import record_from_dict

P = "2026-03-12T0{h}:10:00+00:00"
RECS = [
    {"id": "a", "source": "uk_chan", "published_at": P.format(h=4),
     "text": "Вночі ворожий дрон атакував нафтобазу «Херкон» біля Костянтинівки Донецької області, досі горить."},
    {"id": "b", "source": "en_wire", "published_at": P.format(h=6),
     "text": "A Russian drone strike hit the Gerkon oil depot near Kostiantynivka overnight; the fire still burns."},
    {"id": "c", "source": "ru_chan", "published_at": P.format(h=7),
     "text": "Ночью беспилотник атаковал нефтебазу «Геркон» возле Константиновки."},
    {"id": "d", "source": "aggregator", "published_at": P.format(h=8),
     "text": "Вночі ворожий дрон атакував нафтобазу «Херкон» біля Костянтинівки Донецької області, досі горить. "
             "(via @uk_chan)"},
    {"id": "e", "source": "uk_chan", "published_at": P.format(h=5), "text": "Вночі окупанти обстріляли Нікополь."},
    {"id": "f", "source": "ru_chan", "published_at": P.format(h=5), "text": "Украинская ППО сбила 16 дронов."},
]


def test_clusters_and_copies() -> None:
    claims, errs = extract_claims(RECS)
    assert not errs
    c = {x.report_id: x for x in claims}
    assert c["a"].cluster == c["b"].cluster == c["c"].cluster == c["d"].cluster
    assert c["e"].cluster != c["a"].cluster
    assert c["a"].independent and c["b"].independent and c["c"].independent
    assert not c["d"].independent and c["d"].origin_id == "a"
    assert c["f"].lat is None and c["f"].reason


def test_observations_contract() -> None:
    obs, errs = extract_observations(RECS)
    assert len(obs) == 5 and len(errs) == 1 and errs[0].field == "place"
    o = next(x for x in obs if x.attributes["place"] == "Nikopol")
    assert o.kind == ObservationKind.REPORT_CLAIM
    assert o.location.err_major_m == o.location.err_minor_m > 1000
    assert o.time_sigma_s == 6 * 3600  # "overnight": 12 h window
    for k in ("event_type", "actor", "facility", "place", "admin1", "cluster", "independent", "origin_id",
              "language"):
        assert k in o.attributes
    obs2, _ = extract_observations(RECS)
    assert [x.id for x in obs] == [x.id for x in obs2]
    assert len({x.attributes["cluster"] for x in obs}) == 2


def test_sources() -> None:
    recs = [record_from_dict(r, "t") for r in RECS[:2]]
    recs.append(record_from_dict({**RECS[0], "id": "z", "source": "mod_russia"}, "t"))
    recs.append(record_from_dict({"id": "p", "source": "monitor:team-1", "published_at": P.format(h=4),
                                  "patrol": {"what": "explosion", "place": "Orikhiv"}}, "t"))
    kinds = {s.id: (s.kind, s.party) for s in sources_of(recs)}
    assert kinds["text:uk_chan"] == (SourceKind.OPEN_SOURCE, "neutral")
    assert kinds["text:mod_russia"] == (SourceKind.PARTY_STATEMENT, "RU")
    assert kinds["monitor:team-1"][0] == SourceKind.MONITOR_TEAM


def test_cli_extract(tmp_path: Path) -> None:
    from trucewatch.cli import app

    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECS) + "\n{broken\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["reports", "extract", str(p), "--json"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == 6
    for k in ("report_id", "event_type", "place", "lat", "lon", "radius_m", "admin1", "occurred_from",
              "occurred_to", "actor", "facility", "cluster", "independent"):
        assert k in lines[0]
    assert any(x["lat"] is None and x["reason"] for x in lines)
    assert "broken JSON" in res.stderr


def test_sim_and_bench() -> None:
    from trucewatch.bench.reports import pairwise_f1
    from trucewatch.sim.text import simulate

    truth = [{"id": f"t{i}", "t": 1773285000 + 3600 * i, "lat": 47.6 + 0.1 * i, "lon": 36.0 + 0.2 * i,
              "kind": "fire"} for i in range(5)]
    out = simulate(truth, np.random.default_rng(3), report_share=1.0)
    assert out["records"] and len(out["observations"]) >= 5
    assert pairwise_f1([1, 1, 2], [1, 1, 2])["f1"] == 1.0
    assert pairwise_f1([1, 1, 1], [1, 2, 3])["precision"] == 0.0


def test_cli_observations_and_lookup(tmp_path: Path) -> None:
    from trucewatch.cli import app

    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECS[:2]) + "\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["reports", "extract", str(p), "--observations"])
    assert res.exit_code == 0, res.output
    obs = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert len(obs) == 2 and all(o["kind"] == "report_claim" for o in obs)
    res = CliRunner().invoke(app, ["reports", "lookup", "Millerovo", "--limit", "1"])
    assert json.loads(res.stdout.splitlines()[0])["admin1"] == "Rostov Oblast"
    res = CliRunner().invoke(app, ["reports", "extract", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2


def test_an_ambiguous_village_takes_the_place_another_report_names() -> None:
    t = "2026-03-15T0{h}:{m}:00+00:00"
    recs = [
        {"id": "ru", "source": "ru_chan", "published_at": t.format(h=3, m="02"),
         "text": "В 04:28 пожар на складе в населенном пункте Вершина, работают 4 расчетов."},
        {"id": "en", "source": "en_chan", "published_at": t.format(h=3, m="04"),
         "text": "At 04:28 a large fire is burning at a warehouse in Vershina, Zaporizhzhia region; 3 fire crews."},
    ]
    alone, _ = extract_claims(recs[:1])
    assert alone[0].alternatives and alone[0].admin1 != "Zaporizhzhia Oblast"  # several villages of that name
    claims, errs = extract_claims(recs)
    assert not errs
    c = {x.report_id: x for x in claims}
    assert c["ru"].admin1 == "Zaporizhzhia Oblast" and (c["ru"].lat, c["ru"].lon) == (c["en"].lat, c["en"].lon)
    assert not c["ru"].alternatives and "settled by en" in c["ru"].reason
    assert c["ru"].cluster == c["en"].cluster
    # two reports naming different regions for that time: nothing to settle it by
    recs.append({"id": "en2", "source": "en2", "published_at": t.format(h=3, m="05"),
                 "text": "At 04:28 a large fire is burning at a warehouse in Vershina, Sumy region."})
    claims, _ = extract_claims(recs)
    c = {x.report_id: x for x in claims}
    assert c["ru"].alternatives and c["en2"].admin1 == "Sumy Oblast"


def test_an_ambiguous_village_is_not_a_precise_fix() -> None:
    """A name several villages share, with nothing to settle it: the circle reaches every one of them."""
    from trucewatch.geo import haversine_m

    rec = {"id": "amb", "source": "chan", "published_at": "2026-03-15T03:02:00+00:00",
           "text": "В 04:28 пожар на складе в населенном пункте Вершина, работают 4 расчетов."}
    claims, _ = extract_claims([rec])
    c = claims[0]
    assert c.alternatives and c.radius_m is not None
    obs, errs = extract_observations([rec])
    assert not errs and obs[0].attributes["ambiguous"] is True
    far = max(float(haversine_m(c.lat, c.lon, a[0], a[1])) for a in c.alternatives)
    assert obs[0].location.err_major_m >= min(far, 499_000.0) and far > 20_000 > c.radius_m
    # a settled name keeps the village's own radius
    sure, _ = extract_observations([{**rec, "id": "sure", "text": rec["text"].replace(
        "Вершина", "Вершина Запорожской области")}])
    assert sure[0].attributes["ambiguous"] is False and sure[0].location.err_major_m < 20_000
