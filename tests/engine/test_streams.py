"""engine/streams.py: mine output, the material balance and each stream's money, by hand.

The balance is worked with round numbers: a mine recovering 100 units a year, a refinery that
needs capacity x ramp-up / recovery of feed, own feed first, then bought feed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dealcalc.engine.inputs import ClosureInputs, MineInputs, ProcessingInputs
from dealcalc.engine.streams import (
    closure_years,
    material_balance,
    mine_flows,
    mine_margin,
    mine_output,
    processing_flows,
    temporary_closures,
)

T = 4


def mine(**changes: object) -> MineInputs:
    base = MineInputs(
        name="mine",
        product="metal",
        unit="t",
        phase="p",
        units_per_tonne=1.0,
        price=1000.0,
        profile=np.ones(T),
        producing=np.ones(T),
        ore=1000.0,
        grade=0.1,
        recovery=0.8,
        recovered_units=None,
        payable=0.9,
        concentrate_grade=0.5,
        moisture=0.0,
        treatment_per_dmt=10.0,
        penalties_per_dmt=0.0,
        freight_per_wmt=0.0,
        refining_per_unit=0.0,
        freight_per_t_product=0.0,
        opex_per_t_ore=2.0,
        fixed_opex=0.0,
        royalty_share=1.0,
        sales=(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def refinery(**changes: object) -> ProcessingInputs:
    base = ProcessingInputs(
        name="ref",
        product="metal",
        unit="t",
        phase="q",
        units_per_tonne=1.0,
        price=1000.0,
        profile=np.array([0.0, 0.5, 1.0, 1.0]),
        producing=np.array([0.0, 1.0, 1.0, 1.0]),
        capacity=90.0,
        payable=1.0,
        conversion_per_unit=50.0,
        freight_per_t_product=0.0,
        fixed_opex=0.0,
        royalty_share=0.0,
        sales=(),
        fed=True,
        sources=("mine",),
        recovery=0.9,
        purchase_price=None,
        purchase_cap=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_mine_output_from_ore_and_from_a_stated_output() -> None:
    # 1,000 t ore x 10 % = 100 t contained; x 80 % recovery = 80 t recovered
    out = mine_output(mine())
    assert np.asarray(out.mined).tolist() == [100.0] * T
    assert np.asarray(out.recovered).tolist() == [80.0] * T
    stated = mine_output(mine(ore=None, recovered_units=np.array([0.0, 5.0, 7.0, 0.0])))
    assert np.asarray(stated.recovered).tolist() == [0.0, 5.0, 7.0, 0.0]
    assert np.asarray(stated.mined).tolist() == [0.0, 5.0, 7.0, 0.0]  # no ore: mined is what it states


def test_own_feed_first_the_surplus_is_sold_nothing_bought_without_terms() -> None:
    # the refinery needs 90 x profile / 0.9 = 0, 50, 100, 100 of feed; the mine recovers 80 a year
    b = material_balance({"mine": np.full(T, 80.0)}, [refinery()])
    fed = np.asarray(b.fed["mine", "ref"])
    assert fed.tolist() == [0.0, 50.0, 80.0, 80.0]
    assert np.asarray(b.sold["mine"]).tolist() == [80.0, 30.0, 0.0, 0.0]  # the ramp-up surplus is sold
    assert np.all(np.asarray(b.bought["ref"]) == 0.0)  # no purchase terms: buys nothing
    assert np.asarray(b.made["ref"]) == pytest.approx([0.0, 45.0, 72.0, 72.0])  # own feed x 0.9
    assert np.asarray(b.lost["ref"]) == pytest.approx([0.0, 5.0, 8.0, 8.0])


def test_only_the_shortfall_is_bought_up_to_its_cap() -> None:
    b = material_balance({"mine": np.full(T, 80.0)}, [refinery(purchase_price=600.0)])
    assert np.asarray(b.bought["ref"]).tolist() == [0.0, 0.0, 20.0, 20.0]  # 100 needed, 80 own
    assert np.asarray(b.made["ref"]) == pytest.approx([0.0, 45.0, 90.0, 90.0])  # at capacity
    capped = material_balance({"mine": np.full(T, 80.0)}, [refinery(purchase_price=600.0, purchase_cap=5.0)])
    assert np.asarray(capped.bought["ref"]).tolist() == [0.0, 0.0, 5.0, 5.0]
    assert np.asarray(capped.made["ref"]) == pytest.approx([0.0, 45.0, 76.5, 76.5])


def test_two_sources_in_order_and_a_chain_of_processing() -> None:
    # the refinery takes from "a" first, then "b"; a second plant takes the refinery's output
    two = refinery(sources=("a", "b"), recovery=1.0, capacity=100.0, profile=np.ones(T))
    plant = refinery(name="plant", sources=("ref",), recovery=1.0, capacity=30.0, profile=np.ones(T))
    b = material_balance({"a": np.full(T, 60.0), "b": np.full(T, 60.0)}, [two, plant])
    assert np.asarray(b.fed["a", "ref"]).tolist() == [60.0] * T
    assert np.asarray(b.fed["b", "ref"]).tolist() == [40.0] * T
    assert np.asarray(b.sold["b"]).tolist() == [20.0] * T
    assert np.asarray(b.fed["ref", "plant"]).tolist() == [30.0] * T
    assert np.asarray(b.sold["ref"]).tolist() == [70.0] * T  # what the plant does not take
    assert np.asarray(b.made["plant"]).tolist() == [30.0] * T


def test_a_processing_stream_without_feed_makes_its_capacity() -> None:
    b = material_balance({}, [refinery(fed=False, sources=())])
    assert np.asarray(b.made["ref"]).tolist() == [0.0, 45.0, 90.0, 90.0]
    assert "ref" not in b.bought


def test_the_balance_works_per_scenario() -> None:
    # (S, T) supply: two scenarios of mine output
    supply = np.array([[80.0] * T, [120.0] * T])
    b = material_balance({"mine": supply}, [refinery(purchase_price=600.0)])
    assert np.asarray(b.sold["mine"])[:, 2].tolist() == [0.0, 20.0]
    assert np.asarray(b.bought["ref"])[:, 2].tolist() == [20.0, 0.0]


def test_mine_money_sells_only_what_is_not_fed_and_pays_royalty_on_all() -> None:
    m = mine()
    out = mine_output(m)  # 80 t recovered
    sold = np.array([80.0, 30.0, 0.0, 0.0])
    f = mine_flows(m, out, sold, 1.0)
    # revenue: sold x payable 0.9 x 1,000; TC: 10 per dmt of 50 % concentrate = 20 per t sold
    assert np.asarray(f.revenue).tolist() == pytest.approx([72_000.0, 27_000.0, 0.0, 0.0])
    assert np.asarray(f.charges).tolist() == pytest.approx([1_600.0, 600.0, 0.0, 0.0])
    # royalty base: all 80 t recovered at payable value, sold or fed
    assert np.asarray(f.royalty_base).tolist() == pytest.approx([72_000.0] * T)
    # ore cost: 1,000 t x 2 on all ore mined
    assert np.asarray(f.mining_cost).tolist() == pytest.approx([2_000.0] * T)
    assert np.asarray(f.contained_units_sold).tolist() == pytest.approx(sold.tolist())


def test_processing_money_conversion_on_all_it_makes_and_bought_feed() -> None:
    p = refinery(purchase_price=600.0, payable=0.98)
    made = np.array([0.0, 45.0, 90.0, 90.0])
    sold = np.array([0.0, 45.0, 60.0, 90.0])  # 30 fed onward in period 2
    bought = np.array([0.0, 0.0, 20.0, 20.0])
    f = processing_flows(p, made, sold, bought, 1.0)
    assert np.asarray(f.revenue).tolist() == pytest.approx([0.0, 44_100.0, 58_800.0, 88_200.0])
    assert np.asarray(f.conversion_cost).tolist() == pytest.approx([0.0, 2_250.0, 4_500.0, 4_500.0])
    assert np.asarray(f.feed_cost).tolist() == pytest.approx([0.0, 0.0, 12_000.0, 12_000.0])
    # escalation in a nominal deal multiplies prices and costs alike
    g = processing_flows(p, made, sold, bought, np.array([1.0, 1.1, 1.21, 1.331]))
    assert np.asarray(g.feed_cost)[2] == pytest.approx(12_000.0 * 1.21)


# ---------------------------------------------------------------------------- temporary closure
def test_closure_years_by_scenario_in_one_pass() -> None:
    # three scenarios: never below, a dip in years 1-2, below from year 1 to the end
    margin = np.array(
        [
            [5.0, 5.0, 5.0, 5.0, 5.0, 5.0],
            [5.0, -1.0, -1.0, 5.0, 5.0, 5.0],
            [5.0, -1.0, -1.0, -1.0, -1.0, -1.0],
        ]
    )
    c = closure_years(margin, 1.0, 0.0, 1, (3, 6))
    assert c.closed.tolist() == [[0] * 6, [0, 1, 1, 0, 0, 0], [0, 1, 1, 1, 1, 1]]
    assert c.closing.tolist() == [[0] * 6, [0, 1, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]]
    assert c.reopening.tolist() == [[0] * 6, [0, 0, 0, 1, 0, 0], [0] * 6]
    # held closed two years: the dip of one year still closes it for two
    one_year = np.array([5.0, -1.0, 5.0, 5.0, 5.0, 5.0])
    held = closure_years(one_year, 1.0, 0.0, 2, (1, 6))
    assert held.closed[0].tolist() == [0, 1, 1, 0, 0, 0] and held.reopening[0].tolist() == [0, 0, 0, 1, 0, 0]


def test_closure_years_only_in_production_years_and_a_threshold_per_scenario() -> None:
    margin = np.array([-1.0, -1.0, -1.0, 5.0])
    active = np.array([0.0, 1.0, 1.0, 0.0])  # production in years 1-2 only
    c = closure_years(margin, active, 0.0, 1, (1, 4))
    # closed in its production years; the end of production ends the closure, no reopening
    assert c.closed[0].tolist() == [0, 1, 1, 0] and not c.reopening.any()
    by_scenario = closure_years(np.full(4, 3.0), 1.0, np.array([[0.0], [4.0]]), 1, (2, 4))
    assert by_scenario.closed.tolist() == [[0] * 4, [1] * 4]


def test_a_closed_mine_feeds_nothing_and_its_refinery_buys() -> None:
    rule = ClosureInputs(0.0, 10.0, 20.0, 30.0, 1, np.ones(T))
    price = np.array([1000.0, 10.0, 1000.0, 1000.0])  # below the ore cost in year 1
    m = mine(price=price, closure=rule)
    margin = mine_margin(m, 1.0, 1.0)
    assert np.asarray(margin)[1] < 0 < np.asarray(margin)[0]
    ref = refinery(purchase_price=1.0)
    c = temporary_closures([m], [ref], 1.0, 1.0, (1, T))
    assert c.years["mine"].closed[0].tolist() == [0, 1, 0, 0]
    closed_mine = c.mines[0]
    assert np.asarray(mine_output(closed_mine).recovered)[0, 1] == 0.0
    b = material_balance({"mine": mine_output(closed_mine).recovered}, c.processing)
    need = np.asarray(ref.capacity * ref.profile / ref.recovery)
    assert np.asarray(b.fed["mine", "ref"])[0, 1] == 0.0
    assert np.asarray(b.bought["ref"])[0, 1] == pytest.approx(np.broadcast_to(need, (T,))[1])
