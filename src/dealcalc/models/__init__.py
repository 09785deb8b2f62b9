"""What a deal is: validated, frozen data (pydantic v2) and no finance arithmetic."""

from dealcalc.models.base import Provenance
from dealcalc.models.deal import (
    Closure,
    Deal,
    Gate,
    Overhead,
    Phase,
    ScenarioOverlay,
    Valuation,
)
from dealcalc.models.fiscal import FiscalRegime, WorkingCapital
from dealcalc.models.streams import UNITS_PER_TONNE, Product, Stream

__all__ = [
    "UNITS_PER_TONNE",
    "Closure",
    "Deal",
    "FiscalRegime",
    "Gate",
    "Overhead",
    "Phase",
    "Product",
    "Provenance",
    "ScenarioOverlay",
    "Stream",
    "Valuation",
    "WorkingCapital",
]
