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

import unicodedata

import numpy as np

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


_TOKEN, _SEPARATOR, _UNSPACED = 0, 1, 2
# Scripts written without spaces between words: one token per character.
_UNSPACED_RANGES = (
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
)


def _character_kinds() -> np.ndarray:
    """Kind of every BMP character: token character, separator (Unicode punctuation,
    symbols, separators and controls; letters, digits and combining marks stay in
    tokens, so Devanagari or Arabic words keep their marks), or unspaced script."""
    kinds = np.array(
        [_SEPARATOR if unicodedata.category(chr(c))[0] in "PSZC" else _TOKEN for c in range(0x10000)], dtype=np.uint8
    )
    for low, high in _UNSPACED_RANGES:
        kinds[low : high + 1] = _UNSPACED
    kinds[[ord(c) for c in "0123456789"]] = _TOKEN
    return kinds


_KINDS = _character_kinds()


def _astral_kinds(codes: np.ndarray) -> np.ndarray:
    """Kinds beyond the BMP: emoji and pictographs separate, CJK extensions are unspaced."""
    kinds = np.full(len(codes), _TOKEN, dtype=np.uint8)
    kinds[(codes >= 0x1F000) & (codes <= 0x1FAFF)] = _SEPARATOR
    kinds[(codes >= 0x20000) & (codes <= 0x3FFFF)] = _UNSPACED
    return kinds


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
        folded = folded.casefold()
        # Case folding can leave a letter and a combining mark that NFKC composes
        # ("ß́" -> "ss" + U+0301): normalise again so normalize() is idempotent.
        if not unicodedata.is_normalized("NFKC", folded):
            folded = unicodedata.normalize("NFKC", folded)
    return " ".join(folded.split())


def token_text(normalized: str) -> str:
    """Tokens of already-normalised text joined by single spaces.

    Letters, digits and combining marks form tokens; punctuation, symbols and
    white space separate them. Characters of unspaced scripts are tokens on
    their own. Non-ASCII text is classified character by character in numpy
    (one table lookup per character), not by regular expressions.
    """
    if normalized.isascii():
        return " ".join(normalized.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split())
    codes = np.frombuffer(normalized.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if codes.max() < 0x10000:
        kinds = _KINDS[codes]
    else:
        bmp = codes < 0x10000
        kinds = np.empty(len(codes), dtype=np.uint8)
        kinds[bmp] = _KINDS[codes[bmp]]
        kinds[~bmp] = _astral_kinds(codes[~bmp])
    codes = codes.copy()
    codes[kinds == _SEPARATOR] = 0x20
    unspaced = kinds == _UNSPACED
    if unspaced.any():  # each such character becomes " c "
        width = np.where(unspaced, 3, 1)
        spread = np.repeat(codes, width)
        first = np.cumsum(width) - width
        spread[first[unspaced]] = 0x20
        spread[first[unspaced] + 2] = 0x20
        codes = spread
    return " ".join(codes.astype("<u4").tobytes().decode("utf-32-le").split())


def tokens(text: str) -> list[str]:
    """The tokens of raw text (normalised first); the slow, readable path."""
    joined = token_text(normalize(text))
    return joined.split(" ") if joined else []
