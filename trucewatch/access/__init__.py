"""Who sees what: roles, principals, and each role's view of findings and observations.

Why a package of its own: the API (``trucewatch.service``), the daily report
(``trucewatch.report``) and the mechanism's reports (``trucewatch.mechanism``) must show a
reader exactly the same findings, redacted the same way, so the rule is written once,
below all three.  It speaks no SQL: the visibility it decides is handed to
``trucewatch.store.views`` as data.
"""

from trucewatch.access.roles import INTERNAL_ROLES, Principal, Role
from trucewatch.access.tokens import AuthError, TokenStore, parse_token
from trucewatch.access.views import Views, ViolationFilter, concerns, may_alert, with_places

__all__ = [
           "INTERNAL_ROLES",
           "AuthError",
           "Principal",
           "Role",
           "TokenStore",
           "Views",
           "ViolationFilter",
           "concerns",
           "may_alert",
           "parse_token",
           "with_places",
]
