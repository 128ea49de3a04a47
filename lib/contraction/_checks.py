"""Input validation shared by the public functions: each error names the offending
argument."""

from __future__ import annotations

import numbers

import numpy as np

VALID_P = (1, 2, np.inf)


def as_real_array(value, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a finite real float array, or raise naming ``name``."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a real array, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a real array: {exc}") from None
    if arr.dtype == object:
        raise TypeError(f"{name} must be a real numeric array, got dtype object")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got a complex array")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(float)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite entries (nan or inf)")
    return arr


def as_square_matrix(value, name: str = "A") -> np.ndarray:
    """Return ``value`` as a finite real square matrix, or raise naming ``name``."""
    arr = as_real_array(value, name, ndim=2)
    if arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be square, got shape {arr.shape}")
    return arr


def check_p(p) -> float:
    """Return ``p`` as 1, 2 or inf, or raise a ValueError naming ``p``."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or p not in VALID_P:
        raise ValueError(f"p must be 1, 2 or np.inf, got {p!r}")
    return float(p)


def as_positive_scalar(value, name: str, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite positive float, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def as_positive_int(value, name: str) -> int:
    """Return ``value`` as a positive int, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def as_real_scalar(value, name: str) -> float:
    """Return ``value`` as a finite float of any sign, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def as_vector(
    value, name: str, n: int, default=None, nonnegative=False, positive=False
):
    """A length-``n`` real vector (a scalar is broadcast); ``default`` when ``value`` is
    None."""
    if value is None:
        if default is None:
            raise TypeError(f"{name} is required, got None")
        return np.array(default, dtype=float)
    arr = as_real_array(value, name)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(
            f"{name} must be a scalar or have length {n}, got shape {arr.shape}"
        )
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must have strictly positive entries")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must have non-negative entries")
    return arr


def check_slopes(d_min, d_max, nonnegative: bool = False) -> tuple[float, float]:
    """Validate a slope interval ``d_min <= d_max`` (finite; both ``>= 0`` if
    ``nonnegative``)."""
    lo, hi = (
        as_real_scalar(v, name) for v, name in ((d_min, "d_min"), (d_max, "d_max"))
    )
    if nonnegative and lo < 0:
        raise ValueError(f"d_min must be non-negative, got {lo}")
    if lo > hi:
        raise ValueError(f"d_min must not exceed d_max, got {lo} > {hi}")
    return lo, hi


def as_step_sizes(alpha, name: str = "alpha") -> np.ndarray:
    """Return ``alpha`` (a number or an array of them) as finite non-negative floats."""
    try:
        a = np.asarray(alpha, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers") from None
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(
            f"{name} must be finite and non-negative (a number or an array of them)"
        )
    return a


def check_callable(value, name: str):
    """Return ``value`` if it is callable, or raise a TypeError naming ``name``."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def as_point_pairs(X, Y, names=("X", "Y")) -> tuple[np.ndarray, np.ndarray]:
    """Two ``(num, n)`` arrays of paired points that differ in every row (a ratio needs
    x != y)."""
    X = as_real_array(X, names[0], ndim=2)
    Y = as_real_array(Y, names[1], ndim=2)
    if X.shape != Y.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {X.shape} and "
            f"{Y.shape}"
        )
    if np.any(np.all(X == Y, axis=1)):
        raise ValueError(
            f"{names[0]} and {names[1]} must differ in every row "
            "(a ratio over x = y is undefined)"
        )
    return X, Y
