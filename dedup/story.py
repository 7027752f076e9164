r"""The same story told again: TF-IDF document vectors and their nearest neighbours.

Rewrites share almost no 5-word phrase, but they share the story's *words*:
names, places, numbers, the rare terms of the event. Each article is a unit
vector with weights

.. math:: w_{t,d} = (1 + \ln \mathrm{tf}_{t,d}) \cdot \mathrm{idf}_t^{\,\alpha},
   \qquad \mathrm{idf}_t = \ln\frac{1 + n}{1 + \mathrm{df}_t} + 1,
   \qquad \alpha = \min\Bigl(1, \frac{\ln n}{\ln n_0}\Bigr),

and no weight for terms in more than ``max_df`` of the articles (and more than
``max_df_floor`` of them): those are templates and topic words, not the words
of one story. :math:`\alpha` shrinks the IDF of a small scan towards uniform
weights -- among five articles a document frequency says little, and a full
IDF would push the cosine of five rewrites of one story (which all share its
words) down towards that of unrelated news. From :math:`n_0` articles on the
IDF counts fully.

Two parts, as in scikit-learn's ``HashingVectorizer`` + ``TfidfTransformer``:
:func:`term_counts` is stateless per-article work (hashed terms: an article's
counts never change), :class:`Idf` holds the corpus-level document frequencies,
plain counts that can grow as articles arrive (:meth:`Idf.add`) or come from a
stored table.

Neighbours are found without all-pairs work: rows are multiplied in chunks
against the articles inside their time window and the ``k`` best columns of
each row are kept. One kernel (:func:`_best_columns`) serves the self-join of
a scan (:func:`neighbours`) and the probe of new articles against stored ones
(:func:`probe_neighbours`). Ties are broken by column position: drivers give
articles in id order, so the choice is a function of the articles alone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import terms
from .params import Params

__all__ = ["Idf", "best_per_row", "figure_terms", "neighbours", "probe_neighbours", "row_cosines", "shared_terms",
           "term_counts", "windowed"]


FIGURE_MARK = "x"


def figure_terms(tokens: Sequence[str]) -> list[str]:
    """One term per figure as it was written: each maximal run of all-digit tokens joined
    (``63.4 pct`` is tokens ``63 4``, the term ``x63_4``; ``8-38``, ``x8_38``).

    The facts of an event are its figures: two reports of one event give the
    same ones, a template re-issued with new numbers (a price table, a monthly
    load factor, a money-market forecast) gives other ones. As terms of their
    own -- beside the digit tokens, which are common words -- rare figures weigh
    as rare words do, and a pair whose figures differ loses cosine.
    """
    terms, run = [], []
    for token in (*tokens, ""):
        if token.isdigit() and token.isascii():
            run.append(token)
        elif run:
            terms.append(FIGURE_MARK + "_".join(run))
            run = []
    return terms


def term_counts(token_texts: Sequence[str], n_features: int = 1 << 20) -> sp.csr_matrix:
    """Hashed counts of content words and of the figures as written (:func:`figure_terms`), one row
    per text in :func:`~dedup.normalize.token_text` form.

    Stateless (the values of scikit-learn's ``HashingVectorizer``, :mod:`dedup.terms`: MurmurHash3
    of each term, the same in every process), so counts can be stored and shipped.
    """
    if len(token_texts) == 0:
        return sp.csr_matrix((0, n_features), dtype=np.float32)
    return terms.term_counts(terms.HashedTokens.from_texts(token_texts, n_features))


MAX_WINDOWS = 64


def windowed(token_texts: Sequence[str], size: int) -> tuple[list[str], np.ndarray]:
    """Windows of ``size`` tokens, half overlapping, of every text longer than ``2 * size`` tokens
    (at most :data:`MAX_WINDOWS` per text: on a huge page they are spread further apart).

    Returns the window texts and offsets: text ``i``'s windows are
    ``windows[offsets[i]:offsets[i + 1]]`` (none for shorter texts).
    """
    pieces: list[str] = []
    counts = np.zeros(len(token_texts), dtype=np.int64)
    for i, text in enumerate(token_texts):
        tokens = text.split(" ")
        if len(tokens) <= 2 * size:
            continue
        # half overlapping, and at most MAX_WINDOWS of them: a huge page is sampled more coarsely
        step = max(size // 2, -(-(len(tokens) - size) // (MAX_WINDOWS - 1)), 1)
        starts = range(0, len(tokens) - size + step, step)
        pieces.extend(" ".join(tokens[s : s + size]) for s in starts)
        counts[i] = len(starts)
    return pieces, np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


@dataclass(frozen=True)
class Idf:
    """Document frequencies over ``n_docs`` articles and the term weights they give."""

    n_docs: int
    document_frequency: np.ndarray = field(repr=False)
    max_df: float = 0.01
    max_df_floor: int = 50
    full_idf_docs: int = 1000

    @classmethod
    def fit(cls, counts: sp.csr_matrix, params: Params) -> Idf:
        """Document frequencies of the rows of ``counts`` (one row per article)."""
        empty = cls(0, np.zeros(counts.shape[1], dtype=np.int64), params.max_df, params.max_df_floor,
                    params.full_idf_docs)
        return empty.add(counts)

    def add(self, counts: sp.csr_matrix) -> Idf:
        """These frequencies plus those of more articles."""
        df = self.document_frequency + np.bincount(counts.indices, minlength=len(self.document_frequency))
        return Idf(self.n_docs + counts.shape[0], df, self.max_df, self.max_df_floor, self.full_idf_docs)

    @functools.cached_property
    def weights(self) -> np.ndarray:
        r"""The term weights :math:`\mathrm{idf}_t^{\alpha}`, 0 for too common terms."""
        n = max(self.n_docs, 1)
        alpha = min(1.0, np.log(max(n, 2)) / np.log(self.full_idf_docs))
        df = self.document_frequency
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        common = df > max(self.max_df * n, self.max_df_floor)
        return np.where(common, 0.0, idf**alpha).astype(np.float32)

    def transform(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Unit-length TF-IDF rows with sublinear term frequency."""
        weighted = counts.astype(np.float32, copy=True)
        np.log(weighted.data, out=weighted.data)
        weighted.data += 1.0
        weighted.data *= self.weights[weighted.indices]
        weighted.eliminate_zeros()
        return terms.l2_normalize(weighted.tocsr())


def row_cosines(left: sp.csr_matrix, right: sp.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Cosine of unit rows ``left[i]`` and ``right[j]`` for each pair ``(i, j)``."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return np.empty(0)
    return np.asarray(left[pairs[:, 0]].multiply(right[pairs[:, 1]]).sum(axis=1)).ravel()


def shared_terms(left: sp.csr_matrix, right: sp.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Number of weighted terms each pair ``(i, j)`` of rows has in common."""
    if len(pairs) == 0:
        return np.empty(0, dtype=np.int64)
    a, b = left[pairs[:, 0]], right[pairs[:, 1]]
    a.data[:] = 1.0
    b.data[:] = 1.0
    return np.asarray(a.multiply(b).sum(axis=1)).ravel().astype(np.int64)


def _best_columns(scores: np.ndarray, k: int, min_cosine: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a dense score block, the ``k`` best columns with score >= ``min_cosine``;
    among equal scores the lowest column wins. Returns (row, column) index arrays."""
    width = min(k, scores.shape[1])
    if width == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    kth = -np.partition(-scores, width - 1, axis=1)[:, width - 1 : width]
    chosen = scores > kth
    # Ties at the k-th score can only be chosen where that score reaches min_cosine: only those rows
    # need the running count of ties (the first ``room`` of them, by column, are taken).
    tie_rows = np.flatnonzero(kth[:, 0] >= min_cosine)
    if len(tie_rows):
        tied = scores[tie_rows] == kth[tie_rows]
        room = width - chosen[tie_rows].sum(axis=1, keepdims=True)
        chosen[tie_rows] |= tied & (np.cumsum(tied, axis=1) <= room)
    chosen &= scores >= min_cosine
    rows, columns = np.nonzero(chosen)
    return rows, columns


def _best_stored(product: sp.coo_matrix, row_ids: np.ndarray, column_ids: np.ndarray, owner: np.ndarray,
                 row_when: np.ndarray, column_when: np.ndarray, window_days: float | None, k: int,
                 min_cosine: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_best_columns` of the dense block with the same masks, from the stored cosines alone.

    With ``min_cosine > 0`` a chosen cell is a stored cosine of at least ``min_cosine``, not of the
    row's own owner, inside the window; among those a row keeps its ``k`` best, equal cosines going
    to the lower article position (``column_ids``): the dense kernel's choice, in work linear in the
    stored cosines instead of the block's area. Returns block rows, block columns and cosines."""
    r, c, s = product.row, product.col, product.data
    keep = s >= min_cosine
    r, c, s = r[keep], c[keep], s[keep]
    keep = owner[row_ids[r]] != owner[column_ids[c]]
    if window_days is not None:
        keep &= ~(np.abs(row_when[r] - column_when[c]) > window_days)  # NaN (undated) stays
    r, c, s = r[keep].astype(np.int64), c[keep].astype(np.int64), s[keep]
    chosen = best_per_row(r, column_ids[c], s, k)
    chosen = chosen[np.lexsort((column_ids[c[chosen]], r[chosen]))]  # row-major, as np.nonzero gives them
    return r[chosen], c[chosen], s[chosen]


def _same_owner(row_owner: np.ndarray, column_owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) cells of a score block whose row and column have the same owner: the
    columns sorted by owner, each row's equal run found by binary search (not a dense comparison)."""
    by = np.argsort(column_owner, kind="stable")
    ordered = column_owner[by]
    lo = np.searchsorted(ordered, row_owner, side="left")
    count = np.searchsorted(ordered, row_owner, side="right") - lo
    rows = np.repeat(np.arange(len(row_owner)), count)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    return rows, by[np.repeat(lo, count) + within]


def _chunk_rows(n_columns: int, chunk_rows: int) -> int:
    return max(16, min(chunk_rows, 4_000_000 // max(n_columns, 1)))


def neighbours(
    vectors: sp.csr_matrix,
    times: np.ndarray | None,
    *,
    k: int,
    min_cosine: float,
    window_days: float | None,
    min_shared_terms: int,
    owners: np.ndarray | None = None,
    chunk_rows: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest neighbours among all rows (a self-join): pairs ``(i, j)``,
    ``i < j``, sorted, and their cosine, for cosine >= ``min_cosine``.

    ``times`` holds publication times as float days (NaN when unknown). Rows are
    taken in time order, so each chunk of dated rows is multiplied only with the
    articles inside its window (and the undated ones). With ``owners`` (rows
    are an article's whole vector and its windows) rows of one owner are never
    compared, and the pairs are pairs of owners with their best cosine.
    """
    n_docs = vectors.shape[0]
    owner = np.arange(n_docs) if owners is None else np.asarray(owners, dtype=np.int64)
    if n_docs < 2:
        return np.empty((0, 2), dtype=np.int64), np.empty(0)
    windowed_ = times is not None and window_days is not None and bool(np.isfinite(times).any())
    order = np.argsort(times, kind="stable") if windowed_ and times is not None else np.arange(n_docs)
    when = times[order] if windowed_ and times is not None else np.full(n_docs, np.nan)
    n_dated = int(np.isfinite(when).sum())
    ordered = vectors[order] if windowed_ else vectors
    chunk = _chunk_rows(n_docs, chunk_rows)
    found_rows, found_columns, found_scores = [], [], []
    for start in range(0, n_docs, chunk):
        rows = np.arange(start, min(start + chunk, n_docs))
        columns = _window_columns(rows, when, n_dated, n_docs, window_days if windowed_ else None)
        product = ordered[rows] @ ordered[columns].T
        if min_cosine > 0:  # only stored cosines can reach min_cosine: the best of each row among them
            r, c, s = _best_stored(product.tocoo(), order[rows], order[columns], owner, when[rows], when[columns],
                                   window_days if windowed_ else None, k, min_cosine)
            found_rows.append(order[rows[r]])
            found_columns.append(order[columns[c]])
            found_scores.append(s)
            continue
        scores = product.toarray()
        scores[_same_owner(owner[order[rows]], owner[order[columns]])] = -1.0
        if windowed_ and window_days is not None:
            scores[np.abs(when[rows, None] - when[None, columns]) > window_days] = -1.0  # NaN stays
        # Ties are broken by article position, not by where a column sits in the window.
        by_position = np.argsort(order[columns], kind="stable")
        r, c = _best_columns(scores[:, by_position], k, min_cosine)
        found_rows.append(order[rows[r]])
        found_columns.append(order[columns[by_position[c]]])
        found_scores.append(scores[r, by_position[c]])
    rows_, columns_, scores_ = (np.concatenate(x) for x in (found_rows, found_columns, found_scores))
    keep = shared_terms(vectors, vectors, np.stack([rows_, columns_], axis=1)) >= min_shared_terms
    return _owner_pairs(owner[rows_[keep]], owner[columns_[keep]], scores_[keep])


def probe_neighbours(
    queries: sp.csr_matrix,
    query_times: np.ndarray | None,
    vectors: sp.csr_matrix,
    times: np.ndarray | None,
    *,
    k: int,
    min_cosine: float,
    window_days: float | None,
    min_shared_terms: int,
    chunk_rows: int = 512,
) -> tuple[np.ndarray, np.ndarray]:
    """Each query row's ``k`` nearest stored rows: pairs ``(query, stored)`` and cosines.

    The same kernel as :func:`neighbours`, with new articles as rows and stored
    ones as columns (``kneighbors(X)`` beside ``kneighbors()`` in scikit-learn).
    """
    n_queries, n_docs = queries.shape[0], vectors.shape[0]
    if n_queries == 0 or n_docs == 0:
        return np.empty((0, 2), dtype=np.int64), np.empty(0)
    chunk = _chunk_rows(n_docs, chunk_rows)
    found = []
    for start in range(0, n_queries, chunk):
        rows = np.arange(start, min(start + chunk, n_queries))
        scores = (queries[rows] @ vectors.T).toarray()
        if window_days is not None and query_times is not None and times is not None:
            scores[np.abs(query_times[rows, None] - times[None, :]) > window_days] = -1.0
        r, c = _best_columns(scores, k, min_cosine)
        found.append((rows[r], c, scores[r, c]))
    pairs = np.stack([np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])], axis=1)
    scores = np.concatenate([f[2] for f in found])
    if min_shared_terms <= 0:  # every pair shares at least 0 terms
        return pairs, scores
    keep = shared_terms(queries, vectors, pairs) >= min_shared_terms
    return pairs[keep], scores[keep]


def best_per_row(rows: np.ndarray, columns: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of each row's ``k`` best entries of ``(rows, columns, scores)``: higher score first,
    then the lower column (the kernel's tie-break), e.g. to merge the best columns of one row found
    in several blocks, or to drop an article's own rows from its ``k + m`` best."""
    order = np.lexsort((columns, -scores, rows))
    ordered = np.asarray(rows)[order]
    start = np.searchsorted(ordered, ordered, side="left")
    return order[np.arange(len(order)) - start < k]


def _owner_pairs(a: np.ndarray, b: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs ``(i, j)``, ``i < j``, sorted, each with its best score."""
    pairs = np.sort(np.stack([a, b], axis=1), axis=1).astype(np.int64).reshape(-1, 2)
    order = np.lexsort((-scores, pairs[:, 1], pairs[:, 0]))
    pairs, scores = pairs[order], scores[order]
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = np.any(pairs[1:] != pairs[:-1], axis=1)
    return pairs[first], scores[first]


def _window_columns(
    rows: np.ndarray, when: np.ndarray, n_dated: int, n_docs: int, window_days: float | None
) -> np.ndarray:
    """Positions (in time order) a chunk of rows is compared with."""
    if window_days is None or rows[-1] >= n_dated:
        return np.arange(n_docs)
    lo = int(np.searchsorted(when[:n_dated], when[rows[0]] - window_days, side="left"))
    hi = int(np.searchsorted(when[:n_dated], when[rows[-1]] + window_days, side="right"))
    return np.concatenate([np.arange(lo, hi), np.arange(n_dated, n_docs)])
