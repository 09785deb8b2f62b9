"""Charts (extra ``plot``): each function draws what it says on the Axes it is given, and
``dealcalc plot`` writes PNG, SVG and PDF files atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from dealcalc.report import plots  # noqa: E402
from dealcalc.report.charts import KINDS, Results, figure, param_label  # noqa: E402

DEAL = dc.load(dc.example_path("ussm-fwo"))
EXAMPLE = str(dc.example_path("ussm-fwo"))


@pytest.fixture(scope="module")
def valuation() -> dc.Valuation:
    return dc.evaluate(DEAL)


def _ax() -> object:
    return plots.new_figure().add_subplot()


def test_cash_flow_bars_and_cumulative_line_are_the_ledgers(valuation: dc.Valuation) -> None:
    ax = plots.cash_flow_chart(valuation, ax=_ax())
    flow = valuation.table()["After-tax cash flow [USD]"].to_numpy() / 1e6
    heights = np.array([p.get_height() for p in ax.patches])
    np.testing.assert_allclose(heights, flow)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), np.cumsum(flow))


def test_waterfall_parties_add_up_to_the_cash_before_state_take(valuation: dc.Valuation) -> None:
    ax = plots.waterfall_chart(valuation, ax=_ax())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    heights = dict(zip(labels, (p.get_height() for p in ax.patches), strict=True))
    before = heights["before state take"]
    assert sum(heights[p] for p in DEAL.party_names()) == pytest.approx(before, rel=1e-9)
    assert heights["revenue"] - heights["charges"] - heights["operating costs"] - heights[
        "investment"
    ] == pytest.approx(before, rel=1e-9)


def test_npv_profile_crosses_zero_at_the_irr(valuation: dc.Valuation) -> None:
    ax = plots.npv_profile_chart(valuation, ax=_ax())
    line = ax.get_lines()[0]
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    crossing = np.interp(0.0, -y, x)  # NPV falls with the rate for these flows
    assert crossing == pytest.approx(float(valuation.irr[0]), abs=2e-3)
    assert y[0] > 0 > y[-1]


def test_tornado_bars_span_low_to_high_widest_on_top() -> None:
    table = dc.tornado(DEAL, ["fiscal.royalty_rate", "price_decks.base.copper", "phases.refinery.capex_usd"])
    ax = plots.tornado_chart(table, ax=_ax())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # each bar is named in words with its unit and its low and high inputs, never by its path
    names = {plots.plain(param_label(p)): p for p in table.index}
    paths = [names[label.split("\n")[0]] for label in labels]
    assert paths[-1] == table.index[0]  # widest swing drawn last, at the top
    assert labels[paths.index("phases.refinery.capex_usd")].startswith("Refinery capex (US\\$ M)\n")
    low_high = table.loc["phases.refinery.capex_usd", ["low_value", "high_value"]] / 1e6
    assert labels[paths.index("phases.refinery.capex_usd")].endswith(
        f"{low_high.iloc[0]:.1f} → {low_high.iloc[1]:.1f}"
    )
    base = table.attrs["base_metric"] / 1e6
    n = len(table)
    for i, path in enumerate(paths):
        low, high = ax.patches[i], ax.patches[n + i]
        assert low.get_x() == pytest.approx(base)
        assert base + low.get_width() == pytest.approx(table.loc[path, "metric_at_low"] / 1e6)
        assert base + high.get_width() == pytest.approx(table.loc[path, "metric_at_high"] / 1e6)
    assert ax.get_xlabel() == "NPV (US\\$ M)" and "npv_usd" not in ax.get_title()


def test_spider_and_grid_draw_their_tables() -> None:
    table = dc.spider(DEAL, ["fiscal.royalty_rate", "price_decks.base.copper"])
    ax = plots.spider_chart(table, ax=_ax(), deal=DEAL)
    shown = {line.get_label() for line in ax.get_lines()}
    assert shown >= {"Royalty rate (%)", "Copper price (US\\$/t)"}  # words and units, not paths
    assert not shown & set(table.columns)
    g = dc.grid(
        DEAL, ("price_decks.base.antimony", [2e4, 3e4, 5e4]), ("phases.refinery.capex_usd", [2e8, 4e8])
    )
    ax = plots.grid_heatmap(g, ax=_ax(), deal=DEAL)
    np.testing.assert_allclose(ax.images[0].get_array(), g.to_numpy() / 1e6)
    # both axes named in words with units, their ticks in those units
    assert ax.get_xlabel() == "Refinery capex (US\\$ M)" and ax.get_ylabel() == "Antimony price (US\\$/t)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["200.0", "400.0"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["20,000", "30,000", "50,000"]


def test_monte_carlo_histogram_and_cdf_mark_the_quantiles() -> None:
    mc = dc.monte_carlo(DEAL, 400, seed=3)
    npv = mc.values["npv_usd"] / 1e6
    ax = plots.histogram_chart(mc, ax=_ax())
    assert sum(p.get_height() for p in ax.patches) == len(npv)
    assert f"P(< 0) = {100 * (npv < 0).mean():.1f} %" in ax.get_title()
    assert ax.get_title().startswith("NPV (US\\$ M): 400 draws")
    marks = {line.get_label().split()[0]: line.get_xdata()[0] for line in ax.get_lines()}
    assert marks["P50"] == pytest.approx(np.quantile(npv, 0.5))
    ax = plots.cdf_chart(mc, ax=_ax())
    x, p = ax.get_lines()[0].get_xdata(), ax.get_lines()[0].get_ydata()
    assert np.all(np.diff(x) >= 0) and p[-1] == 1.0


def test_parties_chart_stacks_each_partys_cash(valuation: dc.Valuation) -> None:
    ax = plots.parties_chart(valuation, ax=_ax())
    parties = valuation.party_table()
    n_years = len(parties)
    first = [p.get_height() for p in ax.patches[:n_years]]
    np.testing.assert_allclose(first, parties[f"{DEAL.party_names()[0]} [USD]"].to_numpy() / 1e6)


def test_every_kind_makes_a_figure() -> None:
    results = Results(
        DEAL,
        draws=200,
        seed=1,
        x=("price_decks.base.antimony", [2e4, 4e4]),
        y=("phases.refinery.capex_usd", [2e8, 4e8]),
    )
    for kind in KINDS:
        fig = figure(kind, results)
        assert fig.axes and fig.axes[0].get_title(), kind


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_cli_plot_writes_each_format(tmp_path: Path, suffix: str, magic: bytes) -> None:
    out = tmp_path / f"chart{suffix}"
    result = CliRunner().invoke(main, ["plot", "waterfall", EXAMPLE, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)


def test_cli_plot_refuses_before_work(tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    out.write_bytes(b"precious")
    result = CliRunner().invoke(main, ["plot", "cashflow", EXAMPLE, "--out", str(out)])
    assert result.exit_code == 2 and "--force" in result.output and out.read_bytes() == b"precious"
    result = CliRunner().invoke(main, ["plot", "cashflow", EXAMPLE, "--out", str(tmp_path / "chart.gif")])
    assert result.exit_code == 2 and "unknown output type" in result.output
    result = CliRunner().invoke(main, ["plot", "grid", EXAMPLE, "--out", str(tmp_path / "g.png")])
    assert result.exit_code == 2 and "needs two axes" in result.output


def test_missing_plot_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a)
    )
    with pytest.raises(dc.MissingExtraError, match=r"dealcalc\[plot\]"):
        plots.cash_flow_chart(dc.evaluate(DEAL))


def test_asking_for_what_is_not_there_is_an_input_error(valuation: dc.Valuation) -> None:
    mc = dc.monte_carlo(DEAL, 64, seed=1, metrics=["npv_usd", "irr"])
    with pytest.raises(dc.InputError, match=r"no metric 'ir' in this run.*did you mean 'irr'"):
        plots.histogram_chart(mc, metric="ir")
    with pytest.raises(dc.InputError, match=r"no metric 'ussm\.npv_usd'"):
        mc.convergence("ussm.npv_usd")
    assert mc.metric("irr") is mc.values["irr"]
    with pytest.raises(dc.InputError, match="a heat map needs a grid of two axes"):
        plots.grid_heatmap(dc.grid(DEAL, ("fiscal.royalty_rate", [0.03, 0.05])))
    with pytest.raises(dc.InputError, match=r"no scenario 5; expected 0 to 0 \(this valuation has 1\)"):
        plots.waterfall_chart(valuation, scenario=5)
    with pytest.raises(dc.InputError, match="is not a scenario number"):
        valuation.table(1.5)  # type: ignore[arg-type]
    assert valuation.table(-1).equals(valuation.table(0))  # Python's own negative index
