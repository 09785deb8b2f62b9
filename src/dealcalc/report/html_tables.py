"""HTML tables of the report: plain rows and columns, and year tables printed in blocks of years.

Every number goes through :mod:`dealcalc.formatting` (money in US$ M with the unit in the
row or column label, percentages, years to one decimal, cover ratios, never scientific
notation). A table of years has its lines down and years across, split into blocks of at most
:data:`YEARS_PER_BLOCK` years, so that every year fits the width of a printed page.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from dealcalc import formatting as fmt

__all__ = ["YEARS_PER_BLOCK", "Row", "esc", "points", "table", "value_text", "year_blocks", "year_table"]

#: The most years a block of a year table holds (a portrait A4 page at the print size).
YEARS_PER_BLOCK = 9


def esc(text: object) -> str:
    """``text`` escaped for HTML (quotes too)."""
    return html.escape(str(text), quote=True)


def points(x: float | None) -> str:
    """A change of a rate in percentage points (``0.1189`` -> ``11.9 pts``).

    Examples
    --------
    >>> points(0.11894), points(-0.0000001), points(None)
    ('11.9 pts', '0.0 pts', '—')
    """
    text = fmt.percent(x)
    return text if text == fmt.MISSING else text.removesuffix(" %") + " pts"


def value_text(value: object, kind: str = "number") -> str:
    """A value as shown: a number by ``kind`` (``money``, ``percent``, ``years``, ``count``,
    ``ratio``, ``number``), a list or a ``{year: value}`` schedule item by item, text as it is.

    Examples
    --------
    >>> value_text(0.05, "percent"), value_text([0.6, 0.85], "percent"), value_text({2028: 8e5})
    ('5.0 %', '60.0 %, 85.0 %', '2028: 800,000')
    """
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v, kind)}" for k, v in value.items()) or fmt.MISSING
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v, kind) for v in value) or fmt.MISSING
    if value is None:
        return fmt.MISSING
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        return str(value)
    x = float(value)
    show: dict[str, Callable[[float], str]] = {
        "money": fmt.money,
        "percent": fmt.percent,
        "years": fmt.years,
        "count": fmt.count,
        "year": fmt.year,
        "ratio": fmt.ratio,
    }
    return show.get(kind, fmt.number)(x)


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    caption: str = "",
    note: str = "",
    row_classes: Sequence[str] | None = None,
    cls: str = "",
    text_columns: Sequence[int] = (),
) -> str:
    """An HTML table: ``columns`` (the first heads the row labels), ``rows`` of text (the first
    item is the row's label). Cells are escaped here; ``text_columns`` (0-based, after the
    label) are left-aligned words rather than numbers."""
    head = "".join(
        f'<th scope="col" class="text">{esc(c)}</th>'
        if j - 1 in text_columns
        else f'<th scope="col">{esc(c)}</th>'
        for j, c in enumerate(columns)
    )
    body = []
    for k, row in enumerate(rows):
        extra = f' class="{esc(row_classes[k])}"' if row_classes and row_classes[k] else ""
        cells = "".join(
            f'<td class="text">{esc(c)}</td>' if j in text_columns else f"<td>{esc(c)}</td>"
            for j, c in enumerate(row[1:])
        )
        body.append(f'<tr{extra}><th scope="row">{esc(row[0])}</th>{cells}</tr>')
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    foot = f'<p class="caption">{esc(note)}</p>' if note else ""
    return (
        f'<table class="dealcalc {esc(cls)}">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{foot}"
    )


@dataclass(frozen=True)
class Row:
    """One line of a year table: its label (with the unit), its values by year and how they
    read (a :data:`dealcalc.formatting.Kind`)."""

    label: str
    values: npt.NDArray[np.float64] | Sequence[float]
    kind: str = "money"
    cls: str = ""
    total: bool = field(default=True)


def year_blocks(n: int, size: int = YEARS_PER_BLOCK) -> list[range]:
    """``n`` years split into the fewest blocks of at most ``size``, as even as can be.

    Examples
    --------
    >>> [list(b) for b in year_blocks(5, 3)]
    [[0, 1, 2], [3, 4]]
    >>> [len(b) for b in year_blocks(17)], [len(b) for b in year_blocks(36)]
    ([9, 8], [9, 9, 9, 9])
    """
    if n <= 0:
        return []
    count = math.ceil(n / size)
    sizes = [n // count + (k < n % count) for k in range(count)]
    edges = list(itertools.accumulate(sizes, initial=0))
    return [range(a, b) for a, b in itertools.pairwise(edges)]


def year_table(
    rows: Sequence[Row],
    years: Sequence[int],
    *,
    title: str,
    first: str = "",
    total: bool = False,
    size: int = YEARS_PER_BLOCK,
) -> str:
    """Lines down, years across, in blocks of at most ``size`` years (each its own table, kept
    whole on a printed page); with ``total``, the last block ends with the sum over all years
    of each row whose ``total`` is set."""
    blocks = year_blocks(len(years), size)
    out = []
    for k, block in enumerate(blocks):
        last = k == len(blocks) - 1
        cols = [first, *(str(years[t]) for t in block)] + (["Total"] if total and last else [])
        body = []
        for row in rows:
            cells = [row.label, *(value_text(float(row.values[t]), row.kind) for t in block)]
            if total and last:
                cells.append(value_text(float(np.nansum(row.values)), row.kind) if row.total else "")
            body.append(cells)
        span = f"{years[block[0]]}–{years[block[-1]]}" if len(block) > 1 else str(years[block[0]])
        part = f" ({k + 1} of {len(blocks)})" if len(blocks) > 1 else ""
        out.append(
            '<div class="block">'
            + table(
                cols,
                body,
                caption=f"{title}: {span}{part}",
                row_classes=[r.cls for r in rows],
                cls="years",
            )
            + "</div>"
        )
    return "".join(out)
