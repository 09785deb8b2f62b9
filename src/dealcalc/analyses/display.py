"""How results show themselves: HTML tables in Jupyter, rich tables in a terminal.

Every number goes through :mod:`dealcalc.formatting`: money in US$ million with the unit in the
header, rates and probabilities in per cent, years to one decimal, never scientific notation
nor ``-0.0``; the numbers themselves stay untouched in the DataFrames.

Terminal tables are :class:`FitTable` s: when a table is wider than the console, its numbers
are never cut; headers and text wrap, and if that is not enough the columns are split into
several tables, each repeating the row labels. Parameter paths are shown as words with their
unit (:func:`param_label`: ``phases.refinery.capex_usd`` -> ``Refinery capex (US$ M)``).
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from dealcalc import formatting as fmt

if TYPE_CHECKING:
    from dealcalc.analyses.provenance import RunInfo
    from dealcalc.models import Deal

__all__ = [
    "FitTable",
    "PlainTable",
    "column_header",
    "format_cell",
    "frame_html",
    "frame_rich",
    "montecarlo_tables",
    "param_kind",
    "param_label",
    "param_value",
    "run_caption",
    "run_title",
    "source_label",
    "tables_html",
    "tables_rich",
]

#: A titled table with a note under it, formatted by row (True) or by column: what a result
#: made of several tables shows.
Titled = tuple[pd.DataFrame, str, str, bool]

#: Columns whose own name says how to show them, even in a table formatted by row.
_OWN = (
    "prob_negative",
    "no_solution_share",
    "p_continuity",
    "p_built",
    "no_solution",
    "draws",
    "probability",
    "probability_std_error",
)


def _key(name: str) -> str:
    """The quantity a column name is about: ``npv_usd: reciprocal_29`` is ``npv_usd``; a ledger
    line (``Revenue: copper [USD]``) is itself."""
    head, sep, _ = name.partition(":")
    return head.strip() if sep and re.fullmatch(r"[a-z][a-z0-9_.]*", head.strip()) else name.strip()


def format_cell(name: str, x: object) -> str:
    """``x`` as a reader wants it, by what ``name`` says it is (:func:`dealcalc.formatting.cell`).

    Examples
    --------
    >>> format_cell("npv_usd", -5.6e6), format_cell("ussm.irr", 0.1257), format_cell("draws", 3)
    ('-5.6', '12.6 %', '3')
    >>> format_cell("npv_usd: reciprocal_29", -4.06e7), format_cell("irr", float("nan"))
    ('-40.6', '—')
    """
    return fmt.cell(_key(name), x)


def column_header(name: str, *, basis: str | None = None) -> str:
    """The header of the column called ``name``, with its unit; an IRR's also says its basis.

    Examples
    --------
    >>> column_header("npv_usd"), column_header("irr", basis="real")
    ('NPV (US$ M)', 'IRR (%, real)')
    >>> column_header("ussm.irr", basis="nominal")
    'ussm IRR (%, nominal)'
    >>> column_header("take")
    'Government take (%)'
    """
    if re.fullmatch(r"-?[\d,]+(\.\d+)?( %)?", name):  # a value already formatted (a grid's axis)
        return name
    text = fmt.header(_key(name))
    if basis and _key(name).rsplit(".", 1)[-1].endswith("irr") and text.endswith("(%)"):
        text = text[:-3] + f"(%, {basis})"
    return text


# ------------------------------------------------------------------ parameter paths as words

ParamKind = Literal["money", "money_per_year", "percent", "years", "year", "number"]

_RATE_WORDS = (
    "rate",
    "fraction",
    "share",
    "recovery",
    "grade",
    "probability",
    "availability",
    "fee",
    "ad_valorem",
    "share_of_capex",
    "expropriated",
    "stake",
    "margin",
)
#: Field-name endings that are units, longest first, with the unit they are shown in.
_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_usd_per_unit_content", "US$/{unit} contained"),
    ("_usd_per_unit", "US$/{unit}"),
    ("_usd_per_t_product", "US$/t product"),
    ("_usd_per_t_ore", "US$/t ore"),
    ("_usd_per_dmt", "US$/dmt"),
    ("_usd_per_wmt", "US$/wmt"),
    ("_units_per_year", "{unit}/yr"),
    ("_g_per_t", "g/t"),
    ("_tpa", "t/yr"),
    ("_days", "days"),
)
#: Top-level sections whose name adds nothing to a label.
_QUIET = {"valuation", "fiscal", "operations", "finance", "levies", "equity", "debt", "products", "entities"}


def _is_index(part: str) -> bool:
    """A schedule's year or date, or a list position: ``2031``, ``2025-08-07``, ``0``."""
    return bool(re.fullmatch(r"-?\d+(-\d\d-\d\d)?", part))


def _leaf(path: str) -> tuple[list[str], str, str | None]:
    """(the parts before the field, the field, the year or date of a schedule or None)."""
    parts = path.split(".")
    when = None
    if len(parts) > 1 and _is_index(parts[-1]):
        when = parts.pop()
    return parts[:-1], parts[-1], when


def _unit_name(path: str, deal: Deal | None) -> str:
    """The price unit of the product a path is about (``t``, ``oz`` ...), or ``unit``."""
    if deal is None:
        return "unit"
    parts = path.split(".")
    product: str | None = None
    if parts[0] == "price_decks" and len(parts) > 2:
        product = parts[2]
    elif parts[0] == "streams" and len(parts) > 1 and parts[1] in deal.streams:
        product = deal.streams[parts[1]].product
    elif "products" in parts and parts.index("products") + 1 < len(parts):
        product = parts[parts.index("products") + 1]
    elif "min_price_usd" in parts and parts.index("min_price_usd") + 1 < len(parts):
        product = parts[parts.index("min_price_usd") + 1]
    found = deal.products.get(product) if product else None
    return found.unit if found is not None else "unit"


def param_kind(path: str) -> ParamKind:
    """How the values of the parameter at ``path`` are shown (see :func:`param_value`).

    Examples
    --------
    >>> [param_kind(p) for p in ("phases.refinery.capex_usd", "fiscal.royalty_rate",
    ...  "fiscal.holiday_years", "phases.refinery.start_year", "price_decks.base.gold")]
    ['money', 'percent', 'years', 'year', 'number']
    """
    parents, field, _ = _leaf(path)
    if field.endswith("_usd") or field in ("usd", "cost_usd"):
        return "money"
    if field.endswith("usd_per_year") and not field.endswith("_per_unit_per_year"):
        return "money_per_year"
    if field.endswith("_year") or field == "year":
        return "year"
    if field.endswith("_years"):
        return "years"
    if (
        field.endswith(_RATE_WORDS)
        or field in _RATE_WORDS
        or (parents and parents[-1] in ("discount_rates",))
    ):
        return "percent"
    if parents and parents[-1] in ("sales_shares", "ad_valorem", "capex_schedule", "ramp_up"):
        return "percent"
    return "number"


def _unit(path: str, deal: Deal | None) -> str:
    parents, field, _ = _leaf(path)
    kind = param_kind(path)
    if kind == "money":
        return "US$ M"
    if kind == "money_per_year":
        return "US$ M/yr"
    if kind == "percent":
        return "%"
    if kind == "years":
        return "years"
    if (parents and parents[0] == "price_decks") or "min_price_usd" in parents:
        return f"US$/{_unit_name(path, deal)}"
    for suffix, unit in _UNIT_SUFFIXES:
        if field.endswith(suffix):
            return unit.format(unit=_unit_name(path, deal))
    if m := re.search(r"_usd_per_(\w+)$", field):
        return "US$/" + m.group(1).replace("_", " ")
    if field.endswith("per_usd"):
        return "per US$"
    return ""


def _words(field: str) -> str:
    """A field name as words, its unit suffix dropped: ``opex_usd_per_t_ore`` -> ``opex``."""
    for suffix, _ in _UNIT_SUFFIXES:
        field = field.removesuffix(suffix)
    field = re.sub(r"_usd_per_\w+$|_usd$|^usd_per_year$|_usd_per_year$|_years$", "", field)
    return field.replace("_", " ").strip()


def _name(name: str) -> str:
    """A deal's own name (phase, stream, party) as words; a name of two letters is an
    abbreviation (``us`` -> ``US``)."""
    if name == "*":
        return "all"
    if len(name) <= 2 and name.isalpha():
        return name.upper()
    return " ".join(_SPELLED.get(word, word) for word in name.split("_"))


#: Words a name writes in lower case that read in their own spelling (``ndpr_oxide``).
_SPELLED = {
    "ndpr": "NdPr",
    "apt": "APT",
    "us": "US",
    "pkr": "PKR",
    "dfi": "DFI",
    "eca": "ECA",
    "sb": "Sb",
    "cu": "Cu",
    "au": "Au",
    "w": "W",
}


def _capital(text: str) -> str:
    first, _, rest = text.partition(" ")
    if len(first) <= 3 and first.isalpha() and first.islower() and rest:  # us, apt, fwo
        first = first.upper()
    text = f"{first} {rest}".strip()
    return text[:1].upper() + text[1:]


def param_label(path: str, deal: Deal | None = None, *, unit: bool = True) -> str:
    """A parameter path as words with the unit its values are shown in (:func:`param_value`).

    The words come from the path's parts (the deal's own names, its field names without their
    unit suffix); with ``deal``, a price says its product's unit. A path that is not a
    parameter path (a label already in words) is returned as it is.

    Examples
    --------
    >>> param_label("phases.refinery.capex_usd")
    'Refinery capex (US$ M)'
    >>> param_label("fiscal.royalty_rate"), param_label("valuation.discount_rate")
    ('Royalty rate (%)', 'Discount rate (%)')
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> param_label("price_decks.base.gold", deal), param_label("streams.copper.opex_usd_per_t_ore", deal)
    ('Gold price (US$/oz)', 'Copper opex (US$/t ore)')
    >>> param_label("price_decks.low.antimony", deal), param_label("streams.copper.ore_tpa.2031")
    ('Antimony price, low deck (US$/t)', 'Copper ore in 2031 (t/yr)')
    >>> param_label("phases.*.capex_usd+streams.*.opex_usd_per_t_ore")
    'Capex, all phases (×) + Opex, all streams (×)'
    """
    text = str(path)
    if "+" in text:  # a group of correlated inputs (Sobol): each in words
        return " + ".join(param_label(part, deal, unit=unit) for part in text.split("+"))
    if not re.fullmatch(r"[\w*-]+(\.[\w*-]+)+", text):
        return text
    parents, field, when = _leaf(text)
    head = parents[0] if parents else ""
    field_words = _words(field)
    if head == "price_decks" and len(parents) >= 2:
        deck = parents[1]
        default = deal.valuation.price_deck if deal is not None else "base"
        words = f"{_name(field)} price" + ("" if deck == default else f", {_name(deck)} deck")
    elif head in ("phases", "streams") and len(parents) == 2 and parents[1] == "*":
        words = f"{field_words}, all {head}"
    elif head in ("phases", "streams") and len(parents) >= 2:
        rest = [_name(p) for p in parents[2:]]
        words = " ".join([_name(parents[1]), *rest, field_words])
    elif head == "trade" and len(parents) >= 3 and parents[1] == "destinations":
        words = f"{field_words} to {_name(parents[2])}" if parents[2] != "*" else field_words
    elif head == "trade" and len(parents) >= 3 and parents[1] == "schedules":
        words = " ".join([_name(parents[2]), "tariff", *(_name(p) for p in parents[3:]), field_words])
    elif head == "transfer_prices" and len(parents) >= 2:
        words = f"{_name(parents[1])} transfer price" + ("" if field_words == "price" else f" {field_words}")
    elif parents and parents[-1] == "discount_rates":
        words = f"{_name(field)} discount rate"
    elif text == "valuation.discount_rate" and deal is not None:
        stated = deal.valuation.discount_rate_basis
        words = "discount rate" + (f", as stated ({stated})" if stated != deal.valuation.basis else "")
    else:
        words = " ".join([*(_name(p) for p in parents if p not in _QUIET), field_words])
    words = re.sub(r"\s+", " ", words).strip() or _name(field)
    if when is not None:
        words += f" in {when}"
    label = _capital(words)
    shown = ("×" if "*" in text else _unit(text, deal)) if unit else ""  # a pattern scales its matches
    return f"{label} ({shown})" if shown else label


def source_label(name: str, deal: Deal | None = None) -> str:
    """A column of a Monte Carlo's draws (:meth:`dealcalc.MonteCarlo.draws`) as words: a price
    path's summary, an event, a switch or a gate's decision; a sampled input as its parameter.

    Examples
    --------
    >>> source_label("price.antimony.mean_usd_per_t"), source_label("price.gold.at_gate.refinery_usd_per_oz")
    ('Antimony price, mean over the life (US$/t)', 'Gold price at the refinery gate (US$/oz)')
    >>> source_label("gate.refinery.built"), source_label("switch.china_retightens")
    ('Refinery built', 'China retightens (switch)')
    >>> source_label("events.disruption_years"), source_label("phases.*.capex_usd")
    ('Years disrupted', 'Capex, all phases (×)')
    """
    parts = name.split(".")
    if parts[0] == "price" and len(parts) >= 3:
        product, tail = _name(parts[1]), parts[-1]
        unit = tail.partition("_usd_per_")[2]
        unit_text = f" (US$/{unit})" if unit else ""
        if parts[2] == "at_gate" and len(parts) >= 4:
            phase = tail.partition("_usd_per_")[0]
            return _capital(f"{product} price at the {_name(phase)} gate{unit_text}")
        return _capital(f"{product} price, mean over the life{unit_text}")
    if parts[0] == "gate" and len(parts) == 3:
        return _capital(f"{_name(parts[1])} {'built' if parts[2] == 'built' else 'continuity held'}")
    if parts[0] == "switch" and len(parts) == 2:
        return _capital(f"{_name(parts[1])} (switch)")
    if parts[0] == "events" and len(parts) == 2:
        return {"disruption_years": "Years disrupted", "expropriated": "Expropriated"}.get(
            parts[1], _name(parts[1])
        )
    return param_label(name, deal)


def param_value(path: str, x: float, *, like: float | None = None) -> str:
    """A value of the parameter at ``path`` in the unit of :func:`param_label`.

    Examples
    --------
    >>> param_value("phases.refinery.capex_usd", 3e8), param_value("fiscal.royalty_rate", 0.05)
    ('300.0', '5.0 %')
    >>> param_value("price_decks.base.antimony", 30000.0), param_value("phases.refinery.start_year", 2028)
    ('30,000', '2028')

    With ``like`` (the other end of a range), a plain number gets the decimals of the larger
    of the two, so that both ends read alike:

    >>> path = "streams.x.opex_usd_per_t_ore"
    >>> param_value(path, 96.0), param_value(path, 96.0, like=144.0), param_value(path, 144.0, like=96.0)
    ('96', '96.0', '144.0')
    """
    kind = param_kind(str(path))
    if kind in ("money", "money_per_year"):
        return fmt.money(x)
    if kind == "percent":
        return fmt.percent(x)
    if kind == "years":
        return fmt.years(x)
    if kind == "year":
        return fmt.year(x)
    if like is not None and math.isfinite(like) and math.isfinite(x) and x != 0:
        larger = max(abs(x), abs(like))
        decimals = max(3 - math.floor(math.log10(larger)), 0)  # as number() shows the larger
        digits = max(decimals + 1 + math.floor(math.log10(abs(x))), 1)
        return fmt.number(x, significant=digits, whole=False)
    return fmt.number(x)


# ----------------------------------------------------------------------- the run's record


def run_title(title: str | None, run: RunInfo | None) -> str | None:
    """``title`` naming the run: the run's label is added unless the title says it already.

    Examples
    --------
    >>> import dealcalc as dc
    >>> run = dc.evaluate(dc.load(dc.example_path("ussm-fwo"))).info
    >>> run_title("Tornado", run), run_title(None, None)
    ('Tornado: base case', None)
    """
    if run is None:
        return title
    if not title:
        return f"{run.deal}: {run.label}"
    return title if run.label in title else f"{title}: {run.label}"


def run_caption(caption: str | None, run: RunInfo | None) -> str | None:
    """``caption`` followed by the run's record (:meth:`RunInfo.lines`), one line each."""
    if run is None:
        return caption
    return "\n".join([*([caption] if caption else []), *run.lines()])


# ----------------------------------------------------------------------------- HTML tables


def _cells(df: pd.DataFrame, by_row: bool) -> list[tuple[str, list[str]]]:
    out = []
    for label, row in df.iterrows():
        cells = []
        for col, x in row.items():
            own = str(col) in _OWN or fmt.kind_of(_key(str(col))) not in ("number",)
            cells.append(format_cell(str(label) if by_row and not own else str(col), x))
        out.append((str(label), cells))
    return out


def _row_label(label: str, by_row: bool, basis: str | None) -> str:
    return column_header(label, basis=basis) if by_row else label


#: Headers of the columns of a table formatted by row (statistics of each row's quantity).
_STATISTICS = {
    "std_error": "± s.e.",
    "p10": "P10",
    "p50": "P50",
    "p90": "P90",
    "prob_negative": "P(< 0)",
    "no_solution": "no solution",
    "no_solution_share": "no solution (%)",
    "value_at_risk_95": "VaR 95 %",
    "p_built": "P(built)",
    "p_continuity": "P(continues)",
    "probability": "P",
    "probability_std_error": "± s.e.",
}


def _col_label(col: object, by_row: bool, basis: str | None) -> str:
    name = str(col)
    if by_row:
        return _STATISTICS.get(name, name)
    return column_header(name, basis=basis)


def frame_html(
    df: pd.DataFrame,
    *,
    title: str = "",
    note: str = "",
    by_row: bool = False,
    run: RunInfo | None = None,
) -> str:
    """A small HTML table of ``df`` with numbers formatted by column (or by row) name.

    Headers say each quantity in words with its unit; an IRR says its basis when ``run`` is
    given, and the run's record follows the table.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"npv_usd": [6.4e6], "irr": [0.115]}, index=pd.Index(["ussm"], name="party"))
    >>> frame_html(df)  # doctest: +ELLIPSIS
    '...<th>NPV (US$ M)</th><th>IRR (%)</th>...<td>6.4</td><td>11.5 %</td>...'
    """
    basis = run.basis if run is not None else None
    head = "".join(f"<th>{html.escape(_col_label(c, by_row, basis))}</th>" for c in df.columns)
    body = "".join(
        f"<tr><th>{html.escape(_row_label(label, by_row, basis))}</th>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        + "</tr>"
        for label, cells in _cells(df, by_row)
    )
    shown = run_title(title, run) or ""
    caption = f"<caption><b>{html.escape(shown)}</b></caption>" if shown else ""
    notes = [note] if note else []
    if run is not None:
        notes += run.lines()
    foot = "".join(f"<p><small>{html.escape(n)}</small></p>" for n in notes)
    index = html.escape(str(df.index.name or ""))
    return (
        f'<table class="dealcalc">{caption}<thead><tr><th>{index}</th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{foot}"
    )


# ----------------------------------------------------------------------------- rich tables


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


ColumnKind = Literal["key", "number", "text", "fixed"]

#: How narrow a column may get: a row label or text wraps down to these widths.
_KEY_MIN, _TEXT_MIN, _HEADER_WORD, _SHORT = 24, 14, 16, 4


def _text_of(x: object) -> str:
    return x.plain if isinstance(x, Text) else str(x)


def _longest_word(text: str) -> int:
    """The longest word of ``text``, a unit in brackets at its end counting as one word."""
    return max((len(w) for line in text.splitlines() for w in _header_words(line)), default=0)


def _header_words(text: str) -> list[str]:
    """The words of a header, a unit in brackets at its end kept as one word."""
    unit = re.search(r"\s\(([^()]*)\)$", text)
    if unit is None or " " not in unit.group(1):
        return text.split()
    return [*text[: unit.start()].split(), unit.group(0).strip()]


def _wrap_header(text: str, width: int) -> str:
    """``text`` wrapped at spaces to ``width`` (a unit in brackets never split; a word longer
    than ``width`` is left to fold)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in _header_words(paragraph):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return "\n".join(lines)


def _longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


class FitTable(PlainTable):
    """A :class:`PlainTable` that fits the console without ever cutting a number.

    Each column has a kind: ``key`` (the row labels, repeated in every part), ``number``
    (never wrapped nor cut: the column is at least as wide as its widest cell), ``text``
    (wraps) or ``fixed`` (a bar: exactly its ``min_width``). Headers wrap at spaces (a word
    longer than the column folds). When the columns at their narrowest are wider than the
    console, they are split into several tables, each repeating the key columns; the title
    goes on the first, the caption on the last.

    Examples
    --------
    >>> import io
    >>> from rich.console import Console
    >>> table = FitTable(title="Wide")
    >>> table.add_column("scenario", kind="key")
    >>> for i in range(12):
    ...     table.add_column(f"NPV of case {i} (US$ M)", kind="number")
    >>> table.add_row("base", *[f"-{i},234.5" for i in range(12)])
    >>> console = Console(file=io.StringIO(), width=60, record=True)
    >>> console.print(table)
    >>> text = console.export_text()
    >>> all(f"-{i},234.5" in text for i in range(12)), max(map(len, text.splitlines())) <= 60
    (True, True)
    """

    def __init__(self, *headers: Any, title: Any = None, caption: Any = None, **kwargs: Any) -> None:
        super().__init__(*headers, title=title, caption=caption, **kwargs)
        self.kinds: list[ColumnKind] = ["number"] * len(self.columns)

    def add_column(
        self, header: RenderableType = "", *args: Any, kind: ColumnKind = "number", **kwargs: Any
    ) -> None:
        if kind == "number":
            kwargs.setdefault("justify", "right")
        super().add_column(header, *args, **kwargs)
        self.kinds.append(kind)

    # -- widths

    def _widths(self) -> list[tuple[int, int]]:
        """(narrowest, natural) content width of each column, padding not included."""
        out = []
        for column, kind in zip(self.columns, self.kinds, strict=True):
            head = _text_of(column.header) if self.show_header else ""
            cells = [_text_of(c) for c in column.cells]
            widest = max((_longest_line(c) for c in cells), default=0)
            natural = max(widest, _longest_line(head), 1)
            if kind == "fixed":
                size = column.min_width or natural
                out.append((size, size))
            elif kind == "number":
                out.append((max(widest, min(_longest_word(head), _HEADER_WORD), 1), natural))
            elif kind == "key":
                word = max([_longest_word(c) for c in cells] + [min(_longest_word(head), _HEADER_WORD)])
                out.append((min(natural, max(word, 6), _KEY_MIN), natural))
            else:
                out.append((min(natural, _TEXT_MIN), natural))
        return out

    def _extra(self, n: int) -> int:
        """Borders and padding of a table of ``n`` columns."""
        _, right, _, left = self.padding
        border = (2 if self.show_edge else 0) + (n - 1) if self.box else 0
        return border + n * (left + right)

    def _layout(self, width: int) -> list[tuple[list[int], list[int]]]:
        """The parts to draw at ``width``: (column indices, content widths) for each."""
        ranges = self._widths()
        keys = [i for i, k in enumerate(self.kinds) if k == "key"]
        others = [i for i, k in enumerate(self.kinds) if k != "key"]
        groups: list[list[int]] = []
        current: list[int] = []
        for i in others:
            trial = keys + current + [i]
            if current and sum(ranges[j][0] for j in trial) + self._extra(len(trial)) > width:
                groups.append(current)
                current = []
            current.append(i)
        groups.append(current)
        parts = []
        for group in groups:
            chosen = sorted(keys + group)
            parts.append((chosen, self._share(chosen, ranges, width)))
        return parts

    def _share(self, chosen: list[int], ranges: list[tuple[int, int]], width: int) -> list[int]:
        """Content widths of the columns ``chosen``: natural when they fit, else the narrowest
        plus the room left, given to the columns that lack the least first (so that as many
        headers as possible stay on one line)."""
        room = width - self._extra(len(chosen))
        natural = [ranges[i][1] for i in chosen]
        if sum(natural) <= room:
            return natural
        widths = [ranges[i][0] for i in chosen]
        spare = room - sum(widths)
        if spare < 0:  # even one column is too wide: row labels and text give way, never numbers
            for j, i in enumerate(chosen):
                if self.kinds[i] in ("key", "text") and spare < 0:
                    cut = min(-spare, widths[j] - 4)
                    widths[j] -= cut
                    spare += cut
            return widths
        # headers a little short of one line first, then text, row labels, the other headers
        order = sorted(range(len(chosen)), key=lambda j: natural[j] - widths[j])
        steps = (
            [j for j in order if natural[j] - widths[j] <= _SHORT],
            [j for j in order if self.kinds[chosen[j]] == "text"],
            [j for j in order if self.kinds[chosen[j]] == "key"],
            order,
        )
        for step in steps:
            for j in step:
                give = min(spare, natural[j] - widths[j])
                widths[j] += give
                spare -= give
        return widths

    # -- drawing

    @staticmethod
    def _wrapped(cell: Any, width: int) -> Any:
        """A row label wrapped as headers are (its unit in brackets kept on one line)."""
        if isinstance(cell, str | Text) and len(_text_of(cell)) > width:
            return Text(_wrap_header(_text_of(cell), width))
        return cell

    def _part(self, chosen: list[int], widths: list[int], first: bool, last: bool) -> Table:
        columns = []
        for n, (i, w) in enumerate(zip(chosen, widths, strict=True)):
            column = self.columns[i]
            header = column.header
            if isinstance(header, str | Text):
                header = Text(_wrap_header(_text_of(header), w))
            columns.append(
                dataclasses.replace(
                    column,
                    header=header,
                    width=w,
                    min_width=None,
                    max_width=None,
                    no_wrap=False,
                    overflow="fold",
                    _index=n,
                    _cells=[self._wrapped(c, w) if self.kinds[i] == "key" else c for c in column.cells],
                )
            )
        title: Any = self.title if first else (Text("(continued)") if self.title else None)
        part = Table(
            title=title,
            caption=self.caption if last else None,
            box=self.box,
            show_header=self.show_header,
            show_edge=self.show_edge,
            show_lines=self.show_lines,
            header_style=self.header_style,
            caption_justify=self.caption_justify,
            title_justify=self.title_justify,
            padding=self.padding,
        )
        part.columns = columns
        part.rows = list(self.rows)
        return part

    def parts(self, width: int) -> list[Table]:
        """The tables drawn at ``width`` columns (one when it fits)."""
        layout = self._layout(width)
        return [
            self._part(chosen, widths, n == 0, n == len(layout) - 1)
            for n, (chosen, widths) in enumerate(layout)
        ]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        tables = self.parts(options.max_width)
        for n, table in enumerate(tables):
            if n:
                yield Text("")
            yield table

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        ranges = self._widths()
        extra = self._extra(len(ranges))
        keys = [r[0] for r, k in zip(ranges, self.kinds, strict=True) if k == "key"]
        narrowest = sum(keys) + max((r[0] for r in ranges), default=0) + self._extra(len(keys) + 1)
        natural = sum(r[1] for r in ranges) + extra
        return Measurement(min(narrowest, natural), natural).with_maximum(options.max_width)


def _iter_rows(df: pd.DataFrame, by_row: bool, basis: str | None) -> Iterator[tuple[str, list[str]]]:
    for label, cells in _cells(df, by_row):
        yield _row_label(label, by_row, basis), cells


def frame_rich(
    df: pd.DataFrame,
    *,
    title: str = "",
    note: str = "",
    by_row: bool = False,
    run: RunInfo | None = None,
) -> Table:
    """A rich table of ``df``, formatted as :func:`frame_html` does; it fits the console
    (:class:`FitTable`).

    Examples
    --------
    >>> import io
    >>> import pandas as pd
    >>> from rich.console import Console
    >>> df = pd.DataFrame({"npv_usd": [6.4e6], "irr": [0.115]}, index=pd.Index(["ussm"], name="party"))
    >>> console = Console(file=io.StringIO(), width=80, record=True)
    >>> console.print(frame_rich(df))
    >>> text = console.export_text()
    >>> "NPV (US$ M)" in text and "11.5 %" in text
    True
    """
    basis = run.basis if run is not None else None
    table = FitTable(title=run_title(title, run) or None, caption=run_caption(note or None, run))
    table.add_column(str(df.index.name or ""), kind="key", style="bold")
    for c in df.columns:
        table.add_column(_col_label(c, by_row, basis), kind="number")
    for label, cells in _iter_rows(df, by_row, basis):
        table.add_row(label, *cells)
    return table


# ------------------------------------------------------------ results made of several tables


def montecarlo_tables(
    summary: pd.DataFrame,
    gates: pd.DataFrame | None,
    title: str,
    probabilities: pd.DataFrame | None = None,
) -> list[Titled]:
    """The tables a Monte Carlo shows: its summary per metric (the draws with no solution as a
    count and a share, e.g. "4,300 (43.0 %)"), each gate's shares, and any probabilities asked
    for with their standard errors. Plain data in, so the result stays plain data
    (:class:`dealcalc.analyses.montecarlo.MonteCarlo` shows itself through this).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"mean": [1e6], "no_solution": [0], "no_solution_share": [0.0]}, index=["npv_usd"])
    >>> [t for _, t, _, _ in montecarlo_tables(s, None, "Monte Carlo")]
    ['Monte Carlo']
    """
    cols = [c for c in ("mean", "std_error", "p10", "p50", "p90", "prob_negative") if c in summary]
    shown = summary[[*cols, "no_solution"]].astype({"no_solution": object})
    shown["no_solution"] = [  # the count and its share of the draws, e.g. "4,300 (43.0 %)"
        f"{count:,} ({100 * share:.1f} %)" if count else "0"
        for count, share in zip(summary["no_solution"], summary["no_solution_share"], strict=True)
    ]
    out: list[Titled] = [
        (
            shown,
            title,
            "money in US$ million; each party's NPV at its own discount rate; mean and percentiles "
            "of the draws with a value; P(< 0) of all draws, a draw with no IRR counted as below 0 "
            "when it loses money at every rate",
            True,
        )
    ]
    if gates is not None and len(gates):
        out.append((gates, "Phase gates", "", True))
    if probabilities is not None and len(probabilities):
        asked = probabilities[["probability", "std_error"]].rename(
            columns={"std_error": "probability_std_error"}
        )
        out.append(
            (
                asked,
                "Probabilities",
                "share of the draws; standard error sqrt(p (1 - p) / N); a draw with no IRR counts "
                "as below every rate when it loses money at every rate, above when it gains",
                False,
            )
        )
    return out


def tables_html(tables: list[Titled], run: RunInfo | None = None) -> str:
    """Several titled tables as HTML (:func:`frame_html` by row), the run's record after the last."""
    return "".join(
        frame_html(df, title=title, note=note, by_row=by_row, run=run if i == len(tables) - 1 else None)
        for i, (df, title, note, by_row) in enumerate(tables)
    )


def tables_rich(tables: list[Titled], run: RunInfo | None = None) -> Group:
    """Several titled tables for a terminal (:func:`frame_rich` by row), the run's record after
    the last."""
    return Group(
        *(
            frame_rich(df, title=title, note=note, by_row=by_row, run=run if i == len(tables) - 1 else None)
            for i, (df, title, note, by_row) in enumerate(tables)
        )
    )
