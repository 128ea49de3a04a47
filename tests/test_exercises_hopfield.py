"""The Chapter 6 self-checks accept their reference solutions and reject a wrong
answer."""

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from contraction.book import exercises


def test_chapter6_exercises_are_registered():
    names = exercises.available()
    assert {"ch6.local_fields", "ch6.mchn_update", "ch6.ssm"} <= set(names)


def test_local_fields():
    def right(p, s):
        n, N = p.shape
        return p.T @ (p @ s) / N - n / N * s

    assert exercises.check("ch6.local_fields", right, quiet=True)
    assert not exercises.check(
        "ch6.local_fields", lambda p, s: p.T @ (p @ s), quiet=True
    )


def test_mchn_update():
    def right(m, x, b):
        s = b * m @ x
        p = np.exp(s - s.max())
        return m.T @ (p / p.sum())

    assert exercises.check("ch6.mchn_update", right, quiet=True)
    assert not exercises.check("ch6.mchn_update", lambda m, x, b: m.mean(0), quiet=True)


def test_ssm():
    def right(x, k):
        lo, hi = np.log(k / (len(x) - k)) - x.max(), np.log(k / (len(x) - k)) - x.min()
        return expit(x + brentq(lambda v: expit(x + v).sum() - k, lo, hi, xtol=1e-14))

    assert exercises.check("ch6.ssm", right, quiet=True)
    assert not exercises.check(
        "ch6.ssm", lambda x, k: k * np.exp(x) / np.exp(x).sum(), quiet=True
    )
