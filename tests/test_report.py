"""The HTML report: one self-contained page that a browser renders with its charts and no
console errors (headless Chromium, Debian's ``chromium``, installed by .ci/run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.formatting import money, ratio
from dealcalc.params import with_changes
from dealcalc.report.html import SECTIONS, html_report
from headless import chromium, run_chromium

EXAMPLE = str(dc.example_path("ussm-fwo"))
DEAL = dc.load(EXAMPLE)


def _section(page: str, key: str) -> str:
    """The HTML of one section of the report (from its heading to the next section)."""
    start = page.index(f'<h2 id="{key}">')
    end = page.find("<section>", start)
    return page[start : end if end > 0 else len(page)]


def test_tables_only_page_holds_every_section() -> None:
    page = html_report(DEAL, draws=200, seed=1, charts=False)
    for key, heading in SECTIONS:
        drawn = key == "cashflow"  # charts only
        assert (f'<h2 id="{key}">{heading}</h2>' in page) is not drawn, key
    npv = dc.evaluate(DEAL).npv_usd[0] / 1e6
    assert f">{npv:,.1f}<" in page  # the headline NPV in US$ million
    assert "Balochistan practice" in page  # a source of an assumption
    assert "<img" not in page
    # readers' words, not internal names; no scientific notation; every IRR with its basis
    for internal in ("npv_usd", "prob_negative", "reciprocal_29 -> ", "swing_usd", "e+0", "e-0"):
        assert internal not in page, internal
    assert "IRR (%)" not in page and "IRR (%, real)" in page
    assert "Run: base case" in page


def test_a_changed_scenario_run_says_what_it_is_and_shows_its_own_tariffs() -> None:
    """issue 20: --scenario spot_2025 --set fiscal.royalty_rate=0.07 is named as such everywhere,
    its tariff table is the scenario's (not the base case's), and the assumptions list values."""
    changed = with_changes(DEAL, {"fiscal.royalty_rate": 0.07}, origin="--set")
    page = html_report(changed, scenario="spot_2025", draws=200, seed=1, charts=False)
    assert "Run: spot_2025 + 1 change" in page
    assert "--set fiscal.royalty_rate=0.07" in _section(page, "summary")
    assert "base case" not in _section(page, "summary").replace("(illustrative base case)", "")
    for key in ("summary", "comparison", "parties", "production", "capital", "debt", "assumptions"):
        assert f'<h2 id="{key}">' in page
    # the tariff table is the chosen scenario's: spot_2025 changes the price deck, so its values differ
    tariffs = _section(page, "tariffs")
    mine = dc.tariff_attribution(changed, scenario="spot_2025")
    base = dc.tariff_attribution(changed)
    for party in ("project", "ussm", "government_of_pakistan"):
        ours, theirs = (money(float(t.loc[party, "npv_usd: annex_ii"])) for t in (mine, base))
        assert ours != theirs
        assert f"<td>{ours}</td>" in tariffs and f"<td>{theirs}</td>" not in tariffs
    # the comparison highlights this run's row, and every row carries the change
    comparison = _section(page, "comparison")
    assert '<tr class="chosen"><th scope="row">spot_2025 + 1 change</th>' in comparison
    assert ">base case<" not in comparison.replace('<td class="text">base case</td>', "")
    # assumptions: values with units, the changed value as valued, and what changed it
    assumptions = _section(page, "assumptions")
    row = re.search(r'<tr class="changed"><th scope="row">fiscal\.royalty_rate</th>(.*?)</tr>', assumptions)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    # the file's label and source justified 5 %, not this run's 7 %: they are shown as what was
    assert cells[:3] == ["7.0", "%", "changed by this run"] and cells[-1] == "--set fiscal.royalty_rate=0.07"
    assert cells[3].startswith("was, in the file: sourced")
    capex = re.search(
        r'<th scope="row">phases\.refinery\.capex_usd</th><td>([^<]*)</td><td[^>]*>([^<]*)<', assumptions
    )
    assert capex is not None and capex.groups() == ("300.0", "US$ M")
    deck = re.search(r'<th scope="row">valuation\.price_deck</th><td>([^<]*)</td>', assumptions)
    assert deck is not None and deck.group(1) == "spot_2025"
    # the debt section shows the cover ratio the engine computed
    low = dc.evaluate(changed, "spot_2025").values["min_dscr"][0]
    assert f"lowest is {ratio(float(low))}" in _section(page, "debt")


def test_every_ledger_year_and_line_is_on_the_page() -> None:
    """The ledger prints in blocks of years; together they hold every year and every line."""
    valuation = dc.evaluate(DEAL, keep_ledger=True)
    ledger = _section(html_report(DEAL, draws=100, seed=1, charts=False), "ledger")
    heads = re.findall(r'<th scope="col">(-?\d+)</th>', ledger)
    assert [int(y) for y in heads] == list(valuation.table().index)
    for name in valuation.table().columns:
        assert name.split(" [")[0] in ledger, name
    closure = valuation.table()["Closure [USD]"].iloc[-1]
    assert closure < 0 and f"<td>{money(closure)}</td>" in ledger.rsplit("<table", 1)[-1]


def test_a_published_study_renders() -> None:
    study = dc.load(Path(__file__).parents[1] / "examples" / "published" / "casino_2022.yaml")
    page = html_report(study, draws=100, seed=1, charts=False)
    ledger = _section(page, "ledger")
    years = dc.evaluate(study, keep_ledger=True).table().index
    assert [int(y) for y in re.findall(r'<th scope="col">(-?\d+)</th>', ledger)] == list(years)
    assert "The deal has no debt" in page and "names no tariff attribution" in page


def test_a_deal_with_nothing_uncertain_has_no_monte_carlo_section() -> None:
    quiet = DEAL.model_copy(update={"uncertainty": type(DEAL.uncertainty)()})
    quiet = with_changes(
        quiet, {"phases.refinery.gate.probability": 1.0, "phases.refinery.gate.min_price_usd": {}}
    )
    page = html_report(quiet, charts=False)
    assert 'id="summary"' in page and 'id="montecarlo"' not in page


def test_without_matplotlib_the_report_falls_back_to_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default install has no matplotlib: `dealcalc report` still writes the page, says on it
    and on stderr which install adds the charts; asking for charts outright is an error."""
    import importlib

    for name in ("dealcalc.cli", "dealcalc.cli.commands", "dealcalc.report.html", "dealcalc.report.plots"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "has_matplotlib"):
            monkeypatch.setattr(module, "has_matplotlib", lambda: False)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", EXAMPLE, "--out", str(out), "-n", "100"])
    assert result.exit_code == 0, result.output
    assert "pip install 'dealcalc[plot]'" in result.output
    page = out.read_text(encoding="utf-8")
    assert 'id="ledger"' in page and "<img" not in page
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
    assert re.findall(r'(?:src|href)="(?!data:|#)', page) == []  # nothing fetched from anywhere
    assert "<link" not in page and "@import" not in page
    result = CliRunner().invoke(main, ["report", EXAMPLE, "--out", str(page_file)])
    assert result.exit_code == 2 and "--force" in result.output  # kept without --force


def test_chromium_renders_every_chart_without_console_errors(page_file: Path, tmp_path: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    done = run_chromium(browser, tmp_path / "profile", "--dump-dom", page_file.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    # the page's own check: every chart decoded with a size
    assert 'data-charts="7/7"' in done.stdout, done.stdout[:500]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert any("dealcalc-report: 7/7 charts" in line for line in console), done.stderr[-2000:]
    problems = [line for line in console if "dealcalc-report:" not in line]
    assert problems == [], problems
    assert "Uncaught" not in done.stderr
