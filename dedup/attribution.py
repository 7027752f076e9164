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
from .params import Params
from .passages import ClusterPassages, PassageAligner, segment
from .ragged import Ragged
from .result import Passage
from .sections import decide, label_passages
from .shingle import ShingleHasher
from .story import Idf, term_counts

__all__ = ["attribute", "core", "groups", "provenance"]

Progress = Callable[[str, int, int | None], None]


def groups(labels: np.ndarray) -> list[list[int]]:
    """Members of each cluster label (ascending positions), in label order; unclustered articles left out."""
    clustered = np.flatnonzero(labels >= 0)
    order = clustered[np.argsort(labels[clustered], kind="stable")]
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return [part.tolist() for part in np.split(order, bounds)] if len(order) else []


@dataclass(frozen=True)
class _Segments:
    """The passages of every article: spans, texts, and their labels (members only)."""

    spans: list[list[tuple[int, int]]]
    labels: list[list[str | None]]

    def texts(self, articles: Sequence[Article], index: int) -> list[str]:
        text = articles[index].text
        return [text[s:e] for s, e in self.spans[index]]


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
    """
    if not params.passages:
        return [[] for _ in articles]
    spans = [segment(a.text, params.max_passage_chars) for a in articles]
    segments = _Segments(spans, [
        label_passages([a.text[s:e] for s, e in spans_]) if labels[i] >= 0 else [None] * len(spans_)
        for i, (a, spans_) in enumerate(zip(articles, spans, strict=True))
    ])
    if recurring is None:
        recurring = _recurring(articles, segments, labels)
    members_of = groups(labels)
    aligner = PassageAligner(params.passage_containment, params.passage_cosine, params.passage_min_terms,
                             params.passage_members)
    alignments: dict[int, tuple[np.ndarray, ...]] = {}
    prepared = _prepare(members_of, articles, segments, shingles, idf, params)
    for done, (members, cluster) in enumerate(zip(members_of, prepared, strict=True)):
        for member, alignment in zip(members, aligner.align(cluster), strict=True):
            matched = np.where(alignment.matched >= 0, np.asarray(members)[alignment.matched], -1)
            alignments[member] = (alignment.support, alignment.match, alignment.verbatim, matched)
        if progress is not None:
            progress("passages", done + 1, len(members_of))
    out = []
    for index, article in enumerate(articles):
        count = len(spans[index])
        support, match, verbatim, matched = alignments.get(
            index, (np.zeros(count, np.int64), np.zeros(count), np.zeros(count, bool), np.full(count, -1))
        )
        added, score, final = decide(segments.labels[index], support, match, labels[index] >= 0,
                                     recurring[index], verbatim)
        out.append([
            Passage(article.text, s, e, bool(added[k]), float(score[k]), final[k], int(support[k]),
                    float(match[k]), articles[matched[k]].id if matched[k] >= 0 else None, bool(verbatim[k]))
            for k, (s, e) in enumerate(spans[index])
        ])
    return out


def _recurring(articles: Sequence[Article], segments: _Segments, labels: np.ndarray) -> list[np.ndarray]:
    """Passages that recur in one outlet's articles of different stories (boilerplate).

    With the outlet unknown, a passage must recur in three different stories.
    Keys are BLAKE2b of (outlet, passage text): the same in every process.
    """
    keys = np.fromiter(
        (_passage_key(a.outlet, text) for i, a in enumerate(articles) for text in segments.texts(articles, i)),
        dtype=np.uint64,
    )
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
    digest = hashlib.blake2b(digest_size=8)
    digest.update(b"\x00" if outlet is None else b"\x01" + outlet.encode("utf-8", "surrogatepass") + b"\x00")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return int.from_bytes(digest.digest(), "little")


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
        out.append(ClusterPassages(member, batch.hashes[lo:hi], owner, vectors[first:last],
                                   [shingles.row(m) for m in members]))
        first = last
    return out


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


def origin(members: list[int], clues: Sequence[OriginClues], links: Links, sources: Sequence[int | None]) -> int | None:
    """The cluster's likely origin among ``members`` (see :func:`dedup.origin.cluster_origin`)."""
    inside = np.flatnonzero(np.isin(links.pairs[:, 0], members) & np.isin(links.pairs[:, 1], members))
    return cluster_origin(
        members, clues, [(int(links.pairs[k, 0]), int(links.pairs[k, 1])) for k in inside],
        [sources[int(k)] for k in inside],
    )


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
