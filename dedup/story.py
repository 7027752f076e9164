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

Per-article work is stateless: terms are hashed (scikit-learn's
``HashingVectorizer``), so an article's counts never change. Only the document
frequencies are corpus-level, and they are plain counts that can grow as
articles arrive (:meth:`StoryVectorizer.partial_fit`).

Neighbours are found without all-pairs work: rows are multiplied in chunks
against the whole (sparse) matrix and the ``k`` best columns of each row are
kept. When publication times are known, only articles within ``window_days``
of each other compare.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from .normalize import normalize, token_text

__all__ = ["StoryNeighbours", "StoryVectorizer", "row_cosines"]


def _content_words(tokenized: str) -> list[str]:
    return [t for t in tokenized.split(" ") if t and t not in ENGLISH_STOP_WORDS]


def _analyze(text: str) -> list[str]:
    return _content_words(token_text(normalize(text)))


class StoryVectorizer:
    """Hashed term counts per article, TF-IDF weights from corpus document frequencies.

    Parameters
    ----------
    n_features : int, default 2**20
        Hash space of terms.
    max_df, max_df_floor : float, int, default 0.01, 50
        Terms in more than ``max(max_df * n, max_df_floor)`` articles get no weight.
    full_idf_docs : int, default 1000
        :math:`n_0`: scans of this many articles use the full IDF.
    """

    def __init__(
        self, n_features: int = 1 << 20, max_df: float = 0.01, max_df_floor: int = 50, full_idf_docs: int = 1000
    ) -> None:
        self.n_features = n_features
        self.max_df = max_df
        self.max_df_floor = max_df_floor
        self.full_idf_docs = full_idf_docs
        self._hashers = {
            tokenized: HashingVectorizer(
                n_features=n_features,
                analyzer=_content_words if tokenized else _analyze,
                alternate_sign=False,
                norm=None,
                dtype=np.float32,
            )
            for tokenized in (False, True)
        }
        self.n_docs_ = 0
        self.document_frequency_ = np.zeros(n_features, dtype=np.int64)
        self.idf_ = self._idf()

    def counts(self, texts: Sequence[str], *, tokenized: bool = False) -> sp.csr_matrix:
        """Raw term counts, one row per text (per-article work, no corpus state).

        ``tokenized=True`` takes texts already in :func:`~dedup.normalize.token_text` form.
        """
        return self._hashers[tokenized].transform(texts).tocsr()

    def partial_fit(self, counts: sp.csr_matrix) -> StoryVectorizer:
        """Add the document frequencies of more articles."""
        self.document_frequency_ += np.bincount(counts.indices, minlength=self.n_features)
        self.n_docs_ += counts.shape[0]
        self.idf_ = self._idf()
        return self

    def fit(self, counts: sp.csr_matrix) -> StoryVectorizer:
        self.n_docs_ = 0
        self.document_frequency_ = np.zeros(self.n_features, dtype=np.int64)
        return self.partial_fit(counts)

    def _idf(self) -> np.ndarray:
        r"""The term weights :math:`\mathrm{idf}_t^{\alpha}`, 0 for too common terms."""
        n = max(self.n_docs_, 1)
        alpha = min(1.0, np.log(max(n, 2)) / np.log(self.full_idf_docs))
        idf = np.log((1.0 + n) / (1.0 + self.document_frequency_)) + 1.0
        common = self.document_frequency_ > max(self.max_df * n, self.max_df_floor)
        return np.where(common, 0.0, idf**alpha).astype(np.float32)

    def transform(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Unit-length TF-IDF rows with sublinear term frequency."""
        weighted = counts.copy().astype(np.float32)
        np.log(weighted.data, out=weighted.data)
        weighted.data += 1.0
        weighted = weighted @ sp.diags(self.idf_)
        weighted.eliminate_zeros()
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
    min_cosine : float, default 0.3
        Pairs below this cosine are dropped.
    window_days : float or None, default 2
        Articles whose publication times are both known and further apart than
        this are never compared. ``None`` compares everything.
    min_shared_terms : int, default 3
        Weighted terms a pair must share: one rare word ("qtrly") shared by two
        short notices is no story.
    chunk_rows : int, default 512
        Rows multiplied at once (fewer for large scans; bounds memory).
    """

    def __init__(
        self,
        k: int = 10,
        min_cosine: float = 0.3,
        window_days: float | None = 2.0,
        min_shared_terms: int = 3,
        chunk_rows: int = 512,
    ) -> None:
        self.k = k
        self.min_shared_terms = min_shared_terms
        self.min_cosine = min_cosine
        self.window_days = window_days
        self.chunk_rows = chunk_rows

    def pairs(self, vectors: sp.csr_matrix, times: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Pairs ``(i, j)``, ``i < j``, and their cosine, for cosine >= ``min_cosine``.

        ``times`` holds publication times as float days (NaN when unknown).
        Rows are taken in time order, so each chunk of dated rows is multiplied
        only with the articles inside its window (and the undated ones).
        """
        n_docs = vectors.shape[0]
        if n_docs < 2:
            return np.empty((0, 2), dtype=np.int64), np.empty(0)
        windowed = times is not None and self.window_days is not None and bool(np.isfinite(times).any())
        order = np.argsort(times, kind="stable") if windowed and times is not None else np.arange(n_docs)
        when = times[order] if windowed and times is not None else np.full(n_docs, np.nan)
        n_dated = int(np.isfinite(when).sum())
        ordered = vectors[order] if windowed else vectors
        chunk = max(16, min(self.chunk_rows, 4_000_000 // n_docs))
        top = min(self.k, n_docs - 1)
        found_pairs, found_scores = [], []
        for start in range(0, n_docs, chunk):
            rows = np.arange(start, min(start + chunk, n_docs))
            columns = self._columns(rows, when, n_dated, n_docs)
            scores = (ordered[rows] @ ordered[columns].T).toarray()
            scores[rows[:, None] == columns[None, :]] = -1.0
            if windowed and self.window_days is not None:
                gap = np.abs(when[rows, None] - when[None, columns])
                scores[gap > self.window_days] = -1.0  # NaN compares False: unknown times stay
            width = min(top, len(columns))
            best = np.argpartition(-scores, width - 1, axis=1)[:, :width]
            best_scores = np.take_along_axis(scores, best, axis=1).ravel()
            keep = best_scores >= self.min_cosine
            found_pairs.append(np.stack([order[np.repeat(rows, width)[keep]], order[columns[best.ravel()[keep]]]], 1))
            found_scores.append(best_scores[keep])
        pairs = np.sort(np.concatenate(found_pairs), axis=1)
        pairs, first = np.unique(pairs, axis=0, return_index=True)
        scores = np.concatenate(found_scores)[first]
        present = vectors.copy()
        present.data[:] = 1.0
        shared = np.asarray(present[pairs[:, 0]].multiply(present[pairs[:, 1]]).sum(axis=1)).ravel()
        keep = shared >= self.min_shared_terms
        return pairs[keep], scores[keep]

    def _columns(self, rows: np.ndarray, when: np.ndarray, n_dated: int, n_docs: int) -> np.ndarray:
        """Positions (in time order) a chunk of rows is compared with."""
        if self.window_days is None or rows[-1] >= n_dated:
            return np.arange(n_docs)
        lo = int(np.searchsorted(when[:n_dated], when[rows[0]] - self.window_days, side="left"))
        hi = int(np.searchsorted(when[:n_dated], when[rows[-1]] + self.window_days, side="right"))
        return np.concatenate([np.arange(lo, hi), np.arange(n_dated, n_docs)])
