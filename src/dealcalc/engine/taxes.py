"""The fiscal pass of a build: the levies' bases and each class's capital in money of the day,
the allowances, the levy stack, and every levy back in the deal's money.

A ``basis: real`` deal keeps its ledger in real money, but taxes are charged on money of the
day: the quantities and the capital are converted with ``to_nominal`` before the stack runs (so
allowances, losses carried forward and bracket thresholds are not indexed to inflation) and each
levy is deflated after. In a nominal deal ``to_nominal`` is 1. Formulas: docs/methodology.md §11.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dealcalc.engine.fiscal import LevyResult, class_allowances, levy_stack
from dealcalc.engine.inputs import FiscalInputs
from dealcalc.engine.ledger import add_lines
from dealcalc.engine.timeline import Number
from dealcalc.metrics._common import FloatArray

__all__ = ["Capital", "FiscalPass", "fiscal_pass", "moved_to"]


@dataclass(frozen=True)
class Capital:
    """Capital spent: its kind (``initial`` or ``sustaining``), the class it names (None: the
    class of each book that takes its kind), its spending per period in the deal's money, and
    the period from which a ``first_production`` class writes initial capital off."""

    kind: str
    capital_class: str | None
    amount: Number
    start: int | None = None


@dataclass(frozen=True)
class FiscalPass:
    """The levies of one pass (unlevered, or levered with interest deducted)."""

    results: dict[str, LevyResult]  # money of the day
    paid: dict[str, FloatArray]  # each levy paid in the deal's money, (S, T), negative: a refund
    allowances: dict[str, FloatArray]  # each class's allowances in the deal's money, (T,) or (S, T)


def moved_to(amount: Number, start: int, shape: tuple[int, int]) -> FloatArray:
    """``amount`` per period with everything before period ``start`` moved into it.

    Examples
    --------
    >>> moved_to(np.array([10.0, 20.0, 30.0, 40.0]), 2, (1, 4)).tolist()
    [0.0, 0.0, 60.0, 40.0]
    """
    a = np.asarray(amount, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(shape[1], float(a))
    out = np.array(a, dtype=np.float64, copy=True)
    if start > 0:
        out[..., start] = a[..., : start + 1].sum(axis=-1)
        out[..., :start] = 0.0
    return out


def _nominal(x: Number, to_nominal: Number) -> Number:
    if isinstance(to_nominal, float) and to_nominal == 1.0:
        return x
    return np.asarray(x * np.asarray(to_nominal), dtype=np.float64)


def _classes_of(f: FiscalInputs, c: Capital) -> list[str]:
    """The classes a piece of capital enters: in each book, the class it names, else the class
    that takes its kind."""
    named = f.classes.get(c.capital_class) if c.capital_class is not None else None
    out = [named.name] if named is not None else []
    for name, cls in f.classes.items():
        if c.kind in cls.takes and (named is None or cls.book != named.book):
            out.append(name)
    return out


def fiscal_pass(
    f: FiscalInputs,
    quantities: Mapping[str, Number],
    capital: Sequence[Capital],
    to_nominal: Number,
    profile: FloatArray,
    shape: tuple[int, int],
    given: Mapping[str, LevyResult] | None = None,
) -> FiscalPass:
    """Run the fiscal stack on quantities and capital given in the deal's money.

    ``profile`` is the share of the life's output in each period (units-of-production
    allowances, cost depletion). Quantities named ``price:...`` are prices; like money they are
    taken to money of the day. When no scenario changes anything the stack reads, it runs once
    for all of them and its lines stay (T,) (a sensitivity of the discount rate costs one pass).
    """
    if shape[0] > 1 and given is None and not _varies(f, quantities, capital, to_nominal):
        one = fiscal_pass(f, quantities, capital, to_nominal, profile, (1, shape[1]))
        return FiscalPass(
            results={k: _first_row(r) for k, r in one.results.items()},
            paid={k: v[0] for k, v in one.paid.items()},
            allowances={k: v[0] if np.ndim(v) == 2 else v for k, v in one.allowances.items()},
        )
    needed = f.needed
    nominal = {
        name: _nominal(q, to_nominal)
        for name, q in quantities.items()
        if name in needed or name.startswith("gross:") or name == "interest"
    }
    nominal["depletion_share"] = profile
    if "closure_accrued" in needed:  # closure costs accrued in step with the output (IRC §468)
        total = np.sum(np.broadcast_to(nominal["closure"], shape), axis=-1, keepdims=True)
        nominal["closure_accrued"] = total * profile
    additions: dict[str, list[Number]] = {name: [] for name in f.classes}
    for c in capital:
        amount = _nominal(c.amount, to_nominal)
        for name in _classes_of(f, c):
            cls = f.classes[name]
            start = cls.start_index if cls.start_index is not None else c.start
            moved = amount
            if c.kind == "initial" and start is not None and cls.start == "first_production":
                moved = moved_to(amount, start, shape)
            additions[name].append(moved)
    allowances_nominal: dict[str, FloatArray] = {}
    by_book: dict[str, list[Number]] = {}
    limited: dict[str, dict[str, Number]] = {}
    for name, cls in f.classes.items():
        added = add_lines(additions[name], shape)
        by_book.setdefault(cls.book, [])
        if cls.limited:
            limited.setdefault(cls.book, {})[name] = added
        else:
            allowances_nominal[name] = class_allowances(cls, added, f.write_off, shape, profile)
            by_book[cls.book].append(allowances_nominal[name])
    books = {book: add_lines(parts, shape) for book, parts in by_book.items()}
    results = levy_stack(f, nominal, books, limited, shape, given)
    paid = {name: _real(r.paid, to_nominal) for name, r in results.items()}
    allowances = {name: _real(a, to_nominal) for name, a in allowances_nominal.items()}
    for name, claims in _limited_claimed(f, results).items():
        allowances[name] = _real(claims, to_nominal)
    return FiscalPass(results=results, paid=paid, allowances=allowances)


def _per_scenario(x: object) -> bool:
    """Whether a number has a scenario axis of more than one row."""
    return isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[0] > 1


def _varies(
    f: FiscalInputs, quantities: Mapping[str, Number], capital: Sequence[Capital], to_nominal: Number
) -> bool:
    """Whether any scenario differs in what the stack reads."""
    needed = f.needed
    read = [q for name, q in quantities.items() if name in needed or name.startswith("gross:")]
    numbers: list[object] = [*read, *(c.amount for c in capital), to_nominal]
    for levy in f.levies:
        numbers += [levy.rate, levy.cap]
        numbers += [x for pair in levy.brackets or () for x in pair]
        numbers += [rate for _, rate in levy.alternatives or ()]
    return any(_per_scenario(x) for x in numbers)


def _first_row(r: LevyResult) -> LevyResult:
    """A levy's figures of a one-row pass, as (T,) lines."""
    return LevyResult(
        accrued=r.accrued[0],
        paid=r.paid[0],
        base=r.base[0],
        losses_carried=r.losses_carried[0],
        own=r.own[0],
        claimed={k: v[0] for k, v in r.claimed.items()},
    )


def _limited_claimed(f: FiscalInputs, results: Mapping[str, LevyResult]) -> dict[str, FloatArray]:
    """The claims of the classes limited to income, from the first levy that made them."""
    out: dict[str, FloatArray] = {}
    for levy in f.levies:
        for name, claims in results[levy.name].claimed.items():
            out.setdefault(name, claims)
    return out


def _real(x: FloatArray, to_nominal: Number) -> FloatArray:
    if isinstance(to_nominal, float) and to_nominal == 1.0:
        return x
    out: FloatArray = np.asarray(x / np.asarray(to_nominal), dtype=np.float64)
    return out
