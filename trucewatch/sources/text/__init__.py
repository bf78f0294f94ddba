"""Text reports: monitor patrol reports, Telegram channels and news feeds in
English, Ukrainian and Russian, turned into located, dated, de-duplicated
REPORT_CLAIM observations.  See docs/text.md.

Public API: ``Gazetteer.load().lookup(name, admin1=None, near=None)``,
``extract_observations(records, agreement=None)``, ``extract_claims``,
``read_any(path)`` and ``sources_of(records)``.
"""

from __future__ import annotations

from trucewatch.sources.text.gazetteer import Candidate, Gazetteer
from trucewatch.sources.text.intake import Record, read_any
from trucewatch.sources.text.pipeline import extract_claims, extract_observations, sources_of

__all__ = [
    "Candidate",
    "Gazetteer",
    "Record",
    "extract_claims",
    "extract_observations",
    "read_any",
    "sources_of",
]
