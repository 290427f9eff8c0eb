"""Headless Chromium (Debian's `chromium`) for the dashboard tests, and reading its DOM.

`.ci/run` installs the package. Without it the tests fail in CI (``CI=true``) and skip
elsewhere. Chromium runs with a throw-away profile and no network besides the page's own.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM_TIMEOUT_S = 90.0
VIRTUAL_TIME_BUDGET_MS = 15_000
"""Chromium dumps the page once this much virtual time has passed with nothing left to load,
so the page's fetch of its JSON has finished and the charts are drawn."""


def chromium_path() -> str:
    """The Chromium binary; fails in CI and skips elsewhere without one."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found:
        return found
    reason = "no chromium: apt-get install -y chromium (.ci/run does)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


def _run(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium_path(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
        *extra,
        url,
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_S,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"chromium exited {result.returncode}:\n{result.stderr[-3000:]}"
    return result


def dump_dom(url: str, work: Path) -> str:
    """The page's DOM after its scripts ran (``--dump-dom``)."""
    work.mkdir(parents=True, exist_ok=True)
    return _run(url, work / "profile-dom", "--dump-dom").stdout


def screenshot(url: str, file: Path, work: Path, *, width: int = 1280, height: int = 1600) -> None:
    """A PNG of the page at ``width`` x ``height`` in ``file``."""
    work.mkdir(parents=True, exist_ok=True)
    _run(
        url,
        work / "profile-shot",
        f"--screenshot={file}",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
    )


def png_size(file: Path) -> tuple[int, int]:
    """A PNG's width and height (after checking its signature)."""
    data = file.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{file} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@dataclass
class DashboardDom:
    """What the dashboard page's DOM holds: its state, errors, summary and chart tables."""

    state: str | None = None
    errors: str = ""
    summary: dict[str, str] = field(default_factory=dict)
    tables: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    """chart → row key → column → the cell's ``data-value``."""
    svg_marks: dict[str, int] = field(default_factory=dict)
    """chart → how many marks (bars, slices) with a ``data-value`` its SVG has."""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.dom = DashboardDom()
        self._in_errors = False
        self._table: str | None = None
        self._row: str | None = None
        self._svg: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "body":
            self.dom.state = found.get("data-state")
        elif tag == "pre" and found.get("id") == "errors":
            self._in_errors = True
        elif tag == "div" and "data-metric" in found:
            self.dom.summary[found["data-metric"]] = found.get("data-value", "")
        elif tag == "table" and "data-chart" in found:
            self._table = found["data-chart"]
            self.dom.tables[self._table] = {}
        elif tag == "tr" and self._table is not None and "data-key" in found:
            self._row = found["data-key"]
            self.dom.tables[self._table][self._row] = {}
        elif tag == "td" and self._table is not None and self._row is not None:
            if "data-col" in found:
                self.dom.tables[self._table][self._row][found["data-col"]] = found["data-value"]
        elif tag == "svg" and "data-chart" in found:
            self._svg = found["data-chart"]
            self.dom.svg_marks[self._svg] = 0
        elif self._svg is not None and "data-value" in found and found["data-value"] != "":
            self.dom.svg_marks[self._svg] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_errors = False
        elif tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None
        elif tag == "svg":
            self._svg = None

    def handle_data(self, data: str) -> None:
        if self._in_errors:
            self.dom.errors += data


def read_dashboard(dom: str) -> DashboardDom:
    """Parse the dumped DOM of the dashboard page."""
    reader = _Reader()
    reader.feed(dom)
    reader.close()
    return reader.dom
