"""Invariants of the fiscal stack on generated deals: a real valuation is the nominal one, a
higher rate never raises after-tax value, a holiday never lowers it, and the governments'
levies are the ledger's levy lines (methodology §8, §11)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dealcalc as dc
from dealcalc.engine import lines as L
from dealcalc.params import with_changes
from dealcalc.strategies import deals

# each example values whole deals: a twentieth of the profile's examples (10 in CI, 250 nightly)
SLOW = settings(deadline=None, max_examples=max(10, settings.default.max_examples // 20))


@SLOW
@given(deals(), st.floats(0.0, 0.12), st.sampled_from(["real", "nominal"]))
def test_a_real_valuation_is_the_nominal_one(deal: dc.Deal, inflation: float, stated: str) -> None:
    # the same deal valued in real terms at the Fisher rate and in nominal terms: the same NPV,
    # and (1 + IRR nominal) = (1 + IRR real)(1 + inflation)
    changes = {"valuation.inflation_rate": inflation, "valuation.discount_rate_basis": stated}
    real = dc.evaluate(
        with_changes(deal, {**changes, "valuation.basis": "real"}),
        metrics=["npv_usd", "irr", "pre_tax_npv_usd"],
    )
    nominal = dc.evaluate(
        with_changes(deal, {**changes, "valuation.basis": "nominal"}),
        metrics=["npv_usd", "irr", "pre_tax_npv_usd"],
    )
    for m in ("npv_usd", "pre_tax_npv_usd"):
        a, b = real.values[m][0], nominal.values[m][0]
        assert abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0), m
    r, n = real.irr[0], nominal.irr[0]
    assert np.isnan(r) == np.isnan(n)
    if not np.isnan(r):
        assert (1.0 + n) == np.float64((1.0 + r) * (1.0 + inflation)) or abs(
            (1.0 + n) - (1.0 + r) * (1.0 + inflation)
        ) <= 1e-9 * (1.0 + abs(n))


@SLOW
@given(deals(), st.floats(0.0, 0.3), st.floats(0.0, 0.3))
def test_a_higher_rate_never_raises_after_tax_value(deal: dc.Deal, low: float, step: float) -> None:
    for field in ("fiscal.income_tax_rate", "fiscal.royalty_rate"):
        v = dc.evaluate(deal, overrides={field: [low, min(low + step, 1.0)]}, metrics=["npv_usd"])
        assert v.npv_usd[1] <= v.npv_usd[0] + 1e-6 * (1.0 + abs(v.npv_usd[0])), field


@SLOW
@given(deals(), st.integers(1, 10))
def test_a_holiday_never_lowers_after_tax_value(deal: dc.Deal, years: int) -> None:
    assume(deal.fiscal.holiday_years == 0)
    before = dc.evaluate(deal, metrics=["npv_usd"]).npv_usd[0]
    after = dc.evaluate(with_changes(deal, {"fiscal.holiday_years": years}), metrics=["npv_usd"]).npv_usd[0]
    assert after >= before - 1e-6 * (1.0 + abs(before))


@SLOW
@given(deals())
def test_the_governments_levies_are_the_ledgers_levy_lines(deal: dc.Deal) -> None:
    # without debt the levered project is the unlevered one: what the governments collect in
    # levies is, year by year, the royalty and tax lines of the ledger
    assume(not deal.finance.debt)
    v = dc.evaluate(deal, keep_ledger=True)
    table, parties = v.table(), v.party_table()
    levies = [c for c in table.columns if c in (L.ROYALTY.name, L.INCOME_TAX.name) or c.startswith("levy:")]
    collected = [c for c in parties.columns if c.startswith("Levies collected by ")]
    np.testing.assert_allclose(
        parties[collected].sum(axis=1), -table[levies].sum(axis=1), rtol=1e-12, atol=1e-6
    )
