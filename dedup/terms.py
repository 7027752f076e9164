"""Hashed term counts and unit rows without scikit-learn: the same values, no 1 s import.

:func:`term_counts` gives, bit for bit, what scikit-learn's
``HashingVectorizer(analyzer=content_words, alternate_sign=False, norm=None,
dtype=float32)`` gives (MurmurHash3_x86_32 of each term's UTF-8 bytes, seed 0,
column ``abs(h) % n_features``, duplicates summed, columns sorted), and
:func:`l2_normalize` what ``sklearn.preprocessing.normalize`` gives for float32
CSR rows (squares summed one after the other in double precision). Both are
numpy over a whole batch: terms are split once per text (C speed), each
*distinct* term of the batch is hashed once, in bulk, and the counts are one sort.
``tests/test_terms.py`` checks both against scikit-learn.

The figure terms of :func:`dedup.story.figure_terms` (runs of all-digit tokens as
written) are found on the same bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .shingle import TokenBatch, token_batch
from .sortunique import unique_first_inverse

__all__ = ["ENGLISH_STOP_WORDS", "HashedTokens", "l2_normalize", "murmurhash3_32", "murmurhash3_32_at", "term_counts"]

# scikit-learn's English stop words (sklearn.feature_extraction.text.ENGLISH_STOP_WORDS, BSD-3-Clause).
ENGLISH_STOP_WORDS = frozenset((
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "all", "almost", "alone", "along",
    "already", "also", "although", "always", "am", "among", "amongst", "amoungst", "amount", "an", "and",
    "another", "any", "anyhow", "anyone", "anything", "anyway", "anywhere", "are", "around", "as", "at", "back",
    "be", "became", "because", "become", "becomes", "becoming", "been", "before", "beforehand", "behind", "being",
    "below", "beside", "besides", "between", "beyond", "bill", "both", "bottom", "but", "by", "call", "can",
    "cannot", "cant", "co", "con", "could", "couldnt", "cry", "de", "describe", "detail", "do", "done", "down",
    "due", "during", "each", "eg", "eight", "either", "eleven", "else", "elsewhere", "empty", "enough", "etc",
    "even", "ever", "every", "everyone", "everything", "everywhere", "except", "few", "fifteen", "fifty", "fill",
    "find", "fire", "first", "five", "for", "former", "formerly", "forty", "found", "four", "from", "front",
    "full", "further", "get", "give", "go", "had", "has", "hasnt", "have", "he", "hence", "her", "here",
    "hereafter", "hereby", "herein", "hereupon", "hers", "herself", "him", "himself", "his", "how", "however",
    "hundred", "i", "ie", "if", "in", "inc", "indeed", "interest", "into", "is", "it", "its", "itself", "keep",
    "last", "latter", "latterly", "least", "less", "ltd", "made", "many", "may", "me", "meanwhile", "might",
    "mill", "mine", "more", "moreover", "most", "mostly", "move", "much", "must", "my", "myself", "name", "namely",
    "neither", "never", "nevertheless", "next", "nine", "no", "nobody", "none", "noone", "nor", "not", "nothing",
    "now", "nowhere", "of", "off", "often", "on", "once", "one", "only", "onto", "or", "other", "others",
    "otherwise", "our", "ours", "ourselves", "out", "over", "own", "part", "per", "perhaps", "please", "put",
    "rather", "re", "same", "see", "seem", "seemed", "seeming", "seems", "serious", "several", "she", "should",
    "show", "side", "since", "sincere", "six", "sixty", "so", "some", "somehow", "someone", "something",
    "sometime", "sometimes", "somewhere", "still", "such", "system", "take", "ten", "than", "that", "the", "their",
    "them", "themselves", "then", "thence", "there", "thereafter", "thereby", "therefore", "therein", "thereupon",
    "these", "they", "thick", "thin", "third", "this", "those", "though", "three", "through", "throughout", "thru",
    "thus", "to", "together", "too", "top", "toward", "towards", "twelve", "twenty", "two", "un", "under", "until",
    "up", "upon", "us", "very", "via", "was", "we", "well", "were", "what", "whatever", "when", "whence",
    "whenever", "where", "whereafter", "whereas", "whereby", "wherein", "whereupon", "wherever", "whether",
    "which", "while", "whither", "who", "whoever", "whole", "whom", "whose", "why", "will", "with", "within",
    "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves"
))

_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
_8, _16, _24 = np.uint32(8), np.uint32(16), np.uint32(24)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _at(data: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return data[positions].astype(np.uint32)


def _mix(k: np.ndarray) -> np.ndarray:
    return _rotl(k * _C1, 15) * _C2


def murmurhash3_32(keys: Sequence[bytes]) -> np.ndarray:
    """Signed 32-bit MurmurHash3_x86_32 (seed 0) of every byte string, as ``sklearn.utils.murmurhash3_32``."""
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=len(keys))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    return murmurhash3_32_at(np.frombuffer(b"".join(keys), dtype=np.uint8), starts, lengths)


def murmurhash3_32_at(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """:func:`murmurhash3_32` of the byte strings ``data[starts[i]:starts[i] + lengths[i]]``.

    Vectorised over the keys: one pass per 4-byte block position, keys sorted by
    length so the keys still having that block are a prefix."""
    n = len(lengths)
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    lengths = np.asarray(lengths, dtype=np.int64)[order]
    starts = np.asarray(starts, dtype=np.int64)[order]
    data = np.concatenate((np.asarray(data, dtype=np.uint8), np.zeros(3, np.uint8)))
    blocks = lengths // 4
    h = np.zeros(n, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for j in range(int(blocks[0]) if n else 0):
            active = int(np.searchsorted(-blocks, -j, side="left"))  # keys with more than j blocks
            at = starts[:active] + 4 * j
            k = _at(data, at) | (_at(data, at + 1) << _8) | (_at(data, at + 2) << _16) | (_at(data, at + 3) << _24)
            x = h[:active] ^ _mix(k)
            h[:active] = _rotl(x, 13) * np.uint32(5) + np.uint32(0xE6546B64)
        tail = lengths & 3
        at = starts + 4 * blocks
        k = np.zeros(n, dtype=np.uint32)
        for byte in (2, 1, 0):
            has = tail > byte
            k[has] ^= _at(data, at[has] + byte) << np.uint32(8 * byte)
        h ^= np.where(tail > 0, _mix(k), np.uint32(0))
        h ^= lengths.astype(np.uint32)
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x85EBCA6B)
        h ^= h >> np.uint32(13)
        h *= np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
    out = np.empty(n, dtype=np.int32)
    out[order] = h.view(np.int32)
    return out


def _columns(hashes: np.ndarray, n_features: int) -> np.ndarray:
    """``HashingVectorizer``'s column of each signed hash (``abs(h) % n_features``, and its rule for -2**31)."""
    h = hashes.astype(np.int64)
    return np.where(h == -(1 << 31), (2147483647 - (n_features - 1)) % n_features, np.abs(h) % n_features)


class HashedTokens:
    """The tokens of a batch of texts in token-text form, each mapped to its hashed column
    (-1 for stop words); text ``i``'s tokens are ``columns[offsets[i]:offsets[i + 1]]``.
    Tokens with equal 64-bit token hashes (:mod:`dedup.shingle`, as shingles compare them) are
    taken for the same term."""

    def __init__(self, columns: np.ndarray, offsets: np.ndarray, n_features: int,
                 figures: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.columns, self.offsets, self.n_features = columns, offsets, n_features
        # the figure terms (:func:`dedup.story.figure_terms`): their texts and columns
        self.figures = figures if figures is not None else (np.empty(0, np.int64), np.empty(0, np.int64))

    @classmethod
    def from_texts(cls, token_texts: Sequence[str], n_features: int) -> HashedTokens:
        """The columns of the tokens of texts (split at spaces)."""
        return cls.of(token_batch(token_texts), n_features)

    @classmethod
    def of(cls, tokens: TokenBatch, n_features: int) -> HashedTokens:
        """The columns of tokens already hashed (:func:`dedup.shingle.token_batch`): each distinct
        token hash is hashed again with MurmurHash3 once, stop words found by their token hash."""
        distinct, first, inverse = unique_first_inverse(tokens.hashes)
        columns = _columns(murmurhash3_32_at(tokens.data, tokens.starts[first], (tokens.ends - tokens.starts)[first]),
                           n_features)
        columns[np.isin(distinct, _stop_hashes())] = -1
        return cls(columns[inverse.ravel()], tokens.offsets, n_features, _figure_terms(tokens, n_features))

    def __len__(self) -> int:
        return len(self.offsets) - 1


def _figure_terms(tokens: TokenBatch, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """The text and column of every figure term (:func:`dedup.story.figure_terms`): each maximal run
    of all-digit ASCII tokens of a text, joined by ``_`` after the figure mark. Tokens are one space
    apart in ``tokens.data``, so a run's bytes are the term's once the spaces become underscores."""
    from .story import FIGURE_MARK

    digit = (tokens.data >= ord("0")) & (tokens.data <= ord("9"))
    before = np.concatenate(([0], np.cumsum(digit)))
    number = (before[tokens.ends] - before[tokens.starts]) == (tokens.ends - tokens.starts)
    doc = tokens.doc_ids()
    # a token continues the run of the one before: same text, one space apart (split(" ") semantics)
    joined = (doc[1:] == doc[:-1]) & (tokens.starts[1:] - tokens.ends[:-1] == 1) & number[1:] & number[:-1]
    first = number & ~np.concatenate(([False], joined))
    last = number & ~np.concatenate((joined, [False]))
    starts, ends = tokens.starts[first], tokens.ends[last]
    if len(starts) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    mark = FIGURE_MARK.encode("ascii")
    data = tokens.data.tobytes()
    keys = [mark + data[a:b].replace(b" ", b"_") for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    return doc[first], _columns(murmurhash3_32(keys), n_features)


@functools.cache
def _stop_hashes() -> np.ndarray:
    """Token hashes (:mod:`dedup.shingle`) of the stop words."""
    return token_batch(sorted(ENGLISH_STOP_WORDS)).hashes


def _count_matrix(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_features: int) -> sp.csr_matrix:
    """CSR counts of (row, column) occurrences (columns -1 left out), columns sorted, float32."""
    keep = columns >= 0
    keys, counts = np.unique(rows[keep] * n_features + columns[keep], return_counts=True)
    indptr = np.searchsorted(keys, np.arange(n_rows + 1, dtype=np.int64) * n_features)
    wide = indptr[-1] > np.iinfo(np.int32).max
    index_type = np.int64 if wide else np.int32
    return sp.csr_matrix(
        (counts.astype(np.float32), (keys % n_features).astype(index_type), indptr.astype(index_type)),
        shape=(n_rows, n_features),
    )


def term_counts(tokens: HashedTokens) -> sp.csr_matrix:
    """Hashed counts of content words and figure terms, one row per text (as ``HashingVectorizer``)."""
    rows = np.repeat(np.arange(len(tokens), dtype=np.int64), np.diff(tokens.offsets))
    figure_rows, figure_columns = tokens.figures
    return _count_matrix(np.concatenate((rows, figure_rows)), np.concatenate((tokens.columns, figure_columns)),
                         len(tokens), tokens.n_features)


def l2_normalize(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit length, exactly as ``sklearn.preprocessing.normalize`` scales float32 CSR
    rows: each row's squares (float32) added one after the other into a double, values divided
    by its square root in double precision; empty rows left as they are."""
    out = matrix.copy()
    data = out.data
    sizes = np.diff(out.indptr).astype(np.int64)
    order = np.argsort(-sizes, kind="stable")
    starts, sizes = out.indptr[:-1].astype(np.int64)[order], sizes[order]
    squares = (data * data).astype(np.float64) if data.dtype == np.float32 else data.astype(np.float64) ** 2
    sums = np.zeros(len(sizes))
    for j in range(int(sizes[0]) if len(sizes) else 0):
        active = int(np.searchsorted(-sizes, -j, side="left"))  # rows holding more than j values
        sums[:active] += squares[starts[:active] + j]
    norms = np.zeros(len(sizes))
    norms[order] = np.sqrt(sums)
    per_value = np.repeat(norms, np.diff(out.indptr))
    scale = per_value != 0.0
    data[scale] = (data[scale].astype(np.float64) / per_value[scale]).astype(data.dtype)
    return out

