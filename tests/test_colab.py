"""Colab: every notebook's setup cell and "Open in Colab" badge agree, `vae-lesson set-repo` points
them all at a copy, and the setup cell stops with one clear message when its address is wrong."""
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from vae_lesson.tools import cli, repo

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = repo.notebook_pairs(ROOT)


def _settings(source):
    return repo.REPO_URL_LINE.search(source)["value"], repo.REF_LINE.search(source)["value"]


def test_every_notebook_has_the_same_setup_cell_with_a_github_address_and_a_ref():
    cells = {path.name: repo.setup_cell(path) for path in NOTEBOOKS}
    assert len(set(cells.values())) == 1, "the notebooks' setup cells differ: edit them together"
    url, ref = _settings(cells[NOTEBOOKS[0].name])
    repo.github_repo(url), repo.check_ref(ref)  # raise if Colab could not use them
    assert 'if "google.colab" in sys.modules:' in cells[NOTEBOOKS[0].name]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_first_screen_is_the_title_with_a_badge_to_where_the_setup_cell_installs_from(path):
    url, ref = _settings(repo.setup_cell(path))
    owner, name = repo.github_repo(url)
    kind, first = repo.cells(path)[0]
    lines = first.strip().splitlines()
    assert kind == "markdown" and lines[0].startswith(f"# {path.name[:2]} · "), \
        f"{path.name}: the first cell should start with the notebook's title"
    assert repo.badge(owner, name, ref, path.name) in lines[:6], \
        f"{path.name}: the title (and its time line) should be followed by its badge; run `vae-lesson set-repo {url} --ref {ref}`"
    assert "What you will learn" in first, f"{path.name}: the learning goals belong to the first screen"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_setup_cell_follows_the_title_collapsed(path):
    nb = json.loads(path.read_text())
    setup = nb["cells"][1]
    source = "".join(setup["source"])
    assert setup["cell_type"] == "code" and "REPO_URL = " in source, "the setup cell comes right after the title"
    assert source.startswith("# @title "), "Colab shows a form's title in place of the code"
    assert setup["metadata"].get("cellView") == "form", "Colab folds the cell into its title"
    assert setup["metadata"].get("jupyter", {}).get("source_hidden") is True, "JupyterLab folds its code"
    assert "setup" in setup["metadata"].get("tags", []), "the website leaves it out"
    assert not any("REPO_URL" in "".join(c["source"]) for c in nb["cells"][2:]), "one setup cell"


def test_readme_links_every_notebook_to_colab_at_the_same_address():
    url, ref = repo.current(ROOT)
    owner, name = repo.github_repo(url)
    readme = (ROOT / "README.md").read_text()
    links = repo.COLAB_LINK.findall(readme)
    assert sorted(links) == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        assert repo.badge(owner, name, ref, path.name) in readme


# --- set-repo ------------------------------------------------------------------------------------

@pytest.fixture
def copy_of_series(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


def _snapshot(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_set_repo_rewrites_both_files_of_every_pair_and_the_readme(copy_of_series, capsys):
    root = copy_of_series
    ids_before = {p.name: [c["id"] for c in json.loads(p.read_text())["cells"]]
                  for p in repo.notebook_pairs(root)}
    assert cli.main(["set-repo", "https://github.com/a-lecturer/vae-course.git", "--ref", "spring-2027",
                     "--root", str(root)]) == 0
    assert f"changed {2 * len(NOTEBOOKS) + 1} files" in capsys.readouterr().out  # each pair and the README
    jupytext = pytest.importorskip("jupytext")
    for ipynb in repo.notebook_pairs(root):
        source = repo.setup_cell(ipynb)
        assert _settings(source) == ("https://github.com/a-lecturer/vae-course", "spring-2027")
        link = ("https://colab.research.google.com/github/a-lecturer/vae-course/blob/spring-2027/"
                f"notebooks/{ipynb.name}")
        assert link in repo.cells(ipynb)[0][1]
        from_py = [(c.cell_type, c.source) for c in jupytext.read(ipynb.with_suffix(".py")).cells]
        assert from_py == repo.cells(ipynb), f"{ipynb.name}: the pair is out of sync"
        assert [c["id"] for c in json.loads(ipynb.read_text())["cells"]] == ids_before[ipynb.name]
    readme = (root / "README.md").read_text()
    assert readme.count("github/a-lecturer/vae-course/blob/spring-2027/notebooks/") == len(NOTEBOOKS)
    assert "github/vae-lesson/vae-lesson/blob" not in readme


def test_set_repo_changes_only_those_lines(copy_of_series):
    root = copy_of_series
    before = _snapshot(root)
    repo.set_repo(root, "https://github.com/a-lecturer/vae-course")
    for path, old in before.items():
        old_lines, new_lines = old.decode().splitlines(), (root / path).read_text().splitlines()
        assert len(old_lines) == len(new_lines)
        diff = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
        assert all("REPO_URL = " in a or "colab.research.google.com/github/" in a for a, _ in diff), diff
    assert repo.current(root) == ("https://github.com/a-lecturer/vae-course", "main")  # ref kept


def test_set_repo_is_idempotent_and_reversible(copy_of_series, capsys):
    root = copy_of_series
    original = _snapshot(root)
    url, ref = repo.current(root)
    repo.set_repo(root, "https://github.com/a-lecturer/vae-course", ref="v1.0")
    once = _snapshot(root)
    assert repo.set_repo(root, "github.com/a-lecturer/vae-course/", ref="v1.0")[2] == []
    assert _snapshot(root) == once
    cli.main(["set-repo", "https://github.com/a-lecturer/vae-course", "--ref", "v1.0", "--root", str(root)])
    assert "Nothing to change" in capsys.readouterr().out
    repo.set_repo(root, url, ref=ref)
    assert _snapshot(root) == original


@pytest.mark.parametrize("url, why", [
    ("https://gitlab.com/a-lecturer/vae-course", "Colab opens notebooks from GitHub only"),
    ("git@github.com:a-lecturer/vae-course.git", "SSH address"),
    ("https://github.com/a-lecturer", "not a GitHub repository address"),
    ("https://github.com/a-lecturer/vae-course/tree/main", "not a GitHub repository address"),
    ("/home/me/vae-course", "not a GitHub repository address"),
])
def test_set_repo_refuses_an_address_colab_cannot_open(copy_of_series, capsys, url, why):
    before = _snapshot(copy_of_series)
    assert cli.main(["set-repo", url, "--root", str(copy_of_series)]) == 2
    err = capsys.readouterr().err
    assert why in err and err.count("\n") == 1, err  # one line
    assert _snapshot(copy_of_series) == before  # nothing written


@pytest.mark.parametrize("ref", ["-rf", "a..b", "my branch", "v1.lock", "main/"])
def test_set_repo_refuses_a_ref_that_is_no_branch_or_tag_name(copy_of_series, capsys, ref):
    assert cli.main(["set-repo", "https://github.com/a/b", f"--ref={ref}", "--root", str(copy_of_series)]) == 2
    assert "is not a branch or tag name" in capsys.readouterr().err


def test_set_repo_outside_a_copy_says_where_to_run_it(tmp_path, capsys):
    assert cli.main(["set-repo", "https://github.com/a/b", "--root", str(tmp_path)]) == 2
    assert "run set-repo in the folder of your copy" in capsys.readouterr().err


# --- the setup cell, run as in Colab ----------------------------------------------------------------

def _run_setup_cell(monkeypatch, url, ref="main"):
    source = repo.setup_cell(NOTEBOOKS[0])
    source = repo.REPO_URL_LINE.sub(f'REPO_URL = "{url}"', source)
    source = repo.REF_LINE.sub(f'REF = "{ref}"', source)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    calls = []
    real_run = subprocess.run

    def run(command, *args, **kwargs):
        calls.append(command)
        assert "pip" not in command, "pip must not run when the address cannot be reached"
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    namespace = {"__name__": "__main__"}
    with pytest.raises(Exception) as info:
        exec(compile(source, "<setup cell>", "exec"), namespace)
    return info.value, calls


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/a-lecturer/vae-course",  # nothing listens there
                                 "file:///nonexistent/vae-course"])
def test_setup_cell_stops_with_one_message_when_the_address_cannot_be_reached(monkeypatch, url):
    error, calls = _run_setup_cell(monkeypatch, url, ref="spring-2027")
    assert type(error).__name__ == "SetupError"
    message = str(error)
    print(message)
    assert f"git ls-remote {url} spring-2027" in message  # what it tried
    assert "Could not reach branch or tag 'spring-2027'" in message and "not installed" in message
    assert "A copy of this series must set its own address" in message
    assert "vae-lesson set-repo https://github.com/OWNER/REPO --ref BRANCH" in message
    assert "\n" not in message and "Traceback" not in message
    # Jupyter shows the exception's _render_traceback_ instead of a traceback: the one message
    assert error._render_traceback_() == [f"SetupError: {message}"]
    assert calls == [["git", "ls-remote", url, "spring-2027"]]


def test_setup_cell_names_a_missing_branch(monkeypatch, tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    error, _ = _run_setup_cell(monkeypatch, tmp_path.as_uri(), ref="no-such-branch")
    assert "Could not reach branch or tag 'no-such-branch'" in str(error)
    assert "no such branch or tag" in str(error)


def test_setup_cell_does_nothing_outside_colab(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("ran a command outside Colab"))
    exec(compile(repo.setup_cell(NOTEBOOKS[0]), "<setup cell>", "exec"), {"__name__": "__main__"})


def test_setup_cell_error_shows_alone_in_ipython(monkeypatch, capsys):
    """What a student sees: IPython prints the message, no traceback of the cell's code."""
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    source = repo.REPO_URL_LINE.sub('REPO_URL = "file:///nonexistent/vae-course"', repo.setup_cell(NOTEBOOKS[0]))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    shell = interactiveshell.InteractiveShell.instance()
    result = shell.run_cell(source)
    shown = capsys.readouterr()
    assert not result.success and type(result.error_in_exec).__name__ == "SetupError"
    text = shown.out + shown.err
    assert "SetupError: Could not reach branch or tag 'main' of file:///nonexistent/vae-course" in text
    assert "install_vae_lesson(REPO_URL, REF)" not in text  # no code frames


# --- figures render under the test suite as in Jupyter -------------------------------------------------

BAD_FIGURE = r'''import matplotlib.pyplot as plt
plt.plot([0, 1], [0, 1])
plt.title(r"$\frac{1}$")  # mathtext that cannot be drawn: fails only when the figure is rendered
plt.show()'''


def _nbval(tmp_path, env):
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "bad-figure", "metadata": {},
                     "outputs": [], "source": BAD_FIGURE}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "bad_figure.ipynb").write_text(json.dumps(nb))
    return subprocess.run([sys.executable, "-m", "pytest", "bad_figure.ipynb", "--nbval-lax",
                           "--nbval-current-env", "-p", "no:cacheprovider", "-q"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_a_figure_that_cannot_be_drawn_fails_under_nbval(tmp_path):
    pytest.importorskip("nbval")
    assert "MPLBACKEND" not in os.environ, "conftest.py lets the kernels use the inline backend"
    inline = _nbval(tmp_path, dict(os.environ))
    assert inline.returncode == 1, inline.stdout[-3000:]
    assert "frac" in inline.stdout and "1 failed" in inline.stdout
    # What the test suite used to do: with the Agg backend plt.show() draws nothing, and it passed.
    agg = _nbval(tmp_path, {**os.environ, "MPLBACKEND": "Agg"})
    assert agg.returncode == 0, agg.stdout[-3000:]
