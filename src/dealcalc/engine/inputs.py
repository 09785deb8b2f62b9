"""Numbers of a Deal as the engine sees them: scalars, or arrays over scenarios by path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import check_range, get, numeric_leaves, paths, unused_paths

__all__ = ["Inputs", "Number"]

#: A number as the engine uses it: a float, shape (S, 1) (one value per scenario) or (S, T).
Number = float | FloatArray


@dataclass(frozen=True)
class Inputs:
    """A Deal plus overrides ``{path: array of shape (S,) or (S, T)}`` for one chunk of scenarios.

    ``num(path)`` gives the override (reshaped to broadcast against (S, T)) or the Deal's scalar.
    """

    deal: Deal
    overrides: Mapping[str, FloatArray] = field(default_factory=dict)
    n_scenarios: int = 1
    n_years: int = 1
    _scalars: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def num(self, path: str) -> Number:
        """The value at ``path`` for every scenario, ready to broadcast against (S, T)."""
        if path in self.overrides:
            arr = self.overrides[path]
            return arr[:, None] if arr.ndim == 1 else arr
        if not self._scalars:  # read the Deal's numbers once, not once per lookup
            self._scalars.update(numeric_leaves(self.deal))
        try:
            return self._scalars[path]
        except KeyError:
            return float(get(self.deal, path))


def check_overrides(
    deal: Deal, overrides: Mapping[str, Any], n_years: int
) -> tuple[dict[str, FloatArray], int]:
    """Validate override arrays: known numeric paths, shapes (S,) or (S, T), finite; return S."""
    known = set(paths(deal))
    unused = unused_paths(deal)
    out: dict[str, FloatArray] = {}
    sizes = set()
    for path, value in overrides.items():
        if path not in known:
            why = unused.get(path)
            if why is not None:  # a field this kind of stream never reads
                raise InputError(
                    "this stream never reads it, so varying it would change nothing", field=path, hint=why
                )
            raise InputError(
                "cannot override this parameter",
                field=path,
                hint=did_you_mean(path, known) or "only numeric parameters take arrays",
            )
        if isinstance(get(deal, path), int):
            raise InputError(
                "a whole number that shapes the timeline or the tax schedule cannot vary by scenario",
                field=path,
                hint="value each setting with a named scenario or --set, one run each",
            )
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(
                "override is not numbers", field=path, expected="numbers, one per scenario"
            ) from None
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.shape[0] == 0:
            raise InputError("override has no values", field=path, expected="at least one scenario")
        if arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] != n_years):
            raise InputError(
                f"override has shape {arr.shape}",
                field=path,
                expected=f"(S,) or (S, {n_years}) (scenarios by years)",
            )
        if not np.isfinite(arr).all():
            raise InputError("override contains NaN or infinity", field=path)
        check_range(path, arr)
        sizes.add(arr.shape[0])
        out[path] = arr
    sizes.discard(1)
    if len(sizes) > 1:
        raise InputError(f"overrides disagree on the number of scenarios: {sorted(sizes)}")
    n = sizes.pop() if sizes else 1
    out = {p: (np.repeat(a, n, axis=0) if a.shape[0] == 1 and n > 1 else a) for p, a in out.items()}
    return out, n
