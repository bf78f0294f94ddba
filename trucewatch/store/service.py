"""The service's tables: API tokens, webhooks and their delivery outbox, and the reads the
API answers directly (events, report versions, the alert watcher's transitions).

Why here: only ``trucewatch.store`` speaks SQL (docs/architecture.md).  The service,
``trucewatch.access`` and the alert hub call these typed methods; the tables come from
migration 0006 (explicit DDL), never from a ``create_all`` at run time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from trucewatch.model import Event, Status
from trucewatch.store import schema as S
from trucewatch.store.store import Store, _row_event


def engine_of(store_or_engine: Store | Engine) -> Engine:
    """The engine behind a Store (callers hold either; tools pass ``store.engine``)."""
    return store_or_engine.engine if isinstance(store_or_engine, Store) else store_or_engine


class TokenRepo:
    """Rows of ``api_tokens`` (the secret is stored as its SHA-256 only; see trucewatch.access.tokens)."""

    def __init__(self, store_or_engine: Store | Engine) -> None:
        self.engine = engine_of(store_or_engine)

    def add(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            c.execute(insert(S.api_tokens).values(**row))

    def revoke(self, token_id: str, at: float) -> bool:
        """Mark an active token revoked; False when there is no such active token."""
        t = S.api_tokens
        with self.engine.begin() as c:
            n = c.execute(update(t).where(t.c.id == token_id, t.c.revoked_at.is_(None)).values(revoked_at=at)).rowcount
        return bool(n)

    def expire(self, token_id: str, at: float) -> None:
        """Set a token's expiry (administration and tests of expiry)."""
        with self.engine.begin() as c:
            c.execute(update(S.api_tokens).where(S.api_tokens.c.id == token_id).values(expires_at=at))

    def all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(S.api_tokens).order_by(S.api_tokens.c.created_at)).mappings().all()
        return [dict(r) for r in rows]

    def get(self, token_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(S.api_tokens).where(S.api_tokens.c.id == token_id)).mappings().first()
        return dict(row) if row is not None else None


class AuditRepo:
    """``audit_log``: group-committed inserts and paged reads."""

    def __init__(self, store_or_engine: Store | Engine) -> None:
        self.engine = engine_of(store_or_engine)

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """All ``rows`` in one transaction (one commit shared by concurrent requests)."""
        with self.engine.begin() as c:
            c.execute(insert(S.audit_log), list(rows))

    def read(self, *, after_seq: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        a = S.audit_log
        with self.engine.connect() as c:
            rows = c.execute(select(a).where(a.c.seq > after_seq).order_by(a.c.seq).limit(limit)).mappings().all()
        return [dict(r) for r in rows]


class WebhookRepo:
    """Webhooks, their durable delivery outbox, and the alert cursor advanced with it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def add(self, *, id: str, url: str, secret: str, role: str, party: str | None, created_at: float) -> None:
        with self.engine.begin() as c:
            c.execute(S.webhooks.insert().values(id=id, url=url, secret=secret, role=role, party=party,
                                                 created_at=created_at, active=1))

    def all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(S.webhooks)).mappings().all()]

    def active(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(select(S.webhooks).where(S.webhooks.c.active == 1)).mappings().all()]

    def deactivate(self, webhook_id: str) -> bool:
        with self.engine.begin() as c:
            n = c.execute(S.webhooks.update().where(S.webhooks.c.id == webhook_id).values(active=0)).rowcount
        return bool(n)

    def deliveries(self, webhook_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        D = S.webhook_deliveries
        with self.engine.connect() as c:
            rows = c.execute(select(D).where(D.c.webhook_id == webhook_id).order_by(D.c.seq).limit(limit)).mappings()
            return [dict(r) for r in rows]

    def enqueue(self, deliveries: Sequence[dict[str, Any]], *, cursor_key: str, cursor: int) -> None:
        """Write ``deliveries`` into the outbox and advance the alert cursor, in one transaction
        (a crash cannot lose an alert).  A delivery already there (same webhook and idempotency
        key) is skipped, not an error."""
        with self.engine.begin() as c:
            for d in deliveries:
                with contextlib.suppress(IntegrityError), c.begin_nested():
                    c.execute(insert(S.webhook_deliveries).values(**d))
            c.execute(S.settings.delete().where(S.settings.c.key == cursor_key))
            c.execute(insert(S.settings).values(key=cursor_key, value=cursor))

    def next_due(self, max_attempts: int) -> float | None:
        D = S.webhook_deliveries
        with self.engine.connect() as c:
            v = c.execute(select(D.c.next_attempt_at).where(D.c.delivered_at.is_(None), D.c.attempts < max_attempts)
                          .order_by(D.c.next_attempt_at).limit(1)).scalar()
        return None if v is None else float(v)

    def due(self, now: float, max_attempts: int, limit: int = 50) -> list[dict[str, Any]]:
        """Undelivered deliveries due at ``now`` to active webhooks, with the webhook's url and secret."""
        D, W = S.webhook_deliveries, S.webhooks
        with self.engine.connect() as c:
            rows = c.execute(select(D, W.c.url, W.c.secret).join(W, W.c.id == D.c.webhook_id)
                             .where(D.c.delivered_at.is_(None), D.c.next_attempt_at <= now,
                                    D.c.attempts < max_attempts, W.c.active == 1)
                             .order_by(D.c.seq).limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    def record_attempts(self, results: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """``(seq, values)`` per delivery attempt (attempts, delivered_at or next_attempt_at, last_error)."""
        D = S.webhook_deliveries
        with self.engine.begin() as c:
            for seq, values in results:
                c.execute(update(D).where(D.c.seq == seq).values(**values))


class ServiceReads:
    """Reads the API answers straight from the core tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def events(self, *, t_from: float | None, t_to: float | None, bbox: tuple[float, float, float, float] | None,
               min_confidence: float | None, kind: str | None, limit: int, offset: int) -> list[Event]:
        """Events in the window (bbox on lon/lat), oldest first, one page."""
        E = S.events
        q = select(E)
        if t_from is not None:
            q = q.where(E.c.t >= t_from)
        if t_to is not None:
            q = q.where(E.c.t < t_to)
        if bbox is not None:
            q = q.where(E.c.lon.between(bbox[0], bbox[2]), E.c.lat.between(bbox[1], bbox[3]))
        if min_confidence is not None:
            q = q.where(E.c.confidence >= min_confidence)
        if kind:
            q = q.where(E.c.kind == kind)
        q = q.order_by(E.c.t, E.c.id).offset(offset).limit(limit)
        with self.engine.connect() as c:
            rows = c.execute(q).mappings().all()
        return [_row_event(r) for r in rows]

    def report_version(self, t_from: float, t_to: float, *, steps_before: float | None,
                       obs_from: float | None) -> tuple[Any, ...]:
        """What a report over findings in [t_from, t_to) is built from: (count, last update) of the
        findings, (count, last seq) of their workflow steps (only those at or before
        ``steps_before`` when given), and with ``obs_from`` (count, last seq) of the observations
        in [obs_from, t_to).  Equal tuples mean an unchanged report."""
        V, T, Obs = S.violations, S.transitions, S.observations
        q = select(func.count(), func.max(V.c.updated_at)).where(V.c.t >= t_from, V.c.t < t_to)
        qt = (select(func.count(), func.max(T.c.seq)).select_from(T.join(V, V.c.id == T.c.violation_id))
              .where(V.c.t >= t_from, V.c.t < t_to))
        if steps_before is not None:
            qt = qt.where(T.c.at <= steps_before)
        with self.engine.connect() as c:
            version: tuple[Any, ...] = (*c.execute(q).one(), *c.execute(qt).one())
            if obs_from is not None:
                qo = select(func.count(), func.max(Obs.c.seq)).where(Obs.c.t >= obs_from, Obs.c.t < t_to)
                version += tuple(c.execute(qo).one())
        return version

    def observation_time_range(self, ids: Sequence[str]) -> tuple[float, float] | None:
        """(earliest, latest) time of the observations ``ids`` (first 5,000), or None when none is stored."""
        O = S.observations  # noqa: E741
        with self.engine.connect() as c:
            lo, hi = c.execute(select(func.min(O.c.t), func.max(O.c.t)).where(O.c.id.in_(list(ids)[:5000]))).one()
        return None if lo is None else (float(lo), float(hi))

    def last_transition_seq(self) -> int:
        with self.engine.connect() as c:
            top = c.execute(select(S.transitions.c.seq).order_by(S.transitions.c.seq.desc()).limit(1)).scalar()
        return int(top or 0)

    def verified_since(self, after_seq: int, limit: int = 1000) -> list[tuple[int, str, float]]:
        """(seq, violation id, at) of steps to ``verified`` after ``after_seq``, oldest first."""
        T = S.transitions
        with self.engine.connect() as c:
            rows = c.execute(select(T.c.seq, T.c.violation_id, T.c.at)
                             .where(T.c.seq > after_seq, T.c.to_status == Status.VERIFIED.value)
                             .order_by(T.c.seq).limit(limit)).all()
        return [(int(s), str(v), float(a)) for s, v, a in rows]

