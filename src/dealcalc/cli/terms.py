"""``dealcalc terms FILE --x PATH=V1,V2,... --y PATH=V1,V2,...``: the negotiation space of two
terms: each party's value over the grid and where every party accepts."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from dealcalc import formatting as fmt
from dealcalc.analyses.display import frame_rich, param_label, param_value
from dealcalc.analyses.terms import TermsGrid, negotiation_space
from dealcalc.cli.options import (
    OutputFile,
    console,
    deal_options,
    emit,
    force_option,
    json_option,
    load,
    out_option,
    parse_axis,
    write_chart,
)
from dealcalc.errors import InputError
from dealcalc.report.charts import FORMATS
from dealcalc.report.plots import terms_chart

__all__ = ["terms", "walk_away_value"]


def walk_away_value(text: str) -> tuple[str, float]:
    """``PARTY=VALUE`` of ``--walk-away`` as (party, value)."""
    party, sep, value = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return party.strip(), float(value)
    except ValueError:
        raise InputError(
            f"{text!r} is not PARTY=VALUE", field="--walk-away", expected="e.g. ussm=0 or fwo=5e6"
        ) from None


@click.command(name="terms")
@deal_options
@click.option("--x", "x_axis", metavar="PATH=V1,V2,...", required=True, help="The first term and its values.")
@click.option(
    "--y", "y_axis", metavar="PATH=V1,V2,...", required=True, help="The second term and its values."
)
@click.option(
    "--walk-away",
    "walk_aways",
    multiple=True,
    metavar="PARTY=VALUE",
    help="A party's walk-away value (repeatable); every owner not named walks away below 0.",
)
@click.option(
    "--metric",
    type=click.Choice(["npv_usd", "irr"]),
    default="npv_usd",
    show_default=True,
    help="Each party's NPV at its own rate, or its IRR.",
)
@click.option("--chart", type=OutputFile(FORMATS), metavar="FILE", help="Also draw the space (extra: plot).")
@json_option
@out_option((".json", ".csv"), "Also write the grid to .json or .csv (one row per point) atomically.")
@force_option
def terms(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    x_axis: str,
    y_axis: str,
    walk_aways: tuple[str, ...],
    metric: str,
    chart: Path | None,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """The negotiation space of two terms: each party's value over a grid of two terms of the
    deal and the region where every party is at least at its walk-away value.

    Example: dealcalc terms examples/ussm_fwo_2025.yaml --x fiscal.royalty_rate=0,0.025,0.05,0.075,0.1
    --y price_decks.base.antimony=25000,30000,35000,40000 --walk-away government_of_pakistan=2.8e8
    """
    x = parse_axis(x_axis, "--x")
    y = parse_axis(y_axis, "--y")
    limits = dict(walk_away_value(w) for w in walk_aways) if walk_aways else None
    deal = load(file, assignments)
    space = negotiation_space(deal, x, y, walk_away=limits, metric=metric, scenario=scenario)
    if chart is not None:
        write_chart(chart, lambda ax: terms_chart(space, deal=deal, ax=ax), force=force)
    if emit(space, out=out, force=force, as_json=as_json):
        return
    x_path, xs = space.x
    y_path, ys = space.y
    marks = pd.DataFrame(
        [
            ["✓" if space.accepted.iat[i, j] else _refusers(space, i, j) for j in range(ys.size)]
            for i in range(xs.size)
        ],
        index=pd.Index([param_value(x_path, v) for v in xs], name=f"{param_label(x_path, deal)} ↓"),
        columns=[param_value(y_path, v) for v in ys],
    )
    unit = "US$ M" if metric == "npv_usd" else "%"
    limits_text = ", ".join(f"{p} {fmt.cell(metric, v)}" for p, v in space.walk_away.items())
    screen = console()
    screen.print(
        frame_rich(
            marks,
            title=f"Where every party accepts: {param_label(y_path, deal)} →",
            note=f"✓ every party accepts; else who is below its walk-away value ({unit}: {limits_text})",
        )
    )
    screen.print(
        f"every party accepts at {int(space.accepted.to_numpy().sum())} of {space.accepted.size} points",
        markup=False,
        highlight=False,
    )
    if space.run is not None:
        screen.print("; ".join(space.run.lines()), markup=False, highlight=False)
    if chart is not None:
        click.echo(f"wrote {chart}")


def _refusers(space: TermsGrid, i: int, j: int) -> str:
    """The parties below their walk-away at grid point (i, j), joined by a comma."""
    below = [p for p, v in space.walk_away.items() if not float(space.values[p].to_numpy()[i, j]) >= v]
    return ", ".join(below)
