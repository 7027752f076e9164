"""Fixtures of the speed benchmarks: the same texts for every stage, real and synthetic.

Environment variables:

``DEDUP_DATA``
    The shared data folder (default ``<repo>/../shared/data``). Benchmarks on a
    data set that is not there are skipped with a message; the synthetic corpus
    needs nothing.
``DEDUP_BENCH_N``
    Articles per corpus (default 2000): the first N non-empty records of a data
    set, or N synthetic articles.
``DEDUP_BENCH_DATASETS``
    Comma-separated corpora to run (default ``reuters,synthetic``; ``bbc`` is
    also known).
``DEDUP_BENCH_SLOW_ROUNDS``
    Rounds of the slow benchmarks (full scans, pure-Python baselines; default 1).

The shared data is read in place; nothing is copied into the repository (the
loading benchmark writes its JSONL sample to pytest's temporary folder).
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from bench_corpora import Corpus, data_dir, iter_records, read_articles, synthetic_articles

N_ARTICLES = int(os.environ.get("DEDUP_BENCH_N", "2000"))
SLOW_ROUNDS = int(os.environ.get("DEDUP_BENCH_SLOW_ROUNDS", "1"))
DATASETS = [d.strip() for d in os.environ.get("DEDUP_BENCH_DATASETS", "reuters,synthetic").split(",") if d.strip()]
_FILES = {
    "reuters": "reuters21578/documents.jsonl",
    "bbc": "bbc_news_fulltext/documents.jsonl",
}


def _shared_corpus(name: str) -> Corpus:
    path = data_dir() / _FILES[name]
    if not path.is_file():
        pytest.skip(f"{name}: {path} not found (set DEDUP_DATA to the shared data folder)")
    records = []
    for record in iter_records(path):
        records.append(record)
        if len(records) >= N_ARTICLES:
            break
    return Corpus(name, read_articles(path, limit=N_ARTICLES), records)


def _synthetic_corpus() -> Corpus:
    articles = synthetic_articles(N_ARTICLES)
    records = [
        {"id": a.id, "text": a.text, "title": a.title, "outlet": a.outlet, "published": a.published.isoformat()}
        for a in articles
        if a.published is not None
    ]
    return Corpus("synthetic", articles, records)


_CORPORA: dict[str, Corpus] = {}


def _corpus(name: str) -> Corpus:
    if name not in _CORPORA:
        if name == "synthetic":
            _CORPORA[name] = _synthetic_corpus()
        elif name in _FILES:
            _CORPORA[name] = _shared_corpus(name)
        else:
            raise pytest.UsageError(f"DEDUP_BENCH_DATASETS: unknown corpus {name!r}")
    return _CORPORA[name]


@pytest.fixture(scope="session")
def reuters_corpus() -> Corpus:
    """The first N non-empty Reuters-21578 articles (skips when the data is absent)."""
    return _corpus("reuters")


@pytest.fixture(scope="session")
def bbc_corpus() -> Corpus:
    """The first N BBC News articles (skips when the data is absent)."""
    return _corpus("bbc")


@pytest.fixture(scope="session")
def synthetic_corpus() -> Corpus:
    """N seeded synthetic news articles with 10 % near-duplicate copies."""
    return _corpus("synthetic")


@pytest.fixture(scope="session", params=DATASETS)
def dataset(request: pytest.FixtureRequest) -> Corpus:
    """Each corpus of ``DEDUP_BENCH_DATASETS`` in turn."""
    return _corpus(request.param)


@pytest.fixture(scope="session")
def slow_rounds() -> int:
    return SLOW_ROUNDS


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    """Record which dedup code was timed (the package may be edited while benchmarks run)."""
    import hashlib

    import dedup

    package = Path(dedup.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    machine_info["dedup"] = {"path": str(package), "sources_sha256": digest.hexdigest()[:16]}
    if hasattr(os, "getloadavg"):
        machine_info["loadavg_at_start"] = [round(v, 2) for v in os.getloadavg()]


@pytest.hookimpl(tryfirst=True)
def pytest_benchmark_group_stats(config: Any, benchmarks: list[Any], group_by: str) -> Any:
    """With the default ``--benchmark-group-by=group``, keep corpora apart: one table per
    (group, dataset), so the "min" column compares like with like."""
    if group_by != "group":
        return None
    groups: dict[str, list[Any]] = defaultdict(list)
    for bench in benchmarks:
        dataset = (bench["params"] or {}).get("dataset")
        groups[f"{bench['group']} [{dataset}]" if dataset else str(bench["group"])].append(bench)
    for members in groups.values():
        members.sort(key=lambda b: b["name"])
    return sorted(groups.items())
