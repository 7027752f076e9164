"""The scan, top to bottom: load -> normalize -> shingle -> sign -> candidates ->
verify -> cluster -> passages -> report.

:class:`Scanner` holds the parameters (validated in ``__init__``, nothing
else); :meth:`Scanner.scan` runs the stages. Per-article work
(:mod:`dedup.fingerprint`) is separate from corpus-level work (LSH, IDF,
clustering), so an incremental index or a distributed driver can reuse it.
"""

from __future__ import annotations

import inspect
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .article import Article, Skipped
from .candidates import BandedLSH
from .cluster import GuardedClustering
from .fingerprint import Fingerprints, fingerprint
from .normalize import normalize, token_text
from .origin import OriginClues, cluster_origin, pair_source, wire_credit
from .passages import ClusterPassages, PassageAligner, segment
from .result import ArticleResult, ClusterResult, PairResult, Passage, ScanResult
from .sections import label_passages, mark_added, merge_sections
from .shingle import ShingleHasher
from .sign import MinHasher
from .story import StoryNeighbours, StoryVectorizer, row_cosines
from .verify import Overlaps, VerbatimVerifier, figures_agree

__all__ = ["Scanner"]

Progress = Callable[[str, int, int | None], None]
_RELATION_RANK = {"exact": 3.0, "near_duplicate": 2.0, "derived": 1.0, "same_story": 0.0}


class Scanner:
    """Find verbatim copies, rewrites and each outlet's additions in a set of articles.

    Parameters
    ----------
    shingle_size : int, default 3
        Words per shingle (chosen on Clough-Stevenson and BBC: see README).
    num_perm : int, default 128
        MinHash permutations.
    seed : int, default 1
        MinHash seed (datasketch-compatible).
    lsh_threshold : float, default 0.2
        Jaccard level where LSH candidates start (low, to catch contained copies).
    near_duplicate : float, default 0.7
        Jaccard from which a pair is ``near_duplicate``.
    derived : float, default 0.2
        Containment (either direction) from which a pair is ``derived``.
    min_shared : int, default 10
        Shingles a non-exact verbatim pair must share (keeps short texts from linking by chance).
    same_story : float or None, default 0.3
        TF-IDF cosine from which a pair is ``same_story``; None turns the tier off.
    story_neighbours : int, default 10
        Neighbours examined per article in the same-story tier.
    window_days : float or None, default 2
        Articles further apart in publication time are never same-story candidates.
    min_density : float, default 0.5
        Share of linked pairs two clusters need to merge (the anti-chaining guard).
    passages : bool, default True
        Run passage attribution (added sections, wire core).
    passage_cosine, passage_containment : float, default 0.2, 0.5
        Support thresholds of passage alignment (rewritten, verbatim).
    max_passage_chars : int, default 600
        Lines longer than this are split into sentences.
    batch_size : int, default 2000
        Articles fingerprinted at once.
    """

    def __init__(
        self,
        *,
        shingle_size: int = 3,
        num_perm: int = 128,
        seed: int = 1,
        lsh_threshold: float = 0.2,
        near_duplicate: float = 0.7,
        derived: float = 0.2,
        min_shared: int = 10,
        same_story: float | None = 0.3,
        story_neighbours: int = 10,
        window_days: float | None = 2.0,
        min_density: float = 0.5,
        passages: bool = True,
        passage_cosine: float = 0.2,
        passage_containment: float = 0.5,
        max_passage_chars: int = 600,
        batch_size: int = 2000,
    ) -> None:
        if same_story is not None and not 0.0 < same_story < 1.0:
            raise ValueError(f"same_story must be in (0, 1) or None, got {same_story!r}")
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        if min_shared < 1:
            raise ValueError("min_shared must be at least 1")
        self.shingle_size = shingle_size
        self.num_perm = num_perm
        self.seed = seed
        self.lsh_threshold = lsh_threshold
        self.near_duplicate = near_duplicate
        self.derived = derived
        self.min_shared = min_shared
        self.same_story = same_story
        self.story_neighbours = story_neighbours
        self.window_days = window_days
        self.min_density = min_density
        self.passages = passages
        self.passage_cosine = passage_cosine
        self.passage_containment = passage_containment
        self.max_passage_chars = max_passage_chars
        self.batch_size = batch_size
        # Built now so that bad parameters fail here, not mid-scan.
        self._hasher = ShingleHasher(shingle_size)
        self._minhasher = MinHasher(num_perm, seed)
        self._lsh = BandedLSH(lsh_threshold, num_perm)
        self._verifier = VerbatimVerifier(near_duplicate, derived)
        self._clustering = GuardedClustering(min_density)

    def get_params(self) -> dict[str, Any]:
        """The parameters, as given to ``__init__``."""
        names = [n for n in inspect.signature(type(self).__init__).parameters if n != "self"]
        return {name: getattr(self, name) for name in names}

    # -- the stages ---------------------------------------------------------

    def scan(self, items: Iterable[Article | Skipped], progress: Progress | None = None) -> ScanResult:
        """Run every stage on articles (``Skipped`` records are passed through to the report)."""
        return self._scan(items, progress, together=False)

    def compare(self, first: Article, second: Article) -> ScanResult:
        """Two articles: their pair (if linked), and their passages aligned against each
        other even when no relation links them."""
        return self._scan([first, second], None, together=True)

    def _scan(self, items: Iterable[Article | Skipped], progress: Progress | None, together: bool) -> ScanResult:
        report: Progress = progress or (lambda stage, done, total: None)
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        articles, skipped, prints = self._load_and_fingerprint(items, report)
        timings["load_fingerprint"] = time.perf_counter() - clock
        n = len(articles)

        clock = time.perf_counter()
        pairs, overlaps, relations, n_candidates = self._verbatim(articles, prints, report)
        timings["verbatim"] = time.perf_counter() - clock

        clock = time.perf_counter()
        vectorizer, vectors = self._vectors(prints, pairs[np.isin(relations, ["exact", "near_duplicate"])])
        if vectors is not None:
            pairs, overlaps, relations = self._same_story(articles, prints, vectors, pairs, overlaps, relations)
        cosine = row_cosines(vectors, pairs) if vectors is not None else np.zeros(len(pairs))
        timings["same_story"] = time.perf_counter() - clock

        clock = time.perf_counter()
        report("cluster", 0, None)
        labels = self._cluster(n, pairs, relations, overlaps, cosine)
        if together:
            labels = np.zeros(n, dtype=np.int64)
        timings["cluster"] = time.perf_counter() - clock

        clock = time.perf_counter()
        passages = self._passages(articles, prints, labels, vectorizer, report)
        timings["passages"] = time.perf_counter() - clock

        clues = [
            OriginClues(a.published, wire_credit(a.text), _wire_weight(plist) if label >= 0 else 0.0)
            for a, plist, label in zip(articles, passages, labels, strict=True)
        ]
        sources = [
            pair_source(
                clues[i],
                clues[j],
                float(overlaps.containment_a_in_b[k]),
                float(overlaps.containment_b_in_a[k]),
                verbatim=relations[k] != "same_story",
            )
            for k, (i, j) in enumerate(pairs)
        ]
        result = self._assemble(
            articles, skipped, pairs, overlaps, relations, cosine, labels, sources, clues, passages
        )
        result.stats["seconds"] = {k: round(v, 3) for k, v in timings.items()}
        result.stats["lsh_candidates"] = n_candidates
        result.params = self.get_params()
        return result

    def _load_and_fingerprint(
        self, items: Iterable[Article | Skipped], report: Progress
    ) -> tuple[list[Article], list[Skipped], Fingerprints]:
        vectorizer = StoryVectorizer() if self.same_story is not None else None
        articles: list[Article] = []
        skipped: list[Skipped] = []
        seen: dict[str, int] = {}
        prints = Fingerprints()
        pending: list[Article] = []

        def flush() -> None:
            if pending:
                prints.extend(fingerprint([a.text for a in pending], self._hasher, self._minhasher, vectorizer))
                articles.extend(pending)
                pending.clear()
                report("fingerprint", len(articles), None)

        for item in items:
            if isinstance(item, Skipped):
                skipped.append(item)
                continue
            if not isinstance(item, Article):
                raise TypeError(f"scan() expects Article or Skipped items, got {type(item).__name__}")
            if item.id in seen:
                skipped.append(Skipped(item.id, f"duplicate id {item.id!r}: kept the first article with it"))
                continue
            seen[item.id] = len(seen)
            pending.append(item)
            if len(pending) >= self.batch_size:
                flush()
        flush()
        return articles, skipped, prints

    def _verbatim(
        self, articles: list[Article], prints: Fingerprints, report: Progress
    ) -> tuple[np.ndarray, Overlaps, np.ndarray, int]:
        """LSH candidates and exact-duplicate groups, verified."""
        n = len(articles)
        report("candidates", 0, None)
        signatures = (
            np.concatenate(prints.signatures) if prints.signatures else np.empty((0, self.num_perm), np.uint32)
        )
        candidates = self._lsh.candidate_pairs(signatures)
        groups: dict[bytes, list[int]] = defaultdict(list)
        for index, key in enumerate(prints.exact_keys):
            groups[key].append(index)
        exact_pairs = [
            (g[x], g[y]) for g in groups.values() if len(g) > 1 for x in range(len(g)) for y in range(x + 1, len(g))
        ]
        codes = candidates[:, 0] * n + candidates[:, 1] if len(candidates) else np.empty(0, np.int64)
        if exact_pairs:
            exact_codes = np.array([i * n + j for i, j in exact_pairs], dtype=np.int64)
            codes = np.union1d(codes, exact_codes)
        pairs = np.stack([codes // max(n, 1), codes % max(n, 1)], axis=1).astype(np.int64)
        report("verify", 0, len(pairs))
        return (*self._verify(prints, pairs), len(pairs))

    def _verify(self, prints: Fingerprints, pairs: np.ndarray) -> tuple[np.ndarray, Overlaps, np.ndarray]:
        """Exact overlaps and verbatim relation of candidate pairs; pairs without one are dropped.

        A pair sharing its wording but not its figures (the same template filled
        in for another company or another day) is not a copy.
        """
        overlaps = Overlaps.compute(prints.shingle_sets, pairs)
        exact = np.array([prints.exact_keys[i] == prints.exact_keys[j] for i, j in pairs], dtype=bool)
        relations = self._verifier.relations(overlaps, exact)
        weak = (overlaps.shared < self.min_shared) & ~exact
        relations[weak] = None
        for k in np.flatnonzero((relations != None) & ~exact):  # noqa: E711 (object array)
            i, j = pairs[k]
            if not figures_agree(prints.figures[i], prints.figures[j]):
                relations[k] = None
        keep = np.array([r is not None for r in relations], dtype=bool)
        return pairs[keep], _subset(overlaps, keep), relations[keep]

    def _vectors(
        self, prints: Fingerprints, verbatim_pairs: np.ndarray
    ) -> tuple[StoryVectorizer | None, sp.csr_matrix | None]:
        """The corpus-level TF-IDF weights, fitted on this scan, and the article vectors.

        Document frequencies count each group of exact and near-duplicate copies
        once: ten copies of one wire story must not make its own words look common.
        """
        if self.same_story is None or not prints.term_counts:
            return None, None
        counts = sp.vstack(prints.term_counts).tocsr()
        prints.term_counts = [counts]  # one copy, not the batches and their stack
        n = counts.shape[0]
        graph = sp.coo_matrix(
            (np.ones(len(verbatim_pairs)), (verbatim_pairs[:, 0], verbatim_pairs[:, 1])), shape=(n, n)
        )
        _, component = connected_components(graph, directed=False)
        _, representatives = np.unique(component, return_index=True)
        vectorizer = StoryVectorizer().fit(counts[representatives])
        return vectorizer, vectorizer.transform(counts)

    def _same_story(
        self,
        articles: list[Article],
        prints: Fingerprints,
        vectors: sp.csr_matrix,
        pairs: np.ndarray,
        overlaps: Overlaps,
        relations: np.ndarray,
    ) -> tuple[np.ndarray, Overlaps, np.ndarray]:
        """Nearest TF-IDF neighbours: verified verbatim first (they also catch copies
        whose Jaccard is too low for LSH, like a short excerpt of a long text), the
        rest ``same_story``."""
        assert self.same_story is not None
        times = np.array(
            [a.published.timestamp() / 86400.0 if a.published else np.nan for a in articles], dtype=float
        )
        neighbours = StoryNeighbours(
            k=self.story_neighbours, min_cosine=self.same_story, window_days=self.window_days
        )
        found, _ = neighbours.pairs(vectors, times if np.isfinite(times).any() else None)
        n = len(articles)
        known = set((pairs[:, 0] * n + pairs[:, 1]).tolist())
        found = found[np.array([(i * n + j) not in known for i, j in found], dtype=bool)] if len(found) else found
        copies, copy_overlaps, copy_relations = self._verify(prints, found)
        copied = set((copies[:, 0] * n + copies[:, 1]).tolist())
        story = found[np.array([(i * n + j) not in copied for i, j in found], dtype=bool)] if len(found) else found
        zeros = np.zeros(len(story))
        return (
            np.concatenate([pairs, copies, story]),
            _concat(_concat(overlaps, copy_overlaps), Overlaps(story, zeros, zeros, zeros, zeros)),
            np.concatenate([relations, copy_relations, np.full(len(story), "same_story", dtype=object)]),
        )

    def _cluster(
        self, n: int, pairs: np.ndarray, relations: np.ndarray, overlaps: Overlaps, cosine: np.ndarray
    ) -> np.ndarray:
        rank = np.array([_RELATION_RANK[r] for r in relations], dtype=float)
        score = np.maximum(np.maximum(overlaps.containment_a_in_b, overlaps.containment_b_in_a), cosine)
        return self._clustering.fit_predict(n, pairs, rank + score)

    def _passages(
        self,
        articles: list[Article],
        prints: Fingerprints,
        labels: np.ndarray,
        vectorizer: StoryVectorizer | None,
        report: Progress,
    ) -> list[list[Passage]]:
        if not self.passages:
            return [[] for _ in articles]
        spans = [segment(a.text, self.max_passage_chars) for a in articles]
        passages = [[Passage(a.text, s, e) for s, e in sp_] for a, sp_ in zip(articles, spans, strict=True)]
        for index, plist in enumerate(passages):
            if labels[index] >= 0:  # only cluster members can have added passages
                for passage, label in zip(plist, label_passages([p.text for p in plist]), strict=True):
                    passage.label = label
        recurring = _recurring_passages(articles, passages, labels)
        clusters = _members(labels)
        aligner = PassageAligner(self.passage_containment, self.passage_cosine)
        verbatim: dict[int, list[bool]] = {}
        groups = list(clusters.values())
        for done, (members, cluster) in enumerate(
            zip(groups, self._cluster_passages(groups, passages, prints.shingle_sets, vectorizer), strict=True)
        ):
            for member, alignment in zip(members, aligner.align(cluster), strict=True):
                for passage, s, m in zip(passages[member], alignment.support, alignment.match, strict=True):
                    passage.support, passage.match = int(s), float(m)
                verbatim[member] = alignment.verbatim.tolist()
            report("passages", done + 1, len(groups))
        for index, plist in enumerate(passages):
            mark_added(plist, labels[index] >= 0, recurring[index], verbatim.get(index))
        return passages

    def _cluster_passages(
        self,
        groups: list[list[int]],
        passages: list[list[Passage]],
        doc_shingles: list[np.ndarray],
        vectorizer: StoryVectorizer | None,
    ) -> list[ClusterPassages]:
        """What alignment needs for every cluster, hashed and vectorised in one batch."""
        tokenized = [token_text(normalize(p.text)) for members in groups for m in members for p in passages[m]]
        batch = self._hasher.transform_tokens(tokenized)
        if vectorizer is not None and tokenized:
            vectors = _compact_columns(vectorizer.transform(vectorizer.counts(tokenized, tokenized=True)))
        else:
            vectors = sp.csr_matrix((len(tokenized), 1), dtype=np.float32)
        out = []
        first = 0
        for members in groups:
            sizes = [len(passages[m]) for m in members]
            last = first + sum(sizes)
            lo, hi = batch.offsets[first], batch.offsets[last]
            owner = np.repeat(np.arange(last - first), np.diff(batch.offsets[first : last + 1]))
            member = np.repeat(np.arange(len(members)), sizes)
            out.append(ClusterPassages(member, batch.hashes[lo:hi], owner, vectors[first:last],
                                       [doc_shingles[m] for m in members]))
            first = last
        return out

    # -- the result ---------------------------------------------------------

    def _assemble(
        self,
        articles: list[Article],
        skipped: list[Skipped],
        pairs: np.ndarray,
        overlaps: Overlaps,
        relations: np.ndarray,
        cosine: np.ndarray,
        labels: np.ndarray,
        sources: list[int | None],
        clues: list[OriginClues],
        passages: list[list[Passage]],
    ) -> ScanResult:
        ids = [a.id for a in articles]
        ordered = sorted(_members(labels).values(), key=lambda g: (-len(g), ids[g[0]]))
        pairs_of: dict[int, list[int]] = defaultdict(list)
        for k, (i, j) in enumerate(pairs):
            if labels[i] == labels[j] >= 0:
                pairs_of[int(labels[i])].append(k)
        cluster_name = {}
        clusters = []
        for number, members in enumerate(ordered, start=1):
            name = f"c{number}"
            inside = pairs_of[int(labels[members[0]])]
            origin = cluster_origin(
                members, clues, [(int(pairs[k, 0]), int(pairs[k, 1])) for k in inside], [sources[k] for k in inside]
            )
            counts: dict[str, int] = defaultdict(int)
            for k in inside:
                counts[str(relations[k])] += 1
            for m in members:
                cluster_name[m] = name
            clusters.append(
                ClusterResult(
                    id=name,
                    members=[ids[m] for m in members],
                    origin=ids[origin] if origin is not None else None,
                    relations=dict(counts),
                    core=_core(members, origin, passages, ids),
                )
            )
        pair_results = [
            PairResult(
                a=ids[i],
                b=ids[j],
                relation=str(relations[k]),
                jaccard=float(overlaps.jaccard[k]),
                containment_a_in_b=float(overlaps.containment_a_in_b[k]),
                containment_b_in_a=float(overlaps.containment_b_in_a[k]),
                cosine=float(cosine[k]),
                source=_source_id(ids, i, j, sources[k]),
            )
            for k, (i, j) in enumerate(pairs)
        ]
        pair_results.sort(key=lambda p: (_RELATION_RANK[p.relation] * -1, -max(p.jaccard, p.cosine), p.a, p.b))
        article_results = []
        for index, article in enumerate(articles):
            plist = passages[index]
            in_cluster = labels[index] >= 0
            article_results.append(
                ArticleResult(
                    id=article.id,
                    cluster=cluster_name.get(index),
                    passages=plist,
                    added_sections=merge_sections(article.text, plist) if in_cluster else [],
                    title=article.title,
                    outlet=article.outlet,
                    url=article.url,
                    published=article.published,
                    wire_credit=clues[index].credit,
                    words=len(article.text.split()),
                    text=article.text if article.extra.get("extracted_from") else None,
                )
            )
        by_relation: dict[str, int] = defaultdict(int)
        for p in pair_results:
            by_relation[p.relation] += 1
        stats = {
            "articles": len(articles),
            "dated": sum(a.published is not None for a in articles),
            "unreadable_dates": sum("date_problem" in a.extra for a in articles),
            "skipped": len(skipped),
            "pairs": len(pair_results),
            "pairs_by_relation": dict(by_relation),
            "clusters": len(clusters),
            "largest_cluster": max((len(c.members) for c in clusters), default=0),
        }
        return ScanResult(article_results, pair_results, clusters, skipped, stats)


def _members(labels: np.ndarray) -> dict[int, list[int]]:
    """Cluster label -> member indices (articles in no cluster left out)."""
    members: dict[int, list[int]] = defaultdict(list)
    for index in np.flatnonzero(labels >= 0):
        members[int(labels[index])].append(int(index))
    return members


def _subset(overlaps: Overlaps, keep: np.ndarray) -> Overlaps:
    return Overlaps(
        overlaps.pairs[keep],
        overlaps.shared[keep],
        overlaps.jaccard[keep],
        overlaps.containment_a_in_b[keep],
        overlaps.containment_b_in_a[keep],
    )


def _concat(first: Overlaps, second: Overlaps) -> Overlaps:
    return Overlaps(
        np.concatenate([first.pairs, second.pairs]),
        np.concatenate([first.shared, second.shared]),
        np.concatenate([first.jaccard, second.jaccard]),
        np.concatenate([first.containment_a_in_b, second.containment_a_in_b]),
        np.concatenate([first.containment_b_in_a, second.containment_b_in_a]),
    )


def _recurring_passages(
    articles: list[Article], passages: list[list[Passage]], labels: np.ndarray
) -> list[np.ndarray]:
    """Passages that recur in one outlet's articles of different stories (boilerplate).

    With the outlet unknown, a passage must recur in three different stories.
    Keys are hashes of (outlet, passage text): they live only as long as the scan.
    """
    keys = np.fromiter(
        (hash((a.outlet, p.text)) for a, plist in zip(articles, passages, strict=True) for p in plist), dtype=np.int64
    )
    counts = np.array([len(plist) for plist in passages], dtype=np.int64)
    story = np.repeat(np.where(labels >= 0, labels, -1 - np.arange(len(labels))), counts)
    outlet_known = np.repeat(np.array([a.outlet is not None for a in articles], dtype=bool), counts)
    distinct = np.unique(np.stack([keys, story], axis=1), axis=0)
    unique_keys, stories = np.unique(distinct[:, 0], return_counts=True)
    per_passage = stories[np.searchsorted(unique_keys, keys)] if len(keys) else np.zeros(0, np.int64)
    recurring = per_passage >= np.where(outlet_known, 2, 3)
    return np.split(recurring, np.cumsum(counts)[:-1])


def _compact_columns(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """The same rows over only the columns in use: products with the transpose of
    a hashed feature space (2^20 columns) would allocate for every column."""
    used, remapped = np.unique(matrix.indices, return_inverse=True)
    return sp.csr_matrix((matrix.data, remapped.ravel(), matrix.indptr), shape=(matrix.shape[0], max(len(used), 1)))


def _source_id(ids: list[str], i: int, j: int, source: int | None) -> str | None:
    if source is None:
        return None
    return ids[i] if source == 0 else ids[j]


def _wire_weight(passages: list[Passage]) -> float:
    """Words other members carry minus words nobody else has (see :mod:`dedup.origin`)."""
    return float(sum(len(p.text.split()) * (-1 if p.added else 1 if p.support > 0 else 0) for p in passages))


def _core(
    members: list[int], origin: int | None, passages: list[list[Passage]], ids: list[str]
) -> list[dict[str, Any]]:
    """The reconstructed shared copy: the passages of the base member that another member carries."""
    if origin is None:
        origin = max(members, key=lambda m: (sum(p.support > 0 for p in passages[m]), -m))
    return [
        {"article": ids[origin], "start": p.start, "end": p.end, "text": p.text, "support": p.support + 1}
        for p in passages[origin]
        if p.support > 0 and not p.added
    ]
