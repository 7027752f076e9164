"""Clusters from verified links, guarded against chaining.

Plain connected components chain: A~B, B~C, ... Y~Z puts A and Z together
though they share nothing, and on a real news stream (many stories on one
election, one trial) that melts into one mega-cluster. Here links are taken
most embedded first (the share of neighbours the two ends have in common: a
bridge between two groups has few), then strongest, and two clusters :math:`X, Y` merge only when the link density
between them is high enough:

.. math:: \\frac{|\\{(x, y) \\in X \\times Y : x \\sim y\\}|}{|X|\\,|Y|} \\ge \\delta

(average linkage on a 0/1 similarity, ``x ~ y`` a verified link). Every copy
of one wire story is linked to most other copies, so such a cluster keeps
growing; a chain is refused at its first weak link. Same-story links come from
each article's ``k`` nearest neighbours only, so a cluster held together by
them alone cannot outgrow about ``2k`` members: many stories on one topic, or
one template filled a thousand times, cannot melt into a mega-cluster.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .link import Links

__all__ = ["GuardedClustering", "by_first_member", "cluster_links", "spread"]


def cluster_links(
    n_items: int, links: Links, min_density: float, collapsed: Sequence[np.ndarray] = ()
) -> np.ndarray:
    """Cluster label per article from verified links (``-1``: in no cluster).

    Links are put in canonical order (by pair) first, so equally strong links
    are always merged in the same order: with positions in id order the
    clusters are a function of the articles, whatever order they came in, and
    clustering one connected component alone gives its part of the whole.

    Each group in ``collapsed`` (sorted positions of copies too many to link
    pairwise, e.g. thousands of identical notices) clusters as its first
    member: its links are moved onto that member, and the others take its label.
    """
    representative = np.arange(n_items)
    for group in collapsed:
        representative[group] = group[0]
    if len(collapsed):
        moved = np.sort(representative[links.pairs], axis=1)
        keep = moved[:, 0] != moved[:, 1]
        links = Links(moved[keep], *(getattr(links, f)[keep] for f in _SCORES))
        # one link per pair: the strongest
        order = np.lexsort((-links.strength(), links.pairs[:, 1], links.pairs[:, 0]))
        links = links.take(order)
        first = np.ones(len(links), dtype=bool)
        first[1:] = np.any(links.pairs[1:] != links.pairs[:-1], axis=1)
        links = links.take(first)
    ordered = links.canonical()
    labels = GuardedClustering(min_density).fit_predict(n_items, ordered.pairs, ordered.strength())
    if len(collapsed):
        labels = labels[representative]
        for group in collapsed:  # a group with no outside link is a cluster of its own
            if labels[group[0]] < 0:
                labels[group] = labels.max() + 1
        labels = by_first_member(labels)
    return labels


def by_first_member(labels: np.ndarray) -> np.ndarray:
    """The same clusters numbered 0, 1, ... in order of their first member."""
    clustered = labels >= 0
    _, first, inverse = np.unique(labels[clustered], return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(np.flatnonzero(clustered)[first]))
    out = np.full(len(labels), -1, dtype=np.int64)
    out[clustered] = rank[inverse.ravel()]
    return out


_SCORES = ("relation", "shared", "jaccard", "containment_a_in_b", "containment_b_in_a", "cosine")


class GuardedClustering:
    """Average-linkage merging of verified links.

    Parameters
    ----------
    min_density : float, default 0.5
        Minimum share of linked cross pairs for two clusters to merge (checked on
        at most 64 members of each side, spread over the cluster).
    """

    def __init__(self, min_density: float = 0.5) -> None:
        if not 0.0 < min_density <= 1.0:
            raise ValueError(f"min_density must be in (0, 1], got {min_density!r}")
        self.min_density = min_density

    def fit_predict(
        self,
        n_items: int,
        links: np.ndarray,
        strength: np.ndarray,
    ) -> np.ndarray:
        """Cluster label per item (``-1`` for items in no cluster).

        ``links`` is an ``(m, 2)`` array of linked item pairs, ``strength`` their
        ranking (strongest merged first).
        """
        links = np.asarray(links, dtype=np.int64).reshape(-1, 2)
        neighbours: list[set[int]] = [set() for _ in range(n_items)]
        for a, b in links:
            neighbours[a].add(int(b))
            neighbours[b].add(int(a))
        members: dict[int, list[int]] = {i: [i] for i in range(n_items)}
        root = np.arange(n_items)
        embedded = np.array([_embeddedness(neighbours[a], neighbours[b]) for a, b in links])
        order = np.lexsort((-np.asarray(strength, dtype=float), -np.round(embedded, 1)))
        for index in order:
            x, y = int(root[links[index, 0]]), int(root[links[index, 1]])
            if x == y:
                continue
            if self._density(members[x], members[y], neighbours) < self.min_density:
                continue
            if len(members[x]) < len(members[y]):
                x, y = y, x
            moved = members.pop(y)
            members[x].extend(moved)
            root[moved] = x
        labels = np.full(n_items, -1, dtype=np.int64)
        clusters = sorted((m for m in members.values() if len(m) > 1), key=min)
        for label, group in enumerate(clusters):
            labels[group] = label
        return labels

    @staticmethod
    def _density(xs: list[int], ys: list[int], neighbours: list[set[int]]) -> float:
        if len(xs) == 1 and len(ys) == 1:
            return 1.0
        xs, ys = spread(xs, 64), spread(ys, 64)
        known = np.array([[y in neighbours[x] for y in ys] for x in xs], dtype=bool)
        return float(known.mean())


def _embeddedness(first: set[int], second: set[int]) -> float:
    r"""Share of common neighbours, :math:`|N(a) \cap N(b)| / \min(|N(a)|, |N(b)|)`
    (each endpoint counted in its own neighbourhood): near 1 inside a dense
    group, near 0 for a bridge between two groups."""
    smaller = min(len(first), len(second))
    if smaller <= 1:
        return 1.0
    return (len(first & second) + 2) / (smaller + 1)


def spread(items: list[int], limit: int) -> list[int]:
    """At most ``limit`` items spread evenly over the list: bounds the cost of
    comparing against a large cluster."""
    if len(items) <= limit:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).astype(int)]
