"""Text normalisation: the canonical form two copies of one text share.

``normalize`` gives the key used for exact-duplicate detection (and, through
``token_text``, for shingles, figures and term counts). It is a *matching key*,
never shown to users: the article text is kept as loaded. Two copies that look
alike on screen get the same key, however they were disguised:

* compatibility forms (NFKC: full-width letters, ligatures, mathematical
  alphanumerics, circled and superscript digits) are folded;
* every ``Default_Ignorable_Code_Point`` (zero-width spaces and joiners, LRM and
  other bidi controls, invisible operators, the combining grapheme joiner,
  variation selectors, tag characters, Hangul fillers, U+180E) is dropped;
* combining marks (``Mn``, ``Me``) on Latin, Greek and Cyrillic letters, and on
  anything that is not a letter, are dropped ("z̴a̷l̶g̵o" and accents alike);
  marks a script needs (Devanagari, Arabic, Hebrew, Thai, kana, ...) are kept;
* letters are replaced by their Unicode TR39 confusable skeleton (ICU's
  ``SpoofChecker.getSkeleton``), letter by letter and *before* case folding:
  Cyrillic and Greek look-alikes and small capitals become the Latin letter
  they imitate. A non-ASCII letter whose skeleton is that of an ASCII letter
  becomes that ASCII letter (of the same case where there is a choice: Greek
  capital iota is ``I``, not ``l``), so ASCII text itself is never changed by
  this step. Digits and punctuation are never skeletonised (TR39 maps 0 to O
  and 1 to l); letters of East Asian scripts keep their form (TR39 would split
  Hangul syllables and map kanji to kana or punctuation);
* decimal digits of every script become ASCII digits, and thousands separators
  inside numbers are dropped (``30,000`` == ``30000`` == ``٣٠٬٠٠٠``);
* typographic quotes and dashes fold to ASCII, case is folded, runs of white
  space collapse to one space.

``normalize`` is idempotent. ASCII text takes a fast path (lower case, one
regular expression for numbers). Other text is looked up in numpy tables, one
entry per BMP character, filled lazily 256 characters at a time (each character
is looked up in ICU once per process): when no character depends on its
neighbours, one lookup per character gives the whole key; text with combining
marks (or Hangul jamo, ...) is decomposed (NFKD), looked up per decomposed
character, marks dropped by a vectorised rule, and recomposed (NFC); text beyond
the BMP takes ``str.translate`` and regular expressions. All three give the same
key (tested on every BMP character and on random text).

``token_text`` goes one step further for shingling: punctuation, symbols and
white space become separators, and every character of a script written
without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) becomes a token
of its own -- so word *k*-shingles turn into character *k*-grams there and
such text never collapses to a handful of giant "words".
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Any

import numpy as np
import regex

__all__ = ["is_blank", "normalize", "token_text", "tokens"]

_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4\u02bc"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u2039\u203a"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"
_FOLD = {
    **dict.fromkeys(_QUOTES + "`", "'"),
    **dict.fromkeys(_DOUBLE_QUOTES, '"'),
    **dict.fromkeys(_DASHES, "-"),
}
_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
# Combining marks dropped: after a Latin, Greek or Cyrillic letter, or after anything that is
# neither a letter nor a mark (a space, a digit, punctuation, the start of the text).
_DROPPED_MARKS = regex.compile(
    r"(?:(?<=\p{L})(?<=[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])|(?<![\p{L}\p{M}]))[\p{Mn}\p{Me}]+"
)
_ANY_MARK = regex.compile(r"[\p{Mn}\p{Me}]")
# A character whose key is not empty (see is_blank): str.split's white space is \s plus \x1c-\x1f.
_VISIBLE = regex.compile(r"[^\s\x1c-\x1f\p{Default_Ignorable_Code_Point}\p{Mn}\p{Me}]")
# Scripts whose letters are never skeletonised: East Asian ones (TR39 would split Hangul syllables
# and map kanji to kana or punctuation); and any script with combining marks of its own (Arabic,
# Hebrew, Indic, Thai, ...) except Latin, Greek and Cyrillic -- a base letter mapped to Latin would
# lose the marks the script needs.
_EAST_ASIAN = frozenset({"Hani", "Hang", "Hira", "Kana", "Bopo"})
_MARKS_DROPPED_SCRIPTS = frozenset({"Latn", "Grek", "Cyrl", "Zyyy", "Zinh"})
# A thousands separator inside a number (ASCII digits by then): "30,000" -> "30000".
_THOUSANDS = re.compile(r"[,\u066c](?<=[0-9].)(?=[0-9]{3}(?![0-9]))")
# The same for commas only, starting with a literal: the regex engine skips to each comma (3x faster).
_THOUSANDS_COMMA = re.compile(r",(?<=[0-9],)(?=[0-9]{3}(?![0-9]))")
_SMALL_CAPITAL = "LATIN LETTER SMALL CAPITAL "


@lru_cache(maxsize=1)
def _spoof_checker() -> Any:
    import icu  # pyicu-wheels: ICU's TR39 implementation

    return icu.SpoofChecker()


@cache
def _script_has_marks(script: str) -> bool:
    import icu

    return len(icu.UnicodeSet(f"[[:sc={script}:]&[[:Mn:][:Mc:][:Me:]]]")) > 0


def _keeps_form(letter: str) -> bool:
    import icu

    script = str(icu.Script.getScript(ord(letter)).getShortName())
    return script in _EAST_ASIAN or (script not in _MARKS_DROPPED_SCRIPTS and _script_has_marks(script))


def _skeleton(char: str) -> str:
    return str(_spoof_checker().getSkeleton(0, char))


@lru_cache(maxsize=1)
def _ascii_letters_by_skeleton() -> dict[str, str]:
    """ASCII letters by their TR39 skeleton: ``{'l': 'Il', 'rn': 'm', 'a': 'a', ...}``."""
    found: dict[str, str] = {}
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
        skeleton = _skeleton(letter)
        found[skeleton] = found.get(skeleton, "") + letter
    return found


def _strip_marks(text: str) -> str:
    return _DROPPED_MARKS.sub("", text) if _ANY_MARK.search(text) else text


def _look_alike(letter: str) -> str:
    """What a non-ASCII letter imitates: a small capital's letter, the ASCII letter of the same
    skeleton, or the skeleton when it is made of letters; else the letter itself."""
    name = unicodedata.name(letter, "")
    capital = name[len(_SMALL_CAPITAL) :] if name.startswith(_SMALL_CAPITAL) else ""
    if capital.isalpha() and len(capital) <= 2:  # "LATIN LETTER SMALL CAPITAL A" (or "OE")
        return capital.lower()
    if _keeps_form(letter):
        return letter
    skeleton = unicodedata.normalize("NFD", _skeleton(letter))
    bare = "".join(c for c in skeleton if unicodedata.category(c)[0] != "M")
    if not bare or not all(unicodedata.category(c)[0] == "L" for c in bare):
        return letter  # a digit or a symbol look-alike (Cyrillic Ze -> 3): not ours to change
    if any(unicodedata.category(c)[0] == "M" for c in skeleton) and _strip_marks(skeleton) != bare:
        return letter  # a skeleton whose marks a script needs
    ascii_letters = _ascii_letters_by_skeleton().get(bare)
    if ascii_letters:
        same_case = [c for c in ascii_letters if c.isupper() == letter.isupper()]
        return (same_case or list(ascii_letters))[0]
    return bare


def _step(char: str) -> str:
    """One character's replacement in the key, one step (see :func:`_key_of` for the fixed point)."""
    if char in _FOLD:
        return _FOLD[char]
    if char.isascii():
        return char.lower()
    if _IGNORABLE.match(char):
        return ""
    category = unicodedata.category(char)
    if category == "Nd":
        return str(unicodedata.decimal(char))
    if category[0] == "L":
        return _strip_marks(unicodedata.normalize("NFKD", _look_alike(char).casefold()))
    if category[0] == "M":
        return char if char.casefold() == char else ""  # U+0345 would fold to a letter
    return unicodedata.normalize("NFKD", char.casefold())


def _key_of(char: str) -> str:
    """A character's replacement, iterated until it no longer changes (so normalize is idempotent)."""
    value = _step(char)
    for _ in range(8):
        again = "".join(_step(c) for c in value)
        if again == value:
            return value
        value = again
    return char


class _KeyTable(dict[int, str]):
    """``str.translate`` table filled on first sight of each character."""

    def __missing__(self, code: int) -> str:
        value = _key_of(chr(code))
        self[code] = value
        return value


_KEYS = _KeyTable()

# The vectorised path for BMP text: one numpy lookup per character instead of str.translate.
# _MAPPED holds the replacement code point, or _DELETE ("") or _EXPAND (several characters, or
# one beyond the BMP: such texts take the str.translate path). Filled 256 characters at a time.
_DELETE, _EXPAND, _UNBUILT = np.uint32(0xFFFFFFFF), np.uint32(0xFFFFFFFE), np.uint32(0xFFFFFFFD)
_MAPPED = np.full(0x10000, _UNBUILT, dtype=np.uint32)


def _build_blocks(blocks: np.ndarray) -> None:
    for block in np.unique(blocks).tolist():
        for code in range(block << 8, (block + 1) << 8):
            value = _KEYS[code]
            if value == "":
                _MAPPED[code] = _DELETE
            elif len(value) == 1 and ord(value) < 0x10000:
                _MAPPED[code] = ord(value)
            else:
                _MAPPED[code] = _EXPAND


# Role of every BMP character for mark dropping (the same rule as _DROPPED_MARKS).
_KEEPS_MARKS, _DROPS_MARKS, _MARK = 0, 1, 2


def _mark_roles() -> np.ndarray:
    every = "".join(chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000)
    roles = np.full(0x10000, _DROPS_MARKS, dtype=np.uint8)
    for pattern, role in (
        (r"[\p{L}\p{Mc}]", _KEEPS_MARKS),
        (r"(?=\p{L})[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]", _DROPS_MARKS),
        (r"[\p{Mn}\p{Me}]", _MARK),
    ):
        roles[[ord(c) for c in regex.findall(pattern, every)]] = role
    return roles


_ROLES = _mark_roles()


def _keys_bmp(text: str) -> str | None:
    """The key characters of NFKD text, vectorised; None when the text needs the str.translate path."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if not len(codes) or codes.max() >= 0x10000:
        return None
    mapped = _MAPPED[codes]
    special = mapped >= _UNBUILT
    if special.any():
        unbuilt = mapped == _UNBUILT
        if unbuilt.any():
            _build_blocks(codes[unbuilt] >> 8)
            mapped = _MAPPED[codes]
        if (mapped == _EXPAND).any():
            return None
        mapped = mapped[mapped != _DELETE]
    folded = mapped.astype("<u4", copy=False).tobytes().decode("utf-32-le", "surrogatepass")
    if not unicodedata.is_normalized("NFD", folded):
        folded = unicodedata.normalize("NFD", folded)
        mapped = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    roles = _ROLES[mapped]
    marks = np.flatnonzero(roles == _MARK)
    if not len(marks):
        return folded
    # A run of marks is dropped when the character before it drops marks (or the text starts with it).
    before = roles[marks - 1]
    before[marks == 0] = _DROPS_MARKS
    if (before == _MARK).any():  # runs of several marks (zalgo, stacked diacritics): find each run's base
        starts = np.ones(len(marks), dtype=bool)
        starts[1:] = np.diff(marks) != 1
        bases = (marks[starts] - 1)[np.cumsum(starts) - 1]
        before = np.where(bases < 0, _DROPS_MARKS, roles[np.maximum(bases, 0)])
    dropped = marks[before == _DROPS_MARKS]
    if not len(dropped):
        return folded
    keep = np.ones(len(mapped), dtype=bool)
    keep[dropped] = False
    return mapped[keep].astype("<u4", copy=False).tobytes().decode("utf-32-le", "surrogatepass")


# The fastest path works on the text as given, before any decomposition: one lookup per character
# gives its whole key (NFKD, table, marks, NFC of that character alone). That is exact unless a
# character's key depends on its neighbours -- combining marks, characters canonical composition
# joins to the one before (Hangul vowels and finals, a few Indic vowel parts), keys that start with
# such a character or expand to several characters: those texts take the decomposing path.
_RAW = np.full(0x10000, _UNBUILT, dtype=np.uint32)


@lru_cache(maxsize=1)
def _context_characters() -> frozenset[int]:
    found: set[int] = set(range(0x1160, 0x1200)) | set(range(0xD7B0, 0xD800))  # Hangul vowel and final jamo
    found.update(np.flatnonzero(_ROLES == _MARK).tolist())  # marks to the regex engine's (newer) Unicode too
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.category(char)[0] == "M" or unicodedata.combining(char):
            found.add(code)
        decomposition = unicodedata.decomposition(char).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<"):
            found.add(int(decomposition[1], 16))  # the second half of a canonical pair
    return frozenset(found)


def _build_raw_blocks(blocks: np.ndarray) -> None:
    context = _context_characters()
    for block in np.unique(blocks).tolist():
        for code in range(block << 8, (block + 1) << 8):
            char = chr(code)
            decomposed = unicodedata.normalize("NFKD", char)
            if code in context or (decomposed and ord(decomposed[0]) in context):
                _RAW[code] = _EXPAND
                continue
            value = unicodedata.normalize("NFC", _keys_slow(decomposed))
            if value == "":
                _RAW[code] = _DELETE
            elif len(value) == 1 and ord(value) < 0x10000 and ord(value) not in context:
                _RAW[code] = ord(value)
            else:
                _RAW[code] = _EXPAND


def _keys_raw(text: str) -> str | None:
    """The NFC key characters of ``text`` by one lookup per character; None when context matters."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if not len(codes) or codes.max() >= 0x10000:
        return None
    mapped = _RAW[codes]
    special = mapped >= _UNBUILT
    if special.any():
        unbuilt = mapped == _UNBUILT
        if unbuilt.any():
            _build_raw_blocks(codes[unbuilt] >> 8)
            mapped = _RAW[codes]
        if (mapped == _EXPAND).any():
            return None
        mapped = mapped[mapped != _DELETE]
    return mapped.astype("<u4", copy=False).tobytes().decode("utf-32-le", "surrogatepass")


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


def _keys_slow(decomposed: str) -> str:
    """The key characters of NFKD text by str.translate and a regular expression (any text)."""
    folded = decomposed.translate(_KEYS)
    if not unicodedata.is_normalized("NFD", folded):  # a dropped joiner can leave marks out of order
        folded = unicodedata.normalize("NFD", folded)
    return _strip_marks(folded)


def normalize(text: str) -> str:
    """The matching key of a text (module docstring): disguises undone, case folded, space collapsed."""
    if not isinstance(text, str):
        raise TypeError(f"normalize() expects str, got {type(text).__name__}")
    if text.isascii():
        folded = text.replace("`", "'").lower()
    else:
        raw = _keys_raw(text)
        if raw is not None:
            folded = raw
        else:
            decomposed = unicodedata.normalize("NFKD", text)
            fast = _keys_bmp(decomposed)
            folded = unicodedata.normalize("NFC", fast if fast is not None else _keys_slow(decomposed))
    if "\u066c" in folded:  # the Arabic thousands separator
        folded = _THOUSANDS.sub("", folded)
    elif "," in folded:
        folded = _THOUSANDS_COMMA.sub("", folded)
    return " ".join(folded.split())


def is_blank(text: str) -> bool:
    """True when ``text`` holds nothing but white space, invisible characters and stray
    combining marks: its key is empty. Usually decided at the first visible character."""
    found = _VISIBLE.search(text)
    if found is None:
        return True
    if _VISIBLE.search(unicodedata.normalize("NFKD", found.group())):
        return False
    return not normalize(text)  # a compatibility character such as U+00A8 decomposes to space + mark


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
    return " ".join(codes.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass").split())


def tokens(text: str) -> list[str]:
    """The tokens of raw text (normalised first); the slow, readable path."""
    joined = token_text(normalize(text))
    return joined.split(" ") if joined else []
