"""Static export of the log in the C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles).

Layout of an export directory (plain files: serve or mirror with any web
server, rsync, a USB stick):

    checkpoint                    latest signed checkpoint, with cosignatures
    checkpoints/<seq>             every checkpoint ever signed (for consistency checks)
    tile/<L>/<N>                  full hash tile: 256 hashes of 32 bytes, tree level 8*L
    tile/<L>/<N>.p/<W>            partial tile of W hashes (right edge)
    tile/entries/<N>              entry bundle: 256 entries, each u16 big-endian length || entry
    tile/entries/<N>.p/<W>        partial entry bundle
    keys.json                     origin, log vkeys, witness vkeys, source keys (validity, revocation)

``<N>`` is written in groups of three digits, all but the last prefixed
with ``x`` (1234067 -> x001/x234/067).  Only entries covered by the latest
checkpoint are exported.  Full tiles are immutable and written once; partial
tiles, checkpoints and keys.json are rewritten atomically, ``checkpoint``
last, so a mirror never sees a checkpoint ahead of its tiles.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from trucewatch.ledger import merkle
from trucewatch.ledger.api import latest_checkpoint, log_origin, log_verifiers, rebuild_entries, witnesses
from trucewatch.ledger.checkpoint import add_signature_lines
from trucewatch.ledger.keys import list_keys
from trucewatch.ledger.log import LogError, MerkleLog, nid
from trucewatch.store.store import Store

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_ENTRY = 0xFFFF


class ExportError(LogError):
    """The log cannot be exported (nothing checkpointed, entry too large...)."""


def tile_index_path(n: int) -> str:
    s = str(n)
    s = "0" * (-len(s) % 3) + s
    groups = [s[i:i + 3] for i in range(0, len(s), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | str, n: int, width: int = TILE_WIDTH) -> str:
    p = f"tile/{level}/{tile_index_path(n)}"
    return p if width == TILE_WIDTH else f"{p}.p/{width}"


def _write(root: Path, rel: str, data: bytes, *, immutable: bool = False) -> bool:
    p = root / rel
    if immutable and p.exists() and p.stat().st_size == len(data):
        return False
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, p)
    return True


def export_log(store: Store, out_dir: str | Path) -> dict[str, Any]:
    """Write (or bring up to date) the static export of the log."""
    root = Path(out_dir)
    cp = latest_checkpoint(store)
    if cp is None:
        raise ExportError("nothing to export: the log has no checkpoint yet (run `trucewatch ledger checkpoint`)")
    size = int(cp["size"])
    log = MerkleLog(store)
    log.check()
    written = 0
    # Hash tiles: level L holds tree nodes of height 8L.
    level = 0
    while True:
        height = TILE_HEIGHT * level
        count = size >> height  # complete nodes at that height
        if count == 0 or (level > 0 and count < 1):
            break
        n_tiles = (count + TILE_WIDTH - 1) // TILE_WIDTH
        existing_full = _first_missing_full(root, level, count)
        with store.ledger.connect() as lc:
            for t in range(existing_full, n_tiles):
                lo, hi = t * TILE_WIDTH, min(count, (t + 1) * TILE_WIDTH)
                nodes = lc.nodes_in_range(nid(height, lo), nid(height, hi))
                if len(nodes) != hi - lo:
                    raise ExportError(f"level {height} nodes {lo}..{hi} are missing from the stored tree")
                data = b"".join(h for _, h in nodes)
                written += _write(root, tile_path(level, t, hi - lo), data, immutable=hi - lo == TILE_WIDTH)
        if count < TILE_WIDTH:
            break
        level += 1
    # Entry bundles.
    first = _first_missing_full(root, "entries", size)
    for t in range(first, (size + TILE_WIDTH - 1) // TILE_WIDTH):
        lo, hi = t * TILE_WIDTH, min(size, (t + 1) * TILE_WIDTH)
        rows = list(log.leaves(lo, hi))
        if len(rows) != hi - lo:
            raise ExportError(f"entries {lo}..{hi} are missing from the log")
        logged = dict(log.leaf_hashes(lo, hi))
        parts = []
        for i, oid, _key, _obs, entry in rebuild_entries(store, rows):
            if entry is None:
                raise ExportError(f"entry {i} (observation {oid}): the observation is missing from the store or "
                                  "unsigned; run `trucewatch verify` to see what was changed")
            if hashlib.sha256(b"\x00" + entry).digest() != logged.get(i):
                raise ExportError(f"entry {i} (observation {oid}): the stored observation no longer matches the "
                                  "logged entry; run `trucewatch verify`")
            if len(entry) > MAX_ENTRY:
                raise ExportError(f"entry {i} (observation {oid}) is {len(entry)} bytes; tiles allow {MAX_ENTRY}")
            parts.append(len(entry).to_bytes(2, "big") + entry)
        written += _write(root, tile_path("entries", t, hi - lo), b"".join(parts), immutable=hi - lo == TILE_WIDTH)
    # Checkpoint history, keys, then the latest checkpoint.
    for c in log.checkpoints():
        note = add_signature_lines(c["note"], c["cosignatures"]) if c["cosignatures"] else c["note"]
        _write(root, f"checkpoints/{c['seq']:08d}", note.encode())
    keys = {
        "origin": log_origin(store),
        "log_keys": [v.vkey() for v in log_verifiers(store)],
        "witnesses": [w.vkey() for w in witnesses(store)],
        "source_keys": [k.as_dict() for k in list_keys(store)],
    }
    _write(root, "keys.json", json.dumps(keys, indent=1, sort_keys=True).encode())
    _write(root, "checkpoint", cp["note"].encode())
    return {"dir": str(root), "size": size, "root": cp["root"], "files_written": written}


def _first_missing_full(root: Path, level: int | str, count: int) -> int:
    """Index of the first full tile not yet on disk (full tiles never change)."""
    full = count // TILE_WIDTH
    lo, hi = 0, full
    while lo < hi:  # full tiles are written in order, so the present ones are a prefix
        mid = (lo + hi) // 2
        if (root / tile_path(level, mid)).exists():
            lo = mid + 1
        else:
            hi = mid
    return lo


def export_leaf_hashes(out_dir: str | Path, size: int) -> list[bytes]:
    """Leaf hashes 0..size-1 from an export's level-0 tiles (ExportError if cut or missing)."""
    root = Path(out_dir)
    out: list[bytes] = []
    for t in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        w = min(TILE_WIDTH, size - t * TILE_WIDTH)
        p = root / tile_path(0, t, w)
        if not p.exists() and w < TILE_WIDTH:  # a later export may have completed this tile
            p = root / tile_path(0, t)
        try:
            data = p.read_bytes()
        except OSError:
            raise ExportError(f"{p}: hash tile missing") from None
        if len(data) < 32 * w:
            raise ExportError(f"{p}: hash tile cut mid-write ({len(data)} bytes, need {32 * w})")
        out += [data[i * 32:(i + 1) * 32] for i in range(w)]
    return out


def export_consistency_proof(out_dir: str | Path, old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof computed from an export's tiles (for a witness without database access)."""
    hashes = export_leaf_hashes(out_dir, new_size)
    return merkle.consistency_path(old_size, new_size, lambda a, b: merkle.root_from_hashes(hashes[a:b]))
