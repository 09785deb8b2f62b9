"""Who gets the cash: owners, lenders, the host government and each destination's government.

The project's cash before any state take (``pie``: unlevered after-tax cash flow plus every
levy of the unlevered project and the tariff the exporter bears) is split without remainder:

- each government: the levies it collects (the levered project's: interest and fees deducted)
  and the duty the exporter bears through a lower price on sales into its market; the host
  also the dividend withholding tax;
- lenders: debt service and fees less drawdowns;
- owners: free cash to equity (pie less all the above), paid out when positive as dividends net
  of withholding, by share; when negative, injected by the funding owners pro rata (a
  free-carried part of a stake funds nothing); with an earn-in, preferred equity or a
  shareholder loan the cash to equity goes down the waterfall (:func:`waterfall`): shareholder
  loans, the preferred coupon and redemption, the preferred upside, then the common shares of
  the year, each holder and lender a party with its own cash;
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

__all__ = ["PartyFlows", "Waterfall", "party_flows", "waterfall"]


@dataclass(frozen=True)
class PartyFlows:
    """Each party's cash, (S, T) in the deal's basis, and the lines behind the split."""

    cash: dict[str, FloatArray]
    pie: FloatArray
    dividends: FloatArray
    withholding: FloatArray
    governments: tuple[str, ...]
    reserves: FloatArray | None = None  # cash put into the reserve accounts (debt stress)
    shares: dict[str, FloatArray] | None = None  # each owner's share by period, (S, T), after earn-ins


@dataclass(frozen=True)
class Waterfall:
    """The cash to equity distributed by the waterfall, each (S, T), amounts positive to the
    party: each owner's common cash (dividends less its injections, before withholding), the
    dividends paid on shares (the withholding base), each holder's preferred and each
    lender's shareholder-loan cash (minus what it pays in), and the owners' shares by period."""

    owners: dict[str, FloatArray]
    owner_dividends: dict[str, FloatArray]  # each owner's common dividends
    others: dict[str, FloatArray]  # preferred holders and shareholder lenders, by party
    other_dividends: dict[str, FloatArray]  # their coupons and upside (paid on shares)
    shares: dict[str, FloatArray]


def waterfall(f: FinanceInputs, to_equity: FloatArray) -> Waterfall:
    """Distribute each year's cash to equity ``to_equity`` ((S, T), after debt service and
    reserves) in order: the money paid in (preferred equity, shareholder loans) is added to
    it; then shareholder loans (interest, then principal; unpaid interest capitalises),
    the preferred coupon with its arrears, the preferred redemption when due, then the
    common distribution, of which each preferred holder takes its ``upside`` share and the
    owners the rest by their shares of the year. A shortfall is injected by the funding owners
    by their funded shares of the year, before that year's earn-ins (an earn-in is reached
    in the year the partner's cumulative injections reach its amount, or at its milestone,
    and its stake counts from that year on). docs/methodology.md, "Stakes that change".

    Examples
    --------
    >>> import numpy as np
    >>> from dealcalc.engine.inputs import FinanceInputs, OwnerInputs, PreferredInputs
    >>> one = np.ones(1)
    >>> f = FinanceInputs((), (OwnerInputs("a", 1.0, False),), 0.0, None, "g", ("a", "g", "p"),
    ...     {"a": "owner", "g": "government", "p": "investor"}, {}, 0.0, 0.0,
    ...     preferred=(PreferredInputs("p", 10 * one, 0, 0.1 * one, 0 * one, 2),))
    >>> w = waterfall(f, np.array([[-30.0, 0.0, 20.0]]))
    >>> w.others["p"].tolist(), w.owners["a"].tolist()
    ([[-10.0, 0.0, 12.0]], [[-20.0, 0.0, 8.0]])
    """
    s_n, t_n = to_equity.shape
    cash = np.array(to_equity, dtype=np.float64)
    names = [o.name for o in f.owners]
    shares = {
        o.name: np.array(np.broadcast_to(np.asarray(o.share, dtype=np.float64), (s_n, t_n))) for o in f.owners
    }
    funded = {
        o.name: np.array(np.broadcast_to(np.asarray(o.funding, dtype=np.float64), (s_n, t_n)))
        for o in f.owners
    }
    others: dict[str, FloatArray] = {}
    paid_div: dict[str, FloatArray] = {n: np.zeros((s_n, t_n)) for n in names}
    other_div: dict[str, FloatArray] = {}
    owners = {n: np.zeros((s_n, t_n)) for n in names}

    def line(party: str) -> FloatArray:
        if party not in others:
            others[party] = np.zeros((s_n, t_n))
            other_div[party] = np.zeros((s_n, t_n))
        return others[party]

    for p in f.preferred:
        cash[:, p.index] += p.amount
        line(p.holder)[:, p.index] -= p.amount
    for loan in f.loans:
        cash[:, loan.index] += loan.amount
        line(loan.lender)[:, loan.index] -= loan.amount
    balance = [np.zeros(s_n) for _ in f.loans]
    par = [np.zeros(s_n) for _ in f.preferred]
    arrears = [np.zeros(s_n) for _ in f.preferred]
    injected = {e.partner: np.zeros(s_n) for e in f.earn_in}
    earned = [np.zeros(s_n, dtype=bool) for _ in f.earn_in]
    for t in range(t_n):
        free = np.maximum(cash[:, t], 0.0)
        short = np.minimum(cash[:, t], 0.0)
        for k, loan in enumerate(f.loans):  # shareholder loans first
            if t > loan.index:
                owed = balance[k] * (1.0 + loan.rate)
                pay = np.minimum(free, owed)
                free = free - pay
                balance[k] = owed - pay
                others[loan.lender][:, t] += pay
            elif t == loan.index:
                balance[k] = balance[k] + loan.amount
        for k, p in enumerate(f.preferred):  # the coupon with its arrears, then the redemption
            if t > p.index:
                arrears[k] = arrears[k] + p.coupon * par[k]
                pay = np.minimum(free, arrears[k])
                free, arrears[k] = free - pay, arrears[k] - pay
                others[p.holder][:, t] += pay
                other_div[p.holder][:, t] += pay
                if t >= p.redeem:
                    back = np.minimum(free, par[k])
                    free, par[k] = free - back, par[k] - back
                    others[p.holder][:, t] += back
            elif t == p.index:
                par[k] = par[k] + p.amount
        for p in f.preferred:  # the upside share of the common distribution
            if t >= p.index:
                up = np.asarray(p.upside * free, dtype=np.float64)
                others[p.holder][:, t] += up
                other_div[p.holder][:, t] += up
        common = free * (1.0 - sum((p.upside for p in f.preferred if t >= p.index), np.zeros(s_n)))
        weights = sum((funded[n][:, t] for n in names), np.zeros(s_n))
        for n in names:
            owners[n][:, t] += short * funded[n][:, t] / weights
        for k, e in enumerate(f.earn_in):  # earn-ins reached this year count from this year on
            if e.funds is not None:
                injected[e.partner] = injected[e.partner] - short * funded[e.partner][:, t] / weights
                reached = injected[e.partner] >= e.funds * (1.0 - 1e-12)
            else:
                reached = np.full(s_n, e.at is not None and t >= e.at)
            new = reached & ~earned[k]
            earned[k] = earned[k] | reached
            if new.any():
                moved = np.where(new, e.stake, 0.0)[:, None]
                for who, sign in ((e.partner, 1.0), (e.source, -1.0)):
                    shares[who][:, t:] += sign * moved
                    owner = next(o for o in f.owners if o.name == who)
                    if not owner.carried:
                        funded[who][:, t:] += sign * moved
        for n in names:
            owners[n][:, t] += shares[n][:, t] * common
            paid_div[n][:, t] += shares[n][:, t] * common
    return Waterfall(
        owners=owners, owner_dividends=paid_div, others=others, other_dividends=other_div, shares=shares
    )


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
    rate = f.withholding
    if f.withholding_untaxed is not None:
        rate = np.where(levered_tax > 0.0, rate, f.withholding_untaxed)
    # expropriation: the state takes the share `taken` of the owners' cash from the year it
    # happens, and pays compensation on the book value for what it newly takes
    taken = np.broadcast_to(np.asarray(f.expropriated, dtype=np.float64), shape)
    compensation = np.zeros(shape)
    if taken.any() and book_value is not None:
        newly = np.maximum(np.diff(taken, axis=-1, prepend=0.0), 0.0)
        compensation = f.compensation * np.maximum(book_value, 0.0) * newly
    cash: dict[str, FloatArray] = {}
    owners_total = np.zeros(shape)
    others: dict[str, FloatArray] = {}
    shares: dict[str, FloatArray] | None = None
    if f.waterfall:
        w = waterfall(f, np.asarray(to_equity, dtype=np.float64))
        dividends = sum(w.owner_dividends.values(), zero) + sum(w.other_dividends.values(), zero)
        withholding = rate * dividends
        for owner in f.owners:
            normal = np.asarray(w.owners[owner.name] - rate * w.owner_dividends[owner.name], dtype=np.float64)
            owners_total = owners_total + normal
            cash[owner.name] = (1.0 - taken) * normal + w.shares[owner.name] * compensation
        others = {
            p: np.asarray(c - rate * w.other_dividends[p], dtype=np.float64) for p, c in w.others.items()
        }
        shares = w.shares
    else:
        dividends = np.maximum(to_equity, 0.0)
        injections = np.minimum(to_equity, 0.0)
        withholding = rate * dividends
        paid_out = dividends - withholding
        funders = sum(o.funding for o in f.owners)
        for owner in f.owners:
            funding = owner.funding / funders
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
    for party, paid in others.items():  # preferred holders and shareholder lenders
        cash[party] = cash[party] + paid if party in cash else paid
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
        shares=shares,
    )
