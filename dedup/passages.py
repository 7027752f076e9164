"""Passages: segmentation with offsets, and their alignment inside a cluster.

An article is cut into passages -- its lines (paragraphs separated by blank
lines *or* single newlines), and lines longer than ``max_chars`` into
sentences -- each kept as offsets into the loaded text, so
``text[start:end]`` is always the passage.

Inside a cluster each passage :math:`p` of article :math:`a` is compared with
every other member :math:`b`:

* verbatim: the share of :math:`p`'s shingles found anywhere in :math:`b`,
  :math:`|S_p \\cap S_b| / |S_p|`;
* rewritten: :math:`\\max_q \\cos(p, q)` over :math:`b`'s passages :math:`q`
  (TF-IDF passage vectors weighted with the scan's document frequencies).

:math:`b` *supports* :math:`p` when either reaches its threshold. ``support`` is
the number of members supporting :math:`p`, ``match`` the best evidence seen.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Alignment", "PassageAligner", "PassageSet", "segment"]

_LINE = re.compile(r"[^\n]+")
# Words whose final dot ends no sentence: initials, "U.S.", titles.
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]\.|\b(?:[A-Z]\.){2,}|\b(?:Dr|Mr|Mrs|Ms|Prof|St|Sen|Rep|Gen|Col|Lt|Sgt|Gov|Jr|Sr|No|vs|etc|Inc|Ltd|Co)\.)"
    r"[\"'\u201d\u2019)\]]*$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")


def segment(text: str, max_chars: int = 600) -> list[tuple[int, int]]:
    """Passage spans ``(start, end)`` of a text, in order, white space trimmed."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start, end = _trim(text, line.start(), line.end())
        if end <= start:
            continue
        if end - start <= max_chars:
            spans.append((start, end))
            continue
        cut = start
        for boundary in _SENTENCE_END.finditer(text, start, end):
            if _ABBREVIATION.search(text, max(start, boundary.start() - 8), boundary.start()):
                continue
            spans.append(_trim(text, cut, boundary.start()))
            cut = boundary.end()
        spans.append(_trim(text, cut, end))
    return [s for s in spans if s[1] > s[0]]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@dataclass
class PassageSet:
    """The passages of one article with what alignment needs.

    ``shingles`` holds each passage's shingle hashes flattened, with
    ``owner[i]`` the passage of ``shingles[i]``; ``vectors`` has one unit
    TF-IDF row per passage; ``doc_shingles`` is the article's sorted shingle set.
    """

    spans: list[tuple[int, int]]
    shingles: np.ndarray
    owner: np.ndarray
    vectors: sp.csr_matrix
    doc_shingles: np.ndarray

    def __len__(self) -> int:
        return len(self.spans)


@dataclass
class Alignment:
    """Per passage of one member: how many other members carry it (``support``),
    the best evidence (``match``), and whether some member carries it verbatim."""

    support: np.ndarray
    match: np.ndarray
    verbatim: np.ndarray


class PassageAligner:
    """Count, for every passage of every member, the other members carrying it.

    Parameters
    ----------
    min_containment : float, default 0.5
        Share of a passage's shingles another member must contain (verbatim support).
    min_cosine : float, default 0.2
        Passage cosine for rewritten support.
    min_terms : int, default 5
        Distinct terms a passage needs before its cosine counts (the cosine of
        a one-word line like "WORLD" says nothing).
    max_members : int, default 50
        Other members each article is aligned against (spread over the
        cluster), bounding the work on very large clusters.
    """

    def __init__(
        self, min_containment: float = 0.5, min_cosine: float = 0.2, min_terms: int = 5, max_members: int = 50
    ) -> None:
        self.min_containment = min_containment
        self.min_cosine = min_cosine
        self.min_terms = min_terms
        self.max_members = max_members

    def align(self, members: Sequence[PassageSet]) -> list[Alignment]:
        """The alignment of every member's passages against (at most ``max_members``) other members."""
        vectors = _compact_columns(sp.vstack([m.vectors for m in members]).tocsr()) if members else None
        starts = np.cumsum([0] + [len(m) for m in members])
        out = []
        for a, mine in enumerate(members):
            support = np.zeros(len(mine), dtype=np.int64)
            match = np.zeros(len(mine))
            best_verbatim = np.zeros(len(mine))
            others = _spread([b for b in range(len(members)) if b != a and len(members[b])], self.max_members)
            if len(mine) == 0 or not others or vectors is None:
                out.append(Alignment(support, match, best_verbatim > 0))
                continue
            mine_rows = vectors[starts[a] : starts[a + 1]]
            long_enough = mine_rows.getnnz(axis=1) >= self.min_terms
            other_rows = np.concatenate([np.arange(starts[b], starts[b + 1]) for b in others])
            cosines = (mine_rows @ vectors[other_rows].T).toarray()
            block_starts = np.cumsum([0] + [len(members[b]) for b in others[:-1]])
            best_cosine = np.maximum.reduceat(cosines, block_starts, axis=1)
            best_cosine[~long_enough] = 0.0
            sizes = np.bincount(mine.owner, minlength=len(mine)).astype(float)
            for column, b in enumerate(others):
                hits = np.isin(mine.shingles, members[b].doc_shingles)
                found = np.bincount(mine.owner[hits], minlength=len(mine))
                verbatim = np.divide(found, sizes, out=np.zeros(len(mine)), where=sizes > 0)
                rewritten = best_cosine[:, column]
                support += (verbatim >= self.min_containment) | (rewritten >= self.min_cosine)
                match = np.maximum(match, np.maximum(verbatim, rewritten))
                best_verbatim = np.maximum(best_verbatim, verbatim)
            out.append(Alignment(support, match, best_verbatim >= self.min_containment))
        return out


def _compact_columns(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The same rows over only the columns in use (hashed feature spaces are huge and sparse)."""
    used, remapped = np.unique(matrix.indices, return_inverse=True)
    return sp.csr_matrix((matrix.data, remapped.ravel(), matrix.indptr), shape=(matrix.shape[0], max(len(used), 1)))


def _spread(items: list[int], limit: int) -> list[int]:
    if len(items) <= limit:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).astype(int)]
