"""The persistent index: ``add_many`` throughput and ``query`` latency (p50, p99), SQLite and PostgreSQL.

Corpora: Reuters-21578 (19,779 stories; 500 of them, every 40th, are held out as
queries and the rest indexed) and 100,000 synthetic articles from
``bench_corpora.synthetic_articles`` (500 more generated with them are the
queries). Each index is built once per session (``add_many`` in publication order,
as a stream arrives, batches of 1,000: timed as one round) and then queried with every held-out article (one round per
query, after one untimed pass over the queries in a fresh process: the latency of a
long-running application; the first pass is reported as ``cold_p50_ms``/``cold_p99_ms``).
``extra_info`` holds articles/s, p50/p99 in ms and the index size.

Environment variables:

``DEDUP_BENCH_INDEX``
    Corpora (default ``reuters,synthetic``); ``DEDUP_BENCH_INDEX_N`` sets the
    synthetic size (default 100000).
``DEDUP_BENCH_INDEX_BACKENDS``
    ``sqlite,postgresql`` by default; PostgreSQL needs ``DEDUP_BENCH_POSTGRES_URL``
    or ``DEDUP_TEST_POSTGRES_URL`` (each corpus in its own schema ``bench_<corpus>``,
    dropped first) and is skipped without it.

Run: ``.venv/bin/pytest benchmarks/test_bench_index.py --benchmark-only``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bench_corpora import data_dir, read_articles, synthetic_articles

from dedup import Article, Index

CORPORA = [c.strip() for c in os.environ.get("DEDUP_BENCH_INDEX", "reuters,synthetic").split(",") if c.strip()]
BACKENDS = [b.strip() for b in os.environ.get("DEDUP_BENCH_INDEX_BACKENDS", "sqlite,postgresql").split(",")
            if b.strip()]
SYNTHETIC_N = int(os.environ.get("DEDUP_BENCH_INDEX_N", "100000"))
POSTGRES_URL = os.environ.get("DEDUP_BENCH_POSTGRES_URL") or os.environ.get("DEDUP_TEST_POSTGRES_URL", "")
QUERIES = 500
BATCH = 1000

_CORPORA: dict[str, tuple[list[Article], list[Article]]] = {}
_BUILT: dict[tuple[str, str], tuple[str, float]] = {}


def _corpus(name: str) -> tuple[list[Article], list[Article]]:
    """(indexed, queries) of a corpus."""
    if name not in _CORPORA:
        if name == "reuters":
            path = data_dir() / "reuters21578" / "documents.jsonl"
            if not path.is_file():
                pytest.skip(f"reuters: {path} not found (set DEDUP_DATA to the shared data folder)")
            articles = read_articles(path)
            held = set(range(0, len(articles), max(1, len(articles) // QUERIES))[:QUERIES])
            _CORPORA[name] = ([a for i, a in enumerate(articles) if i not in held],
                              [a for i, a in enumerate(articles) if i in held])
        elif name == "synthetic":
            articles = synthetic_articles(SYNTHETIC_N + QUERIES)
            rng = np.random.default_rng(7)
            held = set(rng.choice(len(articles), QUERIES, replace=False).tolist())
            _CORPORA[name] = ([a for i, a in enumerate(articles) if i not in held],
                              [a for i, a in enumerate(articles) if i in held])
        else:
            raise pytest.UsageError(f"DEDUP_BENCH_INDEX: unknown corpus {name!r}")
        indexed, queries = _CORPORA[name]
        indexed.sort(key=_stream_order)  # a news stream arrives in publication order
        _CORPORA[name] = (indexed, queries)
    return _CORPORA[name]


def _stream_order(article: Article) -> tuple[float, str]:
    return (article.published.timestamp() if article.published else float("inf"), article.id)


def _url(backend: str, tmp: Path, name: str) -> str:
    if backend == "sqlite":
        path = tmp / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return str(path)
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL: set DEDUP_BENCH_POSTGRES_URL (or DEDUP_TEST_POSTGRES_URL)")
    import psycopg

    schema = f"bench_{name}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.execute(f"CREATE SCHEMA {schema}")
    return f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"


def _build(name: str, backend: str, tmp: Path) -> tuple[str, float]:
    url = _url(backend, tmp, name)
    indexed, _ = _corpus(name)
    clock = time.perf_counter()
    with Index(url) as index:
        index.add_many(indexed, batch_size=BATCH)
    return url, time.perf_counter() - clock


@pytest.fixture(scope="session")
def index_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.benchmark(group="index add_many")
def test_index_add_many(benchmark: Any, corpus: str, backend: str, index_folder: Path) -> None:
    indexed, _ = _corpus(corpus)
    if backend == "postgresql" and not POSTGRES_URL:
        pytest.skip("PostgreSQL: set DEDUP_BENCH_POSTGRES_URL (or DEDUP_TEST_POSTGRES_URL)")

    def build() -> None:
        _BUILT[(corpus, backend)] = _build(corpus, backend, index_folder)

    benchmark.pedantic(build, rounds=1, iterations=1)
    url, seconds = _BUILT[(corpus, backend)]
    with Index(url) as index:
        stats = index.stats()
    benchmark.extra_info.update({
        "articles": len(indexed), "seconds": round(seconds, 1), "articles_per_s": round(len(indexed) / seconds),
        "index_bytes": stats["bytes"], "links": stats["links"],
    })


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.benchmark(group="index query")
def test_index_query(benchmark: Any, corpus: str, backend: str, index_folder: Path) -> None:
    """``query``: matches, clustering, attribution of the query's cluster."""
    _query(benchmark, corpus, backend, index_folder, passages=True)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.benchmark(group="index query, matches only")
def test_index_quick_check(benchmark: Any, corpus: str, backend: str, index_folder: Path) -> None:
    """``query(passages=False)``: the matches only."""
    _query(benchmark, corpus, backend, index_folder, passages=False)


def _query(benchmark: Any, corpus: str, backend: str, index_folder: Path, passages: bool) -> None:
    _, queries = _corpus(corpus)
    if (corpus, backend) not in _BUILT:
        if backend == "postgresql" and not POSTGRES_URL:
            pytest.skip("PostgreSQL: set DEDUP_BENCH_POSTGRES_URL (or DEDUP_TEST_POSTGRES_URL)")
        _BUILT[(corpus, backend)] = _build(corpus, backend, index_folder)
    url, _ = _BUILT[(corpus, backend)]
    matched = []
    with Index(url) as index:
        cold = []
        for article in queries:  # a fresh process: document frequencies and term rows read from the store
            clock = time.perf_counter()
            index.query(article, passages=passages)
            cold.append((time.perf_counter() - clock) * 1000.0)
        cycle = iter(range(1 << 30))

        def next_query() -> tuple[tuple[Article], dict[str, Any]]:
            return (queries[next(cycle) % len(queries)],), {}

        def run(article: Article) -> None:
            matched.append(len(index.query(article, passages=passages)))

        benchmark.pedantic(run, setup=next_query, rounds=len(queries), iterations=1)
        size = len(index)
    data = getattr(getattr(getattr(benchmark, "stats", None), "stats", None), "data", None)
    if data:
        times = np.array(data) * 1000.0
        benchmark.extra_info.update({
            "index_articles": size, "p50_ms": round(float(np.percentile(times, 50)), 2),
            "p99_ms": round(float(np.percentile(times, 99)), 2), "max_ms": round(float(times.max()), 2),
            "queries_with_matches": int(sum(m > 0 for m in matched)), "queries": len(queries),
            "cold_p50_ms": round(float(np.percentile(cold, 50)), 2),
            "cold_p99_ms": round(float(np.percentile(cold, 99)), 2),
        })
