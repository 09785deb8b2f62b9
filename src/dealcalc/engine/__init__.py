"""How a deal is valued: resolve once per chunk, then pure kernels on (S, T) arrays.

One module per ``models/`` module; ``inputs.resolve`` is the only place that reads parameter
paths, ``lines`` declares every ledger line, ``run`` puts the kernels together.
"""

from dealcalc.engine.inputs import EngineInputs, resolve
from dealcalc.engine.ledger import Ledger
from dealcalc.engine.run import ChunkResult, build_ledger, evaluate_chunks

__all__ = ["ChunkResult", "EngineInputs", "Ledger", "build_ledger", "evaluate_chunks", "resolve"]
