import datetime as dt

import numpy as np

from dedup import Article, Scanner
from dedup.story import StoryNeighbours, StoryVectorizer

from .helpers import SAMPLES, WIRE, filler

REWRITE = (SAMPLES / "outlets" / "worldwire_rewrite.md").read_text(encoding="utf-8")


def _vectors(texts):
    vectorizer = StoryVectorizer()
    counts = vectorizer.counts(texts)
    return vectorizer.fit(counts).transform(counts)


def test_rewrite_is_a_neighbour_and_unrelated_text_is_not():
    texts = [WIRE, REWRITE, filler(400, seed=5), filler(400, seed=6)]
    pairs, cosine = StoryNeighbours(min_cosine=0.3).pairs(_vectors(texts))
    assert [tuple(p) for p in pairs] == [(0, 1)]
    assert 0.3 <= cosine[0] < 0.9


def test_publication_window_keeps_distant_articles_apart():
    texts = [WIRE, REWRITE, WIRE + " more", REWRITE + " again"]
    times = np.array([0.0, 1.0, 30.0, np.nan])
    pairs, _ = StoryNeighbours(window_days=7).pairs(_vectors(texts), times)
    found = {tuple(p) for p in pairs}
    assert (0, 1) in found and (0, 3) in found and (2, 3) in found  # undated compares with all
    assert (0, 2) not in found and (1, 2) not in found


def test_document_frequencies_grow_with_partial_fit():
    vectorizer = StoryVectorizer(max_df_floor=10)
    first = vectorizer.counts([WIRE, REWRITE])
    vectorizer.partial_fit(first)
    idf_before = vectorizer.idf_.copy()
    vectorizer.partial_fit(vectorizer.counts([filler(200, seed=2)] * 3))
    assert vectorizer.n_docs_ == 5
    assert not np.array_equal(idf_before, vectorizer.idf_)
    one = StoryVectorizer(max_df_floor=10).fit(vectorizer.counts([WIRE, REWRITE, *[filler(200, seed=2)] * 3]))
    assert np.allclose(one.idf_, vectorizer.idf_)


def test_same_story_relation_in_a_scan_and_its_window():
    day = dt.datetime(2025, 3, 3, tzinfo=dt.timezone.utc)
    near = Scanner().scan([Article("wire", WIRE, published=day), Article("rewrite", REWRITE, published=day)])
    assert [p.relation for p in near.pairs] == ["same_story"]
    later = day + dt.timedelta(days=40)
    far = Scanner().scan([Article("wire", WIRE, published=day), Article("rewrite", REWRITE, published=later)])
    assert far.pairs == []


def test_many_articles_on_one_template_do_not_make_a_mega_cluster():
    # 60 "earnings" items: same template, different companies and numbers.
    template = "{name} Corp said quarterly net profit was {a} mln dlrs against {b} mln, revenue {c} mln dlrs."
    articles = [
        Article(f"e{i}", template.format(name=f"Company{i}", a=i, b=i + 3, c=10 * i) + " " + filler(30, seed=i))
        for i in range(60)
    ]
    result = Scanner(passages=False).scan(articles)
    assert max((len(c.members) for c in result.clusters), default=0) <= 2 * 10 + 1
