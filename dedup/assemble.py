"""From stage outputs to the :class:`~dedup.result.ScanResult` every report is a view of.

Positions become ids here, relation codes become names, and every list gets
its one sort rule: clusters largest first (then by first member id), pairs
strongest relation first, then best score, then ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import relation
from .article import Article, Skipped
from .attribution import core, groups, links_within, origin
from .evidence import SharedRuns
from .link import Links
from .origin import OriginClues
from .result import ArticleResult, ClusterResult, Family, PairResult, Passage, ScanResult
from .sections import merge_sections
from .sortunique import sorted_unique

__all__ = ["assemble", "bound_stats", "link_spans", "pair_order"]


def pair_order(pair: PairResult) -> tuple[float, float, str, str]:
    """Strongest relation first, then the best of Jaccard and cosine, then ids."""
    return (-relation.code(pair.relation), -max(pair.jaccard, pair.cosine), pair.a, pair.b)


_NONE = np.empty(0, dtype=np.int64)


def assemble(
    articles: Sequence[Article],
    skipped: Sequence[Skipped],
    links: Links,
    labels: np.ndarray,
    families: np.ndarray,
    passages: Sequence[list[Passage]],
    clues: Sequence[OriginClues],
    sources: Sequence[int | None],
    runs: SharedRuns | None = None,
) -> ScanResult:
    """The result of a scan (``stats`` holds counts; the driver adds timings and parameters).

    ``labels`` are stories, ``families`` groups of verbatim copies (-1: none);
    ``runs`` gives each pair's shared spans.
    """
    ids = [a.id for a in articles]
    clusters, names = _clusters(ids, links, labels, families, passages, clues, sources)
    pairs = sorted(_pairs(ids, links, sources, runs), key=pair_order)
    article_results = [
        ArticleResult(
            id=article.id,
            cluster=names.get(index),
            passages=passages[index],
            added_sections=merge_sections(article.text, passages[index]) if labels[index] >= 0 else [],
            title=article.title,
            outlet=article.outlet,
            url=article.url,
            published=article.published,
            wire_credit=clues[index].credit,
            words=len(article.text.split()),
            text=article.text if article.extra.get("extracted_from") else None,
        )
        for index, article in enumerate(articles)
    ]
    return ScanResult(article_results, pairs, clusters, list(skipped), _stats(articles, skipped, pairs, clusters))


def bound_stats(
    articles: Sequence[Article],
    n_candidates: int,
    capped: Sequence[np.ndarray],
    oversized: Sequence[np.ndarray],
    collapsed: Sequence[np.ndarray],
) -> dict[str, Any]:
    """What the bounds on large groups did: candidates examined, the exact-copy groups listed from
    their first member only, the oversized LSH buckets, and the groups clustered as one article."""
    return {
        "lsh_candidates": n_candidates,
        "capped_exact_groups": [[articles[m].id for m in group] for group in capped],
        "oversized_buckets": len(oversized),
        "collapsed_groups": [[articles[m].id for m in group] for group in collapsed],
    }


def _clusters(
    ids: list[str],
    links: Links,
    labels: np.ndarray,
    families: np.ndarray,
    passages: Sequence[list[Passage]],
    clues: Sequence[OriginClues],
    sources: Sequence[int | None],
) -> tuple[list[ClusterResult], dict[int, str]]:
    ordered = sorted(groups(labels), key=lambda g: (-len(g), ids[g[0]]))
    inside = labels[links.pairs[:, 0]] == labels[links.pairs[:, 1]] if len(links) else np.zeros(0, bool)
    cluster_of_link = np.where(inside, labels[links.pairs[:, 0]], -1) if len(links) else np.zeros(0, np.int64)
    names: dict[int, str] = {}
    clusters = []
    families_of: dict[int, list[list[int]]] = {}
    for group in groups(families):
        if len(group) > 1 and labels[group[0]] >= 0:
            families_of.setdefault(int(labels[group[0]]), []).append(group)
    is_verbatim = links.relation >= relation.DERIVED
    verbatim = (links.take(is_verbatim), [sources[int(k)] for k in np.flatnonzero(is_verbatim)])
    within = links_within(links, labels)
    within_family = links_within(verbatim[0], families)
    for number, members in enumerate(ordered, start=1):
        name = f"c{number}"
        found = origin(members, clues, links, sources, within.get(int(labels[members[0]]), _NONE))
        counts = Counter(relation.name(r) for r in links.relation[cluster_of_link == labels[members[0]]])
        names.update(dict.fromkeys(members, name))
        clusters.append(
            ClusterResult(
                id=name,
                members=[ids[m] for m in members],
                origin=ids[found] if found is not None else None,
                relations=dict(counts),
                core=core(members, found, passages, ids),
                families=_families(name, families_of.get(int(labels[members[0]]), []), ids, verbatim, passages,
                                   clues, within_family, families),
            )
        )
    return clusters, names


def _families(
    story: str,
    inside: list[list[int]],
    ids: list[str],
    verbatim: tuple[Links, list[int | None]],
    passages: Sequence[list[Passage]],
    clues: Sequence[OriginClues],
    within: dict[int, np.ndarray],
    families: np.ndarray,
) -> list[Family]:
    """A story's families (of two or more members), largest first, each with its origin and core
    (``within``: the verbatim links inside each family label of ``families``)."""
    out = []
    for number, group in enumerate(sorted(inside, key=lambda g: (-len(g), ids[g[0]])), start=1):
        found = origin(group, clues, *verbatim, within.get(int(families[group[0]]), _NONE))
        out.append(Family(f"{story}.f{number}", [ids[m] for m in group], ids[found] if found is not None else None,
                          core(group, found, passages, ids)))
    return out


def link_spans(links: Links, k: int, runs: SharedRuns | None) -> list[dict[str, int]]:
    """The shared spans reported for link ``k`` (offsets in its first and second article, and words)."""
    if runs is None or not runs.possible(links.shared[k]):
        return []
    i, j = (int(x) for x in links.pairs[k])
    return [s.as_dict() | {"words": s.words} for s in runs.spans(i, j)]


def _pairs(ids: list[str], links: Links, sources: Sequence[int | None], runs: SharedRuns | None) -> list[PairResult]:
    """Every link as a :class:`PairResult` (the columns read once as Python values, not per link)."""
    spanned = runs.possible(links.shared).tolist() if runs is not None else [False] * len(links)
    if runs is not None and len(links):
        runs.prepare(sorted_unique(links.pairs[np.asarray(spanned, dtype=bool)]))
    columns = zip(links.pairs.tolist(), links.relation.tolist(), links.jaccard.tolist(),
                  links.containment_a_in_b.tolist(), links.containment_b_in_a.tolist(), links.cosine.tolist(),
                  spanned, sources, strict=True)
    return [
        PairResult(
            a=ids[i],
            b=ids[j],
            relation=relation.name(code),
            jaccard=jaccard,
            containment_a_in_b=a_in_b,
            containment_b_in_a=b_in_a,
            cosine=cosine,
            source=None if source is None else ids[i] if source == 0 else ids[j],
            spans=[s.as_dict() | {"words": s.words} for s in runs.spans(i, j)] if spans and runs is not None else [],
        )
        for (i, j), code, jaccard, a_in_b, b_in_a, cosine, spans, source in columns
    ]


def _stats(
    articles: Sequence[Article], skipped: Sequence[Skipped], pairs: list[PairResult], clusters: list[ClusterResult]
) -> dict[str, Any]:
    return {
        "articles": len(articles),
        "dated": sum(a.published is not None for a in articles),
        "unreadable_dates": sum("date_problem" in a.extra for a in articles),
        "skipped": len(skipped),
        "pairs": len(pairs),
        "pairs_by_relation": dict(Counter(p.relation for p in pairs)),
        "clusters": len(clusters),
        "largest_cluster": max((len(c.members) for c in clusters), default=0),
    }
