"""Roles and bearer tokens: they live in ``trucewatch.access`` (who sees what, shared by the
API, the report and the mechanism); re-exported here for callers written against the service."""

from trucewatch.access.roles import INTERNAL_ROLES, Principal, Role
from trucewatch.access.tokens import AuthError, TokenStore, parse_token

__all__ = ["INTERNAL_ROLES", "AuthError", "Principal", "Role", "TokenStore", "parse_token"]
