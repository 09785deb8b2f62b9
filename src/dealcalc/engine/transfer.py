"""Transfer prices between the entities of a deal: pure kernels of arrays.

docs/methodology.md §31. A transfer moves money between two entities of one project: the
seller's revenue is the buyer's cost, so the project's cash before levies does not depend on
the price; each entity's levies and each owner's share do.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from dealcalc.engine.timeline import Number
from dealcalc.metrics._common import FloatArray

__all__ = ["transfer_price", "unit_cost"]


def unit_cost(costs: Number, units: Number) -> FloatArray:
    """Cost per unit made: ``costs / units`` where units are made, 0 where none are.

    Examples
    --------
    >>> unit_cost(np.array([100.0, 50.0]), np.array([4.0, 0.0])).tolist()
    [25.0, 0.0]
    """
    c = np.asarray(costs, dtype=np.float64)
    u = np.asarray(units, dtype=np.float64)
    shape = np.broadcast_shapes(c.shape, u.shape)
    out: FloatArray = np.divide(
        np.broadcast_to(c, shape),
        np.broadcast_to(u, shape),
        out=np.zeros(shape),
        where=np.broadcast_to(u, shape) > 0,
    )
    return out


def transfer_price(
    basis: Literal["payable", "cost_plus", "fixed"],
    *,
    price: Number = 0.0,
    payable: Number | None = None,
    charges: Number = 0.0,
    cost: Number = 0.0,
    margin: Number | None = None,
    fixed: Number | None = None,
) -> FloatArray:
    """The transfer price per unit of contained feed.

    ``payable``: max(payable x price - charges, 0), a concentrate's terms (a payable share of
    the metal price less the treatment and refining charges per unit); ``cost_plus``: cost x
    (1 + margin), the seller's operating cost per unit made (OECD Transfer Pricing Guidelines
    2022, ch. II, ¶2.45 ff.: the cost plus method); ``fixed``: the stated price.

    Examples
    --------
    >>> transfer_price("payable", price=20_000.0, payable=0.65, charges=500.0).item()
    12500.0
    >>> transfer_price("payable", price=500.0, payable=0.65, charges=500.0).item()  # never negative
    0.0
    >>> transfer_price("cost_plus", cost=np.array([8_000.0, 9_000.0]), margin=0.1).round(6).tolist()
    [8800.0, 9900.0]
    >>> transfer_price("fixed", fixed=11_000.0).item()
    11000.0
    """
    if basis == "payable":
        if payable is None:
            raise ValueError("a payable transfer price needs payable")
        return np.asarray(
            np.maximum(np.asarray(payable) * price - np.asarray(charges), 0.0), dtype=np.float64
        )
    if basis == "cost_plus":
        if margin is None:
            raise ValueError("a cost-plus transfer price needs margin")
        return np.asarray(np.asarray(cost, dtype=np.float64) * (1.0 + np.asarray(margin)), dtype=np.float64)
    if fixed is None:
        raise ValueError("a fixed transfer price needs fixed")
    return np.asarray(fixed, dtype=np.float64)
