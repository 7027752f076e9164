"""Word shingles, hashed in bulk with numpy -- no Python object per shingle.

A *k*-shingle is a run of *k* consecutive tokens (see :mod:`dedup.normalize`).
Its hash is defined on the bytes ``b" ".join(tokens)`` so that a shingle can be
hashed one at a time too (:func:`shingle_hash32`, usable as datasketch's
``hashfunc``) with bit-identical results.

The hash, all arithmetic modulo :math:`2^{64}`:

* token :math:`t = c_0 c_1 \\dots c_{L-1}` (UTF-8 bytes):
  :math:`p(t) = \\sum_j c_j Q^j`, then
  :math:`h(t) = \\mathrm{fmix64}(p(t) + L \\cdot C)`;
* shingle :math:`(t_0, \\dots, t_{m-1})`:
  :math:`H = \\mathrm{fmix64}(\\sum_i h(t_i) R_i)`; its 32-bit form is the
  high half of :math:`H`.

For a whole batch the token polynomials come from one prefix sum over the
concatenated bytes: with :math:`P_n = \\sum_{j<n} c_j Q^j`,
:math:`p(t_{[s,e)}) = (P_e - P_s) \\, Q^{-s}` (``Q`` is odd, so it has an
inverse modulo :math:`2^{64}`).

Documents with fewer than ``k`` (but at least one) tokens yield one shingle of
all their tokens, so short texts still compare.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .normalize import normalize, token_text
from .ragged import Ragged
from .sortunique import sorted_unique

__all__ = ["ShingleBatch", "ShingleHasher", "TokenBatch", "shingle_hash32", "shingle_hash64", "shingles", "token_batch"]

_MASK64 = (1 << 64) - 1
_Q = 0x100000001B3  # the FNV-64 prime: odd
_Q_INV = pow(_Q, -1, 1 << 64)
_C = 0x9E3779B97F4A7C15  # golden-ratio constant, separates token lengths
# Position weights R_i (odd, distinct); shingles longer than this are refused.
_R = tuple((0xD6E8FEB86659FD93 * (2 * i + 1) + 0x2545F4914F6CDD1D * i) & _MASK64 | 1 for i in range(64))
_SPACE = 0x20


def _fmix64_int(x: int) -> int:
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & _MASK64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & _MASK64
    return x ^ (x >> 33)


def _fmix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def shingle_hash64(shingle: bytes) -> int:
    """64-bit hash of one shingle given as space-joined token bytes."""
    total = 0
    for i, token in enumerate(shingle.split(b" ")):
        poly = 0
        power = 1
        for byte in token:
            poly = (poly + byte * power) & _MASK64
            power = (power * _Q) & _MASK64
        total = (total + _fmix64_int((poly + len(token) * _C) & _MASK64) * _R[i]) & _MASK64
    return _fmix64_int(total)


def shingle_hash32(shingle: bytes) -> int:
    """32-bit hash of one shingle: datasketch ``hashfunc`` for ``scheme="affine32"``."""
    return shingle_hash64(shingle) >> 32


def shingles(text: str, k: int) -> list[bytes]:
    """The shingles of raw text as bytes, in order (duplicates kept); the slow path."""
    toks = token_text(normalize(text)).split(" ")
    toks = [t for t in toks if t]
    if not toks:
        return []
    if len(toks) < k:
        return [" ".join(toks).encode("utf-8")]
    return [" ".join(toks[i : i + k]).encode("utf-8") for i in range(len(toks) - k + 1)]


@dataclass(frozen=True)
class ShingleBatch:
    """Shingle hashes of a batch of documents, flattened.

    ``hashes[offsets[d]:offsets[d + 1]]`` are document ``d``'s shingle hashes
    in text order (duplicates kept); ``offsets`` has ``n_docs + 1`` entries.
    """

    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def doc(self, d: int) -> np.ndarray:
        return self.hashes[self.offsets[d] : self.offsets[d + 1]]

    def sets(self) -> list[np.ndarray]:
        """Each document's shingle set as a sorted array of unique uint64."""
        return [sorted_unique(self.doc(d)) for d in range(self.n_docs)]

    def set_rows(self) -> Ragged:
        """Each document's shingle set (sorted, unique), as one ragged array."""
        return Ragged.from_rows([sorted_unique(self.doc(d)) for d in range(self.n_docs)])


@dataclass(frozen=True)
class TokenBatch:
    """The tokens of some texts in token-text form, hashed: token ``t`` is the UTF-8 bytes
    ``data[starts[t]:ends[t]]``, its hash :math:`h(t)` is ``hashes[t]``; document ``d``'s tokens
    are ``offsets[d]:offsets[d + 1]``. Every shingle size, the term counts and the figures of a
    batch are computed from one of these (:func:`dedup.fingerprint.fingerprint`)."""

    data: np.ndarray  # uint8: the texts joined by spaces
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    hashes: np.ndarray  # uint64
    offsets: np.ndarray  # int64

    @property
    def n_docs(self) -> int:
        return len(self.offsets) - 1

    def doc_ids(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_docs, dtype=np.int64), np.diff(self.offsets))


def token_batch(token_texts: Sequence[str]) -> TokenBatch:
    """The hashed tokens of texts in :func:`~dedup.normalize.token_text` form (all held at once:
    for a batch of articles; :meth:`ShingleHasher.transform_tokens` bounds its scratch memory)."""
    encoded = [t.encode("utf-8") for t in token_texts]
    parts = [_token_batch(encoded[lo:hi]) for lo, hi in _chunks([len(e) + 1 for e in encoded])]
    if len(parts) == 1:
        return parts[0]
    shift = np.cumsum([0] + [len(p.data) for p in parts[:-1]])
    counts = np.concatenate([np.diff(p.offsets) for p in parts])
    return TokenBatch(
        np.concatenate([p.data for p in parts]),
        np.concatenate([p.starts + s for p, s in zip(parts, shift, strict=True)]),
        np.concatenate([p.ends + s for p, s in zip(parts, shift, strict=True)]),
        np.concatenate([p.hashes for p in parts]),
        np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
    )


def _token_batch(encoded: list[bytes]) -> TokenBatch:
    """Token hashes of one chunk of encoded texts: one prefix sum over their bytes."""
    lengths = np.fromiter((len(e) + 1 for e in encoded), dtype=np.int64, count=len(encoded))
    doc_start = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    data = np.frombuffer(b" ".join(encoded) + b" ", dtype=np.uint8)
    n = len(data)
    is_word = data != _SPACE
    edges = np.diff(np.concatenate(([False], is_word, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    forward, inverse = _chunk_powers() if n <= _CHUNK_BYTES else (_powers(_Q, n + 1), _powers(_Q_INV, n + 1))
    with np.errstate(over="ignore"):
        prefix = np.empty(n + 1, dtype=np.uint64)
        prefix[0] = 0
        np.cumsum(data.astype(np.uint64) * forward[:n], out=prefix[1:])
        poly = (prefix[ends] - prefix[starts]) * inverse[starts]
        token_hash = _fmix64(poly + (ends - starts).astype(np.uint64) * np.uint64(_C))
    token_doc = np.searchsorted(doc_start, starts, side="right") - 1
    offsets = np.concatenate(([0], np.cumsum(np.bincount(token_doc, minlength=len(encoded))))).astype(np.int64)
    return TokenBatch(data, starts.astype(np.int64), ends.astype(np.int64), token_hash, offsets)


def _chunks(sizes: list[int]) -> list[tuple[int, int]]:
    """Consecutive ``(lo, hi)`` ranges of items whose sizes add up to about ``_CHUNK_BYTES``
    (a larger item alone); one empty range when there are no items."""
    bounds, lo, total = [], 0, 0
    for i, size in enumerate(sizes):
        if total and total + size > _CHUNK_BYTES:
            bounds.append((lo, i))
            lo, total = i, 0
        total += size
    bounds.append((lo, len(sizes)))
    return bounds


def _powers(base: int, n: int) -> np.ndarray:
    """:math:`base^i` modulo 2^64 for i < n."""
    out = np.ones(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        np.cumprod(np.full(n - 1, base, dtype=np.uint64), out=out[1:])
    return out


# Q^i and Q^-i for one chunk of bytes (2 x 8 bytes per byte of chunk), built on first use:
# importing dedup costs nothing for a process that never shingles.
_CHUNK_BYTES = 1 << 22


@functools.cache
def _chunk_powers() -> tuple[np.ndarray, np.ndarray]:
    return _powers(_Q, _CHUNK_BYTES + 1), _powers(_Q_INV, _CHUNK_BYTES + 1)


class ShingleHasher:
    """Hash the word shingles of many documents at once.

    Parameters
    ----------
    k : int, default 3
        Shingle size in tokens (:attr:`dedup.params.Params.shingle_size`).
    """

    def __init__(self, k: int = 3) -> None:
        if not isinstance(k, int) or not 1 <= k <= len(_R):
            raise ValueError(f"shingle size k must be an int in 1..{len(_R)}, got {k!r}")
        self.k = k

    def transform(self, texts: Sequence[str], *, normalized: bool = False) -> ShingleBatch:
        """Shingle hashes of raw texts (or of ``normalize``-d texts with ``normalized=True``)."""
        joined = [token_text(t if normalized else normalize(t)) for t in texts]
        return self.transform_tokens(joined)

    def transform_tokens(self, token_texts: Sequence[str]) -> ShingleBatch:
        """Shingle hashes of texts already in :func:`~dedup.normalize.token_text` form.

        Documents are hashed in chunks of about 4 MB of text, so scratch memory
        stays bounded however many documents come at once.
        """
        encoded = [t.encode("utf-8") for t in token_texts]
        parts = [self.combine(_token_batch(encoded[lo:hi])) for lo, hi in _chunks([len(e) + 1 for e in encoded])]
        counts = np.concatenate([np.diff(part.offsets) for part in parts])
        offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        return ShingleBatch(hashes=np.concatenate([part.hashes for part in parts]), offsets=offsets)

    def combine(self, tokens: TokenBatch) -> ShingleBatch:
        """The shingle hashes of hashed tokens (:func:`token_batch`)."""
        return self._combine(tokens.hashes, tokens.doc_ids(), tokens.n_docs)

    def _combine(self, token_hash: np.ndarray, token_doc: np.ndarray, n_docs: int) -> ShingleBatch:
        k = self.k
        tokens_per_doc = np.bincount(token_doc, minlength=n_docs)
        token_offsets = np.concatenate(([0], np.cumsum(tokens_per_doc))).astype(np.int64)
        # Shingle i of a document starts at its token i; a document of m >= 1
        # tokens has max(m - k + 1, 1) shingles, each of min(k, m) tokens.
        per_doc = np.where(tokens_per_doc > 0, np.maximum(tokens_per_doc - k + 1, 1), 0)
        offsets = np.concatenate(([0], np.cumsum(per_doc))).astype(np.int64)
        total = int(offsets[-1])
        shingle_doc = np.repeat(np.arange(n_docs), per_doc)
        first_token = token_offsets[shingle_doc] + (np.arange(total) - offsets[shingle_doc])
        width = np.minimum(tokens_per_doc[shingle_doc], k)
        acc = np.zeros(total, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(k):
                inside = width > i
                idx = first_token[inside] + i
                acc[inside] += token_hash[idx] * np.uint64(_R[i])
            hashes = _fmix64(acc)
        return ShingleBatch(hashes=hashes, offsets=offsets)
