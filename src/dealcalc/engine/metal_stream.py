"""Streams and royalties sold for cash: deliveries by tier, the stream price, the transfer between
the project and the financier, and the recognition of upfront money as income.

Kernels of arrays broadcastable to (S, T) (units of the product's price unit, money of the
deal's basis). A stream's **adjustment** is ``(stream price - spot) x delivered``: a revenue
line of the project (royalties and income tax see the stream price), and minus it is the
financier's margin on the metal, which it takes and sells at spot. The deposit is a transfer
from the financier to the project. Formulas: docs/methodology.md, streams and royalties sold for
cash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dealcalc.engine.timeline import Number
from dealcalc.metrics._common import FloatArray

__all__ = ["SoldStreamFlows", "recognised", "sold_stream_flows", "stream_price", "tiered_deliveries"]


def tiered_deliveries(available: Number, shares: Sequence[Number], limits: Sequence[Number]) -> FloatArray:
    """Units delivered each year when ``shares[k]`` of the units ``available`` is delivered
    while the cumulative units delivered are below ``limits[k]`` (one limit fewer than shares:
    the last tier runs to the end). A year that crosses a limit delivers at the tier's share
    until the limit is reached and at the next tier's share on the rest of its output.

    Examples
    --------
    50 % up to 50 units delivered, then 33 %, on 40 units a year: 20, 20, then 10 at 50 %
    (20 units of output) and 33 % of the other 20 units:

    >>> tiered_deliveries(np.array([40.0, 40.0, 40.0, 40.0]), [0.5, 0.33], [50.0]).round(2).tolist()
    [[20.0, 20.0, 16.6, 13.2]]
    """
    assert len(limits) == len(shares) - 1, "one limit fewer than shares"
    units = np.atleast_2d(np.asarray(available, dtype=np.float64))
    s_count, t_count = units.shape
    share = [np.broadcast_to(np.asarray(x, dtype=np.float64), (s_count, t_count)) for x in shares]
    limit = [np.broadcast_to(np.asarray(x, dtype=np.float64), (s_count, t_count)) for x in limits]
    out = np.zeros((s_count, t_count))
    cumulative = np.zeros(s_count)
    for t in range(t_count):
        left = units[:, t].copy()  # output not yet streamed this year
        got = np.zeros(s_count)
        for k, sh in enumerate(share):
            if k == len(share) - 1:
                got += sh[:, t] * left
                break
            room = np.maximum(limit[k][:, t] - cumulative - got, 0.0)  # units to the tier's limit
            rate = sh[:, t]
            need = np.divide(room, rate, out=np.full(s_count, np.inf), where=rate > 0)  # output it takes
            used = np.minimum(left, need)
            got += rate * used
            left = left - used
        out[:, t] = got
        cumulative = cumulative + got
    return out


def stream_price(
    spot: Number, *, fixed: Number | None = None, spot_share: Number | None = None
) -> FloatArray:
    """The stream price per unit: the lesser of ``fixed`` and the spot price, or ``spot_share``
    of the spot price.

    Examples
    --------
    >>> stream_price(np.array([300.0, 2000.0]), fixed=400.0).tolist()
    [300.0, 400.0]
    >>> stream_price(2000.0, spot_share=0.2).tolist()
    400.0
    """
    s = np.asarray(spot, dtype=np.float64)
    if fixed is not None:
        return np.asarray(np.minimum(s, fixed), dtype=np.float64)
    assert spot_share is not None, "a stream price is fixed or a share of spot"
    return np.asarray(s * np.asarray(spot_share, dtype=np.float64), dtype=np.float64)


def recognised(amount: Number, weights: Number) -> FloatArray:
    """Upfront money recognised as income in step with what it pays for: the total ``amount``
    x ``weights[t]`` / the sum of the weights from the first year money is received; all in
    the last period when the weights sum to nothing (what is never delivered is recognised
    at the end).

    Examples
    --------
    >>> recognised(np.array([100.0, 0.0, 0.0, 0.0]), np.array([0.0, 1.0, 3.0, 0.0])).tolist()
    [[0.0, 25.0, 75.0, 0.0]]
    >>> recognised(np.array([0.0, 100.0, 0.0]), np.zeros(3)).tolist()
    [[0.0, 0.0, 100.0]]
    """
    money = np.atleast_2d(np.asarray(amount, dtype=np.float64))
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    shape = np.broadcast_shapes(money.shape, w.shape)
    money = np.broadcast_to(money, shape)
    received = np.cumsum(money, axis=-1) > 0  # from the first money on
    w = np.where(received, np.broadcast_to(w, shape), 0.0)
    total = money.sum(axis=-1, keepdims=True)
    sums = w.sum(axis=-1, keepdims=True)
    out = np.divide(total * w, sums, out=np.zeros(shape), where=sums > 0)
    out[:, -1] += np.where(sums[:, 0] > 0, 0.0, total[:, 0])
    return np.asarray(out, dtype=np.float64)


@dataclass(frozen=True)
class SoldStreamFlows:
    """One stream's year-by-year quantities and money, each (S, T).

    ``adjustment`` is ``(price - spot) x delivered`` (the project's revenue on the streamed
    units less their value at spot, never positive with a fixed price); ``financier`` is
    ``-deposit - adjustment``.
    """

    price: FloatArray
    delivered: FloatArray
    deposit: FloatArray
    adjustment: FloatArray

    @property
    def financier(self) -> FloatArray:
        """The financier's cash: minus the deposit, plus spot less stream price on what it receives."""
        return np.asarray(-self.deposit - self.adjustment, dtype=np.float64)

    @property
    def project(self) -> FloatArray:
        """What the stream changes in the project's cash: the deposit plus the adjustment."""
        return np.asarray(self.deposit + self.adjustment, dtype=np.float64)


def sold_stream_flows(
    spot: Number,
    available: Number,
    price: Number,
    deposit: Number,
    shares: Sequence[Number],
    limits: Sequence[Number] = (),
) -> SoldStreamFlows:
    """A stream's deliveries (by tier, of the payable units ``available`` each year: zero in
    the years before the stream starts), its price and the transfer between project and
    financier.

    Examples
    --------
    A deposit of 1,000 in year 0 for half the output at 400 when spot is 2,000:

    >>> f = sold_stream_flows(2000.0, np.array([0.0, 10.0, 10.0]), 400.0, np.array([1000.0, 0, 0]), [0.5])
    >>> f.delivered.tolist(), f.adjustment.tolist(), f.financier.tolist()
    ([[0.0, 5.0, 5.0]], [[0.0, -8000.0, -8000.0]], [[-1000.0, 8000.0, 8000.0]])
    """
    dep = np.atleast_2d(np.asarray(deposit, dtype=np.float64))
    units = np.atleast_2d(np.asarray(available, dtype=np.float64))
    shape = np.broadcast_shapes(dep.shape, units.shape, np.shape(np.atleast_2d(np.asarray(price))))
    delivered = tiered_deliveries(np.broadcast_to(units, shape), shares, limits)
    p = np.broadcast_to(np.asarray(price, dtype=np.float64), shape)
    adjustment = (p - np.asarray(spot, dtype=np.float64)) * delivered
    return SoldStreamFlows(
        price=np.array(p),
        delivered=delivered,
        deposit=np.array(np.broadcast_to(dep, shape)),
        adjustment=np.asarray(np.broadcast_to(adjustment, shape), dtype=np.float64),
    )
