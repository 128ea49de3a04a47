r"""Table 4.1 of the dissertation: trajectory distance of ELCD and three baselines.

Chapter 7. The experiment ``lasa_table`` trains the four models of Section 7.3 --
ELCD in a learned latent space (:func:`contraction.elcd.latent_elcd`), stable deep
dynamics (:class:`contraction.baselines.SDD`), Euclideanizing flows
(:func:`contraction.baselines.eflow`) and NCDS behind a 2-D latent space
(:func:`contraction.baselines.latent_ncds`) -- on every data set of every row, and
scores each trained model by the trajectory distance of Section 4.5.1,

.. math:: \mathrm{DTWD}(x, \bar x) = \frac1{t_1}\sum_i \min_j\|x_i - \bar x_j\|_2
          + \frac1{t_2}\sum_j \min_i\|\bar x_j - x_i\|_2,

between each demonstration and the model's rollout from its first point
(:func:`contraction.elcd.dtwd`). A row's score for one seed is the mean over its data
sets and their demonstrations; the table reports mean and sample standard deviation
of that score over seeds. A rollout that leaves the floating-point range scores
``None`` (the dissertation's "NaN" for SDD on Rosenbrock), and so does its row.

Rows as in the dissertation: LASA-2D (single shapes), LASA-4D and LASA-8D (two and
four shapes stacked, :data:`contraction.trajectories.LASA_4D`, ``LASA_8D``), the
damped n-link pendulum (4-D, 8-D, 16-D) and the Rosenbrock gradient flow (8-D, 16-D),
all standardized; Rosenbrock starts lie in [0.75, 1.25]^d, since from the default box
the 16-D flow overflows (:func:`contraction.trajectories.rosenbrock`).
Training: Adam, learning rate 1e-3, batch 100, 100 epochs (Section
4.5) in full mode, with three seeds; fast mode is a tiny smoke run (one or two data
sets per row, a few epochs, one seed). :func:`time_cell` times one (model, row, seed)
cell at given settings, so the cost of the full mode can be estimated without
running it. Reference: ``jaffe2024`` (Section 4.5, Table 4.1).
"""

from __future__ import annotations

from . import check_mode, check_part, register, seed_mean, seed_std

__all__ = [
    "SETTINGS",
    "MODELS",
    "PAPER",
    "record_config",
    "load_row",
    "build",
    "score",
    "train_cell",
    "time_cell",
    "PARTS",
    "lasa_table",
    "lasa_table_1",
    "lasa_table_2",
    "merge",
]

MODELS = ("ELCD", "SDD", "EFlow", "NCDS")

# Table 4.1 of jaffe2024 as printed there, columns SDD, EFlow, NCDS, ELCD (None: NaN)
_PAPER_ROWS = {
    "LASA-2D": ("0.37 ± 0.32", "1.05 ± 0.25", "0.59 ± 0.61", "0.12 ± 0.11"),
    "LASA-4D": ("2.49 ± 2.4", "2.24 ± 0.12", "2.19 ± 1.23", "0.80 ± 0.54"),
    "LASA-8D": ("5.26 ± 0.50", "2.66 ± 0.63", "5.04 ± 0.77", "1.52 ± 0.61"),
    "Pendulum-4D": ("0.49 ± 0.11", "0.17 ± 0.01", "1.35 ± 2.26", "0.03 ± 0.01"),
    "Pendulum-8D": ("0.75 ± 0.08", "0.33 ± 0.01", "2.88 ± 0.69", "0.14 ± 0.03"),
    "Pendulum-16D": ("1.86 ± 0.14", "0.45 ± 0.01", "1.65 ± 0.31", "0.44 ± 0.09"),
    "Rosenbrock-8D": (None, "1.90 ± 0.16", "2.74 ± 0.15", "1.22 ± 0.01"),
    "Rosenbrock-16D": (None, "3.57 ± 0.66", "3.68 ± 0.12", "2.57 ± 0.09"),
}
PAPER = {
    row: dict(zip(("SDD", "EFlow", "NCDS", "ELCD"), cells))
    for row, cells in _PAPER_ROWS.items()
}


def _lasa_sets(groups):
    return [
        {"shapes": [group] if isinstance(group, str) else list(group)}
        for group in groups
    ]


def _full_rows():
    from ..trajectories import LASA_2D, LASA_4D, LASA_8D

    return [
        ["LASA-2D", "lasa", _lasa_sets(LASA_2D)],
        ["LASA-4D", "lasa", _lasa_sets(LASA_4D)],
        ["LASA-8D", "lasa", _lasa_sets(LASA_8D)],
        ["Pendulum-4D", "pendulum", [{"links": 2}]],
        ["Pendulum-8D", "pendulum", [{"links": 4}]],
        ["Pendulum-16D", "pendulum", [{"links": 8}]],
        ["Rosenbrock-8D", "rosenbrock", [{"dim": 8, "box": [0.75, 1.25]}]],
        ["Rosenbrock-16D", "rosenbrock", [{"dim": 16, "box": [0.75, 1.25]}]],
    ]


SETTINGS = {
    "fast": {
        "rows": [
            ["LASA-2D", "lasa", _lasa_sets(["Angle", "CShape"])],
            ["LASA-4D", "lasa", _lasa_sets([("Angle", "Sine")])],
            ["LASA-8D", "lasa", _lasa_sets([("Angle", "Sine", "CShape", "Khamesh")])],
            ["Pendulum-4D", "pendulum", [{"links": 2}]],
            ["Rosenbrock-8D", "rosenbrock", [{"dim": 8, "box": [0.75, 1.25]}]],
        ],
        "loaders": {
            "lasa": {"demos": 3, "subsample": 40},
            "pendulum": {"trajectories": 3, "samples": 50, "t_end": 10.0},
            "rosenbrock": {"trajectories": 2, "samples": 50, "t_end": 3.0},
        },
        "models": list(MODELS),
        "epochs": 3,
        "lr": 3e-3,
        "batch_size": 100,
        "seeds": [0],
    },
    "full": {
        "rows": _full_rows(),
        "loaders": {
            "lasa": {"demos": 3, "subsample": 10},
            "pendulum": {"trajectories": 6, "samples": 200, "t_end": 10.0},
            "rosenbrock": {"trajectories": 4, "samples": 200, "t_end": 3.0},
        },
        "models": list(MODELS),
        "epochs": 100,
        "lr": 1e-3,
        "batch_size": 100,
        "seeds": [0, 1, 2],
    },
}


def record_config(mode, part=None):
    """The ``config`` that :func:`lasa_table` (or the half ``part`` of :data:`PARTS`)
    records for ``mode``, without running."""
    config = {
        **_part_settings(mode, part),
        "mode": mode,
        "optimizer": "adam",
        "loss": "mean squared error of velocities",
        "score": "dtwd of each demonstration and the rollout from its first point",
    }
    return config if part is None else {**config, "part": part}


def load_row(loader, arguments, loaders):
    """The :class:`~contraction.trajectories.Demonstrations` of one data set of a row:
    ``loader`` is ``"lasa"``, ``"pendulum"`` or ``"rosenbrock"``, ``arguments`` its
    data-set arguments, ``loaders`` the shared options of each loader."""
    from .. import trajectories

    functions = {
        "lasa": trajectories.lasa,
        "pendulum": trajectories.pendulum,
        "rosenbrock": trajectories.rosenbrock,
    }
    if loader not in functions:
        raise ValueError(f"loader must be one of {sorted(functions)}, got {loader!r}")
    return functions[loader](**arguments, **loaders[loader])


def build(model, data):
    """A fresh model of kind ``model`` (one of :data:`MODELS`) for ``data``."""
    from .. import baselines, elcd

    builders = {
        "ELCD": lambda: elcd.latent_elcd(data.dim, x_star=data.x_star),
        "SDD": lambda: baselines.SDD(data.dim, x_star=data.x_star),
        "EFlow": lambda: baselines.eflow(data.dim, x_star=data.x_star),
        "NCDS": lambda: baselines.latent_ncds(data.dim, x_star=data.x_star),
    }
    if model not in builders:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    return builders[model]()


def score(model, data):
    """Per-demonstration DTWD of ``model``'s rollouts; None where a rollout is not
    finite (it diverged), since a distance to infinity says nothing more."""
    import torch

    from .. import elcd

    scores = []
    for demo in data.positions:
        path = elcd.rollout(model, demo[:1], data.dt, max(len(demo) - 1, 1))[:, 0]
        finite = bool(torch.isfinite(path).all())
        scores.append(elcd.dtwd(path, demo) if finite else None)
    return scores


def train_cell(model, data, settings, seed):
    """Train a fresh ``model`` on ``data`` with ``settings`` from ``seed``; return
    ``(trained model, per-demonstration scores)``."""
    from .. import elcd, runtime

    runtime.seed_everything(seed)  # the initial weights, not only the batch order
    net = build(model, data)
    options = {k: settings[k] for k in ("epochs", "lr", "batch_size")}
    elcd.train(net, data, seed=seed, device="cpu", **options)
    return net, score(net, data)


def time_cell(model, row, mode="full", seed=0, data_set=0):
    """Seconds to train and score ``model`` on data set ``data_set`` of ``row`` with
    the settings of ``mode`` (on one thread): the unit for estimating a whole run."""
    import time

    from ..runtime import single_thread

    settings = SETTINGS[check_mode(SETTINGS, mode)]
    rows = {name: (loader, sets) for name, loader, sets in settings["rows"]}
    if row not in rows:
        raise ValueError(f"row must be one of {sorted(rows)}, got {row!r}")
    loader, sets = rows[row]
    data = load_row(loader, sets[data_set], settings["loaders"])
    with single_thread():
        start = time.perf_counter()
        train_cell(model, data, settings, seed)
        return time.perf_counter() - start


def _row_mean(scores):
    return None if None in scores else sum(scores) / len(scores)


def _run_row(settings, loader, sets, seconds):
    """Per model and seed, the row's mean score and the per-data-set means."""
    import time

    datasets = [load_row(loader, arguments, settings["loaders"]) for arguments in sets]
    cells = {}
    for model in settings["models"]:
        per_seed, per_set = [], []
        for seed in settings["seeds"]:
            start = time.perf_counter()
            scores = [train_cell(model, d, settings, seed)[1] for d in datasets]
            seconds[model] += time.perf_counter() - start
            per_set.append([_row_mean(s) for s in scores])
            per_seed.append(_row_mean([v for s in scores for v in s]))
        cells[model] = {
            "mean": seed_mean(per_seed),
            "std": seed_std(per_seed),
            "per_seed": per_seed,
            "per_data_set": per_set,
        }
    return cells, datasets


# Halves of the full table with about equal cost on a CPU, so that two processes can
# record it side by side (``lasa_table_1`` and ``lasa_table_2``); each half is a record
# of its own, and :func:`merge` joins them.
PARTS = {
    "lasa_table_1": ["LASA-2D", "Pendulum-4D", "Rosenbrock-8D", "Rosenbrock-16D"],
    "lasa_table_2": ["LASA-4D", "LASA-8D", "Pendulum-8D", "Pendulum-16D"],
}


def _part_settings(mode, part):
    settings = SETTINGS[check_mode(SETTINGS, mode)]
    if check_part(PARTS, part) is None:
        return settings
    rows = [r for r in settings["rows"] if r[0] in PARTS[part]]
    return {**settings, "rows": rows}


def _table(mode, part=None):
    from ..nn.results import tensor_checksum
    from ..runtime import single_thread

    settings = _part_settings(mode, part)
    config = record_config(mode, part)
    table, names, tensors = {}, [], []
    seconds = dict.fromkeys(settings["models"], 0.0)
    with single_thread():
        for row, loader, sets in settings["rows"]:
            table[row], datasets = _run_row(settings, loader, sets, seconds)
            names.append(f"{row}: " + ", ".join(d.name for d in datasets))
            tensors += [t for d in datasets for t in (d.x, d.xdot)]
    metrics = {
        "rows": [row for row, _, _ in settings["rows"]],
        "models": list(settings["models"]),
        "table": table,
        "paper": {row: PAPER[row] for row in table if row in PAPER},
        "train_seconds": seconds,
    }
    return {
        "metrics": metrics,
        "config": config,
        "data_used": "standardized demonstrations; " + "; ".join(names),
        "data_checksum": tensor_checksum(*tensors),
    }


@register("lasa_table")
def lasa_table(mode):
    """Table 4.1: DTWD of ELCD, SDD, EFlow and NCDS on LASA, pendulum, Rosenbrock."""
    return _table(mode)


@register("lasa_table_1")
def lasa_table_1(mode):
    """Table 4.1, first half of the rows (LASA-2D, Pendulum-4D, Rosenbrock)."""
    return _table(mode, "lasa_table_1")


@register("lasa_table_2")
def lasa_table_2(mode):
    """Table 4.1, second half of the rows (LASA-4D/8D, Pendulum-8D/16D)."""
    return _table(mode, "lasa_table_2")


def merge(records):
    """One table from records of :data:`PARTS` (or of the whole experiment): rows in the
    dissertation's order, each from the record that has it; ``(table, rows)``."""
    table = {}
    for record in records:
        table.update(record["metrics"]["table"])
    order = [row for row, _, _ in SETTINGS["full"]["rows"]]
    return table, [row for row in order if row in table]
