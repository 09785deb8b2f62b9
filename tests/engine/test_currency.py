"""engine/currency.py by hand: an exchange rate falling at a steady rate, and the US$ cost of a
cost partly fixed in local money, C (1 - s + s X_0 / X_t) (methodology §15)."""

from __future__ import annotations

import numpy as np
import pytest

from dealcalc.engine.currency import cost_factor, depreciating_rate


def test_depreciating_rate_by_hand() -> None:
    # 281 PKR/US$ losing 5 % a year: 281, 281 x 1.05 = 295.05, 295.05 x 1.05 = 309.8025
    assert depreciating_rate(281.0, 0.05, 3) == pytest.approx(np.array([281, 295.05, 309.8025]), rel=1e-14)
    assert depreciating_rate(281.0, 0.0, 2).tolist() == [281.0, 281.0]


def test_depreciating_rate_per_scenario() -> None:
    out = depreciating_rate(np.array([[100.0], [200.0]]), np.array([[0.1], [0.0]]), 3)
    assert out == pytest.approx(np.array([[100, 110, 121], [200, 200, 200]]), rel=1e-14)


def test_cost_factor_by_hand() -> None:
    # 40 % of a 1 US$ cost is fixed in local money: 0.4 x 100 = 40 units at X_0 = 100;
    # at 125 per US$ they cost 40 / 125 = 0.32 US$, so the cost is 0.6 + 0.32 = 0.92
    assert cost_factor(0.4, 100.0, 125.0) == pytest.approx(0.92, rel=1e-15)
    assert cost_factor(0.0, 100.0, 125.0) == 1.0  # all in US$
    assert cost_factor(1.0, 100.0, 200.0) == 0.5  # all local: halves when the rate doubles
    assert cost_factor(0.7, 100.0, 100.0) == pytest.approx(1.0, rel=1e-15)  # no change in the rate


def test_cost_factor_along_a_depreciating_rate() -> None:
    rate = depreciating_rate(281.0, 0.10, 3)
    # 35 % local: 1, 0.65 + 0.35 / 1.1, 0.65 + 0.35 / 1.21
    expected = [1.0, 0.65 + 0.35 / 1.1, 0.65 + 0.35 / 1.21]
    assert cost_factor(0.35, 281.0, rate) == pytest.approx(np.array(expected), rel=1e-14)
    # a cost of 1,000 US$: 650 in US$ plus 350 US$ worth of rupees (98,350 PKR) at that year's rate
    cost = 1_000.0 * cost_factor(0.35, 281.0, rate)
    assert cost[2] == pytest.approx(650 + 98_350 / (281 * 1.21), rel=1e-14)
