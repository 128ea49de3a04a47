r"""Monotone operator equilibrium networks as the Euclidean baseline of Section 4.3.

A monotone operator equilibrium network (MON, Winston and Kolter, NeurIPS 2020, key
``winston2020``; :class:`contraction.monotone.MonotoneNetwork`)
:math:`z = \mathrm{ReLU}(Wz + Uu + b)`, :math:`y = Cz + c`, with
:math:`I - W \succeq mI`, is well posed for the same reason as the
:math:`\mu_\infty`-constrained implicit network, in :math:`\ell_2` instead of
:math:`\ell_\infty`, and has the :math:`\ell_2` Lipschitz bound
:math:`\|U\|_2\|C\|_2/m`.

:func:`train_and_evaluate_monotone` trains one on the data, optimiser, epochs and width
of the ``inn_digits`` settings, minimising cross-entropy plus
:math:`\lambda\|U\|_2\|C\|_2/m` (the analogue of the :math:`\ell_\infty` penalty of
robust training), and scores it with
:func:`contraction.experiments.robust_scores.evaluate_model`, which converts the
:math:`\ell_2` certificate to the :math:`\ell_\infty` threat model of the section.
:func:`monotone_runs` does that for several penalties and seeds.
"""

from __future__ import annotations

__all__ = ["MON_M", "train_and_evaluate_monotone", "monotone_runs"]

#: The strong monotonicity m of the baseline. A large m lowers the bound
#: ``||U|| ||C|| / m`` and lets the splitting converge in fewer iterations.
MON_M = 1.0


def train_and_evaluate_monotone(dataset, settings, *, lam=0.0, seed=0, m=MON_M):
    """Train one MON and score it; returns ``(model, record)``.

    ``settings`` as in :data:`contraction.experiments.inn.SETTINGS` (epochs, batch_size,
    lr, n_hidden, tol, max_iter, eval_tol and the attack settings). The record has
    ``model = "monotone"``, ``gamma = None``, ``lambda``, ``seed``, ``m``,
    ``final_train_loss`` and the scores of
    :func:`~contraction.experiments.robust_scores.evaluate_model`.
    """
    from dataclasses import replace

    from .. import runtime
    from .._checks import as_positive_scalar
    from ..monotone import MonotoneNetwork
    from ..nn import train
    from .robust_scores import evaluate_model

    lam = as_positive_scalar(lam, "lam", allow_zero=True)
    m = as_positive_scalar(m, "m")
    runtime.seed_everything(seed)
    model = MonotoneNetwork(
        dataset.x_train.shape[1],
        settings["n_hidden"],
        dataset.num_classes,
        m=m,
        tol=settings["tol"],
        max_iter=settings["max_iter"],
    ).to(dataset.x_train.device)
    history = train.fit(
        model,
        dataset.train,
        epochs=settings["epochs"],
        lr=settings["lr"],
        batch_size=settings["batch_size"],
        regularizer=(lambda net: lam * net.lipschitz_penalty_l2()) if lam > 0 else None,
        seed=seed,
        device=dataset.x_train.device,
        progress=False,
    )
    # as for the implicit networks: accurate solves for attacks and certificates
    model.solver = replace(model.solver, tol=settings["eval_tol"], strict=False)
    record = {
        "model": "monotone",
        "gamma": None,
        "lambda": lam,
        "seed": seed,
        "m": m,
        "final_train_loss": history["loss"][-1],
    }
    record.update(evaluate_model(model.eval(), dataset, settings))
    return model, record


def monotone_runs(dataset, settings, lambdas, m=MON_M):
    """``(models, records)`` of :func:`train_and_evaluate_monotone` for every seed in
    ``settings["seeds"]`` and penalty in ``lambdas``, on one CPU thread."""
    from ..runtime import single_thread

    if not isinstance(lambdas, (list, tuple)) or not lambdas:
        raise ValueError("lambdas must be a non-empty list of penalties")
    models, records = [], []
    with single_thread():
        for seed in settings["seeds"]:
            for lam in lambdas:
                model, record = train_and_evaluate_monotone(
                    dataset, settings, lam=lam, seed=seed, m=m
                )
                models.append(model)
                records.append(record)
    return models, records
