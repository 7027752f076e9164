"""Headless Chromium for the HTML tests: dump the rendered DOM, take a screenshot.

The tests skip, saying why, only when no Chromium binary is installed (`.ci/run`
installs the Debian package ``chromium``).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--disable-default-apps", "--mute-audio")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (CI installs the Debian package: apt-get install -y chromium); "
                "the real-browser HTML tests cannot run")
    raise AssertionError  # unreachable


def run(page: Path, *args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], float]:
    """Chromium on ``page`` with a fresh profile; returns the run and its wall time (s)."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="dedup-chromium-") as profile:
        clock = time.perf_counter()
        done = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=timeout, cwd=profile)
        return done, time.perf_counter() - clock


def dump_dom(page: Path, extra: tuple[str, ...] = ()) -> str:
    done, _ = run(page, "--dump-dom", *extra)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, target: Path, size: str = "1400,1800") -> bytes:
    done, _ = run(page, f"--screenshot={target}", f"--window-size={size}", "--hide-scrollbars")
    assert done.returncode == 0 and target.exists(), done.stderr[-2000:]
    return target.read_bytes()


def png_variety(data: bytes) -> dict[str, float]:
    """Decode a PNG's frame with zlib (no imaging library needed): width, height and the
    share of scanlines carrying more than two distinct byte values -- whatever the row
    filter, a blank or single-colour row has at most two."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat = 8, b""
    width = height = depth = colour = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8)
    stride = 1 + width * channels * depth // 8
    assert raw.size == height * stride, "truncated PNG data"
    rows = np.sort(raw.reshape(height, stride)[:, 1:], axis=1)
    distinct = 1 + (np.diff(rows.astype(np.int16), axis=1) != 0).sum(axis=1)
    return {"width": width, "height": height, "varied_rows": float((distinct > 2).mean()),
            "distinct_max": float(distinct.max())}
