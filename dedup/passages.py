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

import itertools
import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .cluster import spread

__all__ = ["Alignment", "ClusterPassages", "PassageAligner", "segment"]

# A line's content without its leading and trailing white space.
_LINE = re.compile(r"[^\S\n]*(\S(?:[^\n]*\S)?)")
# A blank line: two newlines with only white space between them.
_BLANK = re.compile(r"\n[^\S\n]*\n")
# Words whose final dot ends no sentence: initials, "U.S.", titles.
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]\.|\b(?:[A-Z]\.){2,}|\b(?:Dr|Mr|Mrs|Ms|Prof|St|Sen|Rep|Gen|Col|Lt|Sgt|Gov|Jr|Sr|No|vs|etc|Inc|Ltd|Co"
    r"|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec|Mt|Ft|Ave|Corp|Bros)\.)"
    r"[\"'\u201d\u2019)\]]*$"
)
_TERMINAL = frozenset(".!?:;\"'\u201d\u2019)\u2026")
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")


def segment(text: str, max_chars: int = 600) -> list[tuple[int, int]]:
    """Passage spans ``(start, end)`` of a text, in order, white space trimmed.

    Paragraphs are lines. Inside a hard-wrapped block (lines of a fixed width
    that mostly stop mid-sentence, as in old wire feeds) a paragraph runs on
    until a line ends a sentence. Paragraphs longer than ``max_chars`` are cut
    into sentences.
    """
    spans: list[tuple[int, int]] = []
    for block in _blocks(text):
        for start, end in _paragraphs(text, block):
            if end - start <= max_chars:
                spans.append((start, end))
            else:
                spans.extend(_sentences(text, start, end))
    return [s for s in spans if s[1] > s[0]]


def _blocks(text: str) -> list[list[tuple[int, int]]]:
    """Lines (trimmed spans) grouped into blocks separated by blank lines.

    Between two lines there is only white space, so it holds two newlines exactly when it holds a
    blank line (:data:`_BLANK`): a line opens a block when a blank line lies between it and the last."""
    lines = [line.span(1) for line in _LINE.finditer(text)]
    blanks = [blank.start() for blank in _BLANK.finditer(text)]
    if not blanks:
        return [lines] if lines else []
    blocks: list[list[tuple[int, int]]] = []
    before = -1
    for span, seen in zip(lines, _before(blanks, lines), strict=True):
        if seen != before:
            blocks.append([])
            before = seen
        blocks[-1].append(span)
    return blocks


def _before(points: list[int], spans: list[tuple[int, int]]) -> list[int]:
    """How many ``points`` lie before each span's start (spans in order)."""
    return np.searchsorted(np.asarray(points), [start for start, _ in spans]).tolist()


def _paragraphs(text: str, lines: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if not _hard_wrapped(text, lines):
        return lines
    paragraphs = []
    start: int | None = None
    for line_start, line_end in lines:
        if start is None:
            start = line_start
        if text[line_end - 1] in _TERMINAL:
            paragraphs.append((start, line_end))
            start = None
    if start is not None:
        paragraphs.append((start, lines[-1][1]))
    return paragraphs


def _hard_wrapped(text: str, lines: list[tuple[int, int]]) -> bool:
    """At least three lines of 40-100 characters, most of them ending mid-sentence."""
    if len(lines) < 3:
        return False
    lengths = [end - start for start, end in lines[:-1]]
    open_ended = sum(text[end - 1] not in _TERMINAL for _, end in lines[:-1])
    return open_ended >= 0.6 * len(lengths) and 40 <= sorted(lengths)[len(lengths) // 2] <= 100


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    cut = start
    for boundary in _SENTENCE_END.finditer(text, start, end):
        if _ABBREVIATION.search(text, max(start, boundary.start() - 8), boundary.start()):
            continue
        spans.append(_trim(text, cut, boundary.start()))
        cut = boundary.end()
    spans.append(_trim(text, cut, end))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@dataclass
class ClusterPassages:
    """The passages of one cluster's members, with what alignment needs.

    Passages are numbered across the cluster, member by member; ``member[i]``
    is the member of passage ``i``. ``shingles`` holds every passage's shingle
    hashes flattened, ``owner[j]`` the passage of ``shingles[j]``; ``vectors``
    has one unit TF-IDF row per passage; ``doc_shingles[m]`` is member ``m``'s
    sorted shingle set.
    """

    member: np.ndarray
    shingles: np.ndarray
    owner: np.ndarray
    vectors: sp.csr_matrix
    doc_shingles: list[np.ndarray]

    @property
    def n_passages(self) -> int:
        return len(self.member)


@dataclass
class Alignment:
    """Per passage of one member: how many other members carry it (``support``),
    the best evidence (``match``), whether some member carries it verbatim, and
    the member (index in the cluster) of the best supporting evidence, -1 for none."""

    support: np.ndarray
    match: np.ndarray
    verbatim: np.ndarray
    matched: np.ndarray


class PassageAligner:
    """Count, for every passage of every member, the other members carrying it.

    Parameters
    ----------
    min_containment : float, default 0.5
        Share of a passage's shingles another member must contain (verbatim support).
    min_cosine : float, default 0.2
        Passage cosine for rewritten support.
    min_terms : int, default 5
        Distinct weighted terms a passage needs before its cosine counts (the
        cosine of a one-word line like "WORLD" says nothing).
    max_members : int, default 50
        Members every passage is compared with (spread over the cluster),
        bounding the work on very large clusters.
    """

    def __init__(
        self, min_containment: float = 0.5, min_cosine: float = 0.2, min_terms: int = 5, max_members: int = 50
    ) -> None:
        self.min_containment = min_containment
        self.min_cosine = min_cosine
        self.min_terms = min_terms
        self.max_members = max_members

    def align(self, cluster: ClusterPassages) -> list[Alignment]:
        """One :class:`Alignment` per member, in member order."""
        n_members = len(cluster.doc_shingles)
        counts = np.bincount(cluster.member, minlength=n_members)
        references = np.array(spread([m for m in range(n_members) if counts[m]], self.max_members), dtype=np.int64)
        if cluster.n_passages == 0 or len(references) == 0:
            return [Alignment(np.zeros(c, np.int64), np.zeros(c), np.zeros(c, bool), np.full(c, -1, np.int64))
                    for c in counts]
        verbatim = self._verbatim(cluster, references)
        rewritten = self._rewritten(cluster, references)
        others = cluster.member[:, None] != references[None, :]
        supported = ((verbatim >= self.min_containment) | (rewritten >= self.min_cosine)) & others
        support = supported.sum(axis=1)
        evidence = np.maximum(verbatim, rewritten)
        match = np.where(others, evidence, 0.0).max(axis=1)
        matched = np.where(support > 0, references[np.where(supported, evidence, -1.0).argmax(axis=1)], -1)
        carried = ((verbatim >= self.min_containment) & others).any(axis=1)
        bounds = np.concatenate(([0], np.cumsum(counts)))
        return [
            Alignment(support[lo:hi], match[lo:hi], carried[lo:hi], matched[lo:hi])
            for lo, hi in itertools.pairwise(bounds)
        ]

    @staticmethod
    def _verbatim(cluster: ClusterPassages, references: np.ndarray) -> np.ndarray:
        """Share of each passage's shingles found in each reference member: (passages, references)."""
        sizes = np.bincount(cluster.owner, minlength=cluster.n_passages).astype(float)
        if len(references) <= 8:  # small clusters, the common case: a lookup per member is cheapest
            found = np.stack(
                [np.bincount(cluster.owner[_members_of(cluster.shingles, cluster.doc_shingles[r])],
                             minlength=cluster.n_passages) for r in references],
                axis=1,
            ).astype(float)
            return np.divide(found, sizes[:, None], out=np.zeros_like(found), where=sizes[:, None] > 0)
        sets = [cluster.doc_shingles[r] for r in references]
        vocabulary, column = np.unique(np.concatenate(sets), return_inverse=True)
        row = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
        present = sp.csr_matrix((np.ones(len(row), np.float32), (row, column.ravel())),
                                shape=(len(sets), max(len(vocabulary), 1)))
        position = np.minimum(np.searchsorted(vocabulary, cluster.shingles), max(len(vocabulary) - 1, 0))
        known = vocabulary[position] == cluster.shingles if len(vocabulary) else np.zeros(0, bool)
        passage_shingles = sp.csr_matrix(
            (np.ones(int(known.sum()), np.float32), (cluster.owner[known], position[known])),
            shape=(cluster.n_passages, present.shape[1]),
        )
        found = (passage_shingles @ present.T).toarray()
        return np.divide(found, sizes[:, None], out=np.zeros_like(found, dtype=float), where=sizes[:, None] > 0)

    def _rewritten(self, cluster: ClusterPassages, references: np.ndarray) -> np.ndarray:
        """Best cosine of each passage with any passage of each reference member: (passages, references).

        Passage pairs beyond :data:`MAX_PASSAGE_PAIRS` (two near-identical 10 MB pages hold ~10^9)
        are not compared: such clusters get verbatim support only, which is linear."""
        vectors = cluster.vectors
        columns = [np.flatnonzero(cluster.member == r) for r in references]
        best = np.zeros((cluster.n_passages, len(references)))
        if cluster.n_passages * sum(map(len, columns)) > MAX_PASSAGE_PAIRS:
            return best
        if cluster.n_passages * sum(map(len, columns)) <= _DENSE_LIMIT:  # the usual case: one product
            picked = np.concatenate(columns)
            every = len(picked) == cluster.n_passages and bool((picked == np.arange(len(picked))).all())
            cosines = (vectors @ (vectors if every else vectors[picked]).T).toarray()  # usually every passage
            blocks = np.concatenate(([0], np.cumsum([len(c) for c in columns])[:-1]))
            best = np.maximum.reduceat(cosines, blocks, axis=1)
        else:  # a huge article: bounded blocks of rows and columns
            step = max(1, int(_DENSE_LIMIT**0.5))
            for row in range(0, cluster.n_passages, step):
                rows = vectors[row : row + step]
                for j, reference in enumerate(columns):
                    for col in range(0, len(reference), step):
                        block = (rows @ vectors[reference[col : col + step]].T).toarray()
                        best[row : row + step, j] = np.maximum(best[row : row + step, j], block.max(axis=1))
        best[vectors.getnnz(axis=1) < self.min_terms] = 0.0
        return best


def _members_of(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """Whether each value is in ``sorted_set`` (sorted, unique): ``np.isin`` by one binary search per value."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    position = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[position] == values


_DENSE_LIMIT = 1 << 22  # cosines computed at once (32 MB of float64)
MAX_PASSAGE_PAIRS = 1 << 28  # passage cosines per cluster (2.7e8): beyond, verbatim support only
