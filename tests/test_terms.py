"""dedup.terms gives scikit-learn's values bit for bit (without importing it), and dedup.parallel
gives the same results in any number of processes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from dedup import load_articles, terms
from dedup.normalize import normalize, token_text
from dedup.parallel import chunk_bounds, chunked
from dedup.story import figure_terms

from .helpers import SAMPLES

sklearn = pytest.importorskip("sklearn")


def _token_texts() -> list[str]:
    texts = [a.text for a in load_articles(SAMPLES)[0]]
    odd = ["", " ", "a", "ab abc abcd abcde", "é" * 37 + " 漢字 ünïcödé x" * 3, "word " * 900, "q" * 1001]
    return [token_text(normalize(t)) for t in texts + odd]


def test_stop_words_are_scikit_learns():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    assert terms.ENGLISH_STOP_WORDS == ENGLISH_STOP_WORDS


def test_murmurhash_is_scikit_learns():
    from sklearn.utils import murmurhash3_32

    words = [*sorted({w for t in _token_texts() for w in t.split(" ")}), "", "xyz" * 100]
    keys = [w.encode("utf-8") for w in words]
    expected = np.array([murmurhash3_32(k, seed=0) for k in keys], dtype=np.int32)
    assert np.array_equal(terms.murmurhash3_32(keys), expected)


def test_term_counts_are_the_hashing_vectorizers():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer

    def content_words(tokenized: str) -> list[str]:
        tokens = tokenized.split(" ")
        return [t for t in tokens if t and t not in ENGLISH_STOP_WORDS] + figure_terms(tokens)

    texts = [*_token_texts(), "63 4 pct 8 38 1987 x 2", "1  2 3", " 5 6 ", "7", "a 1 b 22 333 4444 c"]
    for n_features in (1 << 20, 1000):
        vectorizer = HashingVectorizer(n_features=n_features, analyzer=content_words, alternate_sign=False,
                                       norm=None, dtype=np.float32)
        expected = vectorizer.transform(texts).tocsr()
        got = terms.term_counts(terms.HashedTokens.from_texts(texts, n_features))
        for name in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(got, name), getattr(expected, name)), name
            assert getattr(got, name).dtype == getattr(expected, name).dtype, name


def test_l2_normalize_is_scikit_learns():
    from sklearn.preprocessing import normalize as l2

    rng = np.random.default_rng(0)
    matrix = sp.random(300, 500, density=0.05, format="csr", dtype=np.float32, random_state=1)
    matrix.data = (rng.random(matrix.nnz) * 7).astype(np.float32)
    keep = np.ones(300, np.float32)
    keep[5] = 0.0  # an empty row stays empty
    matrix = (sp.diags(keep) @ matrix).tocsr()
    matrix.eliminate_zeros()
    expected, got = l2(matrix), terms.l2_normalize(matrix)
    assert np.array_equal(got.data, expected.data) and np.array_equal(got.indices, expected.indices)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_chunked_gives_every_range_in_order(workers):
    seen = list(chunked(lambda lo, hi: list(range(lo, hi)), chunk_bounds(17, 5), workers))
    assert [x for part in seen for x in part] == list(range(17)) and len(seen) == 5
