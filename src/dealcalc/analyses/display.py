"""How results show themselves: HTML tables in Jupyter, rich tables in a terminal.

Money (a name ending in ``_usd`` or ``[USD]``) is shown in US$ million, rates and
probabilities (``irr``, ``take``, ``prob_*``, ``discount_rate``) in per cent; the numbers
themselves stay untouched in the DataFrames.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

__all__ = ["PlainTable", "format_cell", "frame_html", "frame_rich"]

_PERCENT = ("irr", "take", "prob_negative", "no_solution_share", "discount_rate", "p_continuity", "p_built")
#: Columns whose own name says how to show them, even in a table formatted by row.
_OWN = (*_PERCENT, "no_solution", "draws")


def format_cell(name: str, x: object) -> str:
    """``x`` as a reader wants it, by what ``name`` says it is.

    Examples
    --------
    >>> format_cell("npv_usd", -5.6e6), format_cell("ussm.irr", 0.1257), format_cell("draws", 3)
    ('-5.6', '12.57 %', '3')
    """
    if not isinstance(x, int | float) or isinstance(x, bool):
        return str(x)
    if isinstance(x, float) and math.isnan(x):
        return "—"
    key = name.rsplit(".", 1)[-1].split(":")[0].strip()  # "npv_usd: reciprocal_19" is money
    if key.endswith("_usd") or name.endswith("[USD]"):
        return f"{x / 1e6:,.1f}"
    if key in _PERCENT or key.endswith("irr"):
        return f"{100 * x:.2f} %"
    if isinstance(x, int):
        return str(x)
    return f"{x:,.4g}"


def _rows(df: pd.DataFrame, by_row: bool) -> list[tuple[str, list[str]]]:
    out = []
    for label, row in df.iterrows():
        cells = [
            format_cell(str(label) if by_row and str(col) not in _OWN else str(col), x)
            for col, x in row.items()
        ]
        out.append((str(label), cells))
    return out


def frame_html(df: pd.DataFrame, *, title: str = "", note: str = "", by_row: bool = False) -> str:
    """A small HTML table of ``df`` with numbers formatted by column (or by row) name."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join(
        f"<tr><th>{html.escape(label)}</th>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
        for label, cells in _rows(df, by_row)
    )
    caption = f"<caption><b>{html.escape(title)}</b></caption>" if title else ""
    foot = f"<p><small>{html.escape(note)}</small></p>" if note else ""
    index = html.escape(str(df.index.name or ""))
    return (
        f'<table class="dealcalc">{caption}<thead><tr><th>{index}</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{foot}"
    )


def _plain(x: Any) -> Any:
    return Text(x) if isinstance(x, str) else x


class PlainTable(Table):
    """A rich table whose text shows as written, never read as console markup: a deal, scenario
    or party named ``[b]`` or ``[/x]`` prints as such instead of vanishing or raising
    ``MarkupError`` (rich reads ``[word]`` as a style tag).

    Examples
    --------
    >>> import io
    >>> from rich.console import Console
    >>> table = PlainTable(title="Deal [/x]")
    >>> table.add_column("[party]")
    >>> table.add_row("[b]old")
    >>> console = Console(file=io.StringIO(), width=40)
    >>> console.print(table)
    >>> "[/x]" in console.file.getvalue() and "[b]old" in console.file.getvalue()
    True
    """

    def __init__(self, *headers: Any, title: Any = None, caption: Any = None, **kwargs: Any) -> None:
        super().__init__(*map(_plain, headers), title=_plain(title), caption=_plain(caption), **kwargs)

    def add_column(self, header: RenderableType = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(_plain(header), *args, **kwargs)

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*map(_plain, renderables), **kwargs)


def frame_rich(df: pd.DataFrame, *, title: str = "", note: str = "", by_row: bool = False) -> Table:
    """A rich table of ``df``, formatted as :func:`frame_html` does."""
    table = PlainTable(title=title or None, caption=note or None)
    table.add_column(str(df.index.name or ""), style="bold", no_wrap=True)
    for c in df.columns:
        table.add_column(str(c), justify="right")
    for label, cells in _rows(df, by_row):
        table.add_row(label, *cells)
    return table
