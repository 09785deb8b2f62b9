"""The HTML report: one self-contained page that a browser renders with its charts and no
console errors (headless Chromium, Debian's ``chromium``, installed by .ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.report.html import html_report

EXAMPLE = str(dc.example_path("ussm-fwo"))
DEAL = dc.load(EXAMPLE)


def test_tables_only_page_holds_every_section() -> None:
    page = html_report(DEAL, draws=200, seed=1, charts=False)
    for heading in (
        "Headline",
        "Tariff attribution",
        "What drives the value",
        "Uncertainty: Monte Carlo",
        "Ledger",
        "Assumptions and sources",
    ):
        assert f"<h2>{heading}</h2>" in page
    npv = dc.evaluate(DEAL).npv_usd[0] / 1e6
    assert f">{npv:,.1f}<" in page  # the headline NPV in US$ million
    assert "Balochistan practice" in page  # a source of an assumption
    assert "<img" not in page


def test_a_deal_with_nothing_uncertain_has_no_monte_carlo_section() -> None:
    from dealcalc.params import with_changes

    quiet = DEAL.model_copy(update={"uncertainty": type(DEAL.uncertainty)()})
    quiet = with_changes(
        quiet, {"phases.refinery.gate.probability": 1.0, "phases.refinery.gate.min_price_usd": {}}
    )
    page = html_report(quiet, charts=False)
    assert "<h2>Headline</h2>" in page and "<h2>Uncertainty: Monte Carlo</h2>" not in page


def test_without_matplotlib_the_report_falls_back_to_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default install has no matplotlib: `dealcalc report` still writes the page, says on it
    and on stderr which install adds the charts; asking for charts outright is an error."""
    import dealcalc.cli
    import dealcalc.report.html
    import dealcalc.report.plots

    for module in (dealcalc.cli, dealcalc.report.html, dealcalc.report.plots):
        monkeypatch.setattr(module, "has_matplotlib", lambda: False)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", EXAMPLE, "--out", str(out), "-n", "100"])
    assert result.exit_code == 0, result.output
    assert "pip install 'dealcalc[plot]'" in result.output
    page = out.read_text(encoding="utf-8")
    assert "<h2>Ledger</h2>" in page and "<img" not in page
    assert "pip install &#x27;dealcalc[plot]&#x27;" in page
    result = CliRunner().invoke(main, ["report", EXAMPLE, "--out", str(tmp_path / "b.html"), "--charts"])
    assert result.exit_code == 2 and "dealcalc[plot]" in result.output


@pytest.fixture(scope="module")
def page_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(main, ["report", EXAMPLE, "--out", str(out), "-n", "500", "--seed", "1"])
    assert result.exit_code == 0, result.output
    return out


def test_the_page_is_self_contained(page_file: Path) -> None:
    page = page_file.read_text(encoding="utf-8")
    assert page.count('<img class="chart"') == 7
    assert re.findall(r'(?:src|href)="(?!data:)', page) == []  # nothing fetched from anywhere
    assert "<link" not in page and "@import" not in page
    result = CliRunner().invoke(main, ["report", EXAMPLE, "--out", str(page_file)])
    assert result.exit_code == 2 and "--force" in result.output  # kept without --force


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None and os.environ.get("DEALCALC_REQUIRE_CHROMIUM"):
        pytest.fail("chromium is required here (DEALCALC_REQUIRE_CHROMIUM) but not installed")
    return found


def test_chromium_renders_every_chart_without_console_errors(page_file: Path, tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
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
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
        "--dump-dom",
        page_file.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    # the page's own check: every chart decoded with a size
    assert 'data-charts="7/7"' in done.stdout, done.stdout[:500]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert any("dealcalc-report: 7/7 charts" in line for line in console), done.stderr[-2000:]
    problems = [line for line in console if "dealcalc-report:" not in line]
    assert problems == [], problems
    assert "Uncaught" not in done.stderr
