"""Benchmark: fixed-point solvers of implicit networks on scikit-learn digits (Chapter
4).

Trains, briefly and on the CPU, an l-infinity-contracting implicit network (n = 100
hidden neurons, mu_inf(A) <= gamma) and a monotone operator equilibrium network (MON),
then measures, on one test batch and to the same tolerance, how many iterations and how
much wall time the forward and backward fixed points take with

* Picard (alpha = 1), the averaged iteration with the theory step, and Anderson
  acceleration for the implicit network;
* forward-backward and Peaceman-Rachford splitting for the MON.

Run:  python benchmarks/implicit_solvers.py [--epochs 30] [--seed 0]
This is a script, not a test: its times depend on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from contraction import data as datasets
from contraction import implicit as im
from contraction import monotone as mo
from contraction import runtime
from contraction.nn import robustness, train

TOL, MAX_ITER = (
    1e-6,
    3000,
)  # the solver comparison (in float64: float32 stalls near 1e-6)
TRAIN_TOL, TRAIN_MAX_ITER = 1e-4, 300  # training (float32)


def fit(model, data, args):
    """The book's one training loop (contraction.nn.train.fit); returns (seconds,
    epochs)."""
    start = time.perf_counter()
    history = train.fit(
        model,
        data.train,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch,
        seed=args.seed,
        progress=False,
    )
    return time.perf_counter() - start, len(history["loss"])


def accuracy(model, data):
    return train.evaluate(model, data.test)["accuracy"]


def measure(model, X, y, repeats=5):
    """Forward and backward solves: their SolveInfo and median wall times (ms), timed
    apart."""
    forward_ms, backward_ms = [], []
    for _ in range(repeats):
        with torch.no_grad():
            t0 = time.perf_counter()
            model(X)
            forward_ms.append(1e3 * (time.perf_counter() - t0))
        info_forward = model.last_solve
        loss = F.cross_entropy(model(X.clone().requires_grad_(True)), y)
        t0 = time.perf_counter()
        loss.backward()
        backward_ms.append(1e3 * (time.perf_counter() - t0))
        model.zero_grad()
    return (
        info_forward,
        model.last_backward_solve,
        statistics.median(forward_ms),
        statistics.median(backward_ms),
    )


def best_forward_backward_step(mon, grid=200):
    """The step minimising the exact factor ||I - alpha (I - W)||_2 over a grid up to
    2m/L^2."""
    W = mon.W().detach()
    M = torch.eye(W.shape[0], dtype=W.dtype) - W
    lip = float(torch.linalg.matrix_norm(M, ord=2))
    alphas = np.linspace(0, 2 * mon.m / lip**2, grid + 2)[1:-1]
    factors = [
        float(torch.linalg.matrix_norm(torch.eye(len(M), dtype=M.dtype) - a * M, ord=2))
        for a in alphas
    ]
    return float(alphas[int(np.argmin(factors))])


def describe(info):
    return f"{info.iterations:5d}" + ("" if info.converged else " (not converged)")


def solver_table(rows):
    header = (
        f"{'model / solver':34s} {'alpha':>7s} {'fwd it':>7s} {'fwd ms':>8s} "
        f"{'bwd it':>7s} {'bwd ms':>8s}"
    )
    print(header)
    print("-" * len(header))
    for name, alpha, (info_f, info_b, ms_f, ms_b) in rows:
        print(
            f"{name:34s} {alpha:7.4f} {describe(info_f):>7s} {ms_f:8.2f} "
            f"{describe(info_b):>7s} {ms_b:8.2f}"
        )
        for info, which in ((info_f, "forward"), (info_b, "backward")):
            if not info.converged:
                print(f"{'':34s} {which}: {info.reason}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1 gives steadier times on a shared machine)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runtime.seed_everything(args.seed)
    data = datasets.digits(seed=args.seed, test_fraction=0.2, normalize=False)
    X_test, y_test = data.test
    print(f"data: {data.name}; torch threads {torch.get_num_threads()}")

    inn = im.ImplicitNetwork(
        64, 100, 10, gamma=0.5, tol=TRAIN_TOL, max_iter=TRAIN_MAX_ITER
    )
    seconds, epochs = fit(inn, data, args)
    bounds = inn.step_bounds()
    steps = epochs * -(-len(data.y_train) // args.batch)
    print(
        f"\nimplicit network (n=100, gamma=0.5): test accuracy "
        f"{accuracy(inn, data):.4f} after {epochs} epochs in {seconds:.1f} s "
        f"({1e3 * seconds / steps:.1f} ms per training step)"
    )
    print(
        f"  mu_inf(A) = {im.mu_inf(inn):.4f}, theory alpha = {bounds['alpha']:.4f}, "
        f"Banach factor = {bounds['factor']:.4f}, Lipschitz bound = "
        f"{im.lipschitz_bound(inn):.2f}"
    )
    gen = torch.Generator().manual_seed(args.seed)
    print(
        f"  empirical l_inf Lipschitz (eps=0.05, 256 test points) = "
        f"{robustness.empirical_lipschitz(inn, X_test[:256], 0.05, generator=gen):.2f}"
    )

    feed = im.FeedForward(64, 100, 10)
    seconds_ff, epochs_ff = fit(feed, data, args)
    print(
        f"feed-forward baseline: test accuracy {accuracy(feed, data):.4f} after "
        f"{epochs_ff} epochs in {seconds_ff:.1f} s"
    )

    mon = mo.MonotoneNetwork(64, 100, 10, m=0.1, tol=TRAIN_TOL, max_iter=TRAIN_MAX_ITER)
    seconds_mon, epochs_mon = fit(mon, data, args)
    print(
        f"MON baseline (m=0.1, Peaceman-Rachford): test accuracy "
        f"{accuracy(mon, data):.4f} after {epochs_mon} epochs in {seconds_mon:.1f} s"
    )

    X_batch, y_batch = X_test[:256].double(), y_test[:256]
    for model in (inn.double(), mon.double()):
        # report failures in the table instead of raising: Picard is expected to fail
        # here
        model.solver = dataclasses.replace(
            model.solver, tol=TOL, max_iter=MAX_ITER, strict=False
        )
    rows = []
    for name, method, alpha in (
        ("INN Picard", "picard", 1.0),
        ("INN averaged (theory alpha)", "averaged", None),
        ("INN Anderson (m=5, theory alpha)", "anderson", None),
    ):
        inn.solver = dataclasses.replace(inn.solver, method=method, alpha=alpha)
        used = bounds["alpha"] if alpha is None else alpha
        rows.append((name, used, measure(inn, X_batch, y_batch)))
    for name, method, alpha in (
        ("MON forward-backward (m/L^2)", "forward-backward", None),
        (
            "MON forward-backward (best norm)",
            "forward-backward",
            best_forward_backward_step(mon),
        ),
        ("MON Peaceman-Rachford (alpha=1)", "peaceman-rachford", None),
    ):
        mon.solver = dataclasses.replace(mon.solver, method=method, alpha=alpha)
        rows.append((name, mon.step_size(), measure(mon, X_batch, y_batch)))
    print(
        f"\nsolvers on one test batch of {len(X_batch)}, tolerance {TOL:g} (max |G(x) "
        f"- x| over the batch), max_iter {MAX_ITER}, median of 5 runs:"
    )
    solver_table(rows)


if __name__ == "__main__":
    main()
