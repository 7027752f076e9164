"""The same story told again: TF-IDF document vectors and their nearest neighbours.

Rewrites share almost no 5-word phrase, but they share the story's *words*:
names, places, numbers, the rare terms of the event. With
:math:`\\mathrm{tfidf}(t, d) = (1 + \\ln \\mathrm{tf}_{t,d}) \\cdot (\\ln\\frac{1 + n}{1 + \\mathrm{df}_t} + 1)`
and rows scaled to unit length, the cosine :math:`\\langle x_a, x_b \\rangle` of two
rewrites of one wire story is far above that of two stories on the same topic.

Per-article work is stateless: terms are hashed (scikit-learn's
``HashingVectorizer``), so an article's counts never change. Only the document
frequencies are corpus-level, and they are plain counts that can grow as
articles arrive (:meth:`StoryVectorizer.partial_fit`).

Neighbours are found without all-pairs work: rows are multiplied in chunks
against a copy of the matrix stripped of very common terms (they carry little
cosine and most of the cost), the ``k`` best columns of each row are kept, and
their cosine is then recomputed exactly on the full vectors. When publication
times are known, only articles within ``window_days`` of each other compare.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from .normalize import normalize, token_text

__all__ = ["StoryNeighbours", "StoryVectorizer", "row_cosines"]


def _analyze(text: str) -> list[str]:
    return [t for t in token_text(normalize(text)).split(" ") if t and t not in ENGLISH_STOP_WORDS]


class StoryVectorizer:
    """Hashed term counts per article, TF-IDF weights from corpus document frequencies.

    Parameters
    ----------
    n_features : int, default 2**20
        Hash space of terms.
    """

    def __init__(self, n_features: int = 1 << 20) -> None:
        self.n_features = n_features
        self._hasher = HashingVectorizer(
            n_features=n_features, analyzer=_analyze, alternate_sign=False, norm=None, dtype=np.float32
        )
        self.n_docs_ = 0
        self.document_frequency_ = np.zeros(n_features, dtype=np.int64)

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Raw term counts, one row per text (per-article work, no corpus state)."""
        return self._hasher.transform(texts).tocsr()

    def partial_fit(self, counts: sp.csr_matrix) -> StoryVectorizer:
        """Add the document frequencies of more articles."""
        self.document_frequency_ += np.bincount(counts.indices, minlength=self.n_features)
        self.n_docs_ += counts.shape[0]
        return self

    def fit(self, counts: sp.csr_matrix) -> StoryVectorizer:
        self.n_docs_ = 0
        self.document_frequency_ = np.zeros(self.n_features, dtype=np.int64)
        return self.partial_fit(counts)

    @property
    def idf_(self) -> np.ndarray:
        return (np.log((1.0 + self.n_docs_) / (1.0 + self.document_frequency_)) + 1.0).astype(np.float32)

    def transform(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Unit-length TF-IDF rows with sublinear term frequency."""
        weighted = counts.copy().astype(np.float32)
        np.log(weighted.data, out=weighted.data)
        weighted.data += 1.0
        weighted = weighted @ sp.diags(self.idf_)
        return l2_normalize(weighted.tocsr())


def row_cosines(vectors: sp.csr_matrix, pairs: np.ndarray) -> np.ndarray:
    """Cosine of each pair of unit rows, ``pairs`` of shape ``(m, 2)``."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return np.empty(0)
    left, right = vectors[pairs[:, 0]], vectors[pairs[:, 1]]
    return np.asarray(left.multiply(right).sum(axis=1)).ravel()


class StoryNeighbours:
    """Candidate same-story pairs: each article's top-``k`` cosine neighbours.

    Parameters
    ----------
    k : int, default 10
        Neighbours kept per article.
    min_cosine : float, default 0.2
        Pairs below this exact cosine are dropped.
    max_df : float, default 0.05
        Terms in more than this share of articles are left out of the search
        (not out of the exact cosine).
    window_days : float or None, default 7
        Articles whose publication times are both known and further apart than
        this are never compared. ``None`` compares everything.
    chunk_rows : int, default 512
        Rows multiplied at once; bounds memory.
    """

    def __init__(
        self,
        k: int = 10,
        min_cosine: float = 0.2,
        max_df: float = 0.05,
        window_days: float | None = 7.0,
        chunk_rows: int = 512,
    ) -> None:
        self.k = k
        self.min_cosine = min_cosine
        self.max_df = max_df
        self.window_days = window_days
        self.chunk_rows = chunk_rows

    def pairs(
        self, vectors: sp.csr_matrix, times: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs ``(i, j)``, ``i < j``, and their exact cosine, for cosine >= ``min_cosine``.

        ``times`` holds publication times as float days (NaN when unknown).
        """
        n_docs = vectors.shape[0]
        if n_docs < 2:
            return np.empty((0, 2), dtype=np.int64), np.empty(0)
        search = self._search_matrix(vectors)
        found = []
        for start in range(0, n_docs, self.chunk_rows):
            rows = np.arange(start, min(start + self.chunk_rows, n_docs))
            scores = (search[rows] @ search.T).toarray()
            scores[np.arange(len(rows)), rows] = -1.0
            if times is not None and self.window_days is not None:
                gap = np.abs(times[rows, None] - times[None, :])
                scores[gap > self.window_days] = -1.0  # NaN compares False: unknown times stay
            top = min(self.k, n_docs - 1)
            best = np.argpartition(-scores, top - 1, axis=1)[:, :top]
            keep = np.take_along_axis(scores, best, axis=1) > 0
            found.append(np.stack([np.repeat(rows, top)[keep.ravel()], best.ravel()[keep.ravel()]], axis=1))
        pairs = np.sort(np.concatenate(found), axis=1)
        pairs = np.unique(pairs, axis=0)
        cosine = row_cosines(vectors, pairs)
        keep = cosine >= self.min_cosine
        return pairs[keep], cosine[keep]

    def _search_matrix(self, vectors: sp.csr_matrix) -> sp.csr_matrix:
        df = np.bincount(vectors.indices, minlength=vectors.shape[1])
        common = df > max(100, self.max_df * vectors.shape[0])
        if not common.any():
            return vectors
        return (vectors @ sp.diags((~common).astype(np.float32))).tocsr()
