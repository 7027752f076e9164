"""The scan, top to bottom: fingerprint -> candidates -> verify -> same story ->
cluster -> passages -> assemble.

:class:`Scanner` only orchestrates: every stage is a function of its own module
(:mod:`dedup.fingerprint`, :mod:`dedup.candidates`, :mod:`dedup.link`,
:mod:`dedup.story`, :mod:`dedup.cluster`, :mod:`dedup.attribution`,
:mod:`dedup.assemble`), written as "new articles against existing ones" so an
index or a distributed driver calls the same functions. Articles are put in id
order first and every stage breaks ties by position, so the result depends on
the articles alone, not on the order they came in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from .article import Article, Skipped
from .assemble import assemble, bound_stats
from .attribution import attribute, provenance
from .candidates import BandedLSH
from .evidence import SharedRuns, common_shingles, credible, informative, long_runs
from .fingerprint import Prints, fingerprint, stack_rows
from .link import (
    Copies,
    Links,
    collapsed_groups,
    exact_pairs,
    expand,
    families_for_df,
    representatives,
    story_links,
    verify,
    with_cosines,
)
from .normalize import is_blank
from .parallel import chunk_bounds, chunked
from .params import Params
from .postings import join_prints
from .ragged import Ragged
from .result import ScanResult
from .stories import family_labels, story_labels
from .story import Idf

__all__ = ["Scanner", "passage_links"]

Progress = Callable[[str, int, int | None], None]
# Batches to fingerprint below which forking costs more than it saves.
_MIN_FORKED = 2
# Articles weighed (document frequencies, TF-IDF rows) at a time.
_WEIGHED_ROWS = 10_000


class Scanner:
    """Find verbatim copies, rewrites and each outlet's additions in a set of articles.

    Parameters
    ----------
    params : Params, optional
        All settings (defaults: :class:`~dedup.params.Params`); keyword
        arguments override single ones, e.g. ``Scanner(same_story=None)``.
    """

    def __init__(self, params: Params | None = None, **overrides: Any) -> None:
        self.params = (params or Params()).replace(**overrides) if overrides else (params or Params())

    def get_params(self) -> dict[str, Any]:
        """The parameters, as a plain dict."""
        return self.params.to_dict()

    def scan(self, items: Iterable[Article | Skipped], progress: Progress | None = None) -> ScanResult:
        """Run every stage on articles (``Skipped`` records are passed through to the report)."""
        report: Progress = progress or (lambda stage, done, total: None)
        params = self.params
        timings: dict[str, float] = {}
        with _stage(timings, "load_fingerprint"):
            articles, skipped = _collect(items)
            prints = self._fingerprint(articles, report)
        with _stage(timings, "verbatim"):
            report("candidates", 0, None)
            times = _days(articles)
            runs = SharedRuns([a.text for a in articles], params.winnow_k, params.min_run_words, params.shingle_size)

            copies = Copies.of(prints.exact_keys)
            exact, capped = exact_pairs(copies, params.max_exact_group)
            found, oversized, n_candidates, common = self._verbatim(prints, copies, runs)

            def accept(candidates: Links) -> np.ndarray:
                return credible(candidates, prints, runs, times, params, common)

            found = found.take(accept(found))
            links = Links.concat([verify(prints, prints, exact, params), expand(found, copies, params.max_exact_group)])
            collapsed = collapsed_groups(len(articles), links, [*capped, *oversized])
            prints = _without(prints, "signatures", "passages")
            runs.forget()  # the runs found are kept; later pairs recompute their articles' k-grams
        with _stage(timings, "same_story"):
            idf, vectors = _weigh(prints, links, params)
            prints = _without(prints, "terms")
            if idf is not None and vectors is not None:
                story = story_links(prints, idf, vectors, times, copies.distinct, found, params, accept)
                links = Links.concat([links, expand(story, copies, params.max_exact_group)])
            links = with_cosines(links, prints, idf, vectors)
            del vectors  # no later stage reads them
            runs.forget()
        with _stage(timings, "cluster"):
            report("cluster", 0, None)
            families = family_labels(len(articles), links, params.min_density, collapsed)
            labels = story_labels(len(articles), links, families, params.story_resolution)
        with _stage(timings, "passages"):
            passages = attribute(articles, prints.shingles, labels, idf, params, report)
        result = assemble(articles, skipped, links, labels, families, passages,
                          *provenance(articles, passages, labels, links), runs)
        result.stats["seconds"] = {k: round(v, 3) for k, v in timings.items()}
        result.stats |= bound_stats(articles, n_candidates, capped, oversized, collapsed)
        result.params = self.get_params()
        return result

    def compare(self, first: Article, second: Article) -> ScanResult:
        """Two articles: their pair (if linked), and their passages aligned against each
        other as one cluster even when no relation links them."""
        params = self.params
        articles = sorted([first, second], key=lambda a: a.id)
        if articles[0].id == articles[1].id:
            raise ValueError(f"compare() needs two different ids, got {first.id!r} twice")
        prints = fingerprint([a.text for a in articles], params)
        times = _days(articles)
        runs = SharedRuns([a.text for a in articles], params.winnow_k, params.min_run_words, params.shingle_size)
        links = verify(prints, prints, np.array([[0, 1]]), params)
        links = links.take(credible(links, prints, runs, times, params))
        idf, vectors = _weigh(prints, links, params)
        if idf is not None and vectors is not None and not len(links):
            links = story_links(prints, idf, vectors, times, np.arange(2), links, params,
                                lambda found: credible(found, prints, runs, times, params))
        links = with_cosines(links, prints, idf, vectors)
        labels = np.zeros(2, dtype=np.int64)
        families = family_labels(2, links, params.min_density)
        passages = attribute(articles, prints.shingles, labels, idf, params)
        result = assemble(articles, [], links, labels, families, passages,
                          *provenance(articles, passages, labels, links), runs)
        result.params = self.get_params()
        return result

    def _fingerprint(self, articles: list[Article], report: Progress) -> Prints:
        """The prints of every article, ``batch_size`` at a time (in ``workers`` processes)."""
        size = self.params.batch_size
        starts = list(range(0, len(articles), size))

        def batches(lo: int, hi: int) -> Prints:
            parts = [fingerprint([a.text for a in articles[s : s + size]], self.params) for s in starts[lo:hi]]
            return Prints.concat(parts)

        if not articles:
            return fingerprint([], self.params)

        def reported(parts: Iterator[Prints]) -> Iterator[Prints]:
            done = 0
            for part in parts:
                done += len(part)
                report("fingerprint", done, len(articles))
                yield part

        return Prints.concat(reported(chunked(batches, chunk_bounds(len(starts), len(starts)), self.params.workers,
                                              _MIN_FORKED)), len(articles))

    def _verbatim(
        self, prints: Prints, copies: Copies, runs: SharedRuns
    ) -> tuple[Links, list[np.ndarray], int, Ragged]:
        """Candidates among distinct texts, verified: LSH on whole-document signatures, and
        shared passage fingerprints (a short wire item inside a long page, whatever the
        length ratio); and the oversized LSH buckets."""
        params = self.params
        distinct = copies.distinct
        lsh = BandedLSH(params.lsh_threshold, params.num_perm, max_bucket=params.max_bucket)
        pairs, oversized = lsh.candidates(prints.signatures[distinct])
        by_lsh = verify(prints, prints, distinct[pairs].reshape(-1, 2), params)
        families = families_for_df(len(prints), by_lsh)[distinct]
        common = informative(prints.shingles,
                             common_shingles(prints.shingles, distinct, families, params.winnow_max_df))
        passage_pairs = join_prints(prints.passage_prints(distinct, params.winnow_k, params.winnow_window), families,
                                    params.winnow_min_shared, params.winnow_max_df, params.winnow_max_bucket).pairs
        lsh_pairs = distinct[pairs].reshape(-1, 2)
        fingerprinted = distinct[passage_pairs].reshape(-1, 2)
        found = passage_links(prints, lsh_pairs, by_lsh, fingerprinted, runs, params)
        n_candidates = len(lsh_pairs) + int((~np.isin(_codes(fingerprinted, len(prints)),
                                                      _codes(lsh_pairs, len(prints)))).sum())
        return Links.concat([by_lsh, found]), [distinct[g] for g in oversized], n_candidates, common


def passage_links(prints: Prints, lsh_pairs: np.ndarray, by_lsh: Links, passage_pairs: np.ndarray,
                  runs: SharedRuns, params: Params) -> Links:
    """What the passage fingerprints add to the LSH tier (pairs are positions of ``prints``): the
    pairs sharing fingerprints that LSH did not propose, verified, and those that share
    fingerprints but verify found no relation for, searched for one long run (``long_runs``:
    only pairs sharing fingerprints can share a long run, the winnowing guarantee)."""
    n_docs = len(prints)
    passage_pairs = np.asarray(passage_pairs, dtype=np.int64).reshape(-1, 2)
    new = ~np.isin(_codes(passage_pairs, n_docs), _codes(lsh_pairs, n_docs))
    by_passage = verify(prints, prints, passage_pairs[new], params)
    linked = np.concatenate([by_lsh.codes(n_docs), by_passage.codes(n_docs)])
    below = passage_pairs[~np.isin(_codes(passage_pairs, n_docs), linked)]
    return Links.concat([by_passage, long_runs(prints, below, runs, params)])


def _codes(pairs: np.ndarray, n_docs: int) -> np.ndarray:
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return pairs[:, 0] * n_docs + pairs[:, 1]


def _collect(items: Iterable[Article | Skipped]) -> tuple[list[Article], list[Skipped]]:
    """Articles in id order (the first of a repeated id kept; blank ones skipped, as the loader
    skips blank files) and the skipped records."""
    articles: dict[str, Article] = {}
    skipped: list[Skipped] = []
    for item in items:
        if isinstance(item, Skipped):
            skipped.append(item)
        elif not isinstance(item, Article):
            raise TypeError(f"scan() expects Article or Skipped items, got {type(item).__name__}")
        elif is_blank(item.text):
            skipped.append(Skipped(item.id, "empty article (only white space and invisible characters)"))
        elif item.id in articles:
            skipped.append(Skipped(item.id, f"duplicate id {item.id!r}: kept the first article with it"))
        else:
            articles[item.id] = item
    return [articles[key] for key in sorted(articles)], skipped


def _weigh(prints: Prints, links: Links, params: Params) -> tuple[Idf | None, sp.csr_matrix | None]:
    """Document frequencies (each group of close copies counted once) and the TF-IDF vectors;
    nothing when the same-story tier is off."""
    if params.same_story is None or prints.terms is None or not len(prints):
        return None, None
    terms, step = prints.terms, _WEIGHED_ROWS  # in slices of rows: the scratch of a slice, not of all rows
    reps = representatives(len(prints), links)
    idf = Idf.fit(terms[reps[:step]], params)
    for lo in range(step, len(reps), step):
        idf = idf.add(terms[reps[lo : lo + step]])
    return idf, stack_rows((idf.transform(terms[lo : lo + step]) for lo in range(0, len(prints), step)), len(prints))


def _without(prints: Prints, *columns: str) -> Prints:
    """The prints less columns no later stage of the scan reads (``signatures``: LSH;
    ``passages``: the passage fingerprints and their positions; ``terms``: the counts once
    weighed), so their memory is released as the scan goes."""
    empty: dict[str, Any] = {
        "signatures": np.empty((0, prints.signatures.shape[1]), prints.signatures.dtype),
        "passages": Ragged.empty(len(prints)),
        "terms": None,
    }
    replaced = {name: empty[name] for name in columns}
    if "passages" in columns:
        replaced["passage_positions"] = Ragged.empty(len(prints), dtype=np.int64)
    return dataclasses.replace(prints, **replaced)


def _days(articles: list[Article]) -> np.ndarray | None:
    """Publication times as float days (NaN when unknown), or None when none is dated."""
    times = np.array([a.published.timestamp() / 86400.0 if a.published else np.nan for a in articles], dtype=float)
    return times if np.isfinite(times).any() else None


@contextlib.contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    clock = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = time.perf_counter() - clock
