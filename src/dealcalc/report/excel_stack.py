"""The levy stack of the Excel model as live formulas, and the sheet helpers the model shares.

A deal whose fiscal regime is a stack of levies (methodology §11) gets a **Stack** sheet that
recomputes every levy in order, in money of the day, as ``engine/fiscal.py`` does, so that the
ledger's levy lines and NPV and IRR after tax follow every input cell (methodology §22):

* the quantities a levy's base names (``ebitda``, ``mine_nsr``, ``gross:PRODUCT``, ...), the
  allowances of each class that is not limited to income and the capital entering each class
  that is are affine in the live inputs: ``(base + Σ coefficient × (input − its value)) × g``
  from the Drivers sheet, ``g`` being money of the day per unit of the deal's money;
* each levy is then formulas: its base (terms, earlier levies, less the levies deductible from
  it), the claims of the classes limited to income (a pool per class), depletion, losses (a
  running pool, or vintages with an expiry and carry-back grids on the **Losses** sheet), the
  rate (flat, marginal brackets as clipped slices, a slab or a sliding scale as nested ``IF``),
  the holiday and its cap, credits from earlier levies, floors that top others up with their
  credit, and the timing of payment;
* the ledger's levy line is what is paid, divided by ``g``; levies with one label add up.

Rates, bracket edges, caps, depletion rates and a pool's rate are live cells on the Inputs
sheet (a defined name each); a rate given as a schedule is a row of values on the Stack sheet.
Only spreadsheet functions that Excel, LibreOffice and the ``formulas`` package all evaluate
are used: ``SUM``, ``MIN``, ``MAX`` and ``IF``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dealcalc.engine import lines as reg
from dealcalc.engine.inputs import DepletionInputs, FiscalInputs, LevyInputs
from dealcalc.engine.taxes import FiscalPass

__all__ = [
    "Affine",
    "LiveInput",
    "Rows",
    "StackPlan",
    "cell",
    "excel_name",
    "limited_as_immediate",
    "loss_vintages",
    "plan_stack",
    "write_stack",
]

#: A row's formula for year column t (without the leading "=").
Formula = Callable[[int], str]


@dataclass(frozen=True)
class LiveInput:
    """One input cell of the workbook: its deal path, label, unit, value and Excel name."""

    path: str
    label: str
    unit: str
    value: float
    name: str


@dataclass(frozen=True)
class Affine:
    """A line affine in the live inputs: its value at the file's inputs and its coefficients."""

    base: np.ndarray  # (T,)
    coefficients: dict[str, np.ndarray]  # input name -> (T,)


def cell(row: int, col: int, *, sheet: str | None = None, absolute: bool = False) -> str:
    """An A1 reference (sheet-qualified when ``sheet`` is given)."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    ref = xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)
    return f"'{sheet}'!{ref}" if sheet else ref


class Rows:
    """Rows of a sheet with years as columns from ``first_col``; each row is found by key."""

    def __init__(self, sheet: Any, name: str, first_row: int, first_col: int, n_years: int) -> None:
        self.sheet, self.name, self.row, self.col, self.n = sheet, name, first_row, first_col, n_years
        self.at: dict[str, int] = {}
        self.cache: dict[str, np.ndarray] = {}  # dealcalc's values by label, stored as results
        self._pending: list[tuple[int, str, Formula, Any, np.ndarray | None]] = []

    def ref(self, key: str, t: int, *, here: str | None = None) -> str:
        """The cell of row ``key`` in year column ``t`` (sheet-qualified from another sheet)."""
        return cell(self.at[key], self.col + t, sheet=None if here == self.name else self.name)

    def span(self, key: str, *, here: str | None = None, last: int | None = None) -> str:
        """The range of row ``key`` from the first year to year ``last`` (default: the last)."""
        first = cell(self.at[key], self.col)
        end = cell(self.at[key], self.col + (self.n - 1 if last is None else last))
        return f"{first}:{end}" if here == self.name else f"'{self.name}'!{first}:{end}"

    def values(self, key: str, label: str, values: np.ndarray, fmt: Any, how: str = "") -> None:
        self._head(key, label, how)
        for t in range(self.n):
            self.sheet.write_number(self.row, self.col + t, float(values[t]), fmt)
        self.row += 1

    def formulas(
        self,
        key: str,
        label: str,
        make: Formula,
        fmt: Any,
        how: str = "",
        cached: np.ndarray | None = None,
    ) -> None:
        """A row of formulas; written by :meth:`flush`, so a formula may refer to later rows.
        ``cached`` (or the cache entry of ``label``) is stored as each cell's result."""
        self._head(key, label, how)
        self._pending.append((self.row, label, make, fmt, cached))
        self.row += 1

    def flush(self) -> None:
        for row, label, make, fmt, given in self._pending:
            cached = given if given is not None else self.cache.get(label)
            for t in range(self.n):
                value = float(cached[t]) if cached is not None else 0
                self.sheet.write_formula(row, self.col + t, "=" + make(t), fmt, value)
        self._pending.clear()

    def _head(self, key: str, label: str, how: str) -> None:
        self.at[key] = self.row
        self.sheet.write_string(self.row, 0, label)
        if how:
            self.sheet.write_string(self.row, 1, how)

    def skip(self, title: str = "", fmt: Any = None) -> None:
        self.row += 1
        if title:
            self.sheet.write_string(self.row, 0, title, fmt)
            self.row += 1


def _year_header(sheet: Any, row: int, years: np.ndarray, fmt: Any) -> None:
    for t, year in enumerate(years):
        sheet.write_number(row, 2 + t, int(year), fmt)


def loss_vintages(
    sheet: Any,
    top: int,
    years: np.ndarray,
    keep: int,
    room: Formula,
    loss: Formula,
    heading: str,
    fmt: Mapping[str, Any],
) -> tuple[Formula, Formula, int]:
    """Losses carried forward by vintage, oldest first, each usable ``keep`` years after it arose.

    Rows from ``top + 4`` are the year a loss arose, columns the year it is used:
    ``used[v, t] = MAX(0, MIN(left[v, t-1], room[t] - Σ used[older, t]))``; below them what is
    left of each at the end of a year (``left[v, v]`` = the loss; blank once it has expired).
    Returns the range of year t's ``used`` column, the range of its ``left`` column and the next
    free row."""
    n = int(years.size)
    money, name = fmt["money"], sheet.name
    sheet.write_string(top, 0, heading, fmt["title"])
    sheet.write_string(top + 1, 0, "Rows are the year a loss arose; columns the year it is used.")
    _year_header(sheet, top + 2, years, fmt["bold"])
    used0 = top + 4
    left0 = used0 + n + 2
    sheet.write_string(used0 - 1, 0, "Used in the year", fmt["bold"])
    sheet.write_string(left0 - 1, 0, "Left at the end of the year", fmt["bold"])
    for v in range(n):
        sheet.write_number(used0 + v, 0, int(years[v]))
        sheet.write_number(left0 + v, 0, int(years[v]))
        for t in range(v, min(v + keep, n - 1) + 1) if keep > 0 else ():
            age = t - v
            if age >= 1:
                first = max(0, t - keep)  # the oldest vintage still usable in year t
                older = (
                    f"SUM({cell(used0 + first, 2 + t)}:{cell(used0 + v - 1, 2 + t)})" if v > first else "0"
                )
                used = f"MAX(0,MIN({cell(left0 + v, 1 + t)},{room(t)}-{older}))"
                sheet.write_formula(used0 + v, 2 + t, "=" + used, money)
            if age == 0:
                sheet.write_formula(left0 + v, 2 + t, "=" + loss(t), money)
            elif age < keep:
                sheet.write_formula(
                    left0 + v, 2 + t, f"={cell(left0 + v, 1 + t)}-{cell(used0 + v, 2 + t)}", money
                )

    def column(first_row: int) -> Formula:
        return lambda t: f"'{name}'!{cell(first_row, 2 + t)}:{cell(first_row + n - 1, 2 + t)}"

    return column(used0), column(left0), left0 + n + 1


def _carry_back(
    sheet: Any,
    top: int,
    years: np.ndarray,
    back: int,
    loss: Formula,
    taxable: Formula,
    amount: Formula,
    heading: str,
    fmt: Mapping[str, Any],
) -> tuple[Formula, Formula, int]:
    """Losses carried back ``back`` years, against the most recent taxed years first; the levy
    paid on what a loss offsets is refunded in the loss year.

    Three rows per earlier year u: its taxable income not yet offset (``seen``), its levy not
    yet refunded (``paid``) and what year t's loss offsets of it (``used``):
    ``used[u, t] = MIN(loss[t] - Σ used[newer, t], seen[u, t-1])``, the refund
    ``used / seen × paid`` (0 when nothing was taxed). Returns the loss offset in year t, the
    refund of year t and the next free row."""
    n = int(years.size)
    money, name = fmt["money"], sheet.name
    sheet.write_string(top, 0, heading, fmt["title"])
    sheet.write_string(
        top + 1, 0, "Three rows per year: taxable not yet offset, levy not yet refunded, offset."
    )
    _year_header(sheet, top + 2, years, fmt["bold"])
    first = top + 4

    def at(u: int, kind: int, t: int, *, qualified: bool = False) -> str:
        return cell(first + 3 * u + kind, 2 + t, sheet=name if qualified else None)

    seen, paid, used = 0, 1, 2
    for u in range(n):
        for kind, what in (
            (seen, "taxable not yet offset"),
            (paid, "levy not yet refunded"),
            (used, "offset"),
        ):
            sheet.write_string(first + 3 * u + kind, 0, f"{int(years[u])}: {what}")
        sheet.write_formula(first + 3 * u + seen, 2 + u, f"=MAX({taxable(u)},0)", money)
        sheet.write_formula(first + 3 * u + paid, 2 + u, f"=MAX({amount(u)},0)", money)
        for t in range(u + 1, min(u + back, n - 1) + 1):
            newer = "".join(f"-{at(w, used, t)}" for w in range(t - 1, u, -1))
            before = at(u, seen, t - 1)
            offset = at(u, used, t)
            sheet.write_formula(first + 3 * u + used, 2 + t, f"=MIN({loss(t)}{newer},{before})", money)
            sheet.write_formula(first + 3 * u + seen, 2 + t, f"={before}-{offset}", money)
            sheet.write_formula(
                first + 3 * u + paid,
                2 + t,
                f"={at(u, paid, t - 1)}*(1-IF({before}>0,{offset}/{before},0))",
                money,
            )

    def earlier(t: int) -> range:
        return range(max(0, t - back), t)

    def offset_in(t: int) -> str:
        return "+".join(at(u, used, t, qualified=True) for u in earlier(t)) or "0"

    def refund_in(t: int) -> str:
        terms = []
        for u in earlier(t):
            before, offset = at(u, seen, t - 1, qualified=True), at(u, used, t, qualified=True)
            terms.append(f"IF({before}>0,{offset}/{before},0)*{at(u, paid, t - 1, qualified=True)}")
        return "+".join(terms) or "0"

    return offset_in, refund_in, first + 3 * n + 1


# ------------------------------------------------------------------------------ the plan
@dataclass(frozen=True)
class _Param:
    """A number of the stack: a live input cell (a defined name) when it is one number, or a
    row of values on the Stack sheet when the file gives a schedule."""

    item: LiveInput
    owner: str  # the levy it belongs to ("" for the regime's depletion and the classes)
    schedule: np.ndarray | None = None


@dataclass(frozen=True)
class StackPlan:
    """What the Stack sheet needs: its parameters, the quantities and classes found by basis
    runs (in the deal's money), and the products whose gross income depletion reads."""

    params: dict[str, _Param]
    quantities: tuple[str, ...]
    classes: tuple[str, ...]  # not limited to income: allowances by basis runs
    limited: tuple[str, ...]  # limited to income: the capital entering them, by basis runs
    products: tuple[str, ...]

    @property
    def inputs(self) -> list[LiveInput]:
        """The live cells of the Inputs sheet (parameters given as one number)."""
        return [p.item for p in self.params.values() if p.schedule is None]

    def basis_table(self, parts_quantities: Mapping[str, Any], fp: FiscalPass) -> dict[str, Any]:
        """The lines to fit from a basis run made with :func:`limited_as_immediate`."""
        out: dict[str, Any] = {f"q|{name}": parts_quantities[name] for name in self.quantities}
        out |= {f"class|{name}": fp.allowances[name] for name in self.classes}
        out |= {f"add|{name}": fp.allowances[name] for name in self.limited}
        return out

    def driver_label(self, key: str) -> str:
        """The Drivers sheet's label of a basis-run line of the stack."""
        kind, name = key.split("|", 1)
        return {
            "q": f"Stack base {name} [USD]",
            "class": f"Stack allowances {name} [USD]",
            "add": f"Stack capital entering {name} [USD]",
        }[kind]


def _book(name: str) -> str | None:
    """The book an ``allowances`` term names (None: the term is not allowances)."""
    if name == "allowances":
        return "tax"
    return name.split(":", 1)[1] if name.startswith("allowances:") else None


#: A part of a defined name that is kept as written: lower-case ASCII letters, digits and "_".
_PLAIN_PART = re.compile(r"[a-z0-9_]+")


def excel_name(*parts: object) -> str:
    """A valid Excel defined name for ``parts`` (a fixed word first, then names from the deal),
    joined by ``_``.

    A part written in lower-case ASCII letters, digits and ``_`` is kept; any other (a stream
    ``copper mine``, a phase ``phase-2``, a product ``NdPr``, a name in another script) is
    spelt in those characters and followed by 6 hex digits of a hash of it, so two names the
    deal tells apart stay apart in the workbook too, also to Excel, which ignores case. The
    first part is a word, so a name never starts with a digit nor looks like a cell (``A1``,
    ``R1C1``): it has a ``_``.

    Examples
    --------
    >>> excel_name("price", "copper")
    'price_copper'
    >>> excel_name("opex", "copper mine"), excel_name("capex", "phase-2"), excel_name("price", "NdPr")
    ('opex_copper_mine_5e0d9c', 'capex_phase_2_30c6c5', 'price_ndpr_05e856')
    >>> excel_name("levy", "royalty", "above", 0)
    'levy_royalty_above_0'
    """
    out = []
    for part in parts:
        text = str(part)
        if _PLAIN_PART.fullmatch(text):
            out.append(text)
            continue
        spelt = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40]
        digest = hashlib.blake2s(text.encode("utf-8"), digest_size=3).hexdigest()
        out.append(f"{spelt}_{digest}" if spelt else digest)
    return "_".join(out)


def _number(x: Any, n_years: int) -> float | np.ndarray:
    """One number, or (T,) per period."""
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    return float(a[0]) if a.size == 1 else np.asarray(np.broadcast_to(a, (n_years,)), dtype=np.float64)


def _depletion_of(levy: LevyInputs, f: FiscalInputs) -> DepletionInputs | None:
    """The depletion a levy deducts (its own, else the regime's), None if it deducts none."""
    if levy.alternatives is not None or not any(name == "depletion" for _, name in levy.terms):
        return None
    return levy.depletion if levy.depletion is not None else f.depletion


def plan_stack(f: FiscalInputs, quantities: Iterable[str], n_years: int) -> StackPlan:
    """The Stack sheet's parameters and basis-run lines for the resolved stack ``f``;
    ``quantities`` are the names of the engine's quantities (``ProjectParts.quantities``)."""
    known = list(quantities)
    products = tuple(name.split(":", 1)[1] for name in known if name.startswith("gross:"))
    params: dict[str, _Param] = {}

    def add(name: str, path: str, label: str, unit: str, value: Any, owner: str = "") -> None:
        number = _number(value, n_years)
        if isinstance(number, float):
            params[name] = _Param(LiveInput(path, label, unit, number, name), owner)
        else:
            params[name] = _Param(LiveInput(path, label, unit, float(number[0]), name), owner, number)

    needed: dict[str, None] = {}  # the quantities to fit, in the engine's order
    earlier: set[str] = set()
    for levy in f.levies:
        for _, name in _all_terms(levy):
            if name in earlier or name in ("depletion", "royalties") or _book(name) is not None:
                continue
            needed["closure" if name == "closure_accrued" else name] = None
        if levy.scale_on is not None:
            needed["revenue" if levy.scale_on in ("margin", "cumulative_revenue") else levy.scale_on] = None
        _levy_params(levy, add)
        d = _depletion_of(levy, f)
        if d is not None:
            n = levy.name
            if levy.depletion is None:
                prefix, where, owner, who = "depletion", "fiscal.depletion", "", "Depletion"
            else:
                prefix, where, owner, who = (
                    excel_name("levy", n, "depletion"),
                    f"fiscal.levies.{n}.depletion",
                    n,
                    f"{n}: depletion",
                )
            for product, rate in d.percentage.items():
                if product in products:
                    key, path = excel_name(prefix, "rate", product), f"{where}.percentage.{product}"
                    add(key, path, f"{who} rate {product}", "fraction", rate, owner)
            add(f"{prefix}_limit", f"{where}.limit_fraction", f"{who} limit", "fraction", d.limit, owner)
            add(f"{prefix}_cost", f"{where}.cost_basis_usd", f"{who} cost basis", "USD", d.cost_basis, owner)
            needed |= dict.fromkeys(f"gross:{product}" for product in products)
            needed["charges:lines"] = None
        earlier.add(levy.name)
    for name, c in f.classes.items():
        if c.limited and c.method != "immediate":
            path = f"fiscal.capital_classes.{name}.rate"
            add(
                excel_name("class", name, "rate"),
                path,
                f"{name}: share of the pool a year",
                "fraction",
                c.rate or 1.0,
            )
    return StackPlan(
        params=params,
        quantities=tuple(q for q in known if q in needed),
        classes=tuple(name for name, c in f.classes.items() if not c.limited),
        limited=tuple(name for name, c in f.classes.items() if c.limited),
        products=products,
    )


def _levy_params(levy: LevyInputs, add: Callable[..., None]) -> None:
    """A levy's rates, bracket edges, scale points, cap and loss cap, each as a parameter."""
    n, p = levy.name, f"fiscal.levies.{levy.name}"
    if levy.rate is not None:
        add(excel_name("levy", n, "rate"), f"{p}.rate", f"{n}: rate", "fraction", levy.rate, n)
    for k, (above, rate) in enumerate(levy.brackets or ()):
        add(
            excel_name("levy", n, "above", k),
            f"{p}.brackets.{k}.above",
            f"{n}: bracket {k} above",
            "USD",
            above,
            n,
        )
        add(
            excel_name("levy", n, "rate", k),
            f"{p}.brackets.{k}.rate",
            f"{n}: bracket {k} rate",
            "fraction",
            rate,
            n,
        )
    if levy.scale_x is not None and levy.scale_rates is not None:
        for k, (x, rate) in enumerate(zip(levy.scale_x, levy.scale_rates, strict=True)):
            path = f"{p}.scale.points.{k}"
            add(excel_name("levy", n, "scale_x", k), path, f"{n}: scale point {k}, {levy.scale_on}", "", x, n)
            add(
                excel_name("levy", n, "scale_rate", k),
                path,
                f"{n}: scale point {k}, rate",
                "fraction",
                rate,
                n,
            )
    for k, (_, rate) in enumerate(levy.alternatives or ()):
        add(
            excel_name("levy", n, "alt", k, "rate"),
            f"{p}.alternatives.{k}.rate",
            f"{n}: alternative {k} rate",
            "fraction",
            rate,
            n,
        )
    if levy.cap is not None and levy.capped is not None and np.any(levy.capped > 0):
        add(
            excel_name("levy", n, "cap"),
            f"{p}.holiday.cap_after",
            f"{n}: cap after the holiday",
            "fraction",
            levy.cap,
            n,
        )
    if levy.alternatives is None and levy.carry_forward != 0:
        path = f"{p}.losses.cap_fraction"
        add(
            excel_name("levy", n, "loss_cap"),
            path,
            f"{n}: losses offset at most",
            "fraction",
            levy.cap_fraction,
            n,
        )


def _all_terms(levy: LevyInputs) -> list[tuple[float, str]]:
    """The terms of a levy's base, or of all its alternatives' bases."""
    return [t for alt, _ in levy.alternatives or () for t in alt] or list(levy.terms)


def limited_as_immediate(f: FiscalInputs) -> FiscalInputs:
    """``f`` with each class limited to income written off at once instead, unlimited: its
    allowances are then exactly the capital entering it (money of the day), each period up to
    the write-off and in it, and after it when spent; a basis run of it gives that capital as an
    affine line, from which the Stack sheet computes the pool's claims itself."""
    classes = {
        name: replace(c, method="immediate", limited=False, bonus=0.0, end="write_off") if c.limited else c
        for name, c in f.classes.items()
    }
    return replace(f, classes=classes)


# ------------------------------------------------------------------------------ the sheet
def _combine(parts: Sequence[tuple[float, str]]) -> str:
    """``a-b+0.5*c`` from (coefficient, cell) pairs; ``0`` when there are none."""
    out = ""
    for coef, ref in parts:
        body = ref if abs(coef) == 1.0 else f"{abs(coef)!r}*{ref}"
        out += ("-" if coef < 0 else "+" if out else "") + body
    return out or "0"


def _text(terms: Sequence[tuple[float, str]]) -> str:
    out = ""
    for coef, name in terms:
        body = name if abs(coef) == 1.0 else f"{abs(coef):g}*{name}"
        out += (" - " if coef < 0 else " + " if out else "") + body
    return out


def _row(x: Any, n_years: int) -> np.ndarray:
    return np.asarray(
        np.broadcast_to(np.asarray(x, dtype=np.float64).reshape(-1), (n_years,)), dtype=np.float64
    )


@dataclass(frozen=True)
class _Earlier:
    """The levies computed before one: its view of the stack so far."""

    accrued: dict[str, str]  # levy -> key of its accrued row
    royalties: tuple[str, ...]  # keys of the accrued rows of the royalty-line levies


class _StackSheet:
    """Writes the Stack sheet's rows, levy by levy (see the module docstring)."""

    def __init__(
        self,
        stk: Rows,
        losses: Any,
        led: Rows,
        plan: StackPlan,
        f: FiscalInputs,
        engine: FiscalPass,
        profile: np.ndarray,
        affine: Mapping[str, Affine],
        affine_formula: Callable[[str], Formula],
        years: np.ndarray,
        g: np.ndarray,
        fmt: Mapping[str, Any],
    ) -> None:
        self.stk, self.losses, self.led, self.plan, self.f = stk, losses, led, plan, f
        self.engine, self.profile, self.affine, self.affine_formula = engine, profile, affine, affine_formula
        self.years, self.fmt, self.n = years, fmt, int(years.size)
        self.g = _row(g, self.n)
        self.quantity: dict[str, str] = {}  # quantity name -> row key
        self.books: dict[str, list[str]] = {}  # book -> its classes not limited to income
        self.accrued: dict[str, str] = {}
        self.paid: dict[str, str] = {}
        self.base: dict[str, str] = {}  # levy -> key of its base after losses (a floor: its own)
        self.carried: dict[str, str] = {}  # levy -> key of its losses carried
        self.royalties: list[str] = []
        self.deductible: dict[str, list[str]] = {}
        self.credits: dict[str, list[str]] = {}
        self.claims: dict[str, str] = {}  # limited class -> its claims in the first levy that made them
        self.losses_row = 0

    # -- helpers
    def at(self, key: str, t: int) -> str:
        return self.stk.ref(key, t, here=self.stk.name)

    def elsewhere(self, key: str) -> Formula:
        """Row ``key`` as another sheet refers to it."""
        return lambda t: self.stk.ref(key, t)

    def cells(self, key: str) -> Formula:
        """Row ``key`` as this sheet refers to it."""
        return lambda t: self.at(key, t)

    def p(self, name: str, t: int) -> str:
        """A parameter in year t: its defined name, or its cell in the row of a schedule."""
        return name if self.plan.params[name].schedule is None else self.at(f"param|{name}", t)

    def row(
        self, key: str, label: str, make: Formula, how: str = "", cached: Any = None, fmt: str = "money"
    ) -> None:
        values = None if cached is None else _row(cached, self.n)
        self.stk.formulas(key, label, make, self.fmt[fmt], how, cached=values)

    def result(self, levy: str, what: str) -> np.ndarray:
        return _row(getattr(self.engine.results[levy], what), self.n)

    # -- the sheet
    def write(self) -> None:
        fmt, stk = self.fmt, self.stk
        stk.skip("Bases, money of the day: the Drivers sheet's affine lines × g", fmt["bold"])
        for name in self.plan.quantities:
            self.quantity[name] = f"q|{name}"
            self.row(
                f"q|{name}",
                f"{name}, money of the day",
                self.times_g(f"q|{name}"),
                "Drivers × g",
                self.affine[f"q|{name}"].base * self.g,
            )
        uses = {name for levy in self.f.levies for _, name in _all_terms(levy)}
        if "closure_accrued" in uses or any(_depletion_of(levy, self.f) for levy in self.f.levies):
            stk.values("profile", "Share of the life's output", self.profile, fmt["coef"], "values")
        if "closure_accrued" in uses:
            self.quantity["closure_accrued"] = "q|closure_accrued"
            self.row(
                "q|closure_accrued",
                "closure_accrued, money of the day",
                lambda t: f"SUM({stk.span('q|closure', here=stk.name)})*{self.at('profile', t)}",
                "the life's closure × the year's share of output",
            )
        stk.skip("Capital allowances, money of the day", fmt["bold"])
        for name in self.plan.classes:
            self.books.setdefault(self.f.classes[name].book, []).append(f"class|{name}")
            self.row(
                f"class|{name}",
                f"Allowances: {name}, money of the day",
                self.times_g(f"class|{name}"),
                "Drivers × g",
                self.affine[f"class|{name}"].base * self.g,
            )
        for book, keys in self.books.items():
            self.row(
                f"book|{book}",
                f"Allowances of the book {book}",
                self.sum_of(keys),
                "sum of its classes",
            )
        for name in self.plan.limited:
            self.row(
                f"add|{name}",
                f"Capital entering {name} (limited to income), money of the day",
                self.times_g(f"add|{name}"),
                "Drivers × g",
                self.affine[f"add|{name}"].base * self.g,
            )
        for levy in self.f.levies:
            self.levy(levy)

    def times_g(self, key: str) -> Formula:
        affine = self.affine_formula(key)
        return lambda t: f"({affine(t)})*{self.led.ref('g', t)}"

    def term(self, name: str, t: int, earlier: _Earlier) -> str | None:
        """The cell of one term of a base in year t (None: the term is nothing here)."""
        if name == "depletion":
            return None  # its own step
        book = _book(name)
        if book is not None:
            return self.at(f"book|{book}", t) if book in self.books else None
        if name in earlier.accrued:
            return self.at(earlier.accrued[name], t)
        if name == "royalties":
            return (
                "(" + "+".join(self.at(k, t) for k in earlier.royalties) + ")" if earlier.royalties else None
            )
        if name in self.quantity:
            return self.at(self.quantity[name], t)
        return None  # a product or line the deal does not have

    def expression(
        self, terms: Sequence[tuple[float, str]], deductions: Sequence[str], earlier: _Earlier
    ) -> Formula:
        def make(t: int) -> str:
            parts = [(coef, ref) for coef, name in terms if (ref := self.term(name, t, earlier)) is not None]
            return _combine(parts + [(-1.0, self.at(k, t)) for k in deductions])

        return make

    def levy(self, levy: LevyInputs) -> None:
        n = levy.name
        earlier = _Earlier(dict(self.accrued), tuple(self.royalties))
        self.stk.skip(f"{levy.label} ({n}), money of the day", self.fmt["bold"])
        for name, param in self.plan.params.items():
            if param.owner == n and param.schedule is not None:
                self.stk.values(
                    f"param|{name}", param.item.label, param.schedule, self.fmt["frac"], "schedule"
                )
        if levy.alternatives is not None:
            self.floor(levy, earlier)
        else:
            self.normal(levy, earlier)
        self.timing(levy)
        self.accrued[n] = f"{n}|accrued"
        if levy.line == "royalty":
            self.royalties.append(f"{n}|accrued")
        for later in levy.deductible_from:
            self.deductible.setdefault(later, []).append(f"{n}|accrued")
        for later in levy.credit_against:
            self.credits.setdefault(later, []).append(f"{n}|accrued")

    def holiday(self, levy: LevyInputs, amount: Formula) -> Formula:
        """The levy times the share of the year outside a holiday."""
        if levy.holiday is None or not np.any(levy.holiday > 0):
            return amount
        key = f"{levy.name}|holiday"
        self.stk.values(
            key, f"{levy.name}: share of the year in a holiday", levy.holiday, self.fmt["frac"], "values"
        )
        return lambda t: f"(1-{self.at(key, t)})*({amount(t)})"

    def floor(self, levy: LevyInputs, earlier: _Earlier) -> None:
        """A levy of alternatives: the largest rate × base, topping up earlier levies; what it
        pays above them is a credit used later against their excess over it."""
        n = levy.name
        alternatives = levy.alternatives or ()
        for j, (terms, _) in enumerate(alternatives):
            self.row(f"{n}|alt{j}", f"{n}: base {j} ({_text(terms)})", self.expression(terms, (), earlier))

        def largest(t: int) -> str:
            parts = [
                f"{self.p(excel_name('levy', n, 'alt', j, 'rate'), t)}*MAX({self.at(f'{n}|alt{j}', t)},0)"
                for j in range(len(alternatives))
            ]
            return "MAX(" + ",".join(["0", *parts]) + ")"

        self.row(
            f"{n}|own",
            f"{n}: the floor",
            self.holiday(levy, largest),
            "largest rate × base",
            self.result(n, "own"),
        )
        tops = [earlier.accrued[name] for name in levy.tops_up]

        def topped(t: int) -> str:
            return "(" + "+".join(self.at(k, t) for k in tops) + ")" if tops else "0"

        own = self.cells(f"{n}|own")
        self.row(f"{n}|pay", f"{n}: above the levies it tops up", lambda t: f"MAX({own(t)}-{topped(t)},0)")
        self.row(
            f"{n}|usable",
            f"{n}: credit used",
            lambda t: "0" if t == 0 else f"MIN({self.at(f'{n}|credit', t - 1)},MAX({topped(t)}-{own(t)},0))",
            "against their excess over the floor",
        )
        self.row(
            f"{n}|accrued",
            f"{n}: levy of the year",
            lambda t: f"{self.at(f'{n}|pay', t)}-{self.at(f'{n}|usable', t)}",
            cached=self.result(n, "accrued"),
        )
        self.row(
            f"{n}|credit",
            f"{n}: credit carried",
            lambda t: (
                ("0" if t == 0 else self.at(f"{n}|credit", t - 1))
                + f"-{self.at(f'{n}|usable', t)}+{self.at(f'{n}|pay', t)}"
            ),
        )
        self.base[n] = f"{n}|own"

    def sum_of(self, keys: Sequence[str]) -> Formula:
        return lambda t: "+".join(self.at(k, t) for k in keys)

    def normal(self, levy: LevyInputs, earlier: _Earlier) -> None:
        """A levy on a base: claims limited to income, depletion, losses, the rate, the holiday
        and its cap, credits from earlier levies, carry-back refunds."""
        n, f = levy.name, self.f
        self.row(
            f"{n}|base",
            f"{n}: base ({_text(levy.terms)})",
            self.expression(levy.terms, self.deductible.get(n, []), earlier),
            "terms" + (" less the levies deductible from it" if self.deductible.get(n) else ""),
        )
        income = f"{n}|base"
        used_books = {b for _, name in levy.terms if (b := _book(name)) is not None}  # as the engine
        pools = [c for b in used_books for c, cls in f.classes.items() if cls.limited and cls.book == b]
        for c in pools:
            income = self.limited_claims(levy, c, income)
        d = _depletion_of(levy, f)
        if d is not None:
            income = self.depletion(levy, d, income, earlier)
        x = self.variable(levy, income)
        credits_in = self.credits.get(n, [])
        carries = levy.carry_forward != 0 or levy.carry_back > 0 or bool(credits_in)
        refund = np.zeros(self.n) if levy.refund is None else _row(levy.refund, self.n)
        at = self.at
        if not carries:
            self.row(
                f"{n}|taxable",
                f"{n}: taxable",
                lambda t: at(income, t) if refund[t] > 0 else f"MAX({at(income, t)},0)",
                "refunded at the rate" if refund.any() else "MAX(base, 0)",
                self.result(n, "base"),
            )
            self.row(
                f"{n}|accrued", f"{n}: levy of the year", self.amount(levy, x), "", self.result(n, "accrued")
            )
            self.base[n] = f"{n}|taxable"
            return
        self.row(f"{n}|positive", f"{n}: positive base", lambda t: f"MAX({at(income, t)},0)")
        self.row(f"{n}|loss", f"{n}: loss of the year", lambda t: f"MAX(-{at(income, t)},0)")
        keep, back = levy.carry_forward, levy.carry_back
        grid: dict[str, Formula] = {}  # the carry-back grid's columns, once the rows it reads exist
        if back > 0:
            self.row(f"{n}|offset", f"{n}: loss carried back", lambda t: grid["offset"](t), "Losses sheet")
            self.row(
                f"{n}|refund",
                f"{n}: refund of earlier years' levy",
                lambda t: grid["refund"](t),
                "Losses sheet: offset ÷ taxable × levy paid",
            )

        def loss_left(t: int) -> str:  # the loss after what is carried back
            return f"{at(f'{n}|loss', t)}-{at(f'{n}|offset', t)}" if back > 0 else at(f"{n}|loss", t)

        def stored(t: int) -> str:  # what is carried forward (a refunded loss is not)
            return "0" if refund[t] > 0 else loss_left(t)

        cap = excel_name("levy", n, "loss_cap")
        used: str | None = None
        if keep is None or keep >= self.n:  # no loss can expire within the life: one pool
            self.row(f"{n}|stored", f"{n}: loss carried forward", stored)
            self.row(
                f"{n}|used",
                f"{n}: losses used",
                lambda t: (
                    "0"
                    if t == 0
                    else f"MIN({at(f'{n}|carried', t - 1)},{self.p(cap, t)}*{at(f'{n}|positive', t)})"
                ),
                "at most the cap × the positive base",
            )
            self.row(
                f"{n}|carried",
                f"{n}: losses carried",
                lambda t: (
                    ("0" if t == 0 else at(f"{n}|carried", t - 1))
                    + f"-{at(f'{n}|used', t)}+{at(f'{n}|stored', t)}"
                ),
                "a pool without expiry",
                self.result(n, "losses_carried"),
            )
            used = f"{n}|used"
        elif keep > 0:
            self.row(f"{n}|stored", f"{n}: loss carried forward", stored)
            used_in, left_in, self.losses_row = loss_vintages(
                self.losses,
                self.losses_row,
                self.years,
                keep,
                lambda t: f"{self.p(cap, t)}*{self.stk.ref(f'{n}|positive', t)}",
                self.elsewhere(f"{n}|stored"),
                f"{n}: losses carried forward, oldest first, each for {keep} years (money of the day)",
                self.fmt,
            )
            self.row(f"{n}|used", f"{n}: losses used", lambda t: f"SUM({used_in(t)})", "Losses sheet")
            self.row(
                f"{n}|carried",
                f"{n}: losses carried",
                lambda t: f"SUM({left_in(t)})",
                "Losses sheet",
                self.result(n, "losses_carried"),
            )
            used = f"{n}|used"
        if used is not None:
            self.carried[n] = f"{n}|carried"

        def taxable(t: int) -> str:
            after = at(f"{n}|positive", t) + ("" if used is None else f"-{at(used, t)}")
            return after if refund[t] <= 0 else f"IF({at(income, t)}<0,-({loss_left(t)}),{after})"

        self.row(f"{n}|taxable", f"{n}: taxable", taxable, "after losses", self.result(n, "base"))
        self.row(f"{n}|own", f"{n}: levy before credits", self.amount(levy, x), "", self.result(n, "own"))
        amount = f"{n}|own"
        if credits_in:
            self.row(
                f"{n}|credit_open",
                f"{n}: credits available",
                lambda t: (
                    ("" if t == 0 else f"{at(f'{n}|credit', t - 1)}+")
                    + "+".join(at(k, t) for k in credits_in)
                ),
                "carried + the crediting levies of the year",
            )
            self.row(
                f"{n}|credit_used",
                f"{n}: credits used",
                lambda t: f"MIN({at(f'{n}|credit_open', t)},MAX({at(f'{n}|own', t)},0))",
            )
            self.row(
                f"{n}|credit",
                f"{n}: credits carried",
                lambda t: f"{at(f'{n}|credit_open', t)}-{at(f'{n}|credit_used', t)}",
            )
            self.row(
                f"{n}|amount",
                f"{n}: levy after credits",
                lambda t: f"{at(f'{n}|own', t)}-{at(f'{n}|credit_used', t)}",
            )
            amount = f"{n}|amount"
        if back > 0:
            grid["offset"], grid["refund"], self.losses_row = _carry_back(
                self.losses,
                self.losses_row,
                self.years,
                back,
                self.elsewhere(f"{n}|loss"),
                self.elsewhere(f"{n}|taxable"),
                self.elsewhere(amount),
                f"{n}: losses carried back {back} years, most recent first (money of the day)",
                self.fmt,
            )
        self.row(
            f"{n}|accrued",
            f"{n}: levy of the year",
            (lambda t: f"{at(amount, t)}-{at(f'{n}|refund', t)}") if back > 0 else self.cells(amount),
            "less the refund" if back > 0 else "",
            self.result(n, "accrued"),
        )
        self.base[n] = f"{n}|taxable"

    def limited_claims(self, levy: LevyInputs, c: str, before: str) -> str:
        """A pool limited to income: each year it claims at most its share of the pool (all of it
        when expensed), and no more than the income left; in the write-off year what is left
        is written off (or lost); after it, capital is claimed when spent."""
        n, cls, w, at = levy.name, self.f.classes[c], self.f.write_off, self.at
        pool, claim, add = f"{n}|{c}|pool", f"{n}|{c}|claim", f"add|{c}"
        self.row(
            pool,
            f"{n}: pool {c} before its claim",
            lambda t: ("" if t == 0 else f"{at(pool, t - 1)}-{at(claim, t - 1)}+") + at(add, t),
        )
        share = "" if cls.method == "immediate" else f"{excel_name('class', c, 'rate')}*"

        def make(t: int) -> str:
            if t > w:
                return at(add, t)
            if t == w:
                return at(pool, t) if cls.end == "write_off" else "0"
            return f"MIN({share}{at(pool, t)},MAX({at(before, t)},0))"

        claimed = self.engine.results[n].claimed.get(c)
        self.row(claim, f"{n}: claim of {c}", make, "MIN(its share of the pool, MAX(income, 0))", claimed)
        self.claims.setdefault(c, claim)
        after = f"{n}|after {c}"
        self.row(after, f"{n}: base after {c}", lambda t: f"{at(before, t)}-{at(claim, t)}")
        return after

    def depletion(self, levy: LevyInputs, d: DepletionInputs, before: str, earlier: _Earlier) -> str:
        """Percentage depletion by product within its limit, or cost depletion if larger."""
        n, at = levy.name, self.at
        prefix = "depletion" if levy.depletion is None else excel_name("levy", n, "depletion")
        gross = [f"q|gross:{p}" for p in self.plan.products]
        shared = ([self.quantity["charges:lines"]] if "charges:lines" in self.quantity else []) + (
            list(earlier.royalties) if d.less_royalties else []
        )

        def cut(t: int) -> str:
            total = "(" + "+".join(at(k, t) for k in gross) + ")" if gross else "0"
            share = "+".join(at(k, t) for k in shared) or "0"
            return f"IF({total}>0,({share})/{total},0)"

        self.row(f"{n}|cut", f"{n}: share of gross income less charges and royalties", cut, fmt="coef")
        rated = [(p, excel_name(prefix, "rate", p)) for p in self.plan.products if p in d.percentage]

        def depleted(t: int) -> str:
            parts = [f"{name}*MAX({at(f'q|gross:{p}', t)}*(1-{at(f'{n}|cut', t)}),0)" for p, name in rated]
            percentage = f"MIN({'+'.join(parts) or '0'},{prefix}_limit*MAX({at(before, t)},0))"
            return f"MAX({percentage},{prefix}_cost*{at('profile', t)})"

        self.row(f"{n}|depletion", f"{n}: depletion", depleted, "percentage within its limit, or cost")
        self.row(
            f"{n}|after depletion",
            f"{n}: base after depletion",
            lambda t: f"{at(before, t)}-{at(f'{n}|depletion', t)}",
        )
        return f"{n}|after depletion"

    def variable(self, levy: LevyInputs, income: str) -> str | None:
        """The sliding scale's variable: a price of the day, the margin or cumulative revenue."""
        if levy.scale_on is None:
            return None
        n, at, key = levy.name, self.at, f"{levy.name}|x"
        if levy.scale_on == "margin":
            revenue = self.quantity["revenue"]
            make: Formula = lambda t: f"IF({at(revenue, t)}>0,{at(income, t)}/{at(revenue, t)},0)"  # noqa: E731
        elif levy.scale_on == "cumulative_revenue":
            make = lambda t: f"SUM({self.stk.span(self.quantity['revenue'], here=self.stk.name, last=t)})"  # noqa: E731
        else:
            make = self.cells(self.quantity[levy.scale_on])
        self.row(key, f"{n}: scale variable ({levy.scale_on})", make, fmt="coef")
        return key

    def amount(self, levy: LevyInputs, x: str | None) -> Formula:
        """rate × taxable (flat, marginal brackets, a slab or a sliding scale), times the share
        outside a holiday, at most the cap × taxable after it."""
        n, at = levy.name, self.at
        taxable = f"{n}|taxable"
        if levy.scale_x is not None and x is not None:
            self.row(f"{n}|scale rate", f"{n}: rate on the scale", self.scale(levy, x), fmt="frac")

        def rated(t: int) -> str:
            tx = at(taxable, t)
            if levy.rate is not None:
                return f"{self.p(excel_name('levy', n, 'rate'), t)}*{tx}"
            if levy.brackets is not None:
                k_count = len(levy.brackets)
                edge = [self.p(excel_name("levy", n, "above", k), t) for k in range(k_count)]
                rate = [self.p(excel_name("levy", n, "rate", k), t) for k in range(k_count)]
                if levy.slab:  # the whole base at the rate of the highest edge it exceeds
                    r = rate[0]
                    for k in range(1, k_count):
                        r = f"IF(MAX({tx},0)>{edge[k]},{rate[k]},{r})"
                    return f"{r}*{tx}"
                slices = [
                    f"{rate[k]}*MIN(MAX({tx}-{edge[k]},0),{edge[k + 1]}-{edge[k]})"
                    for k in range(k_count - 1)
                ]
                slices.append(f"{rate[-1]}*MAX({tx}-{edge[-1]},0)")
                return f"IF({tx}<0,{rate[0]}*{tx},{'+'.join(slices)})"
            return f"{at(f'{n}|scale rate', t)}*{tx}"

        out = self.holiday(levy, rated)
        if levy.cap is None or levy.capped is None or not np.any(levy.capped > 0):
            return out
        capped = levy.capped

        def make(t: int) -> str:
            if capped[t] <= 0:
                return out(t)
            return f"MIN({out(t)},{self.p(excel_name('levy', n, 'cap'), t)}*MAX({at(taxable, t)},0))"

        return make

    def scale(self, levy: LevyInputs, x: str) -> Formula:
        n = levy.name
        count = 0 if levy.scale_x is None else int(levy.scale_x.size)

        def make(t: int) -> str:
            v = self.at(x, t)
            xs = [self.p(excel_name("levy", n, "scale_x", k), t) for k in range(count)]
            rs = [self.p(excel_name("levy", n, "scale_rate", k), t) for k in range(count)]
            expr = rs[-1]
            for k in reversed(range(count - 1)):
                if levy.scale_linear:
                    step = f"{rs[k]}+({v}-{xs[k]})*({rs[k + 1]}-{rs[k]})/({xs[k + 1]}-{xs[k]})"
                else:
                    step = rs[k]
                expr = f"IF({v}<{xs[k + 1]},{step},{expr})"
            if levy.scale_linear:
                return f"IF({v}<={xs[0]},{rs[0]},{expr})"
            return f"IF({v}<{xs[0]},0,{expr})"

        return make

    def timing(self, levy: LevyInputs) -> None:
        """What is paid each year: the accrued levy spread by its instalments; what would fall
        after the last year is paid in it."""
        n, last = levy.name, self.n - 1
        accrued = f"{n}|accrued"
        if levy.timing == (1.0,):
            self.paid[n] = accrued
            return

        def make(t: int) -> str:
            parts = []
            for k, share in enumerate(levy.timing):
                if share == 0.0:
                    continue
                if t < last and k <= t:
                    parts.append(f"{share!r}*{self.at(accrued, t - k)}")
                elif t == last:
                    lo = max(last - k, 0)
                    parts.append(f"{share!r}*SUM({self.at(accrued, lo)}:{self.at(accrued, last)})")
            return "+".join(parts) or "0"

        self.row(f"{n}|paid", f"{n}: paid in the year", make, "by its timing", self.result(n, "paid"))
        self.paid[n] = f"{n}|paid"

    # -- the ledger's lines
    def ledger_lines(self) -> dict[str, Formula]:
        """Each levy line of the ledger and the stack's memo lines, in the deal's money."""
        g = self.led.ref
        out: dict[str, Formula] = {}

        def deflated(keys: Sequence[str], sign: str = "") -> Formula:
            if not keys:
                return lambda t: "0"
            return lambda t: f"{sign}({'+'.join(self.stk.ref(k, t) for k in keys)})/{g('g', t)}"

        by_line: dict[str, list[str]] = {}
        for levy in self.f.levies:
            by_line.setdefault(reg.levy(levy.label, levy.line).name, []).append(self.paid[levy.name])
        for name, keys in by_line.items():
            out[name] = deflated(keys, "-")
        tax_book = [f"class|{c}" for c in self.plan.classes if self.f.classes[c].book == "tax"]
        tax_book += [k for c, k in self.claims.items() if self.f.classes[c].book == "tax"]
        out[reg.DEPRECIATION.name] = deflated(tax_book)
        for c in self.plan.classes:
            out[reg.allowances(c).name] = deflated([f"class|{c}"])
        for c, key in self.claims.items():
            out[reg.allowances(c).name] = deflated([key])
        for levy in self.f.levies:
            out[reg.levy_base(levy.name).name] = deflated([self.base[levy.name]])
            carried = self.carried.get(levy.name)
            if carried is not None:
                out[reg.levy_losses(levy.name).name] = deflated([carried])
        return out


def write_stack(
    stk: Rows,
    losses: Any,
    led: Rows,
    plan: StackPlan,
    f: FiscalInputs,
    engine: FiscalPass,
    profile: np.ndarray,
    affine: Mapping[str, Affine],
    affine_formula: Callable[[str], Formula],
    years: np.ndarray,
    g: np.ndarray,
    fmt: Mapping[str, Any],
) -> dict[str, Formula]:
    """Write the Stack sheet's rows (and the Losses sheet's grids) and return the formula of
    each levy line and memo line of the ledger, in the deal's money, by line name.

    ``stk`` is the Stack sheet's row writer, ``led`` the Ledger's (its row ``g`` is money of the
    day per unit of the deal's money); ``engine`` is dealcalc's own pass (its numbers are stored
    as the formulas' results); ``affine`` and ``affine_formula`` the basis-run lines of
    :meth:`StackPlan.basis_table` and their Drivers formulas. Rows are written when ``stk`` is
    flushed."""
    sheet = _StackSheet(stk, losses, led, plan, f, engine, profile, affine, affine_formula, years, g, fmt)
    sheet.write()
    if sheet.losses_row == 0:
        losses.write_string(
            0, 0, "No levy carries losses with an expiry or back: see the Stack sheet.", fmt["title"]
        )
    return sheet.ledger_lines()
