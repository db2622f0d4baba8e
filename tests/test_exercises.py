"""vl.exercises.check: a right answer prints "correct", anything else prints the hint and raises
AssertionError (also when the test itself fails on an unfinished answer)."""
import pytest
import torch

import vae_lesson as vl
from vae_lesson.exercises import check


def test_right_answer_prints_correct_and_returns_true(capsys):
    assert check(lambda: True, hint="h", success="well done") is True
    assert capsys.readouterr().out == "correct: well done\n"
    check(lambda: torch.tensor(True), hint="h")
    assert capsys.readouterr().out == "correct\n"


def test_wrong_answer_prints_the_hint_and_raises_assertion(capsys):
    with pytest.raises(AssertionError, match="not yet: use the mean"):
        check(lambda: 1 + 1 == 3, hint="use the mean", success="never")
    out = capsys.readouterr().out
    assert out == "not yet: hint: use the mean\n"


def test_what_the_test_prints_comes_before_the_verdict(capsys):
    def test():
        print("yours 3, want 4")
        return 3 == 4

    with pytest.raises(AssertionError):
        check(test, hint="add one")
    assert capsys.readouterr().out == "yours 3, want 4\nnot yet: hint: add one\n"


@pytest.mark.parametrize("test, error", [
    (lambda: None + 1, "TypeError"),                        # a `name = None` placeholder
    (lambda: undefined_name == 1, "NameError"),             # noqa: F821
    (lambda: (_ for _ in ()).throw(NotImplementedError()), "NotImplementedError"),  # a stubbed function
    (lambda: torch.zeros(3) == torch.zeros(3), "RuntimeError"),  # a tensor with more than one element
    (lambda: torch.zeros(2) + torch.zeros(3), "RuntimeError"),   # a wrong shape
])
def test_an_unfinished_answer_is_not_yet_not_a_traceback_into_the_check(capsys, test, error):
    with pytest.raises(AssertionError, match="not yet: the hint"):
        check(test, hint="the hint")
    out = capsys.readouterr().out
    assert out.startswith(f"not yet ({error}: ") and out.endswith("hint: the hint\n")


def test_interrupt_is_not_swallowed():
    def test():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        check(test, hint="h")


def test_reachable_from_the_package():
    assert vl.exercises.check is check
