"""schemathesis against /openapi.json: generated requests, valid (positive) and
invalid (negative), never make a server error.  The SSE stream is infinite by
design and has its own tests (test_service_alerts.py)."""

from __future__ import annotations

import time
from datetime import timedelta, timezone
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from trucewatch.service.app import create_app
from trucewatch.service.config import ServiceConfig

# Dates and instants as an attacker sends them: the ends of Python's range, with
# offsets that push them over (issue 15: year 1 or 9999 answered 500), the API's
# own bounds, and ordinary ones in any offset.
_OFFSETS = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                                             max_value=timedelta(hours=23, minutes=59)))
schemathesis.openapi.format("date-time", st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00Z",
                     "1969-12-31T23:59:59Z", "2200-01-01T00:00:01Z", "2026-12-01T12:00:00+05:30"]),
    st.datetimes(timezones=_OFFSETS).map(lambda d: d.isoformat())))
schemathesis.openapi.format("date", st.one_of(
    st.sampled_from(["0001-01-01", "9999-12-31", "1969-12-31", "2200-01-02", "2026-12-01"]),
    st.dates().map(lambda d: d.isoformat())))


def _fuzz(app: Any, token: str, mode: GenerationMode, examples: int, exclude_reports: bool) -> list[Any]:
    """Run every operation ``examples`` times with ``token``; the cases that answered 5xx."""
    failures: list[Any] = []
    with TestClient(app):  # runs the lifespan (alert hub, audit flusher)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/api/v1/alerts/stream")
        if exclude_reports:
            schema = schema.exclude(path_regex="^/api/v1/reports/")
        ops = [r.ok() for r in schema.get_all_operations()]
        assert len(ops) >= 23 - 2 * exclude_reports

        for op in ops:
            @given(case=op.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                      derandomize=True)
            def run(case: Any) -> None:
                # the day of the sample findings renders a PDF (tens of seconds on a loaded machine)
                r = case.call(headers={"Authorization": f"Bearer {token}"}, timeout=120)
                if r.status_code >= 500:
                    failures.append((case.method, case.formatted_path, case.query, case.body, r.status_code,
                                     r.text[:300]))

            try:
                run()
            except Unsatisfiable:
                continue  # nothing invalid can be generated for this operation (no parameters)
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error(store, agreement, mode: GenerationMode) -> None:
    app = create_app(store, agreement, ServiceConfig(require_signatures=False, max_body_bytes=256 * 1024))
    token = app.state.tokens.create("administrator")[0]
    # reports render PDFs (seconds each) in trucewatch.report: tested in test_service_reports.py
    assert _fuzz(app, token, mode, 4, exclude_reports=True) == []


@pytest.mark.slow
@pytest.mark.parametrize("role", ["analyst", "public"])
def test_no_server_error_by_role(store, agreement, role: str) -> None:
    """The analyst and the public (what the internet can reach), valid and invalid requests,
    the report endpoints included: 0 server errors.  Bounded: a few examples per operation
    (about a minute per role on a 2-core machine)."""
    app = create_app(store, agreement, ServiceConfig(require_signatures=False, max_body_bytes=256 * 1024,
                                                     public_delay_s=0))
    token = app.state.tokens.create(role)[0]
    t = time.perf_counter()
    failures = [f for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
                for f in _fuzz(app, token, mode, 6, exclude_reports=False)]
    assert failures == []
    assert time.perf_counter() - t < 240  # stays a bounded test


def test_openapi_document(client) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    for p in ("/api/v1/observations", "/api/v1/violations", "/api/v1/violations/{violation_id}/contest",
              "/api/v1/exports/{fmt}", "/api/v1/ledger/checkpoint", "/api/v1/reports/daily/{day}",
              "/api/v1/alerts/stream", "/api/v1/sources/{source_id}/key", "/api/v1/tokens"):
        assert p in paths, p
    assert all(p.startswith("/api/v1/") for p in paths)
