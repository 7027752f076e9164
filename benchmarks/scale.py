"""How the whole scan grows with the corpus, and a full Reuters-21578 scan against datasketch.

Scale curve (synthetic corpora, all tiers)::

    .venv/bin/python benchmarks/scale.py --sizes 1000 10000 100000 \\
        --out benchmarks/scale.png --json benchmarks/scale.json

Each size runs in a fresh subprocess (so the peak RSS, ``ru_maxrss``, is that
size's own), generates its corpus (seeded: 600-word articles, 10 % derived
copies, some with appended paragraphs; see ``bench_corpora.py``), then times
``Scanner().scan``. The growth exponent is the slope of log(time) against
log(n); 1M articles are extrapolated from the largest size with the slope of
the last segment (and with the overall fit). A size that exceeds ``--timeout``
is recorded with the last stage it reached.

Reuters-21578::

    .venv/bin/python benchmarks/scale.py --reuters ../shared/data/reuters21578/documents.jsonl

times, each in its own subprocess on the same articles (loaded with
``dedup.iter_articles``): the full scan (all tiers), the scan without passages,
the verbatim tier only (``Scanner(same_story=None, passages=False)``), and what
a user writes by hand with datasketch (a ``MinHash`` per article over the same
3-word shingles, ``MinHashLSH(threshold=0.2, num_perm=128)`` query + insert),
and prints the ratios.

``--profile DIR`` writes a pyinstrument HTML profile of every scan to DIR.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

STAGES = ("load_fingerprint", "verbatim", "same_story", "cluster", "passages")
REUTERS_MODES = ("datasketch", "verbatim", "no_passages", "full")


# --------------------------------------------------------------------------- worker side (one subprocess per run)


def _dedup_source() -> dict[str, Any]:
    """Which dedup code ran: the commit and a digest of the package sources (they may be uncommitted)."""
    import hashlib

    import dedup

    digest = hashlib.sha256()
    package = Path(dedup.__file__).parent
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    try:
        commit = subprocess.run(
            ["git", "-C", str(package), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"path": str(package), "commit": commit or None, "sources_sha256": digest.hexdigest()[:16]}


def _rss_mb() -> dict[str, float]:
    """Current and peak resident memory of this process, MB (Linux /proc, else ru_maxrss only)."""
    out = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out["rss_mb"] = int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return out


def _peak_so_far_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _Progress:
    """Scanner progress callback: a line on stderr when the stage changes, or every 10 s.

    ``memory`` records, at each stage change, the peak RSS so far (MB) under the name of
    the stage that just ended, so the stage that set the peak is the first whose value is the maximum.
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.stage = ""
        self.last = 0.0
        self.memory: dict[str, float] = {}

    def finish(self) -> None:
        if self.stage:
            self.memory[self.stage] = round(_peak_so_far_mb(), 1)

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if stage != self.stage:
            self.finish()
        if stage != self.stage or now - self.last > 10.0:
            self.stage, self.last = stage, now
            of = f"/{total}" if total is not None else ""
            print(f"progress {now - self.start:8.1f}s {stage} {done}{of}", file=sys.stderr, flush=True)


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) of this process and of its finished children (forked workers):
    on a machine shared with other jobs they vary less than the wall time."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"self": own.ru_utime + own.ru_stime, "children": children.ru_utime + children.ru_stime}


def _timed_scan(articles: list[Any], scanner: Any, profile: Path | None) -> tuple[float, Any, dict[str, float]]:
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.01)
        profiler.start()
    progress = _Progress()
    cpu = _cpu_seconds()
    start = time.perf_counter()
    result = scanner.scan(articles, progress=progress)
    seconds = time.perf_counter() - start
    result.stats["cpu_seconds"] = {k: round(v - cpu[k], 3) for k, v in _cpu_seconds().items()}
    progress.finish()
    if profiler is not None and profile is not None:
        profiler.stop()
        profile.parent.mkdir(parents=True, exist_ok=True)
        profiler.write_html(str(profile))
        profile.with_suffix(".txt").write_text(profiler.output_text(unicode=False, color=False))
    return seconds, result, progress.memory


def _scan_record(seconds: float, result: Any, n: int, megabytes: float) -> dict[str, Any]:
    stats = result.stats
    return {
        "seconds": round(seconds, 3),
        "articles_per_s": round(n / seconds, 1) if seconds else None,
        "mb_per_s": round(megabytes / seconds, 3) if seconds else None,
        "stage_seconds": stats.get("seconds", {}),
        "cpu_seconds": stats.get("cpu_seconds", {}),
        "pairs": stats.get("pairs"),
        "pairs_by_relation": stats.get("pairs_by_relation"),
        "clusters": stats.get("clusters"),
        "largest_cluster": stats.get("largest_cluster"),
    }


def _workers(workers: int | None) -> dict[str, int]:
    """``Scanner`` keyword for ``--workers`` (nothing when not given: the default, every core)."""
    return {} if workers is None else {"workers": workers}


def _children_peak_mb() -> float:
    """Largest peak RSS of the processes the scan forked (fingerprints, passages), MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def worker_synthetic(n: int, seed: int, words: int, profile: Path | None, workers: int | None = None) -> dict[str, Any]:
    from bench_corpora import report_digest, synthetic_articles, text_megabytes

    from dedup import Scanner

    start = time.perf_counter()
    articles = synthetic_articles(n, seed=seed, words=words)
    generate = time.perf_counter() - start
    megabytes = text_megabytes([a.text for a in articles])
    before = _rss_mb()
    print(f"progress generated {n} articles ({megabytes:.1f} MB) in {generate:.1f}s", file=sys.stderr, flush=True)
    seconds, result, memory = _timed_scan(articles, Scanner(**_workers(workers)), profile)
    record = {"n": n, "workers": workers, "megabytes": round(megabytes, 3), "generate_s": round(generate, 2),
              "dedup": _dedup_source()}
    record.update(_scan_record(seconds, result, n, megabytes))
    record["rss_before_scan_mb"] = round(before.get("rss_mb", float("nan")), 1)
    record["peak_rss_mb"] = round(_rss_mb()["peak_rss_mb"], 1)
    record["scan_increment_mb"] = round(record["peak_rss_mb"] - record["rss_before_scan_mb"], 1)
    record["peak_rss_children_mb"] = round(_children_peak_mb(), 1)
    record["peak_rss_mb_after_stage"] = memory
    record["report_digest"] = report_digest(result)
    return record


def _datasketch_by_hand(texts: list[str]) -> dict[str, Any]:
    from bench_corpora import datasketch_candidate_pairs

    cpu = _cpu_seconds()
    start = time.perf_counter()
    pairs = datasketch_candidate_pairs(texts)
    seconds = time.perf_counter() - start
    used = {k: round(v - cpu[k], 3) for k, v in _cpu_seconds().items()}
    return {"seconds": round(seconds, 3), "cpu_seconds": used, "candidate_pairs": len(pairs)}


def worker_reuters(path: Path, mode: str, profile: Path | None, workers: int | None = None) -> dict[str, Any]:
    from bench_corpora import text_megabytes

    from dedup import Article, Scanner, iter_articles

    start = time.perf_counter()
    items = list(iter_articles(path))
    load = time.perf_counter() - start
    articles = [a for a in items if isinstance(a, Article)]
    megabytes = text_megabytes([a.text for a in articles])
    record: dict[str, Any] = {
        "mode": mode,
        "workers": workers,
        "n": len(articles),
        "skipped": len(items) - len(articles),
        "megabytes": round(megabytes, 3),
        "load_s": round(load, 3),
        "dedup": _dedup_source(),
    }
    print(f"progress loaded {len(articles)} articles in {load:.1f}s", file=sys.stderr, flush=True)
    if mode == "datasketch":
        record.update(_datasketch_by_hand([a.text for a in articles]))
        record["articles_per_s"] = round(len(articles) / record["seconds"], 1)
    else:
        scanner = {
            "verbatim": Scanner(same_story=None, passages=False, **_workers(workers)),
            "no_passages": Scanner(passages=False, **_workers(workers)),
            "full": Scanner(**_workers(workers)),
        }[mode]
        seconds, result, memory = _timed_scan(articles, scanner, profile)
        record.update(_scan_record(seconds, result, len(articles), megabytes))
        record["peak_rss_mb_after_stage"] = memory
    record["peak_rss_mb"] = round(_rss_mb()["peak_rss_mb"], 1)
    record["peak_rss_children_mb"] = round(_children_peak_mb(), 1)
    return record


# --------------------------------------------------------------------------- driver side


def _run_worker(args: list[str], timeout: float, label: str) -> dict[str, Any]:
    """Run this script as a worker; its last stdout line is the JSON record."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress: list[str] = []

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            line = line.rstrip()
            progress.append(line)
            print(f"  [{label}] {line}", file=sys.stderr, flush=True)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        reader.join(5)
        last = [p for p in progress if p.startswith("progress")]
        return {
            "timed_out": True,
            "timeout_s": timeout,
            "last_progress": last[-1] if last else None,
        }
    reader.join(5)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        return {"failed": True, "returncode": process.returncode, "stderr_tail": progress[-15:]}
    record = json.loads(stdout.strip().splitlines()[-1])
    record["subprocess_s"] = round(elapsed, 1)
    return record


def _fit(ns: list[float], ys: list[float]) -> dict[str, float] | None:
    """log-log slope (overall least squares and last segment) and the 1M extrapolations."""
    if len(ns) < 2:
        return None
    import numpy as np

    x, y = np.log(np.asarray(ns, float)), np.log(np.asarray(ys, float))
    slope, intercept = np.polyfit(x, y, 1)
    last = float((y[-1] - y[-2]) / (x[-1] - x[-2]))
    return {
        "exponent": round(float(slope), 3),
        "exponent_last_segment": round(last, 3),
        "at_1m_fit": float(math.exp(intercept) * 1e6**slope),
        "at_1m_last_segment": float(ys[-1] * (1e6 / ns[-1]) ** last),
    }


def _machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    info["loadavg_at_start"] = _loadavg()
    return info


def _loadavg() -> list[float] | None:
    """1, 5 and 15 minute load averages: other work on the machine slows every timing."""
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _fits(done: list[dict[str, Any]]) -> dict[str, Any]:
    """Growth exponents and 1M extrapolations: whole scan, each stage, peak memory.

    The whole-scan slope hides a stage that grows faster than the rest, so the sum of
    the stages' own last-segment extrapolations is given too.
    """
    ns = [r["n"] for r in done]
    stage_fits = {stage: _fit(ns, [max(r["stage_seconds"].get(stage, 0.0), 1e-4) for r in done]) for stage in STAGES}
    fits: dict[str, Any] = {
        "time_fit": _fit(ns, [r["seconds"] for r in done]),
        "stage_fits": stage_fits,
        "memory_fit": _fit(ns, [r["peak_rss_mb"] for r in done]),
    }
    if all(stage_fits.values()):
        fits["at_1m_sum_of_stage_extrapolations_s"] = round(
            sum(f["at_1m_last_segment"] for f in stage_fits.values() if f), 1
        )
    return fits


def _workers_flag(args: argparse.Namespace) -> list[str]:
    return [] if args.workers is None else ["--workers", str(args.workers)]


def run_sizes(args: argparse.Namespace) -> dict[str, Any]:
    machine = _machine()
    runs = []
    for n in args.sizes:
        print(f"scan of {n} synthetic articles ...", file=sys.stderr, flush=True)
        worker = ["synthetic", "--n", str(n), "--seed", str(args.seed), "--words", str(args.words),
                  *_workers_flag(args)]
        if args.profile:
            worker += ["--profile-file", str(Path(args.profile) / f"synthetic-{n}.html")]
        record = _run_worker(worker, args.timeout, f"n={n}")
        record.setdefault("n", n)
        runs.append(record)
        print(json.dumps(record), file=sys.stderr, flush=True)
    done = [r for r in runs if "seconds" in r]
    summary = {
        "kind": "synthetic scale curve, Scanner() all tiers",
        "workers": args.workers,
        "words": args.words,
        "seed": args.seed,
        "copy_share": 0.10,
        "machine": machine,
        "runs": runs,
    }
    summary.update(_fits(done))
    summary["machine"]["loadavg_at_end"] = _loadavg()
    if args.out:
        plot(summary, Path(args.out))
    return summary



def _log_log(axes: Any, ylabel: str) -> None:
    """Both axes logarithmic, labelled, gridded, with a legend."""
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("articles")
    axes.set_ylabel(ylabel)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, loc="upper left")

def plot(summary: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in summary["runs"] if "seconds" in r]
    if not done:
        return
    ns = [r["n"] for r in done]
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    left.plot(ns, [r["seconds"] for r in done], "o-", color="black", lw=2, label="whole scan")
    for stage in STAGES:
        values = [max(r["stage_seconds"].get(stage, 0.0), 1e-3) for r in done]
        left.plot(ns, values, ".--", label=stage)
    fit = summary.get("time_fit")
    if fit:
        left.plot([ns[-1], 1e6], [done[-1]["seconds"], fit["at_1m_last_segment"]], ":", color="gray")
        left.plot(
            [1e6],
            [fit["at_1m_last_segment"]],
            "o",
            mfc="none",
            color="black",
            label=f"1M extrapolated ({fit['at_1m_last_segment'] / 3600:.1f} h)",
        )
        by_stage = summary.get("at_1m_sum_of_stage_extrapolations_s")
        if by_stage:
            left.plot(
                [1e6],
                [by_stage],
                "s",
                mfc="none",
                color="tab:red",
                label=f"1M, sum of per-stage extrapolations ({by_stage / 3600:.1f} h)",
            )
        left.set_title(f"time, growth exponent {fit['exponent']:.2f} (last segment {fit['exponent_last_segment']:.2f})")
    else:
        left.set_title("time")
    for r in summary["runs"]:
        if r.get("timed_out"):
            left.axvline(r["n"], color="red", alpha=0.4, lw=1)
            left.annotate(
                f"n={r['n']}: > {r['timeout_s']:.0f}s",
                (r["n"], done[-1]["seconds"]),
                color="red",
                fontsize=8,
                rotation=90,
                va="bottom",
            )
    _log_log(left, "seconds")

    right.plot(ns, [r["peak_rss_mb"] for r in done], "o-", color="black", lw=2, label="peak RSS (whole process)")
    right.plot(ns, [r["rss_before_scan_mb"] for r in done], "s--", label="RSS with the corpus loaded, before scan")
    right.plot(ns, [r["megabytes"] for r in done], "^:", label="article text (UTF-8 MB)")
    memory = summary.get("memory_fit")
    if memory:
        right.set_title(f"peak memory, growth exponent {memory['exponent']:.2f}")
    _log_log(right, "MB")
    figure.suptitle(f"dedup Scanner() on synthetic news ({summary['words']} words/article, 10% derived copies)")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)


def run_reuters(args: argparse.Namespace) -> dict[str, Any]:
    path = Path(args.reuters)
    if path.is_dir():
        path = path / "documents.jsonl"
    if not path.is_file():
        raise SystemExit(f"--reuters: {path} not found")
    results: dict[str, Any] = {}
    machine = _machine()
    for mode in args.modes:
        print(f"reuters {mode} ...", file=sys.stderr, flush=True)
        worker = ["reuters", "--path", str(path), "--mode", mode, *_workers_flag(args)]
        if args.profile and mode != "datasketch":
            worker += ["--profile-file", str(Path(args.profile) / f"reuters-{mode}.html")]
        results[mode] = _run_worker(worker, args.timeout, mode)
        print(json.dumps(results[mode]), file=sys.stderr, flush=True)
    baseline = results.get("datasketch", {}).get("seconds")
    ratios = {}
    for mode in ("verbatim", "no_passages", "full"):
        seconds = results.get(mode, {}).get("seconds")
        if baseline and seconds:
            ratios[f"{mode}_over_datasketch"] = round(seconds / baseline, 3)
        elif baseline and results.get(mode, {}).get("timed_out"):
            ratios[f"{mode}_over_datasketch"] = f"> {args.timeout / baseline:.1f} (timed out)"
    summary = {"kind": "reuters21578", "path": str(path), "machine": machine, "runs": results, "ratios": ratios}
    machine["loadavg_at_end"] = _loadavg()
    print("\nReuters-21578", file=sys.stderr)
    for mode, record in results.items():
        if "seconds" in record:
            print(
                f"  {mode:12s} {record['seconds']:9.2f} s  {record.get('articles_per_s', 0):9.1f} articles/s  "
                f"peak RSS {record['peak_rss_mb']:.0f} MB",
                file=sys.stderr,
            )
        else:
            print(f"  {mode:12s} {record}", file=sys.stderr)
    for name, value in ratios.items():
        print(f"  {name}: {value}", file=sys.stderr)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="synthetic corpus sizes")
    parser.add_argument("--out", help="plot (PNG) of time and memory against size")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--words", type=int, default=600, help="mean words per synthetic article")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per run (per size or mode)")
    parser.add_argument("--reuters", metavar="PATH", help="reuters21578 documents.jsonl (or its folder)")
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=REUTERS_MODES,
        default=list(REUTERS_MODES),
        help="--reuters runs to do (default: all)",
    )
    parser.add_argument("--profile", metavar="DIR", help="write pyinstrument profiles of the scans here")
    parser.add_argument("--workers", type=int, help="Params.workers of the scans (default: Scanner's, every core)")
    parser.add_argument(
        "--replot", action="store_true", help="recompute the fits and redraw --out from an existing --json, no runs"
    )
    parser.add_argument("--worker", nargs="?", const="", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--profile-file", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)

    if args.worker is not None:
        kind = args.worker or (rest[0] if rest else "")
        profile = Path(args.profile_file) if args.profile_file else None
        if kind == "synthetic":
            record = worker_synthetic(args.n, args.seed, args.words, profile, args.workers)
        elif kind == "reuters":
            record = worker_reuters(Path(args.path), args.mode, profile, args.workers)
        else:
            parser.error(f"unknown worker {kind!r}")
        print(json.dumps(record))
        return 0

    if args.replot:
        if not args.json or not args.out:
            parser.error("--replot needs --json (input and output) and --out")
        summary = json.loads(Path(args.json).read_text(encoding="utf-8"))
        summary.update(_fits([r for r in summary["runs"] if "seconds" in r]))
        plot(summary, Path(args.out))
    else:
        summary = run_reuters(args) if args.reuters else run_sizes(args)
    text = json.dumps(summary, indent=2)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
