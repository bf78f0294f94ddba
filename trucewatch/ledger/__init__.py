"""Evidence ledger: signed observations in an RFC 6962 Merkle log with C2SP
checkpoints that each party's witness cosigns and anyone can verify offline.

Entry points used by other stages:

- :func:`ingest_signed` (the CLI, API and pipeline ingest path);
- :func:`generate_source_keys`, :func:`register_source_keys`,
  :func:`sign_observations` (the simulator signs with generated keys);
- :func:`ensure_log` then :func:`make_checkpoint` (the mission signs tree heads);
- :func:`latest_checkpoint` (the daily report cites the checkpoint it was built on).

Demo sequence::

    signer = ensure_log(store, "trucewatch.demo/ua-ru-2026")   # the mission's log key first:
    keys = generate_source_keys(sources, rng)      # {source_id: nacl SigningKey}
    register_source_keys(store, keys, signer=signer)  # key certificates in the log, valid from the epoch on
    report = ingest_signed(store, sign_observations(observations, keys))
    make_checkpoint(store, signer)                 # (serve and the workers: CheckpointScheduler)
    latest_checkpoint(store)  # {"size", "root" (hex), "note", ...}

Verification takes its trust anchors from outside the store
(trucewatch.ledger.trust.Trust; ``trucewatch verify --trust FILE``).

See docs/ledger.md for the formats.
"""

from trucewatch.ledger.api import ensure_log, latest_checkpoint, make_checkpoint
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import generate_source_keys, register_source_keys, sign_observations

__all__ = [
    "ensure_log",
    "generate_source_keys",
    "ingest_signed",
    "latest_checkpoint",
    "make_checkpoint",
    "register_source_keys",
    "sign_observations",
]
