"""Hardening (issue 5): bad input, huge input, interrupted runs.

The loader's per-format cases live in ``test_load.py``; here every kind of bad
input meets the whole command at once, interrupted runs must leave the
previous report in place, and the library API rejects bad arguments early.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dedup import cli
from dedup.article import Article, Skipped
from dedup.cli import app
from dedup.load import load_articles
from dedup.pipeline import Scanner
from dedup.report import write_atomic

from .helpers import REPO

runner = CliRunner()
# Wide enough that rich never folds a skipped file's name across lines.
WIDE = {"COLUMNS": "400"}

WIRE_STORY = """\
HARBOUR CITY, March 4 (Wire) - Dock workers at the country's second-largest container port walked off \
the job on Tuesday after talks over automation and overtime pay collapsed late on Monday night, leaving \
dozens of ships waiting at anchor outside the harbour entrance.

The union representing about 4,200 crane operators, lashers and truck drivers said the strike would last \
at least 72 hours and could be extended if the port authority did not return to the table with a written \
guarantee that no jobs would be cut when the new automated terminal opens next year.

Port officials said contingency plans were in place and that perishable cargo, medical supplies and fuel \
shipments would be given priority by a skeleton crew of supervisors. They declined to say how many \
vessels had already been diverted to smaller ports along the coast.

Shipping analysts estimated that each day of the stoppage would delay the handling of roughly 18,000 \
containers, adding pressure on retailers who were already struggling with late deliveries after storms \
disrupted routes through the northern straits earlier this month.

The transport minister urged both sides to resume negotiations, saying in a statement that the economy \
could not afford a prolonged shutdown of one of its main gateways for imports of machinery, grain and \
consumer goods. Farmers' groups warned that fertiliser deliveries for the spring planting season were \
at risk.

Talks are due to resume on Thursday under the supervision of a state mediator, according to a person \
familiar with the matter who asked not to be named because the discussions are private. Union leaders \
said members would hold a rally outside the port authority's headquarters on Wednesday morning.
"""

ADDED_PARAGRAPH = """
Local view: traders at the fish market near the old quay told the Coastal Courier that their refrigerated \
lorries were already queuing for hours, and several restaurant owners said they had started buying from \
inland suppliers at higher prices until the dispute is settled.
"""

CP1252_STORY = (
    b"The museum's new director, Ana Lopez, opened the winter exhibition on Friday. She called the show "
    b"\x93quoted\x94 caf\xe9 culture, a tribute to the artists who met in the city's coffee houses "
    b"between the wars. Visitors paid \x8025 for a ticket \x96 half the price of last year's show.\r\n"
)


def _feed_lines() -> list[bytes]:
    good_1 = json.dumps({"id": "feed-good-1", "text": "Council approves new budget for the city's schools."})
    good_2 = json.dumps({"id": "feed-good-2", "text": "Rail operator adds late trains for the summer festival."})
    no_text = json.dumps({"id": "feed-no-text", "title": "A record without a body"})
    return [
        good_1.encode(),
        b'{"id": "feed-broken", "text": "half a rec',  # malformed middle line
        no_text.encode(),
        good_2.encode(),
        b'{"id": "feed-cut", "text": "The last line was trunc',  # truncated last line, no newline
    ]


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


MAX_BYTES = 100_000  # small, so the oversized file stays cheap; every good file is under it

# (path relative to the folder, line or None, words the reason must contain)
EXPECTED_SKIPS: list[tuple[str, int | None, str]] = [
    ("bad/image.txt", None, "binary"),
    ("bad/empty.txt", None, "empty"),
    ("bad/blank.md", None, "empty"),
    ("bad/broken.json", None, "malformed json"),
    ("bad/huge.txt", None, "too large"),
    ("bad/self_loop.txt", None, "symlink loop"),
    ("bad/dangling.txt", None, "broken symlink"),
    ("feeds/wire.jsonl", 2, "malformed json at line 2"),
    ("feeds/wire.jsonl", 3, "missing 'text'"),
    ("feeds/wire.jsonl", 5, "malformed json at line 5"),
]


def build_bad_folder(root: Path) -> list[tuple[str, int | None, str]]:
    """A folder holding every kind of bad input next to a good wire story and its copy;
    returns the skips expected (the FIFO only where the system has them)."""
    _write(root / "wire" / "port_strike.txt", WIRE_STORY)
    _write(root / "outlets" / "courier_copy.txt", WIRE_STORY + ADDED_PARAGRAPH)
    _write(root / "bad" / "image.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"IHDR" + bytes(range(256)))
    _write(root / "bad" / "windows1252.txt", CP1252_STORY)
    _write(root / "bad" / "bom.txt", b"\xef\xbb\xbf" + "A UTF-8 file with a byte-order mark: naïve façade.\n".encode())
    _write(root / "bad" / "empty.txt", b"")
    _write(root / "bad" / "blank.md", b"  \n\t\r\n   \n")
    _write(root / "bad" / "broken.json", b'{"id": "x", "text": "unterminated,\n "title": }')
    _write(root / "feeds" / "wire.jsonl", b"\n".join(_feed_lines()))
    _write(root / "bad" / "huge.txt", ("lorem ipsum dolor sit amet " * 5000).encode())
    depth = 5000
    deep = "<html><body>" + "<div>" * depth + "<p>The deep paragraph survives.</p>" + "</div>" * depth
    _write(root / "bad" / "deep.html", deep + "</body></html>")
    (root / "loops").mkdir()
    os.symlink("..", root / "loops" / "up")  # directory symlink to its parent: a loop
    os.symlink("self_loop.txt", root / "bad" / "self_loop.txt")  # a file symlink to itself: ELOOP
    os.symlink("nowhere.txt", root / "bad" / "dangling.txt")
    expected = list(EXPECTED_SKIPS)
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "bad" / "pipe.txt")
        expected.append(("bad/pipe.txt", None, "not a regular file"))
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.name != "huge.txt":
            assert path.stat().st_size < MAX_BYTES, path
    assert (root / "bad" / "huge.txt").stat().st_size > MAX_BYTES
    return expected


def _scan_json(folder: Path, out: Path, *extra: str) -> Any:
    args = ["scan", str(folder), "--format", "json", "--output", str(out), "--max-bytes", str(MAX_BYTES), *extra]
    return runner.invoke(app, args, env=WIDE)


def test_every_kind_of_bad_input_is_reported_and_the_scan_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    expected = build_bad_folder(folder)
    out = tmp_path / "report.json"
    result = _scan_json(folder, out)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    articles = {a["id"]: a for a in report["articles"]}

    # The good pair is found.
    pair = next(
        p for p in report["pairs"] if {p["a"], p["b"]} == {"wire/port_strike.txt", "outlets/courier_copy.txt"}
    )
    assert pair["relation"] in {"exact", "near_duplicate", "derived"}
    assert articles["wire/port_strike.txt"]["cluster"] == articles["outlets/courier_copy.txt"]["cluster"]
    # The good lines of the broken feed survive.
    assert {"feed-good-1", "feed-good-2"} <= set(articles)
    # Readable oddities are read, not skipped.
    assert {"bad/windows1252.txt", "bad/bom.txt", "bad/deep.html"} <= set(articles)
    cp1252 = "".join(p["text"] for p in articles["bad/windows1252.txt"]["passages"])
    assert "“quoted” café" in cp1252 and "€25" in cp1252 and "ticket – half" in cp1252
    bom = articles["bad/bom.txt"]["passages"][0]
    assert bom["start"] == 0 and bom["text"].startswith("A UTF-8 file")
    assert "The deep paragraph survives." in articles["bad/deep.html"]["text"]
    # The directory loop is cut (nothing is read twice through it), not reported.
    assert not any("loops/up" in name for name in articles)

    # Every bad input is named, with its reason, in the report and on stderr.
    skipped = report["skipped"]
    for path, line, words in expected:
        found = [s for s in skipped if s["path"] == path and s["line"] == line]
        assert len(found) == 1, (path, line, skipped)
        assert words in found[0]["reason"].lower(), found[0]
        where = f"{path}:{line}" if line is not None else path
        assert f"skipped {where}: " in result.stderr, where
    assert len(skipped) == len(expected), skipped
    assert f"{len(expected)} input(s) skipped" in result.stderr
    assert report["stats"]["skipped"] == len(expected)

    strict = _scan_json(folder, tmp_path / "strict.json", "--strict", "--quiet")
    assert strict.exit_code == 1, strict.output
    assert json.loads((tmp_path / "strict.json").read_text(encoding="utf-8"))["skipped"] == skipped


def test_cp1252_article_read_through_the_library(tmp_path: Path) -> None:
    _write(tmp_path / "w.txt", CP1252_STORY)
    (article,), skipped = load_articles(tmp_path)
    assert skipped == []
    assert "show “quoted” café culture" in article.text and "paid €25 for a ticket – half" in article.text
    assert article.text.endswith("\r\n") and "\ufffd" not in article.text


@pytest.mark.parametrize(
    "text",
    [
        # A euro sign before a number used to cost cp1252 enough "chaos" that DOS code pages
        # (cp775, cp852) won the detection and the article came out as 'ōquotedö cafķ'.
        "The director called it “quoted” café culture. Tickets cost €25 – half last year's price…",
        "Revenue was €4.2bn (£3.6bn), up 7%; operating margin 12‰. The CEO said: ‘We’re confident’.",
        "Der Bürgermeister sagte, die Straße werde gesperrt. „Wir bitten um Verständnis“, hieß es.",
    ],
)
def test_windows_1252_with_euro_signs_and_dashes_is_detected(tmp_path: Path, text: str) -> None:
    _write(tmp_path / "w.txt", text.encode("cp1252"))
    (article,), _ = load_articles(tmp_path)
    assert article.text == text


def test_lone_surrogate_escapes_in_json_records_do_not_break_the_scan(tmp_path: Path) -> None:
    """JSON may escape half a surrogate pair (``"\\ud800"``); UTF-8 cannot encode it, so it
    once crashed fingerprinting and the report. It is read as U+FFFD, offsets unchanged."""
    records = [
        {"id": "half-pair-\ud83d", "text": "Lone \ud800 surrogate and " + WIRE_STORY, "title": "t\udfff"},
        {"id": "pair", "text": "A real pair \ud83d\ude00 is one emoji. " + WIRE_STORY},
    ]
    _write(tmp_path / "in" / "feed.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    _write(tmp_path / "in" / "one.json", json.dumps({"text": "x\udc80y " + WIRE_STORY}))
    articles, skipped = load_articles(tmp_path / "in")
    assert skipped == []
    by_id = {a.id: a for a in articles}
    assert by_id["half-pair-\ufffd"].text.startswith("Lone \ufffd surrogate")
    assert by_id["half-pair-\ufffd"].title == "t\ufffd"
    assert by_id["pair"].text.startswith("A real pair \U0001f600 is")
    assert by_id["one.json"].text.startswith("x\ufffdy ")
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["scan", str(tmp_path / "in"), "--format", "json", "-o", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {a["id"] for a in report["articles"]} == set(by_id)


# --------------------------------------------------------------------------- names that look like markup


def test_names_and_ids_that_look_like_console_markup_are_printed_verbatim(tmp_path: Path) -> None:
    """Skip messages print paths and ids as they are: ``[bold]`` is not a style, ``[/]`` no error."""
    folder = tmp_path / "in"
    _write(folder / "[bold]empty.txt", b"")
    _write(folder / "a[" / "]x.txt", b"")  # relative id 'a[/]x.txt': a closing tag with nothing open
    _write(folder / "feed.jsonl", b'{"id": "[/x]", "text": "one"}\n{"id": "[/x]", "text": "two"}\n')
    _write(folder / "ok.txt", WIRE_STORY)
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["scan", str(folder), "--format", "json", "-o", str(out)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "skipped [bold]empty.txt: empty file" in result.stderr
    assert "skipped a[/]x.txt: empty file" in result.stderr
    assert "duplicate id '[/x]'" in result.stderr
    assert len(json.loads(out.read_text(encoding="utf-8"))["skipped"]) == 3


def test_missing_path_message_keeps_brackets(tmp_path: Path) -> None:
    result = runner.invoke(app, ["scan", str(tmp_path / "[/nowhere]")], env=WIDE)
    assert result.exit_code == 2
    assert "[/nowhere]" in result.output and "not found" in result.output


def test_compare_prints_texts_and_names_that_look_like_markup(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.txt", WIRE_STORY + "\nEditor's note [/x] and [bold]not bold[/bold].\n")
    second = _write(tmp_path / "[b.txt", WIRE_STORY + "\nA closing tag [/] with nothing open.\n")
    result = runner.invoke(app, ["compare", str(first), str(second)], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "[/x]" in result.stdout and "[bold]not bold[/bold]" in result.stdout and "[b.txt" in result.stdout



def test_table_prints_ids_that_look_like_markup(tmp_path: Path) -> None:
    """The table view puts ids in rich Table cells, which parse markup: an id 'a[/]x.txt'
    (folder 'a[', file ']x.txt') raises MarkupError, '[bold]x.txt' loses its brackets."""
    _write(tmp_path / "a[" / "]x.txt", WIRE_STORY)
    _write(tmp_path / "[bold]copy.txt", WIRE_STORY + ADDED_PARAGRAPH)
    result = runner.invoke(app, ["scan", str(tmp_path), "-q"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "a[/]x.txt" in result.stdout and "[bold]copy.txt" in result.stdout

# --------------------------------------------------------------------------- output problems


def test_output_in_a_missing_folder_is_a_usage_error_before_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "in" / "a.txt", WIRE_STORY)

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scan ran although the output cannot be written")

    monkeypatch.setattr(Scanner, "scan", no_scan)
    out = tmp_path / "no" / "such" / "dir" / "r.json"
    result = runner.invoke(app, ["scan", str(tmp_path / "in"), "--format", "json", "-o", str(out)], env=WIDE)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "not an existing folder" in result.stderr and str(out.parent) in result.stderr
    assert not out.exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_output_folder_is_reported_without_traceback(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "a.txt", WIRE_STORY)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        out = locked / "r.json"
        result = runner.invoke(app, ["scan", str(tmp_path / "in"), "--format", "json", "-o", str(out)], env=WIDE)
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "cannot write" in result.stderr
    assert list(locked.iterdir()) == []


def test_write_failure_after_the_scan_is_reported_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "in" / "a.txt", WIRE_STORY)
    out = _write(tmp_path / "r.json", "previous report\n")

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    result = runner.invoke(app, ["scan", str(tmp_path / "in"), "--format", "json", "-o", str(out)], env=WIDE)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "cannot write" in result.stderr and "No space left on device" in result.stderr
    assert out.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "r.json"]


# --------------------------------------------------------------------------- interrupted runs


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.startswith("."))


@pytest.mark.parametrize("signal_exception", [KeyboardInterrupt, cli.Interrupted])
def test_interrupted_scan_keeps_the_previous_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signal_exception: type[BaseException]
) -> None:
    _write(tmp_path / "in" / "a.txt", WIRE_STORY)
    out = _write(tmp_path / "out" / "report.json", '{"previous": true}\n')
    before = out.stat().st_mtime_ns

    def interrupted(self: Scanner, *args: object, **kwargs: object) -> None:
        raise signal_exception()

    monkeypatch.setattr(Scanner, "scan", interrupted)
    result = runner.invoke(app, ["scan", str(tmp_path / "in"), "--format", "json", "-o", str(out)], env=WIDE)
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2
    assert out.read_text() == '{"previous": true}\n' and out.stat().st_mtime_ns == before
    assert _leftovers(out.parent) == []


def test_interrupt_while_writing_leaves_no_partial_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "in" / "a.txt", WIRE_STORY)
    out = _write(tmp_path / "out" / "report.json", "old\n")

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    result = runner.invoke(app, ["scan", str(tmp_path / "in"), "--format", "json", "-o", str(out)], env=WIDE)
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.stderr and "Traceback" not in result.output
    assert out.read_text() == "old\n"
    assert _leftovers(out.parent) == []


def test_sigterm_inside_a_guarded_third_party_call_still_interrupts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader tolerates any ``Exception`` from trafilatura and charset-normalizer (they
    are heuristic parsers). The SIGTERM handler raises from wherever the main thread is,
    so its exception must not be one of those, or a TERM during HTML extraction is
    swallowed and the scan runs on."""
    import trafilatura

    _write(tmp_path / "in" / "page.html", "<html><body><article><p>" + WIRE_STORY + "</p></article></body></html>")
    out = _write(tmp_path / "report.json", "old\n")

    def terminated(*args: object, **kwargs: object) -> None:
        cli._on_sigterm(signal.SIGTERM, None)

    monkeypatch.setattr(trafilatura, "bare_extraction", terminated)
    result = runner.invoke(app, ["scan", str(tmp_path / "in"), "--format", "json", "-o", str(out)], env=WIDE)
    assert result.exit_code == 130, result.output
    assert "interrupted" in result.stderr
    assert out.read_text() == "old\n"


def _synthetic_folder(folder: Path, n: int, seed: int = 5) -> None:
    """``n`` articles of 300 words; two in three are edited copies of another, so the
    scan has real clusters and passages to work on."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(2, 9))) for _ in range(20_000)]
    bases = [rng.choices(vocabulary, k=300) for _ in range(max(1, n // 3))]
    (folder / "art").mkdir(parents=True)
    for i in range(n):
        words = list(rng.choice(bases)) if i % 3 else rng.choices(vocabulary, k=300)
        for _ in range(20):
            words[rng.randrange(300)] = rng.choice(vocabulary)
        (folder / "art" / f"{i:05d}.txt").write_text(" ".join(words) + "\n", encoding="utf-8")


@pytest.mark.skipif(os.name != "posix", reason="needs SIGTERM")
def test_sigterm_mid_scan_exits_130_and_keeps_the_previous_output(tmp_path: Path) -> None:
    """A real process, a real signal. The folder starts with an empty file, so the first
    'skipped' line on stderr shows that the scan (and the SIGTERM handler) is running:
    a TERM during Python's start-up would kill the process by the default action instead."""
    folder = tmp_path / "big"
    _synthetic_folder(folder, 3000)
    _write(folder / "000_empty.txt", b"")
    out = _write(tmp_path / "out.json", '{"previous": true}\n')
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    process = subprocess.Popen(
        [sys.executable, "-m", "dedup", "scan", str(folder), "--format", "json", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert process.stderr is not None
    first = process.stderr.readline().decode("utf-8", "replace")
    assert "skipped 000_empty.txt" in first, first
    time.sleep(1.0)
    if process.poll() is not None:
        process.communicate()
        pytest.skip("the scan finished within a second; nothing to interrupt")
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, stderr_bytes = process.communicate(timeout=60)
    stderr = stderr_bytes.decode("utf-8", "replace")
    assert process.returncode == 130, stderr
    assert time.monotonic() - started < 10, "the signal should stop the scan promptly"
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) <= 5
    assert out.read_text() == '{"previous": true}\n'
    assert _leftovers(tmp_path) == []


# --------------------------------------------------------------------------- write_atomic


def test_write_atomic_replaces_the_whole_file(tmp_path: Path) -> None:
    target = _write(tmp_path / "r.json", "x" * 10_000)
    write_atomic(target, "short\n")
    assert target.read_text() == "short\n"
    write_atomic(target, "é" * 3)
    assert target.read_bytes() == "é".encode() * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_write_atomic_creates_a_new_file_relative_to_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_atomic("plain.txt", "content")
    assert (tmp_path / "plain.txt").read_text() == "content"


def test_write_atomic_failure_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _write(tmp_path / "r.json", "old content\n")
    seen: list[str] = []

    def failing_replace(src: str, dst: object) -> None:
        seen.append(src)
        assert Path(src).read_text() == "new content\n"  # written in full before the rename
        raise OSError("simulated failure")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        write_atomic(target, "new content\n")
    assert target.read_text() == "old content\n"
    assert seen and not Path(seen[0]).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_write_atomic_failure_while_writing(tmp_path: Path) -> None:
    target = _write(tmp_path / "r.json", "old content\n")

    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "fine so far " * 1000 + "\ud800")  # a lone surrogate: not encodable in UTF-8
    assert target.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]



@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_write_atomic_keeps_permissions(tmp_path: Path) -> None:
    """An existing report keeps its mode; a new one gets the usual 0666 & ~umask, not 0600."""
    shared = _write(tmp_path / "shared.json", "old\n")
    shared.chmod(0o644)
    write_atomic(shared, "new\n")
    assert shared.stat().st_mode & 0o777 == 0o644
    umask = os.umask(0o022)
    os.umask(umask)
    write_atomic(tmp_path / "fresh.json", "new\n")
    assert (tmp_path / "fresh.json").stat().st_mode & 0o777 == 0o666 & ~umask

# --------------------------------------------------------------------------- library API validation


def test_article_rejects_bad_fields() -> None:
    with pytest.raises(TypeError, match="'story-7'"):
        Article("story-7", b"bytes, not text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'story-8'"):
        Article("story-8", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        Article("", "text")
    with pytest.raises(ValueError, match="empty"):
        Article("   ", "text")
    with pytest.raises(TypeError, match="id"):
        Article(7, "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="yesterday"):
        Article("a", "text", published="yesterday")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="title"):
        Article("a", "text", title=3)  # type: ignore[arg-type]


def test_scanner_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        Scanner(batch_size=0)
    with pytest.raises(ValueError, match="same_story"):
        Scanner(same_story=1.5)
    with pytest.raises(ValueError, match="min_shared"):
        Scanner(min_shared=0)


def test_scan_rejects_items_that_are_not_articles() -> None:
    with pytest.raises(TypeError, match="int"):
        Scanner().scan([42])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="str"):
        Scanner().scan(["just a string"])  # type: ignore[list-item]


def test_scan_of_nothing_and_of_skips_only() -> None:
    empty = Scanner().scan([])
    assert empty.articles == [] and empty.pairs == [] and empty.clusters == []
    only_skips = Scanner().scan([Skipped("x.txt", "empty file (no text)")])
    assert only_skips.skipped == [Skipped("x.txt", "empty file (no text)")]
    assert json.loads(json.dumps(only_skips.to_dict()))["skipped"][0]["path"] == "x.txt"


# --------------------------------------------------------------------------- one huge file


def _big_text(target_bytes: int, seed: int = 3) -> str:
    """Repetitive-but-varied prose: paragraphs of sentences drawn from a large vocabulary."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 10))) for _ in range(50_000)]
    paragraphs = []
    for _ in range(2000):
        sentences = [" ".join(rng.choices(vocabulary, k=rng.randint(8, 25))).capitalize() + "." for _ in range(6)]
        paragraphs.append(" ".join(sentences))
    pieces: list[str] = []
    size = 0
    while size < target_bytes:
        paragraph = rng.choice(paragraphs)
        pieces.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(pieces)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("DEDUP_SLOW") != "1", reason="set DEDUP_SLOW=1 to run the 30 MB scan")
def test_a_30_mb_file_next_to_small_ones(tmp_path: Path) -> None:
    """One ~30 MB article scanned with two small ones, through the CLI. Skipped unless
    DEDUP_SLOW=1 (it takes tens of seconds). At the default --max-bytes (20 MB) the file
    is skipped as too large; with --max-bytes 40000000 it is scanned."""
    folder = tmp_path / "in"
    _write(folder / "huge.txt", _big_text(30_000_000))
    _write(folder / "wire.txt", WIRE_STORY)
    _write(folder / "copy.txt", WIRE_STORY + ADDED_PARAGRAPH)
    out = tmp_path / "r.json"

    default = runner.invoke(app, ["scan", str(folder), "--format", "json", "-o", str(out)], env=WIDE)
    assert default.exit_code == 0, default.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [s["path"] for s in report["skipped"]] == ["huge.txt"]
    assert "too large" in report["skipped"][0]["reason"]

    large = runner.invoke(
        app, ["scan", str(folder), "--format", "json", "-o", str(out), "--max-bytes", "40000000", "-q"], env=WIDE
    )
    assert large.exit_code == 0, large.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["skipped"] == []
    ids = {a["id"] for a in report["articles"]}
    assert ids == {"huge.txt", "wire.txt", "copy.txt"}
    assert any({p["a"], p["b"]} == {"wire.txt", "copy.txt"} for p in report["pairs"])



def test_library_scan_survives_lone_surrogates() -> None:
    from dedup import Article, Scanner

    result = Scanner().scan([Article("a", "x \ud800 y " * 30), Article("b", "x \ud800 y " * 30)])
    assert [p.relation for p in result.pairs] == ["exact"]
