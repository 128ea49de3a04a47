"""The Chapter 7 self-checks accept their reference solutions and reject typical
mistakes."""

import numpy as np

from contraction import norms
from contraction.book import exercises


def test_chapter_7_checks_are_registered():
    names = exercises.available()
    for name in ("ch7.metric_rate", "ch7.elcd_matrix", "ch7.dtwd"):
        assert name in names


def test_metric_rate_matches_the_weighted_log_norm():
    def rate(A, M):
        R = np.linalg.cholesky(M).T
        return -norms.lognorm(A, 2, weight=R)

    assert exercises.check("ch7.metric_rate", rate, quiet=True)
    # forgetting the metric (the identity-metric rate) is wrong
    assert not exercises.check(
        "ch7.metric_rate",
        lambda A, M: -np.linalg.eigvalsh((A + A.T) / 2)[-1],
        quiet=True,
    )


def test_elcd_matrix_check():
    def good(Ps, Pa, a):
        return -Ps.T @ Ps + Pa - Pa.T - a * np.eye(len(Ps))

    def wrong(Ps, Pa, a):  # Ps Ps^T instead of Ps^T Ps
        return -Ps @ Ps.T + Pa - Pa.T - a * np.eye(len(Ps))

    assert exercises.check("ch7.elcd_matrix", good, quiet=True)
    assert not exercises.check("ch7.elcd_matrix", wrong, quiet=True)


def test_dtwd_check():
    def good(x, y):
        d = np.linalg.norm(x[:, None] - y[None], axis=-1)
        return d.min(1).mean() + d.min(0).mean()

    def one_way(x, y):
        d = np.linalg.norm(x[:, None] - y[None], axis=-1)
        return d.min(1).mean()

    assert exercises.check("ch7.dtwd", good, quiet=True)
    assert not exercises.check("ch7.dtwd", one_way, quiet=True)
