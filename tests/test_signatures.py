"""Signatures must be bit-identical to datasketch's MinHash(scheme="affine32")."""

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH

from dedup.shingle import ShingleHasher, shingle_hash32, shingle_hash64, shingles
from dedup.sign import MinHasher

from .helpers import SAMPLES, SEEDS


def _real_texts() -> list[str]:
    paths = sorted(SEEDS.glob("*.txt")) if SEEDS.exists() else []
    paths += sorted(SAMPLES.rglob("*.txt"))
    return [p.read_text(encoding="utf-8") for p in paths]


@pytest.mark.parametrize("k", [1, 3, 5])
def test_bulk_shingle_hashes_equal_the_one_at_a_time_hash(k):
    texts = [*_real_texts(), "", "two words", "北京欢迎你 and more"]
    batch = ShingleHasher(k).transform(texts)
    for d, text in enumerate(texts):
        expected = np.array([shingle_hash64(s) for s in shingles(text, k)], dtype=np.uint64)
        assert np.array_equal(batch.doc(d), expected)


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 42)])
def test_signatures_equal_datasketch_on_real_text(num_perm, seed):
    texts = [*_real_texts(), "", "short"]
    signatures = MinHasher(num_perm, seed).transform(ShingleHasher(3).transform(texts))
    for text, signature in zip(texts, signatures, strict=True):
        reference = MinHash(num_perm=num_perm, seed=seed, scheme="affine32", hashfunc=shingle_hash32)
        reference.update_batch(shingles(text, 3))
        assert np.array_equal(reference.hashvalues, signature)


def test_chunking_does_not_change_signatures():
    texts = _real_texts()
    batch = ShingleHasher(3).transform(texts)
    assert np.array_equal(MinHasher(chunk_shingles=7).transform(batch), MinHasher().transform(batch))


def test_signatures_work_in_datasketch_lsh():
    texts = _real_texts()
    hasher = MinHasher()
    signatures = hasher.transform(ShingleHasher(3).transform([texts[0], texts[0] + " extra words here", texts[1]]))
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for i, signature in enumerate(signatures):
        lsh.insert(str(i), hasher.to_minhash(signature))
    assert set(lsh.query(hasher.to_minhash(signatures[0]))) >= {"0", "1"}
    assert hasher.to_minhash(signatures[0]).jaccard(hasher.to_minhash(signatures[1])) > 0.8


def test_empty_document_gets_the_empty_sketch():
    signature = MinHasher(16).transform(ShingleHasher(3).transform([""]))[0]
    assert np.all(signature == np.uint32(0xFFFFFFFF))
    assert np.array_equal(signature, MinHash(num_perm=16, scheme="affine32").hashvalues)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        ShingleHasher(0)
    with pytest.raises(ValueError):
        MinHasher(0)


def test_hashing_in_small_chunks_gives_the_same_hashes(monkeypatch):
    import dedup.shingle as shingle_module

    texts = [*_real_texts(), "", "x y"]
    whole = ShingleHasher(3).transform(texts)
    monkeypatch.setattr(shingle_module, "_CHUNK_BYTES", 500)
    chunked = ShingleHasher(3).transform(texts)
    assert np.array_equal(whole.hashes, chunked.hashes)
    assert np.array_equal(whole.offsets, chunked.offsets)
