"""The Streams sheet of the Excel model: production, the material balance, sales and duty as
live formulas of the physical and commercial inputs (methodology §9 and §13).

Per mine stream: ore × grade × units per tonne × recovery × the year's profile (ramp-up and
availability) is what it recovers; a processing stream takes feed from its sources in order,
own material first, ``MIN(what the source has left, what it still needs)``, buys the rest (up to
its cap) and makes (own + bought) × its recovery; what no stream takes is sold. Revenue is sold
× payable × price; the selling charges are TC, penalties and freight per tonne of concentrate
and RC per payable unit; the duty on each destination is the tariff rate (the year's
time-weighted average of its dated rates, each an input) on the exporter's realised value,
plus the specific duty, split by the pass-through. Each number the file gives as one value is
an input cell with a defined name on the Inputs sheet; one given per year is a row of input
cells here. The profile (ramp-up, gates, availability) and the escalation are values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dealcalc.engine.inputs import GRAMS_PER_TONNE, EngineInputs, MineInputs, ProcessingInputs
from dealcalc.engine.trade import year_weights
from dealcalc.models import Deal
from dealcalc.report.excel_live import Grid, X, const, xmin, xsum
from dealcalc.report.excel_stack import LiveInput, excel_name

__all__ = ["InputRegistry", "StreamsOut", "write_streams"]


@dataclass
class InputRegistry:
    """The Inputs sheet's cells, collected as the live sheets are planned (one per path)."""

    n: int
    items: list[LiveInput] = field(default_factory=list)
    _by_path: dict[str, LiveInput] = field(default_factory=dict)

    def scalar(self, path: str, label: str, unit: str, value: float, name: str) -> X:
        """An input cell with a defined name; the same path is one cell however often asked."""
        item = self._by_path.get(path)
        if item is None:
            item = LiveInput(path, label, unit, float(value), name)
            self._by_path[path] = item
            self.items.append(item)
        nm = item.name
        return X(lambda t: nm, np.full(self.n, item.value))


@dataclass(frozen=True)
class StreamsOut:
    """What the ledger and the stack read from the Streams sheet (each in the deal's money)."""

    revenue: dict[str, X]  # by stream
    charges: dict[str, X]
    royalty_base: dict[str, X]
    royalty_charges: dict[str, X]
    mining: X  # after the local-currency cost factor
    conversion: X
    feed: X
    tariff_borne: X
    borne_by_government: dict[str, X]
    collected_by_government: dict[str, X]
    borne_by_buyers: X
    product_of: dict[str, str]
    price: dict[str, X]  # by product, the deal's money


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


class _Streams:
    def __init__(
        self, deal: Deal, inputs: EngineInputs, grid: Grid, reg: InputRegistry, fmt: dict[str, Any]
    ) -> None:
        self.deal, self.inputs, self.grid, self.reg, self.fmt = deal, inputs, grid, reg, fmt
        self.n = grid.n
        tl = inputs.timeline
        self.esc = grid.values(
            "esc", "Escalation (money of the deal per unit of price)", tl.escalation, fmt["coef"]
        )
        self.opex_fx = grid.values(
            "opex_fx", "Local-currency cost factor (operating costs)", inputs.opex_fx, fmt["coef"]
        )
        self.ore_rows: dict[str, tuple[X, X]] = {}
        self.prices: dict[str, X] = {}
        self.out_revenue: dict[str, X] = {}
        self.out_charges: dict[str, X] = {}
        self.out_royalty: dict[str, X] = {}
        self.out_royalty_charges: dict[str, X] = {}
        self.mining: list[X] = []
        self.conversion: list[X] = []
        self.feed: list[X] = []
        self.buyers: list[X] = []
        self.borne: dict[str, list[X]] = {}
        self.collected: dict[str, list[X]] = {}

    # -- inputs
    def param(
        self,
        stream: str,
        fld: str,
        label: str,
        unit: str,
        resolved: Any,
        *,
        scale: float = 1.0,
        path: str = "",
    ) -> X:
        """A stream's input: a named cell when the file gives one number, else a row of input
        cells on this sheet (in the file's unit; ``scale`` turns it into the engine's)."""
        path = path or f"streams.{stream}.{fld}"
        raw = _raw(self.deal, path)
        if raw is None or _is_number(raw):
            value = (
                float(np.asarray(resolved, dtype=np.float64).reshape(-1)[0]) / scale
                if raw is None
                else float(raw)
            )
            x = self.reg.scalar(
                path, f"{label}: {stream}", unit, value, excel_name(fld.replace(".", "_"), stream)
            )
        else:
            row = np.asarray(resolved, dtype=np.float64) / scale
            x = self.grid.values(
                f"in|{path}",
                f"{label}: {stream} (input, by year)",
                row,
                self.fmt["num"],
                unit=unit,
                how=path,
                edit=self.fmt["edit_num"],
            )
        return x if scale == 1.0 else x * scale

    def price(self, product: str, resolved: Any) -> X:
        deck = self.deal.valuation.price_deck
        path = f"price_decks.{deck}.{product}"
        raw = self.deal.price_decks[deck][product]
        unit = f"USD/{self.deal.products[product].unit}"
        if _is_number(raw):
            value = float(raw)  # type: ignore[arg-type]
            return self.reg.scalar(path, f"Price: {product}", unit, value, excel_name("price", product))
        key = f"in|{path}"
        if key in self.grid.at:
            return self.grid.ref(key, here=self.grid.name)
        return self.grid.values(
            key,
            f"Price: {product} (input, by year)",
            resolved,
            self.fmt["num"],
            unit=unit,
            how=path,
            edit=self.fmt["edit_num"],
        )

    def row(self, key: str, label: str, x: X, unit: str = "", fmt: str = "money") -> X:
        return self.grid.formula(key, label, x, self.fmt[fmt], unit=unit)

    # -- streams
    def mine(self, s: MineInputs) -> tuple[X, X]:
        """(recovered units, its profile) of a mine stream."""
        n, name = s.name, s.name
        g = self.grid
        g.skip(f"Mine stream {n} ({s.product}, {s.unit})", self.fmt["bold"])
        profile = g.values(
            f"{n}|profile", f"{n}: profile (ramp-up × availability)", s.profile, self.fmt["coef"]
        )
        if s.ore is None:
            assert s.recovered_units is not None
            units = self.param(
                name, "recovered_units_per_year", "Stated output", f"{s.unit}/yr", s.recovered_units
            )
            recovered = self.row(f"{n}|recovered", f"{n}: recovered", units * profile, s.unit, "num")
            return recovered, profile
        ore = self.param(name, "ore_tpa", "Ore", "t/yr", s.ore)
        stream = self.deal.streams[name]
        if stream.grade is not None:
            grade = self.param(name, "grade", "Grade", "fraction", s.grade)
        else:
            grade = self.param(name, "grade_g_per_t", "Grade", "g/t", s.grade, scale=1.0 / GRAMS_PER_TONNE)
        recovery = self.param(name, "recovery", "Recovery", "fraction", s.recovery)
        mined = self.row(
            f"{n}|mined",
            f"{n}: contained in ore mined",
            ore * grade * s.units_per_tonne * profile,
            s.unit,
            "num",
        )
        recovered = self.row(f"{n}|recovered", f"{n}: recovered", mined * recovery, s.unit, "num")
        self.ore_rows[name] = (ore, profile)
        return recovered, profile

    def mine_money(self, s: MineInputs, recovered: X, sold: X) -> None:
        n, esc = s.name, self.esc
        price = self.price(s.product, s.price) * esc
        self.prices[s.product] = price
        payable = self.param(n, "payable_fraction", "Payable", "fraction", s.payable)
        per_t = self.param(
            n, "freight_usd_per_t_product", "Freight per t product", "USD/t", s.freight_per_t_product
        )
        stream = self.deal.streams[n]
        if s.concentrate_grade is not None:
            tc = self.param(n, "treatment_charge_usd_per_dmt", "TC", "USD/dmt", s.treatment_per_dmt)
            pen = self.param(n, "penalties_usd_per_dmt", "Penalties", "USD/dmt", s.penalties_per_dmt)
            fr = self.param(n, "freight_usd_per_wmt", "Freight", "USD/wmt", s.freight_per_wmt)
            moist = self.param(n, "moisture_fraction", "Moisture", "fraction", s.moisture)
            conc = self.param(n, "concentrate_grade", "Concentrate grade", "fraction", s.concentrate_grade)
            per_t = per_t + (tc + pen + fr / (1.0 - moist)) / conc
        rc = self.param(n, "refining_charge_usd_per_unit", "RC", f"USD/{s.unit}", s.refining_per_unit)
        per_unit = per_t / s.units_per_tonne + payable * rc
        share = (
            const(1.0, self.n)
            if stream.royalty_bearing_fraction is None
            else self.param(
                n, "royalty_bearing_fraction", "Royalty-bearing share", "fraction", s.royalty_share
            )
        )
        revenue = self.row(f"{n}|revenue", f"{n}: revenue", sold * payable * price, "USD")
        charges = self.row(
            f"{n}|charges", f"{n}: selling charges (TC/RC, freight)", sold * per_unit * esc, "USD"
        )
        self.out_revenue[n] = revenue
        self.out_charges[n] = charges
        self.out_royalty[n] = self.row(
            f"{n}|royalty_base", f"{n}: value owing royalty", recovered * payable * price * share, "USD"
        )
        self.out_royalty_charges[n] = charges * share
        fixed = self.param(n, "fixed_opex_usd_per_year", "Fixed cost", "USD/yr", s.fixed_opex)
        producing = self.grid.values(
            f"{n}|producing", f"{n}: producing (1 = yes)", s.producing, self.fmt["coef"]
        )
        cost = fixed * producing * esc
        if s.ore is not None:
            ore, profile = self.ore_rows[n]
            opex = self.param(n, "opex_usd_per_t_ore", "Operating cost", "USD/t ore", s.opex_per_t_ore)
            cost = ore * opex * profile * esc + cost
        self.mining.append(self.row(f"{n}|mining", f"{n}: mining and processing cost", cost, "USD"))
        self.sales(s, revenue, sold)

    def processing_money(self, p: ProcessingInputs, made: X, sold: X, bought: X | None) -> None:
        n, esc = p.name, self.esc
        price = self.price(p.product, p.price) * esc
        self.prices[p.product] = price
        payable = self.param(n, "payable_fraction", "Payable", "fraction", p.payable)
        revenue = self.row(f"{n}|revenue", f"{n}: revenue", sold * payable * price, "USD")
        per_t = self.param(
            n, "freight_usd_per_t_product", "Freight per t product", "USD/t", p.freight_per_t_product
        )
        charges = self.row(
            f"{n}|charges", f"{n}: selling charges (freight)", sold * (per_t / p.units_per_tonne) * esc, "USD"
        )
        stream = self.deal.streams[n]
        share = (
            const(0.0, self.n)
            if stream.royalty_bearing_fraction is None
            else self.param(
                n, "royalty_bearing_fraction", "Royalty-bearing share", "fraction", p.royalty_share
            )
        )
        self.out_revenue[n] = revenue
        self.out_charges[n] = charges
        self.out_royalty[n] = revenue * share
        self.out_royalty_charges[n] = charges * share
        fixed = self.param(n, "fixed_opex_usd_per_year", "Fixed cost", "USD/yr", p.fixed_opex)
        producing = self.grid.values(
            f"{n}|producing", f"{n}: producing (1 = yes)", p.producing, self.fmt["coef"]
        )
        self.mining.append(self.row(f"{n}|fixed", f"{n}: fixed cost", fixed * producing * esc, "USD"))
        conv = self.param(
            n, "conversion_cost_usd_per_unit", "Conversion cost", f"USD/{p.unit}", p.conversion_per_unit
        )
        self.conversion.append(self.row(f"{n}|conversion", f"{n}: conversion cost", made * conv * esc, "USD"))
        if bought is not None and p.purchase_price is not None:
            feed = stream.feed
            assert feed is not None and feed.purchase is not None
            if feed.purchase.price_fraction is not None:
                deck = _feed_price(self.inputs, stream.feed_product, p)
                with np.errstate(divide="ignore", invalid="ignore"):
                    fraction = np.asarray(p.purchase_price, dtype=np.float64) / np.asarray(
                        deck, dtype=np.float64
                    )
                frac = self.param(
                    n, "feed.purchase.price_fraction", "Bought feed, share of price", "fraction", fraction
                )
                unit_price = frac * self.price(stream.feed_product, deck)
            else:
                unit_price = self.param(
                    n,
                    "feed.purchase.price_usd_per_unit",
                    "Bought feed price",
                    f"USD/{p.unit}",
                    p.purchase_price,
                )
            self.feed.append(
                self.row(f"{n}|feed", f"{n}: bought feed cost", bought * unit_price * esc, "USD")
            )
        self.sales(p, revenue, sold)

    def sales(self, s: MineInputs | ProcessingInputs, revenue: X, sold: X) -> None:
        """The duty on each destination, with who bears it (methodology §13)."""
        stream = self.deal.streams[s.name]
        form = "concentrate" if s.name in {m.name for m in self.inputs.mines} else "refined"
        for sale in s.sales:
            d = sale.destination
            dest = self.deal.trade.destinations[d]
            assert dest.schedule is not None
            rate = self.tariff_rate(dest.schedule, stream.product, form, sale.rate)
            share = self.reg.scalar(
                f"streams.{s.name}.sales_shares.{d}",
                f"Sales share: {s.name} to {d}",
                "fraction",
                float(np.asarray(sale.share).reshape(-1)[0]),
                excel_name("sales_share", s.name, d),
            )
            through = self.reg.scalar(
                f"trade.destinations.{d}.pass_through_fraction",
                f"Pass-through to buyers: {d}",
                "fraction",
                1.0 - float(np.asarray(sale.bears).reshape(-1)[0]),
                excel_name("pass_through", d),
            )
            bears = 1.0 - through
            specific = self.specific(dest.schedule, stream.product, form, sale.specific) * self.esc
            value, units = revenue * share, sold * share
            realised = self.row(
                f"{s.name}|{d}|realised",
                f"{s.name} to {d}: realised value",
                (value - bears * specific * units) / (1.0 + bears * rate),
                "USD",
            )
            collected = self.row(
                f"{s.name}|{d}|duty",
                f"{s.name} to {d}: duty collected",
                rate * realised + specific * units,
                "USD",
            )
            borne = self.row(
                f"{s.name}|{d}|borne", f"{s.name} to {d}: duty borne by the exporter", value - realised, "USD"
            )
            gov = sale.government
            self.borne.setdefault(gov, []).append(borne)
            self.collected.setdefault(gov, []).append(collected)
            self.buyers.append(collected - borne)

    def tariff_rate(self, schedule_name: str, product: str, form: str, resolved: Any) -> X:
        schedule = self.deal.trade.schedules[schedule_name]
        key, entry = schedule.entry(product, form)  # type: ignore[arg-type]
        if entry is not None and entry.ad_valorem is not None:
            prefix, path = (
                f"trade.schedules.{schedule_name}.products.{product}.{key}.ad_valorem",
                entry.ad_valorem,
            )
            label = f"Tariff {schedule_name}, {product} {key}"
        elif entry is not None and entry.exempt:
            return const(0.0, self.n)
        else:
            prefix, path = f"trade.schedules.{schedule_name}.ad_valorem", schedule.ad_valorem
            label = f"Tariff {schedule_name}"
        dates: list[dt.date] = list(path)
        if not dates:
            return const(0.0, self.n)
        weights = year_weights(dates, self.inputs.timeline.periods.calendar_years)
        terms = []
        for k, date in enumerate(dates):
            if not weights[k].any():
                continue
            rate = self.reg.scalar(
                f"{prefix}.{date.isoformat()}",
                f"{label} from {date.isoformat()}",
                "fraction",
                float(_plain(path[date])),
                excel_name("tariff", prefix.split(".", 2)[2], date.isoformat()),
            )
            w = self.grid.values(
                f"w|{prefix}|{date}", f"{label}: weight of the rate from {date}", weights[k], self.fmt["coef"]
            )
            terms.append(rate * w)
        out = self.row(
            f"rate|{prefix}", f"{label}: rate of the year", xsum(terms, self.n), "fraction", "frac"
        )
        assert np.allclose(out.v, np.asarray(resolved, dtype=np.float64)), prefix
        return out

    def specific(self, schedule_name: str, product: str, form: str, resolved: Any) -> X:
        schedule = self.deal.trade.schedules[schedule_name]
        key, entry = schedule.entry(product, form)  # type: ignore[arg-type]
        if entry is None or not entry.specific_usd_per_unit_content:
            return const(0.0, self.n)
        path = f"trade.schedules.{schedule_name}.products.{product}.{key}.specific_usd_per_unit_content"
        return self.reg.scalar(
            path,
            f"Specific duty {schedule_name}, {product} {key}",
            "USD/unit",
            float(_plain(entry.specific_usd_per_unit_content)),
            excel_name("specific", schedule_name, product, key),
        )


def _plain(x: Any) -> float:
    return float(getattr(x, "value", x))


def _raw(deal: Deal, path: str) -> Any:
    """The file's value at ``path`` (a number, a schedule, or None when not given)."""
    from dealcalc.params import get

    try:
        return get(deal, path)
    except Exception:  # a field the file leaves out (a default the engine fills in)
        return None


def _feed_price(inputs: EngineInputs, product: str, p: ProcessingInputs) -> Any:
    streams: list[MineInputs | ProcessingInputs] = [*inputs.mines, *inputs.processing]
    for s in streams:
        if s.product == product:
            return s.price
    return p.price


def write_streams(
    deal: Deal, inputs: EngineInputs, grid: Grid, reg: InputRegistry, fmt: dict[str, Any]
) -> StreamsOut:
    """Write the Streams sheet's rows and return what the ledger reads from it."""
    w = _Streams(deal, inputs, grid, reg, fmt)
    n = grid.n
    left: dict[str, X] = {}
    recovered: dict[str, X] = {}
    for s in inputs.mines:
        recovered[s.name], _ = w.mine(s)
        left[s.name] = recovered[s.name]
    made: dict[str, X] = dict(recovered)
    bought: dict[str, X | None] = {}
    for p in inputs.processing:
        grid.skip(f"Processing stream {p.name} ({p.product}, {p.unit})", fmt["bold"])
        profile = grid.values(
            f"{p.name}|profile", f"{p.name}: profile (ramp-up × availability)", p.profile, fmt["coef"]
        )
        capacity = w.param(p.name, "capacity_units_per_year", "Capacity", f"{p.unit}/yr", p.capacity)
        output = capacity * profile
        if not p.fed:
            made[p.name] = left[p.name] = w.row(f"{p.name}|made", f"{p.name}: made", output, p.unit, "num")
            bought[p.name] = None
            continue
        recovery = w.param(p.name, "feed.recovery", "Feed recovery", "fraction", p.recovery)
        need = w.row(f"{p.name}|need", f"{p.name}: feed needed", output / recovery, p.unit, "num")
        taken: list[X] = []
        for source in p.sources:
            take = w.row(
                f"{p.name}|from|{source}",
                f"{p.name}: fed from {source}",
                xmin(left[source], need),
                p.unit,
                "num",
            )
            left[source] = w.row(
                f"{source}|left|{p.name}",
                f"{source}: left after feeding {p.name}",
                left[source] - take,
                p.unit,
                "num",
            )
            need = w.row(
                f"{p.name}|need|{source}", f"{p.name}: feed still needed", need - take, p.unit, "num"
            )
            taken.append(take)
        buy: X | None = None
        if p.purchase_price is not None:
            if p.purchase_cap is None:
                buy = need
            else:
                cap = w.param(
                    p.name,
                    "feed.purchase.max_units_per_year",
                    "Bought feed cap",
                    f"{p.unit}/yr",
                    p.purchase_cap,
                )
                buy = xmin(need, cap)
            buy = w.row(f"{p.name}|bought", f"{p.name}: bought feed", buy, p.unit, "num")
        bought[p.name] = buy
        total = xsum(taken + ([buy] if buy is not None else []), n)
        made[p.name] = left[p.name] = w.row(
            f"{p.name}|made", f"{p.name}: made", total * recovery, p.unit, "num"
        )
    grid.skip("Sales, in the deal's money", fmt["bold"])
    sold = {name: w.row(f"{name}|sold", f"{name}: sold", x, "", "num") for name, x in left.items()}
    for s in inputs.mines:
        w.mine_money(s, recovered[s.name], sold[s.name])
    for p in inputs.processing:
        w.processing_money(p, made[p.name], sold[p.name], bought[p.name])
    order = list(inputs.stream_order)
    opex_fx = w.opex_fx
    return StreamsOut(
        revenue={k: w.out_revenue[k] for k in order},
        charges={k: w.out_charges[k] for k in order},
        royalty_base={k: w.out_royalty[k] for k in order},
        royalty_charges={k: w.out_royalty_charges[k] for k in order},
        mining=xsum(w.mining, n) * opex_fx,
        conversion=xsum(w.conversion, n) * opex_fx,
        feed=xsum(w.feed, n),
        tariff_borne=xsum([x for v in w.borne.values() for x in v], n),
        borne_by_government={g: xsum(v, n) for g, v in w.borne.items()},
        collected_by_government={g: xsum(v, n) for g, v in w.collected.items()},
        borne_by_buyers=xsum(w.buyers, n),
        product_of={s.name: s.product for s in inputs.mines} | {p.name: p.product for p in inputs.processing},
        price=w.prices,
    )
