"""``dealcalc sensitivity tornado|spider|grid|sobol|morris``: each analysis with only its own options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from dealcalc.analyses import grid, morris, sobol, spider, tornado
from dealcalc.analyses.display import column_header
from dealcalc.analyses.provenance import RunInfo
from dealcalc.cli.options import (
    caption,
    console,
    deal_options,
    emit,
    force_option,
    json_option,
    load,
    metric_option,
    out_option,
    parse_axis,
    parse_range,
)
from dealcalc.errors import InputError, did_you_mean
from dealcalc.report import frame_table, indices_table, tornado_table

__all__ = ["sensitivity"]

ANALYSES = ("tornado", "spider", "grid", "sobol", "morris")


class _Analyses(click.Group):
    """The sensitivity group: a missing or misspelt analysis is one clear line, with the form
    that works (``dealcalc sensitivity tornado FILE``), not click's "No such command 'FILE'"."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name not in self.commands:
            near = did_you_mean(name, ANALYSES) if name and "/" not in name and "." not in name else None
            message = f"{name!r} is not an analysis" if near else "name the analysis before the file"
            # errors.md: name the analysis before the file
            raise InputError(
                message,
                field="sensitivity",
                expected=f"one of {', '.join(ANALYSES)}",
                hint=near or f"e.g. dealcalc sensitivity tornado {name or 'FILE'}",
            )
        return super().resolve_command(ctx, args)


@click.group(cls=_Analyses)
def sensitivity() -> None:
    """What moves a metric: tornado, spider or grid (one or two parameters at a time), or
    sobol and morris (global indices over the file's uncertain inputs; extra: gsa).

    Example: dealcalc sensitivity tornado examples/ussm_fwo_2025.yaml
    """


def _outputs(command: Any) -> Any:
    """--metric, --json, --out and --force: what every analysis takes."""
    for option in (
        force_option,
        out_option((".json", ".csv"), "Also write the result to .json or .csv (atomically)."),
        json_option,
        metric_option,
    ):
        command = option(command)
    return command


def _show(table: Any, run: RunInfo, attrs: dict[Any, Any] | None = None) -> None:
    screen = console()
    screen.print(table)
    for line in _sources_lines(attrs or {}):
        screen.print(line, markup=False, highlight=False)
    screen.print(caption(run), markup=False, highlight=False)


def _sources_lines(attrs: dict[Any, Any]) -> list[str]:
    """What a Sobol analysis or a tornado from distributions varied, held fixed and does not
    model, in words (nothing for an analysis that does not say)."""
    if "held_fixed" not in attrs:
        return []
    held = list(attrs["held_fixed"])
    lines = [
        "sources: every source of risk in the file"
        if attrs.get("sources") == "all"
        else "sources: the uncertain inputs only (--sources all adds the rest)",
        "held fixed: " + ("; ".join(held) if held else "nothing"),
    ]
    if attrs.get("not_modelled"):
        lines.append("not modelled: " + "; ".join(attrs["not_modelled"]))
    return lines


@sensitivity.command(name="tornado")
@deal_options
@click.option(
    "--param", "params", multiple=True, metavar="PATH", help="A parameter to move by --change (repeatable)."
)
@click.option(
    "--change", type=float, default=0.2, show_default=True, help="Relative change for --param (0.2 = ±20 %)."
)
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="PATH=LOW:HIGH",
    help="A parameter with its low and high values.",
)
@click.option(
    "--quantiles",
    metavar="LOW:HIGH",
    help="Each uncertain input of the file between these quantiles (0.1:0.9 for P10/P90).",
)
@_outputs
def tornado_command(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    params: tuple[str, ...],
    change: float,
    ranges: tuple[str, ...],
    quantiles: str | None,
    metric: str,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """Each parameter moved alone, low and high, ranked by the swing of the metric.

    Default parameters: prices, capex, unit costs, royalty and tax rates, discount rate,
    pass-through, each ±20 %.

    Example: dealcalc sensitivity tornado examples/ussm_fwo_2025.yaml --range
    price_decks.base.antimony=22046:55000
    """
    given = [
        name for name, used in (("--range", ranges), ("--param", params), ("--quantiles", quantiles)) if used
    ]
    if len(given) > 1:
        raise InputError(
            f"give one of --range, --param and --quantiles, not {' and '.join(given)}", field=given[0]
        )
    deal = load(file, assignments)
    spec: Any = dict(parse_range(r) for r in ranges) if ranges else (list(params) or None)
    q = parse_range(f"q={quantiles}", "--quantiles")[1] if quantiles else None
    df = tornado(deal, spec, change=change, metric=metric, scenario=scenario, quantiles=q)
    if emit(df, out=out, force=force, as_json=as_json):
        return
    run: RunInfo = df.attrs["run"]
    screen = console()
    bar = min(24, max(10, screen.width - 90))  # narrow terminals: a shorter bar, whole
    title = f"{run.deal}: {run.label}: what moves {column_header(metric, basis=run.basis)}"
    _show(tornado_table(df, title=title, width=bar, deal=deal), run, df.attrs)


@sensitivity.command(name="spider")
@deal_options
@click.option("--param", "params", multiple=True, metavar="PATH", help="A parameter to move (repeatable).")
@click.option(
    "--change",
    type=float,
    default=0.3,
    show_default=True,
    help="The widest relative change (0.3: -30 % to +30 % in seven steps).",
)
@_outputs
def spider_command(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    params: tuple[str, ...],
    change: float,
    metric: str,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """The metric against the relative change of each parameter, the others at their base.

    Example: dealcalc sensitivity spider examples/ussm_fwo_2025.yaml --param fiscal.royalty_rate
    """
    if not 0 < change < 10:
        raise InputError(
            f"{change:g} is not a usable change",
            field="--change",
            expected="a fraction above 0, e.g. 0.3 for ±30 %",
        )
    deal = load(file, assignments)
    steps = np.linspace(-change, change, 7).round(12)  # -0.3, not -0.30000000000000004
    df = spider(deal, list(params) or None, steps, metric=metric, scenario=scenario)
    if emit(df, out=out, force=force, as_json=as_json):
        return
    run: RunInfo = df.attrs["run"]
    title = f"{run.deal}: {run.label}: {column_header(metric, basis=run.basis)} against each change"
    _show(frame_table(df, metric=metric, title=title, deal=deal), run)


@sensitivity.command(name="grid")
@deal_options
@click.option("--x", "x_axis", metavar="PATH=V1,V2,...", required=True, help="The first axis.")
@click.option("--y", "y_axis", metavar="PATH=V1,V2,...", help="The second axis (optional).")
@_outputs
def grid_command(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    x_axis: str,
    y_axis: str | None,
    metric: str,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """The metric over a grid of one or two parameters' values.

    Example: dealcalc sensitivity grid examples/ussm_fwo_2025.yaml --x
    price_decks.base.antimony=20000,30000,40000 --y phases.refinery.capex_usd=3e8,4e8
    """
    x = parse_axis(x_axis, "--x")
    y = parse_axis(y_axis, "--y") if y_axis else None
    deal = load(file, assignments)
    df = grid(deal, x, y, metric=metric, scenario=scenario)
    if emit(df, out=out, force=force, as_json=as_json):
        return
    run: RunInfo = df.attrs["run"]
    title = f"{run.deal}: {run.label}: {column_header(metric, basis=run.basis)} over the grid"
    _show(frame_table(df, metric=metric, title=title, deal=deal), run)


def _global_command(kind: str) -> Any:
    samples_help = (
        "Base sample size (a power of 2; valuations: N x (inputs + 2))."
        if kind == "sobol"
        else "Trajectories (valuations: N x (inputs + 1))."
    )

    @sensitivity.command(name=kind)
    @deal_options
    @click.option(
        "-n",
        "--samples",
        type=click.IntRange(min=2),
        default=1024 if kind == "sobol" else 50,
        show_default=True,
        help=samples_help,
    )
    @click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed.")
    @_outputs
    def command(
        file: Path,
        scenario: str | None,
        assignments: tuple[str, ...],
        samples: int,
        seed: int,
        metric: str,
        as_json: bool,
        out: Path | None,
        force: bool,
        sources: str = "all",
    ) -> None:
        deal = load(file, assignments)
        if kind == "sobol":
            df = sobol(deal, samples, metric=metric, scenario=scenario, seed=seed, sources=sources)
        else:
            df = morris(deal, samples, metric=metric, scenario=scenario, seed=seed)
        if emit(df, out=out, force=force, as_json=as_json):
            return
        run: RunInfo = df.attrs["run"]
        title = f"{run.deal}: {run.label}: {kind} indices of {column_header(metric, basis=run.basis)}"
        _show(indices_table(df, title=title, deal=deal), run, df.attrs)
        if kind == "sobol" and ((df["S1"] > df["ST"] + 0.01).any() or (df["S1"] < -0.01).any()):
            console().print(  # estimates outside 0 <= S1 <= ST: sampling error, not a result
                "note: some first-order indices are negative or above their total: the sample is too "
                "small for these estimates; raise -n (a power of 2, e.g. 1024)",
                markup=False,
                highlight=False,
            )

    if kind == "sobol":
        command = click.option(
            "--sources",
            type=click.Choice(["all", "inputs"]),
            default="all",
            show_default=True,
            help="all: every source of risk (price paths, switches, events, gate continuity) as "
            "named groups next to the uncertain inputs; inputs: the uncertain inputs only.",
        )(command)

    command.__doc__ = (
        f"{'Sobol' if kind == 'sobol' else 'Morris'} indices of the metric over the file's uncertain "
        f"inputs (extra: gsa).\n\n    Example: dealcalc sensitivity {kind} examples/ussm_fwo_2025.yaml -n "
        f"{256 if kind == 'sobol' else 20}"
    )
    command.help = command.__doc__
    return command


sobol_command = _global_command("sobol")
morris_command = _global_command("morris")
