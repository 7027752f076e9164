"""The canonical case: five real rewrites of one story (../shared/seeds)."""

import itertools
import json

import pytest

from dedup import Scanner, load_articles

from .helpers import DATA, SEEDS, need

INTERVIEWS = {"000_206435639c0e95f0.txt", "003_6453bbcd65039158.txt"}


@pytest.fixture(scope="module")
def scan():
    articles, skipped = load_articles(need(SEEDS))
    assert not skipped
    return articles, Scanner().scan(articles)


def _interview_block(text: str) -> tuple[int, int]:
    start = text.index("Interview between")
    turns = [i for i in range(len(text)) if text.startswith(("\nEditor:", "\nDr. "), i)]
    end = text.index("\n", turns[-1] + 1) if "\n" in text[turns[-1] + 1 :] else len(text)
    return start, end


def test_all_five_in_one_cluster_linked_same_story(scan):
    articles, result = scan
    assert len(result.clusters) == 1
    assert sorted(result.clusters[0].members) == sorted(a.id for a in articles)
    assert len(result.pairs) == 10
    assert {p.relation for p in result.pairs} == {"same_story"}
    assert all(0.2 <= p.cosine < 0.6 for p in result.pairs)


def test_verbatim_tier_alone_links_none_of_them(scan):
    articles, _ = scan
    verbatim = Scanner(same_story=None).scan(articles)
    assert verbatim.pairs == [] and verbatim.clusters == []


@pytest.mark.parametrize("article_id", sorted(INTERVIEWS))
def test_top_added_section_is_the_interview(scan, article_id):
    articles, result = scan
    text = next(a.text for a in articles if a.id == article_id)
    top = result.article(article_id).added_sections[0]
    assert top.label == "interview"
    start, end = _interview_block(text)
    covered = max(0, min(end, top.end) - max(start, top.start))
    assert covered / (end - start) >= 0.9
    assert (top.end - top.start - covered) / (top.end - top.start) <= 0.05


def _labels(result, article_id):
    return {s.label: s.text for s in result.article(article_id).added_sections}


def test_boilerplate_caption_credits_and_byline_are_labelled(scan):
    _, result = scan
    assert "Leave a Comment" in _labels(result, "003_6453bbcd65039158.txt")["boilerplate"]
    assert "You may also like" in _labels(result, "003_6453bbcd65039158.txt")["boilerplate"]
    caption_and_credits = _labels(result, "001_037cb2e6a5b2619f.txt")
    assert "Getty Images" in caption_and_credits["caption"]
    assert caption_and_credits["attribution"].startswith("(Sources: AFP")
    assert "niceshin@donga.com" in _labels(result, "004_56f86b59b630956c.txt")["byline"]


def test_report_passages_cover_the_text_in_order(scan):
    articles, result = scan
    for article in articles:
        passages = result.article(article.id).passages
        assert passages, article.id
        assert all(article.text[p.start : p.end] == p.text for p in passages)
        assert all(a.end <= b.start for a, b in itertools.pairwise(passages))


def test_seeds_with_all_of_bbc_stay_one_cluster():
    bbc = need(DATA / "bbc_news_fulltext" / "documents.jsonl")
    seeds, _ = load_articles(need(SEEDS))
    others, _ = load_articles(bbc)
    result = Scanner(passages=False).scan([*seeds, *others])
    seed_ids = {a.id for a in seeds}
    homes = {a.cluster for a in result.articles if a.id in seed_ids}
    assert len(homes) == 1 and None not in homes
    cluster = next(c for c in result.clusters if c.id in homes)
    assert set(cluster.members) == seed_ids
    assert json.dumps(result.to_dict())  # the report of 2,230 articles serialises
