"""How a deal is valued: pure functions on (S, T) arrays, one module per models/ module."""

from dealcalc.engine.ledger import Ledger
from dealcalc.engine.run import ChunkResult, build_ledger, evaluate_chunks

__all__ = ["ChunkResult", "Ledger", "build_ledger", "evaluate_chunks"]
