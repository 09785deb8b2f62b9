"""engine/metal_stream.py by hand on arrays: deliveries by tier as the cumulative deliveries
cross a limit, the stream price (the lesser of a fixed price and spot, or a share of spot), the
transfer between the project and the financier, and upfront money recognised in step with what
it pays for (docs/methodology.md, streams and royalties sold for cash)."""

from __future__ import annotations

import numpy as np
import pytest

from dealcalc.engine.metal_stream import recognised, sold_stream_flows, stream_price, tiered_deliveries


def test_one_tier_is_a_flat_share() -> None:
    out = tiered_deliveries(np.array([[10.0, 20.0, 0.0, 40.0]]), [0.25], [])
    np.testing.assert_allclose(out, [[2.5, 5.0, 0.0, 10.0]])


def test_tiers_switch_when_cumulative_deliveries_cross_the_limit() -> None:
    # 100 units of output a year; 50 % until 120 units are delivered, then 20 %:
    # year 0: 50 (cum 50); year 1: 50 (cum 100); year 2: 20 more at 50 % use 40 units of output,
    # the other 60 at 20 % give 12: 32 (cum 132); year 3 on: 20
    out = tiered_deliveries(np.full((1, 5), 100.0), [0.5, 0.2], [120.0])
    np.testing.assert_allclose(out, [[50.0, 50.0, 32.0, 20.0, 20.0]])
    assert np.cumsum(out)[2] == pytest.approx(132.0)


def test_three_tiers_and_a_year_that_crosses_two_limits() -> None:
    # 1,000 units in one year: 50 % to 100 delivered (200 of output), 25 % to 150 (200 more),
    # then 10 % of the remaining 600: 100 + 50 + 60
    out = tiered_deliveries(np.array([[1000.0, 100.0]]), [0.5, 0.25, 0.1], [100.0, 150.0])
    np.testing.assert_allclose(out, [[210.0, 10.0]])


def test_tiers_per_scenario() -> None:
    # two scenarios with limits 20 and 60 on 40 units a year at 50 %, then 0
    out = tiered_deliveries(np.full((2, 3), 40.0), [0.5, 0.0], [np.array([[20.0], [60.0]])])
    np.testing.assert_allclose(out, [[20.0, 0.0, 0.0], [20.0, 20.0, 20.0]])


def test_a_tier_of_zero_share_delivers_nothing_until_the_next() -> None:
    out = tiered_deliveries(np.full((1, 2), 10.0), [0.0, 0.5], [5.0])
    np.testing.assert_allclose(out, [[0.0, 0.0]])  # nothing is ever delivered to reach the limit


def test_stream_price_fixed_is_capped_at_spot_and_share_of_spot() -> None:
    spot = np.array([[350.0, 400.0, 2600.0]])
    np.testing.assert_allclose(stream_price(spot, fixed=400.0), [[350.0, 400.0, 400.0]])
    np.testing.assert_allclose(stream_price(spot, spot_share=0.2), [[70.0, 80.0, 520.0]])


def test_transfer_by_hand_and_the_parties_add_up() -> None:
    # spot 2,000, 3,000, 2,500; 100 units of output a year from year 1; a deposit of 50,000 in
    # year 0; 40 % until 60 units, then 30 %; a fixed price of 400
    spot = np.array([[2000.0, 2000.0, 3000.0, 2500.0]])
    available = np.array([[0.0, 100.0, 100.0, 100.0]])
    deposit = np.array([[50_000.0, 0.0, 0.0, 0.0]])
    flows = sold_stream_flows(spot, available, stream_price(spot, fixed=400.0), deposit, [0.4, 0.3], [60.0])
    # year 1: 40 (cum 40); year 2: 20 at 40 % (50 of output) + 30 % of 50 = 35; year 3: 30
    np.testing.assert_allclose(flows.delivered, [[0.0, 40.0, 35.0, 30.0]])
    margin = [0.0, 40 * 1600.0, 35 * 2600.0, 30 * 2100.0]
    np.testing.assert_allclose(flows.adjustment, -np.array([margin]))
    np.testing.assert_allclose(flows.financier, [[-50_000.0, *margin[1:]]])
    # the project's cash: the deposit plus the stream price on what it delivers, instead of spot
    np.testing.assert_allclose(flows.project, [[50_000.0, -64_000.0, -91_000.0, -63_000.0]])
    np.testing.assert_allclose(flows.project + flows.financier, 0.0)


def test_a_larger_deposit_only_moves_the_deposit_year() -> None:
    spot, available = 1000.0, np.full((1, 4), 10.0)
    small = sold_stream_flows(spot, available, 100.0, np.array([[1.0, 0, 0, 0]]), [0.5])
    large = sold_stream_flows(spot, available, 100.0, np.array([[9.0, 0, 0, 0]]), [0.5])
    np.testing.assert_allclose(large.project - small.project, [[8.0, 0.0, 0.0, 0.0]])


def test_recognised_in_step_with_deliveries_from_the_deposit() -> None:
    # a deposit of 90 in year 1, deliveries of 5 before it (not counted), then 1, 2, 0
    got = recognised(np.array([[0.0, 90.0, 0.0, 0.0, 0.0]]), np.array([[5.0, 0.0, 1.0, 2.0, 0.0]]))
    np.testing.assert_allclose(got, [[0.0, 0.0, 30.0, 60.0, 0.0]])
    assert got.sum() == pytest.approx(90.0)


def test_recognised_at_the_end_when_nothing_is_delivered() -> None:
    got = recognised(np.array([[0.0, 90.0, 0.0]]), np.zeros((1, 3)))
    np.testing.assert_allclose(got, [[0.0, 0.0, 90.0]])
