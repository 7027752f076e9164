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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from . import relation
from .candidates import decode_pairs, encode_pairs
from .fingerprint import Prints
from .params import Params
from .ragged import Ragged
from .story import Idf, neighbours, row_cosines
from .verify import Overlaps, verbatim_relations

__all__ = [
    "Copies",
    "Links",
    "collapsed_groups",
    "exact_pairs",
    "expand",
    "families_for_df",
    "representatives",
    "story_links",
    "verify",
]


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


@dataclass(frozen=True)
class Copies:
    """Articles with the same normalised text (exact copies).

    ``first[i]`` is the first (lowest) position holding article ``i``'s text,
    ``distinct`` the sorted positions that are first of their text. Candidate
    search runs on distinct texts only: copies share every relation, and ten
    copies of one story must not fill an article's ten neighbour slots.
    """

    first: np.ndarray
    distinct: np.ndarray

    @classmethod
    def of(cls, exact_keys: np.ndarray) -> Copies:
        n_docs = len(exact_keys)
        if n_docs == 0:
            return cls(np.empty(0, np.int64), np.empty(0, np.int64))
        _, first_of_key, inverse = np.unique(exact_keys, return_index=True, return_inverse=True)
        return cls(first_of_key[inverse.ravel()].astype(np.int64), np.sort(first_of_key).astype(np.int64))

    def groups(self) -> list[np.ndarray]:
        """Positions of each text held by two or more articles, ascending."""
        order = np.argsort(self.first, kind="stable")
        bounds = np.flatnonzero(np.diff(self.first[order])) + 1
        return [g for g in np.split(order, bounds) if len(g) > 1] if len(order) else []


def exact_pairs(copies: Copies, max_group: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Pairs ``(i, j)``, ``i < j``, of exact copies, and the groups too large to list every pair of.

    A group of ``g`` copies has ``g (g - 1) / 2`` pairs: above ``max_group``
    members only the pairs with the group's first member are listed (5,000
    identical notices would otherwise make 12.5 million pairs), and the group is
    returned whole so the report can name it and clustering can treat it as one.
    """
    n_docs = len(copies.first)
    codes, capped = [np.empty(0, np.int64)], []
    for members in copies.groups():
        if len(members) <= max_group:
            codes.append(encode_pairs(members, n_docs))
        else:
            codes.append(members[0] * n_docs + members[1:])
            capped.append(members)
    return decode_pairs(np.sort(np.concatenate(codes)), n_docs), capped


def expand(links: Links, copies: Copies, max_group: int) -> Links:
    """Links found between distinct texts, given to every copy of each end.

    Copies have the same shingle set, terms and figures, so each inherits its
    text's links with the same scores; copies of a group larger than
    ``max_group`` are left to their group's first member.
    """
    if len(links) == 0:
        return links
    members = [np.array([d]) for d in copies.distinct]
    position = {int(d): k for k, d in enumerate(copies.distinct)}
    for group in copies.groups():
        if len(group) <= max_group:
            members[position[int(group[0])]] = group
    sizes = np.array([len(m) for m in members], dtype=np.int64)
    flat = np.concatenate(members) if members else np.empty(0, np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)))
    left = np.searchsorted(copies.distinct, links.pairs[:, 0])
    right = np.searchsorted(copies.distinct, links.pairs[:, 1])
    per_link = sizes[left] * sizes[right]
    link = np.repeat(np.arange(len(links)), per_link)
    within = np.arange(int(per_link.sum())) - np.repeat(np.cumsum(per_link) - per_link, per_link)
    a = flat[starts[left[link]] + within // sizes[right[link]]]
    b = flat[starts[right[link]] + within % sizes[right[link]]]
    grown = links.take(link)
    swap = a > b
    return Links(
        np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1),
        grown.relation,
        grown.shared,
        grown.jaccard,
        np.where(swap, grown.containment_b_in_a, grown.containment_a_in_b),
        np.where(swap, grown.containment_a_in_b, grown.containment_b_in_a),
        grown.cosine,
    )


def verify(left: Prints, right: Prints, pairs: np.ndarray, params: Params) -> Links:
    """Candidate pairs re-checked on their shingle sets; only pairs with a verbatim relation stay.

    Whether the overlap is copying or a template, a quotation, a recurring
    report is decided on the shared runs afterwards (:func:`dedup.evidence.credible`).
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    overlaps = Overlaps.compute(left.shingles, right.shingles, pairs)
    exact = left.exact_keys[pairs[:, 0]] == right.exact_keys[pairs[:, 1]]
    codes = verbatim_relations(overlaps, exact, params)
    keep = codes != relation.NONE
    return Links.from_overlaps(pairs[keep], codes[keep], overlaps.take(keep))


def families_for_df(n_docs: int, links: Links) -> np.ndarray:
    """A family id per article for counting passage document frequencies: the groups of
    exact and near-duplicate copies (connected), every other article its own."""
    close = links.pairs[links.relation >= relation.NEAR_DUPLICATE]
    graph = sp.coo_matrix((np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(n_docs, n_docs))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def collapsed_groups(n_docs: int, links: Links, groups: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Groups too large to link pairwise that clustering should treat as one article.

    ``groups`` are candidate groups (capped exact copies, oversized LSH buckets)
    whose members were linked to the group's first member only; the members
    whose link is ``near_duplicate`` or ``exact`` (verified) are collapsed,
    overlapping groups joined. Returns sorted positions, one array per group.
    """
    if not groups:
        return []
    members = np.concatenate([g for g in groups])
    centres = np.concatenate([np.full(len(g), g[0]) for g in groups])
    close = links.pairs[links.relation >= relation.NEAR_DUPLICATE]
    verified = np.isin(np.minimum(members, centres) * n_docs + np.maximum(members, centres),
                       close[:, 0] * n_docs + close[:, 1]) | (members == centres)
    graph = sp.coo_matrix((np.ones(int(verified.sum())), (members[verified], centres[verified])),
                          shape=(n_docs, n_docs))
    _, component = connected_components(graph, directed=False)
    sizes = np.bincount(component)
    order = np.argsort(component, kind="stable")
    bounds = np.flatnonzero(np.diff(component[order])) + 1
    return [g for g in np.split(order, bounds) if sizes[component[g[0]]] > 1]


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
    prints: Prints,
    idf: Idf,
    vectors: sp.csr_matrix,
    times: np.ndarray | None,
    rows: np.ndarray,
    known: Links,
    params: Params,
    accept: Callable[[Links], np.ndarray] | None = None,
) -> Links:
    """Nearest TF-IDF neighbours among the articles ``rows`` (positions) not already linked:
    verified verbatim first (they also catch copies whose Jaccard is too low for LSH,
    like a short excerpt of a long text), the rest ``same_story``, with their overlaps.

    ``accept`` says which verified copies the evidence bears out (the others are
    ``same_story``). Long articles take part with their windows too
    (:attr:`Prints.windows`), so a rewrite of one part of a long page is
    compared with that part.
    """
    assert params.same_story is not None
    n_docs = len(prints)
    window_rows = prints.window_rows().take(rows)
    owners = np.concatenate([rows, rows[window_rows.row_ids()]])
    stacked = vectors[rows]
    if prints.windows is not None and len(window_rows.values):
        stacked = sp.vstack([stacked, idf.transform(prints.windows[window_rows.values])]).tocsr()
    found, _ = neighbours(
        stacked,
        times[owners] if times is not None else None,
        k=params.story_neighbours,
        min_cosine=params.same_story,
        window_days=params.window_days,
        min_shared_terms=params.story_min_terms,
        owners=owners,
    )
    found = found[~np.isin(found[:, 0] * n_docs + found[:, 1], known.codes(n_docs))]
    copies = verify(prints, prints, found, params)
    if accept is not None:
        copies = copies.take(accept(copies))
    story = found[~np.isin(found[:, 0] * n_docs + found[:, 1], copies.codes(n_docs))]
    overlaps = Overlaps.compute(prints.shingles, prints.shingles, story)
    same_story = Links.from_overlaps(story, relation.codes(len(story), relation.SAME_STORY), overlaps)
    return Links.concat([copies, same_story])


def with_cosines(links: Links, prints: Prints, idf: Idf | None, vectors: sp.csr_matrix | None) -> Links:
    """The links with the TF-IDF cosine of each pair (0 without vectors): the best of
    the whole articles and of their windows, when an article is long enough to have some."""
    if vectors is None or idf is None:
        return links
    cosine = row_cosines(vectors, vectors, links.pairs)
    windows = prints.window_rows()
    if prints.windows is None or len(windows.values) == 0:
        return links.with_cosine(cosine)
    has = windows.sizes() > 0
    long_pairs = np.flatnonzero(has[links.pairs[:, 0]] | has[links.pairs[:, 1]])
    if len(long_pairs):
        rows = sp.vstack([vectors, idf.transform(prints.windows)]).tocsr()
        cosine[long_pairs] = np.maximum(cosine[long_pairs],
                                        _best_row_cosines(rows, _with_windows(links.pairs[long_pairs, 0], windows),
                                                          _with_windows(links.pairs[long_pairs, 1], windows)))
    return links.with_cosine(cosine)


def _with_windows(articles: np.ndarray, windows: Ragged) -> Ragged:
    """Per article, its row and its windows' rows in ``vstack([vectors, window_vectors])``."""
    own = windows.take(articles)
    sizes = own.sizes() + 1
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    values = np.empty(int(offsets[-1]), dtype=np.int64)
    head = np.zeros(len(values), dtype=bool)
    head[offsets[:-1]] = True
    values[head] = articles
    values[~head] = len(windows) + own.values
    return Ragged(values, offsets)


def _best_row_cosines(rows: sp.csr_matrix, left: Ragged, right: Ragged) -> np.ndarray:
    """For each pair ``p``, the largest entry of the block ``rows[left.row(p)] @ rows[right.row(p)].T``
    (0 when the block is empty), every block in one product.

    Each pair's rows get their own copy of the term columns (column ``(p, t)``, numbered densely in
    ``(p, t)`` order), so the product of all left rows with all right rows is zero outside the pairs'
    blocks; inside, every cosine is summed over the same terms in the same order as the block's own
    product, so the values are the same floats."""
    a, b = rows[left.values], rows[right.values]
    owner_a, owner_b = left.row_ids(), right.row_ids()
    width = np.int64(rows.shape[1])
    keys = np.concatenate([np.repeat(owner_a, np.diff(a.indptr)) * width + a.indices,
                           np.repeat(owner_b, np.diff(b.indptr)) * width + b.indices])
    used, column = np.unique(keys, return_inverse=True)
    column = column.ravel()
    n_columns = max(len(used), 1)
    nnz_a = a.nnz
    a = sp.csr_matrix((a.data, column[:nnz_a], a.indptr), shape=(a.shape[0], n_columns))
    b = sp.csr_matrix((b.data, column[nnz_a:], b.indptr), shape=(b.shape[0], n_columns))
    block = (a @ b.T).tocoo()
    best = np.zeros(len(left), dtype=np.float64)
    np.maximum.at(best, owner_a[block.row], block.data)
    return best
