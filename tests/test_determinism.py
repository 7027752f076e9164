"""The result is a function of the articles: any input order, batch size or process gives the same."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dedup import Params, Scanner, load_articles, relation
from dedup.cluster import cluster_links
from dedup.fingerprint import Prints, fingerprint, stack_rows
from dedup.link import Links

from .helpers import REPO, SAMPLES
from .test_golden import constructed, snapshot

PRINT_SCRIPT = """
import sys
from dedup import Params, load_articles
from dedup.fingerprint import fingerprint
articles, _ = load_articles(sys.argv[1])
sys.stdout.buffer.write(fingerprint([a.text for a in articles], Params()).to_bytes())
"""


def test_prints_are_the_same_bytes_in_processes_with_different_hash_seeds():
    outputs = []
    for seed in ("1", "2", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", PRINT_SCRIPT, str(SAMPLES)], capture_output=True, env=env,
                              cwd=REPO, check=True)
        outputs.append(done.stdout)
    assert len(outputs[0]) > 10_000
    assert outputs[0] == outputs[1] == outputs[2]


def test_prints_round_trip_through_bytes_and_take():
    articles, _ = load_articles(SAMPLES)
    prints = fingerprint([a.text for a in articles], Params())
    again = Prints.from_bytes(prints.to_bytes())
    assert again == prints
    assert (again.terms != prints.terms).nnz == 0
    rows = [3, 0, 5]
    assert Prints.concat([prints.take([r]) for r in rows]) == prints.take(rows)
    part = prints.take(rows)
    assert np.array_equal(part.shingles.row(1), prints.shingles.row(0))


def test_prints_joined_from_a_stream_of_batches_equal_the_prints_of_the_whole(monkeypatch):
    import dedup.ragged as ragged

    articles, _ = load_articles(SAMPLES)
    texts = [a.text for a in articles]
    whole = fingerprint(texts, Params())
    batches = [texts[lo : lo + 3] for lo in range(0, len(texts), 3)]
    monkeypatch.setattr(ragged, "_MAPPED", 1)  # blocks as small as asked: room runs out and the block grows
    for hint in (None, len(texts), 1):
        joined = Prints.concat((fingerprint(b, Params()) for b in batches), hint)
        assert joined == whole
        assert joined.shingles.values.flags.owndata and joined.terms is not None
    assert stack_rows((whole.terms[lo : lo + 2] for lo in range(0, len(texts), 2)), 1).toarray().tolist() == \
        whole.terms.toarray().tolist()


def _report(articles, **params) -> dict:
    return snapshot(json.loads(json.dumps(Scanner(**params).scan(articles).to_dict())))


@pytest.mark.parametrize("corpus", ["samples", "constructed"])
def test_any_input_order_batch_size_and_processes_give_the_same_report(corpus):
    articles = load_articles(SAMPLES)[0] if corpus == "samples" else constructed()
    expected = _report(articles)
    for seed, batch_size, workers in ((1, 2000, 1), (2, 3, 2), (3, 1, 3), (4, 2, 1)):
        shuffled = list(articles)
        random.Random(seed).shuffle(shuffled)
        assert _report(shuffled, batch_size=batch_size, workers=workers) == expected


def _random_links(rng: random.Random, n: int, m: int) -> Links:
    pairs = set()
    while len(pairs) < m:
        i, j = sorted(rng.sample(range(n), 2))
        pairs.add((i, j))
    ordered = np.array(sorted(pairs), dtype=np.int64)
    codes = np.array([rng.choice([relation.SAME_STORY, relation.DERIVED]) for _ in ordered], dtype=np.int8)
    # few distinct strengths, so that many links tie
    score = np.array([rng.choice([0.3, 0.5]) for _ in ordered])
    zeros = np.zeros(len(ordered))
    return Links(ordered, codes, zeros, zeros, score, zeros, zeros)


def test_clusters_do_not_depend_on_link_order_and_components_cluster_alone():
    rng = random.Random(7)
    for _ in range(60):
        n = rng.randrange(6, 30)
        links = _random_links(rng, n, rng.randrange(3, 3 * n))
        expected = cluster_links(n, links, 0.5)
        shuffled = links.take(np.array(rng.sample(range(len(links)), len(links))))
        assert np.array_equal(cluster_links(n, shuffled, 0.5), expected)
        graph = coo_matrix((np.ones(len(links)), (links.pairs[:, 0], links.pairs[:, 1])), shape=(n, n))
        _, component = connected_components(graph, directed=False)
        for c in np.unique(component):
            members = np.flatnonzero(component == c)
            inside = np.isin(links.pairs[:, 0], members)
            local = links.take(inside)
            renumbered = Links(np.searchsorted(members, local.pairs).reshape(-1, 2), *(
                getattr(local, f) for f in ("relation", "shared", "jaccard", "containment_a_in_b",
                                            "containment_b_in_a", "cosine")))
            alone = cluster_links(len(members), renumbered, 0.5)
            whole = expected[members]
            # the same partition of the component (labels may be numbered differently)
            pairs_alone = {(a, b) for a in range(len(members)) for b in range(len(members))
                           if alone[a] >= 0 and alone[a] == alone[b]}
            pairs_whole = {(a, b) for a in range(len(members)) for b in range(len(members))
                           if whole[a] >= 0 and whole[a] == whole[b]}
            assert pairs_alone == pairs_whole


@pytest.mark.parametrize("corpus", ["samples", "constructed"])
def test_passages_aligned_in_forked_workers_give_the_same_report(corpus, monkeypatch):
    from dedup import attribution

    articles = load_articles(SAMPLES)[0] if corpus == "samples" else constructed()
    expected = _report(articles, workers=1)
    monkeypatch.setattr(attribution, "_MIN_FORKED", 0)  # fork for any number of articles
    assert _report(articles, workers=2) == expected
    assert _report(articles, workers=3, batch_size=2) == expected
