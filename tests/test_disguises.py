"""Disguised copies (issue 15): the wire story with invisible characters, look-alike letters,
combining marks or other digits is still the same text to dedup.

Each disguise is applied to the real sample wire story and the copy must be linked to the
original with the verbatim relation it has undisguised (``exact``: the whole text is disguised).
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

import pytest

from dedup import Article, Scanner, load_articles
from dedup.normalize import is_blank, normalize, tokens

from .helpers import WIRE

INVISIBLE = {
    "LRM": "\u200e",
    "invisible separator": "\u2063",
    "combining grapheme joiner": "\u034f",
    "variation selector 16": "\ufe0f",
    "tag letter": "\U000e0041",
    "Mongolian vowel separator": "\u180e",
    "Hangul filler": "\u3164",
    "zero-width space": "\u200b",
    "word joiner": "\u2060",
    "right-to-left override": "\u202e",
}
CYRILLIC = dict(zip("aceopxyABCEHKMOPTXcsijI", "асеорхуАВСЕНКМОРТХсѕіјІ", strict=True))
GREEK = dict(zip("ABEHIKMNOPTXYZov", "ΑΒΕΗΙΚΜΝΟΡΤΧΥΖον", strict=True))
SMALL_CAPITALS = dict(zip("abcdefghijklmnopqrstuvwz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡᴢ", strict=True))


def relation(original: str, copy: str, **params: object) -> str | None:
    result = Scanner(**params).scan([Article("wire", original), Article("copy", copy)])  # type: ignore[arg-type]
    return result.pairs[0].relation if result.pairs else None


def inside_words(text: str, char: str) -> str:
    """``char`` after the first letter of every word: 'st\u200erike'."""
    return re.sub(r"(\w)(\w+)", lambda m: m[1] + char + m[2], text)


def substitute(text: str, table: dict[str, str], share: float = 1.0, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "".join(table[c] if c in table and rng.random() < share else c for c in text)


# --------------------------------------------------------------------------- invisible characters


@pytest.mark.parametrize("name", sorted(INVISIBLE))
def test_invisible_characters_inside_every_word_leave_an_exact_copy(name: str) -> None:
    disguised = inside_words(WIRE, INVISIBLE[name])
    assert disguised != WIRE
    assert relation(WIRE, disguised) == "exact"
    assert relation(WIRE, disguised, same_story=None) == "exact"


def test_the_key_changes_only_the_matching_not_the_text() -> None:
    disguised = inside_words(WIRE, "\u200e")
    result = Scanner().scan([Article("wire", WIRE), Article("copy", disguised)])
    passages = result.article("copy").passages
    assert passages and passages[-1].end > len(WIRE)  # offsets index the text as loaded
    for passage in passages:
        assert disguised[passage.start : passage.end] == passage.text
        assert "\u200e" in passage.text


def test_an_article_of_invisible_characters_only_is_skipped_as_empty(tmp_path: Path) -> None:
    blank = "\u200b\u200e\u2063\ufe0f\u3164 \u034f\n\U000e0041\u0301"
    assert is_blank(blank) and is_blank("  ") and not is_blank("a\u200b")
    (tmp_path / "a.txt").write_text(blank, encoding="utf-8")
    (tmp_path / "b.txt").write_text(blank, encoding="utf-8")
    (tmp_path / "c.jsonl").write_text(json.dumps({"id": "c", "text": blank}) + "\n", encoding="utf-8")
    (tmp_path / "d.html").write_text(f"<html><body><article><p>{blank}</p></article></body></html>", "utf-8")
    (tmp_path / "real.txt").write_text(WIRE, encoding="utf-8")
    articles, skipped = load_articles(tmp_path)
    assert [a.id for a in articles] == ["real.txt"]
    reasons = {s.path: s.reason for s in skipped}
    assert set(reasons) == {"a.txt", "b.txt", "c.jsonl", "d.html"}
    assert "invisible" in reasons["a.txt"] and "invisible" in reasons["c.jsonl"]


def test_blank_agrees_with_the_empty_key_on_every_bmp_character() -> None:
    for code in range(0x10000):
        char = chr(code)
        if not 0xD800 <= code < 0xE000:
            assert is_blank(char) == (normalize(char) == ""), hex(code)


# --------------------------------------------------------------------------- homoglyphs


@pytest.mark.parametrize("share", [0.3, 0.6, 1.0])
def test_cyrillic_look_alikes_leave_an_exact_copy(share: float) -> None:
    disguised = substitute(WIRE, CYRILLIC, share)
    assert disguised != WIRE
    assert relation(WIRE, disguised) == "exact"


def test_greek_look_alikes_on_every_letter_leave_an_exact_copy() -> None:
    disguised = substitute(WIRE, GREEK)
    assert relation(WIRE, disguised) == "exact"


def test_small_capitals_leave_an_exact_copy() -> None:
    disguised = substitute(WIRE, SMALL_CAPITALS)
    assert sum(c in SMALL_CAPITALS.values() for c in disguised) > 1000
    assert relation(WIRE, disguised) == "exact"


def test_skeleton_comes_before_case_folding_and_spares_digits() -> None:
    assert normalize("ТНЕ Port") == normalize("THE Port") == "the port"  # Cyrillic capitals
    assert normalize("0 1 O l I") == "0 1 o l i"  # TR39 maps 0 to O and 1 to l: not in figures
    assert normalize("Ι") == "i"  # Greek capital iota imitates I, not l
    assert normalize("Straße") == "strasse"


def test_ascii_text_is_untouched_by_the_skeleton() -> None:
    """ASCII letters are their own look-alikes: the Unicode path gives what the ASCII path gives."""
    assert normalize(WIRE + " é") == normalize(WIRE) + " e"
    assert normalize("modern Illinois") == "modern illinois"


# --------------------------------------------------------------------------- combining marks


def test_a_combining_mark_on_every_letter_leaves_an_exact_copy() -> None:
    disguised = re.sub(r"([A-Za-z])", "\\1\u0301", WIRE)
    assert relation(WIRE, disguised) == "exact"


def test_zalgo_leaves_an_exact_copy() -> None:
    rng = random.Random(3)
    marks = [chr(c) for c in range(0x300, 0x370)]
    disguised = "".join(c + "".join(rng.choices(marks, k=rng.randrange(1, 6))) if c.isalpha() else c for c in WIRE)
    assert relation(WIRE, disguised) == "exact"


def test_marks_a_script_needs_are_kept() -> None:
    # Devanagari vowel signs and virama, Arabic harakat, Hebrew points stay: they make other words.
    assert normalize("किताब") != normalize("कताब")
    assert normalize("नमस्ते") == unicodedata.normalize("NFC", "नमस्ते")
    assert tokens("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]
    assert normalize("مَرْحَبًا") != normalize("مرحبا")
    assert normalize("שָׁלוֹם") != normalize("שלום")
    assert normalize("résumé") == "resume" and normalize("Ἀθῆναι") == normalize("Αθηναι")


# --------------------------------------------------------------------------- digits and numbers


def test_arabic_indic_digits_leave_an_exact_copy() -> None:
    digits = {str(d): chr(0x660 + d) for d in range(10)}
    disguised = substitute(WIRE, digits)
    assert disguised != WIRE
    assert relation(WIRE, disguised) == "exact"
    assert relation(WIRE, disguised, same_story=None) == "exact"


def test_numbers_without_thousands_separators_leave_an_exact_copy() -> None:
    plain = re.sub(r"(?<=\d),(?=\d{3})", "", WIRE)
    assert plain != WIRE
    assert relation(WIRE, plain) == "exact"
    assert relation(WIRE, plain, same_story=None) == "exact"


def test_canonical_numbers() -> None:
    assert normalize("30,000") == normalize("30000") == normalize("٣٠٬٠٠٠") == normalize("３０，０００") == "30000"
    assert normalize("1,234,567.89") == "1234567.89"
    assert normalize("1,2,3 and 12,3456 and 2,5") == "1,2,3 and 12,3456 and 2,5"  # not thousands


def test_articles_of_only_invisible_characters_are_skipped_by_the_library_too():
    from dedup import Article, Scanner

    result = Scanner().scan([Article("a", "\u200b\u200e \u2063"), Article("b", "\u200b\u200e\u2063 "),
                             Article("wire", WIRE)])
    assert result.pairs == []
    assert sorted(s.path for s in result.skipped) == ["a", "b"]
