"""What the uncertainty is: distributions on parameter paths, rank correlations, price paths.

The ``uncertainty`` block of a scenario file; dealcalc's Monte Carlo reads it
(docs/methodology.md §19).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from dealcalc.models.base import Fraction, Model, Number, Positive, Share, Whole

__all__ = [
    "Disruption",
    "Distribution",
    "Expropriation",
    "PricePath",
    "Switch",
    "Uncertainty",
    "normal_score_correlation",
]

Finite = Number
Correlation = Annotated[Number, Field(ge=-1.0, le=1.0)]


class Distribution(Model):
    """A distribution from scipy.stats, by name and its parameters.

    ``normal(mean, sd)``, ``lognormal(median, sigma)`` (sigma of the log), either one
    optionally truncated to ``[low, high]`` (give one bound or both),
    ``triangular(low, mode, high)``, ``pert(low, mode, high)`` (a beta on [low, high] with
    shape 4), ``uniform(low, high)``, ``discrete(values, probabilities)`` and
    ``empirical(values)`` (each value equally likely). With ``factor: true`` a draw multiplies
    the base value at each path (``phases.*.capex_usd`` with a PERT around 1.1); otherwise it
    replaces it.
    """

    dist: Literal["normal", "lognormal", "triangular", "pert", "uniform", "discrete", "empirical"]
    mean: Finite | None = None
    sd: Positive | None = None
    median: Positive | None = None
    sigma: Positive | None = None
    low: Finite | None = None
    mode: Finite | None = None
    high: Finite | None = None
    values: list[Finite] | None = None
    probabilities: list[Fraction] | None = None
    factor: bool = False
    description: str | None = None

    @model_validator(mode="after")
    def _parameters(self) -> Distribution:
        need = {
            "normal": ("mean", "sd"),
            "lognormal": ("median", "sigma"),
            "triangular": ("low", "mode", "high"),
            "pert": ("low", "mode", "high"),
            "uniform": ("low", "high"),
            "discrete": ("values", "probabilities"),
            "empirical": ("values",),
        }[self.dist]
        given = {
            k
            for k in ("mean", "sd", "median", "sigma", "low", "mode", "high", "values", "probabilities")
            if getattr(self, k) is not None
        }
        may = {"normal": ("low", "high"), "lognormal": ("low", "high")}.get(self.dist, ())
        missing = [k for k in need if k not in given]
        extra = sorted(given - set(need) - set(may))
        if missing or extra:
            raise ValueError(
                f"{self.dist} takes {', '.join(need)}"
                + (f" (and optionally {', '.join(may)})" if may else "")
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unexpected {', '.join(extra)}" if extra else "")
            )
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        bounded = self.mode is not None and self.low is not None and self.high is not None
        if bounded and not self.low <= self.mode <= self.high:  # type: ignore[operator]
            raise ValueError(f"mode {self.mode:g} must lie in [low, high]")
        if self.values is not None and not self.values:
            raise ValueError("values must not be empty")
        if self.probabilities is not None and self.values is not None:
            if len(self.probabilities) != len(self.values):
                raise ValueError("values and probabilities must have the same length")
            if abs(sum(self.probabilities) - 1.0) > 1e-9:
                raise ValueError(f"probabilities must sum to 1, they sum to {sum(self.probabilities):g}")
        return self


class PricePath(Model):
    """A stochastic yearly path for a product's price, multiplying the deck price.

    ``gbm``: log price a random walk with ``drift`` and ``volatility`` per year.
    ``mean_reverting``: the log of the multiplier reverts to 0 (the deck) at ``reversion``
    per year (an Ornstein-Uhlenbeck process in discrete time), with ``volatility``.
    Shocks are correlated across products by ``uncertainty.price_correlations``.
    """

    model: Literal["gbm", "mean_reverting"]
    volatility: Annotated[Number, Field(ge=0.0, le=5.0)]
    drift: Annotated[Number, Share(ge=-1.0, le=1.0)] = 0.0
    reversion: Annotated[Number, Field(ge=0.0, le=10.0)] = 0.0
    description: str | None = None


class Disruption(Model):
    """A disruption that may start in any year (security incident, export ban, port closure).

    Each year it starts with ``annual_probability`` at a uniformly random moment, lasts
    ``duration_years`` and takes ``output_loss`` of the site's output while it lasts (fixed
    costs go on). Several disruptions add up, capped at all of the output.
    """

    annual_probability: Fraction
    duration_years: Annotated[Number, Field(gt=0.0, le=20.0)]
    output_loss: Fraction = 1.0
    description: str | None = None


class Expropriation(Model):
    """Expropriation or contract repudiation: it happens in any year with
    ``annual_probability`` (once); from then on the host state takes the owners' cash and pays
    ``compensation_fraction`` of the net book value (the Reko Diq 2011-2022 dispute ended in a
    settlement)."""

    annual_probability: Fraction
    compensation_fraction: Fraction = 0.0
    description: str | None = None


class Switch(Model):
    """A discrete policy state drawn once per draw: with ``probability`` it holds, and every
    parameter path in ``scale`` (a ``*`` matches a level) is multiplied by its factor. China
    re-tightening its antimony and rare-earth export controls is one."""

    probability: Fraction
    scale: dict[str, Annotated[Number, Field(gt=0.0)]]
    description: str | None = None


class Uncertainty(Model):
    """Distributions by parameter path, their rank correlations, and price paths.

    ``correlations`` lists ``[path_a, path_b, rho]`` triples of Spearman rank correlations
    between inputs, imposed with a Gaussian copula; ``price_correlations`` does the same for
    the price-path shocks of two products. ``method`` is the sampling design: plain
    ``random``, Latin hypercube ``lhs`` or scrambled ``sobol`` (scipy.stats.qmc).
    ``disruptions`` and ``switches`` are risk events; phase gates (``phases.X.gate``) with a
    continuity probability below 1 or price hurdles are decided per draw.
    """

    method: Literal["random", "lhs", "sobol"] = "lhs"
    seed: Annotated[Whole, Field(ge=0)] | None = None
    inputs: dict[str, Distribution] = Field(default_factory=dict)
    correlations: list[tuple[str, str, Correlation]] = Field(default_factory=list)
    price_paths: dict[str, PricePath] = Field(default_factory=dict)
    price_correlations: list[tuple[str, str, Correlation]] = Field(default_factory=list)
    disruptions: dict[str, Disruption] = Field(default_factory=dict)
    switches: dict[str, Switch] = Field(default_factory=dict)
    expropriation: Expropriation | None = None

    @field_validator("correlations", "price_correlations")
    @classmethod
    def _each_pair_once(cls, value: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
        """A pair correlated twice (in either order) would keep only the later entry."""
        seen: dict[frozenset[str], int] = {}
        for k, (a, b, rho) in enumerate(value):
            j = seen.setdefault(frozenset((a, b)), k)
            if j != k:
                first = value[j]
                raise ValueError(
                    f"[{first[0]}, {first[1]}, {first[2]:g}] (item {j}) and [{a}, {b}, {rho:g}] (item {k}) "
                    f"both correlate {a} and {b}; give each pair once"
                )
        return value

    @model_validator(mode="after")
    def _known_names(self) -> Uncertainty:
        for a, b, _ in self.correlations:
            for name in (a, b):
                if name not in self.inputs:
                    raise ValueError(f"correlations: {name!r} is not one of the uncertain inputs")
            if a == b:
                raise ValueError(f"correlations: {a!r} is correlated with itself")
        for a, b, _ in self.price_correlations:
            for name in (a, b):
                if name not in self.price_paths:
                    raise ValueError(f"price_correlations: {name!r} has no price path")
        _positive_definite("correlations", list(self.inputs), self.correlations)
        _positive_definite("price_correlations", list(self.price_paths), self.price_correlations)
        return self


def normal_score_correlation(names: list[str], pairs: Sequence[tuple[str, str, float]]) -> np.ndarray:
    """The Gaussian-copula correlation that gives Spearman rank correlations ``pairs``:
    r = 2 sin(pi rho / 6) (Kruskal 1958), ones on the diagonal."""
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    for a, b, rho in pairs:
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = 2.0 * np.sin(np.pi * rho / 6.0)
    return matrix


def _positive_definite(where: str, names: list[str], pairs: list[tuple[str, str, float]]) -> None:
    """The normal-score correlation of the Spearman targets must be positive definite."""
    if not pairs:
        return
    matrix = normal_score_correlation(names, pairs)
    smallest = float(np.linalg.eigvalsh(matrix).min())
    if smallest <= 1e-12:
        raise ValueError(
            f"{where}: the correlation matrix is not positive definite (smallest eigenvalue {smallest:.3g}); "
            "the correlations contradict each other"
        )
