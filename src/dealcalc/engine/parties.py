"""Who gets the cash: owners, lenders, the host government and each destination's government.

The project's cash before any state take (``pie``: unlevered after-tax cash flow plus every
levy of the unlevered project and the tariff the exporter bears) is split without remainder:

- each government: the levies it collects (the levered project's: interest and fees deducted)
  and the duty the exporter bears through a lower price on sales into its market; the host
  also the dividend withholding tax;
- lenders: debt service and fees less drawdowns;
- owners: free cash to equity (pie less all the above), paid out when positive as dividends net
  of withholding, by share; when negative, injected by the non-carried owners pro rata;
- under the debt-stress rules (``stress``): the lenders receive what was actually paid, the
  reserve accounts hold cash (their own line, so every year still adds up to the pie), and
  after a default the owners receive nothing: the buyer pays the recovery and takes the
  project's cash to its capital providers, the guarantor pays its share of the loss;
- each offtake's counterparty: minus the adjustment its contracts make to the producer's
  revenue (it pays a floor's cost, receives the upside share), added to its other cash if it
  is also an owner or a government; the pie is then the cash of every party, the contract a
  transfer among them (docs/methodology.md, offtake contracts); so is a metal stream's
  financier (minus the deposit and the stream's adjustment) and a royalty's buyer (minus the
  price; the royalty it collects is a private levy, below);
- after an expropriation (``operations.expropriated``, the share taken from that year on) the
  host government takes that share of the owners' cash and pays them
  ``operations.expropriation_compensation_fraction`` of the net book value when it takes it.

Formulas and sources: docs/methodology.md §16 and §23.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealcalc.engine.financing import DebtFlows, StressedDebt
from dealcalc.engine.inputs import FinanceInputs
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
    reserves: FloatArray | None = None  # cash put into the reserve accounts (debt stress)


def party_flows(
    f: FinanceInputs,
    *,
    after_tax: FloatArray,
    unlevered: dict[str, FloatArray],
    levered: dict[str, FloatArray],
    levered_tax: FloatArray,
    tariff: TariffFlows,
    debt: DebtFlows | None,
    book_value: FloatArray | None = None,
    stress: StressedDebt | None = None,
    offtake: dict[str, FloatArray] | None = None,
) -> PartyFlows:
    """Split the project's cash among its parties (see the module docstring); every array is
    (S, T) in the deal's basis, amounts positive. ``unlevered`` and ``levered`` hold the levies
    each government collects in the unlevered and the levered project; ``levered_tax`` the
    levered income taxes (a dividend is untaxed where they are nil); ``stress`` the debt as
    paid under the stress rules (then ``debt`` is only the contract); ``offtake`` each offtake
    counterparty's cash (minus the adjustment to the producer's revenue) and each transfer of
    the streams and royalties sold for cash (docs/methodology.md §28)."""
    shape = after_tax.shape
    borne = {
        g: np.broadcast_to(np.asarray(v, dtype=np.float64), shape)
        for g, v in tariff.borne_by_government.items()
    }
    zero = np.zeros(shape)
    pie = after_tax + sum(unlevered.values(), zero) + sum(borne.values(), zero)
    lenders = debt.lenders_cash if debt is not None else zero
    to_capital = after_tax + sum(unlevered.values(), zero) - sum(levered.values(), zero)
    extra: dict[str, FloatArray] = {}
    if stress is None:
        to_equity = to_capital - lenders
    else:
        lenders = stress.lenders
        to_equity = (to_capital - lenders - stress.buyer - stress.guarantor - stress.reserves) * stress.alive
        roles = {f.roles[p]: p for p in f.parties if f.roles[p] in ("buyer", "guarantor")}
        if "buyer" in roles:
            extra[roles["buyer"]] = stress.buyer + to_capital * (1.0 - stress.alive)
        if "guarantor" in roles:
            extra[roles["guarantor"]] = stress.guarantor
    dividends = np.maximum(to_equity, 0.0)
    injections = np.minimum(to_equity, 0.0)
    rate = f.withholding
    if f.withholding_untaxed is not None:
        rate = np.where(levered_tax > 0.0, rate, f.withholding_untaxed)
    withholding = rate * dividends
    paid_out = dividends - withholding
    funders = sum(o.share for o in f.owners if not o.carried)
    # expropriation: the state takes the share `taken` of the owners' cash from the year it
    # happens, and pays compensation on the book value for what it newly takes
    taken = np.broadcast_to(np.asarray(f.expropriated, dtype=np.float64), shape)
    compensation = np.zeros(shape)
    if taken.any() and book_value is not None:
        newly = np.maximum(np.diff(taken, axis=-1, prepend=0.0), 0.0)
        compensation = f.compensation * np.maximum(book_value, 0.0) * newly
    cash: dict[str, FloatArray] = {}
    owners_total = np.zeros(shape)
    for owner in f.owners:
        funding = 0.0 if owner.carried else owner.share / funders
        normal = np.asarray(owner.share * paid_out + funding * injections, dtype=np.float64)
        owners_total = owners_total + normal
        cash[owner.name] = (1.0 - taken) * normal + owner.share * compensation
    if debt is not None or stress is not None:
        cash["lenders"] = lenders
    cash |= extra
    governments = []
    for party in f.parties:
        if party in cash or f.roles[party] not in ("government", "royalty_holder"):
            continue
        cash[party] = levered.get(party, zero) + borne.get(party, zero)
        if f.roles[party] == "government":
            governments.append(party)
    host = f.host_government
    cash[host] = cash[host] + withholding + taken * owners_total - compensation
    for party, paid in (offtake or {}).items():  # a transfer among the parties: the pie is all of them
        cash[party] = cash[party] + paid if party in cash else np.asarray(paid, dtype=np.float64)
        pie = pie + paid
    ordered = {p: cash[p] for p in f.parties if p in cash}
    return PartyFlows(
        cash=ordered,
        pie=pie,
        dividends=dividends,
        withholding=withholding,
        governments=tuple(governments),
        reserves=None if stress is None else stress.reserves,
    )
