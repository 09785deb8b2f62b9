"""What a trade regime is: dated tariff schedules per product and form, destinations, incidence."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator

from dealcalc.models.base import Fraction, Model, NonNegative, Number, Share

__all__ = [
    "Destination",
    "Form",
    "ProductTariff",
    "RatePath",
    "TariffRate",
    "TariffSchedule",
    "Trade",
    "TradeAttribution",
]

#: The form a product is sold in: a mine stream sells ``concentrate``, a refinery ``refined``.
Form = Literal["concentrate", "refined", "any"]
#: An ad-valorem tariff rate as a fraction of the value, from 0 to 10 (1,000 %): a duty may
#: exceed the value (the US rate on Chinese goods reached 1.45, 145 %, in April 2025). Above 10
#: it is taken for a per cent: ``25 is 2500 %; did you mean 0.25?``.
TariffRate = Annotated[Number, Share(ge=0.0, le=10.0)]
#: Ad-valorem rates by the date they take effect: each holds until the next date; 0 before the first.
RatePath = dict[dt.date, TariffRate]


def _dates_in_order(value: RatePath | None) -> RatePath | None:
    if value is not None and list(value) != sorted(value):
        raise ValueError("give the dates in order, earliest first")
    return value


class ProductTariff(Model):
    """How a schedule treats one product in one form.

    ``exempt`` removes the schedule's general ad-valorem rate (an Annex II line); ``ad_valorem``
    replaces it with the product's own dated path (a Section 232 rate). A specific duty,
    ``specific_usd_per_unit_content``, is charged per unit of the product's price unit contained
    in what is sold (before payability), whatever the ad-valorem treatment (an MFN duty).
    """

    exempt: bool = False
    ad_valorem: RatePath | None = None
    specific_usd_per_unit_content: NonNegative = 0.0
    description: str | None = None

    _order = field_validator("ad_valorem")(_dates_in_order)


class TariffSchedule(Model):
    """A destination's import duties: a general dated ad-valorem path and product exceptions.

    ``products`` maps a product to its treatment per form (``concentrate``, ``refined``, or
    ``any`` for both); a form's own entry wins over ``any``.
    """

    description: str | None = None
    ad_valorem: RatePath = Field(default_factory=dict)
    products: dict[str, dict[Form, ProductTariff]] = Field(default_factory=dict)

    _order = field_validator("ad_valorem")(_dates_in_order)

    def entry(self, product: str, form: Form) -> tuple[Form, ProductTariff | None]:
        """The treatment of ``product`` sold as ``form``: its own form's entry, else ``any``
        (with the key it is under).

        Examples
        --------
        >>> s = TariffSchedule(products={"w": {"any": {"exempt": True}}})
        >>> s.entry("w", "concentrate")[0], s.entry("w", "concentrate")[1].exempt
        ('any', True)
        """
        entries = self.products.get(product, {})
        key: Form = form if form in ("concentrate", "refined") and form in entries else "any"
        return key, entries.get(key)


class Destination(Model):
    """A market the deal sells into.

    ``schedule`` names the tariff schedule in force (none: duty free); switching it is how a
    scenario changes the tariff regime. ``pass_through_fraction`` is the incidence: the share of
    the duty borne by the buyer through a higher price; the exporter bears the rest through a
    lower realised price (docs/methodology.md §13).
    """

    schedule: str | None = None
    pass_through_fraction: Fraction = 1.0
    government: str | None = None
    description: str | None = None


class TradeAttribution(Model):
    """The tariff regimes ``dealcalc compare`` sets side by side for ``destination``."""

    destination: str
    schedules: list[str] = Field(min_length=2)


class Trade(Model):
    """Destinations, the tariff schedules that may apply to them, and the attribution to report."""

    destinations: dict[str, Destination] = Field(default_factory=dict)
    schedules: dict[str, TariffSchedule] = Field(default_factory=dict)
    attribution: TradeAttribution | None = None
