"""A self-contained HTML report of a deal (charts need the extra ``plot``).

One page with no outside resources (styles inline, charts as embedded PNG), readable offline
and printable: the headline numbers and each party's value, the tariff attribution, the charts,
the tornado, the Monte Carlo results when the file has an uncertainty block, the ledger, and
the assumptions that drive the result with their sources.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from typing import Any

import pandas as pd

from dealcalc import __version__
from dealcalc.analyses import tariff_attribution
from dealcalc.analyses.display import format_cell, frame_html
from dealcalc.analyses.montecarlo import has_uncertainty
from dealcalc.errors import InputError
from dealcalc.models import Deal
from dealcalc.report.charts import KINDS, Results, figure
from dealcalc.report.plots import has_matplotlib, require_matplotlib

__all__ = ["html_report"]

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #2b7bba; padding-bottom: 0.2rem;
       margin-top: 2.2rem; }
.meta { color: #666; font-size: 0.9rem; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 1rem 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6rem 1rem; min-width: 9rem; }
.card .v { font-size: 1.5rem; font-weight: 600; } .card .k { color: #666; font-size: 0.85rem; }
table.dealcalc { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.85rem; }
table.dealcalc th, table.dealcalc td { border-bottom: 1px solid #e5e5e5; padding: 0.25rem 0.6rem; }
table.dealcalc td { text-align: right; font-variant-numeric: tabular-nums; }
table.dealcalc th { text-align: left; } caption { text-align: left; padding: 0.3rem 0; }
.scroll { overflow-x: auto; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.85rem; }
.note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5rem 0.8rem; }
@media print { h2 { page-break-before: auto; } .scroll { overflow: visible; } }
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


def _chart(kind: str, results: Results, caption: str) -> str:
    from dealcalc.report.plots import render

    data = base64.b64encode(render(figure(kind, results), "png", dpi=100)).decode("ascii")
    return (
        f'<figure><img class="chart" alt="{html.escape(KINDS[kind])}" '
        f'src="data:image/png;base64,{data}"><figcaption>{html.escape(caption)}</figcaption></figure>'
    )


def _cards(values: dict[str, Any], basis: str) -> str:
    items = [
        ("npv_usd", f"NPV after tax, US$ M ({basis})"),
        ("irr", f"IRR after tax ({basis})"),
        ("pre_tax_npv_usd", "NPV pre-tax, US$ M"),
        ("payback_years", "payback, years"),
        ("peak_funding_usd", "peak funding, US$ M"),
        ("discount_rate", "discount rate"),
    ]
    cards = "".join(
        f'<div class="card"><div class="v">{html.escape(format_cell(k, float(values[k][0])))}</div>'
        f'<div class="k">{html.escape(label)}</div></div>'
        for k, label in items
        if k in values
    )
    return f'<div class="cards">{cards}</div>'


def _drivers(deal: Deal, tornado: pd.DataFrame, top: int = 8) -> pd.DataFrame:
    rows = []
    for path, row in tornado.head(top).iterrows():
        prov = deal.provenance.get(str(path))
        rows.append(
            {
                "base value": row["base_value"],
                "swing_usd": row["swing"],
                "label": (prov.label if prov else None) or "—",
                "source": (prov.source if prov else None) or "—",
            }
        )
    return pd.DataFrame(rows, index=pd.Index([str(p) for p in tornado.head(top).index], name="parameter"))


def _provenance(deal: Deal) -> pd.DataFrame:
    rows = {
        path: {"label": p.label or "—", "source": p.source or "—", "as of": p.as_of or "—"}
        for path, p in sorted(deal.provenance.items())
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("parameter")


#: Said on the page (and by the CLI) when the charts are left out because matplotlib is missing.
CHARTS_MISSING = "Charts left out: matplotlib is not installed (pip install 'dealcalc[plot]')."


def html_report(
    deal: Deal,
    *,
    scenario: str | None = None,
    draws: int = 10_000,
    seed: int | None = None,
    charts: bool | None = None,
) -> str:
    """The whole report as one HTML document (a string).

    Parameters
    ----------
    deal : Deal
        From :func:`dealcalc.load`.
    scenario : str, optional
        A named scenario of the file (default: the base case).
    draws, seed : int
        Monte Carlo draws and seed, used when the file has an uncertainty block.
    charts : bool, optional
        Draw the charts (needs the extra ``plot``); without them the page holds the tables.
        Default: draw them if matplotlib is installed, else say on the page how to add them.

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.report.html import html_report
    >>> page = html_report(dc.load(dc.example_path("ussm-fwo")), draws=200, charts=False)
    >>> page.startswith("<!DOCTYPE html>") and "Tariff attribution" in page
    True
    """
    missing_note = charts is None and not has_matplotlib()
    if charts is None:
        charts = not missing_note
    elif charts:
        require_matplotlib()
    results = Results(deal, scenario=scenario, draws=draws, seed=seed)
    valuation = results.valuation
    valued = valuation.deal
    parts: list[str] = []
    add = parts.append
    title = html.escape(valued.name)
    add(f"<h1>{title}</h1>")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    add(
        f'<p class="meta">Scenario <b>{html.escape(valuation.scenario)}</b>; '
        f"{html.escape(valued.valuation.basis)} terms, "
        f"price deck {html.escape(valued.valuation.price_deck)}, "
        f"timing {html.escape(valued.valuation.timing)}. "
        f"dealcalc {html.escape(__version__)}, {stamp}.</p>"
    )
    if valued.description:
        add(f"<p>{html.escape(valued.description)}</p>")
    if missing_note:
        add(f'<p class="note">{html.escape(CHARTS_MISSING)}</p>')

    add("<h2>Headline</h2>")
    add(_cards(valuation.values, valuation.deal.valuation.basis))
    if valued.party_names():
        add(
            frame_html(
                valuation.party_summary(),
                title="Each party",
                note="NPV in US$ million at each party's own discount rate; take: the state's share of the "
                "cash before state take.",
            )
        )
    if charts:
        add(_chart("waterfall", results, "Where the revenue goes, life of the deal, undiscounted."))
        add(_chart("parties", results, "Each party's cash by year and each government's take."))

    try:
        attribution = tariff_attribution(deal)
    except InputError:
        attribution = None
    if attribution is not None:
        add("<h2>Tariff attribution</h2>")
        add(
            "<p>The value of each tariff regime to each party, and what changing from one to the next moves "
            "(US$ million, NPV at each party's rate).</p>"
        )
        add(f'<div class="scroll">{frame_html(attribution)}</div>')

    add("<h2>Cash flow and value</h2>")
    if charts:
        add(
            _chart(
                "cashflow", results, "Annual after-tax cash flow (bars) and the cumulative cash flow (line)."
            )
        )
        add(
            _chart("npv-profile", results, "NPV against the discount rate; the IRR is where it crosses zero.")
        )

    add("<h2>What drives the value</h2>")
    torn = results.tornado
    if charts:
        add(_chart("tornado", results, "NPV when each parameter moves alone (±20 % unless stated)."))
    drivers = frame_html(_drivers(valued, torn), title="The main drivers and their sources")
    add(f'<div class="scroll">{drivers}</div>')

    if has_uncertainty(valued):
        mc = results.monte_carlo
        add("<h2>Uncertainty: Monte Carlo</h2>")
        add(
            f"<p>{mc.n:,} draws ({html.escape(mc.method)}, seed {mc.seed}) of the file's uncertainty block: "
            "correlated inputs, price paths, disruptions, expropriation and phase gates. "
            "Values are discounted at the risk-appropriate rate of the file, not a de-risked one.</p>"
        )
        if charts:
            add(_chart("histogram", results, "Distribution of the project NPV with P10/P50/P90."))
            add(_chart("cdf", results, "Cumulative distribution: read P(NPV < x) off the curve."))
        summary = mc.summary()[["mean", "std_error", "p10", "p50", "p90", "prob_negative", "no_solution"]]
        add(f'<div class="scroll">{frame_html(summary, by_row=True, title="Each metric")}</div>')
        if mc.built:
            add(frame_html(mc.gate_summary(), title="Phase gates", by_row=True))
            for metric, value in mc.option_value().items():
                add(
                    f"<p>Value of the option to stop at the gates ({html.escape(str(metric))}): "
                    f"<b>{value / 1e6:,.1f}</b> US$ million.</p>"
                )

    add("<h2>Ledger</h2>")
    ledger = valuation.table().T.rename_axis("US$ million")  # lines down, years across
    add(f'<div class="scroll">{frame_html(ledger, by_row=True)}</div>')

    add("<h2>Assumptions and sources</h2>")
    add(
        '<p class="note">Every value below is labelled <i>sourced</i>, <i>derived</i> or <i>assumption</i> '
        "in the scenario file. Assumptions are the places to challenge first.</p>"
    )
    add(f'<div class="scroll">{frame_html(_provenance(valued))}</div>')

    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}: dealcalc report</title><style>{STYLE}</style></head>"
        f"<body>{body}<script>{CHECK}</script></body></html>\n"
    )
