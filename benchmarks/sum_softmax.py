"""Benchmark: the sum-softmax solvers, safeguarded Newton against bisection (Chapter 6).

``ssm(x; k) = sigmoid(x + nu)`` needs the root nu of ``sum_i sigmoid(x_i + nu) = k`` in
every row. Both solvers start from the same bracket, stop at the same tolerance on
``|sum(y) - k|`` (or at rounding level) and share the same implicit backward, so the
comparison is of the forward root finding only:

* ``newton``: Newton steps on logit(S/n) = logit(k/n), started between the k-th and
  (k+1)-th largest entries and kept inside the bracket (a bisection step when Newton
  would leave it);
* ``bisection``: the bracketing baseline (what the LML layer of Amos et al. does, in
  effect).

It measures forward+backward wall time at n = 1000, k = 10, batch 1024 (target: Newton
at most 0.2x bisection), the iterations each solver needs, and checks that no input
scaled from 1e-3 up to 1e3 fails in either dtype.

Run:  python benchmarks/sum_softmax.py [--n 1000] [--k 10] [--batch 1024] [--repeats 5]
A script, not a test: its times depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from contraction import sumsoftmax as S
from contraction.book.tables import table

SCALES = (1e-3, 1e-1, 1.0, 10.0, 100.0, 1e3)
DTYPES = {"float32": torch.float32, "float64": torch.float64}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def median_ms(x, k, method, repeats, backward=True):
    """Median wall time (ms) of ssm forward (+ backward, with a fixed upstream
    gradient)."""
    upstream = torch.randn(
        x.shape, generator=torch.Generator().manual_seed(1), dtype=x.dtype
    ).to(x.device)
    times = []
    for r in range(repeats + 1):  # the first run warms up caches and kernels
        leaf = x.detach().clone().requires_grad_(backward)
        sync(x.device)
        start = time.perf_counter()
        y = S.ssm(leaf, k, method=method)
        if backward:
            (y * upstream).sum().backward()
        sync(x.device)
        if r:
            times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def iterations(x, k, method):
    """Steps the solver took (it checks convergence every few steps, so a multiple of
    2)."""
    z = S._shifted(x)
    kt = torch.full(x.shape[:-1], float(k), dtype=x.dtype, device=x.device)
    return S.solve_dual(z, kt, method)[2]


def timing_rows(args, device):
    rows, ratios = [], []
    for name, dtype in DTYPES.items():
        for scale in (1.0, 1e3):
            g = torch.Generator().manual_seed(0)
            x = (
                torch.randn(args.batch, args.n, generator=g, dtype=torch.float64)
                * scale
            )
            x = x.to(dtype=dtype, device=device)
            fwd = {m: median_ms(x, args.k, m, args.repeats, False) for m in S.METHODS}
            both = {m: median_ms(x, args.k, m, args.repeats) for m in S.METHODS}
            its = {m: iterations(x, args.k, m) for m in S.METHODS}
            ratio = both["newton"] / both["bisection"]
            ratios.append(ratio)
            rows.append(
                [
                    name,
                    scale,
                    its["newton"],
                    its["bisection"],
                    fwd["newton"],
                    fwd["bisection"],
                    fwd["newton"] / fwd["bisection"],
                    both["newton"],
                    both["bisection"],
                    ratio,
                ]
            )
    return rows, ratios


def robustness_rows(args, device):
    """Every scale, dtype and method: a failure is an exception, a non-finite entry or a
    sum off by more than the solver's tolerance (checked on the result, in float64)."""
    rows, failures = [], 0
    for name, dtype in DTYPES.items():
        for scale in SCALES:
            g = torch.Generator().manual_seed(1)
            x = (
                torch.randn(args.batch, args.n, generator=g, dtype=torch.float64)
                * scale
            )
            x = x.to(dtype=dtype, device=device)
            tol = 2 * S._default_tol(dtype, args.k, args.n)
            for method in S.METHODS:
                try:
                    y = S.ssm(x, args.k, method=method)
                    worst = float((y.double().sum(-1) - args.k).abs().max())
                    ok = bool(torch.isfinite(y).all()) and worst <= tol
                except RuntimeError as exc:  # reported, counted, not hidden
                    worst, ok = float("nan"), False
                    print(f"  {name} scale {scale:g} {method}: {exc}")
                failures += not ok
                rows.append([name, scale, method, worst, tol, "ok" if ok else "FAIL"])
    return rows, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads (1 by default: on a shared machine, a second thread "
        "that is descheduled stalls every op and drowns the comparison)",
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    print(
        f"ssm forward+backward, n = {args.n}, k = {args.k}, batch = {args.batch}, "
        f"device = {device}, torch threads = {torch.get_num_threads()}"
    )
    rows, ratios = timing_rows(args, device)
    print(
        table(
            rows,
            columns=[
                "dtype",
                "scale",
                "newton its",
                "bisect its",
                "fwd newton ms",
                "fwd bisect ms",
                "fwd ratio",
                "f+b newton ms",
                "f+b bisect ms",
                "f+b ratio",
            ],
            floatfmt=["", "g", "d", "d", ".1f", ".1f", ".3f", ".1f", ".1f", ".3f"],
            title="median times, forward only and forward + backward (ratio = newton / "
            "bisection)",
        )
    )
    print(
        f"worst forward+backward ratio {max(ratios):.3f} (target <= 0.2): "
        f"{'met' if max(ratios) <= 0.2 else 'NOT met'}"
    )
    rows, failures = robustness_rows(args, device)
    print(
        table(
            rows,
            columns=["dtype", "scale", "method", "max |sum-k|", "tol", ""],
            floatfmt=["", "g", "", ".2e", ".2e", ""],
            title="robustness: inputs randn * scale",
        )
    )
    print(f"failures: {failures} of {len(rows)}")


if __name__ == "__main__":
    main()
