import numpy as np
import pytest

from contraction import norms
from contraction.book import exercises


def test_reference_solutions_pass(capsys):
    assert exercises.check("ch1.lognorm_inf", lambda A: norms.lognorm(A, np.inf))
    assert "Correct" in capsys.readouterr().out


def test_wrong_answer_gives_hint_without_answer(capsys):
    assert not exercises.check("ch1.lognorm_inf", lambda A: norms.lognorm(A, 1))
    out = capsys.readouterr().out
    assert "Not yet" in out and "Hint" in out


def test_exception_in_candidate_is_reported(capsys):
    def broken(*args):
        raise RuntimeError("oops")

    assert not exercises.check("ch1.km_iteration", broken)
    assert "RuntimeError: oops" in capsys.readouterr().out


def test_km_and_step_exercises_accept_correct_code():
    def km(G, x0, alpha, steps):
        x = np.array(x0, dtype=float)
        for _ in range(steps):
            x = (1 - alpha) * x + alpha * G(x)
        return x

    def step(c, lip):
        alpha = c / lip**2
        return alpha, np.sqrt(1 - c**2 / lip**2)

    assert exercises.check("ch1.km_iteration", km, quiet=True)
    assert exercises.check("ch1.euclidean_step", step, quiet=True)


def test_bad_arguments():
    with pytest.raises(ValueError, match="name"):
        exercises.check("no.such.exercise", len)
    with pytest.raises(TypeError, match="candidate"):
        exercises.check("ch1.lognorm_inf", 3)
    assert "ch1.lognorm_inf" in exercises.available()


@pytest.mark.parametrize("name", exercises.available())
def test_every_exercise_accepts_its_reference_and_rejects_a_constant(name):
    ex = exercises._REGISTRY[name]
    assert exercises.check(name, ex.reference, quiet=True)
    assert not exercises.check(name, lambda *args: 12345.0, quiet=True)
