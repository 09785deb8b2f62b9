"""Every source of risk as a named group of uniforms: the model a Sobol analysis over all of
them values, and what each risk analysis includes, holds fixed or does not model.

A Monte Carlo draw is made of the uncertain inputs and, besides them, the random inputs of the
price paths, the switches, the disruptions, expropriation and the gates' continuity
(:class:`dealcalc.analyses.chunks.Randoms`). Here each of those is a block of coordinates of
the unit hypercube, and :func:`source_model` maps a point to the same random inputs a Monte
Carlo draws from its streams (normal shocks by the normal's inverse CDF; uniforms as they are)
and values them with :func:`dealcalc.analyses.chunks.value_draws`, the function every Monte
Carlo chunk uses: for the same uniforms, the same numbers. Formulas: docs/methodology.md §25.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dealcalc.analyses.chunks import Randoms, make_plan, value_draws
from dealcalc.analyses.sampling import inputs_from_uniforms
from dealcalc.analyses.uncertainty import check_draws, check_price_paths, input_overrides, input_targets
from dealcalc.analyses.uncertainty import gates as gated_phases
from dealcalc.engine import risk as events
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal

__all__ = [
    "DISRUPTIONS",
    "EXPROPRIATION",
    "SourceModel",
    "correlation_groups",
    "gate_label",
    "make_plan",
    "not_modelled",
    "path_label",
    "price_path_groups",
    "source_model",
    "sources",
    "switch_label",
]

#: The group label of the disruption events (all kinds together).
DISRUPTIONS = "disruption events"
#: The group label of expropriation.
EXPROPRIATION = "expropriation"
#: Points valued per call of the chunk function.
CHUNK_POINTS = 4_096
#: Keeps a uniform off 0 and 1, where the normal's inverse CDF is infinite.
EDGE = 1e-12


def correlation_groups(names: Sequence[str], pairs: Sequence[tuple[str, str, float]]) -> list[str]:
    """A group label per input: inputs joined by a non-zero correlation share one group.

    Examples
    --------
    >>> correlation_groups(["a", "b", "c"], [("a", "c", 0.5)])
    ['a+c', 'b', 'a+c']
    """
    parent = {n: n for n in names}

    def root(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b, rho in pairs:
        if rho != 0.0:
            parent[root(a)] = root(b)
    members: dict[str, list[str]] = {}
    for n in names:
        members.setdefault(root(n), []).append(n)
    return ["+".join(members[root(n)]) for n in names]


def path_label(product: str) -> str:
    """The label of one product's price path.

    Examples
    --------
    >>> path_label("antimony")
    'antimony price path'
    """
    return f"{product} price path"


def switch_label(name: str) -> str:
    """The label of a switch (its name in the file).

    Examples
    --------
    >>> switch_label("china_retightens")
    'china_retightens switch'
    """
    return f"{name} switch"


def gate_label(phase: str) -> str:
    """The label of a gate's continuity draw.

    Examples
    --------
    >>> gate_label("refinery")
    'refinery gate continuity'
    """
    return f"{phase} gate continuity"


def price_path_groups(deal: Deal) -> dict[str, str]:
    """Per product with a price path, its group's label: paths joined by
    ``uncertainty.price_correlations`` share one group (their shocks are correlated, and Sobol
    indices need independent groups), ``antimony+apt+ndpr_oxide price paths``.

    Examples
    --------
    >>> import dealcalc as dc
    >>> groups = price_path_groups(dc.load(dc.example_path("ussm-fwo")))
    >>> groups["antimony"], groups["gold"]
    ('antimony+apt+ndpr_oxide price paths', 'copper+gold price paths')
    """
    products = list(deal.uncertainty.price_paths)
    joined = correlation_groups(products, deal.uncertainty.price_correlations)
    return {
        p: path_label(g) if "+" not in g else f"{g} price paths"
        for p, g in zip(products, joined, strict=True)
    }


def sources(deal: Deal) -> dict[str, str]:
    """Every source of risk other than the uncertain inputs that the deal declares, by label,
    with its kind (``price path``, ``switch``, ``events``, ``gate``), one per product, switch and
    gate, the disruptions together.

    Examples
    --------
    >>> import dealcalc as dc
    >>> list(sources(dc.load(dc.example_path("ussm-fwo"))))[-4:]
    ['china_retightens switch', 'disruption events', 'expropriation', 'refinery gate continuity']
    """
    u = deal.uncertainty
    out = {path_label(p): "price path" for p in u.price_paths}
    out.update({switch_label(s): "switch" for s in u.switches})
    if u.disruptions:
        out[DISRUPTIONS] = "events"
    if u.expropriation is not None and u.expropriation.annual_probability > 0:
        out[EXPROPRIATION] = "events"
    out.update({gate_label(g): "gate" for g in gated_phases(deal)})
    return out


def not_modelled(deal: Deal) -> list[str]:
    """The kinds of risk the deal does not declare, said in words (so a result that leaves
    them out says why: they are not modelled, not held fixed).

    Examples
    --------
    >>> import dealcalc as dc
    >>> not_modelled(dc.load(dc.example_path("ussm-fwo")))
    []
    >>> from dealcalc.params import with_changes
    >>> calm = with_changes(dc.load(dc.example_path("ussm-fwo")), {"uncertainty.disruptions": {}})
    >>> not_modelled(calm)
    ['disruptions (none in the file)']
    """
    u = deal.uncertainty
    out = []
    if not u.inputs:
        out.append("uncertain inputs (none in the file)")
    if not u.price_paths:
        out.append("price paths (none in the file)")
    if not u.switches:
        out.append("switches (none in the file)")
    if not u.disruptions:
        out.append("disruptions (none in the file)")
    if u.expropriation is None or u.expropriation.annual_probability == 0:
        out.append("expropriation (none in the file)")
    if not gated_phases(deal):
        out.append("phase gates (none uncertain)")
    return out


@dataclass(frozen=True)
class SourceModel:
    """The hypercube of every source and the model from its points to a metric.

    ``names`` label each coordinate; ``groups`` give each coordinate's group (one label per
    source: an uncertain input or a correlated group of them, a price path or a correlated
    group of them, a switch, the disruptions, expropriation, a gate's continuity); ``included``
    the groups in order; ``held_fixed`` the sources the deal has that are not in the model;
    ``not_modelled`` what the deal does not declare. ``randoms(points)`` gives the override
    arrays and :class:`~dealcalc.analyses.chunks.Randoms` of points (N, D); ``model(points)``
    the metric (N,).
    """

    names: list[str]
    groups: list[str]
    included: list[str]
    held_fixed: list[str]
    not_modelled: list[str]
    randoms: Callable[[FloatArray], tuple[dict[str, FloatArray], Randoms]]
    model: Callable[[FloatArray], FloatArray]


def source_model(deal: Deal, metric: str, input_groups: Sequence[str] | None = None) -> SourceModel:
    """The model of ``metric`` over every source of risk of ``deal``, one coordinate of the unit
    hypercube per random number a Monte Carlo draw uses.

    Coordinates, in this order: each uncertain input (correlated through the Gaussian copula
    of ``uncertainty.correlations``, then each inverse CDF, as
    :func:`dealcalc.analyses.sampling.inputs_from_uniforms`; grouped by ``input_groups``, by
    default each alone); each price path's normal shocks, years 2..T (the first year is the
    deck, :func:`dealcalc.engine.risk.price_path_map`); each switch's uniform; each
    disruption's start and moment uniforms per year; expropriation's uniform per year; each
    gate's continuity uniform.

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> m = source_model(dc.load(dc.example_path("ussm-fwo")), "npv_usd")
    >>> m.included[-3:]
    ['disruption events', 'expropriation', 'refinery gate continuity']
    >>> m.model(np.full((2, len(m.names)), 0.5)).shape
    (2,)
    """
    u = deal.uncertainty
    check_price_paths(deal)
    targets = input_targets(deal)
    plan = make_plan(deal, [metric])
    t = deal.periods.size
    years = [str(y) for y in deal.periods.labels]
    names: list[str] = list(u.inputs)
    groups: list[str] = list(input_groups) if input_groups is not None else list(u.inputs)
    priced = price_path_groups(deal)
    for product in u.price_paths:
        names += [f"{product} price shock {years[k]}" for k in range(1, t)]
        groups += [priced[product]] * (t - 1)
    names += [f"{name} switch" for name in u.switches]
    groups += [switch_label(name) for name in u.switches]
    for name in u.disruptions:
        names += [f"{name} starts {years[k]}" for k in range(t)] + [
            f"{name} moment {years[k]}" for k in range(t)
        ]
        groups += [DISRUPTIONS] * (2 * t)
    taken = u.expropriation is not None and u.expropriation.annual_probability > 0
    if taken:
        names += [f"expropriation {years[k]}" for k in range(t)]
        groups += [EXPROPRIATION] * t
    names += [gate_label(g) for g in plan.gates]
    groups += [gate_label(g) for g in plan.gates]
    d_in, p = len(u.inputs), len(u.price_paths)

    def randoms(points: FloatArray) -> tuple[dict[str, FloatArray], Randoms]:
        from scipy import special  # here, not at import (as sampling.marginal)

        x = np.clip(np.asarray(points, dtype=np.float64), EDGE, 1.0 - EDGE)
        n, at = x.shape[0], d_in
        drawn_inputs = inputs_from_uniforms(deal, x[:, :d_in].copy())
        columns = {str(c): drawn_inputs[c].to_numpy(dtype=np.float64) for c in drawn_inputs.columns}
        check_draws(deal, columns, targets)  # a distribution past a field's limit, named as such
        multipliers = None
        if p:
            shocks = np.zeros((n, p, t))
            shocks[:, :, 1:] = special.ndtri(x[:, at : at + p * (t - 1)]).reshape(n, p, t - 1)
            multipliers = events.price_multipliers(shocks.reshape(n, p * t), plan.path_map)
            at += p * (t - 1)
        switches = x[:, at : at + len(u.switches)]
        at += len(u.switches)
        starts, moments = [], []
        for _ in u.disruptions:
            starts.append(x[:, at : at + t])
            moments.append(x[:, at + t : at + 2 * t])
            at += 2 * t
        expropriation = None
        if taken:
            expropriation = x[:, at : at + t]
            at += t
        drawn = Randoms(
            multipliers=multipliers,
            starts=starts,
            moments=moments,
            expropriation=expropriation,
            gates=x[:, at : at + len(plan.gates)],
            switches=switches,
        )
        return input_overrides(deal, columns, targets), drawn

    def model(points: FloatArray) -> FloatArray:
        out = np.empty(points.shape[0])
        for a in range(0, points.shape[0], CHUNK_POINTS):
            block, drawn = randoms(points[a : a + CHUNK_POINTS])
            out[a : a + CHUNK_POINTS] = value_draws(plan, block, drawn).values[metric]
        return out

    return SourceModel(
        names=names,
        groups=groups,
        included=list(dict.fromkeys(groups)),
        held_fixed=[],
        not_modelled=not_modelled(deal),
        randoms=randoms,
        model=model,
    )
