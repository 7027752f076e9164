"""Property tests (hypothesis): invariants that must hold for any input text.

Kept small (well under 20 s in all): the point is the variety of inputs, not the count.
"""

from __future__ import annotations

import json
import string
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dedup.article import Article, Skipped
from dedup.load import iter_articles
from dedup.normalize import _keys_bmp, _keys_raw, _keys_slow, is_blank, normalize, token_text
from dedup.passages import segment
from dedup.pipeline import Scanner
from dedup.shingle import ShingleHasher, shingle_hash64, shingles

# Characters where text handling usually goes wrong: every kind of white space and line
# break, typographic quotes and dashes, invisible characters, combining marks, compatibility
# forms, case-folding expansions, unspaced scripts, emoji, sentence punctuation.
TRICKY = (
    " \t\n\r\v\f\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u2018\u2019\u201c\u201d\u00ab\u00bb\u2013\u2014\u2212`'\".,;:!?\u2026()[]-"
    "\u00ad\u200b\u200c\u200d\u2060\ufeff"
    "\u0301\u0308\u030c\u0345\u0652\u093f"
    "\ufb01\ufe7e\uff21\uff02\u2460\u00bd\u1e9e\u0130\u0390\u01f0\u00df\u03a3\u03c2"
    "\u4e2d\u6587\u3042\u30a2\u0e01\u0e32\u1780\u0627\u0644\u05d0\u0928"
    "\U0001f600\U0001f44d"
    "AaZz09é"
    # disguises (issue 15): invisible characters, look-alikes, marks, digits of other scripts, numbers
    "\u200e\u2063\u034f\ufe0f\U000e0041\u180e\u3164\u202e\u00a8"
    "\u0430\u0435\u0422\u0442\u0399\u03bf\u1d00\u1d1b\ua731\u0406\u0131"
    "\u0300\u0336\u0489\u20dd\u0483\u094d\u064e"
    "\u0660\u0663\u066c\u0967\uff10\uff0c,,,0001"
)
texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=TRICKY, max_size=300),
    st.lists(st.sampled_from(["Word", "word", "WORD", "Mr.", "U.S.", "end.", "é", "中", " ", "\n", "\n\n"]),
             max_size=80).map("".join),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- normalisation


@FAST
@given(text=texts)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@FAST
@given(text=texts)
def test_vectorised_keys_equal_the_translate_path(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text)
    fast = _keys_bmp(decomposed)
    assert fast is None or fast == _keys_slow(decomposed)


@FAST
@given(text=texts)
def test_per_character_keys_equal_the_decomposing_path(text: str) -> None:
    raw = _keys_raw(text)
    assert raw is None or raw == unicodedata.normalize("NFC", _keys_slow(unicodedata.normalize("NFKD", text)))


def test_per_character_keys_equal_the_decomposing_path_on_every_bmp_character() -> None:
    for code in range(0x10000):
        for text in (chr(code), "a" + chr(code) + "b"):
            raw = _keys_raw(text)
            assert raw is None or raw == unicodedata.normalize("NFC", _keys_slow(unicodedata.normalize("NFKD", text)))


@FAST
@given(text=texts)
def test_blank_means_an_empty_key(text: str) -> None:
    assert is_blank(text) == (normalize(text) == "")


@pytest.mark.parametrize("text", ["\u00df\u0301", "\u0130\u0327", "\u03aa\u0301"])
def test_normalize_is_idempotent_after_case_folding(text: str) -> None:
    """'ß́' folds to 'ss' + U+0301, which NFKC composes to 'sś' on a second pass: two copies
    differing only in this detail would get different exact-duplicate keys."""
    once = normalize(text)
    assert normalize(once) == once


@FAST
@given(text=texts)
def test_token_text_is_single_spaced_and_stable(text: str) -> None:
    tokens = token_text(normalize(text))
    assert "  " not in tokens
    assert tokens == tokens.strip()
    assert all(part for part in tokens.split(" ")) or tokens == ""
    assert token_text(tokens) == tokens  # separators already gone: a second pass changes nothing


# --------------------------------------------------------------------------- shingles


@FAST
@given(text=texts, k=st.integers(min_value=1, max_value=6))
def test_bulk_shingle_hashes_equal_the_one_at_a_time_hash(text: str, k: int) -> None:
    bulk = ShingleHasher(k).transform([text]).doc(0).tolist()
    assert bulk == [shingle_hash64(s) for s in shingles(text, k)]


@settings(max_examples=50, deadline=None)
@given(batch=st.lists(texts, min_size=1, max_size=6), k=st.integers(min_value=1, max_value=6))
def test_a_batch_hashes_each_document_as_if_alone(batch: list[str], k: int) -> None:
    hasher = ShingleHasher(k)
    together = hasher.transform(batch)
    assert together.n_docs == len(batch)
    for index, text in enumerate(batch):
        assert together.doc(index).tolist() == hasher.transform([text]).doc(0).tolist()


# --------------------------------------------------------------------------- passages


@FAST
@given(text=texts, max_chars=st.one_of(st.just(600), st.integers(min_value=1, max_value=80)))
def test_passage_spans_are_trimmed_ordered_and_disjoint(text: str, max_chars: int) -> None:
    spans = segment(text, max_chars)
    previous_end = 0
    for start, end in spans:
        assert 0 <= previous_end <= start < end <= len(text)
        piece = text[start:end]
        assert piece == piece.strip()
        previous_end = end
    # Nothing but white space is left out.
    covered: set[int] = set()
    for start, end in spans:
        covered.update(range(start, end))
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


# --------------------------------------------------------------------------- the JSON report

WORDS = [
    "port", "strike", "workers", "union", "ships", "talks", "minister", "said", "on", "the", "of",
    "a", "in", "Tuesday", "cargo", "harbour", "pay", "jobs", "crane", "fuel", "grain", "café", "“quoted”",
]  # fmt: skip


@st.composite
def article_sets(draw: st.DrawFn) -> list[Article]:
    """A few articles: fresh texts, copies with edits and additions, and odd ids."""
    n = draw(st.integers(min_value=1, max_value=6))
    ids = draw(
        st.lists(
            st.text(alphabet=string.ascii_letters + string.digits + "/._-[]é 中", min_size=1, max_size=12).filter(
                str.strip
            ),
            min_size=n,
            max_size=n,
            unique=True,
        )
    )
    articles: list[Article] = []
    for article_id in ids:
        copy: bool = draw(st.booleans())
        if articles and copy:
            base = draw(st.sampled_from(articles)).text
            words = base.split(" ")
            for _ in range(draw(st.integers(min_value=0, max_value=5))):
                words[draw(st.integers(min_value=0, max_value=len(words) - 1))] = draw(st.sampled_from(WORDS))
            extra = draw(st.lists(st.sampled_from(WORDS), max_size=30))
            text = " ".join(words) + ("\n\n" + " ".join(extra) if extra else "")
        else:
            paragraphs = draw(
                st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=40), min_size=1, max_size=5)
            )
            text = "\n\n".join(" ".join(p) + "." for p in paragraphs)
        if draw(st.booleans()):
            text = draw(st.text(alphabet=TRICKY, max_size=20)) + text
        published = draw(st.one_of(st.none(), st.sampled_from(["2025-03-03", "2025-03-04T10:00:00Z", "1987-02-26"])))
        articles.append(Article(article_id, text, published=published))  # type: ignore[arg-type]
    return articles


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(articles=article_sets())
def test_report_survives_json_and_passages_index_the_text(articles: list[Article]) -> None:
    result = Scanner().scan([*articles, Skipped("bad.txt", "empty file (no text)")])
    report = result.to_dict()
    assert json.loads(json.dumps(report, ensure_ascii=False)) == report
    assert json.loads(json.dumps(report)) == report
    by_id = {a.id: a.text for a in articles}
    assert [a["id"] for a in report["articles"]] == sorted(a.id for a in articles)  # id order, whatever came in
    for entry in report["articles"]:
        text = by_id[entry["id"]]
        for passage in entry["passages"]:
            assert text[passage["start"] : passage["end"]] == passage["text"]
        for section in entry["added_sections"]:
            assert text[section["start"] : section["end"]] == section["text"]
    members = [m for c in report["clusters"] for m in c["members"]]
    assert len(members) == len(set(members)) and set(members) <= set(by_id)
    assert report["skipped"] == [{"path": "bad.txt", "line": None, "reason": "empty file (no text)"}]


# --------------------------------------------------------------------------- loaders

PREFIXES = [
    b"",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xff\xfe\x00\x00",
    b'{"id": "x", "text": "',
    b'[{"text": "a"}, ',
    b"<html><body><article><p>",
    b"<!DOCTYPE html><div><div><div>",
    b"caf\xe9 \x93quoted\x94 ",
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=2000),
        st.tuples(st.sampled_from(PREFIXES), st.binary(max_size=500)).map(b"".join),
        st.tuples(st.sampled_from(PREFIXES), st.text(alphabet=TRICKY, max_size=300)).map(
            lambda pair: pair[0] + pair[1].encode("utf-8", "surrogatepass")
        ),
    ),
    suffix=st.sampled_from([".txt", ".md", ".html", ".htm", ".json", ".jsonl"]),
)
def test_loaders_never_raise_on_any_bytes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "fuzz" + suffix).write_bytes(data)
        items = list(iter_articles(folder, max_bytes=1500))
    assume(items)  # a .jsonl of blank lines yields nothing
    for item in items:
        assert isinstance(item, (Article, Skipped))
        if isinstance(item, Article):
            assert item.text.strip()
            item.text.encode("utf-8")  # no lone surrogates: the report must be writable
        else:
            assert item.reason and item.path == "fuzz" + suffix
