"""``dealcalc gates FILE``: a phase gate decided each year by the best of build, defer or abandon
(least-squares Monte Carlo), against the file's fixed rule and now-or-never."""

from __future__ import annotations

from pathlib import Path

import click

from dealcalc.analyses import adaptive_gates
from dealcalc.analyses.display import frame_rich, param_label
from dealcalc.cli.options import (
    OutputFile,
    console,
    deal_options,
    emit,
    force_option,
    json_option,
    load,
    out_option,
    write_chart,
)
from dealcalc.params import apply_scenario
from dealcalc.report.charts import FORMATS
from dealcalc.report.plots import policy_chart

__all__ = ["gates"]


@click.command(name="gates")
@deal_options
@click.option("--phase", help="The gated phase (default: the file's only gated phase).")
@click.option(
    "-n",
    "--draws",
    "n",
    type=click.IntRange(min=20),
    default=10_000,
    show_default=True,
    help="Valuation draws (as many again estimate the rule).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Random seed.")
@click.option(
    "--defer-years",
    type=click.IntRange(min=0, max=10),
    default=2,
    show_default=True,
    help="How many years the build may be deferred.",
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    help="A metric to value (repeatable; the first is maximised; default npv_usd).",
)
@click.option(
    "--chart",
    type=OutputFile(FORMATS),
    metavar="FILE",
    help="Also draw the policy (.png, .svg or .pdf; extra: plot).",
)
@json_option
@out_option((".json", ".csv"), "Also write the result to .json or .csv (the values by rule) atomically.")
@force_option
def gates(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    phase: str | None,
    n: int,
    seed: int,
    defer_years: int,
    metrics: tuple[str, ...],
    chart: Path | None,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """Value a phase gate decided each year by the best of build, defer (up to --defer-years)
    or abandon, fitted by least-squares Monte Carlo on the prices known at the gate and valued on
    independent draws; beside it the file's fixed rule, now-or-never and always-build, the value
    of flexibility with its standard error, and the policy as price ranges (docs/decisions.md).

    Example: dealcalc gates examples/ussm_fwo_2025.yaml --phase refinery -n 20000 --seed 1
    """
    deal = apply_scenario(load(file, assignments), scenario)
    result = adaptive_gates(
        deal, n, gate=phase, seed=seed, max_deferral_years=defer_years, metrics=list(metrics) or ("npv_usd",)
    )
    if chart is not None:
        write_chart(chart, lambda ax: policy_chart(result, deal=deal, ax=ax), force=force)
    if emit(result, out=out, force=force, as_json=as_json):
        return
    run = result.run
    screen = console()
    values = result.values.pivot(index="rule", columns="metric", values="value_usd")
    first = (list(metrics) or ["npv_usd"])[0]  # the metric the rule maximises, first
    values = values[[first, *(c for c in values.columns if c != first)]]
    screen.print(frame_rich(values, title=f"{result.gate} gate: value by rule"))
    flexibility = result.flexibility.set_index("versus")[["metric", "value_usd", "std_error_usd"]]
    note = "the same valuation draws under both rules: paired standard errors"
    screen.print(frame_rich(flexibility, title="Value of flexibility: optimal minus each rule", note=note))
    flex = result.flexibility
    maximised = (list(metrics) or ["npv_usd"])[0]  # the rule maximises the first metric only
    behind = flex[(flex["metric"] == maximised) & (flex["value_usd"] + 2 * flex["std_error_usd"] < 0)]
    for row in behind.itertuples(index=False):
        screen.print(
            f"note: the fitted rule is below '{row.versus}' by more than two standard errors "
            f"({row.metric}); the regression has too few draws to find the best rule: raise -n",
            markup=False,
            highlight=False,
        )
    runs = result.regions().groupby("year")["action"]
    if any(block.nunique() < len(block) for _, block in runs):  # an action comes back: noise
        screen.print(
            "note: in some years an action returns at a higher price (the rule is not monotone in "
            "the price): the regression is noisy at this many draws; raise -n",
            markup=False,
            highlight=False,
        )
    product = result.state_products[0] if result.state_products else "price"
    deck = run.price_deck if run is not None else "base"
    price = param_label(f"price_decks.{deck}.{product}", deal)
    regions = result.regions().set_index("year").rename(columns={"price_from": "from", "price_to": "to"})
    others = ", ".join([*result.state_products[1:], *result.state_inputs]) or "none"
    screen.print(
        frame_rich(
            regions,
            title=f"The policy by {price}",
            note=f"the other state variables at their means ({others})",
        )
    )
    screen.print(
        "held at the base case: " + (", ".join(result.held_fixed) or "nothing"), markup=False, highlight=False
    )
    if run is not None:
        screen.print("; ".join(run.lines()), markup=False, highlight=False)
    if chart is not None:
        click.echo(f"wrote {chart}")
