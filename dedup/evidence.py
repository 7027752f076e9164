"""What shows that a verified overlap is copying: the shared runs of two articles, and the rules on them.

Shingle overlap says *how much* two texts share, not *how*. The shared runs
(:mod:`dedup.spans`: maximal runs of identical tokens, with character offsets
in both articles) tell copied narration from look-alikes:

* **templates**: the same dividend notice or money-market report filled in for
  another company or day shares many short runs between its figures; when no
  run reaches ``min_run_words`` and the texts carry different figures
  (:func:`dedup.verify.figures_agree`), the pair is a template, not a copy. A
  long shared run is copying whatever digits the rest of the page holds (clutter
  such as timestamps or "Image 1 of 12", or the figures of a dropped half);
* **far apart in time**: two dated articles further apart than the same-story
  window need one run of ``min_run_words`` (a republication keeps the wording;
  a recurring report reuses only its skeleton);
* **common shingles**: a shingle found in more than ``winnow_max_df`` copy
  families (counted over families, so a widely carried wire story counts once)
  is a template's skeleton or a site's furniture; a pair whose overlap, without
  them, neither reaches the ``derived`` containment nor could hold a run of
  ``min_run_words`` is no copy (dividend notices, bond issues, filings);
* **a long run is copying**: a candidate below the overlap thresholds that
  shares one run of ``min_run_words`` is ``derived`` (:func:`long_runs`): two
  wire paragraphs inside a page five times longer hold little of either text;
* **quotations and furniture**: runs inside quotation marks, or an embedded
  tweet (:mod:`dedup.quotes`), and web furniture (share widgets, newsletter
  boxes: lines that open like boilerplate) are evidence of a shared *source* or
  a shared site, not of copying: a pair that shares fewer than
  ``min_run_words`` words besides these (and holds less than 80 % of either
  text) is no verbatim relation.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from . import relation
from .fingerprint import Prints
from .labels import label_passage
from .link import Links
from .params import Params
from .quotes import quoted_mask, span_kind
from .ragged import Ragged
from .shingle import ShingleHasher
from .sortunique import sorted_unique
from .spans import Span, TokenOffsets, shared_runs, to_span, token_offsets
from .verify import Overlaps, figures_agree

__all__ = ["SharedRuns", "common_shingles", "credible", "informative", "long_runs"]


class SharedRuns:
    """Shared runs of pairs of articles, computed on demand and kept (a pair is asked twice:
    by the rules, then by the report)."""

    def __init__(self, texts: Sequence[str], k: int, min_words: int, shingle_size: int) -> None:
        self.texts = texts
        self.k = k
        self.min_words = min_words
        # a run of min_words tokens holds this many shared shingles: pairs sharing fewer have none
        self.min_shingles = max(1, min_words - shingle_size + 1)
        self._kgrams: dict[int, np.ndarray] = {}
        self._offsets: dict[int, TokenOffsets] = {}
        self._masks: dict[int, np.ndarray] = {}
        self._found: dict[tuple[int, int], list[Span]] = {}

    def spans(self, i: int, j: int) -> list[Span]:
        """The maximal runs of at least ``min_words`` tokens articles ``i`` and ``j`` share."""
        key = (i, j)
        if key not in self._found:
            self._prepare([i, j])
            runs = shared_runs(self._kgrams[i], self._kgrams[j], self.k, self.min_words)
            self._found[key] = [to_span(run, self._offset(i), self._offset(j)) for run in runs]
        return self._found[key]

    def forget(self) -> None:
        """Drop what each article's runs were found from (k-gram hashes, token offsets, quotation
        masks; kept while many pairs are asked), not the runs found: a pair asked again later is
        answered from them, a new pair recomputes its two articles."""
        self._kgrams, self._offsets, self._masks = {}, {}, {}

    def possible(self, shared: np.ndarray) -> np.ndarray:
        """Whether pairs sharing these many shingles can share a run of ``min_words``."""
        return np.asarray(shared) >= self.min_shingles

    def longest(self, pairs: np.ndarray, shared: np.ndarray) -> np.ndarray:
        """Words of the longest shared run of each pair (0: none of ``min_words``), given the
        shingles each pair shares (pairs sharing too few are not searched)."""
        out = np.zeros(len(pairs), dtype=np.int64)
        search = np.flatnonzero(self.possible(shared))
        self._prepare(sorted_unique(pairs[search]))
        for n in search:
            out[n] = max((s.words for s in self.spans(int(pairs[n, 0]), int(pairs[n, 1]))), default=0)
        return out

    def apart(self, pairs: np.ndarray) -> np.ndarray:
        """Words of each pair's shared runs that are not narration: quotations, tweets, and web
        furniture (lines whose form is boilerplate: share widgets, newsletters, copyright)."""
        out = np.zeros(len(pairs), dtype=np.int64)
        for n, (i, j) in enumerate(pairs):
            text = self.texts[int(i)]
            for span in self.spans(int(i), int(j)):
                if span_kind(text, span.a_start, span.a_end, mask=self._mask(int(i))) is not None or _furniture(
                    text[span.a_start : span.a_end]
                ):
                    out[n] += span.words
        return out

    def prepare(self, docs: Sequence[int] | np.ndarray) -> None:
        """Hash the k-grams of these articles in one batch, before their spans are asked for."""
        self._prepare(docs)

    def _prepare(self, docs: Sequence[int] | np.ndarray) -> None:
        missing = [int(d) for d in docs if int(d) not in self._kgrams]
        if missing:
            batch = ShingleHasher(self.k).transform([self.texts[d] for d in missing])
            for n, d in enumerate(missing):
                self._kgrams[d] = batch.doc(n)

    def _offset(self, d: int) -> TokenOffsets:
        if d not in self._offsets:
            self._offsets[d] = token_offsets(self.texts[d])
        return self._offsets[d]

    def _mask(self, d: int) -> np.ndarray:
        if d not in self._masks:
            self._masks[d] = quoted_mask(self.texts[d])
        return self._masks[d]


# Containment above which two texts are mostly the same text, whatever their shared runs are made of.
_MOSTLY = 0.8


def long_runs(prints: Prints, pairs: np.ndarray, runs: SharedRuns, params: Params) -> Links:
    """Candidate pairs below the overlap thresholds that share one run of ``min_run_words``:
    ``derived`` all the same (a short wire item inside a long page holds little of either)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return Links.empty()
    overlaps = Overlaps.compute(prints.shingles, prints.shingles, pairs)
    found = runs.longest(pairs, overlaps.shared) >= params.min_run_words
    return Links.from_overlaps(pairs[found], relation.codes(int(found.sum()), relation.DERIVED), overlaps.take(found))


def _furniture(text: str, min_share: float = 0.6) -> bool:
    """Whether most words of a span lie in lines that open like boilerplate (share widgets,
    newsletter boxes, copyright lines: :func:`dedup.labels.label_passage` on their first 30 words)."""
    lines = [line for line in text.splitlines() if line.strip()]
    words = sum(len(line.split()) for line in lines)
    clutter = sum(len(line.split()) for line in lines if label_passage(" ".join(line.split()[:30])) == "boilerplate")
    return words > 0 and clutter >= min_share * words


# Values examined at once by the passes over every shingle (bounded scratch memory).
_CHUNK_VALUES = 1 << 20
# Buckets of the count of shingles by their top bits (a shingle in many families fills its bucket).
_BUCKET_BITS = 22


def common_shingles(shingles: Ragged, rows: np.ndarray, families: np.ndarray, max_df: int) -> np.ndarray:
    """Shingles found in more than ``max_df`` copy families among ``rows`` (sorted): the skeleton
    of templates and the furniture of sites. Counted over families, so the copies of one wire
    story count once.

    A shingle in more than ``max_df`` families is in more than ``max_df`` articles, so its bucket
    (the top bits of its hash) counts more than ``max_df``: the family count is taken exactly over
    the shingles of such buckets only, and every pass reads the sets in bounded chunks."""
    rows = np.asarray(rows, dtype=np.int64)
    families = np.asarray(families, dtype=np.int64)
    shift = np.uint64(64 - _BUCKET_BITS)
    counts = np.zeros(1 << _BUCKET_BITS, dtype=np.int64)
    pieces = _pieces(shingles, rows)
    for lo, hi in pieces:
        counts += np.bincount((shingles.take(rows[lo:hi]).values >> shift).astype(np.int64), minlength=len(counts))
    heavy = counts > max_df
    if not heavy.any():
        return np.empty(0, np.uint64)
    values, family = [], []
    for lo, hi in pieces:
        taken = shingles.take(rows[lo:hi])
        keep = heavy[(taken.values >> shift).astype(np.int64)]
        values.append(taken.values[keep])
        family.append(np.repeat(families[lo:hi], taken.sizes())[keep])
    value, fam = np.concatenate(values), np.concatenate(family)
    order = np.lexsort((fam, value))
    value, fam = value[order], fam[order]
    first = np.ones(len(value), dtype=bool)
    first[1:] = (value[1:] != value[:-1]) | (fam[1:] != fam[:-1])
    distinct, per_family = np.unique(value[first], return_counts=True)
    return distinct[per_family > max_df]


def _pieces(shingles: Ragged, rows: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive ranges of ``rows`` holding about :data:`_CHUNK_VALUES` shingles each."""
    total = np.cumsum(shingles.sizes()[rows])
    cuts = np.searchsorted(total, np.arange(_CHUNK_VALUES, int(total[-1]) if len(total) else 0, _CHUNK_VALUES))
    edges = np.unique(np.concatenate(([0], cuts + 1, [len(rows)]))).clip(0, len(rows))
    return [(int(lo), int(hi)) for lo, hi in itertools.pairwise(edges) if hi > lo]


def informative(shingles: Ragged, common: np.ndarray) -> Ragged:
    """Each article's common shingles (:func:`common_shingles`; few per article): what
    :func:`credible` takes out of a pair's overlap. Read in bounded chunks."""
    if len(common) == 0:
        return Ragged.empty(len(shingles))
    common = np.sort(np.asarray(common, dtype=np.uint64))
    found = []
    for lo in range(0, len(shingles.values), _CHUNK_VALUES):
        piece = shingles.values[lo : lo + _CHUNK_VALUES]
        at = np.minimum(np.searchsorted(common, piece), len(common) - 1)
        found.append(np.flatnonzero(common[at] == piece) + lo)
    where = np.concatenate(found)
    sizes = np.bincount(np.searchsorted(shingles.offsets, where, side="right") - 1, minlength=len(shingles))
    return Ragged(shingles.values[where], np.concatenate(([0], np.cumsum(sizes))).astype(np.int64))


def _without(shingles: Ragged, common: Ragged, pairs: np.ndarray, whole: np.ndarray) -> Overlaps:
    """The overlaps of pairs of shingle sets without their common shingles, from the ``whole``
    shared counts: :math:`|A \\cap B \\setminus C| = |A \\cap B| - |(A \\cap C) \\cap (B \\cap C)|`."""
    both = np.zeros(len(pairs))
    some = np.flatnonzero((common.sizes()[pairs[:, 0]] > 0) & (common.sizes()[pairs[:, 1]] > 0))
    both[some] = Overlaps.compute(common, common, pairs[some]).shared
    sizes = shingles.sizes() - common.sizes()
    return Overlaps.of_counts(whole - both, sizes[pairs[:, 0]], sizes[pairs[:, 1]])


def credible(
    links: Links,
    prints: Prints,
    runs: SharedRuns,
    times: np.ndarray | None,
    params: Params,
    common: Ragged | None = None,
) -> np.ndarray:
    """Which verbatim links the evidence bears out (exact copies always do; see the module doc).

    ``common`` are each article's common shingles (:func:`informative`): a pair whose overlap
    is made of them (a template's skeleton) is no copy. ``links`` are verified on
    ``prints.shingles`` (their ``shared`` counts are those of the whole sets)."""
    keep = np.ones(len(links), dtype=bool)
    check = np.flatnonzero((links.relation >= relation.DERIVED) & (links.relation != relation.EXACT))
    if len(check) == 0:
        return keep
    pairs = links.pairs[check]
    if common is not None:
        own = _without(prints.shingles, common, pairs, links.shared[check])
        own_containment = np.maximum(own.containment_a_in_b, own.containment_b_in_a)
        skeleton = (own_containment < params.derived) & ~runs.possible(own.shared)
        keep[check[skeleton]] = False
    longest = runs.longest(pairs, links.shared[check])
    long_run = longest >= params.min_run_words
    for n, (i, j) in enumerate(pairs):
        if not long_run[n] and not figures_agree(
            prints.figures.row(int(i)), prints.figures.row(int(j)), params.min_figures, params.min_figure_share
        ):
            keep[check[n]] = False
    if times is not None and params.window_days is not None:
        gap = np.abs(times[pairs[:, 0]] - times[pairs[:, 1]])  # NaN (undated) compares False
        keep[check[(gap > params.window_days) & ~long_run]] = False
    containment = np.maximum(links.containment_a_in_b[check], links.containment_b_in_a[check])
    quoted = (longest > 0) & (containment < _MOSTLY)
    if quoted.any():
        narration = links.shared[check[quoted]] - runs.apart(pairs[quoted])  # shingles ~ words
        keep[check[quoted][narration < params.min_run_words]] = False
    return keep
