"""The engine against hand computations: from tonnes and grades to after-tax cash and NPV.

The small deal below is worked by hand in the comments: one phase built over two years, one
mine stream, five years valued at end-year timing in real terms.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import dealcalc as dc
from dealcalc.models import Deal

BASE: dict[str, Any] = {
    "name": "hand-worked",
    "valuation": {
        "start_year": 2030,
        "end_year": 2034,
        "timing": "end",
        "basis": "real",
        "discount_rate": 0.10,
        "discount_rate_basis": "real",
    },
    "products": {"metal": {"unit": "t"}},
    "price_decks": {"base": {"metal": 10_000.0}},
    "phases": {"mine": {"start_year": 2030, "capex_usd": 100_000.0, "capex_schedule": [0.5, 0.5]}},
    "streams": {
        "ore": {
            "phase": "mine",
            "product": "metal",
            "ore_tpa": 1_000.0,
            "grade": 0.01,
            "recovery": 0.9,
            "opex_usd_per_t_ore": 20.0,
        }
    },
    "fiscal": {"income_tax_rate": 0.30, "depreciation_years": 2},
}


def deal(**changes: Any) -> Deal:
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return Deal.model_validate(data)


def line(v: dc.Valuation, name: str) -> list[float]:
    return [round(x, 6) for x in v.table()[name].tolist()]


def test_ore_grade_recovery_price_to_after_tax_npv() -> None:
    v = dc.evaluate(deal())
    # capex 100,000 split 50/50 over 2030-31; output from 2032 (after construction).
    assert line(v, "Initial capex [USD]") == [-50_000, -50_000, 0, 0, 0]
    # 1,000 t ore x 1 % x 90 % = 9 t of metal x 10,000 USD/t = 90,000 USD a year.
    assert line(v, "Revenue: ore [USD]") == [0, 0, 90_000, 90_000, 90_000]
    # 1,000 t x 20 USD/t
    assert line(v, "Mining and processing [USD]") == [0, 0, -20_000, -20_000, -20_000]
    # depreciation 100,000 over 2 years from 2032; taxable 70,000 - 50,000 = 20,000 -> 6,000
    assert line(v, "Depreciation [USD]") == [0, 0, 50_000, 50_000, 0]
    assert line(v, "Income tax [USD]") == [0, 0, -6_000, -6_000, -21_000]
    after = [-50_000, -50_000, 64_000, 64_000, 49_000]
    assert line(v, "After-tax cash flow [USD]") == after
    assert line(v, "Pre-tax cash flow [USD]") == [-50_000, -50_000, 70_000, 70_000, 70_000]
    npv = sum(cf / 1.1 ** (t + 1) for t, cf in enumerate(after))  # end-year discounting
    assert v.npv_usd[0] == pytest.approx(npv, rel=1e-12)
    assert v.irr[0] == pytest.approx(dc.irr(after), rel=1e-12)
    assert v.peak_funding_usd[0] == pytest.approx(100_000)
    # payback: cumulative -50k, -100k, -36k, +28k -> crosses in year 4 (index 3): 2 + 36/64,
    # plus one year because end-year timing puts 2030's flow at the end of 2030.
    assert v.payback_years[0] == pytest.approx(2 + 36 / 64 + 1)


def test_mid_year_and_begin_timing() -> None:
    after = np.array([-50_000, -50_000, 64_000, 64_000, 49_000], dtype=float)
    t = np.arange(5)
    mid = dc.evaluate(deal(valuation__timing="mid"))
    assert mid.npv_usd[0] == pytest.approx((after / 1.1 ** (t + 0.5)).sum(), rel=1e-12)
    begin = dc.evaluate(deal(valuation__timing="begin"))
    assert begin.npv_usd[0] == pytest.approx((after / 1.1**t).sum(), rel=1e-12)
    later = dc.evaluate(deal(valuation__valuation_point=2028))
    assert later.npv_usd[0] == pytest.approx((after / 1.1 ** (t + 3)).sum(), rel=1e-12)


def test_loss_carried_forward_and_its_expiry() -> None:
    # depreciation in one year: 2032 taxable 70,000 - 100,000 = -30,000, a loss;
    # 2033 taxable 70,000 - 30,000 = 40,000 -> 12,000; 2034: 70,000 -> 21,000.
    v = dc.evaluate(deal(fiscal__depreciation_years=1))
    assert line(v, "Income tax [USD]") == [0, 0, 0, -12_000, -21_000]
    assert line(v, "Losses carried forward [USD]") == [0, 0, 30_000, 0, 0]
    # with no carry-forward the loss is lost: 2033 is taxed on 70,000
    none = dc.evaluate(deal(fiscal__depreciation_years=1, fiscal__loss_carry_forward_years=0))
    assert line(none, "Income tax [USD]") == [0, 0, 0, -21_000, -21_000]


def test_loss_expires_after_its_years() -> None:
    # A 2032 loss kept for 1 year can be used in 2033 only.
    data = deal(
        fiscal__depreciation_years=1,
        fiscal__loss_carry_forward_years=1,
        streams__ore__fixed_opex_usd_per_year=60_000.0,
    )
    # EBITDA 10,000 a year; 2032: 10,000 - 100,000 = -90,000; 2033 uses 10,000 of it; the
    # remaining 80,000 expires before 2034, which is taxed on 10,000 -> 3,000.
    v = dc.evaluate(data)
    assert line(v, "Income tax [USD]") == [0, 0, 0, 0, -3_000]
    # carried into the next year: 90,000 into 2033; nothing into 2034 (the rest expired)
    assert line(v, "Losses carried forward [USD]") == [0, 0, 90_000, 0, 0]


def test_construction_over_two_years_and_ramp_up() -> None:
    v = dc.evaluate(deal(phases__mine__ramp_up=[0.5]))
    assert line(v, "Revenue: ore [USD]") == [0, 0, 45_000, 90_000, 90_000]
    assert line(v, "Mining and processing [USD]") == [0, 0, -10_000, -20_000, -20_000]


def test_working_capital_is_recovered_at_the_end() -> None:
    # receivables 36.5 days = 10 % of revenue: 9,000 built in 2032, released in 2034
    v = dc.evaluate(deal(working_capital={"receivable_days": 36.5}))
    assert line(v, "Working capital [USD]") == [0, 0, -9_000, 0, 9_000]
    assert sum(line(v, "Working capital [USD]")) == 0


def test_royalty_and_minimum_tax_with_credit() -> None:
    v = dc.evaluate(deal(fiscal__royalty_rate=0.05))
    assert line(v, "Royalty [USD]") == [0, 0, -4_500, -4_500, -4_500]
    # minimum tax 10 % of turnover = 9,000 a year; depreciation in one year leaves 2032 with a loss.
    # 2032: normal 0 < floor 9,000 -> pay 9,000, credit 9,000.
    # 2033: normal 0.3 x 40,000 = 12,000; credit usable down to the floor: 3,000 -> pay 9,000.
    # 2034: normal 21,000; remaining credit 6,000 -> pay 15,000. Total = normal total 33,000.
    m = dc.evaluate(deal(fiscal__depreciation_years=1, fiscal__minimum_tax_rate=0.10))
    assert line(m, "Income tax [USD]") == [0, 0, -9_000, -9_000, -15_000]
    assert sum(line(m, "Income tax [USD]")) == -33_000


def test_super_tax_applies_above_its_threshold() -> None:
    v = dc.evaluate(deal(fiscal__super_tax_rate=0.10, fiscal__super_tax_threshold_usd=50_000.0))
    # taxable 20,000, 20,000 (below) and 70,000 (above): 6,000, 6,000, 0.4 x 70,000
    assert line(v, "Income tax [USD]") == [0, 0, -6_000, -6_000, -28_000]


def test_tax_holiday_then_cap() -> None:
    v = dc.evaluate(deal(fiscal__holiday_years=2, fiscal__income_tax_cap_after_holiday=0.2))
    assert line(v, "Income tax [USD]") == [0, 0, 0, 0, -14_000]


def test_nsr_charges_for_a_concentrate() -> None:
    # 9 t metal in a 30 % concentrate = 30 dmt; 10 % moisture -> 33.33 wmt.
    # TC 100/dmt = 3,000; freight 30/wmt = 1,000; RC 50/t payable x 9 = 450.
    v = dc.evaluate(
        deal(
            streams__ore__concentrate_grade=0.3,
            streams__ore__moisture_fraction=0.1,
            streams__ore__treatment_charge_usd_per_dmt=100.0,
            streams__ore__freight_usd_per_wmt=30.0,
            streams__ore__refining_charge_usd_per_unit=50.0,
        )
    )
    assert line(v, "Selling charges (TC/RC, freight) [USD]") == [0, 0, -4_450, -4_450, -4_450]


def test_gold_in_ounces_and_nominal_escalation() -> None:
    data = copy.deepcopy(BASE)
    data["products"]["gold"] = {"unit": "oz"}
    data["price_decks"]["base"]["gold"] = 3_000.0
    data["streams"]["gold"] = {
        "phase": "mine",
        "product": "gold",
        "ore_tpa": 1_000.0,
        "grade_g_per_t": 31.1034768,
        "recovery": 1.0,
    }
    v = dc.evaluate(Deal.model_validate(data))
    assert line(v, "Revenue: gold [USD]") == [0, 0, 3_000_000, 3_000_000, 3_000_000]  # 1 oz/t
    data["valuation"].update({"basis": "nominal", "inflation_rate": 0.1, "discount_rate_basis": "nominal"})
    nominal = dc.evaluate(Deal.model_validate(data))
    # money of the valuation point (the start of 2030) escalated to the end of 2032, when the
    # year's flow is paid (timing: end): 3 years
    assert nominal.table()["Revenue: gold [USD]"].iloc[2] == pytest.approx(3_000_000 * 1.1**3)


def test_fisher_conversion_of_the_discount_rate() -> None:
    v = dc.evaluate(deal(valuation__discount_rate_basis="nominal", valuation__inflation_rate=0.05))
    assert v.discount_rate[0] == pytest.approx(1.10 / 1.05 - 1, rel=1e-12)


def test_gate_no_go_drops_the_phase() -> None:
    v = dc.evaluate(deal(phases__mine__gate={"go": False}))
    assert np.all(v.table()["After-tax cash flow [USD]"] == 0)


def test_price_path_by_year_holds_each_price_until_the_next() -> None:
    # 2030: 5,000 (covers earlier years), 2033: 20,000 -> 2032 at 5,000, 2033-34 at 20,000
    v = dc.evaluate(deal(price_decks={"base": {"metal": {2030: 5_000.0, 2033: 20_000.0}}}))
    assert line(v, "Revenue: ore [USD]") == [0, 0, 45_000, 180_000, 180_000]
