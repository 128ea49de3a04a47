"""The Section 7.4 self-check (normalized metric of a linear transform)."""

import numpy as np

from contraction.book import exercises


def test_normalized_metric_check():
    def good(W):
        M = W.T @ W
        return M / M[0, 0]

    def wrong(W):  # W W^T is the metric on z, not on x
        M = W @ W.T
        return M / M[0, 0]

    assert "ch7.normalized_metric" in exercises.available() or exercises.check(
        "ch7.normalized_metric", good, quiet=True
    )
    assert exercises.check("ch7.normalized_metric", good, quiet=True)
    assert not exercises.check("ch7.normalized_metric", wrong, quiet=True)


def test_normalized_metric_is_invariant_under_the_symmetries():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(2, 2))
    Q, _ = np.linalg.qr(rng.normal(size=(2, 2)))
    M1, M2 = (V.T @ V for V in (W, -3.0 * Q @ W))
    assert np.allclose(M1 / M1[0, 0], M2 / M2[0, 0])
