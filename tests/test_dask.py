"""The Dask engine gives the local engine's report, on a real two-process LocalCluster.

Skipped when dask is not installed (``pip install 'dedup[dask]'``). One cluster
serves every test of the module; the corpora are cut into small partitions so
that pairs, buckets, neighbour windows and clusters all cross partitions.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dedup import Article, Params, Scanner, iter_articles

from .helpers import SAMPLES, WIRE, edit_words, filler
from .test_golden import PARAGRAPHS, constructed

pytest.importorskip("distributed", reason="dask is not installed: pip install 'dedup[dask]' to run the Dask tests")
pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install 'dedup[dask]' to run the Dask tests")

from dedup.dask import DaskScanner, local_cluster, write_parquet

DAY = dt.datetime(2025, 3, 3, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    client = local_cluster(2, processes=True, threads_per_worker=1, silence_logs=logging.ERROR)
    try:
        yield client
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()


def report(result: Any) -> dict[str, Any]:
    out = result.to_dict()
    out["stats"].pop("seconds")
    return out


def stories(n_stories: int = 12, per_story: int = 4, seed: int = 0) -> list[Article]:
    """Articles of one story share its rare words (same story), some republish another verbatim or edited."""
    rng = random.Random(seed)
    out = []
    for s in range(n_stories):
        entities = [f"entity{s}x{j}" for j in range(14)]
        for k in range(per_story):
            words = filler(140, seed=1000 * s + k).split()
            for position in rng.sample(range(len(words)), 40):
                words[position] = rng.choice(entities)
            text = " ".join(words)
            out.append(Article(f"story{s:02d}/{k}", text, outlet=f"outlet{k % 3}",
                               published=DAY + dt.timedelta(days=1.5 * s + 0.3 * k) if s % 4 else None))
            if k == 0:
                out.append(Article(f"story{s:02d}/copy", edit_words(text, 0.05, seed=s) + "\n\n" + filler(30, seed=s),
                                   outlet="copier", published=DAY + dt.timedelta(days=1.5 * s + 1)))
    return out


def tricky() -> list[Article]:
    """Edge cases for every stage: copies above ``max_exact_group``, buckets above ``max_bucket``,
    equal cosines (the same words shuffled: more ties than neighbour slots), boilerplate with
    and without an outlet, dated and undated articles."""
    out = [*constructed(), *stories()]
    stub = "Shares of Example Corp rose 3 percent on Monday after the company reported results. " * 3
    out += [Article(f"stub/{i}", stub, outlet="wire") for i in range(6)]
    template = filler(120, seed=42)
    out += [Article(f"tpl/{i}", edit_words(template, 0.01, seed=i) + f" item {i}",
                    published=DAY + dt.timedelta(days=i % 3)) for i in range(8)]
    boiler = "Subscribe to the Daily Gazette for more news from the region every morning."
    for i in range(4):
        out.append(Article(f"gazette/{i}", filler(150, seed=100 + i) + "\n\n" + boiler, outlet="Gazette",
                           published=DAY + dt.timedelta(days=5 * i)))
        out.append(Article(f"anon/{i}", filler(150, seed=200 + i) + "\n\nFollow us on social media for updates."))
    words = filler(150, seed=77).split()
    for i in range(15):
        shuffled = words[:]
        random.Random(i).shuffle(shuffled)
        out.append(Article(f"shuffle/{i:02d}", " ".join(shuffled), published=DAY if i % 2 else None))
    out.append(Article("extended-wire", WIRE + "\n\nReporter: Is it over?\n\nMinister: " + filler(60, seed=8)))
    # long pages (windows): a wire paragraph inside each (passage fingerprints, long runs), and the
    # story of one part of a page told again in a short article (same story through a window)
    for i in range(6):
        paragraph = PARAGRAPHS[i % len(PARAGRAPHS)]
        page = filler(900, seed=300 + i) + "\n\n" + paragraph + "\n\n" + filler(300, seed=400 + i)
        out.append(Article(f"page/{i}", page, outlet=f"site{i % 2}", published=DAY + dt.timedelta(days=i % 2)))
        part = stories(1, 1, seed=500 + i)[0].text.replace("entity0x", f"long{i}x")
        shuffled = part.split()
        random.Random(i).shuffle(shuffled)
        out.append(Article(f"longstory/{i}", filler(1000, seed=600 + i) + "\n\n" + part, published=DAY))
        out.append(Article(f"longstory/{i}-retold", " ".join(shuffled), published=DAY + dt.timedelta(hours=5)))
    return out


def test_samples_identical(client: Any) -> None:
    local = Scanner().scan(iter_articles(SAMPLES))
    dask = DaskScanner(client=client, partition_size=5).scan(SAMPLES)
    assert report(dask) == report(local)
    assert local.pairs and local.clusters and any(a.added_sections for a in local.articles)


@pytest.mark.parametrize("changes", [{}, {"window_days": None}, {"same_story": None, "passages": False}])
def test_constructed_identical(client: Any, changes: dict[str, Any]) -> None:
    params = Params(max_exact_group=3, max_bucket=3).replace(**changes)
    articles = tricky()
    random.Random(5).shuffle(articles)  # input order must not matter
    local = Scanner(params).scan(articles)
    dask = DaskScanner(params, client=client, partition_size=30, chunk_rows=8).scan(articles)
    assert report(dask) == report(local)
    stats = local.stats
    assert stats["capped_exact_groups"] and stats["oversized_buckets"] and len(stats["collapsed_groups"]) >= 2
    if params.same_story is not None:
        assert stats["pairs_by_relation"]["same_story"] > 50
        labels = {p.label for a in local.articles for p in a.passages}
        assert {"boilerplate", "interview"} <= labels
        assert {c.origin for c in local.clusters} != {None}


def test_partitioned_jsonl_and_parquet(client: Any, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    articles = sorted(stories(6, 3), key=lambda a: a.id)
    records = [{"id": a.id, "text": a.text, "outlet": a.outlet,
                "published": a.published.isoformat() if a.published else None} for a in articles]
    (tmp_path / "jsonl").mkdir()
    (tmp_path / "parquet").mkdir()
    for part in range(3):
        chunk = records[part::3]
        lines = [json.dumps(r) for r in chunk] + (["{not json"] if part == 1 else [])
        (tmp_path / "jsonl" / f"part-{part}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        pq.write_table(pa.Table.from_pylist(chunk), tmp_path / "parquet" / f"part-{part}.parquet")
    local = report(Scanner().scan(iter_articles(tmp_path / "jsonl")))
    from_jsonl = report(DaskScanner(client=client, partition_size=5).scan(str(tmp_path / "jsonl" / "*.jsonl")))
    assert from_jsonl == local
    assert [s["line"] for s in local["skipped"]] == [len(records[1::3]) + 1]
    from_parquet = report(DaskScanner(client=client, partition_size=5).scan(f"file://{tmp_path / 'parquet'}"))
    del local["skipped"], from_parquet["skipped"]
    local["stats"]["skipped"] = from_parquet["stats"]["skipped"] = 0
    assert from_parquet == local


def test_cli_engine_dask(client: Any, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dedup.cli import app

    runner = CliRunner()
    local = runner.invoke(app, ["scan", str(SAMPLES), "-f", "json", "-q"])
    out = tmp_path / "parquet"
    dask = runner.invoke(app, ["scan", str(SAMPLES), "-f", "json", "-q", "--engine", "dask",
                               "--scheduler", client.scheduler.address, "--parquet", str(out)])
    assert local.exit_code == 0 and dask.exit_code == 0, dask.output
    first, second = json.loads(local.stdout), json.loads(dask.stdout)
    first["stats"].pop("seconds"), second["stats"].pop("seconds")
    assert first == second
    import pyarrow.parquet as pq

    assert pq.read_table(out / "pairs").num_rows == len(first["pairs"])
    assert pq.read_table(out / "clusters").num_rows == len(first["clusters"])
    assert pq.read_table(out / "sections").num_rows == sum(len(a["added_sections"]) for a in first["articles"])


def test_write_parquet_empty(tmp_path: Path) -> None:
    written = write_parquet(Scanner().scan([]), tmp_path)
    assert sorted(Path(p).parent.name for p in written) == ["clusters", "pairs", "sections"]


def test_import_dedup_does_not_import_dask() -> None:
    code = "import sys, dedup, dedup.cli; sys.exit(any(m in sys.modules for m in ('dask', 'distributed')))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
