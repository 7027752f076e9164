"""Inside each cluster: which passages each member added, where the copy came from, and its core.

For the articles of some clusters (a scan passes all of them, an index query
one), :func:`attribute` runs, in order:

1. segmentation into passages with offsets (:func:`dedup.passages.segment`);
2. labels by form (:func:`dedup.sections.label_passages`), for cluster members;
3. recurrence: passages that recur in one outlet's articles of different
   stories (boilerplate), keyed by a stable hash of (outlet, passage text);
4. alignment of every passage with the other members (verbatim shingle
   containment, rewritten passage cosine: :class:`dedup.passages.PassageAligner`);
5. the verdict per passage (:func:`dedup.sections.decide`), after which each
   :class:`~dedup.result.Passage` is built once, never changed.

:func:`provenance` then turns the passages into origin clues (publication time,
wire credit, wire weight) and the likely source of every link, and
:func:`core` reconstructs a cluster's shared copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import relation
from .article import Article
from .link import Links
from .normalize import normalize, token_text
from .origin import OriginClues, cluster_origin, pair_source, wire_credit
from .parallel import available_workers, chunk_bounds, chunked
from .params import Params
from .passages import ClusterPassages, PassageAligner, segment
from .ragged import Ragged
from .result import Passage
from .sections import decide, label_passages
from .shingle import ShingleHasher
from .story import Idf, term_counts

__all__ = ["attribute", "core", "groups", "links_within", "provenance"]

Progress = Callable[[str, int, int | None], None]


def groups(labels: np.ndarray) -> list[list[int]]:
    """Members of each cluster label (ascending positions), in label order; unclustered articles left out."""
    clustered = np.flatnonzero(labels >= 0)
    order = clustered[np.argsort(labels[clustered], kind="stable")]
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return [part.tolist() for part in np.split(order, bounds)] if len(order) else []


@dataclass(frozen=True)
class _Segments:
    """The passages of every article: spans, their labels (members only), and their recurrence
    keys (:func:`_passage_key`)."""

    spans: list[list[tuple[int, int]]]
    labels: list[list[str | None]]
    keys: list[np.ndarray]

    def texts(self, articles: Sequence[Article], index: int) -> list[str]:
        text = articles[index].text
        return [text[s:e] for s, e in self.spans[index]]

    @classmethod
    def of(cls, articles: Sequence[Article], in_cluster: np.ndarray, max_chars: int) -> _Segments:
        """Segmentation, labels (cluster members only) and keys of some articles."""
        spans = [segment(a.text, max_chars) for a in articles]
        texts = [[a.text[s:e] for s, e in row] for a, row in zip(articles, spans, strict=True)]
        labels: list[list[str | None]] = [
            label_passages(t) if member else [None] * len(t) for t, member in zip(texts, in_cluster, strict=True)
        ]
        keys = [_passage_keys(a.outlet, row) for a, row in zip(articles, texts, strict=True)]
        return cls(spans, labels, keys)

    @classmethod
    def concat(cls, parts: Sequence[_Segments]) -> _Segments:
        return cls([s for p in parts for s in p.spans], [x for p in parts for x in p.labels],
                   [k for p in parts for k in p.keys])

# Articles below which attribution stays in this process (forking costs more than it saves),
# and chunks of work per process (clusters differ in size: smaller chunks balance them).
_MIN_FORKED = 1000
_CHUNKS_PER_WORKER = 4
# At most about this much text segmented, and this many passages aligned, in one chunk: a chunk's
# scratch memory (passage texts, tokens, shingles, vectors) stays bounded whatever the corpus size.
_CHARS_PER_CHUNK = 16 << 20
_PASSAGES_PER_CHUNK = 5_000

_Aligned = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def attribute(
    articles: Sequence[Article],
    shingles: Ragged,
    labels: np.ndarray,
    idf: Idf | None,
    params: Params,
    progress: Progress | None = None,
    recurring: Sequence[np.ndarray] | None = None,
) -> list[list[Passage]]:
    """The passages of every article, with what each cluster member added.

    ``labels`` gives each article's cluster (-1 for none) and ``shingles`` its
    shingle set; ``idf`` weights passage vectors (None: verbatim support only).
    Positions are ids in order, so ties (the matched member) go to the lowest id.
    ``recurring`` (one boolean per passage of each article) replaces the recurrence
    found among ``articles`` themselves, for a driver that counts it over more
    articles than it passes (the Dask engine, one batch of clusters at a time).
    Segmentation and alignment run in ``params.workers`` processes (chunks of
    articles, then of clusters); the verdicts are taken here.
    """
    if not params.passages:
        return [[] for _ in articles]
    chunks = available_workers(params.workers) * _CHUNKS_PER_WORKER

    def segment_chunk(lo: int, hi: int) -> _Segments:
        return _Segments.of(articles[lo:hi], labels[lo:hi] >= 0, params.max_passage_chars)

    lengths = [len(a.text) for a in articles]
    by_size = chunk_bounds(len(articles), max(chunks, -(-sum(lengths) // _CHARS_PER_CHUNK)), lengths)
    segmented = _Segments.concat(list(chunked(segment_chunk, by_size, params.workers, _MIN_FORKED)))
    if recurring is None:
        recurring = _recurring(articles, segmented, labels)
    members_of = groups(labels)
    aligner = PassageAligner(params.passage_containment, params.passage_cosine, params.passage_min_terms,
                             params.passage_members)

    def align(lo: int, hi: int) -> dict[int, _Aligned]:
        out: dict[int, _Aligned] = {}
        for members, cluster in zip(members_of[lo:hi], _prepare(members_of[lo:hi], articles, segmented, shingles,
                                                                idf, params), strict=True):
            for member, alignment in zip(members, aligner.align(cluster), strict=True):
                matched = np.where(alignment.matched >= 0, np.asarray(members)[alignment.matched], -1)
                out[member] = (alignment.support, alignment.match, alignment.verbatim, matched)
        return out

    sizes = [sum(len(segmented.spans[m]) for m in members) for members in members_of]
    bounds = chunk_bounds(len(members_of), max(chunks, -(-sum(sizes) // _PASSAGES_PER_CHUNK)),
                          [size**1.5 for size in sizes])
    alignments: dict[int, _Aligned] = {}
    for (_, hi), part in zip(bounds, chunked(align, bounds, params.workers, _MIN_FORKED if members_of else 1),
                             strict=True):
        alignments.update(part)
        if progress is not None:
            progress("passages", hi, len(members_of))
    return [_passages(article, segmented, index, alignments.get(index), labels[index] >= 0, recurring[index], articles)
            for index, article in enumerate(articles)]


def _passages(article: Article, segmented: _Segments, index: int, alignment: _Aligned | None, in_cluster: bool,
              recurring: np.ndarray, articles: Sequence[Article]) -> list[Passage]:
    """One article's passages, each built once with its verdict."""
    spans = segmented.spans[index]
    text = article.text
    if alignment is None and not in_cluster:  # no cluster: nothing added, score 1, boilerplate when recurring
        return [Passage(text, s, e, False, 1.0, "boilerplate" if r else None)
                for (s, e), r in zip(spans, recurring.tolist(), strict=True)]
    count = len(spans)
    support, match, verbatim, matched = alignment or (
        np.zeros(count, np.int64), np.zeros(count), np.zeros(count, bool), np.full(count, -1)
    )
    added, score, final = decide(segmented.labels[index], support, match, in_cluster, recurring, verbatim)
    ids = [articles[m].id if m >= 0 else None for m in matched.tolist()]
    return [
        Passage(text, s, e, *values)
        for (s, e), *values in zip(spans, added.tolist(), score.tolist(), final, support.tolist(), match.tolist(),
                                   ids, verbatim.tolist(), strict=True)
    ]


def _recurring(articles: Sequence[Article], segments: _Segments, labels: np.ndarray) -> list[np.ndarray]:
    """Passages that recur in one outlet's articles of different stories (boilerplate).

    With the outlet unknown, a passage must recur in three different stories.
    Keys are BLAKE2b of (outlet, passage text): the same in every process.
    """
    keys = np.concatenate([*segments.keys, np.empty(0, np.uint64)])
    counts = np.array([len(s) for s in segments.spans], dtype=np.int64)
    story = np.repeat(np.where(labels >= 0, labels, -1 - np.arange(len(labels))), counts)
    outlet_known = np.repeat(np.array([a.outlet is not None for a in articles], dtype=bool), counts)
    if len(keys) == 0:
        return [np.zeros(c, bool) for c in counts]
    distinct = np.unique(np.stack([keys.view(np.int64), story], axis=1), axis=0)
    unique_keys, stories = np.unique(distinct[:, 0], return_counts=True)
    per_passage = stories[np.searchsorted(unique_keys, keys.view(np.int64))]
    recurring = per_passage >= np.where(outlet_known, 2, 3)
    return np.split(recurring, np.cumsum(counts)[:-1])


def _passage_key(outlet: str | None, text: str) -> int:
    return int(_passage_keys(outlet, [text])[0])


def _passage_keys(outlet: str | None, texts: Sequence[str]) -> np.ndarray:
    """BLAKE2b (8 bytes, little-endian) of the outlet's prefix and each passage's UTF-8 bytes."""
    prefix = b"\x00" if outlet is None else b"\x01" + outlet.encode("utf-8", "surrogatepass") + b"\x00"
    blake2b = hashlib.blake2b
    return np.array([int.from_bytes(blake2b(prefix + t.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                                    "little") for t in texts], dtype=np.uint64)


def _prepare(
    members_of: list[list[int]],
    articles: Sequence[Article],
    segments: _Segments,
    shingles: Ragged,
    idf: Idf | None,
    params: Params,
) -> list[ClusterPassages]:
    """What alignment needs for every cluster, hashed and vectorised in one batch."""
    tokenized = [token_text(normalize(text)) for members in members_of for m in members
                 for text in segments.texts(articles, m)]
    batch = ShingleHasher(params.shingle_size).transform_tokens(tokenized)
    if idf is not None and tokenized:
        vectors = _compact_columns(idf.transform(term_counts(tokenized, params.n_features)))
    else:
        vectors = sp.csr_matrix((len(tokenized), 1), dtype=np.float32)
    out = []
    first = 0
    for members in members_of:
        sizes = [len(segments.spans[m]) for m in members]
        last = first + sum(sizes)
        lo, hi = batch.offsets[first], batch.offsets[last]
        owner = np.repeat(np.arange(last - first), np.diff(batch.offsets[first : last + 1]))
        member = np.repeat(np.arange(len(members)), sizes)
        out.append(ClusterPassages(member, batch.hashes[lo:hi], owner, _row_slice(vectors, first, last),
                                   [shingles.row(m) for m in members]))
        first = last
    return out


def _row_slice(matrix: sp.csr_matrix, lo: int, hi: int) -> sp.csr_matrix:
    """``matrix[lo:hi]`` (canonical CSR) from views of its arrays, without scipy's general indexing."""
    start, stop = matrix.indptr[lo], matrix.indptr[hi]
    return sp.csr_matrix((matrix.data[start:stop], matrix.indices[start:stop], matrix.indptr[lo : hi + 1] - start),
                         shape=(hi - lo, matrix.shape[1]))


def _compact_columns(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The same rows over only the columns in use: products with the transpose of
    a hashed feature space (2^20 columns) would allocate for every column."""
    used, remapped = np.unique(matrix.indices, return_inverse=True)
    return sp.csr_matrix((matrix.data, remapped.ravel(), matrix.indptr), shape=(matrix.shape[0], max(len(used), 1)))


def wire_weight(passages: Sequence[Passage]) -> float:
    """Words other members carry minus words nobody else has (see :mod:`dedup.origin`)."""
    return float(sum(len(p.text.split()) * (-1 if p.added else 1 if p.support > 0 else 0) for p in passages))


def provenance(
    articles: Sequence[Article], passages: Sequence[Sequence[Passage]], labels: np.ndarray, links: Links
) -> tuple[list[OriginClues], list[int | None]]:
    """Origin clues of every article and the likely source of every link
    (0: its first article, 1: its second, None: undecided)."""
    clues = [
        OriginClues(a.published, wire_credit(a.text), wire_weight(plist) if label >= 0 else 0.0)
        for a, plist, label in zip(articles, passages, labels, strict=True)
    ]
    sources = [
        pair_source(
            clues[i],
            clues[j],
            float(links.containment_a_in_b[k]),
            float(links.containment_b_in_a[k]),
            verbatim=links.relation[k] != relation.SAME_STORY,
        )
        for k, (i, j) in enumerate(links.pairs)
    ]
    return clues, sources


def origin(members: list[int], clues: Sequence[OriginClues], links: Links, sources: Sequence[int | None],
           inside: np.ndarray | None = None) -> int | None:
    """The cluster's likely origin among ``members`` (see :func:`dedup.origin.cluster_origin`);
    ``inside`` are the links between members (ascending), when known (:func:`links_within`)."""
    if inside is None:
        inside = np.flatnonzero(np.isin(links.pairs[:, 0], members) & np.isin(links.pairs[:, 1], members))
    return cluster_origin(
        members, clues, [(int(links.pairs[k, 0]), int(links.pairs[k, 1])) for k in inside],
        [sources[int(k)] for k in inside],
    )


def links_within(links: Links, labels: np.ndarray) -> dict[int, np.ndarray]:
    """For each label, the links (ascending positions) whose two articles both carry it."""
    if len(links) == 0:
        return {}
    first, second = labels[links.pairs[:, 0]], labels[links.pairs[:, 1]]
    inside = np.flatnonzero((first == second) & (first >= 0))
    if len(inside) == 0:
        return {}
    order = inside[np.argsort(first[inside], kind="stable")]
    keys, starts = np.unique(first[order], return_index=True)
    return dict(zip(keys.tolist(), np.split(order, starts[1:]), strict=True))


def core(
    members: list[int], origin_member: int | None, passages: Sequence[Sequence[Passage]], ids: Sequence[str]
) -> list[dict[str, object]]:
    """The reconstructed shared copy: the passages of the base member (the origin, or the
    member with the most passages others carry; ties to the lowest id) that another member carries."""
    base = origin_member
    if base is None:
        base = max(members, key=lambda m: (sum(p.support > 0 for p in passages[m]), -m))
    return [
        {"article": ids[base], "start": p.start, "end": p.end, "text": p.text, "support": p.support + 1}
        for p in passages[base]
        if p.support > 0 and not p.added
    ]
