"""Stories (one event) with copy families inside them; long articles compared by windows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dedup import Article, Scanner, relation
from dedup.article import parse_published
from dedup.link import Links
from dedup.stories import story_labels

from .helpers import SAMPLES, filler

STORIES = Path(__file__).parent / "data" / "stories"


def _story_articles(dated: bool) -> tuple[list[Article], dict[str, str]]:
    index = json.loads((STORIES / "index.json").read_text(encoding="utf-8"))
    articles = [
        Article(e["id"], (STORIES / e["id"]).read_text(encoding="utf-8"), outlet=e["outlet"],
                published=parse_published(e["published"]) if dated else None)
        for e in index
    ]
    return articles, {e["id"]: e["story"] for e in index}


def test_one_event_in_five_versions_a_follow_up_and_a_look_alike_are_two_stories():
    for dated in (True, False):
        articles, story = _story_articles(dated)
        result = Scanner().scan(articles)
        found = sorted(sorted(c.members) for c in result.clusters)
        expected = sorted(sorted(i for i in story if story[i] == s) for s in ("A", "B"))
        assert found == expected, f"dated={dated}: {found}"
        assert result.article("c1_kettleby_gazette.txt").cluster is None


def test_a_story_has_families_of_verbatim_copies_with_their_own_origin():
    wire = (SAMPLES / "wire" / "reuters_port_strike.txt").read_text(encoding="utf-8")
    rewrite = (SAMPLES / "outlets" / "worldwire_rewrite.md").read_text(encoding="utf-8")
    local = ("Harbour cafe owners on the quay said the walkout had emptied their terraces within a day, and the "
             "ferry operator added two extra sailings for passengers who had planned to travel by freight barge. "
             "The town council will discuss emergency support for small traders at its meeting on Thursday evening.")
    articles = [Article("wire", wire), Article("copy", wire + "\n\n" + local), Article("rewrite", rewrite)]
    result = Scanner().scan(articles)
    assert len(result.clusters) == 1
    story = result.clusters[0]
    assert sorted(story.members) == ["copy", "rewrite", "wire"]
    assert [sorted(f.members) for f in story.families] == [["copy", "wire"]]
    assert story.families[0].origin == "wire"
    report = result.to_dict()["clusters"][0]
    assert report["families"][0]["members"] and set(report["families"][0]["members"]) <= set(report["members"])


def test_a_rewrite_of_one_part_of_a_long_page_is_found_by_its_window():
    wire = (SAMPLES / "wire" / "reuters_port_strike.txt").read_text(encoding="utf-8")
    rewrite = (SAMPLES / "outlets" / "worldwire_rewrite.md").read_text(encoding="utf-8")
    others = [(SAMPLES / name).read_text(encoding="utf-8") for name in (
        "other/council_budget_vote.txt", "other/football_match_report.txt", "other/museum_exhibition.txt",
        "wire/afp_heatwave.txt")]
    # a long page, the story a fifth of it (the rest real reports and a long listing of other words)
    page = "\n\n".join([*others[:2], wire, *others[2:], filler(400, seed=3)])
    articles = [Article("page", page), Article("rewrite", rewrite),
                *(Article(f"other{i}", text) for i, text in enumerate(others))]
    windows = Scanner().scan(articles)
    def rewrite_link(result):
        return [(p.relation, p.a, p.b) for p in result.pairs if "rewrite" in (p.a, p.b)]

    assert rewrite_link(windows) == [("same_story", "page", "rewrite")]
    assert rewrite_link(Scanner(story_window=100_000).scan(articles)) == []  # the whole page's vector alone


def test_a_chain_of_weak_links_is_not_one_story():
    n = 12  # a chain 0-1-2-...-11 of weak rewrites' links: no community spans it
    pairs = np.array([[i, i + 1] for i in range(n - 1)])
    zeros = np.zeros(len(pairs))
    links = Links(pairs, np.full(len(pairs), relation.SAME_STORY, np.int8), zeros, zeros, zeros, zeros,
                  np.full(len(pairs), 0.35))
    labels = story_labels(n, links, np.full(n, -1), resolution=0.1)
    sizes = np.bincount(labels[labels >= 0])
    assert sizes.max() <= 4
    # a dense group of the same links is one story
    dense = np.array([[i, j] for i in range(6) for j in range(i + 1, 6)])
    zeros = np.zeros(len(dense))
    links = Links(dense, np.full(len(dense), relation.SAME_STORY, np.int8), zeros, zeros, zeros, zeros,
                  np.full(len(dense), 0.35))
    assert (story_labels(6, links, np.full(6, -1), resolution=0.1) == 0).all()
