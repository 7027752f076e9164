r"""Stories: everything written about one event, with the copy families inside it.

Two levels, two kinds of evidence:

* a **family** is a group of articles that carry the same wire copy, clustered
  from verbatim links (``exact``, ``near_duplicate``, ``derived``) with the
  anti-chaining guard of :mod:`dedup.cluster`;
* a **story** is a group of families (an article alone is a family of one)
  that report the same event, found by community detection on the graph of
  families: nodes are families, an edge carries the strongest link between two
  families (TF-IDF cosine for rewrites, containment for copies the guard kept
  apart). Communities are those of the Constant Potts Model,

  .. math:: Q = \sum_c \Bigl(w_c - \gamma \binom{n_c}{2}\Bigr),

  :math:`w_c` the weight of the edges inside community :math:`c` and
  :math:`n_c` its families: a community must be denser than :math:`\gamma`,
  whatever the size of the graph (no resolution limit, unlike modularity), so
  a chain of weak links or a topic that many stories share does not melt into
  one story, while a story whose articles each link to only ten others (the
  top-k neighbour lists) stays whole. The Leiden algorithm (``leidenalg`` on
  ``igraph``) finds them, one connected component at a time with a fixed seed
  and nodes in id order, so the result depends on the articles alone and a
  driver that sees one component gets the same story.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import ModuleType

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from . import relation
from .cluster import by_first_member, cluster_links
from .link import Links

__all__ = ["family_labels", "story_labels"]


def family_labels(n_items: int, links: Links, min_density: float, collapsed: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Copy families: guarded clustering of the verbatim links only (``-1``: in no family)."""
    verbatim = links.take(links.relation >= relation.DERIVED)
    return cluster_links(n_items, verbatim, min_density, collapsed)


def story_labels(n_items: int, links: Links, families: np.ndarray, resolution: float) -> np.ndarray:
    """Story label per article (``-1``: a story of one article) from links and family labels."""
    node = _nodes(families)
    n_nodes = int(node.max()) + 1 if n_items else 0
    if len(links) == 0 or n_nodes == 0:
        return _dense(node, n_items, np.arange(n_nodes))
    a, b = node[links.pairs[:, 0]], node[links.pairs[:, 1]]
    across = a != b
    weight = links.cosine[across]
    lo, hi = np.minimum(a, b)[across], np.maximum(a, b)[across]
    edges, where = np.unique(lo * n_nodes + hi, return_inverse=True)
    strongest = np.zeros(len(edges))
    np.maximum.at(strongest, where.ravel(), weight)
    u, v = edges // n_nodes, edges % n_nodes
    community = _communities(n_nodes, u, v, strongest, resolution)
    return _dense(node, n_items, community)


def _nodes(families: np.ndarray) -> np.ndarray:
    """Node of every article: its family, or a node of its own (numbered after the families)."""
    node = families.copy()
    alone = np.flatnonzero(families < 0)
    start = int(families.max()) + 1 if (families >= 0).any() else 0
    node[alone] = start + np.arange(len(alone))
    return node


def _communities(n_nodes: int, u: np.ndarray, v: np.ndarray, weight: np.ndarray, resolution: float) -> np.ndarray:
    """CPM communities found by Leiden in each connected component, numbered globally."""
    graph = sp.coo_matrix((np.ones(len(u)), (u, v)), shape=(n_nodes, n_nodes))
    n_components, component = connected_components(graph, directed=False)
    community = np.full(n_nodes, -1, dtype=np.int64)
    order = np.argsort(component, kind="stable")
    bounds = np.flatnonzero(np.diff(component[order])) + 1
    edge_component = component[u]
    edge_order = np.argsort(edge_component, kind="stable")
    edge_bounds = np.searchsorted(edge_component[edge_order], np.arange(n_components + 1))
    next_label = 0
    for c, members in enumerate(np.split(order, bounds)):
        if len(members) == 1:
            community[members] = next_label
            next_label += 1
            continue
        chosen = edge_order[edge_bounds[c] : edge_bounds[c + 1]]
        if len(members) == 2:  # CPM joins two linked nodes exactly when their edge outweighs the resolution
            local = np.array([0, 0 if weight[chosen].max() > resolution else 1])
        else:
            local = _leiden(members, u[chosen], v[chosen], weight[chosen], resolution)
        community[members] = next_label + local
        next_label += int(local.max()) + 1
    return community


def _leiden(members: np.ndarray, u: np.ndarray, v: np.ndarray, weight: np.ndarray, resolution: float) -> np.ndarray:
    """Community of each member (ascending node ids) of one connected component."""
    igraph = _igraph()
    import leidenalg

    local_u, local_v = np.searchsorted(members, u), np.searchsorted(members, v)
    order = np.lexsort((local_v, local_u))  # edges in canonical order
    graph = igraph.Graph(n=len(members), edges=np.stack([local_u[order], local_v[order]], axis=1).tolist())
    partition = leidenalg.find_partition(
        graph,
        leidenalg.CPMVertexPartition,
        weights=weight[order].tolist(),
        resolution_parameter=resolution,
        n_iterations=-1,
        seed=0,
    )
    labels = np.asarray(partition.membership, dtype=np.int64)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[inverse.ravel()]  # communities numbered by first member


def _igraph() -> ModuleType:
    """``igraph``, imported without its matplotlib drawing backend unless matplotlib is already loaded.

    ``import igraph`` imports ``matplotlib.pyplot`` whenever matplotlib is installed (0.5-0.8 s, most of
    the cluster stage on a corpus of news); a scan never draws. While igraph is imported, matplotlib is
    made unimportable (a ``None`` entry in ``sys.modules``), so igraph falls back to its placeholder
    module; the entry is removed afterwards, so a later ``import matplotlib`` works as usual. Only
    igraph's own matplotlib plotting is off in a process whose first igraph import came from here.
    """
    if "igraph" in sys.modules or "matplotlib" in sys.modules:
        import igraph

        return igraph
    sys.modules["matplotlib"] = None  # type: ignore[assignment]
    try:
        import igraph
    finally:
        if sys.modules.get("matplotlib", 0) is None:
            del sys.modules["matplotlib"]
    return igraph


def _dense(node: np.ndarray, n_items: int, community: np.ndarray) -> np.ndarray:
    """Article labels from node communities; communities of one article become -1."""
    labels = community[node] if n_items else np.empty(0, np.int64)
    sizes = np.bincount(labels, minlength=int(labels.max()) + 1 if n_items else 0)
    labels = np.where(sizes[labels] > 1, labels, -1) if n_items else labels
    return by_first_member(labels)
