"""Tornado, spider, grid and breakeven against single evaluations and hand solutions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.analyses import default_drivers
from dealcalc.cli import main
from dealcalc.params import Scenarios
from test_engine_handworked import deal as hand_deal

DEAL = dc.load(dc.example_path("ussm-fwo"))
EXAMPLE = str(dc.example_path("ussm-fwo"))
SB = "price_decks.base.antimony"
CAPEX = "phases.refinery.capex_usd"


def one(overrides: dict[str, float], metric: str = "npv_usd", deal: dc.Deal = DEAL) -> float:
    v = dc.evaluate(deal, overrides={k: [x] for k, x in overrides.items()}, metrics=[metric])
    return float(v.values[metric][0])


def test_a_tornado_row_equals_two_single_evaluations() -> None:
    t = dc.tornado(DEAL, {SB: (22_046.0, 55_000.0), "fiscal.royalty_rate": (0.03, 0.08)})
    assert t.loc[SB, "metric_at_low"] == pytest.approx(one({SB: 22_046.0}), rel=1e-12)
    assert t.loc[SB, "metric_at_high"] == pytest.approx(one({SB: 55_000.0}), rel=1e-12)
    assert t.attrs["base_metric"] == pytest.approx(float(dc.evaluate(DEAL).npv_usd[0]), rel=1e-12)
    assert list(t.index) == [SB, "fiscal.royalty_rate"]  # sorted by swing
    swing = abs(t.loc[SB, "metric_at_high"] - t.loc[SB, "metric_at_low"])
    assert t.loc[SB, "swing"] == pytest.approx(swing)


def test_default_tornado_moves_each_driver_by_twenty_percent() -> None:
    t = dc.tornado(DEAL, metric="ussm.npv_usd")
    assert set(t.index) == set(default_drivers(DEAL))
    row = t.loc["phases.refinery.capex_usd"]
    assert (row["low_value"], row["high_value"]) == pytest.approx((240e6, 360e6))
    assert row["metric_at_high"] == pytest.approx(one({CAPEX: 360e6}, "ussm.npv_usd"), rel=1e-12)
    assert t["swing"].is_monotonic_decreasing


def test_spider_at_zero_change_is_the_base_case() -> None:
    s = dc.spider(DEAL, [SB, CAPEX], [-0.1, 0.0, 0.1], metric="irr")
    base = float(dc.evaluate(DEAL).irr[0])
    assert s.loc[0.0].tolist() == pytest.approx([base, base], rel=1e-12)
    assert s.loc[0.1, SB] == pytest.approx(one({SB: 33_000.0}, "irr"), rel=1e-12)
    assert s[SB].is_monotonic_increasing and s[CAPEX].is_monotonic_decreasing


def test_a_grid_cell_equals_the_evaluation_with_both_values() -> None:
    g = dc.grid(DEAL, (SB, [20e3, 40e3, 60e3]), (CAPEX, [2e8, 4e8]))
    assert g.shape == (3, 2)
    assert g.loc[40e3, 4e8] == pytest.approx(one({SB: 40e3, CAPEX: 4e8}), rel=1e-12)
    line = dc.grid(DEAL, (SB, [20e3, 40e3]), metric="fwo.npv_usd")
    assert line.loc[20e3, "fwo.npv_usd"] == pytest.approx(one({SB: 20e3}, "fwo.npv_usd"), rel=1e-12)


def test_analyses_are_one_engine_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    import dealcalc.analyses.sensitivity as sensitivity

    sizes = []
    real = sensitivity.evaluate

    def spy(*args: object, **kwargs: object) -> dc.Valuation:
        overrides = kwargs.get("overrides") or {}
        if isinstance(overrides, Scenarios):
            sizes.append(overrides.n)
        else:
            sizes.append(len(next(iter(overrides.values()))) if overrides else 1)  # type: ignore[attr-defined]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sensitivity, "evaluate", spy)
    dc.grid(DEAL, (SB, np.linspace(2e4, 6e4, 50)), (CAPEX, np.linspace(2e8, 5e8, 40)))
    dc.tornado(DEAL, [SB, CAPEX, "fiscal.royalty_rate"])
    assert sizes == [2000, 7]


def test_breakeven_plugged_back_gives_the_target() -> None:
    b = dc.breakeven(DEAL, SB)
    assert b.found[0] and one({SB: float(b.value[0])}) == pytest.approx(0.0, abs=1e-3)
    hurdle = dc.breakeven(DEAL, SB, metric="ussm.irr", target=0.19)
    assert one({SB: float(hurdle.value[0])}, "ussm.irr") == pytest.approx(0.19, abs=1e-10)
    capex = np.linspace(2e8, 5e8, 25)
    many = dc.breakeven(DEAL, SB, overrides={CAPEX: capex})
    assert many.found.all() and np.all(np.diff(many.value) > 0)  # dearer refinery, higher breakeven
    check = dc.evaluate(DEAL, overrides={SB: many.value, CAPEX: capex}, metrics=["npv_usd"])
    np.testing.assert_allclose(check.npv_usd, 0.0, atol=1e-3)


def test_breakeven_of_a_linear_metric_is_exact() -> None:
    # pre-tax NPV of the hand-worked deal is linear in the price: root = -a / b
    small = hand_deal()
    path = "price_decks.base.metal"
    a = one({path: 0.0}, "pre_tax_npv_usd", small)
    slope = one({path: 1.0}, "pre_tax_npv_usd", small) - a
    b = dc.breakeven(small, path, metric="pre_tax_npv_usd")
    assert b.value[0] == pytest.approx(-a / slope, rel=1e-12)


def test_no_breakeven_in_the_range_is_explained() -> None:
    b = dc.breakeven(DEAL, "fiscal.royalty_rate", bounds=(0.0, 0.02))
    assert not b.found[0] and np.isnan(b.value[0])
    assert (
        "stays above 0.0" in b.explain()
        and "widen --low/--high (the field allows 0.0 % to 100.0 %)" in b.explain()
    )
    # no breakeven anywhere a recovery can be: widening cannot help, and it says so
    r = dc.breakeven(DEAL, "streams.copper.recovery", target=1e9)
    assert not r.found[0] and "already spans every value the field allows" in r.explain()
    with pytest.raises(dc.InputError, match="did you mean"):
        dc.breakeven(DEAL, "price_decks.base.antimonyy")
    with pytest.raises(dc.InputError, match="empty"):
        dc.breakeven(DEAL, SB, bounds=(5.0, 1.0))


def test_cli_sensitivity_and_breakeven(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["sensitivity", "tornado", EXAMPLE])
    assert result.exit_code == 0 and "Discount rate" in result.output
    result = runner.invoke(
        main, ["sensitivity", "tornado", EXAMPLE, "--range", f"{SB}=22046:55000", "--json"]
    )
    payload = json.loads(result.output)
    assert (
        payload["rows"][0]["parameter"] == SB and payload["rows"][0]["metric_at_low"] < payload["base_metric"]
    )
    out = tmp_path / "grid.csv"
    args = ["sensitivity", "grid", EXAMPLE, "--x", f"{SB}=20000,40000", "--y", f"{CAPEX}=3e8,4e8"]
    assert runner.invoke(main, [*args, "--out", str(out)]).exit_code == 0 and out.exists()
    again = runner.invoke(main, [*args, "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    result = runner.invoke(main, ["breakeven", EXAMPLE, SB, "--json"])
    assert json.loads(result.output)["value"] == pytest.approx(float(dc.breakeven(DEAL, SB).value[0]))
    result = runner.invoke(main, ["breakeven", EXAMPLE, "fiscal.royalty_rate", "--high", "0.02"])
    assert result.exit_code == 0 and "no breakeven" in result.output
    for bad, message in (
        (
            ["sensitivity", "tornado", EXAMPLE, "--param", "fiscal.royalty_rat"],
            "did you mean 'fiscal.royalty_rate'",
        ),
        (["sensitivity", "tornado", EXAMPLE, "--range", "fiscal.royalty_rate=0.03"], "PATH=LOW:HIGH"),
        (["sensitivity", "grid", EXAMPLE], "--x"),
        (["sensitivity", "tornado", EXAMPLE, "--metric", "npv"], "did you mean"),
    ):
        result = runner.invoke(main, bad)
        assert result.exit_code == 2 and message in result.output, (bad, result.output)


def test_a_tornado_from_the_distributions_uses_their_p10_and_p90() -> None:
    from dealcalc.analyses.montecarlo import marginal

    t = dc.tornado(DEAL, quantiles=(0.1, 0.9))
    dist = DEAL.uncertainty.inputs["phases.*.capex_usd"]
    p10, p90 = marginal(dist)(np.array([0.1, 0.9]))
    row = t.loc["phases.*.capex_usd"]
    assert (row["low_value"], row["high_value"]) == pytest.approx((p10, p90))
    every_phase = {f"phases.{p}.capex_usd": DEAL.phases[p].capex_usd * p90 for p in DEAL.phases}
    v = dc.evaluate(DEAL, overrides={k: [x] for k, x in every_phase.items()}, metrics=["npv_usd"])
    assert row["metric_at_high"] == pytest.approx(float(v.npv_usd[0]), rel=1e-12)
    # each input, then each other source of risk (issue 21): price paths, switches, events
    inputs = [i for i in t.index if t.attrs["kinds"][i] == "input"]
    assert set(inputs) == set(DEAL.uncertainty.inputs)
    assert set(dc.tornado(DEAL, quantiles=(0.1, 0.9), sources="inputs").index) == set(DEAL.uncertainty.inputs)
    with pytest.raises(dc.InputError, match="0 < low < high < 1"):
        dc.tornado(DEAL, quantiles=(0.9, 0.1))
    result = CliRunner().invoke(main, ["sensitivity", "tornado", EXAMPLE, "--quantiles", "0.1:0.9", "--json"])
    assert json.loads(result.output)["rows"][0]["parameter"] == t.index[0]


@pytest.mark.parametrize("columns", [80, 120])
def test_the_tornado_bar_is_whole_on_a_narrow_terminal(columns: int) -> None:
    import io

    from rich.console import Console

    from dealcalc.report import tornado_table

    t = dc.tornado(DEAL, [SB, CAPEX, "fiscal.royalty_rate"])
    bar = min(24, max(10, columns - 90))  # what the CLI picks
    console = Console(width=columns, file=io.StringIO(), record=True)
    console.print(tornado_table(t, width=bar))
    text = console.export_text()
    cells = [line.split("│")[-2] for line in text.splitlines() if "█" in line]
    assert len(cells) == 3 and "…" not in text
    # every bar cell is the full width, with the base-case mark and at least one block
    assert all(len(c.strip(" ")) >= 2 and "|" in c and len(c) == bar + 2 for c in cells), cells
    assert max(len(line) for line in text.splitlines()) <= columns


def test_scenario_values_outside_a_fields_limits_are_input_errors() -> None:
    recovery = "streams.copper.recovery"
    with pytest.raises(
        dc.InputError, match=r"streams\.copper\.recovery: override values run from 0\.8 to 1\.2: "
    ):
        dc.evaluate(DEAL, overrides={recovery: [0.8, 1.2]})
    with pytest.raises(dc.InputError, match="greater than or equal to 0"):
        dc.evaluate(DEAL, overrides={SB: [-1.0, 30_000.0]})
    with pytest.raises(dc.InputError, match="override is not numbers"):
        dc.evaluate(DEAL, overrides={SB: ["a lot"]})
    with pytest.raises(dc.InputError, match="override has no values"):
        dc.evaluate(DEAL, overrides={SB: []})
    # inside the limits, at them, and on paths whose type is a mapping of dated values: fine
    assert dc.evaluate(DEAL, overrides={recovery: [0.5, 1.0]}).npv_usd.shape == (2,)
    # an explicit range past a limit is the user's to fix, and says so
    result = CliRunner().invoke(main, ["sensitivity", "tornado", EXAMPLE, "--range", f"{recovery}=0.8:1.1"])
    assert result.exit_code == 2 and "less than or equal to 1 (1.1)" in result.output, result.output


def test_relative_moves_stay_inside_a_fields_limits() -> None:
    recovery, share = "streams.copper.recovery", "trade.destinations.us.pass_through_fraction"
    # ±20 % of a recovery of 0.88 stops at 1 (the table shows the values used)
    t = dc.tornado(DEAL, [recovery])
    assert t.loc[recovery, "low_value"] == pytest.approx(0.704) and t.loc[recovery, "high_value"] == 1.0
    assert t.attrs["clipped"] == [recovery] and dc.tornado(DEAL, [SB]).attrs["clipped"] == []
    shown = CliRunner().invoke(main, ["sensitivity", "tornado", EXAMPLE, "--param", recovery]).output
    assert "held at the field's limit:" in shown and "streams.copper.recovery" in shown
    at_one = dc.evaluate(DEAL, overrides={recovery: [1.0]}, metrics=["npv_usd"]).npv_usd[0]
    assert t.loc[recovery, "metric_at_high"] == pytest.approx(at_one, rel=1e-12)
    # a spider leaves the points past the limit out (NaN) and values the rest
    s = dc.spider(DEAL, [recovery], [-0.1, 0.0, 0.1, 0.2])
    assert np.isnan(s.loc[0.2, recovery]) and np.isfinite(s.loc[[-0.1, 0.0, 0.1], recovery]).all()
    # a breakeven's default range (0 to 4x the base) stops at the limit too: [0, 1] for a share
    b = dc.breakeven(DEAL, share)
    assert b.bounds == (0.0, 1.0)
    r = dc.breakeven(DEAL, recovery)
    assert r.bounds == (0.0, 1.0) and r.found[0] and 0.0 < r.value[0] < 1.0


def test_a_grid_axis_must_be_a_path_and_numbers() -> None:
    for axis, message in (
        ({SB: [1.0]}, "x: dict given; expected (path, values)"),
        ((SB, []), f"x: {SB}: no values"),
        ((SB, ["a lot"]), f"x: {SB}: the values are not numbers"),
    ):
        with pytest.raises(
            dc.InputError, match=message.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")
        ):
            dc.grid(DEAL, axis)  # type: ignore[arg-type]
    assert dc.grid(DEAL, [SB, [20_000.0, 40_000.0]]).shape == (2, 1)  # type: ignore[arg-type]


@pytest.mark.parametrize("target", [float("nan"), float("inf")])
def test_a_breakeven_target_is_a_number(target: float) -> None:
    with pytest.raises(dc.InputError, match="is not a target"):
        dc.breakeven(DEAL, SB, target=target)


def test_a_risk_weighted_tornado_names_the_distribution_that_leaves_the_limits() -> None:
    from dealcalc.models import Distribution

    inputs = dict(DEAL.uncertainty.inputs)
    inputs["streams.copper.recovery"] = Distribution(dist="normal", mean=0.95, sd=0.1)  # P90 above 1
    deal = DEAL.model_copy(update={"uncertainty": DEAL.uncertainty.model_copy(update={"inputs": inputs})})
    with pytest.raises(dc.InputError, match=r"^uncertainty\.inputs\.streams\.copper\.recovery: the draws"):
        dc.tornado(deal, quantiles=(0.1, 0.9))
