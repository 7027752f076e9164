"""The local engine against the Dask engine on one synthetic corpus, and the Dask engine on 1 and 2 workers.

::

    .venv/bin/pip install -e '.[test,dask]'
    .venv/bin/python benchmarks/dask_scale.py --n 100000 --json benchmarks/dask_scale.json

The corpus (``bench_corpora.synthetic_articles``: 600-word news, 10 % derived
copies, dated) is generated once and pickled to ``--corpus``; each run is a
fresh subprocess that unpickles it and times the scan alone: ``Scanner().scan``,
then ``DaskScanner`` on a new ``LocalCluster`` of 1 and 2 single-threaded worker
processes (cluster start timed apart). Memory, summed over the driver and every
worker process (a LocalCluster's scheduler and nannies live in the driver): the
peak of the sum, sampled every 0.2 s, and the sum of each process's own peak
(``ru_maxrss``). Each run reports a digest of its
report (``to_dict()`` without ``stats.seconds``): the engines must agree.
Storage per article (prints as bytes, band rows shuffled, passage keys shuffled)
is measured on the first partition, for the README's plan.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pickle
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


class _Sampler:
    """Peak of the summed RSS of this process and all its descendants."""

    def __init__(self, interval: float = 0.2) -> None:
        import psutil

        self.process = psutil.Process()
        self.peak = 0.0
        self.interval = interval
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil

        while not self.stop.is_set():
            total = 0
            for p in [self.process, *self.process.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            self.peak = max(self.peak, total / 1e6)
            self.stop.wait(self.interval)

    def close(self) -> float:
        self.stop.set()
        self.thread.join()
        return round(self.peak, 1)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _StageClock:
    """Wall and CPU seconds (driver, and every worker via ``client.run``) between the stage
    names the scan reports; CPU time is what contention for the cores does not inflate."""

    def __init__(self, client: Any = None) -> None:
        self.client = client
        self.stage: str | None = None
        self.stages: dict[str, dict[str, float]] = {}
        self.mark = self._now()

    def _now(self) -> tuple[float, float, float]:
        workers = sum(self.client.run(_cpu_s).values()) if self.client is not None else 0.0
        return time.perf_counter(), _cpu_s(), workers

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage

    def close(self) -> None:
        now = self._now()
        if self.stage is not None:
            wall, driver, workers = (b - a for a, b in zip(self.mark, now, strict=True))
            entry = self.stages.setdefault(self.stage, {"wall_s": 0.0, "driver_cpu_s": 0.0, "workers_cpu_s": 0.0})
            entry["wall_s"] = round(entry["wall_s"] + wall, 2)
            entry["driver_cpu_s"] = round(entry["driver_cpu_s"] + driver, 2)
            entry["workers_cpu_s"] = round(entry["workers_cpu_s"] + workers, 2)
        self.mark = now


def _storage(articles: list[Any]) -> dict[str, float]:
    """Bytes per article of what the Dask stages store and shuffle, on a sample."""
    import numpy as np

    from dedup import Params
    from dedup.attribution import _passage_key
    from dedup.dask import _lsh, _passage_texts
    from dedup.fingerprint import fingerprint

    params = Params()
    sample = articles[:2000]
    prints = fingerprint([a.text for a in sample], params)
    arrays = prints.arrays()
    n = len(sample)
    terms = sum(v.nbytes for k, v in arrays.items() if k.startswith("term_"))
    shingles = arrays["shingles"].nbytes + arrays["shingle_offsets"].nbytes
    passages = sum(len(_passage_texts(a, params)) for a in sample)
    keys = np.array([_passage_key(a.outlet, t) for a in sample[:50] for t in _passage_texts(a, params)])
    lsh = _lsh(params)
    return {
        "prints_bytes": round(len(prints.to_bytes()) / n, 1),
        "shingle_bytes": round(shingles / n, 1),
        "signature_bytes": round(arrays["signatures"].nbytes / n, 1),
        "term_bytes": round(terms / n, 1),
        "text_bytes": round(sum(len(a.text.encode()) for a in sample) / n, 1),
        "bands": lsh.bands,
        "rows_per_band": lsh.rows,
        "band_shuffle_bytes": float(lsh.bands * 3 * 8),  # (band, key, position) int64/uint64 per band
        "passages": round(passages / n, 2),
        "passage_key_shuffle_bytes": round(passages / n * 16, 1),  # (key, story) per passage
        "_keys_checked": len(keys),
    }


def run_one(mode: str, workers: int, corpus: Path, partition_size: int) -> dict[str, Any]:
    from bench_corpora import report_digest

    with open(corpus, "rb") as stream:
        articles = pickle.load(stream)
    sampler = _Sampler()
    record: dict[str, Any] = {"mode": mode, "workers": workers, "n": len(articles)}
    if mode == "local":
        from dedup import Scanner

        start, cpu = time.perf_counter(), _cpu_s()
        clock = _StageClock()
        result = Scanner().scan(articles, progress=clock)
        clock.close()
        record["seconds"] = round(time.perf_counter() - start, 2)
        record["cpu_s"] = round(_cpu_s() - cpu, 2)
        record["by_progress_stage"] = clock.stages
        record["sum_of_peaks_mb"] = round(_maxrss_mb(), 1)
    else:
        import logging

        from dedup.dask import DaskScanner, local_cluster

        start = time.perf_counter()
        client = local_cluster(workers, silence_logs=logging.ERROR)
        record["cluster_start_s"] = round(time.perf_counter() - start, 2)
        before = sum(client.run(_cpu_s).values())
        start, cpu = time.perf_counter(), _cpu_s()
        clock = _StageClock(client)
        result = DaskScanner(client=client, partition_size=partition_size).scan(articles, progress=clock)
        clock.close()
        record["seconds"] = round(time.perf_counter() - start, 2)
        record["driver_cpu_s"] = round(_cpu_s() - cpu, 2)
        record["workers_cpu_s"] = round(sum(client.run(_cpu_s).values()) - before, 2)
        record["by_progress_stage"] = clock.stages
        workers_rss = client.run(_maxrss_mb)
        record["worker_peaks_mb"] = [round(v, 1) for v in workers_rss.values()]
        # LocalCluster's nannies run inside this (the driver) process: driver + workers is every process
        record["sum_of_peaks_mb"] = round(_maxrss_mb() + sum(workers_rss.values()), 1)
        record["driver_peak_mb"] = round(_maxrss_mb(), 1)
        cluster = client.cluster
        client.close()
        cluster.close()
    record["peak_of_sum_mb"] = sampler.close()
    record["stage_seconds"] = result.stats["seconds"]
    record["pairs"] = result.stats["pairs"]
    record["pairs_by_relation"] = result.stats["pairs_by_relation"]
    record["clusters"] = result.stats["clusters"]
    record["lsh_candidates"] = result.stats["lsh_candidates"]
    record["digest"] = report_digest(result)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20241122)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--partition-size", type=int, default=5000)
    parser.add_argument("--corpus", type=Path, default=None, help="pickled corpus (made when absent)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-local", action="store_true", help="skip the local engine run")
    parser.add_argument("--run", nargs=2, metavar=("MODE", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    corpus = args.corpus or Path(f"/tmp/dedup-dask-bench-{args.n}-{args.seed}.pkl")
    if args.run:
        print(json.dumps(run_one(args.run[0], int(args.run[1]), corpus, args.partition_size)))
        return 0
    from bench_corpora import synthetic_articles

    if not corpus.exists():
        start = time.perf_counter()
        articles = synthetic_articles(args.n, seed=args.seed)
        with open(corpus, "wb") as stream:
            pickle.dump(articles, stream, protocol=pickle.HIGHEST_PROTOCOL)
        print(f"generated {args.n} articles in {time.perf_counter() - start:.1f}s -> {corpus}", file=sys.stderr)
    with open(corpus, "rb") as stream:
        storage = _storage(pickle.load(stream))
    runs = ([("local", 0)] if not args.no_local else []) + [("dask", w) for w in args.workers]
    records = []
    for mode, workers in runs:
        command = [sys.executable, __file__, "--n", str(args.n), "--seed", str(args.seed), "--corpus", str(corpus),
                   "--partition-size", str(args.partition_size), "--run", mode, str(workers)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            records.append({"mode": mode, "workers": workers, "failed": done.returncode})
            continue
        record = json.loads(done.stdout.strip().splitlines()[-1])
        records.append(record)
        print(json.dumps(record), file=sys.stderr)
    digests = {r.get("digest") for r in records if "digest" in r}
    summary = {"n": args.n, "seed": args.seed, "partition_size": args.partition_size, "storage_per_article": storage,
               "runs": records, "identical_reports": len(digests) == 1}
    with open("/proc/loadavg") as stream:
        summary["loadavg_after"] = stream.read().split()[:3]
    text = json.dumps(summary, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
