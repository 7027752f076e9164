"""Load articles from files: the first stage of the pipeline.

:func:`iter_articles` scans one file or a folder (recursively) and yields an
:class:`~dedup.article.Article` for every usable input and a
:class:`~dedup.article.Skipped` for every unusable one, with a human reason.
Apart from a missing root, nothing raises: a bad file is reported and the scan
goes on.

Formats, chosen by suffix (case-insensitive):

``.txt``, ``.md``
    One article; the text is kept exactly as decoded (offsets index into it).
``.html``, ``.htm``
    One article; the main text is extracted with trafilatura (menus, footers
    and comments left out, ``<template>`` content dropped), paragraphs separated
    by blank lines. Pages of more than :data:`HTML_MAX_ELEMENTS` elements take a
    linear streaming extractor instead (trafilatura's time grows with the page).
``.json``
    One article object, or an array of them.
``.jsonl``
    One article object per line, streamed.

Article ids are paths relative to the scanned folder with forward slashes
(``'a/b.txt'``), the file name when a single file is scanned, or the ``id``
field of a JSON record -- renamed ``'<file>#<id>'`` when it is another file's
path or another file's record id, so that no source shadows another. Items
come out in sorted path order, so two scans of the same folder give the same
sequence.
"""

from __future__ import annotations

import codecs
import dataclasses
import errno
import io
import json
import os
import re
import stat
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from dedup.article import Article, Skipped
from dedup.normalize import is_blank

__all__ = [
    "DEFAULT_MAX_BYTES",
    "HTML_MAX_ELEMENTS",
    "SUFFIXES",
    "LoadError",
    "decode_bytes",
    "extract_html",
    "iter_articles",
    "load_articles",
    "read_text_file",
]

DEFAULT_MAX_BYTES = 20_000_000
"""Files larger than this are skipped (``--max-bytes``). A ``.jsonl`` file is
streamed and exempt as a whole, but each of its lines is held to the limit."""

SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")

HTML_MAX_ELEMENTS = 20_000
"""Pages with more elements than this skip trafilatura (about 0.1 ms per element, superlinear on
some pages) for the streaming extractor (linear: about 1.5 s for 15 MB), which drops scripts,
styles, templates, menus, headers, footers, asides and forms by tag but has none of trafilatura's
boilerplate heuristics. Real article pages have a few thousand elements."""

_SNIFF_BYTES = 8192
_MAX_CONTROL_SHARE = 0.10
_ALLOWED_CONTROLS = "\t\n\v\f\r\x1b"
_CONTROL_CHARS = dict.fromkeys(c for c in range(32) if chr(c) not in _ALLOWED_CONTROLS)
# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_LINE_CHUNK = 1 << 20
# How much more "chaos" (charset-normalizer's mess ratio) cp1252 may show than the best guess and still win.
_WESTERN_MARGIN = 0.05
# A UTF-16 surrogate on its own: JSON's "\\ud800" escape and a few codecs produce them; UTF-8 cannot encode them.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE_ONLY = "empty {} (only white space, invisible characters and stray combining marks)"


class LoadError(ValueError):
    """A file or record that cannot be used; ``str(error)`` is the reason shown to the user."""


# --------------------------------------------------------------------------- decoding


def _looks_binary(sample: str) -> bool:
    """True when ``sample`` holds a NUL or a high share of control characters."""
    if not sample:
        return False
    if "\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(_CONTROL_CHARS))
    return controls / len(sample) > _MAX_CONTROL_SHARE


def _bom_encoding(data: bytes) -> tuple[str, int] | None:
    """The encoding announced by a byte-order mark at the start of ``data`` and the BOM's length."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    return None


def _detect_encoding(data: bytes) -> str | None:
    """Guess the encoding of non-UTF-8 bytes with charset-normalizer.

    Windows-1252 (a superset of Latin-1 for printable text) wins whenever it
    reads the bytes nearly as cleanly as the best other guess: short Western
    texts are otherwise often taken for Cyrillic, Central European or DOS code
    pages (a euro sign before a number, ``b"\\x8025"``, costs cp1252 a little
    "chaos", which let cp775 win outright).
    """
    from charset_normalizer import from_bytes

    try:
        western = from_bytes(data, cp_isolation=["cp1252"]).best()
        if western is not None and western.chaos == 0:
            return "cp1252"
        best = from_bytes(data).best()
    except Exception:  # a heuristic detector: any failure means "unknown encoding"
        return None
    if western is not None and (best is None or western.chaos <= best.chaos + _WESTERN_MARGIN):
        return "cp1252"
    return None if best is None else best.encoding


def decode_bytes(data: bytes) -> str:
    """Decode the bytes of a text file.

    A UTF-8, UTF-16 or UTF-32 byte-order mark decides the encoding (the BOM is
    dropped). Otherwise the bytes are read as strict UTF-8, and failing that in
    the encoding charset-normalizer detects, preferring Windows-1252 over
    Latin-1 (``b"caf\\xe9 \\x93quoted\\x94"`` gives ``'café “quoted”'``); a
    detected encoding replaces the odd byte it cannot map.

    Raises :class:`LoadError` for binary data (NUL bytes or many control
    characters in the first 8 KB) and for bytes no encoding reads.
    """
    bom = _bom_encoding(data)
    if bom is not None:
        encoding, length = bom
        try:
            text = data[length:].decode(encoding)
        except UnicodeDecodeError as exc:
            raise LoadError(f"undecodable text: invalid {encoding} at byte {exc.start + length}") from exc
        if _looks_binary(text[:_SNIFF_BYTES]):
            raise LoadError("binary file (not text)")
        return text
    if _looks_binary(data[:_SNIFF_BYTES].decode("latin-1")):
        raise LoadError("binary file (not text)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    detected = _detect_encoding(data)
    if detected is None:
        raise LoadError("undecodable text (not UTF-8, and no other encoding fits)")
    return _without_surrogates(data.decode(detected, errors="replace"))


def _without_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (same length, so offsets hold)."""
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


def _os_reason(exc: OSError) -> str:
    """A short human reason for an operating-system error."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "file vanished or is a broken symlink"
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return f"cannot read: {exc.strerror or exc}"


def _too_large(size: int, max_bytes: int) -> str:
    return f"too large ({size} bytes > --max-bytes {max_bytes})"


def _regular_file_size(path: Path) -> int:
    """Size of ``path``; raises :class:`LoadError` for FIFOs, devices and other non-files."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise LoadError("not a regular file")
    return info.st_size


def read_text_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read and decode a text file (see :func:`decode_bytes`).

    The size is checked before reading, so a file over ``max_bytes`` is never
    loaded. Raises :class:`LoadError` with the reason (too large, binary,
    undecodable, permission denied, ...).
    """
    try:
        size = _regular_file_size(Path(path))
        if size > max_bytes:
            raise LoadError(_too_large(size, max_bytes))
        with open(path, "rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise LoadError(_os_reason(exc)) from exc
    if len(data) > max_bytes:  # the file grew after the size check
        raise LoadError(_too_large(len(data), max_bytes))
    return decode_bytes(data)


# --------------------------------------------------------------------------- HTML


class _TextCollector(HTMLParser):
    """Visible text of an HTML page, paragraph by paragraph, without scripts, menus or footers.

    Streaming (no tree), so arbitrarily deep nesting costs nothing.
    """

    _SKIP = frozenset(
        {"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form"}
    )
    _BLOCKS = frozenset(
        {
            "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
            "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p", "pre", "section", "table",
            "td", "th", "tr", "ul",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.title: str | None = None
        self._pieces: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self._BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self._BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = " ".join(((self.title or "") + " " + data).split()) or None
        elif self._skip == 0:
            self._pieces.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        paragraph = " ".join("".join(self._pieces).split())
        if paragraph:
            self.paragraphs.append(paragraph)
        self._pieces = []


def _fallback_extract(html: str) -> tuple[str, str | None]:
    """Text and title of a page with the standard library's tolerant HTML tokenizer."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except Exception as exc:  # html.parser can trip over malformed declarations
        raise LoadError(f"could not parse HTML: {exc}") from exc
    return "\n\n".join(collector.paragraphs), collector.title


def _field(document: Any, name: str) -> str | None:
    """A text field of trafilatura's result (an object in 2.x, a dict in older releases)."""
    value = document.get(name) if isinstance(document, dict) else getattr(document, name, None)
    return value if isinstance(value, str) and value.strip() else None


def _trafilatura_extract(html: str) -> dict[str, str | None] | None:
    """Main text and metadata by trafilatura, or None when it finds nothing, fails, or the page
    has more than :data:`HTML_MAX_ELEMENTS` elements (the caller then uses the streaming extractor).

    ``<template>`` elements are dropped first: their content is inert markup that browsers
    never show (trafilatura would extract it as text).
    """
    try:
        import trafilatura
        from trafilatura.utils import load_html
    except ImportError as exc:
        warnings.warn(f"trafilatura unavailable ({exc}); using the simple HTML extractor", RuntimeWarning, 2)
        return None
    try:
        tree = load_html(html)
        if tree is None:
            return None
        for template in list(tree.iter("template")):
            template.drop_tree()
        if sum(1 for _ in tree.iter()) > HTML_MAX_ELEMENTS:
            return None
        document = trafilatura.bare_extraction(
            tree, include_comments=False, include_tables=False, favor_precision=True, with_metadata=True
        )
    except Exception:  # third-party parser (RecursionError, lxml errors): fall back
        return None
    text = None if document is None else _field(document, "text")
    if text is None:
        return None
    paragraphs = (line.strip() for line in text.splitlines())
    return {
        "text": "\n\n".join(p for p in paragraphs if p),
        "title": _field(document, "title"),
        "outlet": _field(document, "sitename"),
        "url": _field(document, "url"),
    }


def _extract_html_fields(html: str) -> dict[str, str | None]:
    """``text``, ``title``, ``outlet`` and ``url`` of a page: trafilatura first, the tokenizer as fallback."""
    found = _trafilatura_extract(html)
    if found is not None:
        return found
    text, title = _fallback_extract(html)
    return {"text": text, "title": title, "outlet": None, "url": None}


def extract_html(html: str) -> str:
    """Main article text of an HTML page, paragraphs separated by blank lines.

    Uses ``trafilatura`` (navigation, footers and comments excluded); when it
    finds nothing or fails (e.g. on pathologically deep nesting), falls back to
    the visible text outside scripts, menus, headers, footers and forms.
    Returns ``''`` when the page has no text. Raises :class:`LoadError` only
    when even the fallback cannot parse the page.
    """
    return _extract_html_fields(html)["text"] or ""


# --------------------------------------------------------------------------- records

# A loaded item and, for JSONL, the 1-based line it came from.
_Found = tuple[Article | Skipped, int | None]


def _record_article(record: Any, default_id: str) -> Article:
    """An article from a decoded JSON value; raises :class:`LoadError` naming the problem.

    Lone surrogates (a ``"\\ud800"`` escape) in string fields become U+FFFD: they
    would make the text, and the report, impossible to encode as UTF-8.
    """
    if isinstance(record, dict):
        record = {k: _without_surrogates(v) if isinstance(v, str) else v for k, v in record.items()}
    try:
        article = Article.from_record(record, default_id=default_id)
    except (ValueError, TypeError) as exc:
        raise LoadError(str(exc)) from exc
    if not article.text.strip():
        raise LoadError("empty 'text' field")
    if is_blank(article.text):
        raise LoadError(_INVISIBLE_ONLY.format("'text' field"))
    return article


def _json_problem(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def _iter_lines(readline: Callable[[int], bytes], max_bytes: int) -> Iterator[tuple[int, bytes | None, int]]:
    """Yield ``(line number, content, size)`` without the newline; content is None for lines over
    ``max_bytes``, which are read through in chunks but never held whole."""
    number = 0
    while True:
        line = readline(max_bytes + 1)
        if not line:
            return
        number += 1
        ended = line.endswith(b"\n")
        content = line[:-1] if ended else line
        if len(content) <= max_bytes:
            yield number, content, len(content)
            continue
        size = len(content)
        while not ended:
            more = readline(_LINE_CHUNK)
            ended = not more or more.endswith(b"\n")
            size += len(more) - (1 if more.endswith(b"\n") else 0)
        yield number, None, size


def _parse_jsonl_line(content: bytes, number: int, rel: str) -> Article:
    """The article on one JSONL line; raises :class:`LoadError` with the line number in the reason."""
    if b"\x00" in content:
        raise LoadError(f"binary data (not text) at line {number}")
    try:
        text = decode_bytes(content)
    except LoadError as exc:
        raise LoadError(f"{exc} at line {number}") from exc
    try:
        record = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise LoadError(f"malformed JSON at line {number}: {_json_problem(exc)}") from exc
    try:
        return _record_article(record, default_id=f"{rel}#{number}")
    except LoadError as exc:
        raise LoadError(f"{exc} at line {number}") from exc


def _utf8_readline(text: io.TextIOWrapper, codec: str) -> Callable[[int], bytes]:
    """``readline(size)`` over a decoded text stream, giving UTF-8 bytes like a binary stream would."""

    def readline(size: int) -> bytes:
        try:
            return text.readline(size).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise LoadError(f"undecodable {codec} text: {exc.reason}") from exc

    return readline


def _jsonl_records(readline: Callable[[int], bytes], rel: str, max_bytes: int) -> Iterator[_Found]:
    """One article per non-blank line; a bad line becomes a :class:`Skipped` with its number."""
    for number, content, size in _iter_lines(readline, max_bytes):
        if content is None:
            yield Skipped(rel, f"line too large ({size} bytes > --max-bytes {max_bytes})", number), number
        elif content.strip():
            try:
                yield _parse_jsonl_line(content, number, rel), number
            except LoadError as exc:
                yield Skipped(rel, str(exc), number), number


def _load_jsonl(path: Path, rel: str, max_bytes: int) -> Iterator[_Found]:
    """Stream a JSONL file, UTF-8 or (with a BOM, as Windows PowerShell writes it) UTF-16/32."""
    _regular_file_size(path)
    with open(path, "rb") as stream:
        head = stream.read(_SNIFF_BYTES)
        stream.seek(0)
        bom = _bom_encoding(head)
        if bom is None and _looks_binary(head.decode("latin-1")):
            raise LoadError("binary file (not text)")
        if bom is None or bom[0] == "utf-8":
            yield from _jsonl_records(stream.readline, rel, max_bytes)
            return
        codec = bom[0][:6]  # 'utf-16' or 'utf-32': the codec reads the BOM and its byte order
        with io.TextIOWrapper(stream, encoding=codec, newline="\n") as text:
            yield from _jsonl_records(_utf8_readline(text, codec), rel, max_bytes)


def _load_json(path: Path, rel: str, max_bytes: int) -> Iterator[_Found]:
    """One article object, or an array of them (ids default to ``rel#1``, ``rel#2``, ...)."""
    text = read_text_file(path, max_bytes=max_bytes)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"malformed JSON at line {exc.lineno}: {_json_problem(exc)}") from exc
    except (ValueError, RecursionError) as exc:
        raise LoadError(f"malformed JSON: {_json_problem(exc)}") from exc
    if not isinstance(data, list):
        yield _record_article(data, default_id=rel), None
        return
    if not data:
        raise LoadError("empty JSON array (no articles)")
    for index, record in enumerate(data, start=1):
        try:
            yield _record_article(record, default_id=f"{rel}#{index}"), None
        except LoadError as exc:
            yield Skipped(rel, f"record {index}: {exc}"), None


def _load_text(path: Path, rel: str, max_bytes: int) -> Iterator[_Found]:
    """A ``.txt`` or ``.md`` file, text kept exactly as decoded."""
    text = read_text_file(path, max_bytes=max_bytes)
    if not text.strip():
        raise LoadError("empty file (no text)")
    if is_blank(text):
        raise LoadError(_INVISIBLE_ONLY.format("file"))
    yield Article(id=rel, text=text), None


def _load_html(path: Path, rel: str, max_bytes: int) -> Iterator[_Found]:
    """An HTML page: its main text, with title, site name and canonical URL when found."""
    fields = _extract_html_fields(read_text_file(path, max_bytes=max_bytes))
    text = fields["text"] or ""
    if not text.strip():
        raise LoadError("no article text found in HTML")
    if is_blank(text):
        raise LoadError(_INVISIBLE_ONLY.format("HTML article text"))
    article = Article(
        id=rel,
        text=text,
        title=fields["title"],
        outlet=fields["outlet"],
        url=fields["url"],
        extra={"extracted_from": "html"},
    )
    yield article, None


_LOADERS: dict[str, Callable[[Path, str, int], Iterator[_Found]]] = {
    ".txt": _load_text,
    ".md": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".json": _load_json,
    ".jsonl": _load_jsonl,
}


def _load_file(path: Path, rel: str, max_bytes: int) -> Iterator[_Found]:
    """Everything in one file; a failure ends the file with a :class:`Skipped`, never an exception."""
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        yield (
            Skipped(rel, f"unsupported file type {path.suffix!r} (expected one of {', '.join(SUFFIXES)})"),
            None,
        )
        return
    try:
        yield from loader(path, rel, max_bytes)
    except LoadError as exc:
        yield Skipped(rel, str(exc)), None
    except OSError as exc:
        yield Skipped(rel, _os_reason(exc)), None


# --------------------------------------------------------------------------- scanning


@dataclass(frozen=True)
class _Entry:
    """A file to load: its id-style path relative to the scanned root, and where it is."""

    rel: str
    path: Path
    is_link: bool = False


def _identity(path: Path | str) -> tuple[int, int] | str:
    """(device, inode) of what ``path`` points to: equal for a file or directory and its symlinks.

    The resolved path stands in on file systems that report no inode numbers.
    """
    info = os.stat(path)
    if info.st_ino == 0:
        return os.path.realpath(path)
    return info.st_dev, info.st_ino


def _list_dir(folder: Path, rel: str) -> tuple[list[_Entry], list[tuple[Path, str, bool]]]:
    """Files with a known suffix, and subdirectories as (path, rel, is symlink), of one folder."""
    files: list[_Entry] = []
    dirs: list[tuple[Path, str, bool]] = []
    with os.scandir(folder) as scan:
        for entry in scan:
            if entry.name.startswith("."):
                continue
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            try:
                is_dir = entry.is_dir()
                is_link = entry.is_symlink()
            except OSError:
                is_dir, is_link = False, False
            if is_dir:
                dirs.append((Path(entry.path), child_rel, is_link))
            elif os.path.splitext(entry.name)[1].lower() in SUFFIXES:
                files.append(_Entry(child_rel, Path(entry.path), is_link))
    return files, dirs


def _walk(root: Path) -> tuple[list[_Entry], list[Skipped]]:
    """All loadable files under ``root``, following symlinks but visiting each real directory once.

    Real subdirectories are walked before symlinked ones, so a folder reached both
    ways is listed under its real path, and a symlink loop ends at once.
    """
    files: list[_Entry] = []
    problems: list[Skipped] = []
    seen: set[tuple[int, int] | str] = set()
    real: deque[tuple[Path, str]] = deque([(root, "")])
    linked: deque[tuple[Path, str]] = deque()
    while real or linked:
        folder, rel = real.popleft() if real else linked.popleft()
        try:
            key = _identity(folder)
            if key in seen:
                continue
            seen.add(key)
            found, subdirs = _list_dir(folder, rel)
        except OSError as exc:
            problems.append(Skipped(rel or str(root), f"cannot list directory: {_os_reason(exc)}"))
            continue
        files.extend(found)
        for path, child_rel, is_link in subdirs:
            (linked if is_link else real).append((path, child_rel))
    return files, problems


def _drop_aliases(files: list[_Entry]) -> tuple[list[_Entry], list[Skipped]]:
    """Keep one entry per real file (symlinks and hard links to it are skipped), preferring a non-link."""
    chosen: dict[tuple[int, int] | str, _Entry] = {}
    unique: list[_Entry] = []
    aliases: list[Skipped] = []
    for entry in sorted(files, key=lambda e: (e.is_link, e.rel)):
        try:
            key = _identity(entry.path)
        except OSError:  # reported when the file is loaded
            unique.append(entry)
            continue
        first = chosen.setdefault(key, entry)
        if first is entry:
            unique.append(entry)
        else:
            aliases.append(Skipped(entry.rel, f"same file as {first.rel!r} (symlink or hard link)"))
    return unique, aliases


def _scan(root: Path, is_dir: bool) -> list[_Entry | Skipped]:
    """The files to load and the problems met while listing, in sorted path order."""
    if not is_dir:
        return [_Entry(root.name, root)]
    files, problems = _walk(root)
    unique, aliases = _drop_aliases(files)
    items: list[_Entry | Skipped] = [*unique, *problems, *aliases]
    return sorted(items, key=lambda item: item.rel if isinstance(item, _Entry) else item.path)


def _iter_scan(items: list[_Entry | Skipped], max_bytes: int) -> Iterator[Article | Skipped]:
    """Load the listed files in order, ids made unique (see :func:`_unshadowed`)."""
    path_ids = {item.rel for item in items if isinstance(item, _Entry)}
    first_seen: dict[str, tuple[str, str]] = {}  # id -> (file it came from, where: 'file' or 'file:line')
    for item in items:
        if isinstance(item, Skipped):
            yield item
            continue
        for found, line in _load_file(item.path, item.rel, max_bytes):
            if isinstance(found, Article):
                found = _unshadowed(found, item.rel, line, path_ids, first_seen)
            if isinstance(found, Article):
                first_seen[found.id] = (item.rel, item.rel if line is None else f"{item.rel}:{line}")
            yield found


def _unshadowed(
    article: Article, rel: str, line: int | None, path_ids: set[str], first_seen: dict[str, tuple[str, str]]
) -> Article | Skipped:
    """The article with an id no other source holds, or a Skipped for a repeat within one file.

    A file's path is its own id. A record's ``id`` that is another listed file's path,
    or the id of a record of another file loaded before (sorted path order), becomes
    ``'<file>#<id>'`` (``'feed.jsonl#a.txt'``), the id as given kept in
    ``extra['record_id']``: ids from different sources never shadow each other, and
    which one is renamed does not depend on the order the files were walked in. An
    id repeated within one file is a duplicate record: skipped, naming where it was first.
    """
    taken = first_seen.get(article.id)
    if article.id == rel or (taken is not None and taken[0] == rel):
        if taken is None:
            return article
        return Skipped(rel, f"duplicate id {article.id!r} (first seen in {taken[1]})", line)
    if article.id not in path_ids and taken is None:
        return article
    renamed = f"{rel}#{article.id}"
    if renamed in path_ids or renamed in first_seen:
        where = taken[1] if taken is not None else article.id
        return Skipped(rel, f"duplicate id {article.id!r} (first seen in {where}; {renamed!r} is taken too)", line)
    return dataclasses.replace(article, id=renamed, extra={**article.extra, "record_id": article.id})


def iter_articles(root: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Article | Skipped]:
    """Scan a file or a folder recursively, yielding Articles and Skipped records in sorted path order.

    Parameters
    ----------
    root : str or Path
        A file, or a folder walked recursively. Symlinks are followed, each real
        directory is visited once; hidden names (``.x``) and unknown suffixes are
        ignored. A single file with an unknown suffix is reported as Skipped.
    max_bytes : int
        Files larger than this are skipped without being read; for ``.jsonl``,
        which is streamed, each line is held to the limit instead.

    Yields
    ------
    Article or Skipped
        Files in sorted path order, JSONL records in line order. Every problem
        (binary, undecodable, malformed JSON at line N, missing 'text' field,
        empty, too large, permission denied, duplicate id, ...) is a Skipped.

    Raises
    ------
    FileNotFoundError
        At the call, when ``root`` does not exist.
    ValueError
        At the call, when ``max_bytes`` is not a positive integer.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    root_path = Path(root)
    try:
        is_dir = stat.S_ISDIR(os.stat(root_path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(errno.ENOENT, "no such file or directory", str(root)) from None
    except OSError as exc:
        return iter([Skipped(str(root), _os_reason(exc))])
    return _iter_scan(_scan(root_path, is_dir), max_bytes)


def load_articles(
    root: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[Article], list[Skipped]]:
    """All of :func:`iter_articles` at once: ``(articles, skipped)``, each in scan order."""
    articles: list[Article] = []
    skipped: list[Skipped] = []
    for item in iter_articles(root, max_bytes=max_bytes):
        if isinstance(item, Article):
            articles.append(item)
        else:
            skipped.append(item)
    return articles, skipped
