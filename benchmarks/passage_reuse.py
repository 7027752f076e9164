"""Passage-level reuse (issue 9): winnowing + postings against whole-document LSH.

    .venv/bin/python benchmarks/passage_reuse.py [--data ../shared/data] [--only quality,sweep,scale,pages]
                                                  [--excerpts 200] [--halves 50] [--single 100]
                                                  [--background 2000]
                                                  [--subset N] [--json out.json]

Sections (each skips with a message when its files are absent):

* ``quality`` -- a corpus built from Reuters-21578 stories (disjoint pools:
  sources, filler, background): ``--excerpts`` hosts each carrying 2-3
  paragraphs of a source inside about 5x as much text of other stories,
  ``--halves`` articles made of the first halves of two sources, ``--single``
  hosts of a one-paragraph excerpt (harder: Reuters paragraphs are short), and
  ``--background`` other stories. Recall and precision of the planted pairs
  for (1) winnow + ``self_join`` candidates and (2) whole-document
  ``BandedLSH(0.2)`` over MinHash of 3-shingles (the pipeline's default), both
  followed by the same exact verification: containment of 5-shingles >= 0.2
  either way, or a shared run >= ``min_words`` words.
* ``sweep`` -- the same corpus over window ``w``, ``min_shared``,
  ``min_words`` and ``max_df``: what chose the defaults.
* ``scale`` -- all of Reuters-21578 (or ``--subset N`` stories), each method in
  its own subprocess: wall time and peak RSS over the loaded texts of
  5-shingles + winnow + postings + ``self_join``, against datasketch by hand
  (``MinHash(num_perm=128)`` per story over 3-shingles, ``MinHashLSH(0.2)``
  query + insert).
* ``pages`` -- ``news_pages_2018``: candidate pairs, verified pairs, and a
  sample of 10 printed with their longest span for reading.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup.candidates import BandedLSH  # noqa: E402
from dedup.normalize import normalize  # noqa: E402
from dedup.postings import DEFAULT_MAX_DF, DEFAULT_MIN_SHARED, Postings, self_join  # noqa: E402
from dedup.quotes import count_apart, span_kind  # noqa: E402
from dedup.shingle import ShingleBatch, ShingleHasher  # noqa: E402
from dedup.sign import MinHasher  # noqa: E402
from dedup.spans import DEFAULT_MIN_WORDS, shared_runs, spans_for_pairs, token_offsets  # noqa: E402
from dedup.verify import Overlaps  # noqa: E402
from dedup.winnow import DEFAULT_K, DEFAULT_W, fingerprint_texts, winnow  # noqa: E402
from tests.constructed import Story, excerpt_case, halves_case, load_stories  # noqa: E402

SEED = 9


def exact_families(texts: list[str]) -> np.ndarray:
    """Family id per text: texts with the same normalised form share one."""
    seen: dict[str, int] = {}
    return np.array([seen.setdefault(normalize(t), len(seen)) for t in texts], dtype=np.int64)


# --------------------------------------------------------------------------- corpus


def build_corpus(
    pool: tuple[Story, ...], n_excerpts: int, n_halves: int, n_background: int, n_single: int = 0
) -> dict[str, Any]:
    rng = random.Random(SEED)
    stories = list(pool)
    rng.shuffle(stories)
    long_ones = [s for s in stories if len(s.paragraphs) >= 5]
    sources = long_ones[: n_excerpts + 2 * n_halves + n_single]
    chosen = {s.id for s in sources}
    rest = [s for s in stories if s.id not in chosen]
    background, filler = rest[:n_background], rest[n_background:]
    texts: list[str] = []
    kinds: list[str] = []
    truth: set[tuple[int, int]] = set()
    filler_at = 0
    for i in range(n_excerpts):
        slice_ = tuple(filler[filler_at : filler_at + 12])
        filler_at += 12
        case = excerpt_case((sources[i],), rng, n_paragraphs=rng.choice((2, 3)), ratio=5.0, filler_pool=slice_)
        base = len(texts)
        texts += case.texts
        kinds += ["source", "excerpt_host"]
        truth |= {(base + a, base + b) for a, b in case.truth}
    for i in range(n_halves):
        a, b = sources[n_excerpts + 2 * i], sources[n_excerpts + 2 * i + 1]
        case = halves_case((a, b), rng)
        base = len(texts)
        texts += case.texts
        kinds += ["source", "source", "halves_host"]
        truth |= {(base + x, base + y) for x, y in case.truth}
    for i in range(n_single):
        slice_ = tuple(filler[filler_at : filler_at + 8])
        filler_at += 8
        source = sources[n_excerpts + 2 * n_halves + i]
        case = excerpt_case((source,), rng, n_paragraphs=1, ratio=5.0, filler_pool=slice_)
        base = len(texts)
        texts += case.texts
        kinds += ["source", "single_host"]
        truth |= {(base + a, base + b) for a, b in case.truth}
    for story in background:
        texts.append("\n\n".join(story.paragraphs))
        kinds.append("background")
    return {"texts": texts, "kinds": kinds, "truth": truth}


# --------------------------------------------------------------------------- verification


def verify(
    texts: list[str], batch: ShingleBatch, sets: list[np.ndarray], pairs: np.ndarray, min_words: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keep pairs with 5-shingle containment >= 0.2 either way, or a shared run >= ``min_words``.
    Returns the kept pairs and, per kept pair, its longest run."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if len(pairs) == 0:
        return pairs, np.empty(0, np.int64)
    overlaps = Overlaps.compute(sets, pairs)
    contained = np.maximum(overlaps.containment_a_in_b, overlaps.containment_b_in_a) >= 0.2
    longest = np.zeros(len(pairs), dtype=np.int64)
    for n, (a, b) in enumerate(pairs.tolist()):
        runs = shared_runs(batch.doc(a), batch.doc(b), k, min_words=k)
        longest[n] = int(runs[:, 2].max()) if len(runs) else 0
    keep = contained | (longest >= min_words)
    return pairs[keep], longest[keep]


def score(pairs: np.ndarray, truth: set[tuple[int, int]]) -> dict[str, Any]:
    found = {(int(a), int(b)) for a, b in pairs}
    hits = len(found & truth)
    return {
        "pairs": len(found),
        "true": hits,
        "recall": round(hits / len(truth), 4) if truth else None,
        "precision": round(hits / len(found), 4) if found else None,
    }


def winnow_candidates(batch: ShingleBatch, families: np.ndarray, w: int, min_shared: int, max_df: int) -> Any:
    prints = winnow(batch, w=w, k=DEFAULT_K)
    return self_join(Postings.build(prints, families), min_shared=min_shared, max_df=max_df), len(prints)


def quality(data: Path, args: argparse.Namespace, sweep: bool) -> dict[str, Any]:
    path = data / "reuters21578" / "documents.jsonl"
    if not path.exists():
        print(f"quality: {path} absent, skipped")
        return {}
    pool = load_stories(path)
    corpus = build_corpus(pool, args.excerpts, args.halves, args.background, args.single)
    texts, truth, kinds = corpus["texts"], corpus["truth"], corpus["kinds"]
    families = exact_families(texts)
    print(
        f"quality: {len(texts)} texts ({kinds.count('excerpt_host')} excerpt hosts, "
        f"{kinds.count('halves_host')} halves hosts, {kinds.count('single_host')} one-paragraph hosts, "
        f"{kinds.count('background')} background), {len(truth)} true pairs"
    )
    batch = ShingleHasher(DEFAULT_K).transform(texts)
    sets = batch.sets()
    by_kind = {
        kind: {p for p in truth if kinds[p[1]] == kind} for kind in ("excerpt_host", "halves_host", "single_host")
    }
    out: dict[str, Any] = {"texts": len(texts), "true_pairs": len(truth)}

    def evaluate(name: str, cand: np.ndarray, min_words: int) -> dict[str, Any]:
        start = time.perf_counter()
        kept, longest = verify(texts, batch, sets, cand, min_words, DEFAULT_K)
        record: dict[str, Any] = {"verify_seconds": round(time.perf_counter() - start, 3)}
        record.update(candidates=score(cand, truth), verified=score(kept, truth))
        run_only = kept[longest >= min_words]
        record["verified_run_only"] = score(run_only, truth)
        record["unplanted_with_run_40"] = sum(
            1 for (a, b), n in zip(kept.tolist(), longest.tolist(), strict=True) if (a, b) not in truth and n >= 40
        )
        for kind, sub in by_kind.items():
            found = {(int(a), int(b)) for a, b in kept} & sub
            record[f"recall_{kind}"] = round(len(found) / len(sub), 4) if sub else None
        false = [int(n) for (a, b), n in zip(kept.tolist(), longest.tolist(), strict=True) if (a, b) not in truth]
        record["unplanted_longest_runs"] = sorted(false)
        print(
            f"  {name}: {record['candidates']} -> verified {record['verified']}; run >= {min_words} only "
            f"{record['verified_run_only']}; unplanted pairs with a 40-word run {record['unplanted_with_run_40']}",
            flush=True,
        )
        return record

    t0 = time.perf_counter()
    cand, n_prints = winnow_candidates(batch, families, DEFAULT_W, DEFAULT_MIN_SHARED, DEFAULT_MAX_DF)
    out["winnow_seconds"] = round(time.perf_counter() - t0, 3)
    out["winnow"] = evaluate(
        f"winnow k={DEFAULT_K} w={DEFAULT_W} min_shared={DEFAULT_MIN_SHARED} max_df={DEFAULT_MAX_DF}",
        cand.pairs,
        DEFAULT_MIN_WORDS,
    )
    out["winnow"]["fingerprints"] = n_prints
    out["winnow"]["dropped_df"], out["winnow"]["dropped_bucket"] = cand.dropped_df, cand.dropped_bucket
    missed = sorted(
        truth - {(int(a), int(b)) for a, b in verify(texts, batch, sets, cand.pairs, DEFAULT_MIN_WORDS, DEFAULT_K)[0]}
    )
    out["winnow"]["missed"] = [{"pair": m, "kind": kinds[m[1]], "longest_run": _longest(batch, m)} for m in missed[:20]]
    batch3 = ShingleHasher(3).transform(texts)
    t0 = time.perf_counter()
    lsh_pairs = BandedLSH(0.2).candidate_pairs(MinHasher(128, seed=1).transform(batch3))
    out["lsh_seconds"] = round(time.perf_counter() - t0, 3)
    out["lsh"] = evaluate("whole-document BandedLSH(0.2), 3-shingles", lsh_pairs, DEFAULT_MIN_WORDS)
    union = np.unique(np.concatenate((cand.pairs, lsh_pairs)), axis=0)
    out["union"] = evaluate("winnow + LSH candidates", union, DEFAULT_MIN_WORDS)
    if sweep:
        out["sweep"] = []
        for w in (4, 6, 8, 10, 12):
            for min_shared in (1, 2, 3, 5):
                c, n_prints = winnow_candidates(batch, families, w, min_shared, DEFAULT_MAX_DF)
                for min_words in (20, 25, 30, 40):
                    kept, longest = verify(texts, batch, sets, c.pairs, min_words, DEFAULT_K)
                    row = {
                        "w": w,
                        "min_shared": min_shared,
                        "min_words": min_words,
                        "fingerprints": n_prints,
                        "candidates": score(c.pairs, truth),
                        "verified": score(kept, truth),
                        "run_only": score(kept[longest >= min_words], truth),
                    }
                    found = {(int(a), int(b)) for a, b in kept[longest >= min_words]}
                    for kind, sub in by_kind.items():
                        row[f"run_only_recall_{kind}"] = round(len(found & sub) / len(sub), 4) if sub else None
                    out["sweep"].append(row)
                    print(
                        f"  sweep w={w} min_shared={min_shared} min_words={min_words} prints={n_prints} "
                        f"cand={row['candidates']} verified={row['verified']} run_only={row['run_only']}",
                        flush=True,
                    )
        for max_df in (2, 5, 10, 20, 50, 1000):
            c, _ = winnow_candidates(batch, families, DEFAULT_W, DEFAULT_MIN_SHARED, max_df)
            row = {"max_df": max_df, "dropped_df": c.dropped_df, "candidates": score(c.pairs, truth)}
            out["sweep"].append(row)
            print(f"  sweep max_df={max_df}: dropped {c.dropped_df}, cand={row['candidates']}", flush=True)
    return out


def _longest(batch: ShingleBatch, pair: tuple[int, int]) -> int:
    runs = shared_runs(batch.doc(pair[0]), batch.doc(pair[1]), DEFAULT_K, min_words=DEFAULT_K)
    return int(runs[:, 2].max()) if len(runs) else 0


# --------------------------------------------------------------------------- scale


def _rss_mb() -> tuple[float, float]:
    current = peak = float("nan")
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    if peak != peak:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


def worker(path: Path, mode: str, subset: int | None) -> dict[str, Any]:
    texts = []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            text = json.loads(line).get("text") or ""
            if text.strip():
                texts.append(text)
            if subset and len(texts) >= subset:
                break
    before, _ = _rss_mb()
    start = time.perf_counter()
    record: dict[str, Any] = {"mode": mode, "n": len(texts)}
    if mode == "winnow":
        prints = fingerprint_texts(texts, k=DEFAULT_K, w=DEFAULT_W)
        families = exact_families(texts)
        cand = self_join(Postings.build(prints, families))
        record.update(
            candidate_pairs=len(cand),
            fingerprints=len(prints),
            dropped_df=cand.dropped_df,
            dropped_bucket=cand.dropped_bucket,
        )
        record["families_seconds_included"] = True
    else:
        from bench_corpora import datasketch_candidate_pairs

        record["candidate_pairs"] = len(datasketch_candidate_pairs(texts))
    record["seconds"] = round(time.perf_counter() - start, 2)
    _, peak = _rss_mb()
    record["rss_before_mb"] = round(before, 1)
    record["peak_increment_mb"] = round(peak - before, 1)
    return record


def scale(data: Path, subset: int | None) -> dict[str, Any]:
    path = data / "reuters21578" / "documents.jsonl"
    if not path.exists():
        print(f"scale: {path} absent, skipped")
        return {}
    out = {}
    for mode in ("winnow", "datasketch"):
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", mode, "--data", str(data)]
        if subset:
            command += ["--subset", str(subset)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        out[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"scale {mode}: {out[mode]}", flush=True)
    w, d = out["winnow"], out["datasketch"]
    out["time_ratio"] = round(w["seconds"] / d["seconds"], 3)
    out["memory_ratio"] = round(w["peak_increment_mb"] / d["peak_increment_mb"], 3)
    print(f"scale: winnow/datasketch time {out['time_ratio']}, peak memory increment {out['memory_ratio']}")
    return out


# --------------------------------------------------------------------------- pages


def pages(data: Path, n_sample: int = 10) -> dict[str, Any]:
    path = data / "news_pages_2018" / "documents.jsonl"
    if not path.exists():
        print(f"pages: {path} absent, skipped")
        return {}
    with open(path, encoding="utf-8") as stream:
        records = [json.loads(line) for line in stream if line.strip()]
    texts = [r["text"] for r in records]
    batch = ShingleHasher(DEFAULT_K).transform(texts)
    families = exact_families(texts)
    cand = self_join(Postings.build(winnow(batch, DEFAULT_W, DEFAULT_K), families))
    kept, longest = verify(texts, batch, batch.sets(), cand.pairs, DEFAULT_MIN_WORDS, DEFAULT_K)
    spans = spans_for_pairs(texts, batch, kept, DEFAULT_K, DEFAULT_MIN_WORDS)
    out: dict[str, Any] = {
        "pages": len(texts),
        "candidates": len(cand),
        "verified": len(kept),
        "dropped_df": cand.dropped_df,
        "dropped_bucket": cand.dropped_bucket,
        "sample": [],
    }
    print(
        f"pages: {len(texts)} pages, {len(cand)} candidate pairs, {len(kept)} verified "
        f"(dropped_df {cand.dropped_df}, dropped_bucket {cand.dropped_bucket})"
    )
    kinds_per_pair = [
        [span_kind(texts[a], s.a_start, s.a_end) for s in sp] for (a, b), sp in zip(kept.tolist(), spans, strict=True)
    ]
    out["quote_or_tweet_only"] = sum(1 for k in kinds_per_pair if k and all(x is not None for x in k))
    narration = [
        count_apart(texts[a], [(s.a_start, s.a_end, s.words) for s in sp])["narration"]
        for (a, _), sp in zip(kept.tolist(), spans, strict=True)
    ]
    out["with_25_narration_words"] = sum(1 for n in narration if n >= DEFAULT_MIN_WORDS)
    print(f"pages: {out['with_25_narration_words']} verified pairs share >= {DEFAULT_MIN_WORDS} words of narration")
    out["no_span_of_min_words"] = sum(1 for k in kinds_per_pair if not k)
    out["same_outlet"] = sum(1 for a, b in kept.tolist() if records[a].get("outlet") == records[b].get("outlet"))
    print(
        f"pages: of {len(kept)} verified pairs, {out['quote_or_tweet_only']} share only quotations/tweets, "
        f"{out['no_span_of_min_words']} have no run of {DEFAULT_MIN_WORDS} words (containment only), "
        f"{out['same_outlet']} are within one outlet"
    )
    out["max_df"] = []
    prints = winnow(batch, DEFAULT_W, DEFAULT_K)
    for max_df in (3, 5, 10, 50):
        c = self_join(Postings.build(prints, families), max_df=max_df)
        v, _ = verify(texts, batch, batch.sets(), c.pairs, DEFAULT_MIN_WORDS, DEFAULT_K)
        out["max_df"].append({"max_df": max_df, "dropped_df": c.dropped_df, "candidates": len(c), "verified": len(v)})
        print(f"pages max_df={max_df}: dropped {c.dropped_df} fingerprints, {len(c)} candidates, {len(v)} verified")
    for item in _most_common(texts, prints, families, 8):
        print(f"pages: fingerprint in {item['families']} families: {item['text']!r}")
    rng = random.Random(SEED)
    for n in sorted(rng.sample(range(len(kept)), min(n_sample, len(kept)))):
        a, b = (int(x) for x in kept[n])
        span_list = spans[n]
        words = sum(s.words for s in span_list)
        best = max(span_list, key=lambda s: s.words) if span_list else None
        item = {
            "a": records[a]["id"],
            "b": records[b]["id"],
            "outlets": [records[a].get("outlet"), records[b].get("outlet")],
            "longest_run": int(longest[n]),
            "spans": len(span_list),
            "span_words": words,
        }
        if best is not None:
            item["best_kind"] = span_kind(texts[a], best.a_start, best.a_end)
            item["kinds"] = [span_kind(texts[a], s.a_start, s.a_end) for s in span_list]
        out["sample"].append(item)  # ids and numbers only: the corpus text is printed, never stored
        shown = {**item, "best_span_a": texts[a][best.a_start : best.a_end][:300] if best else None}
        print(json.dumps(shown, ensure_ascii=False, indent=1))
    return out


def _most_common(texts: list[str], prints: Any, families: np.ndarray, n: int) -> list[dict[str, Any]]:
    """The ``n`` fingerprints held by the most families, with the text of one occurrence."""
    doc = prints.doc_index()
    pairs = np.unique(np.stack([prints.hashes.astype(np.int64), families[doc]], axis=1), axis=0)
    keys, counts = np.unique(pairs[:, 0], return_counts=True)
    out = []
    for key in keys[np.argsort(-counts, kind="stable")][:n]:
        at = int(np.flatnonzero(prints.hashes.astype(np.int64) == key)[0])
        d, position = int(doc[at]), int(prints.positions[at])
        offsets = token_offsets(texts[d])
        end = min(position + DEFAULT_K, len(offsets)) - 1
        text = texts[d][int(offsets.starts[position]) : int(offsets.ends[end])]
        out.append({"families": int(counts[keys == key][0]), "text": text})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--only", default="quality,scale,pages", help="comma list of quality,sweep,scale,pages")
    parser.add_argument("--excerpts", type=int, default=200)
    parser.add_argument("--halves", type=int, default=50)
    parser.add_argument("--background", type=int, default=2000)
    parser.add_argument("--single", type=int, default=100, help="hosts of a one-paragraph excerpt (harder)")
    parser.add_argument("--subset", type=int, default=None, help="scale: first N Reuters stories only")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.data / "reuters21578" / "documents.jsonl", args.worker, args.subset)))
        return
    only = set(args.only.split(","))
    results: dict[str, Any] = {}
    if "quality" in only or "sweep" in only:
        results["quality"] = quality(args.data, args, sweep="sweep" in only)
    if "scale" in only:
        results["scale"] = scale(args.data, args.subset)
    if "pages" in only:
        results["pages"] = pages(args.data)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
