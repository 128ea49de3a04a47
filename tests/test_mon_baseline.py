import math

import pytest
import torch

from contraction import data, monotone
from contraction.experiments import mon_baseline, robust_scores

TINY = {
    "n_hidden": 12,
    "epochs": 2,
    "batch_size": 64,
    "lr": 1e-2,
    "seeds": [0, 1],
    "eps": [0.05, 0.2],
    "pgd_steps": 2,
    "n_attack": 20,
    "lipschitz_eps": 0.05,
    "tol": 1e-3,
    "eval_tol": 1e-5,
    "max_iter": 200,
}


@pytest.fixture(scope="module")
def digits():
    return data.digits(seed=0).subset(300, 60, seed=0)


def test_train_and_evaluate_scores_in_the_linf_threat_model(digits):
    model, record = mon_baseline.train_and_evaluate_monotone(
        digits, TINY, lam=0.1, seed=0
    )
    assert isinstance(model, monotone.MonotoneNetwork) and model.m == mon_baseline.MON_M
    assert record["model"] == "monotone" and record["lambda"] == 0.1
    assert record["mu_inf"] is None and record["forward_converged"]
    assert record["clean_accuracy"] > 0.3  # 10 classes, 2 short epochs
    # the l_inf bound is sqrt(n) times the Euclidean one, both per pixel
    n = digits.x_train.shape[1]
    assert record["lipschitz_bound"] == pytest.approx(
        math.sqrt(n) * record["lipschitz_bound_l2"], rel=1e-9
    )
    assert record["empirical_lipschitz"] <= record["lipschitz_bound"]
    for cert, pgd in zip(record["certified_accuracy"], record["pgd_accuracy"]):
        assert cert <= pgd


def test_monotone_runs_and_summary(digits):
    models, records = mon_baseline.monotone_runs(digits, TINY, [0.0, 1.0])
    assert len(models) == len(records) == 4
    assert [(r["seed"], r["lambda"]) for r in records] == [
        (0, 0.0),
        (0, 1.0),
        (1, 0.0),
        (1, 1.0),
    ]
    rows = robust_scores.summarize(records)
    assert [r["n_seeds"] for r in rows] == [2, 2]
    free, penalised = rows
    assert penalised["lipschitz_bound_l2"] < free["lipschitz_bound_l2"]
    assert free["lipschitz_bound_l2_std"] is not None
    with pytest.raises(ValueError, match="lambdas"):
        mon_baseline.monotone_runs(digits, TINY, [])
    with pytest.raises(ValueError, match="lam"):
        mon_baseline.train_and_evaluate_monotone(digits, TINY, lam=-1.0)


def test_certificate_is_tight_for_an_aligned_monotone_network():
    # P = S = 0: W = (1 - m) I and, all neurons active, z = (Uu + b)/m. U = s e_1 v^T
    # with v = corner/sqrt(n), C = (e_1, -e_1)/sqrt 2 give y_0 - y_1 = sqrt2 s v^T u/m:
    # the corner -eps sign(v) moves it by sqrt2 sqrt(n) L_2 eps, L_2 = s/m, the bound
    n, hidden, m, s = 4, 3, 0.5, 0.8
    model = monotone.MonotoneNetwork(n, hidden, 2, m=m, tol=1e-13).double()
    v = torch.tensor([1.0, -1.0, 1.0, 1.0], dtype=torch.float64) / math.sqrt(n)
    with torch.no_grad():
        model.P.zero_()
        model.S.zero_()
        model.input.weight.zero_()
        model.input.weight[0] = s * v
        model.input.bias.fill_(5.0)
        model.output.weight.zero_()
        model.output.weight[:, 0] = torch.tensor([1.0, -1.0]) / math.sqrt(2)
        model.output.bias.copy_(torch.tensor([0.0, 4.0]))
    u = torch.full((1, n), 0.5, dtype=torch.float64)
    dataset = data.Dataset(u, torch.tensor([0]), u, torch.tensor([0]), "one point")
    assert model.lipschitz_bound_l2() == pytest.approx(s / m)
    with torch.no_grad():
        logits = model(u)[0]
    margin = float(logits[0] - logits[1])
    edge = margin / (math.sqrt(2 * n) * s / m)
    eps = [0.9 * edge, 1.1 * edge]
    assert robust_scores.certified_accuracy(model, dataset, eps) == [1.0, 0.0]
    with torch.no_grad():
        flips = [int(model(u - e * v.sign()).argmax(1)) for e in eps]
    assert flips == [0, 1]
