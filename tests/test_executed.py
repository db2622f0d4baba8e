"""VAE_LESSON_EXECUTED_DIR: nbval's run of a notebook, saved with its outputs, and the website built
from those copies without executing again (vae_lesson/tools/executed.py, `vae-lesson site --executed`)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from vae_lesson.tools import site

from site_fixtures import small_series, write_notebook


def _nbval(folder, notebooks, executed):
    env = {**os.environ, "VAE_LESSON_EXECUTED_DIR": str(executed)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "vae_lesson.tools.executed", "-p", "no:cacheprovider",
                           "--nbval-lax", "--nbval-current-env", "-q", *map(str, notebooks)],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("series")
    notebooks, readme = small_series(folder)
    bad = write_notebook(folder / "notebooks" / "02_bad.ipynb",
                         [("code", "print('before')"), ("code", "assert 1 + 1 == 3, 'a claim no longer holds'")])
    executed = folder / "executed"
    executed.mkdir()
    (executed / "02_bad.ipynb").write_text(bad.read_text())  # an older copy: must not survive a failing run
    result = _nbval(folder, [*notebooks, bad], executed)
    return folder, notebooks, readme, executed, result


def test_a_passing_notebook_is_saved_with_its_outputs_and_a_failing_one_is_not(run):
    folder, notebooks, _, executed, result = run
    assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout + result.stderr
    assert sorted(p.name for p in executed.iterdir()) == ["00_first.ipynb", "01_second.ipynb"]
    nb = nbformat.read(executed / "00_first.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2]
    outputs = code[1].outputs
    assert any("image/png" in out.get("data", {}) for out in outputs), "the figure is kept"
    assert any("largest value 1.000" in out.get("text", "") for out in outputs), "the printed number is kept"
    nbformat.validate(nb)


def test_the_site_is_built_from_the_executed_copies_without_running_them(run, tmp_path):
    pytest.importorskip("jupyter_server_mathjax", reason="the site needs the `site` extra")
    _, notebooks, readme, executed, _ = run
    pages = site.build(tmp_path / "site", notebooks=notebooks, readme=readme, executed=executed, log=lambda m: None)
    assert [p["seconds"] for p in pages] == [None, None]
    first = (tmp_path / "site" / "00_first.html").read_text()
    assert "data:image/png;base64," in first and "largest value 1.000" in first


def test_the_site_refuses_a_missing_or_stale_copy(run, tmp_path):
    folder, notebooks, readme, executed, _ = run
    with pytest.raises(site.SiteError, match="no executed copy of 02_bad.ipynb"):
        site.executed_copy(folder / "notebooks" / "02_bad.ipynb", executed)
    changed = write_notebook(tmp_path / "00_first.ipynb", [("code", "print('another version')")])
    with pytest.raises(site.SiteError, match="executed from another version of 00_first.ipynb: run the tests again"):
        site.executed_copy(changed, executed)


def test_with_xdist_each_notebook_runs_in_order_in_one_worker_and_is_saved(tmp_path):
    """`pytest -n 2` (the README's `-n auto` on two cores): every cell needs the one before it, so a
    notebook whose cells were spread over workers would fail; the conftest keeps each in one worker,
    and each worker saves the notebooks it ran."""
    pytest.importorskip("xdist", reason="the test extra installs pytest-xdist")
    shutil.copy(Path(__file__).parents[1] / "conftest.py", tmp_path / "conftest.py")
    notebooks = [write_notebook(tmp_path / f"0{i}_chain.ipynb",
                                [("code", "n = 1")] + [("code", f"assert n == {k}\nn += 1") for k in range(1, 12)])
                 for i in range(3)]
    executed = tmp_path / "executed"
    result = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "--nbval-lax",
                             "--nbval-current-env", "-q", *map(str, notebooks)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "VAE_LESSON_EXECUTED_DIR": str(executed)})
    assert result.returncode == 0 and "36 passed" in result.stdout, result.stdout + result.stderr
    assert sorted(p.name for p in executed.iterdir()) == [p.name for p in notebooks]
