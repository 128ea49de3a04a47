r"""Instruments that measure implicit networks against their theory (Section 4.2 of the
book).

* :func:`feedforward_to_implicit` writes a ReLU multilayer perceptron as an implicit
  network :math:`x = \Phi(Ax + Bu + b)`, :math:`y = Cx + c` with a strictly
  block-triangular :math:`A`;
* :func:`linf_error_ratios` measures the per-step contraction :math:`\|x_{k+1} -
  x^*\|_\infty / \|x_k - x^*\|_\infty` of an iteration, to be compared with the Banach
  factor that theory certifies;
* :func:`saved_tensor_bytes` counts the bytes that autograd keeps for the backward pass,
  which is the memory argument for implicit differentiation.

Reference: S. Jafarpour, A. Davydov, A. V. Proskurnikov, F. Bullo, "Robust implicit
networks via non-Euclidean contractions", NeurIPS 2021 (key ``jafarpour2021``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._checks import as_positive_int, as_positive_scalar, as_real_array, check_callable
from .._records import Record

__all__ = [
    "ImplicitForm",
    "feedforward_to_implicit",
    "linf_error_ratios",
    "saved_tensor_bytes",
]


@dataclass(frozen=True)
class ImplicitForm(Record):
    """``x = Phi(A x + B u + b)``, ``y = C x + c``; ``blocks`` are the hidden layer
    sizes."""

    A: np.ndarray
    B: np.ndarray
    b: np.ndarray
    C: np.ndarray
    c: np.ndarray
    blocks: list


def _check_layers(weights, biases):
    if not isinstance(weights, (list, tuple)) or len(weights) < 2:
        raise ValueError(
            "weights must be a list of at least two matrices (hidden and output)"
        )
    if not isinstance(biases, (list, tuple)) or len(biases) != len(weights):
        raise ValueError(
            f"biases must be a list of {len(weights)} vectors, one per layer"
        )
    Ws = [as_real_array(W, f"weights[{k}]", ndim=2) for k, W in enumerate(weights)]
    bs = [as_real_array(b, f"biases[{k}]", ndim=1) for k, b in enumerate(biases)]
    for k in range(len(Ws)):
        if bs[k].shape[0] != Ws[k].shape[0]:
            raise ValueError(
                f"biases[{k}] must have length {Ws[k].shape[0]}, got {bs[k].shape[0]}"
            )
        if k > 0 and Ws[k].shape[1] != Ws[k - 1].shape[0]:
            raise ValueError(
                f"weights[{k}] must have {Ws[k - 1].shape[0]} columns, got "
                f"{Ws[k].shape[1]}"
            )
    return Ws, bs


def feedforward_to_implicit(weights, biases):
    r"""The implicit form of :math:`u \mapsto W_L\Phi(\cdots\Phi(W_1u + b_1)\cdots) +
    b_L`.

    Stack the hidden layers, :math:`x = (x^1, \dots, x^{L-1})` with :math:`x^1 =
    \Phi(W_1u + b_1)` and :math:`x^{i} = \Phi(W_ix^{i-1} + b_i)`. Then :math:`x =
    \Phi(Ax + Bu + b)` with :math:`W_i` in block :math:`(i, i-1)` of :math:`A` (strictly
    block lower-triangular, hence nilpotent: :math:`A^{L-1} = 0`), :math:`B = [W_1; 0]`,
    :math:`b = (b_1, \dots, b_{L-1})`, :math:`C = [0, \dots, 0, W_L]`, :math:`c = b_L`
    (Section 4.2). Listing the blocks in reverse order gives the block upper-triangular
    form of the slides.

    Parameters
    ----------
    weights, biases : lists of arrays
        ``weights[k]`` has shape (n_{k+1}, n_k), n_0 the input size; ``biases[k]``
        length n_{k+1}. The last layer is the linear output layer.

    Returns
    -------
    ImplicitForm
        ``A, B, b, C, c`` (numpy arrays) and ``blocks``, the hidden layer sizes.
    """
    Ws, bs = _check_layers(weights, biases)
    sizes = [W.shape[0] for W in Ws[:-1]]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    n, m = int(starts[-1]), Ws[0].shape[1]
    A, B, C = np.zeros((n, n)), np.zeros((n, m)), np.zeros((Ws[-1].shape[0], n))
    B[: sizes[0]] = Ws[0]
    for k in range(1, len(sizes)):
        A[starts[k] : starts[k + 1], starts[k - 1] : starts[k]] = Ws[k]
    C[:, starts[-2] :] = Ws[-1]
    return ImplicitForm(A, B, np.concatenate(bs[:-1]), C, bs[-1].copy(), sizes)


def linf_error_ratios(step, x0, x_star, max_steps=1000, floor=1e-10):
    r"""Per-step contraction of the :math:`\ell_\infty` error of ``x <- step(x)``.

    For a batch ``x0`` of shape (batch, n) (torch tensors or numpy arrays) and its fixed
    points ``x_star``, returns a numpy array whose entry ``k`` is :math:`\max_i
    \|x_{k+1,i} - x^*_i\|_\infty / \|x_{k,i} - x^*_i\|_\infty` over the rows whose error
    still exceeds ``floor`` (below it, round-off in ``x_star`` dominates). A Banach
    contraction with factor :math:`q` in :math:`\ell_\infty` keeps every entry at most
    :math:`q`. Stops when all errors are below ``floor`` or after ``max_steps`` steps.
    """
    check_callable(step, "step")
    if (
        tuple(getattr(x0, "shape", ())) != tuple(getattr(x_star, "shape", (None,)))
        or len(x0.shape) != 2
    ):
        raise ValueError("x0 and x_star must be arrays of the same shape (batch, n)")
    max_steps = as_positive_int(max_steps, "max_steps")
    floor = as_positive_scalar(floor, "floor")

    def errors(x):
        d = x - x_star
        d = (
            d.detach().cpu().numpy()
            if hasattr(d, "detach")
            else np.asarray(d, dtype=float)
        )
        e = np.abs(d).max(axis=1)
        if not np.all(np.isfinite(e)):
            raise ValueError("the iteration produced non-finite values")
        return e

    x, e, ratios = x0, errors(x0), []
    for _ in range(max_steps):
        keep = e > floor
        if not keep.any():
            break
        x = step(x)
        e_next = errors(x)
        ratios.append(float(np.max(e_next[keep] / e[keep])))
        e = e_next
    return np.array(ratios)


def saved_tensor_bytes(fn):
    """Run ``fn()`` and return ``(result, bytes)``: the bytes of the tensors autograd
    saves for the backward pass while ``fn`` runs (each saved tensor counted once per
    save)."""
    import torch

    check_callable(fn, "fn")
    total = [0]

    def pack(t):
        total[0] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = fn()
    return result, total[0]
