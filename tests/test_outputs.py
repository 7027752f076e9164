"""Terminal table, compare and CSV: layout, options, and no control character from the input
reaching the bytes written (checked through a real TTY too)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from dedup import Article, Scanner, load_articles
from dedup.report import table_text
from dedup.safe import csv_cell, visible, visible_text

from .helpers import REPO, SAMPLES, WIRE

runner = CliRunner()
# Input that would act on a terminal: colour, window title (OSC ... BEL), clear screen, CR overwrite,
# a C1 CSI, a bidi override, line and paragraph separators.
NASTY = "\x1b[31mRED\x1b[0m \x1b]0;PWNED\x07 \x1b[2J \roverwrite \x9b1m \u202eexe.txt \u2028 \u2066x\u2069"
NASTY_NAME = "esc\x1b[31m-bell\x07-nl\nx-\u202etxt.exe"
PARAGRAPH = "\n\nThe port authority said in a statement: " + NASTY + " Boarding continues as usual today."
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "wire.txt").write_text(WIRE, encoding="utf-8")
    (folder / f"{NASTY_NAME}.txt").write_text(WIRE + PARAGRAPH, encoding="utf-8")
    (folder / "=HYPERLINK(1).txt").write_text(WIRE + "\n\nA note from the desk.", encoding="utf-8")
    (folder / "feed.jsonl").write_text(json.dumps({
        "id": "-2+3 \x1b[5mblink", "title": "title \x1b[1mbold\x1b[0m\u202e", "outlet": "@outlet\t",
        "text": WIRE + "\n\nDesk memo \x1b]2;OWNED\x07 and \x1b[?25l a hidden cursor, sent from our newsroom."}) + "\n",
        encoding="utf-8")
    return folder


def test_visible_escapes_every_control_and_bidi_character() -> None:
    for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, 0x202E, 0x2066, 0x200F]:
        shown = visible(f"a{chr(code)}b")
        assert not CONTROLS.search(shown) and shown != f"a{chr(code)}b"
        assert not CONTROLS.search(visible_text(f"a{chr(code)}b"))
    assert visible("a\x1b[31mb\nc") == "a\\x1b[31mb\\nc" and visible("plain/path.txt") == "plain/path.txt"
    assert visible("\u202e") == "\\u202e" and visible_text("one\ntwo\tthree") == "one two three"


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_never_start_a_formula(value: str) -> None:
    assert csv_cell(value).startswith("'")
    assert csv_cell("plain") == "plain" and csv_cell("a=b") == "a=b"


def test_csv_bytes_carry_no_control_and_no_formula(tmp_path: Path) -> None:
    result = runner.invoke(app_(), ["scan", str(_folder(tmp_path)), "--format", "csv", "-q"])
    assert result.exit_code == 0, result.output
    data = result.stdout
    assert not CONTROLS.search(data.replace("\n", ""))  # line ends only between records
    rows = list(csv.DictReader(io.StringIO(data)))
    cells = [v for row in rows for v in row.values()]
    assert len(data.strip().split("\n")) == len(rows) + 1
    assert not any(v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in cells)
    assert any(v.startswith("'=HYPERLINK") for v in cells) and any(v.startswith("'-2+3") for v in cells)
    assert any("\\x1b[31m-bell\\x07-nl\\nx-\\u202etxt.exe" in v for v in cells)


def app_():  # the Typer app
    from dedup.cli import app

    return app


def test_table_is_one_line_per_member_at_any_width(tmp_path: Path) -> None:
    result = Scanner().scan(load_articles(_folder(tmp_path))[0] + load_articles(SAMPLES)[0])
    for width in (60, 80, 120, 200):
        text = table_text(result, width=width)
        lines = text.splitlines()
        assert all(cell_len(line) <= width for line in lines), width
        assert not CONTROLS.search(text)
        members = [line for line in lines if re.match(r"\S", line) and ("0." in line or "origin" in line)
                   and not line.startswith(("c", "columns", "  "))]
        assert len(members) >= 10
    wide = table_text(result, width=200)
    assert "esc\\x1b[31m-bell\\x07-nl\\nx-\\u202etxt.exe.txt" in wide
    assert "title \\x1b[1mbold\\x1b[0m\\u202e" in wide
    head = wide.splitlines()
    assert head[0].startswith(f"{len(result.articles)} articles")  # summary first
    for column in ("relation", "jacc", "copied", "kept", "cos", "added"):
        assert any(line.strip().startswith(column) for line in head[:12]), column


def test_table_limit_and_min_size(tmp_path: Path) -> None:
    result = Scanner().scan(load_articles(SAMPLES)[0])
    one = table_text(result, limit=1)
    assert "c1: 10 articles" in one and "c2:" not in one and "showing 1 of 2 clusters" in one
    big = table_text(result, min_size=3)
    assert "c2:" not in big and "1 below --min-size 3" in big
    cli = runner.invoke(app_(), ["scan", str(SAMPLES), "-q", "--limit", "1"], env={"COLUMNS": "100"})
    assert cli.exit_code == 0 and "c2:" not in cli.stdout


def _tty(command: list[str], columns: int) -> bytes:
    """Run ``command`` under a real pseudo-terminal (util-linux ``script``), return its bytes."""
    if not shutil.which("script"):
        pytest.skip("util-linux 'script' is not installed: no pseudo-terminal run")
    line = " ".join("'" + part.replace("'", "'\\''") + "'" for part in command)
    done = subprocess.run(["script", "-qfec", f"stty cols {columns} rows 50; {line}", "/dev/null"],
                          capture_output=True, timeout=120, env={**os.environ, "TERM": "xterm-256color"})
    assert done.returncode == 0, done.stdout[-2000:]
    return done.stdout


@pytest.mark.parametrize("columns", [80, 200])
def test_table_through_a_real_tty_passes_no_input_control(tmp_path: Path, columns: int) -> None:
    out = _tty([sys.executable, "-m", "dedup", "scan", str(_folder(tmp_path)), "-q"], columns)
    text = out.decode("utf-8")
    # rich styles the output with its own SGR sequences (ESC [ ... m); nothing else may be there
    ours = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert not CONTROLS.search(ours.replace("\r\n", "").replace("\n", "")), repr(CONTROLS.findall(ours)[:5])
    for bad in ("\x1b]0;PWNED", "\x07", "\x1b[2J", "\x9b", "\u202e", "\x1b[31mRED", "\x1b[5mblink", "\x1b[?25l"):
        assert bad not in text
    plain = ours.replace("\r\n", "\n")
    assert "\\x1b]0;PWNED\\x07" in plain or columns == 80  # the added section, shown escaped
    assert all(cell_len(line) <= columns for line in plain.split("\n"))


def test_compare_through_a_real_tty_passes_no_input_control(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = _tty([sys.executable, "-m", "dedup", "compare", str(folder / "wire.txt"),
                str(folder / f"{NASTY_NAME}.txt")], 160).decode("utf-8")
    ours = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert not CONTROLS.search(ours.replace("\r\n", "").replace("\n", ""))
    assert "\\x1b]0;PWNED\\x07" in ours and "\\u202eexe.txt" in ours


def test_compare_json_record_ids_keep_metadata_and_differences_only() -> None:
    feed = SAMPLES / "outlets" / "feed.jsonl"
    ids = [json.loads(line)["id"] for line in feed.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = runner.invoke(app_(), ["compare", f"{feed}#{ids[0]}", f"{feed}#{ids[1]}", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["a"]["id"] == ids[0] and data["b"]["id"] == ids[1]
    assert data["a"]["outlet"] and data["b"]["outlet"] and data["b"]["url"] and data["b"]["published"]
    wire, interview = SAMPLES / "wire" / "reuters_port_strike.txt", SAMPLES / "outlets" / "newsnow_interview.txt"
    full = json.loads(runner.invoke(app_(), ["compare", str(wire), str(interview), "-f", "json"]).stdout)
    diff = json.loads(runner.invoke(app_(), ["compare", str(wire), str(interview), "-f", "json", "-d"]).stdout)
    assert full["counts"]["verbatim"] >= 8 and full["counts"]["added"] >= 5
    assert not any(r["kind"] == "verbatim" for r in diff["rows"])
    assert len(diff["rows"]) == len(full["rows"]) - full["counts"]["verbatim"]
    verbatim = [r for r in full["rows"] if r["kind"] == "verbatim"]
    assert all(r["a"]["text"].split()[:5] == r["b"]["text"].split()[:5] for r in verbatim)  # lined up
    missing = runner.invoke(app_(), ["compare", f"{feed}#nope", str(wire)])
    assert missing.exit_code == 2 and "no record with id 'nope'" in missing.output


def test_compare_same_name_keeps_the_second_articles_metadata(tmp_path: Path) -> None:
    from dedup.compare import distinct

    _, b = distinct(Article("x", "one"), Article("x", "two", title="T", outlet="O", url="https://o.example/x"))
    assert b.id == "x (2)" and (b.title, b.outlet, b.url) == ("T", "O", "https://o.example/x")


def test_compare_html_is_escaped(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "cmp.html"
    result = runner.invoke(app_(), ["compare", str(folder / "wire.txt"), f"{folder / 'feed.jsonl'}#-2+3 \x1b[5mblink",
                                    "-f", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "\x1b" not in html and "\\x1b[5mblink" in html
    assert 'class="cmp"' in html and "k-verbatim" in html and "k-added" in html


def test_json_passages_added_drops_texts(tmp_path: Path) -> None:
    sizes = {}
    for mode in ("all", "added", "none"):
        out = tmp_path / f"{mode}.json"
        result = runner.invoke(app_(), ["scan", str(SAMPLES), "-f", "json", "-o", str(out), "-q", "--passages", mode])
        assert result.exit_code == 0, result.output
        sizes[mode] = out.stat().st_size
        report = json.loads(out.read_text(encoding="utf-8"))
        interview = next(a for a in report["articles"] if a["id"] == "outlets/newsnow_interview.txt")
        if mode == "added":
            assert interview["passages"] and all(p["added"] and "text" not in p for p in interview["passages"])
            assert interview["added_sections"][0]["label"] == "interview"
            assert "text" not in interview["added_sections"][0]
    assert sizes["all"] > 2 * sizes["added"] > sizes["none"]


def test_help_documents_the_new_options() -> None:
    done = subprocess.run([sys.executable, "-m", "dedup", "scan", "--help"], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, "COLUMNS": "200"})
    for option in ("--limit", "--min-size", "--passages", "html"):
        assert option in done.stdout


def test_compare_lines_up_moved_paragraphs() -> None:
    from dedup.compare import comparison

    paragraphs = [p for p in WIRE.split("\n\n") if p.strip()]
    moved = [paragraphs[-2], *paragraphs[:-2], paragraphs[-1]]  # the second-last paragraph moved to the top
    data = comparison(Scanner().compare(Article("a", "\n\n".join(paragraphs)), Article("b", "\n\n".join(moved))),
                      first="a")
    kinds = [r["kind"] for r in data["rows"]]
    assert kinds.count("moved") == 2 and kinds.count("verbatim") == len(paragraphs) - 1
    row = next(r for r in data["rows"] if r["kind"] == "moved" and r["b"] is not None)
    assert row["b"]["paragraph"] == 1 and row["elsewhere"] == {"side": "a", "paragraph": len(paragraphs) - 1}


def test_compare_errors_show_controls_escaped(tmp_path: Path) -> None:
    result = runner.invoke(app_(), ["compare", str(tmp_path / "no\x1b]0;PWNED\x07such.txt"), str(tmp_path)],
                           env={"COLUMNS": "400"})
    assert result.exit_code == 2
    assert "\x1b]0;" not in result.output and "\x07" not in result.output
    assert "no\\x1b]0;PWNED\\x07such.txt" in result.output


def test_piped_table_is_160_columns_wide() -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    done = subprocess.run([sys.executable, "-m", "dedup", "scan", str(SAMPLES), "-q"], capture_output=True,
                          text=True, cwd=REPO, env=env)
    widths = [cell_len(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0 and max(widths) == 160 and "outlets/citypost_trimmed.txt" in done.stdout
