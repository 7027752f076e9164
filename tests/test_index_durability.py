"""Durability of the index: a writer killed with SIGKILL loses nothing acknowledged and leaves nothing
half-written; several processes write one index at once without losing an add."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from dedup import Article, Index
from dedup.candidates import BandedLSH

from .helpers import REPO, WIRE, edit_words, filler
from .test_index import expected_df, expected_family_df, index_df, index_family_df

WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from dedup import Article, Index
    from tests.test_index_durability import corpus
    url, prefix, count, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    articles = corpus(prefix, count)
    with Index(url) as index:
        print("open", flush=True)
        for start in range(0, count, batch):
            part = articles[start : start + batch]
            if batch == 1:
                index.add(part[0])
            else:
                index.add_many(part)
            for article in part:
                print("ack", article.id, flush=True)
    """
)


def corpus(prefix: str, count: int) -> list[Article]:
    """Articles with copies among them (links, close-copy groups and df changes on every add)."""
    out = []
    for i in range(count):
        if i % 5 == 1:  # groups of about five near-duplicates
            text = edit_words(filler(150, seed=1000 + i // 25), 0.05, seed=i)
        elif i % 50 == 3:  # exact copies
            text = WIRE
        else:
            text = filler(120 + i % 50, seed=i)
        out.append(Article(f"{prefix}-{i:04d}", text, published=f"2025-03-{1 + i % 28:02d}T12:00:00Z",
                           outlet=f"outlet{i % 7}"))
    return out


def writer(url: str, prefix: str, count: int, batch: int) -> subprocess.Popen[str]:
    script = WRITER.format(repo=str(REPO))
    return subprocess.Popen([sys.executable, "-c", script, url, prefix, str(count), str(batch)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO))


def check_consistent(url: str, expected: dict[str, Article]) -> None:
    """Every stored article whole, with its band keys and links, and the df and copy-family counts of
    exactly those articles."""
    with Index(url) as index:
        ids = set(index)
        assert ids <= set(expected)
        for article_id in ids:
            stored = index.get(article_id)
            assert stored is not None and stored.text == expected[article_id].text
        store = index.store
        bands = BandedLSH(index.params.lsh_threshold, index.params.num_perm).bands
        assert store._rows("SELECT COUNT(*) FROM bands")[0][0] == bands * len(ids)
        seqs = {int(r[0]) for r in store._rows("SELECT seq FROM articles")}
        for a, b in store._rows("SELECT a, b FROM links"):
            assert a in seqs and b in seqs
        assert index_df(index) == expected_df([expected[i] for i in sorted(ids)])
        assert index_family_df(index) == expected_family_df([expected[i] for i in sorted(ids)], index.params)


def test_sigkill_mid_batch_loses_nothing_acknowledged(url: str) -> None:
    everything = {a.id: a for a in corpus("k", 400)}
    acknowledged: set[str] = set()
    for round_, (batch, wait_for) in enumerate([(7, 20), (1, 15), (25, 60)]):
        process = writer(url, "k", 400, batch)
        assert process.stdout is not None
        seen = 0
        for line in process.stdout:
            if line.startswith("ack "):
                acknowledged.add(line.split()[1])
                seen += 1
                if seen >= wait_for:
                    break
        time.sleep(0.05 * round_)  # kill at a different point of the next batch each round
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
        check_consistent(url, everything)
        with Index(url) as index:
            stored = set(index)
        assert acknowledged <= stored, sorted(acknowledged - stored)[:5]


def test_two_processes_adding_500_each_end_with_1000(url: str) -> None:
    first, second = writer(url, "p", 500, 1), writer(url, "q", 500, 1)
    outputs = [p.communicate(timeout=600) for p in (first, second)]
    for process, (out, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, err[-2000:]
        assert out.count("ack ") == 500
    expected = {a.id: a for a in corpus("p", 500) + corpus("q", 500)}
    with Index(url) as index:
        assert len(index) == 1000 and set(index) == set(expected)
    check_consistent(url, expected)


def test_readers_see_whole_batches_while_a_writer_adds(tmp_path: Path) -> None:
    path = str(tmp_path / "news.db")
    Index(path).close()
    process = writer(path, "r", 300, 50)
    sizes = []
    with Index(path) as index:
        while process.poll() is None:
            sizes.append(len(index))
            index.query(WIRE)
            time.sleep(0.02)
    assert process.returncode == 0
    assert all(size % 50 == 0 for size in sizes) and sorted(sizes) == sizes
    with Index(path) as index:
        assert len(index) == 300
