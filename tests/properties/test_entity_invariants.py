"""Invariants of deals of several entities on generated deals (docs/methodology.md §31): no
transfer price changes the project's cash before levies; each entity's parties share its cash
before levies, and the merged parties the sum of the entities'; the entity table's project row
nets the transfers to zero and gives each party its NPV; a real valuation is the nominal one;
a higher payable fraction moves money from the buyer to the seller."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dealcalc as dc
from dealcalc.engine import lines as L
from dealcalc.params import with_changes
from dealcalc.strategies import entity_deals

# each example values whole deals: a twentieth of the profile's examples (10 in CI, 250 nightly)
SLOW = settings(deadline=None, max_examples=max(10, settings.default.max_examples // 20))

#: The term each basis reads, and values it may take.
TERMS = {
    "payable": ("payable_fraction", st.floats(0.0, 1.0)),
    "cost_plus": ("margin", st.floats(0.0, 1.0)),
    "fixed": ("price_usd_per_unit", st.floats(0.0, 60_000.0)),
}


def _close(a: Any, b: Any, scale: float) -> None:
    """a == b to rounding, relative to the size of the flows compared."""
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * scale + 1e-6)


@SLOW
@given(entity_deals(), st.data())
def test_no_transfer_price_changes_the_project_cash_before_levies(deal: dc.Deal, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(deal.transfer_prices)), label="transfer price")
    term, values = TERMS[deal.transfer_prices[name].basis]
    prices = data.draw(st.lists(values, min_size=2, max_size=2), label=term)
    v = dc.evaluate(deal, overrides={f"transfer_prices.{name}.{term}": prices}, keep_ledger=True)
    assert v.ledger is not None
    before = v.ledger.pre_tax() - v.ledger.group_total({L.Group.ROYALTY})  # before every levy
    before = np.broadcast_to(before, (2, before.shape[-1]))
    _close(before[1], before[0], float(np.abs(before).max()))


@SLOW
@given(entity_deals())
def test_each_entity_s_parties_share_its_cash_before_levies(deal: dc.Deal) -> None:
    v = dc.evaluate(deal, keep_ledger=True)
    assert v.entities is not None and v.parties is not None and v.ledger is not None
    assert list(v.entities) == list(deal.entities)
    shape = v.ledger.shape
    total = np.zeros(shape)
    for ledger, parties in v.entities.values():
        before = ledger.after_tax() - ledger.group_total({L.Group.ROYALTY, L.Group.TAX})
        scale = float(np.abs(before).max())
        _close(np.broadcast_to(parties.subtotal(L.CASH_BEFORE_STATE_TAKE), shape), before, scale)
        total = total + before
    merged = np.broadcast_to(v.parties.subtotal(L.CASH_BEFORE_STATE_TAKE), shape)
    _close(merged, total, float(np.abs(total).max()))


@SLOW
@given(entity_deals())
def test_the_project_row_nets_transfers_and_gives_each_party_its_npv(deal: dc.Deal) -> None:
    v = dc.evaluate(deal, keep_ledger=True)
    table = v.entity_table()
    assert list(table.index) == [*deal.entities, "project"]
    sales = float(table["transfer_sales_usd"].abs().sum())
    project = {str(column): float(x) for column, x in table.to_dict("index")["project"].items()}
    assert abs(project["transfers_usd"]) <= 1e-9 * sales + 1e-6
    assert abs(project["transfer_sales_usd"] - project["transfer_purchases_usd"]) <= 1e-9 * sales + 1e-6
    for party in deal.party_names():
        column = f"{party}.npv_usd"
        expected = v.values[column][0]
        size = float(table[column].abs().sum()) if column in table.columns else 0.0
        got = project.get(column, 0.0)
        assert abs(got - expected) <= 1e-9 * max(size, abs(expected)) + 1e-6, party


@SLOW
@given(entity_deals(), st.floats(0.0, 0.12), st.sampled_from(["real", "nominal"]))
def test_a_real_valuation_is_the_nominal_one(deal: dc.Deal, inflation: float, stated: str) -> None:
    # as tests/properties/test_fiscal_invariants.py, on deals of several entities: the same NPV
    # (the project's, each entity's and each party's) and (1 + IRR nominal) = (1 + IRR real)(1 + i)
    changes = {"valuation.inflation_rate": inflation, "valuation.discount_rate_basis": stated}
    metrics = ["npv_usd", "irr", "pre_tax_npv_usd"]
    metrics += [f"{e}.{m}" for e in deal.entities for m in ("npv_usd", "levies_usd", "transfers_usd")]
    metrics += [f"{p}.npv_usd" for p in deal.party_names()]
    real = dc.evaluate(with_changes(deal, {**changes, "valuation.basis": "real"}), metrics=metrics)
    nominal = dc.evaluate(
        with_changes(deal, {**changes, "valuation.basis": "nominal"}), metrics=metrics, keep_ledger=True
    )
    assert nominal.ledger is not None
    # a party's NPV may be near zero (a lender at its loan's rate): compare with the flows' size
    size = float(np.abs(nominal.ledger.pre_tax()).sum())
    for m in metrics:
        if m == "irr":
            continue
        a, b = real.values[m][0], nominal.values[m][0]
        assert abs(a - b) <= 1e-9 * max(abs(a), abs(b), size, 1.0), m
    r, n = real.irr[0], nominal.irr[0]
    assert np.isnan(r) == np.isnan(n)
    if not np.isnan(r):
        assert abs((1.0 + n) - (1.0 + r) * (1.0 + inflation)) <= 1e-9 * (1.0 + abs(n))


@SLOW
@given(entity_deals(bases=("payable",)), st.data())
def test_a_higher_payable_fraction_moves_money_from_buyer_to_seller(
    deal: dc.Deal, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(deal.transfer_prices)), label="transfer price")
    low = data.draw(st.floats(0.0, 1.0), label="low")
    high = data.draw(st.floats(low, 1.0), label="high")
    price = deal.transfer_prices[name]
    seller, buyer = deal.entity_of(price.source), deal.entity_of(price.to)
    wanted = [f"{seller}.transfers_usd", f"{buyer}.transfers_usd"]
    v = dc.evaluate(deal, overrides={f"transfer_prices.{name}.payable_fraction": [low, high]}, metrics=wanted)
    sold, bought = v.values[wanted[0]], v.values[wanted[1]]
    tolerance = 1e-9 * float(np.abs(np.concatenate([sold, bought])).max()) + 1e-6
    assert sold[1] >= sold[0] - tolerance
    assert bought[1] <= bought[0] + tolerance
