r"""Scores of a robustly trained classifier, and their average over seeds (Section 4.3).

One function scores every model of the ``inn_digits`` experiment (:func:`evaluate_model`): clean
accuracy, :math:`\mu_\infty(A)`, the certified Lipschitz bound next to an empirical estimate,
accuracy under FGSM and PGD, and certified accuracy, all in *pixel* units: a dataset standardised
as :math:`(p - m)/s` turns a pixel radius :math:`\varepsilon` into :math:`\varepsilon/s` in model
units (:func:`pixel_scale`). Attacks and certificates use the same test rows. :func:`summarize`
averages records over seeds, with their standard deviation. Reference: Jafarpour, Davydov,
Proskurnikov, Bullo, NeurIPS 2021 (``jafarpour2021``).
"""

from __future__ import annotations

import math

from . import seed_mean, seed_std

__all__ = [
    "pixel_scale",
    "robust_accuracies",
    "certified_accuracy",
    "evaluate_model",
    "summarize",
]


def pixel_scale(dataset):
    """``(std, (low, high))``: the pixel standard deviation and the model-unit image of [0, 1].

    An attack radius ``eps`` in pixels is ``eps / std`` in model units; ``(low, high)`` is the
    clamp that keeps attacked inputs valid images. Needs one scalar mean and std (grey images).
    """
    mean, std = getattr(dataset, "mean", None), getattr(dataset, "std", None)
    if mean is None or std is None or len(mean) != 1 or len(std) != 1:
        raise ValueError(
            "dataset must be a contraction.data.Dataset with one scalar mean and std"
        )
    m, s = float(mean[0]), float(std[0])
    return s, ((0.0 - m) / s, (1.0 - m) / s)


def _attack_rows(dataset, n_attack):
    x, y = dataset.test
    return (x, y) if n_attack is None else (x[:n_attack], y[:n_attack])


def _accuracy(model, x, y):
    import torch

    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def robust_accuracies(model, dataset, settings):
    """``{"fgsm": [...], "pgd": [...]}``: test accuracy under each attack, one entry per pixel
    radius in ``settings["eps"]`` (on the first ``settings["n_attack"]`` test rows)."""
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
    r"""Certified test accuracy for each pixel radius in ``eps``: a lower bound on robust accuracy.

    On the first ``n_test`` test rows (None: all), the rows that :func:`robust_accuracies`
    attacks when ``n_test = settings["n_attack"]``, so certificates and attacks score the same
    points.

    A test point counts when it is classified correctly with a logit margin
    :math:`> 2L\varepsilon + 2\delta`, where :math:`L` is in logits per pixel (default: the
    certified bound of :func:`contraction.implicit.lipschitz_bound` divided by the pixel std) and
    :math:`\delta` bounds each logit's error from stopping the solver at its tolerance
    (:meth:`contraction.implicit.ImplicitNetwork.logit_error_bound`; zero for a feedforward
    network). See :func:`contraction.nn.robustness.certified_accuracy`. Section 4.3.
    """
    import torch

    from .. import implicit
    from ..nn import robustness

    std, _ = pixel_scale(dataset)
    if lipschitz is None:
        lipschitz = implicit.lipschitz_bound(model) / std
    x, y = _attack_rows(dataset, n_test)
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
    """All scores of a trained model, Lipschitz constants in logits per pixel (see module)."""
    import torch

    from .. import implicit
    from ..nn import robustness

    std, _ = pixel_scale(dataset)
    is_implicit = isinstance(model, implicit.ImplicitNetwork)
    bound = implicit.lipschitz_bound(model)
    x, _ = _attack_rows(dataset, settings["n_attack"])
    generator = torch.Generator(device=x.device).manual_seed(0)
    empirical = robustness.empirical_lipschitz(
        model, x, settings["lipschitz_eps"] / std, generator=generator
    )
    scores = {
        "clean_accuracy": _accuracy(model, *dataset.test),
        "mu_inf": implicit.mu_inf(model) if is_implicit else None,
        "lipschitz_bound": bound / std if math.isfinite(bound) else None,
        "empirical_lipschitz": empirical / std,
    }
    scores["forward_converged"] = _solver_report(model)
    scores["certified_accuracy"] = (
        certified_accuracy(model, dataset, settings["eps"], n_test=settings["n_attack"])
        if math.isfinite(bound)
        else None
    )
    accuracies = robust_accuracies(model, dataset, settings)
    scores.update(fgsm_accuracy=accuracies["fgsm"], pgd_accuracy=accuracies["pgd"])
    if (
        is_implicit
    ):  # the attacks above are the last solves; check the clean solve once more
        with torch.no_grad():
            model(dataset.x_test)
        scores["forward_converged"] = _solver_report(model)
    return scores


def summarize(runs):
    """Average the records of equal (model, gamma, lambda) over seeds.

    Returns a list of dicts with those keys, ``n_seeds``, the mean of every numeric score
    (lists entrywise) under the score's name, and its sample standard deviation over seeds under
    ``NAME_std`` (None for a single seed); a score that is None for some seed stays None.
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
        ):
            row[key] = seed_mean([m[key] for m in members])
            row[key + "_std"] = seed_std([m[key] for m in members])
        rows.append(row)
    return rows
