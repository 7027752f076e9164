"""Verbatim relations on constructed cases: verbatim, trimmed, edited, contained, unrelated."""

import numpy as np
import pytest

from dedup import Article, Params, Scanner, relation
from dedup.candidates import BandedLSH, collision_probability
from dedup.ragged import Ragged
from dedup.shingle import ShingleHasher
from dedup.sign import MinHasher
from dedup.verify import Overlaps, intersection_size, verbatim_relations

from .helpers import WIRE, edit_words, filler

PARAGRAPHS = [p for p in WIRE.split("\n\n") if p.strip()]
TRIMMED = "\n\n".join(PARAGRAPHS[: int(len(PARAGRAPHS) * 0.6)])
CONTAINED = filler(600, seed=3) + "\n\n" + WIRE  # ~1,000 words holding the 400-word wire


def _relation(result, a, b):
    for pair in result.pairs:
        if {pair.a, pair.b} == {a, b}:
            return pair
    return None


@pytest.fixture(scope="module")
def result():
    articles = [
        Article("wire", WIRE),
        Article("verbatim", WIRE.replace("\n\n", "\n")),
        Article("trimmed", TRIMMED),
        Article("edited", edit_words(WIRE, 0.12)),
        Article("contained", CONTAINED),
        Article("unrelated", filler(400, seed=9)),
        Article("unrelated2", filler(500, seed=10)),
    ]
    return Scanner(same_story=None, passages=False).scan(articles)


def test_verbatim_copy_is_exact(result):
    assert _relation(result, "wire", "verbatim").relation == "exact"


def test_trimmed_copy_is_derived_and_fully_contained(result):
    pair = _relation(result, "wire", "trimmed")
    assert pair.relation in {"derived", "near_duplicate"}
    inside = pair.containment_a_in_b if pair.a == "trimmed" else pair.containment_b_in_a
    assert inside > 0.95


def test_edited_copy_is_found(result):
    pair = _relation(result, "wire", "edited")
    assert pair is not None and pair.relation in {"derived", "near_duplicate"}
    assert 0.3 < pair.jaccard < 0.9


def test_contained_copy_has_full_containment_and_low_jaccard(result):
    pair = _relation(result, "wire", "contained")
    assert pair.relation == "derived"
    assert pair.jaccard < 0.5
    wire_in_other = pair.containment_a_in_b if pair.a == "wire" else pair.containment_b_in_a
    assert wire_in_other > 0.95
    assert pair.source == "wire"


def test_unrelated_articles_are_not_linked(result):
    linked = {pair.a for pair in result.pairs} | {pair.b for pair in result.pairs}
    assert "unrelated" not in linked and "unrelated2" not in linked


def test_containment_and_jaccard_are_exact():
    a = np.array([1, 2, 3, 4], dtype=np.uint64)
    b = np.array([3, 4, 5, 6, 7, 8], dtype=np.uint64)
    sets = Ragged.from_rows([a, b])
    overlaps = Overlaps.compute(sets, sets, np.array([[0, 1]]))
    assert intersection_size(a, b) == 2
    assert overlaps.jaccard[0] == pytest.approx(2 / 8)
    assert overlaps.containment_a_in_b[0] == pytest.approx(0.5)
    assert overlaps.containment_b_in_a[0] == pytest.approx(2 / 6)


def test_relation_thresholds_are_parameters():
    overlaps = Overlaps(np.array([12.0]), np.array([0.45]), np.array([0.6]), np.array([0.6]))
    no = np.array([False])
    assert verbatim_relations(overlaps, no, Params(near_duplicate=0.4))[0] == relation.NEAR_DUPLICATE
    assert verbatim_relations(overlaps, no, Params(derived=0.7))[0] == relation.NONE
    assert verbatim_relations(overlaps, no, Params())[0] == relation.DERIVED
    assert verbatim_relations(overlaps, no, Params(min_shared=13))[0] == relation.NONE
    assert verbatim_relations(overlaps, np.array([True]), Params())[0] == relation.EXACT


def test_lsh_finds_contained_copy_candidates_and_not_empty_docs():
    texts = [WIRE, CONTAINED, TRIMMED, "", "", filler(300, seed=4)]
    signatures = MinHasher().transform(ShingleHasher(3).transform(texts))
    pairs = {tuple(p) for p in BandedLSH(0.2, 128).candidate_pairs(signatures)}
    assert (0, 1) in pairs and (0, 2) in pairs
    assert (3, 4) not in pairs


def test_band_choice_catches_low_jaccard_copies():
    lsh = BandedLSH(0.2, 128)
    assert collision_probability(0.3, lsh.bands, lsh.rows) > 0.9
    assert collision_probability(0.02, lsh.bands, lsh.rows) < 0.05


def test_shared_counts_of_many_pairs_are_the_intersections_even_for_neighbouring_hashes():
    from dedup.verify import shared_counts

    rng = np.random.default_rng(11)
    rows = [np.unique(rng.integers(0, 2**64, int(rng.integers(0, 40)), dtype=np.uint64)) for _ in range(30)]
    # hashes 2c and 2c + 1 agree but for the lowest bit: one row holds both (a repeated column)
    rows += [np.array([4, 5, 2**64 - 2], np.uint64), np.array([5, 2**64 - 1], np.uint64), np.array([], np.uint64)]
    rows += [rows[3][:10], np.concatenate([rows[3], [2**64 - 1]]).astype(np.uint64)]
    sets = Ragged.from_rows([np.unique(r) for r in rows])
    pairs = np.array([(i, j) for i in range(len(rows)) for j in range(len(rows))])
    expected = [intersection_size(sets.row(i), sets.row(j)) for i, j in pairs]
    assert shared_counts(sets, sets, pairs).tolist() == expected
    assert shared_counts(sets, sets, np.empty((0, 2), np.int64)).tolist() == []


def test_bucket_pairs_of_all_small_buckets_at_once_are_each_buckets_pairs():
    from dedup.candidates import _group_pairs, encode_pairs

    rng = np.random.default_rng(2)
    values = rng.permutation(500)[:60]
    starts, sizes = np.array([0, 7, 20, 41]), np.array([3, 9, 5, 19])
    groups = zip(starts.tolist(), sizes.tolist(), strict=True)
    expected = np.concatenate([encode_pairs(np.sort(values[s : s + n]), 500) for s, n in groups])
    assert sorted(_group_pairs(values, starts, sizes, 500).tolist()) == sorted(expected.tolist())
