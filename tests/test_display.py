"""Results show themselves: HTML tables in Jupyter, rich tables in a terminal."""

from __future__ import annotations

import io

from rich.console import Console

import dealcalc as dc

DEAL = dc.load(dc.example_path("ussm-fwo"))


def _text(renderable: object) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_valuation_shows_metrics_and_parties() -> None:
    v = dc.evaluate(DEAL)
    page = v._repr_html_()
    npv = f"{v.npv_usd[0] / 1e6:,.1f}"
    irr = f"{100 * v.irr[0]:.1f} %"
    assert f"<td>{npv}</td>" in page and f"<td>{irr}</td>" in page
    assert "<th>NPV (US$ M)</th>" in page and "<th>IRR (%)</th>" in page  # words and units
    for party in DEAL.party_names():
        assert f"<th>{party}</th>" in page
    text = _text(v)
    assert npv in text and irr in text and "Parties" in text


def test_many_scenarios_show_their_spread() -> None:
    v = dc.evaluate(DEAL, overrides={"price_decks.base.antimony": [20e3, 30e3, 40e3]})
    page = v._repr_html_()
    assert "<th>P10</th>" in page and "3 scenarios" in page
    assert "P90" in _text(v)


def test_monte_carlo_shows_its_summary_and_gates() -> None:
    mc = dc.monte_carlo(DEAL, 300, seed=2)
    s = mc.summary()
    page = mc._repr_html_()
    assert f"<td>{s.loc['npv_usd', 'mean'] / 1e6:,.1f}</td>" in page
    assert f"<td>{100 * s.loc['npv_usd', 'prob_negative']:.1f} %</td>" in page
    assert "<th>NPV (US$ M)</th>" in page and "prob_negative" not in page
    assert "Phase gates" in page
    assert "300 draws" in _text(mc)


def test_tidy_ledger_holds_every_cell_of_every_scenario() -> None:
    v = dc.evaluate(DEAL, overrides={"price_decks.base.antimony": [20e3, 45e3]})
    tidy = v.tidy()
    for s in range(2):
        wide = v.table(s)
        back = tidy[tidy["scenario"] == s].pivot(index="year", columns="line", values="value_usd")
        assert back.loc[wide.index, wide.columns].equals(wide.rename_axis("year").rename_axis("line", axis=1))


def test_monte_carlo_frame_is_one_row_per_draw() -> None:
    mc = dc.monte_carlo(DEAL, 128, seed=4, metrics=["npv_usd", "ussm.npv_usd"])
    df = mc.frame()
    assert len(df) == 128
    assert (df["npv_usd"].to_numpy() == mc.values["npv_usd"]).all()
    assert set(mc.inputs.columns) <= set(df.columns)
    assert df["built: refinery"].mean() == mc.gate_summary().loc["refinery", "p_built"]


def test_names_with_brackets_print_as_written(tmp_path: object) -> None:
    """rich reads ``[word]`` as a style tag: a name like "[/x]" used to raise MarkupError (a
    traceback on the CLI) and "[years from valuation date]" vanished from the table."""
    from pathlib import Path

    from click.testing import CliRunner

    from dealcalc.cli import main
    from test_engine_handworked import deal as hand_deal

    # (a scenario's name is an identifier, so it can no longer hold a bracket: the deal's can)
    named = hand_deal(
        name="Deal [/x] [bold]", scenarios={"odd-case": {"scale": {"phases.mine.capex_usd": 1.1}}}
    )
    assert "Deal [/x] [bold]" in _text(dc.evaluate(named))
    path = Path(str(tmp_path)) / "named.yaml"
    path.write_text(dc.io.dump_deal(named), encoding="utf-8")
    for args in (["npv"], ["compare"], ["sensitivity", "tornado"], ["montecarlo", "-n", "20"]):
        command = [a for a in args if not a.startswith("-") and a != "20"]
        options = args[len(command) :]
        result = CliRunner().invoke(main, [*command, str(path), *options])
        assert result.exit_code == 0, (args, result.output)
        assert "Deal [/x] [bold]" in result.output, args
    compared = CliRunner().invoke(main, ["compare", str(path)]).output
    assert "odd-case" in compared and "nan" not in compared  # no description: an empty cell
    assert dc.compare(named).loc["odd-case", "description"] == ""
    assert "Payback from valuation date (years)" in CliRunner().invoke(main, ["npv", str(path)]).output
