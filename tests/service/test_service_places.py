"""Places for readers through the API (issue 20): every finding names its nearest
settlement in every view, the map's label layer, and a post's text kept and withheld per role."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from trucewatch.places import settlements as PL


def test_api_findings_carry_place_in_every_view(app: Any, tokens: dict[str, str], store: Any) -> None:
    c = TestClient(app)
    for role in ("analyst", "liaison_UA", "public"):
        rows = c.get("/api/v1/violations", headers={"Authorization": f"Bearer {tokens[role]}"}).json()
        assert rows or role == "public", role
        for v in rows:
            pl = v["place"]
            assert pl and pl["name"] and pl["label"], (role, v["id"])
            d = PL._haversine_km(np.array([pl["lat"]]), np.array([pl["lon"]]), np.array([v["lat"]]), np.array([v["lon"]]))
            assert float(d[0]) == pytest.approx(pl["distance_km"], abs=0.06)
    # the fast (analyst) and generic paths agree
    vid = store.query_violations()[0].id
    one = c.get(f"/api/v1/violations/{vid}", headers={"Authorization": f"Bearer {tokens['analyst']}"}).json()
    fast = {v["id"]: v for v in c.get("/api/v1/violations", headers={"Authorization": f"Bearer {tokens['analyst']}"}).json()}
    assert one["place"] == fast[vid]["place"]


def test_api_places_layer(app: Any, tokens: dict[str, str]) -> None:
    c = TestClient(app)
    h = {"Authorization": f"Bearer {tokens['monitor']}"}
    r = c.get("/api/v1/layers/places", params={"bbox": "37,47.5,39,49", "min_population": 100000}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["features"]
    assert all(f["properties"]["population"] >= 100000 for f in fc["features"])
    assert c.get("/api/v1/layers/places", params={"bbox": "1,2,3"}, headers=h).status_code == 422
    assert c.get("/api/v1/layers/places", params={"limit": 0}, headers=h).status_code == 422
    assert c.get("/api/v1/layers/places").status_code == 401


def test_post_text_kept_and_withheld_by_role(app: Any, tokens: dict[str, str], store: Any) -> None:
    """A report claim keeps what the post says; outside the mission it is withheld with
    the source's identity when the source is a monitor team (sample: team-alpha)."""
    c = TestClient(app)
    strikes = [v for v in store.query_violations() if v.rule.value == "strike_on_protected_object" and v.party == "UA"]
    assert strikes
    vid = strikes[0].id
    a = c.get(f"/api/v1/violations/{vid}/evidence", headers={"Authorization": f"Bearer {tokens['analyst']}"}).json()
    claims = [it["observation"] for it in a["items"] if it["evidence"]["kind"] == "report_claim"]
    assert claims and claims[0]["attributes"]["text"] and claims[0]["attributes"]["url"].startswith("https://")
    li = c.get(f"/api/v1/violations/{vid}/evidence", headers={"Authorization": f"Bearer {tokens['liaison_UA']}"}).json()
    lc = next(it["observation"] for it in li["items"] if it["evidence"]["kind"] == "report_claim")
    assert lc["attributes"]["text"] is None and lc["attributes"]["url"] is None
    assert set(lc["attributes"]["withheld"]) == {"text", "url", "channel"}
    assert claims[0]["attributes"]["text"] not in str(li)


def test_text_stage_keeps_the_post() -> None:
    from datetime import UTC, datetime

    from trucewatch.sources.text.extract import Claim
    from trucewatch.sources.text.pipeline import TEXT_MAX, claim_to_observation

    t = datetime(2026, 3, 15, tzinfo=UTC)
    c = Claim(report_id="r1", source="channel_x", language="uk", event_type="shelling", event_scores={}, place="Горлівка",
              lat=48.3, lon=38.0, radius_m=5000.0, admin1="Donetsk Oblast", country="UA", place_id=1, place_phrase=None,
              occurred_from=t, occurred_to=t, time_precision="day", actor=None, weapon=None, facility=None,
              facility_name=None, published_at=t, url="https://t.me/channel_x/1", text="Обстріл Горлівки. " * 400)
    o = claim_to_observation(c)
    assert o.attributes["channel"] == "channel_x" and o.attributes["text"].startswith("Обстріл Горлівки.")
    assert len(o.attributes["text"]) == TEXT_MAX
