import json

import numpy as np
import pytest
import torch

from contraction import data, experiments, implicit
from contraction.book import exercises
from contraction.experiments import inn, robust_scores
from contraction.nn import results, robustness

TINY = {
    "data": "digits",
    "split_seed": 0,
    "n_train": 300,
    "n_test": 60,
    "n_hidden": 12,
    "epochs": 2,
    "batch_size": 64,
    "lr": 1e-2,
    "gammas": [0.5],
    "lambdas": [0.0, 1e-2],
    "seeds": [0],
    "baseline_gamma": 0.5,
    "eps": [0.05, 0.2],
    "pgd_steps": 2,
    "n_attack": 20,
    "lipschitz_eps": 0.05,
    "tol": 1e-3,
    "eval_tol": 1e-4,
    "max_iter": 200,
}


@pytest.fixture
def tiny_settings(monkeypatch):
    monkeypatch.setitem(inn.SETTINGS, "fast", dict(TINY))
    monkeypatch.setitem(
        inn.SETTINGS,
        "full",
        {**TINY, "data": "mnist", "seeds": [0, 1], "lambdas": [0.0]},
    )
    return TINY


@pytest.fixture(scope="module")
def digits():
    return data.digits(seed=0).subset(300, 60, seed=0)


def test_registered_and_recorded(tmp_path, tiny_settings):
    assert experiments.EXPERIMENTS["inn_digits"] is inn.inn_digits
    path = experiments.run("inn_digits", "fast", results_dir=tmp_path)
    record = json.loads(path.read_text())
    assert record["mode"] == "fast" and record["data_used"].startswith("digits")
    runs = record["metrics"]["runs"]
    assert [r["model"] for r in runs] == ["constrained"] * 2 + [
        "unconstrained",
        "feedforward",
    ]
    for r in runs:
        assert 0 <= r["clean_accuracy"] <= 1 and len(r["pgd_accuracy"]) == 2
    for r in runs[:2]:
        assert (
            r["mu_inf"] <= 0.5 + 1e-6
            and r["empirical_lipschitz"] <= r["lipschitz_bound"]
        )
        assert all(c <= p for c, p in zip(r["certified_accuracy"], r["pgd_accuracy"]))
    assert (
        runs[2]["certified_accuracy"] is None
    )  # the free implicit network has no bound
    assert record["config"]["epochs"] == 2 and len(record["metrics"]["summary"]) == 4
    # the config a notebook computes without running is the one the run recorded
    assert record["config"] == inn.record_config("fast")
    assert results.check_config(record, inn.record_config("fast"))
    assert not results.check_config(record, inn.record_config("full"))


def test_notebook_settings_stay_small_in_both_modes():
    fast, full = inn.notebook_settings("fast"), inn.notebook_settings("full")
    assert fast == inn.SETTINGS["fast"] and fast is not inn.SETTINGS["fast"]
    assert full["data"] == inn.SETTINGS["full"]["data"]
    assert full["n_train"] <= 10000 and full["n_test"] <= 2000
    same = {k: v for k, v in full.items() if k not in ("data", "n_train", "n_test")}
    assert same == {k: fast[k] for k in same}  # the same small sweep, other data
    with pytest.raises(ValueError, match="mode"):
        inn.notebook_settings("turbo")
    with pytest.raises(ValueError, match="mode"):
        inn.record_config("turbo")


def test_load_data_limits_are_upper_bounds():
    whole, used = inn.load_data("digits", 0, 10**6, 10**6)
    assert (
        len(whole.y_train) == 1347 and len(whole.y_test) == 450 and "subset" not in used
    )
    part, used = inn.load_data("digits", 0, 100, 10**6)
    assert len(part.y_train) == 100 and len(part.y_test) == 450 and "subset" in used


def test_sweep_runs_the_notebook_settings(tiny_settings):
    artifacts = {}
    outcome = inn.sweep(TINY, artifacts=artifacts)
    assert set(outcome) == {"metrics", "data_used", "data_checksum"}
    assert len(artifacts["models"]) == len(outcome["metrics"]["runs"]) == 4
    assert artifacts["dataset"].x_train.shape[1] == 64
    with pytest.raises(TypeError, match="artifacts"):
        inn.sweep(TINY, artifacts=[])


def test_full_mode_falls_back_to_digits_and_says_so(tiny_settings, mnist_unreachable):
    artifacts = {}
    outcome = inn.inn_digits("full", artifacts=artifacts)
    assert "fallback: MNIST could not be loaded" in outcome["data_used"]
    assert (
        outcome["data_used"].startswith("digits") and "/nowhere" in outcome["data_used"]
    )
    assert len(outcome["metrics"]["runs"]) == 2 * 3
    summary = outcome["metrics"]["summary"]
    assert [row["n_seeds"] for row in summary] == [2, 2, 2]
    assert isinstance(artifacts["dataset"], data.Dataset)
    kinds = [type(m).__name__ for m in artifacts["models"]]
    assert kinds == ["ImplicitNetwork", "ImplicitNetwork", "FeedForward"] * 2


def test_same_seed_same_numbers(digits):
    settings = {**TINY, "epochs": 1}
    first = inn.train_and_evaluate(
        "constrained", digits, settings, gamma=0.0, lam=1e-2
    )[1]
    second = inn.train_and_evaluate(
        "constrained", digits, settings, gamma=0.0, lam=1e-2
    )[1]
    assert first == second


@pytest.mark.parametrize("kind", inn.MODEL_KINDS)
def test_penalty_equals_certified_bound(kind):
    torch.manual_seed(1)
    model = inn.build_model(kind, 5, 7, 3, gamma=0.3)
    if kind == "unconstrained":
        with torch.no_grad():
            model.T.mul_(0.1)  # small enough that mu_inf < 1 and the bound is finite
    penalty = inn.lipschitz_penalty(model)
    assert penalty.requires_grad
    assert float(penalty.detach()) == pytest.approx(
        implicit.lipschitz_bound(model), rel=1e-5
    )


def test_weighted_penalty_matches_bound():
    torch.manual_seed(2)
    model = implicit.ImplicitNetwork(4, 6, 3, gamma=0.2, weighted=True)
    with torch.no_grad():
        model.log_eta.normal_()
    assert float(inn.lipschitz_penalty(model).detach()) == pytest.approx(
        implicit.lipschitz_bound(model), rel=1e-5
    )


def test_pixel_scale_and_bad_inputs(digits):
    std, (low, high) = robust_scores.pixel_scale(digits)
    assert std == digits.std[0]
    assert low == pytest.approx(-digits.mean[0] / std) and high > low
    with pytest.raises(ValueError, match="dataset"):
        robust_scores.pixel_scale(object())
    with pytest.raises(ValueError, match="kind"):
        inn.build_model("recurrent", 2, 2, 2)
    with pytest.raises(ValueError, match="lam"):
        inn.train_and_evaluate("feedforward", digits, TINY, lam=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        inn.train_and_evaluate("constrained", digits, TINY)
    with pytest.raises(ValueError, match="source"):
        inn.load_data("cifar")
    with pytest.raises(ValueError, match="mode"):
        inn.inn_digits("turbo")
    with pytest.raises(TypeError, match="artifacts"):
        inn.inn_digits("fast", artifacts=[])
    with pytest.raises(TypeError, match="lipschitz_bound"):
        inn.lipschitz_penalty(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="runs"):
        robust_scores.summarize([])


def test_summarize_averages_over_seeds():
    runs = [
        {
            "model": "feedforward",
            "gamma": None,
            "lambda": 0.0,
            "clean_accuracy": a,
            "mu_inf": None,
            "lipschitz_bound": b,
            "empirical_lipschitz": 1.0,
            "fgsm_accuracy": [a, a],
            "pgd_accuracy": [a, 0.0],
            "certified_accuracy": [a, 0.0],
        }
        for a, b in ((0.5, 2.0), (1.0, None))
    ]
    (row,) = robust_scores.summarize(runs)
    assert row["n_seeds"] == 2 and row["clean_accuracy"] == 0.75
    assert row["lipschitz_bound"] is None and row["mu_inf"] is None
    assert row["pgd_accuracy"] == [0.75, 0.0]
    assert row["clean_accuracy_std"] == pytest.approx(np.std([0.5, 1.0], ddof=1))
    assert row["pgd_accuracy_std"] == [pytest.approx(np.std([0.5, 1.0], ddof=1)), 0.0]
    assert row["lipschitz_bound_std"] is None and row["empirical_lipschitz_std"] == 0.0
    (single,) = robust_scores.summarize(runs[:1])
    assert single["n_seeds"] == 1 and single["clean_accuracy_std"] is None


def test_principal_subnetwork_keeps_the_constraint():
    torch.manual_seed(3)
    for weighted in (False, True):
        model = implicit.ImplicitNetwork(5, 8, 3, gamma=0.4, weighted=weighted)
        with torch.no_grad():
            model.T.normal_()
        keep = [0, 2, 3, 7]
        sub = implicit.principal_subnetwork(model, keep)
        assert torch.allclose(sub.A(), model.A()[keep][:, keep], atol=1e-6)
        assert implicit.mu_inf(sub) <= implicit.mu_inf(model) + 1e-5 <= 0.4 + 2e-5
        x = torch.randn(6, 5)
        # dropped neurons held at zero: the full network with those rows of B, b zeroed
        # and very negative biases has the same outputs
        with torch.no_grad():
            full = implicit.ImplicitNetwork(5, 8, 3, gamma=0.4, weighted=weighted)
            full.load_state_dict(model.state_dict())
            dropped = [i for i in range(8) if i not in keep]
            full.input.weight[dropped] = 0.0
            full.input.bias[dropped] = -1e6
            assert torch.allclose(sub(x), full(x), atol=1e-4)
    with pytest.raises(ValueError, match="keep"):
        implicit.principal_subnetwork(model, [0, 0])
    with pytest.raises(ValueError, match="keep"):
        implicit.principal_subnetwork(model, [8])
    with pytest.raises(TypeError, match="model"):
        implicit.principal_subnetwork(
            implicit.ImplicitNetwork(2, 3, 2, unconstrained=True), [0]
        )


def test_certified_accuracy(digits):
    torch.manual_seed(5)
    model = implicit.FeedForward(64, 8, 10)
    curve = robust_scores.certified_accuracy(model, digits, [0.0, 1e-3, 0.1, 10.0])
    with torch.no_grad():
        clean = float((model(digits.x_test).argmax(1) == digits.y_test).float().mean())
    assert curve[0] == pytest.approx(clean) and curve[-1] == 0.0
    assert all(a >= b for a, b in zip(curve, curve[1:]))
    assert robust_scores.certified_accuracy(model, digits, [0.5], lipschitz=0.0) == [
        pytest.approx(clean)
    ]
    with torch.no_grad():
        first = float(
            (model(digits.x_test[:20]).argmax(1) == digits.y_test[:20]).float().mean()
        )
    assert robust_scores.certified_accuracy(model, digits, [0.0], n_test=20) == [
        pytest.approx(first)
    ]
    for bad in ([], [-0.1], [[0.1]], [float("nan")]):
        with pytest.raises(ValueError, match="eps"):
            robust_scores.certified_accuracy(model, digits, bad)
    with pytest.raises(ValueError, match="lipschitz"):
        robust_scores.certified_accuracy(model, digits, [0.1], lipschitz=-1.0)


def test_fgsm_step_exercise():
    def good(x, grad, eps, low, high):
        return np.clip(x + eps * np.sign(grad), low, high)

    assert exercises.check("ch4.fgsm_step", good, quiet=True)
    assert not exercises.check(
        "ch4.fgsm_step", lambda x, g, e, lo, hi: x + e * np.sign(g), quiet=True
    )
    assert not exercises.check(
        "ch4.fgsm_step", lambda x, g, e, lo, hi: np.clip(x + e * g, lo, hi), quiet=True
    )
    torch.manual_seed(4)
    model, x = torch.nn.Linear(6, 3), torch.rand(5, 6)
    y = torch.tensor([0, 1, 2, 1, 0])
    x_var = x.clone().requires_grad_(True)
    grad = torch.autograd.grad(
        torch.nn.functional.cross_entropy(model(x_var), y), x_var
    )[0]
    expected = good(x.numpy(), grad.numpy(), 0.1, 0.0, 1.0)
    assert np.allclose(robustness.fgsm(model, x, y, 0.1).numpy(), expected, atol=1e-6)


def test_certified_accuracy_is_tight_on_a_network_that_attains_its_bound():
    # A = (gamma/n) 11^T, B = 11^T/m, C rows +-1/n: the corner u - eps 1 moves the
    # two logits by -L eps and +L eps, L = 1/(1 - gamma); certified iff margin > 2 L eps
    gamma, n, m = 0.5, 6, 4
    model = implicit.ImplicitNetwork(m, n, 2, gamma=gamma, tol=1e-13).double()
    with torch.no_grad():
        model.T.fill_(gamma / n)
        model.input.weight.fill_(1.0 / m)
        model.input.bias.fill_(1.0)
        model.output.weight[0].fill_(1.0 / n)
        model.output.weight[1].fill_(-1.0 / n)
        model.output.bias.copy_(torch.tensor([-2.0, 2.0]))
    u = torch.full((1, m), 0.5, dtype=torch.float64)
    dataset = data.Dataset(u, torch.tensor([0]), u, torch.tensor([0]), "one point")
    lipschitz = implicit.lipschitz_bound(model)
    with torch.no_grad():
        logits = model(u)[0]
    margin = float(logits[0] - logits[1])  # 2 (1.5 / 0.5) - 4 = 2
    assert lipschitz == pytest.approx(2.0) and margin == pytest.approx(2.0)
    edge = margin / (2 * lipschitz)
    eps = [0.9 * edge, 1.1 * edge, 1.9 * edge]
    assert robust_scores.certified_accuracy(model, dataset, eps) == pytest.approx(
        [1, 0, 0]
    )
    with torch.no_grad():
        flips = [int(model(u - e).argmax(1)) for e in eps]
    assert flips == [0, 1, 1]


def test_load_data_falls_back_to_the_digits_for_cifar10_too(monkeypatch):
    def no_network(*args, **kwargs):
        raise RuntimeError("cifar-10-binary.tar.gz is not in the cache /nowhere")

    monkeypatch.setattr(data, "cifar10", no_network)
    dataset, used = inn.load_data("cifar10", n_train=100)
    assert "fallback: CIFAR-10 could not be loaded (cifar-10-binary" in used
    assert len(dataset.y_train) == 100 and dataset.x_train.shape[1:] == (64,)
    with pytest.raises(ValueError, match="'digits', 'mnist' or 'cifar10'"):
        inn.load_data("imagenet")
