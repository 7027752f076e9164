"""MinHash signatures for many documents at once, bit-identical to datasketch.

datasketch's ``MinHash(scheme="affine32", num_perm=n, seed=s)`` keeps, for each
permutation :math:`k`, the minimum over the document's shingles :math:`x` of

.. math:: \\pi_k(x) = a_k \\cdot \\mathrm{fmix32}(h(x)) + b_k \\pmod{2^{32}}

with :math:`a_k` odd, so each :math:`\\pi_k` is a bijection of 32-bit values and
:math:`\\Pr[\\min \\pi_k(A) = \\min \\pi_k(B)] \\approx J(A, B)`. Here ``h`` is
:func:`dedup.shingle.shingle_hash32`. The kernel is permutation-major: for each
:math:`k` one vectorised pass over all shingles of a chunk of documents and one
``np.minimum.reduceat``; the permutation parameters are taken from datasketch
itself, so ``LeanMinHash``, ``MinHashLSH`` and its storage accept the result.
An empty document gets the empty-sketch value :math:`2^{32}-1` everywhere.
"""

from __future__ import annotations

import numpy as np
from datasketch import LeanMinHash, MinHash

from .shingle import ShingleBatch

__all__ = ["EMPTY_SIGNATURE_VALUE", "MinHasher", "fmix32"]

# datasketch's value for a permutation that saw no shingle.
EMPTY_SIGNATURE_VALUE = np.uint32(0xFFFFFFFF)


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch's pre-mix), element-wise."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


class MinHasher:
    """Compute ``affine32`` MinHash signatures of shingle batches.

    Parameters
    ----------
    num_perm : int, default 128
        Number of permutations (signature length).
    seed : int, default 1
        Seed of the permutations, as in datasketch.
    chunk_shingles : int, default 65536
        Shingles processed per kernel pass; bounds the scratch memory.
    """

    def __init__(self, num_perm: int = 128, seed: int = 1, chunk_shingles: int = 1 << 16) -> None:
        if not isinstance(num_perm, int) or num_perm < 1:
            raise ValueError(f"num_perm must be a positive int, got {num_perm!r}")
        if chunk_shingles < 1:
            raise ValueError("chunk_shingles must be positive")
        self.num_perm = num_perm
        self.seed = seed
        self.chunk_shingles = chunk_shingles
        a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        self._a = np.asarray(a, dtype=np.uint32)
        self._b = np.asarray(b, dtype=np.uint32)

    def transform(self, batch: ShingleBatch) -> np.ndarray:
        """Signatures, shape ``(n_docs, num_perm)``, dtype uint32."""
        mixed = fmix32((batch.hashes >> np.uint64(32)).astype(np.uint32))
        offsets = batch.offsets
        signatures = np.full((batch.n_docs, self.num_perm), EMPTY_SIGNATURE_VALUE, dtype=np.uint32)
        doc = 0
        while doc < batch.n_docs:
            last = int(np.searchsorted(offsets, offsets[doc] + self.chunk_shingles, side="right")) - 1
            last = min(max(last, doc + 1), batch.n_docs)
            self._sign_chunk(mixed, offsets[doc : last + 1], signatures[doc:last])
            doc = last
        return signatures

    def _sign_chunk(self, mixed: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> None:
        lo, hi = int(offsets[0]), int(offsets[-1])
        if hi == lo:
            return
        values = mixed[lo:hi]
        starts = offsets[:-1] - lo
        filled = offsets[1:] > offsets[:-1]
        starts = starts[filled]
        phv = np.empty_like(values)
        for k in range(self.num_perm):
            np.multiply(values, self._a[k], out=phv)
            phv += self._b[k]
            out[filled, k] = np.minimum.reduceat(phv, starts)

    def to_minhash(self, signature: np.ndarray) -> LeanMinHash:
        """One signature as a datasketch ``LeanMinHash`` (for ``MinHashLSH`` and its storage)."""
        return LeanMinHash(seed=self.seed, hashvalues=signature, scheme="affine32")
