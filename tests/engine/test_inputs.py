"""engine/inputs.py: resolve() on the bundled deal and on small deals written in YAML. Overrides
(scalar -> (S, 1), (S, T) as is, (S,) scaling a schedule, one year of a schedule), {year: value}
and list schedules, study-year labels and capex given by year, each checked by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dealcalc as dc
from dealcalc.engine.inputs import EngineInputs, MineInputs, resolve
from dealcalc.io import parse_deal
from dealcalc.models import Deal
from dealcalc.params import Scenarios


def resolved(deal: Deal, overrides: dict[str, Any] | None = None) -> EngineInputs:
    s = Scenarios.build(deal, overrides)
    return resolve(deal, s.overrides, s.n)


def mine(inputs: EngineInputs, name: str) -> MineInputs:
    return next(m for m in inputs.mines if m.name == name)


def rows(x: Any, shape: tuple[int, int]) -> list[list[float]]:
    """A resolved number as (S, T) lists."""
    return np.broadcast_to(np.asarray(x, dtype=np.float64), shape).tolist()


@pytest.fixture(scope="module")
def bundled() -> Deal:
    return dc.load(dc.example_path("ussm-fwo"))


def test_the_bundled_deal_timeline_and_phases(bundled: Deal) -> None:
    i = resolved(bundled)
    tl = i.timeline
    assert tl.shape == (1, 17)  # 2026-2042
    assert tl.timing == "end" and tl.basis == "real" and tl.valuation_offset == 0.0
    # 14 % nominal with 2.5 % inflation, in real terms
    assert tl.discount_rate[0] == pytest.approx(1.14 / 1.025 - 1, rel=1e-14)
    assert tl.escalation == 1.0
    # money of the valuation point (the start of 2026) to money of the day of each year's flow,
    # which is paid at the year's end: (1 + i)^(t + 1)
    assert tl.to_nominal == pytest.approx(1.025 ** np.arange(1, 18), rel=1e-14)
    assert tl.first_production == 2  # concentrators built 2026-27, output from 2028
    conc = i.phases["concentrators"]
    assert conc.capex_total == 170e6
    assert conc.capex_spread.tolist() == [0.5, 0.5] + [0.0] * 15
    assert conc.production.tolist()[:5] == [0, 0, 0.6, 0.85, 1.0]
    assert conc.sustaining.tolist() == [0, 0] + [3.4e6] * 15  # only while producing
    refinery = i.phases["refinery"]  # built 2028-29, ramps up 40 %, 70 %, 90 % from 2030
    assert refinery.draw_periods.tolist()[:5] == [0, 0, 1, 1, 0]
    assert refinery.production.tolist()[3:8] == [0, 0.4, 0.7, 0.9, 1.0]


def test_the_bundled_deal_fiscal_finance_and_trade(bundled: Deal) -> None:
    i = resolved(bundled)
    f = i.fiscal
    royalty, tax, floor = f.levies
    assert (royalty.name, royalty.rate, royalty.terms) == ("royalty", 0.05, ((1.0, "mine_value"),))
    assert (tax.name, tax.brackets, tax.slab, tax.carry_forward) == (
        "income_tax",
        ((0.0, 0.29), (1.78e6, 0.39)),
        True,
        6,
    )
    assert floor.tops_up == ("income_tax",) and floor.alternatives is not None
    assert [rate for _, rate in floor.alternatives] == [0.0125, 0.17]
    assert (f.write_off, f.idc_years, f.simple) == (16, 10, True)
    # exploration has no stream: its capex depreciates from the deal's first output (2028)
    assert f.depreciation_start == {"exploration": 2, "concentrators": 2, "refinery": 4}
    fin = i.finance
    assert [d.name for d in fin.debt] == ["dfi_concentrators", "eca_refinery"]
    assert fin.debt[0].rate.tolist() == [0.09] and fin.debt[0].share_of_capex.tolist() == [0.5]
    # each party's nominal rate in real terms: (1 + n) / 1.025 - 1
    for party, nominal in [("ussm", 0.19), ("fwo", 0.16), ("government_of_pakistan", 0.10)]:
        assert fin.discount_rates[party][0] == pytest.approx((1 + nominal) / 1.025 - 1, rel=1e-14)
    assert (fin.withholding, fin.withholding_untaxed) == (0.15, 0.25)
    # annex II: tungsten concentrate is exempt from the ad-valorem rate but pays 2.974 US$/mtu
    sales = mine(i, "tungsten_concentrate").sales
    assert len(sales) == 1
    assert (sales[0].government, sales[0].rate, sales[0].specific) == ("us_government", 0.0, 2.974)
    assert sales[0].bears == 0.5  # 1 - pass-through 0.5


def test_a_scalar_override_is_per_scenario_and_an_s_by_t_override_is_used_as_is(bundled: Deal) -> None:
    i = resolved(bundled, {"fiscal.royalty_rate": [0.03, 0.05]})
    rate = i.fiscal.levies[0].rate
    assert np.shape(rate) == (2, 1)
    assert np.asarray(rate).tolist() == [[0.03], [0.05]]
    ore = np.linspace(1e5, 2e6, 34).reshape(2, 17)
    j = resolved(bundled, {"streams.copper.ore_tpa": ore})
    assert np.asarray(mine(j, "copper").ore).tolist() == ore.tolist()
    assert mine(j, "gold").ore == 1e6  # the other stream keeps its file value


SMALL = """
name: small
valuation: {start_year: 2030, end_year: 2035, discount_rate: 0.1}
products: {metal: {unit: t}}
price_decks: {base: {metal: {2032: 100.0, 2034: 150.0}}}
phases: {mine: {start_year: 2030, capex_usd: 1000.0, capex_schedule: [0.5, 0.5]DELAY}}
streams:
  ore:
    phase: mine
    product: metal
    ore_tpa: {2033: 10.0, 2035: 20.0}
    grade: 0.01
    recovery: [0.5, 0.8, 0.9]
"""


def small(delay: int = 0) -> Deal:
    return parse_deal(SMALL.replace("DELAY", f", delay_years: {delay}" if delay else ""))


def test_year_schedules_hold_from_their_keys() -> None:
    ore = mine(resolved(small()), "ore")
    # 2030-2035: nothing before 2033, 10 from 2033, 20 from 2035
    assert rows(ore.ore, (1, 6)) == [[0, 0, 0, 10, 10, 20]]
    # a price covers the years before its first key
    assert rows(ore.price, (1, 6)) == [[100, 100, 100, 100, 150, 150]]


def test_an_s_override_of_a_whole_schedule_scales_it() -> None:
    ore = mine(resolved(small(), {"streams.ore.ore_tpa": [1.0, 2.0]}), "ore")
    assert rows(ore.ore, (2, 6)) == [[0, 0, 0, 10, 10, 20], [0, 0, 0, 20, 20, 40]]


def test_an_override_of_one_year_holds_until_the_next_key() -> None:
    ore = mine(resolved(small(), {"streams.ore.ore_tpa.2033": [5.0, 30.0]}), "ore")
    assert rows(ore.ore, (2, 6)) == [[0, 0, 0, 5, 5, 20], [0, 0, 0, 30, 30, 20]]
    # the first price also covers the earlier years
    priced = mine(resolved(small(), {"price_decks.base.metal.2032": [50.0]}), "ore")
    assert rows(priced.price, (1, 6)) == [[50, 50, 50, 50, 150, 150]]


def test_a_list_schedule_starts_at_the_phase_first_production_year() -> None:
    # built 2030-31: output from 2032 (index 2); recovery 50 %, 80 %, then 90 % for ever (a
    # factor: its first value before the list starts, where nothing is mined anyway)
    ore = mine(resolved(small()), "ore")
    assert rows(ore.recovery, (1, 6)) == [[0.5, 0.5, 0.5, 0.8, 0.9, 0.9]]
    # a year late: construction 2031-32, output and the list from 2033
    late = mine(resolved(small(delay=1)), "ore")
    assert rows(late.recovery, (1, 6)) == [[0.5, 0.5, 0.5, 0.5, 0.8, 0.9]]


STUDY = """
name: study years
valuation: {start_year: -2, end_year: 3, year_zero: false, discount_rate: 0.1, valuation_point: 1}
products: {metal: {unit: t}}
price_decks: {base: {metal: {1: 100.0, 3: 200.0}}}
phases: {mine: {start_year: -2, capex_usd: 1000.0, capex_schedule: [0.5, 0.5]}}
streams:
  ore: {phase: mine, product: metal, ore_tpa: {-1: 0.0, 1: 10.0, 2: 20.0}, grade: 0.01}
"""


def test_study_year_labels_place_the_keys() -> None:
    i = resolved(parse_deal(STUDY))
    # periods -2, -1, 1, 2, 3 (no year 0): label 1 is index 2, label 3 index 4
    assert i.timeline.shape == (1, 5)
    ore = mine(i, "ore")
    assert rows(ore.price, (1, 5)) == [[100, 100, 100, 100, 200]]
    assert rows(ore.ore, (1, 5)) == [[0, 0, 10, 20, 20]]  # 1 is index 2, 2 is index 3
    assert i.timeline.first_production == 2  # built in -2 and -1, output from 1
    assert i.timeline.valuation_offset == 2.0  # the start of period 1: two years in


BY_YEAR = "capex_usd: {2030: 300.0, 2032: 700.0}"


def test_capex_given_by_year_is_spent_only_in_those_years() -> None:
    text = SMALL.replace(
        "capex_usd: 1000.0, capex_schedule: [0.5, 0.5]DELAY", BY_YEAR + ", production_start_year: 2033"
    )
    p = resolved(parse_deal(text)).phases["mine"]
    # the total is 1 and the spread holds the amounts: 300 in 2030, 700 in 2032, nothing else
    assert p.capex_total == 1.0
    assert rows(p.capex_spread, (1, 6)) == [[300, 0, 700, 0, 0, 0]]
    assert p.draw_periods.tolist() == [1, 0, 1, 0, 0, 0]
    # an (S,) override scales every amount
    scaled = resolved(parse_deal(text), {"phases.mine.capex_usd": [2.0]}).phases["mine"]
    assert rows(scaled.capex_spread, (1, 6)) == [[600, 0, 1400, 0, 0, 0]]


TRADE = """
trade:
  destinations: {us: {schedule: s, pass_through_fraction: 0.25, government: usg}}
  schedules: {s: {ad_valorem: {2029-04-05: 0.10, 2031-07-01: 0.25}}}
"""


def test_a_dated_rate_path_is_averaged_by_days_in_each_year() -> None:
    text = SMALL.replace("DELAY", "").replace("recovery: [0.5, 0.8, 0.9]", "sales_shares: {us: 1.0}") + TRADE
    deal = parse_deal(text)
    sale = mine(resolved(deal), "ore").sales[0]
    # 2030: 10 %; 2031: 1 Jan - 30 Jun (181 days) at 10 %, 1 Jul - 31 Dec (184) at 25 %; then 25 %
    in_2031 = (0.10 * 181 + 0.25 * 184) / 365
    assert np.asarray(sale.rate) == pytest.approx(
        np.array([0.10, in_2031, 0.25, 0.25, 0.25, 0.25]), rel=1e-14
    )
    assert (sale.destination, sale.government, sale.bears) == ("us", "usg", 0.75)
    # each dated rate is a parameter of its own
    moved = mine(resolved(deal, {"trade.schedules.s.ad_valorem.2031-07-01": [0.5]}), "ore").sales[0]
    assert rows(moved.rate, (1, 6))[0][1] == pytest.approx((0.10 * 181 + 0.5 * 184) / 365, rel=1e-14)


def test_capex_by_year_output_starts_after_the_last_capex_year() -> None:
    # Phase docstring: production starts after construction; here construction is 2030-2032
    text = SMALL.replace("capex_usd: 1000.0, capex_schedule: [0.5, 0.5]DELAY", BY_YEAR)
    p = resolved(parse_deal(text)).phases["mine"]
    assert p.production.tolist() == [0, 0, 0, 1, 1, 1]


def test_delay_moves_capex_given_by_year() -> None:
    # "delay_years moves the whole phase later": 300 in 2031 and 700 in 2033, output from 2034
    text = SMALL.replace(
        "capex_usd: 1000.0, capex_schedule: [0.5, 0.5]DELAY",
        BY_YEAR + ", production_start_year: 2033, delay_years: 1",
    )
    p = resolved(parse_deal(text)).phases["mine"]
    assert p.production.tolist() == [0, 0, 0, 0, 1, 1]  # moved, as it is
    assert rows(p.capex_spread, (1, 6)) == [[0, 300, 0, 700, 0, 0]]
