"""Workflow through the API: analysts move findings on, liaisons contest theirs."""

from __future__ import annotations

from trucewatch.model import Status


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


def first(store, **kw):
    return next(v for v in store.query_violations() if all(getattr(v, k) == x for k, x in kw.items()))


def test_analyst_moves_a_finding_and_history_is_kept(client, tokens, store) -> None:
    v = first(store, status=Status.DETECTED)
    h = auth(tokens["analyst"])
    r = client.post(f"/api/v1/violations/{v.id}/transitions", json={"to_status": "corroborated", "reason": "two sources"},
                    headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "corroborated"
    r = client.post(f"/api/v1/violations/{v.id}/transitions", json={"to_status": "verified", "reason": "imagery"}, headers=h)
    assert r.json()["status"] == "verified"
    hist = client.get(f"/api/v1/violations/{v.id}/transitions", headers=h).json()
    assert [t["to_status"] for t in hist] == ["detected", "corroborated", "verified"]
    assert hist[1]["reason"] == "two sources" and hist[1]["actor"].startswith("analyst:")


def test_a_step_the_workflow_does_not_allow_is_409(client, tokens, store) -> None:
    v = first(store, status=Status.DETECTED)
    r = client.post(f"/api/v1/violations/{v.id}/transitions", json={"to_status": "confirmed", "reason": "x"},
                    headers=auth(tokens["analyst"]))
    assert r.status_code == 409
    assert store.get_violation(v.id).status == Status.DETECTED
    r = client.post("/api/v1/violations/nope/transitions", json={"to_status": "verified", "reason": "x"},
                    headers=auth(tokens["analyst"]))
    assert r.status_code == 404
    r = client.post(f"/api/v1/violations/{v.id}/transitions", json={"to_status": "bogus", "reason": "x"},
                    headers=auth(tokens["analyst"]))
    assert r.status_code == 422


def test_liaison_contests_a_finding_against_its_party(client, tokens, store) -> None:
    v = next(v for v in store.query_violations() if v.party == "UA" and v.status == Status.NOTIFIED)
    r = client.post(f"/api/v1/violations/{v.id}/contest",
                    json={"reason": "our unit was not there", "counter_evidence": ["photo-123", "log entry 7"]},
                    headers=auth(tokens["liaison_UA"]))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "contested"
    last = store.transitions(v.id)[-1]
    assert last.to_status == Status.CONTESTED and last.counter_evidence == ["photo-123", "log entry 7"]
    assert last.actor.startswith("liaison:UA:")
    # the liaison sees its own contest in the history, other actors by role only
    hist = client.get(f"/api/v1/violations/{v.id}/transitions", headers=auth(tokens["liaison_UA"])).json()
    assert hist[-1]["actor"].startswith("liaison:UA:")
    assert all(t["actor"] in ("system", "analyst", "administrator") for t in hist[:-1])


def test_liaison_cannot_contest_another_partys_finding(client, tokens, store) -> None:
    v = next(v for v in store.query_violations() if v.party == "RU" and v.status == Status.VERIFIED)
    r = client.post(f"/api/v1/violations/{v.id}/contest", json={"reason": "not us", "counter_evidence": ["a"]},
                    headers=auth(tokens["liaison_UA"]))
    assert r.status_code == 404  # not in its view: existence not revealed
    assert store.get_violation(v.id).status == Status.VERIFIED
    # a finding where UA is the victim: visible to UA, but only RU's liaison may contest
    v.attributes["victim_party"] = "UA"
    store.save_violations([v])
    r = client.post(f"/api/v1/violations/{v.id}/contest", json={"reason": "x", "counter_evidence": ["a"]},
                    headers=auth(tokens["liaison_UA"]))
    assert r.status_code == 403
    for body in ({"reason": "", "counter_evidence": ["a"]}, {"counter_evidence": ["a"]}):
        r = client.post(f"/api/v1/violations/{v.id}/contest", json=body, headers=auth(tokens["liaison_RU"]))
        assert r.status_code == 422, body  # a contest needs a reason (counter-evidence is optional)
    # verified: the party may already contest (right of reply, issue 19), without counter-evidence
    r = client.post(f"/api/v1/violations/{v.id}/contest", json={"reason": "x"}, headers=auth(tokens["liaison_RU"]))
    assert r.status_code == 200 and r.json()["status"] == "contested"
