"""Text normalisation: the canonical form two copies of one text share.

``normalize`` gives the text used for exact-duplicate detection: Unicode NFKC,
typographic quotes and dashes folded to ASCII, soft hyphens and zero-width
characters dropped, case folded, runs of white space collapsed to one space.

``token_text`` goes one step further for shingling: punctuation, symbols and
white space become separators, and every character of a script written
without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) becomes a token
of its own -- so word *k*-shingles turn into character *k*-grams there and
such text never collapses to a handful of giant "words".
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "token_text", "tokens"]

_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4\u02bc"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_FOLD = (
    [(c, "'") for c in _QUOTES + "`"]
    + [(c, '"') for c in _DOUBLE_QUOTES]
    + [(c, "-") for c in _DASHES]
    + [(c, "") for c in _INVISIBLE]
)
# Bytes that separate tokens: every ASCII byte that is not a letter or digit.
_ASCII_SEPARATORS = bytes(b if chr(b).isalnum() or b >= 0x80 else 0x20 for b in range(256))


def _separator_class() -> str:
    """A regex class of the non-ASCII characters that separate tokens: Unicode
    punctuation, symbols, separators and controls (letters, digits and combining
    marks stay inside tokens, so Devanagari or Arabic words keep their marks)."""
    ranges: list[list[int]] = []
    for code in range(0x80, 0x10000):
        if unicodedata.category(chr(code))[0] in "PSZC" and not 0xD800 <= code < 0xE000:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    ranges.append([0x1F000, 0x1FAFF])  # emoji and pictographs
    return "[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges) + "]+"


_NON_ASCII_SEPARATOR = re.compile(_separator_class())
# Scripts written without spaces between words: one token per character.
_UNSPACED = re.compile(
    "(["
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "])"
)
def normalize(text: str) -> str:
    """NFKC, quotes and dashes folded, case folded, white space collapsed."""
    if not isinstance(text, str):
        raise TypeError(f"normalize() expects str, got {type(text).__name__}")
    if text.isascii():
        folded = text.replace("`", "'").lower()
    else:
        folded = unicodedata.normalize("NFKC", text)
        for char, replacement in _FOLD:
            if char in folded:
                folded = folded.replace(char, replacement)
        # Case folding can leave a letter and a combining mark that NFKC composes
        # ("ß́" -> "ss" + U+0301): normalise again so normalize() is idempotent.
        folded = unicodedata.normalize("NFKC", folded.casefold())
    return " ".join(folded.split())


def token_text(normalized: str) -> str:
    """Tokens of already-normalised text joined by single spaces.

    Letters, digits and combining marks form tokens; punctuation, symbols and
    white space separate them.
    Characters of unspaced scripts are tokens on their own.
    """
    if not normalized.isascii():
        normalized = _NON_ASCII_SEPARATOR.sub(" ", normalized)
        if _UNSPACED.search(normalized):
            normalized = _UNSPACED.sub(r" \1 ", normalized)
    ascii_split = normalized.encode("utf-8").translate(_ASCII_SEPARATORS).decode("utf-8")
    return " ".join(ascii_split.split())


def tokens(text: str) -> list[str]:
    """The tokens of raw text (normalised first); the slow, readable path."""
    joined = token_text(normalize(text))
    return joined.split(" ") if joined else []
