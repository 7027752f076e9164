"""No control character from a file name or an id reaches stderr (issue 15): checked on the bytes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import REPO, WIRE

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file names with control characters are POSIX")

HOSTILE = "x\x1b[2J\x1b]0;pwned\x07\r\nforged\x9b\u202e"
# Bytes no stderr line may hold: C0 controls but the newline, DEL, and C1 controls as UTF-8.
FORBIDDEN = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]")


def test_skip_lines_escape_control_characters_of_names_and_ids(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / f"{HOSTILE}.txt").write_bytes(b"")  # skipped: empty
    (folder / f"{HOSTILE}.json").write_text("{ not json", encoding="utf-8")  # skipped: malformed
    record = json.dumps({"id": HOSTILE, "text": WIRE})
    (folder / "feed.jsonl").write_text(f"{record}\n{record}\n", encoding="utf-8")  # line 2: duplicate id
    (folder / "wire.txt").write_text(WIRE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    done = subprocess.run(
        [sys.executable, "-m", "dedup", "scan", str(folder), "--format", "json", "-o", str(tmp_path / "r.json")],
        capture_output=True,
        cwd=REPO,
        env={**env, "COLUMNS": "400"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len([line for line in done.stderr.splitlines() if line.startswith(b"skipped ")]) == 3
    assert not FORBIDDEN.search(done.stderr), done.stderr
    text = done.stderr.decode("utf-8")
    assert "x\\x1b[2J\\x1b]0;pwned\\x07\\r\\nforged\\x9b\\u202e.txt: empty file" in text
    assert len([line for line in text.splitlines() if "forged" in line]) == 3  # no forged line of its own
