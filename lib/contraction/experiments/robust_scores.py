r"""Scores of a robustly trained classifier, and their average over seeds (Section 4.3).

One function scores every model of the ``inn_digits`` experiment
(:func:`evaluate_model`): clean accuracy, :math:`\mu_\infty(A)`, the certified Lipschitz
bound next to an empirical estimate, accuracy under FGSM and PGD, and certified
accuracy, all in *pixel* units: a dataset standardised as :math:`(p - m)/s` turns a
pixel radius :math:`\varepsilon` into :math:`\varepsilon/s` in model units
(:func:`pixel_scale`). Attacks and certificates use the same test rows.
:func:`summarize` averages records over seeds, with their standard deviation. Reference:
Jafarpour, Davydov, Proskurnikov, Bullo, NeurIPS 2021 (``jafarpour2021``).

The monotone operator equilibrium network
(:class:`contraction.monotone.MonotoneNetwork`) is scored against the same
:math:`\ell_\infty` threat model. Its certificate is Euclidean, :math:`\|\Delta y\|_2
\le L_2\|\Delta u\|_2`, and an :math:`\ell_\infty` ball of radius :math:`\varepsilon` in
:math:`\mathbb{R}^n` lies in the :math:`\ell_2` ball of radius :math:`\sqrt
n\,\varepsilon`, so :func:`lipschitz_linf` reports :math:`\sqrt n\,L_2 \ge` its
:math:`\ell_\infty \to \ell_\infty` constant (:math:`\|\Delta y\|_\infty \le \|\Delta
y\|_2`).
"""

from __future__ import annotations

import math

from . import seed_mean, seed_std

__all__ = [
    "pixel_scale",
    "lipschitz_linf",
    "robust_accuracies",
    "certified_accuracy",
    "evaluate_model",
    "summarize",
]


def pixel_scale(dataset):
    """``(std, (low, high))``: the pixel standard deviation and the model-unit image of
    [0, 1].

    An attack radius ``eps`` in pixels is ``eps / std`` in model units; ``(low, high)``
    is the clamp that keeps attacked inputs valid images. Needs one scalar mean and std
    (grey images).
    """
    mean, std = getattr(dataset, "mean", None), getattr(dataset, "std", None)
    if mean is None or std is None or len(mean) != 1 or len(std) != 1:
        raise ValueError(
            "dataset must be a contraction.data.Dataset with one scalar mean and std"
        )
    m, s = float(mean[0]), float(std[0])
    return s, ((0.0 - m) / s, (1.0 - m) / s)


def lipschitz_linf(model, dataset):
    r"""Certified :math:`\ell_\infty \to \ell_\infty` Lipschitz bound in logits per
    pixel.

    :func:`contraction.implicit.lipschitz_bound` for an implicit or feedforward network
    (None when it is infinite); :math:`\sqrt n\,\|U\|_2\|C\|_2/m` for a monotone network
    with :math:`n` inputs (see the module docstring). Divided by the pixel std.
    """
    from .. import implicit, monotone

    std, _ = pixel_scale(dataset)
    if isinstance(model, monotone.MonotoneNetwork):
        return math.sqrt(model.n_in) * model.lipschitz_bound_l2() / std
    bound = implicit.lipschitz_bound(model)
    return bound / std if math.isfinite(bound) else None


def _attack_rows(dataset, n_attack):
    x, y = dataset.test
    return (x, y) if n_attack is None else (x[:n_attack], y[:n_attack])


def _accuracy(model, x, y):
    import torch

    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def robust_accuracies(model, dataset, settings):
    """``{"fgsm": [...], "pgd": [...]}``: test accuracy under each attack, one entry per
    pixel radius in ``settings["eps"]`` (on the first ``settings["n_attack"]`` test
    rows)."""
    from ..nn import robustness

    std, clamp = pixel_scale(dataset)
    x, y = _attack_rows(dataset, settings["n_attack"])
    out = {"fgsm": [], "pgd": []}
    for eps in settings["eps"]:
        out["fgsm"].append(
            _accuracy(model, robustness.fgsm(model, x, y, eps / std, clamp), y)
        )
        attacked = robustness.pgd(
            model, x, y, eps / std, steps=settings["pgd_steps"], clamp=clamp
        )
        out["pgd"].append(_accuracy(model, attacked, y))
    return out


def certified_accuracy(model, dataset, eps, lipschitz=None, n_test=None):
    r"""Certified test accuracy for each pixel radius in ``eps``: a lower bound on
    robust accuracy.

    On the first ``n_test`` test rows (None: all), the rows that
    :func:`robust_accuracies` attacks when ``n_test = settings["n_attack"]``, so
    certificates and attacks score the same points.

    A test point counts when it is classified correctly with a logit margin :math:`>
    2L\varepsilon + 2\delta`, where :math:`L` is in logits per pixel (default: the
    certified bound of :func:`contraction.implicit.lipschitz_bound` divided by the pixel
    std) and :math:`\delta` bounds each logit's error from stopping the solver at its
    tolerance (:meth:`contraction.implicit.ImplicitNetwork.logit_error_bound`; zero for
    a feedforward network). See :func:`contraction.nn.robustness.certified_accuracy`.
    Section 4.3.

    A monotone network (:class:`contraction.monotone.MonotoneNetwork`, Euclidean bound
    :math:`L_2`) is certified in the same :math:`\ell_\infty` threat model: a logit
    difference :math:`f_k - f_j` moves by at most
    :math:`\sqrt2\|\Delta y\|_2 \le \sqrt2 L_2\sqrt n\,\varepsilon`, so the default
    :math:`L` is :math:`\sqrt{n/2}\,L_2` per pixel, and :math:`\delta` is
    :meth:`~contraction.monotone.MonotoneNetwork.logit_error_bound` of the solve.
    """
    import torch

    from .. import implicit, monotone
    from ..nn import robustness

    std, _ = pixel_scale(dataset)
    x, y = _attack_rows(dataset, n_test)
    if isinstance(model, monotone.MonotoneNetwork):
        if lipschitz is None:
            lipschitz = lipschitz_linf(model, dataset) / math.sqrt(2)
        with torch.no_grad():
            z = model.equilibrium(x)
            logits = model.output(z)
        error = model.logit_error_bound(x, z)
        return robustness.certified_accuracy(logits, y, lipschitz, eps, error)
    if lipschitz is None:
        lipschitz = implicit.lipschitz_bound(model) / std
    with torch.no_grad():
        logits = model(x)
    error = 0.0
    if isinstance(model, implicit.ImplicitNetwork):
        error = model.logit_error_bound()
        if error is None:
            raise ValueError(
                "the model is not contracting (mu_inf(A) >= 1): no certificate"
            )
    return robustness.certified_accuracy(logits, y, lipschitz, eps, error)


def _solver_report(model):
    info = getattr(model, "last_solve", None)
    return None if info is None else bool(info.converged)


def evaluate_model(model, dataset, settings):
    r"""All scores of a trained model, Lipschitz constants in logits per pixel (see
    module).

    ``lipschitz_bound`` is :func:`lipschitz_linf`; a monotone network also gets its own
    Euclidean bound, ``lipschitz_bound_l2`` (logits per unit pixel :math:`\ell_2` norm).
    """
    import torch

    from .. import implicit, monotone
    from ..nn import robustness

    std, _ = pixel_scale(dataset)
    is_implicit = isinstance(model, implicit.EquilibriumModel)
    bound = lipschitz_linf(model, dataset)
    x, _ = _attack_rows(dataset, settings["n_attack"])
    generator = torch.Generator(device=x.device).manual_seed(0)
    empirical = robustness.empirical_lipschitz(
        model, x, settings["lipschitz_eps"] / std, generator=generator
    )
    scores = {
        "clean_accuracy": _accuracy(model, *dataset.test),
        "mu_inf": implicit.mu_inf(model)
        if isinstance(model, implicit.ImplicitNetwork)
        else None,
        "lipschitz_bound": bound,
        "empirical_lipschitz": empirical / std,
    }
    scores["forward_converged"] = _solver_report(model)
    scores["certified_accuracy"] = (
        certified_accuracy(model, dataset, settings["eps"], n_test=settings["n_attack"])
        if bound is not None
        else None
    )
    accuracies = robust_accuracies(model, dataset, settings)
    scores.update(fgsm_accuracy=accuracies["fgsm"], pgd_accuracy=accuracies["pgd"])
    if is_implicit:  # the attacks above were the last solves: redo the clean one
        with torch.no_grad():
            model(dataset.x_test)
        scores["forward_converged"] = _solver_report(model)
    if isinstance(model, monotone.MonotoneNetwork):
        scores["lipschitz_bound_l2"] = model.lipschitz_bound_l2() / std
    return scores


def summarize(runs):
    """Average the records of equal (model, gamma, lambda) over seeds.

    Returns a list of dicts with those keys, ``n_seeds``, the mean of every numeric
    score (lists entrywise) under the score's name, and its sample standard deviation
    over seeds under ``NAME_std`` (None for a single seed); a score that is None for
    some seed stays None. ``lipschitz_bound_l2`` (monotone networks) is averaged where
    every seed has it.
    """
    if not isinstance(runs, (list, tuple)) or not runs:
        raise ValueError(
            "runs must be a non-empty list of records from train_and_evaluate"
        )
    groups = {}
    for record in runs:
        groups.setdefault(
            (record["model"], record["gamma"], record["lambda"]), []
        ).append(record)
    rows = []
    for (kind, gamma, lam), members in groups.items():
        row = {"model": kind, "gamma": gamma, "lambda": lam, "n_seeds": len(members)}
        for key in (
            "clean_accuracy",
            "mu_inf",
            "lipschitz_bound",
            "empirical_lipschitz",
            "fgsm_accuracy",
            "pgd_accuracy",
            "certified_accuracy",
            "lipschitz_bound_l2",
        ):
            if not all(key in m for m in members):
                continue
            row[key] = seed_mean([m[key] for m in members])
            row[key + "_std"] = seed_std([m[key] for m in members])
        rows.append(row)
    return rows
