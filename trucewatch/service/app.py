"""The HTTP API and dashboard: ``create_app(store, agreement, config)``.

Versioned under /api/v1, OpenAPI at /openapi.json.  Every /api/v1 route except
``health`` needs a bearer token; the role decides what a route returns (see
docs/service.md for the table).  Findings outside a caller's view are 404,
never 403, so their existence does not leak.
"""


import asyncio
import contextlib
import json
import math
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from trucewatch import exports as XP
from trucewatch.access.roles import Principal, Role
from trucewatch.access.tokens import AuthError, TokenStore
from trucewatch.access.views import Views, ViolationFilter, may_alert
from trucewatch.adjudication import rules as RR
from trucewatch.i18n import catalogue
from trucewatch.ledger.api import mission_signer
from trucewatch.ledger.keys import KeyRegistryError, rotate_key
from trucewatch.ledger.log import LogError
from trucewatch.ledger.schedule import CheckpointScheduler
from trucewatch.model import Observation, Rule, Source, Status, to_utc
from trucewatch.places import settlements as PL
from trucewatch.report import layers as L
from trucewatch.report import sections as RS
from trucewatch.service import integrations as I
from trucewatch.service import security as SX
from trucewatch.service.alerts import AlertHub, Subscriber, alert_payload
from trucewatch.service.audit import AuditLog
from trucewatch.service.config import ServiceConfig
from trucewatch.service.mechanism import mechanism_router
from trucewatch.service.middleware import AuditMiddleware, LimitsMiddleware
from trucewatch.service.params import TimeAliasMiddleware
from trucewatch.sources import registry as SR
from trucewatch.store import Store
from trucewatch.store.service import ServiceReads, WebhookRepo

API = "/api/v1"
STATIC = Path(str(resources.files("trucewatch.service") / "static"))
PARTY_RE = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"
ALL = tuple(Role)
INTERNAL = (Role.ADMINISTRATOR, Role.ANALYST)


# ------------------------------------------------------------------ bodies
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestBody(_Body):
    #: Each item is an Observation (see trucewatch.model); items are checked one
    #: by one so one bad record does not reject the batch.
    observations: list[Any] = Field(min_length=1)


class TransitionBody(_Body):
    to_status: Status
    reason: str = Field(min_length=1, max_length=4000, description="why (kept in the audit trail)")


class ContestBody(_Body):
    reason: str = Field(min_length=1, max_length=4000)
    #: Observation ids or document references (optional: a contest needs a reason, not counter-evidence).
    counter_evidence: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(default_factory=list,
                                                                                       max_length=200)


class KeyBody(_Body):
    public_key: str = Field(pattern=r"^[0-9a-f]{64}$", description="Ed25519 public key, hex")


class TokenBody(_Body):
    role: Role
    party: str | None = Field(default=None, pattern=PARTY_RE)
    source_ids: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default_factory=list, max_length=1000)
    label: str = Field(default="", max_length=200)
    ttl_s: float | None = Field(default=None, gt=0, le=10 * 365 * 86400)


class WebhookBody(_Body):
    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=2000)
    role: Role = Role.ANALYST
    party: str | None = Field(default=None, pattern=PARTY_RE)


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"


class ReportLang(StrEnum):
    EN = "en"
    UK = "uk"
    RU = "ru"


#: /docs and /redoc: vendored Swagger UI and ReDoc (trucewatch/service/static/vendor), no CDN, no inline script.
_DOCS_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TruceWatch API</title>
<link rel="icon" href="/static/vendor/swagger/favicon.png">
<link rel="stylesheet" href="/static/vendor/swagger/swagger-ui.css"></head>
<body data-openapi="/openapi.json"><div id="swagger-ui"></div>
<script src="/static/vendor/swagger/swagger-ui-bundle.js"></script>
<script src="/static/vendor/swagger/init.js"></script></body></html>"""
_REDOC_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TruceWatch API (ReDoc)</title>
<link rel="icon" href="/static/vendor/swagger/favicon.png"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/static/vendor/redoc/redoc.standalone.js"></script></body></html>"""


# ------------------------------------------------------------------ helpers
def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    parts = value.split(",")
    if len(parts) != 4:
        raise HTTPException(422, "bbox: give min_lon,min_lat,max_lon,max_lat")
    try:
        a, b, c, d = (float(p) for p in parts)
    except ValueError:
        raise HTTPException(422, "bbox: four numbers separated by commas") from None
    if not all(math.isfinite(x) for x in (a, b, c, d)):
        raise HTTPException(422, "bbox: numbers must be finite")
    if not (-180 <= a <= c <= 180 and -90 <= b <= d <= 90):
        raise HTTPException(422, "bbox: need -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90")
    return a, b, c, d


def _ts(v: datetime | None) -> float | None:
    return None if v is None else to_utc(v).timestamp()


def _finite(v: Any) -> Any:
    """``v`` with every NaN or infinity replaced by None (JSON has no such numbers)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def _pydantic_errors(exc: ValidationError) -> list[tuple[str, str]]:
    return [(".".join(str(x) for x in e["loc"]) or "(record)", e["msg"]) for e in exc.errors()]


# ------------------------------------------------------------------ factory
def create_app(store: Store, agreement: Any = None, config: ServiceConfig | None = None) -> FastAPI:
    """Build the service on one store.  ``agreement`` may be None (no map layers)."""
    config = config or ServiceConfig()
    tokens = TokenStore(store, cache_s=config.token_cache_s)
    audit = AuditLog(store, flush_s=config.audit_flush_s)
    reads = ServiceReads(store)
    webhooks = WebhookRepo(store)
    views = Views(store, config.public_statuses, config.public_delay_s)
    run_pipeline = I.pipeline(config.pipeline)
    pipeline_lock = threading.Lock()
    report_dir = Path(tempfile.mkdtemp(prefix="trucewatch-reports-"))
    state: dict[str, Any] = {}
    report_cache: dict[tuple[str, str], tuple[tuple[Any, ...], dict[str, str]]] = {}
    party_names = {p.id: (p.name or p.id) for p in agreement.spec.parties} if agreement is not None else {}
    export_ctx = XP.ExportContext.of(agreement)
    # the formats of the export registry (built-ins and plugins), as the path parameter's choices
    ExportFormat = StrEnum("ExportFormat", {n.upper().replace("-", "_"): n for n in XP.formats()})  # type: ignore[misc]
    agreement_geojson: dict[str, Any] | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        hub = AlertHub(store, views, config)
        state["hub"] = hub
        await asyncio.to_thread(I.warm_up)
        threading.Thread(target=PL.load, name="gazetteer", daemon=True).start()  # ~3 s; first use waits
        audit.start()
        await hub.start()
        checkpoints = CheckpointScheduler(store).start()  # sign the log's tree head on a schedule (ledger)
        try:
            yield
        finally:
            await checkpoints.stop()
            await hub.stop()
            audit.stop()

    app = FastAPI(title="TruceWatch", version="1.0.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Ceasefire monitoring and verification API. Bearer tokens (`tw_<id>.<secret>`); "
                              "roles administrator, analyst, monitor, liaison, public.")
    app.state.tokens = tokens
    app.state.audit = audit
    app.state.views = views
    app.state.config = config
    app.state.store = store
    app.add_middleware(AuditMiddleware, audit=audit)
    app.add_middleware(LimitsMiddleware, max_body=config.max_body_bytes)
    app.add_middleware(TimeAliasMiddleware)  # t_from/t_to renamed to from/to before routing
    app.add_middleware(SX.SecurityHeadersMiddleware)  # outermost: refusals get the headers too
    app.router.route_class = SX.StrictJSONRoute  # bodies: NaN/Infinity are 422, not 500

    # ------------------------------------------------------------- auth deps
    async def _authenticate(request: Request, allow_query: bool = False) -> Principal:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token and allow_query:
            token = request.query_params.get("access_token", "")
        if not token:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        try:
            # Cached token rows are checked on the event loop (microseconds); a
            # miss reads the database on a worker thread.
            p = tokens.cached(token)
            if p is None:
                p = await run_in_threadpool(tokens.authenticate, token)
        except AuthError as exc:
            raise HTTPException(401, exc.message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
        request.state.principal = p
        return p

    def require(*roles: Role, allow_query: bool = False) -> Callable[[Request], Awaitable[Principal]]:
        async def dep(request: Request) -> Principal:
            p = await _authenticate(request, allow_query)
            if p.role not in roles:
                raise HTTPException(403, f"role {p.role.value} may not use this endpoint")
            return p

        return dep

    Any_ = Depends(require(*ALL))
    Internal = Depends(require(*INTERNAL))
    Admin = Depends(require(Role.ADMINISTRATOR))
    Findings = Depends(require(Role.ADMINISTRATOR, Role.ANALYST, Role.LIAISON, Role.PUBLIC))

    def violation_filter(
        p: Principal,
        t_from: Annotated[datetime | None, Query(alias="from", description="ISO 8601; inclusive")] = None,
        t_to: Annotated[datetime | None, Query(alias="to", description="ISO 8601; exclusive")] = None,
        bbox: Annotated[str | None, Query(max_length=200, description="min_lon,min_lat,max_lon,max_lat")] = None,
        rule: Rule | None = None,
        party: Annotated[str | None, Query(pattern=PARTY_RE)] = None,
        status: Annotated[list[Status] | None, Query()] = None,
        min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
        limit: int | None = None,
        offset: int = 0,
        max_limit: int = config.max_page,
    ) -> ViolationFilter:
        if p.role == Role.LIAISON and party is not None and party != p.party:
            raise HTTPException(403, f"a liaison of {p.party} sees only findings that concern {p.party}")
        return ViolationFilter(t_from=_ts(t_from), t_to=_ts(t_to), bbox=_bbox(bbox),
                               rule=rule.value if rule else None, party=party,
                               status=[s.value for s in status] if status else None, min_confidence=min_confidence,
                               limit=min(limit or config.default_page, max_limit), offset=offset)

    Limit = Annotated[int | None, Query(ge=1, le=config.max_page)]
    Offset = Annotated[int, Query(ge=0, le=10_000_000)]
    # one naming for time parameters: from/to (t_from/t_to still accepted: service.params); bounded 1970..2200
    TFrom = Annotated[SX.Instant | None, Query(alias="from", description="ISO 8601; inclusive; 1970..2200 (alias: t_from)")]
    TTo = Annotated[SX.Instant | None, Query(alias="to", description="ISO 8601; exclusive; 1970..2200 (alias: t_to)")]
    BBox = Annotated[str | None, Query(max_length=200, description="min_lon,min_lat,max_lon,max_lat")]
    Party = Annotated[str | None, Query(pattern=PARTY_RE)]
    Conf = Annotated[float | None, Query(ge=0, le=1)]
    StatusQ = Annotated[list[Status] | None, Query()]
    ViolationId = Annotated[str, PathParam(min_length=1, max_length=200)]

    # ----------------------------------------------------------------- routes
    @app.get(f"{API}/health", tags=["meta"])
    def health() -> dict[str, Any]:
        return {"ok": True, "time": time.time()}

    @app.get(f"{API}/me", tags=["meta"])
    def me(p: Principal = Any_) -> dict[str, Any]:
        return {"token_id": p.token_id, "role": p.role.value, "party": p.party, "source_ids": list(p.source_ids),
                "label": p.label}

    @app.get(f"{API}/extensions", tags=["meta"])
    def extensions(p: Principal = Findings) -> dict[str, Any]:
        """The registries: source adapters, rules, export formats, report sections (plugins marked)."""
        return {"sources": SR.describe(), "rules": RR.describe(), "exports": XP.describe(),
                "report_sections": RS.describe()}

    @app.get(f"{API}/agreement", tags=["map"])
    def agreement_layers(p: Principal = Any_) -> dict[str, Any]:
        nonlocal agreement_geojson
        if agreement is None:
            raise HTTPException(404, "this deployment was started without an agreement")
        if agreement_geojson is None:
            agreement_geojson = agreement.to_geojson()
            agreement_geojson["properties"] = {"id": agreement.id, "name": agreement.name,
                                               "parties": [{"id": k, "name": v} for k, v in party_names.items()]}
        return agreement_geojson

    # ---- observations
    @app.post(f"{API}/observations", tags=["ingest"])
    def ingest(body: IngestBody, background: BackgroundTasks,
               p: Principal = Depends(require(Role.ADMINISTRATOR, Role.MONITOR))) -> dict[str, Any]:
        if len(body.observations) > config.max_batch:
            raise HTTPException(413, f"observations: {len(body.observations)} in one batch; at most {config.max_batch}")
        good: list[Observation] = []
        errors: list[dict[str, str]] = []
        for i, raw in enumerate(body.observations):
            rec = str(raw.get("id") or f"#{i}")[:200] if isinstance(raw, dict) else f"#{i}"
            try:
                o = Observation.model_validate(raw)
            except ValidationError as exc:
                errors += [{"record": rec, "field": f, "message": m} for f, m in _pydantic_errors(exc)]
                continue
            if p.role == Role.MONITOR and o.source_id not in p.source_ids:
                errors.append({"record": rec, "field": "source_id",
                               "message": f"this token may not submit for source {o.source_id!r}"})
                continue
            good.append(o)
        result: dict[str, Any] = {"accepted": 0, "duplicates": 0, "duplicate_ids": [], "errors": []}
        accepted_ids: list[str] = []
        if good:
            try:
                result = I.ingest(store, good, require_signatures=config.require_signatures)
            except I.Unavailable as exc:
                raise HTTPException(503, str(exc)) from None
            accepted_ids = [o.id for o in good]
        result["errors"] = errors + list(result.get("errors", []))
        if run_pipeline is not None and accepted_ids and result.get("accepted"):
            background.add_task(_run_pipeline, accepted_ids)
        return result

    def _run_pipeline(ids: list[str]) -> None:
        with pipeline_lock:
            run_pipeline(store, agreement, ids)  # type: ignore[misc]
        hub = state.get("hub")
        if hub is not None:
            hub.wake()

    @app.get(f"{API}/observations", tags=["query"])
    def observations(p: Principal = Internal, t_from: TFrom = None, t_to: TTo = None, bbox: BBox = None,
                     kind: Annotated[list[str] | None, Query(max_length=20)] = None,
                     source_id: Annotated[str | None, Query(max_length=200)] = None,
                     limit: Limit = None) -> list[dict[str, Any]]:
        obs = store.query_observations(t_from=_ts(t_from), t_to=_ts(t_to), bbox=_bbox(bbox), kinds=kind,
                                       source_id=source_id, limit=limit or config.default_page)
        return [o.model_dump(mode="json") for o in obs]

    # ---- events
    @app.get(f"{API}/events", tags=["query"])
    def events(p: Principal = Internal, t_from: TFrom = None, t_to: TTo = None, bbox: BBox = None,
               min_confidence: Conf = None, kind: Annotated[str | None, Query(max_length=40)] = None,
               limit: Limit = None, offset: Offset = 0) -> list[dict[str, Any]]:
        evs = reads.events(t_from=_ts(t_from), t_to=_ts(t_to), bbox=_bbox(bbox), min_confidence=min_confidence,
                           kind=kind, limit=limit or config.default_page, offset=offset)
        return [e.model_dump(mode="json") for e in evs]

    # ---- violations
    def _filter(p: Principal, t_from: datetime | None, t_to: datetime | None, bbox: str | None, rule: Rule | None,
                party: str | None, status: list[Status] | None, min_confidence: float | None, limit: int | None,
                offset: int, max_limit: int) -> ViolationFilter:
        return violation_filter(p, t_from, t_to, bbox, rule, party, status, min_confidence, limit, offset, max_limit)

    @app.get(f"{API}/violations", tags=["query"], response_class=Response,
             responses={200: {"description": "findings in the caller's view, oldest first",
                              "content": {"application/json": {"schema": {"type": "array",
                                                                          "items": {"type": "object"}}}}}})
    def violations(p: Principal = Findings, t_from: TFrom = None, t_to: TTo = None, bbox: BBox = None,
                   rule: Rule | None = None, party: Party = None, status: StatusQ = None,
                   min_confidence: Conf = None, limit: Limit = None, offset: Offset = 0) -> Response:
        f = _filter(p, t_from, t_to, bbox, rule, party, status, min_confidence, limit, offset, config.max_page)
        # hot path: rows are plain JSON-safe dicts; skip response-model validation
        return Response(views.query_json(p, f), media_type="application/json")

    @app.get(f"{API}/violations/{{violation_id}}", tags=["query"])
    def violation(violation_id: ViolationId, p: Principal = Findings) -> dict[str, Any]:
        v = views.get(p, violation_id)
        if v is None:
            raise HTTPException(404, f"{violation_id}: no such finding in your view")
        return v

    @app.get(f"{API}/violations/{{violation_id}}/transitions", tags=["workflow"])
    def violation_transitions(violation_id: ViolationId,
                              p: Principal = Depends(require(Role.ADMINISTRATOR, Role.ANALYST, Role.LIAISON))
                              ) -> list[dict[str, Any]]:
        if views.get(p, violation_id) is None:
            raise HTTPException(404, f"{violation_id}: no such finding in your view")
        out = [t.model_dump(mode="json") for t in store.transitions(violation_id)]
        if p.role == Role.LIAISON:  # the other party's and the mission's staff names stay internal
            for t in out:
                if not t["actor"].startswith(f"liaison:{p.party}:"):
                    t["actor"] = t["actor"].split(":")[0]
        return out

    @app.get(f"{API}/violations/{{violation_id}}/evidence", tags=["query"])
    def violation_evidence(violation_id: ViolationId,
                           p: Principal = Depends(require(Role.ADMINISTRATOR, Role.ANALYST, Role.LIAISON))
                           ) -> dict[str, Any]:
        v = views.get(p, violation_id)
        if v is None:
            raise HTTPException(404, f"{violation_id}: no such finding in your view")
        ids = [str(e.get("observation_id")) for e in views.raw(violation_id)["evidence"]]  # type: ignore[index]
        obs = {o.id: o for o in store.get_observations(ids)}
        items = []
        for e, shown in zip(views.raw(violation_id)["evidence"], v["evidence"], strict=True):  # type: ignore[index]
            o = obs.get(str(e.get("observation_id")))
            item: dict[str, Any] = {"evidence": shown,
                                    "observation": views.render_observation(p, o.model_dump(mode="json")) if o else None}
            try:
                item["ledger"] = I.proof(store, str(e.get("observation_id")))
            except I.Unavailable as exc:
                item["ledger"] = {"available": False, "verified": None, "reason": str(exc)}
            except Exception as exc:
                item["ledger"] = {"available": True, "verified": False, "reason": f"{type(exc).__name__}: {exc}"}
            items.append(item)
        return {"violation": v, "items": items}

    def _apply(violation_id: str, to: Status, p: Principal, reason: str, counter: list[str] | None = None) -> Any:
        try:
            I.transition(store, violation_id, to, actor=p.actor, reason=reason, counter_evidence=counter)
        except I.Refused as exc:
            raise HTTPException(409, str(exc)) from None
        except I.Unavailable as exc:
            raise HTTPException(503, str(exc)) from None
        hub = state.get("hub")
        if hub is not None:
            hub.wake()
        return views.get(p, violation_id)

    @app.post(f"{API}/violations/{{violation_id}}/transitions", tags=["workflow"])
    def post_transition(violation_id: ViolationId, body: TransitionBody, p: Principal = Internal) -> dict[str, Any]:
        if views.raw(violation_id) is None:
            raise HTTPException(404, f"{violation_id}: no such finding")
        return _apply(violation_id, body.to_status, p, body.reason)

    @app.post(f"{API}/violations/{{violation_id}}/contest", tags=["workflow"])
    def contest(violation_id: ViolationId, body: ContestBody,
                p: Principal = Depends(require(Role.LIAISON, Role.ADMINISTRATOR))) -> dict[str, Any]:
        v = views.get(p, violation_id)
        if v is None:
            raise HTTPException(404, f"{violation_id}: no such finding in your view")
        if p.role == Role.LIAISON and v["party"] != p.party:
            raise HTTPException(403, f"only the liaison of the party it is attributed to ({v['party']}) may contest it")
        return _apply(violation_id, Status.CONTESTED, p, body.reason, body.counter_evidence)

    # ---- sources and keys
    @app.get(f"{API}/sources", tags=["sources"])
    def sources(p: Principal = Depends(require(Role.ADMINISTRATOR, Role.ANALYST, Role.MONITOR))) -> list[dict[str, Any]]:
        out = [s.model_dump(mode="json") for s in store.list_sources()]
        if p.role == Role.MONITOR:
            out = [s for s in out if s["id"] in p.source_ids]
        return out

    @app.post(f"{API}/sources", tags=["sources"])
    def add_sources(body: list[dict[str, Any]], p: Principal = Admin) -> dict[str, Any]:
        good, errors = [], []
        for i, raw in enumerate(body[:10_000]):
            rec = str(raw.get("id") or f"#{i}")[:200] if isinstance(raw, dict) else f"#{i}"
            try:
                good.append(Source.model_validate(raw))
            except ValidationError as exc:
                errors += [{"record": rec, "field": f, "message": m} for f, m in _pydantic_errors(exc)]
        if good:
            store.add_sources(good)
        return {"registered": [s.id for s in good], "errors": errors}

    @app.put(f"{API}/sources/{{source_id}}/key", tags=["sources"])
    def set_key(source_id: Annotated[str, PathParam(min_length=1, max_length=200)], body: KeyBody,
                p: Principal = Admin) -> dict[str, Any]:
        s = store.get_source(source_id)
        if s is None:
            raise HTTPException(404, f"{source_id}: no such source")
        try:  # a key is trusted only once the mission certifies it in the log (trucewatch.ledger.certs)
            rotate_key(store, source_id, body.public_key, signer=mission_signer(store, create=False))
        except (KeyRegistryError, LogError) as exc:
            raise HTTPException(409, f"public_key: {exc}") from None
        return store.get_source(source_id).model_dump(mode="json")  # type: ignore[union-attr]

    @app.get(f"{API}/layers/sensors", tags=["map"])
    def sensors(p: Principal = Internal) -> dict[str, Any]:
        feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                  "properties": {"id": s.id, "kind": s.kind.value, "party": s.party, "name": s.name}}
                 for s in store.list_sources() if s.lat is not None and s.lon is not None]
        return {"type": "FeatureCollection", "features": feats}

    @app.get(f"{API}/layers/coverage", tags=["map"])
    def coverage(p: Principal = Internal) -> dict[str, Any]:
        feats = []
        for s in store.list_sources():
            geom = s.attributes.get("coverage")
            if isinstance(geom, dict) and "type" in geom:
                feats.append({"type": "Feature", "geometry": geom.get("geometry", geom) if geom.get("type") == "Feature"
                              else geom, "properties": {"source_id": s.id, "kind": s.kind.value}})
        extra = store.get_setting("drone_coverage")
        if isinstance(extra, dict) and extra.get("type") == "FeatureCollection":
            feats += list(extra.get("features", []))
        return {"type": "FeatureCollection", "features": feats}

    # ---- air and sea layers (issue 11): full for internal staff, published (delayed, aggregated) otherwise
    LayerReader = Depends(require(Role.ADMINISTRATOR, Role.ANALYST, Role.LIAISON, Role.PUBLIC))
    LayerFrom = Annotated[SX.Instant | None, Query(alias="from", description="ISO 8601; inclusive; 1970..2200")]
    LayerTo = Annotated[SX.Instant | None, Query(alias="to", description="ISO 8601; exclusive; 1970..2200")]
    MaxPoints = Annotated[int, Query(ge=2, le=1000, description="vertices per track line at most (thinned evenly)")]
    geojson_doc: dict[int | str, dict[str, Any]] = {
        200: {"description": "GeoJSON FeatureCollection with `properties`, `summary` and `problems` members",
              "content": {"application/geo+json": {"schema": {"type": "object"}}}}}

    def _layer_window(p: Principal, t_from: datetime | None, t_to: datetime | None, bbox: str | None,
                      limit: int | None, max_points: int) -> tuple[L.Window, bool]:
        def unix(name: str, v: datetime | None) -> float | None:
            try:
                return _ts(v)
            except (OverflowError, ValueError):
                raise HTTPException(422, f"{name}: {v} is outside the years 1-9999 in UTC") from None

        a, b = unix("from", t_from), unix("to", t_to)
        if a is not None and b is not None and a >= b:
            raise HTTPException(422, f"from: {t_from.isoformat()} is not before to ({t_to.isoformat()})")  # type: ignore[union-attr]
        full = p.role in INTERNAL
        if not full:  # the published view follows the public rule: nothing newer than the delay
            cutoff = time.time() - config.public_delay_s
            b = cutoff if b is None else min(b, cutoff)
        return L.Window(a, b, _bbox(bbox), limit or config.default_page, max_points), full

    def _geojson(fc: dict[str, Any]) -> Response:
        try:
            body = json.dumps(fc, separators=(",", ":"), allow_nan=False, default=str)
        except ValueError:  # a NaN or infinity in stored attributes: null, as JSON has no such number
            body = json.dumps(_finite(fc), separators=(",", ":"), default=str)
        return Response(body, media_type="application/geo+json")

    @app.get(f"{API}/layers/air", tags=["map"], response_class=Response, responses=geojson_doc)
    def air_layer(p: Principal = LayerReader, t_from: LayerFrom = None, t_to: LayerTo = None, bbox: BBox = None,
                  limit: Limit = None, max_points: MaxPoints = 100) -> Response:
        """Air tracks, their origins and launch areas with launched/intercepted per weapon type.
        Liaisons and the public get the published view: delayed, launch areas and counts only."""
        w, full = _layer_window(p, t_from, t_to, bbox, limit, max_points)
        return _geojson(L.air_layer(store, agreement, w, full))

    @app.get(f"{API}/layers/places", tags=["map"], response_class=Response, responses=geojson_doc)
    def places_layer(p: Principal = Any_, bbox: BBox = None,
                     min_population: Annotated[int, Query(ge=0, le=100_000_000)] = 100_000,
                     villages: Annotated[bool, Query(description="include villages (often without a population)")] = False,
                     limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> Response:
        """Settlements for map labels from the bundled gazetteer (GeoNames, CC BY 4.0), biggest
        first: a map asks for cities at low zoom, towns and villages only when zoomed in."""
        return _geojson(PL.load().layer(_bbox(bbox), min_population, limit, villages))

    @app.get(f"{API}/layers/sea", tags=["map"], response_class=Response, responses=geojson_doc)
    def sea_layer(p: Principal = LayerReader, t_from: LayerFrom = None, t_to: LayerTo = None, bbox: BBox = None,
                  limit: Limit = None) -> Response:
        """Vessel incidents (barred vessel in zone, AIS gap with its gap line, spoofing, loitering).
        Liaisons and the public get the published view: delayed, counts per zone or 0.5° cell."""
        w, full = _layer_window(p, t_from, t_to, bbox, limit, 2)
        return _geojson(L.sea_layer(store, agreement, w, full))

    # ---- ledger
    @app.get(f"{API}/ledger/checkpoint", tags=["ledger"])
    def ledger_checkpoint(p: Principal = Any_) -> dict[str, Any]:
        try:
            return I.checkpoint(store)
        except I.Unavailable as exc:
            raise HTTPException(503, str(exc)) from None
        except I.Refused as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get(f"{API}/ledger/proofs/{{observation_id}}", tags=["ledger"])
    def ledger_proof(observation_id: Annotated[str, PathParam(min_length=1, max_length=200)],
                     p: Principal = Internal) -> dict[str, Any]:
        try:
            return I.proof(store, observation_id)
        except I.Unavailable as exc:
            raise HTTPException(503, str(exc)) from None

    # ---- exports
    @app.get(f"{API}/exports/{{fmt}}", tags=["exports"], response_class=Response,
             responses={200: {"content": {"application/geo+json": {}, "application/geopackage+sqlite3": {},
                                          "text/csv": {}}}})
    def export(fmt: ExportFormat, p: Principal = Findings, t_from: TFrom = None, t_to: TTo = None, bbox: BBox = None,
               rule: Rule | None = None, party: Party = None, status: StatusQ = None, min_confidence: Conf = None,
               limit: Annotated[int | None, Query(ge=1, le=100_000)] = None) -> Response:
        f = _filter(p, t_from, t_to, bbox, rule, party, status, min_confidence, limit or 100_000, 0, 100_000)
        rows = views.query(p, f)  # the caller's view: the same role filter and redaction as /violations
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        mod = XP.module(fmt.value)
        body = XP.render(fmt.value, rows, export_ctx)
        return Response(body, media_type=mod.MEDIA_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="trucewatch-{stamp}.{mod.EXT}"'})

    # ---- daily report: one per view (role and party), from the same rows as /violations
    report_locks: dict[tuple[str, str], threading.Lock] = {}

    def _report_view(p: Principal) -> tuple[str, str | None, str]:
        """(role, party, cache key) of the report ``p`` gets: the view, never the token, decides."""
        if p.role in INTERNAL:
            return "analyst", None, "analyst"
        if p.role == Role.LIAISON:
            return "liaison", p.party, f"liaison-{p.party}"
        return "public", None, "public"

    def _report_version(role: str, end: float) -> tuple[Any, ...]:
        """What a view's report of the day ending at ``end`` is built from: the findings of the
        30 days it shows (count, last update), their workflow steps (for the public only
        those older than the delay, so a finding passing its delay makes a new report) and,
        for the analyst's source sections, the day's observations."""
        return reads.report_version(end - 30 * 86400, end,
                                    steps_before=time.time() - config.public_delay_s if role == "public" else None,
                                    obs_from=end - 86400 if role == "analyst" else None)

    def _report(day: date, p: Principal, lang: str = "en") -> dict[str, str]:
        """Build (then reuse while its data is unchanged) the day's report in ``p``'s view and ``lang``."""
        if not 1970 <= day.year <= 9998:  # the report reaches back 31 days; Unix time starts in 1970
            raise HTTPException(422, f"day: {day.isoformat()} is outside the years 1970-9998 a report can cover")
        hh, mm = (int(x) for x in config.mechanism.daily_cutoff.split(":"))  # the mission's cut-off (UTC)
        cutoff_ts = (datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hh, minutes=mm)).timestamp()
        now = time.time()
        if p.role == Role.PUBLIC and now < cutoff_ts + config.public_delay_s:
            raise HTTPException(404, f"the report of {day.isoformat()} is published "
                                     f"{config.public_delay_s:.0f} s after its {config.mechanism.daily_cutoff} UTC cut-off")
        if agreement is None:
            raise HTTPException(404, "this deployment was started without an agreement")
        role, party, vkey = _report_view(p)
        key = (day.isoformat(), vkey if lang == "en" else f"{vkey}.{lang}")  # never shared across views
        with report_locks.setdefault(key, threading.Lock()):
            version = _report_version(role, cutoff_ts)
            cached = report_cache.get(key)
            if cached is not None and cached[0] == version:
                return cached[1]
            try:
                paths = I.daily_report(store, agreement, day, report_dir / key[0] / key[1], role=role, party=party,
                                       views=views, cutoff=config.mechanism.daily_cutoff, lang=lang)
            except I.Unavailable as exc:
                raise HTTPException(503, str(exc)) from None
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
            except Exception as exc:  # the renderer's bug: say so without a traceback
                raise HTTPException(500, f"the daily report renderer failed: {type(exc).__name__}: {exc}") from None
            report_cache[key] = (version, paths)
            return paths

    Reader = Depends(require(Role.ADMINISTRATOR, Role.ANALYST, Role.LIAISON, Role.PUBLIC))

    Lang = Annotated[ReportLang, Query(description="report language: en, uk (Ukrainian) or ru (Russian); "
                                                   "labels are translated, free text is left as written")]

    @app.get(f"{API}/reports/daily/{{day}}", tags=["reports"])
    def daily(day: SX.Day, p: Principal = Reader, lang: Lang = ReportLang.EN) -> dict[str, Any]:
        paths = _report(day, p, lang.value)
        role, party, _key = _report_view(p)
        q = "" if lang == ReportLang.EN else f"?lang={lang.value}"
        return {"date": day.isoformat(), "view": f"{role}:{party}" if party else role, "lang": lang.value,
                "files": {k: f"{API}/reports/daily/{day.isoformat()}/{k}{q}" for k in paths}}

    @app.get(f"{API}/reports/daily/{{day}}/{{fmt}}", tags=["reports"], response_class=FileResponse)
    def daily_file(day: SX.Day, fmt: ReportFormat, p: Principal = Reader, lang: Lang = ReportLang.EN) -> FileResponse:
        paths = _report(day, p, lang.value)
        path = paths.get(fmt.value)
        if path is None or not Path(path).is_file():
            raise HTTPException(404, f"the report renderer made no {fmt.value} file for {day.isoformat()}")
        mt = "application/pdf" if fmt == ReportFormat.PDF else "text/html; charset=utf-8"
        suffix = "" if lang == ReportLang.EN else f".{lang.value}"
        return FileResponse(path, media_type=mt, filename=f"trucewatch-daily-{day.isoformat()}{suffix}.{fmt.value}")

    # ---- alerts
    @app.get(f"{API}/alerts/stream", tags=["alerts"], response_class=Response,
             responses={200: {"content": {"text/event-stream": {}}}})
    async def alerts_stream(request: Request,
                            p: Principal = Depends(require(Role.ADMINISTRATOR, Role.ANALYST, Role.LIAISON,
                                                           allow_query=True)),
                            last_event_id: Annotated[int | None, Query(ge=0, le=SX.INT_MAX)] = None) -> Response:
        header_id = request.headers.get("last-event-id")
        since = last_event_id
        if header_id is not None:  # ASCII digits only: "²".isdigit() is True and int() refuses it
            if not (header_id.isascii() and header_id.isdigit() and len(header_id) < 20
                    and int(header_id) <= SX.INT_MAX):
                raise HTTPException(422, f"Last-Event-ID: {header_id[:40]!r} is not an event id (0..2^62)")
            since = int(header_id)
        hub: AlertHub = state["hub"]
        sub = Subscriber(p)
        hub.subscribers.add(sub)

        async def gen() -> AsyncIterator[dict[str, Any]]:
            try:
                yield {"event": "ready", "data": json.dumps({"role": p.role.value, "party": p.party})}
                if since is not None:  # replay what the client missed (at-least-once across reconnects)
                    missed = await asyncio.to_thread(hub.verified_since, since)
                    for seq, at, v in missed:
                        if seq <= hub.cursor and may_alert(p, v):
                            yield _sse(seq, at, views.render(p, v))
                while True:
                    seq, v = await sub.queue.get()
                    yield _sse(seq, time.time(), v)
            finally:
                hub.subscribers.discard(sub)

        return EventSourceResponse(gen(), ping=config.sse_ping_s)

    def _sse(seq: int, at: float, v: dict[str, Any]) -> dict[str, Any]:
        return {"event": "violation.verified", "id": str(seq), "data": json.dumps(alert_payload(seq, at, v))}

    # ---- webhooks (administrator)
    @app.post(f"{API}/webhooks", tags=["alerts"])
    def add_webhook(body: WebhookBody, p: Principal = Admin) -> dict[str, Any]:
        if body.role == Role.LIAISON and not body.party:
            raise HTTPException(422, "party: a liaison webhook needs the party it serves")
        try:
            SX.check_webhook_url(body.url, config.webhook_allow_hosts)
        except SX.WebhookTargetError as exc:
            raise HTTPException(422, str(exc)) from None
        wid = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        webhooks.add(id=wid, url=body.url, secret=secret, role=body.role.value, party=body.party,
                     created_at=time.time())
        return {"id": wid, "url": body.url, "role": body.role.value, "party": body.party, "secret": secret}

    @app.get(f"{API}/webhooks", tags=["alerts"])
    def list_webhooks(p: Principal = Admin) -> list[dict[str, Any]]:
        rows = webhooks.all()
        return [{k: r[k] for k in ("id", "url", "role", "party", "created_at", "active")} for r in rows]

    @app.delete(f"{API}/webhooks/{{webhook_id}}", tags=["alerts"])
    def delete_webhook(webhook_id: Annotated[str, PathParam(max_length=40)], p: Principal = Admin) -> dict[str, Any]:
        if not webhooks.deactivate(webhook_id):
            raise HTTPException(404, f"{webhook_id}: no such webhook")
        return {"id": webhook_id, "active": False}

    @app.get(f"{API}/webhooks/{{webhook_id}}/deliveries", tags=["alerts"])
    def deliveries(webhook_id: Annotated[str, PathParam(max_length=40)], p: Principal = Admin) -> list[dict[str, Any]]:
        return [{k: r[k] for k in ("seq", "idempotency_key", "violation_id", "attempts", "next_attempt_at",
                                   "delivered_at", "last_error")} for r in webhooks.deliveries(webhook_id)]

    # ---- tokens and audit (administrator)
    @app.post(f"{API}/tokens", tags=["admin"])
    def create_token(body: TokenBody, p: Principal = Admin) -> dict[str, Any]:
        if body.role == Role.LIAISON and agreement is not None and body.party not in agreement.parties:
            raise HTTPException(422, f"party: {body.party!r} is not a party to the agreement")
        try:
            token, rec = tokens.create(body.role, party=body.party, source_ids=body.source_ids, label=body.label,
                                       ttl_s=body.ttl_s)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return rec | {"token": token}

    @app.get(f"{API}/tokens", tags=["admin"])
    def list_tokens(p: Principal = Admin) -> list[dict[str, Any]]:
        return tokens.list()

    @app.delete(f"{API}/tokens/{{token_id}}", tags=["admin"])
    def revoke_token(token_id: Annotated[str, PathParam(max_length=40)], p: Principal = Admin) -> dict[str, Any]:
        if not tokens.revoke(token_id):
            raise HTTPException(404, f"{token_id}: no such active token")
        return {"id": token_id, "revoked": True}

    @app.get(f"{API}/audit", tags=["admin"])
    def audit_log(p: Principal = Admin, after_seq: Annotated[int, Query(ge=0, le=SX.INT_MAX)] = 0, limit: Limit = None
                  ) -> list[dict[str, Any]]:
        return audit.read(after_seq=after_seq, limit=limit or config.default_page)

    # ---- the mechanism (issue 19): allegations, cases, tasks, replies, holding sites... (service/mechanism.py)
    mech_router, app.state.mechanism = mechanism_router(store, agreement, config, views, require)
    app.include_router(mech_router)

    # ---- dashboard
    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/basemap/{name}.geojson", include_in_schema=False)
    def basemap(name: str) -> Response:
        if name not in ("countries", "land"):
            raise HTTPException(404, "no such basemap layer")
        data = (resources.files("trucewatch.data.geo") / f"{name}.geojson").read_bytes()
        return Response(data, media_type="application/geo+json", headers={"Cache-Control": "max-age=86400"})

    @app.get("/i18n/{lang}.json", include_in_schema=False)
    def labels(lang: ReportLang) -> Response:
        """The label catalogue (trucewatch.i18n) for the dashboard: labels only, no data, no token."""
        return Response(json.dumps(catalogue(lang.value), ensure_ascii=False), media_type="application/json",
                        headers={"Cache-Control": "max-age=3600"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # ---- API docs: Swagger UI and ReDoc from vendored files (offline), a bearer scheme for "Authorize"
    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> Response:
        return Response(_DOCS_HTML, media_type="text/html; charset=utf-8")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> Response:
        return Response(_REDOC_HTML, media_type="text/html; charset=utf-8")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi  # lazy: only built on the first /openapi.json

            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            doc.setdefault("components", {})["securitySchemes"] = {"bearerAuth": {
                "type": "http", "scheme": "bearer", "bearerFormat": "tw_<id>.<secret>",
                "description": "An API token from `trucewatch service token create` or POST /api/v1/tokens."}}
            doc["security"] = [{"bearerAuth": []}]
            for op in doc.get("paths", {}).get(f"{API}/health", {}).values():
                op["security"] = []  # the one route without a token
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(I.Unavailable)
    async def _unavailable(_r: Request, exc: I.Unavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    return app
