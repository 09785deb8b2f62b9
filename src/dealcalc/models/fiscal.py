"""What a fiscal regime is: an ordered stack of levies, capital allowances and depletion.

A regime is written one of two ways:

- **simply**, with the flat fields of one royalty and one income tax (``royalty_rate``,
  ``income_tax_rate``, super tax, minimum tax and ACT floors, straight-line depreciation, a
  holiday); they stand for the stack of :meth:`FiscalRegime.simple_stack`;
- **as a stack**: ``levies`` in the order they are computed, each with a base (an expression over
  named quantities of the ledger and earlier levies), a rate (flat, graduated brackets or a
  sliding scale), deductibility, credits, a holiday, its loss rules, its timing and the
  government that collects it; ``capital_classes`` for the allowances and ``depletion``.

``preset`` names a regime shipped with dealcalc (``pakistan_2025``, ``us_alaska_2023``,
``canada_yukon_2022``, ``mexico_2024``): the loader reads it and the file's own keys are laid
over
it (docs/scenario-file.md, "fiscal"). Formulas: docs/methodology.md §11.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from dealcalc.models.base import Fraction, Model, NonNegative, Number, PositiveFraction, Whole, Year
from dealcalc.models.schedule import DaysSchedule, FractionSchedule, NonNegativeSchedule

__all__ = [
    "BASE_QUANTITIES",
    "COMMODITIES",
    "AllowanceClass",
    "Alternative",
    "Bracket",
    "Depletion",
    "FiscalRegime",
    "Holiday",
    "Levy",
    "LossRules",
    "SlidingScale",
    "WorkingCapital",
    "parse_base",
]

#: The quantities a levy's base may name (money of the day, per period), besides earlier levies.
BASE_QUANTITIES: dict[str, str] = {
    "revenue": "revenue from every stream and revenue line",
    "turnover": "revenue less the tariff the exporter bears",
    "mine_value": "the gross value of what the mines recover (sold or processed), royalty-bearing share",
    "mine_nsr": "mine_value less the selling charges on royalty-bearing sales (a net smelter return)",
    "selling_charges": "TC/RC, penalties, freight and selling-charge lines",
    "tariff_borne": "the import duty the exporter bears",
    "operating_costs": "mining and processing, refining, purchased feed, overheads, operating-cost lines",
    "ebitda": "turnover less selling charges and operating costs (before any levy)",
    "closure": "closure and reclamation spending",
    "closure_accrued": "the life's closure spending (money of the day) accrued in step with the output: a "
    "reclamation reserve deducted as the ore is mined (IRC §468)",
    "salvage": "salvage proceeds (lines of kind salvage)",
    "initial_capex": "initial capital spent (phases and lines)",
    "sustaining_capex": "sustaining capital spent (phases and lines)",
    "allowances": "capital allowances of the classes of the tax book (tax depreciation); "
    "allowances:BOOK for another book's",
    "depletion": "percentage or cost depletion, within its limit",
    "interest": "interest, fees and amortised capitalised interest (0 in the unlevered project)",
    "royalties": "the levies on the royalty line computed before this one",
    "line:NAME": "a line given directly (lines.NAME), in its own direction",
    "revenue:PRODUCT": "the revenue from selling one product",
}

#: Commodities a preset's base may name by ``revenue:NAME`` whether or not a deal sells them
#: (Mexico's extraordinary duty on gold, silver and platinum): a deal without one has 0 of it.
COMMODITIES = (
    "gold",
    "silver",
    "platinum",
    "palladium",
    "copper",
    "zinc",
    "lead",
    "nickel",
    "cobalt",
    "molybdenum",
    "lithium",
    "uranium",
    "iron_ore",
    "antimony",
    "tungsten",
)

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_TERM = re.compile(rf"\s*([+-])?\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)\s*\*\s*)?({_NAME}(?::{_NAME})?)\s*")


def parse_base(text: str) -> list[tuple[float, str]]:
    """A base expression as ``(coefficient, name)`` terms: ``ebitda - allowances - 0.5*royalty``.

    Examples
    --------
    >>> parse_base("ebitda - allowances - 0.5*royalty")
    [(1.0, 'ebitda'), (-1.0, 'allowances'), (-0.5, 'royalty')]
    """
    terms: list[tuple[float, str]] = []
    pos = 0
    while pos < len(text):
        match = _TERM.match(text, pos)
        if match is None or match.end() == pos or (terms and match.group(1) is None):
            raise ValueError(
                f"cannot read the base {text!r} at {text[pos:]!r}; write names joined by + and -, "
                "each with an optional factor (ebitda - allowances - 0.5*royalty)"
            )
        sign = -1.0 if match.group(1) == "-" else 1.0
        factor = float(match.group(2)) if match.group(2) else 1.0
        terms.append((sign * factor, match.group(3)))
        pos = match.end()
    if not terms:
        raise ValueError("a base needs at least one name")
    return terms


class Bracket(Model):
    """A slice of a graduated rate: ``rate`` applies to the base above ``above`` (US$ of the day,
    or the scale's variable)."""

    above: NonNegative
    rate: Fraction


class SlidingScale(Model):
    """A rate that depends on a ``variable``: ``price:PRODUCT`` (the deck price of the day),
    ``margin`` (the levy's base over revenue) or ``cumulative_revenue``. ``points`` are
    ``[x, rate]`` pairs, x rising; between them the rate steps (the last point at or below x)
    or is interpolated linearly.

    ``on``, the variable's earlier name, is still read: YAML 1.1 reads a plain ``on:`` key as
    true, so ``{on: price:zinc}`` arrives as ``{True: "price:zinc"}``, and either means
    ``variable``.

    Examples
    --------
    >>> SlidingScale.model_validate({True: "margin", "points": [[0, 0.02]]}).variable
    'margin'
    """

    variable: str
    points: list[tuple[Number, Fraction]] = Field(min_length=1)
    interpolate: Literal["step", "linear"] = "step"

    @model_validator(mode="before")
    @classmethod
    def _old_name(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        old = [key for key in data if key is True or key == "on"]
        if not old:
            return data
        if len(old) > 1 or "variable" in data:
            raise ValueError("give the scale's variable once, as variable (on is its earlier name)")
        return {("variable" if key is old[0] else key): value for key, value in data.items()}

    @field_validator("variable")
    @classmethod
    def _variable(cls, value: str) -> str:
        if value not in ("margin", "cumulative_revenue") and not re.fullmatch(rf"price:{_NAME}", value):
            raise ValueError(
                f"{value!r} is not a scale variable; expected price:PRODUCT, margin or cumulative_revenue"
            )
        return value

    @field_validator("points")
    @classmethod
    def _rising(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        xs = [x for x, _ in value]
        if xs != sorted(xs) or len(set(xs)) != len(xs):
            raise ValueError("give the points with x rising")
        return value


class Alternative(Model):
    """One of the bases of a levy that takes the largest of several (a minimum tax on turnover or
    an alternative tax on accounting profit): ``rate`` x max(``base``, 0)."""

    base: str
    rate: FractionSchedule

    @field_validator("base")
    @classmethod
    def _readable(cls, value: str) -> str:
        parse_base(value)
        return value


class Holiday(Model):
    """Years without the levy: ``years`` (a fraction of a year counts pro rata) from the first
    production year or from ``start_year``; after it the rate is capped at ``cap_after``."""

    years: Annotated[Number, Field(ge=0.0, le=100.0)] = 0.0
    start_year: Year | None = None
    cap_after: FractionSchedule | None = None


class LossRules(Model):
    """What happens to a negative base: carried forward ``carry_forward_years`` (None: without
    limit; 0: lost), offsetting at most ``cap_fraction`` of a later year's positive base, oldest
    first; carried back ``carry_back_years`` against earlier bases (the levy paid then is
    refunded); or refunded at the rate in the year itself: ``refund: true`` in every year,
    ``refund: closure`` from the write-off (closure) year on, as studies treat closure spending
    (Casino: tax recovered at 27 % of the closure cost)."""

    carry_forward_years: Annotated[Whole, Field(ge=0, le=100)] | None = 0
    cap_fraction: Fraction = 1.0
    carry_back_years: Annotated[Whole, Field(ge=0, le=20)] = 0
    refund: bool | Literal["closure"] = False


class Depletion(Model):
    """Depletion of mineral property: ``percentage`` of the gross income from each product,
    limited to ``limit_fraction`` of the levy's base before depletion (US: 15 % for Cu, Au, Ag and
    22 % for Pb, Zn, limited to 50 % of taxable income from the property), or cost depletion of
    ``cost_basis_usd`` in step with the units sold, whichever is larger each year. A product's
    gross income is its sales less their selling charges, less its share of the selling-charge
    lines and (``less_royalties``) of the royalty-line levies paid (IRC §613(a): gross income from
    the property excludes rents and royalties paid)."""

    percentage: dict[str, Fraction] = Field(default_factory=dict)
    limit_fraction: Fraction = 0.5
    cost_basis_usd: NonNegative = 0.0
    less_royalties: bool = True


class Levy(Model):
    """One levy of a fiscal stack (docs/methodology.md §11).

    The amount of year t is rate x base after losses, less credits, or with ``alternatives`` the
    largest of their rate x base; a levy that ``tops_up`` others pays only what exceeds them, and
    that excess is a credit against them in later years down to this levy's amount. ``base`` is
    an expression over :data:`BASE_QUANTITIES` and earlier levies; a levy is subtracted from the
    bases of the later levies named in ``deductible_from``, and its payment reduces the levies
    named in ``credit_against``. ``line`` puts it before EBITDA (``royalty``) or after the
    pre-tax cash flow (``tax``); levies with the same ``label`` share a ledger line. A
    ``private`` levy (an NSR royalty to a royalty holder) is collected by a party that is not a
    government: it is no part of any government's take.
    """

    base: str | None = None
    rate: FractionSchedule | None = None
    brackets: list[Bracket] | None = None
    slab: bool = False
    scale: SlidingScale | None = None
    alternatives: list[Alternative] | None = None
    tops_up: list[str] = Field(default_factory=list)
    deductible_from: list[str] = Field(default_factory=list)
    credit_against: list[str] = Field(default_factory=list)
    holiday: Holiday | None = None
    losses: LossRules = Field(default_factory=LossRules)
    timing: Literal["same_year", "arrears"] | list[Fraction] = "same_year"
    collector: str | None = None
    private: bool = False
    line: Literal["royalty", "tax"] = "tax"
    label: str | None = None
    depletion: Depletion | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> Levy:
        if self.private and self.collector is None:
            raise ValueError("a private levy names its collector (the royalty holder)")
        if self.alternatives is not None:
            if self.base is not None or self.rate is not None or self.brackets or self.scale:
                raise ValueError("a levy with alternatives takes its bases and rates from them")
            return self
        if self.base is None:
            raise ValueError("a levy needs a base (or alternatives)")
        parse_base(self.base)
        given = [k for k in ("rate", "brackets", "scale") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of rate, brackets or scale")
        if self.brackets is not None:
            edges = [b.above for b in self.brackets]
            if edges != sorted(edges) or edges[0] != 0.0:
                raise ValueError("brackets start at above: 0 and rise")
        if isinstance(self.timing, list) and abs(sum(self.timing) - 1.0) > 1e-9:
            raise ValueError(f"instalments must sum to 1, they sum to {sum(self.timing):g}")
        return self

    def terms(self) -> list[tuple[float, str]]:
        """The base as ``(coefficient, name)`` terms (empty for a levy of alternatives)."""
        return parse_base(self.base) if self.base is not None else []


class AllowanceClass(Model):
    """How the capital of a class is written off for tax (docs/methodology.md §11).

    ``method``:

    - ``straight_line`` over ``years`` (with ``half_year``: half a year's share in the first
      year and the other half after the last);
    - ``declining_balance`` at ``rate`` of what is left; ``half_year`` halves the first year's
      claim (Canada's half-year rule) and ``first_year_factor`` scales it otherwise (1.5: the
      accelerated investment incentive); with ``switch_to_straight_line`` the claim is the larger
      of the declining balance and what is left spread over the ``years`` of life remaining
      (MACRS: ``rate`` 2/years or 1.5/years, ``half_year``, ``switch_to_straight_line``);
    - ``sum_of_years`` over ``years``; ``table``: a share of cost in each year (sums to 1);
    - ``immediate``: expensed when it starts; ``units_of_production``: in step with the
      deal's output (each mine stream's units mined, as a share of what is left to mine);
    - ``none``: never written off (land).

    ``bonus_fraction`` is expensed at once and the rest follows the method. Capital starts being
    written off when it is spent (``start: spend``) or, for initial capital, from the first
    production year of its phase (``first_production``), or from ``start_year``.

    A class ``takes`` the capital of the kinds it names (``initial``, ``sustaining``) unless a
    phase or line names another class of its ``book`` (``capital_class``). Classes of the book
    ``tax`` make the quantity ``allowances``; another book (a royalty's own depreciation) makes
    ``allowances:BOOK``, so the same capital can be written off differently for two levies.

    With ``limited_to_income`` a year's claim is at most the income left in the base of the levy
    that deducts it, and the rest stays in the pool (Canada's additional allowance; a 100 % class
    capped at income). In the write-off year
    (``fiscal.write_off_year``, default the closure year) what remains is written off
    (``end: write_off``) or lost.
    """

    method: Literal[
        "straight_line",
        "declining_balance",
        "sum_of_years",
        "table",
        "immediate",
        "units_of_production",
        "none",
    ]
    years: Annotated[Whole, Field(ge=1, le=100)] | None = None
    rate: PositiveFraction | None = None
    table: list[Fraction] | None = None
    bonus_fraction: Fraction = 0.0
    half_year: bool = False
    first_year_factor: Annotated[Number, Field(gt=0.0, le=3.0)] | None = None
    switch_to_straight_line: bool = False
    start: Literal["spend", "first_production"] = "first_production"
    start_year: Year | None = None
    takes: list[Literal["initial", "sustaining"]] = Field(default_factory=list)
    book: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = "tax"
    limited_to_income: bool = False
    end: Literal["write_off", "lost"] = "write_off"
    description: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> AllowanceClass:
        needs = {"sum_of_years": "years", "declining_balance": "rate", "table": "table"}
        if self.method == "straight_line" and self.years is None and self.rate is None:
            raise ValueError("method straight_line needs years (or rate, the share of cost a year)")
        wanted = needs.get(self.method)
        if wanted is not None and getattr(self, wanted) is None:
            raise ValueError(f"method {self.method} needs {wanted}")
        if self.table is not None and abs(sum(self.table) - 1.0) > 1e-6:
            raise ValueError(f"a table's shares must sum to 1, they sum to {sum(self.table):g}")
        if self.limited_to_income and self.method not in ("declining_balance", "immediate"):
            raise ValueError("a class limited to income is a pool: use declining_balance or immediate")
        if (
            self.first_year_factor is not None or self.switch_to_straight_line
        ) and self.method != "declining_balance":
            raise ValueError("first_year_factor and switch_to_straight_line belong to declining_balance")
        if self.first_year_factor is not None and self.half_year:
            raise ValueError("give half_year (a first-year factor of 0.5) or first_year_factor, not both")
        if self.switch_to_straight_line and self.years is None:
            raise ValueError("switch_to_straight_line needs years (the recovery period)")
        return self

    @property
    def first_year(self) -> float:
        """The factor on the first year's declining-balance claim."""
        if self.first_year_factor is not None:
            return float(self.first_year_factor)
        return 0.5 if self.half_year else 1.0


class FiscalRegime(Model):
    """The host country's fiscal terms (defaults: none; the example file sets Pakistan's).

    The flat fields describe one royalty and one income tax: ``income_tax_rate`` and
    ``super_tax_rate`` add up on taxable income; super tax applies only in years whose taxable
    income exceeds ``super_tax_threshold_usd``. Tax for a year is the larger of the normal tax,
    the minimum tax on turnover and the alternative corporate tax on accounting profit; what the
    floor takes above the normal tax is a credit against later normal tax above that year's
    floor. ``levies``, ``capital_classes`` and ``depletion`` describe any regime instead; the two
    ways do not mix. ``consolidation`` (a deal of several entities): ``ring_fenced`` (each entity
    pays its own levies on its own base) or ``consolidated`` (the income taxes are the group's,
    on the sum of the entities' bases, shared in proportion to each one's stand-alone tax;
    royalties stay with each entity); docs/methodology.md §31.
    """

    preset: str | None = None
    royalty_rate: FractionSchedule = 0.0
    royalty_base: Literal["gross_value", "net_smelter_return"] = "gross_value"
    income_tax_rate: FractionSchedule = 0.0
    super_tax_rate: FractionSchedule = 0.0
    super_tax_threshold_usd: NonNegativeSchedule = 0.0
    minimum_tax_rate: FractionSchedule = 0.0
    alternative_tax_rate: FractionSchedule = 0.0
    depreciation_years: Annotated[Whole, Field(ge=1, le=100)] = 10  # the default class's years
    loss_carry_forward_years: Annotated[Whole, Field(ge=0, le=100)] = 6
    holiday_years: Annotated[Whole, Field(ge=0, le=100)] = 0
    income_tax_cap_after_holiday: FractionSchedule | None = None
    levies: dict[str, Levy] | None = None
    capital_classes: dict[str, AllowanceClass] | None = None
    depletion: Depletion | None = None
    write_off_year: Year | None = None
    consolidation: Literal["ring_fenced", "consolidated"] = "ring_fenced"

    @model_validator(mode="after")
    def _cap_needs_holiday(self) -> FiscalRegime:
        if self.income_tax_cap_after_holiday is not None and self.holiday_years == 0:
            raise ValueError("income_tax_cap_after_holiday needs holiday_years > 0")
        if self.levies is not None:
            simple = [
                name
                for name in _SIMPLE_FIELDS
                if getattr(self, name) != type(self).model_fields[name].default
            ]
            if simple:
                raise ValueError(
                    f"{', '.join(simple)} belong to the simple regime; with levies, set them in the levies "
                    "(fiscal.levies.NAME.rate)"
                )
            self._check_stack(self.levies, {c.book for c in self.classes().values()})
        for book in {c.book for c in self.classes().values()}:
            for kind in ("initial", "sustaining"):
                takers = [n for n, c in self.classes().items() if c.book == book and kind in c.takes]
                if len(takers) > 1:
                    raise ValueError(
                        f"classes {', '.join(takers)} of the book {book!r} all take {kind} capital; "
                        "one class of a book takes each kind (name the others with capital_class)"
                    )
        return self

    @staticmethod
    def _check_stack(levies: dict[str, Levy], books: set[str]) -> None:
        seen: list[str] = []
        for name, levy in levies.items():
            if name in BASE_QUANTITIES:
                raise ValueError(f"levy {name!r} has the name of a quantity; call it something else")
            bases = [levy.base] if levy.base is not None else [a.base for a in levy.alternatives or []]
            for base in bases:
                for _, term in parse_base(base):
                    if term.split(":", 1)[0] in ("line", "revenue"):
                        continue  # a line given directly or a product; the Deal checks them
                    if term.startswith("allowances:"):
                        if term.split(":", 1)[1] not in books:
                            raise ValueError(
                                f"levies.{name}.base names {term!r}, but no capital class is in that book "
                                f"(books: {', '.join(sorted(books))})"
                            )
                        continue
                    if term not in BASE_QUANTITIES and term not in seen:
                        known = ", ".join([*BASE_QUANTITIES, *seen])
                        later = " (a levy may only name earlier levies)" if term in levies else ""
                        raise ValueError(f"levies.{name}.base names {term!r}{later}; it may name {known}")
            for other in levy.tops_up:
                if other not in seen:
                    raise ValueError(f"levies.{name}.tops_up: {other!r} is not an earlier levy")
            for key in ("deductible_from", "credit_against"):
                for other in getattr(levy, key):
                    if other not in levies or other in seen or other == name:
                        raise ValueError(f"levies.{name}.{key}: {other!r} is not a later levy")
            seen.append(name)

    @property
    def uses_stack(self) -> bool:
        """Whether the regime is written as a stack of levies."""
        return self.levies is not None

    def classes(self) -> dict[str, AllowanceClass]:
        """The capital-allowance classes: those given, or one ``default`` class written off
        straight line over ``depreciation_years`` from the first production year."""
        if self.capital_classes is not None:
            return self.capital_classes
        return {
            "default": AllowanceClass(
                method="straight_line", years=self.depreciation_years, takes=["initial", "sustaining"]
            )
        }


#: The fields of the simple regime (one royalty, one income tax with its floors).
_SIMPLE_FIELDS = (
    "royalty_rate",
    "royalty_base",
    "income_tax_rate",
    "super_tax_rate",
    "super_tax_threshold_usd",
    "minimum_tax_rate",
    "alternative_tax_rate",
    "loss_carry_forward_years",
    "holiday_years",
    "income_tax_cap_after_holiday",
)


class WorkingCapital(Model):
    """Working capital in days (each a schedule): receivables of turnover (revenue less the
    tariff the exporter bears), inventory and payables of cash operating costs."""

    receivable_days: DaysSchedule = 0.0
    inventory_days: DaysSchedule = 0.0
    payable_days: DaysSchedule = 0.0
