"""Helpers of the index tests: backends (SQLite, a real PostgreSQL when one is configured) and the
scan-side answer an index query must reproduce."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from dedup import Article, Index, Params, Scanner
from dedup.result import ScanResult

POSTGRES_URL = os.environ.get("DEDUP_TEST_POSTGRES_URL", "")
TABLES = "meta, articles, bands, df, links, passages, family_df, family_df_recent"


def postgres_url() -> str:
    """The test server's URL with empty tables; skips (saying why) when there is none."""
    if not POSTGRES_URL:
        pytest.skip("DEDUP_TEST_POSTGRES_URL is not set (.ci/run starts a server and sets it): PostgreSQL skipped")
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'dedup[postgres]'): PostgreSQL skipped")
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {TABLES}")
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is not reachable ({exc}): PostgreSQL skipped")
    return POSTGRES_URL


_COUNT = iter(range(1 << 30))


def backend_url(backend: str, tmp_path: object) -> str:
    """A new, empty index location (PostgreSQL: the test database, emptied)."""
    if backend == "postgresql":
        return postgres_url()
    if backend == "memory":
        return ":memory:"
    return os.path.join(str(tmp_path), f"index-{next(_COUNT)}.db")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """An empty index location on each backend."""
    yield backend_url(request.param, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Callable[[], str]]:
    """A maker of empty index locations on each backend."""
    backend_url(request.param, tmp_path)  # skips now when the backend is absent
    yield lambda: backend_url(request.param, tmp_path)


def scan_answer(result: ScanResult, article_id: str) -> dict[str, tuple[str, float, float, float, float]]:
    """What a scan reports for one article: other id -> (relation, Jaccard, containment of the
    article in the other, of the other in the article, cosine)."""
    out = {}
    for p in result.pairs:
        if article_id == p.a:
            out[p.b] = (p.relation, p.jaccard, p.containment_a_in_b, p.containment_b_in_a, p.cosine)
        elif article_id == p.b:
            out[p.a] = (p.relation, p.jaccard, p.containment_b_in_a, p.containment_a_in_b, p.cosine)
    return out


def query_answer(index: Index, article: Article) -> tuple[dict[str, tuple[str, float, float, float, float]], object]:
    found = index.query(article)
    return {m.id: (m.relation, m.jaccard, m.containment_query_in_match, m.containment_match_in_query, m.cosine)
            for m in found}, found


def compare_each(articles: list[Article], url_of: object, one_by_one: bool = False,
                 params: Params | None = None, verbatim_only: bool = False) -> list[str]:
    """For each article: an index of the others queried with it, against a scan of all: relations,
    scores, shared spans, the article's story (the query's cluster) and its added sections.
    Returns the differences found (empty: equivalent). ``verbatim_only``: the verbatim relations
    and their overlaps only (no same-story pairs, cosines, stories or sections)."""
    result = Scanner(params).scan(articles)
    problems = []
    for article in articles:
        with Index(url_of(), params) as index:  # type: ignore[operator]
            others = [a for a in articles if a.id != article.id]
            if one_by_one:
                for other in others:
                    index.add(other)
            else:
                index.add_many(others)
            mine, found = query_answer(index, article)
        expected = scan_answer(result, article.id)
        if verbatim_only:
            mine, expected = _verbatim(mine), _verbatim(expected)
        for other in sorted(set(mine) | set(expected)):
            if mine.get(other) != expected.get(other):
                problems.append(f"{article.id} ~ {other}: scan {expected.get(other)}, query {mine.get(other)}")
        if verbatim_only:
            continue
        spans = {(p.b if p.a == article.id else p.a): p.spans for p in result.pairs if article.id in (p.a, p.b)}
        for match in found:  # type: ignore[attr-defined]
            if match.id in spans and match.spans != spans[match.id]:
                problems.append(f"{article.id} ~ {match.id}: spans differ")
        story = result.article(article.id).cluster
        members = sorted(next(c for c in result.clusters if c.id == story).members) if story else []
        cluster = found.cluster  # type: ignore[attr-defined]
        if members != (sorted(cluster.members) if cluster else []):
            problems.append(f"{article.id}: story {members}, query's cluster {cluster.members if cluster else []}")
        sections = [(s.start, s.end, s.label) for s in result.article(article.id).added_sections]
        if sections != [(s.start, s.end, s.label) for s in found.added_sections]:  # type: ignore[attr-defined]
            problems.append(f"{article.id}: added sections differ")
    return problems


def _verbatim(answer: dict[str, tuple[str, float, float, float, float]]) -> dict[str, tuple[str, float, float, float]]:
    return {other: found[:4] for other, found in answer.items() if found[0] != "same_story"}
