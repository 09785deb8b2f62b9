"""The risk events of one block of Monte Carlo draws: the engine twin of :mod:`dealcalc.models.risk`.

``models/risk.py`` says what a price path, a disruption, an expropriation, a switch and a phase
gate are; this module says what they do to each draw, as pure functions of arrays and of the
uniforms (or normal shocks) that :mod:`dealcalc.analyses.sampling` draws from its named random
streams. Nothing here draws a random number, reads a parameter path or knows a Deal, so each
kernel can be tested alone with arrays. Shapes: ``S`` draws, ``T`` periods, ``P`` products with
a price path, ``K`` switches, ``G`` gates. Formulas: docs/methodology.md §19 and §20.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dealcalc.metrics._common import FloatArray

__all__ = [
    "add_disruption",
    "availability",
    "branch_index",
    "disruption_starts",
    "expropriated",
    "price_multipliers",
    "price_path_map",
    "switch_scale",
    "switches_on",
]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def price_path_map(
    gbm: npt.ArrayLike,
    volatility: npt.ArrayLike,
    drift: npt.ArrayLike,
    reversion: npt.ArrayLike,
    t: int,
    factor: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The price paths as one linear map of normal shocks: log multipliers ``x = z @ A.T + c``.

    For product p, ``x_p = L_p (F z)_p`` where F is the shocks' correlation factor (``factor``,
    lower triangular, (P, P); the identity when None) and L_p is lower triangular: ``sigma`` on
    and below the diagonal for a random walk (``gbm``, or no reversion), ``step * keep**(t-s)``
    with ``keep = exp(-reversion)`` and ``step = sigma sqrt((1 - keep**2) / (2 reversion))`` for
    the discrete Ornstein-Uhlenbeck process (its recursion unrolled). ``c = drift * t - var(x_t)
    / 2`` with ``var(x_t) = sum_s L_p[t, s]**2`` (the rows of F have unit length), so every
    multiplier has mean 1 (or ``exp(drift * t)`` for a drifting random walk). The first year's
    shock is unused: ``x_0 = 0``, the deck itself.

    Parameters
    ----------
    gbm, volatility, drift, reversion : array_like, shape (P,)
        Per product: a random walk (True) or mean reverting (False); sigma, drift and reversion
        per year (fractions).
    t : int
        Number of periods T.
    factor : ndarray, shape (P, P), optional
        Cholesky factor of the shocks' normal-score correlation.

    Returns
    -------
    A : ndarray, shape (P*T, P*T)
    c : ndarray, shape (P, T)

    Examples
    --------
    >>> a, c = price_path_map([True], [0.2], [0.0], [0.0], 3)
    >>> a.round(2).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.2, 0.0], [0.0, 0.2, 0.2]]
    >>> c.round(2).tolist()
    [[0.0, -0.02, -0.04]]
    """
    kind = np.asarray(gbm, dtype=bool)
    sigma = np.asarray(volatility, dtype=np.float64)
    mu = np.asarray(drift, dtype=np.float64)
    speed = np.asarray(reversion, dtype=np.float64)
    p = kind.size
    lag = np.arange(t)[:, None] - np.arange(t)[None, :]
    live = (lag >= 0) & (np.arange(t)[None, :] >= 1)  # x_0 = 0: the first year's shock is unused
    corr = np.eye(p) if factor is None else factor
    a = np.zeros((p, t, p, t))
    c = np.zeros((p, t))
    for k in range(p):
        vol, rev = float(sigma[k]), float(speed[k])
        if kind[k] or rev == 0.0:
            lower = np.where(live, vol, 0.0)
        else:
            keep = np.exp(-rev)
            step = vol * np.sqrt((1.0 - keep**2) / (2.0 * rev))
            lower = np.where(live, step * keep ** np.maximum(lag, 0), 0.0)
        a[k] = lower[:, None, :] * corr[k][None, :, None]
        trend = float(mu[k]) * np.arange(t) if kind[k] else 0.0
        c[k] = trend - (lower**2).sum(axis=1) / 2.0
    return a.reshape(p * t, p * t), c


def price_multipliers(shocks: FloatArray, path_map: tuple[FloatArray, FloatArray]) -> FloatArray:
    """Price multipliers (S, P, T) from standard normal shocks (S, P*T) and
    :func:`price_path_map`'s ``(A, c)``: ``exp(z @ A.T + c)``, mean 1 in every year.

    Examples
    --------
    >>> import numpy as np
    >>> m = price_multipliers(np.zeros((1, 2)), price_path_map([True], [0.1], [0.0], [0.0], 2))
    >>> m.shape, m.round(4).tolist()
    ((1, 1, 2), [[[1.0, 0.995]]])
    """
    a, c = path_map
    x = (shocks @ a.T).reshape((shocks.shape[0], *c.shape))
    x += c
    out: FloatArray = np.exp(x, out=x)
    return out


def disruption_starts(u: FloatArray, annual_probability: float) -> tuple[IntArray, IntArray]:
    """The (draw, year) in which a disruption starts: where the uniform ``u`` (S, T) is below
    its annual probability. Only these (rare) starts are followed through.

    Examples
    --------
    >>> import numpy as np
    >>> [x.tolist() for x in disruption_starts(np.array([[0.5, 0.01], [0.02, 0.9]]), 0.05)]
    [[0, 1], [1, 0]]
    """
    draw, year = np.nonzero(u < annual_probability)
    return draw.astype(np.int64), year.astype(np.int64)


def add_disruption(
    lost: FloatArray,
    draw: IntArray,
    year: IntArray,
    moment: FloatArray,
    duration_years: float,
    output_loss: float,
) -> FloatArray:
    """Add one kind of disruption's lost share of output to ``lost`` (S, T), in place, and
    return it: each start (``draw``, ``year``) begins at ``year + moment`` (``moment`` uniform
    in [0, 1)), lasts ``duration_years`` and takes ``output_loss`` of output while it lasts,
    booked in each year by the part of the year it covers (spilling into later years; what
    falls past the last period is dropped). Accumulated in place, start by start, so that
    several kinds of disruption add up in the order they are listed.

    Examples
    --------
    >>> import numpy as np
    >>> lost = np.zeros((1, 3))
    >>> add_disruption(lost, np.array([0]), np.array([0]), np.array([0.5]), 1.0, 0.8).tolist()
    [[0.4, 0.4, 0.0]]
    """
    t = lost.shape[1]
    begin = year + moment  # in years from the first year
    end = begin + duration_years
    for k in range(int(np.ceil(duration_years)) + 1):
        at = year + k  # the part of [begin, end) that falls in year `year + k`, booked there
        overlap = np.clip(np.minimum(end, at + 1) - np.maximum(begin, at), 0.0, 1.0)
        inside = at < t
        np.add.at(lost, (draw[inside], at[inside]), overlap[inside] * output_loss)
    return lost


def availability(lost: FloatArray) -> FloatArray:
    """The share of output kept (S, T): ``1 - lost``, all of it lost at most.

    Examples
    --------
    >>> import numpy as np
    >>> availability(np.array([[0.25, 1.5]])).tolist()
    [[0.75, 0.0]]
    """
    return np.asarray(1.0 - np.minimum(lost, 1.0), dtype=np.float64)


def expropriated(u: FloatArray, annual_probability: float) -> FloatArray:
    """1.0 from the year of expropriation on, 0.0 before (and throughout if it never happens):
    it happens in the first year whose uniform ``u`` (S, T) is below the annual probability.

    Examples
    --------
    >>> import numpy as np
    >>> expropriated(np.array([[0.5, 0.001, 0.9]]), 0.01).tolist()
    [[0.0, 1.0, 1.0]]
    """
    happens = u < annual_probability
    return np.maximum.accumulate(happens, axis=1).astype(np.float64)


def switches_on(u: FloatArray, probability: npt.ArrayLike) -> BoolArray:
    """Whether each switch (K) holds in each draw: its uniform (S, K) below its probability.

    Examples
    --------
    >>> import numpy as np
    >>> switches_on(np.array([[0.1, 0.9]]), [0.25, 0.25]).tolist()
    [[True, False]]
    """
    return np.asarray(u < np.asarray(probability, dtype=np.float64), dtype=bool)


def switch_scale(on: BoolArray, factor: float) -> FloatArray:
    """The factor a switch applies in each draw (S,): ``factor`` where it holds, else 1.

    Examples
    --------
    >>> import numpy as np
    >>> switch_scale(np.array([True, False]), 1.5).tolist()
    [1.5, 1.0]
    """
    return np.where(on, factor, 1.0)


def branch_index(build: BoolArray) -> IntArray:
    """Per draw, the branch of the gated phases built (S, G) -> (S,): bit j set when gate j is
    built (the order of the branches the Monte Carlo values).

    Examples
    --------
    >>> import numpy as np
    >>> branch_index(np.array([[True, False], [True, True], [False, False]])).tolist()
    [1, 3, 0]
    """
    weights = 1 << np.arange(build.shape[1])
    return np.asarray((build * weights).sum(axis=1), dtype=np.int64)
