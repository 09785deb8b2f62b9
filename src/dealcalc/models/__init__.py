"""What a deal is: validated, frozen data (pydantic v2) and no finance arithmetic."""

from dealcalc.models.base import Provenance
from dealcalc.models.currency import LocalCurrency
from dealcalc.models.deal import (
    Closure,
    Deal,
    DealProblems,
    Gate,
    Operations,
    Overhead,
    Phase,
    ScenarioOverlay,
    ValuationSettings,
)
from dealcalc.models.finance import DebtTranche, EquityHolder, Finance
from dealcalc.models.fiscal import (
    AllowanceClass,
    Alternative,
    Bracket,
    Depletion,
    FiscalRegime,
    Holiday,
    Levy,
    LossRules,
    SlidingScale,
    WorkingCapital,
)
from dealcalc.models.metal_stream import MetalStream, RoyaltySale, StreamPrice, StreamTier
from dealcalc.models.offtake import Offtake, OfftakePrice
from dealcalc.models.periods import Periods
from dealcalc.models.risk import Disruption, Distribution, Expropriation, PricePath, Switch, Uncertainty
from dealcalc.models.schedule import Schedule
from dealcalc.models.streams import UNITS_PER_TONNE, Feed, Product, Purchase, Stream
from dealcalc.models.trade import Destination, ProductTariff, TariffSchedule, Trade, TradeAttribution

__all__ = [
    "UNITS_PER_TONNE",
    "AllowanceClass",
    "Alternative",
    "Bracket",
    "Closure",
    "Deal",
    "DealProblems",
    "DebtTranche",
    "Depletion",
    "Destination",
    "Disruption",
    "Distribution",
    "EquityHolder",
    "Expropriation",
    "Feed",
    "Finance",
    "FiscalRegime",
    "Gate",
    "Holiday",
    "Levy",
    "LocalCurrency",
    "LossRules",
    "MetalStream",
    "Offtake",
    "OfftakePrice",
    "Operations",
    "Overhead",
    "Periods",
    "Phase",
    "PricePath",
    "Product",
    "ProductTariff",
    "Provenance",
    "Purchase",
    "RoyaltySale",
    "ScenarioOverlay",
    "Schedule",
    "SlidingScale",
    "Stream",
    "StreamPrice",
    "StreamTier",
    "Switch",
    "TariffSchedule",
    "Trade",
    "TradeAttribution",
    "Uncertainty",
    "ValuationSettings",
    "WorkingCapital",
]
