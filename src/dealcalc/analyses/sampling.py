"""Where every random number of a Monte Carlo comes from: seeds, named streams, marginals,
the copula, sampling designs, and the random inputs of price paths and events, block by block.

**Seeds.** A seed is ``int | numpy.random.Generator | None`` (:func:`root_seed`): an int is used
as it is; a Generator gives one root seed, drawn from it once (``integers(2**63)``, so the
Generator advances by one draw), which the result records so the run can be repeated with that
int; None takes the file's ``uncertainty.seed``, else 0. The global numpy RNG is never used.

**Named streams.** Every kind of randomness has its own stream, keyed by the root seed and the
stream's id in :data:`STREAMS` (and, for the per-draw blocks, the block's number): a stream's
generator is ``numpy.random.default_rng(numpy.random.SeedSequence([seed, id, *block]))``. So
adding a kind of randomness (a new stream, a new id) never changes the numbers of the others,
and every id is written down once, here.

**Blocks.** Price paths and events are drawn per fixed block of :data:`RNG_BLOCK` draws, each
block from its own generator, and cut to the rows a chunk needs (:func:`from_blocks`): a draw's
numbers never depend on the chunk size or on the dask worker that values it.

The maths of what the events do with these uniforms is in :mod:`dealcalc.engine.risk`.
Formulas: docs/methodology.md §19.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from dealcalc.engine import risk as events
from dealcalc.errors import InputError
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal, Distribution
from dealcalc.models.risk import normal_score_correlation

__all__ = [
    "METHODS",
    "RNG_BLOCK",
    "STREAMS",
    "Seed",
    "availability_slice",
    "check_seed",
    "copula_factor",
    "design",
    "disruption_uniforms",
    "expropriated_slice",
    "expropriation_uniforms",
    "from_blocks",
    "inputs_from_uniforms",
    "kept_output",
    "marginal",
    "price_path_map",
    "price_path_slice",
    "price_shocks",
    "root_seed",
    "sample_inputs",
    "stream",
    "uniforms",
]

#: What a seed may be: a whole number >= 0, a numpy Generator (one root seed is drawn from it),
#: or None (the file's ``uncertainty.seed``, else 0).
Seed = int | np.integer[Any] | np.random.Generator | None

#: The named random streams of a Monte Carlo and their ids: stream ``name`` of root seed ``s``
#: (block ``k``) is ``SeedSequence([s, STREAMS[name]])`` (``[s, id, k]``). Fixed for good: a
#: changed id changes every result drawn from it. A new kind of randomness takes the next id.
STREAMS: MappingProxyType[str, int] = MappingProxyType(
    {
        "inputs": 0,  # the uncertain inputs' uniforms (the sampling design), all N at once
        "price_paths": 1,  # the price paths' normal shocks, per block of draws
        "disruptions": 2,  # when each disruption starts and at what moment, per block
        "switches": 3,  # one uniform per switch and draw, all N at once
        "gates": 4,  # one uniform per gated phase and draw (continuity), all N at once
        "expropriation": 5,  # one uniform per year and draw, per block
    }
)

#: Draws per block of per-draw randomness (each block has its own generator).
RNG_BLOCK = 4096

#: The sampling designs of the uncertain inputs.
METHODS = ("random", "lhs", "sobol")


def check_seed(seed: object, field: str = "seed") -> None:
    """Refuse a seed numpy cannot use (a negative or non-integer one) with a clear message;
    a numpy Generator and None are seeds too (see :func:`root_seed`).

    Examples
    --------
    >>> import numpy as np
    >>> check_seed(2025)
    >>> check_seed(np.random.default_rng(1))
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: seed: -1 is not a seed; expected a whole number >= 0
    """
    if seed is None or isinstance(seed, np.random.Generator):
        return
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"{seed!r} is not a seed", field=field, expected="a whole number >= 0")


def root_seed(seed: Seed, default: int | None = None) -> int:
    """The root seed of a run as a whole number: ``seed`` itself if it is one, one number drawn
    from it if it is a numpy Generator (drawn once: the Generator advances), else ``default``
    (the file's ``uncertainty.seed``), else 0.

    Examples
    --------
    >>> import numpy as np
    >>> root_seed(7), root_seed(None, 3), root_seed(None)
    (7, 3, 0)
    >>> root_seed(np.random.default_rng(1)) == root_seed(np.random.default_rng(1))
    True
    """
    check_seed(seed)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if seed is None:
        return int(default or 0)
    return int(seed)


def stream(seed: int, name: str, *block: int) -> np.random.Generator:
    """The generator of the named stream ``name`` (a key of :data:`STREAMS`) for root seed
    ``seed``, and for one block of draws when ``block`` is given.

    Examples
    --------
    >>> a = stream(1, "price_paths", 0).random()
    >>> a == stream(1, "price_paths", 0).random(), a == stream(1, "price_paths", 1).random()
    (True, False)
    """
    return np.random.default_rng(np.random.SeedSequence([seed, STREAMS[name], *block]))


def from_blocks(make: Callable[[int], FloatArray], a: int, b: int) -> FloatArray:
    """Rows a..b-1 cut from the fixed blocks that ``make(k)`` builds (:data:`RNG_BLOCK` rows
    each), so a draw's randomness does not depend on how the draws are chunked.

    Examples
    --------
    >>> import numpy as np
    >>> rows = from_blocks(lambda k: np.full((RNG_BLOCK, 1), float(k)), RNG_BLOCK - 1, RNG_BLOCK + 1)
    >>> rows.ravel().tolist()
    [0.0, 1.0]
    """
    first, last = a // RNG_BLOCK, (b - 1) // RNG_BLOCK
    blocks = [make(k) for k in range(first, last + 1)]
    joined = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    offset = first * RNG_BLOCK
    out: FloatArray = joined[a - offset : b - offset]
    return out


# --- the uncertain inputs: marginals, copula, designs ----------------------------------------


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


def copula_factor(names: list[str], pairs: Sequence[tuple[str, str, float]], where: str) -> FloatArray | None:
    """The Cholesky factor of the normal-score correlation matching Spearman targets (a
    Gaussian copula), or None without correlations; an InputError naming ``where`` if the
    targets contradict each other.

    Examples
    --------
    >>> copula_factor(["a", "b"], [("a", "b", 0.5)], "x").shape
    (2, 2)
    """
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


def design(method: str, n: int, d: int, rng: np.random.Generator) -> FloatArray:
    """N points of a sampling design in the unit cube [0, 1)^d: plain ``random``, Latin
    hypercube (``lhs``) or scrambled ``sobol`` (a prefix of 2**m points; scipy.stats.qmc).

    Examples
    --------
    >>> import numpy as np
    >>> points = design("lhs", 4, 1, np.random.default_rng(0))
    >>> sorted((4 * points).astype(int).ravel().tolist())  # one point in each quarter
    [0, 1, 2, 3]
    """
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


def sample_inputs(deal: Deal, n: int, *, seed: Seed = None, method: str | None = None) -> pd.DataFrame:
    """The N draws of the uncertain inputs (columns in file order), correlated as declared.

    Parameters
    ----------
    deal : Deal
        Its ``uncertainty.inputs`` and ``uncertainty.correlations``.
    n : int
        Number of draws.
    seed : int, numpy.random.Generator or None
        The root seed (:func:`root_seed`; default the file's ``uncertainty.seed``, else 0). The
        draws come from the stream ``inputs`` of :data:`STREAMS`.
    method : {"random", "lhs", "sobol"}, optional
        Default: the file's ``uncertainty.method``.

    Examples
    --------
    >>> import dealcalc as dc
    >>> draws = sample_inputs(dc.load(dc.example_path("ussm-fwo")), 1000, seed=1)
    >>> draws.shape[0]
    1000
    """
    u = deal.uncertainty
    root = root_seed(seed, u.seed)
    return inputs_from_uniforms(deal, design(method or u.method, n, len(u.inputs), stream(root, "inputs")))


def inputs_from_uniforms(deal: Deal, points: FloatArray) -> pd.DataFrame:
    """The uncertain inputs (columns in file order) from independent uniforms ``points`` (N,
    D), one column per input: correlated through the Gaussian copula of
    ``uncertainty.correlations``, then through each input's inverse CDF. What
    :func:`sample_inputs` does with its design, and what a Sobol analysis does with its points.
    ``points`` is changed in place when there are correlations.

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> one = inputs_from_uniforms(deal, np.full((1, len(deal.uncertainty.inputs)), 0.5))
    >>> round(float(one["streams.copper.recovery"].iloc[0]), 3)
    0.865
    """
    from scipy import special  # see marginal

    u = deal.uncertainty
    names = list(u.inputs)
    uniforms = points
    n = uniforms.shape[0]
    factor = copula_factor(names, u.correlations, "uncertainty.correlations")
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


# --- price paths and events, per block of draws ------------------------------------------------


def price_path_map(deal: Deal) -> tuple[FloatArray, FloatArray]:
    """The deal's price paths as one linear map of normal shocks
    (:func:`dealcalc.engine.risk.price_path_map`), correlated by ``uncertainty.price_correlations``."""
    paths = list(deal.uncertainty.price_paths.values())
    factor = copula_factor(
        list(deal.uncertainty.price_paths),
        deal.uncertainty.price_correlations,
        "uncertainty.price_correlations",
    )
    return events.price_path_map(
        [p.model == "gbm" for p in paths],
        [p.volatility for p in paths],
        [p.drift for p in paths],
        [p.reversion for p in paths],
        deal.periods.size,
        factor,
    )


def price_path_slice(seed: int, a: int, b: int, path_map: tuple[FloatArray, FloatArray]) -> FloatArray:
    """Price multipliers (b - a, P, T) for draws a..b-1 (stream ``price_paths``)."""

    def block(k: int) -> FloatArray:
        return events.price_multipliers(_price_shock_block(seed, k, path_map[0].shape[1]), path_map)

    return from_blocks(block, a, b)


def price_shocks(seed: int, a: int, b: int, width: int) -> FloatArray:
    """The standard normal shocks (b - a, P*T) the price paths of draws a..b-1 are made of
    (:func:`price_path_slice` maps them through :func:`dealcalc.engine.risk.price_multipliers`).

    Examples
    --------
    >>> price_shocks(1, 0, 3, 4).shape
    (3, 4)
    """
    return from_blocks(lambda k: _price_shock_block(seed, k, width), a, b)


def _price_shock_block(seed: int, k: int, width: int) -> FloatArray:
    return stream(seed, "price_paths", k).standard_normal((RNG_BLOCK, width))


def availability_slice(deal: Deal, seed: int, a: int, b: int) -> FloatArray:
    """Availability (1 - output lost to disruptions), (b - a, T), for draws a..b-1 (stream
    ``disruptions``): per disruption in file order, a uniform per draw and year says whether
    one starts, then a uniform per start its moment in the year."""

    def block(k: int) -> FloatArray:
        return kept_output(deal, *_disruption_block(deal, seed, k))

    return from_blocks(block, a, b)


def disruption_uniforms(deal: Deal, seed: int, a: int, b: int) -> tuple[list[FloatArray], list[FloatArray]]:
    """The uniforms the disruptions of draws a..b-1 are made of (stream ``disruptions``): per
    disruption in file order, one per draw and year saying whether one starts (b - a, T), and
    one per draw and year giving the moment of a start (NaN where none starts); the input of
    :func:`kept_output`.

    Examples
    --------
    >>> import dealcalc as dc
    >>> starts, moments = disruption_uniforms(dc.load(dc.example_path("ussm-fwo")), 1, 0, 5)
    >>> len(starts), starts[0].shape
    (3, (5, 17))
    """
    made: dict[int, tuple[list[FloatArray], list[FloatArray]]] = {}

    def block(k: int) -> tuple[list[FloatArray], list[FloatArray]]:
        if k not in made:
            made[k] = _disruption_block(deal, seed, k)
        return made[k]

    kinds = range(len(deal.uncertainty.disruptions))
    starts = [from_blocks(lambda k, j=j: block(k)[0][j], a, b) for j in kinds]  # type: ignore[misc]
    moments = [from_blocks(lambda k, j=j: block(k)[1][j], a, b) for j in kinds]  # type: ignore[misc]
    return starts, moments


def _disruption_block(deal: Deal, seed: int, k: int) -> tuple[list[FloatArray], list[FloatArray]]:
    """Block k's uniforms, drawn in this order: per disruption, its starts' uniforms (B, T),
    then one uniform per start (row-major order of the starts) for its moment."""
    rng = stream(seed, "disruptions", k)
    t = deal.periods.size
    starts, moments = [], []
    for event in deal.uncertainty.disruptions.values():
        u = rng.random((RNG_BLOCK, t))
        draw, year = events.disruption_starts(u, event.annual_probability)
        moment = np.full((RNG_BLOCK, t), np.nan)
        moment[draw, year] = rng.random(draw.size)
        starts.append(u)
        moments.append(moment)
    return starts, moments


def kept_output(deal: Deal, starts: Sequence[FloatArray], moments: Sequence[FloatArray]) -> FloatArray:
    """Availability (1 - output lost to disruptions), (S, T), from each disruption's uniforms
    (:func:`disruption_uniforms`; ``moments`` is read only where a disruption starts), through
    the kernels of :mod:`dealcalc.engine.risk`.

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> calm = [np.ones((1, deal.periods.size))] * 3
    >>> float(kept_output(deal, calm, calm).min())
    1.0
    """
    lost = np.zeros(starts[0].shape if starts else (0, deal.periods.size))
    for event, u, moment in zip(deal.uncertainty.disruptions.values(), starts, moments, strict=True):
        draw, year = events.disruption_starts(u, event.annual_probability)
        events.add_disruption(lost, draw, year, moment[draw, year], event.duration_years, event.output_loss)
    return events.availability(lost)


def expropriated_slice(deal: Deal, seed: int, a: int, b: int) -> FloatArray:
    """1 from the year of expropriation on (0 before; 0 throughout if it never happens), (b - a,
    T), for draws a..b-1 (stream ``expropriation``)."""
    expropriation = deal.uncertainty.expropriation
    assert expropriation is not None
    return events.expropriated(expropriation_uniforms(deal, seed, a, b), expropriation.annual_probability)


def expropriation_uniforms(deal: Deal, seed: int, a: int, b: int) -> FloatArray:
    """The uniforms (b - a, T), one per draw and year, expropriation is decided by (stream
    ``expropriation``; :func:`dealcalc.engine.risk.expropriated`).

    Examples
    --------
    >>> import dealcalc as dc
    >>> expropriation_uniforms(dc.load(dc.example_path("ussm-fwo")), 1, 0, 2).shape
    (2, 17)
    """
    t = deal.periods.size
    return from_blocks(lambda k: stream(seed, "expropriation", k).random((RNG_BLOCK, t)), a, b)


def uniforms(seed: int, name: str, n: int, d: int) -> FloatArray:
    """N x d uniforms from the named stream, drawn at once (``switches``, ``gates``)."""
    return stream(seed, name).random((n, d))
