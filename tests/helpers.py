"""Shared test helpers: paths to the bundled samples and to ../shared (skipped when absent)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"
DATA = SHARED / "data"
WIRE = (SAMPLES / "wire" / "reuters_port_strike.txt").read_text(encoding="utf-8")


def need(path: Path) -> Path:
    """Skip the calling test cleanly when a folder of ../shared is not there."""
    if not path.exists():
        pytest.skip(f"{path} is absent (tests that read ../shared skip without it)")
    return path


def edit_words(text: str, share: float, seed: int = 0) -> str:
    """Replace ``share`` of the words with other words, deterministically."""
    rng = random.Random(seed)
    words = text.split(" ")
    for i in rng.sample(range(len(words)), int(len(words) * share)):
        words[i] = f"edited{i}"
    return " ".join(words)


def filler(n_words: int, seed: int = 1) -> str:
    """Unrelated prose-like text of ``n_words`` words."""
    rng = random.Random(seed)
    vocabulary = [f"w{rng.randrange(5000)}" for _ in range(4000)]
    return " ".join(rng.choice(vocabulary) for _ in range(n_words))
