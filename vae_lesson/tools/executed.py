"""The notebooks a test run executed, saved with their outputs, so that the website can show exactly
what the tests ran without executing the series a second time.

`pytest notebooks --nbval-lax` with VAE_LESSON_EXECUTED_DIR=DIR saves into DIR a copy of every
notebook whose cells all ran and passed, each cell with the outputs nbval received (figures, printed
numbers) and its execution count. This module is the pytest plugin that does it (conftest.py
loads it; elsewhere: `pytest -p vae_lesson.tools.executed`). A notebook with a failing
or unrun cell is not saved, and an older copy of it is removed. `vae-lesson site OUT --executed DIR`
builds the pages from these copies."""
import copy
import os
from pathlib import Path

SETTING = "VAE_LESSON_EXECUTED_DIR"

_runs = {}  # notebook path -> {"nb": the notebook nbval read, "outputs": {cell number: outputs}, "failed": bool}


def folder():
    """The folder to save into ($VAE_LESSON_EXECUTED_DIR), or None when it is not set."""
    text = os.environ.get(SETTING, "").strip()
    return Path(text) if text else None


def record(item, failed):
    """Keep the outputs of one nbval cell (an IPyNbCell that has run); other test items are ignored."""
    notebook = getattr(item, "parent", None)
    outputs = getattr(item, "test_outputs", None)
    if outputs is None or not hasattr(notebook, "nb") or not hasattr(item, "cell_num"):
        return
    run = _runs.setdefault(str(notebook.path), {"nb": notebook.nb, "outputs": {}, "failed": False})
    run["outputs"][item.cell_num] = list(outputs)
    run["failed"] = run["failed"] or failed


def save(into):
    """Write each notebook that ran in full and passed into the folder `into`; returns their names."""
    import nbformat

    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    saved = []
    for path, run in _runs.items():
        target = into / Path(path).name
        nb = copy.deepcopy(run["nb"])
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        if run["failed"] or sorted(run["outputs"]) != list(range(len(code))):
            target.unlink(missing_ok=True)  # never leave an older copy behind as if it were this run's
            continue
        for number, cell in enumerate(code):
            cell.execution_count = number + 1
            cell.outputs = [nbformat.from_dict(dict(out)) for out in run["outputs"][number]]
            for out in cell.outputs:
                if out.output_type == "execute_result":
                    out.execution_count = number + 1
        nbformat.write(nb, target)
        saved.append(target.name)
    _runs.clear()
    return saved


# --- the pytest hooks ------------------------------------------------------------------------------

def pytest_runtest_makereport(item, call):
    if call.when == "call" and folder() is not None:
        record(item, failed=call.excinfo is not None)


def pytest_sessionfinish(session):
    into = folder()
    if into is not None:
        saved = save(into)
        if saved:
            print(f"\n{SETTING}: saved {len(saved)} executed notebooks into {into}")
