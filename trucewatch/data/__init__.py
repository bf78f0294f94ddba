"""Data shipped with the package: the sample agreement, gazetteers, geometry, labelled sets."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def default_agreement_path() -> Path:
    """The bundled ua-ru-2026 sample agreement (what commands use when no agreement is given)."""
    return Path(str(resources.files("trucewatch.data").joinpath("agreements/ua-ru-2026/agreement.yaml")))
