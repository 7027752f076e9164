"""Wire copy the hard ways, through the whole scan: excerpts in long pages, halves of two
stories, truncated copies, clutter and tweets, write-thru versions (constructed from Reuters text)."""

from __future__ import annotations

import random

import pytest

from dedup import Article, Scanner

from . import constructed
from .helpers import DATA, need


@pytest.fixture(scope="module")
def pool():
    return constructed.load_stories(need(DATA / "reuters21578" / "documents.jsonl"))


def _scan(case: constructed.Case, **params) -> tuple[list[str], object]:
    ids = [f"doc{n:02d}" for n in range(len(case.texts))]
    return ids, Scanner(**params).scan([Article(i, t) for i, t in zip(ids, case.texts, strict=True)])


def _linked(ids, result) -> set[tuple[int, int]]:
    position = {i: n for n, i in enumerate(ids)}
    return {tuple(sorted((position[p.a], position[p.b]))) for p in result.pairs if p.relation != "same_story"}


@pytest.mark.parametrize("seed", range(5))
def test_two_wire_paragraphs_inside_an_article_five_times_longer_are_linked(pool, seed):
    case = constructed.excerpt_case(pool, random.Random(seed), n_paragraphs=2, ratio=5.0)
    ids, result = _scan(case)
    assert _linked(ids, result) == case.truth
    pair = next(p for p in result.pairs if p.relation != "same_story")
    assert pair.relation == "derived" and pair.jaccard < 0.3
    assert pair.spans and sum(s["words"] for s in pair.spans) >= 25


@pytest.mark.parametrize("seed", range(4))
def test_an_article_made_of_two_wire_halves_is_linked_to_both_and_each_passage_to_its_source(pool, seed):
    case = constructed.halves_case(pool, random.Random(seed))
    ids, result = _scan(case)
    assert case.truth <= _linked(ids, result)
    host = result.article(ids[2])
    boundary = case.planted[(1, 2)][0][2]
    for passage in host.passages:
        if passage.matched is not None and passage.verbatim:
            assert passage.matched == (ids[0] if passage.end <= boundary else ids[1])


@pytest.mark.parametrize("seed", range(4))
def test_a_truncated_figure_rich_copy_with_other_figures_is_a_copy(pool, seed):
    case = constructed.truncated_case(pool, random.Random(seed))
    ids, result = _scan(case)
    assert _linked(ids, result) == case.truth


def test_a_share_widget_and_a_quoted_tweet_do_not_link_unrelated_articles(pool):
    for n_pages in (2, 60):
        case = constructed.widget_case(pool, random.Random(n_pages), n_pages=n_pages)
        ids, result = _scan(case, same_story=None)
        assert _linked(ids, result) == set(), f"{n_pages} pages"


@pytest.mark.parametrize("seed", range(3))
def test_write_thru_versions_of_one_outlet_report_no_wire_paragraph_as_added(pool, seed):
    case = constructed.write_thru_case(pool, random.Random(seed))
    ids, result = _scan(case)
    assert len({result.article(i).cluster for i in ids}) == 1 and result.article(ids[0]).cluster is not None
    for n, text in enumerate(case.texts):
        others = [set(t.split("\n\n")) for m, t in enumerate(case.texts) if m != n]
        article = result.article(ids[n])
        for section in article.added_sections:
            for paragraph in text.split("\n\n"):
                if len(paragraph.split()) >= 25 and any(paragraph in o for o in others):
                    assert paragraph not in section.text, f"{ids[n]}: wire paragraph reported as added"
