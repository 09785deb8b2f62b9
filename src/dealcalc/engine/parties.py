"""Who gets the cash: owners, lenders, the host government and each destination's government.

The project's cash before any state take (``pie``: unlevered after-tax cash flow plus royalty,
unlevered income tax and the tariff the exporter bears) is split without remainder:

- host government: royalty + income tax (levered: interest and fees deducted) + dividend
  withholding tax;
- each destination's government: the duty the exporter bears through a lower price;
- lenders: debt service and fees less drawdowns;
- owners: free cash to equity (pie less all the above), paid out when positive as dividends net
  of withholding, by share; when negative, injected by the non-carried owners pro rata;
- after an expropriation (``operations.expropriated``, the share taken from that year on) the
  host government takes that share of the owners' cash and pays them
  ``operations.expropriation_compensation_fraction`` of the net book value when it takes it.

Formulas and sources: docs/methodology.md §16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealcalc.engine.financing import DebtFlows
from dealcalc.engine.inputs import Inputs
from dealcalc.engine.trade import TariffFlows
from dealcalc.metrics._common import FloatArray

__all__ = ["PartyFlows", "party_flows"]


@dataclass(frozen=True)
class PartyFlows:
    """Each party's cash, (S, T) in the deal's basis, and the lines behind the split."""

    cash: dict[str, FloatArray]
    pie: FloatArray
    dividends: FloatArray
    withholding: FloatArray
    governments: tuple[str, ...]


def party_flows(
    inputs: Inputs,
    *,
    after_tax: FloatArray,
    royalty: FloatArray,
    unlevered_tax: FloatArray,
    levered_tax: FloatArray,
    tariff: TariffFlows,
    debt: DebtFlows | None,
    book_value: FloatArray | None = None,
) -> PartyFlows:
    """Split the project's cash among its parties (see the module docstring)."""
    deal = inputs.deal
    f = deal.finance
    n = inputs.num
    shape = after_tax.shape
    borne = {
        g: np.broadcast_to(np.asarray(v, dtype=np.float64), shape)
        for g, v in tariff.borne_by_government.items()
    }
    pie = after_tax + royalty + unlevered_tax + sum(borne.values(), np.zeros(shape))
    lenders = debt.lenders_cash if debt is not None else np.zeros(shape)
    to_equity = after_tax + unlevered_tax - levered_tax - lenders
    dividends = np.maximum(to_equity, 0.0)
    injections = np.minimum(to_equity, 0.0)
    rate = n("finance.dividend_withholding_rate")
    if f.dividend_withholding_rate_untaxed is not None:
        rate = np.where(levered_tax > 0.0, rate, n("finance.dividend_withholding_rate_untaxed"))
    withholding = rate * dividends
    paid_out = dividends - withholding
    funders = sum(n(f"finance.equity.{h}.share") for h, holder in f.equity.items() if not holder.carried)
    # expropriation: the state takes the share `taken` of the owners' cash from the year it
    # happens, and pays compensation on the book value for what it newly takes
    taken = np.broadcast_to(np.asarray(n("operations.expropriated"), dtype=np.float64), shape)
    compensation = np.zeros(shape)
    if taken.any() and book_value is not None:
        newly = np.maximum(np.diff(taken, axis=-1, prepend=0.0), 0.0)
        compensation = (
            n("operations.expropriation_compensation_fraction") * np.maximum(book_value, 0.0) * newly
        )
    cash: dict[str, FloatArray] = {}
    owners_total = np.zeros(shape)
    for name, holder in f.equity.items():
        share = n(f"finance.equity.{name}.share")
        funding = 0.0 if holder.carried else share / funders
        normal = np.asarray(share * paid_out + funding * injections, dtype=np.float64)
        owners_total = owners_total + normal
        cash[name] = (1.0 - taken) * normal + share * compensation
    if f.debt:
        cash["lenders"] = lenders
    cash[f.host_government] = royalty + levered_tax + withholding + taken * owners_total - compensation
    governments = [f.host_government]
    for government in deal.party_names():
        if government in cash or government in f.equity or government == "lenders":
            continue
        cash[government] = np.array(borne.get(government, np.zeros(shape)))
        governments.append(government)
    return PartyFlows(
        cash=cash, pie=pie, dividends=dividends, withholding=withholding, governments=tuple(governments)
    )
