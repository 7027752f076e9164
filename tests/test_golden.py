"""Golden reports: the scan of ``samples/`` and of constructed cases, frozen before a refactor.

A refactor must reproduce them exactly. When behaviour changes on purpose,
regenerate with ``DEDUP_UPDATE_GOLDEN=1 pytest tests/test_golden.py`` and review
the diff of ``tests/golden/`` in the commit. Texts are left out (offsets are
kept), so no article text is copied here; timings and parameters are left out
too (they are not results).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from dedup import Article, Scanner, load_articles

from .helpers import SAMPLES, WIRE, edit_words, filler

GOLDEN = Path(__file__).parent / "golden"
PARAGRAPHS = [p for p in WIRE.split("\n\n") if p.strip()]


def constructed() -> list[Article]:
    """The verbatim cases of ``test_relations`` plus a same-story and a passages case."""
    return [
        Article("wire", WIRE),
        Article("verbatim", WIRE.replace("\n\n", "\n")),
        Article("trimmed", "\n\n".join(PARAGRAPHS[: int(len(PARAGRAPHS) * 0.6)])),
        Article("edited", edit_words(WIRE, 0.12)),
        Article("contained", filler(600, seed=3) + "\n\n" + WIRE),
        Article("extended", WIRE + "\n\nEditor: What happens next?\n\nDr. Ann Vale: " + filler(80, seed=5)),
        Article("unrelated", filler(400, seed=9)),
        Article("unrelated2", filler(500, seed=10)),
    ]


def snapshot(report: dict[str, Any]) -> dict[str, Any]:
    """The report without texts, timings and parameters."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "text"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    out = strip({k: v for k, v in report.items() if k != "params"})
    out["stats"] = {k: v for k, v in out["stats"].items() if k != "seconds"}
    return out


CASES = {
    "samples": lambda: Scanner().scan(load_articles(SAMPLES)[0]),
    "samples_verbatim": lambda: Scanner(same_story=None).scan(load_articles(SAMPLES)[0]),
    "constructed": lambda: Scanner().scan(constructed()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_report_matches_golden(name: str) -> None:
    got = snapshot(json.loads(json.dumps(CASES[name]().to_dict(), ensure_ascii=False)))
    path = GOLDEN / f"{name}.json"
    if os.environ.get("DEDUP_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert got == expected
