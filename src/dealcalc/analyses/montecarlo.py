"""Monte Carlo: sample the ``uncertainty`` block, value every draw, summarise per metric.

Static inputs are drawn for all N draws at once (plain random, Latin hypercube or scrambled
Sobol from scipy.stats.qmc), correlated by a Gaussian copula on their rank correlations, and
mapped through each marginal's inverse CDF (scipy.stats). Price paths are generated per fixed
block of draws from a generator keyed by (seed, block), so results do not depend on the chunk
size. Draws are valued in chunks by the vectorized engine. Formulas: docs/methodology.md §19.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Group

from dealcalc.analyses.display import frame_html, frame_rich
from dealcalc.analyses.distributed import WORKER_BASE_BYTES, check_workers, progress_bar, run_on_dask
from dealcalc.analyses.evaluate import evaluate
from dealcalc.analyses.provenance import RunInfo, run_info
from dealcalc.engine.inputs import deal_series
from dealcalc.engine.memory import check_fits
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal, Distribution
from dealcalc.models.risk import normal_score_correlation
from dealcalc.params import (
    apply_scenario,
    check_range,
    limits,
    match_paths,
    numeric_leaves,
    schedule_paths,
    with_changes,
)

__all__ = [
    "MonteCarlo",
    "check_draws",
    "check_seed",
    "default_metrics",
    "input_overrides",
    "input_targets",
    "marginal",
    "monte_carlo",
    "sample_inputs",
]

#: Draws per block of price-path randomness (each block has its own generator).
RNG_BLOCK = 4096
#: Draws valued per engine call.
CHUNK_DRAWS = 4_096


def marginal(d: Distribution) -> Any:
    """The inverse CDF of a distribution: a function from uniforms in (0, 1) to values.

    Examples
    --------
    >>> from dealcalc.models import Distribution
    >>> ppf = marginal(Distribution(dist="pert", low=0.9, mode=1.1, high=1.6))
    >>> round(float(ppf(0.5)), 4)
    1.1383
    """
    from scipy import stats  # here, not at import: scipy.stats costs every CLI command 0.7 s

    if d.dist in ("normal", "lognormal"):
        frozen = (
            stats.norm(loc=d.mean, scale=d.sd)
            if d.dist == "normal"
            else stats.lognorm(s=d.sigma, scale=d.median)
        )
        if d.low is None and d.high is None:
            return frozen.ppf
        # truncated by inverse transform: u -> F(low) + u (F(high) - F(low)), then F^-1
        lo = float(frozen.cdf(d.low)) if d.low is not None else 0.0
        hi = float(frozen.cdf(d.high)) if d.high is not None else 1.0
        if not hi - lo > 1e-9:
            raise InputError(
                f"the bounds keep {max(hi - lo, 0.0):.2g} of the {d.dist} distribution",
                field="uncertainty.inputs",
                expected="low and high that keep a real share of it (move them, or the mean)",
            )
        inverse = frozen.ppf
        return lambda u: inverse(lo + np.asarray(u) * (hi - lo))
    if d.dist == "uniform":
        assert d.low is not None and d.high is not None
        return stats.uniform(loc=d.low, scale=d.high - d.low).ppf
    if d.dist in ("triangular", "pert"):
        assert d.low is not None and d.high is not None and d.mode is not None
        width = d.high - d.low
        if d.dist == "triangular":
            return stats.triang(c=(d.mode - d.low) / width, loc=d.low, scale=width).ppf
        a = 1.0 + 4.0 * (d.mode - d.low) / width
        b = 1.0 + 4.0 * (d.high - d.mode) / width
        inverse = _beta_inverse(a, b)
        low = d.low
        return lambda u: low + width * inverse(u)
    assert d.values is not None
    values = np.asarray(d.values, dtype=np.float64)
    probabilities = (
        np.full(values.size, 1.0 / values.size) if d.probabilities is None else np.asarray(d.probabilities)
    )
    order = np.argsort(values, kind="stable")
    values, cumulative = values[order], np.cumsum(probabilities[order])
    cumulative[-1] = 1.0

    def ppf(u: Any) -> Any:
        return values[np.minimum(np.searchsorted(cumulative, u, side="right"), values.size - 1)]

    return ppf


class _BetaKernel:
    """The Beta(a, b) density on [0, 1] up to its constant: all that numerical inversion needs."""

    def __init__(self, a: float, b: float) -> None:
        self.a, self.b = a, b

    def pdf(self, x: float) -> float:
        return float(x ** (self.a - 1.0) * (1.0 - x) ** (self.b - 1.0))


#: |F(ppf(u)) - u| stays below this (UNU.RAN's PINV; scipy's betaincinv gets about 1e-16).
U_RESOLUTION = 1e-14


def _beta_inverse(a: float, b: float) -> Any:
    """Beta(a, b)'s inverse CDF by polynomial interpolation of the inverse (UNU.RAN's PINV,
    ``scipy.stats.sampling.NumericalInversePolynomial``; Derflinger, Hörmann and Leydold 2010).

    About 30 times faster than ``scipy.special.betaincinv`` (1.3 s per 1e6 draws of a PERT here)
    at a u-error of :data:`U_RESOLUTION`; set up once per distribution in about 10 ms.
    """
    from scipy.stats.sampling import NumericalInversePolynomial

    inverse = NumericalInversePolynomial(_BetaKernel(a, b), domain=(0.0, 1.0), u_resolution=U_RESOLUTION)
    return inverse.ppf


def _copula_factor(
    names: list[str], pairs: Sequence[tuple[str, str, float]], where: str
) -> FloatArray | None:
    """The Cholesky factor of the normal-score correlation matching Spearman targets."""
    if not pairs:
        return None
    pearson = normal_score_correlation(names, pairs)
    try:
        return np.asarray(np.linalg.cholesky(pearson), dtype=np.float64)
    except np.linalg.LinAlgError:
        smallest = float(np.linalg.eigvalsh(pearson).min())
        raise InputError(
            f"the correlation matrix is not positive definite (smallest eigenvalue {smallest:.3g})",
            field=where,
            hint="the correlations contradict each other (e.g. a~b and a~c strongly positive, b~c negative)",
        ) from None


def _uniforms(method: str, n: int, d: int, rng: np.random.Generator) -> FloatArray:
    from scipy.stats import qmc  # see marginal

    if d == 0:
        return np.empty((n, 0))
    if method == "random":
        return rng.random((n, d))
    if method == "lhs":
        return np.asarray(qmc.LatinHypercube(d=d, seed=rng).random(n), dtype=np.float64)
    m = max(int(np.ceil(np.log2(max(n, 2)))), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # balance: we use a prefix of 2**m points
        points = qmc.Sobol(d=d, scramble=True, seed=rng).random_base2(m)
    return np.asarray(np.clip(points[:n], 1e-12, 1.0 - 1e-12), dtype=np.float64)


#: Said (a UserWarning; a note on the CLI) when a Monte Carlo has nothing to draw.
NOTHING_UNCERTAIN = (
    "nothing in the deal is uncertain (no uncertainty inputs, price paths, events or switches, and "
    "no phase gate below certainty): every draw is the base case; see docs/scenario-file.md, uncertainty"
)


def check_seed(seed: object, field: str = "seed") -> None:
    """Refuse a seed numpy cannot use (a negative or non-integer one) with a clear message.

    Examples
    --------
    >>> check_seed(2025)
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: seed: -1 is not a seed; expected a whole number >= 0
    """
    if seed is None:
        return
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"{seed!r} is not a seed", field=field, expected="a whole number >= 0")


def sample_inputs(deal: Deal, n: int, *, seed: int | None = None, method: str | None = None) -> pd.DataFrame:
    """The N draws of the uncertain inputs (columns in file order), correlated as declared.

    Examples
    --------
    >>> import dealcalc as dc
    >>> draws = sample_inputs(dc.load(dc.example_path("ussm-fwo")), 1000, seed=1)
    >>> draws.shape[0]
    1000
    """
    from scipy import special  # see marginal

    check_seed(seed)
    u = deal.uncertainty
    names = list(u.inputs)
    rng = np.random.default_rng(np.random.SeedSequence([seed if seed is not None else (u.seed or 0), 0]))
    uniforms = _uniforms(method or u.method, n, len(names), rng)
    factor = _copula_factor(names, u.correlations, "uncertainty.correlations")
    if factor is not None:  # in row blocks, so the copula's temporaries stay small for any N
        for a in range(0, n, RNG_BLOCK):
            rows = uniforms[a : a + RNG_BLOCK]
            z = special.ndtri(np.clip(rows, 1e-16, 1.0 - 1e-16)) @ factor.T  # the normal's inverse CDF
            uniforms[a : a + RNG_BLOCK] = special.ndtr(z)  # and its CDF
    data = {
        name: np.asarray(marginal(u.inputs[name])(uniforms[:, k]), dtype=np.float64)
        for k, name in enumerate(names)
    }
    return pd.DataFrame(data, index=pd.RangeIndex(n, name="draw"))


def _path_map(deal: Deal, factor: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    """The price paths as one linear map of the shocks: log multipliers ``x = z @ A.T + c``.

    For product p, ``x_p = L_p (F z)_p`` where F is the shocks' correlation factor and L_p is
    lower triangular: ``sigma`` on and below the diagonal for a random walk, ``step *
    keep**(t-s)`` for the discrete Ornstein-Uhlenbeck process (the recursion of methodology
    §19 unrolled). ``c = drift * t - var(x_t) / 2`` with ``var(x_t) = sum_s L_p[t, s]**2`` (the
    rows of F have unit length), so every multiplier has mean 1 (or ``exp(drift * t)``).
    Shapes: A (P*T, P*T), c (P, T).
    """
    paths = list(deal.uncertainty.price_paths.values())
    t = deal.periods.size
    lag = np.arange(t)[:, None] - np.arange(t)[None, :]
    live = (lag >= 0) & (np.arange(t)[None, :] >= 1)  # x_0 = 0: the first year's shock is unused
    corr = np.eye(len(paths)) if factor is None else factor
    a = np.zeros((len(paths), t, len(paths), t))
    c = np.zeros((len(paths), t))
    for k, p in enumerate(paths):
        if p.model == "gbm" or p.reversion == 0.0:
            lower = np.where(live, p.volatility, 0.0)
        else:
            keep = np.exp(-p.reversion)
            step = p.volatility * np.sqrt((1.0 - keep**2) / (2.0 * p.reversion))
            lower = np.where(live, step * keep ** np.maximum(lag, 0), 0.0)
        a[k] = lower[:, None, :] * corr[k][None, :, None]
        drift = p.drift * np.arange(t) if p.model == "gbm" else 0.0
        c[k] = drift - (lower**2).sum(axis=1) / 2.0
    return a.reshape(len(paths) * t, len(paths) * t), c


def _path_block(seed: int, block: int, path_map: tuple[FloatArray, FloatArray]) -> FloatArray:
    """Price multipliers (RNG_BLOCK, P, T) for one block of draws; mean 1 in every year."""
    a, c = path_map
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1, block]))
    shocks = rng.standard_normal((RNG_BLOCK, a.shape[1]))
    x = (shocks @ a.T).reshape((RNG_BLOCK, *c.shape))
    x += c
    return np.exp(x, out=x)


def _npv_of(irr_metric: str) -> str:
    """The NPV metric of the cash flows an IRR metric solves: ``irr`` -> ``npv_usd``,
    ``pre_tax_irr`` -> ``pre_tax_npv_usd``, ``ussm.irr`` -> ``ussm.npv_usd``."""
    return irr_metric.removesuffix("irr") + "npv_usd"


def default_metrics(deal: Deal) -> list[str]:
    """NPV and IRR of the project; each party's NPV; the owners' and lenders' IRR."""
    out = ["npv_usd", "irr"] + [f"{p}.npv_usd" for p in deal.party_names()]
    return out + [f"{p}.irr" for p in deal.party_names() if deal.party_role(p) in ("owner", "lenders")]


@dataclass(frozen=True)
class MonteCarlo:
    """The draws, their metrics, and what a reader looks at.

    ``losing`` holds, per IRR metric (a name ending in ``irr``), whether each draw's cash flows
    have a negative NPV (its ``*npv_usd`` twin). A series with no IRR has no rate at which it
    breaks even, so its NPV has one sign at every rate: where it is negative the draw is a loss
    at any hurdle, and :meth:`prob_below` counts it as below.
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
        money metrics (``*_usd``); NaN for rates such as an IRR, where it means nothing.
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
                "value_at_risk_95": -q[0] if name.endswith("_usd") else np.nan,
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

    def _tables(self) -> list[tuple[pd.DataFrame, str, str]]:
        cols = ["mean", "std_error", "p10", "p50", "p90", "prob_negative", "no_solution"]
        full = self.summary()
        summary = full[cols].astype({"no_solution": object})
        summary["no_solution"] = [  # the count and its share of the draws, e.g. "4,300 (43.0 %)"
            f"{count:,} ({100 * share:.1f} %)" if count else "0"
            for count, share in zip(full["no_solution"], full["no_solution_share"], strict=True)
        ]
        out = [
            (
                summary,
                f"{self.deal.name}: Monte Carlo, {self.n:,} draws ({self.method}, seed {self.seed})",
                "money in US$ million; each party's NPV at its own discount rate; mean and percentiles "
                "of the draws with a value; P(< 0) of all draws, a draw with no IRR counted as below 0 "
                "when it loses money at every rate",
            )
        ]
        if self.built:
            out.append((self.gate_summary(), "Phase gates", ""))
        return out

    def _repr_html_(self) -> str:
        tables = self._tables()
        return "".join(
            frame_html(
                df, title=title, note=note, by_row=True, run=self.run if i == len(tables) - 1 else None
            )
            for i, (df, title, note) in enumerate(tables)
        )

    def __rich__(self) -> Group:
        tables = self._tables()
        return Group(
            *(
                frame_rich(
                    df, title=title, note=note, by_row=True, run=self.run if i == len(tables) - 1 else None
                )
                for i, (df, title, note) in enumerate(tables)
            )
        )

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


def _check_price_paths(deal: Deal) -> None:
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


def _base(deal: Deal, path: str, leaves: Mapping[str, float]) -> float | FloatArray:
    """A parameter's value in the file: a number, or for a whole schedule its values by
    period (T,), which the draws multiply."""
    if path in schedule_paths(deal):
        return deal_series(deal, path)
    return leaves[path]


def monte_carlo(
    deal: Deal,
    n: int,
    *,
    seed: int | None = None,
    method: str | None = None,
    metrics: Sequence[str] | None = None,
    scenario: str | None = None,
    chunk_size: int = CHUNK_DRAWS,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> MonteCarlo:
    """Sample the deal's ``uncertainty`` block N times and value every draw.

    Parameters
    ----------
    deal : Deal
        A deal with an ``uncertainty`` block; ``scenario`` names an overlay to start from.
    n : int
        Number of draws.
    seed : int, optional
        Overrides ``uncertainty.seed`` (default 0 when neither is given). The same seed gives
        the same draws and results whatever ``chunk_size``.
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

    Returns
    -------
    MonteCarlo
        ``summary()`` per metric, ``prob_below(metric, x)`` (e.g. P(IRR < hurdle), the draws
        with no IRR counted as their cash flows' sign says) and ``convergence(metric)``.

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
    check_seed(seed)
    used_seed = seed if seed is not None else (start.uncertainty.seed or 0)
    used_method = method or start.uncertainty.method
    if used_method not in ("random", "lhs", "sobol"):
        raise InputError(f"unknown method {used_method!r}", field="method", expected="random, lhs or sobol")
    if not has_uncertainty(start):
        warnings.warn(NOTHING_UNCERTAIN, UserWarning, stacklevel=2)
    targets = input_targets(start)
    _check_price_paths(start)
    wanted = list(metrics) if metrics is not None else default_metrics(start)
    # each IRR's NPV twin is valued too: its sign says whether a draw with no IRR is a loss
    twins = {m: _npv_of(m) for m in wanted if m.endswith("irr")}
    valued = wanted + [p for p in dict.fromkeys(twins.values()) if p not in wanted]
    u = start.uncertainty
    stored = len(u.inputs) + 2 * len(wanted) + len(twins) / 8 + len(u.switches) + 4 * len(start.phases)
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
    leaves = numeric_leaves(start)
    columns = {p: draws[p].to_numpy() for p in draws.columns}
    check_draws(start, columns, targets)
    products = list(start.uncertainty.price_paths)
    path_factor = _copula_factor(
        products, start.uncertainty.price_correlations, "uncertainty.price_correlations"
    )
    gates = _gates(start)
    switches = start.uncertainty.switches
    switch_targets: dict[str, dict[str, list[str]]] = {}
    for name, switch in switches.items():
        for pattern in switch.scale:
            hits = match_paths(pattern, leaves)
            if not hits:
                raise InputError(
                    "no numeric parameter matches", field=f"uncertainty.switches.{name}.scale.{pattern}"
                )
            switch_targets.setdefault(name, {})[pattern] = hits
    plan = _Plan(
        deal=start,
        branches=_branches(start, gates),
        gates=gates,
        wanted=valued,
        seed=used_seed,
        path_map=_path_map(start, path_factor),
        leaves=leaves,
        switch_targets=switch_targets,
    )
    uniform_gates = np.random.default_rng(np.random.SeedSequence([used_seed, 4])).random((n, len(gates)))
    uniform_switches = np.random.default_rng(np.random.SeedSequence([used_seed, 3])).random(
        (n, len(switches))
    )
    spans = [(a, min(a + chunk_size, n)) for a in range(0, n, chunk_size)]
    # each chunk's override arrays are made from its slice of the draws when it runs
    tasks = (
        (
            input_overrides(start, {k: v[a:b] for k, v in columns.items()}, targets),
            uniform_gates[a:b],
            uniform_switches[a:b],
            a,
            b,
        )
        for a, b in spans
    )
    # every chunk's results go straight into arrays of N, so no second copy is ever made
    values = {m: np.empty(n) for m in wanted}
    losing = {m: np.empty(n, dtype=bool) for m in twins}
    committed = {m: np.empty(n) for m in wanted if gates and m.endswith("npv_usd")}
    built = {g: np.empty(n, dtype=bool) for g in gates}
    continued = {g: np.empty(n, dtype=bool) for g in gates}

    def store(part: _Part, a: int, b: int) -> None:
        for target, got in ((values, part.values), (committed, part.committed)):
            for m in target:  # not the NPV twins valued only for their sign
                target[m][a:b] = got[m]
        for m, twin in twins.items():
            losing[m][a:b] = part.values[twin] < 0.0
        for target_flags, got_flags in ((built, part.built), (continued, part.continued)):
            for g, f in got_flags.items():
                target_flags[g][a:b] = f

    if workers is not None or scheduler is not None:
        run_on_dask(
            _chunk,
            plan,
            tasks,
            lambda i, part: store(part, *spans[i]),
            total=len(spans),
            workers=workers,
            scheduler=scheduler,
            progress=progress,
        )
    else:
        with progress_bar(progress, len(spans), f"{n:,} draws") as advance:
            for task, (a, b) in zip(tasks, spans, strict=True):
                store(_chunk(plan, *task), a, b)
                advance()
    checkpoints = [2**k for k in range(4, int(np.log2(n)) + 1)] + ([n] if n & (n - 1) else [])
    return MonteCarlo(
        deal=start,
        n=n,
        seed=used_seed,
        method=used_method,
        inputs=draws,
        values=values,
        checkpoints=[c for c in checkpoints if c <= n],
        built=built,
        continued=continued,
        committed=committed,
        losing=losing,
    )


@dataclass(frozen=True)
class _Plan:
    """Everything a chunk needs besides its own draws (sent once to each dask worker)."""

    deal: Deal
    branches: list[Deal]
    gates: list[str]
    wanted: list[str]
    seed: int
    path_map: tuple[FloatArray, FloatArray]  # the price paths' linear map (_path_map)
    leaves: dict[str, float]
    switch_targets: dict[str, dict[str, list[str]]]  # per switch, the paths each pattern scales


@dataclass(frozen=True)
class _Part:
    values: dict[str, FloatArray]
    built: dict[str, np.ndarray]
    continued: dict[str, np.ndarray]
    committed: dict[str, FloatArray]


def _chunk(
    plan: _Plan,
    block: dict[str, FloatArray],
    uniform_gates: FloatArray,
    uniform_switches: FloatArray,
    a: int,
    b: int,
) -> _Part:
    """Value draws a..b-1: price paths, switches, events, then each gate branch; pick per draw."""
    start, leaves, size = plan.deal, plan.leaves, b - a
    block = dict(block)
    deck = start.valuation.price_deck
    products = list(start.uncertainty.price_paths)
    if products:
        multipliers = _path_slice(plan.seed, a, b, plan.path_map)
        for k, product in enumerate(products):
            path = f"price_decks.{deck}.{product}"
            value = _per_draw(block, path, _base(start, path, leaves), size)
            block[path] = (value[:, None] if value.ndim == 1 else value) * multipliers[:, k, :]
    for k, (name, switch) in enumerate(start.uncertainty.switches.items()):
        on = uniform_switches[:, k] < switch.probability
        for pattern, factor in switch.scale.items():
            scale = np.where(on, factor, 1.0)
            for path in plan.switch_targets[name][pattern]:
                value = _per_draw(block, path, _base(start, path, leaves), size)
                block[path] = value * (scale[:, None] if value.ndim == 2 else scale)
    if start.uncertainty.disruptions:
        # disruptions take their share of the planned availability (the file's, or drawn)
        planned = _per_draw(
            block, "operations.availability", _base(start, "operations.availability", leaves), size
        )
        kept = _availability_slice(start, plan.seed, a, b)
        block["operations.availability"] = (planned[:, None] if planned.ndim == 1 else planned) * kept
    expropriation = start.uncertainty.expropriation
    if expropriation is not None and expropriation.annual_probability > 0:
        block["operations.expropriated"] = _expropriated_slice(start, plan.seed, a, b)
        # the event's stated compensation, unless the compensation is itself drawn
        block.setdefault(
            "operations.expropriation_compensation_fraction",
            np.full(size, expropriation.compensation_fraction),
        )
    if not plan.gates:
        return _Part(values=_run(start, block, plan.wanted, size), built={}, continued={}, committed={})
    # a gate's probability and hurdles may themselves be uncertain inputs: taken per draw
    cont = uniform_gates < np.column_stack(
        [
            _per_draw(block, f"phases.{g}.gate.probability", start.phases[g].gate.probability, size)
            for g in plan.gates
        ]
    )
    hurdle = np.column_stack([_clears(start, g, block, leaves, size) for g in plan.gates])
    rule = cont & hurdle
    pick_rule, pick_commit = _branch_index(rule), _branch_index(cont)
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
    return _Part(
        values=values,
        built={g: rule[:, j] for j, g in enumerate(plan.gates)},
        continued={g: cont[:, j] for j, g in enumerate(plan.gates)},
        committed=committed,
    )


def _from_blocks(make: Any, a: int, b: int) -> FloatArray:
    """Rows a..b-1 cut from the fixed RNG blocks that ``make(k)`` builds (RNG_BLOCK rows each),
    so a draw's randomness does not depend on how the draws are chunked."""
    first, last = a // RNG_BLOCK, (b - 1) // RNG_BLOCK
    blocks = [make(k) for k in range(first, last + 1)]
    joined = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    offset = first * RNG_BLOCK
    out: FloatArray = joined[a - offset : b - offset]
    return out


def _path_slice(seed: int, a: int, b: int, path_map: tuple[FloatArray, FloatArray]) -> FloatArray:
    """Price multipliers for draws a..b-1, (b - a, P, T)."""
    return _from_blocks(lambda k: _path_block(seed, k, path_map), a, b)


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
    return bool(u.inputs or u.price_paths or u.disruptions or u.switches or u.expropriation or _gates(deal))


def _gates(deal: Deal) -> list[str]:
    """Phases built in the base case whose gate is uncertain: continuity below 1, price hurdles,
    or a gate probability that is itself an uncertain input."""
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


def _per_draw(block: Mapping[str, FloatArray], path: str, value: float | FloatArray, n: int) -> FloatArray:
    """A parameter for each of n draws: its values so far in the block ((n,) or (n, T)) if it is
    drawn or moved, else its own value n times. ``value`` (T,) is a whole schedule: then a
    drawn (n,) is a factor on it, and the result is (n, T)."""
    drawn = block.get(path)
    if np.ndim(value) == 1:
        schedule = np.asarray(value, dtype=np.float64)
        if drawn is None:
            return np.array(np.broadcast_to(schedule, (n, schedule.size)))
        got = np.asarray(drawn, dtype=np.float64)
        return got[:, None] * schedule if got.ndim == 1 else got
    return np.full(n, value) if drawn is None else np.asarray(drawn, dtype=np.float64)


def _branches(deal: Deal, gates: list[str]) -> list[Deal]:
    """One deal per combination of the gated phases built or not; index bit j = gate j built."""
    out = []
    for code in range(2 ** len(gates)):
        off = {f"phases.{g}.gate.go": False for j, g in enumerate(gates) if not code >> j & 1}
        out.append(with_changes(deal, off, origin="gate") if off else deal)
    return out


def _branch_index(build: np.ndarray) -> np.ndarray:
    weights = 1 << np.arange(build.shape[1])
    return np.asarray((build * weights).sum(axis=1), dtype=np.int64)


def _clears(
    deal: Deal, gate: str, block: dict[str, FloatArray], leaves: dict[str, float], n: int
) -> np.ndarray:
    """Whether each draw's prices in the gate's decision year clear its hurdles."""
    phase = deal.phases[gate]
    # the decision year, by default the year before construction starts (or the first year)
    if phase.gate.decision_year is not None:
        t = deal.periods.index(phase.gate.decision_year)
    else:
        t = deal.construction_start(gate) - 1
    t = int(np.clip(t, 0, deal.periods.size - 1))
    ok = np.ones(n, dtype=bool)
    deck = deal.valuation.price_deck
    for product, minimum in phase.gate.min_price_usd.items():
        path = f"price_decks.{deck}.{product}"
        if path not in leaves:
            raise InputError(
                "a price hurdle needs a flat deck price", field=f"phases.{gate}.gate.min_price_usd.{product}"
            )
        price = _per_draw(block, path, _base(deal, path, leaves), n)
        hurdle = _per_draw(block, f"phases.{gate}.gate.min_price_usd.{product}", minimum, n)
        ok &= (price[:, t] if price.ndim == 2 else price) >= hurdle
    return ok


def _availability_slice(deal: Deal, seed: int, a: int, b: int) -> FloatArray:
    """Availability (1 - output lost to disruptions) for draws a..b-1."""
    return _from_blocks(lambda k: _availability_block(deal, seed, k), a, b)


def _availability_block(deal: Deal, seed: int, block: int) -> FloatArray:
    """(RNG_BLOCK, T): each disruption starts in a year with its probability, at a uniform moment,
    and takes its share of output for its duration, spilling into later years."""
    t = deal.periods.size
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2, block]))
    lost = np.zeros((RNG_BLOCK, t))
    for event in deal.uncertainty.disruptions.values():
        # only the (rare) years in which a disruption starts are followed through
        draw, year = np.nonzero(rng.random((RNG_BLOCK, t)) < event.annual_probability)
        begin = year + rng.random(draw.size)  # a uniform moment, in years from the first year
        end = begin + event.duration_years
        for k in range(int(np.ceil(event.duration_years)) + 1):
            # the part of [begin, end) that falls in year `year + k`, booked there
            at = year + k
            overlap = np.clip(np.minimum(end, at + 1) - np.maximum(begin, at), 0.0, 1.0)
            inside = at < t
            np.add.at(lost, (draw[inside], at[inside]), overlap[inside] * event.output_loss)
    return np.asarray(1.0 - np.minimum(lost, 1.0), dtype=np.float64)


def _run(deal: Deal, block: dict[str, FloatArray], wanted: list[str], size: int) -> dict[str, FloatArray]:
    """The metrics of ``size`` draws (a block without overrides is one scenario, repeated)."""
    values = evaluate(deal, overrides=block, metrics=wanted, keep_ledger=False).values
    return {m: np.broadcast_to(values[m], (size,)) for m in wanted}


def _expropriated_slice(deal: Deal, seed: int, a: int, b: int) -> FloatArray:
    """1 from the year of expropriation on (0 before; 0 throughout if it never happens)."""
    expropriation = deal.uncertainty.expropriation
    assert expropriation is not None
    t = deal.periods.size

    def block(k: int) -> FloatArray:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 5, k]))
        happens = rng.random((RNG_BLOCK, t)) < expropriation.annual_probability
        return np.maximum.accumulate(happens, axis=1).astype(np.float64)

    return _from_blocks(block, a, b)
