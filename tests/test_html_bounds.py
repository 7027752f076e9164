"""HTML pages that cost minutes (issue 15): trafilatura runs on pages of up to
``HTML_MAX_ELEMENTS`` elements; larger pages take the linear streaming extractor.
``<template>`` content (inert markup, never shown) is not article text."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dedup import load
from dedup.load import extract_html, load_articles

from .helpers import WIRE

PARAGRAPHS = [p for p in WIRE.split("\n\n") if p.strip()]
SECRET = "Template secret that a browser never shows and no reader ever sees on the page"


def page(n_paragraphs: int, template: str = "") -> str:
    body = "".join(f"<div><p>{PARAGRAPHS[i % len(PARAGRAPHS)]} ({i})</p></div>\n" for i in range(n_paragraphs))
    half = len(body) // 2
    cut = body.index("\n", half) + 1
    return (
        "<html><head><title>Port strike</title></head><body><nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"
        f"<article>{body[:cut]}{template}{body[cut:]}</article><footer>Copyright Example</footer></body></html>"
    )


@pytest.mark.parametrize("limit", [load.HTML_MAX_ELEMENTS, 10])  # trafilatura, then the streaming extractor
def test_template_content_never_reaches_the_text(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(load, "HTML_MAX_ELEMENTS", limit)
    nested = f"<template><p>{SECRET}</p><template><p>{SECRET} again</p></template><p>{SECRET} after</p></template>"
    text = extract_html(page(12, nested))
    assert "Dockworkers" in text or "dockworkers" in text
    assert "Template secret" not in text


def test_a_page_over_the_element_bound_takes_the_streaming_extractor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[str] = []
    original = load._fallback_extract
    monkeypatch.setattr(load, "_fallback_extract", lambda html: calls.append("fallback") or original(html))
    monkeypatch.setattr(load, "HTML_MAX_ELEMENTS", 50)
    (tmp_path / "big.html").write_text(page(40), encoding="utf-8")
    (tmp_path / "small.html").write_text(page(3), encoding="utf-8")
    articles, skipped = load_articles(tmp_path)
    assert not skipped and calls == ["fallback"]  # only the big page
    big = next(a for a in articles if a.id == "big.html")
    assert "(39)" in big.text and "Home" not in big.text and "Copyright" not in big.text


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DEDUP_SLOW") != "1", reason="set DEDUP_SLOW=1 to extract a 15 MB page")
def test_a_15_mb_page_is_extracted_in_seconds(tmp_path: Path) -> None:
    """trafilatura took 32 s on this page (85 s on the page of the issue); the bound makes it ~1 s."""
    html = page(1)
    n = 1
    while len(html) < 15_000_000:
        n *= 2
        html = page(n)
    (tmp_path / "huge.html").write_text(html, encoding="utf-8")
    started = time.perf_counter()
    articles, skipped = load_articles(tmp_path, max_bytes=40_000_000)
    seconds = time.perf_counter() - started
    assert not skipped and f"({n - 1})" in articles[0].text
    assert seconds < 15, seconds
