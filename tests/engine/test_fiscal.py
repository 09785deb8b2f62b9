"""engine/fiscal.py by hand: each allowance method and each kind of levy on hand-made inputs
(methodology §11).

References: a textbook declining-balance schedule worked by hand; IRS Publication 946, Appendix
A, Table A-1 (MACRS, half-year convention) as printed; the Alaska corporate income tax table of
AS 43.20.011(e) ("the tax is ... plus x % of the excess over ..."); the Yukon quartz mining
royalty ladder (yukon.ca); hand-worked losses, carry-back, refunds, arrears, holidays, credits
and percentage depletion. The simple regime (royalty, income tax with Pakistan's super tax,
minimum tax and ACT) keeps its own hand-worked cases at the end.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from dealcalc.engine.fiscal import allowance_kernel, class_allowances, levy_stack, straight_line
from dealcalc.engine.inputs import ClassInputs, DepletionInputs, FiscalInputs, LevyInputs

# ------------------------------------------------------------------------------------ helpers


def levy(name: str = "tax", **changes: Any) -> LevyInputs:
    """A levy on EBITDA at 30 %, same year, no losses kept."""
    base = LevyInputs(name=name, label=name, line="tax", collector="gov", terms=((1.0, "ebitda"),), rate=0.30)
    return replace(base, **changes)


def regime(*levies: LevyInputs, n: int, **changes: Any) -> FiscalInputs:
    base = FiscalInputs(
        levies=levies,
        classes={},
        depletion=None,
        write_off=n - 1,
        depreciation_start={},
        idc_years=10,
        simple=False,
    )
    return replace(base, **changes)


def rows(*values: list[float]) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def run(
    f: FiscalInputs, books: dict[str, Any] | None = None, limited: Any = None, **q: Any
) -> dict[str, Any]:
    shape = np.shape(next(v for v in q.values() if np.ndim(v) == 2))
    return levy_stack(f, q, books or {}, limited or {}, shape)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- allowance methods
def test_declining_balance_by_hand() -> None:
    # 20 % of what is left: 200, 160, 128, 102.4, and the 409.6 left written off in period 4
    c = ClassInputs("db", "declining_balance", rate=0.20)
    got = class_allowances(c, np.array([1000.0, 0, 0, 0, 0]), 4, (1, 5))
    assert got.tolist() == pytest.approx([200, 160, 128, 102.4, 409.6], rel=1e-14)
    # the balance lost instead: only the period's own claim (81.92)
    lost = class_allowances(replace(c, end="lost"), np.array([1000.0, 0, 0, 0, 0]), 4, (1, 5))
    assert lost.tolist() == pytest.approx([200, 160, 128, 102.4, 81.92], rel=1e-14)


def test_canada_half_year_rule_and_accelerated_investment_incentive() -> None:
    # class 41.2 at 25 %: the half-year rule claims 12.5 % in the first year, then 25 % of the
    # rest (21.875 %); the accelerated investment incentive (x 1.5) claims 37.5 %
    half = ClassInputs("c41", "declining_balance", rate=0.25, half_year=True, first_year=0.5)
    assert allowance_kernel(half, 3).tolist() == pytest.approx([0.125, 0.21875, 0.1640625], rel=1e-14)
    aii = ClassInputs("aii", "declining_balance", rate=0.25, first_year=1.5)
    assert allowance_kernel(aii, 2).tolist() == pytest.approx([0.375, 0.15625], rel=1e-14)


# IRS Publication 946 (2023), Appendix A, Table A-1: 3-, 5-, 7-, 10-, 15- and 20-year property,
# half-year convention, percent of basis by recovery year, as printed
TABLE_A1 = {
    3: [33.33, 44.45, 14.81, 7.41],
    5: [20.00, 32.00, 19.20, 11.52, 11.52, 5.76],
    7: [14.29, 24.49, 17.49, 12.49, 8.93, 8.92, 8.93, 4.46],
    10: [10.00, 18.00, 14.40, 11.52, 9.22, 7.37, 6.55, 6.55, 6.56, 6.55, 3.28],
    15: [5.00, 9.50, 8.55, 7.70, 6.93, 6.23, 5.90, 5.90, 5.91, 5.90, 5.91, 5.90, 5.91, 5.90, 5.91, 2.95],
    20: [
        *[3.750, 7.219, 6.677, 6.177, 5.713, 5.285, 4.888, 4.522, 4.462, 4.461, 4.462, 4.461, 4.462],
        *[4.461, 4.462, 4.461, 4.462, 4.461, 4.462, 4.461, 2.231],
    ],
}


@pytest.mark.parametrize("years", sorted(TABLE_A1))
def test_macrs_from_its_rules_matches_publication_946_table_a1(years: int) -> None:
    # 200 % declining balance (150 % for 15 and 20 years), half-year convention, switching to
    # straight line over the years left when that is larger
    factor = 1.5 if years >= 15 else 2.0
    c = ClassInputs(
        "macrs",
        "declining_balance",
        years=years,
        rate=factor / years,
        half_year=True,
        first_year=0.5,
        switch=True,
    )
    got = 100.0 * allowance_kernel(c, years + 3)
    printed = TABLE_A1[years]
    # the table is rounded (to 0.01, or 0.001 for 20 years), some years up and their neighbours
    # down so that each column sums to 100: a year may be off by up to one unit of rounding
    unit = 0.001 if years == 20 else 0.01
    np.testing.assert_allclose(got[: len(printed)], printed, atol=0.65 * unit)
    assert got[len(printed) :].sum() == pytest.approx(0.0, abs=1e-12)
    assert got.sum() == pytest.approx(100.0, rel=1e-12)


def test_sum_of_years_table_immediate_and_a_rate_a_year() -> None:
    syd = ClassInputs("syd", "sum_of_years", years=5)
    assert (150 * allowance_kernel(syd, 6)).tolist() == pytest.approx([50, 40, 30, 20, 10, 0], rel=1e-14)
    table = ClassInputs("t", "table", table=(0.5, 0.3, 0.2))
    assert allowance_kernel(table, 4).tolist() == [0.5, 0.3, 0.2, 0.0]
    assert allowance_kernel(ClassInputs("i", "immediate"), 3).tolist() == [1.0, 0.0, 0.0]
    assert allowance_kernel(ClassInputs("n", "none"), 3).tolist() == [0.0, 0.0, 0.0]
    # 15 % of cost a year (the Yukon royalty's allowance): six years of 15 %, then the 10 % left
    rate = allowance_kernel(ClassInputs("y", "straight_line", rate=0.15), 9)
    assert rate.tolist() == pytest.approx([0.15] * 6 + [0.10, 0.0, 0.0], rel=1e-12)


def test_a_bonus_is_expensed_and_the_rest_follows_the_method() -> None:
    c = ClassInputs("b", "straight_line", years=4, bonus=0.8)
    assert allowance_kernel(c, 5).tolist() == pytest.approx([0.85, 0.05, 0.05, 0.05, 0.0], rel=1e-14)


def test_units_of_production_follows_the_output_left() -> None:
    c = ClassInputs("u", "units_of_production")
    profile = np.array([0.0, 0.2, 0.3, 0.5])
    got = class_allowances(c, np.array([100.0, 0, 0, 0]), 3, (1, 4), profile)
    assert got.tolist() == pytest.approx([0, 20, 30, 50], rel=1e-14)
    # 60 more spent in period 2: it is written off over the output still to come (0.3 of 0.8)
    later = class_allowances(c, np.array([100.0, 0, 60, 0]), 3, (1, 4), profile)
    assert later.tolist() == pytest.approx([0, 20, 30 + 60 * 0.3 / 0.8, 50 + 60 * 0.5 / 0.8], rel=1e-14)


def test_costs_each_start_when_they_come_and_the_rest_goes_at_the_write_off() -> None:
    c = ClassInputs("s", "straight_line", years=4)
    # 100 in period 0 and 40 in period 2 over 4 years; write-off in period 3: 25, 25, 35, and
    # the 55 left (25 + 30) in period 3; 8 spent after the write-off is written off when spent
    got = class_allowances(c, np.array([100.0, 0, 40, 0, 8]), 3, (1, 5))
    assert got.tolist() == pytest.approx([25, 25, 35, 55, 8], rel=1e-14)
    assert got.sum() == pytest.approx(148.0)


def test_allowances_per_scenario_are_each_scenarios_own() -> None:
    c = ClassInputs("s", "straight_line", years=2)
    got = class_allowances(c, np.array([[100.0, 0, 0], [0.0, 60, 0]]), 2, (2, 3))
    assert got == pytest.approx(np.array([[50, 50, 0], [0, 30, 30]]), rel=1e-14)


def test_straight_line_writes_off_what_the_horizon_cuts_in_the_final_period() -> None:
    assert straight_line(100.0, 2, 4, 4, 5).tolist() == [0, 0, 25, 25, 50]
    assert straight_line(100.0, 1, 4, 4, 5).tolist() == [0, 25, 25, 25, 25]


def test_a_class_limited_to_income_claims_only_the_income_left() -> None:
    # a 100 % pool of 300 capped at income (Casino's initial capital): income 50, 100, 400 ->
    # claims 50, 100, 150; taxable 0, 0, 250
    pool = ClassInputs("a", "immediate", limited=True)
    tax = levy(terms=((1.0, "ebitda"), (-1.0, "allowances")))
    f = regime(tax, n=3, classes={"a": pool})
    r = run(f, limited={"tax": {"a": np.array([300.0, 0, 0])}}, ebitda=rows([50, 100, 400]))
    assert r["tax"].base.tolist() == [[0, 0, 250]]
    assert r["tax"].claimed["a"].tolist() == [[50, 100, 150]]
    assert r["tax"].accrued == pytest.approx(np.array([[0, 0, 75]]), rel=1e-14)


# ------------------------------------------------------------------------------------- levies
ALASKA = (  # AS 43.20.011(e): marginal brackets
    (0.0, 0.0),
    (25_000.0, 0.02),
    (49_000.0, 0.03),
    (74_000.0, 0.04),
    (99_000.0, 0.05),
    (124_000.0, 0.06),
    (148_000.0, 0.07),
    (173_000.0, 0.08),
    (198_000.0, 0.09),
    (222_000.0, 0.094),
)


def test_a_graduated_bracket_against_the_alaska_table() -> None:
    f = regime(levy(rate=None, brackets=ALASKA), n=5)
    income = rows([20_000, 60_000, 150_000, 222_000, 300_000])
    got = run(f, ebitda=income)["tax"].accrued[0]
    # the statute's own words: 480 + 3 % over 49,000; 4,920 + 7 % over 148,000; 10,830 at
    # 222,000; 10,830 + 9.4 % over 222,000 (= 9.4 % x income - 10,038)
    expected = [0, 480 + 0.03 * 11_000, 4_920 + 0.07 * 2_000, 10_830, 10_830 + 0.094 * 78_000]
    assert got.tolist() == pytest.approx(expected, rel=1e-12)
    assert got[4] == pytest.approx(0.094 * 300_000 - 10_038, rel=1e-12)


def test_the_yukon_royalty_ladder_above_35_million() -> None:
    ladder = tuple(
        zip(
            [0, 10e3, 1e6, 5e6, 10e6, 15e6, 20e6, 25e6, 30e6, 35e6],
            [0, 0.03, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12],
            strict=True,
        )
    )
    f = regime(levy(rate=None, brackets=ladder), n=1)
    got = run(f, ebitda=rows([40e6]))["tax"].accrued
    assert got[0, 0] == pytest.approx(0.12 * 40e6 - 1.4203e6, rel=1e-12)  # yukon.ca closed form


def test_a_slab_rate_takes_the_whole_base_at_the_highest_rate_reached() -> None:
    f = regime(levy(rate=None, brackets=((0.0, 0.29), (100.0, 0.39)), slab=True), n=3)
    got = run(f, ebitda=rows([100, 101, -5]))["tax"].accrued
    assert got == pytest.approx(np.array([[29, 0.39 * 101, 0]]), rel=1e-14)


def test_losses_against_at_most_80_percent_of_income() -> None:
    # US federal after 2017: a loss of 100 offsets at most 80 % of a later year's income
    f = regime(levy(rate=0.21, carry_forward=None, cap_fraction=0.8), n=3)
    r = run(f, ebitda=rows([-100, 50, 100]))["tax"]
    assert r.base.tolist() == [[0, 10, 40]]  # 50 - 40; 100 - the 60 left
    assert r.accrued == pytest.approx(np.array([[0, 2.1, 8.4]]), rel=1e-14)
    assert r.losses_carried.tolist() == [[100, 60, 0]]


def test_losses_kept_for_ever_and_losses_lost() -> None:
    forever = run(regime(levy(carry_forward=None), n=4), ebitda=rows([-100, -50, 0, 200]))["tax"]
    assert forever.base.tolist() == [[0, 0, 0, 50]]
    lost = run(regime(levy(carry_forward=0), n=4), ebitda=rows([-100, -50, 0, 200]))["tax"]
    assert lost.base.tolist() == [[0, 0, 0, 200]]


def test_a_loss_carried_back_refunds_the_tax_paid_most_recent_first() -> None:
    # 120 lost in period 2, carried back 2 years: 50 against period 1 (refund 15), 70 against
    # period 0 (refund 21): -36
    f = regime(levy(carry_back=2), n=3)
    r = run(f, ebitda=rows([100, 50, -120]))["tax"]
    assert r.accrued == pytest.approx(np.array([[30, 15, -36]]), rel=1e-14)
    # a loss bigger than what it can go back against carries the rest forward
    g = regime(levy(carry_back=1, carry_forward=5), n=4)
    r2 = run(g, ebitda=rows([100, 50, -120, 100]))["tax"]
    assert r2.accrued == pytest.approx(np.array([[30, 15, -15, 0.3 * (100 - 70)]]), rel=1e-14)


def test_a_refund_on_closure_spending_in_the_year() -> None:
    f = regime(levy(rate=0.27, refund=np.ones(2)), n=2)
    r = run(f, ebitda=rows([100, -40]))["tax"]
    assert r.accrued == pytest.approx(np.array([[27, -10.8]]), rel=1e-14)
    # refunded only from the closure (write-off) year: an earlier loss is carried forward
    closure = regime(levy(rate=0.27, refund=np.array([0.0, 0, 0, 1, 1]), carry_forward=20), n=5)
    r2 = run(closure, ebitda=rows([-10, 5, 100, -50, -60]))["tax"]
    assert r2.accrued == pytest.approx(np.array([[0, 0, 0.27 * 95, -13.5, -16.2]]), rel=1e-14)
    assert r2.losses_carried.tolist() == [[10, 5, 0, 0, 0]]


def test_tax_paid_a_year_in_arrears_and_in_instalments() -> None:
    arrears = run(regime(levy(rate=0.1, timing=(0.0, 1.0)), n=3), ebitda=rows([100, 200, 300]))["tax"]
    assert arrears.accrued == pytest.approx(np.array([[10, 20, 30]]), rel=1e-14)
    # the last year's tax, due after the horizon, is paid in the last period
    assert arrears.paid == pytest.approx(np.array([[0, 10, 50]]), rel=1e-14)
    halves = run(regime(levy(rate=0.1, timing=(0.5, 0.5)), n=3), ebitda=rows([100, 200, 300]))["tax"]
    assert halves.paid == pytest.approx(np.array([[5, 15, 40]]), rel=1e-14)
    assert halves.paid.sum() == pytest.approx(halves.accrued.sum())


def test_a_holiday_of_three_and_a_half_years_then_a_cap() -> None:
    exempt = np.array([0.0, 1, 1, 1, 0.5, 0])
    capped = np.array([0.0, 0, 0, 0, 1, 1])
    f = regime(levy(rate=0.30, holiday=exempt, cap=0.20, capped=capped), n=6)
    r = run(f, ebitda=rows([100] * 6))["tax"]
    # half of period 4 is exempt: 15, then capped at 20 % of 100; the cap applies to the half
    # taxed too: min(15, 20) = 15
    assert r.accrued == pytest.approx(np.array([[30, 0, 0, 0, 15, 20]]), rel=1e-14)


def test_a_levy_deductible_from_a_later_one_and_a_credit_against_another() -> None:
    duty = levy("duty", rate=0.075, deductible_from=("income",), credit_against=())
    income = levy("income", rate=0.30)
    f = regime(duty, income, n=2)
    r = run(f, ebitda=rows([100, 200]))
    assert r["duty"].accrued == pytest.approx(np.array([[7.5, 15]]), rel=1e-14)
    assert r["income"].accrued == pytest.approx(np.array([[0.3 * 92.5, 0.3 * 185]]), rel=1e-14)
    # credited instead: the duty paid comes off the income tax, what it cannot use is carried
    credit = replace(duty, rate=0.5, deductible_from=(), credit_against=("income",))
    r2 = run(regime(credit, income, n=2), ebitda=rows([100, 200]))
    # period 0: income tax 30 - credit 50 -> 0, 20 carried; period 1: 60 - (20 + 100) -> 0
    assert r2["income"].accrued == pytest.approx(np.array([[0, 0]]), abs=1e-12)
    r3 = run(regime(replace(credit, rate=0.1), income, n=2), ebitda=rows([100, 200]))
    assert r3["income"].accrued == pytest.approx(np.array([[20, 40]]), rel=1e-14)


def test_a_base_of_an_earlier_levy_and_of_named_quantities() -> None:
    royalty = levy("royalty", line="royalty", terms=((1.0, "revenue"),), rate=0.05)
    tax = levy("income", terms=((1.0, "ebitda"), (-1.0, "royalty"), (-0.5, "closure")), rate=0.3)
    r = run(regime(royalty, tax, n=1), revenue=rows([1000]), ebitda=rows([400]), closure=rows([40]))
    assert r["income"].accrued[0, 0] == pytest.approx(0.3 * (400 - 50 - 20), rel=1e-14)


def test_a_sliding_scale_on_price_steps_or_interpolates() -> None:
    steps = (np.array([0.0, 3.0, 4.0]), np.array([0.02, 0.04, 0.06]))
    step = levy(
        terms=((1.0, "revenue"),), rate=None, scale_on="price:copper", scale_x=steps[0], scale_rates=steps[1]
    )
    r = run(regime(step, n=3), revenue=rows([100, 100, 100]), **{"price:copper": rows([2.5, 3.5, 4.5])})
    assert r["tax"].accrued == pytest.approx(np.array([[2, 4, 6]]), rel=1e-14)
    linear = replace(step, scale_linear=True)
    r2 = run(regime(linear, n=3), revenue=rows([100, 100, 100]), **{"price:copper": rows([2.5, 3.5, 4.5])})
    # between the points the rate is interpolated (2.5 -> 2 % + 2.5/3 x 2 %); past the last, kept
    assert r2["tax"].accrued == pytest.approx(np.array([[2 + 2 * 2.5 / 3, 5, 6]]), rel=1e-14)


def test_a_sliding_scale_on_the_margin() -> None:
    scale = (np.array([0.0, 0.5]), np.array([0.1, 0.2]))
    m = levy(rate=None, scale_on="margin", scale_x=scale[0], scale_rates=scale[1])
    r = run(regime(m, n=2), revenue=rows([100, 100]), ebitda=rows([40, 60]))
    assert r["tax"].accrued == pytest.approx(np.array([[4, 12]]), rel=1e-14)  # margins 40 %, 60 %


def test_percentage_depletion_limited_to_half_the_income_and_cost_depletion() -> None:
    tax = levy(rate=0.21, terms=((1.0, "ebitda"), (-1.0, "depletion")))
    # gross income 1,000 of copper (15 %) = 150, limited to 50 % of the 200 before depletion
    d = DepletionInputs(percentage={"copper": 0.15}, limit=0.5, cost_basis=0.0)
    q = {
        "ebitda": rows([200, 1000]),
        "gross:copper": rows([1000, 1000]),
        "depletion_share": np.array([0.5, 0.5]),
    }
    r = run(regime(tax, n=2, depletion=d), **q)["tax"]
    assert r.base.tolist() == [[100, 850]]
    # cost depletion of a basis of 300 in step with the output (half a year): 150, when larger
    r2 = run(regime(tax, n=2, depletion=replace(d, cost_basis=300.0)), **q)["tax"]
    assert r2.base.tolist() == [[50, 850]]
    # royalties paid and the selling-charge lines come off gross income (lead at 22 %)
    both = DepletionInputs(percentage={"copper": 0.15, "lead": 0.22}, limit=1.0, cost_basis=0.0)
    q2 = {
        "ebitda": rows([900]),
        "gross:copper": rows([600]),
        "gross:lead": rows([400]),
        "charges:lines": rows([100]),
    }
    r3 = run(regime(tax, n=1, depletion=both), **q2)["tax"]
    assert r3.base[0, 0] == pytest.approx(900 - (0.15 * 540 + 0.22 * 360), rel=1e-14)


def test_rates_by_year_and_by_scenario() -> None:
    profit = rows([100, 100, 100], [50, 50, 50])
    by_year = run(regime(levy(rate=np.array([0.2, 0.3, 0.4])), n=3), ebitda=profit)["tax"]
    assert by_year.accrued == pytest.approx(np.array([[20, 30, 40], [10, 15, 20]]), rel=1e-15)
    per_scenario = run(regime(levy(rate=np.array([[0.1], [0.2]]), carry_forward=3), n=3), ebitda=profit)[
        "tax"
    ]
    assert per_scenario.accrued == pytest.approx(np.array([[10, 10, 10], [10, 10, 10]]), rel=1e-15)
    both = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]])
    cell = run(regime(levy(rate=both, carry_forward=3), n=3), ebitda=profit)["tax"]
    assert cell.accrued == pytest.approx(np.array([[10, 20, 30], [15, 10, 5]]), rel=1e-15)


# ------------------------------------------------------------- the simple regime as a stack
def simple(
    n: int,
    *,
    rate: Any = 0.30,
    super_rate: Any = 0.0,
    threshold: Any = 0.0,
    min_rate: float = 0.0,
    act: float = 0.0,
    loss_years: int = 5,
    holiday: np.ndarray | None = None,
    cap: float | None = None,
    capped: np.ndarray | None = None,
) -> FiscalInputs:
    """Income tax with super tax above a threshold (a slab), and the minimum tax or ACT floor
    topping it up, as the engine builds the simple regime."""
    tax = levy(
        "income_tax",
        rate=None,
        brackets=((0.0, rate), (threshold, rate + super_rate)),
        slab=True,
        carry_forward=loss_years,
        holiday=holiday,
        cap=cap,
        capped=capped,
    )
    floor = levy(
        "minimum_tax",
        rate=None,
        terms=(),
        alternatives=((((1.0, "turnover"),), min_rate), (((1.0, "ebitda"),), act)),
        tops_up=("income_tax",),
        holiday=holiday,
    )
    return regime(tax, floor, n=n)


def income_tax(f: FiscalInputs, profit: np.ndarray, turnover: np.ndarray) -> SimpleNamespace:
    r = run(f, ebitda=profit, turnover=turnover)
    return SimpleNamespace(
        tax=r["income_tax"].accrued + r["minimum_tax"].accrued,
        taxable_income=r["income_tax"].base,
        losses_carried=r["income_tax"].losses_carried,
        floor_tax=r["minimum_tax"].own,
    )


def test_losses_are_used_oldest_first_and_expire() -> None:
    profit = rows([-100, -50, 30, 100, 100])
    r = income_tax(simple(5, loss_years=2), profit, np.zeros_like(profit))
    # year 2 uses 30 of year 0's loss (oldest first), which then expires (usable in years 1-2);
    # year 3 uses year 1's 50 -> taxable 50; year 4: 100. (Newest first would leave 80 in year 3.)
    assert r.taxable_income.tolist() == [[0, 0, 0, 50, 100]]
    assert r.tax == pytest.approx(np.array([[0, 0, 0, 15, 30]]), rel=1e-15)
    assert r.losses_carried.tolist() == [[100, 150, 50, 0, 0]]


def test_a_loss_kept_one_year_expires_after_it() -> None:
    profit = rows([-100, 40, 100])
    r = income_tax(simple(3, loss_years=1), profit, np.zeros_like(profit))
    assert r.tax == pytest.approx(np.array([[0, 0, 30]]), rel=1e-15)
    assert r.losses_carried.tolist() == [[100, 0, 0]]
    kept = income_tax(simple(3, loss_years=5), profit, np.zeros_like(profit))
    assert kept.tax == pytest.approx(np.array([[0, 0, 12]]), rel=1e-15)
    none = income_tax(simple(3, loss_years=0), profit, np.zeros_like(profit))
    assert none.tax == pytest.approx(np.array([[0, 12, 30]]), rel=1e-15)


def test_super_tax_above_its_threshold_on_income_after_losses() -> None:
    f = simple(4, super_rate=0.10, threshold=100.0)
    profit = rows([50, 150, 100, 0], [-60, 150, 0, 0])
    r = income_tax(f, profit, np.zeros_like(profit))
    assert r.tax == pytest.approx(np.array([[15, 60, 30, 0], [0, 27, 0, 0]]), rel=1e-15)


def test_minimum_tax_floor_and_its_credit_used_only_down_to_the_floor() -> None:
    profit = rows([0, 50, 100, 200])
    turnover = rows([1000, 1000, 1000, 1000])
    r = income_tax(simple(4, min_rate=0.02), profit, turnover)
    # floor 20 a year; normal 0, 15, 30, 60: pay 20, 20, 20 (credit 10 used), 45 (credit 15)
    assert r.tax == pytest.approx(np.array([[20, 20, 20, 45]]), rel=1e-15)
    assert r.floor_tax == pytest.approx(np.array([[20, 20, 20, 20]]), rel=1e-15)
    assert r.tax.sum() == pytest.approx(0 + 15 + 30 + 60)


def test_alternative_tax_is_on_profit_before_losses_and_turnover_below_zero_is_none() -> None:
    profit = rows([-100, 100])
    r = income_tax(simple(2, act=0.17, min_rate=0.5), profit, rows([-50, 0]))
    assert r.tax == pytest.approx(np.array([[0, 17]]), rel=1e-15)


def test_holiday_then_cap() -> None:
    f = simple(
        5,
        super_rate=0.10,
        min_rate=0.01,
        cap=0.20,
        holiday=np.array([0.0, 1.0, 1.0, 0.0, 0.0]),
        capped=np.array([0.0, 0.0, 0.0, 1.0, 1.0]),
    )
    r = income_tax(f, rows([100, 100, 100, 100, 100]), rows([1000] * 5))
    assert r.tax == pytest.approx(np.array([[40, 0, 0, 20, 20]]), rel=1e-15)
    assert r.floor_tax == pytest.approx(np.array([[10, 0, 0, 10, 10]]), rel=1e-15)


def test_a_super_tax_threshold_by_year() -> None:
    f = simple(3, super_rate=0.1, threshold=np.array([80.0, 120.0, 120.0]))
    assert income_tax(f, rows([100, 100, 100]), np.zeros((1, 3))).tax == pytest.approx(
        np.array([[40, 30, 30]])
    )
