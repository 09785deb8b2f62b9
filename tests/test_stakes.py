"""Stakes that change (docs/methodology.md, "Stakes that change"): shares by period, earn-ins by
funds and at a milestone, free-carried and funded stakes, preferred equity and shareholder
loans down the waterfall, on the bundled deal and on the waterfall kernel. The hand-worked
kernel cases are in tests/engine/test_parties.py."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import dealcalc as dc
from dealcalc.engine.inputs import EarnInInputs, FinanceInputs, OwnerInputs
from dealcalc.engine.parties import waterfall
from dealcalc.errors import InputError
from dealcalc.params import with_changes

DEAL = dc.load(dc.example_path("ussm-fwo"))
OWNERS = ("ussm", "fwo")
TERMS: dict[str, Any] = {
    "finance.earn_in": {"ussm": {"from": "fwo", "stake": 0.1, "funds_usd": 60e6}},
    "finance.preferred": {
        "us_government": {"amount_usd": 40e6, "year": 2027, "coupon": 0.08, "upside_share": 0.1}
    },
    "finance.shareholder_loans": {"fwo": {"amount_usd": 20e6, "year": 2027, "rate": 0.08}},
}


def cash(v: dc.Valuation) -> dict[str, np.ndarray]:
    ledger = v.parties
    assert ledger is not None
    return {p: ledger.line(f"party:{p}") for p in v.deal.party_names()}


def total(v: dc.Valuation) -> np.ndarray:
    return np.asarray(sum(cash(v).values()))


def test_none_of_the_terms_leaves_every_number_as_it_was() -> None:
    assert not DEAL.finance.waterfall and DEAL.finance.free_carried == {}
    assert DEAL.party_names() == ["ussm", "fwo", "lenders", "government_of_pakistan", "us_government"]


def test_shares_by_period_must_sum_to_one_in_every_year_named() -> None:
    with pytest.raises(InputError, match=r"in 2030, they sum to 1\.1"):
        with_changes(DEAL, {"finance.equity.ussm.share": {2026: 0.5, 2030: 0.6}})


def test_shares_by_period_split_the_owners_cash_by_the_year_share() -> None:
    changed = with_changes(
        DEAL,
        {
            "finance.equity.ussm.share": {2026: 0.5, 2034: 0.7},
            "finance.equity.fwo.share": {2026: 0.5, 2034: 0.3},
        },
    )
    got = cash(dc.evaluate(changed, keep_ledger=True))
    owners = got["ussm"] + got["fwo"]
    years = changed.periods.labels
    share = np.where(np.asarray(years) >= 2034, 0.7, 0.5)
    np.testing.assert_allclose(got["ussm"], share * owners, rtol=1e-9, atol=1e-6)
    assert changed.finance.equity["ussm"].share == 0.5  # the share of the first year given


def test_provincial_stake_funds_15_and_is_carried_for_10() -> None:
    v = dc.evaluate(DEAL, "provincial_stake", keep_ledger=True)
    deal = v.deal
    assert deal.party_role("balochistan") == "owner"
    got = cash(v)
    injecting = got["ussm"] < 0
    # in a year of injections the province pays 15/75 of the 37.5 % USSM pays
    np.testing.assert_allclose(got["balochistan"][injecting], got["ussm"][injecting] * 0.15 / 0.375)
    paying = got["ussm"] > 0
    np.testing.assert_allclose(got["balochistan"][paying], got["ussm"][paying] * 0.25 / 0.375)
    base = dc.evaluate(DEAL, keep_ledger=True)
    # the province's dividends are its own: the host government's cash is unchanged
    np.testing.assert_allclose(got["government_of_pakistan"], cash(base)["government_of_pakistan"])
    np.testing.assert_allclose(total(v), total(base))


def test_the_waterfall_moves_cash_among_the_parties_and_changes_no_total() -> None:
    changed = with_changes(DEAL, TERMS)
    assert changed.finance.waterfall
    for scenario in (None, "capex_overrun_60", "lenders_protected", "low_prices"):
        v = dc.evaluate(changed, scenario, keep_ledger=True)
        base = dc.evaluate(DEAL, scenario, keep_ledger=True)
        np.testing.assert_allclose(total(v), total(base), rtol=1e-9, atol=1e-3)


def test_the_preferred_holder_pays_in_then_receives_its_coupon_and_par() -> None:
    changed = with_changes(DEAL, {"finance.preferred": TERMS["finance.preferred"]})
    base, v = dc.evaluate(DEAL, keep_ledger=True), dc.evaluate(changed, keep_ledger=True)
    own = cash(v)["us_government"] - cash(base)["us_government"]
    at = list(DEAL.periods.labels).index(2027)
    assert own[0, at] == pytest.approx(-40e6)
    # it gets back at least its par and each year's coupon over the life (the deal pays out)
    years_held = DEAL.periods.size - 1 - at
    assert own[0, at + 1 :].sum() >= 40e6 * (1 + 0.08 * years_held) - 1e-3


def test_an_earn_in_at_a_milestone_counts_from_the_refinery_s_first_output() -> None:
    changed = with_changes(
        DEAL, {"finance.earn_in": {"ussm": {"from": "fwo", "stake": 0.1, "at_first_output_of": "refinery"}}}
    )
    got = cash(dc.evaluate(changed, keep_ledger=True))
    first = DEAL.first_production("refinery")
    owners = got["ussm"] + got["fwo"]
    np.testing.assert_allclose(got["ussm"][:, first:], 0.6 * owners[:, first:], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(got["ussm"][:, :first], 0.5 * owners[:, :first], rtol=1e-9, atol=1e-6)


def test_scenarios_by_override_equal_each_scenario_alone() -> None:
    changed = with_changes(DEAL, TERMS)
    amounts = np.array([20e6, 60e6, 80e6, 1e12])
    together = dc.evaluate(changed, overrides={"finance.earn_in.ussm.funds_usd": amounts})
    for k, amount in enumerate(amounts):
        alone = dc.evaluate(changed, overrides={"finance.earn_in.ussm.funds_usd": np.array([amount])})
        for party in changed.party_names():
            key = f"{party}.npv_usd"
            assert together.values[key][k] == pytest.approx(alone.values[key][0], rel=1e-12, abs=1e-6)
    # the amounts reached early give USSM more than the one never reached
    assert together.values["ussm.npv_usd"][0] > together.values["ussm.npv_usd"][-1]


def _earned(funds: float, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The year each path's earn-in is reached (T if never) and the final share."""
    s = paths.shape[0]
    earn = EarnInInputs("b", "a", np.full(s, 0.2), np.full(s, funds), None)
    owners = (OwnerInputs("a", 0.6, False), OwnerInputs("b", 0.4, False))
    f = FinanceInputs((), owners, 0.0, None, "g", ("a", "b", "g"), {}, {}, 0.0, 0.0, earn_in=(earn,))
    shares = waterfall(f, paths).shares["b"]
    risen = shares > 0.4 + 1e-12
    year = np.where(risen.any(axis=1), risen.argmax(axis=1), paths.shape[1])
    return year, shares[:, -1]


def test_a_larger_earn_in_amount_is_reached_no_earlier_for_the_same_stake() -> None:
    # what is true of a larger amount: the stake, once reached, is the same; it is reached in
    # the same year or later (never earlier); so the earning partner's share in any year is
    # never higher with a larger amount (the "never lowers the stake" holds only for
    # the stake at the end, and only where both amounts are reached)
    rng = np.random.default_rng(22)
    paths = rng.normal(-5.0, 10.0, size=(200, 12))
    amounts = [0.0, 5.0, 10.0, 20.0, 40.0, 1e9]
    results = [_earned(a, paths) for a in amounts]
    for (year_small, end_small), (year_large, end_large) in itertools.pairwise(results):
        assert np.all(year_large >= year_small)
        reached = year_large < paths.shape[1]
        np.testing.assert_allclose(end_large[reached], end_small[reached])
        np.testing.assert_allclose(end_small[reached], 0.6)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"finance.earn_in": {"ussm": {"from": "fwo", "stake": 0.1}}}, "exactly one of funds_usd"),
        (
            {"finance.earn_in": {"ussm": {"from": "nobody", "stake": 0.1, "funds_usd": 1.0}}},
            "is not an owner",
        ),
        (
            {"finance.earn_in": {"ussm": {"from": "fwo", "stake": 0.6, "funds_usd": 1.0}}},
            "is more than 'fwo' holds",
        ),
        ({"finance.free_carried": {"fwo": 0.6}}, "more than its share"),
        (
            {"finance.shareholder_loans": {"x": {"amount_usd": 1.0, "year": 2027, "rate": 0.1}}},
            "is not an owner",
        ),
        (
            {"finance.preferred": {"lenders": {"amount_usd": 1.0, "year": 2027, "coupon": 0.1}}},
            "the holder of preferred equity",
        ),
        (
            {"finance.preferred": {"x": {"amount_usd": 1.0, "year": 2090, "coupon": 0.1}}},
            "is not one of the periods",
        ),
    ],
)
def test_bad_terms_are_input_errors(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        with_changes(DEAL, changes)


def test_a_workbook_of_a_deal_with_these_terms_writes_the_parties_as_values() -> None:
    from dealcalc.report.excel import _unwritten_terms

    assert _unwritten_terms(with_changes(DEAL, TERMS).finance) == [
        "finance.earn_in",
        "finance.preferred",
        "finance.shareholder_loans",
    ]
    assert _unwritten_terms(dc.evaluate(DEAL, "provincial_stake").deal.finance) == ["finance.free_carried"]
