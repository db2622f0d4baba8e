"""The series' own handouts: for every exercise of every notebook (a cell holding `### BEGIN SOLUTION`;
its check is the next code cell), the student's copy runs, and on the stub the check prints its hint
and stops with AssertionError, never NameError, TypeError or SyntaxError. Each notebook's handout is
executed once (a kernel that goes on after errors); the lecturer's copy is run by nbval
(`pytest notebooks --nbval-lax`), where each check must pass.

Slow (a notebook's run): deselect with `-m "not notebooks"`."""
import json
import os

import pytest

from vae_lesson.tools import handout

# the model cache of the session that runs the tests (tests/conftest.py points each unit test at an
# empty one): the handouts load the models the notebooks load, as a student's would
_ORIGINAL = {key: os.environ.get(key) for key in ("VAE_LESSON_CACHE_DIR", "VAE_LESSON_DATA_DIR")}


@pytest.mark.notebooks
@pytest.mark.parametrize("path", handout.notebooks(), ids=lambda p: p.stem)
def test_every_check_fails_with_its_hint_on_the_students_copy(path, monkeypatch):
    lecturer = json.loads(path.read_text(encoding="utf-8"))
    assert not any(handout.OLD_MARKER in "".join(c["source"]) for c in lecturer["cells"]), (
        f"{path.name} still marks solutions with the old marker; put them between "
        f"'{handout.BEGIN}' and '{handout.END}'")
    found = handout.exercises(lecturer)
    assert found, f"{path.name} has no exercise (no cell with '{handout.BEGIN}')"
    student = handout.student_notebook(lecturer, path.name)  # refuses a region it cannot stub
    for key, value in _ORIGINAL.items():
        if value:
            monkeypatch.setenv(key, value)
        else:
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("VAE_LESSON_STATIC", "1")
    executed = handout.execute(student, cwd=path.parent)
    problems = handout.problems(executed, lecturer, path.name)
    assert not problems, "\n".join(problems)
    for solution, check in found:
        print(f"{path.name}: exercise in cell {solution}, check cell {check}: hint printed, AssertionError")
