"""How numbers read: one set of rules for the terminal, Jupyter, HTML, charts and workbook labels.

Money is shown in US$ million with the unit in the header (``NPV (US$ M)``), rates and
probabilities as percentages, years to one decimal, counts with thousands separators; never in
scientific notation and never as ``-0.0``. What a number is comes from its name, by the naming
conventions of the ledger and the results (design.md §4): ``*_usd`` and ``[USD]`` are money,
``irr``, ``*_rate``, ``take``, ``prob_*`` and ``*_share`` are fractions shown in per cent,
``*_years`` and ``payback*`` are years, ``dscr``/``llcr`` are cover ratios.

The numbers in DataFrames are never changed: these functions only make the text shown.
"""

from __future__ import annotations

import math
import re
from typing import Literal

__all__ = [
    "MISSING",
    "Kind",
    "cell",
    "count",
    "header",
    "kind_of",
    "money",
    "number",
    "percent",
    "ratio",
    "unit_of",
    "year",
    "years",
]

#: What a quantity is, which decides how it is shown.
Kind = Literal["money", "percent", "years", "year", "count", "ratio", "number", "text"]

#: How a missing value (NaN, None) is shown.
MISSING = "—"

_PERCENT_NAMES = {
    "irr",
    "mirr",
    "take",
    "government_take",
    "prob_negative",
    "prob_loses",
    "prob_negative_with",
    "prob_negative_without",
    "share_of_market",
    "no_solution_share",
    "discount_rate",
    "p_continuity",
    "p_built",
    "probability",
    "s1",
    "st",
    "s1_conf",
    "st_conf",
    "share",
}
_YEARS_NAMES = {"payback", "payback_years", "discounted_payback", "discounted_payback_years", "years"}
_COUNT_NAMES = {"draws", "no_solution", "n", "scenarios", "count"}
_YEAR_NAMES = {"year", "start_year", "end_year", "default_year", "first_year", "last_year"}
_RATIO_NAMES = {"dscr", "llcr", "min_dscr", "mean_dscr", "average_dscr", "profitability_index", "pi"}

#: Headers for the result names users meet most (others are made from the name).
_LABELS = {
    "npv_usd": "NPV",
    "irr": "IRR",
    "mirr": "MIRR",
    "pre_tax_npv_usd": "Pre-tax NPV",
    "pre_tax_irr": "Pre-tax IRR",
    "payback_years": "Payback",
    "peak_funding_usd": "Peak funding",
    "discount_rate": "Discount rate",
    "take": "Government take",
    "prob_negative": "P(NPV < 0)",
    "prob_loses": "P(loses)",
    "share_of_market": "Share of the market price",
    "price_usd_per_unit": "Price paid per unit",
    "market_usd_per_unit": "Market price per unit",
    "prob_negative_with": "P(NPV < 0) with",
    "prob_negative_without": "P(NPV < 0) without",
    "change_std_error_usd": "Change, std error",
    "no_solution_share": "No IRR",
    "delta_npv_usd": "Change in NPV",
    "profitability_index": "Profitability index",
    "min_dscr": "Minimum DSCR",
    "mean_dscr": "Mean DSCR",
    "lenders_loss_usd": "Lenders' loss",
    "dscr": "DSCR",
    "llcr": "LLCR",
    "debt_usd": "Debt",
}
#: Labels that read differently after a party's name (``ussm take``, not ``ussm Government take``).
_PARTY_LABELS = {"take": "take", "npv_usd": "NPV", "irr": "IRR"}


def _leaf(name: str) -> str:
    """``ussm.npv_usd`` -> ``npv_usd``; ``NPV [USD]`` stays as it is."""
    return name.rsplit(".", 1)[-1].strip()


def kind_of(name: str) -> Kind:
    """What the quantity called ``name`` is, by the naming conventions.

    Examples
    --------
    >>> [kind_of(n) for n in ("npv_usd", "ussm.irr", "Royalty [USD]", "payback_years", "draws", "min_dscr")]
    ['money', 'percent', 'money', 'years', 'count', 'ratio']
    >>> kind_of("start_year"), kind_of("ore_tpa")
    ('year', 'number')
    """
    leaf = _leaf(name)
    low = leaf.lower()
    if low.endswith(("_usd", "usd_m")) or "[usd]" in low or low.startswith("usd_"):
        return "money"
    if low in _PERCENT_NAMES or low.endswith(("irr", "_rate", "_share", "_take")) or low.startswith("prob"):
        return "percent"
    if low in _YEARS_NAMES or low.endswith("_years"):
        return "years"
    if low in _YEAR_NAMES or low.endswith("_year"):
        return "year"
    if low in _COUNT_NAMES or low.startswith("n_"):
        return "count"
    if low in _RATIO_NAMES or low.endswith(("dscr", "llcr")):
        return "ratio"
    return "number"


def unit_of(kind: Kind, currency: str = "US$") -> str:
    """The unit a header shows for ``kind`` (``US$ M``, ``%``, ``years``, ``×``), or ``""``.

    Examples
    --------
    >>> unit_of("money"), unit_of("percent"), unit_of("count")
    ('US$ M', '%', '')
    """
    return {"money": f"{currency} M", "percent": "%", "years": "years", "ratio": "×"}.get(kind, "")


def header(name: str, currency: str = "US$") -> str:
    """A column header for the result called ``name``: words, with the unit it is shown in.

    Examples
    --------
    >>> header("npv_usd"), header("ussm.irr"), header("payback_years"), header("Royalty [USD]")
    ('NPV (US$ M)', 'ussm IRR (%)', 'Payback (years)', 'Royalty (US$ M)')
    """
    party, _, leaf = name.strip().rpartition(".")
    kind = kind_of(name)
    label = _PARTY_LABELS.get(leaf) if party else None
    label = label or _LABELS.get(leaf)
    if label is None:
        label = re.sub(r"\s*\[usd\]\s*$", "", leaf, flags=re.IGNORECASE)
        label = re.sub(r"_usd$", "", label).replace("_", " ").strip()
        label = label[:1].upper() + label[1:] if label.islower() else label
    if party:
        label = f"{party} {label}"
    unit = unit_of(kind, currency)
    return f"{label} ({unit})" if unit else label


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _fixed(x: float, digits: int) -> str:
    """``x`` with ``digits`` decimals and thousands separators, never ``-0.0``."""
    text = f"{x:,.{digits}f}"
    if text.startswith("-") and not any(ch in "123456789" for ch in text):
        text = text[1:]
    return text


def money(x: float | None, *, digits: int = 1, scale: float = 1e6) -> str:
    """Money in millions (the header says ``US$ M``).

    Examples
    --------
    >>> money(-12_345_678.9), money(3e8), money(-1e3), money(float("nan"))
    ('-12.3', '300.0', '0.0', '—')
    """
    if _missing(x):
        return MISSING
    assert x is not None
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return _fixed(x / scale, digits)


def percent(x: float | None, *, digits: int = 1) -> str:
    """A fraction as a percentage (0.1150 -> ``11.5 %``).

    Examples
    --------
    >>> percent(0.11496), percent(-0.00001), percent(None)
    ('11.5 %', '0.0 %', '—')
    """
    if _missing(x):
        return MISSING
    assert x is not None
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return _fixed(100 * x, digits) + " %"


def years(x: float | None) -> str:
    """Years to one decimal (a payback of 9.977 years -> ``10.0``).

    Examples
    --------
    >>> years(9.977), years(float("inf"))
    ('10.0', 'never')
    """
    if _missing(x):
        return MISSING
    assert x is not None
    if math.isinf(x):
        return "never"
    return _fixed(x, 1)


def count(x: float | None) -> str:
    """A whole number with thousands separators.

    Examples
    --------
    >>> count(20000), count(1600.0)
    ('20,000', '1,600')
    """
    if _missing(x):
        return MISSING
    assert x is not None
    return _fixed(x, 0)


def year(x: float | None) -> str:
    """A calendar or study year as written (no thousands separator).

    Examples
    --------
    >>> year(2031.0), year(-4)
    ('2031', '-4')
    """
    if _missing(x):
        return MISSING
    assert x is not None
    return f"{float(x):.0f}"


def ratio(x: float | None) -> str:
    """A cover ratio to two decimals with its sign (``1.35×``).

    Examples
    --------
    >>> ratio(1.349), ratio(float("inf"))
    ('1.35×', '—')
    """
    if _missing(x) or (x is not None and math.isinf(x)):
        return MISSING
    assert x is not None
    return _fixed(x, 2) + "×"


def number(x: float | None, *, significant: int = 4, whole: bool = True) -> str:
    """A plain number: ``significant`` figures, thousands separators, never scientific notation;
    a whole number without decimals unless ``whole`` is False (to match a neighbour's decimals).

    Examples
    --------
    >>> number(3e8), number(0.000123456), number(-0.00004, significant=2), number(29258.4)
    ('300,000,000', '0.0001235', '-0.00004', '29,258')
    >>> number(144.0), number(1600)
    ('144', '1,600')
    """
    if _missing(x):
        return MISSING
    assert x is not None
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    if whole and float(x).is_integer():  # a whole number reads whole: 144, not 144.0
        return _fixed(x, 0)
    magnitude = math.floor(math.log10(abs(x)))
    digits = max(significant - 1 - magnitude, 0)
    return _fixed(x, digits)


def cell(name: str, x: object, *, currency: str = "US$") -> str:
    """``x`` as the quantity called ``name`` is shown (see :func:`kind_of`); text as it is.

    Examples
    --------
    >>> cell("npv_usd", -5.6e6), cell("ussm.irr", 0.1257), cell("draws", 3), cell("deal", "x")
    ('-5.6', '12.6 %', '3', 'x')
    """
    if x is None:
        return MISSING
    if isinstance(x, bool) or type(x).__name__ == "bool_":
        return str(bool(x))
    if not isinstance(x, int | float):
        try:
            x = float(x)  # type: ignore[arg-type]  # numpy scalars
        except (TypeError, ValueError):
            return str(x)
    kind = kind_of(name)
    value = float(x)
    if kind == "money":
        return money(value)
    if kind == "percent":
        return percent(value)
    if kind == "years":
        return years(value)
    if kind == "count":
        return count(value)
    if kind == "year":
        return year(value)
    if kind == "ratio":
        return ratio(value)
    return number(value)
