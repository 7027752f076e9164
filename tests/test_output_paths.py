"""Where ``-o`` writes (issue 15): through symlinks, streamed to FIFOs and character devices,
never replacing a special file; block devices and sockets are refused with a clear message."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dedup.cli import app
from dedup.report import OutputPathError, write_atomic

from .helpers import SAMPLES

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs, device nodes and such file names are POSIX")

runner = CliRunner()


def scan_to(out: Path | str) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", str(SAMPLES / "wire"), "-q", "--format", "json", "-o", str(out)])
    return result.exit_code, " ".join(result.output.split())  # rich wraps long messages


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real" / "report.json"
    real.parent.mkdir()
    real.write_text("old", encoding="utf-8")
    os.chmod(real, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    code, output = scan_to(link)
    assert code == 0, output
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text(encoding="utf-8"))["articles"]
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert not [p for p in real.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    write_atomic(link, "{}\n")
    assert link.is_symlink() and (tmp_path / "new.json").read_text() == "{}\n"


def test_a_fifo_is_streamed_to_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "o.json"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, output = scan_to(fifo)
    reader.join(timeout=30)
    assert code == 0, output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["articles"]
    assert [p.name for p in tmp_path.iterdir()] == ["o.json"]  # no temporary file left beside it


def test_a_character_device_is_streamed_to_and_never_replaced() -> None:
    before = os.lstat("/dev/null")
    assert stat.S_ISCHR(before.st_mode)
    code, output = scan_to("/dev/null")
    assert code == 0, output
    after = os.lstat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


def test_a_block_device_is_refused_and_left_alone(tmp_path: Path) -> None:
    node = tmp_path / "disk"
    try:
        os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 200))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a block device here ({exc})")
    code, output = scan_to(node)
    assert code == 2
    assert "block device" in output and "give a file path" in output
    assert stat.S_ISBLK(os.lstat(node).st_mode)
    with pytest.raises(OutputPathError, match="block device"):
        write_atomic(node, "x")
    assert stat.S_ISBLK(os.lstat(node).st_mode)


def test_a_symlink_to_a_block_device_is_refused(tmp_path: Path) -> None:
    node = tmp_path / "disk"
    try:
        os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 201))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a block device here ({exc})")
    link = tmp_path / "report.json"
    link.symlink_to(node)
    code, output = scan_to(link)
    assert code == 2 and "block device" in output
    assert link.is_symlink() and stat.S_ISBLK(os.lstat(node).st_mode)


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        code, output = scan_to(path)
        assert code == 2 and "socket" in output
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()


def test_a_folder_or_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, output = scan_to(tmp_path)
    assert code == 2 and "folder" in output
    code, output = scan_to(tmp_path / "nowhere" / "r.json")
    assert code == 2 and "not an existing folder" in output
