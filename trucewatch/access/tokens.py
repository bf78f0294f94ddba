"""Bearer tokens: create, check (cached briefly: the hot path) and revoke.

A token reads ``tw_<id>.<secret>``; only SHA-256 of the secret is stored, so a
copy of the database does not give access.  The secret has 256 bits of
entropy, which is why a fast hash is enough here (no password stretching).
The rows live in ``api_tokens`` (``trucewatch.store.service.TokenRepo``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from typing import Any

from trucewatch.access.roles import Principal, Role
from trucewatch.errors import TruceWatchError
from trucewatch.store.service import TokenRepo


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

    def __init__(self, store_or_engine: Any, cache_s: float = 2.0) -> None:
        """``store_or_engine``: a Store, or its engine (tools and tests pass ``store.engine``)."""
        self.repo = TokenRepo(store_or_engine)
        self.engine = self.repo.engine
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
        self.repo.add(row)
        return f"tw_{tid}.{secret}", _public(row)

    def revoke(self, token_id: str) -> bool:
        n = self.repo.revoke(token_id, time.time())
        with self._lock:
            self._cache.pop(token_id, None)
        return n

    def list(self) -> list[dict[str, Any]]:
        return [_public(r) for r in self.repo.all()]

    def _row(self, tid: str) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(tid)
        if hit is not None and now - hit[0] < self.cache_s:
            return hit[1]
        row = self.repo.get(tid)
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
