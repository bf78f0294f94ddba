"""The daily report through the API: built once per view while its data is unchanged, public after the delay."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from trucewatch.model import Status, Transition
from trucewatch.service import integrations as I


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}"}


@pytest.fixture()
def fake_renderer(monkeypatch) -> list[tuple[date, str, str | None]]:
    """Record (day, view role, view party) per build instead of rendering."""
    calls: list[tuple[date, str, str | None]] = []

    def build(store, agreement, day, out_dir, *, view, views=None):
        calls.append((day, view.role, view.party))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.html").write_text(f"<html>report {day} {view.title}</html>")
        (out / "report.pdf").write_bytes(b"%PDF-1.7\n%fake\n")
        return {"html": out / "report.html", "pdf": out / "report.pdf"}

    real = I._optional
    monkeypatch.setattr(I, "_optional", lambda m, a: build if (m, a) == ("trucewatch.report.daily",
                                                                         "build_daily_report") else real(m, a))
    return calls


def test_report_files_and_cache(client, tokens, fake_renderer) -> None:
    day = (datetime.now(UTC) - timedelta(days=3)).date()
    h = auth(tokens["analyst"])
    r = client.get(f"/api/v1/reports/daily/{day}", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["files"] == {"html": f"/api/v1/reports/daily/{day}/html", "pdf": f"/api/v1/reports/daily/{day}/pdf"}
    r = client.get(f"/api/v1/reports/daily/{day}/pdf", headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    r = client.get(f"/api/v1/reports/daily/{day}/html", headers=h)
    assert str(day) in r.text
    assert fake_renderer == [(day, "analyst", None)]  # built once while its data is unchanged
    assert client.get(f"/api/v1/reports/daily/{day}/docx", headers=h).status_code == 422
    assert client.get(f"/api/v1/reports/daily/{day}", headers=auth(tokens["monitor"])).status_code == 403


def test_one_report_per_view_rebuilt_when_its_data_changes(client, tokens, store, fake_renderer) -> None:
    day = store.query_violations()[0].time.date() + timedelta(days=1)  # the sample's findings are in its 30 days
    for who in ("analyst", "administrator", "public", "liaison_UA", "liaison_RU", "liaison_UA", "public"):
        r = client.get(f"/api/v1/reports/daily/{day}/html", headers=auth(tokens[who]))
        assert r.status_code == 200, r.text
    # administrators share the analyst's (full) view; no two views share a build
    assert fake_renderer == [(day, "analyst", None), (day, "public", None), (day, "liaison", "UA"),
                             (day, "liaison", "RU")]
    assert "Liaison view: RU" in client.get(f"/api/v1/reports/daily/{day}/html",
                                            headers=auth(tokens["liaison_RU"])).text
    v = next(v for v in store.query_violations() if v.status == Status.DETECTED)
    store.record_transition(Transition(violation_id=v.id, from_status=Status.DETECTED, to_status=Status.DISMISSED,
                                       actor="analyst:test"))
    client.get(f"/api/v1/reports/daily/{day}/html", headers=auth(tokens["analyst"]))
    assert fake_renderer[-1] == (day, "analyst", None) and len(fake_renderer) == 5
    # a change outside the 30 days a report shows does not rebuild it
    old = day - timedelta(days=40)
    client.get(f"/api/v1/reports/daily/{old}/html", headers=auth(tokens["analyst"]))
    w = next(w for w in store.query_violations() if w.status == Status.DETECTED)
    store.record_transition(Transition(violation_id=w.id, from_status=Status.DETECTED, to_status=Status.DISMISSED,
                                       actor="analyst:test"))
    client.get(f"/api/v1/reports/daily/{old}/html", headers=auth(tokens["analyst"]))
    assert fake_renderer.count((old, "analyst", None)) == 1


def test_public_gets_the_report_after_cutoff_and_delay(client, tokens, config, fake_renderer) -> None:
    old = (datetime.now(UTC) - timedelta(days=3)).date()
    today = datetime.now(UTC).date()
    assert client.get(f"/api/v1/reports/daily/{old}", headers=auth(tokens["public"])).status_code == 200
    # tomorrow's cut-off + delay is always ahead (today's passes at 19:30 UTC + delay)
    r = client.get(f"/api/v1/reports/daily/{today + timedelta(days=1)}", headers=auth(tokens["public"]))
    assert r.status_code == 404 and "published" in r.json()["detail"]
    assert client.get(f"/api/v1/reports/daily/{today}", headers=auth(tokens["analyst"])).status_code == 200


def test_missing_renderer_is_503(client, tokens, monkeypatch) -> None:
    monkeypatch.setattr(I, "_optional", lambda m, a: None)
    r = client.get("/api/v1/reports/daily/2026-01-05", headers=auth(tokens["analyst"]))
    assert r.status_code == 503 and "trucewatch.report.daily" in r.json()["detail"]


@pytest.mark.slow
def test_real_renderer_html_and_pdf(client, tokens, store) -> None:
    """With the real trucewatch.report.daily (WeasyPrint) on the sample day."""
    day = store.query_violations()[0].time.date()
    r = client.get(f"/api/v1/reports/daily/{day + timedelta(days=1)}", headers=auth(tokens["analyst"]))
    assert r.status_code == 200, r.text
    pdf = client.get(f"/api/v1/reports/daily/{day + timedelta(days=1)}/pdf", headers=auth(tokens["analyst"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
