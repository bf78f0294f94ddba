"""Deployment settings of the service (one JSON or YAML file, every field optional).

Defaults are the safe ones: signatures required, public findings delayed a
day, small request bodies.  ``load_config(path)`` names the bad field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trucewatch.access.views import DEFAULT_PUBLIC_DELAY_S, DEFAULT_PUBLIC_STATUSES
from trucewatch.errors import TruceWatchError
from trucewatch.mechanism.core import MechanismConfig


class ServiceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Ingest goes through trucewatch.ledger.ingest.ingest_signed; only when
    #: False may unsigned observations be stored directly.
    require_signatures: bool = True
    #: The public sees a finding only this long after it reached a public status.
    public_delay_s: float = Field(default=DEFAULT_PUBLIC_DELAY_S, ge=0)
    #: Statuses a finding may have to be published.
    public_statuses: list[str] = Field(default_factory=lambda: list(DEFAULT_PUBLIC_STATUSES))
    #: Largest request body accepted (bytes); larger bodies get 413.
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    #: Largest ingest batch (observations per request).
    max_batch: int = Field(default=10_000, ge=1)
    default_page: int = Field(default=500, ge=1)
    max_page: int = Field(default=5_000, ge=1)
    #: How often the alert watcher looks for newly verified violations.
    alert_poll_s: float = Field(default=0.1, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1)
    webhook_backoff_s: float = Field(default=1.0, gt=0)
    webhook_backoff_max_s: float = Field(default=300.0, gt=0)
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    #: Host names or CIDR networks a webhook may reach although they are not
    #: public (a mission's own receivers).  Empty: webhooks reach public hosts only.
    webhook_allow_hosts: list[str] = Field(default_factory=list)
    #: Keep-alive comment interval on the SSE stream (proxies drop silent connections).
    sse_ping_s: float = Field(default=15.0, gt=0)
    #: Ignored: audit records are committed before each response (kept so older files load).
    audit_flush_s: float = Field(default=0.25, gt=0)
    #: Optional ``module:function`` called as fn(store, agreement, accepted_ids)
    #: after each ingest (incremental fusion/adjudication), off the request path.
    pipeline: str | None = None
    #: Token cache lifetime; a revoked token stops working within this time.
    token_cache_s: float = Field(default=2.0, ge=0)
    #: The mechanism's deadlines, public allegations, attachment limits... (docs/workflow.md).
    mechanism: MechanismConfig = Field(default_factory=MechanismConfig)


class ConfigError(TruceWatchError, ValueError):
    pass


def load_config(path: str | Path | None) -> ServiceConfig:
    if path is None:
        return ServiceConfig()
    p = Path(path)
    try:
        data: Any = yaml.safe_load(p.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: must be a mapping of settings")
    try:
        return ServiceConfig.model_validate(data)
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{p}: {msgs}") from None
