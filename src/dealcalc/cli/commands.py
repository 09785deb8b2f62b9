"""The ``dealcalc`` commands. Each is load → call → render: no finance and no JSON built here
(:mod:`dealcalc.report.serialize` makes every ``--json`` and ``--out``; :mod:`dealcalc.report`
the tables, charts, workbook and page)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import click
import numpy as np
from rich.console import Console

from dealcalc import formatting as fmt
from dealcalc._version import __version__
from dealcalc.analyses import (
    Valuation,
    breakeven,
    compare,
    evaluate,
    flow_metrics,
    monte_carlo,
    negotiation_space,
    tariff_attribution,
)
from dealcalc.analyses.contributions import contributions
from dealcalc.analyses.display import column_header, frame_rich, param_label, param_value
from dealcalc.analyses.lenders import NEEDED as LENDER_METRICS
from dealcalc.analyses.lenders import lender_risk
from dealcalc.analyses.montecarlo import (
    UNTIL_PERCENTILES,
    MonteCarlo,
    all_metrics,
    default_metrics,
    parse_prob,
)
from dealcalc.analyses.provenance import RunInfo
from dealcalc.analyses.uncertainty import has_uncertainty
from dealcalc.cli.boundary import DEBUG_ENV, Group, remember_scheduler
from dealcalc.cli.decisions import gates
from dealcalc.cli.options import (
    OutputFile,
    caption,
    check_rate,
    console,
    deal_options,
    emit,
    file_argument,
    force_option,
    json_option,
    load,
    metric_option,
    out_option,
    parse_axis,
    sampling_options,
    set_option,
)
from dealcalc.cli.paired import paired
from dealcalc.cli.sensitivity import sensitivity
from dealcalc.cli.terms import terms, walk_away_value
from dealcalc.engine import lines as L
from dealcalc.engine import resolve
from dealcalc.errors import InputError, MissingExtraError, did_you_mean
from dealcalc.io import EXAMPLES, example_path, read_cash_flows_csv, write_atomic
from dealcalc.params import apply_scenario, paths, schedule_paths
from dealcalc.report import (
    attribution_table,
    compare_table,
    entity_table,
    excel_model,
    flow_metrics_table,
    montecarlo_table,
    party_table,
    valuation_table,
)
from dealcalc.report.charts import FORMATS, KINDS, Results, figure
from dealcalc.report.html import CHARTS_MISSING, html_report
from dealcalc.report.plots import has_matplotlib, render
from dealcalc.report.serialize import csv_text, dumps
from dealcalc.report.tables import contributions_table, lenders_table

__all__ = ["main"]


def _place(name: str) -> str:
    """A destination's name as words: a short one is an abbreviation (``us`` -> ``US``)."""
    return name.upper() if len(name) <= 3 else name


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dealcalc")
@click.option(
    "--debug",
    is_flag=True,
    envvar=DEBUG_ENV,
    help=f"Show the traceback of an error instead of one line (also: {DEBUG_ENV}=1).",
)
def main(debug: bool) -> None:
    """Value cross-border critical-minerals deals.

    Rates are fractions (0.10 for 10 %). Mistakes in files or options end with one line
    naming what is wrong and exit status 2; anything else that fails is a bug in dealcalc,
    said in one line with exit status 1 (--debug shows its traceback); Ctrl-C exits with 130.
    """


main.add_command(sensitivity)
main.add_command(gates)
main.add_command(terms)
main.add_command(paired)


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--rate", "-r", type=float, required=True, help="Discount rate per period (0.10 = 10 %).")
@click.option(
    "--timing",
    type=click.Choice(["t0", "end"]),
    default="t0",
    show_default=True,
    help="t0: the first value is at time 0 (numpy-financial); end: discounted one period (Excel's NPV).",
)
@click.option("--finance-rate", type=float, help="MIRR finance rate (default: --rate).")
@click.option("--reinvest-rate", type=float, help="MIRR reinvestment rate (default: --rate).")
@json_option
@out_option((".json", ".csv"), "Also write the results to a .json or .csv file (atomically).")
@force_option
def flows(
    file: Path,
    rate: float,
    timing: str,
    finance_rate: float | None,
    reinvest_rate: float | None,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """Value plain cash-flow series from a CSV FILE, one series per column.

    The first row names the series. An optional first column headed period, year or t
    labels the periods; one headed date (YYYY-MM-DD) adds XNPV and XIRR. Prints NPV, IRR,
    MIRR, simple and discounted payback (in periods) and the profitability index.

    Example: dealcalc flows examples/cashflows.csv --rate 0.10
    """
    for value, option in (
        (rate, "--rate"),
        (finance_rate, "--finance-rate"),
        (reinvest_rate, "--reinvest-rate"),
    ):
        check_rate(value, option)
    table = read_cash_flows_csv(file)
    try:
        df = flow_metrics(
            table.values,
            rate,
            names=table.names,
            timing=timing,  # type: ignore[arg-type]
            finance_rate=finance_rate,
            reinvest_rate=reinvest_rate,
            dates=table.dates,
        )
    except InputError as exc:  # a metric beyond floating point: say which file's flows
        if exc.field != "values" or exc.source is not None:
            raise
        # errors.md: is too large for floating point
        raise InputError(exc.message, source=str(file), expected=exc.expected) from None
    run = {
        "analysis": "flows",
        "file": str(file),
        "rate": rate,
        "timing": timing,
        "finance_rate": rate if finance_rate is None else finance_rate,
        "reinvest_rate": rate if reinvest_rate is None else reinvest_rate,
        "periods": len(table.labels),
        "dealcalc_version": __version__,
    }
    if not emit(df, out=out, force=force, as_json=as_json, kind="flows", run=run):
        title = f"{file.name}: {len(table.labels)} periods, rate {rate:g}, timing {timing}"
        console().print(flow_metrics_table(df, title=title))


@main.command()
@file_argument
@click.option("--paths", "show_paths", is_flag=True, help="List every numeric parameter path.")
def validate(file: Path, show_paths: bool) -> None:
    """Check a scenario FILE and every named scenario in it."""
    deal = load(file, ())
    for name in [None, *deal.scenarios]:  # every scenario resolves to the engine's numbers
        resolve(apply_scenario(deal, name), {}, 1)
    if has_uncertainty(deal):  # the uncertain inputs' paths and draws: a few draws check them all
        monte_carlo(deal, 8, seed=0, metrics=["npv_usd"])
    if show_paths:
        given_by_year = schedule_paths(deal)
        for p in paths(deal):
            given = given_by_year.get(p)
            if given is None:
                click.echo(p)
                continue
            # --set PATH=NUMBER would replace such a schedule, so it is refused: say what works
            one = f"--set {p}.YEAR=V sets one year" if isinstance(given, dict) else "--set takes a whole list"
            form = "year by year" if isinstance(given, dict) else "as a list"
            click.echo(
                f"{p}  (given {form}: an override or a scenario's scale: multiplies every year; {one})"
            )
        return
    click.echo(
        f"{file}: valid: {len(deal.phases)} phases, {len(deal.streams)} streams, "
        f"{len(deal.price_decks)} price decks, {len(deal.scenarios)} scenarios, "
        f"{len(deal.provenance)} values with provenance"
    )


def _valuation_command(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    deal = load(file, assignments)
    several = bool(apply_scenario(deal, scenario).entities)  # then each entity's ledger is shown
    valuation = evaluate(deal, scenario, keep_ledger=several)
    if emit(valuation, out=out, force=force, as_json=as_json):
        return
    head = valuation.headline()
    run = valuation.info
    screen = console()
    screen.print(valuation_table(head, title=f"{run.deal}: {run.label}"))
    if head.get("parties"):
        screen.print(party_table(head, title=f"Parties ({run.basis})"))
    for line in _cover_notes(valuation):
        screen.print(line, markup=False, highlight=False)
    if several:
        screen.print(entity_table(valuation.entity_table(), title=f"Entities ({run.basis})"))
        screen.print(
            frame_rich(
                valuation.transfer_table(),
                title=f"Transfer prices ({run.basis})",
                note="over the life, undiscounted: the units fed (in each feed's price unit), their value, "
                "the average price paid and the feed's market price per unit (US$ per that unit) over the "
                "same units",
            )
        )
    screen.print(caption(run), markup=False, highlight=False)


def _cover_notes(valuation: Valuation) -> list[str]:
    """A note when a borrower's DSCR falls below 1 with no debt-stress rule on: the owners then
    pay the shortfall of debt service, which no other number on the screen shows."""
    low = valuation.values.get("min_dscr")
    if low is None or not np.isfinite(low[0]) or low[0] >= 1.0 or valuation.deal.finance.stressed:
        return []
    where = ""
    if valuation.entities is not None:  # the weakest borrower and its worst year
        worst = min(
            (
                (float(np.nanmin(parties.line(L.DSCR)[0])), name, int(np.nanargmin(parties.line(L.DSCR)[0])))
                for name, (_, parties) in valuation.entities.items()
                if parties.has(L.DSCR) and np.isfinite(parties.line(L.DSCR)[0]).any()
            ),
            default=None,
        )
        if worst is not None:
            where = f" ({worst[1]}, {valuation.entities[worst[1]][1].years[worst[2]]})"
    return [
        f"note: the minimum DSCR is {fmt.ratio(float(low[0]))}{where}: below 1, and with no debt-stress rule "
        "the owners pay the shortfall of debt service; finance.default, finance.dsra and finance.lockup "
        "model what lenders would do (methodology §23)"
    ]


def _valuation(name: str, doc: str) -> click.Command:
    """``npv`` and ``irr``: the same valuation, shown the same way, under either name."""

    @main.command(name=name, help=doc)
    @deal_options
    @json_option
    @out_option((".json", ".csv"), "Also write the valuation to .json or .csv (atomically).")
    @force_option
    def command(
        file: Path,
        scenario: str | None,
        assignments: tuple[str, ...],
        as_json: bool,
        out: Path | None,
        force: bool,
    ) -> None:
        _valuation_command(file, scenario, assignments, as_json, out, force)

    return command


npv = _valuation(
    "npv",
    """Value the deal in FILE: NPV and IRR after and before tax, payback, peak funding.

    Example: dealcalc npv examples/ussm_fwo_2025.yaml --scenario spot_2025
    """,
)
irr = _valuation("irr", "The deal's IRR after and before tax (with NPV, as `npv` shows).")


@main.command()
@deal_options
@click.option("--csv", "csv_out", type=OutputFile([".csv"]), metavar="FILE", help="Write the ledger to CSV.")
@click.option(
    "--xlsx",
    "xlsx_out",
    type=OutputFile([".xlsx"]),
    metavar="FILE",
    help="Write the deal as a live Excel model: inputs, formulas, provenance (extra: excel).",
)
@click.option("--entity", metavar="NAME", help="One company's own ledger, in a deal of several (entities).")
@force_option
def table(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    csv_out: Path | None,
    xlsx_out: Path | None,
    entity: str | None,
    force: bool,
) -> None:
    """The annual ledger of the deal: every line by year (US$; inflows positive); with --entity,
    one company's (its transfers to and from the others included)."""
    deal = load(file, assignments)
    valuation = evaluate(deal, scenario, keep_ledger=True)
    ledger = valuation.table(entity=entity)
    if xlsx_out is not None:
        write_atomic(xlsx_out, excel_model(deal, scenario), force=force)
        click.echo(f"wrote {xlsx_out}")
    if csv_out is not None:
        ledger.attrs["run"] = valuation.info
        if entity is not None:
            ledger.attrs["entity"] = entity
        emit(ledger, out=csv_out, force=force)
        click.echo(f"wrote {csv_out}")
    if csv_out is not None or xlsx_out is not None:
        return
    lines = ledger.T.rename_axis("line").rename(columns=str)  # lines down, years across
    run = valuation.info
    note = "inflows positive; columns in blocks of years to fit the terminal"
    title = f"{run.deal}: {run.label}" + (f", entity {entity}" if entity is not None else "")
    console().print(frame_rich(lines, title=title, note=note, by_row=True, run=run))


@main.command(name="compare")
@file_argument
@set_option
@click.option(
    "--only",
    multiple=True,
    metavar="NAME",
    help="A named scenario to show (repeatable; default: every one). The base case is always first.",
)
@json_option
@out_option((".json", ".csv"), "Also write the comparison to .json or .csv (atomically).")
@force_option
def compare_command(
    file: Path,
    assignments: tuple[str, ...],
    only: tuple[str, ...],
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """Every named scenario of FILE (or those named with --only) side by side with the base case:
    the project's value, every party's NPV at its own rate, the owners' IRRs and each state's take.

    Example: dealcalc compare examples/ussm_fwo_2025.yaml --only terms_ussm_earns_refinery_stake
    --only terms_provincial_stake --only terms_us_offtake_floor
    """
    deal = load(file, assignments)
    for name in only:
        if name not in deal.scenarios:
            raise InputError(f"no scenario {name!r}", field="--only", hint=did_you_mean(name, deal.scenarios))
    df = compare(deal, list(only) or None)
    attribution = tariff_attribution(deal) if deal.trade.attribution is not None else None
    if emit(df, out=out, force=force, as_json=as_json, attribution=attribution):
        return
    run: RunInfo = df.attrs["run"]
    screen = console()
    if attribution is not None:
        dest = deal.trade.attribution.destination  # type: ignore[union-attr]
        screen.print(
            attribution_table(
                attribution,
                title=f"Value of the {_place(dest)} tariff schedules to each party, in the base case",
            )
        )
    shown = "the base case" + (" and " + ", ".join(only) if only else " and every named scenario")
    screen.print(compare_table(df, title=f"{run.deal}: {shown}", basis=deal.valuation.basis))
    screen.print(caption(run), markup=False, highlight=False)


@main.command(name="breakeven")
@deal_options
@click.argument("path")
@click.option("--target", type=float, default=0.0, show_default=True, help="The metric's target value.")
@click.option(
    "--target-basis",
    type=click.Choice(["real", "nominal"]),
    help="The basis of an IRR target (default: the deal's); converted by the Fisher relation.",
)
@metric_option
@click.option("--low", type=float, help="Lowest value allowed (default 0).")
@click.option("--high", type=float, help="Highest value allowed (default 4 x the base value).")
@json_option
@out_option((".json", ".csv"), "Also write the result to .json or .csv (atomically).")
@force_option
def breakeven_command(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    path: str,
    target: float,
    target_basis: str | None,
    metric: str,
    low: float | None,
    high: float | None,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """The value of PATH at which the metric hits its target (NPV = 0 by default).

    Example: dealcalc breakeven examples/ussm_fwo_2025.yaml price_decks.base.antimony
    """
    deal = load(file, assignments)
    result = breakeven(
        deal,
        path,
        target=target,
        metric=metric,
        target_basis=target_basis,
        bounds=(low, high),
        scenario=scenario,
    )
    context = {"target": target, "target_basis": target_basis or deal.valuation.basis}
    if emit(result, out=out, force=force, as_json=as_json, **context):
        return
    if result.found[0]:
        shown = column_header(metric, basis=result.basis)
        at = f"{param_label(path, deal)} = {param_value(path, float(result.value[0]))}"
        base = param_value(path, result.base_value)
        click.echo(f"{shown} = {fmt.cell(metric, result.target)} at {at} (base value {base})")
    else:
        click.echo(result.explain())
    if result.run is not None:
        click.echo(f"{result.run.deal}: {result.run.label}; {caption(result.run)}")


@main.command(name="montecarlo")
@deal_options
@click.option(
    "-n",
    "--draws",
    "n",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Number of draws (with --until, the most to use).",
)
@sampling_options
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    help="A metric to report (repeatable; default: the project's and each party's NPV and IRR).",
)
@click.option(
    "--prob",
    "questions",
    multiple=True,
    metavar="'METRIC OP X'",
    help="A probability to report with its standard error, e.g. --prob 'ussm.irr < 0.19' "
    "(OP: <, <=, >, >=; repeatable).",
)
@click.option(
    "--until",
    type=float,
    metavar="TOL",
    help="Stop once the 95 % intervals of the mean and of P10, P50 and P90 are within TOL of "
    "their estimates (0.01: 1 %), or at -n draws; of the --metric metrics, else npv_usd.",
)
@click.option(
    "--until-percentile",
    "percentiles",
    type=float,
    multiple=True,
    metavar="Q",
    help="A percentile --until watches instead of P10, P50 and P90, as a fraction (repeatable).",
)
@click.option(
    "--contributions",
    "ranked",
    metavar="METRIC",
    help="Rank every source of risk in the draws (inputs, price paths, events, switches, gates) "
    "by its contribution to the variance of METRIC, any party's (e.g. ussm.npv_usd).",
)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Run on a local dask cluster of N processes (extra: dask)."
)
@click.option("--scheduler", metavar="ADDRESS", help="Run on an existing dask scheduler (extra: dask).")
@json_option
@out_option(
    (".json", ".csv", ".parquet"),
    "Write atomically: .json, the summary (as --json); .csv or .parquet (extra: parquet), one row "
    "per draw: every sampled input, each price path's mean and price at each gate, the events, "
    "the gate decisions and every metric of every party.",
)
@force_option
def montecarlo_command(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    n: int,
    seed: int | None,
    method: str | None,
    metrics: tuple[str, ...],
    questions: tuple[str, ...],
    until: float | None,
    percentiles: tuple[float, ...],
    ranked: str | None,
    workers: int | None,
    scheduler: str | None,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """Sample the file's uncertainty block N times: each metric's distribution, P(NPV < 0).

    Example: dealcalc montecarlo examples/ussm_fwo_2025.yaml -n 100000 --seed 1
    --prob 'ussm.irr < 0.19' --until 0.01 --out draws.parquet
    """
    asked = [parse_prob(q) for q in questions]  # a bad question is refused before any work
    draws_out = out is not None and out.suffix.lower() in (".csv", ".parquet")
    if draws_out and out is not None and out.suffix.lower() == ".parquet":
        _need_pyarrow()
    deal = load(file, assignments)
    if scheduler is not None:  # for the error line, if it cannot be reached
        remember_scheduler(scheduler)
    start = apply_scenario(deal, scenario)
    shown = list(metrics) or default_metrics(start)
    wanted = list(shown) if not draws_out else list(metrics) or all_metrics(start)
    wanted += [m for m in dict.fromkeys(m for m, _, _ in asked) if m not in wanted]
    if ranked is not None and ranked not in wanted:
        wanted.append(ranked)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        mc = monte_carlo(
            deal,
            n,
            seed=seed,
            method=method,
            metrics=wanted,
            scenario=scenario,
            workers=workers,
            scheduler=scheduler,
            progress=Console(stderr=True).is_terminal and not as_json,
            until=until,
            until_metrics=list(metrics) or ["npv_usd"],
            percentiles=percentiles or UNTIL_PERCENTILES,
        )
    for w in caught:
        click.echo(f"note: {file}: {w.message}", err=True)
    if draws_out and out is not None:
        _write_draws(mc, out, force=force)
    ranking = contributions(mc, ranked) if ranked is not None else None
    if emit(
        mc,
        out=None if draws_out else out,
        force=force,
        as_json=as_json,
        probabilities=list(questions),
        contributions=ranking,
    ):
        return
    run = mc.run
    screen = console()
    summary = mc.summary()
    screen.print(
        montecarlo_table(
            summary.loc[[m for m in summary.index if m in shown]], title=f"{run.deal}: {run.label}"
        )
    )
    if questions:
        table = mc.probabilities(questions)[["probability", "std_error"]]
        screen.print(
            frame_rich(
                table.rename(columns={"std_error": "probability_std_error"}),
                title="Probabilities",
                note=f"share of the {mc.n:,} draws, with its standard error sqrt(p (1 - p) / N)",
            )
        )
    if until is not None:
        screen.print(
            f"{'converged' if mc.converged else 'not converged'} to ±{until:.2%} of the mean and "
            f"percentiles: {mc.n:,} of at most {n:,} draws used",
            markup=False,
        )
    for phase, row in mc.gate_summary().iterrows():
        screen.print(  # a phase named [b] is text, not console markup
            f"gate {phase}: continuity in {fmt.percent(row['p_continuity'])} of draws, "
            f"built in {fmt.percent(row['p_built'])} (continuity and its price hurdles)",
            markup=False,
        )
    for metric, value in (mc.option_value() if mc.built else {}).items():
        if metric in shown:
            screen.print(
                f"value of the option to stop at the gates, {metric}: {value / 1e6:,.1f} US$ M", markup=False
            )
    if ranking is not None:
        screen.print(contributions_table(ranking, title=f"Risk ranking: {ranked}"))
    if mc.deal.finance.stressed and all(m in mc.values for m in LENDER_METRICS):
        screen.print(lenders_table(lender_risk(mc), title="Lenders at risk"))
    if draws_out:
        screen.print(f"wrote {mc.n:,} draws to {out}", markup=False, highlight=False)
    screen.print(caption(run), markup=False, highlight=False)


def _need_pyarrow() -> None:
    """Parquet needs pyarrow (extra ``parquet``): said before any work."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise MissingExtraError("pyarrow", "parquet") from None


def _write_draws(mc: MonteCarlo, out: Path, *, force: bool) -> None:
    """``mc.draws()`` to ``out`` atomically: .csv with the run's record as comment lines, or
    .parquet with it in the file's metadata (key ``dealcalc.run``, JSON)."""
    frame = mc.draws()
    if out.suffix.lower() == ".csv":
        write_atomic(out, csv_text(frame, mc.run), force=force)
        return
    _need_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=True)
    meta = dict(table.schema.metadata or {})
    meta[b"dealcalc.run"] = dumps(mc.run.to_dict()).encode()
    sink = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), sink)
    write_atomic(out, sink.getvalue(), force=force)


@main.command(name="plot")
@click.argument("kind", type=click.Choice(list(KINDS)))
@deal_options
@out_option(FORMATS, "The chart file: .png, .svg or .pdf (written atomically).", required=True)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="PATH",
    help="tornado/spider: a parameter to move (repeatable).",
)
@click.option("--x", "x_axis", metavar="PATH=V1,V2,...", help="grid: the first axis.")
@click.option("--y", "y_axis", metavar="PATH=V1,V2,...", help="grid: the second axis.")
@click.option(
    "-n",
    "--draws",
    type=click.IntRange(min=10),
    default=10_000,
    show_default=True,
    help="histogram/cdf: draws.",
)
@click.option("--seed", type=click.IntRange(min=0), help="histogram/cdf: random seed (default: the file's).")
@click.option("--width", type=click.FloatRange(min=2, max=40), default=8.0, show_default=True, help="Inches.")
@click.option(
    "--height", type=click.FloatRange(min=2, max=40), default=4.5, show_default=True, help="Inches."
)
@metric_option
@force_option
def plot_command(
    kind: str,
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    out: Path,
    params: tuple[str, ...],
    x_axis: str | None,
    y_axis: str | None,
    draws: int,
    seed: int | None,
    width: float,
    height: float,
    metric: str,
    force: bool,
) -> None:
    """Draw a chart of the deal to --out (extra: plot). KIND is one of: cashflow, waterfall,
    npv-profile, tornado, spider, grid, histogram, cdf, parties.

    Example: dealcalc plot waterfall examples/ussm_fwo_2025.yaml --out waterfall.png
    """
    deal = load(file, assignments)
    results = Results(
        deal,
        scenario=scenario,
        metric=metric,
        draws=draws,
        seed=seed,
        params=list(params) or None,
        x=parse_axis(x_axis, "--x") if x_axis else None,
        y=parse_axis(y_axis, "--y") if y_axis else None,
    )
    fig = figure(kind, results, width=width, height=height)
    write_atomic(out, render(fig, out.suffix.lower().lstrip(".")), force=force)
    click.echo(f"wrote {out}")


@main.command(name="report")
@deal_options
@out_option((".html", ".htm"), "The .html page to write (self-contained; written atomically).", required=True)
@click.option(
    "-n", "--draws", type=click.IntRange(min=10), default=10_000, show_default=True, help="Monte Carlo draws."
)
@click.option("--seed", type=click.IntRange(min=0), help="Monte Carlo seed (default: the file's).")
@click.option(
    "--charts/--no-charts",
    default=None,
    help="Draw the charts (needs dealcalc[plot]) or tables only. Default: charts if matplotlib is installed.",
)
@click.option(
    "--terms-x", metavar="PATH=V1,V2,...", help="With --terms-y: show the negotiation space of two terms."
)
@click.option("--terms-y", metavar="PATH=V1,V2,...", help="The second term of the negotiation space.")
@click.option(
    "--walk-away",
    "walk_aways",
    multiple=True,
    metavar="PARTY=VALUE",
    help="A party's walk-away value in the negotiation space (repeatable); "
    "every owner not named walks away below 0.",
)
@force_option
def report_command(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    out: Path,
    draws: int,
    seed: int | None,
    charts: bool | None,
    terms_x: str | None,
    terms_y: str | None,
    walk_aways: tuple[str, ...],
    force: bool,
) -> None:
    """Write one self-contained HTML page about the deal for a committee: summary, scenarios,
    parties, production, funding and debt, tariff attribution, sensitivity, Monte Carlo (when the
    file has an uncertainty block), the whole ledger, every assumption with its source.

    Example: dealcalc report examples/ussm_fwo_2025.yaml --out report.html; with
    --terms-x PATH=V1,... --terms-y PATH=V1,... (and --walk-away PARTY=VALUE) the page also shows
    the negotiation space of two terms.
    """
    if (terms_x is None) != (terms_y is None):
        raise InputError(
            "a negotiation space needs two terms", field="--terms-x", expected="--terms-x and --terms-y"
        )
    axes = (
        None
        if terms_x is None or terms_y is None
        else (parse_axis(terms_x, "--terms-x"), parse_axis(terms_y, "--terms-y"))
    )
    limits = dict(walk_away_value(w) for w in walk_aways) if walk_aways else None
    deal = load(file, assignments)
    if charts is None and not has_matplotlib():
        click.echo(CHARTS_MISSING, err=True)
    space = None
    if axes is not None:
        space = negotiation_space(deal, axes[0], axes[1], walk_away=limits, scenario=scenario)
    page = html_report(deal, scenario=scenario, draws=draws, seed=seed, charts=charts, terms=space)
    write_atomic(out, page, force=force)
    click.echo(f"wrote {out}")


@main.command()
@click.argument("name", type=click.Choice(sorted(EXAMPLES)))
@out_option((".yaml", ".yml"), "Where to write it (default: its own name, here).")
@force_option
def example(name: str, out: Path | None, force: bool) -> None:
    """Write a copy of a bundled example deal (ussm-fwo) to start from."""
    source = example_path(name)
    target = out or Path(source.name)
    write_atomic(target, source.read_bytes(), force=force)
    click.echo(f"wrote {target}; try: dealcalc npv {target}")
