"""The series' own handouts, without running them: every notebook has an exercise, marks it with nbgrader's
markers, and its student's copy can be written (every stub is valid Python). Running them is nbval's
job: in `pytest notebooks --nbval-lax`, before each solution cell, the student's copy of the cell and its
check run in the notebook's kernel, and the check must print its hint and stop with AssertionError
(vae_lesson/tools/handout_check.py; tested in tests/test_handout.py)."""
import json

import pytest

from vae_lesson.tools import handout


@pytest.mark.parametrize("path", handout.notebooks(), ids=lambda p: p.stem)
def test_every_notebook_has_an_exercise_and_a_students_copy(path):
    lecturer = json.loads(path.read_text(encoding="utf-8"))
    assert not any(handout.OLD_MARKER in "".join(c["source"]) for c in lecturer["cells"]), (
        f"{path.name} still marks solutions with the old marker; put them between "
        f"'{handout.BEGIN}' and '{handout.END}'")
    found = handout.exercises(lecturer)
    assert found, f"{path.name} has no exercise (no cell with '{handout.BEGIN}')"
    assert all(check is not None for _, check in found), f"{path.name}: an exercise without a check cell after it"
    student = handout.student_notebook(lecturer, path.name)  # refuses a region it cannot stub
    for solution, _ in found:
        assert handout.YOUR_CODE in "".join(student["cells"][solution]["source"])
