"""A mission's own tables: the agreement stored as versions (``mission_agreements``) and the
files intake finished (``intake_files``).  Used by ``trucewatch.mission``; only here as SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select

from trucewatch.store import schema as S
from trucewatch.store.store import Store

A = S.mission_agreements


def add_agreement_version(store: Store, *, spec: dict[str, Any], sha256: str, agreement_id: str, source_file: str,
                          created_at: float) -> tuple[int, bool]:
    """Store ``spec`` as the next version unless the latest has the same ``sha256``: (version, added).
    Read and write are one transaction, so two writers cannot take the same version."""
    with store.engine.begin() as c:
        cur = c.execute(select(A.c.version, A.c.sha256).order_by(A.c.version.desc()).limit(1)).first()
        if cur is not None and cur[1] == sha256:
            return int(cur[0]), False
        version = 1 if cur is None else int(cur[0]) + 1
        c.execute(insert(A).values(version=version, agreement_id=agreement_id, spec=spec, sha256=sha256,
                                   source_file=source_file, created_at=created_at))
    return version, True


def agreement_versions(store: Store) -> list[dict[str, Any]]:
    """version, agreement_id, sha256, source_file and created_at of every stored version, oldest first."""
    with store.engine.connect() as c:
        rows = c.execute(select(A.c.version, A.c.agreement_id, A.c.sha256, A.c.source_file, A.c.created_at)
                         .order_by(A.c.version)).all()
    return [dict(r._mapping) for r in rows]


def agreement_head(store: Store, version: int | None = None) -> tuple[int, str] | None:
    """(version, sha256) of ``version`` (default: the latest), or None when there is none."""
    q = select(A.c.version, A.c.sha256)
    q = q.where(A.c.version == version) if version is not None else q.order_by(A.c.version.desc()).limit(1)
    with store.engine.connect() as c:
        row = c.execute(q).first()
    return None if row is None else (int(row[0]), str(row[1]))


def agreement_spec(store: Store, version: int) -> Any:
    """The stored JSON snapshot of one version."""
    with store.engine.connect() as c:
        return c.execute(select(A.c.spec).where(A.c.version == version)).scalar_one()


def has_agreement(store: Store) -> bool:
    with store.engine.connect() as c:
        return bool(c.execute(select(func.count()).select_from(A)).scalar())


def done_files(store: Store, hashes: Sequence[str]) -> set[str]:
    """Those of ``hashes`` (file content SHA-256) that intake finished before."""
    if not hashes:
        return set()
    with store.engine.connect() as c:
        return {h for (h,) in c.execute(select(S.intake_files.c.sha256)
                                        .where(S.intake_files.c.sha256.in_(list(hashes))))}


def mark_file_done(store: Store, *, sha256: str, path: str, format: str, summary: dict[str, Any],
                   done_at: float) -> None:
    """Record a finished file (replacing an earlier record of the same content)."""
    with store.engine.begin() as c:
        c.execute(S.intake_files.delete().where(S.intake_files.c.sha256 == sha256))
        c.execute(insert(S.intake_files).values(sha256=sha256, path=path, format=format, summary=summary,
                                                done_at=done_at))
