"""An inverted index fingerprint -> documents, and candidate pairs from it.

The index is a table of rows ``(fingerprint, doc, family, position)`` sorted
by fingerprint, built and joined with sort-based group-bys in numpy -- the
shape a SQL table keyed by fingerprint (with a secondary index on doc), or a
Dask shuffle on the key, computes.

One **bucket rule** decides which rows of one fingerprint make pairs; every
entry point applies it:

* :func:`self_join` -- every document against every other;
* :func:`probe` -- new documents against stored :class:`Postings` (the bucket
  is then the stored rows and the new rows of that fingerprint together);
* :func:`join_prints` -- :func:`self_join` of a scan's fingerprints, one key
  range at a time, never holding the whole table.

So the query-stored pairs of ``self_join(stored + new)`` are exactly
``probe(new, stored)`` (tested on random data).

The bucket rule, for the rows of one fingerprint:

1. **document frequency over families**: the number of *distinct families*
   holding the fingerprint (a family groups verbatim copies; without family
   ids every document is its own family). Above ``max_df`` the fingerprint is
   *common*: site clutter, a share widget, a widely embedded tweet, a stock
   phrase. It is dropped and counted (passim's maxDF). Thirty verbatim copies
   of one wire story count once, so they never push the story's own
   fingerprints out.
2. **edges of common blocks**: winnowing selects, in windows that straddle
   the edge of a shared block, k-grams of the block that other copies of the
   block do not select; they would link unrelated pages through the block's
   edges. So an occurrence lying fewer than ``w`` k-gram positions from a
   common fingerprint of its own document is not evidence (it still counts
   for document frequency). Genuine copy next to clutter loses at most the
   ``w - 1`` k-grams nearest to it.
3. **bucket size**: a fingerprint in more than ``max_bucket`` documents
   (whatever their families) is a template; it is skipped and counted, so no
   bucket ever makes more than ``max_bucket**2 / 2`` pairs.
4. otherwise every pair of distinct documents in the bucket shares one
   fingerprint; a pair is a candidate when it shares at least ``min_shared``.

**Guarantee.** A run of at least ``min_shared * w + k - 1`` shared tokens
holds ``min_shared`` disjoint windows, hence that many distinct shared
fingerprints: the pair is a candidate unless some of them were dropped by
rules 1-3. With the defaults (``k=5``, ``w=10``, ``min_shared=2``) that is
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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .winnow import DEFAULT_W, Fingerprints, ranges

__all__ = ["DEFAULT_MAX_BUCKET", "DEFAULT_MAX_DF", "DEFAULT_MIN_SHARED", "Candidates", "Postings", "join_prints",
           "probe", "self_join"]

DEFAULT_MIN_SHARED = 2
DEFAULT_MAX_DF = 50
DEFAULT_MAX_BUCKET = 500
# Pairs generated per step before they are counted (bounds scratch memory).
_PAIRS_PER_STEP = 1 << 22
# Rows of one key range in :func:`join_prints` (bounds its scratch memory, about 100 bytes a row).
_ROWS_PER_PART = 1 << 20

_MAGIC = b"DDPS"
_VERSION = 3
_HEADER = struct.Struct("<4sHHQ")  # magic, version, w, n_rows; then the columns, 8 bytes a value


_COLUMNS = ("keys", "docs", "families", "positions")
_DTYPES = ("<u8", "<i8", "<i8", "<i8")
_NATIVE = {"<u8": np.uint64, "<i8": np.int64}


@dataclass(frozen=True)
class Postings:
    """Rows ``(key, doc, family, position)``, sorted by key, doc, position; one row per (key, doc).

    ``doc`` ids are the caller's (int64, in ``0 .. 2**31 - 1``); ``family`` ids too;
    ``position`` is the k-gram index of the fingerprint in its document (the
    first occurrence when a key repeats in one document). ``w`` is the
    winnowing window the fingerprints were selected with (the edge rule).
    """

    keys: np.ndarray  # uint64, sorted (repeated: one row per document holding it)
    docs: np.ndarray  # int64
    families: np.ndarray  # int64
    positions: np.ndarray  # int64
    w: int = DEFAULT_W

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
        rows = (np.asarray(prints.hashes, np.uint64), ids[doc], fams[doc], np.asarray(prints.positions, np.int64))
        return cls._from_rows(*rows, w=prints.w)

    @classmethod
    def _from_rows(
        cls, keys: np.ndarray, docs: np.ndarray, families: np.ndarray, positions: np.ndarray, w: int
    ) -> Postings:
        code = docs * np.int64(1 << 32) + positions
        if len(code) < 2 or bool(np.all(code[1:] >= code[:-1])):  # rows in (doc, position) order, as built
            order = np.argsort(keys, kind="stable")
        else:
            order = np.lexsort((positions, docs, keys))
        columns = [c[order] for c in (keys, docs, families, positions)]
        keys, docs = columns[0], columns[1]
        if len(keys):  # a fingerprint repeated inside one document counts once
            keep = np.concatenate(([True], (keys[1:] != keys[:-1]) | (docs[1:] != docs[:-1])))
            columns = [c[keep] for c in columns]
        return _make(columns, w)

    def rows(self, index: np.ndarray) -> Postings:
        """A subset of the rows (still sorted when ``index`` is)."""
        return _make([getattr(self, name)[index] for name in _COLUMNS], self.w)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Indices of the rows holding any of ``keys`` (a keyed read), sorted."""
        wanted = np.unique(np.asarray(keys, dtype=np.uint64))
        lo = np.searchsorted(self.keys, wanted, side="left")
        hi = np.searchsorted(self.keys, wanted, side="right")
        return ranges(lo, hi - lo)

    def doc_rows(self, docs: np.ndarray) -> np.ndarray:
        """Indices of all rows of the documents ``docs`` (a read by the doc index), sorted."""
        return np.flatnonzero(np.isin(self.docs, np.asarray(docs, dtype=np.int64)))

    def merge(self, other: Postings) -> Postings:
        """The union of two tables (an index after an add)."""
        if other.w != self.w:
            raise ValueError(f"cannot merge postings of windows {self.w} and {other.w}")
        keys, docs, families, positions = (np.concatenate((getattr(self, n), getattr(other, n))) for n in _COLUMNS)
        return Postings._from_rows(keys, docs, families, positions, w=self.w)

    def to_bytes(self) -> bytes:
        header = _HEADER.pack(_MAGIC, _VERSION, self.w, len(self.keys))
        return header + b"".join(
            np.ascontiguousarray(getattr(self, name), dtype=dt).tobytes()
            for name, dt in zip(_COLUMNS, _DTYPES, strict=True)
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Postings:
        magic, version, w, n = _HEADER.unpack_from(data, 0)
        if magic != _MAGIC or version != _VERSION or len(data) != _HEADER.size + 8 * len(_COLUMNS) * n:
            raise ValueError("not a dedup postings blob (bad magic, version or size)")
        columns = [
            np.frombuffer(data, dtype=dt, count=n, offset=_HEADER.size + 8 * n * i).astype(_NATIVE[dt])
            for i, dt in enumerate(_DTYPES)
        ]
        return _make(columns, w)


def _make(columns: list[np.ndarray], w: int) -> Postings:
    keys, docs, families, positions = columns
    return Postings(keys=keys, docs=docs, families=families, positions=positions, w=w)


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


def _distinct_families(keys: np.ndarray, families: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique keys and the number of distinct families holding each."""
    if len(keys) == 0:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    order = np.lexsort((families, keys))
    k, f = keys[order], families[order]
    first = np.concatenate(([True], (k[1:] != k[:-1]) | (f[1:] != f[:-1])))
    unique, counts = np.unique(k[first], return_counts=True)
    return unique, counts.astype(np.int64)


def _edges(rows: Postings, common: np.ndarray) -> np.ndarray:
    """Per row: a common fingerprint of the same document lies fewer than ``w`` k-grams away.

    ``rows`` must hold every row of each document concerned."""
    n = len(rows)
    if n == 0 or not common.any():
        return np.zeros(n, dtype=bool)
    return _near(rows.docs, rows.positions, np.sort(_occurrence(rows.docs[common], rows.positions[common])),
                 rows.w) & ~common


def _occurrence(docs: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """One sortable code per occurrence: ``doc * 2**32 + position``."""
    return np.asarray(docs, dtype=np.int64) * np.int64(1 << 32) + np.asarray(positions, dtype=np.int64)


def _near(docs: np.ndarray, positions: np.ndarray, common: np.ndarray, w: int) -> np.ndarray:
    """Whether an occurrence of ``common`` (sorted :func:`_occurrence` codes) lies in the same
    document fewer than ``w`` positions before or after each ``(doc, position)``."""
    n = len(docs)
    if n == 0 or len(common) == 0:
        return np.zeros(n, dtype=bool)
    big = np.int64(1 << 32)
    code = _occurrence(docs, positions)
    docs, positions = code // big, code % big
    at = np.searchsorted(common, code, side="right") - 1  # the last common occurrence at or before
    before = common[np.maximum(at, 0)]
    near = (at >= 0) & (before // big == docs) & (positions - before % big < w)
    at = np.minimum(np.searchsorted(common, code, side="left"), len(common) - 1)  # the first at or after
    after = common[at]
    return near | ((after >= code) & (after // big == docs) & (after % big - positions < w))


def _too_common(df_rows: Postings, max_df: int) -> Callable[[np.ndarray], np.ndarray]:
    """Whether keys are held by more than ``max_df`` distinct families of ``df_rows``."""
    df_keys, df_counts = _distinct_families(df_rows.keys, df_rows.families)

    def too_common(k: np.ndarray) -> np.ndarray:
        if len(df_keys) == 0:
            return np.zeros(len(k), dtype=bool)
        at = np.minimum(np.searchsorted(df_keys, k), len(df_keys) - 1)
        return (df_keys[at] == k) & (df_counts[at] > max_df)

    return too_common


def _join(
    rows: Postings,
    is_query: np.ndarray | None,
    edge: np.ndarray,
    too_common: Callable[[np.ndarray], np.ndarray],
    min_shared: int,
    max_df: int,
    max_bucket: int,
) -> Candidates:
    """The bucket rule over ``rows`` sorted by key (then, within a key, stored rows
    before query rows). ``is_query`` None: all pairs; else only query x stored.
    ``edge`` flags the occurrences near a common fingerprint of their document."""
    if min_shared < 1 or max_df < 1 or max_bucket < 2:
        raise ValueError("min_shared and max_df must be >= 1, max_bucket >= 2")
    keys, docs = rows.keys, rows.docs
    starts, sizes = _buckets(keys)
    common = too_common(keys[starts]) if len(starts) else np.zeros(0, bool)
    template = (~common) & (sizes > max_bucket)
    usable = np.repeat(~common & ~template, sizes)
    keep = np.flatnonzero(usable & ~edge)
    keys, docs = keys[keep], docs[keep]
    starts, sizes = _buckets(keys)
    n_docs = max(int(docs.max()) + 1 if len(docs) else 1, 1)
    if is_query is None:
        per_bucket = sizes * (sizes - 1) // 2
        n_left = sizes  # unused
    else:
        query = is_query[keep].astype(np.int64)
        n_query = np.add.reduceat(query, starts) if len(starts) else starts
        n_left = sizes - n_query  # stored rows come first in each bucket
        per_bucket = n_left * n_query
    chunks = []
    for lo, hi in _steps(per_bucket):
        s, z, left = starts[lo:hi], sizes[lo:hi], n_left[lo:hi]
        if is_query is None:
            # row r of a bucket pairs with the rows after it
            members = ranges(s, z)
            after = np.repeat(s + z, z) - members - 1
            first = np.repeat(members, after)
            second = ranges(members + 1, after)
        else:
            stored_rows = ranges(s, left)
            n_q = np.repeat(z - left, left)
            first = ranges(np.repeat(s + left, left), n_q)  # query rows
            second = np.repeat(stored_rows, n_q)
        a, b = docs[first], docs[second]
        if is_query is None:
            a, b = np.minimum(a, b), np.maximum(a, b)
        code, count = np.unique(a * n_docs + b, return_counts=True)
        chunks.append((code, count.astype(np.int64)))
    codes, counts = _count_pairs(chunks)
    good = counts >= min_shared
    codes, counts = codes[good], counts[good]
    pairs = np.stack([codes // n_docs, codes % n_docs], axis=1) if len(codes) else np.empty((0, 2), np.int64)
    return Candidates(pairs=pairs, shared=counts, dropped_df=int(common.sum()), dropped_bucket=int(template.sum()))


def _counted(families_holding: Callable[[np.ndarray], np.ndarray], max_df: int) -> Callable[[np.ndarray], np.ndarray]:
    """Whether keys are held by more than ``max_df`` families, from a count kept elsewhere (a stored table)."""

    def too_common(k: np.ndarray) -> np.ndarray:
        return np.asarray(families_holding(np.asarray(k, dtype=np.uint64)), dtype=np.int64) > max_df

    return too_common


def self_join(
    postings: Postings,
    min_shared: int = DEFAULT_MIN_SHARED,
    max_df: int = DEFAULT_MAX_DF,
    max_bucket: int = DEFAULT_MAX_BUCKET,
    families_holding: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Candidates:
    """Candidate pairs ``(a, b)``, ``a < b``, among all documents of ``postings``.

    ``families_holding(keys)`` gives the number of families holding each key when the
    document frequencies are counted over more documents than ``postings`` holds (an
    index); by default they are counted over ``postings``."""
    too_common = _too_common(postings, max_df) if families_holding is None else _counted(families_holding, max_df)
    edge = _edges(postings, too_common(postings.keys))
    return _join(postings, None, edge, too_common, min_shared, max_df, max_bucket)


def probe(
    query: Postings,
    stored: Postings,
    min_shared: int = DEFAULT_MIN_SHARED,
    max_df: int = DEFAULT_MAX_DF,
    max_bucket: int = DEFAULT_MAX_BUCKET,
    families_holding: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Candidates:
    """Candidate pairs ``(query doc, stored doc)``: new documents against an index.

    Three reads of the stored table: the rows of the query's fingerprints (the
    buckets), all rows of the stored documents they name (the edge rule), and
    the rows of those rows' keys (document frequencies). Each count is over
    stored and query rows together, exactly as :func:`self_join` over the
    union would count. Pairs among the query documents are not made
    (``self_join`` the batch for those). Query and stored doc ids must be
    distinct. ``families_holding`` as for :func:`self_join` (then the third read is not made).
    """
    if query.w != stored.w:
        raise ValueError(f"query window {query.w} differs from the index's {stored.w}")
    hit = stored.lookup(query.keys)
    context = stored.rows(stored.doc_rows(np.unique(stored.docs[hit]))).merge(query)
    too_common = _too_common(stored.rows(stored.lookup(context.keys)).merge(query), max_df) \
        if families_holding is None else _counted(families_holding, max_df)
    edge = _edges(context, too_common(context.keys))
    # the buckets: the context rows of the query's keys (= the stored hits and the query rows)
    select = np.flatnonzero(np.isin(context.keys, query.keys))
    rows, edge = context.rows(select), edge[select]
    is_query = np.isin(rows.docs, query.docs)
    order = np.lexsort((is_query, rows.keys))
    rows = rows.rows(order)
    return _join(rows, is_query[order], edge[order], too_common, min_shared, max_df, max_bucket)


def join_prints(
    prints: Fingerprints,
    families: np.ndarray | None = None,
    min_shared: int = DEFAULT_MIN_SHARED,
    max_df: int = DEFAULT_MAX_DF,
    max_bucket: int = DEFAULT_MAX_BUCKET,
    rows_per_part: int = _ROWS_PER_PART,
) -> Candidates:
    """``self_join(Postings.build(prints, families), ...)``, without ever holding the whole table.

    The bucket rule is a function of one fingerprint's rows, but for the edge rule, which
    reads a document's common occurrences. So the rows are split into ``P`` key ranges
    (``P = 2**b``, about ``rows_per_part`` rows each; a key's range is the top ``b`` bits of
    ``key * 0x9E3779B97F4A7C15 mod 2**64``) and each range is read twice from ``prints``:

    1. its distinct families per key give its common keys, and their first occurrence in
       each document (a key repeated in a document counts once) the common occurrences;
    2. its table of rows (:meth:`Postings.build` on the range) is joined by the bucket rule,
       with the edge flags read from the common occurrences of all ranges, and counts of
       the fingerprints each pair shares in the range.

    The counts of all ranges are summed and the pairs sharing ``min_shared`` kept: the same
    pairs, counts and dropped counts as ``self_join``. Scratch memory is one range's table
    (about 100 bytes a row) plus a byte a fingerprint for the range ids, not the 32 bytes a
    row of a whole table and its sorts.
    """
    n_docs = prints.n_docs
    fams = np.arange(n_docs, dtype=np.int64) if families is None else np.asarray(families, dtype=np.int64)
    if len(fams) != n_docs:
        raise ValueError("families needs one entry per document")
    bits = max(0, int(np.ceil(np.log2(max(len(prints), 1) / max(rows_per_part, 1)))))
    route = _key_ranges(prints.hashes, bits)

    def part(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        index = np.flatnonzero(route == p) if bits else np.arange(len(prints), dtype=np.int64)
        docs = np.searchsorted(prints.offsets, index, side="right") - 1
        return (np.asarray(prints.hashes[index], np.uint64), docs, fams[docs],
                np.asarray(prints.positions[index], np.int64))

    common_keys, occurrences = [], []
    for p in range(1 << bits):
        keys, docs, families_of, positions = part(p)
        unique, counts = _distinct_families(keys, families_of)
        common = unique[counts > max_df]
        if len(common):
            hit = np.flatnonzero(np.isin(keys, common))
            order = hit[np.lexsort((docs[hit], keys[hit]))]  # stable: the first position of each (key, doc)
            k, d = keys[order], docs[order]
            first = order[np.concatenate(([True], (k[1:] != k[:-1]) | (d[1:] != d[:-1])))]
            occurrences.append(_occurrence(docs[first], positions[first]))
            common_keys.append(common)
    common_sorted = np.sort(np.concatenate(common_keys)) if common_keys else np.empty(0, np.uint64)
    near_codes = np.sort(np.concatenate(occurrences)) if occurrences else np.empty(0, np.int64)

    def too_common(k: np.ndarray) -> np.ndarray:
        if len(common_sorted) == 0:
            return np.zeros(len(k), dtype=bool)
        at = np.minimum(np.searchsorted(common_sorted, k), len(common_sorted) - 1)
        return common_sorted[at] == k

    chunks, dropped_df, dropped_bucket = [], 0, 0
    for p in range(1 << bits):
        rows = Postings._from_rows(*part(p), w=prints.w)
        edge = _near(rows.docs, rows.positions, near_codes, rows.w) & ~too_common(rows.keys)
        found = _join(rows, None, edge, too_common, 1, max_df, max_bucket)
        chunks.append((found.pairs[:, 0] * n_docs + found.pairs[:, 1], found.shared))
        dropped_df += found.dropped_df
        dropped_bucket += found.dropped_bucket
        del rows, edge, found
    codes, counts = _count_pairs(chunks)
    good = counts >= min_shared
    codes, counts = codes[good], counts[good]
    pairs = np.stack([codes // max(n_docs, 1), codes % max(n_docs, 1)], axis=1) if len(codes) \
        else np.empty((0, 2), np.int64)
    return Candidates(pairs=pairs, shared=counts, dropped_df=dropped_df, dropped_bucket=dropped_bucket)


def _key_ranges(keys: np.ndarray, bits: int) -> np.ndarray:
    """The key range (top ``bits`` bits of the mixed key) of every key, a compact integer array,
    computed in slices so no full-length 64-bit scratch array is made."""
    dtype = np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32
    out = np.zeros(len(keys), dtype=dtype)
    if bits == 0:
        return out
    step = 1 << 22
    shift, mix = np.uint64(64 - bits), np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        for lo in range(0, len(keys), step):
            out[lo : lo + step] = (np.asarray(keys[lo : lo + step], np.uint64) * mix) >> shift
    return out
