"""Terminal tables fit the console and never cut a number (issue 20).

Every table is drawn for the bundled deal at 80 columns: each number, formatted by
dealcalc.formatting from the analysis's own DataFrame, must appear whole; no line is longer
than the console; no ellipsis anywhere. Headers say words and units (never internal names such
as ``npv_usd`` or ``prob_negative``), every IRR says its basis, and at 250 columns the spider's
headers appear whole.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import dealcalc as dc
from dealcalc import formatting as fmt
from dealcalc.analyses.display import FitTable, frame_rich, param_label, param_value
from dealcalc.report.tables import (
    attribution_table,
    compare_table,
    frame_table,
    indices_table,
    montecarlo_table,
    party_table,
    tornado_table,
    valuation_table,
)

DEAL = dc.load(dc.example_path("ussm-fwo"))


def render(table: object, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


def whole(number: str, text: str) -> bool:
    """``number`` appears in ``text`` with no digit, sign or separator glued to either side."""
    return re.search(rf"(?<![\d.,\-+]){re.escape(number)}(?![\d.,])", text) is not None


def check_fits(text: str, numbers: Iterable[str], width: int) -> None:
    assert "…" not in text, text
    longest = max(len(line) for line in text.splitlines())
    assert longest <= width, (longest, text)
    missing = [n for n in numbers if n != fmt.MISSING and not whole(n, text)]
    assert not missing, (missing, text)


def headers(text: str) -> list[list[str]]:
    """The header cells of each table drawn in ``text``: the lines between ┏ and ┡ split at
    the column rules, joined column by column."""
    out: list[list[str]] = []
    block: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("┏"):
            block = []
        elif line.startswith("┡") and block is not None:
            cells = [[c.strip() for c in row.strip("┃").split("┃")] for row in block]
            out.append([" ".join(w for w in column if w) for column in zip(*cells, strict=True)])
            block = None
        elif block is not None:
            block.append(line)
    return out


@pytest.fixture(scope="module")
def valuation() -> dc.Valuation:
    return dc.evaluate(DEAL)


@pytest.fixture(scope="module")
def compared() -> pd.DataFrame:
    return dc.compare(DEAL)


@pytest.fixture(scope="module")
def spider() -> pd.DataFrame:
    return dc.spider(DEAL)


@pytest.fixture(scope="module")
def mc() -> dc.MonteCarlo:
    return dc.monte_carlo(DEAL, n=500, seed=1)


def money(values: Iterable[float]) -> list[str]:
    return [fmt.money(float(x)) for x in values]


# ------------------------------------------------------------------------------ each table


def test_compare_at_80_columns_keeps_every_number_whole(compared: pd.DataFrame) -> None:
    text = render(compare_table(compared, title=DEAL.name), 80)
    numbers = money(compared["npv_usd"]) + money(compared["npv_change_usd"])
    numbers += [fmt.percent(x) for x in compared["irr"]] + [fmt.years(x) for x in compared["payback_years"]]
    numbers += money(compared["ussm.npv_usd"]) + money(compared["fwo.npv_usd"])
    check_fits(text, numbers, 80)
    # the columns did not fit in one table: the rest follow, each row named again
    assert text.count("(continued)") >= 1
    short = [name for name in compared.index if name != "base" and len(name) < 24]  # long names wrap
    assert short and all(text.count(name) >= 2 for name in short)
    every = [h for table in headers(text) for h in table]
    assert "IRR (%, real)" in every and "NPV (US$ M)" in every and "Payback (years)" in every
    assert not any("npv_usd" in h or "irr_change" in h for h in every)


def test_compare_on_a_wide_console_is_one_table(compared: pd.DataFrame) -> None:
    text = render(compare_table(compared), 400)  # every party's NPV, IRR and take: a wide table
    assert "(continued)" not in text and len(headers(text)) == 1
    check_fits(text, money(compared["npv_usd"]), 400)


def test_headline_and_parties_say_units_and_basis(valuation: dc.Valuation) -> None:
    head = valuation.headline()
    text = render(valuation_table(head, title="x", run=valuation.info), 80)
    numbers = money([head["npv_usd"], head["pre_tax_npv_usd"], head["peak_funding_usd"]])
    numbers += [fmt.percent(head["irr"]), fmt.percent(head["pre_tax_irr"]), fmt.years(head["payback_years"])]
    check_fits(text, numbers, 80)
    assert "IRR after tax (%, real)" in text and "NPV after tax (US$ M)" in text
    # the run is named in the title and its record is in the caption
    assert "x: base case" in text and f"dealcalc {valuation.info.version}" in text
    text = render(party_table(head, title="Parties"), 80)
    parties = head["parties"]
    numbers = money(p["npv_usd"] for p in parties.values())
    numbers += [fmt.percent(p["irr"]) for p in parties.values() if p["irr"] is not None]
    numbers += [fmt.percent(p["take"]) for p in parties.values() if "take" in p]
    check_fits(text, numbers, 80)
    numbers += [fmt.percent(p["discount_rate"]) for p in parties.values()]
    check_fits(text, numbers, 80)
    columns = ["party", "Discount rate (%, real)", "NPV (US$ M)", "IRR (%, real)", "Government take (%)"]
    assert columns in headers(text)


def test_a_nominal_deal_says_so_in_every_irr_header() -> None:
    nominal = DEAL.model_copy(update={"valuation": DEAL.valuation.model_copy(update={"basis": "nominal"})})
    v = dc.evaluate(nominal)
    assert "IRR (%, nominal)" in headers(render(party_table(v.headline()), 120))[0]
    assert "IRR after tax (%, nominal)" in render(valuation_table(v.headline()), 120)


def test_attribution_keeps_every_number_whole() -> None:
    df = dc.tariff_attribution(DEAL)
    text = render(attribution_table(df), 80)
    check_fits(text, money(df.to_numpy().ravel()), 80)
    assert not any(":" in h and "usd" in h for table in headers(text) for h in table)


def test_tornado_names_parameters_in_words_and_keeps_its_bars(spider: pd.DataFrame) -> None:
    df = dc.tornado(DEAL)
    text = render(tornado_table(df, width=10, deal=DEAL), 80)
    numbers = money(df["metric_at_low"]) + money(df["metric_at_high"]) + money(df["swing"])
    numbers += [
        param_value(p, lo, like=hi)
        for p, lo, hi in zip(df.index, df["low_value"], df["high_value"], strict=True)
    ]
    check_fits(text, numbers, 80)
    assert "phases.refinery.capex_usd" not in text and "Refinery capex" in text
    bars = [line.split("│")[-2] for line in text.splitlines() if line.count("│") > 2]
    assert sum("|" in bar for bar in bars) == len(df)  # every row's bar, whole, with the base mark


def test_spider_headers_are_whole_at_250_and_numbers_at_80(spider: pd.DataFrame) -> None:
    labels = [param_label(p, DEAL) for p in spider.columns]
    wide = render(frame_table(spider, metric="npv_usd", deal=DEAL), 250)
    assert "…" not in wide
    shown = [h for table in headers(wide) for h in table]
    assert set(labels) <= set(shown), set(labels) - set(shown)
    narrow = render(frame_table(spider, metric="npv_usd", deal=DEAL), 80)
    check_fits(narrow, [*money(spider.to_numpy().ravel()), "-30.0 %", "+30.0 %"], 80)
    assert set(labels) <= {h for table in headers(narrow) for h in table}  # wrapped, never cut


def test_the_grid_names_both_axes() -> None:
    g = dc.grid(
        DEAL, ("price_decks.base.antimony", [2e4, 3e4, 4e4]), ("phases.refinery.capex_usd", [2e8, 3e8, 4e8])
    )
    text = render(frame_table(g, metric="npv_usd", deal=DEAL), 80)
    check_fits(text, [*money(g.to_numpy().ravel()), "20,000", "40,000", "200.0", "400.0"], 80)
    key = headers(text)[0][0]
    assert "Antimony price (US$/t)" in key and "Refinery capex (US$ M)" in key


def test_monte_carlo_rows_are_words_with_units(mc: dc.MonteCarlo) -> None:
    summary = mc.summary()
    text = render(montecarlo_table(summary, title="MC"), 80)
    numbers = [
        fmt.cell(str(m), summary.loc[m, c]) for m in summary.index for c in ("mean", "p10", "p50", "p90")
    ]
    numbers += [fmt.percent(x) for x in summary["prob_negative"]]
    check_fits(text, numbers, 80)
    assert "prob_negative" not in text and "npv_usd" not in text
    assert "NPV (US$ M)" in text and "ussm IRR (%)" in text


def test_jupyter_and_rich_views_use_the_same_rules(valuation: dc.Valuation, mc: dc.MonteCarlo) -> None:
    text = render(valuation, 80)
    check_fits(text, [fmt.money(valuation.npv_usd[0]), fmt.percent(valuation.irr[0])], 80)
    page = valuation._repr_html_()
    assert f"<td>{fmt.percent(valuation.irr[0])}</td>" in page and "<th>NPV (US$ M)</th>" in page
    text = render(mc, 80)
    check_fits(text, [fmt.money(mc.summary().loc["npv_usd", "mean"])], 80)
    df = pd.DataFrame({"npv_usd": [1.5e6]}, index=pd.Index(["ussm"], name="party"))
    run = valuation.info
    page = dc.analyses.display.frame_html(df, title="Parties", run=run)
    assert "Parties: base case" in page and run.lines()[-1] in page
    assert "NPV (US$ M)" in render(frame_rich(df, run=run), 80)


@pytest.mark.parametrize("width", [40, 60, 80, 100])
def test_fit_table_never_cuts_a_number(width: int) -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(0, 1e9, size=(6, 14))
    table = FitTable(title="Random money", caption="a long caption " * 5)
    table.add_column("row", kind="key")
    for j in range(values.shape[1]):
        table.add_column(f"Column number {j} of many (US$ M)")
    table.add_column("note", kind="text")
    for i, row in enumerate(values):
        table.add_row(f"row_{i}", *money(row), "a note that is long enough to wrap " * 2)
    text = render(table, width)
    check_fits(text, money(values.ravel()), width)


def _sobol() -> pd.DataFrame:
    pytest.importorskip("SALib")
    from dealcalc.analyses.gsa import sobol

    return sobol(DEAL, 64, seed=1)


@pytest.mark.parametrize("make", [_sobol])
def test_sobol_indices_fit(make: Callable[[], pd.DataFrame]) -> None:
    df = make()
    text = render(indices_table(df, deal=DEAL), 80)
    numbers = [fmt.percent(x).removesuffix(" %") for x in df["ST"]]
    check_fits(text, numbers, 80)
    assert "S1, first order (%)" in " ".join(h for table in headers(text) for h in table)


def test_param_labels_are_words_with_units() -> None:
    for path in dc.tornado(DEAL).index:
        label = param_label(path, DEAL)
        words, _, unit = label.partition(" (")
        assert "." not in words and "_" not in words and unit.endswith(")"), label
    assert param_label("phases.*.capex_usd") == "Capex, all phases (×)"  # a pattern scales
    assert param_label("a.b+c.d") == "A b + C d"  # a Sobol group: each part in words
    assert param_label("not a path") == "not a path"
