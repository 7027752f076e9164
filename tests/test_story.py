import datetime as dt

import numpy as np
import pytest

from dedup import Article, Params, Scanner
from dedup.normalize import normalize, token_text
from dedup.story import Idf, figure_terms, neighbours, probe_neighbours, term_counts

from .helpers import SAMPLES, WIRE, filler

REWRITE = (SAMPLES / "outlets" / "worldwire_rewrite.md").read_text(encoding="utf-8")


def _counts(texts):
    return term_counts([token_text(normalize(t)) for t in texts])


def _vectors(texts):
    counts = _counts(texts)
    return Idf.fit(counts, Params()).transform(counts)


def _neighbours(vectors, times=None, window_days=2.0, min_cosine=0.3):
    return neighbours(vectors, times, k=10, min_cosine=min_cosine, window_days=window_days, min_shared_terms=3)


def test_rewrite_is_a_neighbour_and_unrelated_text_is_not():
    texts = [WIRE, REWRITE, filler(400, seed=5), filler(400, seed=6)]
    pairs, cosine = _neighbours(_vectors(texts))
    assert [tuple(p) for p in pairs] == [(0, 1)]
    assert 0.3 <= cosine[0] < 0.9


def test_publication_window_keeps_distant_articles_apart():
    texts = [WIRE, REWRITE, WIRE + " more", REWRITE + " again"]
    times = np.array([0.0, 1.0, 30.0, np.nan])
    pairs, _ = _neighbours(_vectors(texts), times, window_days=7)
    found = {tuple(p) for p in pairs}
    assert (0, 1) in found and (0, 3) in found and (2, 3) in found  # undated compares with all
    assert (0, 2) not in found and (1, 2) not in found


def test_document_frequencies_grow_with_add():
    params = Params(max_df_floor=10)
    first = Idf.fit(_counts([WIRE, REWRITE]), params)
    grown = first.add(_counts([filler(200, seed=2)] * 3))
    assert grown.n_docs == 5 and first.n_docs == 2  # a value: adding makes a new one
    assert not np.array_equal(first.weights, grown.weights)
    once = Idf.fit(_counts([WIRE, REWRITE, *[filler(200, seed=2)] * 3]), params)
    assert np.allclose(once.weights, grown.weights)


def test_probe_gives_the_self_join_neighbours_of_the_query():
    texts = [WIRE, REWRITE, filler(400, seed=5), WIRE + " extra words here", filler(300, seed=7)]
    vectors = _vectors(texts)
    pairs, scores = _neighbours(vectors, window_days=None)
    for query in range(len(texts)):
        others = np.array([i for i in range(len(texts)) if i != query])
        found, cos = probe_neighbours(vectors[[query]], None, vectors[others], None, k=10, min_cosine=0.3,
                                      window_days=None, min_shared_terms=3)
        probed = {tuple(sorted((query, int(others[j])))): c for (_, j), c in zip(found, cos, strict=True)}
        joined = {tuple(p): c for p, c in zip(pairs.tolist(), scores, strict=True) if query in p}
        assert probed.keys() == joined.keys()
        assert all(np.isclose(probed[k], joined[k]) for k in probed)


def test_equal_cosines_are_broken_by_position():
    texts = [WIRE] * 6 + [REWRITE]  # six identical rows: every neighbour of the rewrite ties
    vectors = _vectors(texts)
    found, _ = neighbours(vectors, None, k=2, min_cosine=0.1, window_days=None, min_shared_terms=3)
    partners = sorted(int(i) for i, j in found if j == 6)
    assert partners == [0, 1]


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


def test_figures_are_terms_as_written_so_a_template_with_other_numbers_differs() -> None:
    assert figure_terms(["load", "factor", "63", "4", "pct", "in", "march"]) == ["x63_4"]
    assert figure_terms(["up", "1", "00", "1", "25", "dlr"]) == ["x1_00_1_25"]
    assert figure_terms(["no", "figures", "here"]) == []
    # The same words in the same amounts, the figures written otherwise: 63.4 and 4.63 are tokens 63, 4
    # either way, so only the figure terms tell the two reports apart.
    first = "Piedmont said its March load factor was 63.4 pct against 61.2 pct a year earlier."
    second = "Piedmont said its March load factor was 4.63 pct against 2.61 pct a year earlier."
    filler = [f"Council item {i} on parking, bins and the library roof." for i in range(40)]
    tokens = [token_text(normalize(t)) for t in [first, second, *filler]]
    assert sorted(tokens[0].split()) == sorted(tokens[1].split())
    counts = term_counts(tokens)
    vectors = Idf.fit(counts, Params()).transform(counts)
    assert float(vectors[0].multiply(vectors[1]).sum()) < 0.9
    assert float(vectors[0].multiply(vectors[0]).sum()) == pytest.approx(1.0, abs=1e-5)


def _brute_neighbours(vectors, times, owners, k, min_cosine, window_days, min_shared_terms):
    """The neighbour rule written out: per row the k best other-owner rows in the window (equal
    cosines to the lower row), pairs of owners with their best cosine."""
    dense = (vectors @ vectors.T).toarray()
    terms = ((vectors != 0).astype(np.int64) @ (vectors != 0).astype(np.int64).T).toarray()
    best = {}
    for i in range(dense.shape[0]):
        near = [j for j in range(dense.shape[0]) if owners[j] != owners[i] and dense[i, j] >= min_cosine
                and not (window_days is not None and abs(times[i] - times[j]) > window_days)]
        for j in sorted(near, key=lambda j: (-dense[i, j], j))[:k]:
            if terms[i, j] >= min_shared_terms:
                key = tuple(sorted((int(owners[i]), int(owners[j]))))
                best[key] = max(best.get(key, -1.0), float(dense[i, j]))
    return best


@pytest.mark.parametrize("window_days", [None, 1.0])
def test_neighbours_follow_the_rule_with_owners_ties_and_chunks(window_days):
    texts = [WIRE, REWRITE, WIRE, REWRITE + " again"] + [filler(80, seed=s) for s in range(30)]
    texts += [t + " " + filler(20, seed=100 + n) for n, t in enumerate(texts[:12])]
    vectors = _vectors(texts)
    owners = np.array([n // 2 for n in range(len(texts))])  # two rows per owner, as an article's windows
    times = np.where(np.arange(len(texts)) % 5 == 0, np.nan, np.arange(len(texts)) % 9).astype(float)
    pairs, scores = neighbours(vectors, times, k=3, min_cosine=0.1, window_days=window_days, min_shared_terms=3,
                               owners=owners, chunk_rows=16)
    expected = _brute_neighbours(vectors, times, owners, 3, 0.1, window_days, 3)
    assert {tuple(p) for p in pairs.tolist()} == set(expected)
    assert all(np.isclose(s, expected[tuple(p)]) for p, s in zip(pairs.tolist(), scores, strict=True))


def test_window_cosines_of_all_pairs_at_once_are_each_blocks_maximum():
    import scipy.sparse as sp

    from dedup.link import _best_row_cosines
    from dedup.ragged import Ragged

    rng = np.random.default_rng(3)
    rows = sp.random(40, 300, density=0.05, random_state=4, dtype=np.float32, format="csr")
    left = Ragged.from_rows([rng.choice(40, int(rng.integers(1, 6)), replace=False) for _ in range(25)], np.int64)
    right = Ragged.from_rows([rng.choice(40, int(rng.integers(1, 6)), replace=False) for _ in range(25)], np.int64)
    expected = [float((rows[left.row(p)] @ rows[right.row(p)].T).max()) for p in range(25)]
    assert _best_row_cosines(rows, left, right).tolist() == expected  # the same floats, not merely close
