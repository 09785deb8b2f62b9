"""Hypothesis strategies for testing against dealcalc: cash flows, rates, deals, overrides.

Import them in your own property-based tests::

    from dealcalc.strategies import cash_flows, deals, overrides

Every strategy is a keyword-only function returning a ``SearchStrategy`` whose values are
valid by construction: no ``assume`` is needed, and dealcalc accepts every value it draws. The
module needs hypothesis (``pip install 'dealcalc[strategies]'``). docs/strategies.md shows
whole tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "dealcalc.strategies needs hypothesis; install it with: pip install 'dealcalc[strategies]'"
    ) from None

from dealcalc.io import dump_deal
from dealcalc.models import Deal
from dealcalc.params import numeric_leaves

__all__ = [
    "cash_flows",
    "dated_cash_flows",
    "deals",
    "entity_deals",
    "overrides",
    "rates",
    "scenario_files",
]

SignPattern = Literal["conventional", "non_conventional", "any"]
SearchStrategy = st.SearchStrategy
_PERIODS = st.integers(2, 40)
_DATED_PERIODS = st.integers(2, 30)
_SCENARIOS = st.integers(1, 20)


def _sizes(value: int | SearchStrategy[int]) -> SearchStrategy[int]:
    return st.just(value) if isinstance(value, int) else value


def _magnitudes(magnitude: float) -> SearchStrategy[float]:
    """Non-zero sizes between magnitude/1000 and magnitude, never subnormal."""
    return st.floats(magnitude * 1e-3, magnitude, allow_nan=False, allow_infinity=False)


@st.composite
def _one_series(draw: Any, periods: int, pattern: SignPattern, magnitude: float) -> list[float]:
    if pattern == "any":
        return [
            draw(st.floats(-magnitude, magnitude, allow_nan=False, allow_subnormal=False))
            for _ in range(periods)
        ]
    if pattern == "conventional":
        k = draw(st.integers(1, periods - 1))  # k outflows, then inflows: one sign change
        return [-draw(_magnitudes(magnitude)) for _ in range(k)] + [
            draw(_magnitudes(magnitude)) for _ in range(periods - k)
        ]
    # non-conventional: outflow, inflow(s), a later outflow (a closure cost), at least 3 periods
    cut = draw(st.integers(2, periods - 1))
    signs = [-1.0] + [1.0] * (cut - 1) + [-1.0] * (periods - cut)
    return [s * draw(_magnitudes(magnitude)) for s in signs]


def cash_flows(
    *,
    periods: int | SearchStrategy[int] = _PERIODS,
    rows: int | None = None,
    sign_pattern: SignPattern = "conventional",
    magnitude: float = 1e6,
) -> SearchStrategy[np.ndarray]:
    """Cash-flow series: shape (T,), or (rows, T) with the same T in every row.

    ``sign_pattern``:
    - ``"conventional"``: outflows first, then inflows (one sign change, so one IRR);
    - ``"non_conventional"``: an outflow, inflows, then outflows again (two sign changes, like a
      closure cost; needs at least 3 periods);
    - ``"any"``: finite values in [-magnitude, magnitude].

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20, deadline=None)
    ... @given(cash_flows(sign_pattern="conventional"))
    ... def test_npv_at_the_irr_is_zero(flows):
    ...     r = dc.irr(flows)
    ...     terms = abs(flows) * (1 + r) ** -np.arange(flows.size)  # the size of each term
    ...     assert abs(dc.npv(r, flows)) <= 1e-9 * terms.sum()
    >>> test_npv_at_the_irr_is_zero()
    """
    minimum = 3 if sign_pattern == "non_conventional" else 2

    @st.composite
    def build(draw: Any) -> np.ndarray:
        t = max(draw(_sizes(periods)), minimum)
        if rows is None:
            return np.array(draw(_one_series(t, sign_pattern, magnitude)))
        return np.array([draw(_one_series(t, sign_pattern, magnitude)) for _ in range(rows)])

    return build()


def rates(*, low: float = -0.5, high: float = 1.0, size: int | None = None) -> SearchStrategy[Any]:
    """Discount rates as fractions in [low, high] (low > -1): a float, or an array of ``size``.

    Examples
    --------
    >>> import dealcalc as dc
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20, deadline=None)
    ... @given(cash_flows(), rates(low=-0.5, high=2.0))
    ... def test_npv_is_positive_below_the_irr_and_negative_above(flows, rate):
    ...     r, value = dc.irr(flows), dc.npv(rate, flows)
    ...     tolerance = 1e-9 * abs(flows).sum()
    ...     assert (value >= -tolerance) if rate < r else (value <= tolerance)
    >>> test_npv_is_positive_below_the_irr_and_negative_above()
    """
    if not low > -1.0 or not low <= high:
        raise ValueError("rates need -1 < low <= high")
    element = st.floats(low, high, allow_nan=False, allow_subnormal=False)
    if size is None:
        return element
    return hnp.arrays(np.float64, (size,), elements=element)


def dated_cash_flows(
    *,
    periods: int | SearchStrategy[int] = _DATED_PERIODS,
    sign_pattern: SignPattern = "conventional",
    magnitude: float = 1e6,
    min_gap_days: int = 180,
    max_gap_days: int = 400,
) -> SearchStrategy[tuple[np.ndarray, list[dt.date]]]:
    """``(values, dates)`` for :func:`dealcalc.xnpv` and :func:`dealcalc.xirr`: dates strictly
    increasing from the first, ``min_gap_days`` to ``max_gap_days`` apart. (With short gaps and
    a large inflow the rate can exceed about 1e6, beyond XIRR's search, which then answers NaN.)

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=20, deadline=None)
    ... @given(dated_cash_flows())
    ... def test_xnpv_at_the_xirr_is_zero(case):
    ...     values, dates = case
    ...     r = dc.xirr(values, dates)
    ...     years = np.array([(d - dates[0]).days for d in dates]) / 365.0
    ...     terms = (abs(values) * (1 + r) ** -years).sum()  # the size of the discounted terms
    ...     assert abs(dc.xnpv(r, values, dates)) <= 1e-9 * terms
    >>> test_xnpv_at_the_xirr_is_zero()
    """

    @st.composite
    def build(draw: Any) -> tuple[np.ndarray, list[dt.date]]:
        values = draw(cash_flows(periods=periods, sign_pattern=sign_pattern, magnitude=magnitude))
        start = draw(st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31)))
        gaps = draw(
            st.lists(
                st.integers(min_gap_days, max_gap_days), min_size=values.size - 1, max_size=values.size - 1
            )
        )
        dates = [start]
        for gap in gaps:
            dates.append(dates[-1] + dt.timedelta(days=gap))
        return values, dates

    return build()


def _fractions(draw: Any, n: int) -> list[float]:
    """n positive fractions summing to exactly 1 (within 1e-12)."""
    weights = [draw(st.integers(1, 20)) for _ in range(n)]
    total = sum(weights)
    out = [w / total for w in weights]
    out[-1] = 1.0 - sum(out[:-1])
    return out


def _schedule(values: SearchStrategy[float], start: int, end: int) -> SearchStrategy[Any]:
    """A schedule: one number, {year: value} on years of the deal, or a list over production."""
    years = st.lists(st.integers(start, end), min_size=1, max_size=4, unique=True)
    return st.one_of(
        values,
        years.flatmap(lambda ys: st.fixed_dictionaries({y: values for y in sorted(ys)})),
        st.lists(values, min_size=1, max_size=5),
    )


@st.composite
def _deal_data(
    draw: Any,
    max_phases: int,
    max_streams: int,
    fiscal: bool,
    trade: bool,
    finance: bool,
    max_years: int,
    dated_prices: bool = False,
    schedules: bool = False,
    min_phases: int = 1,
    fed: bool = False,
) -> dict[str, Any]:
    """A deal's data. With ``fed``, the first stream is a metal mine of ``phase0`` and the last
    a processing stream of ``phase1`` that the mine feeds (needs two phases and two streams)."""
    start = draw(st.integers(2020, 2040))
    years = draw(st.integers(4, max_years))
    end = start + years - 1
    products = {"metal": {"unit": "t"}, "oxide": {"unit": "kg"}, "gold": {"unit": "oz"}}
    metal_price = st.floats(1_000, 50_000, allow_subnormal=False)
    deck: dict[str, Any] = {
        "metal": draw(metal_price),
        "oxide": draw(st.floats(5, 200, allow_subnormal=False)),
        "gold": draw(st.floats(500, 5_000, allow_subnormal=False)),
    }
    if dated_prices and draw(st.booleans()):  # a step path: {year: price}, each year a parameter
        steps = draw(st.lists(st.integers(start, end), min_size=1, max_size=3, unique=True))
        deck["metal"] = {year: draw(metal_price) for year in sorted(steps)}
    phases: dict[str, Any] = {}
    for k in range(draw(st.integers(min_phases, max_phases))):
        build_years = draw(st.integers(1, 3))
        first = draw(st.integers(start, max(start, end - build_years - 1)))
        schedule = _fractions(draw, build_years)
        phases[f"phase{k}"] = {
            "start_year": first,
            "capex_usd": draw(st.floats(1e6, 5e8, allow_subnormal=False)),
            "capex_schedule": schedule,
            "ramp_up": [
                draw(st.floats(0.2, 1.0, allow_subnormal=False)) for _ in range(draw(st.integers(0, 3)))
            ],
            "sustaining_capex_usd_per_year": draw(
                _schedule(st.floats(0, 1e7, allow_subnormal=False), start, end)
                if schedules
                else st.floats(0, 1e7, allow_subnormal=False)
            ),
        }
    streams: dict[str, Any] = {}
    n_streams = draw(st.integers(2 if fed else 1, max_streams))
    for k in range(n_streams):
        kinds = ["mine", "gold", "refinery", "smelter"] + (["stated"] if schedules else [])
        if fed and k in (0, n_streams - 1):  # the feed the entities trade
            phase, kind = ("phase0", "mine") if k == 0 else ("phase1", "smelter")
        else:
            phase = draw(st.sampled_from(sorted(phases)))
            kind = draw(st.sampled_from(kinds))
        if kind == "refinery":  # bought feed only
            streams[f"s{k}"] = {
                "phase": phase,
                "product": "oxide",
                "capacity_units_per_year": draw(st.floats(1e3, 1e6, allow_subnormal=False)),
                "conversion_cost_usd_per_unit": draw(st.floats(0, 20, allow_subnormal=False)),
                "feed": {"purchase": {"price_fraction": draw(st.floats(0, 0.6, allow_subnormal=False))}},
            }
        elif kind == "smelter":  # fed by the metal mines so far, then (perhaps) bought feed
            sources = [n for n, s in streams.items() if s["product"] == "metal" and "feed" not in s]
            recovery = draw(st.floats(0.8, 1.0, allow_subnormal=False))
            payable = draw(st.floats(0.9, 1.0, allow_subnormal=False))
            feed: dict[str, Any] = {"sources": draw(st.permutations(sources)), "recovery": recovery}
            if draw(st.booleans()):  # bought feed worth buying: it costs less than it makes
                margin = draw(st.floats(0.5, 0.95, allow_subnormal=False))
                feed["purchase"] = {"price_fraction": margin * recovery * payable}
            streams[f"s{k}"] = {
                "phase": phase,
                "product": "metal",
                "capacity_units_per_year": draw(st.floats(1e2, 5e4, allow_subnormal=False)),
                "conversion_cost_usd_per_unit": draw(st.floats(0, 500, allow_subnormal=False)),
                "payable_fraction": payable,
                "feed": feed,
            }
        elif kind == "gold":
            streams[f"s{k}"] = {
                "phase": phase,
                "product": "gold",
                "ore_tpa": draw(st.floats(1e4, 2e6, allow_subnormal=False)),
                "grade_g_per_t": draw(st.floats(0.05, 5.0, allow_subnormal=False)),
                "recovery": draw(st.floats(0.3, 0.95, allow_subnormal=False)),
            }
        elif kind == "stated":  # a study's published output, year by year
            streams[f"s{k}"] = {
                "phase": phase,
                "product": "gold",
                "recovered_units_per_year": draw(
                    _schedule(st.floats(0, 5e4, allow_subnormal=False), start, end)
                ),
            }
        else:
            ore = st.floats(1e4, 2e6, allow_subnormal=False)
            streams[f"s{k}"] = {
                "phase": phase,
                "product": "metal",
                "ore_tpa": draw(_schedule(ore, start, end)) if schedules else draw(ore),
                "grade": draw(st.floats(0.001, 0.05, allow_subnormal=False)),
                "recovery": draw(st.floats(0.5, 0.95, allow_subnormal=False)),
                "payable_fraction": draw(st.floats(0.6, 1.0, allow_subnormal=False)),
                "concentrate_grade": draw(st.floats(0.2, 0.6, allow_subnormal=False)),
                "treatment_charge_usd_per_dmt": draw(st.floats(0, 100, allow_subnormal=False)),
                "opex_usd_per_t_ore": draw(st.floats(1, 60, allow_subnormal=False)),
            }
    data: dict[str, Any] = {
        "name": "generated deal",
        "valuation": {
            "start_year": start,
            "end_year": end,
            "timing": draw(st.sampled_from(["end", "mid", "begin"])),
            "discount_rate": draw(st.floats(0.0, 0.25, allow_subnormal=False)),
        },
        "products": products,
        "price_decks": {"base": deck},
        "phases": phases,
        "streams": streams,
        "closure": {"cost_usd": draw(st.floats(0, 5e7, allow_subnormal=False))},
    }
    if fiscal:
        data["fiscal"] = {
            "royalty_rate": draw(st.floats(0, 0.1, allow_subnormal=False)),
            "income_tax_rate": draw(st.floats(0, 0.4, allow_subnormal=False)),
            "minimum_tax_rate": draw(st.floats(0, 0.02, allow_subnormal=False)),
            "depreciation_years": draw(st.integers(1, 15)),
            "loss_carry_forward_years": draw(st.integers(0, 10)),
        }
    if trade:
        rate_dates = sorted(
            draw(st.sets(st.dates(dt.date(start - 1, 1, 1), dt.date(end, 12, 31)), min_size=1, max_size=3))
        )
        data["trade"] = {
            "destinations": {
                "us": {
                    "schedule": "s",
                    "pass_through_fraction": draw(st.floats(0, 1, allow_subnormal=False)),
                },
            },
            "schedules": {
                "s": {"ad_valorem": {d: draw(st.floats(0, 0.5, allow_subnormal=False)) for d in rate_dates}}
            },
        }
        for stream in streams.values():
            stream["sales_shares"] = {"us": draw(st.floats(0, 1, allow_subnormal=False))}
    if finance:
        owners = _fractions(draw, draw(st.integers(1, 3)))
        data["finance"] = {
            "equity": {
                f"owner{k}": {
                    "share": share,
                    "discount_rate": draw(st.floats(0.02, 0.25, allow_subnormal=False)),
                }
                for k, share in enumerate(owners)
            },
            "dividend_withholding_rate": draw(st.floats(0, 0.3, allow_subnormal=False)),
        }
        if draw(st.booleans()):
            data["finance"]["debt"] = {
                "loan": {
                    "share_of_capex": draw(st.floats(0, 0.8, allow_subnormal=False)),
                    "interest_rate": draw(st.floats(0.0, 0.15, allow_subnormal=False)),
                    "tenor_years": draw(st.integers(1, 10)),
                    "repayment": draw(st.sampled_from(["annuity", "linear"])),
                }
            }
    return data


def deals(
    *,
    max_phases: int = 3,
    max_streams: int = 4,
    fiscal: bool = True,
    trade: bool = True,
    finance: bool = True,
    max_years: int = 25,
    dated_prices: bool = False,
    schedules: bool = False,
) -> SearchStrategy[Deal]:
    """Valid :class:`dealcalc.Deal` objects: phases with capex schedules and ramp-ups, mine and
    precious-metal streams, processing streams fed by the mines (own feed first, then perhaps
    bought feed) or by bought feed alone, and optionally a fiscal regime, a dated US tariff
    schedule with incidence, owners and a loan. With ``dated_prices``, the metal's deck price
    is sometimes a step path ``{year: price}`` instead of one flat price; with ``schedules``,
    ore tonnages and sustaining capital are sometimes given year by year (a ``{year: value}``
    mapping or a list over the production years) and some streams state their output per year
    (``recovered_units_per_year``).

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(deals())
    ... def test_the_parties_add_up(deal):
    ...     v = dc.evaluate(deal, keep_ledger=True)
    ...     split = v.party_table()
    ...     parties = [f"{p} [USD]" for p in deal.party_names()]
    ...     total = split["Cash before state take [USD]"]
    ...     assert np.allclose(split[parties].sum(axis=1), total, rtol=1e-9, atol=1e-3)
    >>> test_the_parties_add_up()
    """
    data = _deal_data(max_phases, max_streams, fiscal, trade, finance, max_years, dated_prices, schedules)
    return data.map(Deal.model_validate)


#: The bases a transfer price may have (docs/methodology.md §31).
TransferBasis = Literal["payable", "cost_plus", "fixed"]
_BASES: tuple[TransferBasis, ...] = ("payable", "cost_plus", "fixed")


def _transfer_price(draw: Any, source: str, to: str, bases: tuple[TransferBasis, ...]) -> dict[str, Any]:
    """A transfer price for the feed ``source`` -> ``to`` with terms its basis reads."""
    basis = draw(st.sampled_from(bases))
    royalty_base = draw(st.sampled_from(["transfer", "market"]))
    price: dict[str, Any] = {"source": source, "to": to, "basis": basis, "royalty_base": royalty_base}
    if basis == "payable":
        price["payable_fraction"] = draw(st.floats(0.3, 1.0, allow_subnormal=False))
        price["charges_usd_per_unit"] = draw(st.floats(0, 2_000, allow_subnormal=False))
    elif basis == "cost_plus":
        price["margin"] = draw(st.floats(0.0, 0.5, allow_subnormal=False))
    else:
        price["price_usd_per_unit"] = draw(st.floats(500, 50_000, allow_subnormal=False))
    if basis != "payable" and royalty_base == "market" and draw(st.booleans()):
        # the payable share a market royalty base reads (x 1 without it)
        price["payable_fraction"] = draw(st.floats(0.3, 1.0, allow_subnormal=False))
    return price


def entity_deals(
    *,
    max_entities: int = 3,
    max_phases: int = 4,
    max_streams: int = 4,
    fiscal: bool = True,
    trade: bool = False,
    debt: bool = True,
    max_years: int = 8,
    bases: tuple[TransferBasis, ...] = _BASES,
) -> SearchStrategy[Deal]:
    """Valid :class:`dealcalc.Deal` objects of two to ``max_entities`` companies (``entities``).

    The deals are those of :func:`deals`, with at least one metal mine feeding a processing
    stream of another company. Each phase (with its streams and capital) belongs to exactly one
    entity, and every entity owns at least one phase. Each entity has owners whose shares sum to
    1 (an owner may hold parts of several entities; it has the same discount rate in each), and
    with ``debt`` sometimes a loan. Every feed between two entities has a transfer price: its
    ``basis`` drawn from ``bases`` (``payable``: a payable fraction less charges per unit;
    ``cost_plus``: a margin; ``fixed``: a price per unit), its ``royalty_base`` ``transfer`` or
    ``market``. One entity is sometimes marked the operator. ``finance`` keeps only the deal's
    common terms (``equity: {}``, the dividend withholding). Deals run over 4 to ``max_years``
    years, so that each example values quickly.

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(entity_deals())
    ... def test_the_transfers_cancel_in_the_project(deal):
    ...     table = dc.evaluate(deal, keep_ledger=True).entity_table()
    ...     assert list(table.index) == [*deal.entities, "project"]
    ...     size = abs(table["transfer_sales_usd"]).sum()
    ...     assert abs(table.loc["project", "transfers_usd"]) <= 1e-9 * size + 1e-6
    >>> test_the_transfers_cancel_in_the_project()
    """
    if max_entities < 2 or max_phases < 2 or max_streams < 2:
        raise ValueError("entity deals need max_entities, max_phases and max_streams of at least 2")
    if not bases or any(b not in _BASES for b in bases):
        raise ValueError(f"bases must be a non-empty choice of {', '.join(_BASES)}")
    chosen = tuple(dict.fromkeys(bases))

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        data: dict[str, Any] = draw(
            _deal_data(max_phases, max_streams, fiscal, trade, False, max_years, min_phases=2, fed=True)
        )
        phases = sorted(data["phases"], key=lambda name: int(name.removeprefix("phase")))
        n = draw(st.integers(2, min(max_entities, len(phases))))
        names = [f"company{k}" for k in range(n)]
        owned: dict[str, list[str]] = {name: [] for name in names}
        for k, phase in enumerate(phases):  # phase0 and phase1 (the mine, its buyer) in two entities
            owned[names[k] if k < n else draw(st.sampled_from(names))].append(phase)
        pool = [f"owner{k}" for k in range(draw(st.integers(1, 3)))]
        rates = {owner: draw(st.floats(0.02, 0.25, allow_subnormal=False)) for owner in pool}
        operator = draw(st.sampled_from([None, *names]))
        entities: dict[str, Any] = {}
        for name in names:
            owners = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=len(pool), unique=True))
            entity: dict[str, Any] = {
                "phases": owned[name],
                "equity": {
                    owner: {"share": share, "discount_rate": rates[owner]}
                    for owner, share in zip(owners, _fractions(draw, len(owners)), strict=True)
                },
            }
            if debt and draw(st.booleans()):
                entity["debt"] = {
                    "loan": {
                        "share_of_capex": draw(st.floats(0, 0.8, allow_subnormal=False)),
                        "interest_rate": draw(st.floats(0.0, 0.15, allow_subnormal=False)),
                        "tenor_years": draw(st.integers(1, 6)),
                        "repayment": draw(st.sampled_from(["annuity", "linear"])),
                    }
                }
            if name == operator:
                entity["operator"] = True
            entities[name] = entity
        data["entities"] = entities
        data["finance"] = {
            "equity": {},
            "dividend_withholding_rate": draw(st.floats(0, 0.3, allow_subnormal=False)),
        }
        entity_of = {phase: name for name, e in entities.items() for phase in e["phases"]}
        streams = data["streams"]
        prices: dict[str, Any] = {}
        for to, stream in streams.items():
            for source in stream.get("feed", {}).get("sources", []):
                if entity_of[streams[source]["phase"]] != entity_of[stream["phase"]]:
                    prices[f"{source}_{to}"] = _transfer_price(draw, source, to, chosen)
        data["transfer_prices"] = prices
        return data

    return build().map(Deal.model_validate)


def scenario_files(**kwargs: Any) -> SearchStrategy[str]:
    """Valid scenario-file YAML text (the :func:`deals` arguments apply).

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.io import parse_deal
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(scenario_files())
    ... def test_every_file_loads(text):
    ...     assert parse_deal(text).streams
    >>> test_every_file_loads()
    """
    return deals(**kwargs).map(dump_deal)


#: Parameter families an override may change, and the factor range that keeps them valid.
_SCALED = (
    ("price_decks.", (0.0, 2.0)),
    (".capex_usd", (0.0, 2.0)),
    (".ore_tpa", (0.0, 2.0)),
    (".capacity_units_per_year", (0.0, 2.0)),
    (".opex_usd_per_t_ore", (0.0, 2.0)),
    ("_rate", (0.0, 1.0)),
)


def overrides(
    deal: Deal,
    *,
    n_scenarios: int | SearchStrategy[int] = _SCENARIOS,
    max_paths: int = 3,
) -> SearchStrategy[dict[str, np.ndarray]]:
    """Valid ``evaluate(deal, overrides=...)`` arrays: up to ``max_paths`` of the deal's
    prices, capex, throughputs, unit costs and rates, each (S,), scaled from its base value
    within a range that keeps it valid (amounts 0-2x, rates 0-1x).

    Examples
    --------
    >>> import numpy as np
    >>> import dealcalc as dc
    >>> from hypothesis import given, settings
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> @settings(max_examples=10, deadline=None)
    ... @given(overrides(deal))
    ... def test_many_at_once_equal_one_at_a_time(over):
    ...     many = dc.evaluate(deal, overrides=over, metrics=["npv_usd"]).npv_usd
    ...     first = dc.evaluate(deal, overrides={k: v[:1] for k, v in over.items()}, metrics=["npv_usd"])
    ...     assert many[0] == first.npv_usd[0]
    >>> test_many_at_once_equal_one_at_a_time()
    """
    leaves = numeric_leaves(deal)
    choices = sorted(
        (path, bounds)
        for path, value in leaves.items()
        for marker, bounds in _SCALED
        if (path.startswith(marker) or path.endswith(marker))
        and not (
            path.startswith("price_decks.")
            and not path.startswith(f"price_decks.{deal.valuation.price_deck}.")
        )
        and value != 0.0
        and not isinstance(value, bool)
        and not path.startswith(("finance.", "uncertainty."))
    )
    if not choices:
        raise ValueError("the deal has no prices, capex, throughputs, unit costs or rates to vary")

    @st.composite
    def build(draw: Any) -> dict[str, np.ndarray]:
        n = draw(_sizes(n_scenarios))
        picked = draw(
            st.lists(st.sampled_from(choices), min_size=1, max_size=max_paths, unique_by=lambda c: c[0])
        )
        out = {}
        for path, (lo, hi) in picked:
            factors = draw(hnp.arrays(np.float64, (n,), elements=st.floats(lo, hi, allow_subnormal=False)))
            out[path] = factors * leaves[path]
        return out

    return build()
