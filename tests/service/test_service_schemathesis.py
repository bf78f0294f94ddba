"""schemathesis against /openapi.json: generated requests, valid (positive) and
invalid (negative), never make a server error.  The SSE stream is infinite by
design and has its own tests (test_service_alerts.py)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from trucewatch.service.app import create_app
from trucewatch.service.config import ServiceConfig


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error(store, agreement, mode: GenerationMode) -> None:
    app = create_app(store, agreement, ServiceConfig(require_signatures=False, max_body_bytes=256 * 1024))
    token = app.state.tokens.create("administrator")[0]
    failures: list[Any] = []
    times: dict[str, float] = {}
    with TestClient(app):  # runs the lifespan (alert hub, audit flusher)
        # reports render PDFs (seconds each) in trucewatch.report: tested in test_service_reports.py
        schema = (schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path="/api/v1/alerts/stream")
                  .exclude(path_regex="^/api/v1/reports/"))
        ops = [r.ok() for r in schema.get_all_operations()]
        assert len(ops) >= 23

        for op in ops:
            @given(case=op.as_strategy(generation_mode=mode))
            @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                      derandomize=True)
            def run(case: Any) -> None:
                r = case.call(headers={"Authorization": f"Bearer {token}"})
                if r.status_code >= 500:
                    failures.append((case.method, case.formatted_path, case.query, case.body, r.status_code,
                                     r.text[:300]))

            t = time.perf_counter()
            try:
                run()
            except Unsatisfiable:
                continue  # nothing invalid can be generated for this operation (no parameters)
            times[f"{op.method.upper()} {op.path}"] = time.perf_counter() - t  # for -s debugging
    assert failures == []


def test_openapi_document(client) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = set(doc["paths"])
    for p in ("/api/v1/observations", "/api/v1/violations", "/api/v1/violations/{violation_id}/contest",
              "/api/v1/exports/{fmt}", "/api/v1/ledger/checkpoint", "/api/v1/reports/daily/{day}",
              "/api/v1/alerts/stream", "/api/v1/sources/{source_id}/key", "/api/v1/tokens"):
        assert p in paths, p
    assert all(p.startswith("/api/v1/") for p in paths)
