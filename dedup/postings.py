"""An inverted index fingerprint -> documents, and candidate pairs from it.

The index is a table of rows ``(fingerprint, doc, family)`` sorted by
fingerprint, built and joined with sort-based group-bys in numpy -- the shape
a SQL table keyed by fingerprint, or a Dask shuffle on the key, computes.

One **bucket rule** decides which rows of one fingerprint make pairs; both
entry points apply it:

* :func:`self_join` -- every document against every other;
* :func:`probe` -- new documents against stored :class:`Postings` (the bucket
  is then the stored rows and the new rows of that fingerprint together).

So the query-stored pairs of ``self_join(stored + new)`` are exactly
``probe(new, stored)``.

The bucket rule, for the rows of one fingerprint:

1. **document frequency over families**: the number of *distinct families*
   holding the fingerprint (a family groups verbatim copies; without family
   ids every document is its own family). Above ``max_df`` the fingerprint is
   site clutter, a share widget, a widely embedded tweet or a stock phrase: it
   is dropped and counted (passim's maxDF). Thirty verbatim copies of one wire
   story count once, so they never push the story's own fingerprints out.
2. **bucket size**: a fingerprint in more than ``max_bucket`` documents
   (whatever their families) is a template; it is skipped and counted, so no
   bucket ever makes more than ``max_bucket**2 / 2`` pairs.
3. otherwise every pair of distinct documents in the bucket shares one
   fingerprint; a pair is a candidate when it shares at least ``min_shared``.

**Guarantee.** A run of at least ``min_shared * w + k - 1`` shared tokens
holds ``min_shared`` disjoint windows, hence that many distinct shared
fingerprints: the pair is a candidate unless some of them were dropped by
rule 1 or 2. With the defaults (``k=5``, ``w=10``, ``min_shared=2``) that is
24 tokens, under the 25-word minimum run of :mod:`dedup.spans`.

**Defaults, measured** (``benchmarks/passage_reuse.py``, 400 planted
excerpt pairs from Reuters-21578 among 2,750 texts): ``w=10, min_shared=2``
keeps every pair that the exhaustive ``w=4, min_shared=1`` (12x the
candidates) finds with a 25-word run, with 936 candidates and 99k
fingerprints; ``min_shared=3`` loses 1 % of those, ``5`` (the issue's
prototype) 9 %. ``max_df=50``: on that corpus recall is the same for any
``max_df >= 5``; on news_pages_2018 the most widely shared fingerprints are a
quoted company statement (16 families), so a small ``max_df`` only drops
quotations there; 50 leaves room for a wire story carried, edited, by dozens
of outlets (each its own family) while dropping clutter at corpus scale.
``max_bucket=500``: at most 124,750 pairs from one fingerprint; the largest
bucket of all Reuters-21578 has 264 documents, so it only guards against
templates at larger scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .winnow import Fingerprints, ranges

__all__ = ["DEFAULT_MAX_BUCKET", "DEFAULT_MAX_DF", "DEFAULT_MIN_SHARED", "Candidates", "Postings", "probe", "self_join"]

DEFAULT_MIN_SHARED = 2
DEFAULT_MAX_DF = 50
DEFAULT_MAX_BUCKET = 500
# Pairs generated per step before they are counted (bounds scratch memory).
_PAIRS_PER_STEP = 1 << 22

_MAGIC = b"DDPS"
_HEADER = struct.Struct("<4sHQ")  # magic, version, n_rows


@dataclass(frozen=True)
class Postings:
    """Rows ``(key, doc, family)``, sorted by key then doc, one row per (key, doc).

    ``doc`` ids are the caller's (int64); ``family`` ids too.
    """

    keys: np.ndarray  # uint64, sorted (repeated: one row per document holding it)
    docs: np.ndarray  # int64
    families: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.keys)

    @classmethod
    def build(
        cls, prints: Fingerprints, families: np.ndarray | None = None, doc_ids: np.ndarray | None = None
    ) -> Postings:
        """Rows of a batch of fingerprints. ``doc_ids[d]`` names document ``d``
        (default ``d``); ``families[d]`` its family (default: its own id)."""
        ids = np.arange(prints.n_docs, dtype=np.int64) if doc_ids is None else np.asarray(doc_ids, dtype=np.int64)
        fams = ids if families is None else np.asarray(families, dtype=np.int64)
        if len(ids) != prints.n_docs or len(fams) != prints.n_docs:
            raise ValueError("doc_ids and families need one entry per document")
        doc = prints.doc_index()
        return cls._from_rows(prints.hashes, ids[doc], fams[doc])

    @classmethod
    def _from_rows(cls, keys: np.ndarray, docs: np.ndarray, families: np.ndarray) -> Postings:
        order = np.lexsort((docs, keys))
        keys, docs, families = keys[order], docs[order], families[order]
        if len(keys):  # a fingerprint repeated inside one document counts once
            keep = np.concatenate(([True], (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])))
            keys, docs, families = keys[keep], docs[keep], families[keep]
        return cls(keys=keys, docs=docs, families=families)

    def merge(self, other: Postings) -> Postings:
        """The union of two tables (an index after an add)."""
        return Postings._from_rows(
            np.concatenate((self.keys, other.keys)),
            np.concatenate((self.docs, other.docs)),
            np.concatenate((self.families, other.families)),
        )

    def to_bytes(self) -> bytes:
        return b"".join(
            (
                _HEADER.pack(_MAGIC, 1, len(self.keys)),
                np.ascontiguousarray(self.keys, dtype="<u8").tobytes(),
                np.ascontiguousarray(self.docs, dtype="<i8").tobytes(),
                np.ascontiguousarray(self.families, dtype="<i8").tobytes(),
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Postings:
        magic, version, n = _HEADER.unpack_from(data, 0)
        if magic != _MAGIC or version != 1 or len(data) != _HEADER.size + 24 * n:
            raise ValueError("not a dedup postings blob")
        at = _HEADER.size
        keys = np.frombuffer(data, dtype="<u8", count=n, offset=at).astype(np.uint64)
        docs = np.frombuffer(data, dtype="<i8", count=n, offset=at + 8 * n).astype(np.int64)
        fams = np.frombuffer(data, dtype="<i8", count=n, offset=at + 16 * n).astype(np.int64)
        return cls(keys=keys, docs=docs, families=fams)


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs and the evidence that made them.

    ``pairs[i] = (a, b)``: for :func:`self_join` ``a < b``; for :func:`probe`
    ``a`` is the query document, ``b`` the stored one. ``shared[i]`` counts the
    fingerprints they share after the bucket rule. ``dropped_df`` counts the
    fingerprints dropped as too common across families, ``dropped_bucket``
    those skipped as templates (too many documents).
    """

    pairs: np.ndarray  # (n, 2) int64
    shared: np.ndarray  # int64
    dropped_df: int
    dropped_bucket: int

    def __len__(self) -> int:
        return len(self.pairs)


def _buckets(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and size of each run of equal keys in a sorted array."""
    if len(keys) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sizes = np.diff(np.concatenate((starts, [len(keys)])))
    return starts.astype(np.int64), sizes.astype(np.int64)


def _family_counts(keys: np.ndarray, families: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Distinct families per bucket (rows sorted by key)."""
    order = np.lexsort((families, keys))
    k, f = keys[order], families[order]
    first = np.concatenate(([True], (k[1:] != k[:-1]) | (f[1:] != f[:-1]))) if len(k) else np.empty(0, bool)
    bucket_of_row = np.searchsorted(starts, np.arange(len(k)), side="right") - 1
    return np.bincount(bucket_of_row[first], minlength=len(starts)).astype(np.int64)


def _count_pairs(chunks: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Merge per-step (code, count) arrays into one sorted, summed pair."""
    if not chunks:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    codes = np.concatenate([c for c, _ in chunks])
    counts = np.concatenate([n for _, n in chunks])
    if len(chunks) == 1:
        return codes, counts
    order = np.argsort(codes, kind="stable")
    codes, counts = codes[order], counts[order]
    starts, _ = _buckets(codes)
    return codes[starts], np.add.reduceat(counts, starts) if len(starts) else counts


def _steps(pairs_per_bucket: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive bucket ranges each making about ``_PAIRS_PER_STEP`` pairs."""
    if len(pairs_per_bucket) == 0:
        return []
    cum = np.cumsum(pairs_per_bucket)
    cuts = np.searchsorted(cum, np.arange(_PAIRS_PER_STEP, int(cum[-1]) + _PAIRS_PER_STEP, _PAIRS_PER_STEP))
    bounds = np.unique(np.concatenate(([0], np.minimum(cuts + 1, len(cum)), [len(cum)])))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def _join(
    keys: np.ndarray,
    docs: np.ndarray,
    families: np.ndarray,
    is_query: np.ndarray | None,
    min_shared: int,
    max_df: int,
    max_bucket: int,
) -> Candidates:
    """The bucket rule over rows sorted by key (then, within a key, stored rows
    before query rows). ``is_query`` None: all pairs; else only query x stored."""
    if min_shared < 1 or max_df < 1 or max_bucket < 2:
        raise ValueError("min_shared and max_df must be >= 1, max_bucket >= 2")
    starts, sizes = _buckets(keys)
    n_fams = _family_counts(keys, families, starts)
    too_common = n_fams > max_df
    template = (~too_common) & (sizes > max_bucket)
    keep = (~too_common) & (~template) & (sizes > 1)
    if is_query is not None:
        n_query = np.add.reduceat(is_query.astype(np.int64), starts)[keep] if len(starts) else starts
    starts, sizes = starts[keep], sizes[keep]
    n_docs = int(docs.max()) + 1 if len(docs) else 1
    if is_query is None:
        per_bucket = sizes * (sizes - 1) // 2
        n_left = sizes  # unused split
    else:
        n_left = sizes - n_query  # stored rows come first in each bucket
        per_bucket = n_left * n_query
    chunks = []
    for lo, hi in _steps(per_bucket):
        s, z, left = starts[lo:hi], sizes[lo:hi], n_left[lo:hi]
        if is_query is None:
            # row r of a bucket pairs with the rows after it
            rows = ranges(s, z)
            after = np.repeat(s + z, z) - rows - 1
            first = np.repeat(rows, after)
            second = ranges(rows + 1, after)
        else:
            stored_rows = ranges(s, left)
            n_q = np.repeat(z - left, left)
            first = ranges(np.repeat(s + left, left), n_q)  # query rows
            second = np.repeat(stored_rows, n_q)
        a, b = docs[first], docs[second]
        if is_query is None:
            a, b = np.minimum(a, b), np.maximum(a, b)
        code = a * n_docs + b
        code, count = np.unique(code, return_counts=True)
        chunks.append((code, count.astype(np.int64)))
    codes, counts = _count_pairs(chunks)
    good = counts >= min_shared
    codes, counts = codes[good], counts[good]
    pairs = np.stack([codes // n_docs, codes % n_docs], axis=1) if len(codes) else np.empty((0, 2), np.int64)
    return Candidates(pairs=pairs, shared=counts, dropped_df=int(too_common.sum()), dropped_bucket=int(template.sum()))


def self_join(
    postings: Postings,
    min_shared: int = DEFAULT_MIN_SHARED,
    max_df: int = DEFAULT_MAX_DF,
    max_bucket: int = DEFAULT_MAX_BUCKET,
) -> Candidates:
    """Candidate pairs ``(a, b)``, ``a < b``, among all documents of ``postings``.

    Doc ids must be non-negative (they are combined into one int64 code).
    """
    return _join(postings.keys, postings.docs, postings.families, None, min_shared, max_df, max_bucket)


def probe(
    query: Postings,
    stored: Postings,
    min_shared: int = DEFAULT_MIN_SHARED,
    max_df: int = DEFAULT_MAX_DF,
    max_bucket: int = DEFAULT_MAX_BUCKET,
) -> Candidates:
    """Candidate pairs ``(query doc, stored doc)``: new documents against an index.

    Only the stored rows of the query's fingerprints are read (a keyed lookup
    in a database). The bucket of a fingerprint is its stored rows plus its
    query rows, so document frequency and bucket size count both, exactly as
    :func:`self_join` over the union would. Pairs among the query documents are
    not made (``self_join`` the batch for those).
    """
    qkeys = np.unique(query.keys)
    lo = np.searchsorted(stored.keys, qkeys, side="left")
    hi = np.searchsorted(stored.keys, qkeys, side="right")
    rows = ranges(lo, hi - lo)
    keys = np.concatenate((stored.keys[rows], query.keys))
    docs = np.concatenate((stored.docs[rows], query.docs))
    fams = np.concatenate((stored.families[rows], query.families))
    side = np.concatenate((np.zeros(len(rows), dtype=np.int8), np.ones(len(query.keys), dtype=np.int8)))
    order = np.lexsort((side, keys))
    return _join(keys[order], docs[order], fams[order], side[order].astype(bool), min_shared, max_df, max_bucket)
