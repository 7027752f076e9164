"""Exact re-check of candidate pairs on their shingle sets, and the verbatim relation.

For shingle sets :math:`A` and :math:`B`:

* Jaccard :math:`J = |A \\cap B| / |A \\cup B|`;
* containment of *a* in *b* :math:`C_{a \\subset b} = |A \\cap B| / |A|` -- the share
  of *a*'s shingles that also occur in *b* (1.0 when *a* is wholly inside *b*).

Containment matters for news: an outlet that republishes a 400-word wire story
and appends a 600-word interview has :math:`J \\approx 0.4` with the wire but
contains all of it.

Relations, strongest first:

* ``exact`` -- the same normalised text;
* ``near_duplicate`` -- :math:`J \\ge` ``near_duplicate``;
* ``derived`` -- :math:`\\max(C_{a \\subset b}, C_{b \\subset a}) \\ge` ``derived``.

Every function takes two sides, ``(left, right)`` and pairs ``(i, j)`` indexing
``left[i]`` and ``right[j]``: a scan passes the same set twice (a self-join),
an index query passes the new article and the stored ones.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import relation
from .params import Params
from .ragged import Ragged
from .shingle import TokenBatch
from .sortunique import unique_first_inverse

__all__ = ["Overlaps", "figure_set", "figure_sets", "figures_agree", "intersection_size", "shared_counts",
           "verbatim_relations"]

_DIGITS = re.compile(r"\d+")
_CHUNK = 1 << 19  # hashes gathered at a time (both sides): the temporaries stay in memory the allocator reuses
_COLUMNS = np.iinfo(np.int64).max  # c = v >> 1 of every 64-bit hash v is below this


def intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """Size of the intersection of two sorted arrays of unique values."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) == 0:
        return 0
    idx = np.searchsorted(b, a)
    idx[idx == len(b)] = 0
    return int(np.count_nonzero(b[idx] == a))


def shared_counts(left: Ragged, right: Ragged, pairs: np.ndarray) -> np.ndarray:
    """:math:`|A_i \\cap B_j|` of every pair ``(i, j)`` of sorted unique 64-bit hashes (``left.row(i)``,
    ``right.row(j)``): the merge of the two rows, vectorised over the pairs.

    A hash is :math:`v = 2c + p` (:math:`c = v \\gg 1 < 2^{63}`, :math:`p` its lowest bit). A row becomes a
    sparse row with the entry :math:`1 - 2p` in column :math:`c` (columns ascending, as the hashes are). The
    element-wise product of the rows gathered for the pairs (scipy's merge of sorted column indices, linear
    in :math:`|A| + |B|`) has an entry where both rows hold column :math:`c`, and it is :math:`+1` exactly when
    the lowest bits agree too: :math:`|A \\cap B|` is the number of positive entries of the pair's row. A
    chunk with a row holding both :math:`2c` and :math:`2c + 1` (a repeated column) takes
    :func:`intersection_size` pair by pair. Pairs go in chunks of about ``2**19`` gathered hashes.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    out = np.zeros(len(pairs), dtype=np.float64)
    if not len(pairs):
        return out
    work = np.cumsum(left.sizes()[pairs[:, 0]] + right.sizes()[pairs[:, 1]])
    start = 0
    while start < len(pairs):
        done = int(work[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(work, done + _CHUNK, side="right")))
        chunk = pairs[start:stop]
        a, b = _sparse_rows(left.take(chunk[:, 0])), _sparse_rows(right.take(chunk[:, 1]))
        if a is None or b is None:
            out[start:stop] = [intersection_size(left.row(i), right.row(j)) for i, j in chunk.tolist()]
        else:
            both = a.multiply(b).tocsr()
            agree = np.concatenate(([0], np.cumsum(both.data > 0)))
            out[start:stop] = agree[both.indptr[1:]] - agree[both.indptr[:-1]]
        start = stop
    return out


def _sparse_rows(rows: Ragged) -> sp.csr_matrix | None:
    """Rows of hashes as a sparse matrix: entry :math:`1 - 2p` in column :math:`c` for each :math:`v = 2c + p`
    (None when a row repeats a column)."""
    values = rows.values.astype(np.uint64, copy=False)
    columns = (values >> np.uint64(1)).astype(np.int64)
    repeated = columns[1:] == columns[:-1]
    starts = rows.offsets[1:-1]
    repeated[starts[(starts > 0) & (starts < len(values))] - 1] = False  # a row's first column follows another row
    if repeated.any():
        return None
    signs = 1 - 2 * (values & np.uint64(1)).astype(np.int8)
    return sp.csr_matrix((signs, columns, rows.offsets), shape=(len(rows), _COLUMNS))


def figure_set(tokenized: str) -> np.ndarray:
    """The distinct tokens holding a digit (figures, dates, amounts), hashed and sorted.

    Hashes are the first 8 bytes of BLAKE2b of the token: the same in every
    process, so figures can be stored and compared later.
    """
    tokens = set()
    for digits in _DIGITS.finditer(tokenized):  # few per text: widen each to its token
        start = tokenized.rfind(" ", 0, digits.start()) + 1
        end = tokenized.find(" ", digits.end())
        tokens.add(tokenized[start : end if end >= 0 else len(tokenized)])
    found = [_hash64(token) for token in tokens]
    return np.array(sorted(found), dtype=np.uint64)


def figure_sets(tokens: TokenBatch, token_texts: Sequence[str]) -> Ragged:
    """:func:`figure_set` of every text of a batch, from its hashed tokens (:func:`dedup.shingle.token_batch`).

    In ASCII texts a token holds a digit when one of its bytes is one; each distinct such token of
    the batch is hashed once. Texts with other characters take :func:`figure_set`."""
    if len(token_texts) == 0:
        return Ragged.empty()
    digit = (tokens.data >= ord("0")) & (tokens.data <= ord("9"))
    before = np.concatenate(([0], np.cumsum(digit)))
    ascii_doc = np.fromiter((t.isascii() for t in token_texts), dtype=bool, count=len(token_texts))
    doc = tokens.doc_ids()
    chosen = np.flatnonzero((before[tokens.ends] > before[tokens.starts]) & ascii_doc[doc])
    _, first, inverse = unique_first_inverse(tokens.hashes[chosen])
    data = tokens.data
    hashed = np.array([_hash64_bytes(data[tokens.starts[t]:tokens.ends[t]].tobytes()) for t in chosen[first].tolist()],
                      dtype=np.uint64)
    owner, values = doc[chosen], hashed[inverse]
    order = np.lexsort((values, owner))  # by text, then by hash: each text's row comes out sorted
    owner, values = owner[order], values[order]
    distinct = np.ones(len(owner), dtype=bool)
    distinct[1:] = (owner[1:] != owner[:-1]) | (values[1:] != values[:-1])
    owner, values = owner[distinct], values[distinct]
    rows = np.split(values, np.searchsorted(owner, np.arange(1, len(token_texts))))
    ordered = [row if ascii_doc[d] else figure_set(token_texts[d]) for d, row in enumerate(rows)]
    return Ragged.from_rows(ordered)


def _hash64_bytes(token: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(token, digest_size=8).digest(), "little")


def _hash64(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def figures_agree(a: np.ndarray, b: np.ndarray, min_figures: int = 3, min_share: float = 0.5) -> bool:
    """Whether two texts that share wording also share their figures.

    False when both carry at least ``min_figures`` figures and fewer than
    ``min_share`` of the smaller set occur in the other: the same template
    (a dividend notice, a money-market report) filled in with other numbers.
    """
    smaller = min(len(a), len(b))
    if smaller < min_figures:
        return True
    return intersection_size(a, b) >= min_share * smaller


@dataclass(frozen=True)
class Overlaps:
    """Exact overlap measures of pairs, one entry per pair (numpy arrays)."""

    shared: np.ndarray  # |A & B|
    jaccard: np.ndarray
    containment_a_in_b: np.ndarray
    containment_b_in_a: np.ndarray

    def __len__(self) -> int:
        return len(self.shared)

    def take(self, selection: np.ndarray) -> Overlaps:
        return Overlaps(self.shared[selection], self.jaccard[selection], self.containment_a_in_b[selection],
                        self.containment_b_in_a[selection])

    @classmethod
    def compute(cls, left: Ragged, right: Ragged, pairs: np.ndarray) -> Overlaps:
        """Overlaps of ``left.row(i)`` and ``right.row(j)`` (sorted unique shingle hashes)."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        shared = shared_counts(left, right, pairs)
        return cls.of_counts(shared, left.sizes()[pairs[:, 0]], right.sizes()[pairs[:, 1]])

    @classmethod
    def of_counts(cls, shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> Overlaps:
        """Overlaps from the shared count and the two set sizes of each pair."""
        shared = np.asarray(shared, dtype=np.float64)
        size_a = np.asarray(size_a, dtype=np.float64)
        size_b = np.asarray(size_b, dtype=np.float64)
        union = size_a + size_b - shared
        with np.errstate(divide="ignore", invalid="ignore"):
            jaccard = np.where(union > 0, shared / union, 0.0)
            in_b = np.where(size_a > 0, shared / size_a, 0.0)
            in_a = np.where(size_b > 0, shared / size_b, 0.0)
        return cls(shared, jaccard, in_b, in_a)


def verbatim_relations(overlaps: Overlaps, exact: np.ndarray, params: Params) -> np.ndarray:
    """Relation code per pair (:mod:`dedup.relation`; ``NONE`` for no verbatim relation).

    ``exact`` is a boolean array: whether the pair's normalised texts are equal.
    A non-exact pair needs ``min_shared`` shingles in common.
    """
    containment = np.maximum(overlaps.containment_a_in_b, overlaps.containment_b_in_a)
    out = np.full(len(overlaps), relation.NONE, dtype=np.int8)
    out[containment >= params.derived] = relation.DERIVED
    out[overlaps.jaccard >= params.near_duplicate] = relation.NEAR_DUPLICATE
    out[overlaps.shared < params.min_shared] = relation.NONE
    out[np.asarray(exact, dtype=bool)] = relation.EXACT
    return out
