"""Check cells for the exercises, written so that they also work on a student's copy.

A lecturer's notebook marks each solution with nbgrader's markers, setup code outside them:

    ### BEGIN SOLUTION
    train_err = ...
    ### END SOLUTION

A student's copy (`vae-lesson handout`) replaces each region by `# YOUR CODE HERE` and a
placeholder that keeps the cell valid Python: `name = None` for each name the region assigns, or
`raise NotImplementedError` inside a function body. The check cell then runs `check`, which turns
a placeholder's None or NotImplementedError into the hint and an AssertionError, never a NameError.
"""


def check(test, hint, success=""):
    """Run `test()`, a function of no arguments that returns True when the answer is right (it may
    print what it compares). Prints "correct: <success>" or "not yet: <hint>"; raises
    AssertionError when the answer is not right yet, or when `test` fails on an unfinished answer
    (a None placeholder, NotImplementedError, a wrong shape)."""
    try:
        ok = bool(test())
        reason = ""
    except Exception as err:  # an unfinished answer: show the hint, not a traceback into the check
        ok, reason = False, f" ({type(err).__name__}: {err})"
    if not ok:
        print(f"not yet{reason}: hint: {hint}")
        raise AssertionError(f"not yet: {hint}")
    print(f"correct{': ' + success if success else ''}")
    return True
