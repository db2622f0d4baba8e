"""The students' copies, checked in the same run as the lecturer's notebooks.

A student's copy (`vae-lesson handout`) has a stub in place of each solution, and "Run all" stops at the
first check that fails: a student meets exercise k with exercises 1 to k-1 done. This pytest plugin checks
each exercise in that state, in the kernel where nbval runs the lecturer's notebook (`pytest notebooks
--nbval-lax`): before each solution cell it runs the student's version of that cell, then the check cell
after it. The stub must run without error; the check must print its hint ("not yet") and stop with
AssertionError, never NameError or TypeError. Then nbval runs the solution and the check, which must pass.
A stub or a check that misbehaves fails the solution cell's test, naming both cells. So the series runs
once for both copies. The random number generators are put back as they were before the student's copy ran
(a check may draw numbers before it fails), so the lecturer's cells print what they print without it.

conftest.py loads the plugin; elsewhere: `pytest -p vae_lesson.tools.handout_check notebooks --nbval-lax`.
"""
import pytest

from . import handout

_students = {}  # id of a notebook nbval read -> the student's copy of it (handout.student_notebook)


def _exercise(item):
    """(notebook name, solution cell number, check cell number or None, the student's copy) when `item` is a
    cell nbval runs that holds a solution; else None."""
    notebook, cell = getattr(item, "parent", None), getattr(item, "cell", None)
    nb = getattr(notebook, "nb", None)
    if nb is None or cell is None or cell.get("cell_type") != "code" or not handout.has_solution(cell):
        return None
    name = notebook.path.name
    if id(nb) not in _students:
        _students[id(nb)] = handout.student_notebook(nb, name)  # HandoutError names a region it cannot stub
    solution = next(i for i, c in enumerate(nb.cells) if c is cell)
    return name, solution, dict(handout.exercises(nb))[solution], _students[id(nb)]


def random_state():
    """The states of this process's random number generators: Python's, NumPy's, torch's (CPU, CUDA, MPS)."""
    import random

    import numpy
    import torch

    return {"python": random.getstate(), "numpy": numpy.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
            "mps": torch.mps.get_rng_state() if torch.backends.mps.is_available() else None}


def set_random_state(state):
    import random

    import numpy
    import torch

    random.setstate(state["python"])
    numpy.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None:
        torch.cuda.set_rng_state_all(state["cuda"])
    if state["mps"] is not None:
        torch.mps.set_rng_state(state["mps"])


# run in the notebook's kernel around the student's copy; the names are removed again
_SAVE = "import vae_lesson.tools.handout_check as _handout_check\n_handout_rng = _handout_check.random_state()"
_RESTORE = "_handout_check.set_random_state(_handout_rng)\ndel _handout_check, _handout_rng"


def _run(item, source):
    """Run `source` in the kernel of the nbval cell `item`, as nbval runs a cell, keeping an error as an
    output instead of failing: the outputs."""
    import nbformat
    from nbval.plugin import IPyNbCell

    cell = IPyNbCell.from_parent(item.parent, name=f"{item.name}, the student's copy", cell_num=item.cell_num,
                                 cell=nbformat.v4.new_code_cell(source),
                                 options={**item.options, "check": False, "check_exception": True, "skip": False})
    cell.runtest()
    return cell.test_outputs or []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    found = _exercise(item)
    problems = []
    if found:
        name, solution, check, student = found
        if check is None:
            problems.append(f"{name}, cell {solution}: a solution cell with no check cell after it")
        else:
            saved = _run(item, _SAVE)
            stub = _run(item, handout._source(student["cells"][solution]))
            on_stub = _run(item, handout._source(student["cells"][check]))
            restored = _run(item, _RESTORE)
            problems = handout.exercise_problems(name, solution, check, stub, on_stub)
            problems += [f"{name}: saving or restoring the random state around the student's copy failed: "
                         f"{handout._errors(out)}" for out in (saved, restored) if handout._errors(out)]
    result = yield  # nbval runs the lecturer's solution
    if problems:
        raise AssertionError("the student's copy of this exercise (`vae-lesson handout DIR` writes it):\n"
                             + "\n".join(problems))
    return result
