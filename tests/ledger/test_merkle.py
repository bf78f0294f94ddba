"""RFC 6962 / RFC 9162 Merkle functions against published test vectors, an
independent reference implementation, and property tests.

Test vectors: transparency-dev/merkle (Apache-2.0), the Go library behind
Trillian, Tessera and the Go checksum database:
- proof/verify_test.go: ``leaves``, ``roots``, ``inclusionProofs`` (1-based
  leaf numbers there), ``consistencyProofs`` and the corruption probes of
  ``corruptInclusionProof`` / ``corruptConsistencyProof``;
- rfc6962/rfc6962_test.go: empty root, empty leaf, leaf "L123456", node "N123"/"N456".
  https://github.com/transparency-dev/merkle (same vectors as Google's
  certificate-transparency C++ merkle_tree_test.cc).
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trucewatch.ledger import merkle
from trucewatch.ledger.merkle import (
    BadHashSizeError,
    ConsistencyProofError,
    EmptyProofError,
    InclusionProofError,
    IndexOutOfRangeError,
    NewRootMismatchError,
    NonEmptyProofError,
    OldRootMismatchError,
    RootMismatchError,
    SizeOrderError,
    WrongProofSizeError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

LEAVES = [h(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                         "606162636465666768696a6b6c6d6e6f"]]
ROOTS = [h(x) for x in [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]]
# (1-based leaf number, tree size, proof) as in inclusionProofs of verify_test.go.
INCLUSION = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")
EMPTY = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


# ------------------------------------------------------------------ vectors
def test_rfc6962_hasher_vectors():
    assert merkle.EMPTY_ROOT == EMPTY == root_hash([])
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456") == h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert merkle.hash_children(b"N123", b"N456") == h(
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")


@pytest.mark.parametrize("n", range(1, 9))
def test_roots(n):
    assert root_hash(LEAVES[:n]) == ROOTS[n - 1]


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_vectors(leaf, size, proof):
    proof = [h(p) for p in proof]
    assert inclusion_proof(LEAVES, leaf - 1, size) == proof
    verify_inclusion(LEAVES[leaf - 1], leaf - 1, size, proof, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_vectors(old, new, proof):
    proof = [h(p) for p in proof]
    assert consistency_proof(LEAVES, old, new) == proof
    verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], proof)


def _inclusion_probes(i, n, proof, root, entry):
    """corruptInclusionProof of verify_test.go (entry instead of leaf hash)."""
    probes = [
        (i - 1, n, root, entry, proof), (i + 1, n, root, entry, proof), (i ^ 2, n, root, entry, proof),
        (i, n * 2, root, entry, proof), (i, n // 2, root, entry, proof),
        (i, n, root, b"WrongLeaf", proof), (i, n, EMPTY, entry, proof), (i, n, SOME_HASH, entry, proof),
        (i, n, root, entry, [*proof, b""]), (i, n, root, entry, [*proof, root]),
        (i, n, root, entry, [b"", *proof]), (i, n, root, entry, [root, *proof]),
    ]
    for k in range(len(proof)):
        bad = list(proof)
        bad[k] = bytes([bad[k][0] ^ 8]) + bad[k][1:]
        probes.append((i, n, root, entry, bad))
    if proof:
        probes.append((i, n, root, entry, proof[:-1]))
    if len(proof) > 1:
        probes.append((i, n, root, entry, [proof[0], SOME_HASH, *proof[1:]]))
    return probes


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION[1:])
def test_inclusion_corruptions_fail(leaf, size, proof):
    proof = [h(p) for p in proof]
    for i, n, root, entry, p in _inclusion_probes(leaf - 1, size, proof, ROOTS[size - 1], LEAVES[leaf - 1]):
        with pytest.raises(InclusionProofError):
            verify_inclusion(entry, i, n, p, root)


@pytest.mark.parametrize(("old", "new", "proof"), [c for c in CONSISTENCY if c[2]])
def test_consistency_corruptions_fail(old, new, proof):
    proof = [h(p) for p in proof]
    r1, r2 = ROOTS[old - 1], ROOTS[new - 1]
    probes = [
        (old - 1, new, r1, r2, proof), (old + 1, new, r1, r2, proof), (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof), (old, new // 2, r1, r2, proof),
        (old, new, b"WrongRoot", r2, proof), (old, new, r1, b"WrongRoot", proof), (old, new, r2, r1, proof),
        (old, new, r1, r2, []), (old, new, r1, r2, [*proof, b""]), (old, new, r1, r2, [*proof, r1]),
        (old, new, r1, r2, [*proof, r2]), (old, new, r1, r2, [b"", *proof]), (old, new, r1, r2, [r1, *proof]),
        (old, new, r1, r2, [r2, *proof]), (old, new, r1, r2, [proof[0], *proof]),
        (old, new, r1, r2, proof[:-1]),
    ]
    for k in range(len(proof)):
        bad = list(proof)
        bad[k] = bytes([bad[k][0] ^ 16]) + bad[k][1:]
        probes.append((old, new, r1, r2, bad))
    for o, n, a, b, p in probes:
        if o == old and n == new and a == r1 and b == r2 and p == proof:
            continue  # e.g. old ^ 2 == old for some sizes
        with pytest.raises(ConsistencyProofError):
            verify_consistency(o, n, a, b, p)


def test_specific_error_classes():
    p = inclusion_proof(LEAVES, 5, 8)
    with pytest.raises(IndexOutOfRangeError):
        verify_inclusion(LEAVES[5], 8, 8, p, ROOTS[7])
    with pytest.raises(IndexOutOfRangeError):
        verify_inclusion(LEAVES[0], 0, 0, [], EMPTY)
    with pytest.raises(WrongProofSizeError):  # truncated
        verify_inclusion(LEAVES[5], 5, 8, p[:-1], ROOTS[7])
    with pytest.raises(WrongProofSizeError):  # proof for another size
        verify_inclusion(LEAVES[5], 5, 6, p, ROOTS[5])
    with pytest.raises(BadHashSizeError):
        verify_inclusion(LEAVES[5], 5, 8, [p[0][:31], *p[1:]], ROOTS[7])
    with pytest.raises(RootMismatchError):
        verify_inclusion(LEAVES[4], 5, 8, p, ROOTS[7])
    c = consistency_proof(LEAVES, 6, 8)
    with pytest.raises(SizeOrderError):
        verify_consistency(8, 6, ROOTS[7], ROOTS[5], c)
    with pytest.raises(EmptyProofError):
        verify_consistency(6, 8, ROOTS[5], ROOTS[7], [])
    with pytest.raises(NonEmptyProofError):
        verify_consistency(8, 8, ROOTS[7], ROOTS[7], c)
    with pytest.raises(NewRootMismatchError):
        verify_consistency(8, 8, ROOTS[7], ROOTS[6], [])
    with pytest.raises(OldRootMismatchError):
        verify_consistency(6, 8, ROOTS[4], ROOTS[7], c)
    with pytest.raises(NewRootMismatchError):
        verify_consistency(6, 8, ROOTS[5], ROOTS[6], c)
    with pytest.raises(WrongProofSizeError):
        verify_consistency(6, 8, ROOTS[5], ROOTS[7], c[:-1])
    with pytest.raises(IndexOutOfRangeError):
        inclusion_proof(LEAVES, 8, 8)
    verify_consistency(0, 8, EMPTY, ROOTS[7], [])  # trivially consistent
    verify_consistency(8, 8, ROOTS[7], ROOTS[7], [])


# ------------------------------------------------- independent reference (RFC text)
def _mth(d):
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < len(d):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(d[:k]) + _mth(d[k:])).digest()


def _path(m, d):
    if len(d) <= 1:
        return []
    k = 1
    while k * 2 < len(d):
        k *= 2
    return [*_path(m, d[:k]), _mth(d[k:])] if m < k else [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m, d, b):
    if m == len(d):
        return [] if b else [_mth(d)]
    k = 1
    while k * 2 < len(d):
        k *= 2
    if m <= k:
        return [*_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


leaves_st = st.lists(st.binary(max_size=12), min_size=1, max_size=40, unique=True)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(leaves_st, st.data())
def test_matches_rfc_recursion(d, data):
    n = len(d)
    m = data.draw(st.integers(0, n - 1))
    old = data.draw(st.integers(1, n))
    assert root_hash(d) == _mth(d)
    assert inclusion_proof(d, m, n) == _path(m, d)
    assert consistency_proof(d, old, n) == ([] if old == n else _subproof(old, d, True))


@FAST
@given(leaves_st, st.data())
def test_every_inclusion_proof_verifies_and_every_bit_flip_fails(d, data):
    n = len(d)
    size = data.draw(st.integers(1, n))
    i = data.draw(st.integers(0, size - 1))
    root = root_hash(d[:size])
    proof = inclusion_proof(d, i, size)
    verify_inclusion(d[i], i, size, proof, root)
    # every single-bit change to entry, proof or root fails
    blob = [bytearray(d[i])] + [bytearray(p) for p in proof] + [bytearray(root)]
    for part in range(len(blob)):
        for bit in range(len(blob[part]) * 8):
            mod = [bytes(x) for x in blob]
            b = bytearray(mod[part])
            b[bit // 8] ^= 1 << (bit % 8)
            mod[part] = bytes(b)
            with pytest.raises(InclusionProofError):
                verify_inclusion(mod[0], i, size, mod[1:-1], mod[-1])
    for other in {i - 1, i + 1, size}:
        if 0 <= other != i:
            with pytest.raises(InclusionProofError):
                verify_inclusion(d[i], other, size, proof, root)


@FAST
@given(leaves_st, st.data())
def test_every_consistency_proof_verifies_and_every_bit_flip_fails(d, data):
    n = len(d)
    old = data.draw(st.integers(1, n))
    r1, r2 = root_hash(d[:old]), root_hash(d)
    proof = consistency_proof(d, old, n)
    verify_consistency(old, n, r1, r2, proof)
    blob = [bytearray(r1)] + [bytearray(p) for p in proof] + [bytearray(r2)]
    for part in range(len(blob)):
        for bit in range(0, 256, 3):  # a spread of bits in every hash
            mod = [bytes(x) for x in blob]
            b = bytearray(mod[part])
            b[bit // 8] ^= 1 << (bit % 8)
            mod[part] = bytes(b)
            with pytest.raises(ConsistencyProofError):
                verify_consistency(old, n, mod[0], mod[-1], mod[1:-1])
    if old < n:
        with pytest.raises(ConsistencyProofError):
            verify_consistency(old, n, r1, r2, proof[:-1])
        with pytest.raises(ConsistencyProofError):
            verify_consistency(old, n, r1, r2, [*proof, proof[-1]])
