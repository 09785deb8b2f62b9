"""Temporary closure of a stream when its margin is too low (``streams.X.temporary_closure``).

The small deal: a mine built in 2030, producing 2031-2036 (six years), 1,000 t of ore at 1 %
metal and 90 % recovery (9 t a year), ore at 30 US$/t (30,000 a year), a fixed cost of 2,000 a
year, no tax. At 10,000 US$/t the margin is 9 x 10,000 - 30,000 = 60,000; at 2,000 US$/t it is
18,000 - 30,000 = -12,000, so a dip in 2033-2034 (years 3 and 4) closes it.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import dealcalc as dc
from dealcalc.engine import lines as L
from dealcalc.errors import InputError
from dealcalc.models import Deal
from dealcalc.params import apply_scenario, with_changes

RULE = {
    "care_and_maintenance_usd_per_year": 5_000.0,
    "closing_cost_usd": 7_000.0,
    "reopening_cost_usd": 11_000.0,
}
DIP = {2031: 10_000.0, 2033: 2_000.0, 2035: 10_000.0}
BASE: dict[str, Any] = {
    "name": "closure",
    "valuation": {"start_year": 2030, "end_year": 2036, "discount_rate": 0.10},
    "products": {"metal": {"unit": "t"}},
    "price_decks": {"base": {"metal": DIP}},
    "phases": {"mine": {"start_year": 2030, "capex_usd": 100_000.0}},
    "streams": {
        "ore": {
            "phase": "mine",
            "product": "metal",
            "ore_tpa": 1_000.0,
            "grade": 0.01,
            "recovery": 0.9,
            "opex_usd_per_t_ore": 30.0,
            "fixed_opex_usd_per_year": 2_000.0,
        }
    },
}


def deal(rule: dict[str, Any] | None = None, prices: Any = DIP, **streams: Any) -> Deal:
    data = copy.deepcopy(BASE)
    data["price_decks"]["base"]["metal"] = prices
    if rule is not None:
        data["streams"]["ore"]["temporary_closure"] = rule
    data["streams"].update(streams)
    return Deal.model_validate(data)


def line(v: dc.Valuation, name: str) -> list[float]:
    return [round(x, 6) for x in v.table()[name].tolist()]


def test_a_price_dip_closes_the_mine_for_two_years_at_stated_costs() -> None:
    v = dc.evaluate(deal(RULE))
    # 2030 is construction; closed in 2033 and 2034, reopened in 2035
    assert line(v, L.closed("ore").name) == [0, 0, 0, 1, 1, 0, 0]
    assert line(v, "Revenue: ore [USD]") == [0, 90_000, 90_000, 0, 0, 90_000, 90_000]
    # no ore cost and no fixed cost while closed; care and maintenance instead
    assert line(v, L.MINING.name) == [0, -32_000, -32_000, 0, 0, -32_000, -32_000]
    assert line(v, L.CARE_AND_MAINTENANCE.name) == [0, 0, 0, -5_000, -5_000, 0, 0]
    assert line(v, L.TEMPORARY_CLOSING.name) == [0, 0, 0, -7_000, 0, 0, 0]
    assert line(v, L.REOPENING.name) == [0, 0, 0, 0, 0, -11_000, 0]
    mb = v.material_balance()
    assert mb.loc[("ore", "mined", "t")].tolist() == pytest.approx([0, 10, 10, 0, 0, 10, 10])
    assert mb.loc[("ore", "sold", "t")].tolist() == pytest.approx([0, 9, 9, 0, 0, 9, 9])
    # the closing costs are operating costs: EBITDA of a closed year is minus what it pays
    assert line(v, "EBITDA [USD]")[3:5] == [-12_000, -5_000]


def test_min_years_closed_holds_it_closed_an_extra_year() -> None:
    v = dc.evaluate(deal({**RULE, "min_years_closed": 3}))
    assert line(v, L.closed("ore").name) == [0, 0, 0, 1, 1, 1, 0]
    assert line(v, L.CARE_AND_MAINTENANCE.name) == [0, 0, 0, -5_000, -5_000, -5_000, 0]
    assert line(v, L.REOPENING.name) == [0, 0, 0, 0, 0, 0, -11_000]
    assert line(v, "Revenue: ore [USD]") == [0, 90_000, 90_000, 0, 0, 0, 90_000]


def test_a_threshold_above_zero_closes_a_mine_with_a_thin_margin() -> None:
    # at 5,000 US$/t the margin is 45,000 - 30,000 = 15,000: open at threshold 0, closed at 20,000
    prices = {2031: 10_000.0, 2033: 5_000.0, 2035: 10_000.0}
    assert line(dc.evaluate(deal(RULE, prices)), L.closed("ore").name) == [0] * 7
    rule = {**RULE, "close_below_margin_usd": 20_000.0}
    assert line(dc.evaluate(deal(rule, prices)), L.closed("ore").name) == [0, 0, 0, 1, 1, 0, 0]


def test_without_a_rule_the_ledger_has_no_closure_lines() -> None:
    v = dc.evaluate(deal())
    assert not v.ledger.has(L.CARE_AND_MAINTENANCE) and not v.ledger.has(L.closed("ore"))
    assert line(v, "Revenue: ore [USD]") == [0, 90_000, 90_000, 18_000, 18_000, 90_000, 90_000]


def test_a_closed_mine_feeds_nothing_and_the_refinery_buys_the_shortfall() -> None:
    refinery = {
        "phase": "mine",
        "product": "metal",
        "capacity_units_per_year": 9.0,
        "feed": {"sources": ["ore"], "purchase": {"price_usd_per_unit": 1_000.0}},
    }
    # the refinery sells at a steady price; the mine's own value follows the dip
    data = copy.deepcopy(BASE)
    data["products"]["conc"] = {"unit": "t"}
    data["price_decks"]["base"] = {"metal": 12_000.0, "conc": DIP}
    data["streams"]["ore"] |= {"product": "conc", "temporary_closure": RULE}
    data["streams"]["ref"] = refinery | {"feed": {**refinery["feed"], "product": "conc"}}
    v = dc.evaluate(Deal.model_validate(data))
    mb = v.material_balance()
    assert mb.loc[("ore", "fed to ref", "t")].tolist() == pytest.approx([0, 9, 9, 0, 0, 9, 9])
    assert mb.loc[("ref", "bought", "t")].tolist() == pytest.approx([0, 0, 0, 9, 9, 0, 0])
    assert mb.loc[("ref", "made", "t")].tolist() == pytest.approx([0, 9, 9, 9, 9, 9, 9])
    # contained metal is conserved: each stream makes what it sells and feeds on; the refinery
    # makes what it is fed and buys (recovery 1)
    recovered = mb.loc[("ore", "recovered", "t")].to_numpy()
    assert recovered == pytest.approx(mb.loc[("ore", "fed to ref", "t")] + mb.loc[("ore", "sold", "t")])
    fed = mb.loc[("ref", "fed from ore", "t")]
    assert mb.loc[("ref", "made", "t")].to_numpy() == pytest.approx(fed + mb.loc[("ref", "bought", "t")])


def _stream_cash(v: dc.Valuation) -> np.ndarray:
    lines = [L.revenue("ore"), L.SELLING_CHARGES, L.MINING]
    lines += [x for x in (L.CARE_AND_MAINTENANCE, L.TEMPORARY_CLOSING, L.REOPENING) if v.ledger.has(x)]
    return np.sum([v.ledger.line(x) for x in lines], axis=0)


def test_free_closure_never_lowers_the_streams_cash_or_the_npv() -> None:
    rng = np.random.default_rng(5)
    free = {"min_years_closed": 1}
    closures = 0
    for _ in range(20):
        prices = {
            year: float(p) for year, p in zip(range(2031, 2037), rng.uniform(500.0, 9_000.0, 6), strict=True)
        }
        without, with_rule = dc.evaluate(deal(None, prices)), dc.evaluate(deal(free, prices))
        gain = _stream_cash(with_rule) - _stream_cash(without)
        assert (gain >= -1e-9).all()
        # it only avoids negative margins: where it closes, the margin was negative
        closed = with_rule.ledger.line(L.closed("ore"))[0] > 0
        assert (_stream_cash(without)[0][closed] < 0).all()
        closures += int(closed.sum())
        assert with_rule.values["npv_usd"][0] >= without.values["npv_usd"][0] - 1e-9
    assert closures > 0  # the property was put to the test


def test_many_scenarios_at_once_give_what_each_gives_alone() -> None:
    prices = np.array([[10_000.0] * 7, [10_000.0, 10_000, 10_000, 2_000, 2_000, 10_000, 10_000]])
    both = dc.evaluate(deal(RULE), overrides={"price_decks.base.metal": prices}, keep_ledger=True)
    closed = both.ledger.line(L.closed("ore"))
    assert closed.tolist() == [[0.0] * 7, [0, 0, 0, 1, 1, 0, 0]]
    alone = dc.evaluate(deal(RULE))
    assert both.values["npv_usd"][1] == pytest.approx(alone.values["npv_usd"][0], rel=1e-12)


BUNDLED = dc.load(dc.example_path("ussm-fwo"))


def test_the_bundled_scenario_turns_the_rule_on_for_copper() -> None:
    d = apply_scenario(BUNDLED, "copper_care_and_maintenance")
    rule = d.streams["copper"].temporary_closure
    assert rule is not None and rule.close_below_margin_usd == 3.0e6
    v = dc.evaluate(d)
    # at the base deck copper never closes: the same value as the base case
    assert not v.ledger.line(L.closed("copper")).any()
    assert v.values["npv_usd"][0] == pytest.approx(dc.evaluate(BUNDLED).values["npv_usd"][0], rel=1e-12)


def test_a_monte_carlo_with_the_rule_runs_vectorized_and_some_draws_close() -> None:
    # a threshold high enough that copper's price paths close it in some draws, not all
    d = with_changes(
        apply_scenario(BUNDLED, "copper_care_and_maintenance"),
        {"streams.copper.temporary_closure.close_below_margin_usd": 30.0e6},
    )
    n = 400
    on = dc.monte_carlo(d, n, seed=3, metrics=["npv_usd"])
    off = dc.monte_carlo(BUNDLED, n, seed=3, metrics=["npv_usd"])
    changed = ~np.isclose(on.values["npv_usd"], off.values["npv_usd"], rtol=1e-9, atol=1.0)
    assert 0 < changed.sum() < n


def test_the_parties_still_add_up_to_the_project_with_closures() -> None:
    d = with_changes(
        apply_scenario(BUNDLED, "copper_care_and_maintenance"),
        {"price_decks.base.copper": {2030: 9_500.0, 2033: 4_000.0, 2035: 9_500.0}},
    )
    v = dc.evaluate(d, keep_ledger=True)
    assert v.ledger.line(L.closed("copper")).any()
    assert v.parties is not None
    total = np.sum([v.parties.line(x) for x in v.parties.lines if x.cash], axis=0)
    assert total == pytest.approx(v.parties.subtotal(L.CASH_BEFORE_STATE_TAKE), rel=1e-12, abs=1e-3)
    # the pie is the project's after-tax cash before the state's take (taxes and levies back in)
    assert v.parties.subtotal(L.CASH_BEFORE_STATE_TAKE).sum() != 0.0


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"min_years_closed": 0}, "min_years_closed"),
        ({"care_and_maintenance_usd_per_year": -1.0}, "care_and_maintenance_usd_per_year"),
        ({"closing_after": 1}, "closing_after"),
    ],
)
def test_a_bad_rule_is_refused(rule: dict[str, Any], message: str) -> None:
    with pytest.raises((InputError, ValueError), match=message):
        deal(rule)
