import numpy as np

from contraction import norms
from contraction.book import exercises


def _student(A, B, C):
    mu = np.max(np.diag(A) + np.abs(A).sum(axis=1) - np.abs(np.diag(A)))
    return (
        np.abs(B).sum(axis=1).max() * np.abs(C).sum(axis=1).max() / (1 - max(mu, 0.0))
    )


def test_inn_lipschitz_bound_is_registered_and_accepts_a_correct_answer(capsys):
    assert "ch4.inn_lipschitz_bound" in exercises.available()
    assert exercises.check("ch4.inn_lipschitz_bound", _student)
    assert "Correct" in capsys.readouterr().out


def test_inn_lipschitz_bound_rejects_common_slips():
    def no_positive_part(A, B, C):
        return (
            np.abs(B).sum(1).max()
            * np.abs(C).sum(1).max()
            / (1 - norms.lognorm(A, np.inf))
        )

    def norm_not_lognorm(A, B, C):
        return (
            np.abs(B).sum(1).max()
            * np.abs(C).sum(1).max()
            / (1 - max(np.abs(A).sum(1).max(), 0.0))
        )

    for wrong in (no_positive_part, norm_not_lognorm):
        assert not exercises.check("ch4.inn_lipschitz_bound", wrong, quiet=True)


def test_inn_lipschitz_cases_are_well_posed():
    ex = exercises._REGISTRY["ch4.inn_lipschitz_bound"]
    mus = [norms.lognorm(A, np.inf) for A, _, _ in ex.cases]
    assert max(mus) < 1 and min(mus) < 0 < max(mus)  # both sides of the positive part
    assert any(B.shape[0] != B.shape[1] for _, B, _ in ex.cases)
