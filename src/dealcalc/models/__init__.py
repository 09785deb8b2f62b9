"""What a deal is: validated, frozen data (pydantic v2) and no finance arithmetic."""

from dealcalc.models.base import Provenance
from dealcalc.models.currency import LocalCurrency
from dealcalc.models.deal import (
    Closure,
    Deal,
    Gate,
    Operations,
    Overhead,
    Phase,
    ScenarioOverlay,
    Valuation,
)
from dealcalc.models.finance import DebtTranche, EquityHolder, Finance
from dealcalc.models.fiscal import FiscalRegime, WorkingCapital
from dealcalc.models.risk import Disruption, Distribution, Expropriation, PricePath, Switch, Uncertainty
from dealcalc.models.streams import UNITS_PER_TONNE, Product, Stream
from dealcalc.models.trade import Destination, ProductTariff, TariffSchedule, Trade, TradeAttribution

__all__ = [
    "UNITS_PER_TONNE",
    "Closure",
    "Deal",
    "DebtTranche",
    "Destination",
    "Disruption",
    "Distribution",
    "EquityHolder",
    "Expropriation",
    "Finance",
    "FiscalRegime",
    "Gate",
    "LocalCurrency",
    "Operations",
    "Overhead",
    "Phase",
    "PricePath",
    "Product",
    "ProductTariff",
    "Provenance",
    "ScenarioOverlay",
    "Stream",
    "Switch",
    "TariffSchedule",
    "Trade",
    "TradeAttribution",
    "Uncertainty",
    "Valuation",
    "WorkingCapital",
]
