"""Maximal shared runs of tokens between two articles, as character offsets.

Two pieces:

* :func:`token_offsets` -- where every token of ``token_text(normalize(text))``
  sits in the **original** text (as loaded, before normalisation);
* :func:`shared_runs` / :func:`pair_spans` -- the maximal runs of tokens two
  documents share, found on their *k*-gram hash sequences
  (:class:`dedup.shingle.ShingleBatch`) and mapped back to character offsets.

A run of ``L >= k`` equal tokens is ``L - k + 1`` equal *k*-gram hashes on one
diagonal ``j - i`` (``i`` in *a*, ``j`` in *b*). All matching *k*-gram
positions are found at once with a sort and a binary search, sorted by
(diagonal, ``i``), and cut where the diagonal changes or ``i`` jumps: every
maximal shared run, not only those seeded by a fingerprint, in
:math:`O((n_a + n_b) \\log n_b)` numpy work per pair.

**Token offsets.** ``normalize`` works on the whole text (NFKC, quote and dash
folding, case folding); here the same steps are applied one original
character at a time and the tokeniser's character classes run on the
expansion, each output character remembering the original character it came
from. Per-character NFKC equals whole-text NFKC except around composing
sequences, which can in rare cases change the token count; the result is
checked against ``token_text(normalize(text))`` and, when the counts differ,
falls back to **paragraph** offsets (every token of a paragraph gets the
paragraph's span; ``exact`` is False and spans say so), or the whole text when
even paragraph counts differ.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import regex

from .normalize import normalize, token_text
from .shingle import ShingleBatch

__all__ = ["DEFAULT_MIN_WORDS", "Span", "TokenOffsets", "pair_spans", "shared_runs", "spans_for_pairs", "token_offsets"]

# Measured on planted Reuters excerpts (benchmarks/passage_reuse.py): a 25-word minimum finds
# every 2-3 paragraph excerpt and 70 % of one-paragraph ones (20 words: 87 %, 30: 52 %, 40: 16 %);
# precision against the planted pairs 0.91 (20 words: 0.84, 30: 0.94, 40: 0.95).
DEFAULT_MIN_WORDS = 25
# A token of ASCII text: a run of letters and digits, thousands separators inside numbers kept
# (the key drops them: "30,000" is one token, as in :func:`dedup.normalize.normalize`).
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+(?:,(?<=[0-9],)(?=[0-9]{3}(?![0-9]))[A-Za-z0-9]+)*")
# A thousands separator inside a number (digits of any script), which the key drops.
_THOUSANDS = regex.compile(r"[,\u066c](?<=\p{Nd}.)(?=\p{Nd}{3}(?!\p{Nd}))")
_PARAGRAPH = re.compile(r"[^\n]+")
_MAX_REPEAT = 8  # a k-gram repeated more often than this in one document seeds no run


@dataclass(frozen=True)
class TokenOffsets:
    """Character offsets of the tokens of a text: token ``t`` is ``text[starts[t]:ends[t]]``
    when ``exact``; otherwise (fallback) ``[starts[t], ends[t])`` is the paragraph holding it."""

    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    exact: bool

    def __len__(self) -> int:
        return len(self.starts)


def _raw_offsets(text: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Token spans found on the original text: runs of letters, digits, marks and invisible
    characters (numbers keep their thousands separators, as the key does), each unspaced-script
    character alone; a run whose key holds several tokens (an NFKC expansion such as ``½``) gives
    each of them the run's span (then the offsets are not exact: unspaced scripts, expansions), and
    one whose key is empty gives none."""
    if text.isascii():
        return (*_ascii_offsets(text), True)
    separator = np.fromiter((_separates(c) for c in text), dtype=bool, count=len(text))
    for m in _THOUSANDS.finditer(text):  # "30,000" is one token of the key
        separator[m.start()] = False
    edges = np.diff(np.concatenate(([1], separator.astype(np.int8), [1])))
    run_starts, run_ends = np.flatnonzero(edges == -1), np.flatnonzero(edges == 1)
    starts, ends, single = [], [], True
    for start, end in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
        piece = text[start:end]
        count = 1 if piece.isascii() else len(token_text(normalize(piece)).split())
        starts += [start] * count
        ends += [end] * count
        single = single and count <= 1
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), single


_ALNUM = np.zeros(256, dtype=bool)
for _range in (b"AZ", b"az", b"09"):
    _ALNUM[_range[0] : _range[1] + 1] = True
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0") : ord("9") + 1] = True


def _ascii_offsets(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The spans of :data:`_ASCII_TOKEN` in an ASCII text, found on its bytes: runs of letters and
    digits, a comma joining two of them when a digit precedes it and exactly three digits follow."""
    data = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    word = _ALNUM[data]
    digit = np.concatenate((_DIGIT[data], np.zeros(4, bool)))
    comma = np.flatnonzero(data[1:] == ord(",")) + 1
    joins = comma[digit[comma - 1] & digit[comma + 1] & digit[comma + 2] & digit[comma + 3] & ~digit[comma + 4]]
    word[joins] = True
    edges = np.diff(np.concatenate(([False], word, [False])).astype(np.int8))
    return np.flatnonzero(edges == 1).astype(np.int64), np.flatnonzero(edges == -1).astype(np.int64)


@lru_cache(maxsize=1 << 16)
def _separates(char: str) -> bool:
    """Whether a character separates tokens of the key, tried between two letters (its key may be
    white space, as for U+00B4, or empty, as for a zero-width joiner, which joins)."""
    return char.isspace() or token_text(normalize(f"a{char}a")).split() == ["a", "a"]


def _paragraph_offsets(text: str, n_tokens: int) -> TokenOffsets | None:
    starts, ends = [], []
    for m in _PARAGRAPH.finditer(text):
        count = len(token_text(normalize(m.group())).split())
        starts += [m.start()] * count
        ends += [m.end()] * count
    if len(starts) != n_tokens:
        return None
    return TokenOffsets(np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), exact=False)


def token_offsets(text: str) -> TokenOffsets:
    """Offsets in ``text`` of the tokens of ``token_text(normalize(text))``, one per token, in order.

    Always as many entries as that token text has tokens; ``exact`` False when the
    paragraph (or whole-text) fallback was needed.
    """
    starts, ends, single = _raw_offsets(text)
    n_tokens = len(token_text(normalize(text)).split())
    if len(starts) == n_tokens:
        return TokenOffsets(starts, ends, exact=single)  # several tokens share a run's span: not exact
    fallback = _paragraph_offsets(text, n_tokens)
    if fallback is not None:
        return fallback
    return TokenOffsets(np.zeros(n_tokens, np.int64), np.full(n_tokens, len(text), np.int64), exact=False)


def shared_runs(a: np.ndarray, b: np.ndarray, k: int, min_words: int = DEFAULT_MIN_WORDS) -> np.ndarray:
    """Maximal runs of tokens shared by two documents, from their *k*-gram hashes in text order.

    Returns int64 rows ``(a_token, b_token, n_tokens)``, sorted by ``a_token``:
    tokens ``a_token .. a_token + n_tokens - 1`` of *a* equal tokens
    ``b_token ..`` of *b*, and the run cannot be extended. Only runs of at least
    ``max(min_words, k)`` tokens. A *k*-gram repeated more than 8 times in either
    document seeds no run (a repeated jingle would multiply matches).
    """
    a = np.asarray(a, dtype=np.uint64)
    b = np.asarray(b, dtype=np.uint64)
    if len(a) == 0 or len(b) == 0:
        return np.empty((0, 3), dtype=np.int64)
    order = np.argsort(b, kind="stable")
    sb = b[order]
    lo = np.searchsorted(sb, a, side="left")
    hits = np.searchsorted(sb, a, side="right") - lo
    found = np.flatnonzero(hits)  # the k-grams of a that occur in b: only their repeats in a matter
    if len(found):
        sa, seen = np.sort(a), a[found]
        a_repeats = np.searchsorted(sa, seen, side="right") - np.searchsorted(sa, seen, side="left")
        hits[found[(hits[found] > _MAX_REPEAT) | (a_repeats > _MAX_REPEAT)]] = 0
    i = np.repeat(np.arange(len(a), dtype=np.int64), hits)
    if len(i) == 0:
        return np.empty((0, 3), dtype=np.int64)
    begin = np.cumsum(hits) - hits
    j = order[np.repeat(lo - begin, hits) + np.arange(len(i), dtype=np.int64)]
    diag = j - i
    by = np.argsort(diag, kind="stable")  # i ascends already: by diagonal, then by i
    i, diag = i[by], diag[by]
    new = np.concatenate(([True], (diag[1:] != diag[:-1]) | (i[1:] != i[:-1] + 1)))
    starts = np.flatnonzero(new)
    n_kgrams = np.diff(np.concatenate((starts, [len(i)])))
    a_tok = i[starts]
    # a document shorter than k has one k-gram covering all its tokens
    n_tokens = n_kgrams + k - 1
    keep = n_tokens >= max(min_words, k)
    runs = np.stack([a_tok[keep], a_tok[keep] + diag[starts][keep], n_tokens[keep]], axis=1)
    return runs[np.argsort(runs[:, 0], kind="stable")]


@dataclass(frozen=True)
class Span:
    """A maximal shared run: ``text_a[a_start:a_end]`` and ``text_b[b_start:b_end]``
    normalise to the same ``words`` tokens (when ``exact``; else the offsets are
    the paragraphs holding the run)."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    words: int
    exact: bool

    def as_dict(self) -> dict[str, int]:
        """The round-2 report's span object."""
        return {"a_start": self.a_start, "a_end": self.a_end, "b_start": self.b_start, "b_end": self.b_end}


def to_span(run: np.ndarray, oa: TokenOffsets, ob: TokenOffsets) -> Span:
    ta, tb, n = (int(x) for x in run)
    return Span(
        a_start=int(oa.starts[ta]),
        a_end=int(oa.ends[ta + n - 1]),
        b_start=int(ob.starts[tb]),
        b_end=int(ob.ends[tb + n - 1]),
        words=n,
        exact=oa.exact and ob.exact,
    )


def pair_spans(
    text_a: str,
    text_b: str,
    kgrams_a: np.ndarray,
    kgrams_b: np.ndarray,
    k: int,
    min_words: int = DEFAULT_MIN_WORDS,
    offsets_a: TokenOffsets | None = None,
    offsets_b: TokenOffsets | None = None,
) -> list[Span]:
    """The shared spans of one pair, in order of position in *a*.

    ``kgrams_*`` are the documents' *k*-gram hashes (``ShingleBatch.doc(d)``,
    hashed from the same texts); ``offsets_*`` may be passed when already known.
    """
    runs = shared_runs(kgrams_a, kgrams_b, k, min_words)
    if len(runs) == 0:
        return []
    oa = offsets_a if offsets_a is not None else token_offsets(text_a)
    ob = offsets_b if offsets_b is not None else token_offsets(text_b)
    return [to_span(run, oa, ob) for run in runs]


def spans_for_pairs(
    texts: Sequence[str], batch: ShingleBatch, pairs: np.ndarray, k: int, min_words: int = DEFAULT_MIN_WORDS
) -> list[list[Span]]:
    """:func:`pair_spans` for many pairs ``(a, b)`` of documents of one batch;
    token offsets are computed once per document."""
    cache: dict[int, TokenOffsets] = {}

    def offsets(d: int) -> TokenOffsets:
        if d not in cache:
            cache[d] = token_offsets(texts[d])
        return cache[d]

    out = []
    for a, b in np.asarray(pairs, dtype=np.int64).reshape(-1, 2).tolist():
        runs = shared_runs(batch.doc(a), batch.doc(b), k, min_words)
        out.append([to_span(run, offsets(a), offsets(b)) for run in runs])
    return out
