"""Candidate pairs by LSH banding over MinHash signatures.

Signatures are cut into ``b`` bands of ``r`` rows; two documents become a
candidate pair when all ``r`` values of at least one band agree. For Jaccard
similarity :math:`s` that happens with probability

.. math:: P(s) = 1 - (1 - s^r)^b,

an S-curve whose steep part sits near :math:`(1/b)^{1/r}`. ``b`` and ``r`` are
chosen exactly as datasketch's ``MinHashLSH(threshold, num_perm, weights)``
chooses them (minimising weighted false-positive and false-negative areas), so
the batch path here and an incremental ``MinHashLSH`` index agree.

The default threshold is low (0.2) on purpose: a copy *contained* in a longer
article has Jaccard :math:`|A|/|B|` (0.4 for 400 wire words inside 1,000), and a
copy with 10-15 % of its words edited keeps only about 60 % of its 3-shingles.
Every candidate is verified exactly afterwards, so a low threshold costs time,
not precision.
"""

from __future__ import annotations

import functools

import numpy as np
from datasketch import MinHashLSH

from .sign import EMPTY_SIGNATURE_VALUE
from .sortunique import sorted_unique

__all__ = ["BandedLSH", "collision_probability", "decode_pairs", "encode_pairs"]


def collision_probability(similarity: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """:math:`1 - (1 - s^r)^b`: the chance a pair of Jaccard ``s`` becomes a candidate."""
    return 1.0 - (1.0 - np.power(similarity, rows)) ** bands


class BandedLSH:
    """Find candidate pairs among many signatures at once.

    Parameters
    ----------
    threshold : float, default 0.2
        Jaccard similarity at which candidates should start to be found.
    num_perm : int, default 128
        Signature length.
    weights : (float, float), default (0.3, 0.7)
        Weights of false positives and false negatives when choosing ``b`` and ``r``.
    max_bucket : int, default 1000
        Buckets holding more documents than this (thousands of near-identical
        items, or a template) give only the pairs of their first document with
        each other one, keeping the pair count bounded; :meth:`candidates`
        returns such buckets too, so that clustering can treat them as one.
    """

    def __init__(
        self,
        threshold: float = 0.2,
        num_perm: int = 128,
        weights: tuple[float, float] = (0.3, 0.7),
        max_bucket: int = 1000,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"LSH threshold must be in (0, 1), got {threshold!r}")
        self.threshold = threshold
        self.num_perm = num_perm
        self.weights = weights
        self.max_bucket = max_bucket
        self.bands, self.rows = _band_choice(threshold, num_perm, tuple(weights))

    def band_keys(self, signatures: np.ndarray) -> np.ndarray:
        """One 64-bit key per (document, band), shape ``(n_docs, bands)``."""
        n_docs = signatures.shape[0]
        used = signatures[:, : self.bands * self.rows].reshape(n_docs, self.bands, self.rows)
        keys = np.zeros((n_docs, self.bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(self.rows):
                keys = (keys ^ used[:, :, i].astype(np.uint64)) * np.uint64(0x100000001B3)
                keys ^= keys >> np.uint64(29)
        return keys

    def candidate_pairs(self, signatures: np.ndarray) -> np.ndarray:
        """Distinct candidate pairs ``(i, j)`` with ``i < j`` among ``signatures``, shape ``(n_pairs, 2)``.

        Empty documents (no shingles) are never candidates.
        """
        return self.candidates(signatures)[0]

    def candidates(self, signatures: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """Candidate pairs, and the members of every bucket larger than ``max_bucket``
        (sorted; only their pairs with the first member are among the candidates)."""
        return self.self_join(*self._keys(signatures))

    def probe(self, queries: np.ndarray, stored: np.ndarray) -> np.ndarray:
        """Pairs ``(q, s)``: query signature ``q`` shares a bucket with stored signature ``s``.

        The bucket rule is the self-join's, applied to queries and stored
        signatures together: the pairs are exactly the query-to-stored pairs a
        self-join of both would give (``stored`` need only hold the signatures
        that share some bucket with a query).
        """
        n_queries = len(queries)
        pairs = self.candidate_pairs(np.concatenate([queries, stored]).reshape(-1, self.num_perm))
        across = (pairs[:, 0] < n_queries) & (pairs[:, 1] >= n_queries)
        return np.stack([pairs[across, 0], pairs[across, 1] - n_queries], axis=1)

    def _keys(self, signatures: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        signatures = np.asarray(signatures)
        if signatures.ndim != 2 or signatures.shape[1] != self.num_perm:
            raise ValueError(f"signatures must have shape (n, {self.num_perm}), got {signatures.shape}")
        nonempty = np.flatnonzero(~np.all(signatures == EMPTY_SIGNATURE_VALUE, axis=1))
        return self.band_keys(signatures[nonempty]), nonempty, signatures.shape[0]

    def self_join(self, keys: np.ndarray, doc_ids: np.ndarray, n_docs: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Pairs of ``doc_ids`` sharing a bucket in some band (keys of shape ``(len(doc_ids), bands)``),
        and the oversized buckets."""
        if len(doc_ids) < 2:
            return np.empty((0, 2), dtype=np.int64), []
        codes, oversized = [], []
        for band in range(self.bands):
            band_codes, band_oversized = self._band_pairs(keys[:, band], doc_ids, n_docs)
            codes.append(band_codes)
            oversized.extend(band_oversized)
        merged = sorted_unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)
        distinct = {group.tobytes(): group for group in oversized}  # the same bucket is met in many bands
        return decode_pairs(merged, n_docs), [distinct[key] for key in sorted(distinct)]

    def _band_pairs(self, keys: np.ndarray, doc_ids: np.ndarray, n_docs: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Pairs sharing a bucket in one band, encoded as ``i * n_docs + j``, and the oversized buckets."""
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
        starts = np.concatenate(([0], boundaries))
        sizes = np.diff(np.concatenate((starts, [len(keys)])))
        pairs = starts[sizes == 2]
        first, second = doc_ids[order[pairs]], doc_ids[order[pairs + 1]]
        out = [np.minimum(first, second) * n_docs + np.maximum(first, second)]
        small = (sizes > 2) & (sizes <= self.max_bucket)
        out.append(_group_pairs(doc_ids[order], starts[small], sizes[small], n_docs))
        oversized = []
        for start, size in zip(starts[sizes > self.max_bucket], sizes[sizes > self.max_bucket], strict=True):
            members = np.sort(doc_ids[order[start : start + size]])
            out.append(members[0] * n_docs + members[1:])
            oversized.append(members)
        return np.concatenate(out), oversized


@functools.lru_cache(maxsize=32)
def _band_choice(threshold: float, num_perm: int, weights: tuple[float, float]) -> tuple[int, int]:
    """datasketch's bands and rows for the threshold (an integration: computed once per setting)."""
    index = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    return int(index.b), int(index.r)


def _group_pairs(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray, n_docs: int) -> np.ndarray:
    """Every pair inside each group ``values[start:start + size]``, encoded as ``i * n_docs + j``
    (``i < j``), all groups at once: the member at place ``a`` of a group of ``s`` pairs with the
    ``s - 1 - a`` after it once the group is sorted (:func:`encode_pairs` of each group)."""
    if len(starts) == 0:
        return np.empty(0, dtype=np.int64)
    group = np.repeat(np.arange(len(starts)), sizes)
    place = np.arange(len(group)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    members = np.asarray(values)[np.repeat(starts, sizes) + place]
    members = members[np.lexsort((members, group))]  # sorted inside each group
    after = sizes[group] - 1 - place
    first = np.repeat(np.arange(len(members)), after)
    second = first + 1 + np.arange(len(first)) - np.repeat(np.cumsum(after) - after, after)
    return members[first] * n_docs + members[second]


def encode_pairs(members: np.ndarray, n_docs: int) -> np.ndarray:
    """Every pair of a sorted group of documents, encoded as ``i * n_docs + j`` (``i < j``)."""
    first, second = np.triu_indices(len(members), k=1)
    return members[first] * n_docs + members[second]


def decode_pairs(codes: np.ndarray, n_docs: int) -> np.ndarray:
    """Pair codes ``i * n_docs + j`` back to an ``(m, 2)`` array."""
    return np.stack([codes // max(n_docs, 1), codes % max(n_docs, 1)], axis=1).astype(np.int64)
