"""vae_lesson.tools.handout: student copies with stubs in place of the solution regions (fast tests on small
notebooks; nbval's run of the series checks the students' copies of its exercises, see
vae_lesson/tools/handout_check.py)."""
import json
import subprocess
import sys

import nbformat
import pytest

from vae_lesson.tools import cli, handout
from vae_lesson.tools.handout import HandoutError, stub_source


def test_top_level_region_assigns_none_to_each_name():
    src = ("x = setup()\n### BEGIN SOLUTION\na, b = f(x)\nc = [y for y in a]\nfor i in range(3):\n"
           "    d = i\n### END SOLUTION\nprint(a)")
    assert stub_source(src) == "x = setup()\n# YOUR CODE HERE\na = None\nb = None\nc = None\ni = None\nd = None\nprint(a)"


def test_comprehension_lambda_and_augmented_names_are_not_placeholders():
    src = "### BEGIN SOLUTION\ntotal += 1\nsquares = [k * k for k in range(3)]\nf = lambda u: u\n_ = 3\n### END SOLUTION"
    assert stub_source(src) == "# YOUR CODE HERE\nsquares = None\nf = None"


def test_top_level_def_becomes_a_function_that_raises():
    src = ('### BEGIN SOLUTION\ndef f(x, *, k=2) -> float:\n    """Return x to the power k."""\n'
           '    return x ** k\n\n\nmy_value = f(3)\n### END SOLUTION')
    out = stub_source(src)
    assert out.startswith("# YOUR CODE HERE\ndef f(x, *, k=2) -> float:\n")
    namespace = {}
    exec(out, namespace)
    assert namespace["my_value"] is None
    assert namespace["f"].__doc__ == "Return x to the power k."
    with pytest.raises(NotImplementedError):
        namespace["f"](1)


def test_region_in_a_function_body_raises_at_its_indentation():
    src = ("def g(mu, log_var):\n    eps = 1\n    ### BEGIN SOLUTION\n    return mu + eps\n    ### END SOLUTION\n\n\n"
           "def h():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION")
    out = stub_source(src)
    assert out == ("def g(mu, log_var):\n    eps = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n\n"
                   "def h():\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    namespace = {}
    exec(out, namespace)
    with pytest.raises(NotImplementedError):
        namespace["g"](0, 0)


def test_magics_outside_the_region_are_kept():
    src = "%matplotlib inline\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"
    assert stub_source(src) == "%matplotlib inline\n# YOUR CODE HERE\nx = None"


@pytest.mark.parametrize("src, words", [
    ("### BEGIN SOLUTION\nx = 1\n", "has no `### END SOLUTION`"),
    ("x = 1\n### END SOLUTION\n", "without a `### BEGIN SOLUTION`"),
    ("### BEGIN SOLUTION\nx = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION", "a second"),
    ("total = (1 +\n### BEGIN SOLUTION\n2 +\n### END SOLUTION\n3)", "not valid Python on its own"),
])
def test_bad_regions_are_refused_naming_the_cell(src, words):
    with pytest.raises(HandoutError, match="01_x.ipynb, cell 7") as err:
        stub_source(src, where="01_x.ipynb, cell 7")
    assert words in str(err.value)


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        new = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        nb.cells.append(new(source))
    return json.loads(nbformat.writes(nb))


def test_a_stub_that_would_not_be_valid_python_is_refused():
    # the region is fine, but the code after it needs what the region opened
    nb = _notebook(("code", "try:\n    ### BEGIN SOLUTION\n    x = 1\n    ### END SOLUTION\nfinally:\n    pass"),
                   ("code", "for i in range(2):\n### BEGIN SOLUTION\n    pass\n### END SOLUTION"))
    with pytest.raises(HandoutError, match=r"nb.ipynb, cell 1"):
        handout.student_notebook(nb, "nb.ipynb")


def test_old_marker_is_refused():
    nb = _notebook(("code", f"{handout.OLD_MARKER}\nx = 1"))
    with pytest.raises(HandoutError, match=r"nb.ipynb, cell 0: uses the old marker"):
        handout.student_notebook(nb, "nb.ipynb")


def test_student_notebook_clears_outputs_and_keeps_everything_else():
    nb = _notebook(("markdown", "# Title\n$x^2$"), ("code", "a = 1"),
                   ("code", "### BEGIN SOLUTION\nb = a + 1\n### END SOLUTION"), ("code", "check(b)"),
                   ("markdown", "Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION"))
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "1"}]
    nb["cells"][1]["execution_count"] = 3
    nb["metadata"]["widgets"] = {"state": {}}
    before = json.dumps(nb)
    student = handout.student_notebook(nb, "nb.ipynb")
    assert json.dumps(nb) == before, "the lecturer's notebook must not change"
    cells = student["cells"]
    assert [c["source"] for c in cells] == ["# Title\n$x^2$", "a = 1", "# YOUR CODE HERE\nb = None", "check(b)",
                                            "Why?\nYOUR ANSWER HERE"]
    assert [c.get("id") for c in cells] == [c.get("id") for c in nb["cells"]]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells if c["cell_type"] == "code")
    assert "widgets" not in student["metadata"]
    assert handout.exercises(nb) == [(2, 3)]


def test_write_handouts_writes_pairs_and_leaves_the_sources_alone(tmp_path):
    src = tmp_path / "lecturer"
    src.mkdir()
    nb = _notebook(("code", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), ("code", "print(x)"))
    path = src / "01_a.ipynb"
    path.write_text(json.dumps(nb))
    before = path.read_text()
    written = handout.write_handouts(tmp_path / "out", [path])
    assert [p.name for p in written] == ["01_a.ipynb", "01_a.py"]
    assert path.read_text() == before
    assert "x = None" in (tmp_path / "out" / "01_a.py").read_text()
    assert "x = 1" not in (tmp_path / "out" / "01_a.ipynb").read_text()
    with pytest.raises(HandoutError, match="lecturer's notebooks"):
        handout.write_handouts(src, [path])


def test_write_handouts_writes_nothing_when_one_notebook_is_refused(tmp_path):
    good, bad = tmp_path / "01_a.ipynb", tmp_path / "02_b.ipynb"
    good.write_text(json.dumps(_notebook(("code", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"))))
    bad.write_text(json.dumps(_notebook(("code", "### BEGIN SOLUTION\nx = 1"))))
    with pytest.raises(HandoutError, match="02_b.ipynb, cell 0"):
        handout.write_handouts(tmp_path / "out", [good, bad])
    assert not (tmp_path / "out").exists()


def test_series_notebooks_are_found_in_order():
    names = [p.name for p in handout.notebooks()]
    assert names == sorted(names) and names[0].startswith("00_") and len(names) >= 7


def test_cli_handout_reports_a_refusal_in_one_line(tmp_path, monkeypatch, capsys):
    bad = tmp_path / "nb"
    bad.mkdir()
    (bad / "01_a.ipynb").write_text(json.dumps(_notebook(("code", "### BEGIN SOLUTION\nx = 1"))))
    monkeypatch.setattr(handout, "NOTEBOOKS", bad)
    assert cli.main(["handout", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vae-lesson handout: error: 01_a.ipynb, cell 0:")


def test_cli_handout_writes_the_students_copies(tmp_path, monkeypatch, capsys):
    src = tmp_path / "nb"
    src.mkdir()
    (src / "01_a.ipynb").write_text(json.dumps(_notebook(("code", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
                                                         ("code", "print(x)"))))
    monkeypatch.setattr(handout, "NOTEBOOKS", src)
    assert cli.main(["handout", str(tmp_path / "out"), "--no-py"]) == 0
    assert "1 notebooks (1 exercises stubbed)" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out" / "notebooks").iterdir()) == ["01_a.ipynb"]
    assert (tmp_path / "out" / "README.md").is_file() and (tmp_path / "out" / "vae_lesson").is_dir()


# --- executing a small student copy: the checker finds a check that dies of NameError ----------------

SETUP = "import vae_lesson as vl\nbase = 2"
GOOD = ("### BEGIN SOLUTION\nsquare = base ** 2\n### END SOLUTION",
        "vl.exercises.check(lambda: square == 4, hint='square base', success='4')")
# this check reads the student's variable outside its test function: on the stub it dies of
# TypeError (None formatted with :d) before its hint, as an `assert` on an undefined name would
BAD_TYPE = ("### BEGIN SOLUTION\ncube = base ** 3\n### END SOLUTION",
            "print(f'yours: {cube:d}')\nvl.exercises.check(lambda: cube == 8, hint='cube base')")
# the function's stub raises in its own cell, so `halved` is never defined: the check dies of NameError
BAD_NAME = ("def half(v):\n    ### BEGIN SOLUTION\n    return v / 2\n    ### END SOLUTION\n\n\nhalved = half(base)",
            "print(f'yours: {halved}')\nvl.exercises.check(lambda: halved == 1, hint='divide by 2')")
WITHOUT_HINT = ("### BEGIN SOLUTION\nroot = base ** 0.5\n### END SOLUTION",
                "assert root is not None and abs(root ** 2 - base) < 1e-9")
DEPENDS = "print(square + 1)"  # a later cell that needs the answer of an exercise


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """One small lecturer's notebook under nbval with the plugin that checks the student's copy of each
    exercise (vae_lesson/tools/handout_check.py): pytest's report, one kernel start for all the tests."""
    cells = [("code", SETUP)]
    for solution, check in (GOOD, BAD_TYPE, BAD_NAME, WITHOUT_HINT):
        cells += [("markdown", "An exercise."), ("code", solution), ("code", check)]
    cells.append(("code", DEPENDS))
    folder = tmp_path_factory.mktemp("run")
    (folder / "synthetic.ipynb").write_text(json.dumps(_notebook(*cells)))
    run = subprocess.run([sys.executable, "-m", "pytest", "synthetic.ipynb", "--nbval-lax", "-p", "no:cacheprovider",
                          "-p", "vae_lesson.tools.handout_check", "-rf", "--tb=short"],
                         cwd=folder, capture_output=True, text=True, timeout=300)
    return run.stdout + run.stderr


def test_a_check_that_prints_its_hint_and_fails_with_assertion_passes_and_so_does_the_solution(checked):
    assert "3 failed, 7 passed" in checked, checked  # nbval's cells 0-9; the three bad exercises fail
    assert "synthetic.ipynb::Cell 1 " not in checked and "cell 3 " not in checked  # GOOD: stub, check, solution


def test_checks_that_fail_with_another_error_or_without_hint_fail_their_solution_cell(checked):
    failed = sorted(line.split("::")[1].split(" ")[1] for line in checked.splitlines() if line.startswith("FAILED"))
    assert failed == ["3", "5", "7"], checked  # the solution cells of BAD_TYPE, BAD_NAME and WITHOUT_HINT
    assert "cell 6 (the check of the exercise in cell 5): on the stub it should stop with AssertionError, got TypeError" in checked
    assert "cell 8 (a stubbed solution cell) fails on the student's copy with NotImplementedError" in checked
    assert "cell 9 (the check of the exercise in cell 8): on the stub it should stop with AssertionError, got NameError" in checked
    assert "cell 12 (the check of the exercise in cell 11): on the stub it should print its hint" in checked
    assert "cell 6 (the check of the exercise in cell 5): on the stub it should print its hint" in checked


def test_the_students_copy_leaves_the_lecturers_random_numbers_alone(tmp_path):
    """A check that draws a random number before it fails on the stub: the lecturer's later cells still get
    the numbers they get without the plugin (the second draw after the seed, not the third)."""
    import torch

    torch.manual_seed(0)
    expected = torch.rand(2)[1].item()
    cells = [("code", "import torch\nimport vae_lesson as vl\ntorch.manual_seed(0)"),
             ("code", "### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION"),
             ("code", "noise = torch.rand(1)\nvl.exercises.check(lambda: answer == 1, hint='answer 1')"),
             ("code", f"assert abs(torch.rand(1).item() - {expected!r}) < 1e-12, 'another random stream'")]
    (tmp_path / "random.ipynb").write_text(json.dumps(_notebook(*cells)))
    run = subprocess.run([sys.executable, "-m", "pytest", "random.ipynb", "--nbval-lax", "-p", "no:cacheprovider",
                          "-p", "vae_lesson.tools.handout_check"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert "4 passed" in run.stdout, run.stdout + run.stderr
