"""The Chapter 5 self-checks accept the reference answers and reject typical
mistakes."""

import numpy as np

from contraction.book import exercises


def _softmax_rows(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def _assign(W, C, tau):
    D = np.linalg.norm(W[:, None, :] - C[None, :, :], axis=2)
    return _softmax_rows(-D / tau)


def test_chapter5_checks_are_registered():
    names = exercises.available()
    for name in ("ch5.soft_assign", "ch5.em_step", "ch5.adjoint_solve"):
        assert name in names


def test_soft_assign_accepts_a_stable_answer_and_rejects_mistakes():
    assert exercises.check("ch5.soft_assign", _assign, quiet=True)

    def squared(W, C, tau):
        D = ((W[:, None, :] - C[None, :, :]) ** 2).sum(2)
        return _softmax_rows(-D / tau)

    def naive(W, C, tau):  # no max shift: 0 / 0 at small tau
        D = np.linalg.norm(W[:, None, :] - C[None, :, :], axis=2)
        e = np.exp(-D / tau)
        with np.errstate(invalid="ignore", divide="ignore"):
            return e / e.sum(1, keepdims=True)

    assert not exercises.check("ch5.soft_assign", squared, quiet=True)
    assert not exercises.check("ch5.soft_assign", naive, quiet=True)


def test_em_step():
    def em_step(C, W, tau):
        A = _assign(W, C, tau)
        return (A.T @ W) / A.sum(0)[:, None]

    assert exercises.check("ch5.em_step", em_step, quiet=True)
    assert not exercises.check(
        "ch5.em_step", lambda C, W, tau: _assign(W, C, tau).T @ W, quiet=True
    )


def test_adjoint_solve():
    def solve(J, v):
        g = v.copy()
        for _ in range(2000):
            g = 0.75 * g + 0.25 * (v + J.T @ g)
        return g

    assert exercises.check("ch5.adjoint_solve", solve, quiet=True)
    assert not exercises.check(
        "ch5.adjoint_solve",
        lambda J, v: np.linalg.solve(np.eye(len(v)) - J, v),
        quiet=True,
    )
    assert not exercises.check("ch5.adjoint_solve", lambda J, v: v, quiet=True)
