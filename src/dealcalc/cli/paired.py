"""``dealcalc paired FILE --scenario A [--against B]``: what a change of terms is worth to each
party, on the same random draws."""

from __future__ import annotations

from pathlib import Path

import click

from dealcalc.analyses.display import frame_rich
from dealcalc.analyses.paired import paired_change
from dealcalc.cli.options import (
    caption,
    console,
    deal_options,
    emit,
    force_option,
    json_option,
    load,
    out_option,
    sampling_options,
)
from dealcalc.errors import InputError

__all__ = ["paired"]


@click.command(name="paired")
@deal_options
@click.option(
    "--against",
    metavar="SCENARIO",
    default="base",
    show_default=True,
    help="The scenario without the change.",
)
@click.option(
    "-n",
    "--draws",
    "n",
    type=click.IntRange(min=2),
    default=10_000,
    show_default=True,
    help="Number of draws.",
)
@sampling_options
@json_option
@out_option((".json", ".csv"), "Also write the table to .json or .csv atomically.")
@force_option
def paired(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    against: str,
    n: int,
    seed: int | None,
    method: str | None,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """What the change from --against to --scenario is worth to each party: both valued by
    Monte Carlo on the same draws; each party's mean NPV with and without it, the mean change
    with its standard error, how often the party loses and the change's 5th, 50th and 95th
    percentiles.

    Example: dealcalc paired examples/ussm_fwo_2025.yaml --scenario us_ndpr_floor_contract -n 20000
    """
    if scenario is None:
        raise InputError(
            "no scenario with the change", field="--scenario", expected="a named scenario of the file"
        )
    deal = load(file, assignments)
    table = paired_change(deal, n, scenario=scenario, against=against, seed=seed, method=method)
    if emit(table, out=out, force=force, as_json=as_json):
        return
    run = table.attrs["run"]
    screen = console()
    if table.attrs.get("description"):
        screen.print(f"{scenario}: {table.attrs['description']}", markup=False, highlight=False)
    screen.print(
        frame_rich(
            table,
            title=f"{scenario} against {table.attrs['against']}: each party's NPV on the same {n:,} draws",
            note="mean NPV at each party's own rate (the rows do not add up: each is at its own rate; "
            "the project row is the project's NPV, without its buyers and governments); change: with "
            "less without, draw by draw, with its standard error, the share of draws it is negative and "
            "its percentiles; P(NPV < 0) with and without the change",
        )
    )
    screen.print(caption(run), markup=False, highlight=False)
