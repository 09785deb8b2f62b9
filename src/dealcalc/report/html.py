"""A self-contained HTML report of a deal, fit for an investment committee (charts need the
extra ``plot``).

One page with no outside resources (styles inline, charts as embedded PNG), readable offline
and printable: a browser's print-to-PDF gives a complete, paginated document (A4, every year of
every table, page numbers and the run in the footer). Its sections, in order (docs/report.md):
the summary in one paragraph with the headline table and the record of the run; the scenario
comparison; each party's value, IRR and government take; in a deal of several companies, each
company, the transfer prices between them and how they move value; production and sales by product and
year; capital and funding; debt sizing and DSCR; the tariff attribution of the chosen scenario;
cash flow charts; sensitivity; Monte Carlo; the whole ledger; and every assumption with its
value, unit, label, source and as-of date.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable

from dealcalc.analyses import Valuation, compare, evaluate, tariff_attribution
from dealcalc.analyses.montecarlo import MonteCarlo
from dealcalc.analyses.terms import TermsGrid
from dealcalc.analyses.uncertainty import has_uncertainty
from dealcalc.errors import InputError
from dealcalc.formatting import percent
from dealcalc.models import Deal
from dealcalc.report import html_sections as S
from dealcalc.report.charts import KINDS, Results, figure
from dealcalc.report.plots import has_matplotlib, require_matplotlib

__all__ = ["CHARTS_MISSING", "ENTITIES_SECTION", "SECTIONS", "TERMS_SECTION", "html_report"]

#: The sections of the report: (anchor, heading), in order. A section the deal has nothing for
#: (no uncertainty block, no tariff attribution) says so or is left out.
SECTIONS = (
    ("summary", "Summary"),
    ("comparison", "Scenario comparison"),
    ("parties", "Parties: value, IRR and government take"),
    ("production", "Production and sales by product"),
    ("capital", "Capital and funding"),
    ("debt", "Debt sizing and DSCR"),
    ("tariffs", "Tariff attribution"),
    ("cashflow", "Cash flow and value"),
    ("sensitivity", "Sensitivity: what drives the value"),
    ("montecarlo", "Uncertainty: Monte Carlo"),
    ("ledger", "Ledger"),
    ("assumptions", "Assumptions and sources"),
)

#: The section of a deal of several companies (entities), shown after the parties' section;
#: a deal of one company has none.
ENTITIES_SECTION = ("entities", "Entities and transfer prices")
#: The section a report holds when it is given a negotiation space (``terms``), after the
#: entities (or the parties).
TERMS_SECTION = ("terms", "Negotiation space")

STYLE = """
body { font-family: "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 2rem auto; max-width: 76rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; font-size: 1.7rem; }
h2 { border-bottom: 2px solid #2b7bba; padding-bottom: 0.2rem; margin-top: 2.4rem; font-size: 1.3rem; }
.run-label { font-size: 1.1rem; color: #2b7bba; font-weight: 600; margin: 0.2rem 0 0.8rem; }
.changed-run { color: #a15c00; }
nav.toc ol { columns: 2; font-size: 0.9rem; margin: 0.4rem 0 1rem; }
nav.toc a { color: #2b7bba; text-decoration: none; }
p.summary { font-size: 1.02rem; max-width: 60rem; }
.pair { display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }
table.dealcalc { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.82rem; }
table.dealcalc caption { text-align: left; font-weight: 600; padding: 0.3rem 0; caption-side: top; }
table.dealcalc th, table.dealcalc td { border-bottom: 1px solid #e3e3e3; padding: 0.2rem 0.5rem;
       vertical-align: top; }
table.dealcalc thead th { border-bottom: 1.5px solid #888; text-align: right; background: #f4f7fa; }
table.dealcalc thead th:first-child, table.dealcalc thead th.text,
table.dealcalc tbody th { text-align: left; font-weight: normal; }
table.dealcalc td { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.dealcalc td.text { text-align: left; white-space: normal; }
table.dealcalc tr.subtotal th, table.dealcalc tr.subtotal td { font-weight: 600; border-top: 1px solid #888; }
table.dealcalc tr.total th, table.dealcalc tr.total td { font-weight: 600; }
table.dealcalc tr.memo th, table.dealcalc tr.memo td { color: #666; }
table.dealcalc tr.chosen th, table.dealcalc tr.chosen td, table.dealcalc tr.changed th,
table.dealcalc tr.changed td { background: #fff4d6; }
table.run th { color: #555; padding-right: 1.2rem; } table.run thead { display: none; }
table.years { width: 100%; } table.years tbody th { width: 17rem; }
table.assumptions { width: 100%; } table.assumptions tbody th { overflow-wrap: anywhere; }
table.assumptions td.text { overflow-wrap: break-word; }
table.assumptions tbody th { width: 22%; }
.block { margin-bottom: 0.6rem; }
p.caption { color: #444; font-size: 0.85rem; max-width: 62rem; margin: 0.2rem 0 1rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.85rem; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5rem 0.8rem; }
footer { color: #777; font-size: 0.8rem; margin-top: 2rem; border-top: 1px solid #ddd; padding-top: 0.5rem; }
@page { size: A4; margin: 14mm 11mm 16mm 11mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9pt; line-height: 1.3; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  nav.toc { break-after: page; }
  h2 { break-before: page; margin-top: 0; }
  h2, caption { break-after: avoid; }
  p.caption { break-before: avoid; }
  .block, figure, tr, table.headline, table.run { break-inside: avoid; }
  thead { display: table-header-group; }
  table.dealcalc { font-size: 7.4pt; }
  table.dealcalc th, table.dealcalc td { padding: 0.12rem 0.3rem; }
  table.years tbody th { width: 13rem; }
  figure img { max-height: 115mm; width: auto; }
  a { color: inherit; text-decoration: none; }
}
"""

# The page checks itself when opened: every chart decoded (the headless-browser test reads it).
CHECK = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll("img.chart"));
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute("data-charts", ok + "/" + imgs.length);
  console.log("dealcalc-report: " + ok + "/" + imgs.length + " charts");
});
"""

#: Said on the page (and by the CLI) when the charts are left out because matplotlib is missing.
CHARTS_MISSING = "Charts left out: matplotlib is not installed (pip install 'dealcalc[plot]')."


def _css_string(text: str) -> str:
    r"""``text`` as a CSS string literal (every character but ASCII letters and digits escaped,
    spaces too, as an escape swallows one space after it), safe inside a ``<style>`` element.

    Examples
    --------
    >>> print(_css_string("a + 1"))
    "a\000020\00002b\0000201"
    """
    return '"' + "".join(ch if ch.isascii() and ch.isalnum() else f"\\{ord(ch):06x}" for ch in text) + '"'


def _page_style(deal_name: str, label: str) -> str:
    """The printed page's footer: the deal and the run on the left, page n of N on the right."""
    left = _css_string(f"{deal_name}: {label}")
    return (
        f"@page {{ @bottom-left {{ content: {left}; font-size: 7pt; color: #777; }}"
        ' @bottom-right { content: "page " counter(page) " of " counter(pages);'
        " font-size: 7pt; color: #777; } }"
    )


def _chart(kind: str, results: Results, caption: str) -> str:
    from dealcalc.report.plots import render

    data = base64.b64encode(render(figure(kind, results), "png", dpi=100)).decode("ascii")
    return (
        f'<figure><img class="chart" alt="{html.escape(KINDS[kind])}" '
        f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>'
    )


def html_report(
    deal: Deal,
    *,
    scenario: str | None = None,
    draws: int = 10_000,
    seed: int | None = None,
    charts: bool | None = None,
    compare_scenarios: bool = True,
    terms: TermsGrid | None = None,
) -> str:
    """The whole report as one HTML document (a string).

    Parameters
    ----------
    deal : Deal
        From :func:`dealcalc.load`, with any ``--set`` changes already made
        (:func:`dealcalc.params.with_changes` records them in ``deal.changes``; the report
        lists them and never calls such a run the base case).
    scenario : str, optional
        A named scenario of the file (default: the base case). Every section, the tariff
        attribution included, is of this scenario.
    draws, seed : int
        Monte Carlo draws and seed, used when the file has an uncertainty block.
    charts : bool, optional
        Draw the charts (needs the extra ``plot``); without them the page holds the tables.
        Default: draw them if matplotlib is installed, else say on the page how to add them.
    compare_scenarios : bool, default True
        Value every named scenario of the file for the comparison table.
    terms : TermsGrid, optional
        A negotiation space of two terms (:func:`dealcalc.negotiation_space`, of the same
        scenario): the page shows where every party accepts, with the chart when charts are on.

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.report.html import html_report
    >>> page = html_report(dc.load(dc.example_path("ussm-fwo")), draws=200, charts=False)
    >>> page.startswith("<!DOCTYPE html>") and 'id="tariffs"' in page and "npv_usd" not in page
    True
    """
    missing_note = charts is None and not has_matplotlib()
    if charts is None:
        charts = not missing_note
    elif charts:
        require_matplotlib()
    results = Results(deal, scenario=scenario, draws=draws, seed=seed)
    valuation: Valuation = results.valuation
    valued = valuation.deal
    info = valuation.info
    basis = info.basis
    mc: MonteCarlo | None = results.monte_carlo if has_uncertainty(valued) else None
    chosen = valuation.scenario

    sections: dict[str, str] = {}

    def section(key: str, make: Callable[[], str]) -> None:
        sections[key] = make()

    base = evaluate(deal) if chosen != "base" else None
    section(
        "summary",
        lambda: (
            S.summary_paragraph(valuation, base)
            + '<div class="pair">'
            + S.headline_table(valuation)
            + S.run_table(info, valuation, mc=mc, sensitivity="each input ±20 % alone (tornado)")
            + "</div>"
        ),
    )
    if compare_scenarios:
        section("comparison", lambda: S.comparison_section(deal, compare(deal), chosen, basis))
    section("parties", lambda: S.parties_section(valuation))
    if valued.entities and valuation.entities is not None:
        section("entities", lambda: S.entities_section(valuation))
    if terms is not None:
        space = terms
        chart = ""
        if charts:
            from dealcalc.report.plots import render, terms_chart

            drawn = terms_chart(space, deal=valued).figure
            data = base64.b64encode(render(drawn, "png", dpi=100)).decode("ascii")  # type: ignore[arg-type]
            chart = (
                f'<figure><img class="chart" alt="Negotiation space" src="data:image/png;base64,{data}">'
                "<figcaption>Shaded where every party accepts; each line is a party's walk-away value."
                "</figcaption></figure>"
            )
        section("terms", lambda: chart + S.terms_section(space, valued, basis))
    section("production", lambda: S.production_section(valuation))
    section("capital", lambda: S.capital_section(valuation))
    section("debt", lambda: S.debt_section(valuation))
    try:
        attribution = tariff_attribution(deal, scenario=scenario)
    except InputError:
        sections["tariffs"] = "<p>The file names no tariff attribution (trade.attribution).</p>"
    else:
        sections["tariffs"] = S.tariff_section(attribution, valued, info.label, basis)
    if charts:
        sections["cashflow"] = "".join(
            [
                _chart("waterfall", results, "Where the revenue goes, life of the deal, undiscounted."),
                _chart("parties", results, "Each party's cash by year and each government's take."),
                _chart(
                    "cashflow",
                    results,
                    "Annual after-tax cash flow (bars) and the cumulative cash flow (line).",
                ),
                _chart(
                    "npv-profile",
                    results,
                    f"NPV against the discount rate ({basis}); the IRR is where it crosses zero.",
                ),
            ]
        )
    torn = results.tornado
    sections["sensitivity"] = (
        _chart("tornado", results, "NPV when each input moves alone (±20 % unless stated).") if charts else ""
    ) + S.tornado_section(torn, valued, basis)
    if mc is not None:
        figs = ""
        if charts:
            figs = _chart("histogram", results, "Distribution of the project NPV with P10/P50/P90.") + _chart(
                "cdf",
                results,
                "Cumulative distribution: read the chance that the NPV is below x off the curve.",
            )
        sections["montecarlo"] = figs + S.monte_carlo_section(mc, basis)
    section("ledger", lambda: S.ledger_section(valuation))
    section(
        "assumptions",
        lambda: (
            '<p class="note">Every input the file gives a label (<i>sourced</i>, <i>derived</i> or '
            "<i>assumption</i>) or a source, with the value valued in this run. Rows this run changed are "
            "highlighted. Assumptions are the places to challenge first.</p>"
            + S.assumptions_section(deal, valued, scenario)
        ),
    )

    title = html.escape(valued.name)
    label_class = "run-label" + ("" if info.is_base else " changed-run")
    head = [f"<h1>{title}</h1>", f'<p class="{label_class}">Run: {html.escape(info.label)}</p>']
    if valued.description:
        head.append(f"<p>{html.escape(valued.description)}</p>")
    if missing_note:
        head.append(f'<p class="note">{html.escape(CHARTS_MISSING)}</p>')
    order = [*SECTIONS]
    order.insert([key for key, _ in SECTIONS].index("parties") + 1, ENTITIES_SECTION)
    order.insert([key for key, _ in order].index("entities") + 1, TERMS_SECTION)
    shown = [(key, heading) for key, heading in order if key in sections]
    toc = "".join(f'<li><a href="#{key}">{html.escape(heading)}</a></li>' for key, heading in shown)
    head.append(f'<nav class="toc"><b>Contents</b><ol>{toc}</ol></nav>')
    body = [
        f'<section><h2 id="{key}">{html.escape(heading)}</h2>{sections[key]}</section>'
        for key, heading in shown
    ]
    lines = [
        f"{valued.name}: {info.label}" + (f" ({info.file})" if info.file else ""),
        f"{info.basis_text} US$, price deck {info.price_deck}, project discount rate "
        f"{percent(float(valuation.discount_rate[0]), digits=2)} {basis}",
        *(f"changed: {c}" for c in info.changes),
    ]
    if mc is not None:
        lines.append(f"Monte Carlo: {mc.n:,} draws ({mc.method}), seed {mc.seed}")
    lines.append(f"dealcalc {info.version}")
    footer = "<footer>" + "<br>".join(html.escape(line) for line in lines) + "</footer>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}: {html.escape(info.label)}: dealcalc report</title>"
        f"<style>{STYLE}{_page_style(valued.name, info.label)}</style></head>"
        f"<body>{''.join(head)}{''.join(body)}{footer}<script>{CHECK}</script></body></html>\n"
    )
