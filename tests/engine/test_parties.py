"""engine/parties.py by hand on hand-made FinanceInputs, TariffFlows and DebtFlows: the split of
the cash before state take among owners (one carried), lenders and governments, withholding at
the untaxed rate in a year with no tax, and an expropriation with compensation (methodology §16)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from dealcalc.engine.financing import DebtFlows, debt_stress
from dealcalc.engine.inputs import (
    EarnInInputs,
    FinanceInputs,
    LoanInputs,
    OwnerInputs,
    PreferredInputs,
    StressInputs,
)
from dealcalc.engine.parties import PartyFlows, party_flows, waterfall
from dealcalc.engine.trade import TariffFlows

PARTIES = ("a", "b", "lenders", "gov", "us_gov")
FINANCE = FinanceInputs(
    debt=(),
    owners=(OwnerInputs("a", 0.6, carried=False), OwnerInputs("b", 0.4, carried=True)),
    withholding=0.10,
    withholding_untaxed=0.20,
    host_government="gov",
    parties=PARTIES,
    roles={"a": "owner", "b": "owner", "lenders": "lenders", "gov": "government", "us_gov": "government"},
    discount_rates={},
    expropriated=0.0,
    compensation=0.0,
)

ZERO = np.zeros((1, 4))
DEBT = DebtFlows(
    draws=np.array([[60.0, 0, 0, 0]]),
    interest_paid=np.array([[0.0, 6, 4, 2]]),
    capitalised_interest=ZERO,
    principal=np.array([[0.0, 20, 20, 20]]),
    fees=np.array([[1.0, 0, 0, 0]]),
    balance=np.array([[60.0, 40, 20, 0]]),
    dscr=np.full((1, 4), np.nan),
    llcr=np.full((1, 4), np.nan),
    rate=np.array([[0.0, 0.1, 0.1, 0.1]]),
)
# the exporter bears 2 a year of the US duty through a lower price, (T,)
TARIFF = TariffFlows(
    borne_by_exporter=np.array([0.0, 2, 2, 2]), borne_by_government={"us_gov": np.array([0.0, 2, 2, 2])}
)


ROYALTY = np.array([[0.0, 5, 8, 8]])
UNLEVERED_TAX = np.array([[0.0, 0, 10, 10]])
LEVERED_TAX = np.array([[0.0, 0, 7, 9]])


def split(f: FinanceInputs = FINANCE, **changes: Any) -> PartyFlows:
    args: dict[str, Any] = {
        "after_tax": np.array([[-100.0, 50, 80, 80]]),
        "unlevered": {"gov": ROYALTY + UNLEVERED_TAX},
        "levered": {"gov": ROYALTY + LEVERED_TAX},
        "levered_tax": LEVERED_TAX,
        "tariff": TARIFF,
        "debt": DEBT,
    }
    return party_flows(f, **(args | changes))


# Hand-worked:
# pie = after-tax + royalty + unlevered tax + duty borne = -100, 57, 100, 100
# lenders = interest + principal + fees - draws = -59, 26, 24, 22
# to equity = after-tax + unlevered tax - levered tax - lenders = -41, 24, 59, 59
# withholding: 20 % where no tax is paid (years 0, 1), else 10 %: 0, 4.8, 5.9, 5.9
# paid out = 0, 19.2, 53.1, 53.1
PAID_OUT = np.array([0.0, 19.2, 53.1, 53.1])
A = 0.6 * PAID_OUT + np.array([-41.0, 0, 0, 0])  # a funds all of the injection (b is carried)
B = 0.4 * PAID_OUT
GOV = np.array([0.0, 5 + 0 + 4.8, 8 + 7 + 5.9, 8 + 9 + 5.9])  # royalty + levered tax + withholding


def test_each_party_by_hand() -> None:
    p = split()
    assert tuple(p.cash) == PARTIES
    assert p.pie[0] == pytest.approx(np.array([-100, 57, 100, 100]), rel=1e-15)
    assert p.dividends[0] == pytest.approx(np.array([0, 24, 59, 59]), rel=1e-15)
    assert p.withholding[0] == pytest.approx(np.array([0, 4.8, 5.9, 5.9]), rel=1e-14)
    assert p.cash["a"][0] == pytest.approx(A, rel=1e-14)
    assert p.cash["b"][0] == pytest.approx(B, rel=1e-14)
    assert p.cash["lenders"][0] == pytest.approx(np.array([-59, 26, 24, 22]), rel=1e-15)
    assert p.cash["gov"][0] == pytest.approx(GOV, rel=1e-14)
    assert p.cash["us_gov"][0] == pytest.approx(np.array([0, 2, 2, 2]), rel=1e-15)
    assert p.governments == ("gov", "us_gov")


def test_the_parties_add_up_to_the_pie_every_year() -> None:
    for f in (FINANCE, replace(FINANCE, expropriated=np.array([0.0, 0, 1, 1]), compensation=0.5)):
        p = split(f, book_value=np.array([[100.0, 90, 80, 70]]))
        total = sum(p.cash.values())
        assert total == pytest.approx(p.pie, rel=1e-14, abs=1e-12)


def test_a_carried_owner_pays_no_injections() -> None:
    p = split()
    assert p.cash["b"][0, 0] == 0.0  # the year of the -41 injection
    assert p.cash["a"][0, 0] == pytest.approx(-41.0, rel=1e-15)
    # with nobody carried, the injection is shared 60/40
    both = replace(FINANCE, owners=(OwnerInputs("a", 0.6, False), OwnerInputs("b", 0.4, False)))
    p2 = split(both)
    assert (p2.cash["a"][0, 0], p2.cash["b"][0, 0]) == pytest.approx((-41 * 0.6, -41 * 0.4), rel=1e-14)


def test_withholding_at_the_untaxed_rate_in_a_year_with_no_tax() -> None:
    # year 1 pays no levered tax: 20 % of 24; no untaxed rate set: 10 % every year
    assert split().withholding[0, 1] == pytest.approx(0.2 * 24, rel=1e-15)
    flat = split(replace(FINANCE, withholding_untaxed=None))
    assert flat.withholding[0] == pytest.approx(0.1 * np.array([0, 24, 59, 59]), rel=1e-14)


def test_expropriation_with_compensation() -> None:
    f = replace(FINANCE, expropriated=np.array([0.0, 0, 0.5, 0.5]), compensation=0.4)
    p = split(f, book_value=np.array([[100.0, 90, 80, 70]]))
    # half taken in year 2: compensation 0.4 x book value 80 x 0.5 newly taken = 16, paid by share
    # a: 0.5 x 31.86 + 0.6 x 16; b: 0.5 x 21.24 + 0.4 x 16; gov: 20.9 + 0.5 x (31.86 + 21.24) - 16
    assert p.cash["a"][0, 2] == pytest.approx(0.5 * A[2] + 0.6 * 16, rel=1e-14)
    assert p.cash["b"][0, 2] == pytest.approx(0.5 * B[2] + 0.4 * 16, rel=1e-14)
    assert p.cash["gov"][0, 2] == pytest.approx(GOV[2] + 0.5 * (A[2] + B[2]) - 16, rel=1e-14)
    # year 3: nothing newly taken, no compensation; the state keeps half the owners' cash
    assert p.cash["a"][0, 3] == pytest.approx(0.5 * A[3], rel=1e-14)
    assert p.cash["gov"][0, 3] == pytest.approx(GOV[3] + 0.5 * (A[3] + B[3]), rel=1e-14)
    # before it, nothing changes
    assert p.cash["a"][0, :2] == pytest.approx(A[:2], rel=1e-14)


def test_without_debt_there_are_no_lenders() -> None:
    p = split(debt=None)
    assert "lenders" not in p.cash
    # to equity = after-tax + unlevered - levered tax: -100, 50, 83, 81
    assert p.dividends[0] == pytest.approx(np.array([0, 50, 83, 81]), rel=1e-15)
    assert sum(p.cash.values()) == pytest.approx(p.pie, rel=1e-14)


def test_each_government_gets_the_levies_it_collects() -> None:
    # the royalty goes to a state ("us_gov" here, which also gets the duty it collects); the host
    # keeps the income tax and the withholding; nothing else moves
    p = split(
        unlevered={"gov": UNLEVERED_TAX, "us_gov": ROYALTY},
        levered={"gov": LEVERED_TAX, "us_gov": ROYALTY},
    )
    assert p.cash["us_gov"][0] == pytest.approx(ROYALTY[0] + np.array([0, 2, 2, 2]), rel=1e-15)
    assert p.cash["gov"][0] == pytest.approx(GOV - ROYALTY[0], rel=1e-14)
    assert p.cash["a"][0] == pytest.approx(A, rel=1e-14)
    assert sum(p.cash.values()) == pytest.approx(p.pie, rel=1e-14)


# --------------------------------------------------------------------------- debt under stress
STRESSED = replace(
    FINANCE,
    parties=(*PARTIES, "buyer", "dfi"),
    roles=FINANCE.roles | {"buyer": "buyer", "dfi": "guarantor"},
)


def stress_rules(**changes: Any) -> StressInputs:
    one = np.ones(1)
    base = StressInputs(
        dsra_months=0 * one,
        dsra_at_close=False,
        sweep_share=0 * one,
        sweep_when="always",
        sweep_dscr=0 * one,
        lockup_dscr=None,
        recourse=False,
        missed_payments=1,
        dscr_below=None,
        dscr_years=1,
        recovery=0.5 * one,
        support_usd=0 * one,
        support_until=0,
        guarantee_share=0.5 * one,
    )
    return replace(base, **changes)


def test_on_default_the_owners_lose_the_equity_and_the_buyer_takes_the_project() -> None:
    # after-tax -100, 10, 80, 80 (capex 100 in year 0): CFADS 0, 10, 80, 80. Year 1: 26 due,
    # 10 paid, 16 missed: default. Outstanding 40 + 16 = 56; the buyer pays 50 % (28); the
    # guarantor half the loss (14). Cash to capital providers: -100, 10, 83, 81.
    after_tax = np.array([[-100.0, 10, 80, 80]])
    cfads = np.array([[0.0, 10, 80, 80]])
    stress = debt_stress(DEBT, cfads, stress_rules(), 1.0)
    p = split(STRESSED, after_tax=after_tax, stress=stress)
    assert p.cash["lenders"][0] == pytest.approx(np.array([-59, 10 + 28 + 14, 0, 0]), rel=1e-14)
    assert p.cash["buyer"][0] == pytest.approx(np.array([0, -28, 83, 81]), rel=1e-14)
    assert p.cash["dfi"][0] == pytest.approx(np.array([0, -14, 0, 0]), rel=1e-14)
    # the owners fund their share of the capex, then receive nothing
    assert p.cash["a"][0] == pytest.approx(np.array([-41, 0, 0, 0]), rel=1e-14, abs=1e-12)
    assert (p.cash["b"][0] == 0).all()
    assert p.dividends[0, 1:].tolist() == [0, 0, 0]
    assert sum(p.cash.values()) == pytest.approx(p.pie, rel=1e-14, abs=1e-12)


def test_with_reserves_the_parties_and_the_reserve_accounts_add_up_to_the_pie() -> None:
    # a DSRA and a lock-up, no default: the reserve accounts hold cash some years, and each
    # year the parties' cash plus what is put into them is the pie; over the life they are nil
    after_tax = np.array([[-100.0, 27, 80, 80]])
    cfads = np.array([[0.0, 27, 80, 80]])
    r = stress_rules(dsra_months=np.array([6.0]), lockup_dscr=np.array([1.5]))
    stress = debt_stress(DEBT, cfads, r, 1.0)
    p = split(STRESSED, after_tax=after_tax, stress=stress)
    assert p.reserves is not None and p.reserves.any()
    assert sum(p.cash.values()) + p.reserves == pytest.approx(p.pie, rel=1e-14, abs=1e-12)
    assert p.reserves.sum() == pytest.approx(0.0, abs=1e-12)
    assert not stress.defaulted.any()
    assert (p.cash["buyer"] == 0).all() and (p.cash["dfi"] == 0).all()


def test_a_guarantee_of_share_g_cuts_the_lenders_loss_by_g_and_the_guarantor_pays_it() -> None:
    after_tax = np.array([[-100.0, 10, 80, 80]])
    cfads = np.array([[0.0, 10, 80, 80]])
    for g in (0.0, 0.3, 1.0):
        stress = debt_stress(DEBT, cfads, stress_rules(guarantee_share=np.array([g])), 1.0)
        bare = debt_stress(DEBT, cfads, stress_rules(guarantee_share=np.array([0.0])), 1.0)
        p = split(STRESSED, after_tax=after_tax, stress=stress)
        assert stress.loss.sum() == pytest.approx((1 - g) * bare.loss.sum(), rel=1e-14, abs=1e-12)
        assert -p.cash["dfi"].sum() == pytest.approx(g * bare.loss.sum(), rel=1e-14, abs=1e-12)
        assert sum(p.cash.values()) == pytest.approx(p.pie, rel=1e-14, abs=1e-12)


# --- stakes that change: the waterfall (docs/methodology.md, "Stakes that change") -------------


def _stakes(owners: tuple[OwnerInputs, ...], **terms: Any) -> FinanceInputs:
    names = tuple(o.name for o in owners)
    extra = tuple(p.holder for p in terms.get("preferred", ()))
    parties = (*names, "gov", *extra)
    roles = {**{n: "owner" for n in names}, "gov": "government", **{p: "investor" for p in extra}}
    return FinanceInputs((), owners, 0.0, None, "gov", parties, roles, {}, 0.0, 0.0, **terms)


def _one(x: float, s: int = 1) -> np.ndarray:
    return np.full(s, x)


def test_shares_by_period_split_each_year_by_that_year_share() -> None:
    a = np.array([0.5, 0.5, 0.6, 0.6])
    f = replace(FINANCE, owners=(OwnerInputs("a", a, False), OwnerInputs("b", 1.0 - a, False)))
    got = split(f)
    owners = got.cash["a"] + got.cash["b"]
    np.testing.assert_allclose(got.cash["a"], a * owners)


def test_a_free_carried_part_funds_nothing() -> None:
    # a holds 0.75 and funds it; b holds 0.25 of which 0.10 free-carried: funds 0.15
    f = _stakes((OwnerInputs("a", 0.75, False), OwnerInputs("b", 0.25, False, funded=0.15)))
    w = waterfall(f, np.array([[-90.0, 40.0]]))
    np.testing.assert_allclose(w.owners["a"], [[-75.0, 30.0]])
    np.testing.assert_allclose(w.owners["b"], [[-15.0, 10.0]])


def test_an_earn_in_by_funds_counts_from_the_year_the_amount_is_reached() -> None:
    # b (0.4) earns 0.2 from a once it has injected 16: 8 in 2026, 8 more in 2027 (at 0.4, the
    # shares before that year's earn-in); from 2027 it holds 0.6 and funds 0.6 of 2028's 20
    earn = EarnInInputs("b", "a", _one(0.2), _one(16.0), None)
    f = _stakes((OwnerInputs("a", 0.6, False), OwnerInputs("b", 0.4, False)), earn_in=(earn,))
    w = waterfall(f, np.array([[-20.0, -20, -20, 50, 50]]))
    np.testing.assert_allclose(w.shares["b"], [[0.4, 0.6, 0.6, 0.6, 0.6]])
    np.testing.assert_allclose(w.shares["a"] + w.shares["b"], 1.0)
    np.testing.assert_allclose(w.owners["b"], [[-8.0, -8, -12, 30, 30]])
    np.testing.assert_allclose(w.owners["a"], [[-12.0, -12, -8, 20, 20]])


def test_an_earn_in_at_a_milestone_counts_from_the_milestone_year() -> None:
    earn = EarnInInputs("b", "a", _one(0.2), None, 3)
    f = _stakes((OwnerInputs("a", 0.6, False), OwnerInputs("b", 0.4, False)), earn_in=(earn,))
    w = waterfall(f, np.array([[-20.0, -20, -20, 50, 50]]))
    np.testing.assert_allclose(w.shares["b"], [[0.4, 0.4, 0.4, 0.6, 0.6]])
    np.testing.assert_allclose(w.owners["b"], [[-8.0, -8, -8, 30, 30]])


def test_an_earn_in_is_reached_in_each_scenario_s_own_year() -> None:
    earn = EarnInInputs("b", "a", _one(0.2, 3), np.array([8.0, 16.0, 1000.0]), None)
    f = _stakes((OwnerInputs("a", 0.6, False), OwnerInputs("b", 0.4, False)), earn_in=(earn,))
    w = waterfall(f, np.tile([-20.0, -20, -20, 50, 50], (3, 1)))
    np.testing.assert_allclose(w.shares["b"][:, 0], [0.6, 0.4, 0.4])
    np.testing.assert_allclose(w.shares["b"][:, 1], [0.6, 0.6, 0.4])
    np.testing.assert_allclose(w.shares["b"][:, -1], [0.6, 0.6, 0.4])


def test_the_preferred_coupon_accrues_unpaid_then_is_paid_before_common() -> None:
    # 100 paid in at t0 at a 10 % coupon, redeemed from t4: t1 10 accrues; t2 5 of 20 paid;
    # t3 the 25 owed is paid, 25 left to the owner; t4 the coupon 10, the par 100, 90 to common
    pref = PreferredInputs("p", _one(100.0), 0, _one(0.1), _one(0.0), 4)
    f = _stakes((OwnerInputs("a", 1.0, False),), preferred=(pref,))
    w = waterfall(f, np.array([[-100.0, 0, 5, 50, 200]]))
    np.testing.assert_allclose(w.others["p"], [[-100.0, 0, 5, 25, 110]])
    np.testing.assert_allclose(w.owners["a"], [[0.0, 0, 0, 25, 90]])


def test_preferred_is_redeemed_from_its_year_as_cash_allows_and_takes_its_upside_share() -> None:
    # redeemed from t2: 40 of the 100 there (the coupon 10 first), the rest at t3 with the
    # coupon on 60; 10 % of the common distribution to the holder from t0
    pref = PreferredInputs("p", _one(100.0), 0, _one(0.1), _one(0.1), 2)
    f = _stakes((OwnerInputs("a", 1.0, False),), preferred=(pref,))
    w = waterfall(f, np.array([[-100.0, 20, 50, 200]]))
    np.testing.assert_allclose(w.others["p"], [[-100.0, 10 + 1, 50, 66 + 13.4]])
    np.testing.assert_allclose(w.owners["a"], [[0.0, 9, 0, 120.6]])


def test_a_shareholder_loan_is_repaid_with_interest_before_common_dividends() -> None:
    # 50 lent by a at t0 at 10 %: t1 owes 55, 30 paid; t2 owes 27.5, paid, 12.5 to common
    loan = LoanInputs("a", _one(50.0), 0, _one(0.1))
    f = _stakes((OwnerInputs("a", 0.5, False), OwnerInputs("b", 0.5, False)), loans=(loan,))
    w = waterfall(f, np.array([[-50.0, 30, 40, 10]]))
    np.testing.assert_allclose(w.others["a"], [[-50.0, 30, 27.5, 0]])
    np.testing.assert_allclose(w.owners["a"], [[0.0, 0, 6.25, 5]])
    np.testing.assert_allclose(w.owners["b"], [[0.0, 0, 6.25, 5]])


def test_with_a_waterfall_the_parties_still_add_up_to_the_pie() -> None:
    pref = PreferredInputs("p", _one(30.0), 1, _one(0.08), _one(0.1), 3)
    loan = LoanInputs("a", _one(20.0), 0, _one(0.1))
    earn = EarnInInputs("b", "a", _one(0.2), _one(5.0), None)
    f = replace(
        FINANCE,
        parties=(*PARTIES, "p"),
        roles={**FINANCE.roles, "p": "investor"},
        preferred=(pref,),
        loans=(loan,),
        earn_in=(earn,),
    )
    got = split(f)
    np.testing.assert_allclose(sum(got.cash.values()), got.pie)
    base = split()
    np.testing.assert_allclose(sum(got.cash.values()), sum(base.cash.values()))
    assert got.shares is not None
