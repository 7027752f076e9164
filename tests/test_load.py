"""Tests for dedup.load: every format, every kind of bad input, and a fuzz property."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.article import Article, Skipped
from dedup.load import (
    DEFAULT_MAX_BYTES,
    LoadError,
    decode_bytes,
    extract_html,
    iter_articles,
    load_articles,
    read_text_file,
)

PARAGRAPHS = [
    (
        "A powerful storm swept across the northern coast on Tuesday, cutting power to thousands of homes "
        "and forcing the closure of several ports, officials said."
    ),
    (
        "Emergency services reported that winds reached 130 kilometres per hour in some areas, uprooting "
        "trees and damaging roofs in at least four towns along the shoreline."
    ),
    (
        "The national weather agency said the storm would weaken overnight but warned residents to stay "
        "indoors and avoid travel until the morning."
    ),
]

PAGE = f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Storm hits coast | Daily Example</title></head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li>
<li><a href="/sport">Sport results</a></li></ul></nav></header>
<main><article>
<h1>Storm hits the northern coast</h1>
<p>{PARAGRAPHS[0]}</p>
<p>{PARAGRAPHS[1]}</p>
<p>{PARAGRAPHS[2]}</p>
</article></main>
<footer><p>Copyright 2024 Daily Example. All rights reserved.</p>
<a href="/privacy">Privacy policy</a></footer>
</body></html>
"""


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_bytes(data.encode("utf-8"))
    else:
        path.write_bytes(data)
    return path


def only(root: Path, **kwargs: int) -> Article | Skipped:
    items = list(iter_articles(root, **kwargs))
    assert len(items) == 1, items
    return items[0]


# --------------------------------------------------------------------------- formats


def test_txt_text_kept_exactly(tmp_path: Path) -> None:
    text = "  Headline\r\n\r\nFirst paragraph.\nSecond line.\n\n\tThird.  \n"
    write(tmp_path / "story.txt", text)
    article = only(tmp_path)
    assert isinstance(article, Article)
    assert article.id == "story.txt"
    assert article.text == text
    assert article.title is None and article.published is None


def test_md_text_kept_as_is(tmp_path: Path) -> None:
    text = "# Title\n\nSome *markdown* text with a [link](http://example.com).\n"
    write(tmp_path / "note.MD", text)
    article = only(tmp_path)
    assert isinstance(article, Article)
    assert (article.id, article.text) == ("note.MD", text)


def test_html_main_text_without_nav_and_footer(tmp_path: Path) -> None:
    write(tmp_path / "page.html", PAGE)
    article = only(tmp_path)
    assert isinstance(article, Article)
    assert article.id == "page.html"
    for paragraph in PARAGRAPHS:
        assert paragraph in article.text.split("\n\n")
    for boilerplate in ("Home", "World news", "Sport results", "Copyright", "Privacy policy"):
        assert boilerplate not in article.text
    assert "\n\n" in article.text and "\n\n\n" not in article.text
    assert article.title is not None and "Storm hits" in article.title


def test_extract_html_paragraphs_separated_by_blank_lines() -> None:
    text = extract_html(PAGE)
    assert text.split("\n\n")[-3:] == PARAGRAPHS


def test_extract_html_fallback_when_trafilatura_finds_nothing() -> None:
    html = "<html><head><style>p {}</style></head><body><nav>Menu</nav><p>Only &amp; one.</p>"
    html += "<script>var x = 1;</script><footer>Foot</footer></body></html>"
    assert extract_html(html) == "Only & one."
    assert extract_html("") == ""


def test_html_without_text_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "blank.htm", "<html><head><script>x()</script></head><body>  </body></html>")
    skipped = only(tmp_path)
    assert isinstance(skipped, Skipped)
    assert skipped.reason == "no article text found in HTML"


def test_deeply_nested_html_does_not_crash(tmp_path: Path) -> None:
    depth = 5000
    write(
        tmp_path / "deep.html", "<html><body>" + "<div>" * depth + "<p>Deep text here.</p>" + "</div>" * depth
    )
    item = only(tmp_path)
    if isinstance(item, Article):
        assert "Deep text here." in item.text
    else:
        assert item.reason


def test_json_object_with_metadata_and_iso_date(tmp_path: Path) -> None:
    record = {
        "id": 42,
        "text": "Body of the story.",
        "title": "A title",
        "outlet": "Example Post",
        "url": "https://example.com/a",
        "published": "2024-10-31T14:05:00Z",
        "section": "world",
    }
    write(tmp_path / "one.json", json.dumps(record))
    article = only(tmp_path)
    assert isinstance(article, Article)
    assert article.id == "42"
    assert article.text == "Body of the story."
    assert (article.title, article.outlet, article.url) == (
        "A title",
        "Example Post",
        "https://example.com/a",
    )
    assert article.published == dt.datetime(2024, 10, 31, 14, 5, tzinfo=dt.timezone.utc)
    assert article.extra == {"section": "world"}


def test_json_object_without_id_uses_relative_path(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "one.json", json.dumps({"text": "Body.", "date": "2024-01-02"}))
    article = only(tmp_path)
    assert isinstance(article, Article)
    assert article.id == "sub/one.json"
    assert article.published == dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)


def test_json_array_of_records(tmp_path: Path) -> None:
    records = [{"id": "x", "text": "First."}, {"text": "Second."}, {"id": "z"}]
    write(tmp_path / "many.json", json.dumps(records))
    items = list(iter_articles(tmp_path))
    assert [(a.id, a.text) for a in items if isinstance(a, Article)] == [
        ("x", "First."),
        ("many.json#2", "Second."),
    ]
    assert [s.reason for s in items if isinstance(s, Skipped)] == ["record 3: missing 'text' field"]


def test_malformed_json_file(tmp_path: Path) -> None:
    write(tmp_path / "bad.json", '{"text": "a",\n "id": }')
    skipped = only(tmp_path)
    assert isinstance(skipped, Skipped)
    assert skipped.reason.startswith("malformed JSON at line 2:")


def test_jsonl_three_records(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "text": "Alpha.", "outlet": "X"},
        {"id": 2, "text": "Beta.", "published": "2024-10-31"},
        {"text": "Gamma."},
    ]
    write(tmp_path / "feed.jsonl", "".join(json.dumps(r) + "\n" for r in lines))
    articles, skipped = load_articles(tmp_path)
    assert skipped == []
    assert [(a.id, a.text) for a in articles] == [("a", "Alpha."), ("2", "Beta."), ("feed.jsonl#3", "Gamma.")]
    assert articles[0].outlet == "X"
    assert articles[1].published == dt.datetime(2024, 10, 31, tzinfo=dt.timezone.utc)


def test_jsonl_malformed_middle_line_skipped_good_lines_survive(tmp_path: Path) -> None:
    content = '{"id": "a", "text": "One."}\n\n{"id": "b", "text": \n{"id": "c", "text": "Three."}\n'
    write(tmp_path / "feed.jsonl", content)
    items = list(iter_articles(tmp_path))
    assert [a.id for a in items if isinstance(a, Article)] == ["a", "c"]
    (bad,) = [s for s in items if isinstance(s, Skipped)]
    assert bad.line == 3
    assert bad.reason.startswith("malformed JSON at line 3:")
    assert str(bad).startswith("feed.jsonl:3: ")


def test_jsonl_truncated_last_line_and_crlf(tmp_path: Path) -> None:
    write(tmp_path / "feed.jsonl", '{"id": "a", "text": "One."}\r\n{"id": "b", "te')
    items = list(iter_articles(tmp_path))
    assert isinstance(items[0], Article) and items[0].text == "One."
    assert isinstance(items[1], Skipped) and items[1].line == 2 and "malformed JSON" in items[1].reason


def test_jsonl_missing_text_field_and_non_object(tmp_path: Path) -> None:
    write(tmp_path / "feed.jsonl", '{"id": "a", "title": "no body"}\n[1, 2]\n{"id": "c", "text": "  "}\n')
    items = list(iter_articles(tmp_path))
    assert all(isinstance(s, Skipped) for s in items)
    assert [(s.line, s.reason) for s in items if isinstance(s, Skipped)] == [
        (1, "missing 'text' field at line 1"),
        (2, "expected a JSON object, got list at line 2"),
        (3, "empty 'text' field at line 3"),
    ]


def test_jsonl_non_utf8_line_is_decoded(tmp_path: Path) -> None:
    write(tmp_path / "feed.jsonl", b'{"id": "a", "text": "caf\xe9 cr\xe8me"}\n{"id": "b", "text": "ok"}\n')
    articles, skipped = load_articles(tmp_path)
    assert skipped == []
    assert [a.text for a in articles] == ["café crème", "ok"]


def test_jsonl_utf16_with_bom(tmp_path: Path) -> None:
    content = '{"id": "a", "text": "héllo"}\r\n{"id": "b", "text": "wörld"}\r\n'
    write(tmp_path / "feed.jsonl", content.encode("utf-16"))
    articles, skipped = load_articles(tmp_path)
    assert skipped == []
    assert [(a.id, a.text) for a in articles] == [("a", "héllo"), ("b", "wörld")]


# --------------------------------------------------------------------------- scanning


def test_nested_relative_ids_sorted_and_filtered(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", "b")
    write(tmp_path / "a" / "z.txt", "z")
    write(tmp_path / "a" / "b" / "c.md", "c")
    write(tmp_path / "a" / "notes.pdf", "ignored: other suffix")
    write(tmp_path / "a" / ".hidden.txt", "ignored: hidden file")
    write(tmp_path / ".git" / "x.txt", "ignored: hidden folder")
    ids = [item.id for item in iter_articles(tmp_path) if isinstance(item, Article)]
    assert ids == ["a/b/c.md", "a/z.txt", "b.txt"]
    assert ids == [item.id for item in iter_articles(str(tmp_path)) if isinstance(item, Article)]


def test_single_file_root_uses_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "deep" / "er" / "one.txt", "text")
    article = only(path)
    assert isinstance(article, Article) and article.id == "one.txt"


def test_single_file_root_with_unknown_suffix_is_reported(tmp_path: Path) -> None:
    skipped = only(write(tmp_path / "doc.pdf", "x"))
    assert isinstance(skipped, Skipped) and "unsupported file type '.pdf'" in skipped.reason


def test_missing_root_raises_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        iter_articles(missing)  # raised at the call, before iteration
    with pytest.raises(FileNotFoundError) as info:
        load_articles(str(missing))
    assert info.value.filename == str(missing)


def test_bad_max_bytes_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        iter_articles(tmp_path, max_bytes=0)


def test_symlink_loop_terminates_and_loads_each_file_once(tmp_path: Path) -> None:
    write(tmp_path / "top.txt", "top")
    write(tmp_path / "sub" / "inner.txt", "inner")
    os.symlink("..", tmp_path / "sub" / "loop")  # sub/loop -> tmp_path
    os.symlink(tmp_path / "sub", tmp_path / "again")  # a second way into sub
    articles, skipped = load_articles(tmp_path)
    assert sorted(a.id for a in articles) == ["sub/inner.txt", "top.txt"]
    assert skipped == []


def test_file_symlink_is_not_loaded_twice(tmp_path: Path) -> None:
    write(tmp_path / "real.txt", "text")
    os.symlink("real.txt", tmp_path / "a_link.txt")
    articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["real.txt"]
    assert [(s.path, s.reason) for s in skipped] == [
        ("a_link.txt", "same file as 'real.txt' (symlink or hard link)")
    ]


def test_broken_symlink_is_skipped(tmp_path: Path) -> None:
    os.symlink("gone.txt", tmp_path / "dangling.txt")
    skipped = only(tmp_path)
    assert isinstance(skipped, Skipped) and "broken symlink" in skipped.reason


def test_duplicate_ids_within_a_file_skipped_across_files_namespaced(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", '{"id": "x", "text": "first"}\n{"id": "x", "text": "second"}\n')
    write(tmp_path / "b.json", '{"id": "x", "text": "third"}')
    articles, skipped = load_articles(tmp_path)
    assert [(a.id, a.text) for a in articles] == [("x", "first"), ("b.json#x", "third")]
    assert articles[1].extra["record_id"] == "x"
    assert [(s.path, s.line, s.reason) for s in skipped] == [
        ("a.jsonl", 2, "duplicate id 'x' (first seen in a.jsonl:1)"),
    ]


@pytest.mark.parametrize("feed", ["a_feed.jsonl", "z_feed.jsonl"])
def test_a_record_never_shadows_a_file_whatever_the_walk_order(tmp_path: Path, feed: str) -> None:
    write(tmp_path / "m" / "story.txt", "the real file")
    write(tmp_path / feed, '{"id": "m/story.txt", "text": "a record"}\n{"id": "other", "text": "another"}\n')
    articles, skipped = load_articles(tmp_path)
    ids = {a.id: a.text for a in articles}
    assert ids == {"m/story.txt": "the real file", f"{feed}#m/story.txt": "a record", "other": "another"}
    assert skipped == []


def test_a_taken_namespaced_id_is_skipped_with_both_names(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "file a")
    write(tmp_path / "f.jsonl", '{"id": "a.txt", "text": "one"}\n{"id": "f.jsonl#a.txt", "text": "two"}\n')
    articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["a.txt", "f.jsonl#a.txt"]
    assert len(skipped) == 1 and skipped[0].line == 2 and "duplicate id 'f.jsonl#a.txt'" in skipped[0].reason


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_skipped_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    skipped = only(tmp_path)
    assert isinstance(skipped, Skipped) and skipped.reason == "not a regular file"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.txt", "text")
    path.chmod(0)
    skipped = only(tmp_path)
    assert isinstance(skipped, Skipped) and skipped.reason == "permission denied"


# --------------------------------------------------------------------------- decoding and bad files


def test_cp1252_file_decoded(tmp_path: Path) -> None:
    write(tmp_path / "w.txt", b"caf\xe9 \x93quoted\x94")
    article = only(tmp_path)
    assert isinstance(article, Article) and article.text == "café “quoted”"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Les élèves sont allés à l'école. Ça coûte 5 € — «vraiment».", "cp1252"),
        ("Привет мир, как дела? Сегодня хорошая погода.", "cp1251"),
    ],
)
def test_decode_bytes_detects_legacy_encodings(text: str, encoding: str) -> None:
    assert decode_bytes(text.encode(encoding)) == text


def test_utf8_bom_stripped(tmp_path: Path) -> None:
    write(tmp_path / "bom.txt", b"\xef\xbb\xbfHello world\n")
    article = only(tmp_path)
    assert isinstance(article, Article) and article.text == "Hello world\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom_decoded(tmp_path: Path, encoding: str) -> None:
    data = "Grüße aus Köln\n".encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    write(tmp_path / "wide.txt", data)
    article = only(tmp_path)
    assert isinstance(article, Article) and article.text == "Grüße aus Köln\n"


@pytest.mark.parametrize("name", ["image.txt", "image.jsonl", "image.html", "image.json"])
def test_binary_file_skipped(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" + bytes(range(256)))
    skipped = only(tmp_path)
    assert isinstance(skipped, Skipped) and "binary" in skipped.reason


def test_read_text_file_raises_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="binary"):
        read_text_file(write(tmp_path / "x.txt", b"a\x00b"))
    with pytest.raises(LoadError, match="too large"):
        read_text_file(write(tmp_path / "y.txt", "12345"), max_bytes=4)


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n", b"\xef\xbb\xbf"])
def test_empty_file_skipped(tmp_path: Path, content: bytes) -> None:
    write(tmp_path / "empty.txt", content)
    skipped = only(tmp_path)
    assert isinstance(skipped, Skipped) and "empty" in skipped.reason


def test_too_large_file_skipped_with_size_and_flag(tmp_path: Path) -> None:
    write(tmp_path / "big.txt", "x" * 101)
    write(tmp_path / "small.txt", "x" * 100)
    articles, skipped = load_articles(tmp_path, max_bytes=100)
    assert [a.id for a in articles] == ["small.txt"]
    assert [(s.path, s.reason) for s in skipped] == [("big.txt", "too large (101 bytes > --max-bytes 100)")]
    assert DEFAULT_MAX_BYTES == 20_000_000


def test_jsonl_exempt_as_a_whole_but_long_lines_skipped(tmp_path: Path) -> None:
    short = json.dumps({"id": "s", "text": "short"})
    long = json.dumps({"id": "l", "text": "y" * 500})
    write(tmp_path / "feed.jsonl", "\n".join([short, long, short.replace('"s"', '"t"')]) + "\n")
    articles, skipped = load_articles(tmp_path, max_bytes=100)
    assert [a.id for a in articles] == ["s", "t"]
    assert [(s.line, s.reason) for s in skipped] == [
        (2, f"line too large ({len(long)} bytes > --max-bytes 100)")
    ]


# --------------------------------------------------------------------------- property


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".jsonl", ".html", ".json", ".md"]))
def test_random_bytes_never_raise(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "fuzz" + suffix).write_bytes(data)
        for item in iter_articles(folder, max_bytes=2000):
            assert isinstance(item, (Article, Skipped))
            if isinstance(item, Article):
                assert item.text.strip()
            else:
                assert item.reason


def test_unreadable_date_keeps_the_article_undated(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps({"id": "a", "text": "Body one.", "date": "27-MAR-1987 00:02:59.13RM"}) + "\n"
        + json.dumps({"id": "b", "text": "Body two.", "date": "26-FEB-1987 15:01:01.79"}) + "\n",
        encoding="utf-8",
    )
    articles, skipped = load_articles(feed)
    assert not skipped
    assert articles[0].published is None and "27-MAR-1987" in articles[0].extra["date_problem"]
    assert articles[1].published == dt.datetime(1987, 2, 26, 15, 1, 1, 790000, tzinfo=dt.timezone.utc)
