"""The scan on a Dask cluster: the same stage functions, run on partitions.

``pip install 'dedup[dask]'``. :class:`DaskScanner` is a second driver beside
:class:`~dedup.pipeline.Scanner`: it holds no maths of its own, it calls the
stage functions (:func:`~dedup.fingerprint.fingerprint`,
:meth:`~dedup.candidates.BandedLSH.self_join`, :func:`~dedup.link.verify`,
:func:`~dedup.link.representatives`, :class:`~dedup.story.Idf`,
:func:`~dedup.story.probe_neighbours`, :func:`~dedup.cluster.cluster_links`,
:func:`~dedup.attribution.attribute`, :func:`~dedup.assemble.assemble`) on
partitions of articles held by the workers, and its result is the local
engine's, to the byte (``to_dict()`` equal except ``stats.seconds``).

Articles are put in id order first and cut into contiguous partitions, so a
global position is the partition's offset plus the row: every tie the stages
break by position is broken as in the local scan. Stages:

1. fingerprints per partition (kept on the workers);
2. exact copies from the exact keys (driver: 16 bytes an article);
3. band keys of distinct texts shuffled on ``(band, key)``; in each shuffle
   partition the bucket rule of ``BandedLSH.self_join`` (oversized buckets give
   star pairs) -> candidate pairs, split by the pair of article partitions;
4. verification of each block of pairs on the two partitions' prints;
5. representatives on the driver from the verbatim links, document frequencies
   as a sum of per-partition bincounts, the IDF broadcast;
6. same-story neighbours: distinct texts in blocks (time-sorted when dated),
   each block of rows against the blocks of columns inside its window (all of
   them when undated), top-``k`` with the id tie-break, merged per row;
7. clustering on the driver (``cluster_links``, the same guarded clustering);
8. passage recurrence (boilerplate) counted over all articles by a shuffle on
   the passage key, then attribution per batch of whole clusters;
9. ``assemble`` on the driver.
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
from .assemble import assemble
from .attribution import _passage_key, attribute, groups, provenance
from .candidates import BandedLSH, decode_pairs
from .cluster import cluster_links
from .fingerprint import Prints, fingerprint
from .link import Copies, Links, collapsed_groups, exact_pairs, expand, representatives, verify
from .load import DEFAULT_MAX_BYTES, LoadError, _jsonl_records, _record_article, iter_articles
from .params import Params
from .passages import segment
from .pipeline import _collect, _days
from .ragged import Ragged
from .result import ScanResult
from .story import Idf, probe_neighbours, row_cosines, shared_terms

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
    """

    def __init__(
        self,
        params: Params | None = None,
        client: Any = None,
        *,
        partition_size: int = 5000,
        max_bytes: int = DEFAULT_MAX_BYTES,
        **overrides: Any,
    ) -> None:
        base = params or Params()
        self.params = base.replace(**overrides) if overrides else base
        if partition_size < 1:
            raise ValueError(f"partition_size must be a positive int, got {partition_size!r}")
        self.client = client
        self.partition_size = partition_size
        self.max_bytes = max_bytes

    def get_params(self) -> dict[str, Any]:
        return self.params.to_dict()

    def scan(self, source: str | Path | Iterable[Article | Skipped], progress: Progress | None = None) -> ScanResult:
        """Scan a folder or file (read by :func:`dedup.load.iter_articles`), partitioned JSONL/Parquet
        (a glob, a folder of ``.parquet`` files or any fsspec URL: each worker reads its own files),
        or an iterable of articles. Returns the local engine's :class:`ScanResult`."""
        client, owned = _client(self.client)
        try:
            return _Run(client, self.params, self.partition_size, progress).scan(
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

    def __init__(self, client: Any, params: Params, partition_size: int, progress: Progress | None) -> None:
        self.client = client
        self.params = params
        self.partition_size = partition_size
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
        links = Links.concat([self._verify(exact), expand(found, copies, params.max_exact_group)])
        collapsed = collapsed_groups(n, links, [*capped, *oversized])
        timings["verbatim"] = time.perf_counter() - clock

        clock = time.perf_counter()
        idf_future = None
        if params.same_story is not None:
            self.report("same story", 0, None)
            idf_future = self._idf(representatives(n, links))
            self.vectors = [self.submit(_transform, idf_future, prints) for prints in self.prints]
            story = self._story_links(copies.distinct, days, found)
            links = Links.concat([links, expand(story, copies, params.max_exact_group)])
            links = links.with_cosine(self._cosines(links))
        timings["same_story"] = time.perf_counter() - clock

        clock = time.perf_counter()
        self.report("cluster", 0, None)
        labels = cluster_links(n, links, params.min_density, collapsed)
        timings["cluster"] = time.perf_counter() - clock

        clock = time.perf_counter()
        passages = self._attribute(labels, idf_future) if params.passages else [[] for _ in articles]
        timings["passages"] = time.perf_counter() - clock
        result = assemble(articles, skipped, links, labels, passages, *provenance(articles, passages, labels, links))
        result.stats["seconds"] = {k: round(v, 3) for k, v in timings.items()}
        result.stats["lsh_candidates"] = n_candidates
        result.stats["capped_exact_groups"] = [[articles[m].id for m in group] for group in capped]
        result.stats["oversized_buckets"] = len(oversized)
        result.stats["collapsed_groups"] = [[articles[m].id for m in group] for group in collapsed]
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

    # ------------------------------------------------------------------------------------------ verbatim

    def _verbatim(self, copies: Copies) -> tuple[Links, list[np.ndarray], int]:
        """LSH candidates among distinct texts: band keys shuffled on (band, key), the bucket rule
        in each shuffle partition, each block of pairs verified on its two partitions' prints."""
        n_buckets = self._buckets()
        rows = [self.submit(_band_rows, prints, self._local(copies.distinct, p), int(self.offsets[p]),
                            self.params, n_buckets) for p, prints in enumerate(self.prints)]
        buckets = [
            self.submit(_bucket_pairs, [self.submit(_piece, r, s) for r in rows], self.n, self.offsets, self.params)
            for s in range(n_buckets)
        ]
        described = self.gather([self.submit(_describe_buckets, b) for b in buckets])
        distinct_groups = {g.tobytes(): g for _, big in described for g in big}
        oversized = [distinct_groups[k] for k in sorted(distinct_groups)]
        blocks = sorted({block for sizes, _ in described for block in sizes})
        verified = [
            self.submit(_verify_block, self.prints[block // self.n_parts], self.prints[block % self.n_parts],
                        [self.submit(_block_codes, b, block) for b, (sizes, _) in zip(buckets, described, strict=True)
                         if block in sizes],
                        self._offset_pair(block), self.n, self.params)
            for block in blocks
        ]
        results = self.gather(verified)
        found = Links.concat([links for links, _ in results]).canonical()
        return found, oversized, int(sum(c for _, c in results))

    def _offset_pair(self, block: int) -> tuple[int, int]:
        return int(self.offsets[block // self.n_parts]), int(self.offsets[block % self.n_parts])

    def _blocks(self, pairs: np.ndarray) -> dict[int, np.ndarray]:
        """Indices of the pairs in each block (partition of i, partition of j)."""
        block = self._part_of(pairs[:, 0]) * self.n_parts + self._part_of(pairs[:, 1])
        order = np.argsort(block, kind="stable")
        bounds = np.flatnonzero(np.diff(block[order])) + 1
        return {int(block[g[0]]): g for g in np.split(order, bounds)} if len(order) else {}

    def _verify(self, pairs: np.ndarray) -> Links:
        """``verify`` of pairs known on the driver, block by block; links in pair order."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        futures = [
            self.submit(_verify_block, self.prints[block // self.n_parts], self.prints[block % self.n_parts],
                        [pairs[index, 0] * self.n + pairs[index, 1]], self._offset_pair(block), self.n, self.params)
            for block, index in self._blocks(pairs).items()
        ]
        return Links.concat([links for links, _ in self.gather(futures)]).canonical()

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
        params = self.params
        assert params.same_story is not None
        found = self._neighbours(distinct, days)
        n = self.n
        found = found[~np.isin(found[:, 0] * n + found[:, 1], known.codes(n))]
        copies = self._verify(found)
        story = found[~np.isin(found[:, 0] * n + found[:, 1], copies.codes(n))]
        zeros = np.zeros(len(story))
        same_story = Links(story, relation.codes(len(story), relation.SAME_STORY), zeros, zeros, zeros, zeros, zeros)
        return Links.concat([copies, same_story])

    def _neighbours(self, distinct: np.ndarray, days: np.ndarray | None) -> np.ndarray:
        """Pairs ``(i, j)``, ``i < j``, sorted: what :func:`dedup.story.neighbours` gives on the distinct
        texts. Blocks of rows are time-sorted when dated; each is probed against the blocks inside
        its window for its ``k + 1`` best (itself among them), merged per row by (-cosine, id)."""
        params = self.params
        times = days[distinct] if days is not None else None
        windowed = times is not None and params.window_days is not None and bool(np.isfinite(times).any())
        size = self.partition_size
        if windowed and times is not None:
            order = np.argsort(times, kind="stable")
            dated = int(np.isfinite(times).sum())
            cuts = [order[s : min(s + size, dated)] for s in range(0, dated, size)]
            cuts += [order[s : s + size] for s in range(dated, len(order), size)]
        else:
            cuts = [np.arange(s, min(s + size, len(distinct))) for s in range(0, len(distinct), size)]
        blocks, spans = [], []
        for cut in cuts:
            positions = np.sort(distinct[cut])
            pieces = [self.submit(_take_vectors, self.vectors[p], self._local(positions, p))
                      for p in np.unique(self._part_of(positions))]
            when = days[positions] if windowed and days is not None else None
            blocks.append(self.submit(_stack_block, pieces, positions, when))
            finite = when[np.isfinite(when)] if when is not None else np.empty(0)
            undated = when is None or len(finite) < len(when)
            spans.append((finite.min() if len(finite) else np.inf, finite.max() if len(finite) else -np.inf,
                          undated))
        window = params.window_days if windowed else None
        merged = []
        for r, (lo, hi, undated) in enumerate(spans):
            columns = [c for c, (clo, chi, cundated) in enumerate(spans)
                       if window is None or undated or cundated or (clo <= hi + window and chi >= lo - window)]
            probes = [self.submit(_probe_block, blocks[r], blocks[c], params, window) for c in columns]
            merged.append(self.submit(_merge_rows, probes, params.story_neighbours, params.story_min_terms))
            self.report("same story", r + 1, len(spans))
        found = [p for p in self.gather(merged) if len(p)]
        return np.unique(np.concatenate(found), axis=0) if found else np.empty((0, 2), dtype=np.int64)

    def _cosines(self, links: Links) -> np.ndarray:
        """:func:`dedup.link.with_cosines`: each pair's cosine, block by block."""
        cosine = np.zeros(len(links))
        blocks = self._blocks(links.pairs)
        futures = [
            self.submit(_cosine_block, self.vectors[block // self.n_parts], self.vectors[block % self.n_parts],
                        links.pairs[index] - np.array(self._offset_pair(block)))
            for block, index in blocks.items()
        ]
        for index, values in zip(blocks.values(), self.gather(futures), strict=True):
            cosine[index] = values
        return cosine

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


def _bucket_pairs(
    pieces: list[tuple[np.ndarray, ...]], n_docs: int, offsets: np.ndarray, params: Params
) -> tuple[dict[int, np.ndarray], list[np.ndarray]]:
    """The bucket rule of ``BandedLSH.self_join`` on one shuffle partition (whole buckets):
    candidate pair codes by block, and the oversized buckets."""
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
    merged = np.unique(np.concatenate(codes))
    n_parts = len(offsets) - 1
    pairs = decode_pairs(merged, n_docs)
    block = (np.searchsorted(offsets, pairs[:, 0], side="right") - 1) * n_parts + (
        np.searchsorted(offsets, pairs[:, 1], side="right") - 1)
    order = np.argsort(block, kind="stable")
    bounds = np.flatnonzero(np.diff(block[order])) + 1
    by_block = {int(block[g[0]]): merged[g] for g in np.split(order, bounds)} if len(order) else {}
    return by_block, oversized


def _describe_buckets(result: tuple[dict[int, np.ndarray], list[np.ndarray]]) -> tuple[set[int], list[np.ndarray]]:
    return set(result[0]), result[1]


def _block_codes(result: tuple[dict[int, np.ndarray], list[np.ndarray]], block: int) -> np.ndarray:
    return result[0][block]


def _verify_block(
    left: Prints, right: Prints, pieces: list[np.ndarray], offsets: tuple[int, int], n_docs: int, params: Params
) -> tuple[Links, int]:
    """``verify`` of one block of pairs (global codes ``i * n + j``) on its two partitions' prints."""
    codes = np.unique(np.concatenate(pieces)) if pieces else np.empty(0, np.int64)
    shift = np.array(offsets, dtype=np.int64)
    links = verify(left, right, decode_pairs(codes, n_docs) - shift, params)
    return dataclasses.replace(links, pairs=links.pairs + shift), len(codes)


def _document_frequency(prints: Prints, rows: np.ndarray, n_features: int) -> np.ndarray:
    assert prints.terms is not None
    return np.bincount(prints.terms[rows].indices, minlength=n_features).astype(np.int64)


def _transform(idf: Idf, prints: Prints) -> Any:
    assert prints.terms is not None
    return idf.transform(prints.terms)


def _take_vectors(vectors: Any, rows: np.ndarray) -> Any:
    return vectors[rows]


def _stack_block(pieces: list[Any], positions: np.ndarray, when: np.ndarray | None) -> tuple[Any, ...]:
    import scipy.sparse as sp

    return sp.vstack(pieces).tocsr(), positions, when


def _probe_block(rows: tuple[Any, ...], columns: tuple[Any, ...], params: Params, window: float | None) -> tuple:
    """Each row's ``k + 1`` best columns of one block (the row itself may be one of them),
    ties to the lowest position (columns are in position order), with shared-term counts."""
    assert params.same_story is not None
    vectors, positions, when = rows
    column_vectors, column_positions, column_when = columns
    pairs, scores = probe_neighbours(
        vectors, when, column_vectors, column_when, k=params.story_neighbours + 1, min_cosine=params.same_story,
        window_days=window, min_shared_terms=0,
    )
    shared = shared_terms(vectors, column_vectors, pairs)
    return positions[pairs[:, 0]], column_positions[pairs[:, 1]], scores, shared


def _merge_rows(probes: list[tuple], k: int, min_shared: int) -> np.ndarray:
    """Per row, the ``k`` best other columns over all blocks by (-cosine, position), those sharing
    enough terms, as sorted unique pairs ``(i, j)``, ``i < j``."""
    rows, columns, scores, shared = (np.concatenate([p[f] for p in probes]) for f in range(4))
    other = rows != columns
    rows, columns, scores, shared = rows[other], columns[other], scores[other], shared[other]
    order = np.lexsort((columns, -scores, rows))
    rows, columns, shared = rows[order], columns[order], shared[order]
    start = np.searchsorted(rows, rows, side="left")
    keep = (np.arange(len(rows)) - start < k) & (shared >= min_shared)
    pairs = np.sort(np.stack([rows[keep], columns[keep]], axis=1), axis=1).astype(np.int64).reshape(-1, 2)
    return np.unique(pairs, axis=0)


def _cosine_block(left: Any, right: Any, pairs: np.ndarray) -> np.ndarray:
    return row_cosines(left, right, pairs)


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
