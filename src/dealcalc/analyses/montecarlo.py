"""Monte Carlo: sample the ``uncertainty`` block, value every draw, summarise per metric.

The package, by concern:

- :mod:`.sampling`: every random number (seeds, the named streams, marginals, the Gaussian
  copula, the random, Latin hypercube and Sobol designs, the price paths' and events' random
  inputs per fixed block of draws);
- :mod:`dealcalc.engine.risk`: what price paths, disruptions, expropriation, switches and
  gates do to each draw (pure functions of arrays and uniforms);
- :mod:`.uncertainty`: the parameter paths the uncertain inputs set, and the checks on draws;
- :mod:`.chunks`: valuing one chunk of draws, gate branches included;
- this module: :func:`monte_carlo` (orchestration, in one process or on dask, and ``until``
  convergence monitoring) and its result, :class:`MonteCarlo` (plain data; its tables are
  drawn by :mod:`.display`, its JSON by :mod:`dealcalc.report.serialize`).

Static inputs are drawn for all N draws at once and price paths and events per fixed block of
draws, so results do not depend on the chunk size or the number of workers. Formulas:
docs/methodology.md §19, §20 and "Convergence and standard errors".
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Group

from dealcalc.analyses.chunks import Part, make_plan, value_chunk
from dealcalc.analyses.display import montecarlo_tables, tables_html, tables_rich
from dealcalc.analyses.distributed import WORKER_BASE_BYTES, check_workers, progress_bar, run_on_dask
from dealcalc.analyses.evaluate import evaluate
from dealcalc.analyses.provenance import RunInfo, run_info
from dealcalc.analyses.sampling import (
    METHODS,
    RNG_BLOCK,
    Seed,
    check_seed,
    marginal,
    root_seed,
    sample_inputs,
    uniforms,
)
from dealcalc.analyses.uncertainty import (
    NOTHING_UNCERTAIN,
    check_draws,
    check_price_paths,
    has_uncertainty,
    input_overrides,
    input_targets,
)
from dealcalc.analyses.uncertainty import (
    gates as gated_phases,
)
from dealcalc.engine.memory import check_fits
from dealcalc.engine.run import DEBT_METRICS
from dealcalc.engine.timeline import fisher
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import apply_scenario

__all__ = [
    "CHUNK_DRAWS",
    "NOTHING_UNCERTAIN",
    "RNG_BLOCK",
    "UNTIL_PERCENTILES",
    "MonteCarlo",
    "all_metrics",
    "check_draws",
    "check_seed",
    "default_metrics",
    "has_uncertainty",
    "input_overrides",
    "input_targets",
    "marginal",
    "monte_carlo",
    "parse_prob",
    "relative_half_widths",
    "sample_inputs",
]

#: Draws valued per engine call.
CHUNK_DRAWS = 4_096
#: The percentiles ``until`` watches besides the mean (P10, P50, P90).
UNTIL_PERCENTILES = (0.10, 0.50, 0.90)
#: Draws valued before ``until`` first looks; then the draws double until it holds or N is reached.
UNTIL_FIRST = 1_000
#: The normal quantile of a two-sided 95 % interval.
Z95 = 1.959963984540054

#: A probability question: METRIC OP NUMBER.
_QUESTION = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*"
    r"(?P<op><=|>=|<|>)\s*(?P<x>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<basis>real|nominal)?\s*$"
)
_OPS: dict[str, Callable[[FloatArray, float], np.ndarray]] = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def parse_prob(expr: str) -> tuple[str, str, float]:
    """A probability question ``METRIC OP NUMBER [real|nominal]`` (``ussm.irr < 0.19 nominal``,
    ``npv_usd >= -5e7``) as ``(metric, op, number)``; OP is one of ``<``, ``<=``, ``>``, ``>=``;
    rates are fractions. A rate's basis, when stated, is read by :func:`question_basis`.

    Examples
    --------
    >>> parse_prob("ussm.irr < 0.19")
    ('ussm.irr', '<', 0.19)
    >>> parse_prob("npv_usd >= -5e7")
    ('npv_usd', '>=', -50000000.0)
    >>> parse_prob("irr = 0.1")
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: prob: 'irr = 0.1' is not a probability question; expected \
METRIC OP NUMBER with OP one of <, <=, >, >=, and for a rate optionally real or nominal, e.g. \
"ussm.irr < 0.19 nominal" or "npv_usd < 0"
    """
    found = _QUESTION.match(expr) if isinstance(expr, str) else None
    x = float(found["x"]) if found else math.nan
    if found is None or not math.isfinite(x):
        raise InputError(
            f"{expr!r} is not a probability question",
            field="prob",
            expected="METRIC OP NUMBER with OP one of <, <=, >, >=, and for a rate optionally real or "
            'nominal, e.g. "ussm.irr < 0.19 nominal" or "npv_usd < 0"',
        )
    return found["metric"], found["op"], x


def question_basis(expr: str) -> str | None:
    """The basis a question states for its threshold (``"real"``, ``"nominal"``), or None.

    Examples
    --------
    >>> question_basis("ussm.irr < 0.19 nominal"), question_basis("npv_usd < 0")
    ('nominal', None)
    """
    found = _QUESTION.match(expr) if isinstance(expr, str) else None
    return found["basis"] if found else None


def relative_half_widths(
    values: FloatArray, percentiles: Sequence[float] = UNTIL_PERCENTILES
) -> dict[str, float]:
    """The relative half-width of the 95 % interval of the mean and of each percentile of the
    draws with a value: the convergence test of ``until``.

    The mean's half-width is ``1.96 s / sqrt(m)``; a percentile q's is half the distance between
    the order statistics of ranks ``m q -/+ 1.96 sqrt(m q (1 - q))`` (the distribution-free
    interval of a quantile). Each is divided by the absolute estimate; an estimate of 0 with a
    positive half-width gives infinity; no draws with a value give NaN.

    Examples
    --------
    >>> import numpy as np
    >>> w = relative_half_widths(np.random.default_rng(0).normal(100.0, 10.0, 10_000))
    >>> sorted(w), bool(w["mean"] < 0.003)
    (['mean', 'p10', 'p50', 'p90'], True)
    """
    ok = np.sort(values[~np.isnan(values)])
    m = ok.size
    out: dict[str, float] = {}
    if m < 2:
        return {"mean": math.nan} | {_pname(q): math.nan for q in percentiles}
    half = Z95 * float(ok.std(ddof=1)) / math.sqrt(m)
    out["mean"] = _relative(half, float(ok.mean()))
    for q in percentiles:
        spread = Z95 * math.sqrt(m * q * (1.0 - q))
        lo = int(np.clip(math.floor(m * q - spread), 0, m - 1))
        hi = int(np.clip(math.ceil(m * q + spread), 0, m - 1))
        out[_pname(q)] = _relative((float(ok[hi]) - float(ok[lo])) / 2.0, float(np.quantile(ok, q)))
    return out


def _pname(q: float) -> str:
    return f"p{100 * q:g}"


def _relative(half: float, estimate: float) -> float:
    if half == 0.0:
        return 0.0
    return half / abs(estimate) if estimate != 0.0 else math.inf


def _npv_of(irr_metric: str) -> str:
    """The NPV metric of the cash flows an IRR metric solves: ``irr`` -> ``npv_usd``,
    ``pre_tax_irr`` -> ``pre_tax_npv_usd``, ``ussm.irr`` -> ``ussm.npv_usd``."""
    return irr_metric.removesuffix("irr") + "npv_usd"


def default_metrics(deal: Deal) -> list[str]:
    """NPV and IRR of the project; each party's NPV; the owners' and lenders' IRR.

    Examples
    --------
    >>> import dealcalc as dc
    >>> default_metrics(dc.load(dc.example_path("ussm-fwo")))[:3]
    ['npv_usd', 'irr', 'ussm.npv_usd']
    """
    out = ["npv_usd", "irr"] + [f"{p}.npv_usd" for p in deal.party_names()]
    out += [f"{p}.irr" for p in deal.party_names() if deal.party_role(p) in ("owner", "lenders")]
    if deal.finance.stressed:  # lenders at risk: cover, default and loss per draw
        out += ["min_dscr", *DEBT_METRICS]
    return out


def all_metrics(deal: Deal) -> list[str]:
    """Every metric of the project and of every party that a valuation of ``deal`` gives
    (what ``montecarlo --out draws.parquet`` writes by default), but the discount rate.

    Examples
    --------
    >>> import dealcalc as dc
    >>> names = all_metrics(dc.load(dc.example_path("ussm-fwo")))
    >>> "ussm.irr" in names and "min_dscr" in names and "discount_rate" in names
    False
    """
    values = evaluate(deal, keep_ledger=False).values
    return [m for m in values if m != "discount_rate"]


@dataclass(frozen=True)
class MonteCarlo:
    """The draws, their metrics, and what happened in each: plain data.

    ``losing`` holds, per IRR metric (a name ending in ``irr``), whether each draw's cash flows
    have a negative NPV (its ``*npv_usd`` twin). A series with no IRR has no rate at which it
    breaks even, so its NPV has one sign at every rate: where it is negative the draw is a loss
    at any hurdle, and :meth:`prob_below` counts it as below.

    ``paths`` holds per draw each price path's mean price over the periods (``PRODUCT.mean``)
    and its price in each gate's decision year (``PRODUCT.at_gate.PHASE``), in US$ per the
    product's unit; ``events`` the years with output lost to disruptions
    (``disruption_years``), whether the state expropriated (``expropriated``) and each switch's
    state (``switch.NAME``). With ``until``, ``n`` is the draws used (the first ``n`` of the
    ``planned``), ``converged`` says whether the tolerance was met, and ``monitored`` and
    ``percentiles`` what was watched. The tables in Jupyter and a terminal come from
    :func:`dealcalc.analyses.display.montecarlo_tables`.
    """

    deal: Deal
    n: int
    seed: int
    method: str
    inputs: pd.DataFrame
    values: dict[str, FloatArray]
    checkpoints: list[int] = field(default_factory=list)
    built: dict[str, np.ndarray] = field(default_factory=dict)
    continued: dict[str, np.ndarray] = field(default_factory=dict)
    committed: dict[str, FloatArray] = field(default_factory=dict)
    losing: dict[str, np.ndarray] = field(default_factory=dict)
    paths: dict[str, FloatArray] = field(default_factory=dict)
    events: dict[str, np.ndarray] = field(default_factory=dict)
    planned: int | None = None
    until: float | None = None
    converged: bool | None = None
    monitored: tuple[str, ...] = ()
    percentiles: tuple[float, ...] = UNTIL_PERCENTILES

    @property
    def info(self) -> RunInfo:
        """The run's record, as :attr:`dealcalc.Valuation.info` (the same as :attr:`run`)."""
        return self.run

    @property
    def run(self) -> RunInfo:
        """What was run: file, scenario, changes, basis, and the seed, draws and method."""
        return run_info(self.deal, analysis="montecarlo", seed=self.seed, draws=self.n, method=self.method)

    def gate_summary(self) -> pd.DataFrame:
        """Per gated phase: the share of draws in which continuity held and in which it was built."""
        return pd.DataFrame(
            {
                "p_continuity": {p: float(v.mean()) for p, v in self.continued.items()},
                "p_built": {p: float(v.mean()) for p, v in self.built.items()},
            }
        ).rename_axis("phase")

    def option_value(self) -> pd.Series:
        """Per NPV metric: E[value under the gate rules] - E[value building whenever continuity
        holds]: what the option to stop at a gate on its price hurdles is worth."""
        return pd.Series(
            {m: float(np.nanmean(self.values[m]) - np.nanmean(v)) for m, v in self.committed.items()},
            name="option_value_usd",
        )

    def summary(self) -> pd.DataFrame:
        """Per metric: mean, standard error, P5/P10/P50/P90, P(< 0), value at risk, and the
        draws with no solution (a count and a share of all N).

        ``mean``, ``std_error`` and the percentiles are of the draws that have a value: with
        ``no_solution_share`` of 0.4 they describe the other 60 %. ``prob_negative`` is over
        all N draws (:meth:`prob_below` at 0): for an IRR, a draw without one counts as below
        0 when its cash flows lose money at every rate (negative NPV: no rate can make up for
        them) and as not below when they gain at every rate, so P(IRR < 0) and P(NPV < 0)
        describe the same draws. For other metrics (a payback never reached) it is over the
        draws with a value.

        ``value_at_risk_95`` is the loss at the 5th percentile, ``-P5`` (positive: a loss), for
        values (``*npv_usd``); NaN for rates such as an IRR and for flows such as an entity's
        levies or transfers, where it means nothing.
        The standard error is ``sd / sqrt(N)``, exact for plain random sampling and
        conservative for Latin hypercube and Sobol designs.
        """
        rows = {}
        for name, v in self.values.items():
            ok = v[~np.isnan(v)]
            q = np.quantile(ok, [0.05, 0.10, 0.50, 0.90]) if ok.size else np.full(4, np.nan)
            rows[name] = {
                "mean": float(ok.mean()) if ok.size else np.nan,
                "std_error": float(ok.std(ddof=1) / np.sqrt(ok.size)) if ok.size > 1 else np.nan,
                "p5": q[0],
                "p10": q[1],
                "p50": q[2],
                "p90": q[3],
                "prob_negative": self.prob_below(name, 0.0),
                "value_at_risk_95": -q[0] if name.endswith("npv_usd") else np.nan,
                "no_solution": int(v.size - ok.size),
                "no_solution_share": float((v.size - ok.size) / v.size) if v.size else np.nan,
            }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("metric")

    def prob_below(self, metric: str, x: float) -> float:
        """The share of draws in which ``metric`` is below ``x``: P(IRR < hurdle), P(NPV < x).

        For an IRR it is over all N draws, and a draw with no IRR counts as below any ``x``
        when its cash flows lose money at every discount rate (their NPV is negative: e.g. they
        never turn positive), and as above it when they gain at every rate. So P(IRR < r) and
        P(NPV at r < 0) agree for conventional cash flows. For any other metric it is over the
        draws that have a value (a payback never reached is neither short nor long).

        Examples
        --------
        >>> import dealcalc as dc
        >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 500, seed=1, metrics=["irr"])
        >>> bool(mc.prob_below("irr", 0.05) <= mc.prob_below("irr", 0.10))
        True
        """
        v = self.metric(metric)
        if isinstance(x, bool) or not isinstance(x, int | float | np.number) or not np.isfinite(x):
            raise InputError(f"{x!r} is not a threshold", field="x", expected="a finite number, e.g. 0.10")
        solved = ~np.isnan(v)
        below = int(np.count_nonzero(v[solved] < x))
        losing = self.losing.get(metric)
        if losing is not None:  # an IRR: the draws without one are losses or gains at every rate
            return (below + int(np.count_nonzero(losing & ~solved))) / v.size
        return below / int(solved.sum()) if solved.any() else np.nan

    def prob(self, expr: str) -> float:
        """The share of draws answering a question ``METRIC OP NUMBER`` (:func:`parse_prob`),
        e.g. ``mc.prob("ussm.irr < 0.19")``; counted as :meth:`prob_below` counts (a draw with no
        IRR is below every rate when it loses money at every rate, above every rate when it
        gains). Its standard error is in :meth:`probabilities`.

        Examples
        --------
        >>> import dealcalc as dc
        >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 500, seed=1, metrics=["irr"])
        >>> mc.prob("irr < 0.1") == mc.prob_below("irr", 0.1)
        True
        >>> round(mc.prob("irr < 0.1") + mc.prob("irr >= 0.1"), 12)
        1.0
        """
        metric, op, x = parse_prob(expr)
        return self._share(metric, op, self._in_basis(metric, x, question_basis(expr)))[0]

    def probabilities(self, exprs: Sequence[str]) -> pd.DataFrame:
        """Per question (:func:`parse_prob`): its metric, operator and threshold, the share of
        draws (``probability``), its standard error ``sqrt(p (1 - p) / N)`` and the N it is of.

        Examples
        --------
        >>> import dealcalc as dc
        >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 400, seed=1)
        >>> mc.probabilities(["npv_usd < 0", "ussm.irr < 0.19"]).columns.tolist()
        ['metric', 'op', 'threshold', 'probability', 'std_error', 'draws']
        """
        rows = {}
        for expr in exprs:
            metric, op, stated = parse_prob(expr)
            basis = question_basis(expr)
            x = self._in_basis(metric, stated, basis)
            p, of = self._share(metric, op, x)
            rows[self._question(metric, op, stated, basis)] = {
                "metric": metric,
                "op": op,
                "threshold": x,
                "probability": p,
                "std_error": math.sqrt(p * (1.0 - p) / of) if of else math.nan,
                "draws": of,
            }
        columns = ["metric", "op", "threshold", "probability", "std_error", "draws"]
        return pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("question")

    def _is_rate(self, metric: str) -> bool:
        return metric.rpartition(".")[2].endswith("irr")

    def _in_basis(self, metric: str, x: float, basis: str | None) -> float:
        """An IRR threshold stated in the other basis, in the deal's (the Fisher relation at the
        deal's inflation): ``ussm.irr < 0.19 nominal`` of a real deal asks about 16.1 % real."""
        v = self.deal.valuation
        if basis is None or not self._is_rate(metric) or basis == v.basis:
            return x
        return float(fisher(x, v.inflation_rate, stated=basis, wanted=v.basis))

    def _question(self, metric: str, op: str, stated: float, basis: str | None) -> str:
        """A question as shown: an IRR's threshold says its basis (``ussm.irr < 0.19 nominal =
        0.1610 real``), so a real probability is never read as a nominal one."""
        if not self._is_rate(metric):
            return f"{metric} {op} {stated:,.12g}"  # 295,600,000, not 2.956e+08
        own = self.deal.valuation.basis
        if basis is None or basis == own:
            return f"{metric} {op} {stated:g} {own}"
        return f"{metric} {op} {stated:g} {basis} = {self._in_basis(metric, stated, basis):.4f} {own}"

    def _share(self, metric: str, op: str, x: float) -> tuple[float, int]:
        """P(metric OP x) and the number of draws it is a share of. A draw without a default has
        no default year: it defaults never (+inf), so ``default_year > 0`` is P(default)."""
        v = self.metric(metric)
        if metric.rpartition(".")[2] == "default_year":
            v = np.where(np.isnan(v), np.inf, v)
        solved = ~np.isnan(v)
        hits = int(np.count_nonzero(_OPS[op](v[solved], x)))
        losing = self.losing.get(metric)
        if losing is not None:  # an IRR: the draws without one are below or above every rate
            unsolved_losing = int(np.count_nonzero(losing & ~solved))
            unsolved_gaining = int(np.count_nonzero(~solved)) - unsolved_losing
            hits += unsolved_losing if op in ("<", "<=") else unsolved_gaining
            return hits / v.size, int(v.size)
        of = int(solved.sum())
        return (hits / of if of else math.nan), of

    def frame(self) -> pd.DataFrame:
        """One row per draw (tidy): the sampled inputs, each metric, and per gated phase
        whether it was built.

        Examples
        --------
        >>> import dealcalc as dc
        >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 64, seed=1, metrics=["npv_usd"])
        >>> df = mc.frame()
        >>> df.shape[0], "npv_usd" in df, "built: refinery" in df
        (64, True, True)
        """
        out = self.inputs.copy()
        for name, values in self.values.items():
            out[name] = values
        for phase, built in self.built.items():
            out[f"built: {phase}"] = built
        return out

    def draws(self) -> pd.DataFrame:
        """One row per draw, for an analyst to audit: every sampled input (by its pattern),
        each price path's mean over the periods and its price at each gate's decision year
        (``price.PRODUCT.mean_usd_per_UNIT``, ``price.PRODUCT.at_gate.PHASE_usd_per_UNIT``), the
        events (``events.disruption_years``, ``events.expropriated``, ``switch.NAME``), each
        gate's decision (``gate.PHASE.continued``, ``gate.PHASE.built``) and every metric
        valued (NaN where it has no solution).

        Examples
        --------
        >>> import dealcalc as dc
        >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 64, seed=1)
        >>> df = mc.draws()
        >>> df.shape[0], "price.antimony.mean_usd_per_t" in df, "gate.refinery.built" in df
        (64, True, True)
        """
        columns: dict[str, Any] = {c: self.inputs[c].to_numpy() for c in self.inputs.columns}
        for key, v in self.paths.items():
            product, _, what = key.partition(".")
            unit = self.deal.products[product].unit if product in self.deal.products else "unit"
            columns[f"price.{product}.{what}_usd_per_{unit}"] = v
        for key, v in self.events.items():
            columns[key if key.startswith("switch.") else f"events.{key}"] = v
        for phase in self.built:
            columns[f"gate.{phase}.continued"] = self.continued[phase]
            columns[f"gate.{phase}.built"] = self.built[phase]
        for name, v in self.values.items():
            columns[name] = v
        return pd.DataFrame(columns, index=pd.RangeIndex(self.n, name="draw"))

    def precision(self) -> pd.DataFrame:
        """Per metric watched by ``until`` (else the first metric) and per statistic (the mean
        and each percentile): the relative half-width of its 95 % interval
        (:func:`relative_half_widths`), and whether it is within the tolerance.

        Examples
        --------
        >>> import dealcalc as dc
        >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 400, seed=1, metrics=["npv_usd"])
        >>> mc.precision().index.tolist()[:2]
        [('npv_usd', 'mean'), ('npv_usd', 'p10')]
        """
        rows = {}
        for metric in self.monitored or (next(iter(self.values)),):
            for stat, rel in relative_half_widths(self.metric(metric), self.percentiles).items():
                rows[(metric, stat)] = {
                    "relative_half_width": rel,
                    "within": bool(rel <= self.until) if self.until is not None else None,
                }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index = pd.MultiIndex.from_tuples(list(rows), names=["metric", "statistic"])
        return frame

    def _tables(self) -> list[tuple[pd.DataFrame, str, str, bool]]:
        title = f"{self.deal.name}: Monte Carlo, {self.n:,} draws ({self.method}, seed {self.seed})"
        return montecarlo_tables(self.summary(), self.gate_summary() if self.built else None, title)

    def _repr_html_(self) -> str:
        return tables_html(self._tables(), self.run)

    def __rich__(self) -> Group:
        return tables_rich(self._tables(), self.run)

    def metric(self, name: str) -> FloatArray:
        """The N draws of one metric (NaN where it has no solution, e.g. no IRR).

        Examples
        --------
        >>> import dealcalc as dc
        >>> mc = dc.monte_carlo(dc.load(dc.example_path("ussm-fwo")), 100, seed=1, metrics=["irr"])
        >>> mc.metric("irr").shape
        (100,)
        """
        if name not in self.values:
            raise InputError(
                f"no metric {name!r} in this run",
                field="metric",
                hint=did_you_mean(name, self.values) or f"this run has {', '.join(self.values)}",
            )
        return self.values[name]

    def convergence(self, metric: str = "npv_usd") -> pd.DataFrame:
        """The running mean and its standard error at N = 2^k draws (and N), for ``metric``."""
        v = self.metric(metric)
        marks = [m for m in self.checkpoints if m <= v.size]
        rows = []
        for m in marks:
            part = v[:m][~np.isnan(v[:m])]
            se = float(part.std(ddof=1) / np.sqrt(part.size)) if part.size > 1 else np.nan
            rows.append({"draws": m, "mean": float(part.mean()) if part.size else np.nan, "std_error": se})
        return pd.DataFrame(rows).set_index("draws")


def monte_carlo(
    deal: Deal,
    n: int,
    *,
    seed: Seed = None,
    method: str | None = None,
    metrics: Sequence[str] | None = None,
    scenario: str | None = None,
    chunk_size: int = CHUNK_DRAWS,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    until: float | None = None,
    until_metrics: Sequence[str] | None = None,
    percentiles: Sequence[float] = UNTIL_PERCENTILES,
) -> MonteCarlo:
    """Sample the deal's ``uncertainty`` block N times and value every draw.

    Parameters
    ----------
    deal : Deal
        A deal with an ``uncertainty`` block; ``scenario`` names an overlay to start from.
    n : int
        Number of draws (with ``until``, the most that may be used).
    seed : int, numpy.random.Generator or None, optional
        The root seed of the named random streams (:mod:`dealcalc.analyses.sampling`).
        None takes ``uncertainty.seed`` (else 0). A Generator gives one root seed, drawn from
        it once (the Generator advances by one draw); the result records it as ``seed``, so
        ``seed=mc.seed`` repeats the run. The same seed gives the same draws and results,
        bit for bit, whatever ``chunk_size`` and however many dask workers.
    method : {"random", "lhs", "sobol"}, optional
        Overrides ``uncertainty.method``.
    metrics : sequence of str, optional
        Default: :func:`default_metrics`.
    workers, scheduler : optional
        Run the chunks on dask.distributed (extra ``dask``): a local cluster of ``workers``
        processes, or an existing scheduler's address. The results are identical to a
        single-process run with the same seed.
    progress : bool, default False
        Show a progress bar (rich, on stderr).
    until : float, optional
        Stop once the 95 % interval of the mean and of each of ``percentiles`` of every metric
        in ``until_metrics`` has a half-width within this fraction of the estimate (0.01: 1 %),
        or at N draws. The draws are valued in batches (at least 1,000, then doubling); the
        result holds the first ``mc.n`` of the N draws the same seed gives, ``mc.planned`` = N
        and ``mc.converged``. With ``lhs`` a prefix of the design is not stratified: prefer
        ``random`` or ``sobol``.
    until_metrics : sequence of str, optional
        The metrics ``until`` watches (default: the first of ``metrics``); added to
        ``metrics`` if missing.
    percentiles : sequence of float, default (0.10, 0.50, 0.90)
        The percentiles ``until`` watches besides the mean, as fractions.

    Returns
    -------
    MonteCarlo
        ``summary()`` per metric, ``prob_below(metric, x)`` and ``prob("METRIC OP X")`` (the
        draws with no IRR counted as their cash flows' sign says), ``probabilities([...])``
        with standard errors, ``convergence(metric)``, ``precision()`` and ``draws()``.

    Examples
    --------
    >>> import dealcalc as dc
    >>> mc = monte_carlo(dc.load(dc.example_path("ussm-fwo")), 2000, seed=1, metrics=["npv_usd"])
    >>> s = mc.summary()
    >>> bool(0.0 < s.loc["npv_usd", "prob_negative"] < 1.0)
    True
    """
    start = apply_scenario(deal, scenario)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InputError(f"{n!r} draws", field="n", expected="a whole number, at least 1")
    if chunk_size < 1:  # a chunk of none would leave every result unwritten
        raise InputError(f"chunks of {chunk_size} draws", field="chunk_size", expected="at least 1")
    _check_until(until, percentiles)
    used_seed = root_seed(seed, start.uncertainty.seed)
    used_method = method or start.uncertainty.method
    if used_method not in METHODS:
        raise InputError(f"unknown method {used_method!r}", field="method", expected="random, lhs or sobol")
    if not has_uncertainty(start):
        warnings.warn(NOTHING_UNCERTAIN, UserWarning, stacklevel=2)
    targets = input_targets(start)
    check_price_paths(start)
    wanted = list(metrics) if metrics is not None else default_metrics(start)
    monitored = list(until_metrics) if until_metrics else wanted[:1]
    wanted += [m for m in dict.fromkeys(monitored) if m not in wanted]
    # each IRR's NPV twin is valued too: its sign says whether a draw with no IRR is a loss
    twins = {m: _npv_of(m) for m in wanted if m.endswith("irr")}
    valued = wanted + [p for p in dict.fromkeys(twins.values()) if p not in wanted]
    u = start.uncertainty
    gates = gated_phases(start)
    kept = len(u.price_paths) * (1 + len(gates)) + 1 + (1 + len(u.switches)) / 8
    stored = len(u.inputs) + 2 * len(wanted) + len(twins) / 8 + len(u.switches) + 4 * len(start.phases) + kept
    t = start.periods.size
    working = 8.0 * min(chunk_size, n) * t * (120 + 3 * len(u.price_paths)) * 2
    # a local cluster's workers each hold a process and a chunk's working set; this process
    # then keeps the results only (checked before any worker starts or anything is drawn)
    local = check_workers(workers, working) if workers is not None and scheduler is None else 0
    check_fits(
        8.0 * stored * n
        + (8.0 * n * len(u.inputs) * 3 if u.correlations else 0.0)
        + (local * (WORKER_BASE_BYTES + working) if local else working),
        f"a Monte Carlo of {n:,} draws"
        + (f" on {local} local worker{'s' if local > 1 else ''}" if local else ""),
        "ask for fewer metrics, or run fewer draws several times with different seeds and pool "
        "them; the per-draw results of N draws must fit in memory",
    )
    draws = sample_inputs(start, n, seed=used_seed, method=used_method)
    columns = {p: draws[p].to_numpy() for p in draws.columns}
    check_draws(start, columns, targets)
    switches = u.switches
    plan = make_plan(start, valued, used_seed)
    uniform_gates = uniforms(used_seed, "gates", n, len(gates))
    uniform_switches = uniforms(used_seed, "switches", n, len(switches))
    # every chunk's results go straight into arrays of N, so no second copy is ever made
    out = _Arrays.empty(n, wanted, twins, gates)

    def tasks(spans: list[tuple[int, int]]) -> Iterator[tuple[Any, ...]]:
        # each chunk's override arrays are made from its slice of the draws when it runs
        for a, b in spans:
            sub = {k: v[a:b] for k, v in columns.items()}
            yield input_overrides(start, sub, targets), uniform_gates[a:b], uniform_switches[a:b], a, b

    done, converged = 0, None
    for end in _batches(n, chunk_size, until is not None):
        spans = [(a, min(a + chunk_size, end)) for a in range(done, end, chunk_size)]
        if workers is not None or scheduler is not None:
            run_on_dask(
                value_chunk,
                plan,
                tasks(spans),
                lambda i, part: out.store(part, *spans[i], twins),  # noqa: B023 - called in the loop
                total=len(spans),
                workers=workers,
                scheduler=scheduler,
                progress=progress,
            )
        else:
            with progress_bar(progress, len(spans), f"{end - done:,} draws") as advance:
                for task, (a, b) in zip(tasks(spans), spans, strict=True):
                    out.store(value_chunk(plan, *task), a, b, twins)
                    advance()
        done = end
        if until is not None:
            converged = all(
                w <= until
                for m in monitored
                for w in relative_half_widths(out.values[m][:done], percentiles).values()
            )
            if converged:
                break
    if done < n:
        out = out.first(done)
        draws = draws.iloc[:done].copy()
    checkpoints = [2**k for k in range(4, int(np.log2(done)) + 1)] + ([done] if done & (done - 1) else [])
    return MonteCarlo(
        deal=start,
        n=done,
        seed=used_seed,
        method=used_method,
        inputs=draws,
        values=out.values,
        checkpoints=[c for c in checkpoints if c <= done],
        built=out.built,
        continued=out.continued,
        committed=out.committed,
        losing=out.losing,
        paths=out.paths,
        events=out.events,
        planned=n if until is not None else None,
        until=until,
        converged=converged,
        monitored=tuple(monitored) if until is not None else (),
        percentiles=tuple(float(q) for q in percentiles),
    )


def _check_until(until: object, percentiles: Sequence[float]) -> None:
    """A tolerance is a fraction in (0, 1]; the percentiles fractions in (0, 1)."""
    if until is not None and (
        isinstance(until, bool)
        or not isinstance(until, int | float | np.number)
        or not 0.0 < float(until) <= 1.0
    ):
        raise InputError(
            f"{until!r} is not a tolerance",
            field="until",
            expected="a fraction above 0 and at most 1, e.g. 0.01 for 1 % of the estimate",
        )
    for q in percentiles:
        if isinstance(q, bool) or not isinstance(q, int | float | np.number) or not 0.0 < float(q) < 1.0:
            raise InputError(
                f"{q!r} is not a percentile",
                field="percentiles",
                expected="a fraction between 0 and 1, e.g. 0.9",
            )


def _batches(n: int, chunk_size: int, watch: bool) -> Iterator[int]:
    """Where each batch of draws ends: all N at once, or (``until``) at least
    :data:`UNTIL_FIRST` and one chunk, then doubling, up to N."""
    if not watch:
        yield n
        return
    end = min(n, max(UNTIL_FIRST, chunk_size))
    while True:
        yield end
        if end >= n:
            return
        end = min(n, 2 * end)


@dataclass
class _Arrays:
    """The per-draw results of a run, in arrays of N that each chunk fills in place."""

    values: dict[str, FloatArray]
    losing: dict[str, np.ndarray]
    committed: dict[str, FloatArray]
    built: dict[str, np.ndarray]
    continued: dict[str, np.ndarray]
    paths: dict[str, FloatArray]
    events: dict[str, np.ndarray]
    n: int

    @classmethod
    def empty(cls, n: int, wanted: list[str], twins: dict[str, str], gates: list[str]) -> _Arrays:
        return cls(
            values={m: np.empty(n) for m in wanted},
            losing={m: np.empty(n, dtype=bool) for m in twins},
            committed={m: np.empty(n) for m in wanted if gates and m.endswith("npv_usd")},
            built={g: np.empty(n, dtype=bool) for g in gates},
            continued={g: np.empty(n, dtype=bool) for g in gates},
            paths={},
            events={},
            n=n,
        )

    def store(self, part: Part, a: int, b: int, twins: dict[str, str]) -> None:
        for target, got in ((self.values, part.values), (self.committed, part.committed)):
            for m in target:  # not the NPV twins valued only for their sign
                target[m][a:b] = got[m]
        for m, twin in twins.items():
            self.losing[m][a:b] = part.values[twin] < 0.0
        for target_flags, got_flags in ((self.built, part.built), (self.continued, part.continued)):
            for g, f in got_flags.items():
                target_flags[g][a:b] = f
        for target_any, got_any in ((self.paths, part.paths), (self.events, part.events)):
            for key, v in got_any.items():
                if key not in target_any:  # made on first sight: its dtype is the chunk's
                    target_any[key] = np.empty(self.n, dtype=v.dtype)
                target_any[key][a:b] = v

    def first(self, m: int) -> _Arrays:
        """The first m draws, copied (so the arrays of N are freed)."""

        def cut(d: dict[str, Any]) -> dict[str, Any]:
            return {k: v[:m].copy() for k, v in d.items()}

        return _Arrays(
            values=cut(self.values),
            losing=cut(self.losing),
            committed=cut(self.committed),
            built=cut(self.built),
            continued=cut(self.continued),
            paths=cut(self.paths),
            events=cut(self.events),
            n=m,
        )
