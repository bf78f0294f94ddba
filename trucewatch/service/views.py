"""What each role sees of a finding: it lives in ``trucewatch.access.views`` (shared by the API,
the report and the mechanism); re-exported here for callers written against the service."""

from trucewatch.access.views import (
    CONCERN_KEYS,
    POST_KEYS,
    SENSITIVE_KEYS,
    Views,
    ViolationFilter,
    concerns,
    observation_dict,
    with_places,
)

__all__ = [
    "CONCERN_KEYS",
    "POST_KEYS",
    "SENSITIVE_KEYS",
    "Views",
    "ViolationFilter",
    "concerns",
    "observation_dict",
    "with_places",
]
