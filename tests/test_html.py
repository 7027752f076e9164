"""The HTML report: self-contained, escaped, navigable at scale; checked in real headless Chromium."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup import Article, Scanner, load_articles
from dedup.cli import app
from dedup.html import render_html
from dedup.result import ArticleResult, ClusterResult, Passage, ScanResult

from . import browser
from .helpers import DATA, SAMPLES, SEEDS, WIRE, need

TITLE = "dedup report"
PAYLOADS = [
    "<script>document.title='PWNED';document.documentElement.setAttribute('data-pwned','script')</script>",
    "<img src=x onerror=\"document.title='PWNED';document.documentElement.setAttribute('data-pwned','img')\">",
    "<a href=\"javascript:document.title='PWNED'\">click me for more</a> and <a href='https://evil.example/'>x</a>",
    "<svg onload=\"document.documentElement.setAttribute('data-pwned','svg')\"></svg></p></div>"
    "<style>body{display:none}</style>",
    "Terminal junk \x1b[31mred\x1b[0m, a bell \x07, a C1 \x9b31m and a bidi override \u202etxt.exe",
]


def hostile() -> Article:
    """The wire story republished with injected markup in every field a page shows."""
    text = WIRE + "\n\n" + "\n\n".join(f"Reader comment {i}: {p}" for i, p in enumerate(PAYLOADS))
    return Article(
        id="outlets/<img src=x onerror=\"document.title='PWNED'\">.txt",
        text=text,
        title="<script>document.title='PWNED'</script> Port strike",
        outlet="\"><svg onload=\"document.title='PWNED'\">",
        url="javascript:document.title='PWNED'",
    )


@pytest.fixture(scope="module")
def samples_result() -> ScanResult:
    return Scanner().scan(load_articles(SAMPLES)[0] + [hostile()])


@pytest.fixture(scope="module")
def page(samples_result: ScanResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(samples_result, title=TITLE), encoding="utf-8")
    return path


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def test_page_is_self_contained_with_a_strict_csp(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp, "no CSP meta tag"
    policy = unescape(csp.group(1))
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    styles = re.findall(r"<style>(.*?)</style>", html, flags=re.S)
    assert len(scripts) == 1 and len(styles) == 1  # ours only: the article's are text
    assert f"script-src '{_csp_hash(scripts[0])}'" in policy
    assert f"style-src '{_csp_hash(styles[0])}'" in policy
    # nothing is loaded: no src/srcset, no stylesheet link, no url() or @import
    assert not re.search(r"<(img|iframe|link|object|embed|video|audio|source)\b", html)
    assert not re.search(r"<[a-z]+\b[^>]*\s(src|srcset|href)=\"(?!#|https?:)", html)  # no loads, no odd links
    assert "url(" not in styles[0] and "@import" not in styles[0]


def test_injected_markup_is_escaped_in_the_bytes(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    for raw in ("<script>document", "<img src=x", "<svg onload", "<a href=\"javascript", "<style>body{display"):
        assert raw not in html
    assert "&lt;script&gt;document.title=" in html and "&lt;img src=x onerror=" in html
    assert 'href="javascript' not in html.lower() and "url (not a web link, shown as text)" in html
    # control and bidi characters are shown, not passed through
    assert "\x1b" not in html and "\x07" not in html and "\x9b" not in html and "\u202e" not in html
    assert "\\x1b[31mred" in html and "\\u202etxt.exe" in html


def test_chromium_runs_no_injected_code_and_shows_the_markup_as_text(page: Path) -> None:
    dom = browser.dump_dom(page)
    assert 'data-script="ran"' in dom, "the report's own (hashed) script did not run"
    assert "data-pwned" not in dom.split("<body")[0]  # attribute on <html> only if a payload ran
    assert f"<title>{TITLE}</title>" in dom and "PWNED</title>" not in dom
    assert "<img" not in dom and "<svg onload" not in dom and "<iframe" not in dom
    assert not re.search(r'<a [^>]*href="javascript:', dom, flags=re.I)
    assert "&lt;script&gt;document.title='PWNED'" in dom  # the markup is there, as text
    assert "click me for more" in dom and "&lt;a href=\"javascript:" in dom
    assert dom.count("<style>") == 1  # the article's <style> did not become an element


def test_chromium_screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    png = browser.screenshot(page, tmp_path / "shot.png")
    variety = browser.png_variety(png)
    assert variety["width"] == 1400 and variety["height"] == 1800
    assert variety["varied_rows"] > 0.2, variety


def test_clusters_are_listed_largest_reuse_first_with_details(samples_result: ScanResult, page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    rows = re.findall(r'<tr data-search="[^"]*" data-relations="[^"]*">\s*<td><a href="#(c\d+)"', html)
    assert rows[:2] == ["c1", "c2"]
    assert '<article class="cluster" id="c1">' in html and "Wire core" in html
    assert 'class="psg k-added"' in html and 'class="psg k-verbatim"' in html and 'class="psg k-rewritten"' in html
    assert '<span class="label">interview</span>' in html
    assert "<svg class=\"bar\"" in html and "links between members" in html
    assert 'id="page-1"' in html


def _tiny_result(n_clusters: int, words: int = 300) -> ScanResult:
    articles, clusters = [], []
    for c in range(n_clusters):
        text = " ".join(f"w{c}x{i}" for i in range(words))
        ids = [f"a{c}-{k}" for k in range(2)]
        for k, article_id in enumerate(ids):
            half = len(text) // 2
            passages = [Passage(text, 0, half, support=1, match=1.0),
                        Passage(text, half, len(text), added=k == 1, support=0 if k else 1, score=0.8,
                                label="interview" if k else None)]
            articles.append(ArticleResult(article_id, f"c{c}", passages, words=words))
        clusters.append(ClusterResult(f"c{c}", ids, ids[0], {"derived": 1}, []))
    return ScanResult(articles, [], clusters, stats={"articles": 2 * n_clusters, "clusters": n_clusters})


def test_pages_and_size_cap_leave_a_note(tmp_path: Path) -> None:
    result = _tiny_result(90)
    full = render_html(result)
    assert full.count('<section class="page"') == 5  # 20 clusters a page
    capped = render_html(result, max_bytes=600_000)
    assert len(capped.encode()) < 600_000
    note = re.search(r"Details of (\d+) cluster\(s\) \((\d+) articles\)", capped)
    assert note and int(note.group(1)) > 0 and int(note.group(2)) == 2 * int(note.group(1))
    assert capped.count("(detail left out)") == int(note.group(1))
    assert capped.count("<tr data-search") == 90  # every cluster still listed


@dataclass
class RichPassage(Passage):
    """A passage carrying the fields the refactored pipeline adds."""

    matched: str | None = None
    verbatim: bool = False


def test_uses_matched_verbatim_and_families_when_present() -> None:
    text = "alpha beta gamma delta. " * 20
    a = ArticleResult("a", "c1", [RichPassage(text, 0, 240, support=1, match=1.0, matched="b", verbatim=True),
                                  RichPassage(text, 240, 480, support=1, match=0.5, matched="b", verbatim=False)])
    b = ArticleResult("b", "c1", [RichPassage(text, 0, 480, support=1, match=1.0, matched="a", verbatim=True)])
    cluster = ClusterResult("c1", ["a", "b"], "a", {"derived": 1}, [])
    cluster.families = [{"id": "c1.f1", "members": ["a", "b"], "origin": "a"}]  # type: ignore[attr-defined]
    html = render_html(ScanResult([a, b], [], [cluster]))
    assert 'class="psg k-verbatim"' in html and 'class="psg k-rewritten"' in html
    assert "verbatim · matches #2 b (1.00)" in html and "rewritten · matches #2 b (0.50)" in html
    assert "matches #1 a" in html
    assert "c1.f1" in html and "Families" in html


def test_cli_writes_the_html_report(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["scan", str(SAMPLES), "--format", "html", "--output", str(out), "-q"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "c1: 10 articles" in html


def test_seeds_report_marks_and_labels_the_interviews(tmp_path: Path) -> None:
    seeds = need(SEEDS)
    result = Scanner().scan(load_articles(seeds)[0])
    path = tmp_path / "seeds.html"
    path.write_text(render_html(result), encoding="utf-8")
    _interviews_marked(path.read_text(encoding="utf-8"))  # the bytes written, then the rendered DOM
    _interviews_marked(browser.dump_dom(path))


def _interviews_marked(html: str) -> None:
    members = {m.group(1): m.group(0) for m in
               re.finditer(r'<details class="member"[^>]*>.*?<span class="id">([^<]+)</span>.*?</details>', html,
                           flags=re.S)}
    for prefix in ("000_", "003_"):
        chunk = next(v for k, v in members.items() if k.startswith(prefix))
        interview = re.search(r'<div class="psg k-added"><i>added · score [0-9.]+ '
                              r'<span class="label">interview</span></i>', chunk)
        assert interview, f"{prefix} interview passages not marked and labelled"
        assert re.search(r'<li><span class="label">interview</span> score 0\.\d\d', chunk)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DEDUP_SLOW") != "1", reason="set DEDUP_SLOW=1 to run the Reuters HTML report")
def test_reuters_report_stays_under_20_mb_and_opens(tmp_path: Path) -> None:
    """The 19,779 Reuters stories: the page stays under the cap, parses in Chromium and
    notes what it left out (``DEDUP_SLOW=1``)."""
    corpus = need(DATA / "reuters21578" / "documents.jsonl")
    out = tmp_path / "reuters.html"
    result = CliRunner().invoke(app, ["scan", str(corpus), "-f", "html", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size < 20_000_000
    dom = browser.dump_dom(out)
    assert 'data-script="ran"' in dom and "Clusters, largest reuse first" in dom
    parsed = re.search(r'data-parsed-ms="(\d+)"', dom)
    assert parsed and int(parsed.group(1)) < 30_000


def test_chromium_filter_script_hides_rows(page: Path, tmp_path: Path) -> None:
    """The report's own script filters the cluster table; a preset value (as a browser
    restores it on back/reload) is applied when the page loads."""
    html = page.read_text(encoding="utf-8")
    preset = tmp_path / "preset.html"
    field = '<input id="filter" type="search"'
    preset.write_text(html.replace(field, field + ' value="heatwave"'), encoding="utf-8")
    dom = browser.dump_dom(preset)
    rows = re.findall(r'<tr data-search="[^"]*" data-relations="[^"]*"( hidden="")?>\s*<td><a href="#(c\d+)"', dom)
    assert {cid for hidden, cid in rows if not hidden} == {"c2"} and len(rows) == 2
    assert '<span id="shown">1</span>' in dom
