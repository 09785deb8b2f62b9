"""Global sensitivity: Sobol and Morris indices through SALib, on the file's uncertain inputs.

SALib samples the unit hypercube; each coordinate is mapped through its input's inverse CDF,
so the indices are for the distributions declared in ``uncertainty.inputs``. Inputs linked by
a rank correlation are grouped (SALib's ``groups``), because Sobol indices assume independent
inputs and groups restore it between groups. Every sample is valued in one chunked engine pass.
Needs the ``gsa`` extra. Formulas: docs/methodology.md §21.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dealcalc.analyses.evaluate import evaluate
from dealcalc.analyses.gsa_sources import correlation_groups, not_modelled, source_model
from dealcalc.analyses.gsa_sources import sources as _sources
from dealcalc.analyses.provenance import run_info
from dealcalc.analyses.sampling import check_seed, marginal, root_seed
from dealcalc.analyses.uncertainty import check_draws, input_overrides, input_targets
from dealcalc.engine.memory import check_fits, valuation_bytes
from dealcalc.engine.run import CHUNK_SCENARIOS
from dealcalc.errors import InputError, MissingExtraError
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import apply_scenario

__all__ = ["SOURCES", "correlation_groups", "morris", "sobol", "sobol_indices"]

#: What a Sobol analysis may vary: every source of risk, or the uncertain inputs only.
SOURCES = ("all", "inputs")

Model = Callable[[FloatArray], FloatArray]

#: Bootstrap resamples SALib draws for the confidence intervals (its default, which we keep).
SOBOL_RESAMPLES = 100
MORRIS_RESAMPLES = 100
#: Arrays of (n, resamples) alive at once in SALib's Sobol analysis: the resampling index,
#: A, AB and B resampled, their stack for the variance, and the products and temporaries.
SOBOL_RESAMPLED_ARRAYS = 8
#: The ways out of a Sobol analysis or a Morris screening that would not fit in memory.
SOBOL_HINT = (
    "use a smaller n (each base sample is G + 2 runs for G inputs or groups), or screen with "
    "Morris first and keep the inputs that matter"
)
MORRIS_HINT = "use fewer trajectories: a screening ranks the inputs with tens of them, not millions"


def _check_samples(n: object, field: str, what: str) -> int:
    """``n`` as a whole number of at least 2, or an InputError naming ``field``."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        # errors.md: base samples; expected a whole number, at least 2
        raise InputError(f"{n!r} {what}", field=field, expected="a whole number, at least 2")
    return int(n)


def _model_row_bytes(d: int, targets: int) -> float:
    """Memory of one sample point while the deal is valued: the point clipped and mapped
    through each marginal (2 d), each parameter it overrides and the override's mask, the
    metric; the engine's chunk is counted apart (:func:`valuation_bytes`)."""
    return 8.0 * (2 * d + targets + 2) + targets


def _sobol_bytes(n: int, d: int, g: int, row_bytes: float, n_years: int) -> float:
    """Peak memory of a Sobol analysis: the sample of n (g + 2) points of d inputs and its
    outputs, held throughout, plus the larger of the valuation (``row_bytes`` a point and the
    engine's chunks; none for a plain model) and SALib's bootstrap (arrays of n x resamples)."""
    rows = n * (g + 2)
    held = 8.0 * rows * (d + 1) + 8.0 * n * 2 * d  # the sample, the outputs; the base sequence
    valuing = rows * row_bytes + (
        valuation_bytes(rows, n_years, n_metrics=2, chunk=CHUNK_SCENARIOS) if n_years else 0.0
    )
    analysing = 8.0 * n * SOBOL_RESAMPLES * SOBOL_RESAMPLED_ARRAYS
    return held + max(valuing, analysing)


def _morris_bytes(r: int, d: int, row_bytes: float, n_years: int) -> float:
    """Peak memory of a Morris screening of r trajectories of d + 1 points: the sample, held
    throughout, plus the largest of its making (a Python list of r small arrays, then one
    copy), the valuation and SALib's bootstrap (three arrays of resamples x r at once)."""
    rows = r * (d + 1)
    held = 8.0 * rows * (d + 1)  # the points and their outputs
    making = r * (112.0 + 8.0 * (d + 1) * d)  # ndarray header + data of each trajectory
    valuing = rows * (row_bytes + 16.0 * d) + valuation_bytes(
        rows, n_years, n_metrics=2, chunk=CHUNK_SCENARIOS
    )  # the map to stratum midpoints makes two (rows, d) temporaries
    analysing = 8.0 * r * (3 * MORRIS_RESAMPLES + 2 * d)
    return held + max(making, valuing, analysing)


def _salib() -> Any:
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise MissingExtraError("SALib", "gsa") from None
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    return sobol_sample, sobol_analyze, morris_sample, morris_analyze


def sobol_indices(
    model: Model,
    names: Sequence[str],
    n: int,
    *,
    groups: Sequence[str] | None = None,
    seed: int = 0,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """First-order and total Sobol indices of ``model`` on the unit hypercube (SALib).

    ``model`` maps an (N, D) array of points in [0, 1]^D to (N,) outputs, all at once. ``n`` is
    the base sample size (a power of 2); the model is evaluated n (D + 2) times (n (G + 2) with
    G groups). Returns one row per input (or group): ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.

    Examples
    --------
    >>> import numpy as np
    >>> t = sobol_indices(lambda u: u[:, 0] + 0.1 * u[:, 1], ["x", "y"], 1024)
    >>> bool(t.loc["x", "S1"] > 0.95)
    True
    """
    check_seed(seed)
    n = _check_samples(n, "n", "base samples")
    g = len(set(groups)) if groups is not None and len(set(groups)) < len(names) else len(names)
    check_fits(
        _sobol_bytes(n, len(names), g, 0.0, 0),
        f"a Sobol analysis of {n:,} base samples ({n * (g + 2):,} model runs)",
        SOBOL_HINT,
    )
    sobol_sample, sobol_analyze, _, _ = _salib()
    problem: dict[str, Any] = {
        "num_vars": len(names),
        "names": list(names),
        "bounds": [[0.0, 1.0]] * len(names),
    }
    if groups is not None and len(set(groups)) < len(names):
        problem["groups"] = list(groups)
    x = sobol_sample.sample(problem, n, calc_second_order=False, seed=seed)
    y = np.asarray(model(x), dtype=np.float64)
    if not np.isfinite(y).all():
        raise InputError(
            f"the metric has no value for {int((~np.isfinite(y)).sum())} of {y.size} samples",
            field="metric",
            hint="use an NPV metric; an IRR may not exist for every sample",
        )
    result = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=conf_level, seed=seed)
    labels = list(dict.fromkeys(problem["groups"])) if "groups" in problem else list(names)
    return pd.DataFrame(
        {k: np.asarray(result[k], dtype=np.float64) for k in ("S1", "S1_conf", "ST", "ST_conf")},
        index=pd.Index(labels, name="input"),
    ).sort_values("ST", ascending=False)


def _n_targets(deal: Deal) -> int:
    """The parameters the uncertain inputs set, each pattern's matches counted."""
    return sum(len(paths) for paths in input_targets(deal).values())


def _deal_model(deal: Deal, metric: str) -> tuple[list[str], Model]:
    u = deal.uncertainty
    names = list(u.inputs)
    if not names:
        raise InputError(
            "no uncertain inputs", field="uncertainty.inputs", hint="declare distributions by path"
        )
    targets = input_targets(deal)  # every pattern matches a parameter
    ppfs = [marginal(u.inputs[p]) for p in names]

    def model(points: FloatArray) -> FloatArray:
        clipped = np.clip(points, 1e-12, 1.0 - 1e-12)
        columns = {p: np.asarray(ppfs[k](clipped[:, k]), dtype=np.float64) for k, p in enumerate(names)}
        check_draws(deal, columns, targets)  # a distribution past a field's limit, named as such
        overrides = input_overrides(deal, columns, targets)
        return evaluate(deal, overrides=overrides, metrics=[metric], keep_ledger=False).values[metric]

    return names, model


def sobol(
    deal: Deal,
    n: int = 1024,
    *,
    metric: str = "npv_usd",
    seed: int = 0,
    scenario: str | None = None,
    group_correlated: bool = True,
    sources: str = "all",
) -> pd.DataFrame:
    """Sobol indices of ``metric`` for every source of risk of the deal (Saltelli sampling, SALib).

    With ``sources="all"`` (the default) each price path (all its shocks; paths joined by
    ``uncertainty.price_correlations`` form one group), each switch, the disruption events,
    expropriation and each gate's continuity enter as one named group each, next to the
    uncertain inputs, through the kernels the Monte Carlo uses
    (:func:`dealcalc.analyses.gsa_sources.source_model`). With ``sources="inputs"`` only the
    uncertain inputs vary; the rest is held at its base (the deck's prices, switches off, no
    events, the gates built), and ``attrs["held_fixed"]`` lists it.

    Inputs joined by ``uncertainty.correlations`` are grouped (``group_correlated``): SALib
    assumes independent inputs, and indices of groups stay valid when the correlation is inside
    a group.

    Returns one row per input or group (``S1``, ``S1_conf``, ``ST``, ``ST_conf``); ``attrs``:
    ``metric``, ``sources`` (``all`` or ``inputs``), ``groups`` (the groups included, in
    order), ``held_fixed`` (sources of the deal held at their base), ``not_modelled`` (kinds of
    risk the file does not declare) and ``run``.

    Examples
    --------
    >>> import dealcalc as dc
    >>> t = sobol(dc.load(dc.example_path("ussm-fwo")), 256, sources="inputs")
    >>> t.index[0]
    'phases.*.capex_usd+streams.*.opex_usd_per_t_ore'
    >>> "china_retightens switch: off" in t.attrs["held_fixed"]
    True
    """
    seed = seed if seed is None else root_seed(seed)  # checked; a Generator gives one root seed
    n = _check_samples(n, "n", "base samples")
    if sources not in SOURCES:
        raise InputError(f"sources {sources!r}", field="sources", expected="all or inputs")
    start = apply_scenario(deal, scenario)
    names = list(start.uncertainty.inputs)
    groups = correlation_groups(names, start.uncertainty.correlations) if group_correlated else None
    others = _sources(start)
    everything = sources == "all" and bool(others)
    if everything:
        built = source_model(start, metric, groups)
        names, groups, model = built.names, built.groups, built.model
    else:
        names, model = _deal_model(start, metric)
    held = [] if everything else [f"{label}: {_AT_BASE[kind]}" for label, kind in others.items()]
    g = len(set(groups)) if groups is not None else len(names)
    check_fits(
        _sobol_bytes(n, len(names), g, _model_row_bytes(len(names), _n_targets(start)), start.periods.size),
        f"a Sobol analysis of {n:,} base samples ({n * (g + 2):,} valuations)",
        SOBOL_HINT,
    )
    out = sobol_indices(model, names, n, groups=groups, seed=seed)
    out.attrs.update(
        {
            "metric": metric,
            "sources": "all" if everything else "inputs",
            "groups": list(dict.fromkeys(groups if groups is not None else names)),
            "held_fixed": held,
            "not_modelled": not_modelled(start),
            "run": run_info(start, analysis="sobol", seed=seed, draws=n * (g + 2), method="saltelli"),
        }
    )
    return out


#: How each kind of source is held when it is not varied.
_AT_BASE = {
    "price path": "at the deck's price",
    "switch": "off",
    "events": "none",
    "gate": "built as in the base case",
}


def morris(
    deal: Deal,
    trajectories: int = 50,
    *,
    levels: int = 4,
    metric: str = "npv_usd",
    seed: int = 0,
    scenario: str | None = None,
) -> pd.DataFrame:
    """Morris elementary effects (mu*, sigma) of ``metric`` on the CDF scale of each input.

    A cheap screening, ``trajectories * (D + 1)`` evaluations in one pass: ``mu_star`` ranks
    influence, ``sigma`` flags non-linearity or interactions.

    Examples
    --------
    >>> import dealcalc as dc
    >>> t = morris(dc.load(dc.example_path("ussm-fwo")), 20)
    >>> list(t.columns)
    ['mu', 'mu_star', 'sigma', 'mu_star_conf']
    """
    seed = seed if seed is None else root_seed(seed)  # checked; a Generator gives one root seed
    trajectories = _check_samples(trajectories, "trajectories", "trajectories")
    start = apply_scenario(deal, scenario)
    d = len(start.uncertainty.inputs)
    check_fits(
        _morris_bytes(trajectories, d, _model_row_bytes(d, _n_targets(start)), start.periods.size),
        f"a Morris screening of {trajectories:,} trajectories ({trajectories * (d + 1):,} valuations)",
        MORRIS_HINT,
    )
    _, _, morris_sample, morris_analyze = _salib()
    names, model = _deal_model(start, metric)
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    x = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    # SALib's grid {0, 1/(p-1), ..., 1} would hit the infinite tails of unbounded marginals:
    # use the midpoints of p equal-probability strata instead, (i + 1/2) / p (a linear map,
    # so the ranking by mu* is unchanged)
    y = model((x * (levels - 1) + 0.5) / levels)
    result = morris_analyze.analyze(problem, x, y, num_levels=levels, seed=seed)
    out = pd.DataFrame(
        {k: np.asarray(result[k], dtype=np.float64) for k in ("mu", "mu_star", "sigma", "mu_star_conf")},
        index=pd.Index(names, name="input"),
    ).sort_values("mu_star", ascending=False)
    out.attrs.update(
        {
            "metric": metric,
            "run": run_info(start, analysis="morris", seed=seed, draws=len(y), method="morris"),
        }
    )
    return out
