"""The timing command on a tiny notebook: a fresh kernel per run, cold then warm, what the
package recorded, the longest cell. No duration is asserted beyond its order of magnitude
(timings are measured by `vae-lesson timings`, not tested)."""
import json

import nbformat
import pytest

import vae_lesson as vl
from vae_lesson import timings  # the counter (a helper)
from vae_lesson.tools import cli
from vae_lesson.tools import timings as runner  # the runner (a tool)

TINY = [
    "import os, time",
    # a model trained only when the cache is empty, as trained_vae does
    ("import vae_lesson.timings as vt\n"
     "from pathlib import Path\n"
     "cache = Path(os.environ['VAE_LESSON_CACHE_DIR'])\n"
     "if not (cache / 'm.pt').exists():\n"
     "    cache.mkdir(parents=True, exist_ok=True); (cache / 'm.pt').write_text('x')\n"
     "    vt.record('fit', 0.25)\n"
     "    time.sleep(0.6)"),
    "assert os.environ['VAE_LESSON_STATIC'] == '1' and os.environ['VAE_LESSON_QUICK'] == '1'",
]


@pytest.fixture
def tiny_notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny")]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in TINY]
    path = tmp_path / "00_tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_record_and_summary():
    timings.reset()
    timings.record("fit", 1.5)
    timings.record("fit", 0.5)
    timings.record("epochs", 0.0, count=7)
    assert timings.summary() == {"fit": {"count": 2, "seconds": 2.0},
                                 "epochs": {"count": 7, "seconds": 0.0}}
    timings.reset()
    assert timings.summary() == {}


def test_fit_and_log_likelihood_are_recorded(digits, small_vae):
    train, test = digits
    timings.reset()
    vl.fit(small_vae(), train.subset(256), epochs=2, batch_size=128, progress=False)
    vl.log_likelihood(small_vae(), test.images[:8], k=4)
    recorded = timings.summary()
    assert recorded["fit"]["count"] == 1 and recorded["epochs"]["count"] == 2
    assert recorded["log_likelihood"]["count"] == 1
    assert recorded["fit"]["seconds"] > 0 and recorded["log_likelihood"]["seconds"] > 0


def test_cold_then_warm_on_a_fresh_kernel(tiny_notebook, capsys):
    assert cli.main(["timings", str(tiny_notebook), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "quick" and result["cold_cache"] == "series in reading order"
    (row,) = result["notebooks"]
    cold, warm = row["cold"], row["warm"]
    # cold: the cell that "trains" ran its branch, counted by the package inside the kernel
    assert cold["models_trained"] == 1 and cold["training_seconds"] == 0.25
    assert cold["cache_files_added"] == 1
    assert cold["longest_cell"] == 2  # index in the notebook (cell 0 is markdown)
    assert cold["longest_seconds"] >= 0.6
    assert [i for i, _ in cold["cells"]] == [1, 2, 3]  # the probe cell is not listed
    # warm: same cache, nothing trained
    assert warm["models_trained"] == 0 and warm["cache_files_added"] == 0
    assert cold["seconds"] >= cold["longest_seconds"]
    assert result["total_cold_seconds"] == cold["seconds"]


def test_table_and_errors(tiny_notebook, tmp_path, capsys):
    assert cli.main(["timings", str(tiny_notebook), "--cold-only"]) == 0
    table = capsys.readouterr().out
    assert "00_tiny" in table and "cold s" in table and "cell 2:" in table
    assert cli.main(["timings", str(tiny_notebook), "--cold-only", "--markdown"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("| notebook | cold s |") and "| 00_tiny | " in markdown
    assert cli.main(["timings", str(tmp_path / "missing.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.pt").write_text("x")
    assert cli.main(["timings", str(tiny_notebook), "--cache-dir", str(full)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_a_failing_notebook_is_reported_not_fatal(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("assert x == 2, 'x is 1'")]
    path = tmp_path / "01_fails.ipynb"
    nbformat.write(nb, path)
    result = runner.run([path], warm=False, progress=None)
    (row,) = result["notebooks"]
    assert "x is 1" in row["cold"]["error"]
    assert "FAILED 01_fails (cold)" in runner.format_table(result)


def test_keep_going_runs_past_a_failing_cell_and_lists_it(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in
                ("x = 1", "assert x == 2, 'a claim that fails on this data'", "y = 3")]
    path = tmp_path / "00_fails.ipynb"
    nbformat.write(nb, path)
    stopped = runner.run_notebook(path, timeout=60)
    assert stopped["failed_cells"] == [1] and stopped["error"].startswith("CellExecutionError")
    assert [i for i, _ in stopped["cells"]] == [0, 1]  # the cell after the failure never ran
    went_on = runner.run([path], warm=False, progress=None, keep_going=True)["notebooks"][0]["cold"]
    assert went_on["failed_cells"] == [1] and went_on["error"] == "cells 1 failed"
    assert [i for i, _ in went_on["cells"]] == [0, 1, 2]
