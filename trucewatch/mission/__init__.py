"""A mission in one place: the agreement, the mission's config and its keys, all
found through the store (``--db`` or ``TRUCEWATCH_DB``).

Why: a real mission's commands (intake, process, report, serve, export, verify)
must agree on the agreement and thresholds they run under.  Keeping them in
the store (the agreement with its GeoJSON inlined, versioned; the config as a
setting) means a store alone reproduces its findings, and no command needs an
``--agreement`` flag that could name the wrong file.

    init_mission(db, agreement, origin)  # creates the store, the log key and the key folder
    mission_agreement(store)             # the current agreement version (None: not a mission store)
    mission_config(store)                # thresholds, public delay, checkpoint interval, report cut-off
    adapter_key(store, source)           # register + certify a source the adapter signs for
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from trucewatch.adjudication.workflow import WorkflowConfig
from trucewatch.agreement import load_agreement
from trucewatch.agreement.agreement import Agreement
from trucewatch.agreement.spec import AgreementSpec, read_geojson
from trucewatch.errors import TruceWatchError
from trucewatch.fusion import FusionConfig
from trucewatch.ledger import make_checkpoint
from trucewatch.ledger.api import ensure_log, log_origin
from trucewatch.ledger.api import mission_signer as ledger_signer
from trucewatch.ledger.keys import (
    Keyring,
    generate_source_keys,
    public_key_hex,
    read_signing_key,
    register_key,
    write_signing_key,
)
from trucewatch.ledger.log import MerkleLog
from trucewatch.ledger.schedule import CheckpointPolicy
from trucewatch.store import mission as SM
from trucewatch.store.store import Store, StoreError

#: Settings keys (``settings`` table).
CONFIG_KEY = "mission.config"
KEY_DIR_KEY = "mission.key_dir"
ORIGIN_KEY = "mission.origin"
LOG_KEY_FILE = "log.key"
SOURCE_KEY_DIR = "sources"


class MissionError(TruceWatchError, ValueError):
    """A mission setup problem, naming the file or field."""


# ------------------------------------------------------------------ config
@dataclass
class MissionConfig:
    """Every setting that was a YAML file of its own; ``fusion``/``workflow`` are the
    documented mappings of trucewatch.fusion.FusionConfig and adjudication.workflow.WorkflowConfig."""

    fusion: dict[str, Any] = field(default_factory=dict)
    workflow: dict[str, Any] = field(default_factory=dict)
    public_delay_s: float = 86_400.0
    checkpoint_interval_s: float = 60.0
    checkpoint_max_entries: int = 1000
    report_cutoff: str = "19:30"

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> MissionConfig:
        if not isinstance(data, dict):
            raise MissionError(f"{where}: expected a mapping of settings")
        known = set(cls.__dataclass_fields__)
        bad = sorted(set(data) - known)
        if bad:
            raise MissionError(f"{where}: unknown key(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        cfg = cls(**data)
        for name in ("fusion", "workflow"):
            if not isinstance(getattr(cfg, name), dict):
                raise MissionError(f"{where}: {name}: expected a mapping")
        try:
            FusionConfig.from_dict(cfg.fusion)
            WorkflowConfig.from_dict(cfg.workflow)
        except (TypeError, ValueError) as exc:
            raise MissionError(f"{where}: {exc}") from None
        for name in ("public_delay_s", "checkpoint_interval_s", "checkpoint_max_entries"):
            v = getattr(cfg, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise MissionError(f"{where}: {name}: expected a non-negative number, got {v!r}")
        hh, _, mm = str(cfg.report_cutoff).partition(":")
        if not (hh.isdigit() and mm.isdigit() and ((0 <= int(hh) < 24 and 0 <= int(mm) < 60)
                                                   or (int(hh), int(mm)) == (24, 0))):
            raise MissionError(f"{where}: report_cutoff: expected HH:MM, got {cfg.report_cutoff!r}")
        return cfg

    @classmethod
    def from_yaml(cls, path: str | Path) -> MissionConfig:
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise MissionError(f"{path}: cannot read: {exc}") from None
        return cls.from_dict(raw, str(path))

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def fusion_config(self) -> Any:
        return FusionConfig.from_dict(self.fusion)

    def workflow_config(self) -> Any:
        return WorkflowConfig.from_dict(self.workflow)

    def checkpoint_policy(self) -> Any:
        return CheckpointPolicy(max_age_s=float(self.checkpoint_interval_s),
                                max_entries=int(self.checkpoint_max_entries))


def mission_config(store: Store) -> MissionConfig:
    raw = store.get_setting(CONFIG_KEY)
    return MissionConfig() if raw is None else MissionConfig.from_dict(raw, "store mission config")


def set_mission_config(store: Store, cfg: MissionConfig) -> None:
    store.set_setting(CONFIG_KEY, cfg.as_dict())


# --------------------------------------------------------------- agreement
def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    raise TypeError(f"{type(v).__name__} is not JSON")


def snapshot_agreement(path: str | Path, *, check: bool = True) -> dict[str, Any]:
    """The agreement YAML as one JSON mapping with every GeoJSON file it names inlined
    (checked by loading it first, so a bad file is refused with every problem named)."""
    path = Path(path)
    if check:  # (the caller may have loaded it already: that takes seconds)
        load_agreement(path)  # raises AgreementError listing the problems
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = path.parent
    for name in ("contact_line", "areas"):
        if isinstance(raw.get(name), str):
            raw[name], _ = read_geojson(raw[name], base, name)
    for i, z in enumerate(raw.get("zones") or []):
        if isinstance(z, dict) and isinstance(z.get("geometry"), str):
            z["geometry"], _ = read_geojson(z["geometry"], base, f"zones[{i}].geometry")
    return json.loads(json.dumps(raw, default=_jsonable))


def store_agreement(store: Store, path: str | Path, spec: dict[str, Any] | None = None, *,
                    check: bool = True) -> tuple[int, bool]:
    """Store the agreement as a new version unless it equals the current one; (version, added).
    ``spec``: the snapshot when the caller made it already (loading an agreement takes seconds)."""
    spec = spec if spec is not None else snapshot_agreement(path, check=check)
    sha = hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return SM.add_agreement_version(store, spec=spec, sha256=sha, agreement_id=str(spec.get("id", "")),
                                    source_file=str(path), created_at=time.time())


def agreement_versions(store: Store) -> list[dict[str, Any]]:
    return SM.agreement_versions(store)


def mission_agreement(store: Store, version: int | None = None) -> Any:
    """The stored agreement (latest version by default) as an Agreement, or None."""
    try:
        row = SM.agreement_head(store, version)
        if row is None:
            return None
        if row[1] in _AGREEMENTS:  # building the geometry takes seconds: once per process and version
            return _AGREEMENTS[row[1]]
        raw = SM.agreement_spec(store, row[0])
    except Exception:  # a store older than migration 0004 opened without migrating
        return None
    spec = AgreementSpec.model_validate(raw)
    agr = Agreement(spec, Path("."), source_file=f"store: agreement version {row[0]}")
    _AGREEMENTS[row[1]] = agr
    return agr


_AGREEMENTS: dict[str, Any] = {}  # by content hash


def is_mission(store: Store) -> bool:
    return SM.has_agreement(store)


# -------------------------------------------------------------------- keys
def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def key_dir(store: Store) -> Path | None:
    v = store.get_setting(KEY_DIR_KEY)
    return None if not v else Path(v)


def default_key_dir(db: str | Path) -> Path | None:
    s = str(db)
    if "://" in s and not s.startswith("sqlite:///"):
        return None
    return Path(s.removeprefix("sqlite:///") + ".keys")


def source_key_path(store: Store, source_id: str) -> Path:
    d = key_dir(store)
    if d is None:
        raise MissionError("this store has no mission key folder (run `trucewatch init`)")
    safe = hashlib.sha256(source_id.encode()).hexdigest()[:12]
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in source_id)[:80]
    return d / SOURCE_KEY_DIR / f"{name}-{safe}.key"


def mission_signer(store: Store) -> Any:
    """The mission's log key from its key folder (or the ledger's own look-up)."""
    return ledger_signer(store, create=False)


def checkpoint(store: Store) -> dict[str, Any] | None:
    """Sign a checkpoint over what was appended, so every entry is covered (verify passes);
    None when the log is empty.  Intake and watch call it after their appends."""
    if MerkleLog(store).size == 0:
        return None
    return make_checkpoint(store, mission_signer(store), skip_if_unchanged=True)


def init_mission(db: str | Path, agreement: str | Path, *, origin: str | None = None,
                 keys: str | Path | None = None, config: MissionConfig | None = None) -> dict[str, Any]:
    """Create (or re-open) a mission store: agreement version, log key, key folder, config.

    Idempotent: run again with an amended agreement, it adds a version; the log key stays."""
    spec = snapshot_agreement(agreement)  # refuse a bad agreement before creating anything
    kd = Path(keys) if keys is not None else default_key_dir(db)
    if kd is None:
        raise MissionError("--keys: a key folder is needed for a store that is not a SQLite file")
    store = Store.open(db)
    try:
        existing = key_dir(store)
        if existing is not None and existing.resolve() != kd.resolve() and keys is not None:
            raise MissionError(f"--keys: this store's key folder is {existing}, not {kd}")
        kd = existing or kd
        _private_dir(kd)
        _private_dir(kd / SOURCE_KEY_DIR)
        store.set_setting(KEY_DIR_KEY, str(kd.resolve()))
        origin = origin or log_origin(store) or f"trucewatch.local/{spec.get('id', 'mission')}"
        signer = ensure_log(store, origin, kd / LOG_KEY_FILE)
        os.chmod(kd / LOG_KEY_FILE, 0o600)
        store.set_setting(ORIGIN_KEY, origin)
        version, added = store_agreement(store, agreement, spec)
        if config is not None or store.get_setting(CONFIG_KEY) is None:
            set_mission_config(store, config or MissionConfig())
        return {"db": str(db), "agreement_id": spec.get("id"), "agreement_version": version,
                "agreement_added": added, "origin": origin, "log_vkey": signer.vkey(), "key_dir": str(kd),
                "config": mission_config(store).as_dict()}
    finally:
        store.close()


def adapter_key(store: Store, source: Any, *, signer: Any = None) -> Any:
    """The signing key of a source an adapter signs for: loaded from the key folder, or
    generated there (0600), the source registered and its key certified by the mission key.

    Adapter keys are valid from the epoch: an adapter signs what a feed delivered,
    including archives older than the mission."""
    path = source_key_path(store, source.id)
    known = store.get_source(source.id)
    if path.exists():
        sk = read_signing_key(path)
        if public_key_hex(sk) in Keyring.load(store).by_key:
            return sk  # (a revoked key too: ingest then rejects its observations, naming the revocation)
    elif known is not None and not known.attributes.get("adapter"):
        raise MissionError(f"source {source.id!r} is registered with a key this mission does not hold; its "
                           "observations must come signed by it (or pass --source for an adapter source)")
    else:
        sk = generate_source_keys([source.id])[source.id]
        write_signing_key(path, sk)
    if known is None:
        attrs = {**source.attributes, "adapter": True}
        store.add_sources([source.model_copy(update={"public_key": public_key_hex(sk), "attributes": attrs})])
    register_key(store, source.id, public_key_hex(sk), valid_from=0.0, signer=signer or mission_signer(store))
    return sk


def resolve_db(db: str | Path | None) -> str:
    v = str(db) if db else os.environ.get("TRUCEWATCH_DB", "")
    if not v:
        raise MissionError("--db: no store given (pass --db or set TRUCEWATCH_DB)")
    return v


def open_mission_store(db: str | Path | None) -> Store:
    """An existing store (StoreMissing otherwise); read commands use this."""
    return Store.open(resolve_db(db), create=False)


__all__ = ["MissionConfig", "MissionError", "StoreError", "adapter_key", "agreement_versions", "checkpoint",
           "init_mission",
           "is_mission", "key_dir", "mission_agreement", "mission_config", "open_mission_store", "resolve_db",
           "snapshot_agreement", "store_agreement"]
