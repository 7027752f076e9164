"""Tables and ratios from a pytest-benchmark JSON file.

    .venv/bin/pytest benchmarks --benchmark-only --benchmark-json=/tmp/stages.json
    .venv/bin/python benchmarks/summarize.py /tmp/stages.json

Prints one Markdown table per dataset (mean seconds, articles/s, MB/s of every
benchmark) and the speed ratios of the baselines against ours.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

RATIOS = (
    # (group, baseline test, our test)
    ("signatures", "test_signatures_datasketch", "test_signatures_ours"),
    ("signatures", "test_signatures_datasketch_bulk", "test_signatures_ours"),
    ("signatures", "test_signatures_datasketch_sha1", "test_signatures_ours"),
    ("signatures", "test_signatures_rensa", "test_signatures_ours"),
    ("sign-kernel", "test_kernel_rensa", "test_kernel_ours"),
    ("verbatim-tier", "test_verbatim_datasketch_lsh", "test_verbatim_ours"),
    ("scan", "test_verbatim_datasketch_lsh", "test_scan_full"),
)


def load(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """``{dataset: {test name without params: benchmark record}}``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for bench in data["benchmarks"]:
        dataset = (bench.get("params") or {}).get("dataset", "-")
        out[dataset][bench["name"].split("[")[0]] = bench
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", type=Path, help="pytest-benchmark --benchmark-json output")
    args = parser.parse_args(argv)
    results = load(args.json)
    for dataset, benches in sorted(results.items()):
        first = next(iter(benches.values()))["extra_info"]
        print(f"\n### {dataset}: {first.get('articles')} articles, {first.get('megabytes')} MB\n")
        print("| group | benchmark | rounds | mean s | articles/s | MB/s |")
        print("|---|---|---:|---:|---:|---:|")
        for name, bench in sorted(benches.items(), key=lambda kv: (kv[1]["group"], kv[1]["stats"]["mean"])):
            info, stats = bench["extra_info"], bench["stats"]
            print(
                f"| {bench['group']} | {name.removeprefix('test_')} | {stats['rounds']} | {stats['mean']:.4f} "
                f"| {info.get('articles_per_s', '')} | {info.get('mb_per_s', '')} |"
            )
        print()
        for _group, baseline, ours in RATIOS:
            if baseline in benches and ours in benches:
                ratio = benches[baseline]["stats"]["mean"] / benches[ours]["stats"]["mean"]
                verdict = f"ours {ratio:.2f}x faster" if ratio >= 1 else f"ours {1 / ratio:.2f}x slower"
                theirs, mine = baseline.removeprefix("test_"), ours.removeprefix("test_")
                print(f"- time({theirs}) / time({mine}) = {ratio:.2f}: {verdict}")
        full = benches.get("test_scan_full")
        if full:
            print(f"- full scan stage seconds: {full['extra_info'].get('stage_seconds')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
