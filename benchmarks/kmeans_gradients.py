"""Benchmark: backward memory and time per step of DKM, IDKM and IDKM-JFB (Chapter 5).

One layer of a realistic size (``nn.Linear(64, 100)``: m = 6,400 weights, d = 1, k = 8,
the dissertation's tau = 5e-4) is quantized by soft k-means inside a training step
(clustering, soft quantized weights A C, the layer on a batch, a mean-squared loss, its
backward pass):

1. *memory against t*: the peak bytes autograd holds for the backward pass (saved-tensor
   hooks, exact on a CPU; plus the CUDA allocator's peak on a GPU) after exactly t = 5,
   30, 100 clustering iterations from the same starting codebook;
2. *time per step at t = 30*, two ways: (a) exactly 30 iterations from a cold codebook,
   and
(b) training with the dissertation's rule "until convergence or 30 iterations" from the
    warm start of the previous step (Section 2.5), the regime of its Table 2.2 (IDKM
    0.66x and IDKM-JFB 0.47x of DKM's time for k = 8, d = 1).

IDKM's adjoint is solved as in the dissertation (averaged iteration, alpha = 0.25,
halved on divergence), on the closed-form k d x k d Jacobian (``em_jacobian``: k d <= 64
here) and, for comparison, with Anderson mixing of the same map, one vector-Jacobian
product per step (``idkm-anderson``). A non-strict adjoint that fails falls back to the
JFB direction; the tables count those steps.

Run:  python benchmarks/kmeans_gradients.py [--rows 100 --cols 64 --k 8 --tau 5e-4]
A script, not a test: its times depend on the machine (1 CPU thread by default).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
from torch import nn

from contraction import quantize as Q
from contraction.book.tables import table

VARIANTS = {
    "dkm": dict(method="dkm"),
    "idkm": dict(method="idkm"),
    "idkm-anderson": dict(method="idkm", backward="anderson"),
    "jfb": dict(method="jfb"),
}


def problem(args, device):
    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    layer = nn.Linear(args.cols, args.rows).to(device)
    x = torch.randn(args.batch, args.cols, generator=g).to(device)
    y = x @ torch.randn(args.cols, args.rows, generator=g).to(device) / args.cols**0.5
    return layer, x, y


def cold_step(layer, x, y, C0, t, args, options, record):
    """One training step's forward and backward with exactly t clustering iterations."""

    def step():
        W = Q.to_subvectors(layer.weight, 1)
        C = Q.soft_kmeans(W, C0, args.tau, iters=t, tol=None, record=record, **options)
        Wq = Q.from_subvectors(Q.soft_quantize(W, C, args.tau), layer.weight.shape)
        loss = (nn.functional.linear(x, Wq, layer.bias) - y).square().mean()
        loss.backward()
        layer.zero_grad(set_to_none=True)

    return step


def memory_rows(args, device):
    layer, x, y = problem(args, device)
    C0 = Q.init_codebook(
        Q.to_subvectors(layer.weight.detach(), 1).cpu(), args.k, "quantile"
    ).to(device)
    rows, peaks = [], {}
    for t in args.iters:
        for name, options in VARIANTS.items():
            record = Q.KMeansRecord()
            report = Q.backward_memory(
                cold_step(layer, x, y, C0, t, args, options, record), device
            )
            peaks[name, t] = report.saved_peak
            rows.append(
                [
                    t,
                    name,
                    report.saved_peak / 2**20,
                    None if report.cuda_peak is None else report.cuda_peak / 2**20,
                    "" if record.backward is None else record.backward.iterations,
                    record.fallback or "",
                ]
            )
    return rows, peaks


def cold_times(args, device, t=30):
    layer, x, y = problem(args, device)
    C0 = Q.init_codebook(
        Q.to_subvectors(layer.weight.detach(), 1).cpu(), args.k, "quantile"
    ).to(device)
    times = {}
    for name, options in VARIANTS.items():
        record = Q.KMeansRecord()
        times[name] = Q.time_step(
            cold_step(layer, x, y, C0, t, args, options, record),
            repeats=args.repeats,
            warmup=1,
            device=device,
        )
        times[name, "adjoint"] = (
            "" if record.backward is None else record.backward.iterations
        )
    return times


def train_times(args, device, name, options):
    """Median seconds per SGD step of a QuantizedLinear (warm start, tol, cap 30)."""
    layer, x, y = problem(args, device)
    q = Q.QuantizedLinear(layer, k=args.k, tau=args.tau, iters=30, tol=1e-6, **options)
    opt = torch.optim.SGD(q.parameters(), lr=args.lr)
    seconds, forward, adjoint, fallbacks = [], [], [], 0
    for i in range(args.steps):
        start = time.perf_counter()
        opt.zero_grad()
        (q(x) - y).square().mean().backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if (
            i >= 3
        ):  # the first steps move the codebook from its start; time the steady state
            seconds.append(time.perf_counter() - start)
            forward.append(q.record.forward.iterations)
            adjoint.append(q.record.backward.iterations if q.record.backward else 0)
            fallbacks += q.record.fallback == "jfb"
    return (
        statistics.median(seconds),
        statistics.mean(forward),
        statistics.mean(adjoint),
        fallbacks,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--cols", type=int, default=64)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--tau", type=float, default=5e-4)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--iters", type=int, nargs="+", default=[5, 30, 100])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=23)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads (1 by default: on a shared machine a descheduled "
        "second thread stalls every op and drowns the comparison)",
    )
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    print(
        f"layer {args.rows}x{args.cols} (m = {args.rows * args.cols}, d = 1), k = "
        f"{args.k}, tau = {args.tau:g}, batch = {args.batch}, device = {device}, torch "
        f"threads = {torch.get_num_threads()}"
    )
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", RuntimeWarning
        )  # failures are counted in the tables
        rows, peaks = memory_rows(args, device)
        print(
            table(
                rows,
                columns=[
                    "t",
                    "method",
                    "saved peak MiB",
                    "CUDA peak MiB",
                    "adjoint its",
                    "fallback",
                ],
                floatfmt=["d", "", ".3f", ".3f", "", ""],
                title="1. backward memory of one training step, exactly t iterations",
            )
        )
        t0, t1 = min(args.iters), max(args.iters)
        if 30 in args.iters:
            ratio = peaks["dkm", 30] / peaks["idkm", 30]
            print(
                f"DKM / IDKM memory at t = 30: {ratio:.1f}x (target >= 10x): "
                f"{'met' if ratio >= 10 else 'NOT met'}"
            )
        drift = abs(peaks["idkm", t1] / peaks["idkm", t0] - 1)
        print(
            f"IDKM memory from t = {t0} to {t1}: changes by {100 * drift:.1f} % "
            f"(target within 10 %): {'met' if drift <= 0.1 else 'NOT met'}"
        )
        cold = cold_times(args, device)
        rows = []
        for name, options in VARIANTS.items():
            sec, fwd, adj, fb = train_times(args, device, name, options)
            rows.append(
                [
                    name,
                    1e3 * cold[name],
                    cold[name] / cold["dkm"],
                    cold[name, "adjoint"],
                    1e3 * sec,
                    fwd,
                    adj,
                    fb,
                ]
            )
        base = rows[0][4]
        for row in rows:
            row.insert(5, row[4] / base)
        print(
            table(
                rows,
                columns=[
                    "method",
                    "(a) ms/step",
                    "(a) x DKM",
                    "(a) adjoint its",
                    "(b) ms/step",
                    "(b) x DKM",
                    "(b) fwd its",
                    "(b) adjoint its",
                    "(b) fallbacks",
                ],
                floatfmt=["", ".1f", ".2f", "", ".1f", ".2f", ".1f", ".1f", "d"],
                title="2. time per training step at t = 30: (a) exactly 30 iterations "
                f"from a cold codebook; (b) training, warm start, tol 1e-6, cap 30, lr "
                f"{args.lr:g}",
            )
        )
        print(
            "dissertation, Table 2.2 (k = 8, d = 1): IDKM 0.66x and IDKM-JFB 0.47x of "
            "DKM"
        )


if __name__ == "__main__":
    main()
