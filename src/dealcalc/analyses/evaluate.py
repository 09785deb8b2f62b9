"""Value a deal: ``evaluate`` (one or many scenarios) and ``compare`` (the file's named scenarios)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from rich.console import Group

from dealcalc.analyses.display import frame_html, frame_rich
from dealcalc.analyses.provenance import RunInfo, run_info
from dealcalc.engine import Ledger, evaluate_chunks, resolve
from dealcalc.engine import lines as L
from dealcalc.engine.memory import (
    VALUATION_HINT,
    check_fits,
    conversion_bytes,
    ledger_lines,
    shape_of,
    valuation_bytes,
)
from dealcalc.engine.run import CHUNK_SCENARIOS, METRICS, check_metrics
from dealcalc.engine.timeline import present_value
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import Scenarios, apply_scenario, with_changes

__all__ = [
    "ENTITY_COLUMNS",
    "Valuation",
    "check_overrides_fit",
    "compare",
    "evaluate",
    "scenario_count",
    "tariff_attribution",
]


#: The columns of :meth:`Valuation.entity_table` other than the parties', with their headers
#: in words (a party's column is ``{party}.npv_usd``, headed by its name).
ENTITY_COLUMNS = {
    "transfer_sales_usd": "Transfer sales",
    "transfer_purchases_usd": "Transfer purchases",
    "transfers_usd": "Net transfers",
    "before_levies_usd": "Cash before levies",
    "levies_usd": "Levies paid",
    "npv_usd": "After-tax NPV",
}


@dataclass(frozen=True)
class Valuation:
    """The value of a deal in one or many scenarios.

    Attributes
    ----------
    deal : Deal
        The deal as valued (named scenario applied).
    scenario : str
        The named scenario (``"base"`` for the base case).
    values : dict of str to ndarray
        The metrics computed, each of shape (S,): all of :data:`METRICS` unless
        ``evaluate(..., metrics=...)`` asked for fewer. Each is also an attribute:
    npv_usd, irr, pre_tax_npv_usd, pre_tax_irr, payback_years, peak_funding_usd, discount_rate
        NPV and IRR are of the unlevered after-tax cash flow unless prefixed ``pre_tax``; the
        discount rate is in the deal's basis; payback is in years from the valuation date; peak
        funding is the deepest cumulative after-tax deficit. IRR is NaN where a row has none.
    ledger : Ledger or None
        Every line of the project for every scenario, kept when S <= 1000 (or when asked).
    parties : Ledger or None
        Each party's cash (owners, lenders, governments) and the debt schedule, kept with the
        ledger.
    balance : Ledger or None
        The material balance (contained units by stream and flow), kept with the ledger.
    run : RunInfo
        What this valuation is: file, scenario, every change, basis, money year, discount rate
        (see :class:`dealcalc.analyses.provenance.RunInfo`). ``run.label`` is what tables show.
    entities : dict of str to (Ledger, Ledger) or None
        In a deal of several entities, each entity's ledger and its parties' ledger, kept with
        the ledger (see :meth:`entity_table`).
    rates : dict of str to ndarray or None
        With the entities' ledgers, each party's discount rate in each scenario (the deal's
        basis), (S,).
    """

    deal: Deal
    scenario: str
    values: dict[str, FloatArray]
    ledger: Ledger | None
    parties: Ledger | None = None
    balance: Ledger | None = None
    run: RunInfo | None = None
    entities: dict[str, tuple[Ledger, Ledger]] | None = None
    rates: dict[str, FloatArray] | None = None

    @property
    def info(self) -> RunInfo:
        """The run's record (built from the deal when the valuation was made by hand)."""
        return self.run if self.run is not None else run_info(self.deal)

    def _metric(self, name: str) -> FloatArray:
        try:
            return self.values[name]
        except KeyError:
            raise InputError(
                f"{name} was not computed",
                field="metrics",
                hint=f"evaluate(..., metrics=[..., {name!r}]) computes it",
            ) from None

    @property
    def npv_usd(self) -> FloatArray:
        """After-tax unlevered NPV, (S,)."""
        return self._metric("npv_usd")

    @property
    def irr(self) -> FloatArray:
        """After-tax unlevered IRR, (S,); NaN where a row has none."""
        return self._metric("irr")

    @property
    def pre_tax_npv_usd(self) -> FloatArray:
        """Pre-tax unlevered NPV, (S,)."""
        return self._metric("pre_tax_npv_usd")

    @property
    def pre_tax_irr(self) -> FloatArray:
        """Pre-tax unlevered IRR, (S,)."""
        return self._metric("pre_tax_irr")

    @property
    def payback_years(self) -> FloatArray:
        """Simple payback of the after-tax cash flow, years from the valuation date, (S,)."""
        return self._metric("payback_years")

    @property
    def peak_funding_usd(self) -> FloatArray:
        """The deepest cumulative after-tax deficit, (S,)."""
        return self._metric("peak_funding_usd")

    @property
    def discount_rate(self) -> FloatArray:
        """The discount rate used, in the deal's basis, (S,)."""
        return self._metric("discount_rate")

    @property
    def n_scenarios(self) -> int:
        """Number of scenarios valued."""
        return int(next(iter(self.values.values())).shape[0])

    def _scenario(self, scenario: int) -> int:
        """``scenario`` as a row of this valuation; an InputError naming the range otherwise."""
        if isinstance(scenario, bool) or not isinstance(scenario, int | np.integer):
            raise InputError(
                f"{scenario!r} is not a scenario number", field="scenario", expected="a whole number"
            )
        if not -self.n_scenarios <= scenario < self.n_scenarios:
            raise InputError(
                f"no scenario {scenario}",
                field="scenario",
                expected=f"0 to {self.n_scenarios - 1} (this valuation has {self.n_scenarios:,})",
            )
        return int(scenario)

    def table(self, scenario: int = 0, *, entity: str | None = None) -> pd.DataFrame:
        """The annual ledger of one scenario: years by lines, units in the column names; with
        ``entity``, that company's own ledger (its transfers to and from the others included).

        Examples
        --------
        >>> import dealcalc as dc
        >>> v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")), "terms_two_companies")
        >>> "Transfer sales: sb_concentrate [USD]" in v.table(entity="mines").columns
        True
        """
        scenario = self._scenario(scenario)
        if self.ledger is None:
            raise ValueError("the ledger was not kept; call evaluate(..., keep_ledger=True)")
        if entity is None:
            return self.ledger.table(scenario)
        names = list(self.deal.entities)
        if entity not in names:
            raise InputError(
                f"no entity {entity!r}",
                field="entity",
                expected=", ".join(names) or "a deal of several companies (entities)",
                hint=did_you_mean(entity, names),
            )
        assert self.entities is not None  # kept with the ledger
        return self.entities[entity][0].table(scenario)

    def tidy(self) -> pd.DataFrame:
        """Every kept ledger line of every scenario in long form: columns ``scenario``, ``year``,
        ``line`` and ``value_usd`` (for seaborn, plotnine, groupby).

        Examples
        --------
        >>> import dealcalc as dc
        >>> deal = dc.load(dc.example_path("ussm-fwo"))
        >>> df = dc.evaluate(deal, overrides={"fiscal.royalty_rate": [0.05, 0.07]}).tidy()
        >>> list(df.columns), df["scenario"].nunique()
        (['scenario', 'year', 'line', 'value_usd'], 2)
        """
        frames = []
        for s in range(self.n_scenarios):
            long = self.table(s).rename_axis("year").reset_index().melt(id_vars="year", var_name="line")
            long.insert(0, "scenario", s)
            frames.append(long.rename(columns={"value": "value_usd"}))
        return pd.concat(frames, ignore_index=True)

    def party_table(self, scenario: int = 0) -> pd.DataFrame:
        """Each party's cash by year, with the debt schedule and the split's memo lines."""
        scenario = self._scenario(scenario)
        if self.parties is None:
            raise ValueError("the parties' ledger was not kept; call evaluate(..., keep_ledger=True)")
        return self.parties.table(scenario)

    def entity_table(self, scenario: int = 0) -> pd.DataFrame:
        """Each entity of a deal of several, and the project: what it sells to and buys from the
        others, its cash before levies, the levies it pays, its after-tax cash (present values at the
        project's rate, the deal's basis) and what each party gets from it (at the party's own
        rate). The project's row is the sum: its transfers net to zero, and each party's value
        is its NPV (docs/methodology.md §31).

        Examples
        --------
        >>> import dealcalc as dc
        >>> v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")), "terms_two_companies")
        >>> t = v.entity_table()
        >>> list(t.index), round(float(t.loc["project", "transfers_usd"]), 6)
        (['mines', 'refinery', 'project'], 0.0)
        """
        scenario = self._scenario(scenario)
        if self.entities is None:
            raise ValueError(
                "no entity ledgers: the deal is one company, or the ledger was not kept "
                "(evaluate(..., keep_ledger=True))"
            )
        tl = resolve(self.deal, {}, 1).timeline
        if self.rates is not None:
            rates = {p: float(r[scenario]) for p, r in self.rates.items()}
        else:
            rates = self.party_rates()

        def pv(flows: FloatArray, rate: float) -> float:
            row = np.ascontiguousarray(
                np.broadcast_to(flows, (self.n_scenarios, flows.shape[-1]))[scenario : scenario + 1]
            )
            return float(present_value(np.array([rate]), row, tl.timing, tl.valuation_offset)[0])

        project_rate = float(self.discount_rate[scenario])
        rows: dict[str, dict[str, float]] = {}
        for name, (ledger, parties) in self.entities.items():
            internal = [
                ledger.line(line)
                for line in ledger.lines
                if line.key.startswith(("transfer_sale:", "transfer_purchase:"))
            ]
            row = {
                "transfer_sales_usd": sum(
                    (
                        pv(ledger.line(x), project_rate)
                        for x in ledger.lines
                        if x.key.startswith("transfer_sale:")
                    ),
                    0.0,
                ),
                "transfer_purchases_usd": -sum(
                    (
                        pv(ledger.line(x), project_rate)
                        for x in ledger.lines
                        if x.key.startswith("transfer_purchase:")
                    ),
                    0.0,
                ),
                "transfers_usd": sum((pv(a, project_rate) for a in internal), 0.0),
                "before_levies_usd": pv(
                    ledger.pre_tax() - ledger.group_total({L.Group.ROYALTY}), project_rate
                ),
                "levies_usd": -pv(ledger.group_total({L.Group.ROYALTY, L.Group.TAX}), project_rate),
                "npv_usd": pv(ledger.after_tax(), project_rate),
            }
            for party in self.deal.party_names():
                line = L.party_cash(party)
                if parties.has(line):
                    row[f"{party}.npv_usd"] = pv(parties.line(line), rates[party])
            rows[name] = row
        frame = pd.DataFrame(rows).T.fillna(0.0)
        order = [c for c in next(iter(rows.values())) if "." not in c]
        order += [f"{p}.npv_usd" for p in self.deal.party_names() if f"{p}.npv_usd" in frame.columns]
        frame = frame[order]
        frame.loc["project"] = frame.sum()
        frame = frame + 0.0  # no -0.0
        frame.index.name = "entity"
        frame.attrs["run"] = self.info.to_dict()
        return frame

    def transfer_table(self, scenario: int = 0) -> pd.DataFrame:
        """Each transfer price of a deal of several companies as it came out: the feed product's
        price unit (``unit``: t, mtu, kg ...), the units fed over the life, their value (money of
        the deal's basis, undiscounted), the average price paid per unit, the feed product's
        price over the same units (the deck's, or the draw's price path), and the price as a
        share of it (docs/methodology.md §31).

        Examples
        --------
        >>> import dealcalc as dc
        >>> v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")), "terms_two_companies")
        >>> round(float(v.transfer_table().loc["sb_concentrate", "share_of_market"]), 4)
        0.65
        """
        scenario = self._scenario(scenario)
        if self.entities is None or self.balance is None:
            raise ValueError(
                "no entity ledgers: the deal is one company, or the ledger was not kept "
                "(evaluate(..., keep_ledger=True))"
            )
        rows = {}
        for name, t in self.deal.transfer_prices.items():
            seller = self.entities[str(self.deal.entity_of(t.source))][0]
            value = seller.line(L.transfer_sale(name))[scenario]
            unit = self.deal.products[self.deal.streams[t.source].product].unit
            market = seller.line(L.transfer_market(name, unit))[scenario]
            units = self.balance.line(L.quantity(t.source, "fed to", unit, t.to))[scenario]
            total = float(units.sum())
            paid = float(value.sum()) / total if total > 0 else float("nan")
            deck = float((market * units).sum()) / total if total > 0 else float("nan")
            rows[name] = {
                "unit": unit,
                "units": total,
                "value_usd": float(value.sum()),
                "price_usd_per_unit": paid,
                "market_usd_per_unit": deck,
                "share_of_market": paid / deck if deck > 0 else float("nan"),
            }
        frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("transfer_price")
        frame.attrs["run"] = self.info.to_dict()
        return frame

    def material_balance(self, scenario: int = 0) -> pd.DataFrame:
        """Where every unit of product goes, by year: one row per stream and flow, years as
        columns.

        Rows are indexed by ``stream``, ``flow`` and ``unit`` (the product's price unit). A mine
        stream shows units ``mined`` (contained in the ore) and ``recovered``; a processing
        stream shows what it is ``fed from`` each source, what it ``bought``, what was ``lost in
        processing`` and what it ``made``; every stream shows what it ``fed to`` each
        processing stream and what it ``sold``. For every stream and year, recovered (or made)
        = sold + fed to others (methodology §9).

        Examples
        --------
        >>> import dealcalc as dc
        >>> mb = dc.evaluate(dc.load(dc.example_path("ussm-fwo"))).material_balance()
        >>> sb = mb.loc["antimony_concentrate", 2030]   # 2030: the refinery's first year, at 40 %
        >>> {flow: round(float(v), 1) for (flow, _unit), v in sb.items()}
        {'mined': 3750.0, 'recovered': 3187.5, 'fed to antimony_refined': 1739.1, 'sold': 1448.4}
        """
        scenario = self._scenario(scenario)
        if self.balance is None:
            raise ValueError("the material balance was not kept; call evaluate(..., keep_ledger=True)")
        keys, values = [], []
        for line in self.balance.lines:
            stream, _, flow = line.label.partition(": ")
            keys.append((stream, flow, line.unit))
            values.append(self.balance.line(line)[scenario])
        # levels in the order rows appear (streams in file order, flows in balance order), so
        # the index is sorted as shown and .loc on a stream is fast
        rank = {f: k for k, f in enumerate(L.BALANCE_FLOWS)}
        flows = sorted({f for _, f, _ in keys}, key=lambda f: (rank[_flow_kind(f)], f))
        levels = [list(dict.fromkeys(k[0] for k in keys)), flows, sorted({k[2] for k in keys})]
        index = pd.MultiIndex.from_arrays(
            [pd.Categorical([k[i] for k in keys], categories=levels[i]) for i in range(3)],
            names=["stream", "flow", "unit"],
        )
        return pd.DataFrame(values, index=index, columns=pd.Index(self.balance.years, name="year"))

    def party_summary(self, scenario: int = 0) -> pd.DataFrame:
        """One row per party: NPV at its own discount rate, IRR, and each state's take.

        Examples
        --------
        >>> import dealcalc as dc
        >>> v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")))
        >>> list(v.party_summary().columns)
        ['npv_usd', 'irr', 'take']
        """
        scenario = self._scenario(scenario)
        rows = {}
        for party in self.deal.party_names():
            row = {}
            for m in ("npv_usd", "irr", "take"):
                values = self.values.get(f"{party}.{m}")
                row[m] = float(values[scenario]) if values is not None else np.nan
            rows[party] = row
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("party")

    def summary(self) -> pd.DataFrame:
        """One row per scenario: the metrics computed."""
        return pd.DataFrame(self.values, index=pd.RangeIndex(self.n_scenarios, name="scenario"))

    def _overview(self) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
        """(project metrics, parties or None, note) as shown in Jupyter and rich."""
        if self.n_scenarios == 1:
            metrics = self.summary().T.rename(columns={0: "value"}).rename_axis("metric")
            parties = self.party_summary() if self.deal.party_names() else None
            return metrics, parties, "money in US$ million; each party's NPV at its own discount rate"
        stats = self.summary().describe(percentiles=[0.1, 0.5, 0.9]).T
        stats = stats[["mean", "10%", "50%", "90%"]].rename(
            columns={"10%": "P10", "50%": "P50", "90%": "P90"}
        )
        return stats.rename_axis("metric"), None, f"{self.n_scenarios} scenarios; money in US$ million"

    def _repr_html_(self) -> str:
        metrics, parties, note = self._overview()
        title = f"{self.deal.name}: {self.info.label}"
        run = self.info
        out = frame_html(metrics, title=title, by_row=True, run=None if parties is not None else run)
        if parties is not None:
            out += frame_html(parties, title="Parties", run=run)
        return out + f"<p><small>{note}</small></p>"

    def __rich__(self) -> Group:
        metrics, parties, note = self._overview()
        run = self.info
        title = f"{self.deal.name}: {run.label}"
        tables = [frame_rich(metrics, title=title, by_row=True, run=None if parties is not None else run)]
        if parties is not None:
            tables.append(frame_rich(parties, title="Parties", note=note, run=run))
        return Group(*tables)

    def headline(self) -> dict[str, Any]:
        """The first scenario's metrics as plain numbers (NaN as None), with the settings used
        and the run's record (``run``: file, scenario, changes, basis, version)."""
        out: dict[str, Any] = {"deal": self.deal.name, "scenario": self.scenario, "label": self.info.label}
        parties: dict[str, dict[str, float | None]] = {}
        entities: dict[str, dict[str, float | None]] = {}
        for m, values in self.values.items():
            x = float(values[0])
            party, _, metric = m.rpartition(".")
            if party in self.deal.entities:
                entities.setdefault(party, {})[metric] = None if np.isnan(x) else x
            elif party:
                parties.setdefault(party, {})[metric] = None if np.isnan(x) else x
            else:
                out[m] = None if np.isnan(x) else x
        if entities:
            out["entities"] = entities
        if parties:
            for party, rate in self.party_rates().items():
                if party in parties:
                    parties[party]["discount_rate"] = rate
            out["parties"] = parties
        out.update({**self.settings(), "run": self.info.to_dict()})
        return out

    def party_rates(self) -> dict[str, float]:
        """Each party's discount rate in the deal's basis (its own rate, converted by the Fisher
        relation where the file states it in the other basis; the project's rate otherwise).

        Examples
        --------
        >>> import dealcalc as dc
        >>> rates = dc.evaluate(dc.load(dc.example_path("ussm-fwo"))).party_rates()
        >>> round(rates["ussm"], 4)  # 19 % nominal at 2.5 % inflation
        0.161
        """
        rates = resolve(self.deal, {}, 1).finance.discount_rates
        return {name: float(np.asarray(r).reshape(-1)[0]) for name, r in rates.items()}

    def settings(self) -> dict[str, Any]:
        """The valuation settings used, as plain values (timing, basis, valuation point, payback
        origin, price deck)."""
        v = self.deal.valuation
        point = v.valuation_point
        return {
            "timing": v.timing,
            "basis": v.basis,
            "valuation_point": point if isinstance(point, str | int) else str(point),
            "payback_from": v.payback_from,
            "price_deck": v.price_deck,
        }


def _flow_kind(flow: str) -> str:
    """``fed to apt`` -> ``fed to``: a balance flow without the stream it names."""
    return next(kind for kind in L.BALANCE_FLOWS if flow == kind or flow.startswith(kind + " "))


def evaluate(
    deal: Deal,
    scenario: str | None = None,
    overrides: Mapping[str, ArrayLike] | Scenarios | None = None,
    *,
    keep_ledger: bool | None = None,
    metrics: Sequence[str] | None = None,
) -> Valuation:
    """Value a deal for one scenario or, with array overrides, for many at once.

    Parameters
    ----------
    deal : Deal
        From :func:`dealcalc.load`.
    scenario : str, optional
        A named scenario of the file (default: the base case).
    overrides : mapping of path to array_like, or Scenarios, optional
        ``{"price_decks.base.antimony": prices}`` with arrays of shape (S,) or (S, T): S
        scenarios valued in chunks, with no Python loop over scenarios (checked once, as a
        :class:`dealcalc.params.Scenarios`, which may also be given built).
    keep_ledger : bool, optional
        Keep every line for every scenario (default: when S <= 1000).
    metrics : sequence of str, optional
        The metrics to compute (default: all of ``npv_usd, irr, pre_tax_npv_usd, pre_tax_irr,
        payback_years, peak_funding_usd, discount_rate``). Each IRR costs about as much as
        the rest together on large runs, so a Monte Carlo of NPV and IRR asks for those two.

    Returns
    -------
    Valuation

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> v = dc.evaluate(deal)
    >>> round(float(v.irr[0]), 4)  # real, as the deal is valued
    0.115
    >>> many = dc.evaluate(deal, overrides={"price_decks.base.antimony": [22046, 30000, 55000]},
    ...                    metrics=["npv_usd", "irr"])
    >>> (many.npv_usd / 1e6).round(1)
    array([-62.1,   6.4, 221.8])
    >>> sorted(many.values)
    ['discount_rate', 'irr', 'npv_usd']
    """
    valued = apply_scenario(deal, scenario)
    wanted = check_metrics(valued, metrics)
    if isinstance(overrides, Scenarios):  # already checked against this deal
        if overrides.deal is not valued:
            raise ValueError("the scenarios were built for another deal (or another named scenario)")
        scenarios = overrides
    else:
        check_overrides_fit(valued, overrides, keep_ledger=keep_ledger, n_metrics=len(wanted))
        scenarios = Scenarios.build(valued, overrides)
    chunks = evaluate_chunks(scenarios, keep_ledger=keep_ledger, metrics=wanted)
    values = {m: np.concatenate([c.values[m] for c in chunks]) for m in wanted}
    ledgers = [c.ledger for c in chunks if c.ledger is not None]
    ledger = Ledger.concatenate(ledgers) if len(ledgers) == len(chunks) else None
    split = [c.parties for c in chunks if c.parties is not None]
    parties = Ledger.concatenate(split) if len(split) == len(chunks) else None
    kept = [c.balance for c in chunks if c.balance is not None]
    balance = Ledger.concatenate(kept) if len(kept) == len(chunks) else None
    given = overrides.overrides if isinstance(overrides, Scenarios) else overrides
    entities = None
    rates = None
    if valued.entities and all(c.rates is not None for c in chunks):
        rates = {
            p: np.concatenate([c.rates[p] for c in chunks if c.rates is not None])
            for p in chunks[0].rates or {}
        }
    if valued.entities and all(c.entities is not None for c in chunks):
        entities = {
            name: (
                Ledger.concatenate([c.entities[name][0] for c in chunks if c.entities is not None]),
                Ledger.concatenate([c.entities[name][1] for c in chunks if c.entities is not None]),
            )
            for name in valued.entities
        }
    return Valuation(
        deal=valued,
        scenario=valued.scenario_name or "base",
        values=values,
        ledger=ledger,
        parties=parties,
        balance=balance,
        run=run_info(valued, overrides=given),
        entities=entities,
        rates=rates,
    )


def scenario_count(overrides: Mapping[str, object]) -> int:
    """The number of scenarios override arrays make, read from their shapes alone (the largest
    first dimension; one when every override is a single value).

    Examples
    --------
    >>> import numpy as np
    >>> scenario_count({"a": 0.05, "b": np.broadcast_to(1.0, (10**9, 17))})
    1000000000
    """
    return max((shape[0] for shape in map(shape_of, overrides.values()) if shape), default=1)


def check_overrides_fit(
    deal: Deal, overrides: Mapping[str, object] | None, *, keep_ledger: bool | None, n_metrics: int
) -> None:
    """Refuse, before any override array is made, a valuation that would not fit in memory.

    Counts the float64 copies :meth:`Scenarios.build` makes of the overrides (none of a float64
    array, a broadcast view's included, but a mask of its size), and what
    :func:`dealcalc.engine.evaluate_chunks` keeps: the results of every scenario and one
    chunk's working set. Sizes are read from the overrides' shapes, so a broadcast view of a
    billion rows costs nothing to refuse.
    """
    if not overrides:
        return
    n = scenario_count(overrides)
    keep = n <= 1_000 if keep_ledger is None else keep_ledger
    kept = ledger_lines(len(deal.streams), len(deal.party_names())) if keep else 0
    needed = sum(conversion_bytes(v) for v in overrides.values()) + valuation_bytes(
        n, deal.periods.size, n_metrics=n_metrics, kept_lines=kept, chunk=CHUNK_SCENARIOS
    )
    check_fits(
        needed,
        f"valuing {n:,} scenarios" + (" and keeping their ledgers" if keep else ""),
        VALUATION_HINT,
    )


def compare(deal: Deal, scenarios: list[str] | None = None) -> pd.DataFrame:
    """The base case and every named scenario side by side, with the change against the base.

    Columns: the project metrics of :data:`METRICS`; every party's NPV at its own rate
    (``{party}.npv_usd``), each owner's and the lenders' IRR (``{party}.irr``) and each
    government's take (``{government}.take``), NaN in a scenario without that party; and the
    changes of project NPV and IRR against the base.

    Examples
    --------
    >>> import dealcalc as dc
    >>> table = dc.compare(dc.load(dc.example_path("ussm-fwo")), ["spot_2025"])
    >>> list(table.index)
    ['base', 'spot_2025']
    >>> "ussm.npv_usd" in table.columns
    True
    """
    names = ["base", *(scenarios if scenarios is not None else list(deal.scenarios))]
    rows: list[dict[str, float]] = []
    columns: list[str] = list(METRICS)
    descriptions = []
    for name in names:
        valued = apply_scenario(deal, None if name == "base" else name)
        parties = valued.party_names()
        roles = {p: valued.party_role(p) for p in parties}
        wanted = [
            *METRICS,
            *(f"{p}.npv_usd" for p in parties),
            *(f"{p}.irr" for p in parties if roles[p] in ("owner", "lenders")),
            *(f"{p}.take" for p in parties if roles[p] == "government"),
        ]
        v = evaluate(valued, keep_ledger=False, metrics=wanted)
        descriptions.append("base case" if name == "base" else deal.scenarios[name].description or "")
        rows.append({m: float(v.values[m][0]) for m in wanted})
        columns += [m for m in wanted if m not in columns]  # a party only some scenarios have
    values = {m: [row.get(m, np.nan) for row in rows] for m in columns}
    df = pd.DataFrame({"description": descriptions, **values}, index=pd.Index(names, name="scenario"))
    df["npv_change_usd"] = np.asarray(values["npv_usd"]) - values["npv_usd"][0]
    df["irr_change"] = np.asarray(values["irr"]) - values["irr"][0]
    df.attrs["run"] = run_info(deal, analysis="comparison")
    return df


def tariff_attribution(
    deal: Deal,
    schedules: Sequence[str] | None = None,
    *,
    destination: str | None = None,
    scenario: str | None = None,
) -> pd.DataFrame:
    """Each party's NPV under each tariff schedule of a destination, side by side, with the
    change from one schedule to the next: the value of a tariff cut to whom.

    Parameters
    ----------
    deal : Deal
        The deal (its ``trade.attribution`` gives the defaults).
    schedules : sequence of str, optional
        Schedules to compare in order (e.g. 29 %, 19 %, exempt).
    destination : str, optional
        The destination whose schedule is switched.
    scenario : str, optional
        A named scenario to start from (default: the base case).

    Returns
    -------
    pandas.DataFrame
        One row per party (each at its own discount rate) plus ``project`` (unlevered after-tax
        NPV at the project rate) and two memo rows at the destination government's rate: the
        duty it collects and the part its buyers bear. Columns ``npv_usd: <schedule>`` and
        ``change_usd: <a> -> <b>``.

    Examples
    --------
    >>> import dealcalc as dc
    >>> table = dc.tariff_attribution(dc.load(dc.example_path("ussm-fwo")))
    >>> list(table.columns)[:3]
    ['npv_usd: reciprocal_29', 'npv_usd: reciprocal_19', 'npv_usd: annex_ii']
    >>> bool(table.loc["ussm", "change_usd: reciprocal_29 -> reciprocal_19"] > 0)
    True
    """
    base = apply_scenario(deal, scenario)
    spec = base.trade.attribution
    dest = destination or (spec.destination if spec else None)
    names = list(schedules or (spec.schedules if spec else []))
    if dest is None or len(names) < 2:
        raise InputError(
            "nothing to attribute: name a destination and at least two schedules",
            field="trade.attribution",
            hint="add `attribution: {destination: us, schedules: [a, b]}` under trade",
        )
    if dest not in base.trade.destinations:
        raise InputError(
            f"no destination {dest!r}", field="destination", hint=did_you_mean(dest, base.trade.destinations)
        )
    government = base.destination_government(dest)
    columns: dict[str, dict[str, float]] = {}
    for name in names:
        if name not in base.trade.schedules:
            raise InputError(
                f"no schedule {name!r}", field="schedules", hint=did_you_mean(name, base.trade.schedules)
            )
        switched = with_changes(
            base, {f"trade.destinations.{dest}.schedule": name}, origin=f"schedule {name!r}"
        )
        v = evaluate(switched, keep_ledger=True)
        col = {"project": float(v.npv_usd[0])}
        col |= {p: float(v.values[f"{p}.npv_usd"][0]) for p in switched.party_names()}
        col |= _duty_memo(v, government)
        columns[f"npv_usd: {name}"] = col
    df = pd.DataFrame(columns)
    for a, b in itertools.pairwise(names):
        df[f"change_usd: {a} -> {b}"] = df[f"npv_usd: {b}"] - df[f"npv_usd: {a}"]
    df.index.name = "party"
    df.attrs.update(
        {"run": run_info(base, analysis="tariff_attribution"), "destination": dest, "schedules": names}
    )
    return df


def _duty_memo(v: Valuation, government: str) -> dict[str, float]:
    """PV of the duty a government collects and of the part its buyers bear, at its rate."""
    assert v.ledger is not None
    timeline = resolve(v.deal, {}, 1).timeline
    rate = resolve(v.deal, {}, 1).finance.discount_rates[government]
    out = {}
    for label, line in (
        (f"{government}: duty collected", L.duty_collected(government)),
        ("buyers: duty borne", L.TARIFF_BORNE_BY_BUYERS),
    ):
        flows = v.ledger.line(line)[:1] if v.ledger.has(line) else np.zeros((1, v.ledger.years.size))
        out[label] = float(present_value(rate, flows, timeline.timing, timeline.valuation_offset)[0])
    return out
