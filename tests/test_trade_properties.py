"""Properties of tariffs, the parties' split and withholding on the bundled deal."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dealcalc as dc
from dealcalc.params import with_changes

DEAL = dc.load(dc.example_path("ussm-fwo"))
AT_19 = dc.params.apply_scenario(DEAL, "tariff_19")
RATE_19 = "trade.schedules.reciprocal_19.ad_valorem.2025-08-07"
EQUITY = ("ussm", "fwo")


def _party_cash(v: dc.Valuation, party: str) -> np.ndarray:
    assert v.parties is not None
    return np.asarray(v.parties.line(f"{party} [USD]"))


@settings(max_examples=25, deadline=None)
@given(
    low=st.floats(0.0, 0.6),
    extra=st.floats(0.0, 0.4),
    pass_through=st.floats(0.0, 1.0),
)
def test_a_lower_tariff_never_lowers_the_exporters_cash(
    low: float, extra: float, pass_through: float
) -> None:
    v = dc.evaluate(
        AT_19,
        overrides={
            RATE_19: [low, low + extra],
            "trade.destinations.us.pass_through_fraction": [pass_through, pass_through],
        },
        keep_ledger=True,
    )
    pre = v.ledger.pre_tax()  # type: ignore[union-attr]
    assert (pre[0] >= pre[1] - 1e-6).all()  # every year, before tax
    assert v.npv_usd[0] >= v.npv_usd[1] - 1e-6
    for party in EQUITY:
        assert v.values[f"{party}.npv_usd"][0] >= v.values[f"{party}.npv_usd"][1] - 1e-6


def test_with_zero_tariffs_every_tariff_scenario_equals_the_base() -> None:
    zero = with_changes(
        DEAL,
        scale={
            "trade.schedules.*.ad_valorem.*": 0.0,
            "trade.schedules.*.products.*.*.ad_valorem.*": 0.0,
            "trade.schedules.*.products.*.*.specific_usd_per_unit_content": 0.0,
        },
    )
    duty_free = with_changes(zero, {"trade.destinations.us.schedule": None})
    base = dc.evaluate(duty_free)
    for name in ("tariff_29", "tariff_19", "section_232", "ieepa_struck_down", "exporter_bears_tariff_19"):
        v = dc.evaluate(zero, name)
        for metric, values in base.values.items():
            np.testing.assert_array_equal(v.values[metric], values, err_msg=f"{name}: {metric}")


@settings(max_examples=20, deadline=None)
@given(
    price=st.floats(10_000, 80_000),
    capex=st.floats(0.5, 2.0),
    withholding=st.floats(0.0, 0.3),
    pass_through=st.floats(0.0, 1.0),
    devaluation=st.floats(-0.05, 0.2),
)
def test_the_parties_cash_adds_up_to_the_projects_in_every_scenario(
    price: float, capex: float, withholding: float, pass_through: float, devaluation: float
) -> None:
    v = dc.evaluate(
        AT_19,
        overrides={
            "price_decks.base.antimony": [price, price * 0.5],
            "phases.refinery.capex_usd": [300e6 * capex, 300e6],
            "finance.dividend_withholding_rate": [withholding, 0.15],
            "trade.destinations.us.pass_through_fraction": [pass_through, 0.5],
            "local_currency.depreciation_rate": [devaluation, 0.0],
        },
        keep_ledger=True,
    )
    assert v.parties is not None and v.ledger is not None
    total = sum(_party_cash(v, p) for p in DEAL.party_names())
    pie = v.parties.line("Cash before state take [USD]")
    np.testing.assert_allclose(total, pie, rtol=1e-12, atol=1e-3)
    project = (
        v.ledger.after_tax()
        - v.ledger.line("Royalty [USD]")
        - v.ledger.line("Income tax [USD]")
        - v.ledger.line("Tariff borne by the exporter [USD]")
    )
    np.testing.assert_allclose(pie, project, rtol=1e-12, atol=1e-3)


@pytest.mark.parametrize("scenario", [None, "tax_holiday", "no_refinery_at_19"])
def test_raising_withholding_moves_cash_from_owners_to_the_host_government_only(scenario: str | None) -> None:
    deal = dc.params.apply_scenario(DEAL, scenario)
    v = dc.evaluate(deal, overrides={"finance.dividend_withholding_rate": [0.10, 0.20]}, keep_ledger=True)
    owners = sum(_party_cash(v, p) for p in EQUITY)
    government = _party_cash(v, "government_of_pakistan")
    moved = government[1] - government[0]
    assert (moved >= -1e-6).all() and moved.sum() > 0
    np.testing.assert_allclose(owners[0] - owners[1], moved, rtol=1e-12, atol=1e-4)
    for party in ("lenders", "us_government"):
        np.testing.assert_array_equal(_party_cash(v, party)[0], _party_cash(v, party)[1])
    for metric in ("npv_usd", "irr", "pre_tax_npv_usd", "payback_years", "lenders.npv_usd"):
        assert v.values[metric][0] == v.values[metric][1]
