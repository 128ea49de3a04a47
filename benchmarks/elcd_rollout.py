"""Benchmark: ELCD against NCDS rollout time, and a fast LASA-2D comparison (Chapter 7).

1. Rollout time at equal width. ELCD evaluates its field with one pass of two width-16
   networks (P_s and P_a), stacked into one (ELCD.stacked_layers), with the x* half of
   the first layer folded into the bias once per rollout (ELCD.frozen); NCDS with one
   width-16 network at every quadrature node of its line integral (8 Gauss-Legendre
   nodes). Both are rolled out by the same RK4 loop from the same initial states; the
   table gives the median wall time and the ratio ELCD / NCDS (target: at most 0.3).
2. Trajectory distance (elcd.dtwd, Section 4.5.1) on LASA-2D shapes in fast mode: ELCD
   with its coupling-flow encoder, SDD, Euclideanizing flows and NCDS (2-D latent), each
   trained by elcd.train with the dissertation's settings except the number of epochs;
   mean +- std over the shapes and seeds run. The dissertation's Table 4.1 row is
   printed beside it.

Run:  python benchmarks/elcd_rollout.py [--shapes 2] [--seeds 1] [--epochs 40]
[--skip-lasa] A script, not a test: its times depend on the machine (and on what else
runs on it).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from contraction import baselines as B
from contraction import elcd
from contraction.book.tables import table
from contraction.trajectories import LASA_2D, lasa

PAPER_LASA_2D = {
    "SDD": "0.37 ± 0.32",
    "EFlow": "1.05 ± 0.25",
    "NCDS": "0.59 ± 0.61",
    "ELCD": "0.12 ± 0.11",
}


def median_seconds(model, x0, steps, repeats):
    times = []
    for _ in range(repeats + 1):  # the first run warms up
        start = time.perf_counter()
        elcd.rollout(model, x0, 0.01, steps)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def rollout_rows(dims, batches, steps, repeats, nodes):
    rows = []
    for dim in dims:
        for batch in batches:
            torch.manual_seed(0)
            x0 = torch.randn(batch, dim)
            fast = median_seconds(elcd.ELCD(dim, hidden=16), x0, steps, repeats)
            slow = median_seconds(
                B.NCDS(dim, hidden=16, nodes=nodes), x0, steps, repeats
            )
            rows.append([dim, batch, 1e3 * fast, 1e3 * slow, fast / slow])
    return rows


def builders(dim, x_star):
    return {
        "SDD": lambda: B.SDD(dim, x_star=x_star),
        "EFlow": lambda: B.eflow(dim, x_star=x_star),
        "NCDS": lambda: B.latent_ncds(dim, x_star=x_star),
        "ELCD": lambda: elcd.latent_elcd(dim, x_star=x_star),
    }


def lasa_rows(shapes, seeds, epochs, subsample):
    scores = {name: [] for name in PAPER_LASA_2D}
    seconds = {name: 0.0 for name in PAPER_LASA_2D}
    for shape in shapes:
        data = lasa(shape, subsample=subsample)
        for seed in range(seeds):
            for name, build in builders(data.dim, data.x_star).items():
                torch.manual_seed(seed)
                model = build()
                start = time.perf_counter()
                elcd.train(model, data, epochs=epochs, seed=seed, device="cpu")
                seconds[name] += time.perf_counter() - start
                distance = elcd.demonstration_distances(
                    model, data.positions, data.dt
                ).mean()
                scores[name].append(distance)
                print(
                    f"  {shape:>10s} seed {seed} {name:>5s}: DTWD {distance:.3f}",
                    flush=True,
                )
    return [
        [
            name,
            f"{np.mean(s):.2f} ± {np.std(s):.2f}",
            PAPER_LASA_2D[name],
            seconds[name],
        ]
        for name, s in scores.items()
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--nodes", type=int, default=8)
    parser.add_argument("--shapes", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--subsample", type=int, default=10)
    parser.add_argument("--skip-lasa", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)  # a fair, reproducible comparison on a shared machine
    rows = rollout_rows((2, 4, 8), (100, 1000), args.steps, args.repeats, args.nodes)
    print(
        table(
            rows,
            ["dim", "batch", "ELCD ms", "NCDS ms", "ELCD/NCDS"],
            floatfmt=["d", "d", ".1f", ".1f", ".2f"],
            title=f"RK4 rollout, {args.steps} steps, width 16, "
            f"NCDS with {args.nodes} nodes",
        )
    )
    if args.skip_lasa:
        return
    print(
        f"\nLASA-2D, fast: {args.shapes} shapes x {args.seeds} seeds, {args.epochs} "
        "epochs"
    )
    rows = lasa_rows(LASA_2D[: args.shapes], args.seeds, args.epochs, args.subsample)
    print(
        table(
            rows,
            ["model", "DTWD (this run)", "DTWD (Table 4.1)", "train s"],
            floatfmt=".1f",
            title="Trajectory distance on LASA-2D",
        )
    )


if __name__ == "__main__":
    main()
