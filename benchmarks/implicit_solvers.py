"""Benchmark: fixed-point solvers of implicit networks on scikit-learn digits (Chapter 4).

Trains, briefly and on the CPU, an l-infinity-contracting implicit network (n = 100 hidden
neurons, mu_inf(A) <= gamma) and a monotone operator equilibrium network (MON), then measures, on
one test batch and to the same tolerance, how many iterations and how much wall time the forward
and backward fixed points take with

* Picard (alpha = 1), the averaged iteration with the theory step, and Anderson acceleration for
  the implicit network;
* forward-backward and Peaceman-Rachford splitting for the MON.

Run:  python benchmarks/implicit_solvers.py [--seconds 60] [--seed 0]
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

from contraction import implicit as im
from contraction import monotone as mo
from contraction import runtime

TOL, MAX_ITER = 1e-6, 3000  # the solver comparison (in float64: float32 stalls near 1e-6)
TRAIN_TOL, TRAIN_MAX_ITER = 1e-4, 300  # training (float32)


def load_data(seed):
    """Digits scaled to [0, 1] with a stratified 80/20 split; synthetic blobs without sklearn."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        print("scikit-learn is not installed: using synthetic 64-dimensional data instead")
        rng = np.random.default_rng(seed)
        centers = rng.uniform(0, 1, (10, 64))
        labels = rng.integers(0, 10, 1800)
        X = np.clip(centers[labels] + 0.25 * rng.normal(size=(1800, 64)), 0, 1)
        split = 1440
        X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(labels)
        return X[:split], y[:split], X[split:], y[split:], "synthetic"
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.2, random_state=seed,
        stratify=digits.target)
    as_x = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return as_x(X_train), torch.tensor(y_train), as_x(X_test), torch.tensor(y_test), "digits"


def accuracy(model, X, y):
    with torch.no_grad():
        return float((model(X).argmax(1) == y).float().mean())


def train(model, X, y, seconds, epochs, lr, batch_size, seed):
    """Adam with a cosine schedule on cross-entropy; stops after ``epochs`` or ``seconds``."""
    gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    batches = torch.randperm(len(X), generator=gen).split(batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(batches))
    start, done = time.perf_counter(), 0.0
    for _ in range(epochs):
        for idx in torch.randperm(len(X), generator=gen).split(batch_size):
            optimizer.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            optimizer.step()
            schedule.step()
            done += 1 / len(batches)
            if time.perf_counter() - start > seconds:
                return time.perf_counter() - start, done
    return time.perf_counter() - start, done


def measure(model, X, y, repeats=5):
    """Forward and backward solves: their SolveInfo and median wall times (ms), timed apart."""
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
    return (info_forward, model.last_backward_solve, statistics.median(forward_ms),
            statistics.median(backward_ms))


def best_forward_backward_step(mon, grid=200):
    """The step minimising the exact factor ||I - alpha (I - W)||_2 over a grid up to 2m/L^2."""
    W = mon.W().detach()
    M = torch.eye(W.shape[0], dtype=W.dtype) - W
    lip = float(torch.linalg.matrix_norm(M, ord=2))
    alphas = np.linspace(0, 2 * mon.m / lip**2, grid + 2)[1:-1]
    factors = [float(torch.linalg.matrix_norm(torch.eye(len(M), dtype=M.dtype) - a * M, ord=2))
               for a in alphas]
    return float(alphas[int(np.argmin(factors))])


def describe(info):
    return f"{info.iterations:5d}" + ("" if info.converged else " (not converged)")


def solver_table(rows):
    header = f"{'model / solver':34s} {'alpha':>7s} {'fwd it':>7s} {'fwd ms':>8s} " \
             f"{'bwd it':>7s} {'bwd ms':>8s}"
    print(header)
    print("-" * len(header))
    for name, alpha, (info_f, info_b, ms_f, ms_b) in rows:
        print(f"{name:34s} {alpha:7.4f} {describe(info_f):>7s} {ms_f:8.2f} "
              f"{describe(info_b):>7s} {ms_b:8.2f}")
        for info, which in ((info_f, "forward"), (info_b, "backward")):
            if not info.converged:
                print(f"{'':34s} {which}: {info.reason}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="training budget per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1 gives steadier times on a shared machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runtime.seed_everything(args.seed)
    X_train, y_train, X_test, y_test, data = load_data(args.seed)
    print(f"data: {data}, {len(X_train)} train / {len(X_test)} test, torch threads "
          f"{torch.get_num_threads()}")

    inn = im.ImplicitNetwork(64, 100, 10, gamma=0.5, tol=TRAIN_TOL, max_iter=TRAIN_MAX_ITER)
    seconds, epochs = train(inn, X_train, y_train, args.seconds, args.epochs, args.lr, args.batch,
                            args.seed)
    bounds = inn.step_bounds()
    print(f"\nimplicit network (n=100, gamma=0.5): test accuracy "
          f"{accuracy(inn, X_test, y_test):.4f} after {epochs:.1f} epochs in {seconds:.1f} s")
    print(f"  mu_inf(A) = {im.mu_inf(inn):.4f}, theory alpha = {bounds['alpha']:.4f}, "
          f"Banach factor = {bounds['factor']:.4f}, "
          f"Lipschitz bound = {im.lipschitz_bound(inn):.2f}")
    gen = torch.Generator().manual_seed(args.seed)
    print(f"  empirical l_inf Lipschitz (eps=0.05, 256 test points) = "
          f"{im.empirical_lipschitz(inn, X_test[:256], 0.05, generator=gen):.2f}")

    feed = im.FeedForward(64, 100, 10)
    seconds_ff, epochs_ff = train(feed, X_train, y_train, args.seconds, args.epochs, args.lr,
                                  args.batch, args.seed)
    print(f"feed-forward baseline: test accuracy {accuracy(feed, X_test, y_test):.4f} "
          f"after {epochs_ff:.1f} epochs in {seconds_ff:.1f} s")

    mon = mo.MonotoneNetwork(64, 100, 10, m=0.1, tol=TRAIN_TOL, max_iter=TRAIN_MAX_ITER)
    seconds_mon, epochs_mon = train(mon, X_train, y_train, args.seconds, args.epochs, args.lr,
                                    args.batch, args.seed)
    print(f"MON baseline (m=0.1, Peaceman-Rachford): test accuracy "
          f"{accuracy(mon, X_test, y_test):.4f} after {epochs_mon:.1f} epochs "
          f"in {seconds_mon:.1f} s")

    X_batch, y_batch = X_test[:256].double(), y_test[:256]
    for model in (inn.double(), mon.double()):
        model.solver = dataclasses.replace(model.solver, tol=TOL, max_iter=MAX_ITER)
    rows = []
    for name, method, alpha in (("INN Picard", "averaged", 1.0),
                                ("INN averaged (theory alpha)", "averaged", None),
                                ("INN Anderson (m=5, theory alpha)", "anderson", None)):
        inn.solver = dataclasses.replace(inn.solver, method=method, alpha=alpha)
        used = bounds["alpha"] if alpha is None else alpha
        rows.append((name, used, measure(inn, X_batch, y_batch)))
    for name, method, alpha in (("MON forward-backward (m/L^2)", "forward-backward", None),
                                ("MON forward-backward (best norm)", "forward-backward",
                                 best_forward_backward_step(mon)),
                                ("MON Peaceman-Rachford (alpha=1)", "peaceman-rachford", None)):
        mon.solver = dataclasses.replace(mon.solver, method=method, alpha=alpha)
        rows.append((name, mon.step_size(), measure(mon, X_batch, y_batch)))
    print(f"\nsolvers on one test batch of {len(X_batch)}, tolerance {TOL:g} "
          f"(max |G(x) - x| over the batch), max_iter {MAX_ITER}, median of 5 runs:")
    solver_table(rows)


if __name__ == "__main__":
    main()
