"""Fusion: observations of every kind become events with an explained confidence.

See docs/fusion.md (association) and docs/confidence.md (the confidence model).
"""

from trucewatch.fusion.api import FusionResult, IncrementalFusion, events_from_table, fuse, fuse_detailed
from trucewatch.fusion.arrays import FusionInput, FusionInputError, RecordError
from trucewatch.fusion.confidence import learn_reliability
from trucewatch.fusion.config import FusionConfig
from trucewatch.fusion.core import EventTable, fuse_arrays

__all__ = ["EventTable", "FusionConfig", "FusionInput", "FusionInputError", "FusionResult", "IncrementalFusion",
           "RecordError", "events_from_table", "fuse", "fuse_arrays", "fuse_detailed", "learn_reliability"]
