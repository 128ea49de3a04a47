"""Self-checks for the coding exercises of every chapter: right or not, never the answer.

Usage in a notebook::

    from contraction.book import exercises
    exercises.check("ch1.lognorm_inf", my_lognorm_inf)

Each registered exercise has a reference solution (kept here, out of the reader's way), a list
of test inputs, and a hint shown when an answer is wrong. The check reports which test case
failed and how (wrong value, wrong shape, an exception), never the expected value.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import conservation, graphs, networks, norms, steps

__all__ = ["check", "available", "register"]


@dataclass(frozen=True)
class Exercise:
    reference: Callable
    cases: tuple  # each case is a tuple of positional arguments
    hint: str
    rtol: float = 1e-6
    atol: float = 1e-9


_REGISTRY: dict[str, Exercise] = {}


def register(
    name: str, reference: Callable, cases, hint: str, rtol=1e-6, atol=1e-9
) -> None:
    """Add an exercise to the registry (chapters call this for their own exercises)."""
    _REGISTRY[name] = Exercise(
        reference, tuple(tuple(c) for c in cases), hint, rtol, atol
    )


# Chapters 5-7 keep their self-checks in modules of their own, imported on first use, so that
# this module stays small and a chapter's checks sit next to the ideas they test.
_CHAPTER_MODULES = {
    "ch5": "exercises_quantization",
    "ch6": "exercises_hopfield",
    "ch7": "exercises_elcd",
}


def _load_chapters(prefixes=None) -> None:
    for prefix, module in _CHAPTER_MODULES.items():
        if prefixes is None or prefix in prefixes:
            try:
                importlib.import_module(f"{__package__}.{module}")
            except ModuleNotFoundError as error:  # a chapter without self-checks yet
                if error.name != f"{__package__}.{module}":
                    raise


def available() -> list[str]:
    """Names of the registered exercises."""
    _load_chapters()
    return sorted(_REGISTRY)


def _matches(got, expected, rtol, atol) -> bool:
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=float)
    return got.shape == expected.shape and bool(
        np.allclose(got, expected, rtol=rtol, atol=atol)
    )


def check(name: str, candidate: Callable, quiet: bool = False) -> bool:
    """Run ``candidate`` on the test cases of exercise ``name``; print and return the verdict."""
    if isinstance(name, str) and name not in _REGISTRY:
        _load_chapters({name.split(".")[0]})
    if name not in _REGISTRY:
        raise ValueError(f"name must be one of {available()}, got {name!r}")
    if not callable(candidate):
        raise TypeError(f"candidate must be a function, got {type(candidate).__name__}")
    ex = _REGISTRY[name]
    message, ok = f"Correct: all {len(ex.cases)} test cases pass.", True
    for i, args in enumerate(ex.cases, start=1):
        try:
            got = candidate(*args)
        except Exception as exc:  # the student's code may fail in any way
            message, ok = (
                f"Not yet: test case {i} raised {type(exc).__name__}: {exc}",
                False,
            )
            break
        if not _matches(got, ex.reference(*args), ex.rtol, ex.atol):
            message, ok = (
                f"Not yet: test case {i} of {len(ex.cases)} gives a different answer.",
                False,
            )
            break
    if not ok:
        message += f"\nHint: {ex.hint}"
    if not quiet:
        print(message)
    return ok


# ---------------------------------------------------------------- Chapter 1 exercises
def _random_matrices(seed, count=6):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(n, n)) * rng.uniform(0.2, 3),)
        for n in (1, 2, 3, 5, 8, 4)[:count]
    ]


def _km_reference(G, x0, alpha, steps):
    x = np.asarray(x0, dtype=float)
    for _ in range(steps):
        x = (1 - alpha) * x + alpha * np.asarray(G(x))
    return x


register(
    "ch1.lognorm_inf",
    lambda A: norms.lognorm(A, np.inf),
    _random_matrices(1),
    "for each row i take a_ii plus the sum of |a_ij| over j != i; the log norm is the largest.",
)
register(
    "ch1.euclidean_step",
    lambda c, lip: (
        steps.forward_step_bounds(c, lip).alpha_opt,
        steps.forward_step_bounds(c, lip).factor_opt,
    ),
    [(1.0, 1.0), (1.0, 3.0), (0.5, 2.0), (2.0, 10.0), (0.1, 0.25)],
    "minimise 1 - 2*alpha*c + alpha**2 * lip**2 over alpha, then take the square root at the minimiser.",
)
register(
    "ch1.km_iteration",
    _km_reference,
    [
        (np.cos, np.zeros(2), 0.5, 10),
        (lambda x: -3 * x + 1, np.ones(3), 0.2, 25),
        (lambda x: np.tanh(2 * x) - 1, np.array([0.3]), 1.0, 7),
        (np.sin, np.zeros(1), 0.7, 0),
    ],
    "start from x0 and apply x <- (1 - alpha) * x + alpha * G(x) exactly `steps` times.",
)


def _weighted_lognorm_cases(seed=3):
    rng = np.random.default_rng(seed)
    cases = []
    for n in (1, 2, 3, 4):
        L = np.tril(rng.normal(size=(n, n))) + 2 * np.eye(n)
        cases.append((rng.normal(size=(n, n)), L @ L.T))
    return cases


register(
    "ch1.weighted_lognorm2",
    lambda A, P: norms.lognorm(A, 2, weight=np.linalg.cholesky(P).T),
    _weighted_lognorm_cases(),
    "the smallest b with A^T P + P A <= 2 b P is the largest generalised eigenvalue of the pair "
    "((A^T P + P A)/2, P): scipy.linalg.eigh accepts both matrices.",
)


# ---------------------------------------------------------------- Chapter 2 exercises
def _weighted_cases(seed=5):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(n, n)), rng.uniform(0.2, 3.0, n)) for n in (1, 2, 3, 5)]


def _pairing_cases(seed=6):
    rng = np.random.default_rng(seed)
    cases = [(rng.normal(size=n), rng.normal(size=n)) for n in (1, 3, 6)]
    cases.append(
        (np.array([1.0, -2.0, 3.0]), np.array([2.0, -2.0, 1.0]))
    )  # a tie in |y_i|
    return cases


def _implicit_cases(seed=7):
    rng = np.random.default_rng(seed)
    cases = []
    for n in (2, 3, 6):
        A = rng.normal(size=(n, n)) / n
        A -= np.diag(
            np.abs(A).sum(axis=1) + rng.uniform(0, 2, n)
        )  # makes mu_inf(A) < 0
        cases.append((A,))
    cases.append((np.array([[0.2, 0.3], [-0.1, 0.5]]),))  # 0 < mu_inf(A) < 1
    return cases


register(
    "ch2.weighted_lognorm_inf",
    lambda A, eta: norms.lognorm(A, np.inf, eta),
    _weighted_cases(),
    "the weighted log norm is the plain one of diag(eta) @ A @ diag(1/eta).",
)
register(
    "ch2.max_pairing",
    lambda x, y: norms.weak_pairing(x, y, np.inf),
    _pairing_cases(),
    "only the indices where |y_i| equals max_j |y_j| count; take the largest y_i * x_i among them.",
)
register(
    "ch2.implicit_step",
    lambda A: (
        steps.implicit_step_bounds(A).alpha,
        steps.implicit_step_bounds(A).factor,
    ),
    _implicit_cases(),
    "keep every diagonal entry of (1 - alpha) I + alpha D A non-negative for all D in [0, I]; "
    "then ||.||_inf is 1 - alpha (1 - max(mu_inf(A), 0)).",
)


# --- Chapter 3 exercises (ic)


def _gain_certificate_cases(seed=31):
    rng = np.random.default_rng(seed)
    cases = [
        (np.array([1.0, 0.5]), np.array([[0.0, 0.4], [0.6, 0.0]])),  # small gain holds
        (np.array([1.0, 0.5]), np.array([[0.0, 1.0], [0.6, 0.0]])),  # small gain fails
        (np.array([0.7]), np.zeros((1, 1))),
        (np.array([1.0, 2.0, 0.5]), np.array([[0, 3.0, 0], [0, 0, 4.0], [0, 0, 0]])),
    ]
    for n in (3, 5):
        gains = rng.uniform(0, 0.4, (n, n)) * (rng.uniform(size=(n, n)) < 0.6)
        np.fill_diagonal(gains, 0.0)
        cases.append((rng.uniform(0.3, 1.5, n), gains))
    return cases


register(
    "ch3.gain_certificate",
    networks.certified_rate,
    _gain_certificate_cases(),
    "build Gamma with -rates on the diagonal and the gains off it; the certified rate is minus "
    "its largest eigenvalue real part when that is negative, and 0.0 otherwise.",
)


# --- Chapter 3 exercises (sc)


def _connectivity_cases(seed=33):
    rng = np.random.default_rng(seed)
    star = np.zeros((5, 5))
    star[0, 1:] = star[1:, 0] = 1.0
    two_parts = np.zeros((5, 5))
    two_parts[:2, :2] = two_parts[2:, 2:] = 1.0  # disconnected: lambda_2 = 0
    cases = [
        (graphs.path_graph(2),),
        (graphs.path_graph(5),),
        (graphs.ring_graph(7),),
        (graphs.complete_graph(4),),
        (star,),
        (two_parts,),
    ]
    for n in (3, 6):
        W = rng.uniform(0.1, 2.0, (n, n)) * (rng.uniform(size=(n, n)) < 0.7)
        cases.append((np.triu(W, 1) + np.triu(W, 1).T + np.diag(rng.uniform(0, 1, n)),))
    return cases


register(
    "ch3.algebraic_connectivity",
    graphs.algebraic_connectivity,
    _connectivity_cases(),
    "L = diag(row sums of A) - A (self-loops cancel); np.linalg.eigvalsh sorts the eigenvalues "
    "in increasing order: return the second one.",
)


# --- Chapter 3 exercises (wc)


def _conservation_cases(seed=41):
    rng = np.random.default_rng(seed)
    cases = []
    for n in (2, 3, 5, 6):
        K = rng.uniform(0.1, 2.0, (n, n)) * (rng.uniform(size=(n, n)) < 0.7)
        np.fill_diagonal(K, 0.0)
        K += np.diag(np.ones(n - 1), 1) + np.diag(
            np.ones(1), -(n - 1)
        )  # a ring: irreducible
        V = rng.uniform(0.3, 4.0, n)
        cases.append(
            ((K.T - np.diag(K.sum(axis=1))) / V[:, None],)
        )  # closed, volumes V
    return cases


register(
    "ch3.conservation_weight",
    conservation.conservation_weight,
    _conservation_cases(),
    "eta spans the null space of A.T (scipy.linalg.null_space or the last right singular vector "
    "of A.T); fix its sign so that it is positive and divide by its sum.",
)


# --- Chapter 4 exercises (rnn)
def _max_lognorm_diag_cases(seed=43):
    rng = np.random.default_rng(seed)
    cases = [
        (
            np.array([[-3.0, 1.0], [0.5, -2.0]]),
            0.5,
            1.0,
        ),  # mu_inf(A) < 0: d_min decides
        (np.array([[1.0, -2.0], [0.5, 0.2]]), 0.5, 1.0),  # mu_inf(A) > 0: d_max decides
        (np.array([[0.7]]), 0.0, 0.25),
    ]
    for n in (3, 5, 8):
        A = rng.normal(size=(n, n)) - rng.uniform(0, 3) * np.eye(n)
        cases.append((A, *np.sort(rng.uniform(0, 1.5, 2))))
    return cases


register(
    "ch4.max_lognorm_diag_inf",
    lambda A, d_min, d_max: norms.max_lognorm_diag(A, d_min, d_max, np.inf),
    _max_lognorm_diag_cases(),
    "row i of mu_inf(diag(d) A) is d_i times row i of mu_inf(A), so only two corners matter: "
    "d = d_min * 1 and d = d_max * 1.",
)


# --- Chapter 4 exercises (rt)
def _fgsm_step_cases(seed=47):
    rng = np.random.default_rng(seed)
    cases = [
        (
            np.array([0.5, 0.0, 1.0, 0.98]),
            np.array([2.0, -3.0, 0.5, 1e-3]),
            0.1,
            0.0,
            1.0,
        ),
        (np.array([0.2, 0.4]), np.array([0.0, -0.0]), 0.3, 0.0, 1.0),
    ]  # sign(0) = 0
    for shape, (low, high) in (((3, 8), (0.0, 1.0)), ((5, 64), (-0.81, 1.85))):
        x = rng.uniform(low, high, shape)
        grad = rng.normal(size=shape) * (
            rng.uniform(size=shape) < 0.8
        )  # some exact zeros
        cases.append((x, grad, float(rng.uniform(0.05, 0.4)), low, high))
    return cases


register(
    "ch4.fgsm_step",
    lambda x, grad, eps, low, high: np.clip(x + eps * np.sign(grad), low, high),
    _fgsm_step_cases(),
    "move every entry by eps in the direction of the sign of its gradient (np.sign, which is 0 "
    "for a zero gradient), then clip into [low, high] so that the result is a valid input.",
)


# --- Chapter 4 exercises (inn)
def _inn_lipschitz_reference(A, B, C):
    row_gain = lambda M: float(np.abs(M).sum(axis=1).max())  # noqa: E731  (induced l_inf norm)
    return row_gain(B) * row_gain(C) / (1.0 - max(norms.lognorm(A, np.inf), 0.0))


def _inn_lipschitz_cases(seed=53):
    rng = np.random.default_rng(seed)
    cases = [
        (
            np.array([[-0.5]]),
            np.array([[2.0, -1.0]]),
            np.array([[3.0], [-1.0]]),
        ),  # mu < 0
        (np.array([[0.2, 0.3], [-0.1, 0.5]]), np.eye(2), np.ones((1, 2))),
    ]  # 0 < mu < 1
    for n, m, p in ((3, 2, 1), (5, 4, 3), (8, 6, 2)):
        T = rng.normal(size=(n, n))
        A = T - np.diag(np.abs(T).sum(axis=1)) + rng.uniform(-1, 0.9) * np.eye(n)
        cases.append((A, rng.normal(size=(n, m)), rng.normal(size=(p, n))))
    return cases


register(
    "ch4.inn_lipschitz_bound",
    _inn_lipschitz_reference,
    _inn_lipschitz_cases(),
    "three numbers: the largest absolute row sum of B, that of C, and mu_inf(A) (diagonal entry "
    "plus absolute off-diagonal row sum, maximised over rows), clipped below at 0.",
)
