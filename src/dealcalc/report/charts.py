"""Whole figures by name, for ``dealcalc plot`` and the HTML report (extra ``plot``).

Parameters are named on the charts in words with their units (:func:`param_label`:
``phases.refinery.capex_usd`` -> ``Refinery capex (US$ M)``), metrics by their headers
(``NPV (US$ M)``, ``IRR (%, real)``), numbers as :mod:`dealcalc.formatting` shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from dealcalc.analyses import Valuation, evaluate, grid, monte_carlo, spider, tornado
from dealcalc.analyses.display import param_label
from dealcalc.analyses.montecarlo import MonteCarlo
from dealcalc.errors import InputError
from dealcalc.models import Deal
from dealcalc.report import plots

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["KINDS", "Results", "draw", "figure", "param_label"]

T = TypeVar("T")

#: Chart kinds, with what each shows.
KINDS = {
    "cashflow": "annual after-tax cash flow with the cumulative line",
    "waterfall": "revenue to each party over the life of the deal",
    "npv-profile": "NPV against the discount rate, IRR marked",
    "tornado": "one-at-a-time swings of the metric, widest on top",
    "spider": "the metric against the % change of each parameter",
    "grid": "a 2-D grid of the metric as a heat map (needs x and y)",
    "histogram": "Monte Carlo distribution with P10/P50/P90 and P(< 0)",
    "cdf": "Monte Carlo cumulative distribution",
    "parties": "each party's cash by year and the government take",
}
FORMATS = (".png", ".svg", ".pdf")


@dataclass
class Results:
    """The analyses a set of charts draws on; each is computed on first use and kept."""

    deal: Deal
    scenario: str | None = None
    metric: str = "npv_usd"
    draws: int = 10_000
    seed: int | None = None
    params: Sequence[str] | None = None
    x: tuple[str, Any] | None = None
    y: tuple[str, Any] | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def _get(self, key: str, make: Callable[[], T]) -> T:
        if key not in self._cache:
            self._cache[key] = make()
        out: T = self._cache[key]
        return out

    @property
    def valuation(self) -> Valuation:
        return self._get("valuation", lambda: evaluate(self.deal, self.scenario, keep_ledger=True))

    @property
    def tornado(self) -> pd.DataFrame:
        return self._get(
            "tornado", lambda: tornado(self.deal, self.params, metric=self.metric, scenario=self.scenario)
        )

    @property
    def spider(self) -> pd.DataFrame:
        return self._get(
            "spider", lambda: spider(self.deal, self.params, metric=self.metric, scenario=self.scenario)
        )

    @property
    def grid(self) -> pd.DataFrame:
        if self.x is None or self.y is None:
            raise InputError(
                "a grid chart needs two axes", field="--x/--y", expected="--x PATH=V1,V2 --y PATH=V1,V2"
            )
        x, y = self.x, self.y
        return self._get("grid", lambda: grid(self.deal, x, y, metric=self.metric, scenario=self.scenario))

    @property
    def monte_carlo(self) -> MonteCarlo:
        return self._get(
            "mc", lambda: monte_carlo(self.deal, self.draws, seed=self.seed, scenario=self.scenario)
        )


def draw(kind: str, results: Results, ax: Any) -> Any:
    """Draw chart ``kind`` of ``results`` on ``ax``."""
    m = results.metric
    if kind == "cashflow":
        return plots.cash_flow_chart(results.valuation, ax=ax)
    if kind == "waterfall":
        return plots.waterfall_chart(results.valuation, ax=ax)
    if kind == "npv-profile":
        return plots.npv_profile_chart(results.valuation, ax=ax)
    if kind == "tornado":
        return plots.tornado_chart(results.tornado, ax=ax, deal=results.deal)
    if kind == "spider":
        return plots.spider_chart(results.spider, ax=ax, deal=results.deal)
    if kind == "grid":
        return plots.grid_heatmap(results.grid, ax=ax, deal=results.deal)
    if kind == "histogram":
        return plots.histogram_chart(results.monte_carlo, metric=m, ax=ax)
    if kind == "cdf":
        return plots.cdf_chart(results.monte_carlo, metric=m, ax=ax)
    if kind == "parties":
        return plots.parties_chart(results.valuation, ax=ax)
    raise InputError(f"unknown chart {kind!r}", field="kind", expected=", ".join(KINDS))


def figure(kind: str, results: Results, *, width: float = 8.0, height: float = 4.5) -> Figure:
    """A figure of chart ``kind`` (made without pyplot).

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.report.charts import Results, figure
    >>> fig = figure("waterfall", Results(dc.load(dc.example_path("ussm-fwo"))))
    >>> fig.axes[0].get_title()
    'From revenue to each party'
    """
    if kind not in KINDS:  # before any work
        raise InputError(f"unknown chart {kind!r}", field="kind", expected=", ".join(KINDS))
    fig = plots.new_figure(width, height)
    import matplotlib

    with matplotlib.rc_context({"text.usetex": False}):  # names are text (plots.plain), never TeX
        draw(kind, results, fig.add_subplot())
    return fig
