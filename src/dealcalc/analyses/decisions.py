"""Adaptive phase gates: build now, defer a year, or abandon, chosen by least-squares Monte Carlo.

A gated phase (``phases.X.gate``) is decided in its ``decision_year``. Monte Carlo's fixed rule
builds it there if political continuity holds and the hurdle prices clear. Here the decision
may also wait: in each of the years ``decision_year .. decision_year + max_deferral_years`` a
draw in which continuity holds builds the phase (delayed by that many years), defers it, or
abandons it, whichever has the highest expected value given what is known that year: the
prices that year, and the sampled capital and unit-cost factors. The expected values are
regressions of each draw's realised value on that state (:mod:`dealcalc.analyses.lsm`), fitted
on estimation draws and applied to independent valuation draws, so the rule never sees the
future it is valued on.

A draw is a Monte Carlo draw: every source of the file's uncertainty block (the uncertain
inputs through their marginals and copula, the price paths, the switches, the disruptions,
expropriation, the gates' continuity), drawn from the named streams of
:mod:`dealcalc.analyses.sampling` and valued by :func:`dealcalc.analyses.chunks.value_draws`,
the function every Monte Carlo chunk uses. The valuation draws of seed ``s`` are the draws of
``dc.monte_carlo(deal, n, seed=s)``. The value of a draw under "build in year y" is the deal's
value with the phase's ``delay_years`` increased by ``y - decision_year``; "abandon" is the
deal with the gate's ``go`` off. Conventions and formulas are in ``docs/decisions.md`` §4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealcalc.analyses.chunks import (
    Plan,
    Randoms,
    branches,
    decision_year,
    per_draw,
    priced,
    randoms,
    value_draws,
)
from dealcalc.analyses.gsa_sources import make_plan
from dealcalc.analyses.lsm import (
    LSMPolicy,
    apply_policy,
    exercise_boundary,
    fit_policy,
    policy_map,
)
from dealcalc.analyses.provenance import RunInfo, run_info
from dealcalc.analyses.sampling import Seed, root_seed, sample_inputs, uniforms
from dealcalc.analyses.uncertainty import (
    base_value,
    check_draws,
    check_price_paths,
    input_overrides,
    input_targets,
)
from dealcalc.analyses.uncertainty import gates as gated_phases
from dealcalc.errors import InputError
from dealcalc.models import Deal
from dealcalc.params import numeric_leaves, with_changes

__all__ = ["GateDecisions", "adaptive_gates"]

FloatArray = npt.NDArray[np.float64]
ACTIONS = ("abandon", "build", "defer")
RULES = ("optimal", "fixed rule", "now or never", "always build")
#: Draws valued per call of the engine (as the Monte Carlo's chunks: bounded memory for any N).
CHUNK = 4_096


@dataclass(frozen=True)
class GateDecisions:
    """What adaptive decisions at one phase gate are worth, and the rule that earns it.

    Attributes
    ----------
    gate : str
        The gated phase.
    decision_years : tuple of int
        The years in which the phase may be built (the gate's decision year, then each deferral).
    metrics : tuple of str
        The metrics valued; decisions maximise the first.
    values : pandas.DataFrame
        One row per ``rule`` and ``metric``: ``value_usd`` (mean over the valuation draws) and
        ``std_error_usd``. Rules: ``optimal`` (build, defer or abandon by the fitted rule),
        ``fixed rule`` (the file's: build in the decision year if the hurdles clear),
        ``now or never`` (the fitted rule without deferral), ``always build`` (build in the
        decision year whenever continuity holds).
    flexibility : pandas.DataFrame
        ``optimal`` minus each other rule, per metric: ``value_usd`` and the paired
        ``std_error_usd`` (the same valuation draws under both rules).
    boundary : pandas.DataFrame
        Where the fitted rule switches action along the price of ``state_products[0]`` (the
        other state variables at their means): ``year``, ``below``, ``above``, ``price``.
    shares : pandas.DataFrame
        Per decision year, the share of all valuation draws that defer, build or abandon that
        year (a row sums to the share still undecided; draws without continuity abandon in the
        first year, and deferring past the last year is abandoning).
    policy : LSMPolicy
        The fitted rule (states in each decision year: the ``state_products`` prices, then the
        ``state_inputs`` draws).
    state_products : tuple of str
        The prices the rule looks at; the first is the boundary's axis.
    held_fixed : tuple of str
        Uncertain inputs of the file this analysis does not draw (they stay at the base case):
        none, since every source of the uncertainty block is drawn as the Monte Carlo draws it.
    n : int
        Valuation draws (as many estimation draws again).
    seed : int
        The root seed of the valuation draws (a Generator given was drawn from once; None took
        the file's ``uncertainty.seed``, else 0): ``seed=g.seed`` repeats the run.
    run : RunInfo
        What was run (file, scenario, changes, basis, seed and draws): see
        :class:`dealcalc.analyses.provenance.RunInfo`.
    state_inputs : tuple of str
        The uncertain inputs (their patterns in ``uncertainty.inputs``) the rule also looks at,
        known at the gate: those that set the gated phase's capital, then the unit costs
        (:data:`UNIT_COSTS`). Empty when the file samples none of them.
    """

    gate: str
    decision_years: tuple[int, ...]
    metrics: tuple[str, ...]
    values: pd.DataFrame
    flexibility: pd.DataFrame
    boundary: pd.DataFrame
    shares: pd.DataFrame
    policy: LSMPolicy = field(repr=False)
    state_products: tuple[str, ...]
    held_fixed: tuple[str, ...]
    n: int
    seed: object = field(repr=False)
    run: RunInfo | None = field(default=None, repr=False)
    state_inputs: tuple[str, ...] = ()

    def regions(self) -> pd.DataFrame:
        """The policy as price ranges: per decision year, each run of the first state product's
        price (``state_products[0]``, the others at their means) over which the fitted rule takes
        one action, from ``price_from`` to ``price_to`` (the estimation draws' range). A year with
        one row takes that action at every price; :attr:`boundary` gives the switch points.

        Examples
        --------
        >>> import dealcalc as dc
        >>> g = adaptive_gates(dc.load(dc.example_path("ussm-fwo")), 400, seed=1)
        >>> list(g.regions().columns)
        ['year', 'action', 'price_from', 'price_to']
        """
        table = policy_map(self.policy)
        year = np.asarray(self.decision_years)[table["date"].to_numpy()]
        new = (table["action"] != table["action"].shift()) | (table["date"] != table["date"].shift())
        runs = pd.DataFrame(
            {"run": new.cumsum(), "year": year, "action": table["action"], "price": table["state"]}
        )
        out = runs.groupby("run").agg(
            year=("year", "first"),
            action=("action", "first"),
            price_from=("price", "min"),
            price_to=("price", "max"),
        )
        return out.reset_index(drop=True)

    def value(self, rule: str = "optimal", metric: str | None = None) -> float:
        """Mean value of ``metric`` (default: the decision metric) under ``rule``."""
        m = metric or self.metrics[0]
        hit = self.values[(self.values["rule"] == rule) & (self.values["metric"] == m)]
        if hit.empty:
            raise InputError(f"no value for rule {rule!r} and metric {m!r}", expected=f"rule in {RULES}")
        return float(hit["value_usd"].iloc[0])


# --------------------------------------------------------------------------------------------
# drawing what the Monte Carlo draws, and what the gate looks at


def _gated(deal: Deal, gate: str | None) -> str:
    names = [
        name
        for name, phase in deal.phases.items()
        if phase.gate.go and (phase.gate.probability < 1.0 or phase.gate.min_price_usd)
    ]
    if gate is None:
        if len(names) != 1:
            raise InputError(
                f"{len(names)} gated phases ({', '.join(names) or 'none'})",
                field="gate",
                expected="name the phase whose gate to decide",
            )
        return names[0]
    if gate not in deal.phases:
        raise InputError(f"no phase {gate!r}", field="gate", expected=f"one of {sorted(deal.phases)}")
    if not deal.phases[gate].gate.go:
        raise InputError(f"phase {gate!r} is not built in the base case", field=f"phases.{gate}.gate.go")
    return gate


def _flat_price(deal: Deal, product: str, leaves: Mapping[str, float], field: str) -> str:
    """The parameter path of a product's deck price, which must be one number."""
    path = f"price_decks.{deal.valuation.price_deck}.{product}"
    if path not in leaves:
        raise InputError(
            "adaptive gates need a flat deck price (one number)", field=field, expected="a number"
        )
    return path


#: Fields whose sampled factor the rule sees as a unit cost (any stream's).
UNIT_COSTS = ("opex_usd_per_t_ore", "conversion_cost_usd_per_unit", "fixed_opex_usd_per_year")


def _state_inputs(deal: Deal, gate: str, targets: Mapping[str, list[str]]) -> list[str]:
    """The uncertain inputs known at the gate, in file order: those that set the gated phase's
    capital (``phases.GATE.…capex…``), then those that set a unit cost (:data:`UNIT_COSTS`)."""
    capex = [
        pattern
        for pattern, paths in targets.items()
        if any(p.startswith(f"phases.{gate}.") and "capex" in p.rsplit(".", 1)[-1] for p in paths)
    ]
    costs = [
        pattern
        for pattern, paths in targets.items()
        if pattern not in capex and any(p.rsplit(".", 1)[-1] in UNIT_COSTS for p in paths)
    ]
    return capex + costs


def _estimation_seed(root: int) -> int:
    """The root seed of the estimation draws: derived from the valuation draws' root seed (a
    spawned SeedSequence, so its streams share nothing with theirs)."""
    sequence = np.random.SeedSequence(root, spawn_key=(ESTIMATION_KEY,))
    return int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


#: The spawn key of the estimation draws' seed (:func:`_estimation_seed`).
ESTIMATION_KEY = 21


def _take(drawn: Randoms, rows: npt.NDArray[np.int64], gates: list[int]) -> Randoms:
    """The random inputs of some draws (``rows``) and some gates' columns (``gates``)."""
    return Randoms(
        multipliers=None if drawn.multipliers is None else drawn.multipliers[rows],
        starts=[s[rows] for s in drawn.starts],
        moments=[m[rows] for m in drawn.moments],
        expropriation=None if drawn.expropriation is None else drawn.expropriation[rows],
        gates=drawn.gates[rows][:, gates],
        switches=drawn.switches[rows],
    )


def _prices(
    plan: Plan, block: Mapping[str, FloatArray], drawn: Randoms, products: Sequence[str]
) -> dict[str, FloatArray]:
    """Each product's deck prices (S, T) after the price paths and the switches: what
    :func:`dealcalc.analyses.chunks.value_draws` hands the engine (:func:`~dealcalc.analyses.chunks.priced`;
    ``tests/test_decisions.py`` checks them against its ``paths``)."""
    start, leaves, size = plan.deal, plan.leaves, drawn.gates.shape[0]
    deck = start.valuation.price_deck
    moved, _ = priced(plan, block, drawn)
    t = start.periods.size
    out = {}
    for product in products:
        path = f"price_decks.{deck}.{product}"
        value = per_draw(moved, path, base_value(start, path, leaves), size)
        out[product] = np.array(np.broadcast_to(value[:, None] if value.ndim == 1 else value, (size, t)))
    return out


@dataclass(frozen=True)
class _Setup:
    """What both sets of draws share: the gate, its branches and the state variables."""

    deal: Deal
    gate: str
    years: tuple[int, ...]
    metrics: list[str]
    state_products: list[str]
    state_inputs: list[str]
    targets: dict[str, list[str]]
    gates: list[str]  # every gated phase, in the order of the ``gates`` stream's columns
    abandon: Plan  # the deal without the phase (the other gates by the file's rule)
    build: list[Plan]  # the phase built in each decision year


def _setup(
    deal: Deal, gate: str, years: tuple[int, ...], metrics: list[str], state_products: list[str]
) -> _Setup:
    check_price_paths(deal)
    targets = input_targets(deal)
    gates = gated_phases(deal)
    others = [g for g in gates if g != gate]
    phase = deal.phases[gate]

    # one plan (the paths' linear map, the switches' targets, the file's values), shared by
    # the branches: they differ only in the gated phase's ``go`` and ``delay_years``
    base = make_plan(deal, metrics)

    def plan_of(variant: Deal) -> Plan:
        return replace(base, deal=variant, gates=others, branches=branches(variant, others))

    off = with_changes(deal, {f"phases.{gate}.gate.go": False}, origin="gate")
    built = [
        with_changes(deal, {f"phases.{gate}.delay_years": phase.delay_years + d}, origin="gate")
        if d
        else deal
        for d in range(len(years))
    ]
    return _Setup(
        deal=deal,
        gate=gate,
        years=years,
        metrics=metrics,
        state_products=state_products,
        state_inputs=_state_inputs(deal, gate, targets),
        targets=targets,
        gates=gates,
        abandon=plan_of(off),
        build=[plan_of(b) for b in built],
    )


class _Draws:
    """N draws of every source the Monte Carlo draws, from the named streams of a root seed,
    with the state the gate sees; the deal's value under each branch is computed when asked,
    for the draws asked (:meth:`value`)."""

    def __init__(self, setup: _Setup, n: int, root: int) -> None:
        deal, gate = setup.deal, setup.gate
        self.setup, self.n = setup, n
        drawn_inputs = sample_inputs(deal, n, seed=root)
        columns = {str(c): drawn_inputs[str(c)].to_numpy(dtype=np.float64) for c in drawn_inputs.columns}
        check_draws(deal, columns, setup.targets)
        self.block = input_overrides(deal, columns, setup.targets)
        plan = replace(setup.build[0], seed=root)
        self.randoms = randoms(
            plan,
            uniforms(root, "gates", n, len(setup.gates)),
            uniforms(root, "switches", n, len(deal.uncertainty.switches)),
            0,
            n,
        )
        hurdles = deal.phases[gate].gate.min_price_usd
        wanted = list(dict.fromkeys([*setup.state_products, *hurdles]))
        prices = _prices(plan, self.block, self.randoms, wanted)
        index = [deal.periods.index(y) for y in setup.years]
        inputs = [columns[p] for p in setup.state_inputs]
        self.states = np.stack(
            [np.column_stack([*(prices[p][:, t] for p in setup.state_products), *inputs]) for t in index],
            axis=1,
        )
        if gate in setup.gates:  # its column of the gates stream, as the Monte Carlo reads it
            probability = per_draw(
                self.block, f"phases.{gate}.gate.probability", deal.phases[gate].gate.probability, n
            )
            self.continuity = self.randoms.gates[:, setup.gates.index(gate)] < probability
        else:  # a phase named whose gate is certain: continuity always holds
            self.continuity = np.ones(n, dtype=bool)
        clears = np.ones(n, dtype=bool)
        for product, minimum in hurdles.items():
            hurdle = per_draw(self.block, f"phases.{gate}.gate.min_price_usd.{product}", minimum, n)
            clears &= prices[product][:, index[0]] >= hurdle
        self.clears = clears
        self._others = [k for k, g in enumerate(setup.gates) if g != gate]

    def value(self, branch: int, rows: npt.NDArray[np.int64]) -> dict[str, FloatArray]:
        """Each metric (len(rows),) of the draws ``rows`` with the phase abandoned (``branch``
        -1) or built in decision year ``branch``, valued in chunks by
        :func:`dealcalc.analyses.chunks.value_draws` (the Monte Carlo's own function)."""
        plan = self.setup.abandon if branch < 0 else self.setup.build[branch]
        out = {m: np.empty(rows.size) for m in self.setup.metrics}
        for a in range(0, rows.size, CHUNK):
            part = rows[a : a + CHUNK]
            block = {p: v[part] for p, v in self.block.items()}
            got = value_draws(plan, block, _take(self.randoms, part, self._others)).values
            for m in self.setup.metrics:
                out[m][a : a + CHUNK] = got[m]
        return out


# --------------------------------------------------------------------------------------------
# the rule


def _payoffs(build: dict[str, FloatArray], abandon: dict[str, FloatArray], metric: str) -> FloatArray:
    """(n, D, 3) payoffs relative to abandoning: abandon 0, build (realised), defer 0."""
    n, d = build[metric].shape
    out = np.zeros((n, d, len(ACTIONS)))
    out[:, :, 1] = build[metric] - abandon[metric][:, None]
    return out


def _fit(states: FloatArray, payoffs: FloatArray, dates: int, degree: int) -> LSMPolicy:
    """The rule fitted on the estimation draws with continuity (states (n, D, V))."""
    return fit_policy(
        states[:, :dates],
        payoffs[:, :dates],
        1.0,
        stops=[True, True, False],
        known=[True, False, True],
        actions=list(ACTIONS),
        basis="polynomial",
        degree=degree,
    )


def _decide(policy: LSMPolicy, draws: _Draws) -> npt.NDArray[np.int64]:
    """Action index (n, D) of each draw in each decision year (``ACTIONS``), -1 once decided.

    The rule needs only the states: the payoff of building is regressed and the others are 0,
    so nothing is valued before the rule has chosen. Draws without continuity abandon in the
    first year; deferring in the last year is abandoning (nothing follows it), and is reported so."""
    dates = policy.n_dates
    keep = draws.continuity
    out = np.full((keep.size, dates), -1, dtype=np.int64)
    out[~keep, 0] = ACTIONS.index("abandon")
    states = draws.states[keep, :dates]
    valued = apply_policy(policy, states, np.zeros((states.shape[0], dates, len(ACTIONS))), 1.0)
    taken = valued.actions
    last = taken[:, -1]
    taken[:, -1] = np.where(last == ACTIONS.index("defer"), ACTIONS.index("abandon"), last)
    out[keep] = taken
    return out


def _built_at(actions: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Decision-year index at which each draw builds, -1 if it never does."""
    built = actions == ACTIONS.index("build")
    return np.where(built.any(axis=1), built.argmax(axis=1), -1)


def _values_under(
    draws: _Draws, built: Mapping[str, npt.NDArray[np.int64]], metrics: Sequence[str]
) -> dict[str, dict[str, FloatArray]]:
    """Per rule and metric, each draw's value (n,) when it builds in the year ``built`` says
    (-1: abandons); each branch (abandon, then each build year) is valued only on the draws
    some rule takes it in."""
    out = {rule: {m: np.full(draws.n, np.nan) for m in metrics} for rule in built}
    for d in range(-1, len(draws.setup.years)):
        rows = np.flatnonzero(np.logical_or.reduce([b == d for b in built.values()]))
        if rows.size == 0:
            continue
        got = draws.value(d, rows)
        for rule, b in built.items():
            take = b[rows] == d
            for m in metrics:
                out[rule][m][rows[take]] = got[m][take]
    return out


def _se(x: FloatArray) -> float:
    return float(x.std(ddof=1) / np.sqrt(x.size))


def adaptive_gates(
    deal: Deal,
    n: int = 10_000,
    *,
    gate: str | None = None,
    seed: Seed = None,
    max_deferral_years: int = 2,
    metrics: Sequence[str] = ("npv_usd",),
    degree: int = 2,
) -> GateDecisions:
    r"""Value a phase gate decided each year by the best of build, defer or abandon.

    Parameters
    ----------
    deal : Deal
        From :func:`dealcalc.load`, with a gated phase (``gate.probability`` below 1 or price
        hurdles), flat deck prices for its price paths and hurdles, and an uncertainty block.
    n : int
        Valuation draws; as many estimation draws again come from independent streams.
    gate : str, optional
        The gated phase (default: the deal's only one).
    seed : int, numpy.random.Generator or None
        The root seed of the valuation draws, as :func:`dealcalc.monte_carlo` takes it (None:
        the file's ``uncertainty.seed``, else 0; a Generator gives one root seed, drawn from it
        once). The valuation draws are that Monte Carlo's first ``n`` draws; the estimation
        draws come from a root seed derived from it. The same seed gives the same numbers.
    max_deferral_years : int
        How many years the build may be deferred past the decision year (0: now or never).
    metrics : sequence of str
        Metrics to value (``npv_usd``, ``ussm.npv_usd``, ...); the decisions maximise the
        first, and the others are valued under the same decisions.
    degree : int
        Total degree of the polynomial regression in the state variables.

    Returns
    -------
    GateDecisions

    Notes
    -----
    For draw :math:`i` with continuity, let :math:`A_i` be the deal's value with the phase
    abandoned and :math:`B_{i,d}` its value built in decision year :math:`y_0 + d`, both
    discounted to the valuation point at the deal's rate, so no further discounting between
    decision years is needed. In year :math:`d` the draw builds if
    :math:`\widehat{E}[B_d - A \mid x_d]` exceeds both 0 (abandon) and the estimated value of
    deferring, :math:`\widehat{E}[V_{d+1} \mid x_d]`, where :math:`x_d` is the state in that
    year (the prices, then the sampled capital and unit-cost factors) and :math:`V` the
    realised value of following the rule from then on; the estimates are least-squares
    regressions on a polynomial in :math:`x_d` (Longstaff and Schwartz 2001). Draws without
    continuity abandon. Values are means over independent valuation draws (a low-biased
    estimate: Glasserman 2004, section 8.6); differences between rules use the same draws, so
    their standard errors are paired. The ``fixed rule`` is the Monte Carlo's: its mean is
    ``dc.monte_carlo(deal, n, seed=seed)``'s, and ``always build``'s its committed mean.

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> out = adaptive_gates(deal, 500, seed=1, max_deferral_years=1)
    >>> out.decision_years
    (2027, 2028)
    >>> bool(out.value("optimal") >= out.value("fixed rule"))
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 20:
        raise InputError(f"{n!r} draws", field="n", expected="a whole number >= 20")
    if (
        isinstance(max_deferral_years, bool)
        or not isinstance(max_deferral_years, int)
        or max_deferral_years < 0
    ):
        raise InputError(
            f"{max_deferral_years!r} years", field="max_deferral_years", expected="a whole number >= 0"
        )
    if not metrics:
        raise InputError("no metrics", field="metrics", expected="at least one metric, e.g. 'npv_usd'")
    name = _gated(deal, gate)
    phase = deal.phases[name]
    # the year the Monte Carlo decides the gate in (by default the year before construction)
    first = int(deal.periods.labels[decision_year(deal, name)])
    years = tuple(range(first, first + max_deferral_years + 1))
    for y in years:
        if not deal.periods.has(y):
            raise InputError(
                f"decision year {y} is outside the timeline",
                field="max_deferral_years",
                expected="fewer years",
            )
    leaves = numeric_leaves(deal)
    hurdles = list(phase.gate.min_price_usd)
    for product in hurdles:
        _flat_price(deal, product, leaves, f"phases.{name}.gate.min_price_usd.{product}")
    state_products = hurdles + [p for p in deal.uncertainty.price_paths if p not in hurdles]
    if not state_products:
        raise InputError(
            "the gate's decision looks at prices, and none is uncertain",
            field="uncertainty.price_paths",
            expected="a price path for a product of the deck",
        )
    metric_list = list(dict.fromkeys(metrics))
    root = root_seed(seed, deal.uncertainty.seed)
    setup = _setup(deal, name, years, metric_list, state_products)
    decide = metric_list[0]
    # estimation: every branch on the draws with continuity (the others abandon)
    est = _Draws(setup, n, _estimation_seed(root))
    keep = np.flatnonzero(est.continuity)
    abandon = est.value(-1, keep)
    build = {m: np.empty((keep.size, len(years))) for m in metric_list}
    for d in range(len(years)):
        got = est.value(d, keep)
        for m in metric_list:
            build[m][:, d] = got[m]
    payoffs = _payoffs(build, abandon, decide)
    policy = _fit(est.states[keep], payoffs, len(years), degree)
    once = _fit(est.states[keep], payoffs, 1, degree)
    # valuation: the Monte Carlo's own draws of the seed; the rules choose, then the branches
    # they chose are valued
    val = _Draws(setup, n, root)
    chosen = _decide(policy, val)
    built = {
        "optimal": _built_at(chosen),
        "fixed rule": np.where(val.continuity & val.clears, 0, -1),
        "now or never": _built_at(_decide(once, val)),
        "always build": np.where(val.continuity, 0, -1),
    }
    valued = _values_under(val, built, metric_list)
    rows, diffs = [], []
    for m in metric_list:
        per_rule = {rule: valued[rule][m] for rule in built}
        for rule, v in per_rule.items():
            rows.append({"rule": rule, "metric": m, "value_usd": float(v.mean()), "std_error_usd": _se(v)})
        for rule in RULES[1:]:
            gap = per_rule["optimal"] - per_rule[rule]
            diffs.append(
                {"versus": rule, "metric": m, "value_usd": float(gap.mean()), "std_error_usd": _se(gap)}
            )
    boundary = exercise_boundary(policy).rename(columns={"state": "price"})
    boundary.insert(0, "year", [years[d] for d in boundary.pop("date")])
    shares = pd.DataFrame(
        {a: (chosen == k).mean(axis=0) for k, a in enumerate(ACTIONS)}, index=pd.Index(years, name="year")
    )
    return GateDecisions(
        gate=name,
        decision_years=years,
        metrics=tuple(metric_list),
        values=pd.DataFrame(rows),
        flexibility=pd.DataFrame(diffs),
        boundary=boundary,
        shares=shares,
        policy=policy,
        state_products=tuple(state_products),
        state_inputs=tuple(setup.state_inputs),
        held_fixed=(),  # every source is drawn, through the Monte Carlo's own functions
        n=n,
        seed=root,
        run=run_info(
            deal,
            analysis="gates",
            seed=root,
            draws=2 * n,
            method="least-squares Monte Carlo",
        ),
    )
