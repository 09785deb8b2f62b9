"""engine/timeline.py by hand: profiles, windows, step and totals paths, escalation, the Fisher
relation, discounting to the valuation point and payback (methodology §8)."""

from __future__ import annotations

import numpy as np
import pytest

from dealcalc.engine.timeline import (
    construction_profile,
    fisher,
    growth,
    payback_years,
    present_value,
    production_profile,
    step_path,
    times,
    totals_path,
    window,
)


def test_production_profile_ramps_up_then_runs_at_capacity() -> None:
    # first output in period 1: 30 %, 60 %, then 100 % to the end
    assert production_profile(6, 1, [0.3, 0.6]).tolist() == [0, 0.3, 0.6, 1, 1, 1]
    # last = 3: nothing after period 3
    assert production_profile(6, 1, [0.3, 0.6], last=3).tolist() == [0, 0.3, 0.6, 1, 0, 0]
    # a ramp-up longer than the horizon is cut: first output in period 4 of 6
    assert production_profile(6, 4, [0.5, 0.7, 0.9]).tolist() == [0, 0, 0, 0, 0.5, 0.7]
    # a phase not built produces nothing
    assert production_profile(6, 1, [0.3], built=False).tolist() == [0] * 6


def test_construction_profile_spreads_capex_from_its_start() -> None:
    assert construction_profile(5, 1, [0.2, 0.3, 0.5]).tolist() == [0, 0.2, 0.3, 0.5, 0]
    # the horizon cuts what falls after it, and before it
    assert construction_profile(4, 2, [0.2, 0.3, 0.5]).tolist() == [0, 0, 0.2, 0.3]
    assert construction_profile(4, -1, [0.5, 0.5]).tolist() == [0.5, 0, 0, 0]
    assert construction_profile(4, 0, [1.0], built=False).tolist() == [0] * 4


def test_window_is_inclusive_at_both_ends() -> None:
    assert window(5, 2, 2).tolist() == [0, 0, 1, 0, 0]
    assert window(5, 0, 4).tolist() == [1] * 5
    assert window(5, 3, 1).tolist() == [0] * 5  # empty


def test_step_path_holds_each_value_until_the_next() -> None:
    # 0 before period 1, 2.0 in 1-2, 5.0 from 3 on
    assert step_path([2.0, 5.0], [1, 3], 6).tolist() == [0, 2, 2, 5, 5, 5]
    assert step_path([2.0, 5.0], [1, 3], 6, first_before=True).tolist() == [2, 2, 2, 5, 5, 5]
    # a level set before period 0 holds into it; a key after the horizon is never reached
    assert step_path([7.0, 4.0, 9.0], [-3, 2, 8], 5).tolist() == [7, 7, 4, 4, 4]


def test_step_path_with_per_scenario_values() -> None:
    per_scenario = np.array([[1.0], [10.0]])  # (S, 1)
    out = step_path([per_scenario, 5.0], [1, 3], 5)
    assert np.asarray(out).tolist() == [[0, 1, 1, 5, 5], [0, 10, 10, 5, 5]]
    before = step_path([per_scenario, 5.0], [1, 3], 5, first_before=True)
    assert np.asarray(before).tolist() == [[1, 1, 1, 5, 5], [10, 10, 10, 5, 5]]
    second = step_path([3.0, per_scenario], [0, 2], 4)
    assert np.asarray(second).tolist() == [[3, 3, 1, 1], [3, 3, 10, 10]]


def test_totals_path_puts_amounts_only_in_their_periods() -> None:
    assert totals_path([2.0, 5.0], [1, 3], 5).tolist() == [0, 2, 0, 5, 0]
    assert totals_path([2.0, 3.0], [1, 1], 3).tolist() == [0, 5, 0]  # same period: added
    per_scenario = np.array([[1.0], [2.0]])
    out = totals_path([per_scenario, 3.0], [0, 2], 3)
    assert np.asarray(out).tolist() == [[1, 0, 3], [2, 0, 3]]


def test_times_skips_the_product_for_one_and_zero() -> None:
    x = np.array([1.0, 2.0])
    assert times(x, 1.0) is x
    assert times(x, 0.0) == 0.0
    assert times(x, 2.5).tolist() == [2.5, 5.0]
    k = np.array([[1.0], [2.0]])
    assert np.asarray(times(x, k)).tolist() == [[1, 2], [2, 4]]


def test_growth_compounds_from_period_zero() -> None:
    assert growth(4, 0.05) == pytest.approx([1.0, 1.05, 1.1025, 1.157625], rel=1e-15)
    out = growth(3, np.array([[0.0], [0.1]]))
    assert out.shape == (2, 3)
    assert out == pytest.approx(np.array([[1, 1, 1], [1, 1.1, 1.21]]), rel=1e-15)


def test_fisher_both_ways_and_identity() -> None:
    # (1 + n) = (1 + r)(1 + i): 10 % nominal with 2 % inflation is 1.10 / 1.02 - 1 real
    assert fisher(0.10, 0.02, stated="nominal", wanted="real") == pytest.approx(1.10 / 1.02 - 1, rel=1e-15)
    # 5 % real with 2 % inflation is 1.05 x 1.02 - 1 = 7.1 % nominal
    assert fisher(0.05, 0.02, stated="real", wanted="nominal") == pytest.approx(0.071, rel=1e-14)
    assert fisher(0.08, 0.5, stated="real", wanted="real") == 0.08
    assert fisher(0.08, 0.5, stated="nominal", wanted="nominal") == 0.08
    there = fisher(0.14, 0.025, stated="nominal", wanted="real")
    assert fisher(there, 0.025, stated="real", wanted="nominal") == pytest.approx(0.14, rel=1e-14)
    # per scenario: 10 % and 20 % real with 10 % inflation: 21 % and 32 % nominal
    per_scenario = fisher(np.array([[0.1], [0.2]]), 0.1, stated="real", wanted="nominal")
    assert per_scenario == pytest.approx(np.array([[0.21], [0.32]]), rel=1e-14)


FLOWS = np.array([[-100.0, 30.0, 50.0, 70.0], [-80.0, -20.0, 60.0, 90.0]])
RATES = np.array([0.10, 0.07])


@pytest.mark.parametrize(("timing", "delta"), [("end", 1.0), ("mid", 0.5), ("t0", 0.0)])
@pytest.mark.parametrize("offset", [0.0, 1.0, 2.5, -1.0])
def test_present_value_is_the_explicit_discounted_sum(timing: str, delta: float, offset: float) -> None:
    t = np.arange(FLOWS.shape[1])
    for row in range(2):
        r = RATES[row]
        expected = sum(FLOWS[row, k] * (1 + r) ** -(t[k] + delta - offset) for k in t)
        got = present_value(RATES, FLOWS, timing, offset)  # type: ignore[arg-type]
        assert got[row] == pytest.approx(expected, rel=1e-13)


def test_present_value_of_one_flow_moved_to_its_own_date_is_the_flow() -> None:
    # 121 at the end of period 1 (2 years after the start), valued at that date: 121
    flows = np.array([[0.0, 121.0]])
    assert present_value(np.array([0.1]), flows, "end", 2.0)[0] == pytest.approx(121.0, rel=1e-15)
    assert present_value(np.array([0.1]), flows, "end", 0.0)[0] == pytest.approx(100.0, rel=1e-15)


def test_payback_years_interpolates_within_the_crossing_period() -> None:
    flows = np.array([[-100.0, -50.0, 80.0, 100.0]])
    cumulative = flows.cumsum(axis=1)  # -100, -150, -70, +30: 70 of period 3's 100 needed
    # t0 timing: period k's flow at time k, so the total crosses zero at 2 + 70/100
    assert payback_years(flows, cumulative, "t0", 0.0)[0] == pytest.approx(2.7)
    assert payback_years(flows, cumulative, "end", 0.0)[0] == pytest.approx(3.7)  # flows a year later
    assert payback_years(flows, cumulative, "mid", 0.0)[0] == pytest.approx(3.2)
    # counted from the start of period 2 (the first production year, say)
    assert payback_years(flows, cumulative, "end", 2.0)[0] == pytest.approx(1.7)


def test_payback_is_when_the_total_stays_above_zero() -> None:
    # -100, +50, -50, +10: positive in period 1 but below again in 2; 50 of period 3's 60 needed
    flows = np.array([[-100.0, 150.0, -100.0, 60.0], [-100.0, 50.0, 20.0, 0.0]])
    got = payback_years(flows, flows.cumsum(axis=1), "t0", 0.0)
    assert got[0] == pytest.approx(2 + 50 / 60)
    assert np.isnan(got[1])  # never paid back
