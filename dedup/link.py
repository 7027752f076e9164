"""Links between articles: which pairs are related, how, and by how much.

:class:`Links` is the value every linking stage produces and clustering,
attribution and the report read: pairs of article positions with relation
codes (:mod:`dedup.relation`) and scores, instead of parallel arrays threaded
by hand. The stage functions here take two sides, ``(left, right)``, with pairs
``(i, j)`` indexing ``left[i]`` and ``right[j]``: a scan passes its articles as
both sides (a self-join), an index query the new article and the stored ones.

Stages, in the order a scan runs them:

1. :func:`exact_pairs` -- articles with the same normalised text;
2. :func:`verify` -- candidate pairs re-checked exactly (Jaccard, containment,
   figures); pairs with no verbatim relation are dropped;
3. :func:`representatives` -- one article per group of exact and near-duplicate
   copies, which the document frequencies count once;
4. :func:`story_links` -- nearest TF-IDF neighbours, verified verbatim first,
   the rest ``same_story``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from . import relation
from .candidates import decode_pairs, encode_pairs
from .fingerprint import Prints
from .params import Params
from .story import neighbours, row_cosines
from .verify import Overlaps, figures_agree, verbatim_relations

__all__ = ["Links", "exact_pairs", "representatives", "story_links", "verify"]


@dataclass(frozen=True)
class Links:
    """Related pairs ``(i, j)`` with their relation code and scores, one entry per pair."""

    pairs: np.ndarray  # (m, 2) int64
    relation: np.ndarray  # int8 codes
    shared: np.ndarray  # shingles in common
    jaccard: np.ndarray
    containment_a_in_b: np.ndarray
    containment_b_in_a: np.ndarray
    cosine: np.ndarray

    def __len__(self) -> int:
        return len(self.pairs)

    @classmethod
    def empty(cls) -> Links:
        zeros = np.zeros(0)
        return cls(np.empty((0, 2), np.int64), np.empty(0, np.int8), zeros, zeros, zeros, zeros, zeros)

    @classmethod
    def from_overlaps(cls, pairs: np.ndarray, codes: np.ndarray, overlaps: Overlaps) -> Links:
        return cls(
            np.asarray(pairs, dtype=np.int64).reshape(-1, 2),
            codes.astype(np.int8),
            overlaps.shared,
            overlaps.jaccard,
            overlaps.containment_a_in_b,
            overlaps.containment_b_in_a,
            np.zeros(len(codes)),
        )

    def take(self, selection: np.ndarray) -> Links:
        return Links(*(getattr(self, f)[selection] for f in _FIELDS))

    @classmethod
    def concat(cls, parts: Sequence[Links]) -> Links:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def with_cosine(self, cosine: np.ndarray) -> Links:
        return Links(self.pairs, self.relation, self.shared, self.jaccard, self.containment_a_in_b,
                     self.containment_b_in_a, np.asarray(cosine, dtype=np.float64))

    def canonical(self) -> Links:
        """Sorted by pair: the order every driver hands links on in."""
        return self.take(np.lexsort((self.pairs[:, 1], self.pairs[:, 0])))

    def codes(self, n_docs: int) -> np.ndarray:
        """Each pair as ``i * n_docs + j``."""
        return self.pairs[:, 0] * n_docs + self.pairs[:, 1]

    def strength(self) -> np.ndarray:
        """Ranking for clustering: the relation first, then the best of containment and cosine."""
        score = np.maximum(np.maximum(self.containment_a_in_b, self.containment_b_in_a), self.cosine)
        return self.relation.astype(float) + score


_FIELDS = ("pairs", "relation", "shared", "jaccard", "containment_a_in_b", "containment_b_in_a", "cosine")


def exact_pairs(exact_keys: np.ndarray, max_group: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Pairs ``(i, j)``, ``i < j``, of articles with equal exact keys, and the groups too
    large to list every pair of.

    A group of ``g`` copies has ``g (g - 1) / 2`` pairs: above ``max_group``
    members only the pairs with the group's first member are listed (5,000
    identical notices would otherwise make 12.5 million pairs), and the group is
    returned whole so the report can name it.
    """
    n_docs = len(exact_keys)
    if n_docs < 2:
        return np.empty((0, 2), np.int64), []
    _, group, sizes = np.unique(exact_keys, return_inverse=True, return_counts=True)
    group = group.ravel()
    shared = np.flatnonzero(sizes > 1)
    if len(shared) == 0:
        return np.empty((0, 2), np.int64), []
    order = np.argsort(group, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)))
    codes, capped = [], []
    for g in shared:
        members = order[starts[g] : starts[g + 1]]  # ascending positions (stable sort)
        if len(members) <= max_group:
            codes.append(encode_pairs(members, n_docs))
        else:
            codes.append(members[0] * n_docs + members[1:])
            capped.append(members)
    return decode_pairs(np.sort(np.concatenate(codes)), n_docs), capped


def verify(left: Prints, right: Prints, pairs: np.ndarray, params: Params) -> Links:
    """Candidate pairs re-checked on their shingle sets; only pairs with a verbatim relation stay.

    A pair sharing its wording but not its figures (the same template filled in
    for another company or another day) is not a copy.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    overlaps = Overlaps.compute(left.shingles, right.shingles, pairs)
    exact = left.exact_keys[pairs[:, 0]] == right.exact_keys[pairs[:, 1]]
    codes = verbatim_relations(overlaps, exact, params)
    for k in np.flatnonzero((codes != relation.NONE) & ~exact):
        i, j = pairs[k]
        if not figures_agree(left.figures.row(i), right.figures.row(j), params.min_figures, params.min_figure_share):
            codes[k] = relation.NONE
    keep = codes != relation.NONE
    return Links.from_overlaps(pairs[keep], codes[keep], Overlaps(*(getattr(overlaps, f)[keep] for f in (
        "shared", "jaccard", "containment_a_in_b", "containment_b_in_a"))))


def representatives(n_docs: int, links: Links) -> np.ndarray:
    """The first article of each group of exact and near-duplicate copies (and every other article).

    Document frequencies count each such group once: ten copies of one wire
    story must not make its own words look common.
    """
    close = links.pairs[links.relation >= relation.NEAR_DUPLICATE]
    graph = sp.coo_matrix((np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(n_docs, n_docs))
    _, component = connected_components(graph, directed=False)
    _, first = np.unique(component, return_index=True)
    return np.sort(first)


def story_links(
    prints: Prints, vectors: sp.csr_matrix, times: np.ndarray | None, known: Links, params: Params
) -> Links:
    """Nearest TF-IDF neighbours not already linked: verified verbatim first (they also
    catch copies whose Jaccard is too low for LSH, like a short excerpt of a long
    text), the rest ``same_story``."""
    assert params.same_story is not None
    n_docs = len(prints)
    found, _ = neighbours(
        vectors,
        times,
        k=params.story_neighbours,
        min_cosine=params.same_story,
        window_days=params.window_days,
        min_shared_terms=params.story_min_terms,
    )
    found = found[~np.isin(found[:, 0] * n_docs + found[:, 1], known.codes(n_docs))]
    copies = verify(prints, prints, found, params)
    story = found[~np.isin(found[:, 0] * n_docs + found[:, 1], copies.codes(n_docs))]
    zeros = np.zeros(len(story))
    same_story = Links(story, relation.codes(len(story), relation.SAME_STORY), zeros, zeros, zeros, zeros, zeros)
    return Links.concat([copies, same_story])


def with_cosines(links: Links, vectors: sp.csr_matrix | None) -> Links:
    """The links with the TF-IDF cosine of each pair (0 without vectors)."""
    if vectors is None:
        return links
    return links.with_cosine(row_cosines(vectors, vectors, links.pairs))
