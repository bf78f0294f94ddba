"""Evidence ledger: signed observations in an RFC 6962 Merkle log with C2SP
checkpoints that each party's witness cosigns and anyone can verify offline.

Entry points used by other stages:

- :func:`ingest_signed` (the CLI, API and pipeline ingest path);
- :func:`generate_source_keys`, :func:`register_source_keys`,
  :func:`sign_observations` (the simulator signs with generated keys);
- :func:`latest_checkpoint` (the daily report cites the checkpoint it was built on).

See docs/ledger.md for the formats.
"""

from trucewatch.ledger.api import latest_checkpoint, make_checkpoint
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import generate_source_keys, register_source_keys, sign_observations

__all__ = [
    "generate_source_keys",
    "ingest_signed",
    "latest_checkpoint",
    "make_checkpoint",
    "register_source_keys",
    "sign_observations",
]
