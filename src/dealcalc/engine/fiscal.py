"""The fiscal stack: capital allowances, depletion, and levies computed in order.

Kernels on arrays in money of the day (a real-terms deal converts its quantities before and
deflates the levies after, so allowances and losses are never indexed to inflation). Vectorized
over scenarios; a levy loops over periods only when something carries from one period to the
next (losses, credits, a pool limited to income). Formulas and sources: docs/methodology.md §11.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from dealcalc.engine.inputs import ClassInputs, DepletionInputs, FiscalInputs, LevyInputs
from dealcalc.engine.ledger import add_lines
from dealcalc.engine.timeline import Number
from dealcalc.metrics._common import FloatArray

__all__ = [
    "LevyResult",
    "allowance_kernel",
    "class_allowances",
    "levy_stack",
    "straight_line",
]


def straight_line(base: Number, start: int, n_years: int, final: int, n_periods: int) -> FloatArray:
    """``base`` (a float or (S, 1)) written off over ``n_years`` from period ``start``; whatever
    is left in period ``final`` (the closure year; not before ``start``) is written off then.
    Shape (T,) or (S, T).

    Examples
    --------
    >>> straight_line(100.0, 1, 4, 3, 4).tolist()
    [0.0, 25.0, 25.0, 50.0]
    >>> straight_line(100.0, 1, 4, 3, 6).tolist()
    [0.0, 25.0, 25.0, 50.0, 0.0, 0.0]
    """
    t = np.arange(n_periods)
    final = max(final, start)
    window = ((t >= start) & (t < start + n_years) & (t < final)).astype(np.float64) / n_years
    rest = np.maximum(1.0 - window.sum(), 0.0) * (t == final)
    out: FloatArray = np.asarray(base * (window + rest), dtype=np.float64)
    return out


def _declining(c: ClassInputs, n_periods: int) -> FloatArray:
    """The declining-balance shares of a cost of 1 by age: rate x what is left (the first year
    times its factor), or with the switch the larger of that and what is left over the years
    of life remaining (with the half-year convention the life ends half a year late)."""
    assert c.rate is not None
    shares = np.zeros(n_periods)
    left = 1.0
    for k in range(n_periods):
        claim = c.rate * left * (c.first_year if k == 0 else 1.0)
        if c.switch and k > 0:
            assert c.years is not None
            remaining = c.years + (0.5 if c.half_year else 0.0) - k
            claim = max(claim, left if remaining <= 1.0 else left / remaining)
        claim = min(claim, left)
        shares[k] = claim
        left -= claim
    return shares


def allowance_kernel(c: ClassInputs, n_periods: int) -> FloatArray:
    """The share of a cost written off k periods after it starts, k = 0 ... T-1, for a method
    that does not depend on the output (every method but units of production), with its bonus
    share and half-year rule.

    Examples
    --------
    >>> from dealcalc.engine.inputs import ClassInputs
    >>> c = ClassInputs("x", "straight_line", years=4, half_year=True)
    >>> allowance_kernel(c, 6).tolist()
    [0.125, 0.25, 0.25, 0.25, 0.125, 0.0]
    >>> allowance_kernel(ClassInputs("y", "sum_of_years", years=3, bonus=0.5), 4).tolist()
    [0.75, 0.16666666666666666, 0.08333333333333333, 0.0]
    >>> macrs5 = ClassInputs(
    ...     "m", "declining_balance", years=5, rate=0.4, half_year=True, first_year=0.5, switch=True
    ... )
    >>> (100 * allowance_kernel(macrs5, 7)).round(2).tolist()  # IRS Pub 946, Table A-1
    [20.0, 32.0, 19.2, 11.52, 11.52, 5.76, 0.0]
    """
    f = np.zeros(n_periods)
    if c.method == "immediate":
        shares = np.ones(1)
    elif c.method == "none":
        shares = np.zeros(1)
    elif c.method == "table":
        assert c.table is not None
        shares = np.asarray(c.table, dtype=np.float64)
    elif c.method == "straight_line" and c.years is None:  # a share of cost a year
        assert c.rate is not None
        whole = int(np.floor(1.0 / c.rate + 1e-9))
        shares = np.array([c.rate] * whole + [max(1.0 - c.rate * whole, 0.0)])
    elif c.method == "straight_line":
        assert c.years is not None
        n = c.years
        shares = np.array([0.5, *([1.0] * (n - 1)), 0.5]) / n if c.half_year else np.full(n, 1.0 / n)
    elif c.method == "sum_of_years":
        assert c.years is not None
        n = c.years
        shares = np.arange(n, 0, -1, dtype=np.float64) / (n * (n + 1) / 2.0)
    elif c.method == "declining_balance":
        shares = _declining(c, n_periods)
    else:
        raise ValueError(f"{c.method} follows the output; see class_allowances")
    k = min(shares.size, n_periods)
    f[:k] = shares[:k]
    out: FloatArray = (1.0 - c.bonus) * f
    out[0] += c.bonus
    return out


def _units_of_production(additions: FloatArray, write_off: int, profile: FloatArray) -> FloatArray:
    """Units of production: each period the pool is written off in step with the output, the
    period's share of what is left to produce, (S, T)."""
    s_count, t_count = additions.shape
    out = np.zeros((s_count, t_count))
    pool = np.zeros(s_count)
    left = np.cumsum(profile[::-1])[::-1]  # output from period t to the end
    for t in range(min(write_off + 1, t_count)):
        pool = pool + additions[:, t]
        share = float(profile[t]) / float(left[t]) if left[t] > 0 else 0.0
        claim = pool * min(share, 1.0)
        out[:, t] = claim
        pool = pool - claim
    return out


def class_allowances(
    c: ClassInputs,
    additions: Number,
    write_off: int,
    shape: tuple[int, int],
    profile: FloatArray | None = None,
) -> FloatArray:
    """The allowances of a class that is not limited to income, (T,) or (S, T).

    ``additions`` are the costs entering the class in each period (already moved to the period
    they start being written off). Before the write-off period each cost follows the method; in
    it, whatever is left is written off (``end: write_off``; with ``lost`` only its usual share);
    after it, a cost is written off when it comes.

    Examples
    --------
    >>> from dealcalc.engine.inputs import ClassInputs
    >>> c = ClassInputs("x", "declining_balance", rate=0.25)
    >>> class_allowances(c, np.array([100.0, 0, 0, 0]), 3, (1, 4)).round(2).tolist()
    [25.0, 18.75, 14.06, 42.19]
    >>> s = ClassInputs("s", "straight_line", years=4)
    >>> class_allowances(s, np.array([100.0, 0, 0, 0]), 2, (1, 4)).tolist()
    [25.0, 25.0, 50.0, 0.0]
    """
    t_count = shape[1]
    a = np.asarray(additions, dtype=np.float64)
    rows = a if a.ndim == 2 else a.reshape(1, -1)
    rows = np.ascontiguousarray(np.broadcast_to(rows, (rows.shape[0], t_count)))
    t = np.arange(t_count)
    if c.method == "units_of_production":
        assert profile is not None
        normal = _units_of_production(rows, write_off, profile)
    elif c.method == "straight_line" and c.years is not None and not c.half_year and c.bonus == 0.0:
        # 1/N of what was spent in the last N periods: (C_t - C_(t-N)) / N, C the running total
        run = np.cumsum(rows, axis=1)
        normal = run.copy()
        if c.years < t_count:
            normal[:, c.years :] -= run[:, : t_count - c.years]
        normal /= c.years
    else:
        f = allowance_kernel(c, t_count)
        # allowance_t = sum_k f(k) a_(t-k), lag by lag (the same sums in the same order for any
        # number of scenarios, which a matrix product does not promise)
        normal = np.zeros((rows.shape[0], t_count))
        for k in np.flatnonzero(f):
            normal[:, k:] += f[k] * rows[:, : t_count - k]
    out = np.where(t < write_off, normal, 0.0)
    if write_off < t_count:
        if c.end == "write_off":
            spent = rows[:, : write_off + 1].sum(axis=1)
            out[:, write_off] = np.maximum(spent - out[:, :write_off].sum(axis=1), 0.0)
        else:
            out[:, write_off] = normal[:, write_off]
        after = t > write_off
        out[:, after] = rows[:, after]
    return out if a.ndim == 2 else out[0]


@dataclass(frozen=True)
class LevyResult:
    """One levy's figures, each (S, T) in money of the day."""

    accrued: FloatArray  # the levy of the year (negative: a refund)
    paid: FloatArray  # what is paid in the year (its timing)
    base: FloatArray  # its base after losses (a floor levy: its own amount's largest base)
    losses_carried: FloatArray  # losses carried into the next period
    own: FloatArray  # before topping up and credits (a floor levy: the floor)
    claimed: dict[str, FloatArray] = field(default_factory=dict)  # classes limited to income


def _column(x: Number, t: int) -> Number:
    """Period t of a number that is a float, (T,), (S, 1) or (S, T)."""
    if isinstance(x, float):
        return x
    if x.ndim == 1:
        return float(x[t])
    return x[:, 0] if x.shape[1] == 1 else x[:, t]


def _rated(levy: LevyInputs, base: FloatArray, t: int | None, variable: FloatArray | None) -> FloatArray:
    """rate x base for a flat rate, graduated brackets (marginal, or a slab: the whole base at the
    rate of the highest slice it reaches) or a sliding scale on ``variable``; ``t`` picks one
    period of the levy's numbers (None: all periods)."""

    def at(x: Number) -> Number:
        return x if t is None else _column(x, t)

    if levy.rate is not None:
        return np.asarray(at(levy.rate) * base, dtype=np.float64)
    if levy.brackets is not None:
        positive = np.maximum(base, 0.0)
        edges = [at(above) for above, _ in levy.brackets]
        rates = [at(rate) for _, rate in levy.brackets]
        if levy.slab:
            rate: Number = rates[0]
            for edge, r in zip(edges[1:], rates[1:], strict=True):
                rate = np.where(positive > edge, r, rate)
            return np.asarray(rate * base, dtype=np.float64)
        amount: Number = 0.0
        for k, (edge, r) in enumerate(zip(edges, rates, strict=True)):
            top = edges[k + 1] if k + 1 < len(edges) else np.inf
            amount = amount + r * np.clip(positive - edge, 0.0, top - edge)
        return np.asarray(np.where(base < 0, rates[0] * base, amount), dtype=np.float64)
    assert levy.scale_x is not None and levy.scale_rates is not None and variable is not None
    if levy.scale_linear:
        rate = np.interp(variable, levy.scale_x, levy.scale_rates)
    else:
        point = np.clip(np.searchsorted(levy.scale_x, variable, side="right") - 1, 0, levy.scale_x.size - 1)
        rate = np.where(variable < levy.scale_x[0], 0.0, levy.scale_rates[point])
    return np.asarray(rate * base, dtype=np.float64)


def _variable(
    levy: LevyInputs, base: FloatArray, quantities: Mapping[str, Number], shape: tuple[int, int]
) -> FloatArray | None:
    """The sliding scale's variable for every period: a price, the margin or cumulative revenue."""
    if levy.scale_on is None:
        return None
    if levy.scale_on == "margin":
        revenue = np.broadcast_to(quantities["revenue"], shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.where(revenue > 0, base / revenue, 0.0), dtype=np.float64)
    if levy.scale_on == "cumulative_revenue":
        return np.cumsum(np.broadcast_to(quantities["revenue"], shape), axis=-1)
    return np.array(np.broadcast_to(quantities[levy.scale_on], shape), dtype=np.float64)


def _depletion(
    d: DepletionInputs, before: FloatArray, quantities: Mapping[str, Number], shape: tuple[int, int]
) -> FloatArray:
    """Percentage depletion (a share of each product's gross income from the property, limited
    to a share of the base before depletion) or cost depletion, whichever is larger, each period.

    A product's gross income is its sales less their own selling charges, less its share (by
    those amounts) of the selling-charge lines and, with ``less_royalties``, of the royalties
    paid."""
    products = [name.split(":", 1)[1] for name in quantities if name.startswith("gross:")]
    gross = {
        p: np.broadcast_to(np.asarray(quantities[f"gross:{p}"], dtype=np.float64), shape) for p in products
    }
    total = sum(gross.values(), np.zeros(shape))
    shared = add_lines([quantities.get("charges:lines", 0.0)], shape)
    if d.less_royalties:
        shared = add_lines([shared, quantities.get("royalties", 0.0)], shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = np.where(total > 0, shared / total, 0.0)
    parts: list[Number] = [
        rate * np.maximum(gross[p] * (1.0 - cut), 0.0) for p, rate in d.percentage.items() if p in gross
    ]
    percentage = np.minimum(
        np.broadcast_to(add_lines(parts, shape), shape), d.limit * np.maximum(before, 0.0)
    )
    if d.cost_basis <= 0.0:
        return np.asarray(percentage, dtype=np.float64)
    cost = np.broadcast_to(d.cost_basis * quantities.get("depletion_share", 0.0), shape)
    return np.asarray(np.maximum(percentage, cost), dtype=np.float64)


def _book(name: str) -> str | None:
    """The book an ``allowances`` term names (None: the term is not allowances)."""
    if name == "allowances":
        return "tax"
    return name.split(":", 1)[1] if name.startswith("allowances:") else None


def _base(
    terms: Sequence[tuple[float, str]],
    quantities: Mapping[str, Number],
    accrued: Mapping[str, FloatArray],
    books: Mapping[str, Number],
    deductions: Sequence[FloatArray],
    shape: tuple[int, int],
) -> FloatArray:
    """A levy's base: its terms (earlier levies by their accrued amounts; depletion is its own
    step), less the levies deductible from it."""
    plus: list[Number] = []
    minus: list[Number] = list(deductions)
    for coef, name in terms:
        if name == "depletion":
            continue
        book = _book(name)
        if book is not None:
            value: Number = books.get(book, 0.0)
        else:
            # a product or line that the deal does not produce or give counts as nothing
            value = (
                accrued[name]
                if name in accrued
                else quantities.get(name, 0.0)
                if ":" in name
                else quantities[name]
            )
        scaled = value if abs(coef) == 1.0 else abs(coef) * value
        (plus if coef > 0 else minus).append(scaled)
    return np.array(np.broadcast_to(add_lines(plus, shape, minus=minus), shape), dtype=np.float64)


def levy_stack(
    f: FiscalInputs,
    quantities: Mapping[str, Number],
    books: Mapping[str, Number],
    limited: Mapping[str, Mapping[str, Number]],
    shape: tuple[int, int],
    given: Mapping[str, LevyResult] | None = None,
) -> dict[str, LevyResult]:
    """Every levy of the stack, in order, for (S, T) scenarios in money of the day.

    ``quantities`` are the named bases (revenue, ebitda, ...; ``price:PRODUCT`` and
    ``gross:PRODUCT`` for scales and depletion); ``books`` the allowances of each book's
    classes that are not limited to income; ``limited`` the costs entering each class limited to
    income, by book. ``given`` levies are taken as they are, not computed (a tax group's
    royalties are its entities' own), and the later levies see them as computed ones.
    """
    results: dict[str, LevyResult] = {}
    accrued: dict[str, FloatArray] = {}
    quantities = {**quantities, "royalties": np.zeros(shape)}  # the royalty-line levies so far
    deductible: dict[str, list[FloatArray]] = {}
    credits: dict[str, list[FloatArray]] = {}
    for levy in f.levies:
        if given is not None and levy.name in given:
            result = given[levy.name]
        elif levy.alternatives is not None:
            own = np.zeros(shape)
            for terms, rate in levy.alternatives:
                base = _base(terms, quantities, accrued, books, [], shape)
                own = np.maximum(own, np.asarray(rate * np.maximum(base, 0.0)))
            if levy.holiday is not None:
                own = own * (1.0 - levy.holiday)
            result = _top_up(levy, own, accrued, shape)
        else:
            base = _base(levy.terms, quantities, accrued, books, deductible.get(levy.name, []), shape)
            used = {b for _, name in levy.terms if (b := _book(name)) is not None}
            pools = {k: v for b in used for k, v in limited.get(b, {}).items()}
            result = _levy(levy, f, base, pools, quantities, credits.get(levy.name, []), shape)
        results[levy.name] = result
        accrued[levy.name] = result.accrued
        if levy.line == "royalty":
            quantities["royalties"] = quantities["royalties"] + result.accrued
        for later in levy.deductible_from:
            deductible.setdefault(later, []).append(result.accrued)
        for later in levy.credit_against:
            credits.setdefault(later, []).append(result.accrued)
    return results


def _paid(levy: LevyInputs, accrued: FloatArray) -> FloatArray:
    """What is paid in each period: the accrued levy spread by its timing; what would fall after
    the last period is paid in it."""
    shares = levy.timing
    if shares == (1.0,):
        return accrued
    out = np.zeros_like(accrued)
    t_count = accrued.shape[1]
    for k, share in enumerate(shares):
        if share == 0.0:
            continue
        if k < t_count:
            out[:, k:] += share * accrued[:, : t_count - k]
        out[:, -1] += share * accrued[:, max(t_count - k, 0) :].sum(axis=1)
    return out


def _top_up(
    levy: LevyInputs, own: FloatArray, accrued: Mapping[str, FloatArray], shape: tuple[int, int]
) -> LevyResult:
    """A floor levy: it pays what its own amount exceeds the levies it tops up by; that excess
    is a credit used later against their excess over it (so the total is max(topped - credit,
    floor))."""
    topped = np.broadcast_to(add_lines([accrued[name] for name in levy.tops_up], shape), shape)
    out = np.zeros((shape[1], shape[0]))
    credit = np.zeros(shape[0])
    own_t = np.ascontiguousarray(own.T)
    topped_t = np.ascontiguousarray(topped.T)
    for t in range(shape[1]):
        pay = np.maximum(own_t[t] - topped_t[t], 0.0)
        usable = np.minimum(credit, np.maximum(topped_t[t] - own_t[t], 0.0))
        out[t] = pay - usable
        credit = credit - usable + pay
    accrued_levy = np.ascontiguousarray(out.T)
    return LevyResult(accrued_levy, _paid(levy, accrued_levy), own, np.zeros(shape), own)


def _levy(
    levy: LevyInputs,
    f: FiscalInputs,
    base: FloatArray,
    limited_additions: Mapping[str, Number],
    quantities: Mapping[str, Number],
    credits_in: Sequence[FloatArray],
    shape: tuple[int, int],
) -> LevyResult:
    """A levy on a base: allowances limited to income, depletion, losses, the rate, the holiday
    and its cap, credits from earlier levies."""
    claimed: dict[str, FloatArray] = {}
    if limited_additions:  # claims limited to the income left after everything else
        base, claimed = _limited_claims(f, base, limited_additions, shape)
    depletion = levy.depletion if levy.depletion is not None else f.depletion
    if depletion is not None and any(name == "depletion" for _, name in levy.terms):
        base = base - _depletion(depletion, base, quantities, shape)
    variable = _variable(levy, base, quantities, shape)
    carries = levy.carry_forward != 0 or levy.carry_back > 0 or bool(credits_in)
    if not carries:
        taxable = (
            np.maximum(base, 0.0)
            if levy.refund is None
            else np.where(levy.refund > 0, base, np.maximum(base, 0.0))
        )
        own = _holiday(levy, _rated(levy, taxable, None, variable), taxable, None)
        return LevyResult(own, _paid(levy, own), taxable, np.zeros(shape), own, claimed)
    return replace(_levy_by_period(levy, base, variable, credits_in, shape), claimed=claimed)


def _levy_by_period(
    levy: LevyInputs,
    base: FloatArray,
    variable: FloatArray | None,
    credits_in: Sequence[FloatArray],
    shape: tuple[int, int],
) -> LevyResult:
    """A levy whose losses or credits carry from period to period (time-major working copies)."""
    s_count, t_count = shape
    base_t = np.ascontiguousarray(base.T)
    var_t = None if variable is None else np.ascontiguousarray(variable.T)
    keep = levy.carry_forward  # None: without limit
    ring = 1 if keep is None else max(keep, 1)
    # loss vintages in a ring: slot (t mod ring) holds period t's loss; at period t the oldest
    # usable vintage is at slot (t mod ring), and it expires when t's own loss is stored there;
    # losses kept without limit never expire, so one slot holds them all
    pool = np.zeros((ring, s_count))
    taxable_seen = np.zeros((t_count, s_count))  # what carried-back losses may still offset
    paid_seen = np.zeros((t_count, s_count))
    credit = np.zeros(s_count)
    credit_in = add_lines(list(credits_in), shape) if credits_in else None
    accrued = np.zeros((t_count, s_count))
    taxable_out = np.zeros((t_count, s_count))
    carried = np.zeros((t_count, s_count))
    own_out = np.zeros((t_count, s_count))
    for t in range(t_count):
        income = base_t[t]
        positive = np.maximum(income, 0.0)
        if keep != 0 and pool.any():  # most periods carry nothing: skip the matching
            room = levy.cap_fraction * positive
            for j in range(ring):  # oldest first
                slot = pool[(t + j) % ring]
                used = np.minimum(slot, room)
                slot -= used
                room = room - used
                positive = positive - used
        loss = np.maximum(-income, 0.0)
        refund = np.zeros(s_count)
        if levy.carry_back > 0 and loss.any():  # against the most recent taxed periods first
            for back in range(1, min(levy.carry_back, t) + 1):
                seen = taxable_seen[t - back]
                used = np.minimum(loss, seen)
                with np.errstate(divide="ignore", invalid="ignore"):
                    share = np.where(seen > 0, used / seen, 0.0)
                refund = refund + share * paid_seen[t - back]
                paid_seen[t - back] = paid_seen[t - back] * (1.0 - share)
                taxable_seen[t - back] = seen - used
                loss = loss - used
        refunded = levy.refund is not None and levy.refund[t] > 0  # the loss is refunded at the rate
        taxable = np.where(income < 0, -loss, positive) if refunded else positive
        if refunded:
            loss = np.zeros(s_count)
        if keep is None:
            pool[0] += loss
        elif keep != 0:
            pool[t % ring] = loss
        amount = _rated(levy, taxable, t, None if var_t is None else var_t[t])
        amount = _holiday(levy, amount, taxable, t)
        own_out[t] = amount
        if credit_in is not None:  # credits from earlier levies, carried while unused
            credit = credit + np.broadcast_to(_column(credit_in, t), (s_count,))
            used_credit = np.minimum(credit, np.maximum(amount, 0.0))
            amount = amount - used_credit
            credit = credit - used_credit
        if levy.carry_back > 0:
            taxable_seen[t] = np.maximum(taxable, 0.0)
            paid_seen[t] = np.maximum(amount, 0.0)
        accrued[t] = amount - refund
        taxable_out[t] = taxable
        carried[t] = pool.sum(axis=0) if keep != 0 else 0.0
    out = np.ascontiguousarray(accrued.T)
    return LevyResult(
        accrued=out,
        paid=_paid(levy, out),
        base=taxable_out.T,  # memo lines: views of the time-major working arrays
        losses_carried=carried.T,
        own=own_out.T,
    )


def _holiday(levy: LevyInputs, amount: FloatArray, taxable: FloatArray, t: int | None) -> FloatArray:
    """No levy in the holiday (a share of a period pro rata); after it, at most the cap x base."""
    out = amount
    if levy.holiday is not None:
        out = amount * (1.0 - (levy.holiday if t is None else levy.holiday[t]))
    if levy.cap is not None and levy.capped is not None:
        capped = levy.capped if t is None else levy.capped[t]
        cap = levy.cap if t is None else _column(levy.cap, t)
        limited = np.minimum(out, cap * np.maximum(taxable, 0.0))
        out = np.where(np.asarray(capped) > 0, limited, out)
    return np.asarray(out, dtype=np.float64)


def _limited_claims(
    f: FiscalInputs, base: FloatArray, additions: Mapping[str, Number], shape: tuple[int, int]
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Deduct the classes limited to income: each period a class claims at most its method's
    share of its pool (all of it when expensed), and no more than the income left; the rest stays
    in the pool; in the write-off period what is left is written off (or lost). Returns the base
    after the claims and each class's claims."""
    s_count, t_count = shape
    out = np.array(base, dtype=np.float64, copy=True)
    claims: dict[str, FloatArray] = {}
    for name, added in additions.items():
        c = f.classes[name]
        pool = np.zeros(s_count)
        add = np.broadcast_to(np.asarray(added, dtype=np.float64), shape)
        claimed = np.zeros(shape)
        for t in range(t_count):
            pool = pool + add[:, t]
            if t > f.write_off:
                claim = add[:, t]
            elif t == f.write_off:
                claim = pool if c.end == "write_off" else np.zeros(s_count)
            else:
                most = pool if c.method == "immediate" else (c.rate or 1.0) * pool
                claim = np.minimum(most, np.maximum(out[:, t], 0.0))
            pool = pool - claim
            out[:, t] = out[:, t] - claim
            claimed[:, t] = claim
        claims[name] = claimed
    return out, claims
