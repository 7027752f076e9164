"""Large groups of copies: bounded pairs, one cluster, and the groups named in the report."""

from __future__ import annotations

import random

import numpy as np

from dedup import Article, Params, Scanner
from dedup.candidates import BandedLSH
from dedup.link import Copies, exact_pairs

from .helpers import WIRE


def test_exact_groups_above_the_cap_list_pairs_to_their_first_member_only():
    keys = [b"a", b"b", b"a", b"a", b"c", b"a"]
    copies = Copies.of(np.array(keys, dtype="S16"))
    small, capped = exact_pairs(copies, max_group=10)
    assert small.tolist() == [[0, 2], [0, 3], [0, 5], [2, 3], [2, 5], [3, 5]] and capped == []
    star, capped = exact_pairs(copies, max_group=3)
    assert star.tolist() == [[0, 2], [0, 3], [0, 5]]
    assert [g.tolist() for g in capped] == [[0, 2, 3, 5]]

def test_thousands_of_identical_stubs_make_one_cluster_and_few_pairs():
    stubs = [Article(f"stub{i:04d}", "Subscribe to read this article.") for i in range(3000)]
    result = Scanner(max_exact_group=50).scan([*stubs, Article("wire", WIRE)])
    assert len(result.pairs) == 2999  # the first stub with each other one, not 4.5 million pairs
    assert {p.relation for p in result.pairs} == {"exact"}
    assert [len(c.members) for c in result.clusters] == [3000]
    assert [len(g) for g in result.stats["capped_exact_groups"]] == [3000]
    assert result.article("wire").cluster is None

def test_small_exact_groups_still_list_every_pair_and_inherit_links():
    copies = [Article(f"copy{i}", WIRE) for i in range(4)]
    extended = Article("extended", WIRE + "\n\nA local paragraph about the harbour museum and its new wing.")
    result = Scanner().scan([*copies, extended])
    exact = [p for p in result.pairs if p.relation == "exact"]
    assert len(exact) == 6
    to_extended = [p for p in result.pairs if "extended" in (p.a, p.b)]
    assert len(to_extended) == 4 and len({(p.relation, p.jaccard) for p in to_extended}) == 1

def test_near_identical_articles_beyond_the_bucket_cap_stay_one_cluster():
    words = WIRE.split(" ")
    rng = random.Random(1)
    articles = []
    for i in range(300):
        edited = list(words)
        edited[rng.randrange(len(edited))] = f"changed{i}"
        articles.append(Article(f"near{i:03d}", " ".join(edited)))
    capped = Scanner(max_bucket=50, same_story=None, passages=False).scan(articles)
    assert capped.stats["oversized_buckets"] > 0
    assert [len(c.members) for c in capped.clusters] == [300]
    assert len(capped.stats["collapsed_groups"]) == 1

def test_oversized_buckets_are_returned_and_give_star_pairs():
    signatures = np.zeros((6, 128), np.uint32)
    pairs, oversized = BandedLSH(0.2, 128, max_bucket=3).candidates(signatures)
    assert pairs.tolist() == [[0, j] for j in range(1, 6)]
    assert [g.tolist() for g in oversized] == [list(range(6))]
    assert Params().max_bucket == 1000
