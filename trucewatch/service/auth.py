"""Roles and bearer tokens.

A token reads ``tw_<id>.<secret>``; only SHA-256 of the secret is stored, so a
copy of the database does not give access.  The secret has 256 bits of
entropy, which is why a fast hash is enough here (no password stretching).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, insert, select, update

from trucewatch.errors import TruceWatchError
from trucewatch.store import schema as S


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    ANALYST = "analyst"
    MONITOR = "monitor"
    LIAISON = "liaison"
    PUBLIC = "public"


#: Roles that see internal (non-public) data; their every access is audited.
INTERNAL_ROLES = {Role.ADMINISTRATOR, Role.ANALYST, Role.MONITOR, Role.LIAISON}


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: Role
    party: str | None = None
    source_ids: tuple[str, ...] = field(default_factory=tuple)
    label: str = ""

    @property
    def actor(self) -> str:
        """Name recorded in workflow transitions."""
        who = f"{self.role.value}:{self.party}" if self.party else self.role.value
        return f"{who}:{self.token_id}"


class AuthError(TruceWatchError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_token(token: str) -> tuple[str, str]:
    if not token.startswith("tw_") or "." not in token or len(token) > 200:
        raise AuthError("malformed token")
    tid, _, secret = token[3:].partition(".")
    if not tid or not secret:
        raise AuthError("malformed token")
    return tid, secret


class TokenStore:
    """Create, check and revoke tokens; checks are cached briefly (hot path)."""

    def __init__(self, engine: Engine, cache_s: float = 2.0) -> None:
        self.engine = engine
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def create(self, role: Role | str, *, party: str | None = None, source_ids: list[str] | None = None,
               label: str = "", ttl_s: float | None = None) -> tuple[str, dict[str, Any]]:
        """Return (token, record); the token is shown once and never stored."""
        role = Role(role)
        if role == Role.LIAISON and not party:
            raise ValueError("party: a liaison token needs the party it speaks for")
        if role != Role.LIAISON and party:
            raise ValueError("party: only a liaison token names a party")
        if role == Role.MONITOR and not source_ids:
            raise ValueError("source_ids: a monitor token needs the sources it may submit for")
        tid = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        now = time.time()
        row = {"id": tid, "secret_hash": _hash(secret), "role": role.value, "party": party,
               "source_ids": list(source_ids or []), "label": label, "created_at": now,
               "expires_at": now + ttl_s if ttl_s else None, "revoked_at": None}
        with self.engine.begin() as c:
            c.execute(insert(S.api_tokens).values(**row))
        return f"tw_{tid}.{secret}", _public(row)

    def revoke(self, token_id: str) -> bool:
        with self.engine.begin() as c:
            n = c.execute(update(S.api_tokens).where(S.api_tokens.c.id == token_id,
                                                     S.api_tokens.c.revoked_at.is_(None))
                          .values(revoked_at=time.time())).rowcount
        with self._lock:
            self._cache.pop(token_id, None)
        return bool(n)

    def list(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(S.api_tokens).order_by(S.api_tokens.c.created_at)).mappings().all()
        return [_public(dict(r)) for r in rows]

    def _row(self, tid: str) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(tid)
        if hit is not None and now - hit[0] < self.cache_s:
            return hit[1]
        with self.engine.connect() as c:
            row = c.execute(select(S.api_tokens).where(S.api_tokens.c.id == tid)).mappings().first()
        row = dict(row) if row is not None else None
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[tid] = (now, row)
        return row

    def cached(self, token: str) -> Principal | None:
        """The principal when the token's row is in the cache (no database), else None.

        Raises AuthError like ``authenticate`` for a malformed, forged, revoked or
        expired token.  Used on the event loop so that most requests need no
        worker thread for authentication.
        """
        tid, secret = parse_token(token)
        with self._lock:
            hit = self._cache.get(tid)
        if hit is None or time.monotonic() - hit[0] >= self.cache_s:
            return None
        return _check(tid, secret, hit[1])

    def authenticate(self, token: str) -> Principal:
        """Check a token.  Token rows are cached ``cache_s`` seconds (hash, role,
        expiry, revocation): a revocation through this process (``revoke``) is
        effective at once, one made by another process (``trucewatch tokens
        revoke``) within ``cache_s``.  Expiry is checked on every request."""
        tid, secret = parse_token(token)
        return _check(tid, secret, self._row(tid))


def _check(tid: str, secret: str, row: Any) -> Principal:
    """Principal for a token row, or AuthError (shared by the cached and the database path)."""
    # Compare even when the id is unknown so timing does not tell ids apart.
    expected = row["secret_hash"] if row else "0" * 64
    if not hmac.compare_digest(expected, _hash(secret)) or row is None:
        raise AuthError("invalid token")
    if row["revoked_at"] is not None:
        raise AuthError("token revoked")
    if row["expires_at"] is not None and row["expires_at"] <= time.time():
        raise AuthError("token expired")
    return Principal(token_id=tid, role=Role(row["role"]), party=row["party"],
                     source_ids=tuple(row["source_ids"] or ()), label=row["label"] or "")


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "role", "party", "source_ids", "label", "created_at", "expires_at",
                                "revoked_at")}
