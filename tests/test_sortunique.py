import numpy as np
import pytest

from dedup.sortunique import sorted_unique, unique_first_inverse


@pytest.mark.parametrize("dtype", [np.uint64, np.int64, np.int32])
@pytest.mark.parametrize("n", [0, 1, 2, 17, 1000])
def test_sorted_unique_and_first_inverse_are_numpys_unique(dtype, n):
    values = np.random.default_rng(n).integers(0, max(n // 3, 1), n).astype(dtype)
    assert np.array_equal(sorted_unique(values), np.unique(values))
    expected = np.unique(values, return_index=True, return_inverse=True)
    found = unique_first_inverse(values)
    assert all(np.array_equal(a, b) for a, b in zip(found, expected, strict=True))
    assert found[0].dtype == values.dtype
