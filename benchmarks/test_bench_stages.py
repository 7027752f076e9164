"""Speed of each stage of the scan, and of the datasketch code a user would write by hand.

Every stage runs on the same texts (``dataset``: the first ``DEDUP_BENCH_N``
Reuters articles and as many synthetic ones) and is timed on the output of the
previous stage, computed beforehand. ``extra_info`` carries articles/s and MB/s
(text MB, UTF-8). Run::

    .venv/bin/pytest benchmarks --benchmark-only

Groups (one table per group and dataset):

``load``            JSONL file -> Article objects (``iter_articles``)
``stages``          shingling, shingle sets, signatures, LSH candidates, verification,
                    same-story counts / TF-IDF / neighbours, JSON report
``scan``            ``Scanner().scan``: without passages, and everything (the difference is
                    the passage stage; per-stage seconds of the full scan are in ``extra_info``)
``signatures``      text -> MinHash signatures: ours vs datasketch (per document, ``bulk``) vs rensa
``sign-kernel``     shingle hashes -> signatures: our numpy kernel vs rensa's Rust kernel
``verbatim-tier``   datasketch MinHash + MinHashLSH by hand vs ``Scanner(same_story=None, passages=False)``
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bench_corpora import PARAMS, Corpus, lsh
from datasketch import MinHash, MinHashLSH

from dedup import Scanner, iter_articles
from dedup.report import to_json
from dedup.result import ScanResult
from dedup.shingle import ShingleHasher, shingle_hash32, shingles
from dedup.sign import MinHasher
from dedup.story import Idf, neighbours, term_counts
from dedup.verify import Overlaps

FAST = {"rounds": 3, "iterations": 1, "warmup_rounds": 1}


def _throughput(benchmark: Any, corpus: Corpus, **extra: Any) -> None:
    """articles/s and MB/s from the mean time of the benchmark just run."""
    info = benchmark.extra_info
    info["articles"] = len(corpus.articles)
    info["megabytes"] = round(corpus.megabytes, 3)
    info.update(extra)
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # --benchmark-disable
        return
    mean = stats.stats.mean
    info["seconds_mean"] = round(mean, 4)
    info["articles_per_s"] = round(len(corpus.articles) / mean, 1)
    info["mb_per_s"] = round(corpus.megabytes / mean, 3)


def _run(benchmark: Any, corpus: Corpus, function: Callable[[], Any], rounds: dict[str, int], **extra: Any) -> Any:
    result = benchmark.pedantic(function, **rounds)
    _throughput(benchmark, corpus, **extra)
    return result


def _slow(slow_rounds: int) -> dict[str, int]:
    return {"rounds": slow_rounds, "iterations": 1}


# --------------------------------------------------------------------------- load


@pytest.mark.benchmark(group="load")
def test_load_jsonl(benchmark: Any, dataset: Corpus, tmp_path: Path) -> None:
    path = dataset.write_jsonl(tmp_path / f"{dataset.name}.jsonl")
    items = _run(
        benchmark, dataset, lambda: list(iter_articles(path)), FAST, file_mb=round(path.stat().st_size / 1e6, 3)
    )
    assert len(items) == len(dataset.records)


# --------------------------------------------------------------------------- stages


@pytest.mark.benchmark(group="stages")
def test_normalize_shingle(benchmark: Any, dataset: Corpus) -> None:
    hasher = ShingleHasher(PARAMS.shingle_size)
    batch = _run(benchmark, dataset, lambda: hasher.transform(dataset.texts), FAST)
    assert batch.n_docs == len(dataset.texts)
    benchmark.extra_info["shingles"] = len(batch.hashes)


@pytest.mark.benchmark(group="stages")
def test_shingle_sets(benchmark: Any, dataset: Corpus) -> None:
    sets = _run(benchmark, dataset, dataset.batch.sets, FAST)
    assert len(sets) == len(dataset.texts)


@pytest.mark.benchmark(group="stages")
def test_signatures(benchmark: Any, dataset: Corpus) -> None:
    minhasher = MinHasher(PARAMS.num_perm, PARAMS.seed)
    signatures = _run(benchmark, dataset, lambda: minhasher.transform(dataset.batch), FAST)
    assert signatures.shape == (len(dataset.texts), PARAMS.num_perm)


@pytest.mark.benchmark(group="stages")
def test_candidates(benchmark: Any, dataset: Corpus) -> None:
    bands = lsh()
    pairs = _run(benchmark, dataset, lambda: bands.candidate_pairs(dataset.signatures), FAST)
    benchmark.extra_info.update(candidate_pairs=len(pairs), bands=bands.bands, rows=bands.rows)


@pytest.mark.benchmark(group="stages")
def test_verify(benchmark: Any, dataset: Corpus) -> None:
    pairs = dataset.candidate_pairs
    overlaps = _run(benchmark, dataset, lambda: Overlaps.compute(dataset.sets, dataset.sets, pairs), FAST)
    assert len(overlaps) == len(pairs)
    info = benchmark.extra_info
    info["candidate_pairs"] = len(pairs)
    if "seconds_mean" in info and len(pairs):
        info["pairs_per_s"] = round(len(pairs) / info["seconds_mean"], 1)


@pytest.mark.benchmark(group="stages")
def test_story_counts(benchmark: Any, dataset: Corpus) -> None:
    counts = _run(benchmark, dataset, lambda: term_counts(dataset.tokenized, PARAMS.n_features), FAST)
    assert counts.shape[0] == len(dataset.texts)


@pytest.mark.benchmark(group="stages")
def test_story_fit_transform(benchmark: Any, dataset: Corpus) -> None:
    def fit_transform() -> Any:
        return Idf.fit(dataset.counts, PARAMS).transform(dataset.counts)

    vectors = _run(benchmark, dataset, fit_transform, FAST)
    assert vectors.shape[0] == len(dataset.texts)


@pytest.mark.benchmark(group="stages")
def test_story_neighbours(benchmark: Any, dataset: Corpus) -> None:
    def search() -> Any:
        return neighbours(dataset.vectors, dataset.times, k=PARAMS.story_neighbours, min_cosine=PARAMS.same_story,
                          window_days=PARAMS.window_days, min_shared_terms=PARAMS.story_min_terms)

    pairs, _ = _run(benchmark, dataset, search, FAST)
    benchmark.extra_info["story_pairs"] = len(pairs)


# --------------------------------------------------------------------------- whole scans


def _stage_seconds(result: ScanResult) -> dict[str, float]:
    return dict(result.stats.get("seconds", {}))


@pytest.mark.benchmark(group="scan")
def test_scan_no_passages(benchmark: Any, dataset: Corpus) -> None:
    scanner = Scanner(passages=False)
    result = _run(benchmark, dataset, lambda: scanner.scan(dataset.articles), FAST)
    dataset.cache["no_passages_mean"] = benchmark.extra_info.get("seconds_mean")
    benchmark.extra_info.update(stage_seconds=_stage_seconds(result), pairs=result.stats["pairs"])


@pytest.mark.benchmark(group="scan")
def test_scan_full(benchmark: Any, dataset: Corpus, slow_rounds: int) -> None:
    """End to end, all tiers: the JSON report benchmark reuses this result."""
    scanner = Scanner()
    result = _run(benchmark, dataset, lambda: scanner.scan(dataset.articles), _slow(slow_rounds))
    dataset.cache["full_result"] = result
    info = benchmark.extra_info
    seconds = _stage_seconds(result)
    info.update(
        stage_seconds=seconds,
        pairs=result.stats["pairs"],
        clusters=result.stats["clusters"],
        largest_cluster=result.stats["largest_cluster"],
    )
    if dataset.cache.get("no_passages_mean") and "seconds_mean" in info:
        info["passages_cost_s"] = round(info["seconds_mean"] - dataset.cache["no_passages_mean"], 3)
    if seconds.get("passages") and "seconds_mean" in info:
        info["passages_share"] = round(seconds["passages"] / info["seconds_mean"], 3)


@pytest.mark.benchmark(group="stages")
def test_report_json(benchmark: Any, dataset: Corpus) -> None:
    result = dataset.cache.get("full_result")
    if result is None:  # run on its own (-k report): scan first, outside the timing
        result = dataset.cache["full_result"] = Scanner().scan(dataset.articles)
    text = _run(benchmark, dataset, lambda: to_json(result), FAST)
    benchmark.extra_info["report_mb"] = round(len(text.encode("utf-8")) / 1e6, 3)


# --------------------------------------------------------------------------- signatures vs baselines


def _datasketch_per_document(texts: list[str], **kwargs: Any) -> list[MinHash]:
    out = []
    for text in texts:
        minhash = MinHash(num_perm=128, scheme="affine32", **kwargs)
        minhash.update_batch(shingles(text, 3))
        out.append(minhash)
    return out


@pytest.mark.benchmark(group="signatures")
def test_signatures_ours(benchmark: Any, dataset: Corpus) -> None:
    hasher, minhasher = ShingleHasher(PARAMS.shingle_size), MinHasher(PARAMS.num_perm, PARAMS.seed)
    signatures = _run(benchmark, dataset, lambda: minhasher.transform(hasher.transform(dataset.texts)), FAST)
    assert np.array_equal(signatures, dataset.signatures)


@pytest.mark.benchmark(group="signatures")
def test_signatures_datasketch(benchmark: Any, dataset: Corpus, slow_rounds: int) -> None:
    """Per document, with our hash function: must give bit-identical signatures."""
    minhashes = _run(
        benchmark,
        dataset,
        lambda: _datasketch_per_document(dataset.texts, hashfunc=shingle_hash32),
        _slow(slow_rounds),
    )
    theirs = np.stack([m.hashvalues for m in minhashes])
    assert theirs.dtype == np.uint32
    assert np.array_equal(theirs, dataset.signatures), "signatures differ from datasketch affine32"


@pytest.mark.benchmark(group="signatures")
def test_signatures_datasketch_sha1(benchmark: Any, dataset: Corpus, slow_rounds: int) -> None:
    """Per document with datasketch's default hash (sha1_hash32 in C): the fastest
    hand-written datasketch, not bit-compatible with ours."""
    minhashes = _run(benchmark, dataset, lambda: _datasketch_per_document(dataset.texts), _slow(slow_rounds))
    assert len(minhashes) == len(dataset.texts)


@pytest.mark.benchmark(group="signatures")
def test_signatures_datasketch_bulk(benchmark: Any, dataset: Corpus, slow_rounds: int) -> None:
    """``MinHash.bulk(b, **minhash_kwargs)``: one initialised MinHash copied per document."""

    def bulk() -> list[MinHash]:
        return MinHash.bulk(
            (shingles(t, 3) for t in dataset.texts), num_perm=128, scheme="affine32", hashfunc=shingle_hash32
        )

    minhashes = _run(benchmark, dataset, bulk, _slow(slow_rounds))
    assert np.array_equal(np.stack([m.hashvalues for m in minhashes]), dataset.signatures)


@pytest.mark.benchmark(group="signatures")
def test_signatures_rensa(benchmark: Any, dataset: Corpus) -> None:
    """rensa's RMinHash per document on the same shingles (its own hashing: not bit-compatible)."""
    rensa = pytest.importorskip("rensa")

    def per_document() -> list[Any]:
        out = []
        for text in dataset.texts:
            minhash = rensa.RMinHash(128, 1)
            minhash.update(shingles(text, 3))
            out.append(minhash)
        return out

    minhashes = _run(benchmark, dataset, per_document, FAST)
    assert len(minhashes) == len(dataset.texts)


@pytest.mark.benchmark(group="sign-kernel")
def test_kernel_ours(benchmark: Any, dataset: Corpus) -> None:
    minhasher = MinHasher(PARAMS.num_perm, PARAMS.seed)
    _run(benchmark, dataset, lambda: minhasher.transform(dataset.batch), FAST, shingles=len(dataset.batch.hashes))


@pytest.mark.benchmark(group="sign-kernel")
def test_kernel_rensa(benchmark: Any, dataset: Corpus) -> None:
    """rensa's compiled kernel on our shingle hashes (the same work as ``MinHasher.transform``)."""
    rensa = pytest.importorskip("rensa")
    hashes, offsets = dataset.batch.hashes, dataset.batch.offsets.astype(np.uint64)
    matrix = _run(
        benchmark,
        dataset,
        lambda: rensa.RMinHash.digest_matrix_from_flat_token_hashes(hashes, offsets, 128, 1),
        FAST,
        shingles=len(hashes),
    )
    assert matrix.len() == len(dataset.texts)


# --------------------------------------------------------------------------- verbatim tier


@pytest.mark.benchmark(group="verbatim-tier")
def test_verbatim_datasketch_lsh(benchmark: Any, dataset: Corpus, slow_rounds: int) -> None:
    """What a user writes by hand: MinHash per text, MinHashLSH query then insert (streaming)."""

    def by_hand() -> set[tuple[int, int]]:
        lsh = MinHashLSH(threshold=0.2, num_perm=128)
        pairs: set[tuple[int, int]] = set()
        for index, text in enumerate(dataset.texts):
            minhash = MinHash(num_perm=128)
            minhash.update_batch(shingles(text, 3))
            pairs.update((other, index) for other in lsh.query(minhash))
            lsh.insert(index, minhash)
        return pairs

    pairs = _run(benchmark, dataset, by_hand, _slow(slow_rounds))
    benchmark.extra_info["candidate_pairs"] = len(pairs)


@pytest.mark.benchmark(group="verbatim-tier")
def test_verbatim_ours(benchmark: Any, dataset: Corpus) -> None:
    """Candidates, exact verification, relations and clusters: more work than the baseline."""
    scanner = Scanner(same_story=None, passages=False)
    result = _run(benchmark, dataset, lambda: scanner.scan(dataset.articles), FAST)
    benchmark.extra_info.update(pairs=result.stats["pairs"], stage_seconds=_stage_seconds(result))
