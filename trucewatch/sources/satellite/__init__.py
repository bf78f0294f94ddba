"""Satellites: NASA FIRMS thermal anomalies judged against a background fire model,
and Sentinel-1-style radar change detection for building damage (docs/satellite.md)."""

from trucewatch.sources.satellite.firms import (
    FirmsBatch,
    FirmsError,
    read_firms,
    sources_for,
    to_observations,
)

__all__ = ["FirmsBatch", "FirmsError", "read_firms", "sources_for", "to_observations"]
