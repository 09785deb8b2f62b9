"""Headless Chromium for the report tests (Debian's ``chromium``, installed by .ci/run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str | None:
    """The browser, or None (a failure instead where ``DEALCALC_REQUIRE_CHROMIUM`` is set, as in CI)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None and os.environ.get("DEALCALC_REQUIRE_CHROMIUM"):
        pytest.fail("chromium is required here (DEALCALC_REQUIRE_CHROMIUM) but not installed")
    return found


def run_chromium(browser: str, profile: Path, *action: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on a throwaway profile with console logging to stderr; ``action``
    is what to do (``--dump-dom URL`` or ``--print-to-pdf=OUT URL``)."""
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        *action,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
