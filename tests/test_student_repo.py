"""The students' repository (`vae-lesson handout OUT_DIR --repo URL`) and the students' website
(`vae-lesson site SITE --student OUT_DIR`): no solution text reaches either, both point at the students'
repository, and nbgrader accepts the notebooks with their cell metadata enforced."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vae_lesson.tools import cli, handout, repo

from site_fixtures import small_series, write_notebook

STUDENTS = "https://github.com/prof/vae-students"


def _text(page):
    """A page's text as a reader sees it: code cells are highlighted span by span, so tags are stripped."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("students") / "repo"
    handout.write_student_tree(out, STUDENTS, "spring-2027")
    return out


def test_the_tree_is_a_repository_students_can_install_and_open(tree):
    assert (tree / "pyproject.toml").is_file() and (tree / "vae_lesson" / "__init__.py").is_file()
    assert [p.name for p in handout.notebooks(tree / "notebooks")] == [p.name for p in handout.notebooks()]
    for absent in ("tests", "instructor", ".ci", "DEVELOPING.md"):
        assert not (tree / absent).exists(), f"{absent} is for lecturers, not for the students' repository"
    assert not list(tree.rglob("__pycache__"))
    readme = (tree / "README.md").read_text()
    assert "## Open the series" in readme and "## The notebooks, in order" in readme
    assert "## Preparing a class" not in readme and "set-repo" not in readme


def test_no_solution_text_reaches_the_students_repository(tree):
    readme = (tree / "README.md").read_text(encoding="utf-8")
    checked = 0
    for path in handout.notebooks():
        lines = handout.solution_lines(json.loads(path.read_text(encoding="utf-8")))
        assert lines, f"{path.name}: no solution text found to look for"
        checked += len(lines)
        copy = tree / "notebooks" / path.name
        for where in (copy, copy.with_suffix(".py")):
            text = where.read_text(encoding="utf-8") + readme
            leaked = [line for line in lines if line in text]
            assert not leaked, f"{where.name} or the README holds solution text of {path.name}: {leaked[:3]}"
    assert checked > 20


def test_the_tree_installs_from_and_links_to_the_students_repository(tree):
    assert repo.current(tree) == (STUDENTS, "spring-2027")
    for path in handout.notebooks(tree / "notebooks"):
        text = path.read_text(encoding="utf-8") + path.with_suffix(".py").read_text(encoding="utf-8")
        assert "github.com/vae-lesson/vae-lesson" not in text, f"{path.name} still names the lecturer's repository"
        assert f"colab.research.google.com/github/prof/vae-students/blob/spring-2027/notebooks/{path.name}" in text
    readme = (tree / "README.md").read_text()
    assert "colab.research.google.com/github/prof/vae-students/blob/spring-2027/notebooks/00_tour.ipynb" in readme


def test_every_exercise_carries_nbgrader_metadata(tree):
    for path in handout.notebooks(tree / "notebooks"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        pairs = handout.exercises(json.loads(handout.NOTEBOOKS.joinpath(path.name).read_text(encoding="utf-8")))
        ids = set()
        for solution, check in pairs:
            answer, test = (nb["cells"][i]["metadata"].get("nbgrader", {}) for i in (solution, check))
            assert answer.get("solution") is True and answer.get("locked") is False, (path.name, solution)
            assert test.get("locked") is True and test.get("solution") is False, (path.name, check)
            ids |= {answer["grade_id"], test["grade_id"]}
        assert len(ids) == 2 * len(pairs), f"{path.name}: grade ids must be unique"


def test_nbgrader_generate_assignment_accepts_the_students_notebooks(tree, tmp_path):
    pytest.importorskip("nbgrader", reason="nbgrader comes with the `site` extra: pip install -e '.[site]'")
    source = tmp_path / "course" / "source" / "vae"
    source.mkdir(parents=True)
    for path in handout.notebooks(tree / "notebooks"):
        shutil.copy(path, source / path.name)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "vae", "--force",
                          f"--CourseDirectory.root={tmp_path / 'course'}"],
                         cwd=tmp_path / "course", env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    released = sorted(p.name for p in (tmp_path / "course" / "release" / "vae").glob("*.ipynb"))
    assert released == [p.name for p in handout.notebooks(tree / "notebooks")]


def test_cli_handout_writes_the_repository_and_refuses_a_bad_address(tmp_path, capsys):
    assert cli.main(["handout", str(tmp_path / "out"), "--repo", "git@github.com:me/x.git"]) == 2
    assert "SSH address" in capsys.readouterr().err


# --- the students' website: a small series with one exercise -----------------------------------------

EXERCISE = [("markdown", "# 02 · Exercise\n\nSquare two."),
            ("setup", 'REPO_URL = "https://github.com/someone/a-fork"\nREF = "main"'),
            ("code", "### BEGIN SOLUTION\nthe_secret_answer = 2 ** 2  # squared\n### END SOLUTION"),
            ("code", "import vae_lesson as vl\nvl.exercises.check(lambda: the_secret_answer == 4, hint='square 2',"
                     " success=f'yes: {the_secret_answer}')")]


@pytest.mark.notebooks
def test_the_students_site_shows_no_solution_and_links_to_their_repository(tmp_path):
    pytest.importorskip("jupyter_server_mathjax", reason="the site needs the `site` extra: pip install -e '.[site]'")
    from vae_lesson.tools import site

    notebooks, readme = small_series(tmp_path / "series")
    notebooks.append(write_notebook(tmp_path / "series" / "notebooks" / "02_exercise.ipynb", EXERCISE))
    root = tmp_path / "series"
    (root / "vae_lesson").mkdir()
    students = tmp_path / "students"
    handout.write_student_tree(students, STUDENTS, "spring-2027", root=root, sources=notebooks)
    out = tmp_path / "site"
    site.build(out, notebooks=notebooks, readme=readme, timeout=120, log=lambda m: None, student=students)
    page = (out / "02_exercise.html").read_text()
    text = _text(page)
    assert "vl.exercises.check(lambda: the_secret_answer == 4" in text  # code is found where it is shown
    assert "the_secret_answer = 2 ** 2" not in text and "yes: 4" not in text
    assert "YOUR CODE HERE" in text
    assert "colab.research.google.com/github/prof/vae-students/blob/spring-2027/notebooks/02_exercise.ipynb" in page
    for name in ("index.html", "00_first.html"):  # 00_first's setup cell names no REF: its badge opens main
        text = (out / name).read_text()
        assert "colab.research.google.com/github/prof/vae-students/blob/main/notebooks/00_first.ipynb" in text, name
        assert "someone/a-fork" not in text, name


def test_a_core_tree_leaves_out_the_deep_dives(tmp_path):
    out = tmp_path / "core"
    handout.write_student_tree(out, STUDENTS, "main", core=True, pairs=False)
    for path in handout.notebooks():
        full = json.loads(path.read_text(encoding="utf-8"))
        deep = [h for _, h, tag in handout.section_tags(full, path.name) if tag == handout.DEEP_DIVE]
        core = json.loads((out / "notebooks" / path.name).read_text(encoding="utf-8"))
        kept = [h for _, h, _ in handout.section_tags(core, path.name)]
        assert kept and not set(deep) & set(kept), f"{path.name}: a deep-dive is still there"
        assert len(kept) + len(deep) == len(handout.section_tags(full, path.name))
        assert not deep or "The core path of this notebook" in handout._source(core["cells"][0])


def test_the_series_students_site_holds_no_solution():
    """The students' website of the whole series, as CI builds it from the notebooks its tests executed
    (`vae-lesson site DIR --executed EXECUTED --student STUDENTS`, .ci/run): no page holds a line of a
    solution, and every page's Colab badge opens the students' repository."""
    import os

    given = os.environ.get("VAE_LESSON_STUDENT_SITE_DIR")
    if not given:
        pytest.skip("set VAE_LESSON_STUDENT_SITE_DIR to a students' site of the series (CI does)")
    folder = Path(given)
    for path in handout.notebooks():
        page = (folder / path.with_suffix(".html").name).read_text(encoding="utf-8")
        text = _text(page)
        assert "YOUR CODE HERE" in text, f"{path.name}'s page shows no stub"
        lines = handout.solution_lines(json.loads(path.read_text(encoding="utf-8")))
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{path.name}'s page shows solution text: {leaked[:3]}"
        assert f"colab.research.google.com/github/prof/vae-students/blob/main/notebooks/{path.name}" in page
        assert "github/vae-lesson/vae-lesson" not in page
