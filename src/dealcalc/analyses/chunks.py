"""Valuing one chunk of Monte Carlo draws: price paths, switches, events, then the gate branches.

A chunk is draws a..b-1. Its random inputs come from :mod:`dealcalc.analyses.sampling` (cut from
fixed blocks, so they do not depend on the chunk) and what the events do to them from
:mod:`dealcalc.engine.risk`. Each combination of gated phases built or not is one branch (a
deal); each branch values only the draws that end in it, under the gate rules or committed.
The same function runs in this process and on dask workers (:mod:`.distributed`), so a run gives
the same numbers anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dealcalc.analyses import sampling
from dealcalc.analyses.evaluate import evaluate
from dealcalc.analyses.uncertainty import base_value
from dealcalc.analyses.uncertainty import gates as gated_phases
from dealcalc.engine import risk as events
from dealcalc.errors import InputError
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import match_paths, numeric_leaves, with_changes

__all__ = [
    "Part",
    "Plan",
    "Randoms",
    "branches",
    "decision_year",
    "make_plan",
    "per_draw",
    "priced",
    "randoms",
    "value_chunk",
    "value_draws",
]


@dataclass(frozen=True)
class Plan:
    """Everything a chunk needs besides its own draws (sent once to each dask worker)."""

    deal: Deal
    branches: list[Deal]
    gates: list[str]
    wanted: list[str]
    seed: int
    path_map: tuple[FloatArray, FloatArray]  # the price paths' linear map (sampling.price_path_map)
    leaves: dict[str, float]
    switch_targets: dict[str, dict[str, list[str]]]  # per switch, the paths each pattern scales


@dataclass(frozen=True)
class Part:
    """What one chunk gives back, per draw: each metric; per gate whether continuity held and
    whether the phase was built; each NPV had every gate been built whenever continuity held;
    and what happened in the draw (``paths``: each price path's mean and its value at each
    gate's decision year; ``events``: the years disrupted, expropriation, each switch)."""

    values: dict[str, FloatArray]
    built: dict[str, np.ndarray]
    continued: dict[str, np.ndarray]
    committed: dict[str, FloatArray]
    paths: dict[str, FloatArray]
    events: dict[str, np.ndarray]


@dataclass(frozen=True)
class Randoms:
    """The random inputs of S draws besides the uncertain inputs: the price paths' multipliers
    (S, P, T) (:func:`dealcalc.engine.risk.price_multipliers` of standard normal shocks; None
    without price paths), each disruption's start and moment uniforms (S, T) each
    (:func:`dealcalc.analyses.sampling.disruption_uniforms`), expropriation's uniforms (S, T)
    (None without it), the gates' (S, G) and the switches' (S, K) uniforms. A Monte Carlo draws
    them from its named streams (:func:`randoms`); a Sobol analysis takes them from its points."""

    multipliers: FloatArray | None
    starts: list[FloatArray]
    moments: list[FloatArray]
    expropriation: FloatArray | None
    gates: FloatArray
    switches: FloatArray


def randoms(plan: Plan, uniform_gates: FloatArray, uniform_switches: FloatArray, a: int, b: int) -> Randoms:
    """The Monte Carlo's random inputs of draws a..b-1, from the named streams of ``plan.seed``."""
    u = plan.deal.uncertainty
    starts, moments = sampling.disruption_uniforms(plan.deal, plan.seed, a, b) if u.disruptions else ([], [])
    taken = u.expropriation is not None and u.expropriation.annual_probability > 0
    return Randoms(
        # multiplied out per whole block, then cut: a draw's numbers do not depend on the chunk
        multipliers=sampling.price_path_slice(plan.seed, a, b, plan.path_map) if u.price_paths else None,
        starts=starts,
        moments=moments,
        expropriation=sampling.expropriation_uniforms(plan.deal, plan.seed, a, b) if taken else None,
        gates=uniform_gates,
        switches=uniform_switches,
    )


def value_chunk(
    plan: Plan,
    block: dict[str, FloatArray],
    uniform_gates: FloatArray,
    uniform_switches: FloatArray,
    a: int,
    b: int,
) -> Part:
    """Value draws a..b-1: price paths, switches, events, then each gate branch; pick per draw.

    ``block`` holds the chunk's override arrays from the uncertain inputs; ``uniform_gates``
    (b - a, G) and ``uniform_switches`` (b - a, K) its rows of the ``gates`` and ``switches``
    streams; the price paths' and events' random inputs are cut from their streams' blocks
    (:func:`randoms`), then :func:`value_draws` values them.
    """
    return value_draws(plan, block, randoms(plan, uniform_gates, uniform_switches, a, b))


def priced(
    plan: Plan, block: Mapping[str, FloatArray], drawn: Randoms
) -> tuple[dict[str, FloatArray], dict[str, np.ndarray]]:
    """The draws' overrides with the price paths and the switches applied (the deck prices the
    engine and the gates see), and which switch each draw turned on (``switch.NAME``)."""
    start, leaves, size = plan.deal, plan.leaves, drawn.gates.shape[0]
    moved = dict(block)
    deck = start.valuation.price_deck
    products = list(start.uncertainty.price_paths)
    if products:
        multipliers = drawn.multipliers
        assert multipliers is not None
        for k, product in enumerate(products):
            path = f"price_decks.{deck}.{product}"
            value = per_draw(moved, path, base_value(start, path, leaves), size)
            moved[path] = (value[:, None] if value.ndim == 1 else value) * multipliers[:, k, :]
    happened: dict[str, np.ndarray] = {}
    switches = start.uncertainty.switches
    if switches:
        on = events.switches_on(drawn.switches, [s.probability for s in switches.values()])
        for k, (name, switch) in enumerate(switches.items()):
            happened[f"switch.{name}"] = on[:, k]
            for pattern, factor in switch.scale.items():
                scale = events.switch_scale(on[:, k], factor)
                for path in plan.switch_targets[name][pattern]:
                    value = per_draw(moved, path, base_value(start, path, leaves), size)
                    moved[path] = value * (scale[:, None] if value.ndim == 2 else scale)
    return moved, happened


def value_draws(plan: Plan, block: dict[str, FloatArray], drawn: Randoms) -> Part:
    """Value S draws from their random inputs: ``block`` the override arrays of the uncertain
    inputs, ``drawn`` everything else (:class:`Randoms`), through the kernels of
    :mod:`dealcalc.engine.risk`: price paths, switches, events, then each gate branch.

    What a Monte Carlo chunk and a Sobol analysis over every source (:mod:`.gsa_sources`)
    both value, so for the same random inputs they give the same numbers.
    """
    start, leaves, size = plan.deal, plan.leaves, drawn.gates.shape[0]
    uniform_gates = drawn.gates
    deck = start.valuation.price_deck
    products = list(start.uncertainty.price_paths)
    paths: dict[str, FloatArray] = {}
    years = {g: decision_year(start, g) for g in plan.gates}
    block, happened = priced(plan, block, drawn)
    for product in products:  # the prices the engine and the gates use, switches included
        prices = block[f"price_decks.{deck}.{product}"]
        paths[f"{product}.mean"] = prices.mean(axis=1)
        for g, t in years.items():
            paths[f"{product}.at_gate.{g}"] = prices[:, t].copy()
    if start.uncertainty.disruptions:
        # disruptions take their share of the planned availability (the file's, or drawn)
        planned = per_draw(
            block, "operations.availability", base_value(start, "operations.availability", leaves), size
        )
        kept = sampling.kept_output(start, drawn.starts, drawn.moments)
        block["operations.availability"] = (planned[:, None] if planned.ndim == 1 else planned) * kept
        happened["disruption_years"] = np.count_nonzero(kept < 1.0, axis=1)
    expropriation = start.uncertainty.expropriation
    if expropriation is not None and expropriation.annual_probability > 0:
        assert drawn.expropriation is not None
        taken = events.expropriated(drawn.expropriation, expropriation.annual_probability)
        block["operations.expropriated"] = taken
        happened["expropriated"] = taken[:, -1] > 0.0
        # the event's stated compensation, unless the compensation is itself drawn
        block.setdefault(
            "operations.expropriation_compensation_fraction",
            np.full(size, expropriation.compensation_fraction),
        )
    if not plan.gates:
        values = _run(start, block, plan.wanted, size)
        return Part(values=values, built={}, continued={}, committed={}, paths=paths, events=happened)
    # a gate's probability and hurdles may themselves be uncertain inputs: taken per draw
    cont = uniform_gates < np.column_stack(
        [
            per_draw(block, f"phases.{g}.gate.probability", start.phases[g].gate.probability, size)
            for g in plan.gates
        ]
    )
    hurdle = np.column_stack([_clears(start, g, years[g], block, leaves, size) for g in plan.gates])
    rule = cont & hurdle
    pick_rule, pick_commit = events.branch_index(rule), events.branch_index(cont)
    # each branch values only the draws that end in it, under the rule or committed
    stacked = {m: np.full((len(plan.branches), size), np.nan) for m in plan.wanted}
    for k, branch in enumerate(plan.branches):
        rows_k = np.flatnonzero((pick_rule == k) | (pick_commit == k))
        if rows_k.size == 0:
            continue
        sub = {p: (v[rows_k] if np.ndim(v) and v.shape[0] == size else v) for p, v in block.items()}
        got = _run(branch, sub, plan.wanted, rows_k.size)
        for m in plan.wanted:
            stacked[m][k, rows_k] = got[m]
    rows = np.arange(size)
    values, committed = {}, {}
    for m in plan.wanted:
        values[m] = stacked[m][pick_rule, rows]
        if m.endswith("npv_usd"):
            committed[m] = stacked[m][pick_commit, rows]
    return Part(
        values=values,
        built={g: rule[:, j] for j, g in enumerate(plan.gates)},
        continued={g: cont[:, j] for j, g in enumerate(plan.gates)},
        committed=committed,
        paths=paths,
        events=happened,
    )


def per_draw(block: Mapping[str, FloatArray], path: str, value: float | FloatArray, n: int) -> FloatArray:
    """A parameter for each of n draws: its values so far in the block ((n,) or (n, T)) if it is
    drawn or moved, else its own value n times. ``value`` (T,) is a whole schedule: then a
    drawn (n,) is a factor on it, and the result is (n, T).

    Examples
    --------
    >>> import numpy as np
    >>> per_draw({}, "x", 2.0, 3).tolist()
    [2.0, 2.0, 2.0]
    >>> per_draw({"x": np.array([1.0, 2.0])}, "x", np.array([10.0, 20.0]), 2).tolist()
    [[10.0, 20.0], [20.0, 40.0]]
    """
    drawn = block.get(path)
    if np.ndim(value) == 1:
        schedule = np.asarray(value, dtype=np.float64)
        if drawn is None:
            return np.array(np.broadcast_to(schedule, (n, schedule.size)))
        got = np.asarray(drawn, dtype=np.float64)
        return got[:, None] * schedule if got.ndim == 1 else got
    return np.full(n, value) if drawn is None else np.asarray(drawn, dtype=np.float64)


def branches(deal: Deal, gates: list[str]) -> list[Deal]:
    """One deal per combination of the gated phases built or not; index bit j = gate j built
    (:func:`dealcalc.engine.risk.branch_index`).

    Examples
    --------
    >>> import dealcalc as dc
    >>> [b.phases["refinery"].gate.go for b in branches(dc.load(dc.example_path("ussm-fwo")), ["refinery"])]
    [False, True]
    """
    out = []
    for code in range(2 ** len(gates)):
        off = {f"phases.{g}.gate.go": False for j, g in enumerate(gates) if not code >> j & 1}
        out.append(with_changes(deal, off, origin="gate") if off else deal)
    return out


def decision_year(deal: Deal, gate: str) -> int:
    """The period index in which a gate is decided: its ``decision_year``, by default the
    year before its phase's construction starts (or the first year).

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> decision_year(deal, "refinery"), deal.construction_start("refinery")
    (1, 2)
    """
    phase = deal.phases[gate]
    if phase.gate.decision_year is not None:
        t = deal.periods.index(phase.gate.decision_year)
    else:
        t = deal.construction_start(gate) - 1
    return int(np.clip(t, 0, deal.periods.size - 1))


def _clears(
    deal: Deal, gate: str, t: int, block: dict[str, FloatArray], leaves: dict[str, float], n: int
) -> np.ndarray:
    """Whether each draw's prices in the gate's decision year ``t`` clear its hurdles."""
    phase = deal.phases[gate]
    ok = np.ones(n, dtype=bool)
    deck = deal.valuation.price_deck
    for product, minimum in phase.gate.min_price_usd.items():
        path = f"price_decks.{deck}.{product}"
        if path not in leaves:
            raise InputError(
                "a price hurdle needs a flat deck price", field=f"phases.{gate}.gate.min_price_usd.{product}"
            )
        price = per_draw(block, path, base_value(deal, path, leaves), n)
        hurdle = per_draw(block, f"phases.{gate}.gate.min_price_usd.{product}", minimum, n)
        ok &= (price[:, t] if price.ndim == 2 else price) >= hurdle
    return ok


def _run(deal: Deal, block: dict[str, FloatArray], wanted: list[str], size: int) -> dict[str, FloatArray]:
    """The metrics of ``size`` draws (a block without overrides is one scenario, repeated)."""
    values = evaluate(deal, overrides=block, metrics=wanted, keep_ledger=False).values
    return {m: np.broadcast_to(values[m], (size,)) for m in wanted}


def make_plan(deal: Deal, wanted: list[str], seed: int = 0) -> Plan:
    """What :func:`dealcalc.analyses.chunks.value_draws` needs to value draws of ``deal``:
    the gate branches, the price paths' linear map and the paths each switch scales."""
    leaves = numeric_leaves(deal)
    switch_targets: dict[str, dict[str, list[str]]] = {}
    for name, switch in deal.uncertainty.switches.items():
        for pattern in switch.scale:
            hits = match_paths(pattern, leaves)
            if not hits:
                raise InputError(
                    "no numeric parameter matches", field=f"uncertainty.switches.{name}.scale.{pattern}"
                )
            switch_targets.setdefault(name, {})[pattern] = hits
    gates = gated_phases(deal)
    return Plan(
        deal=deal,
        branches=branches(deal, gates),
        gates=gates,
        wanted=wanted,
        seed=seed,
        path_map=sampling.price_path_map(deal),
        leaves=leaves,
        switch_targets=switch_targets,
    )
