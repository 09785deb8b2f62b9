"""Offtake contracts: the contract price, the volume delivered and paid for, and the transfer
between the producer and the counterparty.

Kernels of arrays broadcastable to (S, T) (prices per unit of the product's price unit in the
deal's money, volumes in those units). The producer's revenue on the contracted volume is at
the contract price instead of the benchmark; the difference, the **adjustment**, is a revenue
line of the project (royalties and income tax see it: it is the sale price) and minus it is
the counterparty's cash. So the counterparty's cash is exactly the negative of the producer's
gain against selling at the benchmark: it pays the floor's cost and receives the upside share.
Formulas: docs/methodology.md, offtake contracts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealcalc.engine.timeline import Number
from dealcalc.metrics._common import FloatArray

__all__ = ["OfftakeFlows", "contract_price", "offtake_flows"]


def contract_price(
    benchmark: Number,
    *,
    discount: Number = 0.0,
    floor: Number | None = None,
    cap: Number | None = None,
    upside_share: Number = 0.0,
    reference: Number | None = None,
) -> FloatArray:
    """The contract price each year: ``min(max(benchmark x (1 - discount), floor), cap) -
    upside_share x max(0, benchmark - reference)``; a missing floor, cap or reference is none.

    Examples
    --------
    >>> b = np.array([80.0, 110.0, 150.0])
    >>> contract_price(b, floor=110.0).tolist()  # the floor lifts 80 to 110
    [110.0, 110.0, 150.0]
    >>> contract_price(b, floor=110.0, upside_share=0.3, reference=110.0).tolist()  # 150 - 0.3 x 40
    [110.0, 110.0, 138.0]
    >>> contract_price(b, discount=0.1, cap=120.0).tolist()
    [72.0, 99.0, 120.0]
    """
    price = np.asarray(benchmark, dtype=np.float64) * (1.0 - np.asarray(discount, dtype=np.float64))
    if floor is not None:
        price = np.maximum(price, floor)
    if cap is not None:
        price = np.minimum(price, cap)
    if reference is not None:
        price = price - np.asarray(upside_share) * np.maximum(np.asarray(benchmark) - reference, 0.0)
    return np.asarray(price, dtype=np.float64)


@dataclass(frozen=True)
class OfftakeFlows:
    """One contract's year-by-year quantities and money, each broadcastable to (S, T).

    ``adjustment`` is the producer's revenue under the contract less the benchmark value of
    what it delivers: ``(price - benchmark) x delivered + price x unpaid_shortfall``, where the
    last term is the take-or-pay payment for volume not delivered. ``counterparty`` is
    ``-adjustment``.
    """

    price: FloatArray
    contracted: FloatArray
    delivered: FloatArray
    shortfall_paid: FloatArray
    adjustment: FloatArray

    @property
    def counterparty(self) -> FloatArray:
        """The counterparty's cash: minus the producer's gain against the benchmark."""
        return np.asarray(-self.adjustment, dtype=np.float64)

    @property
    def price_adjustment(self) -> FloatArray:
        """The part of the adjustment on the volume delivered: ``(price - benchmark) x delivered``."""
        return np.asarray(self.adjustment - self.price * self.shortfall_paid, dtype=np.float64)


def offtake_flows(
    benchmark: Number, available: Number, price: Number, contracted: Number, *, take_or_pay: Number = 0.0
) -> OfftakeFlows:
    """The volume delivered and paid for, and the adjustment to the producer's revenue.

    ``contracted`` is the volume of the year (a share of the product's paid units sold, or a
    volume in tonnes converted to the price unit; zero outside the contract's years); the
    producer delivers ``min(contracted, available)``, ``available`` being what it sells of the
    product that earlier contracts did not take. Take-or-pay: the counterparty pays the
    contract ``price`` on at least ``take_or_pay x contracted`` units, delivered or not.

    Examples
    --------
    A floor of 110 on 1,000 units when the benchmark is 80, 110 and 150:

    >>> b = np.array([80.0, 110.0, 150.0])
    >>> f = offtake_flows(b, 1000.0, contract_price(b, floor=110.0), 1000.0)
    >>> f.adjustment.tolist(), f.counterparty.tolist()
    ([30000.0, 0.0, 0.0], [-30000.0, -0.0, -0.0])

    A contract of 1,000 units with 80 % take-or-pay when only 500 are made:

    >>> f = offtake_flows(100.0, 500.0, 100.0, 1000.0, take_or_pay=0.8)
    >>> float(f.delivered), float(f.shortfall_paid), float(f.adjustment)
    (500.0, 300.0, 30000.0)
    """
    wanted = np.asarray(contracted, dtype=np.float64)
    delivered = np.minimum(wanted, np.asarray(available, dtype=np.float64))
    shortfall = np.maximum(np.asarray(take_or_pay) * wanted - delivered, 0.0)
    p = np.asarray(price, dtype=np.float64)
    adjustment = (p - np.asarray(benchmark, dtype=np.float64)) * delivered + p * shortfall
    return OfftakeFlows(
        price=p,
        contracted=wanted,
        delivered=np.asarray(delivered, dtype=np.float64),
        shortfall_paid=np.asarray(shortfall, dtype=np.float64),
        adjustment=np.asarray(adjustment, dtype=np.float64),
    )
