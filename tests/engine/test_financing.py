"""engine/financing.py against numpy-financial and by hand: the repayment profiles, and one loan
sized by a share of capex (interest capitalised while drawing, grace, annuity repayment that
clears the balance, fees), the lenders' cash, DSCR and LLCR (methodology §14)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy_financial as npf
import pytest

from dealcalc.engine.financing import debt_flows, repayment_profile
from dealcalc.engine.inputs import DebtInputs


def test_annuity_profile_is_numpy_financial_pmt() -> None:
    level = -npf.pmt(0.08, 5, 1.0)  # the level payment on 1 borrowed
    assert repayment_profile("annuity", 0.08, 5) == pytest.approx(np.full(5, level), rel=1e-14)
    per_scenario = repayment_profile("annuity", np.array([0.05, 0.10]), 3)
    assert per_scenario.shape == (2, 3)
    assert per_scenario[0] == pytest.approx(np.full(3, -npf.pmt(0.05, 3, 1.0)), rel=1e-14)
    assert per_scenario[1] == pytest.approx(np.full(3, -npf.pmt(0.10, 3, 1.0)), rel=1e-14)
    assert repayment_profile("annuity", 0.0, 4).tolist() == [0.25] * 4  # no interest: 1/n


def test_linear_profile_by_hand() -> None:
    # 1/5 of principal plus 6 % on the balance at the start of each year (1, 0.8, ... 0.2)
    expected = [0.2 + 0.06 * b for b in (1.0, 0.8, 0.6, 0.4, 0.2)]
    assert repayment_profile("linear", 0.06, 5) == pytest.approx(np.array(expected), rel=1e-14)


@pytest.mark.parametrize("kind", ["annuity", "linear"])
def test_the_service_repays_exactly_what_was_borrowed(kind: str) -> None:
    # the PV of the service at the loan rate is the 1 borrowed
    service = repayment_profile(kind, 0.07, 6)
    assert (service / 1.07 ** np.arange(1, 7)).sum() == pytest.approx(1.0, rel=1e-14)


def loan(**changes: Any) -> DebtInputs:
    """Half the capex at 10 %, one year of grace, then a 3-year annuity; a 2 % upfront fee."""
    base = DebtInputs(
        name="loan",
        phases=("mine",),
        rate=np.array([0.10]),
        share_of_capex=np.array([0.5]),
        target_dscr=None,
        grace_years=1,
        tenor_years=3,
        repayment="annuity",
        upfront_fee=np.array([0.02]),
    )
    return replace(base, **changes)


CAPEX = {"mine": np.array([100.0, 200.0, 0, 0, 0, 0, 0, 0])}
DRAWN = {"mine": np.array([1.0, 1.0, 0, 0, 0, 0, 0, 0])}
CFADS = np.array([[0.0, 0.0, 50.0, 80.0, 80.0, 80.0, 80.0, 80.0]])


def test_one_loan_drawn_with_capitalised_interest_grace_and_annuity() -> None:
    d = debt_flows((loan(),), CAPEX, DRAWN, CFADS, 1.0)
    # draws: half of 100 and 200; 10 % on the opening balance capitalised while drawing:
    # period 0: 50; period 1: 50 x 1.1 + 100 = 155
    assert d.draws.tolist() == [[50, 100, 0, 0, 0, 0, 0, 0]]
    assert d.capitalised_interest == pytest.approx(np.array([[0, 5, 0, 0, 0, 0, 0, 0]]), rel=1e-15)
    assert d.fees == pytest.approx(np.array([[3, 0, 0, 0, 0, 0, 0, 0]]), rel=1e-15)  # 2 % x 150
    # grace in period 2: interest 15.5 paid, nothing repaid; then a 3-year annuity on 155
    per = np.arange(1, 4)
    interest = -npf.ipmt(0.1, per, 3, 155.0)
    principal = -npf.ppmt(0.1, per, 3, 155.0)
    assert d.interest_paid[0] == pytest.approx(np.array([0, 0, 15.5, *interest, 0, 0]), rel=1e-12)
    assert d.principal[0] == pytest.approx(np.array([0, 0, 0, *principal, 0, 0]), abs=1e-9)
    assert d.principal.sum() == pytest.approx(155.0, rel=1e-14)  # draws + capitalised interest
    assert d.balance[0, 5:] == pytest.approx(np.zeros(3), abs=1e-9)  # cleared at the end of its tenor
    assert d.balance[0, :3] == pytest.approx(np.array([50, 155, 155]), rel=1e-15)


def test_lenders_cash_and_dscr() -> None:
    d = debt_flows((loan(),), CAPEX, DRAWN, CFADS, 1.0)
    service = -npf.pmt(0.1, 3, 155.0)  # 62.33 a year
    # lenders: -50 + fee 3, -100, interest 15.5, then three annuity payments
    expected = [-47, -100, 15.5, service, service, service, 0, 0]
    assert d.lenders_cash[0] == pytest.approx(np.array(expected), rel=1e-12, abs=1e-9)
    # DSCR = CFADS / (interest + principal), NaN where nothing is due
    assert np.isnan(d.dscr[0, [0, 1, 6, 7]]).all()
    assert d.dscr[0, 2] == pytest.approx(50 / 15.5, rel=1e-14)
    assert d.dscr[0, 3:6] == pytest.approx(np.full(3, 80 / service), rel=1e-12)
    # LLCR at the first repayment: PV at 10 % of the CFADS of the three repayment years / 155
    pv = sum(80 / 1.1**k for k in (1, 2, 3))
    assert d.llcr[0, 3] == pytest.approx(pv / 155, rel=1e-12)


def test_linear_repayment_without_grace() -> None:
    d = debt_flows((loan(grace_years=0, repayment="linear"),), CAPEX, DRAWN, CFADS, 1.0)
    # repayment from period 2: 155 / 3 a year, interest on the declining balance
    third = 155 / 3
    assert d.principal[0, 2:5] == pytest.approx(np.full(3, third), rel=1e-14)
    assert d.interest_paid[0, 2:5] == pytest.approx(0.1 * np.array([155, 2 * third, third]), rel=1e-14)
    assert d.balance[0, 4] == pytest.approx(0.0, abs=1e-12)


def test_a_tenor_past_the_horizon_is_repaid_by_the_final_period() -> None:
    d = debt_flows((loan(tenor_years=20),), CAPEX, DRAWN, CFADS, 1.0)
    # repayment starts in period 3, five periods remain: the balance is nil at the end
    assert d.balance[0, -1] == pytest.approx(0.0, abs=1e-9)
    assert d.principal.sum() == pytest.approx(155.0, rel=1e-14)


def test_a_real_deal_runs_its_loan_in_money_of_the_day() -> None:
    # capex 100 (real) in period 1 with 10 % inflation is 110 nominal; half of it drawn; it is
    # repaid in one year (tenor 1) with 10 % interest: 55 x 1.1 = 60.5 nominal in period 2,
    # which is 60.5 / 1.21 in the deal's real money
    nominal = 1.1 ** np.arange(3)
    d = debt_flows(
        (loan(grace_years=0, tenor_years=1),),
        {"mine": np.array([0.0, 100.0, 0.0])},
        {"mine": np.array([0.0, 1.0, 0.0])},
        np.zeros((1, 3)),
        nominal,
    )
    assert d.draws[0] == pytest.approx(np.array([0, 50, 0]), rel=1e-15)
    assert d.principal[0, 2] + d.interest_paid[0, 2] == pytest.approx(60.5 / 1.21, rel=1e-14)
