"""engine/fiscal.py by hand: straight-line write-off, tax depreciation of phases and sustaining
capital, and income tax on hand-made FiscalInputs: losses (oldest first, expiry), super tax,
the minimum-tax floor and its credit, a holiday then a cap, rates by year (methodology §11)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from dealcalc.engine.fiscal import depreciation, income_tax, straight_line
from dealcalc.engine.inputs import FiscalInputs


def test_straight_line_writes_off_what_the_horizon_cuts_in_the_final_period() -> None:
    # 100 over 4 years from period 2 of 5: 25 in periods 2-4, the 4th year's 25 cut off by the
    # horizon is written off in the final period (4) -> 50
    assert straight_line(100.0, 2, 4, 4, 5).tolist() == [0, 0, 25, 25, 50]
    # nothing cut off: the final period adds nothing
    assert straight_line(100.0, 1, 4, 4, 5).tolist() == [0, 25, 25, 25, 25]
    # a base per scenario, (S, 1)
    out = straight_line(np.array([[90.0], [30.0]]), 0, 3, 2, 3)
    np.testing.assert_allclose(out, [[30, 30, 30], [10, 10, 10]], rtol=1e-15)


def test_depreciation_of_phases_and_sustaining_capital() -> None:
    sustaining = np.array([0.0, 0.0, 30.0, 0.0, 30.0, 0.0])
    dep = depreciation({"a": 90.0, "b": 60.0}, {"a": 1, "b": 2}, sustaining, 3, 5, (1, 6))
    # a: 30 in periods 1-3; b: 20 in periods 2-4;
    # sustaining 30 spent in period 2 -> 10 in 2, 3, 4; 30 in period 4 -> 10 in 4, 5, and the
    # 10 that would fall in period 6 (past the horizon) written off in period 5
    expected = [0, 30, 30 + 20 + 10, 30 + 20 + 10, 20 + 10 + 10, 10 + 10]
    assert dep.tolist() == pytest.approx(expected, rel=1e-15)
    assert dep.sum() == pytest.approx(90 + 60 + 60)  # every dollar written off once


def test_depreciation_per_scenario() -> None:
    base = np.array([[100.0], [200.0]])
    sustaining = np.array([[0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 0.0, 40.0]])
    dep = depreciation({"p": base}, {"p": 0}, sustaining, 2, 3, (2, 4))
    # row 0: 50, 50 from period 0; sustaining 10 in period 1 -> 5 in 1 and 2
    # row 1: 100, 100; sustaining 40 in the last period -> 20 then, the other 20 written off then too
    assert dep == pytest.approx(np.array([[50, 55, 5, 0], [100, 100, 0, 40]]), rel=1e-15)


def test_sustaining_capital_is_not_depreciated_before_it_is_spent() -> None:
    # 10 spent in periods 3 and 4 of 5, written off over 10 years; closure (write_off) in period 2.
    # Docstring: sustaining capital is written off "from the period it is spent", so nothing can
    # be deducted in periods 0-2. The kernel puts 17 (the part past the horizon) in period 2.
    dep = depreciation({}, {}, np.array([0.0, 0.0, 0.0, 10.0, 10.0]), 10, 2, (1, 5))
    spent = np.cumsum([0.0, 0.0, 0.0, 10.0, 10.0])
    assert np.all(np.cumsum(dep) <= spent + 1e-12)


def fiscal(n: int, **changes: Any) -> FiscalInputs:
    """30 % income tax, nothing else, losses kept 5 years, no holiday, over n years."""
    base = FiscalInputs(
        royalty_rate=0.0,
        royalty_on_nsr=False,
        income_tax_rate=0.30,
        super_tax_rate=0.0,
        super_tax_threshold=0.0,
        minimum_tax_rate=0.0,
        alternative_tax_rate=0.0,
        cap_after_holiday=None,
        depreciation_years=10,
        loss_years=5,
        in_holiday=np.zeros(n),
        after_holiday=np.zeros(n),
        depreciation_start={},
        closure_index=n - 1,
    )
    return replace(base, **changes)


def rows(*values: list[float]) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_losses_are_used_oldest_first_and_expire() -> None:
    profit = rows([-100, -50, 30, 100, 100])
    r = income_tax(fiscal(5, loss_years=2), profit, np.zeros_like(profit))
    # year 2 uses 30 of year 0's loss (oldest first), which then expires (usable in years 1-2);
    # year 3 uses year 1's 50 -> taxable 50; year 4: 100. (Newest first would leave 80 in year 3.)
    assert r.taxable_income.tolist() == [[0, 0, 0, 50, 100]]
    assert r.tax == pytest.approx(np.array([[0, 0, 0, 15, 30]]), rel=1e-15)
    # carried into the next year: 100; 150; 50 (year 0's other 70 expired); 0; 0
    assert r.losses_carried.tolist() == [[100, 150, 50, 0, 0]]


def test_a_loss_kept_one_year_expires_after_it() -> None:
    profit = rows([-100, 40, 100])
    r = income_tax(fiscal(3, loss_years=1), profit, np.zeros_like(profit))
    # year 1 uses 40 of the 100; the other 60 expires: year 2 is taxed on all of its 100
    assert r.tax == pytest.approx(np.array([[0, 0, 30]]), rel=1e-15)
    assert r.losses_carried.tolist() == [[100, 0, 0]]
    kept = income_tax(fiscal(3, loss_years=5), profit, np.zeros_like(profit))
    assert kept.tax == pytest.approx(np.array([[0, 0, 12]]), rel=1e-15)  # 0.3 x (100 - 60)
    none = income_tax(fiscal(3, loss_years=0), profit, np.zeros_like(profit))
    assert none.tax == pytest.approx(np.array([[0, 12, 30]]), rel=1e-15)


def test_super_tax_above_its_threshold_on_income_after_losses() -> None:
    f = fiscal(4, super_tax_rate=0.10, super_tax_threshold=100.0)
    profit = rows([50, 150, 100, 0], [-60, 150, 0, 0])
    r = income_tax(f, profit, np.zeros_like(profit))
    # row 0: 0.3 x 50; 0.4 x 150 (above 100); 0.3 x 100 (not above); 0
    # row 1: year 1 taxable 150 - 60 = 90, below the threshold: 0.3 x 90
    assert r.tax == pytest.approx(np.array([[15, 60, 30, 0], [0, 27, 0, 0]]), rel=1e-15)


def test_minimum_tax_floor_and_its_credit_used_only_down_to_the_floor() -> None:
    profit = rows([0, 50, 100, 200])
    turnover = rows([1000, 1000, 1000, 1000])
    r = income_tax(fiscal(4, minimum_tax_rate=0.02), profit, turnover)
    # floor 2 % x 1000 = 20 a year; normal 0, 15, 30, 60.
    # y0: pay 20, credit 20.  y1: 15 < 20: pay 20, credit 25.
    # y2: normal 30, credit usable down to the floor: 10 -> pay 20, credit 15.
    # y3: normal 60, use 15 -> pay 45.  Total 105 = total normal tax.
    assert r.tax == pytest.approx(np.array([[20, 20, 20, 45]]), rel=1e-15)
    assert r.floor_tax == pytest.approx(np.array([[20, 20, 20, 20]]), rel=1e-15)
    assert r.tax.sum() == pytest.approx(0 + 15 + 30 + 60)


def test_alternative_tax_is_on_profit_before_losses_and_turnover_below_zero_is_none() -> None:
    profit = rows([-100, 100])
    f = fiscal(2, alternative_tax_rate=0.17, minimum_tax_rate=0.5)
    r = income_tax(f, profit, rows([-50, 0]))
    # year 1: taxable 0 after the loss, so normal tax 0; ACT 17 % x 100 = 17; turnover floor 0
    assert r.tax == pytest.approx(np.array([[0, 17]]), rel=1e-15)


def test_holiday_then_cap() -> None:
    f = fiscal(
        5,
        super_tax_rate=0.10,
        minimum_tax_rate=0.01,
        cap_after_holiday=0.20,
        in_holiday=np.array([0.0, 1.0, 1.0, 0.0, 0.0]),
        after_holiday=np.array([0.0, 0.0, 0.0, 1.0, 1.0]),
    )
    profit = rows([100, 100, 100, 100, 100])
    r = income_tax(f, profit, rows([1000] * 5))
    # y0: (0.3 + 0.1) x 100 = 40 (floor 10); y1-2: holiday, no tax nor floor;
    # y3-4: combined rate capped at 20 % -> 20 (floor 10)
    assert r.tax == pytest.approx(np.array([[40, 0, 0, 20, 20]]), rel=1e-15)
    assert r.floor_tax == pytest.approx(np.array([[10, 0, 0, 10, 10]]), rel=1e-15)


def test_rates_by_year_and_by_scenario() -> None:
    profit = rows([100, 100, 100], [50, 50, 50])
    by_year = income_tax(fiscal(3, income_tax_rate=np.array([0.2, 0.3, 0.4])), profit, np.zeros((2, 3)))
    assert by_year.tax == pytest.approx(np.array([[20, 30, 40], [10, 15, 20]]), rel=1e-15)
    per_scenario = np.array([[0.1], [0.2]])
    by_row = income_tax(fiscal(3, income_tax_rate=per_scenario), profit, np.zeros((2, 3)))
    assert by_row.tax == pytest.approx(np.array([[10, 10, 10], [10, 10, 10]]), rel=1e-15)
    both = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    cell = income_tax(fiscal(3, income_tax_rate=both), profit, np.zeros((2, 3)))
    assert cell.tax == pytest.approx(np.array([[10, 20, 30], [15, 10, 5]]), rel=1e-15)
    # a super tax threshold by year: 80 in year 0 (100 is above it), 120 after
    f = fiscal(3, super_tax_rate=0.1, super_tax_threshold=np.array([80.0, 120.0, 120.0]))
    assert income_tax(f, profit[:1], np.zeros((1, 3))).tax == pytest.approx(np.array([[40, 30, 30]]))
