"""The mechanism through the API (issue 19): a case from allegation to publication
with a fake clock for the deadlines, a contest on a verified finding, obstruction
from a sensor-health feed, a missing holding-site weapon, a pre-notified window,
and the bad-input answers."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import pytest

from trucewatch.mechanism.core import FakeClock, MechanismConfig
from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind, Status, Violation
from trucewatch.service.app import create_app
from trucewatch.service.config import ServiceConfig

API = "/api/v1"


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def square(lat: float, lon: float, d: float = 0.02) -> dict:
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d],
                                                [lon - d, lat + d], [lon - d, lat - d]]]}


@pytest.fixture()
def config() -> ServiceConfig:
    return ServiceConfig(require_signatures=False, public_delay_s=3600, alert_poll_s=0.05, max_body_bytes=64 * 1024,
                         mechanism=MechanismConfig(max_attachment_bytes=2000, public_rate_per_hour=2))


@pytest.fixture()
def clock(app) -> FakeClock:
    c = FakeClock(time.time())
    app.state.mechanism.clock = c
    return c


def allege(client, token, **over):
    now = time.time()
    body = {"time": iso(now - 1800), "lat": 48.0, "lon": 37.9, "type": "shelling",
            "description": "shelling of a village near the line", "accused_party": "RU",
            "attachments": [{"name": "photo.jpg", "content_type": "image/jpeg",
                             "data_base64": base64.b64encode(b"\xff\xd8 not really a jpeg").decode()}]}
    body.update(over)
    return client.post(f"{API}/allegations", json=body, headers=auth(token))


def test_full_case_from_allegation_to_publication_with_deadlines(client, tokens, clock, store) -> None:
    r = allege(client, tokens["liaison_UA"])
    assert r.status_code == 200, r.text
    a = r.json()
    cid = a["case_id"]
    assert a["acknowledged_at"] and a["state"] == "received" and a["ledger_index"] is not None
    assert len(a["attachments"][0]["sha256"]) == 64
    # the allegation is signed evidence in the log
    obs = store.get_observations([a["observation_id"]])[0]
    assert obs.signature and obs.ledger_index == a["ledger_index"] and obs.attributes["case_id"] == cid
    h = auth(tokens["analyst"])
    # 2 h later the acknowledgement (due 1 h) is overdue: flagged in the list and the case
    clock.advance(2 * 3600)
    cases = client.get(f"{API}/cases", params={"overdue": True}, headers=h).json()
    assert [c["id"] for c in cases] == [cid] and cases[0]["overdue"] == ["acknowledge"]
    # a decision that skips steps is refused with the allowed next steps
    r = client.post(f"{API}/cases/{cid}/decide", json={"decision": "substantiated", "reason": "x"}, headers=h)
    assert r.status_code == 409 and r.json()["detail"]["allowed_next"] == ["acknowledge"]
    for action in ("acknowledge", "assess"):
        r = client.post(f"{API}/cases/{cid}/{action}", json={"reason": f"{action} done"}, headers=h)
        assert r.status_code == 200, r.text
    case = r.json()
    ack = next(d for d in case["deadlines"] if d["step"] == "acknowledge")
    assert ack["late"] and not ack["overdue"]  # done, but after its hour
    inv = next(d for d in case["deadlines"] if d["step"] == "investigate")
    assert inv["due"] == pytest.approx(case_received(case) + 48 * 3600)  # a party's request: 48 h
    # tasking a weapon is refused, a drone patrol is accepted and moves the case to tasked
    t0 = clock()
    body = {"asset_kind": "artillery_battery", "asset_id": "x", "area": square(48.0, 37.9), "t_from": iso(t0 - 3000),
            "t_to": iso(t0 + 3600), "case_id": cid}
    r = client.post(f"{API}/tasks", json=body, headers=h)
    assert r.status_code == 422 and "no weapon" in r.json()["detail"]["message"]
    body["asset_kind"], body["asset_id"] = "drone_patrol", "team-alpha"
    r = client.post(f"{API}/tasks", json=body, headers=h)
    assert r.status_code == 200, r.text
    task = r.json()
    assert client.get(f"{API}/cases/{cid}", headers=h).json()["state"] == "tasked"
    # the monitor files the result: not seen, but the footprint covers only part of the area -> not_observed
    part = square(48.0, 37.9, 0.01)
    r = client.post(f"{API}/tasks/{task['id']}/result", json={"seen": False, "covered": [part]},
                    headers=auth(tokens["monitor"]))
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert res["outcome"] == "not_observed" and 0.2 < res["coverage"]["fraction"] < 0.3
    for action, extra in (("investigate", {}), ("decide", {"decision": "could_not_be_attributed"}), ("publish", {})):
        r = client.post(f"{API}/cases/{cid}/{action}", json={"reason": action, **extra}, headers=h)
        assert r.status_code == 200, r.text
    case = r.json()
    assert case["state"] == "published" and case["decision"] == "could_not_be_attributed"
    kinds = [x["kind"] for x in case["timeline"]]
    assert kinds[0] == "allegation" and "decision" in kinds and "task" in kinds
    assert all(x["actor"] for x in case["timeline"] if x["kind"] in ("step", "decision"))
    assert [x["action"] for x in case["decisions"]] == ["decide"]
    # published: the public sees it, without the submitter; the other party's liaison does not
    pub = client.get(f"{API}/cases/{cid}", headers=auth(tokens["public"])).json()
    assert pub["state"] == "published" and all(al["submitted_by"] is None for al in pub["allegations"])
    assert "description" not in pub["allegations"][0]
    assert "tasks" not in pub and "observations" not in pub
    steps = {x["action"]: x for x in pub["timeline"] if x["kind"] in ("step", "decision")}
    assert steps["acknowledge"]["reason"] == "" and steps["decide"]["reason"] == "decide"  # internal notes stay in
    assert all(x["actor"] in (None, "analyst", "liaison", "administrator", "monitor") for x in pub["timeline"])
    ru = client.get(f"{API}/cases/{cid}", headers=auth(tokens["liaison_RU"]))  # the accused party reads it
    assert ru.status_code == 200
    ru = ru.json()
    assert ru["allegations"][0]["description"] and "attachments" not in ru["allegations"][0]
    assert ru["allegations"][0]["submitted_by"] == "liaison" and "asset_id" not in ru["tasks"][0]
    assert ru["tasks"][0]["outcome"] == "not_observed"
    ua = client.get(f"{API}/cases/{cid}", headers=auth(tokens["liaison_UA"])).json()
    assert ua["allegations"][0]["attachments"][0]["sha256"] == a["attachments"][0]["sha256"]  # its own
    assert client.get(f"{API}/cases/{cid}", headers=auth(tokens["monitor"])).status_code == 404  # not its own
    today = datetime.fromtimestamp(case_received(case), UTC).date().isoformat()
    idx = client.get(f"{API}/reports/spot", params={"day": today}, headers=auth(tokens["public"])).json()
    assert idx["reports"] == [{"subject": f"case {cid}", "url": f"{API}/reports/spot/cases/{cid}"}]
    spot = client.get(f"{API}/reports/spot/cases/{cid}", headers=auth(tokens["public"]))
    assert spot.status_code == 200 and spot.json()["view"] == "public"
    html = client.get(f"{API}/reports/spot/cases/{cid}", params={"format": "html"}, headers=h)
    assert html.status_code == 200 and "could_not_be_attributed" in html.text
    # the steps are a hash chain that verifies
    n, broken = store.mechanism.verify_steps()
    assert n >= 8 and broken is None


def case_received(case: dict) -> float:
    return datetime.fromisoformat(case["received_at"].replace("Z", "+00:00")).timestamp()


def test_allegation_bad_input_names_the_field(client, tokens, clock) -> None:
    h = tokens["monitor"]
    r = allege(client, h, time=None)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "time"
    r = allege(client, h, lat=None, lon=None)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "place"
    r = allege(client, h, attachments=[{"name": "big.bin", "data_base64": base64.b64encode(b"x" * 3000).decode()}])
    assert r.status_code == 422 and r.json()["detail"]["field"] == "attachments[0].data_base64"
    r = allege(client, h, time=iso(time.time() + 86400))
    assert r.status_code == 422 and r.json()["detail"]["field"] == "time"
    # a GeoJSON area and a window are places and times too
    r = allege(client, h, time=None, time_from=iso(time.time() - 7200), time_to=iso(time.time() - 3600),
               lat=None, lon=None, area=square(47.9, 37.5))
    assert r.status_code == 200, r.text
    assert r.json()["place"]["how"] == "area" and r.json()["place"]["err_m"] > 1000
    # evidence already in the log may be cited (a party's own signed statement); unknown ids are refused
    r = allege(client, h, observation_ids=["no-such-obs"])
    assert r.status_code == 422 and r.json()["detail"]["field"] == "observation_ids"
    logged = allege(client, h).json()["observation_id"]
    r = allege(client, h, observation_ids=[logged])
    assert r.status_code == 200, r.text
    case = client.get(f"{API}/cases/{r.json()['case_id']}", headers=auth(tokens["analyst"])).json()
    assert logged in case["observations"] and case["allegations"][0]["cited_observations"] == [logged]
    # the same file twice is stored once (content-addressed) and the allegation is accepted
    same = {"name": "a.txt", "data_base64": base64.b64encode(b"same").decode()}
    r = allege(client, h, attachments=[same, same | {"name": "b.txt"}])
    assert r.status_code == 200 and len({x["sha256"] for x in r.json()["attachments"]}) == 1
    # the public may not allege unless the mission enables it
    assert allege(client, tokens["public"]).status_code == 403
    assert client.post(f"{API}/allegations", json={}).status_code == 401


def test_public_allegations_when_enabled_are_rate_limited(store, agreement, tmp_path) -> None:
    from fastapi.testclient import TestClient

    cfg = ServiceConfig(require_signatures=False, mechanism=MechanismConfig(public_allegations=True,
                                                                            public_rate_per_hour=2))
    app = create_app(store, agreement, cfg)
    tok = app.state.tokens.create("public")[0]
    with TestClient(app) as c:
        codes = [allege(c, tok, attachments=[]).status_code for _ in range(3)]
        st = c.get(f"{API}/mechanism/settings", headers=auth(tok)).json()
    assert codes == [200, 200, 429]
    assert st["public_allegations"] is True and st["acknowledge_s"] == 3600 and "signing_key_file" not in st


def _verified_ru_finding(store) -> Violation:
    v = next(v for v in store.query_violations() if v.party == "RU" and v.status == Status.VERIFIED)
    return v


def test_contest_on_a_verified_finding_reviewed_escalated_and_resolved(client, tokens, store, clock) -> None:
    v = _verified_ru_finding(store)
    # another party's liaison: 403 (it can see findings where it is the victim, not reply as the accused)
    v.attributes["victim_party"] = "UA"
    store.save_violations([v])
    r = client.post(f"{API}/replies", json={"target_id": v.id, "kind": "contest", "reason": "not us"},
                    headers=auth(tokens["liaison_UA"]))
    assert r.status_code == 403
    # the victim may reply (not contest)
    r = client.post(f"{API}/replies", json={"target_id": v.id, "kind": "reply", "reason": "we confirm damage"},
                    headers=auth(tokens["liaison_UA"]))
    assert r.status_code == 200 and r.json()["state"] == "recorded"
    # the accused contests a verified finding: a reason, no counter-evidence needed
    r = client.post(f"{API}/replies", json={"target_id": v.id, "kind": "contest", "reason": "our unit was elsewhere"},
                    headers=auth(tokens["liaison_RU"]))
    assert r.status_code == 200, r.text
    rid = r.json()["id"]
    assert store.get_violation(v.id).status == Status.CONTESTED
    h = auth(tokens["analyst"])
    r = client.post(f"{API}/replies/{rid}/resolve", json={"reason": "x"}, headers=h)
    assert r.status_code == 422  # an outcome is needed
    assert client.post(f"{API}/replies/{rid}/review", json={"reason": "under review"}, headers=h).status_code == 200
    assert client.post(f"{API}/replies/{rid}/escalate", json={"reason": "disputed"}, headers=h).json()["state"] == "escalated"
    r = client.post(f"{API}/replies/{rid}/review", json={"reason": "again"}, headers=h)
    assert r.status_code == 409 and r.json()["detail"]["allowed_next"] == ["resolve"]
    r = client.post(f"{API}/replies/{rid}/resolve", json={"reason": "commission accepted the logs", "outcome": "upheld"},
                    headers=h)
    assert r.status_code == 200 and r.json()["outcome"] == "upheld"
    steps = client.get(f"{API}/replies/{rid}", headers=auth(tokens["liaison_RU"])).json()["steps"]
    assert steps[-1]["data"]["by"] == "joint_commission"
    assert store.get_violation(v.id).status == Status.DISMISSED
    # it had been published (verified): the public corrections feed says so
    corr = client.get(f"{API}/corrections", headers=auth(tokens["public"])).json()
    assert any(c["target_id"] == v.id and c["change"] == "dismissed" and c["actor"] is None for c in corr)
    assert client.get(f"{API}/corrections").status_code == 401


def test_obstruction_from_a_sensor_health_feed(client, tokens, store, agreement, clock) -> None:
    # three acoustic sensors 5 km from the line, one far away
    line = agreement.contact_line
    pt = line.interpolate(0.5, normalized=True) if line.geom_type == "LineString" else line.geoms[0].interpolate(
        0.5, normalized=True)
    lat, lon = pt.y, pt.x
    sensors = [Source(id=f"hb-{i}", kind=SourceKind.ACOUSTIC_SENSOR, lat=lat + 0.01 * i, lon=lon) for i in range(3)]
    sensors.append(Source(id="hb-far", kind=SourceKind.ACOUSTIC_SENSOR, lat=50.45, lon=30.52))  # Kyiv
    store.add_sources(sensors)
    t0 = clock() - 6 * 3600
    # a jamming observation near hb-1 during its outage: suspected interference
    store.add_observations([Observation(id="jam-1", source_id="team-alpha", kind=ObservationKind.INTERFERENCE,
                                        time=datetime.fromtimestamp(t0 + 4.5 * 3600, UTC),
                                        location=Location(lat=lat + 0.01, lon=lon, err_major_m=2000, err_minor_m=2000))])
    beats = []
    for s in sensors:
        for k in range(0, 6 * 60, 5):  # every 5 min for 6 h
            t = t0 + k * 60
            if s.id in ("hb-0", "hb-far") and 60 <= k < 180:
                continue  # silent 2 h: hb-0 with nothing nearby (unknown); hb-far far from the line (no finding)
            if s.id == "hb-1" and 210 <= k < 330:
                continue  # silent 2 h while jammed
            beats.append({"sensor_id": s.id, "at": iso(t)})
    mon = tokens["monitor"]
    r = client.post(f"{API}/sensor-health/heartbeats", json={"heartbeats": beats}, headers=auth(mon))
    assert r.status_code == 403  # the monitor token reports for team-alpha only
    r = client.post(f"{API}/sensor-health/heartbeats", json={"heartbeats": beats}, headers=auth(tokens["administrator"]))
    assert r.status_code == 200 and r.json()["stored"] == len(beats)
    r = client.post(f"{API}/sensor-health/heartbeats", json={"heartbeats": beats[:10]},
                    headers=auth(tokens["administrator"]))
    assert r.json()["stored"] == 0  # repeated heartbeats are not stored twice
    body = {"t_from": iso(t0), "t_to": iso(clock())}
    r = client.post(f"{API}/sensor-health/analyse", json=body, headers=auth(tokens["analyst"]))
    assert r.status_code == 200, r.text
    out = r.json()
    assert {o["sensor_id"] for o in out["outages"]} == {"hb-0", "hb-1", "hb-far"}
    causes = {f["attributes"]["sensor_id"]: f["cause"] for f in out["findings"]}
    assert causes == {"hb-0": "unknown", "hb-1": "suspected interference"}
    # re-running the analysis adds nothing twice
    r = client.post(f"{API}/sensor-health/analyse", json=body, headers=auth(tokens["analyst"]))
    assert r.json()["findings"] == []
    # denial of access and the freedom-of-movement table
    r = client.post(f"{API}/obstruction/denials", json={"time": iso(clock() - 60), "lat": lat, "lon": lon, "party": "RU",
                                                       "patrol": "P-7", "description": "checkpoint refused passage"},
                    headers=auth(mon))
    assert r.status_code == 200, r.text
    fom = client.get(f"{API}/obstruction/freedom-of-movement", headers=auth(tokens["analyst"])).json()["rows"]
    ru = next(x for x in fom if x["party"] == "RU")
    und = next(x for x in fom if x["party"] == "undetermined")
    assert ru["denial_of_access"] == 1 and und["sensor_outage"] == 2 and und["suspected_interference"] == 1
    # the public sees only published findings
    assert client.get(f"{API}/obstruction/freedom-of-movement", headers=auth(tokens["public"])).json()["rows"] == []


def test_a_missing_holding_site_weapon_is_a_finding(client, tokens, store, clock) -> None:
    ru = auth(tokens["liaison_RU"])
    r = client.post(f"{API}/holding-sites", json={"id": "HS-1", "party": "RU", "name": "Depot north", "lat": 48.3,
                                                 "lon": 38.4, "radius_m": 400}, headers=ru)
    assert r.status_code == 200, r.text
    assert client.post(f"{API}/holding-sites", json={"party": "UA", "name": "x", "lat": 48, "lon": 38},
                       headers=ru).status_code == 403
    inv = {"items": [{"class": "MLRS", "count": 3, "serials": ["A1", "A2", "A3"]}, {"class": "mortar 120mm", "count": 5}]}
    assert client.post(f"{API}/holding-sites/HS-1/inventory", json=inv, headers=ru).status_code == 200
    assert client.post(f"{API}/holding-sites/HS-1/inventory", json=inv,
                       headers=auth(tokens["liaison_UA"])).status_code == 404
    found = {"items": [{"class": "MLRS", "serials": ["A1", "A3", "B9"]}, {"class": "mortar 120mm", "count": 4}]}
    r = client.post(f"{API}/holding-sites/HS-1/inspections", json=found, headers=auth(tokens["monitor"]))
    assert r.status_code == 200, r.text
    insp = r.json()
    assert insp["result"]["missing"] == ["A2"] and insp["result"]["new"] == ["B9"]
    f = {(x["attributes"].get("serial"), x["attributes"]["class"]) for x in insp["findings"]}
    assert f == {("A2", "MLRS"), (None, "mortar 120mm")}
    reg = client.get(f"{API}/holding-sites", headers=auth(tokens["analyst"])).json()
    assert reg[0]["last_inspection"] and not reg[0]["inspection_overdue"]
    clock.advance(16 * 86400)  # the cadence: at least twice a month
    assert client.get(f"{API}/holding-sites", headers=ru).json()[0]["inspection_overdue"]
    assert client.get(f"{API}/holding-sites", headers=auth(tokens["liaison_UA"])).json() == []
    assert client.get(f"{API}/holding-sites", headers=auth(tokens["public"])).status_code == 403
    # a drone sighting of a declared serial 20 km away is cross-checked into a finding
    store.add_observations([Observation(id="sight-1", source_id="team-alpha", kind=ObservationKind.WEAPON_SIGHTING,
                                        time=datetime.fromtimestamp(time.time() - 600, UTC),
                                        location=Location(lat=48.48, lon=38.4, err_major_m=50, err_minor_m=50),
                                        attributes={"serial": "A1", "class": "MLRS"})])
    r = client.post(f"{API}/holding-sites/cross-check", json={"t_from": iso(time.time() - 3600), "t_to": iso(time.time())},
                    headers=auth(tokens["analyst"]))
    assert r.status_code == 200, r.text
    assert [x["kind"] for x in r.json()["findings"]] == ["declared_weapon_outside_site"]
    # RU replies to the missing-weapon finding; UA may not (outside its view: 404, as GET /findings/{id})
    fid = insp["findings"][0]["id"]
    r = client.post(f"{API}/replies", json={"target_kind": "finding", "target_id": fid, "kind": "reply",
                                           "reason": "sent for repair"}, headers=auth(tokens["liaison_UA"]))
    assert r.status_code == 404
    r = client.post(f"{API}/replies", json={"target_kind": "finding", "target_id": fid, "kind": "contest",
                                           "reason": "sent for repair", "counter_evidence": ["work order 17"]}, headers=ru)
    assert r.status_code == 200
    # published, then dismissed: a correction
    h = auth(tokens["analyst"])
    assert client.post(f"{API}/findings/{fid}/publish", json={"reason": "weekly"}, headers=h).status_code == 200
    assert client.get(f"{API}/findings/{fid}", headers=auth(tokens["public"])).status_code == 200
    r = client.post(f"{API}/replies/{r.json()['id']}/resolve", json={"reason": "repair confirmed", "outcome": "upheld"},
                    headers=h)
    assert r.status_code == 200
    corr = client.get(f"{API}/corrections", headers=auth(tokens["public"])).json()
    assert any(c["target_id"] == fid and c["change"] == "dismissed" for c in corr)


def test_a_prenotified_window_annotates_instead_of_violating(client, tokens, store, clock) -> None:
    now = time.time()
    v = Violation(id="pn-v1", event_id="pn-e1", rule="fire_across_line", party="UA", confidence=0.6,
                  time=datetime.fromtimestamp(now - 1800, UTC), location=Location(lat=47.61, lon=37.21))
    store.save_violations([v])
    body = {"kind": "demining", "area": square(47.61, 37.21, 0.05), "t_from": iso(now - 7200), "t_to": iso(now + 3600),
            "description": "controlled detonations"}
    r = client.post(f"{API}/prenotifications", json=body | {"party": "RU"}, headers=auth(tokens["liaison_UA"]))
    assert r.status_code == 403
    r = client.post(f"{API}/prenotifications", json=body, headers=auth(tokens["liaison_UA"]))
    assert r.status_code == 200 and r.json()["state"] == "pending" and r.json()["party"] == "UA"
    pid = r.json()["id"]
    assert client.post(f"{API}/prenotifications/{pid}/decision", json={"accept": True, "reason": "ok"},
                       headers=auth(tokens["liaison_UA"])).status_code == 403
    r = client.post(f"{API}/prenotifications/{pid}/decision", json={"accept": True, "reason": "route checked"},
                    headers=auth(tokens["analyst"]))
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "accepted" and r.json()["applied"]["dismissed"] == ["pn-v1"]
    assert store.get_violation("pn-v1").status == Status.DISMISSED
    assert "pre-notification" in store.transitions("pn-v1")[-1].reason
    ann = client.get(f"{API}/prenotifications/{pid}/annotations", headers=auth(tokens["analyst"])).json()
    assert {"violation"} <= {a["target_kind"] for a in ann}
    assert client.get(f"{API}/prenotifications", headers=auth(tokens["liaison_RU"])).json() == []
    # outside the window: still a violation
    w = Violation(id="pn-v2", event_id="pn-e2", rule="fire_across_line", party="UA", confidence=0.6,
                  time=datetime.fromtimestamp(now - 4 * 3600, UTC), location=Location(lat=47.61, lon=37.21))
    store.save_violations([w])
    r = client.post(f"{API}/prenotifications/apply", json={}, headers=auth(tokens["analyst"]))
    assert r.status_code == 200 and store.get_violation("pn-v2").status == Status.DETECTED


def test_weekly_and_daily_reports_carry_the_mechanism_sections(client, tokens, clock, store) -> None:
    r = allege(client, tokens["liaison_UA"])
    assert r.status_code == 200
    clock.advance(3 * 3600)
    week = datetime.now(UTC).date()
    wk = f"{week.isocalendar().year}-W{week.isocalendar().week:02d}"
    for who in ("analyst", "liaison_UA", "liaison_RU", "public"):
        r = client.get(f"{API}/reports/weekly/{wk}", headers=auth(tokens[who]))
        assert r.status_code == 200, (who, r.text)
        data = r.json()
        assert {"cases", "obstruction", "holding_sites", "corrections", "findings"} <= set(data)
        if who == "public":
            assert data["cases"]["overdue"] == [] and data["cases"]["received"] == 0
        elif who == "liaison_RU":
            assert data["cases"]["received"] == 1  # accused in it
        else:
            assert data["cases"]["received"] == 1 and data["cases"]["overdue"][0]["overdue"] == ["acknowledge"]
    assert client.get(f"{API}/reports/weekly/{wk}", headers=auth(tokens["monitor"])).status_code == 403
    assert client.get(f"{API}/reports/weekly/2026-W77", headers=auth(tokens["analyst"])).status_code == 422
    html = client.get(f"{API}/reports/weekly/{wk}", params={"format": "html"}, headers=auth(tokens["analyst"])).text
    assert "Cases and deadlines" in html and "Freedom of movement" in html
    # the daily report's new sections (analyst view), built from the same store
    from trucewatch.mechanism.reports import daily_sections
    from trucewatch.report.daily import ReportView

    day_start = (datetime.now(UTC) - timedelta(days=1)).timestamp()
    from trucewatch.mechanism.mission import stored_config

    assert stored_config(store).max_attachment_bytes == 2000  # the service's config, for reports built elsewhere
    secs = daily_sections(store, day_start, time.time() + 60, ReportView("analyst"), clock=clock)
    assert [s["title"] for s in secs] == ["Cases and deadlines", "Freedom of movement and obstruction",
                                          "Weapons holding sites", "Corrections"]
    assert "Overdue" in secs[0]["html"]


def test_unobserved_segments_of_the_line(client, tokens, store, agreement, clock) -> None:
    day = datetime.now(UTC).date() - timedelta(days=1)
    h = auth(tokens["analyst"])
    url = f"{API}/obstruction/unobserved"
    before = client.get(url, params={"day": day.isoformat()}, headers=h)
    assert before.status_code == 200, before.text
    b = before.json()["summary"]
    assert b["segments"] > 50 and b["unobserved_km"] <= b["line_km"]
    # a sensor on the line hears 20 km around: about 40 km of line become observed
    line = agreement.contact_line
    ln = line.geoms[0] if hasattr(line, "geoms") else line
    pt = ln.interpolate(0.5, normalized=True)
    store.add_sources([Source(id="ears-1", kind=SourceKind.ACOUSTIC_SENSOR, lat=pt.y, lon=pt.x)])
    after = client.get(url, params={"day": day.isoformat()}, headers=h).json()["summary"]
    assert after["unobserved_km"] < b["unobserved_km"] - 15
    # silent all day (one heartbeat at dawn): it does not count
    a = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
    client.post(f"{API}/sensor-health/heartbeats", json={"heartbeats": [{"sensor_id": "ears-1", "at": iso(a + 60)}]},
                headers=auth(tokens["administrator"]))
    again = client.get(url, params={"day": day.isoformat()}, headers=h).json()["summary"]
    assert again["unobserved_km"] == pytest.approx(b["unobserved_km"])
    # a drone frame's footprint over another stretch of the line counts for that day
    gap = before.json()["features"][-1]["geometry"]["coordinates"]  # an unobserved stretch
    qlon, qlat = gap[len(gap) // 2]
    store.add_observations([Observation(id="frame-1", source_id="team-alpha", kind=ObservationKind.WEAPON_SIGHTING,
                                        time=datetime.fromtimestamp(a + 3600, UTC),
                                        location=Location(lat=qlat, lon=qlon, err_major_m=50, err_minor_m=50,
                                                          footprint=square(qlat, qlon, 0.15)))])
    seen = client.get(url, params={"day": day.isoformat()}, headers=h).json()["summary"]
    assert seen["unobserved_km"] < again["unobserved_km"] - 5
    assert client.get(url, params={"day": day.isoformat()}, headers=auth(tokens["public"])).status_code == 403


def test_the_rendered_daily_report_has_the_new_sections(tmp_path, store, agreement, client, tokens, clock) -> None:
    from trucewatch.report.daily import ReportView, build_daily_report

    assert allege(client, tokens["liaison_UA"]).status_code == 200
    day = datetime.now(UTC).date()
    paths = build_daily_report(store, agreement, day, tmp_path, pdf=False, view=ReportView("liaison", "UA"))
    html = paths["html"].read_text()
    for title in ("Cases and deadlines", "Freedom of movement and obstruction", "Weapons holding sites", "Corrections"):
        assert title in html
    assert "Unobserved segments" not in html  # the analyst view only
    html = build_daily_report(store, agreement, day, tmp_path / "a", pdf=False, view=ReportView("analyst"))["html"]
    assert "Unobserved segments of the line" in html.read_text()


def test_unknown_ids_and_another_partys_finding_are_404(client, tokens, app) -> None:
    """Roles per operation are in tests/service/test_role_matrix.py (the one MATRIX); here what it
    does not cover: ids that do not exist, and a reply aimed at another party's mechanism finding
    (404 like any item outside the caller's view, never a 403 that tells it exists)."""
    bad = []
    for method, path, body, roles, code in (
            ("POST", "/replies", {"target_id": "nope", "kind": "reply", "reason": "x"}, ("liaison_UA",), 404),
            ("POST", "/cases/nope/acknowledge", {}, ("administrator", "analyst"), 404),
            ("GET", "/cases/nope", None, ("administrator", "analyst", "monitor", "liaison_UA", "public"), 404)):
        for role in roles:
            r = client.request(method, API + path, json=body, headers=auth(tokens[role]))
            if r.status_code != code:
                bad.append(f"{method} {path} as {role}: {r.status_code} != {code} ({r.text[:120]})")
    assert bad == [], "\n".join(bad)
    fid = app.state.mechanism.add_denial(actor="t", t=time.time(), lat=48.0, lon=37.9, party="UA", patrol="p1",
                                         description="x")["id"]
    body = {"target_kind": "finding", "target_id": fid, "kind": "contest", "reason": "not us"}
    assert client.post(f"{API}/replies", json=body, headers=auth(tokens["liaison_RU"])).status_code == 404
    assert client.post(f"{API}/replies", json=body, headers=auth(tokens["liaison_UA"])).status_code == 200


def test_the_daily_report_cutoff_comes_from_the_mission_config(store, agreement) -> None:
    from fastapi.testclient import TestClient

    cfg = ServiceConfig(require_signatures=False, mechanism=MechanismConfig(daily_cutoff="18:00"))
    app = create_app(store, agreement, cfg)
    tok = app.state.tokens.create("public")[0]
    with TestClient(app) as c:
        r = c.get(f"{API}/reports/daily/{datetime.now(UTC).date().isoformat()}", headers=auth(tok))
    assert r.status_code == 404 and "18:00 UTC cut-off" in r.json()["detail"]
