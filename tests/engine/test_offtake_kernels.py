"""engine/offtake.py by hand on arrays: the contract price (floor, cap, discount, upside
share), the volume delivered and paid for under take-or-pay, the adjustment to the producer's
revenue and the counterparty's cash (docs/methodology.md, offtake contracts)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from dealcalc.engine.offtake import contract_price, offtake_flows

BENCHMARK = np.array([[70.0, 95.0, 110.0, 130.0, 180.0]])


def test_floor_lifts_the_price_to_the_floor_and_no_further() -> None:
    price = contract_price(BENCHMARK, floor=110.0)
    np.testing.assert_array_equal(price, [[110.0, 110.0, 110.0, 130.0, 180.0]])


def test_floor_cost_per_year_by_hand() -> None:
    # 2,000 units a year; the floor of 110 binds at 70 and 95: (110 - 70) x 2,000 = 80,000 and
    # (110 - 95) x 2,000 = 30,000; above the floor the contract changes nothing
    flows = offtake_flows(BENCHMARK, 2000.0, contract_price(BENCHMARK, floor=110.0), 2000.0)
    np.testing.assert_allclose(flows.adjustment, [[80_000.0, 30_000.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(flows.counterparty, -flows.adjustment)
    np.testing.assert_allclose(flows.delivered, 2000.0)


def test_cap_takes_the_price_above_it() -> None:
    price = contract_price(BENCHMARK, cap=120.0)
    np.testing.assert_array_equal(price, [[70.0, 95.0, 110.0, 120.0, 120.0]])
    flows = offtake_flows(BENCHMARK, 10.0, price, 10.0)
    # the producer gives up (130 - 120) x 10 and (180 - 120) x 10; the counterparty gains it
    np.testing.assert_allclose(flows.adjustment, [[0.0, 0.0, 0.0, -100.0, -600.0]])
    np.testing.assert_allclose(flows.counterparty, [[0.0, 0.0, 0.0, 100.0, 600.0]])


def test_upside_share_above_the_reference() -> None:
    # 30 % of the benchmark above 110: 0.3 x 20 = 6 at 130, 0.3 x 70 = 21 at 180
    price = contract_price(BENCHMARK, floor=110.0, upside_share=0.3, reference=110.0)
    np.testing.assert_allclose(price, [[110.0, 110.0, 110.0, 124.0, 159.0]])


def test_discount_applies_before_floor_and_cap() -> None:
    price = contract_price(BENCHMARK, discount=0.1, floor=80.0, cap=150.0)
    np.testing.assert_allclose(price, [[80.0, 85.5, 99.0, 117.0, 150.0]])


def test_take_or_pay_pays_for_the_shortfall_at_the_contract_price() -> None:
    # 1,000 units contracted, 90 % take-or-pay, 600 then 950 then 1,200 available at 100 with a
    # floor of 120: delivered 600, 950, 1,000; paid for undelivered 300, 0, 0
    available = np.array([600.0, 950.0, 1200.0])
    flows = offtake_flows(100.0, available, 120.0, 1000.0, take_or_pay=0.9)
    np.testing.assert_allclose(flows.delivered, [600.0, 950.0, 1000.0])
    np.testing.assert_allclose(flows.shortfall_paid, [300.0, 0.0, 0.0])
    np.testing.assert_allclose(flows.adjustment, [20 * 600 + 120 * 300, 20 * 950, 20 * 1000])
    np.testing.assert_allclose(flows.price_adjustment, [20 * 600, 20 * 950, 20 * 1000])


def test_without_terms_the_contract_is_the_benchmark() -> None:
    flows = offtake_flows(BENCHMARK, 5.0, contract_price(BENCHMARK), 5.0)
    np.testing.assert_array_equal(flows.adjustment, np.zeros_like(BENCHMARK))


@pytest.mark.parametrize("volume", [0.0, 1.0, 250.0])
def test_a_higher_floor_never_lowers_the_producer_revenue(volume: float) -> None:
    rng = np.random.default_rng(7)
    benchmark = rng.lognormal(np.log(100.0), 0.4, size=(64, 10))
    floors = np.linspace(0.0, 250.0, 26)
    gains = [
        offtake_flows(
            benchmark, volume, contract_price(benchmark, floor=k, upside_share=0.3, reference=110.0), volume
        ).adjustment
        for k in floors
    ]
    for lower, higher in pairwise(gains):
        assert np.all(higher >= lower)


def test_floor_payoff_is_a_put_on_the_benchmark() -> None:
    # the floor alone pays max(K - P, 0) per unit: a put's payoff
    benchmark = np.linspace(0.0, 300.0, 61)
    flows = offtake_flows(benchmark, 1.0, contract_price(benchmark, floor=110.0), 1.0)
    np.testing.assert_allclose(flows.adjustment, np.maximum(110.0 - benchmark, 0.0))
