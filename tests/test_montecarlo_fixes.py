"""Monte Carlo regressions from the new-user trial: factors on schedules, and IRR statistics
when many draws have no IRR."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.analyses.montecarlo import MonteCarlo
from dealcalc.cli import main
from dealcalc.models import Deal
from dealcalc.params import with_changes
from test_engine_handworked import BASE

FACTOR = {"dist": "normal", "mean": 1.0, "sd": 0.07, "low": 0.8, "high": 1.2, "factor": True}


def hand(inputs: dict[str, Any], **stream: Any) -> Deal:
    """The hand-worked deal with its ore stream changed and an uncertainty block."""
    data = copy.deepcopy(BASE)
    data["streams"]["ore"].update(stream)
    data["uncertainty"] = {"inputs": inputs}
    return Deal.model_validate(data)


class TestFactorOnASchedule:
    """A factor draw on a field given by year is checked at the values it makes in each year,
    not against the field's own limit as though it were a grade (trial: a grade factor of 1.2
    was refused as 'less than or equal to 1')."""

    @pytest.mark.parametrize(
        ("field", "schedule"),
        [
            ("grade", 0.007),
            ("grade", {2032: 0.007, 2033: 0.008}),
            ("grade", [0.007, 0.007, 0.008]),
            ("recovery", {2032: 0.78, 2034: 0.82}),
            ("recovery", [0.8, 0.82]),
        ],
    )
    def test_a_factor_within_every_years_limit_is_drawn_and_scales_every_year(
        self, field: str, schedule: Any
    ) -> None:
        deal = hand({f"streams.ore.{field}": FACTOR}, **{field: schedule})
        mc = dc.monte_carlo(deal, 64, seed=1, metrics=["npv_usd"])
        factors = mc.inputs[f"streams.ore.{field}"].to_numpy()
        assert factors.max() > 1.0  # draws past 1, the limit of the field itself
        # draw k is the deal with every year of the schedule multiplied by its factor
        for k in (int(factors.argmin()), int(factors.argmax())):
            f = factors[k]
            if isinstance(schedule, dict):
                scaled: Any = {y: v * f for y, v in schedule.items()}
            elif isinstance(schedule, list):
                scaled = [v * f for v in schedule]
            else:
                scaled = schedule * f
            direct = dc.evaluate(with_changes(deal, {f"streams.ore.{field}": scaled}))
            assert mc.values["npv_usd"][k] == pytest.approx(direct.npv_usd[0], rel=1e-9)

    @pytest.mark.parametrize(
        ("schedule", "year"),
        [({2032: 0.85, 2033: 0.95}, "2033 value of 0.95"), ([0.85, 0.95], "production year 2 value of 0.95")],
    )
    def test_a_factor_that_takes_a_year_past_its_limit_names_the_year_and_the_factors_allowed(
        self, schedule: Any, year: str
    ) -> None:
        deal = hand({"streams.ore.recovery": FACTOR}, recovery=schedule)
        with pytest.raises(dc.InputError) as info:
            dc.monte_carlo(deal, 500, seed=1, metrics=["npv_usd"])
        message = str(info.value)
        assert message.startswith(
            "uncertainty.inputs.streams.ore.recovery: the draws of streams.ore.recovery scale every "
            "year of it by 0.8"
        )
        assert f"so its {year} would run from" in message
        assert "Input should be less than or equal to 1" in message
        assert f"the factor may run from 0 to {1 / 0.95:.6g}" in message and "low/high" in message

    def test_a_grade_factor_may_reach_the_inverse_of_the_grade(self) -> None:
        # 0.007 x 142 = 0.994 is a grade; 0.008 x 142 = 1.136 is not
        upto = {"dist": "uniform", "low": 1.0, "high": 142.0, "factor": True}
        ok = hand({"streams.ore.grade": upto}, grade={2032: 0.007})
        assert dc.monte_carlo(ok, 32, seed=1, metrics=["npv_usd"]).n == 32
        with pytest.raises(dc.InputError, match=r"so its 2033 value of 0\.008 would run from"):
            dc.monte_carlo(hand({"streams.ore.grade": upto}, grade={2032: 0.007, 2033: 0.008}), 32, seed=1)

    def test_a_tornado_from_the_distributions_and_the_report_take_it_too(self, tmp_path: Path) -> None:
        deal = hand({"streams.ore.grade": FACTOR}, grade={2032: 0.007, 2034: 0.008})
        swing = dc.tornado(deal, quantiles=(0.1, 0.9))
        assert swing.loc["streams.ore.grade", "swing"] > 0
        path = tmp_path / "deal.yaml"
        path.write_text(dc.io.dump_deal(deal), encoding="utf-8")
        out = tmp_path / "report.html"
        result = CliRunner().invoke(main, ["report", str(path), "--out", str(out), "-n", "50", "--no-charts"])
        assert result.exit_code == 0, result.output
        assert "Monte Carlo" in out.read_text(encoding="utf-8")


def losing_deal() -> Deal:
    """Price from 1,000 to 12,000 US$/t: below about 2,200 the ore does not pay its 20 US$/t
    (9 t of metal from 1,000 t of ore), every year's flow is negative and there is no IRR."""
    return hand({"price_decks.base.metal": {"dist": "uniform", "low": 1_000.0, "high": 12_000.0}})


class TestIrrWithoutSolution:
    """IRR statistics count the draws that have no IRR (trial: 43 % of the draws lost money,
    had no IRR, and P(IRR < 0) was taken over the rest only)."""

    def test_the_summary_reports_the_share_without_an_irr_and_counts_them_as_losses(self) -> None:
        mc = dc.monte_carlo(losing_deal(), 4_000, seed=2, metrics=["npv_usd", "irr"])
        irr, npv = mc.values["irr"], mc.values["npv_usd"]
        none = np.isnan(irr)
        assert 0.05 < none.mean() < 0.3 and (npv[none] < 0).all()  # losses at every rate
        s = mc.summary()
        assert s.loc["irr", "no_solution"] == none.sum()
        assert s.loc["irr", "no_solution_share"] == pytest.approx(none.mean())
        assert s.loc["npv_usd", "no_solution_share"] == 0.0
        # over all draws: the draws with no IRR are below 0, not left out
        assert s.loc["irr", "prob_negative"] == pytest.approx(((irr < 0) | none).mean())
        assert s.loc["irr", "prob_negative"] > (irr[~none] < 0).mean()
        # flows that turn positive once (conventional): IRR < r exactly where NPV at r < 0
        assert mc.prob_below("irr", 0.10) == pytest.approx((npv < 0).mean())
        # mean and percentiles stay those of the draws with an IRR, as documented
        assert s.loc["irr", "mean"] == pytest.approx(irr[~none].mean())

    def test_an_irr_alone_still_knows_which_draws_without_one_lose(self) -> None:
        both = dc.monte_carlo(losing_deal(), 1_000, seed=3, metrics=["npv_usd", "irr"])
        alone = dc.monte_carlo(losing_deal(), 1_000, seed=3, metrics=["irr"])
        assert list(alone.summary().index) == ["irr"] and list(alone.values) == ["irr"]
        assert "npv_usd" not in alone.frame()
        for x in (0.0, 0.05, 0.10):
            assert alone.prob_below("irr", x) == both.prob_below("irr", x)
        assert alone.summary().loc["irr", "prob_negative"] == both.summary().loc["irr", "prob_negative"]

    def test_a_draw_that_gains_at_every_rate_is_above_every_hurdle(self) -> None:
        mc = MonteCarlo(
            deal=losing_deal(),
            n=4,
            seed=0,
            method="random",
            inputs=pd.DataFrame(index=pd.RangeIndex(4, name="draw")),
            values={
                "irr": np.array([0.05, 0.20, np.nan, np.nan]),
                "payback_years": np.array([3, np.nan, 5, 4.0]),
            },
            losing={"irr": np.array([False, False, True, False])},  # draw 2 loses, draw 3 gains
        )
        assert mc.prob_below("irr", 0.0) == 0.25  # draw 2 only
        assert mc.prob_below("irr", 0.10) == 0.5  # draws 0 and 2
        assert mc.prob_below("irr", 1e6) == 0.75  # draw 3 never falls below
        assert mc.prob_below("payback_years", 4.5) == pytest.approx(2 / 3)  # of the draws with one
        s = mc.summary()
        assert s.loc["irr", "no_solution_share"] == 0.5 and s.loc["irr", "prob_negative"] == 0.25
        for bad in (float("nan"), float("inf"), "0.1", True):
            with pytest.raises(dc.InputError, match=r"x: .* is not a threshold; expected a finite number"):
                mc.prob_below("irr", bad)  # type: ignore[arg-type]

    def test_the_tables_show_the_share_beside_the_count(self) -> None:
        mc = dc.monte_carlo(losing_deal(), 1_000, seed=2, metrics=["npv_usd", "irr"])
        share = mc.summary().loc["irr", "no_solution_share"]
        count = int(mc.summary().loc["irr", "no_solution"])
        assert f"<td>{count:,} ({100 * share:.1f} %)</td>" in mc._repr_html_()
        assert "P(&lt; 0) of all draws" in mc._repr_html_()
