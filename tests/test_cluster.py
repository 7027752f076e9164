import numpy as np
import pytest

from dedup.cluster import GuardedClustering


def test_chain_of_weak_links_does_not_become_one_cluster():
    # A~B~C~...~J: each only linked to its neighbours.
    n = 10
    links = np.array([(i, i + 1) for i in range(n - 1)])
    labels = GuardedClustering(0.5).fit_predict(n, links, np.ones(len(links)))
    sizes = np.bincount(labels[labels >= 0])
    assert sizes.max() <= 3


def test_dense_group_stays_together():
    members = range(6)
    links = np.array([(i, j) for i in members for j in members if i < j])
    labels = GuardedClustering(0.5).fit_predict(6, links, np.ones(len(links)))
    assert len(set(labels)) == 1 and labels[0] >= 0


def test_two_dense_groups_joined_by_one_bridge_stay_apart():
    group_a = [(i, j) for i in range(4) for j in range(4) if i < j]
    group_b = [(i, j) for i in range(4, 8) for j in range(4, 8) if i < j]
    links = np.array([*group_a, *group_b, (3, 4)])
    strength = np.ones(len(links))
    strength[-1] = 5.0  # even the strongest bridge may not merge them
    labels = GuardedClustering(0.5).fit_predict(8, links, strength)
    assert len(set(labels[:4])) == 1 and len(set(labels[4:])) == 1
    assert labels[0] != labels[4]


def test_unlinked_items_have_no_cluster():
    labels = GuardedClustering().fit_predict(3, np.empty((0, 2)), np.empty(0))
    assert list(labels) == [-1, -1, -1]


def test_density_is_validated():
    with pytest.raises(ValueError):
        GuardedClustering(0.0)
