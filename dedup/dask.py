"""The scan on a Dask cluster: the same stage functions, run on partitions.

``pip install 'dedup[dask]'``. :class:`DaskScanner` is a second driver beside
:class:`~dedup.pipeline.Scanner`: it holds no maths of its own, it calls the
stage functions the local scan calls (``fingerprint``, ``BandedLSH.self_join``,
``Postings`` and the postings bucket rule, ``verify``, ``credible``,
``long_runs``, ``representatives``, ``Idf``, ``probe_neighbours``,
``with_cosines``, ``family_labels``, ``story_labels``, ``attribute``,
``provenance``, ``assemble``) on partitions of articles held by the workers, and
its result is the local engine's (``to_dict()`` equal except ``stats.seconds``).

Articles are put in id order first and cut into contiguous partitions, so a
global position is the partition's offset plus the row: every tie the stages
break by position is broken as in the local scan. Stages:

1. fingerprints per partition (kept on the workers);
2. exact copies from the exact keys (driver: 16 bytes an article);
3. band keys of distinct texts shuffled on ``(band, key)``; in each shuffle
   partition the bucket rule of ``BandedLSH.self_join`` (oversized buckets give
   star pairs) -> candidate pairs;
4. passage fingerprints (postings) shuffled on the fingerprint: document
   frequencies over families, the edge rule per partition, the bucket rule per
   fingerprint, shared counts summed per pair;
5. verification, the evidence rules and long runs on blocks of pairs (partition
   of i, partition of j), each block a local scan of the rows its pairs touch;
6. representatives on the driver from the verbatim links, document frequencies
   as a sum of per-partition bincounts, the IDF broadcast;
7. same-story neighbours: distinct texts and their windows in blocks
   (time-sorted when dated), each block of rows against the blocks inside its
   window (all of them when undated), top-``k`` with the tie-break of
   ``neighbours``, merged per row;
8. families and stories on the driver (the same functions, all links);
9. passage recurrence (boilerplate) counted over all articles by a shuffle on
   the passage key, then attribution per batch of whole clusters;
10. ``assemble`` on the driver.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import os
import posixpath
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import relation
from .article import Article, Skipped
from .assemble import assemble, bound_stats
from .attribution import _passage_key, attribute, groups, provenance
from .candidates import BandedLSH, decode_pairs
from .evidence import SharedRuns, credible, long_runs
from .fingerprint import Prints, fingerprint
from .link import (
    Copies,
    Links,
    collapsed_groups,
    exact_pairs,
    expand,
    families_for_df,
    representatives,
    verify,
    with_cosines,
)
from .load import DEFAULT_MAX_BYTES, LoadError, _jsonl_records, _record_article, iter_articles
from .params import Params
from .passages import segment
from .pipeline import _collect, _days
from .postings import Postings, _distinct_families, _edges, _join
from .ragged import Ragged
from .result import ScanResult
from .stories import family_labels, story_labels
from .story import Idf, best_per_row, probe_neighbours, shared_terms
from .verify import Overlaps

__all__ = ["DaskScanner", "local_cluster", "read_partitioned", "write_parquet"]

Progress = Callable[[str, int, int | None], None]
Future = Any


class DaskScanner:
    """The scan of :class:`~dedup.pipeline.Scanner` on a Dask cluster.

    Parameters
    ----------
    params : Params, optional
        All settings (keyword arguments override single ones, as for ``Scanner``).
    client : distributed.Client, optional
        The cluster to run on; by default the current client, or else a
        ``LocalCluster`` sized to the machine, started for the scan and closed after it.
    partition_size : int
        Articles per partition (memory per task, not results).
    max_bytes : int
        The loader's limit, for folders and partitioned inputs alike.
    chunk_rows : int
        Same-story rows multiplied at once inside a time window (memory, not results).
    """

    def __init__(
        self,
        params: Params | None = None,
        client: Any = None,
        *,
        partition_size: int = 5000,
        max_bytes: int = DEFAULT_MAX_BYTES,
        chunk_rows: int = 512,
        **overrides: Any,
    ) -> None:
        base = params or Params()
        self.params = base.replace(**overrides) if overrides else base
        if partition_size < 1:
            raise ValueError(f"partition_size must be a positive int, got {partition_size!r}")
        self.client = client
        self.partition_size = partition_size
        self.max_bytes = max_bytes
        self.chunk_rows = chunk_rows

    def get_params(self) -> dict[str, Any]:
        return self.params.to_dict()

    def scan(self, source: str | Path | Iterable[Article | Skipped], progress: Progress | None = None) -> ScanResult:
        """Scan a folder or file (read by :func:`dedup.load.iter_articles`), partitioned JSONL/Parquet
        (a glob, a folder of ``.parquet`` files or any fsspec URL: each worker reads its own files),
        or an iterable of articles. Returns the local engine's :class:`ScanResult`."""
        client, owned = _client(self.client)
        try:
            return _Run(client, self.params, self.partition_size, self.chunk_rows, progress).scan(
                _items(client, source, self.max_bytes)
            )
        finally:
            if owned:
                cluster = client.cluster
                client.close()
                if cluster is not None:
                    cluster.close()


def _client(client: Any) -> tuple[Any, bool]:
    """The given client, the current one, or a new LocalCluster sized to the machine (owned)."""
    from distributed import Client, LocalCluster

    if client is not None:
        return client, False
    try:
        from distributed import get_client

        return get_client(), False
    except ValueError:
        pass
    cores = os.cpu_count() or 1
    cluster = LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=":0")
    return Client(cluster), True


def local_cluster(n_workers: int | None = None, **options: Any) -> Any:
    """A ``Client`` on a new ``LocalCluster``: one single-threaded worker process per core by default."""
    from distributed import Client, LocalCluster

    options = {"threads_per_worker": 1, "processes": True, "dashboard_address": ":0"} | options
    return Client(LocalCluster(n_workers=n_workers or os.cpu_count() or 1, **options))


# ---------------------------------------------------------------------------------------------- inputs


def _is_partitioned(source: str | Path) -> bool:
    text = str(source)
    if "://" in text or any(c in text for c in "*?["):
        return True
    path = Path(text)
    if path.suffix == ".parquet":
        return True
    return path.is_dir() and any(path.glob("*.parquet")) and not any(
        p.suffix in _FOLDER_SUFFIXES for p in path.rglob("*") if p.is_file()
    )


_FOLDER_SUFFIXES = {".txt", ".md", ".html", ".htm", ".json", ".jsonl"}


def _items(client: Any, source: str | Path | Iterable[Article | Skipped], max_bytes: int) -> list[Article | Skipped]:
    if isinstance(source, (str, Path)):
        if _is_partitioned(source):
            return read_partitioned(str(source), client, max_bytes=max_bytes)
        return list(iter_articles(source, max_bytes=max_bytes))
    return list(source)


def read_partitioned(urlpath: str, client: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Article | Skipped]:
    """Articles and skipped records of partitioned JSONL (``.jsonl``) or Parquet (``.parquet``) files,
    each file read and parsed by a worker (``urlpath``: a file, folder or glob, local or any fsspec URL).

    Records are read as the local loader reads JSONL records: ids default to
    ``<file relative to the root>#<line>``, bad records become ``Skipped``. Files
    are listed in sorted order; the items come back in (file, line) order.
    """
    import fsspec

    fs, root, paths = _list_files(urlpath, fsspec)
    futures = [client.submit(_read_file, fs, path, _relative(path, root), max_bytes, pure=False) for path in paths]
    out: list[Article | Skipped] = []
    for part in client.gather(futures):
        out.extend(part)
    return out


def _list_files(urlpath: str, fsspec: Any) -> tuple[Any, str, list[str]]:
    fs, token = fsspec.core.url_to_fs(urlpath)
    if any(c in token for c in "*?["):
        paths = sorted(fs.glob(token))
        root = token[: min(token.find(c) for c in "*?[" if c in token)].rsplit("/", 1)[0]
    elif fs.isdir(token):
        paths = sorted(p for p in fs.find(token) if p.endswith((".jsonl", ".parquet")))
        root = token.rstrip("/")
    else:
        paths, root = [token], posixpath.dirname(token)
    return fs, root, [p for p in paths if p.endswith((".jsonl", ".parquet"))]


def _relative(path: str, root: str) -> str:
    return posixpath.relpath(path, root) if root else path


def _read_file(fs: Any, path: str, rel: str, max_bytes: int) -> list[Article | Skipped]:
    """One partition file on a worker."""
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        with fs.open(path, "rb") as stream:
            records = pq.read_table(stream).to_pylist()
        out: list[Article | Skipped] = []
        for number, record in enumerate(records, start=1):
            record = {k: v for k, v in record.items() if v is not None}
            try:
                out.append(_record_article(record, default_id=f"{rel}#{number}"))
            except LoadError as exc:
                out.append(Skipped(rel, f"{exc} at row {number}", number))
        return out
    with fs.open(path, "rb") as stream:
        return [item for item, _ in _jsonl_records(stream.readline, rel, max_bytes)]


# ---------------------------------------------------------------------------------------------- the run


@functools.lru_cache(maxsize=8)
def _lsh(params: Params) -> BandedLSH:
    return BandedLSH(params.lsh_threshold, params.num_perm, max_bucket=params.max_bucket)


@functools.lru_cache(maxsize=8)
def _one_band(params: Params) -> BandedLSH:
    """The scan's LSH restricted to one band: ``self_join`` on the keys of one band."""
    one = copy.copy(_lsh(params))
    one.bands = 1
    return one


class _Run:
    """One scan: partitions as futures, small arrays on the driver."""

    def __init__(
        self, client: Any, params: Params, partition_size: int, chunk_rows: int, progress: Progress | None
    ) -> None:
        self.client = client
        self.params = params
        self.partition_size = partition_size
        self.chunk_rows = chunk_rows
        self.report: Progress = progress or (lambda stage, done, total: None)

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        return self.client.submit(function, *args, pure=False)

    def gather(self, futures: Any) -> Any:
        return self.client.gather(futures)

    def scan(self, items: list[Article | Skipped]) -> ScanResult:
        params = self.params
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        articles, skipped = _collect(items)
        n = self.n = len(articles)
        if n == 0:
            from .pipeline import Scanner

            return Scanner(params).scan(skipped)
        count = max(1, math.ceil(n / self.partition_size))
        self.offsets = np.linspace(0, n, count + 1).astype(np.int64)
        self.parts = self.client.scatter(
            [articles[self.offsets[p] : self.offsets[p + 1]] for p in range(count)]
        )
        self.report("fingerprint", 0, count)
        self.prints = [self.submit(_fingerprint_part, part, params) for part in self.parts]
        self.vectors: list[Future | None] = [None] * count
        self.idf: Future | None = None
        summaries = self.gather([self.submit(_summary, part, prints) for part, prints in
                                 zip(self.parts, self.prints, strict=True)])
        keys = np.concatenate([s[0] for s in summaries])
        times = np.concatenate([s[1] for s in summaries])
        days = times if np.isfinite(times).any() else None
        timings["load_fingerprint"] = time.perf_counter() - clock

        clock = time.perf_counter()
        self.report("candidates", 0, None)
        copies = Copies.of(keys)
        exact, capped = exact_pairs(copies, params.max_exact_group)
        found, oversized, n_candidates = self._verbatim(copies)
        found = found.take(self._credible(found))
        links = Links.concat([self._pairs_op("verify", exact), expand(found, copies, params.max_exact_group)])
        collapsed = collapsed_groups(n, links, [*capped, *oversized])
        timings["verbatim"] = time.perf_counter() - clock

        clock = time.perf_counter()
        if params.same_story is not None:
            self.report("same story", 0, None)
            self.idf = self._idf(representatives(n, links))
            self.vectors = [self.submit(_transform, self.idf, prints) for prints in self.prints]
            story = self._story_links(copies.distinct, days, found)
            links = Links.concat([links, expand(story, copies, params.max_exact_group)])
            links = links.with_cosine(self._links_op("cosines", links))
        timings["same_story"] = time.perf_counter() - clock

        clock = time.perf_counter()
        self.report("cluster", 0, None)
        families = family_labels(n, links, params.min_density, collapsed)
        labels = story_labels(n, links, families, params.story_resolution)
        timings["cluster"] = time.perf_counter() - clock

        clock = time.perf_counter()
        passages = self._attribute(labels, self.idf) if params.passages else [[] for _ in articles]
        timings["passages"] = time.perf_counter() - clock
        runs = SharedRuns([a.text for a in articles], params.winnow_k, params.min_run_words, params.shingle_size)
        result = assemble(articles, skipped, links, labels, families, passages,
                          *provenance(articles, passages, labels, links), runs)
        result.stats["seconds"] = {k: round(v, 3) for k, v in timings.items()}
        result.stats |= bound_stats(articles, n_candidates, capped, oversized, collapsed)
        result.params = params.to_dict()
        return result

    # ------------------------------------------------------------------------------------------ helpers

    @property
    def n_parts(self) -> int:
        return len(self.offsets) - 1

    def _part_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.offsets, positions, side="right") - 1

    def _local(self, positions: np.ndarray, part: int) -> np.ndarray:
        """Positions inside partition ``part`` (global positions minus its offset), selected."""
        positions = np.asarray(positions, dtype=np.int64)
        lo, hi = np.searchsorted(positions, self.offsets[part : part + 2])
        return positions[lo:hi] - self.offsets[part]

    def _buckets(self) -> int:
        return max(1, self.n_parts)

    def _blocks(self, pairs: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
        """Indices of the pairs in each block (partition of i, partition of j)."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        block = self._part_of(pairs[:, 0]) * self.n_parts + self._part_of(pairs[:, 1])
        order = np.argsort(block, kind="stable")
        bounds = np.flatnonzero(np.diff(block[order])) + 1
        out = {}
        for g in np.split(order, bounds) if len(order) else []:
            b = int(block[g[0]])
            out[(b // self.n_parts, b % self.n_parts)] = g
        return out

    def _block_task(self, op: str, block: tuple[int, int], payload: Any) -> Future:
        """One block of pairs on a worker: the two partitions as one local self-join."""
        i, j = block
        needs_text = op in ("credible", "long_runs")
        needs_vectors = op == "cosines"
        side = [(self.parts[p] if needs_text else None, self.prints[p], self.vectors[p] if needs_vectors else None)
                for p in ((i,) if i == j else (i, j))]
        offsets = (int(self.offsets[i]), int(self.offsets[j]))
        return self.submit(_block_op, op, side, offsets, payload, self.params, self.idf if needs_vectors else None)

    def _pairs_op(self, op: str, pairs: np.ndarray) -> Links:
        """A stage that makes links from sorted pairs (``verify``, ``long_runs``, same-story overlaps),
        block by block; the links in pair order."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        futures = [self._block_task(op, block, pairs[index]) for block, index in self._blocks(pairs).items()]
        return Links.concat(self.gather(futures)).canonical()

    def _links_op(self, op: str, links: Links) -> np.ndarray:
        """A per-link value (``credible``: kept or not; ``cosines``), block by block, in link order."""
        blocks = self._blocks(links.pairs)
        futures = [self._block_task(op, block, links.take(index)) for block, index in blocks.items()]
        out = np.zeros(len(links), dtype=bool if op == "credible" else float)
        for index, values in zip(blocks.values(), self.gather(futures), strict=True):
            out[index] = values
        return out

    def _credible(self, links: Links) -> np.ndarray:
        return self._links_op("credible", links) if len(links) else np.ones(0, dtype=bool)

    # ------------------------------------------------------------------------------------------ verbatim

    def _verbatim(self, copies: Copies) -> tuple[Links, list[np.ndarray], int]:
        """``Scanner._verbatim``: LSH candidates (band keys shuffled on (band, key), the bucket rule
        in each shuffle partition) and passage-fingerprint candidates (postings shuffled on the
        fingerprint), verified block by block; pairs below the thresholds sharing a long run."""
        n_buckets = self._buckets()
        distinct = copies.distinct
        rows = [self.submit(_band_rows, prints, self._local(distinct, p), int(self.offsets[p]),
                            self.params, n_buckets) for p, prints in enumerate(self.prints)]
        buckets = [self.submit(_bucket_pairs, [self.submit(_piece, r, s) for r in rows], self.n, self.params)
                   for s in range(n_buckets)]
        described = self.gather(buckets)
        distinct_groups = {g.tobytes(): g for _, big in described for g in big}
        oversized = [distinct_groups[k] for k in sorted(distinct_groups)]
        codes = np.unique(np.concatenate([c for c, _ in described]))
        lsh_pairs = decode_pairs(codes, self.n)
        by_lsh = self._pairs_op("verify", lsh_pairs)
        families = families_for_df(self.n, by_lsh)
        passage_pairs = distinct[self._postings_join(distinct, families)].reshape(-1, 2)
        new = ~np.isin(passage_pairs[:, 0] * self.n + passage_pairs[:, 1], codes)
        candidates = passage_pairs[new]
        by_passage = self._pairs_op("verify", candidates)
        linked = np.concatenate([by_lsh.codes(self.n), by_passage.codes(self.n)])
        below = passage_pairs[~np.isin(passage_pairs[:, 0] * self.n + passage_pairs[:, 1], linked)]
        by_run = self._pairs_op("long_runs", below)
        return Links.concat([by_lsh, by_passage, by_run]), oversized, len(lsh_pairs) + len(candidates)

    def _postings_join(self, distinct: np.ndarray, families: np.ndarray) -> np.ndarray:
        """``postings.self_join`` over the distinct texts (doc ids: their rank among them), as three
        shuffles: (key, family) for the document frequencies, rows by key for the bucket rule, pair
        counts by pair."""
        params = self.params
        n_buckets = self._buckets()
        ranks = [np.searchsorted(distinct, self._local(distinct, p) + self.offsets[p]) for p in range(self.n_parts)]
        postings = [self.submit(_postings_part, prints, self._local(distinct, p), ranks[p],
                                families[distinct[ranks[p]]], params)
                    for p, prints in enumerate(self.prints)]
        keyed = [self.submit(_family_rows, post, n_buckets) for post in postings]
        common = np.concatenate(self.gather([
            self.submit(_common_keys, [self.submit(_piece, k, s) for k in keyed], params.winnow_max_df)
            for s in range(n_buckets)]))
        common_future = self.client.scatter([np.sort(common)], broadcast=True)[0]
        routed = [self.submit(_edge_rows, post, common_future, n_buckets) for post in postings]
        counted = [self.submit(_bucket_counts, [self.submit(_piece, r, s) for r in routed], common_future,
                               params, len(distinct), n_buckets) for s in range(n_buckets)]
        summed = [self.submit(_sum_counts, [self.submit(_piece, c, s) for c in counted], params.winnow_min_shared)
                  for s in range(n_buckets)]
        pairs = np.sort(np.concatenate(self.gather(summed)))
        return decode_pairs(pairs, len(distinct))

    # ------------------------------------------------------------------------------------------ same story

    def _idf(self, reps: np.ndarray) -> Future:
        params = self.params
        counts = [self.submit(_document_frequency, prints, self._local(reps, p), params.n_features)
                  for p, prints in enumerate(self.prints)]
        while len(counts) > 1:
            counts = [self.submit(_add, *counts[i : i + 2]) if i + 1 < len(counts) else counts[i]
                      for i in range(0, len(counts), 2)]
        df = self.gather(counts[0])
        idf = Idf(len(reps), df, params.max_df, params.max_df_floor, params.full_idf_docs)
        return self.client.scatter(idf, broadcast=True)

    def _story_links(self, distinct: np.ndarray, days: np.ndarray | None, known: Links) -> Links:
        """:func:`dedup.link.story_links` with the neighbours found block by block."""
        n = self.n
        found = self._neighbours(distinct, days)
        found = found[~np.isin(found[:, 0] * n + found[:, 1], known.codes(n))]
        copies = self._pairs_op("verify", found)
        copies = copies.take(self._credible(copies))
        story = found[~np.isin(found[:, 0] * n + found[:, 1], copies.codes(n))]
        return Links.concat([copies, self._pairs_op("story_overlaps", story)])

    def _neighbours(self, distinct: np.ndarray, days: np.ndarray | None) -> np.ndarray:
        """Owner pairs ``(i, j)``, ``i < j``, sorted: what :func:`dedup.story.neighbours` gives on the
        distinct texts stacked with their windows. Rows are cut into blocks (time-sorted when dated);
        each block is probed against the blocks inside its window for its ``k + m`` best (``m``: the
        most rows one article has), and merged per row by (-cosine, stacked row) without its own rows."""
        params = self.params
        stacked = [self.submit(_stacked_part, prints, vectors, self.idf, self._local(distinct, p),
                               int(self.offsets[p]))
                   for p, (prints, vectors) in enumerate(zip(self.prints, self.vectors, strict=True))]
        windows = self.gather([self.submit(_window_counts, s) for s in stacked])
        n_distinct = len(distinct)
        owners = np.concatenate([distinct] + [w for w in windows])
        # each partition's stacked rows: its distinct articles, then its windows
        part_rows = []
        first_window = n_distinct
        for p in range(self.n_parts):
            lo, hi = np.searchsorted(distinct, self.offsets[p : p + 2])
            part_rows.append(np.concatenate([np.arange(lo, hi), first_window + np.arange(len(windows[p]))]))
            first_window += len(windows[p])
        part_of_row = np.empty(len(owners), dtype=np.int64)
        local_of_row = np.empty(len(owners), dtype=np.int64)
        for p, rows_ in enumerate(part_rows):
            part_of_row[rows_] = p
            local_of_row[rows_] = np.arange(len(rows_))
        extra = int(np.max(np.bincount(owners))) if len(owners) else 1
        times = days[owners] if days is not None else None
        windowed = times is not None and params.window_days is not None and bool(np.isfinite(times).any())
        size = self.partition_size
        if windowed and times is not None:
            order = np.argsort(times, kind="stable")
            dated = int(np.isfinite(times).sum())
            cuts = [order[s : min(s + size, dated)] for s in range(0, dated, size)]
            cuts += [order[s : s + size] for s in range(dated, len(order), size)]
        else:
            cuts = [np.arange(s, min(s + size, len(owners))) for s in range(0, len(owners), size)]
        blocks, spans = [], []
        for cut in cuts:
            rows_ = np.sort(cut)
            pieces = [self.submit(_take_rows, stacked[p], local_of_row[rows_[part_of_row[rows_] == p]])
                      for p in np.unique(part_of_row[rows_])]
            order_in = np.argsort(part_of_row[rows_], kind="stable")
            rows_ = rows_[order_in]  # pieces come partition by partition
            when = times[rows_] if windowed and times is not None else None
            blocks.append(self.submit(_stack_block, pieces, rows_, owners[rows_], when))
            finite = when[np.isfinite(when)] if when is not None else np.empty(0)
            undated = when is None or len(finite) < len(when)
            spans.append((finite.min() if len(finite) else np.inf, finite.max() if len(finite) else -np.inf,
                          undated))
        window = params.window_days if windowed else None
        merged = []
        for r, (lo, hi, undated) in enumerate(spans):
            columns = [c for c, (clo, chi, cundated) in enumerate(spans)
                       if window is None or undated or cundated or (clo <= hi + window and chi >= lo - window)]
            probes = [self.submit(_probe_block, blocks[r], blocks[c], params, window, self.chunk_rows,
                                  params.story_neighbours + extra) for c in columns]
            merged.append(self.submit(_merge_rows, probes, params.story_neighbours, params.story_min_terms))
            self.report("same story", r + 1, len(spans))
        found = [p for p in self.gather(merged) if len(p)]
        return np.unique(np.concatenate(found), axis=0) if found else np.empty((0, 2), dtype=np.int64)

    # ------------------------------------------------------------------------------------------ attribution

    def _attribute(self, labels: np.ndarray, idf: Future | None) -> list[list[Any]]:
        """Passage recurrence counted over every article (a shuffle on the passage key), then
        :func:`dedup.attribution.attribute` on batches of whole clusters and on each partition's
        unclustered articles."""
        params = self.params
        n_buckets = self._buckets()
        self.report("passages", 0, None)
        keyed = [self.submit(_passage_keys, part, labels[self.offsets[p] : self.offsets[p + 1]],
                             int(self.offsets[p]), params, n_buckets) for p, part in enumerate(self.parts)]
        counted = [self.submit(_count_stories, [self.submit(_piece, k, s) for k in keyed]) for s in range(n_buckets)]
        tables = self.gather(counted)
        keys = np.concatenate([t[0] for t in tables])
        order = np.argsort(keys)
        table = self.client.scatter([(keys[order], np.concatenate([t[1] for t in tables])[order])], broadcast=True)[0]
        clusters = groups(labels)
        batch = np.full(self.n, -1, dtype=np.int64)
        load = np.zeros(self.n_parts, dtype=np.int64)
        for members in sorted(clusters, key=lambda m: (-len(m), m[0])):
            target = int(np.argmin(load))
            batch[members] = target
            load[target] += len(members)
        routed = [
            self.submit(_route, part, prints, labels[self.offsets[p] : self.offsets[p + 1]],
                        batch[self.offsets[p] : self.offsets[p + 1]], int(self.offsets[p]), table, idf, params,
                        self.n_parts)
            for p, (part, prints) in enumerate(zip(self.parts, self.prints, strict=True))
        ]
        done = [self.submit(_piece, r, self.n_parts) for r in routed]
        done += [self.submit(_attribute_batch, [self.submit(_piece, r, b) for r in routed], idf, params)
                 for b in range(self.n_parts) if load[b]]
        passages: list[list[Any]] = [[] for _ in range(self.n)]
        for k, (positions, found) in enumerate(self.gather(done)):
            for position, plist in zip(positions, found, strict=True):
                passages[int(position)] = plist
            self.report("passages", k + 1, len(done))
        return passages


# ---------------------------------------------------------------------------------------------- tasks


def _piece(parts: Sequence[Any], index: int) -> Any:
    return parts[index]


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a + b


def _fingerprint_part(articles: list[Article], params: Params) -> Prints:
    """As ``Scanner._fingerprint``: batches of ``batch_size`` texts."""
    size = params.batch_size
    parts = [fingerprint([a.text for a in articles[s : s + size]], params) for s in range(0, len(articles), size)]
    return Prints.concat(parts) if parts else fingerprint([], params)


def _summary(articles: list[Article], prints: Prints) -> tuple[np.ndarray, np.ndarray]:
    """Exact keys and publication days (NaN: undated) of a partition, for the driver."""
    days = _days(articles)
    return prints.exact_keys, days if days is not None else np.full(len(articles), np.nan)


def _route_by(values: np.ndarray, n_buckets: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        mixed = values.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return ((mixed >> np.uint64(33)) % np.uint64(n_buckets)).astype(np.int64)


def _split(bucket: np.ndarray, n_buckets: int, *columns: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(n_buckets + 1))
    return [tuple(c[order[bounds[s] : bounds[s + 1]]] for c in columns) for s in range(n_buckets)]


def _band_rows(prints: Prints, rows: np.ndarray, offset: int, params: Params, n_buckets: int) -> list[Any]:
    """(band, key, position) of the partition's distinct, non-empty texts, split by shuffle partition."""
    lsh = _lsh(params)
    keys, nonempty, _ = lsh._keys(prints.signatures[rows])
    positions = np.repeat(rows[nonempty] + offset, lsh.bands)
    bands = np.tile(np.arange(lsh.bands, dtype=np.int64), len(nonempty))
    flat = keys.ravel()
    with np.errstate(over="ignore"):
        routing = flat ^ (bands.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F))
    return _split(_route_by(routing, n_buckets), n_buckets, bands, flat, positions)


def _bucket_pairs(pieces: list[tuple[np.ndarray, ...]], n_docs: int, params: Params) -> tuple[np.ndarray, list]:
    """The bucket rule of ``BandedLSH.self_join`` on one shuffle partition (whole buckets):
    candidate pair codes ``i * n + j``, sorted, and the oversized buckets."""
    bands = np.concatenate([p[0] for p in pieces])
    keys = np.concatenate([p[1] for p in pieces])
    positions = np.concatenate([p[2] for p in pieces])
    one = _one_band(params)
    codes, oversized = [np.empty(0, np.int64)], []
    for band in np.unique(bands):
        chosen = bands == band
        pairs, big = one.self_join(keys[chosen][:, None], positions[chosen], n_docs)
        codes.append(pairs[:, 0] * n_docs + pairs[:, 1])
        oversized.extend(big)
    return np.unique(np.concatenate(codes)), oversized


def _block_op(op: str, side: list[tuple], offsets: tuple[int, int], payload: Any, params: Params,
              idf: Idf | None) -> Any:
    """One stage on one block of pairs. ``verify`` takes the two partitions' prints as its two
    sides; the other stages take one local scan made of the rows the pairs touch (the stage
    functions are per pair, so the values are those of the whole scan)."""
    import scipy.sparse as sp

    links = payload if isinstance(payload, Links) else None
    pairs = links.pairs if links is not None else np.asarray(payload, dtype=np.int64).reshape(-1, 2)
    if op == "verify":
        shift = np.array(offsets, dtype=np.int64)
        out = verify(side[0][1], side[-1][1], pairs - shift, params)
        return dataclasses.replace(out, pairs=out.pairs + shift)
    if len(side) == 1:
        rows = [np.unique(pairs - offsets[0])]
    else:
        rows = [np.unique(pairs[:, 0] - offsets[0]), np.unique(pairs[:, 1] - offsets[1])]
    prints = Prints.concat([s[1].take(r) for s, r in zip(side, rows, strict=True)])
    position = np.concatenate([r + o for r, o in zip(rows, offsets, strict=False)])  # local row -> global
    local = np.searchsorted(position, pairs)
    if links is not None:
        links = dataclasses.replace(links, pairs=local)
    runs, times = None, None
    if side[0][0] is not None:
        articles = [s[0][int(i)] for s, r in zip(side, rows, strict=True) for i in r]
        runs = SharedRuns([a.text for a in articles], params.winnow_k, params.min_run_words, params.shingle_size)
        times = _days(articles)
    if op == "long_runs":
        assert runs is not None
        out = long_runs(prints, local, runs, params)
    elif op == "story_overlaps":
        overlaps = Overlaps.compute(prints.shingles, prints.shingles, local)
        out = Links.from_overlaps(local, relation.codes(len(local), relation.SAME_STORY), overlaps)
    elif op == "credible":
        assert runs is not None and links is not None
        return credible(links, prints, runs, times, params)
    elif op == "cosines":
        assert links is not None
        vectors = sp.vstack([s[2][r] for s, r in zip(side, rows, strict=True)]).tocsr()
        return with_cosines(links, prints, idf, vectors).cosine
    else:
        raise ValueError(op)
    return dataclasses.replace(out, pairs=position[out.pairs])


def _postings_part(prints: Prints, rows: np.ndarray, ranks: np.ndarray, families: np.ndarray,
                   params: Params) -> Postings:
    """The postings rows of a partition's distinct texts (doc id: rank among all distinct texts)."""
    return Postings.build(prints.passage_prints(rows, params.winnow_k, params.winnow_window), families, ranks)


def _family_rows(postings: Postings, n_buckets: int) -> list[Any]:
    return _split(_route_by(postings.keys, n_buckets), n_buckets, postings.keys, postings.families)


def _common_keys(pieces: list[tuple[np.ndarray, ...]], max_df: int) -> np.ndarray:
    """Fingerprints held by more than ``max_df`` distinct families (whole keys: one shuffle partition)."""
    keys = np.concatenate([p[0] for p in pieces])
    families = np.concatenate([p[1] for p in pieces])
    unique, counts = _distinct_families(keys, families)
    return unique[counts > max_df]


def _edge_rows(postings: Postings, common: np.ndarray, n_buckets: int) -> list[Any]:
    """Rows that are not common, each with the edge rule's flag (computed here: the partition holds
    every row of its documents), split by fingerprint."""
    is_common = np.isin(postings.keys, common)
    edge = _edges(postings, is_common)
    keep = ~is_common
    columns = (postings.keys[keep], postings.docs[keep], postings.families[keep], postings.positions[keep],
               edge[keep])
    return _split(_route_by(columns[0], n_buckets), n_buckets, *columns)


def _bucket_counts(pieces: list[tuple[np.ndarray, ...]], common: np.ndarray, params: Params, n_docs: int,
                   n_buckets: int) -> list[Any]:
    """The bucket rule of ``postings.self_join`` (``_join``) on whole fingerprints: pairs and how many
    fingerprints of this partition they share, split by pair for the sum."""
    keys, docs, families, positions, edge = (np.concatenate([p[f] for p in pieces]) for f in range(5))
    order = np.lexsort((positions, docs, keys))
    rows = Postings(keys[order], docs[order], families[order], positions[order], params.winnow_window)

    def too_common(k: np.ndarray) -> np.ndarray:
        return np.isin(k, common)

    found = _join(rows, None, edge[order], too_common, 1, params.winnow_max_df, params.winnow_max_bucket)
    codes = found.pairs[:, 0] * n_docs + found.pairs[:, 1]
    return _split(_route_by(codes, n_buckets), n_buckets, codes, found.shared)


def _sum_counts(pieces: list[tuple[np.ndarray, ...]], min_shared: int) -> np.ndarray:
    codes = np.concatenate([p[0] for p in pieces])
    counts = np.concatenate([p[1] for p in pieces])
    unique, where = np.unique(codes, return_inverse=True)
    total = np.bincount(where.ravel(), weights=counts, minlength=len(unique))
    return unique[total >= min_shared]


def _document_frequency(prints: Prints, rows: np.ndarray, n_features: int) -> np.ndarray:
    assert prints.terms is not None
    return np.bincount(prints.terms[rows].indices, minlength=n_features).astype(np.int64)


def _transform(idf: Idf, prints: Prints) -> Any:
    assert prints.terms is not None
    return idf.transform(prints.terms)


def _stacked_part(prints: Prints, vectors: Any, idf: Idf, rows: np.ndarray, offset: int) -> tuple[Any, np.ndarray]:
    """As ``story_links`` stacks them: the vectors of the partition's distinct articles, then those
    of their windows; and the owner (global position) of each window."""
    import scipy.sparse as sp

    window_rows = prints.window_rows().take(rows)
    stacked = vectors[rows]
    if prints.windows is not None and len(window_rows.values):
        stacked = sp.vstack([stacked, idf.transform(prints.windows[window_rows.values])]).tocsr()
    return stacked, rows[window_rows.row_ids()] + offset


def _window_counts(stacked: tuple[Any, np.ndarray]) -> np.ndarray:
    return stacked[1]


def _take_rows(stacked: tuple[Any, np.ndarray], rows: np.ndarray) -> Any:
    return stacked[0][rows]


def _stack_block(pieces: list[Any], rows: np.ndarray, owners: np.ndarray, when: np.ndarray | None) -> tuple:
    """A block of stacked rows, re-ordered by stacked row number (ties go to the lowest)."""
    import scipy.sparse as sp

    order = np.argsort(rows, kind="stable")
    return sp.vstack(pieces).tocsr()[order], rows[order], owners[order], when[order] if when is not None else None


def _probe_block(
    rows: tuple[Any, ...], columns: tuple[Any, ...], params: Params, window: float | None, chunk_rows: int, k: int
) -> tuple:
    """Each row's ``k`` best columns of one block (its own article's rows among them), ties to the
    lowest stacked row (columns are in that order), with shared-term counts.

    With a window, rows go in time order, ``chunk_rows`` at a time, each chunk against
    only the columns inside its window (and the undated ones), as the local kernel does."""
    assert params.same_story is not None
    vectors, stacked, owners, when = rows
    column_vectors, column_stacked, column_owners, column_when = columns
    if window is None or when is None or column_when is None:
        chunks = [np.arange(len(stacked))]
    else:
        order = np.argsort(when, kind="stable")
        chunks = [order[s : s + chunk_rows] for s in range(0, len(order), chunk_rows)]
    found = []
    for chunk in chunks:
        if len(chunks) > 1 and np.isfinite(when[chunk]).all():
            inside = np.isnan(column_when) | ((column_when >= when[chunk].min() - window)
                                              & (column_when <= when[chunk].max() + window))
            chosen = np.flatnonzero(inside)
        else:
            chosen = np.arange(len(column_stacked))
        left, right = vectors[chunk], column_vectors[chosen]
        pairs, scores = probe_neighbours(
            left, when[chunk] if when is not None else None, right,
            column_when[chosen] if column_when is not None else None, k=k,
            min_cosine=params.same_story, window_days=window, min_shared_terms=0,
        )
        shared = shared_terms(left, right, pairs)
        r, c = chunk[pairs[:, 0]], chosen[pairs[:, 1]]
        found.append((stacked[r], column_stacked[c], owners[r], column_owners[c], scores, shared))
    return tuple(np.concatenate([f[i] for f in found]) for i in range(6))


def _merge_rows(probes: list[tuple], k: int, min_shared: int) -> np.ndarray:
    """Per row, the ``k`` best columns of other articles over all blocks by (-cosine, stacked row),
    those sharing enough terms, as sorted unique owner pairs ``(i, j)``, ``i < j``."""
    rows, columns, owners, column_owners, scores, shared = (np.concatenate([p[f] for p in probes])
                                                            for f in range(6))
    other = owners != column_owners
    rows, columns, owners, column_owners, scores, shared = (
        x[other] for x in (rows, columns, owners, column_owners, scores, shared))
    best = best_per_row(rows, columns, scores, k)
    keep = best[shared[best] >= min_shared]
    pairs = np.sort(np.stack([owners[keep], column_owners[keep]], axis=1), axis=1).astype(np.int64).reshape(-1, 2)
    return np.unique(pairs, axis=0)


def _passage_texts(article: Article, params: Params) -> list[str]:
    return [article.text[s:e] for s, e in segment(article.text, params.max_passage_chars)]


def _passage_keys(articles: list[Article], labels: np.ndarray, offset: int, params: Params, n_buckets: int) -> list:
    """Distinct (passage key, story) of a partition, split by shuffle partition (as ``_recurring``:
    a story is a cluster, or an unclustered article alone)."""
    keys: list[int] = []
    stories: list[int] = []
    for index, article in enumerate(articles):
        texts = _passage_texts(article, params)
        keys.extend(_passage_key(article.outlet, text) for text in texts)
        story = int(labels[index]) if labels[index] >= 0 else -1 - (offset + index)
        stories.extend([story] * len(texts))
    pairs = np.stack([np.array(keys, dtype=np.uint64).view(np.int64), np.array(stories, dtype=np.int64)],
                     axis=1).reshape(-1, 2)
    pairs = np.unique(pairs, axis=0)
    return _split(_route_by(pairs[:, 0], n_buckets), n_buckets, pairs[:, 0], pairs[:, 1])


def _count_stories(pieces: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """Keys met in two or more stories, and in how many."""
    pairs = np.unique(np.stack([np.concatenate([p[0] for p in pieces]), np.concatenate([p[1] for p in pieces])],
                               axis=1).reshape(-1, 2), axis=0)
    keys, counts = np.unique(pairs[:, 0], return_counts=True)
    return keys[counts >= 2], counts[counts >= 2]


def _recurrence(article: Article, table: tuple[np.ndarray, np.ndarray], params: Params) -> np.ndarray:
    """Which passages recur in the outlet's other stories: two stories with the outlet known, three without."""
    keys, counts = table
    mine = np.array([_passage_key(article.outlet, t) for t in _passage_texts(article, params)],
                    dtype=np.uint64).view(np.int64)
    at = np.minimum(np.searchsorted(keys, mine), max(len(keys) - 1, 0))
    stories = np.where(keys[at] == mine, counts[at], 1) if len(keys) else np.ones(len(mine), np.int64)
    return stories >= (2 if article.outlet is not None else 3)


def _route(
    articles: list[Article], prints: Prints, labels: np.ndarray, batch: np.ndarray, offset: int,
    table: tuple[np.ndarray, np.ndarray], idf: Idf | None, params: Params, n_batches: int,
) -> list[Any]:
    """A partition's clustered articles sent to their batch (with shingle sets and recurrence);
    the last item: the passages of its unclustered articles, attributed here."""
    recurring = [_recurrence(a, table, params) for a in articles]
    out: list[Any] = []
    for b in range(n_batches):
        rows = np.flatnonzero(batch == b)
        out.append((rows + offset, [articles[r] for r in rows], prints.shingles.take(rows), labels[rows],
                    [recurring[r] for r in rows]))
    alone = np.flatnonzero(batch < 0)
    found: list[Any] = []
    if len(alone):
        found = attribute([articles[r] for r in alone], prints.shingles.take(alone), np.full(len(alone), -1), idf,
                          params, recurring=[recurring[r] for r in alone])
    out.append((alone + offset, found))
    return out


def _attribute_batch(pieces: list[tuple], idf: Idf | None, params: Params) -> tuple[np.ndarray, list]:
    """``attribute`` on whole clusters gathered from every partition, in position (id) order."""
    positions = np.concatenate([p[0] for p in pieces])
    order = np.argsort(positions, kind="stable")
    articles = [a for p in pieces for a in p[1]]
    recurring = [r for p in pieces for r in p[4]]
    shingles = Ragged.concat([p[2] for p in pieces]).take(order)
    labels = np.concatenate([p[3] for p in pieces])[order]
    found = attribute([articles[i] for i in order], shingles, labels, idf, params,
                      recurring=[recurring[i] for i in order])
    return positions[order], found


# ---------------------------------------------------------------------------------------------- parquet


def write_parquet(result: ScanResult, folder: str | Path, rows_per_file: int = 100_000) -> list[str]:
    """The result as partitioned Parquet: ``pairs/``, ``clusters/`` and ``sections/`` (the added
    sections of every article, one row each), ``part-NNNNN.parquet`` files of ``rows_per_file`` rows.
    Returns the files written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(folder)
    tables: dict[str, list[dict[str, Any]]] = {
        "pairs": [dataclasses.asdict(p) for p in result.pairs],
        "clusters": [
            {"id": c.id, "members": c.members, "origin": c.origin, "size": len(c.members),
             "relations": [f"{k}={v}" for k, v in sorted(c.relations.items())]}
            for c in result.clusters
        ],
        "sections": [
            {"article": a.id, "cluster": a.cluster, "rank": rank, "label": s.label, "score": s.score,
             "start": s.start, "end": s.end, "text": s.text}
            for a in result.articles for rank, s in enumerate(a.added_sections)
        ],
    }
    written = []
    for name, rows in tables.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for old in (root / name).glob("part-*.parquet"):
            old.unlink()
        for number, start in enumerate(range(0, max(len(rows), 1), rows_per_file)):
            chunk = rows[start : start + rows_per_file]
            if not chunk and number:
                break
            path = root / name / f"part-{number:05d}.parquet"
            table = pa.Table.from_pylist(chunk) if chunk else pa.table({})
            pq.write_table(table, path)
            written.append(str(path))
    return written
