r"""Robust training of implicit networks: accuracy against certified and empirical
robustness.

Section 4.3 of the book. The experiment ``inn_digits`` trains, for a grid of
hyperparameters :math:`(\gamma, \lambda)`, the :math:`\mu_\infty`-constrained implicit
network

.. math:: \min_{A, B, C, b, c}\ \frac1N\sum_{i=1}^N \mathcal L(\hat y_i, Cx_i + c)
          + \lambda\,\frac{\|B\|_\infty\|C\|_\infty}{1 - \mu_\infty(A)_+}, \qquad x_i =
            \mathrm{ReLU}(Ax_i + B\hat u_i + b), \quad \mu_\infty(A) \le \gamma,

(cross-entropy plus :math:`\lambda` times the Lipschitz bound of
:func:`contraction.implicit.lipschitz_bound`), and two baselines of the same width: an
implicit network with a free matrix :math:`A` and a one-hidden-layer feedforward
network. Every model is scored by one function, :func:`train_and_evaluate`: clean test
accuracy, :math:`\mu_\infty(A)`, the certified :math:`\ell_\infty` Lipschitz bound, an
empirical Lipschitz estimate, and accuracy under FGSM and PGD attacks.

Units: attack radii :math:`\varepsilon` and Lipschitz constants refer to *pixels in*
:math:`[0, 1]`. A dataset standardised as :math:`(p - m)/s` turns a pixel radius
:math:`\varepsilon` into :math:`\varepsilon/s` in model units, and a model-unit
Lipschitz constant :math:`L` into :math:`L/s` logits per pixel
(:func:`contraction.experiments.robust_scores.pixel_scale`).

Fast mode: the 8x8 digits, one seed, a short sweep (three penalties, eight epochs,
attacks and certificates on 200 test images; under a minute on two CPU cores). Full
mode: MNIST when its files can be loaded, else the digits with the full sweep;
``data_used`` says which. :data:`SETTINGS` holds both; ``tol`` is the solver tolerance
during training and ``eval_tol`` the tighter one for evaluation and attacks,
``n_attack`` limits the test rows that are attacked and certified (None: all; clean
accuracy always uses the whole test set), and ``baseline_gamma`` names the constrained
family that the book compares with the baselines.

The full sweep is a script (``python -m contraction.experiments inn_digits --mode
full``) whose record the book shows; the sweep that Section 4.3 trains itself is
:func:`notebook_settings`, small in both modes, run by :func:`sweep`.
:func:`record_config` is the config that :func:`inn_digits` records, so a notebook can
check a record against the code without running it. Reference: Jafarpour, Davydov,
Proskurnikov, Bullo, NeurIPS 2021 (``jafarpour2021``).
"""

from __future__ import annotations

from ..runtime import single_thread
from . import check_mode, register
from .robust_scores import evaluate_model, summarize

__all__ = [
    "SETTINGS",
    "MODEL_KINDS",
    "build_model",
    "lipschitz_penalty",
    "load_data",
    "sweep_plan",
    "train_and_evaluate",
    "notebook_settings",
    "record_config",
    "sweep",
    "inn_digits",
]

MODEL_KINDS = ("constrained", "unconstrained", "feedforward")

SETTINGS = {
    "fast": {
        "data": "digits",
        "split_seed": 0,
        "n_train": None,
        "n_test": None,
        "n_hidden": 100,
        "epochs": 8,
        "batch_size": 128,
        "lr": 5e-3,
        "gammas": [0.0, 0.5],
        "lambdas": [0.0, 1e-2, 1e-1],
        "seeds": [0],
        "baseline_gamma": 0.5,
        "eps": [0.02, 0.05, 0.1, 0.15, 0.2],
        "pgd_steps": 5,
        "n_attack": 200,
        "lipschitz_eps": 0.05,
        "tol": 1e-3,
        "eval_tol": 1e-5,
        "max_iter": 300,
    },
    "full": {
        "data": "mnist",
        "split_seed": 0,
        "n_train": None,
        "n_test": None,
        "n_hidden": 100,
        "epochs": 20,
        "batch_size": 128,
        "lr": 2e-3,
        "gammas": [0.0, 0.5, 0.9],
        "lambdas": [0.0, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1],
        "seeds": [0, 1, 2],
        "baseline_gamma": 0.5,
        "eps": [0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3],
        "pgd_steps": 20,
        "n_attack": 2000,
        "lipschitz_eps": 0.05,
        "tol": 1e-4,
        "eval_tol": 1e-6,
        "max_iter": 500,
    },
}

# The notebook's own sweep in full mode: the fast sweep on the full mode's data, MNIST
# cut to a subset that a GPU (or a patient CPU) trains in a few minutes.
_NOTEBOOK_FULL_DATA = {"n_train": 10000, "n_test": 2000}


def notebook_settings(mode):
    """The small sweep that Section 4.3 trains itself in ``mode`` (a new dict).

    ``"fast"``: ``SETTINGS["fast"]``. ``"full"``: the same sweep (models, penalties,
    epochs, attacks) on the full mode's data, MNIST limited to a random subset of 10,000
    training and 2,000 test images; where MNIST cannot be loaded (no network)
    :func:`load_data` falls back to the whole digits set, so the notebook then trains
    exactly its fast sweep. The long sweep of ``SETTINGS["full"]`` is the experiment
    script; the notebook shows its record (book/building.md, "Full and fast runs").
    """
    settings = dict(SETTINGS["fast"])
    if check_mode(SETTINGS, mode) == "full":
        settings.update(data=SETTINGS["full"]["data"], **_NOTEBOOK_FULL_DATA)
    return settings


def record_config(mode):
    """The ``config`` that :func:`inn_digits` records for ``mode``, computed without
    running.

    A notebook passes it to :func:`contraction.nn.results.check_config` to tell whether
    a recorded run was produced by the code in front of the reader.
    """
    return {
        **SETTINGS[check_mode(SETTINGS, mode)],
        "mode": mode,
        "units": "eps and Lipschitz constants per pixel in [0, 1]",
        "optimizer": "adam",
        "loss": "cross-entropy + lambda * Lipschitz bound",
    }


def _check_kind(kind):
    if kind not in MODEL_KINDS:
        raise ValueError(f"kind must be one of {MODEL_KINDS}, got {kind!r}")
    return kind


def build_model(kind, n_in, n_hidden, n_out, gamma=0.5, tol=1e-3, max_iter=300):
    """A fresh model of ``kind``: ``"constrained"`` (:math:`\\mu_\\infty(A) \\le`
    ``gamma``), ``"unconstrained"`` (free :math:`A`) or ``"feedforward"`` (one hidden
    ReLU layer)."""
    from .. import implicit

    if _check_kind(kind) == "feedforward":
        return implicit.FeedForward(n_in, n_hidden, n_out)
    free = kind == "unconstrained"
    # a free matrix carries no guarantee: its failed solves are recorded, not raised
    return implicit.ImplicitNetwork(
        n_in,
        n_hidden,
        n_out,
        gamma=gamma,
        tol=tol,
        max_iter=max_iter,
        unconstrained=free,
        strict=not free,
    )


def lipschitz_penalty(model):
    r"""The Lipschitz bound of ``model`` as a differentiable torch scalar (model units).

    The model's own ``lipschitz_bound()``
    (:func:`contraction.nn.robustness.lipschitz_penalty`), the same formula as the
    number :func:`contraction.implicit.lipschitz_bound` reports: for an implicit network
    :math:`\|\mathrm{diag}(\eta)B\|_\infty\|C\mathrm{diag}(\eta)^{-1}\|_\infty/(1 -
    \mu_{\infty,[\eta]}(A)_+)`, for a feedforward network
    :math:`\|W_1\|_\infty\|W_2\|_\infty`. Section 4.3.
    """
    from ..nn import robustness

    return robustness.lipschitz_penalty(model)


def load_data(
    source, split_seed=0, n_train=None, n_test=None, *, normalize=True, fallback=True
):
    """``(dataset, data_used)`` for ``source`` ``"digits"``, ``"mnist"`` or
    ``"cifar10"``.

    MNIST and CIFAR-10 need their files (downloaded or cached, see
    :func:`contraction.data.mnist` and :func:`contraction.data.cifar10`); when they
    cannot be had, the digits are used instead and ``data_used`` says so and why, or,
    with ``fallback=False``, the loader's error is raised. ``n_train`` and ``n_test``
    are upper limits (a random subset when the data has more rows, the whole split
    otherwise), so one setting serves the data and its digits fallback. ``normalize``
    is passed to the loader (False: pixels in [0, 1]).
    """
    from .. import data

    loaders = {"mnist": (data.mnist, "MNIST"), "cifar10": (data.cifar10, "CIFAR-10")}
    if source not in ("digits", *loaders):
        raise ValueError(
            f"source must be 'digits', 'mnist' or 'cifar10', got {source!r}"
        )
    note = ""
    if source in loaders:
        loader, title = loaders[source]
        try:
            dataset = loader(normalize=normalize)
        except (RuntimeError, OSError, ValueError) as exc:
            if not fallback:
                raise
            dataset = data.digits(seed=split_seed, normalize=normalize)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if len(reason) > 240:
                reason = reason[:240] + " ..."
            note = f" -- fallback: {title} could not be loaded ({reason})"
    else:
        dataset = data.digits(seed=split_seed, normalize=normalize)
    n_train = None if n_train is None or n_train >= len(dataset.y_train) else n_train
    n_test = None if n_test is None or n_test >= len(dataset.y_test) else n_test
    if n_train is not None or n_test is not None:
        dataset = dataset.subset(n_train, n_test, seed=split_seed)
    return dataset, dataset.name + note


def _on_device(dataset, device):
    from dataclasses import replace

    return replace(
        dataset,
        x_train=dataset.x_train.to(device),
        y_train=dataset.y_train.to(device),
        x_test=dataset.x_test.to(device),
        y_test=dataset.y_test.to(device),
    )


def sweep_plan(settings):
    """The runs of a sweep: dicts with ``kind``, ``gamma``, ``lam`` and ``seed``.

    Constrained models for every (gamma, lambda, seed); per seed one unconstrained
    implicit and one feedforward model, both trained without the penalty (``lam = 0``).
    """
    plan = []
    for seed in settings["seeds"]:
        plan += [
            {"kind": "constrained", "gamma": float(g), "lam": float(lam), "seed": seed}
            for g in settings["gammas"]
            for lam in settings["lambdas"]
        ]
        plan += [
            {"kind": kind, "gamma": None, "lam": 0.0, "seed": seed}
            for kind in ("unconstrained", "feedforward")
        ]
    return plan


def _lam(value):
    from .._checks import as_positive_scalar

    return as_positive_scalar(value, "lam", allow_zero=True)


def train_and_evaluate(kind, dataset, settings, *, gamma=None, lam=0.0, seed=0):
    """Train one model and score it: the one routine shared by the fast and full sweeps.

    Minimises cross-entropy ``+ lam * lipschitz_penalty(model)`` with Adam
    (``settings``: epochs, batch_size, lr, n_hidden, tol, max_iter) from initial weights
    seeded by ``seed``; ``gamma`` is needed for ``kind="constrained"``. An implicit
    model then solves to ``eval_tol`` (kept on the returned model), so that attacks get
    accurate implicit gradients. Returns ``(model, record)`` where ``record`` holds the
    run's settings and the scores of
    :func:`contraction.experiments.robust_scores.evaluate_model`.
    """
    from dataclasses import replace

    from .. import implicit, runtime
    from ..nn import train

    _check_kind(kind)
    lam = _lam(lam)
    if kind == "constrained" and gamma is None:
        raise ValueError("gamma is required for kind='constrained'")
    runtime.seed_everything(seed)
    model = build_model(
        kind,
        dataset.x_train.shape[1],
        settings["n_hidden"],
        dataset.num_classes,
        0.5 if gamma is None else gamma,
        settings["tol"],
        settings["max_iter"],
    )
    regularizer = (lambda m: lam * lipschitz_penalty(m)) if lam > 0 else None
    history = train.fit(
        model,
        dataset.train,
        epochs=settings["epochs"],
        lr=settings["lr"],
        batch_size=settings["batch_size"],
        regularizer=regularizer,
        seed=seed,
        device=dataset.x_train.device,
        progress=False,
    )
    record = {
        "model": kind,
        "gamma": gamma,
        "lambda": lam,
        "seed": seed,
        "final_train_loss": history["loss"][-1],
    }
    if isinstance(model, implicit.ImplicitNetwork):
        # Attacks need accurate input gradients and certificates a small solver
        # residual. A float32 solve may stall just above eval_tol: it is recorded, not
        # raised, and the certificate stays valid because it counts the residual
        # actually reached.
        model.solver = replace(model.solver, tol=settings["eval_tol"], strict=False)
    record.update(evaluate_model(model.eval(), dataset, settings))
    return model, record


def sweep(settings, artifacts=None, progress=False):
    """Train and score every run of :func:`sweep_plan` (``settings`` as in
    :data:`SETTINGS`).

    Each run is :func:`train_and_evaluate`, on one CPU thread
    (:func:`contraction.runtime.single_thread`) and on
    :func:`contraction.runtime.device`. Returns ``{"metrics": {"eps", "runs",
    "summary"}, "data_used", "data_checksum"}``. A dict passed as ``artifacts`` receives
    ``"models"`` (the trained models, in the order of ``metrics["runs"]``) and
    ``"dataset"`` (the data used); ``progress=True`` shows one progress bar over the
    runs. Section 4.3 calls it with :func:`notebook_settings`.
    """
    from tqdm.auto import tqdm

    from .. import runtime
    from ..nn.results import tensor_checksum

    if artifacts is not None and not isinstance(artifacts, dict):
        raise TypeError(
            f"artifacts must be None or a dict, got {type(artifacts).__name__}"
        )
    settings = dict(settings)
    dataset, data_used = load_data(
        settings["data"],
        settings["split_seed"],
        settings["n_train"],
        settings["n_test"],
    )
    dataset = _on_device(dataset, runtime.device())
    runs, models = [], []
    with single_thread():
        plan = sweep_plan(settings)
        for run in tqdm(plan, disable=not progress, desc="inn_digits", unit="model"):
            model, record = train_and_evaluate(
                run["kind"],
                dataset,
                settings,
                gamma=run["gamma"],
                lam=run["lam"],
                seed=run["seed"],
            )
            runs.append(record)
            models.append(model)
    if artifacts is not None:
        artifacts.update(models=models, dataset=dataset)
    metrics = {"eps": list(settings["eps"]), "runs": runs, "summary": summarize(runs)}
    return {
        "metrics": metrics,
        "data_used": data_used,
        "data_checksum": tensor_checksum(
            dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test
        ),
    }


@register("inn_digits")
def inn_digits(mode, artifacts=None, progress=False):
    """Robust implicit networks: accuracy vs Lipschitz bound and attacks (digits /
    MNIST).

    The sweep of ``SETTINGS[mode]`` (:func:`sweep`) with its config
    (:func:`record_config`): returns ``{"metrics": {"eps", "runs", "summary"}, "config",
    "data_used", "data_checksum"}``; ``artifacts`` and ``progress`` as in :func:`sweep`.
    """
    config = record_config(mode)
    if artifacts is not None and not isinstance(artifacts, dict):
        raise TypeError(
            f"artifacts must be None or a dict, got {type(artifacts).__name__}"
        )
    return {**sweep(SETTINGS[mode], artifacts, progress), "config": config}
