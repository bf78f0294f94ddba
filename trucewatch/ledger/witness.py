"""A party's witness: cosigns a checkpoint only if it extends the last one it cosigned.

Each party runs its own witness with its own key and its own state file (the
size, root and note it last cosigned).  Given a new checkpoint and a
consistency proof from the log, it checks the mission's signature, then that
the new tree is an append-only extension of the remembered one (RFC 9162
2.1.4.2), and only then writes the new state (atomically, fsynced) and
returns a cosignature/v1 line.  Because every party's witness refuses a fork,
the mission cannot show the parties two different histories: a checkpoint
with both parties' cosignatures is one both have checked.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from trucewatch.errors import TruceWatchError
from trucewatch.ledger import merkle
from trucewatch.ledger.checkpoint import (
    ALG_COSIGNATURE_V1,
    NoteError,
    NoteSigner,
    NoteVerifier,
    cosign,
    open_checkpoint,
)


class WitnessError(TruceWatchError, RuntimeError):
    """The witness cannot work (bad state file, bad key)."""


class WitnessRefusal(WitnessError):
    """The witness refuses to cosign: bad signature, rollback, fork or inconsistency."""


class WitnessStateChanged(WitnessRefusal):
    """Another cosign updated the state between our read and our write (retry with a fresh proof)."""


@dataclass
class WitnessState:
    name: str
    origin: str
    log_vkey: str
    size: int = 0
    root: str = base64.b64encode(merkle.EMPTY_ROOT).decode()
    note: str = ""
    cosigned_at: int = 0

    @property
    def root_bytes(self) -> bytes:
        return base64.b64decode(self.root)


def _write_atomic(path: Path, text: str) -> None:
    """Write, fsync, rename over, fsync the folder: a crash leaves the old or the new file, never a cut one."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Witness:
    def __init__(self, state_path: str | Path, signer: NoteSigner) -> None:
        if signer.alg != ALG_COSIGNATURE_V1:
            raise WitnessError("the witness key must be a cosignature/v1 (0x04) key")
        self.path = Path(state_path)
        self.signer = signer
        self.state = self._load()
        if self.state.name != signer.name:
            raise WitnessError(f"state file {self.path} belongs to witness {self.state.name!r}, not {signer.name!r}")

    @staticmethod
    def init(state_path: str | Path, signer: NoteSigner, log_vkey: str, origin: str) -> Witness:
        p = Path(state_path)
        if p.exists():
            raise WitnessError(f"{p} exists: a witness never forgets what it cosigned")
        NoteVerifier.from_vkey(log_vkey)
        p.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(p, json.dumps(asdict(WitnessState(signer.name, origin, log_vkey)), indent=1))
        return Witness(p, signer)

    def _load(self) -> WitnessState:
        try:
            data = json.loads(self.path.read_text())
            st = WitnessState(**data)
            if len(st.root_bytes) != 32 or st.size < 0:
                raise ValueError("bad size or root")
            return st
        except FileNotFoundError:
            raise WitnessError(f"{self.path}: no witness state (run `trucewatch witness init`)") from None
        except (ValueError, TypeError) as exc:
            raise WitnessError(f"{self.path}: witness state is damaged ({exc}); refusing to cosign") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive lock on ``<state>.lock`` (fcntl.flock: released if the process dies)."""
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def cosign(self, note_text: str, proof: Sequence[bytes], *, now: int | None = None) -> str:
        """Cosign ``note_text`` given a consistency proof from the last cosigned size.

        The proof was made from ``self.state`` (what this witness read).  Under
        an exclusive lock the state file is read again and must still hold that
        size and root (compare-and-swap): if another cosign ran in between, it
        refuses with :class:`WitnessStateChanged` instead of cosigning a second
        history; the caller reloads and retries with a fresh proof.  The new
        state is written atomically (temp file, fsync, rename, fsync of the folder)
        before the cosignature is returned.
        """
        with self._locked():
            expected = self.state
            st = self._load()
            if (st.size, st.root) != (expected.size, expected.root):
                self.state = st
                raise WitnessStateChanged(
                    f"the witness state changed while cosigning (now size {st.size}, the proof was made from size "
                    f"{expected.size}): another cosign ran; reload and retry")
            try:
                cp = open_checkpoint(note_text, [NoteVerifier.from_vkey(st.log_vkey)], origin=st.origin)
            except NoteError as exc:
                raise WitnessRefusal(f"checkpoint rejected: {exc}") from None
            if cp.size < st.size:
                raise WitnessRefusal(f"rollback: checkpoint size {cp.size} is smaller than the size {st.size} "
                                     "this witness already cosigned")
            try:
                merkle.verify_consistency(st.size, cp.size, st.root_bytes, cp.root, list(proof))
            except merkle.ConsistencyProofError as exc:
                raise WitnessRefusal(f"fork: checkpoint size {cp.size} is not consistent with the checkpoint of size "
                                     f"{st.size} this witness cosigned ({type(exc).__name__}: {exc})") from None
            ts = int(time.time()) if now is None else int(now)
            ts = max(ts, st.cosigned_at)
            line = cosign(note_text, self.signer, ts)
            new = WitnessState(st.name, st.origin, st.log_vkey, cp.size, base64.b64encode(cp.root).decode(),
                               note_text, ts)
            _write_atomic(self.path, json.dumps(asdict(new), indent=1))
            self.state = new
            return line

    def reload(self) -> WitnessState:
        self.state = self._load()
        return self.state
