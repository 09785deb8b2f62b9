"""Shared validation, the return rule and the time-major kernels of the metrics.

Shapes: ``values`` is ``(T,)`` (one cash-flow series) or ``(S, T)`` (S scenarios by T periods);
``rate`` is ``()`` or ``(S,)``. The scenario axis is aligned, never crossed implicitly.

The return rule, the same for every metric: a 0-d result is returned as a Python ``float``;
anything else is a ``numpy.ndarray`` of ``float64``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dealcalc.errors import InputError

FloatArray: TypeAlias = NDArray[np.float64]
BoolArray: TypeAlias = NDArray[np.bool_]
IntArray: TypeAlias = NDArray[np.int64]
Timing: TypeAlias = Literal["t0", "end", "mid"]

#: Most rows per block when a (S, T) input is worked on time-major. Rows are split into equal
#: blocks of at most this many (10,000 rows: one block, not 8192 + 1808, whose short tail costs
#: as much per call as a full block). Vectors of <= 16384 doubles amortise numpy's per-call
#: cost while the few a kernel keeps live stay in cache (perf-anchors.md §5).
CHUNK_ROWS = 16_384
#: Rows per piece when a row-major block is transposed: 4096 x 30 x 8 bytes = 1 MiB stays in
#: cache; one 32k-row transpose does not, and costs about 3x more per row.
TRANSPOSE_ROWS = 4_096

_TIMING_OFFSET: dict[str, float] = {"t0": 0.0, "end": 1.0, "mid": 0.5}


def timing_offset(timing: str) -> float:
    """Periods between the valuation date and ``values[0]`` for a timing convention."""
    try:
        return _TIMING_OFFSET[timing]
    except KeyError:
        raise ValueError(f"timing must be one of 't0', 'end', 'mid', got {timing!r}") from None


def as_values(values: ArrayLike, *, min_periods: int = 1, check_finite: bool = True) -> FloatArray:
    """Validate cash flows: a finite float array of shape (T,) or (S, T).

    With ``check_finite=False`` the caller promises to call :func:`require_finite` on a result
    that a non-finite input would make non-finite (NPV), which saves a pass over the data.
    Finite values of any size are accepted: the metrics rescale rows whose size would overflow
    or underflow (:func:`row_exponents`).
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(f"values must have shape (T,) or (S, T), got shape {arr.shape}")
    if arr.shape[-1] < min_periods:
        raise ValueError(f"values need at least {min_periods} period(s), got {arr.shape[-1]}")
    # A finite sum proves every value finite (NaN and inf propagate) without a boolean
    # temporary as large as the input; only a non-finite sum needs the element-wise look
    # (finite values near 1e308 can add up to infinity too).
    if check_finite:
        with np.errstate(over="ignore", invalid="ignore"):
            total = arr.sum()
        if not np.isfinite(total) and not np.isfinite(arr).all():
            raise ValueError("values contain NaN or infinity")
    return arr


def require_finite(result: Any, values: FloatArray, what: str = "the NPV") -> None:
    """Raise if ``result`` is not finite: a ``ValueError`` when ``values`` hold NaN or infinity
    (looked at element-wise only then: NaN and inf propagate, so a finite result proves finite
    inputs), else an :class:`~dealcalc.errors.InputError`: the result itself is beyond the range
    of floating point (its rows were already rescaled, so nothing smaller is right)."""
    if not np.isfinite(result).all():
        if not np.isfinite(values).all():
            raise ValueError("values contain NaN or infinity")
        # errors.md: is too large for floating point
        raise overflow_error(what)


def overflow_error(what: str) -> InputError:
    """The error for a result beyond the range of floating point (about 1.8e308)."""
    return InputError(
        f"{what} is too large for floating point (beyond 1.8e308)",
        field="values",
        expected="values in larger units (US$ million rather than US$), or a rate further from -1",
    )


#: Rows whose largest flow is within 2**-ORDINARY_EXPONENT ... 2**ORDINARY_EXPONENT (about
#: 5e-20 to 2e19) are worked on as given; others are rescaled first (:func:`row_exponents`).
ORDINARY_EXPONENT = 64


def row_exponents(rows: FloatArray) -> IntArray:
    """The power of two ``e`` per row of an (S, T) array (or the 0-d one of a row (T,)) by which
    the metrics rescale it: ``|row| / 2**e`` at most 1 with its largest element at least 1/2, or
    0 for a row of ordinary size (see :data:`ORDINARY_EXPONENT`) or of zeros.

    :func:`rescale_rows` divides by ``2**e`` exactly (a power of two changes only the exponent),
    so a scale-invariant metric (IRR, MIRR, payback, profitability index) gives the same bits on
    the rescaled row as on the row itself wherever the row itself neither overflows nor
    underflows, and an NPV scales back exactly with ``np.ldexp``. So values near 1e308 no
    longer overflow in sums, nor values near 1e-320 lose their digits.

    Examples
    --------
    >>> import numpy as np
    >>> row_exponents(np.array([[-1e308, 1e308, 1e308], [-1.0, 2.0, 3.0], [5e-324, 0.0, 0.0]])).tolist()
    [1024, 0, -1073]
    """
    largest = np.abs(rows).max(axis=-1) if rows.shape[-1] else np.zeros(rows.shape[:-1])
    return exponents_of(largest)


def exponents_of(largest: FloatArray) -> IntArray:
    """:func:`row_exponents` from each row's largest absolute value."""
    _, exponent = np.frexp(largest)
    out: IntArray = np.where(np.abs(exponent) <= ORDINARY_EXPONENT, 0, exponent).astype(np.int64)
    return out


def rescale_rows(rows: FloatArray, exponents: IntArray) -> FloatArray:
    """``rows / 2**exponents`` row by row, exactly: ``rows`` (S, T) with ``exponents`` (S,), or
    one row (T,) with a 0-d exponent. Multiply back with ``np.ldexp(result, exponents)``."""
    out: FloatArray = np.ldexp(rows, -exponents[..., None])
    return out


def as_rate(rate: ArrayLike, values: FloatArray, *, name: str = "rate") -> FloatArray:
    """Validate a rate of shape () or, for (S, T) values, (S,); every rate must exceed -1."""
    arr = np.asarray(rate, dtype=np.float64)
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or have shape (S,), got shape {arr.shape}")
    if values.ndim == 2 and arr.ndim == 1 and arr.shape[0] != values.shape[0]:
        raise ValueError(
            f"{name} has shape {arr.shape} but values have {values.shape[0]} rows; "
            "rates are aligned with rows, never crossed"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity")
    if (arr <= -1.0).any():
        raise ValueError(f"{name} must be greater than -1 (a fraction, e.g. 0.10 for 10%)")
    return arr


def finish(result: Any) -> float | FloatArray:
    """Apply the return rule: a 0-d result becomes a float, anything else an ndarray."""
    arr = np.asarray(result, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr)
    return arr


def time_major_blocks(values: FloatArray, chunk: int = CHUNK_ROWS) -> Iterator[tuple[slice, FloatArray]]:
    """Yield ``(rows, block)``: ``block`` a time-major (T, n) view or copy of ``values[rows]``.

    An (S, T) array in Fortran order (the transpose of the engine's time-major blocks) is
    already time-major: its blocks are views and nothing is copied. A C-order array is
    transposed piece by piece through the cache.
    """
    rows, periods = values.shape
    chunk = -(-rows // -(-rows // chunk)) if rows else chunk  # equal blocks, each <= chunk
    if values.flags.f_contiguous:
        for start in range(0, rows, chunk):
            sl = slice(start, min(start + chunk, rows))
            yield sl, values[sl].T
        return
    chunk = min(chunk, CHUNK_ROWS)  # a copy: keep the buffer small whatever the caller asked
    chunk = -(-rows // -(-rows // chunk)) if rows else chunk
    buffer = np.empty((periods, min(chunk, rows)))
    for start in range(0, rows, chunk):
        sl = slice(start, min(start + chunk, rows))
        block = buffer[:, : sl.stop - sl.start]
        for piece in range(sl.start, sl.stop, TRANSPOSE_ROWS):
            end = min(piece + TRANSPOSE_ROWS, sl.stop)
            block[:, piece - sl.start : end - sl.start] = values[piece:end].T
        yield sl, block


def horner(block: FloatArray, x: FloatArray) -> FloatArray:
    """Evaluate ``sum_t block[t] * x**t`` for a time-major (T, n) block and x of shape (n,).

    A block of shape (T, 1) against x of shape (K,) evaluates one series at K points.
    """
    acc = np.broadcast_to(block[-1], x.shape).copy()
    for t in range(block.shape[0] - 2, -1, -1):
        acc *= x
        acc += block[t]
    return acc


def horner_with_derivative(block: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return ``P(x)`` and ``P'(x)`` for ``P(x) = sum_t block[t] * x**t`` in one pass."""
    p = block[-1].copy()
    dp = np.zeros_like(p)
    for t in range(block.shape[0] - 2, -1, -1):
        dp *= x
        dp += p
        p *= x
        p += block[t]
    return p, dp


def sign_changes(block: FloatArray) -> IntArray:
    """Count sign changes down each column of a (T, n) block, skipping zeros.

    Works period by period on (n,) vectors: a (T, n) temporary would be freed back to the
    operating system and page-faulted in again on every call (glibc trims the heap), which
    doubled the cost of an IRR call on 1e4 rows.
    """
    count = np.zeros(block.shape[1], dtype=np.int64)
    if block.all():  # no zeros: compare neighbours' sign bits
        last = np.signbit(block[0])
        for row in block[1:]:
            now = np.signbit(row)
            count += now != last
            last = now
        return count
    last_sign = np.zeros(block.shape[1])
    for row in block:
        sign = np.sign(row)
        nonzero = sign != 0.0
        count += nonzero & (last_sign != 0.0) & (sign != last_sign)
        last_sign = np.where(nonzero, sign, last_sign)
    return count
