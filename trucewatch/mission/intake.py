"""`trucewatch intake`: raw files -> the source's stage -> signed observations -> the ledger.

Per file: sniff the format (trucewatch.sources.registry), run the stage, sign
each observation with the key of the source the adapter signs for (kept in the
mission's key folder, certified in the log), and append through
trucewatch.ledger.ingest_signed.  A file is reported done only after every
batch of it was committed and appended to the log; its content hash is then
recorded so ``watch`` (and ``intake --skip-done``) never read it twice.  Ids
are derived from content by each stage, so reading a file again adds nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import read_signing_key, sign_observation
from trucewatch.mission import MissionError, adapter_key, source_key_path
from trucewatch.model import Observation
from trucewatch.sources.registry import BY_NAME, AdapterResult, FileError, ReadContext, format_names, sniff
from trucewatch.store import mission as SM
from trucewatch.store.store import Store

#: Observations per ingest batch (each batch is one commit and one log append).
BATCH = 2000
#: Files and folder entries intake never reads.
IGNORED_NAMES = {"SOURCE.md", "SOURCES.md", "README.md", "summary.json"}


@dataclass
class FileSummary:
    file: str
    format: str | None
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    note: str = ""
    done: bool = False
    accepted_ids: list[str] = field(default_factory=list)  # for the incremental pipeline (watch)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "format": self.format, "read": self.read, "accepted": self.accepted,
                "duplicates": self.duplicates, "rejected": self.rejected, "errors": self.errors,
                "note": self.note, "done": self.done}

    def line(self) -> str:
        s = (f"{self.file}: {self.format or 'unknown format'}: read {self.read}, accepted {self.accepted}, "
             f"duplicates {self.duplicates}, rejected {self.rejected}")
        return s + (f" ({self.note})" if self.note else "")


def walk(paths: Iterable[str | Path]) -> list[Path]:
    """Files of ``paths``, folders walked recursively in name order (hidden files and docs skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += [f for f in sorted(p.rglob("*")) if f.is_file() and not any(
                part.startswith(".") for part in f.relative_to(p).parts) and f.name not in IGNORED_NAMES]
        else:
            out.append(p)
    return out


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def done_hashes(store: Store, hashes: Sequence[str]) -> set[str]:
    return SM.done_files(store, hashes)


def _mark_done(store: Store, sha: str, path: Path, fs: FileSummary) -> None:
    SM.mark_file_done(store, sha256=sha, path=str(path), format=fs.format or "",
                      summary={k: v for k, v in fs.as_dict().items() if k != "errors"}, done_at=time.time())


def _signing_keys(store: Store, res: AdapterResult, source_id: str | None,
                  errors: list[FileError]) -> tuple[dict[str, Any], list[Observation]]:
    """Keys by source id, and the observations to sign (re-attributed to ``source_id`` when given)."""
    keys: dict[str, Any] = {}
    obs = res.observations
    if source_id is not None:
        if store.get_source(source_id) is None:
            raise MissionError(f"--source: {source_id!r} is not registered (trucewatch sources add {source_id} "
                               "--kind KIND --key generate)")
        kp = source_key_path(store, source_id)
        if not kp.exists():
            raise MissionError(f"--source: the mission's key folder holds no private key for {source_id!r}; intake "
                               "signs only for sources registered with --key generate (others sign on their device)")
        keys[source_id] = read_signing_key(kp)
        return keys, [o.model_copy(update={"source_id": source_id}) for o in obs]
    declared = {s.id: s for s in res.sources}
    for sid in sorted({o.source_id for o in obs}):
        src = declared.get(sid) or store.get_source(sid)
        try:
            if src is None:
                raise MissionError(f"source {sid!r} is not registered and the stage did not describe it")
            keys[sid] = adapter_key(store, src)
        except (MissionError, ValueError) as exc:
            n = sum(1 for o in obs if o.source_id == sid)
            errors.append(FileError(f"{n} observation(s) of {sid}", "source_id", str(exc)))
    return keys, [o for o in obs if o.source_id in keys]


def intake_file(store: Store, path: Path, *, fmt: str = "auto", source_id: str | None = None, agreement: Any = None,
                batch: Sequence[Path] = (), consumed: set[Path] | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> FileSummary:
    """One file through its stage into the ledger; never raises for bad input (it is named in the summary)."""
    name = str(path)
    if fmt != "auto" and fmt not in BY_NAME:
        return FileSummary(name, None, errors=[FileError(name, "--format", f"{fmt!r} is not a format read here; "
                                                         f"formats: {', '.join(format_names())}").as_dict()],
                           note="unknown format")
    adapter = BY_NAME[fmt] if fmt != "auto" else sniff(path)
    if adapter is None:
        return FileSummary(name, None, errors=[FileError(name, "(format)", "not a format read here; formats: "
                                                         + ", ".join(format_names())).as_dict()],
                           note="unknown format")
    if consumed is not None and path in consumed and not adapter.companion:  # e.g. a later image of a radar stack
        return FileSummary(name, adapter.name, note="read with the first file of its stack", done=True)
    if adapter.companion:
        used = consumed is not None and path in consumed
        return FileSummary(name, adapter.name, note="read with its main file" if used else
                           "read only with its main file (none in this run or folder)", done=used)
    try:
        sha = file_sha256(path)
    except OSError as exc:
        return FileSummary(name, adapter.name, errors=[FileError(name, "(file)", exc.strerror or str(exc)).as_dict()])
    sources = store.list_sources()
    try:
        res = adapter.read(path, ReadContext(agreement, batch, sources))
    except Exception as exc:  # a stage's unexpected failure is named, never a traceback
        return FileSummary(name, adapter.name, errors=[FileError(name, "(file)",
                                                                 f"{type(exc).__name__}: {exc}").as_dict()])
    if consumed is not None:
        consumed.update(res.companions)
    errors: list[FileError] = list(res.errors)
    fs = FileSummary(name, adapter.name, read=res.read)
    if res.read == 0 and errors and not res.observations:
        # the file could not be read at all (no sensor registry yet, unregistered airframe...): not marked
        # done, so `watch` reads it again once what it needs is there
        fs.errors = [e.as_dict() for e in errors]
        fs.rejected = len(errors)
        return fs
    try:
        keys, obs = _signing_keys(store, res, source_id, errors)
    except (MissionError, ValueError) as exc:
        fs.errors = [e.as_dict() for e in [FileError(name, "--source", str(exc)), *errors]]
        fs.rejected = len(fs.errors)
        return fs
    signed: list[Observation] = []
    for o in obs:
        try:
            signed.append(sign_observation(o, keys[o.source_id]))
        except ValueError as exc:
            errors.append(FileError(o.id, "attributes", str(exc)))
    for k in range(0, len(signed), BATCH):
        rep = ingest_signed(store, signed[k:k + BATCH])  # commit + log append before the next batch
        fs.accepted += len(rep.accepted)
        fs.accepted_ids += rep.accepted
        fs.duplicates += len(rep.duplicates)
        errors += [FileError(e.record, e.field, e.message) for e in rep.errors]
        if progress is not None:
            progress(name, min(k + BATCH, len(signed)), len(signed))
    fs.errors = [e.as_dict() for e in errors]
    fs.rejected = len(errors)
    fs.done = True
    _mark_done(store, sha, path, fs)
    return fs


def intake_paths(store: Store, paths: Iterable[str | Path], *, fmt: str = "auto", source_id: str | None = None,
                 agreement: Any = None, skip_done: bool = False,
                 progress: Callable[[str, int, int], None] | None = None,
                 on_file: Callable[[FileSummary], None] | None = None) -> list[FileSummary]:
    """Every file of ``paths`` (folders walked); main files first, companion files after."""
    files = walk(paths)
    missing = [p for p in files if not p.exists()]
    out = [FileSummary(str(p), None, errors=[FileError(str(p), "(file)", "no such file").as_dict()]) for p in missing]
    files = [p for p in files if p.exists()]
    skip: set[str] = set()
    if skip_done:
        hashes = {p: file_sha256(p) for p in files}
        done = done_hashes(store, list(hashes.values()))
        skip = {str(p) for p, h in hashes.items() if h in done}
    consumed: set[Path] = set()
    adapters = {p: (BY_NAME.get(fmt) if fmt != "auto" else sniff(p)) for p in files}
    order = sorted(files, key=lambda p: ((a := adapters[p]) is not None and a.companion, str(p)))
    for p in order:
        if str(p) in skip:
            ad = adapters[p]
            fs = FileSummary(str(p), ad.name if ad else None, note="already taken in (same content)",
                             done=True)
        else:
            fs = intake_file(store, p, fmt=fmt, source_id=source_id, agreement=agreement, batch=files,
                             consumed=consumed, progress=progress)
        out.append(fs)
        if on_file is not None:
            on_file(fs)
    return out


__all__ = ["FileSummary", "intake_file", "intake_paths", "walk"]
