"""What a fiscal regime is: royalty, income tax, minimum and alternative tax, losses, holiday."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from dealcalc.models.base import Model
from dealcalc.models.schedule import DaysSchedule, FractionSchedule, NonNegativeSchedule

__all__ = ["FiscalRegime", "WorkingCapital"]


class FiscalRegime(Model):
    """The host country's fiscal terms (defaults: none; the example file sets Pakistan's).

    Attributes are fractions of their base. ``income_tax_rate`` and ``super_tax_rate`` add up
    on taxable income; super tax applies only in years whose taxable income exceeds
    ``super_tax_threshold_usd``. Tax for a year is the larger of the normal tax, the minimum tax
    on turnover and the alternative corporate tax on accounting profit; what the floor takes above
    the normal tax is a credit against later normal tax above that year's floor.
    """

    royalty_rate: FractionSchedule = 0.0
    royalty_base: Literal["gross_value", "net_smelter_return"] = "gross_value"
    income_tax_rate: FractionSchedule = 0.0
    super_tax_rate: FractionSchedule = 0.0
    super_tax_threshold_usd: NonNegativeSchedule = 0.0
    minimum_tax_rate: FractionSchedule = 0.0
    alternative_tax_rate: FractionSchedule = 0.0
    depreciation_years: Annotated[int, Field(ge=1, le=100)] = 10
    loss_carry_forward_years: Annotated[int, Field(ge=0, le=100)] = 6
    holiday_years: Annotated[int, Field(ge=0, le=100)] = 0
    income_tax_cap_after_holiday: FractionSchedule | None = None

    @model_validator(mode="after")
    def _cap_needs_holiday(self) -> FiscalRegime:
        if self.income_tax_cap_after_holiday is not None and self.holiday_years == 0:
            raise ValueError("income_tax_cap_after_holiday needs holiday_years > 0")
        return self


class WorkingCapital(Model):
    """Working capital in days (each a schedule): receivables of turnover (revenue less the
    tariff the exporter bears), inventory and payables of cash operating costs."""

    receivable_days: DaysSchedule = 0.0
    inventory_days: DaysSchedule = 0.0
    payable_days: DaysSchedule = 0.0
