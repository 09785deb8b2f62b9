"""The uncertainty block as parameter overrides: which paths each uncertain input sets, the
override arrays its draws make, the checks on those draws, and what a Monte Carlo has to draw.

Shared by the Monte Carlo, the tornado from distributions and the global sensitivity analyses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dealcalc.engine.inputs import deal_series
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import check_range, limits, match_paths, numeric_leaves, schedule_paths

__all__ = [
    "BOUND_IT",
    "NOTHING_UNCERTAIN",
    "base_value",
    "check_draws",
    "check_price_paths",
    "gates",
    "has_uncertainty",
    "input_overrides",
    "input_targets",
]

#: Said (a UserWarning; a note on the CLI) when a Monte Carlo has nothing to draw.
NOTHING_UNCERTAIN = (
    "nothing in the deal is uncertain (no uncertainty inputs, price paths, events or switches, and "
    "no phase gate below certainty): every draw is the base case; see docs/scenario-file.md, uncertainty"
)


def input_targets(deal: Deal) -> dict[str, list[str]]:
    """The parameter paths each uncertain input (a path pattern) sets; an error if none, or if
    a draw that replaces a value would land on a whole schedule (it can only scale one)."""
    leaves = numeric_leaves(deal)
    schedules = schedule_paths(deal)
    out = {}
    for pattern, dist in deal.uncertainty.inputs.items():
        hits = match_paths(pattern, leaves)
        if not hits:
            raise InputError(
                "no numeric parameter matches",
                field=f"uncertainty.inputs.{pattern}",
                hint=did_you_mean(pattern, leaves) or "see `dealcalc validate FILE --paths`",
            )
        given_by_year = [p for p in hits if p in schedules]
        if given_by_year and not dist.factor:
            raise InputError(
                f"{given_by_year[0]} is given year by year, so a draw can only scale it",
                field=f"uncertainty.inputs.{pattern}",
                hint="set factor: true (the draw multiplies every year), or draw one year of it (PATH.YEAR)",
            )
        out[pattern] = hits
    return out


def input_overrides(
    deal: Deal, columns: Mapping[str, FloatArray], targets: Mapping[str, list[str]] | None = None
) -> dict[str, FloatArray]:
    """Override arrays from draws of the uncertain inputs, ``{pattern: values}``: each draw
    replaces the value at every path the pattern matches, or multiplies it (``factor: true``).
    ``targets`` is :func:`input_targets` of ``deal``, when the caller already has it."""
    leaves = numeric_leaves(deal)
    targets = input_targets(deal) if targets is None else targets
    out: dict[str, FloatArray] = {}
    for pattern, column in columns.items():
        factor = deal.uncertainty.inputs[pattern].factor
        for path in targets[pattern]:
            out[path] = column * leaves[path] if factor else column
    return out


#: How to keep a distribution's draws within a field's limits (said with every refusal).
BOUND_IT = "bound it: a normal or lognormal with low/high, or uniform, triangular or PERT"


def check_draws(deal: Deal, columns: Mapping[str, FloatArray], targets: Mapping[str, list[str]]) -> None:
    """Every draw must give each path it sets a value the deal allows (a recovery of at most 1,
    a price of at least 0), checked on the draws' extremes before anything is valued.

    A factor on a number is checked at the values it makes (base x draw). A factor on a whole
    schedule (a grade given by year) is checked at the values it makes in every year, not as
    though the factor itself were a grade: see :func:`_check_schedule_factor`.

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> targets = input_targets(deal)
    >>> check_draws(deal, {"streams.copper.recovery": np.array([0.8, 0.95])}, targets)
    >>> check_draws(deal, {"streams.copper.recovery": np.array([0.8, 1.05])}, targets)
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: uncertainty.inputs.streams.copper.recovery: the draws of \
streams.copper.recovery run from 0.8 to 1.05: Input should be less than or equal to 1 (1.05) \
(bound it: a normal or lognormal with low/high, or uniform, triangular or PERT)
    """
    schedules = schedule_paths(deal)
    for pattern, column in columns.items():
        ends = np.array([column.min(), column.max()])
        where = f"uncertainty.inputs.{pattern}"
        for path, values in input_overrides(deal, {pattern: ends}, targets).items():
            if path in schedules:  # input_targets made sure a draw on it is a factor
                _check_schedule_factor(deal, path, ends, schedules[path], where)
            else:
                check_range(path, values, what=f"the draws of {path}", field=where, hint=BOUND_IT)


def _check_schedule_factor(deal: Deal, path: str, ends: FloatArray, schedule: Any, where: str) -> None:
    """Refuse factors ``ends`` (smallest, largest draw) that take any year of the schedule at
    ``path`` past the field's limits, naming that year and the factors the field allows
    (:func:`dealcalc.params.limits`). ``factor * value`` is bilinear, so its extremes over all
    draws and years are at the years with the largest and the smallest value.

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> from dealcalc.params import with_changes
    >>> deal = with_changes(
    ...     dc.load(dc.example_path("ussm-fwo")), {"streams.copper.recovery": {2030: 0.8, 2033: 0.9}}
    ... )
    >>> schedule = {2030: 0.8, 2033: 0.9}
    >>> _check_schedule_factor(deal, "streams.copper.recovery", np.array([0.9, 1.1]), schedule, "x")
    >>> _check_schedule_factor(deal, "streams.copper.recovery", np.array([0.9, 1.2]), schedule, "x")
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: x: the draws of streams.copper.recovery scale every year of it by \
0.9 to 1.2, so its 2033 value of 0.9 would run from 0.81 to 1.08: Input should be less than or \
equal to 1 (1.08) (the factor may run from 0 to 1.11111, which keeps every year within the \
field's limits; bound it: a normal or lognormal with low/high, or uniform, triangular or PERT)
    """
    by_year = isinstance(schedule, dict)
    numbers = np.asarray(list(schedule.values()) if by_year else schedule, dtype=np.float64)
    labels = (
        [str(y) for y in schedule] if by_year else [f"production year {k + 1}" for k in range(numbers.size)]
    )
    low, high = limits(path, deal)
    for k in dict.fromkeys((int(numbers.argmax()), int(numbers.argmin()))):
        check_range(
            path,
            ends * numbers[k],
            what=(
                f"the draws of {path} scale every year of it by {ends[0]:.6g} to {ends[1]:.6g}, "
                f"so its {labels[k]} value of {numbers[k]:.6g} would"
            ),
            field=where,
            hint=f"the factor may run from {low:.6g} to {high:.6g}, which keeps every year within "
            f"the field's limits; {BOUND_IT}",
        )


def check_price_paths(deal: Deal) -> None:
    """Every price path needs a flat deck price to multiply, else an InputError naming it.

    Examples
    --------
    >>> import dealcalc as dc
    >>> check_price_paths(dc.load(dc.example_path("ussm-fwo")))
    """
    leaves = numeric_leaves(deal)
    deck = deal.valuation.price_deck
    for product in deal.uncertainty.price_paths:
        path = f"price_decks.{deck}.{product}"
        if path not in leaves:
            raise InputError(
                "a price path needs a deck price to multiply",
                field=f"uncertainty.price_paths.{product}",
                hint=f"give {path}",
            )


def base_value(deal: Deal, path: str, leaves: Mapping[str, float]) -> float | FloatArray:
    """A parameter's value in the file: a number, or for a whole schedule its values by
    period (T,), which the draws multiply.

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> base_value(deal, "operations.availability", numeric_leaves(deal))
    1.0
    """
    if path in schedule_paths(deal):
        return deal_series(deal, path)
    return leaves[path]


def has_uncertainty(deal: Deal) -> bool:
    """Whether a Monte Carlo of ``deal`` has anything to draw: uncertain inputs, price paths,
    disruptions, switches, expropriation, or a phase gate that may not pass.

    Examples
    --------
    >>> import dealcalc as dc
    >>> has_uncertainty(dc.load(dc.example_path("ussm-fwo")))
    True
    """
    u = deal.uncertainty
    return bool(u.inputs or u.price_paths or u.disruptions or u.switches or u.expropriation or gates(deal))


def gates(deal: Deal) -> list[str]:
    """Phases built in the base case whose gate is uncertain: continuity below 1, price hurdles,
    or a gate probability that is itself an uncertain input.

    Examples
    --------
    >>> import dealcalc as dc
    >>> gates(dc.load(dc.example_path("ussm-fwo")))
    ['refinery']
    """
    leaves = numeric_leaves(deal)
    drawn = {p for pattern in deal.uncertainty.inputs for p in match_paths(pattern, leaves)}
    return [
        name
        for name, phase in deal.phases.items()
        if phase.gate.go
        and (
            phase.gate.probability < 1.0
            or phase.gate.min_price_usd
            or f"phases.{name}.gate.probability" in drawn
        )
    ]
