"""Merkle tree hashing and proofs, exactly as in Certificate Transparency.

Specifications followed (and cited per function below):

- RFC 6962, "Certificate Transparency", section 2.1 "Merkle Hash Trees":
  2.1 (MTH definition), 2.1.1 (Merkle audit paths, PATH), 2.1.2 (Merkle
  consistency proofs, PROOF and SUBPROOF).
  https://www.rfc-editor.org/rfc/rfc6962#section-2.1
- RFC 9162, "Certificate Transparency Version 2.0", section 2.1:
  2.1.1 (definition of the Merkle tree), 2.1.3.1/2.1.3.2 (generating and
  verifying inclusion proofs), 2.1.4.1/2.1.4.2 (generating and verifying
  consistency proofs).  The two verification algorithms below are the
  numbered steps of 2.1.3.2 and 2.1.4.2.
  https://www.rfc-editor.org/rfc/rfc9162#section-2.1

Hash: SHA-256.  MTH({}) = SHA-256(); leaf hash = SHA-256(0x00 || d);
interior node = SHA-256(0x01 || left || right), splitting n > 1 leaves at k,
the largest power of two smaller than n.

The public API takes *raw entries* (the bytes logged), never leaf hashes:
``leaf_hash``, ``root_hash``, ``inclusion_proof``, ``verify_inclusion``,
``consistency_proof``, ``verify_consistency``.  Each verification failure has
its own exception class (all subclasses of :class:`MerkleError`) so a caller
can tell a truncated proof from a wrong root from an index out of range.

The ``*_path`` helpers take a ``node(start, end) -> bytes`` callback giving the
hash of the subtree over leaves ``[start, end)``; the persistent log
(trucewatch.ledger.log) plugs stored interior nodes in there so proofs cost
O(log n) reads instead of a recomputation of the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from trucewatch.errors import TruceWatchError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "BadHashSizeError",
    "ConsistencyProofError",
    "EmptyProofError",
    "InclusionProofError",
    "IndexOutOfRangeError",
    "MerkleError",
    "NewRootMismatchError",
    "NonEmptyProofError",
    "OldRootMismatchError",
    "RootMismatchError",
    "SizeOrderError",
    "WrongProofSizeError",
    "consistency_path",
    "consistency_proof",
    "hash_children",
    "inclusion_path",
    "inclusion_proof",
    "leaf_hash",
    "root_from_hashes",
    "root_hash",
    "verify_consistency",
    "verify_consistency_hashes",
    "verify_inclusion",
    "verify_inclusion_hash",
]

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: MTH({}) = SHA-256 of the empty string (RFC 6962 2.1, RFC 9162 2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


# ------------------------------------------------------------------ errors
class MerkleError(TruceWatchError, ValueError):
    """A proof or tree argument that does not verify."""


class InclusionProofError(MerkleError):
    """An inclusion proof does not verify."""


class ConsistencyProofError(MerkleError):
    """A consistency proof does not verify."""


class IndexOutOfRangeError(InclusionProofError):
    """The leaf index is not below the tree size (RFC 9162 2.1.3.2 step 1)."""


class WrongProofSizeError(InclusionProofError, ConsistencyProofError):
    """The proof has more or fewer hashes than (index, size) or (old, new)
    require: it is truncated, padded or was made for another tree size."""


class BadHashSizeError(InclusionProofError, ConsistencyProofError):
    """A root or proof element is not a 32-byte SHA-256 hash."""


class RootMismatchError(InclusionProofError):
    """The root recomputed from entry and proof differs from the expected root."""


class SizeOrderError(ConsistencyProofError):
    """The old tree is larger than the new one: logs only grow."""


class EmptyProofError(ConsistencyProofError):
    """0 < old_size < new_size needs a non-empty proof (RFC 9162 2.1.4.2 step 1)."""


class NonEmptyProofError(ConsistencyProofError):
    """old_size == new_size or old_size == 0 needs an empty proof."""


class OldRootMismatchError(ConsistencyProofError):
    """The proof does not lead to the old root (RFC 9162 2.1.4.2 step 7)."""


class NewRootMismatchError(ConsistencyProofError):
    """The proof does not lead to the new root (RFC 9162 2.1.4.2 step 7)."""


# ------------------------------------------------------------------ hashing
def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)   (RFC 6962 2.1, RFC 9162 2.1.1)."""
    return _sha256(LEAF_PREFIX + bytes(data)).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)   (RFC 6962 2.1, RFC 9162 2.1.1)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves, bottom-up (same result as the RFC's
    top-down recursion: an unpaired last node is promoted, never duplicated)."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        nxt = [_sha256(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) & 1:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of raw entries (RFC 6962 2.1)."""
    return root_from_hashes([leaf_hash(d) for d in leaves])


def _memory_node(hashes: Sequence[bytes]) -> Callable[[int, int], bytes]:
    def node(start: int, end: int) -> bytes:
        return root_from_hashes(hashes[start:end])

    return node


# ------------------------------------------------------------------ proofs
def inclusion_path(index: int, size: int, node: Callable[[int, int], bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 2.1.1 (RFC 9162 2.1.3.1), leaf first, root last.

    ``node(start, end)`` returns MTH(D[start:end]).
    """
    if not 0 <= index < size:
        raise IndexOutOfRangeError(f"leaf index {index} is not in a tree of size {size}")
    out: list[bytes] = []
    start, end, m = 0, size, index
    # Walk down from the root; collect siblings, then reverse (leaf first).
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            out.append(node(start + k, end))
            end = start + k
        else:
            out.append(node(start, start + k))
            start, m = start + k, m - k
    out.reverse()
    return out


def consistency_path(old_size: int, new_size: int, node: Callable[[int, int], bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 6962 2.1.2
    (RFC 9162 2.1.4.1); empty when m == 0 or m == n."""
    if old_size < 0 or new_size < 0:
        raise SizeOrderError(f"negative tree size ({old_size}, {new_size})")
    if old_size > new_size:
        raise SizeOrderError(f"old size {old_size} is larger than new size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    out: list[bytes] = []
    m, start, end, b = old_size, 0, new_size, True
    while True:
        n = end - start
        if m == n:
            if not b:
                out.append(node(start, end))
            break
        k = _split(n)
        if m <= k:
            out.append(node(start + k, end))
            end = start + k
        else:
            out.append(node(start, start + k))
            start, m, b = start + k, m - k, False
    out.reverse()
    return out


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """Audit path for raw entry ``leaves[index]`` in the tree of the first ``size`` entries."""
    if not 0 <= size <= len(leaves):
        raise IndexOutOfRangeError(f"tree size {size} is not within the {len(leaves)} entries given")
    hashes = [leaf_hash(d) for d in leaves[:size]]
    return inclusion_path(index, size, _memory_node(hashes))


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof between the trees of the first ``old_size`` and ``new_size`` raw entries."""
    if new_size > len(leaves):
        raise SizeOrderError(f"new size {new_size} exceeds the {len(leaves)} entries given")
    hashes = [leaf_hash(d) for d in leaves[:new_size]]
    return consistency_path(old_size, new_size, _memory_node(hashes))


# ------------------------------------------------------------ verification
def _check_hash(h: bytes, what: str) -> None:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        n = len(h) if isinstance(h, bytes | bytearray) else type(h).__name__
        raise BadHashSizeError(f"{what} is not a {HASH_SIZE}-byte hash (got {n})")


def _inclusion_length(index: int, size: int) -> int:
    """Number of hashes in the audit path of leaf ``index`` in a tree of ``size``."""
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner + border


def verify_inclusion_hash(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 2.1.3.2 for a leaf *hash*; raises an InclusionProofError subclass."""
    if index < 0 or size < 0 or index >= size:  # step 1
        raise IndexOutOfRangeError(f"leaf index {index} is not below tree size {size}")
    _check_hash(root, "root")
    _check_hash(leaf, "leaf hash")
    want = _inclusion_length(index, size)
    if len(proof) != want:
        raise WrongProofSizeError(f"proof for leaf {index} in a tree of size {size} has {len(proof)} hashes; "
                                  f"expected {want} (truncated, padded or made for another size)")
    fn, sn = index, size - 1  # step 2
    r = leaf  # step 3
    for i, p in enumerate(proof):  # step 4
        _check_hash(p, f"proof[{i}]")
        if sn == 0:  # 4a
            raise WrongProofSizeError(f"proof for leaf {index} in size {size} is longer than the tree is deep")
        if fn & 1 or fn == sn:  # 4b
            r = _sha256(NODE_PREFIX + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(NODE_PREFIX + r + p).digest()
        fn >>= 1  # 4c
        sn >>= 1
    if sn != 0:  # step 5
        raise WrongProofSizeError(f"proof for leaf {index} in size {size} is too short")
    if r != root:
        raise RootMismatchError(f"leaf {index} with this proof gives root {r.hex()}, expected {bytes(root).hex()}")


def verify_inclusion(entry: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that raw ``entry`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Raises IndexOutOfRangeError, WrongProofSizeError, BadHashSizeError or
    RootMismatchError (all InclusionProofError); returns None on success.
    """
    verify_inclusion_hash(leaf_hash(entry), index, size, proof, root)


def _consistency_length(old_size: int, new_size: int) -> int:
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = bin((old_size - 1) >> inner).count("1")
    shift = (old_size & -old_size).bit_length() - 1  # trailing zeros of old_size
    start = 0 if old_size == 1 << shift else 1
    return start + (inner - shift) + border


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """RFC 9162 2.1.4.2: the tree of ``new_size`` extends the tree of ``old_size``.

    Trivial cases (as in transparency-dev/merkle): old == new needs an empty
    proof and equal roots; old == 0 needs an empty proof.  Raises a
    ConsistencyProofError subclass; returns None on success.
    """
    verify_consistency_hashes(old_size, new_size, old_root, new_root, proof)


def verify_consistency_hashes(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                              proof: Sequence[bytes]) -> None:
    if old_size < 0 or new_size < 0:
        raise SizeOrderError(f"negative tree size ({old_size}, {new_size})")
    if old_size > new_size:
        raise SizeOrderError(f"old size {old_size} is larger than new size {new_size}: a log never shrinks")
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    if old_size == new_size:
        if proof:
            raise NonEmptyProofError(f"trees of equal size {old_size} need an empty proof, got {len(proof)} hashes")
        if old_root != new_root:
            raise NewRootMismatchError(f"two different roots for the same size {old_size}: "
                                       f"{bytes(old_root).hex()} and {bytes(new_root).hex()}")
        return
    if old_size == 0:
        if proof:
            raise NonEmptyProofError(f"an empty old tree needs an empty proof, got {len(proof)} hashes")
        return
    if not proof:  # step 1
        raise EmptyProofError(f"empty consistency proof from size {old_size} to {new_size}")
    want = _consistency_length(old_size, new_size)
    if len(proof) != want:
        raise WrongProofSizeError(f"consistency proof {old_size} -> {new_size} has {len(proof)} hashes; "
                                  f"expected {want} (truncated, padded or made for other sizes)")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof[{i}]")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: first is an exact power of 2
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            raise WrongProofSizeError(f"consistency proof {old_size} -> {new_size} is too long")
        if fn & 1 or fn == sn:  # 6b
            fr = _sha256(NODE_PREFIX + c + fr).digest()
            sr = _sha256(NODE_PREFIX + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(NODE_PREFIX + sr + c).digest()
        fn >>= 1  # 6c
        sn >>= 1
    # step 7
    if sn != 0:
        raise WrongProofSizeError(f"consistency proof {old_size} -> {new_size} is too short")
    if fr != old_root:
        raise OldRootMismatchError(f"proof does not lead to the old root of size {old_size} "
                                   f"(got {fr.hex()}, expected {bytes(old_root).hex()})")
    if sr != new_root:
        raise NewRootMismatchError(f"proof does not lead to the new root of size {new_size} "
                                   f"(got {sr.hex()}, expected {bytes(new_root).hex()})")
