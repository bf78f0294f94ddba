"""The service people use: API with roles, live alerts, exports and the map dashboard.

``create_app(store, agreement, config)`` builds the FastAPI app; ``trucewatch
serve`` runs it.  Imported lazily so the command line starts fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServiceConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from trucewatch.service.app import create_app

        return create_app
    if name == "ServiceConfig":
        from trucewatch.service.config import ServiceConfig

        return ServiceConfig
    raise AttributeError(name)
