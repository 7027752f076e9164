"""Untrusted strings made safe for the outputs: terminal, CSV, HTML.

File names, JSONL ids, titles and article text come from the web. None of their
control characters may reach a terminal (ESC sequences rewrite the screen, BEL
rings, CR overwrites a line, C1 controls are ESC in disguise, bidi overrides
reorder what is shown) or a spreadsheet (a cell starting with ``=`` is a formula).
They are shown visibly escaped instead: ``\\x1b``, ``\\n``, ``\\u202e``.
"""

from __future__ import annotations

import re

__all__ = ["csv_cell", "visible", "visible_block", "visible_text"]

# Bidirectional formatting characters (Unicode TR9): embeddings, overrides, isolates, marks.
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


# Cc (C0, DEL, C1), the line and paragraph separators (Zl, Zp) and the bidi controls.
_CLASS = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029" + BIDI
_UNSAFE = re.compile(f"[{_CLASS}]")
_UNSAFE_OR_BACKSLASH = re.compile(f"[{_CLASS}\\\\]")


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object) -> str:
    """A name (id, path, title, outlet) with every control, line-separator and bidi
    character shown as an escape (``\\n``, ``\\x1b``, ``\\u202e``); backslashes are
    doubled only when something was escaped, so ordinary Windows paths read as they are."""
    text = str(value)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE_OR_BACKSLASH.sub(lambda m: _escape(m.group()), text)


def visible_text(value: str) -> str:
    """Article text for one cell or line: runs of ordinary whitespace (newlines, tabs)
    become one space -- they are layout, and passages are already the paragraphs --
    and every other control or bidi character is shown escaped, as in :func:`visible`."""
    flat = " ".join(value.replace("\r\n", "\n").split(" "))
    flat = re.sub(r"[\n\t\x0b\x0c]+", " ", flat)
    return _UNSAFE.sub(lambda m: _escape(m.group()), flat)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A CSV cell that is neither a formula nor a carrier of control characters:
    controls escaped visibly, and a cell starting with ``= + - @``, tab or CR is
    prefixed with ``'`` (OWASP CSV-injection rule)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return visible(text)


_UNSAFE_IN_BLOCK = re.compile("[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029" + BIDI + "]")  # keeps \n, \t


def visible_block(value: str) -> str:
    """Article text shown as a block (HTML ``pre-wrap``): newlines and tabs kept, every
    other control or bidi character shown escaped."""
    return _UNSAFE_IN_BLOCK.sub(lambda m: _escape(m.group()), value.replace("\r\n", "\n"))
